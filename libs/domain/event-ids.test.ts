import { describe, expect, it } from 'vitest';
import { funnelEventId, referralId, retractionEventId } from './event-ids.js';

// Ids are published and kept downstream: a replay after an upgrade must give the same ones.
// Expected values from coreutils, not from this code: printf 'CLICKED\0c1' | sha256sum | cut -c1-32
describe('event ids stay the same across versions', () => {
  it('funnel event ids: sha256 of stage and subject (and revision after the first), first 32 hex digits', () => {
    expect(funnelEventId('CLICKED', 'c1')).toBe('rfe_48661681ec6b69ba420274ebae3de9b2');
    // printf 'INSTALLED\0i\xc3\xa9\xf0\x9f\x98\x80\x003' | sha256sum: the subject's text as UTF-8.
    expect(funnelEventId('INSTALLED', 'i\u00e9\u{1F600}', 3)).toBe('rfe_ece97443121a60605e3ecd6e5000b2c4');
  });

  it('retraction and referral ids', () => {
    expect(retractionEventId('rfe_x')).toBe('rfe_844183a9cce499edffa4b1638377ec55');
    expect(referralId('u1', 'o1')).toBe('rfl_a2bec6676c9a60d8cbff0284');
  });
});
