/**
 * Change notices: every committed write to a table the query service's answers are read from
 * tells the organizations it touched, on one Postgres channel, so a cached answer can be
 * dropped the moment its numbers change (services/query-service/answer-cache.ts).
 *
 * The notices come from statement-level triggers (migration 0018), not from the writers: the
 * ingest worker, the aggregator, a rebuild and an operator's SQL are covered alike, and a
 * writer added later cannot forget. Postgres delivers a notice only when its transaction
 * commits, in commit order, and drops repeats of one payload within a transaction.
 *
 * A payload is a JSON array of organization ids, or `*` (everything may have changed: a
 * rebuild, or a statement touching so many organizations that their list would not fit in a
 * notice's 8000 bytes).
 */

/** The channel every notice goes to (LISTEN in the query service). */
export const CHANGES_CHANNEL = 'rt_changes';

/**
 * The channel that also hears of writes to the tables scope decisions rest on (which
 * organizations a mentor is in, a coordinator's scope, an organization's existence and
 * timezone: services/query-service/scope-queries.ts), with the same payload. Such writes are
 * rare beside the funnel's, so what the query service keeps of them outlives the numbers'
 * changes (migration 0019).
 */
export const SCOPE_CHANNEL = 'rt_scope_changes';

/** The tables scope decisions read. */
export const SCOPE_TABLES = ['invite_links', 'coordinator_scopes', 'org_settings'] as const;
/** Whether a trigger fires on one of SCOPE_TABLES, in a trigger function's SQL. */
const ON_SCOPE_TABLE_SQL = `tg_table_name in (${SCOPE_TABLES.map((t) => `'${t}'`).join(', ')})`;

/** The tables cached answers read, each with the column naming its organization. */
export const WATCHED_TABLES = [
  'invite_links',
  'coordinator_scopes',
  'registrations',
  'referrals',
  'org_settings',
  'funnel_daily',
  'funnel_org_daily',
  'funnel_monthly',
  'funnel_org_monthly',
  'funnel_yearly',
] as const;

/** Longest list of organizations sent as such, in bytes (a notice holds 8000); a longer one is sent as `*`. */
const MAX_LIST_BYTES = 7_000;

/**
 * The trigger function: the distinct organizations of the statement's rows (the new rows of an
 * insert, the old rows of a delete, both of an update: a row may move to another
 * organization), as one notice; none when the statement changed no row. With `scopes`, a
 * statement on one of SCOPE_TABLES sends the same notice on SCOPE_CHANNEL too (migration 0019;
 * 0018 created it without).
 */
export const notifyFunctionSql = (options: { scopes: boolean }) => `
  create or replace function rt_notify_changed_orgs() returns trigger language plpgsql as $$
  declare
    orgs text;
  begin
    if tg_op = 'INSERT' then
      select json_agg(distinct org_id)::text into orgs from new_rows;
    elsif tg_op = 'DELETE' then
      select json_agg(distinct org_id)::text into orgs from old_rows;
    else
      select json_agg(distinct org_id)::text into orgs from (select org_id from old_rows union all select org_id from new_rows) o;
    end if;
    if orgs is null then
      return null;
    end if;
    if octet_length(orgs) > ${MAX_LIST_BYTES} then
      orgs := '*';
    end if;
    perform pg_notify('${CHANGES_CHANNEL}', orgs);${options.scopes ? `
    if ${ON_SCOPE_TABLE_SQL} then
      perform pg_notify('${SCOPE_CHANNEL}', orgs);
    end if;` : ''}
    return null;
  end $$`;

/**
 * The three triggers (insert, update, delete: Postgres allows a transition table only on a
 * trigger of one event) that send a table's notices, created on `on` (the table itself, or the
 * rebuild's twin of it: a table built beside the old one has no triggers of its own).
 */
export function changeTriggersSql(table: string, on: string = table): string[] {
  return (['insert', 'update', 'delete'] as const).map(
    (event) =>
      `create trigger ${table}_changed_${event} after ${event} on ${on}
         referencing ${{ insert: 'new table as new_rows', update: 'old table as old_rows new table as new_rows', delete: 'old table as old_rows' }[event]}
         for each statement execute function rt_notify_changed_orgs()`,
  );
}

/**
 * TRUNCATE fires no row or transition-table trigger: a statement trigger of its own on each
 * watched table says everything may have changed (`*`), on SCOPE_CHANNEL too for a scope
 * table (migration 0019).
 */
export const NOTIFY_TRUNCATED_FUNCTION_SQL = `
  create or replace function rt_notify_truncated() returns trigger language plpgsql as $$
  begin
    perform pg_notify('${CHANGES_CHANNEL}', '*');
    if ${ON_SCOPE_TABLE_SQL} then
      perform pg_notify('${SCOPE_CHANNEL}', '*');
    end if;
    return null;
  end $$`;

/** The trigger that sends a table's notice when it is truncated (created on `on`, as changeTriggersSql). */
export const truncateTriggerSql = (table: string, on: string = table): string =>
  `create trigger ${table}_truncated after truncate on ${on} for each statement execute function rt_notify_truncated()`;

/** Tells every listener that anything may have changed (a rebuild swapping tables in). Delivered on commit. */
export const NOTIFY_ALL_SQL = `select pg_notify('${CHANGES_CHANNEL}', '*')`;

/** What a notice says changed: some organizations, or everything (`all`, also for a payload that cannot be read). */
export function parseChangeNotice(payload: string | undefined): { orgs: string[] } | 'all' {
  if (payload === undefined || payload === '*') return 'all';
  try {
    const parsed: unknown = JSON.parse(payload);
    if (Array.isArray(parsed) && parsed.every((o) => typeof o === 'string')) return { orgs: parsed };
  } catch {
    // fall through: an unreadable notice clears everything
  }
  return 'all';
}
