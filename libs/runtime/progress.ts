import cliProgress from 'cli-progress';

/**
 * Progress of long work with rate and ETA: a bar on a terminal, a line every few seconds
 * otherwise (CI logs, pipes). Writes to stderr so stdout stays machine-readable.
 */
export function createProgress(label: string, total: number) {
  const started = Date.now();
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted}`, stream: process.stderr, hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { speed: 0 });
    return {
      update(done: number) {
        bar.update(done, { speed: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) });
      },
      stop() {
        bar.stop();
      },
    };
  }
  let last = 0;
  let done = 0;
  const line = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = done / Math.max(0.001, seconds);
    const eta = rate > 0 ? Math.round((total - done) / rate) : '?';
    process.stderr.write(`${label}: ${done}/${total} (${total ? Math.round((done / total) * 100) : 100}%) ${Math.round(rate)}/s ETA ${eta}s\n`);
  };
  return {
    update(n: number) {
      done = n;
      if (Date.now() - last > 2000) {
        last = Date.now();
        line();
      }
    },
    stop() {
      line();
    },
  };
}
