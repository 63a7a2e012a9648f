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
const link = (linkId: string): InviteLink => ({ linkId, orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 86_400_000, expiresAt: null, revokedAt: null });
const click = (linkId: string, round: number, n: number, visitor: InviteClicked['visitor']): InviteClicked => ({ eventId: `${linkId}_c${round}_${n}`, linkId, occurredAt: T0 + round * 60_000 + n * 1_000, visitor });

beforeAll(async () => {
  env = await createTestEnv('ingest_concurrent_clicks');
  pool = createPool(env.config, env.log, 4);
  apply = createBatchApplier({ pool, config: env.config });
  await apply('inviteLinks', [link('l1'), link('l2')]);
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

/** Rounds of two clicks of one visitor-day on `linkId`, each pair applied side by side; checks one unique click per round. */
async function sideBySide(linkId: string): Promise<void> {
  let netUnique = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // Half the rounds by device id, half by ip and user agent (the visitor hash); the later click sometimes first.
    const visitor = round % 2 === 0 ? { deviceId: `d${linkId}_${round}` } : { ip: `198.51.100.${round}`, userAgent: `Mozilla/5.0 (X11; Linux x86_64) ${linkId}` };
    const [early, late] = [click(linkId, round, 0, visitor), click(linkId, round, 1, visitor)];
    const outcomes = await Promise.all((round % 3 === 0 ? [late, early] : [early, late]).map((c) => apply('inviteClicks', [c])));
    for (const { funnelRecords } of outcomes) for (const t of funnelRecords) if (t.stage === 'CLICKED' && t.uniqueVisitor) netUnique += t.retractsEventId === null ? 1 : -1;
  }
  const { rows } = await pool.query<{ event_id: string; unique_visitor: boolean; status: string }>('select event_id, unique_visitor, status from clicks where link_id = $1 order by event_id', [linkId]);
  expect(rows).toHaveLength(2 * ROUNDS);
  for (let round = 0; round < ROUNDS; round++) {
    const mine = rows.filter((r) => r.event_id.startsWith(`${linkId}_c${round}_`));
    expect(mine.map((r) => [r.event_id, r.status, r.unique_visitor]), `round ${round}`).toEqual([[`${linkId}_c${round}_0`, 'counted', true], [`${linkId}_c${round}_1`, 'counted', false]]);
  }
  // What the aggregator is told nets to the same: one unique click per round (a retraction subtracts its event).
  expect(netUnique).toBe(ROUNDS);
}

describe('clicks of one visitor-day applied side by side', () => {
  it('count one unique click per visitor-day, the earliest, whichever transaction commits first', async () => {
    await sideBySide('l1');
  });

  it('still do once the lock buckets are gone, as crash recovery empties the unlogged table: the locks are made again', async () => {
    await pool.query('truncate ingest_lock_buckets');
    await sideBySide('l2');
    const { rows } = await pool.query<{ kind: number; n: number }>('select kind, count(*)::int n from ingest_lock_buckets group by kind order by kind');
    // The kinds clicks lock (a link's state, shared, its clicks, and the devices of those with a device id) are back whole; users were not needed.
    expect(rows).toEqual([{ kind: 1, n: 65_536 }, { kind: 2, n: 65_536 }, { kind: 4, n: 65_536 }]);
  });
});
