import type { Knex } from 'knex';

/**
 * The clicks' visitor-day index also keyed by `unique_visitor`, so the unique click of a
 * visitor-day is one probe away. New clicks need of their stored visitor-day only its unique
 * click (the earliest counted one: a new click takes its place or not; the others stay as they
 * are), not all of its clicks: a visitor-day a producer filled with 100,000 clicks from one device
 * was read whole, row by row into the worker, by every lane that added to it (4× the time and 3×
 * the memory of the same clicks from 100,000 devices; a million would have run out of heap).
 * Whole visitor-days are still read when a link's state changes (migration 0033's pages), by
 * the index's first three columns. The flag changes only when a later fact re-decides a click.
 */
const DAY = "((occurred_at at time zone 'UTC')::date)";

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`drop index clicks_visitor_day; create index clicks_visitor_day on clicks (link_id, ${DAY}, visitor_hash, unique_visitor) where not is_bot`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`drop index clicks_visitor_day; create index clicks_visitor_day on clicks (link_id, ${DAY}, visitor_hash) where not is_bot`);
}
