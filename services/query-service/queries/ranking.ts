import type { FunnelTotals } from '../../../libs/funnel/increments.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import type { MentorPerformanceSummaryT } from '../schemas.js';

export type PerformanceSort = 'registrations' | 'activations' | 'clickToRegistration';

/** Ranks mentors best first by the sort key (a null rate ranks last), ties by mentor id. */
export function rank(totals: Map<string, FunnelTotals>, sort: PerformanceSort): Omit<MentorPerformanceSummaryT, 'mentorName'>[] {
  const summaries = [...totals].map(([mentorId, t]) => ({ mentorId, totals: t, conversion: conversionOf(t) }));
  const key = (s: (typeof summaries)[number]) => (sort === 'clickToRegistration' ? (s.conversion.clickToRegistration ?? -1) : s.totals[sort]);
  summaries.sort((a, b) => key(b) - key(a) || (a.mentorId < b.mentorId ? -1 : 1));
  return summaries.map((s, i) => ({ ...s, rank: i + 1 }));
}
