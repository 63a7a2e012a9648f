/**
 * BENCH_SCALE shrinks every size and duration of the bench (1 = the figures the README quotes;
 * 0.01 or so = a smoke run for `make test` that produces every figure without meaning them).
 */
export const SCALE = Number(process.env.BENCH_SCALE ?? 1);
if (!(SCALE > 0 && SCALE <= 1)) throw new Error(`BENCH_SCALE must be in (0, 1], got ${process.env.BENCH_SCALE}`);

/** n scaled, at least min. */
export const scaled = (n: number, min = 1): number => Math.max(min, Math.round(n * SCALE));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Percentile of numbers (nearest rank), or null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}
