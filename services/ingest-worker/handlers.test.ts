import { describe, expect, it } from 'vitest';
import { HANDLERS } from './handlers.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import { schemaOf } from '../../libs/events/schemas.js';
import { INPUT_TOPICS, TOPICS, type RecordName } from '../../libs/events/topics.js';

/** Paths of every timestamp-millis field of a record schema, nested records included. */
function timestampPaths(schema: { fields?: { name: string; type: unknown }[] }, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const field of schema.fields ?? []) {
    const branches = Array.isArray(field.type) ? field.type : [field.type];
    for (const branch of branches) {
      const t = branch as { type?: string; logicalType?: string; fields?: { name: string; type: unknown }[] };
      if (t.logicalType === 'timestamp-millis') out.push([...prefix, field.name]);
      else if (t.type === 'record') out.push(...timestampPaths(t, [...prefix, field.name]));
    }
  }
  return out;
}

function withValue(record: unknown, path: string[], value: number): unknown {
  const [head, ...rest] = path as [string, ...string[]];
  const obj = record as Record<string, unknown>;
  return { ...obj, [head]: rest.length ? withValue(obj[head], rest, value) : value };
}

describe('input record validation', () => {
  it.each([...INPUT_TOPICS])('every timestamp of a %s record is checked against the calendar', (topic) => {
    const handler = HANDLERS[topic] as unknown as { validate: (r: unknown) => string | null };
    const paths = timestampPaths(schemaOf(TOPICS[topic].record as RecordName) as never);
    expect(paths.length).toBeGreaterThan(0);
    expect(handler.validate(FIXTURES[topic])).toBeNull();
    for (const path of paths) {
      const name = path.join('.');
      for (const value of [9_000_000_000_000_000, -1, Date.UTC(10000, 0, 1)]) {
        expect(handler.validate(withValue(FIXTURES[topic], path, value)), `${topic} ${name} = ${value}`).toMatch(new RegExp(`^${name} ${value} is not a`));
      }
    }
  });

  it('a link may expire or be revoked in the far future, up to the last day of year 9999', () => {
    const far = Date.parse('9999-12-31T23:59:59.999Z');
    expect(HANDLERS.inviteLinks.validate({ ...FIXTURES.inviteLinks, expiresAt: far, revokedAt: far })).toBeNull();
  });
});
