import type { FunnelStage, ReferralEventRecorded } from '../events/types.generated.js';
import { prng } from './sample-traffic.js';

const STAGES: { stage: FunnelStage; weight: number }[] = [
  { stage: 'CLICKED', weight: 0.7 },
  { stage: 'INSTALLED', weight: 0.14 },
  { stage: 'REGISTERED', weight: 0.1 },
  { stage: 'ACTIVATED', weight: 0.06 },
];

/**
 * Funnel events as the ingest worker publishes them, for exercising the aggregator on its own:
 * `count` distinct events over a few orgs, mentors of Zipf-like reach, campaigns or none, and
 * event times spread over [start, start + days). A share of them (`revisionRate`, default 5 %)
 * is revised as the ingest worker revises a decision: a retraction follows the event, then a
 * corrected event at another time. Seedable: the same options give the same events.
 */
export function referralEvents(options: { seed: number; count: number; orgs?: number; mentorsPerOrg?: number; start?: number; days?: number; revisionRate?: number }): ReferralEventRecorded[] {
  const rnd = prng(options.seed);
  const orgs = options.orgs ?? 3;
  const mentorsPerOrg = options.mentorsPerOrg ?? 10;
  const start = options.start ?? Date.UTC(2026, 2, 20);
  const span = (options.days ?? 30) * 24 * 3600 * 1000;
  const weights = Array.from({ length: mentorsPerOrg }, (_, m) => 1 / (m + 1) ** 1.2);
  const total = weights.reduce((a, b) => a + b, 0);
  const pickMentor = () => {
    let r = rnd() * total;
    for (let m = 0; m < weights.length; m++) if ((r -= weights[m] as number) <= 0) return m;
    return weights.length - 1;
  };
  const pickStage = () => {
    let r = rnd();
    for (const s of STAGES) if ((r -= s.weight) <= 0) return s.stage;
    return 'CLICKED';
  };
  const events: ReferralEventRecorded[] = [];
  for (let i = 0; i < options.count; i++) {
    const o = Math.floor(rnd() * orgs);
    const m = pickMentor();
    const c = Math.floor(rnd() * 3);
    const stage = pickStage();
    const event: ReferralEventRecorded = {
      eventId: `rfe_s${options.seed}_${i}`,
      orgId: `s${options.seed}_org${o}`,
      mentorId: `s${options.seed}_org${o}_mentor${m}`,
      linkId: `s${options.seed}_lnk_${o}_${m}_${c}`,
      campaignId: c === 2 ? null : `s${options.seed}_cmp_${o}_${c}`,
      referralId: stage === 'CLICKED' ? null : `ref_s${options.seed}_${i}`,
      userId: stage === 'REGISTERED' || stage === 'ACTIVATED' ? `s${options.seed}_user${i}` : null,
      stage,
      uniqueVisitor: stage === 'CLICKED' && rnd() < 0.8,
      occurredAt: start + Math.floor(rnd() * span),
      retractsEventId: null,
    };
    events.push(event);
    if (rnd() < (options.revisionRate ?? 0.05)) {
      events.push({ ...event, eventId: `${event.eventId}_retracted`, retractsEventId: event.eventId });
      events.push({ ...event, eventId: `${event.eventId}_r1`, occurredAt: start + Math.floor(rnd() * span), uniqueVisitor: stage === 'CLICKED' && rnd() < 0.5 });
    }
  }
  return events;
}
