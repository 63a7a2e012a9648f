import { describe, expect, it } from 'vitest';
import { sumIncrements, type FunnelEvent } from './increments.js';
import { SLOT_MS } from './periods.js';

const at = (iso: string) => Date.parse(iso);
const ev = (over: Partial<FunnelEvent>): FunnelEvent => ({ orgId: 'o1', mentorId: 'm1', campaignId: 'c1', stage: 'CLICKED', uniqueVisitor: false, occurredAt: at('2026-03-29T00:10:00Z'), ...over });

describe('sumIncrements', () => {
  it('sums a burst for one mentor into one increment per slot', () => {
    const burst = Array.from({ length: 1000 }, (_, i) => ev({ occurredAt: at('2026-03-29T00:00:00Z') + (i % 2) * SLOT_MS + i, uniqueVisitor: i % 4 === 0 }));
    const out = sumIncrements(burst);
    expect(out).toEqual([
      { orgId: 'o1', mentorId: 'm1', campaignId: 'c1', slot: at('2026-03-29T00:00:00Z'), clicks: 500, uniqueClicks: 250, installs: 0, registrations: 0, activations: 0 },
      { orgId: 'o1', mentorId: 'm1', campaignId: 'c1', slot: at('2026-03-29T00:15:00Z'), clicks: 500, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 },
    ]);
  });

  it('counts each stage in its own column, unique clicks only for unique visitors', () => {
    const out = sumIncrements([
      ev({ stage: 'CLICKED', uniqueVisitor: true }),
      ev({ stage: 'CLICKED', uniqueVisitor: false }),
      ev({ stage: 'INSTALLED', uniqueVisitor: true }),
      ev({ stage: 'REGISTERED' }),
      ev({ stage: 'ACTIVATED' }),
      ev({ stage: 'ACTIVATED' }),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ clicks: 2, uniqueClicks: 1, installs: 1, registrations: 1, activations: 2 });
  });

  it('keeps mentors, orgs and campaigns (including none) apart, in key order', () => {
    const out = sumIncrements([ev({ mentorId: 'm2' }), ev({ campaignId: null }), ev({ campaignId: undefined }), ev({ orgId: 'o2' }), ev({})]);
    expect(out.map((i) => [i.mentorId, i.campaignId, i.orgId, i.clicks])).toEqual([
      ['m1', null, 'o1', 2],
      ['m1', 'c1', 'o1', 1],
      ['m1', 'c1', 'o2', 1],
      ['m2', 'c1', 'o1', 1],
    ]);
  });

  it('cuts slots on UTC quarter hours, before 1970 included', () => {
    const [a, b] = sumIncrements([ev({ occurredAt: at('2026-10-25T00:59:59.999Z') }), ev({ occurredAt: at('2026-10-25T01:00:00Z') })]);
    expect(new Date(a!.slot).toISOString()).toBe('2026-10-25T00:45:00.000Z');
    expect(new Date(b!.slot).toISOString()).toBe('2026-10-25T01:00:00.000Z');
    expect(sumIncrements([ev({ occurredAt: -1 })])[0]?.slot).toBe(-SLOT_MS);
  });

  it('subtracts a retraction exactly: an event and its retraction leave zeros', () => {
    const click = ev({ uniqueVisitor: true });
    const [inc] = sumIncrements([click, ev({ stage: 'REGISTERED' }), { ...click, retractsEventId: 'rfe_1' }, ev({ stage: 'REGISTERED', retractsEventId: 'rfe_2' })]);
    expect(inc).toMatchObject({ clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 });
    const [only] = sumIncrements([ev({ stage: 'ACTIVATED', retractsEventId: 'rfe_3' })]);
    expect(only).toMatchObject({ activations: -1 });
  });
});
