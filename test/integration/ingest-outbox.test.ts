import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createBatchApplier, type BatchApplier } from '../../services/ingest-worker/apply-batch.js';
import type { InviteClicked, InviteLink } from '../../libs/events/types.generated.js';

/**
 * The outbox row of a transaction is deleted once the broker acknowledged its events: by the
 * next batch's transaction, with its commit (a deletion alone costs a commit of its own, a WAL
 * flush per lane and fetch), or on its own within a second when no batch comes. Against the
 * real Postgres, through the applier the worker uses.
 */
let env: TestEnv;
let pool: pg.Pool;
let apply: BatchApplier;
const T0 = Date.UTC(2026, 10, 2, 12);
const link: InviteLink = { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 86_400_000, expiresAt: null, revokedAt: null };
const click = (n: number): InviteClicked => ({ eventId: `c${n}`, linkId: 'l1', occurredAt: T0 + n * 1000, visitor: { deviceId: `d${n}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } });
const outboxIds = async () => (await pool.query<{ id: string }>('select id from ingest_outbox order by id')).rows.map((r) => r.id);

beforeAll(async () => {
  env = await createTestEnv('ingest_outbox');
  pool = createPool(env.config, env.log, 4);
  apply = createBatchApplier({ pool, config: env.config });
  await apply('inviteLinks', [link]);
});

afterAll(async () => {
  await apply?.clearAcknowledged();
  await pool?.end();
  await env?.close();
});

describe('the ingest outbox', () => {
  it('deletes acknowledged rows with the next batch, and leaves unacknowledged ones for the relay', async () => {
    const first = await apply('inviteClicks', [click(1)]);
    const second = await apply('inviteClicks', [click(2)]);
    expect(first.outboxIds).toHaveLength(1);
    expect(await outboxIds()).toEqual([...first.outboxIds, ...second.outboxIds]);
    apply.acknowledge(first.outboxIds);
    const third = await apply('inviteClicks', [click(3)]);
    // Gone with the third batch's commit, well before the second it may wait alone; the second's stays (not acknowledged).
    expect(await outboxIds()).toEqual([...second.outboxIds, ...third.outboxIds]);
  });

  it('deletes acknowledged rows on their own when no batch follows', async () => {
    const before = await outboxIds();
    apply.acknowledge(before);
    await eventually(async () => ((await outboxIds()).length === 0 ? true : undefined), 5_000, 'acknowledged rows deleted');
  });
});
