/**
 * Derives TypeScript types from the .avsc files so the contracts are written once.
 * `make types` (or `node --import tsx libs/events/generate-types.ts`) rewrites
 * types.generated.ts; a unit test fails when the file is stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RECORD_NAMES } from './topics.js';
import { loadSchemas } from './schemas.js';

type Avro = string | Avro[] | { type: string | Avro; name?: string; fields?: { name: string; type: Avro; doc?: string }[]; symbols?: string[]; items?: Avro; doc?: string; logicalType?: string };

const PRIMITIVES: Record<string, string> = {
  null: 'null', boolean: 'boolean', int: 'number', long: 'number', float: 'number', double: 'number', string: 'string', bytes: 'Buffer',
};

export function renderTypes(): string {
  const declarations = new Map<string, string>();

  const typeOf = (t: Avro): string => {
    if (typeof t === 'string') return PRIMITIVES[t] ?? t;
    if (Array.isArray(t)) return t.map(typeOf).sort((a, b) => (a === 'null' ? 1 : b === 'null' ? -1 : 0)).join(' | ');
    if (typeof t.type !== 'string') return typeOf(t.type);
    switch (t.type) {
      case 'record': {
        const name = t.name as string;
        const body = (t.fields ?? []).map((f) => {
          const optional = Array.isArray(f.type) && f.type.includes('null');
          const doc = f.doc ? `  /** ${f.doc} */\n` : '';
          return `${doc}  ${f.name}${optional ? '?' : ''}: ${typeOf(f.type)};`;
        });
        const doc = t.doc ? `/** ${t.doc} */\n` : '';
        declare(name, `${doc}export interface ${name} {\n${body.join('\n')}\n}`);
        return name;
      }
      case 'enum': {
        const name = t.name as string;
        declare(name, `export type ${name} = ${(t.symbols ?? []).map((s) => `'${s}'`).join(' | ')};`);
        return name;
      }
      case 'array':
        return `Array<${typeOf(t.items as Avro)}>`;
      default:
        return PRIMITIVES[t.type] ?? t.type;
    }
  };

  const declare = (name: string, text: string): void => {
    const existing = declarations.get(name);
    if (existing !== undefined && existing !== text) throw new Error(`type ${name} is declared twice with different shapes`);
    declarations.set(name, text);
  };

  const schemas = loadSchemas();
  for (const name of RECORD_NAMES) typeOf(schemas.get(name) as Avro);

  const recordMap = RECORD_NAMES.map((n) => `  ${n}: ${n};`).join('\n');
  return [
    '// Generated from schemas/*.avsc by libs/events/generate-types.ts. Do not edit.',
    '// Timestamps (timestamp-millis) are epoch milliseconds. Optional fields may be null or absent.',
    '',
    [...declarations.values()].join('\n\n'),
    '',
    '/** Every record by its Avro name. */',
    `export interface Records {\n${recordMap}\n}`,
    '',
  ].join('\n');
}

export const GENERATED_PATH = fileURLToPath(new URL('./types.generated.ts', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(GENERATED_PATH, renderTypes());
  console.log(`wrote ${GENERATED_PATH}`);
}
