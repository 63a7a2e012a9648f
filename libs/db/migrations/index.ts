import type { Knex } from 'knex';
import * as m0001 from './0001_ingest_facts.js';
import * as m0002 from './0002_funnel_tables.js';
import * as m0003 from './0003_org_timezone_check.js';
import * as m0004 from './0004_revisable_decisions.js';
import * as m0005 from './0005_funnel_org_daily.js';
import * as m0006 from './0006_funnel_monthly.js';
import * as m0007 from './0007_referrals_mentor_org_statistics.js';
import * as m0008 from './0008_transaction_outbox.js';
import * as m0009 from './0009_attribution_per_org.js';
import * as m0013 from './0013_referrals_follow_up.js';
import * as m0014 from './0014_rank_rollup.js';
import * as m0015 from './0015_lock_buckets.js';
import * as m0016 from './0016_fewer_writes.js';
import * as m0017 from './0017_click_lock_buckets.js';
import * as m0018 from './0018_change_notices.js';
import * as m0019 from './0019_scope_notices.js';
import * as m0021 from './0021_byte_order_keys.js';
import * as m0022 from './0022_counted_events_by_time.js';
import * as m0023 from './0023_stage_log_by_time.js';
import * as m0024 from './0024_unlogged_lock_buckets.js';
import * as m0025 from './0025_visitor_days_by_day.js';
import * as m0026 from './0026_funnel_reads_index_only.js';
import * as m0027 from './0027_referral_pages_index_only.js';
import * as m0028 from './0028_mentor_notices.js';
import * as m0029 from './0029_click_decisions_on_clicks.js';
import * as m0030 from './0030_install_decisions_on_installs.js';
import * as m0031 from './0031_mentor_notices_in_parts.js';
import * as m0032 from './0032_scopes_per_org.js';
import * as m0033 from './0033_link_redecisions.js';
import * as m0034 from './0034_unique_click_first.js';

/**
 * Migrations are append-only and numbered. They are listed here, imported statically, so they
 * run the same under tsx, vitest and a bundled build without a file-system loader.
 */
const MIGRATIONS: Record<string, Knex.Migration> = {
  '0001_ingest_facts': m0001,
  '0002_funnel_tables': m0002,
  '0003_org_timezone_check': m0003,
  '0004_revisable_decisions': m0004,
  '0005_funnel_org_daily': m0005,
  '0006_funnel_monthly': m0006,
  '0007_referrals_mentor_org_statistics': m0007,
  '0008_transaction_outbox': m0008,
  '0009_attribution_per_org': m0009,
  '0013_referrals_follow_up': m0013,
  '0014_rank_rollup': m0014,
  '0015_lock_buckets': m0015,
  '0016_fewer_writes': m0016,
  '0017_click_lock_buckets': m0017,
  '0018_change_notices': m0018,
  '0019_scope_notices': m0019,
  '0021_byte_order_keys': m0021,
  '0022_counted_events_by_time': m0022,
  '0023_stage_log_by_time': m0023,
  '0024_unlogged_lock_buckets': m0024,
  '0025_visitor_days_by_day': m0025,
  '0026_funnel_reads_index_only': m0026,
  '0027_referral_pages_index_only': m0027,
  '0028_mentor_notices': m0028,
  '0029_click_decisions_on_clicks': m0029,
  '0030_install_decisions_on_installs': m0030,
  '0031_mentor_notices_in_parts': m0031,
  '0032_scopes_per_org': m0032,
  '0033_link_redecisions': m0033,
  '0034_unique_click_first': m0034,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name] as Knex.Migration,
};
