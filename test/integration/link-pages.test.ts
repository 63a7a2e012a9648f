import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createBatchApplier, type Applied, type BatchApplier } from '../../services/ingest-worker/apply-batch.js';
import type { FunnelRecord } from '../../libs/domain/funnel-decisions.js';
import type { InviteClicked, InviteLink, UserErased, UserRegistered } from '../../libs/events/types.generated.js';
import { loadClicksToDecide } from '../../services/ingest-worker/facts/clicks.js';

/**
 * A link's new state is decided for its stored clicks a page of visitor-days at a time, one
 * transaction each (services/ingest-worker/facts/link-pages.ts), so that a popular link arriving
 * late, or revoked, never has all its clicks in the worker's heap at once. Pages of ten clicks
 * here (two per link at least). The pages must add up to what one transaction decided: every
 * click decided once, one unique click per visitor-day, and a stop between pages (a crash after
 * a commit) taken up where it stopped when the link's record comes again.
 */
let env: TestEnv;
let pool: pg.Pool;
let apply: BatchApplier;
const T0 = Date.UTC(2026, 10, 2, 9);
const HOUR = 3_600_000;
const CLICKS = 35;
const link = (linkId: string, revokedAt: number | null = null): InviteLink => ({ linkId, orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 24 * HOUR, expiresAt: null, revokedAt });
/** 35 clicks over three days from 12 devices: some visitor-days hold several clicks. */
const clicks = (linkId: string): InviteClicked[] =>
  Array.from({ length: CLICKS }, (_, i) => ({ eventId: `${linkId}_c${i}`, linkId, occurredAt: T0 + (i % 3) * 24 * HOUR + i * 60_000, visitor: { deviceId: `${linkId}_d${i % 12}` } }));
const visitorDays = (linkId: string, before = Infinity) => new Set(clicks(linkId).filter((c) => c.occurredAt < before).map((c) => `${c.visitor.deviceId}/${Math.floor(c.occurredAt / (24 * HOUR))}`)).size;

beforeAll(async () => {
  env = await createTestEnv('link_pages');
  pool = createPool(env.config, env.log, 4);
  apply = createBatchApplier({ pool, config: env.config, linkPage: { clicks: 10, minPerLink: 2 } });
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

/** Applies the records, gathering what each committed transaction publishes; `stopAfter` commits, it stops as a crash would. */
async function applyCollecting(topic: 'inviteLinks', records: InviteLink[], published: FunnelRecord[][], stopAfter = Infinity): Promise<void> {
  const onCommit = async ({ funnelRecords }: Applied) => {
    published.push(funnelRecords);
    if (published.length >= stopAfter) throw new Error('stopped after a commit');
  };
  await apply(topic, records, onCommit);
}

async function clickRows(linkId: string) {
  const { rows } = await pool.query<{ event_id: string; status: string; unique_visitor: boolean }>('select event_id, status, unique_visitor from clicks where link_id = $1', [linkId]);
  return rows;
}

const cursor = async (linkId: string) => (await pool.query<{ after_day: string }>('select after_day::text from link_redecisions where link_id = $1', [linkId])).rows[0]?.after_day ?? null;

/** Net CLICKED events, and net unique ones, as the aggregator counts them: each event id once, a retraction subtracting its event. */
function net(published: FunnelRecord[][]): { clicks: number; unique: number } {
  let clicks = 0;
  let unique = 0;
  for (const r of new Map(published.flat().map((e) => [e.eventId, e])).values()) {
    if (r.stage !== 'CLICKED') continue;
    const sign = r.retractsEventId === null ? 1 : -1;
    clicks += sign;
    if (r.uniqueVisitor) unique += sign;
  }
  return { clicks, unique };
}

describe("a link's clicks decided a page at a time", () => {
  it('a link arriving after 35 clicks counts each once, one unique click per visitor-day, in several transactions', async () => {
    await apply('inviteClicks', clicks('late'));
    expect((await clickRows('late')).every((r) => r.status === 'pending')).toBe(true);

    const published: FunnelRecord[][] = [];
    await applyCollecting('inviteLinks', [link('late')], published);
    expect(published.length).toBeGreaterThanOrEqual(4);
    expect(Math.max(...published.map((p) => p.length))).toBeLessThanOrEqual(12);
    const rows = await clickRows('late');
    expect(rows.filter((r) => r.status === 'counted')).toHaveLength(CLICKS);
    expect(rows.filter((r) => r.unique_visitor)).toHaveLength(visitorDays('late'));
    expect(net(published)).toEqual({ clicks: CLICKS, unique: visitorDays('late') });
    expect(await cursor('late')).toBeNull();
  });

  it('a revocation re-decides every page: the clicks after it stop counting, and the unique clicks with them', async () => {
    const revokedAt = T0 + 24 * HOUR;
    const published: FunnelRecord[][] = [];
    await applyCollecting('inviteLinks', [link('late', revokedAt)], published);
    const rows = await clickRows('late');
    const before = clicks('late').filter((c) => c.occurredAt < revokedAt).length;
    expect(rows.filter((r) => r.status === 'counted')).toHaveLength(before);
    expect(rows.filter((r) => r.status === 'rejected')).toHaveLength(CLICKS - before);
    expect(rows.filter((r) => r.unique_visitor && r.status === 'counted')).toHaveLength(visitorDays('late', revokedAt));
    // Only retractions: every event published now takes back a click after the revocation.
    expect(published.flat().every((r) => r.retractsEventId !== null)).toBe(true);
    expect(published.flat().filter((r) => r.stage === 'CLICKED')).toHaveLength(CLICKS - before);
    expect(await cursor('late')).toBeNull();
  });

  it('a stop between pages leaves the cursor, an erasure starts it over, and the link delivered again finishes: each click counted once', async () => {
    await apply('inviteClicks', clicks('crash'));
    // The person behind one of the devices registers, then is erased while the link's pages are half done.
    const registration: UserRegistered = { eventId: 'r1', userId: 'u1', orgId: 'o1', linkId: null, deviceId: 'crash_d5', displayName: 'Kari', occurredAt: T0 + 3 * 24 * HOUR };
    await apply('userRegistered', [registration]);

    const published: FunnelRecord[][] = [];
    await expect(applyCollecting('inviteLinks', [link('crash')], published, 2)).rejects.toThrow('stopped after a commit');
    expect(await cursor('crash')).not.toBeNull();
    expect(await cursor('crash')).not.toBe('-infinity');
    expect((await clickRows('crash')).some((r) => r.status === 'pending')).toBe(true);

    const erasure: UserErased = { eventId: 'e1', userId: 'u1', orgId: 'o1', occurredAt: T0 + 4 * 24 * HOUR };
    const afterErasure = await apply('userErasures', [erasure]);
    expect(await cursor('crash')).toBe('-infinity');

    // The link's record again, unchanged: its stored state is the same, and the pages go on.
    await applyCollecting('inviteLinks', [link('crash')], published);
    published.push(afterErasure.funnelRecords);
    const rows = await clickRows('crash');
    expect(rows.filter((r) => r.status === 'counted')).toHaveLength(CLICKS);
    expect(rows.filter((r) => r.unique_visitor)).toHaveLength(visitorDays('crash'));
    expect(net(published)).toEqual({ clicks: CLICKS, unique: visitorDays('crash') });
    expect(await cursor('crash')).toBeNull();
  });
});

describe('a link whose record will not come again', () => {
  it("has its pages taken up by the relay's sweep, once they have waited long enough", async () => {
    await apply('inviteClicks', clicks('orphan'));
    const published: FunnelRecord[][] = [];
    await expect(applyCollecting('inviteLinks', [link('orphan')], published, 1)).rejects.toThrow('stopped after a commit');
    expect(await cursor('orphan')).not.toBeNull();
    const take = async ({ funnelRecords }: Applied) => {
      published.push(funnelRecords);
    };
    // Not yet: it has waited less than an hour.
    expect(await apply.resumeStalledLinks(3_600, take)).toBe(0);
    expect(await cursor('orphan')).not.toBeNull();
    expect(await apply.resumeStalledLinks(0, take)).toBe(1);
    expect(await cursor('orphan')).toBeNull();
    expect((await clickRows('orphan')).filter((r) => r.status === 'counted')).toHaveLength(CLICKS);
    expect(net(published)).toEqual({ clicks: CLICKS, unique: visitorDays('orphan') });
  });
});

describe('what deciding a new click reads of its visitor-day', () => {
  it('only the unique click, however many clicks the visitor-day holds; a changed link reads it whole', async () => {
    const crowded: InviteClicked[] = Array.from({ length: 50 }, (_, i) => ({ eventId: `crowd_c${i}`, linkId: 'crowd', occurredAt: T0 + (50 - i) * 60_000, visitor: { deviceId: 'crowd_d' } }));
    await apply('inviteLinks', [link('crowd')]);
    await apply('inviteClicks', crowded.slice(0, 25));
    await apply('inviteClicks', crowded.slice(25));
    const { rows } = await pool.query<{ visitor_hash: string; day: string }>("select distinct visitor_hash, ((occurred_at at time zone 'UTC')::date)::text as day from clicks where link_id = 'crowd'");
    expect(rows).toHaveLength(1);
    const day = { linkId: 'crowd', visitorHash: rows[0]!.visitor_hash, day: rows[0]!.day };
    // The last click applied is the earliest: the unique one.
    expect((await loadClicksToDecide(pool, { whole: [], uniqueOf: [day] })).map((c) => [c.eventId, c.unique])).toEqual([['crowd_c49', true]]);
    expect(await loadClicksToDecide(pool, { whole: [day], uniqueOf: [day] })).toHaveLength(50);
    const unique = (await clickRows('crowd')).filter((r) => r.unique_visitor).map((r) => r.event_id);
    expect(unique).toEqual(['crowd_c49']);
  });
});
