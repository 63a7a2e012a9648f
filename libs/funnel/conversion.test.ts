import { describe, expect, it } from 'vitest';
import { conversionOf } from './conversion.js';

describe('conversionOf', () => {
  it('divides by unique clicks and registrations', () => {
    expect(conversionOf({ clicks: 40, uniqueClicks: 20, installs: 9, registrations: 5, activations: 4 })).toEqual({
      clickToRegistration: 0.25,
      registrationToActivation: 0.8,
      clickToActivation: 0.2,
    });
  });

  it('is null when the denominator is 0, and 0 when only the numerator is', () => {
    expect(conversionOf({ clicks: 3, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 })).toEqual({
      clickToRegistration: null,
      registrationToActivation: null,
      clickToActivation: null,
    });
    expect(conversionOf({ clicks: 3, uniqueClicks: 3, installs: 0, registrations: 0, activations: 0 }).clickToRegistration).toBe(0);
  });

  it('stays within [0, 1] when registrations outnumber unique clicks in a period', () => {
    expect(conversionOf({ clicks: 2, uniqueClicks: 2, installs: 0, registrations: 3, activations: 3 })).toEqual({
      clickToRegistration: 1,
      registrationToActivation: 1,
      clickToActivation: 1,
    });
  });
});
