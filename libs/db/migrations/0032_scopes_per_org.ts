import type { Knex } from 'knex';

/**
 * A coordinator's scope is kept per organization: the key is (coordinator_id, org_id), no longer
 * coordinator_id alone. Ids are an organization's own, so with one row per coordinator id any
 * organization's producer could replace another organization's coordinator's scope (a scope of
 * its own organization naming the other's coordinator id, its updatedAt a day ahead), and a
 * coordinator of two organizations kept only the scope written last. The query service reads
 * the scope of the caller's organization.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table coordinator_scopes drop constraint coordinator_scopes_pkey,
      add constraint coordinator_scopes_pkey primary key (coordinator_id, org_id)
  `);
}

/** Back to one scope per coordinator: the newest of each coordinator's organizations is kept. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    delete from coordinator_scopes s using coordinator_scopes n
     where n.coordinator_id = s.coordinator_id and (n.updated_at, n.org_id) > (s.updated_at, s.org_id);
    alter table coordinator_scopes drop constraint coordinator_scopes_pkey,
      add constraint coordinator_scopes_pkey primary key (coordinator_id)
  `);
}
