/**
 * Every string of the page, in English and Norwegian bokmål. `en` defines the keys; `nb` is
 * typed as the same shape (`Strings`), so the compiler refuses a catalogue that lacks a key,
 * has one too many, or takes different arguments. A new string is one line in each language;
 * a part of the page reads them as `t().key` at the time it draws (the page redraws on a
 * switch of language).
 *
 * The language follows the browser (navigator.languages: the first of them that is Norwegian,
 * nb, nn or no, or English) until the viewer picks one with the switch; the choice is kept in
 * localStorage. Numbers and dates use the chosen language with the browser's own region where
 * it writes that language (en-US stays American), else nb-NO or en-GB.
 */
import type { ConversionRecord, Granularity, Stage } from './api.js';
import type { Preset } from './presets.js';

export const LANGS = ['en', 'nb'] as const;
export type Lang = (typeof LANGS)[number];
/** Each language named in itself, as a language switch shows them. */
export const LANG_NAMES: Record<Lang, string> = { en: 'English', nb: 'Norsk bokmål' };

type Counted = Record<'clicks' | 'uniqueClicks' | 'installs' | 'registrations' | 'activations', string>;
type Rates = Record<'clickToRegistration' | 'registrationToActivation' | 'clickToActivation', string>;
type Roles = Record<'mentor' | 'coordinator' | 'org_admin' | 'platform_admin' | 'service', string>;
type Candidate = NonNullable<ConversionRecord['explanation']>['candidates'][number];
type TouchKind = Candidate['kind'];
type NotCountedReason = NonNullable<Candidate['reason']>;

/** A whole number written the page's way (1,234 or 1 234), at the time a string is drawn. */
const num = (n: number): string => new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 }).format(n);

const en = {
  // The page around the views
  brand: 'Recruitment dashboard',
  pageTitle: (view: string) => `Recruitment dashboard – ${view}`,
  skipLink: 'Skip to content',
  language: 'Language',
  roles: { mentor: 'Mentor', coordinator: 'Coordinator', org_admin: 'Organization admin', platform_admin: 'Platform admin', service: 'Service' } as Roles,
  signOut: 'Sign out',
  signedIn: 'Signed in',
  youSignedOut: 'You signed out.',
  tokenRefused: (message: string) => `Your token was refused (${message}). Sign in again with a valid token.`,
  tokenUnreadable: 'That token could not be read. Paste a valid one.',
  tokenExpired: 'Your token has expired. Sign in again with a new one.',
  serviceToken: 'This is a service token: it may post events but read nothing. Sign in with a person’s token.',
  noSuchView: 'There is no such view. ',
  goToOverview: 'Go to your overview',

  // Sign-in
  signInHeading: 'Sign in to the recruitment dashboard',
  needToken: 'You need an access token to see the numbers of your organization, your mentors or your own referrals.',
  accessToken: 'Access token',
  tokenHelp: 'Paste the token your organization gave you (it starts with "ey"). It stays in this browser tab and is forgotten when the tab closes. In development, `make demo` prints a ready-made link for each role.',
  notAToken: 'That is not a valid token: it should be three parts separated by dots, with a role and a subject.',
  signIn: 'Sign in',

  // Loading and failures of a section
  loading: (what: string) => `Loading ${what}…`,
  couldNotLoad: (what: string) => `Could not load ${what}`,
  failed403: 'Not available to your role',
  failed404: 'Not found, or outside what you may see',
  failed400: 'The view asks for something the service refuses',
  failed429: 'Too many requests',
  failed0: 'The service cannot be reached',
  failed5xx: 'The service is busy or unavailable',
  failedOther: 'Something went wrong',
  explain403: (what: string) => `Your sign-in does not give access to ${what}. Use the navigation above to go back to your own view.`,
  explain404: (what: string) => `There is no ${what} here that your sign-in may read. It may not exist, or it belongs to someone outside your scope.`,
  explainRetry: (what: string, waitSeconds: number | null) => `The ${what} could not be loaded just now${waitSeconds ? `; the service asks to wait ${waitSeconds} s` : ''}. Your view is kept; try again.`,
  explainAnswer: (message: string) => `The service answered: ${message}`,
  tryAgain: 'Try again',
  serviceUnreachable: 'the query service could not be reached',

  // What a section loads (in "Loading …", "Could not load …")
  whatOrg: "the organization's numbers",
  whatScope: "your scope's numbers",
  whatPerformance: 'mentor performance',
  whatAnnual: 'the annual summary',
  whatMentor: "the mentor's numbers",
  whatGrowth: 'platform growth',
  whatReferrals: 'referrals',

  // The period
  period: 'Period',
  from: 'From',
  to: 'To',
  showPeriod: 'Show period',
  seriesBy: 'Series by',
  granularities: { day: 'Days', week: 'Weeks (Monday first)', month: 'Months', year: 'Years' } as Record<Granularity, string>,
  granularityNoun: { day: 'day', week: 'week', month: 'month', year: 'year' } as Record<Granularity, string>,
  firstAfterLast: 'The first day must not be after the last',
  badDate: (pattern: string) => `Write a date as ${pattern}`,
  dateLetters: { day: 'dd', month: 'mm', year: 'yyyy' },
  timezoneNote: (timezone: string) => `Days, weeks and months are cut in the organization's timezone, ${timezone}.`,
  quickPeriods: 'Quick periods',
  presets: { thisWeek: 'This week', lastWeek: 'Last week', thisMonth: 'This month', lastMonth: 'Last month', thisYear: 'This year', last12Months: 'Last 12 months' } as Record<Preset, string>,
  compareWith: 'Compare with',
  compareOptions: { none: 'Nothing', previous: 'The period before', year: 'A year earlier' },
  range: (from: string, to: string) => `${from} to ${to}`,

  // The funnel
  steps: { clicks: 'Clicks', uniqueClicks: 'Unique clicks', installs: 'Installs', registrations: 'Registrations', activations: 'Activations' } as Counted,
  rates: { clickToRegistration: 'Unique click → registration', registrationToActivation: 'Registration → activation', clickToActivation: 'Unique click → activation' } as Rates,
  funnel: 'Funnel',
  funnelOf: (subject: string) => `Funnel of ${subject}`,
  step: 'Step',
  count: 'Count',
  fromStepBefore: 'From step before',
  stepOver100: 'A step can pass 100 %: people may register on the web without installing the app.',
  funnelChart: (subject: string, steps: string) => `Funnel chart of ${subject}: ${steps}.`,
  change: 'Change',
  notApplicable: 'n/a',
  comparedWith: (range: string) => `Changes compared with ${range}.`,
  before: (value: string) => `Before: ${value}`,
  noBasisBefore: (range: string, first: string) => `No changes shown: the organization's first activity was on ${first}, after ${range} began.`,
  noBasisNone: (range: string) => `No changes shown: the organization had no activity before ${range} ended.`,
  noBasisZero: '“n/a” where the earlier period had none.',
  percentagePoints: (value: string) => `${value} pp`,

  // The series
  overTime: 'Over time',
  noPeriods: 'No periods in this range.',
  partial: ' (partial)',
  numbersPer: (noun: string) => `Numbers per ${noun}`,
  subjectPer: (subject: string, noun: string) => `${subject} per ${noun}`,
  periodColumn: 'Period',
  seriesChart: (subject: string, noun: string, n: number, first: string, last: string) => `Line chart of ${subject} per ${noun}, ${n} periods from ${first} to ${last}; the table below has the numbers.`,

  // Mentors
  leaderboard: { rank: 'Rank', mentorId: 'Mentor', registrations: 'Registrations', activations: 'Activations', clickToRegistration: 'Click → registration', uniqueClicks: 'Unique clicks', clicks: 'Clicks' },
  noMentors: 'No mentors with numbers in this period.',
  findMentor: 'Find a mentor',
  nameOrId: 'Name or id',
  searchMentors: 'Search the mentors',
  noMentorMatches: (search: string) => `No mentor matches “${search}”.`,
  mentorsMatch: (n: number, total: number) => `${n} of ${total} mentors match.`,
  mentorsChart: (n: number) => `Bar chart comparing ${n} mentors by unique clicks, registrations and activations; the table above has the numbers.`,

  // Campaigns
  campaigns: 'Campaigns',
  campaign: 'Campaign',
  noCampaign: 'No campaign',
  noCampaignActivity: 'No campaign had any activity in this period.',
  campaignsCaption: 'Campaigns, most registrations first',
  clickToRegistration: 'Click → registration',
  registrationToActivation: 'Registration → activation',
  campaignsChart: (n: number) => `Bar chart comparing ${n} campaigns by unique clicks, registrations and activations; the table has the numbers.`,

  // Referrals
  stages: { CLICKED: 'Clicked', INSTALLED: 'Installed', REGISTERED: 'Registered', ACTIVATED: 'Activated' } as Record<Stage, string>,
  referrals: 'Referrals',
  recruit: 'Recruit',
  mentor: 'Mentor',
  stage: 'Stage',
  everyStage: 'Every stage',
  anyMentor: 'Any mentor',
  perPage: 'Per page',
  filterReferrals: 'Filter the referrals',
  referralsCaption: (timezone: string) => `Referrals, newest registration first; times in ${timezone}`,
  previousPage: 'Previous page',
  nextPage: 'Next page',
  referralPages: 'Referral pages',
  pageStatus: (page: number, last: boolean, n: number) => `Page ${page}${last ? ' (last)' : ''}, ${n} referrals`,
  pageOfReferrals: (page: number) => `Page ${page} of the referrals`,
  noReferralsFiltered: 'No referrals match these filters.',
  noReferrals: 'No referrals yet.',

  // The organization
  recruitmentIn: 'Recruitment in ',
  allOrganizations: '← All organizations',
  orgFunnelIntro: (range: string) => `From clicks on invite links to activated members, ${range}.`,
  topMentors: 'Top mentors',
  topMentorsIntro: 'The ten mentors with the most registrations in the period; sort by any column, or find one by name.',
  topMentorsOf: (orgId: string) => `Top mentors of ${orgId}`,
  referralsIntro: 'Every recruit with their current stage in the onboarding funnel (all time).',

  // A coordinator
  yourMentors: 'Your mentors',
  yourMentorsLower: 'your mentors',
  coordFunnelIntro: (range: string) => `Your mentors' links, from clicks to activated members, ${range}.`,
  coordCampaignsIntro: "Your mentors' campaigns side by side.",
  mentorPerformance: 'Mentor performance',
  performanceIntro: (n: number, range: string) => `${n} mentors in your scope, ${range}. Find a mentor by name, and choose one for their funnel and recruits.`,
  sideBySide: 'Side by side',
  scopeCaption: 'Mentors of your scope',

  // A mentor
  yourReferrals: 'Your referrals',
  mentorHeading: 'Mentor ',
  allYourMentors: '← All your mentors',
  theOrganization: '← The organization',
  yourYear: 'Your year',
  theYear: 'The year',
  year: 'Year',
  newMembers: 'New members recruited',
  rankInOrg: 'Rank in the organization',
  percentileInOrg: 'Percentile in the organization',
  activatedMembers: 'Activated members',
  yearRange: (range: string, timezone: string) => `${range}, in ${timezone}.`,
  rangeSentence: (range: string) => `${range}.`,
  yourRecruits: 'Your recruits',
  recruits: 'Recruits',
  recruitsIntro: 'Everyone who registered through the links, with their current stage (all time).',
  yourLinks: 'your links',
  yourLinksCapital: 'Your links',

  // Across organizations
  growthAcross: 'Growth across organizations',
  organizations: 'Organizations',
  organization: 'Organization',
  timezone: 'Timezone',
  orgsIntro: (range: string) => `${range}; each organization's periods are cut in its own timezone.`,
  registrationsOverTime: 'Registrations over time',
  previousOrganizations: 'Previous organizations',
  nextOrganizations: 'Next organizations',
  organizationPages: 'Organization pages',
  page: (n: number) => `Page ${n}`,
  noOrganizations: 'No organizations yet.',
  organizationsCaption: 'Organizations by id',
  growthChart: (noun: string, n: number) => `Line chart of registrations per ${noun} for ${n} organizations; the table has each organization's totals.`,
  // Signing in as someone else: from the page around the dashboard (embedding), or from a link
  offerSwitch: (sub: string) => `Switch to ${sub}`,
  offerStay: (sub: string) => `Stay ${sub}`,
  offerText: (offered: string, current: string) => `The page around this dashboard wants to sign you in as ${offered}, replacing ${current}. Switch?`,
  offerLinkText: (offered: string, current: string) => `The link you opened signs you in as ${offered}, replacing ${current}. Switch?`,

  // Needs follow-up
  followUp: {
    title: 'Needs follow-up',
    intro: (days: number) => `Recruits who registered but have not activated for ${num(days)} ${days === 1 ? 'day' : 'days'} or more, by mentor: ask each mentor to nudge their own recruits.`,
    daysLabel: 'Waiting at least (days)',
    what: 'the follow-up list',
    empty: (days: number) => `No recruit has been waiting ${num(days)} ${days === 1 ? 'day' : 'days'} or more without activating. Nobody to follow up.`,
    mentorWaiting: (n: number) => `${num(n)} ${n === 1 ? 'recruit' : 'recruits'} waiting`,
    caption: (mentor: string, timezone: string) => `Recruits of ${mentor} not yet activated, longest waiting first; times in ${timezone}`,
    columns: { recruit: 'Recruit', stage: 'Stage', since: 'In this stage since', waiting: 'Waiting' },
    waitingDays: (n: number) => `${num(n)} ${n === 1 ? 'day' : 'days'}`,
    more: (shown: number) => `Showing the ${num(shown)} who registered most recently; download the CSV for the whole list.`,
    total: (n: number, mentors: number) => `${num(n)} ${n === 1 ? 'recruit' : 'recruits'} of ${num(mentors)} ${mentors === 1 ? 'mentor' : 'mentors'} to follow up.`,
  },

  // Download CSV: the button, and what each one downloads (in "Download … as CSV")
  csv: {
    download: 'Download CSV',
    label: (what: string) => `Download ${what} as CSV`,
    preparing: 'Preparing CSV…',
    failed: (message: string) => `The CSV could not be downloaded: ${message}`,
  },
  csvParts: {
    funnel: 'the funnel',
    series: 'the series',
    topMentors: 'the top mentors',
    campaigns: 'the campaigns',
    referrals: 'the referrals',
    mentorPerformance: 'mentor performance',
    recruits: 'the recruits',
    annual: 'the annual summary',
    organizations: 'the organizations',
    followUp: 'the follow-up list',
  },

  // Why a recruit is counted (the explanation timeline)
  explanation: {
    open: 'Why counted',
    close: 'Hide why',
    openLabel: (recruit: string) => `Why ${recruit} is counted for their mentor`,
    what: 'the explanation',
    heading: (recruit: string) => `How ${recruit} was attributed`,
    ruleLink: (mentor: string, linkId: string) => `Registered through ${mentor}’s link ${linkId}.`,
    ruleDevice: (mentor: string, linkId: string) => `Attributed by device: the last touch before registering, on ${mentor}’s link ${linkId}.`,
    window: (days: number, from: string, to: string) => `The ${num(days)}-day window: ${from} to ${to}.`,
    timeline: (recruit: string) => `Touches of ${recruit}, oldest first`,
    windowOpens: (days: number) => `The ${num(days)}-day window opens`,
    registered: 'Registered',
    kinds: { CLICK: 'Click', INSTALL: 'Install', REGISTRATION: 'Registration' } as Record<TouchKind, string>,
    link: (linkId: string) => `link ${linkId}`,
    hiddenLink: 'a link outside what you may see',
    noLink: 'no link',
    unknownLink: 'a link the service does not know',
    noMentor: 'no mentor',
    hiddenMentor: 'mentor not shown',
    wonDevice: (days: number) => `won: the last touch within ${num(days)} days before registering`,
    wonLink: 'won: the registration named this link',
    earlierTouch: 'an earlier touch',
    outsideWindow: (days: number) => `outside the ${num(days)}-day window`,
    otherOrg: 'in another organization',
    selfReferral: 'the mentor’s own link',
    notCounted: { bot: 'not counted: a bot', revoked: 'not counted: link revoked', expired: 'not counted: link expired', unknown_link: 'not counted: link unknown', no_link: 'not counted: no link' } as Record<NotCountedReason, string>,
    unavailable: 'The facts behind this attribution are not available (they are older than the explanations, or were removed), so the touches cannot be shown.',
    attributedByDevice: (mentor: string, linkId: string) => `Attributed by device to ${mentor}’s link ${linkId}.`,
    times: (timezone: string) => `Times in ${timezone}.`,
    omitted: (n: number) => `${num(n)} more ${n === 1 ? 'touch' : 'touches'} of this device (further from the winner) not shown.`,
    opened: (recruit: string) => `Showing how ${recruit} was attributed`,
  },
};

/** The shape every language's catalogue has: the keys of `en`, with the same arguments. */
export type Strings = typeof en;

const nb: Strings = {
  brand: 'Rekrutteringsoversikt',
  pageTitle: (view) => `Rekrutteringsoversikt – ${view}`,
  skipLink: 'Hopp til innholdet',
  language: 'Språk',
  roles: { mentor: 'Mentor', coordinator: 'Koordinator', org_admin: 'Organisasjonsadministrator', platform_admin: 'Plattformadministrator', service: 'Tjeneste' },
  signOut: 'Logg ut',
  signedIn: 'Logget inn',
  youSignedOut: 'Du logget ut.',
  tokenRefused: (message) => `Tilgangsnøkkelen ble avvist (${message}). Logg inn igjen med en gyldig nøkkel.`,
  tokenUnreadable: 'Tilgangsnøkkelen kunne ikke leses. Lim inn en gyldig nøkkel.',
  tokenExpired: 'Tilgangsnøkkelen er utløpt. Logg inn igjen med en ny.',
  serviceToken: 'Dette er en tjenestenøkkel: den kan sende hendelser, men ikke lese noe. Logg inn med en persons nøkkel.',
  noSuchView: 'Denne visningen finnes ikke. ',
  goToOverview: 'Gå til oversikten din',

  signInHeading: 'Logg inn i rekrutteringsoversikten',
  needToken: 'Du trenger en tilgangsnøkkel for å se tallene til organisasjonen din, mentorene dine eller dine egne vervinger.',
  accessToken: 'Tilgangsnøkkel',
  tokenHelp: 'Lim inn nøkkelen du har fått av organisasjonen din (den begynner med «ey»). Den blir i denne nettleserfanen og glemmes når fanen lukkes. Under utvikling skriver `make demo` ut en ferdig lenke for hver rolle.',
  notAToken: 'Dette er ikke en gyldig nøkkel: den skal ha tre deler skilt med punktum, med en rolle og et subjekt.',
  signIn: 'Logg inn',

  loading: (what) => `Laster ${what} …`,
  couldNotLoad: (what) => `Kunne ikke laste ${what}`,
  failed403: 'Ikke tilgjengelig for din rolle',
  failed404: 'Ikke funnet, eller utenfor det du har tilgang til',
  failed400: 'Visningen ber om noe tjenesten avviser',
  failed429: 'For mange forespørsler',
  failed0: 'Tjenesten kan ikke nås',
  failed5xx: 'Tjenesten er opptatt eller utilgjengelig',
  failedOther: 'Noe gikk galt',
  explain403: (what) => `Innloggingen din gir ikke tilgang til ${what}. Bruk navigasjonen over for å gå tilbake til din egen visning.`,
  explain404: (what) => `Her finnes ingen ${what} som innloggingen din kan lese. Det finnes kanskje ikke, eller det tilhører noen utenfor ditt område.`,
  explainRetry: (what, waitSeconds) => `Kunne ikke laste ${what} akkurat nå${waitSeconds ? `; tjenesten ber deg vente ${waitSeconds} s` : ''}. Visningen din beholdes; prøv igjen.`,
  explainAnswer: (message) => `Tjenesten svarte: ${message}`,
  tryAgain: 'Prøv igjen',
  serviceUnreachable: 'spørretjenesten kunne ikke nås',

  whatOrg: 'organisasjonens tall',
  whatScope: 'tallene for ditt område',
  whatPerformance: 'mentorresultater',
  whatAnnual: 'årsoversikten',
  whatMentor: 'mentorens tall',
  whatGrowth: 'vekst på plattformen',
  whatReferrals: 'vervinger',

  period: 'Periode',
  from: 'Fra',
  to: 'Til',
  showPeriod: 'Vis perioden',
  seriesBy: 'Serie per',
  granularities: { day: 'Dager', week: 'Uker (mandag først)', month: 'Måneder', year: 'År' },
  granularityNoun: { day: 'dag', week: 'uke', month: 'måned', year: 'år' },
  firstAfterLast: 'Første dag kan ikke være etter siste dag',
  badDate: (pattern) => `Skriv datoen som ${pattern}`,
  dateLetters: { day: 'dd', month: 'mm', year: 'åååå' },
  timezoneNote: (timezone) => `Dager, uker og måneder deles i organisasjonens tidssone, ${timezone}.`,
  quickPeriods: 'Hurtigvalg',
  presets: { thisWeek: 'Denne uken', lastWeek: 'Forrige uke', thisMonth: 'Denne måneden', lastMonth: 'Forrige måned', thisYear: 'I år', last12Months: 'Siste 12 måneder' },
  compareWith: 'Sammenlign med',
  compareOptions: { none: 'Ingenting', previous: 'Perioden før', year: 'Ett år tidligere' },
  range: (from, to) => `${from}–${to}`,

  steps: { clicks: 'Klikk', uniqueClicks: 'Unike klikk', installs: 'Installasjoner', registrations: 'Registreringer', activations: 'Aktiveringer' },
  rates: { clickToRegistration: 'Unikt klikk → registrering', registrationToActivation: 'Registrering → aktivering', clickToActivation: 'Unikt klikk → aktivering' },
  funnel: 'Trakt',
  funnelOf: (subject) => `Trakten for ${subject}`,
  step: 'Steg',
  count: 'Antall',
  fromStepBefore: 'Fra steget før',
  stepOver100: 'Et steg kan passere 100 %: folk kan registrere seg på nettet uten å installere appen.',
  funnelChart: (subject, steps) => `Traktdiagram for ${subject}: ${steps}.`,
  change: 'Endring',
  notApplicable: 'i.t.',
  comparedWith: (range) => `Endringer sammenlignet med ${range}.`,
  before: (value) => `Før: ${value}`,
  noBasisBefore: (range, first) => `Ingen endringer vises: organisasjonens første aktivitet var ${first}, etter at ${range} begynte.`,
  noBasisNone: (range) => `Ingen endringer vises: organisasjonen hadde ingen aktivitet før ${range} var over.`,
  noBasisZero: '«i.t.» der perioden før hadde null.',
  percentagePoints: (value) => `${value} pp`,

  overTime: 'Over tid',
  noPeriods: 'Ingen perioder i dette tidsrommet.',
  partial: ' (delvis)',
  numbersPer: (noun) => `Tall per ${noun}`,
  subjectPer: (subject, noun) => `${subject} per ${noun}`,
  periodColumn: 'Periode',
  seriesChart: (subject, noun, n, first, last) => `Linjediagram for ${subject} per ${noun}, ${n} perioder fra ${first} til ${last}; tabellen under har tallene.`,

  leaderboard: { rank: 'Plass', mentorId: 'Mentor', registrations: 'Registreringer', activations: 'Aktiveringer', clickToRegistration: 'Klikk → registrering', uniqueClicks: 'Unike klikk', clicks: 'Klikk' },
  noMentors: 'Ingen mentorer med tall i denne perioden.',
  findMentor: 'Finn en mentor',
  nameOrId: 'Navn eller id',
  searchMentors: 'Søk blant mentorene',
  noMentorMatches: (search) => `Ingen mentor passer til «${search}».`,
  mentorsMatch: (n, total) => `${n} av ${total} mentorer passer.`,
  mentorsChart: (n) => `Stolpediagram som sammenligner ${n} mentorer på unike klikk, registreringer og aktiveringer; tabellen over har tallene.`,

  campaigns: 'Kampanjer',
  campaign: 'Kampanje',
  noCampaign: 'Ingen kampanje',
  noCampaignActivity: 'Ingen kampanje hadde aktivitet i denne perioden.',
  campaignsCaption: 'Kampanjer, flest registreringer først',
  clickToRegistration: 'Klikk → registrering',
  registrationToActivation: 'Registrering → aktivering',
  campaignsChart: (n) => `Stolpediagram som sammenligner ${n} kampanjer på unike klikk, registreringer og aktiveringer; tabellen har tallene.`,

  stages: { CLICKED: 'Klikket', INSTALLED: 'Installert', REGISTERED: 'Registrert', ACTIVATED: 'Aktivert' },
  referrals: 'Vervinger',
  recruit: 'Vervet',
  mentor: 'Mentor',
  stage: 'Steg',
  everyStage: 'Alle steg',
  anyMentor: 'Alle mentorer',
  perPage: 'Per side',
  filterReferrals: 'Filtrer vervingene',
  referralsCaption: (timezone) => `Vervinger, nyeste registrering først; tider i ${timezone}`,
  previousPage: 'Forrige side',
  nextPage: 'Neste side',
  referralPages: 'Sider med vervinger',
  pageStatus: (page, last, n) => `Side ${page}${last ? ' (siste)' : ''}, ${n} vervinger`,
  pageOfReferrals: (page) => `Side ${page} av vervingene`,
  noReferralsFiltered: 'Ingen vervinger passer til filtrene.',
  noReferrals: 'Ingen vervinger ennå.',

  recruitmentIn: 'Rekruttering i ',
  allOrganizations: '← Alle organisasjoner',
  orgFunnelIntro: (range) => `Fra klikk på invitasjonslenker til aktiverte medlemmer, ${range}.`,
  topMentors: 'Toppmentorer',
  topMentorsIntro: 'De ti mentorene med flest registreringer i perioden; sorter etter en hvilken som helst kolonne, eller finn en etter navn.',
  topMentorsOf: (orgId) => `Toppmentorer i ${orgId}`,
  referralsIntro: 'Alle vervede med nåværende steg i innmeldingstrakten (hele tiden).',

  yourMentors: 'Mentorene dine',
  yourMentorsLower: 'mentorene dine',
  coordFunnelIntro: (range) => `Lenkene til mentorene dine, fra klikk til aktiverte medlemmer, ${range}.`,
  coordCampaignsIntro: 'Kampanjene til mentorene dine side om side.',
  mentorPerformance: 'Mentorresultater',
  performanceIntro: (n, range) => `${n} mentorer i ditt område, ${range}. Finn en mentor etter navn, og velg en for å se trakten og de vervede.`,
  sideBySide: 'Side om side',
  scopeCaption: 'Mentorene i ditt område',

  yourReferrals: 'Dine vervinger',
  mentorHeading: 'Mentor ',
  allYourMentors: '← Alle mentorene dine',
  theOrganization: '← Organisasjonen',
  yourYear: 'Ditt år',
  theYear: 'Året',
  year: 'År',
  newMembers: 'Nye medlemmer vervet',
  rankInOrg: 'Plass i organisasjonen',
  percentileInOrg: 'Persentil i organisasjonen',
  activatedMembers: 'Aktiverte medlemmer',
  yearRange: (range, timezone) => `${range}, i ${timezone}.`,
  rangeSentence: (range) => `${range}.`,
  yourRecruits: 'Dine vervede',
  recruits: 'Vervede',
  recruitsIntro: 'Alle som registrerte seg gjennom lenkene, med nåværende steg (hele tiden).',
  yourLinks: 'lenkene dine',
  yourLinksCapital: 'Lenkene dine',

  growthAcross: 'Vekst på tvers av organisasjoner',
  organizations: 'Organisasjoner',
  organization: 'Organisasjon',
  timezone: 'Tidssone',
  orgsIntro: (range) => `${range}; hver organisasjons perioder deles i dens egen tidssone.`,
  registrationsOverTime: 'Registreringer over tid',
  previousOrganizations: 'Forrige organisasjoner',
  nextOrganizations: 'Neste organisasjoner',
  organizationPages: 'Sider med organisasjoner',
  page: (n) => `Side ${n}`,
  noOrganizations: 'Ingen organisasjoner ennå.',
  organizationsCaption: 'Organisasjoner etter id',
  growthChart: (noun, n) => `Linjediagram for registreringer per ${noun} for ${n} organisasjoner; tabellen har hver organisasjons totaler.`,
  offerSwitch: (sub) => `Bytt til ${sub}`,
  offerStay: (sub) => `Fortsett som ${sub}`,
  offerText: (offered, current) => `Siden rundt denne oversikten vil logge deg inn som ${offered} i stedet for ${current}. Vil du bytte?`,
  offerLinkText: (offered, current) => `Lenken du åpnet logger deg inn som ${offered} i stedet for ${current}. Vil du bytte?`,

  followUp: {
    title: 'Trenger oppfølging',
    intro: (days) => `Vervede som har registrert seg, men ikke aktivert seg på ${num(days)} ${days === 1 ? 'dag' : 'dager'} eller mer, samlet per mentor: be hver mentor ta kontakt med sine egne vervede.`,
    daysLabel: 'Har ventet minst (dager)',
    what: 'oppfølgingslisten',
    empty: (days) => `Ingen vervede har ventet i ${num(days)} ${days === 1 ? 'dag' : 'dager'} eller mer uten å aktivere seg. Ingen å følge opp.`,
    mentorWaiting: (n) => `${num(n)} ${n === 1 ? 'vervet' : 'vervede'} venter`,
    caption: (mentor, timezone) => `Vervede hos ${mentor} som ikke er aktivert ennå, de som har ventet lengst først; tider i ${timezone}`,
    columns: { recruit: 'Vervet', stage: 'Steg', since: 'I dette steget siden', waiting: 'Venter' },
    waitingDays: (n) => `${num(n)} ${n === 1 ? 'dag' : 'dager'}`,
    more: (shown) => `Viser de ${num(shown)} som registrerte seg sist; last ned CSV-filen for hele listen.`,
    total: (n, mentors) => `${num(n)} ${n === 1 ? 'vervet' : 'vervede'} hos ${num(mentors)} ${mentors === 1 ? 'mentor' : 'mentorer'} å følge opp.`,
  },

  csv: {
    download: 'Last ned CSV',
    label: (what) => `Last ned ${what} som CSV`,
    preparing: 'Lager CSV-filen …',
    failed: (message) => `CSV-filen kunne ikke lastes ned: ${message}`,
  },
  csvParts: {
    funnel: 'trakten',
    series: 'serien',
    topMentors: 'toppmentorene',
    campaigns: 'kampanjene',
    referrals: 'vervingene',
    mentorPerformance: 'mentorresultatene',
    recruits: 'de vervede',
    annual: 'årsoversikten',
    organizations: 'organisasjonene',
    followUp: 'oppfølgingslisten',
  },

  explanation: {
    open: 'Hvorfor talt med',
    close: 'Skjul forklaringen',
    openLabel: (recruit) => `Hvorfor ${recruit} telles med for mentoren sin`,
    what: 'forklaringen',
    heading: (recruit) => `Slik ble ${recruit} knyttet til en mentor`,
    ruleLink: (mentor, linkId) => `Registrerte seg gjennom lenken ${linkId} til ${mentor}.`,
    ruleDevice: (mentor, linkId) => `Knyttet til mentor via enheten: det siste kontaktpunktet før registreringen var lenken ${linkId} til ${mentor}.`,
    window: (days, from, to) => `Tidsvinduet på ${num(days)} dager: ${from} til ${to}.`,
    timeline: (recruit) => `Kontaktpunktene til ${recruit}, eldste først`,
    windowOpens: (days) => `Tidsvinduet på ${num(days)} dager åpner`,
    registered: 'Registrerte seg',
    kinds: { CLICK: 'Klikk', INSTALL: 'Installasjon', REGISTRATION: 'Registrering' },
    link: (linkId) => `lenke ${linkId}`,
    hiddenLink: 'en lenke utenfor det du har tilgang til',
    noLink: 'ingen lenke',
    unknownLink: 'en lenke tjenesten ikke kjenner',
    noMentor: 'ingen mentor',
    hiddenMentor: 'mentor ikke vist',
    wonDevice: (days) => `vant: det siste kontaktpunktet innen ${num(days)} dager før registreringen`,
    wonLink: 'vant: registreringen oppga denne lenken',
    earlierTouch: 'et tidligere kontaktpunkt',
    outsideWindow: (days) => `utenfor tidsvinduet på ${num(days)} dager`,
    otherOrg: 'i en annen organisasjon',
    selfReferral: 'mentorens egen lenke',
    notCounted: { bot: 'ikke talt med: en bot', revoked: 'ikke talt med: lenken er trukket tilbake', expired: 'ikke talt med: lenken er utløpt', unknown_link: 'ikke talt med: ukjent lenke', no_link: 'ikke talt med: ingen lenke' },
    unavailable: 'Opplysningene bak denne tilknytningen finnes ikke lenger (de er eldre enn forklaringene, eller er slettet), så kontaktpunktene kan ikke vises.',
    attributedByDevice: (mentor, linkId) => `Knyttet til mentor via enheten, til lenken ${linkId} til ${mentor}.`,
    times: (timezone) => `Tider i ${timezone}.`,
    omitted: (n) => `${num(n)} ${n === 1 ? 'kontaktpunkt' : 'kontaktpunkter'} til for denne enheten (lenger fra vinneren) vises ikke.`,
    opened: (recruit) => `Viser hvordan ${recruit} ble knyttet til en mentor`,
  },
};

export const CATALOGUES: Record<Lang, Strings> = { en, nb };

const STORAGE_KEY = 'dashboard.lang';
const isLang = (value: string | null | undefined): value is Lang => (LANGS as readonly string[]).includes(value ?? '');

/** The language of the browser's preferences (nb, nn and no read as bokmål), English when none of them is one of ours. */
export function languageOf(languages: readonly string[]): Lang {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'nb' || base === 'nn' || base === 'no') return 'nb';
    if (base === 'en') return 'en';
  }
  return 'en';
}

function browserLanguages(): readonly string[] {
  return typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language ?? 'en'];
}

function stored(): Lang | null {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return isLang(value) ? value : null;
  } catch {
    return null;
  }
}

let current: Lang = stored() ?? languageOf(browserLanguages());

/** The page's language now. */
export const lang = (): Lang => current;
/** The strings of the page's language. */
export const t = (): Strings => CATALOGUES[current];

/** Switches the language and keeps the choice for the next visit. */
export function setLang(next: Lang): void {
  current = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // Storage refused (private mode): the choice lasts for this page.
  }
  if (typeof document !== 'undefined') document.documentElement.lang = next;
}

/**
 * The Intl locale of the page's language: the browser's own tag when it writes that language
 * (en-US, nb-NO, nn-NO read as nb-NO), else nb-NO or en-GB.
 */
export function locale(): string {
  const own = browserLanguages().find((tag) => languageOf([tag]) === current && /^(nb|en)\b/i.test(tag));
  return own ?? (current === 'nb' ? 'nb-NO' : 'en-GB');
}
