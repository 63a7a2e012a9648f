/**
 * Every user-visible string of the follow-up list and the CSV downloads, in one place, so
 * the page's translations (Norwegian bokmål, English) can take them over as they are.
 */
export const FOLLOW_UP_TEXT = {
  title: 'Needs follow-up',
  intro: (days: number) => `Recruits who registered but have not activated for ${days} ${days === 1 ? 'day' : 'days'} or more, by mentor: ask each mentor to nudge their own recruits.`,
  daysLabel: 'Waiting at least (days)',
  what: 'the follow-up list',
  empty: (days: number) => `No recruit has been waiting ${days} ${days === 1 ? 'day' : 'days'} or more without activating. Nobody to follow up.`,
  mentorWaiting: (n: number) => `${n} ${n === 1 ? 'recruit' : 'recruits'} waiting`,
  caption: (mentor: string, timezone: string) => `Recruits of ${mentor} not yet activated, longest waiting first; times in ${timezone}`,
  columns: { recruit: 'Recruit', stage: 'Stage', since: 'In this stage since', waiting: 'Waiting' },
  waitingDays: (n: number) => `${n} ${n === 1 ? 'day' : 'days'}`,
  more: (shown: number) => `Showing the ${shown} who registered most recently; download the CSV for the whole list.`,
  total: (n: number, mentors: number) => `${n} ${n === 1 ? 'recruit' : 'recruits'} of ${mentors} ${mentors === 1 ? 'mentor' : 'mentors'} to follow up.`,
  stage: { CLICKED: 'Clicked', INSTALLED: 'Installed', REGISTERED: 'Registered', ACTIVATED: 'Activated' } as Record<string, string>,
} as const;

export const CSV_TEXT = {
  download: 'Download CSV',
  label: (what: string) => `Download ${what} as CSV`,
  preparing: 'Preparing CSV…',
  failed: (message: string) => `The CSV could not be downloaded: ${message}`,
  unreachable: 'the query service could not be reached',
} as const;
