import type { Tx } from './tx.js';

/** A stored visitor-day of a link (`day` the UTC day, YYYY-MM-DD whatever the session's DateStyle): its clicks are decided together. */
export interface VisitorDay {
  linkId: string;
  visitorHash: string;
  day: string;
}

/** A visitor-day's key, to hold each once. */
export const visitorDayKey = (d: VisitorDay): string => `${d.linkId}\u0000${d.visitorHash}\u0000${d.day}`;

/** Where a link's re-decision stands: its visitor-days after (afterDay, afterVisitor) are still to be decided. */
export interface LinkCursor {
  linkId: string;
  afterDay: string;
  afterVisitor: string;
}

/** The cursor before a link's first visitor-day. */
export const linkStart = (linkId: string): LinkCursor => ({ linkId, afterDay: '-infinity', afterVisitor: '' });

/** How much of its links' clicks a transaction reads (see LINK_PAGE). */
export interface LinkPageSize {
  /** Most stored clicks, shared among the links it re-decides (beside the unique clicks of its new clicks' visitor-days). */
  clicks: number;
  /** Fewest clicks it reads per link, however many links it re-decides. */
  minPerLink: number;
}

/**
 * A link's new state (it arrived after its clicks, was revoked, or expires earlier) is decided
 * for its stored clicks a page of visitor-days at a time: a link with more clicks than a page
 * takes several transactions (see migration 0033), so what the worker holds does not grow with
 * a link's popularity. 2,000 clicks is a lane's worth (MAX_LANE_RECORDS).
 */
export const LINK_PAGE: LinkPageSize = { clicks: 2_000, minPerLink: 16 };

/** Most links one continuing transaction takes: each reads at least `minPerLink` clicks. */
export const linksPerPage = (size: LinkPageSize): number => Math.max(1, Math.floor(size.clicks / size.minPerLink));

export interface LinkPage {
  /** The visitor-days to decide in this transaction. */
  days: VisitorDay[];
  /** Links with visitor-days past this page: where the next page starts. */
  unfinished: LinkCursor[];
  /** Links whose last visitor-day is in this page. */
  finished: string[];
}

/**
 * The next page of each link's stored non-bot clicks after its cursor, in the order of the
 * clicks_visitor_day index (link, UTC day, visitor): about `size.clicks` clicks shared among
 * the links. A link that filled its share has more: its cursor moves to its last visitor-day
 * read (the page decides that visitor-day whole, whatever it holds past the share).
 */
export async function nextLinkPage(tx: Tx, cursors: readonly LinkCursor[], size: LinkPageSize = LINK_PAGE): Promise<LinkPage> {
  if (cursors.length === 0) return { days: [], unfinished: [], finished: [] };
  const share = Math.max(size.minPerLink, Math.ceil(size.clicks / cursors.length));
  // `n` numbers each link's clicks in the index's order: its last is where the next page starts (migration 0033).
  const { rows } = await tx.query<{ link_id: string; day: string; visitor_hash: string; n: number }>(
    `select page_link as link_id, to_char(page_day, 'YYYY-MM-DD') as day, page_visitor as visitor_hash, page_n as n from link_clicks_page($1::text[], $2::date[], $3::text[], $4::int)`,
    [cursors.map((c) => c.linkId), cursors.map((c) => c.afterDay), cursors.map((c) => c.afterVisitor), share],
  );
  const read = new Map<string, { n: number; last: VisitorDay }>();
  const days = new Map<string, VisitorDay>();
  for (const r of rows) {
    const day = { linkId: r.link_id, visitorHash: r.visitor_hash, day: r.day };
    days.set(visitorDayKey(day), day);
    const seen = read.get(r.link_id);
    if (!seen || r.n > seen.n) read.set(r.link_id, { n: r.n, last: day });
  }
  const unfinished: LinkCursor[] = [];
  const finished: string[] = [];
  for (const { linkId } of cursors) {
    const got = read.get(linkId);
    if (got && got.n >= share) unfinished.push({ linkId, afterDay: got.last.day, afterVisitor: got.last.visitorHash });
    else finished.push(linkId);
  }
  return { days: [...days.values()], unfinished, finished };
}

/** The stored cursors of these links (locked until the transaction ends); a link without one has no pages left. */
export async function storedCursors(tx: Tx, linkIds: readonly string[]): Promise<LinkCursor[]> {
  if (linkIds.length === 0) return [];
  const { rows } = await tx.query<{ link_id: string; after_day: string; after_visitor: string }>(
    `select link_id, case when isfinite(after_day) then to_char(after_day, 'YYYY-MM-DD') else after_day::text end as after_day, after_visitor from link_redecisions
      where link_id = any($1::text[]) order by link_id for update`,
    [[...new Set(linkIds)]],
  );
  return rows.map((r) => ({ linkId: r.link_id, afterDay: r.after_day, afterVisitor: r.after_visitor }));
}

/** Which of these links have pages left (a re-decision a crash or a failure interrupted). */
export async function linksWithPagesLeft(tx: Tx, linkIds: readonly string[]): Promise<string[]> {
  if (linkIds.length === 0) return [];
  const { rows } = await tx.query<{ link_id: string }>('select link_id from link_redecisions where link_id = any($1::text[])', [[...new Set(linkIds)]]);
  return rows.map((r) => r.link_id);
}

/** Keeps where each unfinished link's next page starts, and forgets the finished links. */
export async function saveCursors(tx: Tx, page: Pick<LinkPage, 'unfinished' | 'finished'>): Promise<void> {
  const { unfinished, finished } = page;
  if (finished.length > 0) await tx.query('delete from link_redecisions where link_id = any($1::text[])', [finished]);
  if (unfinished.length === 0) return;
  await tx.query(
    `insert into link_redecisions (link_id, after_day, after_visitor)
     select * from unnest($1::text[], $2::date[], $3::text[])
     on conflict (link_id) do update set after_day = excluded.after_day, after_visitor = excluded.after_visitor`,
    [unfinished.map((c) => c.linkId), unfinished.map((c) => c.afterDay), unfinished.map((c) => c.afterVisitor)],
  );
}

/**
 * Starts every unfinished link over from its first visitor-day. An erasure replaces visitor
 * hashes by pseudonyms, which sort elsewhere: a visitor-day still to come could move behind a
 * cursor and never be decided. Deciding a visitor-day again changes nothing, so starting over
 * is always right; erasures are rare, and the table holds only links in progress.
 */
export async function restartLinkPages(tx: Tx): Promise<void> {
  await tx.query(`update link_redecisions set after_day = '-infinity', after_visitor = ''`);
}
