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
 * A payload is one of:
 * - a JSON array of organization ids: anything of theirs may have changed;
 * - `{"mentors":{"<org>":["<mentor>", ...], ...}}`: only rows of these mentors changed, in a
 *   table kept per mentor (MENTOR_COLUMNS; a registration names its user, whose name as a
 *   mentor it gives), so an answer about other mentors of the organization still holds
 *   (migration 0028; since 0031 a list too long for one notice goes in several, each of whole
 *   organizations);
 * - `{"aggregates":["<org>", ...]}`: only the organization's own totals changed
 *   (AGGREGATE_TABLES), which answers about some of its mentors do not read (migration 0028);
 * - `*`: everything may have changed (a rebuild, or a statement touching so many
 *   organizations that their list would not fit in a notice's 8000 bytes).
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
 * A trigger function's branches by statement kind: `select(rows)` over the statement's rows
 * (the new rows of an insert, the old rows of a delete, both of an update: a row may move to
 * another organization or mentor), `columns` of them.
 */
const overStatementRows = (columns: string, select: (rows: string) => string) => `
    if tg_op = 'INSERT' then
      ${select('new_rows')};
    elsif tg_op = 'DELETE' then
      ${select('old_rows')};
    else
      ${select(`(select ${columns} from old_rows union all select ${columns} from new_rows) r`)};
    end if;`;

/** The distinct organizations of the statement's rows, as a JSON array, into `orgs` (null: no row). */
const DISTINCT_ORGS_SQL = overStatementRows('org_id', (rows) => `select json_agg(distinct org_id)::text into orgs from ${rows}`);

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
  begin${DISTINCT_ORGS_SQL}
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
 * rebuild's twin of it: a table built beside the old one has no triggers of its own), calling
 * `fn` (by default the table's own since migration 0028: noticeFunctionOf).
 */
export function changeTriggersSql(table: string, on: string = table, fn: string = noticeFunctionOf(table)): string[] {
  return (['insert', 'update', 'delete'] as const).map(
    (event) =>
      `create trigger ${table}_changed_${event} after ${event} on ${on}
         referencing ${{ insert: 'new table as new_rows', update: 'old table as old_rows new table as new_rows', delete: 'old table as old_rows' }[event]}
         for each statement execute function ${fn}()`,
  );
}

/**
 * The watched tables kept per mentor, each with the column naming the mentor a row is about:
 * their notices name the mentors (migration 0028). A registration is about its user, who is a
 * mentor of the organization when others register through their links: it gives that mentor's
 * name (queries/mentor-names.ts).
 */
export const MENTOR_COLUMNS = { funnel_daily: 'mentor_id', funnel_monthly: 'mentor_id', funnel_yearly: 'mentor_id', referrals: 'mentor_id', registrations: 'user_id' } as const;
/** The watched tables of an organization's own totals: their notices say only that (migration 0028). */
export const AGGREGATE_TABLES = ['funnel_org_daily', 'funnel_org_monthly'] as const;

/** The trigger function a watched table's notices come from (migration 0028; rt_notify_changed_orgs before). */
export function noticeFunctionOf(table: string): string {
  if (table in MENTOR_COLUMNS) return `rt_notify_changed_mentors_${MENTOR_COLUMNS[table as keyof typeof MENTOR_COLUMNS]}`;
  if ((AGGREGATE_TABLES as readonly string[]).includes(table)) return 'rt_notify_changed_aggregates';
  return 'rt_notify_changed_orgs';
}

/**
 * The trigger function of the tables kept per mentor (MENTOR_COLUMNS) whose mentor column is
 * `column`: the mentors of the statement's rows by organization (old and new rows of an update:
 * a row may move to another mentor). A list too long for a notice, or a row without a mentor,
 * names the organizations instead (anything of theirs may have changed), and a list of those
 * too long is `*`. These tables are not scope tables (SCOPE_TABLES): nothing goes to SCOPE_CHANNEL.
 */
export const notifyMentorsFunctionSql = (column: string) => {
  const payload = (rows: string) => `select case when count(*) = 0 then null
                  when bool_or(mentors is null) then json_agg(org_id order by org_id)::text
                  else json_build_object('mentors', json_object_agg(org_id, mentors order by org_id))::text end,
             json_agg(org_id order by org_id)::text
        into changed, orgs
        from (select org_id, case when bool_or(${column} is null) then null else json_agg(distinct ${column}) end as mentors from ${rows} group by org_id) m`;
  return `
  create or replace function rt_notify_changed_mentors_${column}() returns trigger language plpgsql as $$
  declare
    changed text;
    orgs text;
  begin${overStatementRows(`org_id, ${column}`, payload)}
    if changed is null then
      return null;
    end if;
    if octet_length(changed) > ${MAX_LIST_BYTES} then
      changed := case when octet_length(orgs) > ${MAX_LIST_BYTES} then '*' else orgs end;
    end if;
    perform pg_notify('${CHANGES_CHANNEL}', changed);
    return null;
  end $$`;
};

/**
 * The trigger function of the tables kept per mentor since migration 0031: as
 * notifyMentorsFunctionSql's (0028, the same name), but a list too long for one notice is sent
 * in several, each of whole organizations. 0028 sent the organizations instead, which drops
 * every answer about them, and a busy aggregator's commits came to that a few times a second.
 * Only an organization whose own list does not fit, or a row without a mentor, is named as an
 * organization (in one notice after the others; `*` if that list does not fit).
 */
export const notifyMentorsInPartsFunctionSql = (column: string) => {
  const notice = `'{"mentors":{' || chunk || '}}'`;
  const loop = (rows: string) => `for g in select org_id, case when bool_or(${column} is null) then null else json_agg(distinct ${column})::text end as mentors
                 from ${rows} group by org_id order by org_id loop
        if g.mentors is null or octet_length(g.mentors) > ${MAX_LIST_BYTES} then
          whole := whole || g.org_id;
          continue;
        end if;
        entry := to_json(g.org_id)::text || ':' || g.mentors;
        if chunk <> '' and octet_length(chunk) + octet_length(entry) > ${MAX_LIST_BYTES} then
          perform pg_notify('${CHANGES_CHANNEL}', ${notice});
          chunk := '';
        end if;
        chunk := case when chunk = '' then entry else chunk || ',' || entry end;
      end loop`;
  return `
  create or replace function rt_notify_changed_mentors_${column}() returns trigger language plpgsql as $$
  declare
    g record;
    entry text;
    chunk text := '';
    whole text[] := '{}';
  begin${overStatementRows(`org_id, ${column}`, loop)}
    if chunk <> '' then
      perform pg_notify('${CHANGES_CHANNEL}', ${notice});
    end if;
    if cardinality(whole) > 0 then
      entry := to_json(whole)::text;
      perform pg_notify('${CHANGES_CHANNEL}', case when octet_length(entry) > ${MAX_LIST_BYTES} then '*' else entry end);
    end if;
    return null;
  end $$`;
};

/** The trigger function of AGGREGATE_TABLES: the distinct organizations of the statement's rows, as `{"aggregates":[...]}`. */
export const NOTIFY_AGGREGATES_FUNCTION_SQL = `
  create or replace function rt_notify_changed_aggregates() returns trigger language plpgsql as $$
  declare
    orgs text;
  begin${DISTINCT_ORGS_SQL}
    if orgs is null then
      return null;
    end if;
    perform pg_notify('${CHANGES_CHANNEL}', case when octet_length(orgs) > ${MAX_LIST_BYTES} then '*' else '{"aggregates":' || orgs || '}' end);
    return null;
  end $$`;

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

/**
 * What a notice says changed: anything of some organizations (`orgs`), only some mentors' rows
 * of others (`mentors`), only some organizations' own totals (`aggregates`); or everything
 * (`all`, also for a payload that cannot be read).
 */
export type ChangeNotice = { orgs: string[]; mentors: [org: string, mentors: string[]][]; aggregates: string[] } | 'all';

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string');

export function parseChangeNotice(payload: string | undefined): ChangeNotice {
  if (payload === undefined || payload === '*') return 'all';
  try {
    const parsed: unknown = JSON.parse(payload);
    if (isStrings(parsed)) return { orgs: parsed, mentors: [], aggregates: [] };
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const { mentors, aggregates } = parsed as { mentors?: unknown; aggregates?: unknown };
      if (isStrings(aggregates)) return { orgs: [], mentors: [], aggregates };
      if (mentors !== null && typeof mentors === 'object' && !Array.isArray(mentors)) {
        const entries = Object.entries(mentors as Record<string, unknown>);
        if (entries.every(([, m]) => isStrings(m))) return { orgs: [], mentors: entries as [string, string[]][], aggregates: [] };
      }
    }
  } catch {
    // fall through: an unreadable notice clears everything
  }
  return 'all';
}
