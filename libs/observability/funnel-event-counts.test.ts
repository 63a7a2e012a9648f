import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { countFunnelEventsByKind } from './funnel-event-counts.js';

describe('countFunnelEventsByKind', () => {
  it('counts a batch as one increment per event would, by stage and kind', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'events_total', help: 'test', labelNames: ['stage', 'kind'] as const, registers: [registry] });
    countFunnelEventsByKind(counter, [
      { stage: 'CLICKED', retractsEventId: null },
      { stage: 'CLICKED', retractsEventId: null },
      { stage: 'CLICKED', retractsEventId: 'e1' },
      { stage: 'INSTALLED', retractsEventId: null },
      { stage: 'REGISTERED' },
    ]);
    countFunnelEventsByKind(counter, [{ stage: 'CLICKED', retractsEventId: null }]);
    countFunnelEventsByKind(counter, []);
    const values = (await counter.get()).values.map((v) => [v.labels.stage, v.labels.kind, v.value]);
    expect(values.sort()).toEqual([
      ['CLICKED', 'event', 3],
      ['CLICKED', 'retraction', 1],
      ['INSTALLED', 'event', 1],
      ['REGISTERED', 'event', 1],
    ]);
  });
});
