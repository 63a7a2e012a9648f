import type { Pool } from 'pg';
import { applyIncrements } from '../../libs/funnel/funnel-store.js';
import { sumIncrements, type FunnelEvent } from '../../libs/funnel/increments.js';
import type { FunnelStage } from '../../libs/events/types.generated.js';

/**
 * Two organizations as the workers would leave them, for the query service tests:
 *
 * org-a (Europe/Oslo, the default): mentors m-a1 (links l-a1 in campaign spring, l-a1n in
 * none), m-a2 (l-a2, spring) and m-a3 (l-a3); coordinator coord-a oversees m-a1 and m-a2.
 * org-b (America/New_York): mentor m-b1 (l-b1, campaign autumn); coordinator coord-b.
 * Mentor ids are unique per organization only: m-x has a link in each (l-ax, l-bx). The scope
 * of coordinator coord-x (org-a) lists m-a3, m-x and, wrongly, org-b's m-b1.
 *
 * Funnel numbers (all March 2026):
 *   m-a1 spring  10 Mar 10:00Z  6 clicks (4 unique), 2 installs, 2 registrations, 1 activation
 *   m-a1 none    29 Mar 22:30Z  (30 Mar 00:30 in Oslo) 2 clicks (2 unique), 1 registration
 *   m-a2 spring  11 Mar 12:00Z  3 clicks (3 unique), 3 registrations, 3 activations
 *   m-a3 none    12 Mar 09:00Z  1 click (unique)
 *   m-b1 autumn  10 Mar 03:00Z  (9 Mar 23:00 in New York) 5 clicks (5 unique), 1 registration
 *   m-x  (org-a) 13 Mar 12:00Z  2 clicks (2 unique), 1 registration
 *   m-x  (org-b) 13 Mar 12:00Z  7 clicks (7 unique), 2 registrations
 * Recruits: u-a1 (m-a1, link, activated), u-a2 (m-a1, device), u-a3 (m-a1, no campaign),
 * u-a4..u-a6 (m-a2, activated), u-b1 (m-b1), u-ax (m-x in org-a), u-bx1, u-bx2 (m-x in org-b).
 *
 * Mentors are members with registrations of their own (their names, SPEC §5 `mentorName`):
 * m-a1 "Kari Nordmann", m-a2 "Ola Hansen", m-b1 "Beth Brown"; m-x is "Xavier A" in org-a and
 * "Xena B" in org-b; m-a3 has no registration (null).
 *
 * Two recruits have the facts behind their attribution (GET /v1/conversions `explanation`;
 * the other referrals have none, and their explanation is null). u-a1 registered through l-a1
 * (rule LINK). u-a2 registered without a link on device d-a2, whose touches were: a click and
 * an install on l-a1 on 20 Jan (outside the 30-day window), a click on org-b's l-b1 (8 Mar), a
 * bot's click on l-a3 (9 Mar 07:00), a click on Ola's l-a2 (9 Mar 20:00) and a click on
 * Kari's l-a1 at 10:55 on 10 Mar, five minutes before registering: that last one won (DEVICE).
 * These rows feed no numbers: the funnel tables above hold the counts.
 */
export const FIXTURE = {
  orgs: { a: 'org-a', b: 'org-b' },
  mentorsOf: { 'org-a': ['m-a1', 'm-a2', 'm-a3', 'm-x'], 'org-b': ['m-b1', 'm-x'] } as Record<string, string[]>,
  scopes: {
    'coord-a': { org: 'org-a', mentors: ['m-a1', 'm-a2'] }, 'coord-b': { org: 'org-b', mentors: ['m-b1'] }, 'coord-x': { org: 'org-a', mentors: ['m-a3', 'm-x', 'm-b1'] },
  } as Record<string, { org: string; mentors: string[] }>,
  /** Recruits per organization and mentor ("org/mentor"). */
  recruitsOf: {
    'org-a/m-a1': ['u-a1', 'u-a2', 'u-a3'], 'org-a/m-a2': ['u-a4', 'u-a5', 'u-a6'], 'org-a/m-a3': [], 'org-b/m-b1': ['u-b1'],
    'org-a/m-x': ['u-ax'], 'org-b/m-x': ['u-bx1', 'u-bx2'],
  } as Record<string, string[]>,
  /** All-time clicks per organization and mentor ("org/mentor"). */
  /** Mentor names per organization and mentor ("org/mentor"); null: no registration there. */
  namesOf: { 'org-a/m-a1': 'Kari Nordmann', 'org-a/m-a2': 'Ola Hansen', 'org-a/m-a3': null, 'org-b/m-b1': 'Beth Brown', 'org-a/m-x': 'Xavier A', 'org-b/m-x': 'Xena B' } as Record<string, string | null>,
  clicksOf: { 'org-a/m-a1': 8, 'org-a/m-a2': 3, 'org-a/m-a3': 1, 'org-b/m-b1': 5, 'org-a/m-x': 2, 'org-b/m-x': 7 } as Record<string, number>,
};

const LINKS = [
  ['l-a1', 'org-a', 'm-a1', 'spring'],
  ['l-a1n', 'org-a', 'm-a1', null],
  ['l-a2', 'org-a', 'm-a2', 'spring'],
  ['l-a3', 'org-a', 'm-a3', null],
  ['l-b1', 'org-b', 'm-b1', 'autumn'],
  ['l-ax', 'org-a', 'm-x', null],
  ['l-bx', 'org-b', 'm-x', null],
] as const;

/** Funnel events of one mentor at one moment, by stage (UNIQUE: how many of the clicks were unique). */
export function events(orgId: string, mentorId: string, campaignId: string | null, iso: string, counts: Partial<Record<FunnelStage | 'UNIQUE', number>>): FunnelEvent[] {
  const at = Date.parse(iso);
  const out: FunnelEvent[] = [];
  const add = (stage: FunnelStage, n: number, uniqueVisitor = false) => {
    for (let i = 0; i < n; i++) out.push({ orgId, mentorId, campaignId, stage, uniqueVisitor, occurredAt: at });
  };
  add('CLICKED', counts.UNIQUE ?? 0, true);
  add('CLICKED', (counts.CLICKED ?? 0) - (counts.UNIQUE ?? 0));
  add('INSTALLED', counts.INSTALLED ?? 0);
  add('REGISTERED', counts.REGISTERED ?? 0);
  add('ACTIVATED', counts.ACTIVATED ?? 0);
  return out;
}

export async function loadQueryFixture(pool: Pool, defaultTimezone: string): Promise<void> {
  await pool.query("insert into org_settings (org_id, timezone) values ('org-b', 'America/New_York')");
  for (const [linkId, orgId, mentorId, campaignId] of LINKS) {
    await pool.query('insert into invite_links (link_id, org_id, mentor_id, campaign_id, created_at) values ($1, $2, $3, $4, $5)', [linkId, orgId, mentorId, campaignId, new Date('2026-01-01T00:00:00Z')]);
  }
  for (const [coordinatorId, s] of Object.entries(FIXTURE.scopes)) {
    await pool.query('insert into coordinator_scopes (coordinator_id, org_id, mentor_ids, updated_at) values ($1, $2, $3, now())', [coordinatorId, s.org, s.mentors]);
  }
  const funnel = [
    ...events('org-a', 'm-a1', 'spring', '2026-03-10T10:00:00Z', { CLICKED: 6, UNIQUE: 4, INSTALLED: 2, REGISTERED: 2, ACTIVATED: 1 }),
    ...events('org-a', 'm-a1', null, '2026-03-29T22:30:00Z', { CLICKED: 2, UNIQUE: 2, REGISTERED: 1 }),
    ...events('org-a', 'm-a2', 'spring', '2026-03-11T12:00:00Z', { CLICKED: 3, UNIQUE: 3, REGISTERED: 3, ACTIVATED: 3 }),
    ...events('org-a', 'm-a3', null, '2026-03-12T09:00:00Z', { CLICKED: 1, UNIQUE: 1 }),
    ...events('org-b', 'm-b1', 'autumn', '2026-03-10T03:00:00Z', { CLICKED: 5, UNIQUE: 5, REGISTERED: 1 }),
    ...events('org-a', 'm-x', null, '2026-03-13T12:00:00Z', { CLICKED: 2, UNIQUE: 2, REGISTERED: 1 }),
    ...events('org-b', 'm-x', null, '2026-03-13T12:00:00Z', { CLICKED: 7, UNIQUE: 7, REGISTERED: 2 }),
  ];
  await applyIncrements(pool, sumIncrements(funnel), defaultTimezone);

  for (const [key, name] of Object.entries(FIXTURE.namesOf)) {
    if (name === null) continue;
    const [orgId, mentorId] = key.split('/') as [string, string];
    await pool.query(
      `insert into registrations (event_id, user_id, org_id, display_name, occurred_at, status) values ($1, $2, $3, $4, $5, 'unattributed')`,
      [`evt-reg-${orgId}-${mentorId}`, mentorId, orgId, name, new Date('2025-12-01T00:00:00Z')],
    );
  }

  const referrals: [string, string, string, string, string, string | null, 'LINK' | 'DEVICE', string, string | null][] = [
    ['r-a1', 'u-a1', 'org-a', 'm-a1', 'l-a1', 'spring', 'LINK', '2026-03-10T10:05:00Z', '2026-03-11T08:00:00Z'],
    ['r-a2', 'u-a2', 'org-a', 'm-a1', 'l-a1', 'spring', 'DEVICE', '2026-03-10T11:00:00Z', null],
    ['r-a3', 'u-a3', 'org-a', 'm-a1', 'l-a1n', null, 'LINK', '2026-03-29T22:40:00Z', null],
    ['r-a4', 'u-a4', 'org-a', 'm-a2', 'l-a2', 'spring', 'LINK', '2026-03-11T12:01:00Z', '2026-03-11T13:00:00Z'],
    ['r-a5', 'u-a5', 'org-a', 'm-a2', 'l-a2', 'spring', 'LINK', '2026-03-11T12:02:00Z', '2026-03-11T13:00:00Z'],
    ['r-a6', 'u-a6', 'org-a', 'm-a2', 'l-a2', 'spring', 'LINK', '2026-03-11T12:03:00Z', '2026-03-11T13:00:00Z'],
    ['r-b1', 'u-b1', 'org-b', 'm-b1', 'l-b1', 'autumn', 'LINK', '2026-03-10T03:10:00Z', null],
    ['r-ax', 'u-ax', 'org-a', 'm-x', 'l-ax', null, 'LINK', '2026-03-13T12:10:00Z', null],
    ['r-bx1', 'u-bx1', 'org-b', 'm-x', 'l-bx', null, 'LINK', '2026-03-13T12:10:00Z', null],
    ['r-bx2', 'u-bx2', 'org-b', 'm-x', 'l-bx', null, 'LINK', '2026-03-13T12:20:00Z', null],
  ];
  for (const [referralId, userId, orgId, mentorId, linkId, campaignId, by, registeredAt, activatedAt] of referrals) {
    await pool.query(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, clicked_at, registered_at, activated_at, registration_event_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [referralId, userId, orgId, mentorId, linkId, campaignId, by, `Name ${userId}`, new Date(Date.parse(registeredAt) - 300_000), registeredAt, activatedAt, `evt-${userId}`],
    );
  }
  await loadAttributionFacts(pool);
}

/** The registrations, clicks and installs behind u-a1's and u-a2's referrals (see above). */
async function loadAttributionFacts(pool: Pool): Promise<void> {
  const registrations: [string, string, string | null, string | null, string][] = [
    ['evt-u-a1', 'u-a1', 'l-a1', null, '2026-03-10T10:05:00Z'],
    ['evt-u-a2', 'u-a2', null, 'd-a2', '2026-03-10T11:00:00Z'],
  ];
  for (const [eventId, userId, linkId, deviceId, at] of registrations) {
    await pool.query(
      `insert into registrations (event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status) values ($1, $2, 'org-a', $3, $4, $5, $6, 'attributed')`,
      [eventId, userId, linkId, deviceId, `Name ${userId}`, at],
    );
  }
  const clicks: [string, string, string, boolean][] = [
    ['evt-c-a2-jan', 'l-a1', '2026-01-20T09:00:00Z', false],
    ['evt-c-a2-orgb', 'l-b1', '2026-03-08T18:00:00Z', false],
    ['evt-c-a2-bot', 'l-a3', '2026-03-09T07:00:00Z', true],
    ['evt-c-a2-ola', 'l-a2', '2026-03-09T20:00:00Z', false],
    ['evt-c-a2-kari', 'l-a1', '2026-03-10T10:55:00Z', false],
  ];
  for (const [eventId, linkId, at, bot] of clicks) {
    await pool.query(
      `insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status, unique_visitor) values ($1, $2, $3, 'v-a2', 'd-a2', 'android', $4, $5, $6)`,
      [eventId, linkId, at, bot, bot ? 'bot' : 'counted', !bot],
    );
  }
  await pool.query(
    `insert into installs (event_id, device_id, link_id, platform, occurred_at, attributed_link_id, status) values ('evt-i-a2-jan', 'd-a2', null, 'android', '2026-01-20T09:30:00Z', 'l-a1', 'counted')`,
  );
}
