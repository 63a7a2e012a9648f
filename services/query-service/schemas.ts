import { Type, type Static, type TSchema } from 'typebox';

/**
 * The JSON shapes of SPEC §5. Routes declare them as their schemas: requests are validated
 * against them, responses are serialized through them (a field not named here never leaves
 * the service), and the OpenAPI document is generated from them.
 */

/** Ids and free text never hold NUL (Postgres text cannot), so such a value is a 400, not a 500. */
const NO_NUL = '^[^\\u0000]*$';
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 256, pattern: NO_NUL, description });
/**
 * The calendar the query routes answer for, the same for every date parameter (from, to, the
 * year of annual-summary, the instant in a cursor): 1970-01-01, the epoch (no event can be
 * older: event times are epoch milliseconds, and the pipeline refuses any before 2000), to
 * 9999-12-31, the last date written with four digits. A date outside it is a 400 naming the
 * parameter.
 */
export const CALENDAR = { firstDay: '1970-01-01', lastDay: '9999-12-31', firstYear: 1970, lastYear: 9999 } as const;
const Day = (description: string) =>
  Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: `${description}; ${CALENDAR.firstDay} to ${CALENDAR.lastDay}`, examples: ['2026-03-29'] });
/**
 * A value or null in an answer, said as OpenAPI 3.0 says it (`nullable`). fast-json-stringify
 * writes such a field directly, where a union with null (`anyOf`) is checked against each of its
 * branches by a validator, for every value of every answer: a page of twenty recruits ran a
 * hundred date-time checks. Answers only: a request's parameters keep their unions, whose
 * errors name the allowed values.
 */
const Nullable = <T extends TSchema>(schema: T, options: Record<string, unknown> = {}) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true, ...options });
const Instant = Nullable(Type.String({ format: 'date-time' }));
const Rate = Nullable(Type.Number({ minimum: 0, maximum: 1 }));

export const Stage = Type.Union([Type.Literal('CLICKED'), Type.Literal('INSTALLED'), Type.Literal('REGISTERED'), Type.Literal('ACTIVATED')]);
export const Granularity = Type.Union([Type.Literal('day'), Type.Literal('week'), Type.Literal('month'), Type.Literal('year')], { default: 'day' });

export const FunnelTotals = Type.Object(
  {
    clicks: Type.Integer(),
    uniqueClicks: Type.Integer(),
    installs: Type.Integer(),
    registrations: Type.Integer(),
    activations: Type.Integer(),
  },
  { title: 'FunnelTotals', additionalProperties: false },
);

export const Conversion = Type.Object(
  {
    clickToRegistration: Rate,
    registrationToActivation: Rate,
    clickToActivation: Rate,
  },
  { title: 'Conversion', additionalProperties: false, description: 'Rates in [0, 1]; null when the denominator is 0.' },
);

export const SeriesPoint = Type.Object(
  {
    periodStart: Type.String({ description: 'First day of the period in the org timezone (a Monday for weeks)' }),
    partial: Type.Optional(Type.Literal(true, { description: 'Present when the requested range covers only part of this period (the first or the last)' })),
    clicks: Type.Integer(),
    uniqueClicks: Type.Integer(),
    installs: Type.Integer(),
    registrations: Type.Integer(),
    activations: Type.Integer(),
  },
  { title: 'SeriesPoint', additionalProperties: false },
);

/**
 * The numbers of an earlier range to compare with (`compare=previous` or `compare=year`), in the
 * same organization's timezone. `orgFirstDay` is the organization's first day with any funnel
 * activity (null: none yet): an earlier range that begins before it has no basis for a
 * comparison, as a range with no activity has none.
 */
export const PreviousPeriod = Type.Object(
  {
    from: Type.String({ description: 'First day of the earlier range, inclusive, in the org timezone' }),
    to: Type.String({ description: 'Last day of the earlier range, inclusive, in the org timezone' }),
    orgFirstDay: Nullable(Type.String(), { description: "The organization's first day with any funnel activity (its earliest funnel row), in its timezone; null when it has none. An earlier range beginning before it has no basis for a comparison." }),
    totals: FunnelTotals,
    conversion: Conversion,
  },
  { title: 'PreviousPeriod', additionalProperties: false },
);
const previous = { previous: Type.Optional(PreviousPeriod) };

const recruitFields = {
  referralId: Type.String(),
  userId: Type.String(),
  displayName: Nullable(Type.String()),
  linkId: Type.String(),
  campaignId: Nullable(Type.String()),
  stage: Stage,
  clickedAt: Instant,
  installedAt: Instant,
  registeredAt: Instant,
  activatedAt: Instant,
};
/**
 * The display name of the mentor's own registration in the organization (a mentor is a member;
 * `mentorId` is their `userId`), or null when unknown or erased (SPEC §5).
 */
const MentorName = Nullable(Type.String(), { description: "The display name of the mentor's own registration in the organization; null when unknown or erased" });
export const RecruitProfile = Type.Object(recruitFields, { title: 'RecruitProfile', additionalProperties: false });
export const OrgRecruitProfile = Type.Object(
  {
    ...recruitFields,
    mentorId: Type.String(),
    mentorName: MentorName,
    stageSince: Type.String({ format: 'date-time', description: 'When the recruit reached their current stage: registeredAt for REGISTERED, activatedAt for ACTIVATED' }),
  },
  { title: 'OrgRecruitProfile', additionalProperties: false },
);

/** A keyset page of items; `nextCursor` is null on the last page. */
const page = <T extends Parameters<typeof Type.Array>[0]>(item: T, title: string) =>
  Type.Object({ items: Type.Array(item), nextCursor: Nullable(Type.String()) }, { title, additionalProperties: false });
export const RecruitPage = page(RecruitProfile, 'RecruitPage');
export const OrgReferralPage = page(OrgRecruitProfile, 'OrgReferralPage');

export const MentorPerformanceSummary = Type.Object(
  { mentorId: Type.String(), mentorName: MentorName, totals: FunnelTotals, conversion: Conversion, rank: Type.Integer({ minimum: 1 }), ...previous },
  { title: 'MentorPerformanceSummary', additionalProperties: false },
);

export const MentorPerformance = Type.Object(
  { coordinatorId: Type.String(), from: Type.String(), to: Type.String(), timezone: Type.String(), items: Type.Array(MentorPerformanceSummary) },
  { title: 'MentorPerformance', additionalProperties: false },
);

export const MentorReferralStats = Type.Object(
  {
    mentorId: Type.String(),
    mentorName: MentorName,
    orgId: Type.String(),
    from: Type.String(),
    to: Type.String(),
    timezone: Type.String(),
    totals: FunnelTotals,
    conversion: Conversion,
    series: Type.Array(SeriesPoint),
    ...previous,
  },
  { title: 'MentorReferralStats', additionalProperties: false },
);

export const CampaignSummary = Type.Object(
  { campaignId: Nullable(Type.String()), totals: FunnelTotals, conversion: Conversion },
  { title: 'CampaignSummary', additionalProperties: false },
);

/** The range an answer covers: local dates in `timezone`, both included. */
const answeredRange = { from: Type.String(), to: Type.String(), timezone: Type.String() };

export const OrgRecruitmentSummary = Type.Object(
  {
    orgId: Type.String(),
    ...answeredRange,
    totals: FunnelTotals,
    conversion: Conversion,
    series: Type.Array(SeriesPoint),
    topMentors: Type.Array(MentorPerformanceSummary),
    campaigns: Type.Array(CampaignSummary),
    ...previous,
  },
  { title: 'OrgRecruitmentSummary', additionalProperties: false },
);

/** An org summary cut to a coordinator's scope: the funnel, series and campaigns of their mentors (the mentors themselves: mentor-performance). */
export const CoordinatorRecruitmentSummary = Type.Object(
  {
    coordinatorId: Type.String(),
    orgId: Type.String(),
    ...answeredRange,
    totals: FunnelTotals,
    conversion: Conversion,
    series: Type.Array(SeriesPoint),
    campaigns: Type.Array(CampaignSummary),
    ...previous,
  },
  { title: 'CoordinatorRecruitmentSummary', additionalProperties: false },
);

export const AnnualSummary = Type.Object(
  {
    mentorId: Type.String(),
    mentorName: MentorName,
    year: Type.Integer(),
    ...answeredRange,
    totals: FunnelTotals,
    recruits: Type.Integer({ description: 'Recruits who registered through the mentor in the year' }),
    rankInOrg: Nullable(Type.Integer({ minimum: 1 })),
    percentileInOrg: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { title: 'AnnualSummary', additionalProperties: false },
);

export const OrgGrowth = Type.Object(
  { orgId: Type.String(), timezone: Type.String(), totals: FunnelTotals, conversion: Conversion, series: Type.Array(SeriesPoint) },
  { title: 'OrgGrowth', additionalProperties: false },
);

export const PlatformGrowth = Type.Object(
  {
    from: Type.String(), to: Type.String(), organizations: Type.Array(OrgGrowth),
    nextCursor: Nullable(Type.String(), { description: 'The next page of organizations, or null' }),
  },
  { title: 'PlatformGrowth', additionalProperties: false },
);

const TouchKind = Type.Union([Type.Literal('CLICK'), Type.Literal('INSTALL'), Type.Literal('REGISTRATION')]);
const touchFields = {
  eventId: Type.String(),
  kind: TouchKind,
  linkId: Nullable(Type.String(), { description: 'null when the link is unknown, or outside what the caller may read' }),
  occurredAt: Type.String({ format: 'date-time' }),
};
const Explanation = Type.Union([
  Type.Object(
    {
      rule: Type.Union([Type.Literal('LINK'), Type.Literal('DEVICE')], { description: "LINK: the registration named a link of its own organization; DEVICE: the device's last touch on a link of the organization within the window" }),
      windowFrom: Type.String({ format: 'date-time' }),
      windowTo: Type.String({ format: 'date-time' }),
      winner: Type.Object(touchFields, { title: 'Touch', additionalProperties: false }),
      candidates: Type.Array(Type.Object({
        ...touchFields,
        mentorId: Nullable(Type.String()),
        mentorName: MentorName,
        outcome: Type.Union([Type.Literal('WON'), Type.Literal('EARLIER_TOUCH'), Type.Literal('OUTSIDE_WINDOW'), Type.Literal('OTHER_ORG'), Type.Literal('NOT_COUNTED'), Type.Literal('SELF_REFERRAL')]),
        reason: Type.Union([Type.Literal('bot'), Type.Literal('revoked'), Type.Literal('expired'), Type.Literal('unknown_link'), Type.Literal('no_link'), Type.Null()], { description: 'Why a NOT_COUNTED touch did not count' }),
      }, { additionalProperties: false }), { description: "Every touch of the person's device (and the link the registration named) the rule looked at, newest first, and why it lost: of a device with many, the winner, the newest 100 in the window and the nearest 20 outside it on each side" }),
      candidatesOmitted: Type.Optional(Type.Integer({ minimum: 1, description: "Touches of the device not listed (present only when some are left out)" })),
    },
    { title: 'AttributionExplanation', additionalProperties: false },
  ),
  Type.Null(),
]);

export const ConversionRecord = Type.Object(
  {
    userId: Type.String(),
    referralId: Type.String(),
    linkId: Type.String(),
    mentorId: Type.String(),
    mentorName: MentorName,
    campaignId: Nullable(Type.String()),
    orgId: Type.String(),
    attributedBy: Type.Union([Type.Literal('LINK'), Type.Literal('DEVICE')]),
    registeredAt: Type.String({ format: 'date-time' }),
    activatedAt: Instant,
    explanation: Explanation,
  },
  { title: 'ConversionRecord', additionalProperties: false },
);

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false }) },
  { title: 'Error', additionalProperties: false },
);

export const Accepted = Type.Object({ eventId: Type.String() }, { title: 'Accepted', additionalProperties: false });

/**
 * A webhook's 409: an organization-bound service token named a `linkId` it cannot place in one
 * of its organizations (another organization's link, or one not published yet). The same
 * Error shape; retryable once the link is published.
 */
export const LinkNotPlaced = Type.Object(ErrorBody.properties, {
  title: 'Error',
  additionalProperties: false,
  'x-response-description': "linkId names no link published in one of the token's organizations (yet): retry once the link is published",
});

/** Query parameters shared by the routes. */
export const Params = {
  mentorId: Type.Object({ mentorId: Id('Mentor id') }),
  coordinatorId: Type.Object({ coordinatorId: Id('Coordinator id') }),
  orgId: Type.Object({ orgId: Id('Organization id') }),
  userId: Type.Object({ userId: Id('User id') }),
};

/**
 * An Ajv keyword that refuses an infinite number. Query parameters are coerced from text, and
 * Ajv coerces "1e400" or "Infinity" to Infinity and then skips minimum and maximum for it (they
 * check finite numbers only): `limit=1e400` reached the query as a limit of Infinity, and
 * `year=1e400` the calendar, both a 500. Every integer parameter carries it.
 */
export function finiteNumbers<A extends { addKeyword(definition: never): unknown }>(ajv: A): A {
  const validate = Object.assign((_schema: boolean, data: unknown) => {
    validate.errors = typeof data === 'number' && !Number.isFinite(data) ? [{ keyword: FINITE, message: 'must be a finite number', params: {} }] : null;
    return validate.errors === null;
  }, { errors: null as object[] | null });
  // No `type: 'number'`: Ajv's number type is finite numbers only, so the keyword would skip the
  // very values it is for. Ajv's KeywordDefinition type is not a dependency of this file; the object is one.
  ajv.addKeyword({ keyword: FINITE, schemaType: 'boolean', errors: true, validate } as never);
  return ajv;
}
const FINITE = 'x-finite';
const WholeNumber = (options: Parameters<typeof Type.Integer>[0]) => Type.Integer({ ...options, [FINITE]: true });

export const MAX_PAGE = 200;
const range = {
  from: Type.Optional(Day('First day, inclusive, in the org timezone (default: 29 days before `to`)')),
  to: Type.Optional(Day('Last day, inclusive, in the org timezone (default: today)')),
};
const paging = {
  limit: WholeNumber({ minimum: 1, maximum: MAX_PAGE, default: 50, description: `Page size, 1 to ${MAX_PAGE}` }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Opaque cursor from the previous page' })),
};

/** What to compare the range with; the answer then carries `previous`. */
const compare = {
  compare: Type.Optional(
    Type.Union([Type.Literal('previous'), Type.Literal('year')], {
      description:
        'Adds `previous`: the numbers of the range of equal length just before `from` (previous), or of the same dates a year earlier (year; 29 February becomes 28 February, and a range ending on the last day of February ends on the last day of the earlier February)',
    }),
  ),
};
/**
 * The CSV cap of a list route: `format=csv` streams its pages, from `cursor` when given, up to
 * this many rows (SPEC §5 export; README "CSV export"). Past it the client pages the JSON.
 */
export const CSV_MAX_ROWS = 10_000;
/** The answer's format: JSON, or CSV (as `Accept: text/csv` asks too); csv.ts, csv-tables.ts. */
const format = {
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')], {
    description: `json (default) or csv: RFC 4180 with a header row, instants in the organization's timezone; a list streams its pages up to ${CSV_MAX_ROWS} rows. \`Accept: text/csv\` asks for CSV too`,
  })),
};
const stuckDays = {
  stuckDays: Type.Optional(WholeNumber({
    minimum: 0, maximum: 36_500,
    description: 'The follow-up list: only recruits not yet activated whose current stage was reached at least this many days (of 24 hours) ago',
  })),
};

/** A mentor id can exist in two organizations: which one is meant (default: the caller's, or the only one). */
const mentorOrg = { orgId: Type.Optional(Id("The mentor's organization, when the mentor id exists in more than one")) };

/** A coordinator id can have a scope in two organizations: which one a platform admin means (anyone else reads their own). */
const coordinatorOrg = { orgId: Type.Optional(Id("The coordinator's organization, when a platform admin reads a coordinator with scopes in more than one")) };

const performance = Type.Object(
  {
    ...range,
    sort: Type.Union([Type.Literal('registrations'), Type.Literal('activations'), Type.Literal('clickToRegistration')], { default: 'registrations' }),
    limit: paging.limit,
    ...compare,
    ...format,
  },
  { additionalProperties: false },
);
const summary = Type.Object({ ...range, granularity: Granularity, ...compare, ...format }, { additionalProperties: false });
const referrals = Type.Object({ stage: Type.Optional(Stage), mentorId: Type.Optional(Id('Only this mentor')), ...stuckDays, ...paging, ...format }, { additionalProperties: false });

export const Query = {
  stats: Type.Object({ ...range, granularity: Granularity, campaignId: Type.Optional(Id('Only this campaign')), ...mentorOrg, ...compare, ...format }, { additionalProperties: false }),
  recruits: Type.Object({ stage: Type.Optional(Stage), ...paging, ...mentorOrg, ...format }, { additionalProperties: false }),
  summary,
  growth: Type.Object({ ...range, granularity: Granularity, ...paging, ...format }, { additionalProperties: false }),
  referrals,
  coordinatorPerformance: Type.Object({ ...performance.properties, ...coordinatorOrg }, { additionalProperties: false }),
  coordinatorSummary: Type.Object({ ...summary.properties, ...coordinatorOrg }, { additionalProperties: false }),
  coordinatorReferrals: Type.Object({ ...referrals.properties, ...coordinatorOrg }, { additionalProperties: false }),
  conversion: Type.Object(
    { orgId: Type.Optional(Id("The organization the user joined (attribution is per organization); default: the caller's")) },
    { additionalProperties: false },
  ),
  annual: Type.Object({ year: Type.Optional(WholeNumber({ minimum: CALENDAR.firstYear, maximum: CALENDAR.lastYear, description: 'Calendar year in the org timezone (default: this year)' })), ...mentorOrg, ...format }, { additionalProperties: false }),
};

/**
 * A string or null, as one JSON Schema type list: Ajv coerces types (query parameters are text)
 * and, in a union of a string and null, turned a null into "" before trying null, so an absent
 * `linkId: null` arrived as an empty id and was refused. A type list takes null as it is.
 */
const OptionalString = (maxLength = 256) => Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength, pattern: NO_NUL }));
const EventTime = Type.Union([Type.String({ format: 'date-time' }), Type.Integer({ minimum: 0 })], { description: 'ISO 8601 instant or epoch milliseconds' });

/** Webhook bodies: the Avro records of SPEC §3 as JSON (optional fields may be absent or null). */
export const Bodies = {
  inviteClick: Type.Object(
    {
      eventId: Id('Unique per logical event; a retry repeats it'),
      linkId: Id('Invite link id'),
      occurredAt: EventTime,
      visitor: Type.Object(
        {
          ip: OptionalString(64),
          userAgent: OptionalString(1024),
          deviceId: OptionalString(),
          platform: Type.Optional(Type.Union([Type.Literal('IOS'), Type.Literal('ANDROID'), Type.Literal('WEB'), Type.Literal('OTHER'), Type.Null()])),
          referrer: OptionalString(2048),
          locale: OptionalString(64),
        },
        { additionalProperties: false },
      ),
    },
    { additionalProperties: false },
  ),
  registration: Type.Object(
    {
      eventId: Id('Unique per logical event; a retry repeats it'),
      userId: Id('User id'),
      orgId: Id('Organization id'),
      linkId: OptionalString(),
      deviceId: OptionalString(),
      displayName: OptionalString(),
      occurredAt: EventTime,
    },
    { additionalProperties: false },
  ),
};

export type RecruitProfileT = Static<typeof RecruitProfile>;
export type OrgRecruitProfileT = Static<typeof OrgRecruitProfile>;
export type MentorPerformanceSummaryT = Static<typeof MentorPerformanceSummary>;
