import { describe, expect, it } from 'vitest';
import { dealIntoConflictFreeLanes } from './lanes.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import type { InputTopic } from './handlers.js';
import type { RecordOf } from '../../libs/events/codec.js';

type Item = { topic: InputTopic; record: RecordOf<InputTopic>; name: string };
const item = <T extends InputTopic>(topic: T, name: string, record: Partial<RecordOf<T>>): Item => ({ topic, name, record: { ...FIXTURES[topic], ...record } as RecordOf<InputTopic> });
const names = (lanes: Item[][]) => lanes.map((lane) => lane.map((i) => i.name));

describe('dealIntoConflictFreeLanes', () => {
  it("keeps a person's click, install, registration and login in one lane, and strangers apart", () => {
    const visitor = { ...FIXTURES.inviteClicks.visitor };
    const lanes = dealIntoConflictFreeLanes(
      [
        item('inviteClicks', 'click A', { eventId: 'c1', linkId: 'l1', visitor: { ...visitor, deviceId: 'dA' } }),
        item('inviteClicks', 'click B', { eventId: 'c2', linkId: 'l2', visitor: { ...visitor, deviceId: 'dB' } }),
        item('appInstalls', 'install A', { eventId: 'i1', deviceId: 'dA', linkId: null }),
        item('userRegistered', 'registration A', { eventId: 'r1', userId: 'uA', deviceId: 'dA', linkId: null }),
        item('userLogins', 'login A', { eventId: 'g1', userId: 'uA' }),
        item('appInstalls', 'install B', { eventId: 'i2', deviceId: 'dB', linkId: 'l1' }),
      ],
      2,
    );
    // A names link l1 only by clicking it (its clicks are locked), B's install names l1 shared: no link record, no conflict.
    expect(names(lanes)).toEqual([['click A', 'install A', 'registration A', 'login A'], ['click B', 'install B']]);
  });

  it('puts a changed link with every record naming it, and clicks on one link together', () => {
    const lanes = dealIntoConflictFreeLanes(
      [
        item('inviteLinks', 'link l1', { linkId: 'l1' }),
        item('appInstalls', 'install naming l1', { eventId: 'i1', deviceId: 'd1', linkId: 'l1' }),
        item('userRegistered', 'registration naming l1', { eventId: 'r1', userId: 'u1', deviceId: null, linkId: 'l1' }),
        item('inviteClicks', 'click on l2', { eventId: 'c1', linkId: 'l2' }),
        item('inviteClicks', 'another click on l2', { eventId: 'c2', linkId: 'l2' }),
        item('userLogins', 'login', { eventId: 'g1', userId: 'u9' }),
      ],
      2,
    );
    expect(names(lanes)).toEqual([['link l1', 'install naming l1', 'registration naming l1'], ['click on l2', 'another click on l2', 'login']]);
  });

  it('applies a fetch with an erasure in one lane (erasures run alone)', () => {
    const lanes = dealIntoConflictFreeLanes(
      [item('userLogins', 'login', { eventId: 'g1', userId: 'u1' }), item('userErasures', 'erasure', { eventId: 'e1', userId: 'u2' })],
      2,
    );
    expect(names(lanes)).toEqual([['login', 'erasure'], []]);
  });
});
