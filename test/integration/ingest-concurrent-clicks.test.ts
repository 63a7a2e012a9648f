import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createBatchApplier, type BatchApplier } from '../../services/ingest-worker/apply-batch.js';
import type { InviteClicked, InviteLink } from '../../libs/events/types.generated.js';

/**
 * Two transactions adding clicks to one visitor-day at the same time (two lanes of a worker, or
 * two workers) must still count one unique click, the earliest: the second waits at the lock
 * on the link's clicks and decides with the first's click stored. Through the applier the
 * worker uses, against the real Postgres, each round two transactions started together on two
 * connections. Without that lock both decide alone and both count as unique (checked by
 * removing it: round 1 fails).
 */
let env: TestEnv;
let pool: pg.Pool;
let apply: BatchApplier;
const T0 = Date.UTC(2026, 10, 2, 9);
const ROUNDS = 40;
const link: InviteLink = { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 86_400_000, expiresAt: null, revokedAt: null };
const click = (round: number, n: number, visitor: InviteClicked['visitor']): InviteClicked => ({ eventId: `c${round}_${n}`, linkId: 'l1', occurredAt: T0 + round * 60_000 + n * 1_000, visitor });

beforeAll(async () => {
  env = await createTestEnv('ingest_concurrent_clicks');
  pool = createPool(env.config, env.log, 4);
  apply = createBatchApplier({ pool, config: env.config });
  await apply('inviteLinks', [link]);
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

describe('clicks of one visitor-day applied side by side', () => {
  it('count one unique click per visitor-day, the earliest, whichever transaction commits first', async () => {
    let netUnique = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Half the rounds by device id, half by ip and user agent (the visitor hash); the later click sometimes first.
      const visitor = round % 2 === 0 ? { deviceId: `d${round}` } : { ip: `198.51.100.${round}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' };
      const [early, late] = [click(round, 0, visitor), click(round, 1, visitor)];
      const outcomes = await Promise.all((round % 3 === 0 ? [late, early] : [early, late]).map((c) => apply('inviteClicks', [c])));
      for (const { trackings } of outcomes) for (const t of trackings) if (t.stage === 'CLICKED' && t.uniqueVisitor) netUnique += t.retractsEventId === null ? 1 : -1;
    }
    const { rows } = await pool.query<{ event_id: string; unique_visitor: boolean; status: string }>('select event_id, unique_visitor, status from clicks order by event_id');
    expect(rows).toHaveLength(2 * ROUNDS);
    for (let round = 0; round < ROUNDS; round++) {
      const mine = rows.filter((r) => r.event_id.startsWith(`c${round}_`));
      expect(mine.map((r) => [r.event_id, r.status, r.unique_visitor]), `round ${round}`).toEqual([[`c${round}_0`, 'counted', true], [`c${round}_1`, 'counted', false]]);
    }
    // What the aggregator is told nets to the same: one unique click per round (a retraction subtracts its event).
    expect(netUnique).toBe(ROUNDS);
  });
});
