import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../runtime/repo-paths.js';
import { RECORD_NAMES, type RecordName } from './topics.js';

/** The repository's schemas/ folder, found from the sources and from the compiled build/ alike. */
export const SCHEMAS_DIR = repoPath('schemas');

/** An Avro schema as JSON, read from schemas/<Record>.avsc. */
export type AvroSchema = Record<string, unknown>;

let cache: Map<RecordName, AvroSchema> | undefined;

/** All record schemas, read once from schemas/. */
export function loadSchemas(): ReadonlyMap<RecordName, AvroSchema> {
  cache ??= new Map(
    RECORD_NAMES.map((name) => [name, JSON.parse(readFileSync(join(SCHEMAS_DIR, `${name}.avsc`), 'utf8')) as AvroSchema]),
  );
  return cache;
}

export function schemaOf(name: RecordName): AvroSchema {
  const schema = loadSchemas().get(name);
  if (!schema) throw new Error(`no schema for record ${name}`);
  return schema;
}
