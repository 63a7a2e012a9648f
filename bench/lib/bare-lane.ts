import type pg from 'pg';
import type { RecordOf } from '../../libs/events/codec.js';
import { sqlState } from '../../libs/db/errors.js';
import type { BareTable, InputTopic } from './bare-tables.js';
import { copyIn } from './copy-in.js';

/** One topic's rows of a lane: its table and the rows in COPY text, one per key. */
export interface TableRows {
  spec: BareTable<InputTopic>;
  lines: Map<string, string>;
}

/**
 * The rows of a lane's records, grouped by table, one per key: a record repeating a key of the
 * lane (a redelivery) is dropped, as the key would refuse it, except where the latest state wins
 * (links, scopes), which replaces it.
 */
export function groupRows(tables: { [T in InputTopic]: BareTable<T> }, records: Iterable<{ topic: InputTopic; record: RecordOf<InputTopic> }>): TableRows[] {
  const byTable = new Map<InputTopic, TableRows>();
  for (const { topic, record } of records) {
    let group = byTable.get(topic);
    if (!group) byTable.set(topic, (group = { spec: tables[topic] as unknown as BareTable<InputTopic>, lines: new Map() }));
    const key = group.spec.key(record);
    if (group.spec.latestWins || !group.lines.has(key)) group.lines.set(key, group.spec.line(record));
  }
  return [...byTable.values()];
}

const text = (g: TableRows) => [...g.lines.values()].join('');

/** The rows in one transaction, one COPY per table. */
async function copyAll(client: pg.ClientBase, groups: TableRows[]): Promise<number> {
  let n = 0;
  await client.query('begin');
  for (const g of groups) n += await copyIn(client, `copy ${g.spec.table} (${g.spec.columns.join(', ')}) from stdin`, text(g));
  await client.query('commit');
  return n;
}

/** The rows in one transaction through temporary tables (COPY into them, INSERT ... ON CONFLICT from them), for keys already present. */
async function restage(client: pg.ClientBase, groups: TableRows[]): Promise<number> {
  let n = 0;
  await client.query('begin');
  for (const g of groups) {
    const { spec } = g;
    const stage = `bare_stage_${spec.table}`;
    const columns = spec.columns.join(', ');
    const update = spec.columns.filter((c) => !spec.keyColumns.includes(c)).map((c) => `${c} = excluded.${c}`).join(', ');
    await client.query(`create temp table if not exists ${stage} (like ${spec.table} including defaults) on commit delete rows`);
    await copyIn(client, `copy ${stage} (${columns}) from stdin`, text(g));
    const { rowCount } = await client.query(`insert into ${spec.table} (${columns}) select ${columns} from ${stage} on conflict (${spec.keyColumns.join(', ')}) do ${spec.latestWins ? `update set ${update}` : 'nothing'}`);
    n += rowCount ?? 0;
  }
  await client.query('commit');
  return n;
}

/**
 * Writes a lane's rows: one transaction, one COPY per table. A key an earlier lane already
 * wrote (a redelivery across a batch boundary, a link's later state) fails the COPY; the lane is
 * then written again through temporary tables (`restaged`). Answers the rows written.
 */
export async function writeRows(pool: pg.Pool, groups: TableRows[]): Promise<{ rows: number; restaged: boolean }> {
  const client = await pool.connect();
  try {
    try {
      return { rows: await copyAll(client, groups), restaged: false };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      if (sqlState(err) !== '23505') throw err;
      return { rows: await restage(client, groups), restaged: true };
    }
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
