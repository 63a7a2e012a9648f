import type { Static } from 'typebox';
import type * as S from '../../services/query-service/schemas.js';
import { t } from './i18n.js';

type Q<T> = { [K in keyof T]?: T[K] | undefined };

/** A CSV the service refused or could not send, with its status and the API's message. */
export class CsvFailure extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The CSV of a /v1 route, fetched with the viewer's token in the Authorization header (never
 * in the URL: a link would leave it in the history and the server's logs) and handed to the
 * browser as a download from an object URL, which is revoked at once afterwards. The file
 * name is the service's (Content-Disposition).
 */
export function createCsvDownloads(token: string) {
  async function download(path: string, query: object): Promise<void> {
    const url = new URL(path.replace(/^\//, ''), new URL('../', document.baseURI));
    for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    url.searchParams.set('format', 'csv');
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' }, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' });
    } catch {
      throw new CsvFailure(0, t().serviceUnreachable);
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
      throw new CsvFailure(res.status, body?.error?.message ?? res.statusText);
    }
    const blob = await res.blob();
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'export.csv';
    const href = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = href;
    a.download = name;
    a.hidden = true;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(href), 0);
  }
  const seg = encodeURIComponent;
  return {
    referralStats: (mentorId: string, q: Q<Static<typeof S.Query.stats>>) => download(`/v1/mentors/${seg(mentorId)}/referral-stats`, q),
    recruits: (mentorId: string, q: Q<Static<typeof S.Query.recruits>>) => download(`/v1/mentors/${seg(mentorId)}/recruits`, q),
    annualSummary: (mentorId: string, q: Q<Static<typeof S.Query.annual>>) => download(`/v1/mentors/${seg(mentorId)}/annual-summary`, q),
    mentorPerformance: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorPerformance>>) => download(`/v1/coordinators/${seg(coordinatorId)}/mentor-performance`, q),
    coordinatorSummary: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorSummary>>) => download(`/v1/coordinators/${seg(coordinatorId)}/recruitment-summary`, q),
    coordinatorReferrals: (coordinatorId: string, q: Q<Static<typeof S.Query.coordinatorReferrals>>) => download(`/v1/coordinators/${seg(coordinatorId)}/referrals`, q),
    orgSummary: (orgId: string, q: Q<Static<typeof S.Query.summary>>) => download(`/v1/orgs/${seg(orgId)}/recruitment-summary`, q),
    orgReferrals: (orgId: string, q: Q<Static<typeof S.Query.referrals>>) => download(`/v1/orgs/${seg(orgId)}/referrals`, q),
    platformGrowth: (q: Q<Static<typeof S.Query.growth>>) => download('/v1/platform/growth', q),
  };
}

export type CsvDownloads = ReturnType<typeof createCsvDownloads>;
