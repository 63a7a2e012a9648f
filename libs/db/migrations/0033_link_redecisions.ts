import type { Knex } from 'knex';

/**
 * Where the re-decision of a changed link's clicks stands (services/ingest-worker/facts/link-pages.ts).
 * A link's new state is decided for its stored clicks a page of visitor-days at a time, one
 * transaction each, instead of every click of the link in the transaction that stores the state:
 * a link with 60,000 clicks arriving late (or revoked) held all of them in the worker's heap at
 * once, and a larger one would exhaust it at every restart. A row exists while a link's pages
 * are not all done: the visitor-days after (after_day, after_visitor), in the order of the
 * clicks_visitor_day index, are still to be decided. A small table: rows go when their link's
 * last page commits.
 *
 * `link_clicks_page` reads a page: for each link, the first `share` non-bot clicks after its
 * cursor, in the index's order, numbered. It is a function only to carry its planner settings:
 * the planner, guessing a few hundred clicks per link, read every click after the cursor with a
 * bitmap scan and sorted them (4 ms at 1,400 clicks, and a link's whole rest on every page: pages
 * of a link with a million clicks would have cost the square of its size). Without bitmap scans
 * or sorts it walks the index in order and stops at the page's end, whatever the link's size.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table link_redecisions (
      link_id text primary key,
      after_day date not null,
      after_visitor text not null,
      started_at timestamptz not null default now()
    );
    create function link_clicks_page(link_ids text[], after_days date[], after_visitors text[], share int)
      returns table (page_link text, page_day date, page_visitor text, page_n int)
      language sql stable
      set enable_bitmapscan = off set enable_sort = off
    as $$
      select l.link_id, c.day, c.visitor_hash, c.n
        from unnest(link_ids, after_days, after_visitors) as l(link_id, after_day, after_visitor)
        cross join lateral (
          select (c.occurred_at at time zone 'UTC')::date as day, c.visitor_hash,
                 (row_number() over (order by (c.occurred_at at time zone 'UTC')::date, c.visitor_hash))::int as n
            from clicks c
           where c.link_id = l.link_id and not c.is_bot
             and ((c.occurred_at at time zone 'UTC')::date, c.visitor_hash) > (l.after_day, l.after_visitor)
           order by (c.occurred_at at time zone 'UTC')::date, c.visitor_hash
           limit share) c
    $$
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function link_clicks_page(text[], date[], text[], int); drop table link_redecisions');
}
