import type { Static } from 'typebox';
import type * as S from '../../services/query-service/schemas.js';

/**
 * The /v1 routes the dashboard reads, typed by the query service's own route schemas
 * (services/query-service/schemas.ts: the same TypeBox values that validate, serialize and
 * document every answer), so the page and the API cannot disagree about a field. Type imports
 * only: nothing of the service is bundled.
 */
export type FunnelTotals = Static<typeof S.FunnelTotals>;
export type Conversion = Static<typeof S.Conversion>;
export type SeriesPoint = Static<typeof S.SeriesPoint>;
export type PreviousPeriod = Static<typeof S.PreviousPeriod>;
export type Granularity = Static<typeof S.Granularity>;
export type Stage = Static<typeof S.Stage>;
export type MentorPerformanceSummary = Static<typeof S.MentorPerformanceSummary>;
export type MentorReferralStats = Static<typeof S.MentorReferralStats>;
export type MentorPerformance = Static<typeof S.MentorPerformance>;
export type OrgRecruitmentSummary = Static<typeof S.OrgRecruitmentSummary>;
export type CoordinatorRecruitmentSummary = Static<typeof S.CoordinatorRecruitmentSummary>;
export type AnnualSummary = Static<typeof S.AnnualSummary>;
export type PlatformGrowth = Static<typeof S.PlatformGrowth>;
export type RecruitPage = Static<typeof S.RecruitPage>;
export type OrgReferralPage = Static<typeof S.OrgReferralPage>;
export type RecruitProfile = Static<typeof S.RecruitProfile>;
export type ConversionRecord = Static<typeof S.ConversionRecord>;
type ErrorBody = Static<typeof S.ErrorBody>;
import { createCsvDownloads } from './csv-download.js';
import { t } from './i18n.js';

type Q<T> = { [K in keyof T]?: T[K] | undefined };

/** A failed call: the HTTP status (0 when the service could not be reached) and the API's error. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** The API's origin and path prefix: the page is served at <base>/dashboard/, the API at <base>/v1/. */
const apiBase = () => new URL('../', document.baseURI);

/**
 * Answers of the last few seconds, per token and URL: re-sorting a table or going back to a
 * view redraws from the same answer instead of asking again. A failure is never kept.
 */
const FRESH_MS = 15_000;
const recent = new Map<string, { at: number; answer: Promise<unknown> }>();

/** Drops every kept answer (on sign-out: nothing of the last viewer stays in memory). */
export const forgetAnswers = () => recent.clear();

export function createApi(token: string) {
  function get<T>(path: string, query: object): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), apiBase());
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    const key = `${token}\n${url.href}`;
    const hit = recent.get(key);
    if (hit && Date.now() - hit.at < FRESH_MS) return hit.answer as Promise<T>;
    for (const [k, v] of recent) if (Date.now() - v.at >= FRESH_MS) recent.delete(k);
    const answer = fetchJson<T>(url);
    recent.set(key, { at: Date.now(), answer });
    answer.catch(() => recent.delete(key));
    return answer;
  }
  async function fetchJson<T>(url: URL): Promise<T> {
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, credentials: 'omit', cache: 'no-cache', referrerPolicy: 'no-referrer' });
    } catch {
      throw new ApiFailure(0, 'unreachable', t().serviceUnreachable);
    }
    if (res.ok) return (await res.json()) as T;
    const body = (await res.json().catch(() => null)) as ErrorBody | null;
    const retry = Number(res.headers.get('retry-after'));
    throw new ApiFailure(res.status, body?.error.code ?? 'error', body?.error.message ?? res.statusText, Number.isFinite(retry) && retry > 0 ? retry : null);
  }
  const seg = encodeURIComponent;
  return {
    referralStats: (mentorId: string, q: Q<Static<typeof S.Query.stats>>) => get<MentorReferralStats>(`/v1/mentors/${seg(mentorId)}/referral-stats`, q),
    recruits: (mentorId: string, q: Q<Static<typeof S.Query.recruits>>) => get<RecruitPage>(`/v1/mentors/${seg(mentorId)}/recruits`, q),
    annualSummary: (mentorId: string, q: Q<Static<typeof S.Query.annual>>) => get<AnnualSummary>(`/v1/mentors/${seg(mentorId)}/annual-summary`, q),
    mentorPerformance: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorPerformance>>) => get<MentorPerformance>(`/v1/coordinators/${seg(coordinatorId)}/mentor-performance`, q),
    coordinatorSummary: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorSummary>>) => get<CoordinatorRecruitmentSummary>(`/v1/coordinators/${seg(coordinatorId)}/recruitment-summary`, q),
    orgSummary: (orgId: string, q: Q<Static<typeof S.Query.summary>>) => get<OrgRecruitmentSummary>(`/v1/orgs/${seg(orgId)}/recruitment-summary`, q),
    orgReferrals: (orgId: string, q: Q<Static<typeof S.Query.referrals>>) => get<OrgReferralPage>(`/v1/orgs/${seg(orgId)}/referrals`, q),
    conversion: (userId: string, q: Q<Static<typeof S.Query.conversion>>) => get<ConversionRecord>(`/v1/conversions/${seg(userId)}`, q),
    coordinatorReferrals: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorReferrals>>) => get<OrgReferralPage>(`/v1/coordinators/${seg(coordinatorId)}/referrals`, q),
    /** The same routes as CSV downloads (csv-download.ts). */
    csv: createCsvDownloads(token),
    platformGrowth: (q: Q<Static<typeof S.Query.growth>>) => get<PlatformGrowth>('/v1/platform/growth', q),
  };
}

export type Api = ReturnType<typeof createApi>;
