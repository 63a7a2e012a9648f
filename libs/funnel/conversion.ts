import type { FunnelTotals } from './increments.js';

export interface Conversion {
  clickToRegistration: number | null;
  registrationToActivation: number | null;
  clickToActivation: number | null;
}

/**
 * Conversion rates of SPEC §5: registrations per unique click, activations per registration,
 * activations per unique click. Null when the denominator is 0. Registrations can outnumber
 * unique clicks in a period (a registration through a link clicked the period before, or
 * attributed by device), so rates are capped at 1 to stay in [0, 1].
 */
export function conversionOf(t: FunnelTotals): Conversion {
  const rate = (n: number, d: number) => (d === 0 ? null : Math.min(1, n / d));
  return {
    clickToRegistration: rate(t.registrations, t.uniqueClicks),
    registrationToActivation: rate(t.activations, t.registrations),
    clickToActivation: rate(t.activations, t.uniqueClicks),
  };
}
