import { describe, expect, it } from 'vitest';
import { HANDLERS } from './handlers.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import { schemaOf } from '../../libs/events/schemas.js';
import { INPUT_TOPICS, TOPICS, type RecordName } from '../../libs/events/topics.js';
import { timestampPaths, withField } from '../../test/support/poison.js';

describe('input record validation', () => {
  it.each([...INPUT_TOPICS])('every timestamp of a %s record is checked against the calendar', (topic) => {
    const handler = HANDLERS[topic] as unknown as { validate: (r: unknown) => string | null };
    const paths = timestampPaths(schemaOf(TOPICS[topic].record as RecordName) as never);
    expect(paths.length).toBeGreaterThan(0);
    expect(handler.validate(FIXTURES[topic])).toBeNull();
    for (const path of paths) {
      const name = path.join('.');
      for (const value of [9_000_000_000_000_000, -1, Date.UTC(10000, 0, 1)]) {
        expect(handler.validate(withField(FIXTURES[topic], path, value)), `${topic} ${name} = ${value}`).toMatch(new RegExp(`^${name} ${value} is not a`));
      }
    }
  });

  it('a link may expire or be revoked in the far future, up to the last day of year 9999', () => {
    const far = Date.parse('9999-12-31T23:59:59.999Z');
    expect(HANDLERS.inviteLinks.validate({ ...FIXTURES.inviteLinks, expiresAt: far, revokedAt: far })).toBeNull();
  });
});
