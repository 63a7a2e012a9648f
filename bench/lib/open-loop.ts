/**
 * An open-loop HTTP load generator for part 3: requests are scheduled at a fixed rate from the
 * start (request i is due at start + i / rate), sent when due whatever is still outstanding,
 * and each one's latency is its completion time minus its *scheduled* time. A stall of the
 * service (or of anything between) therefore shows in every request that should have been
 * sent during it, not only in the one that was in flight: no coordinated omission (autocannon
 * and other closed-loop tools time from the actual send, so a stall delays the sends and hides
 * itself). Every latency is kept, so the percentiles are exact (nearest rank on the sorted
 * samples; 500 req/s for 10 s is 5,000 numbers).
 *
 * Sockets are kept alive and not limited in number: when the service falls behind, requests
 * wait on new connections or in the service, and that wait is part of their latency.
 */
import http from 'node:http';

export interface OpenLoopResult {
  /** Requests scheduled (rate × seconds). */
  scheduled: number;
  /** Requests answered with a 2xx. */
  requests: number;
  /** Answers not 2xx, errors, and requests still unanswered at the deadline. */
  non2xx: number;
  /** The non-2xx by status ('error': no answer; 'unanswered': none by the deadline). */
  failures: Record<string, number>;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /**
   * The p99 of the requests scheduled after the run's first second: the route's steady state
   * without its start (statements first run on most connections, the process's JIT on the
   * first route). A diagnostic beside p99Ms, which is what the goals are measured by.
   */
  p99AfterFirstSecondMs: number;
  meanMs: number;
  /** Answered requests per second, from the first scheduled send to the last answer. */
  requestsPerSecond: number;
  /** How late the generator itself sent (its own stalls), p99 and max: already inside the latencies. */
  sendLagP99Ms: number;
  sendLagMaxMs: number;
  /** The generator's own CPU (user + system) per scheduled request, ms: what it takes of the machine it shares. */
  generatorCpuMsPerRequest: number;
  /** Answers by the service's x-cache header (hit, shared, miss, bypass; none: a route it does not cache). */
  cache: Record<string, number>;
}

/** Nearest-rank percentile of sorted numbers. */
const rank = (sorted: Float64Array, p: number): number => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number));
const ms = (x: number) => Math.round(x * 100) / 100;

/** The generator's HTTP client: keep-alive, as many connections as requests in flight, up to 256 kept idle. */
export const keepAliveAgent = () => new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

/**
 * `agent`: the keep-alive agent to send on (kept, with its connections, for the next run);
 * without it, one made for this run and destroyed after. Requests of this run still
 * unanswered at the deadline are aborted either way.
 */
export async function openLoop(options: { address: string; headers: Record<string, string>; path: () => string; rate: number; seconds: number; drainMs?: number; agent?: http.Agent }): Promise<OpenLoopResult> {
  const { rate, seconds } = options;
  const url = new URL(options.address);
  const agent = options.agent ?? keepAliveAgent();
  const inFlight = new Set<http.ClientRequest>();
  const total = Math.max(1, Math.round(rate * seconds));
  const latencies = new Float64Array(total);
  /** Per answered request (as latencies), whether it was scheduled after the first second. */
  const late = new Uint8Array(total);
  const sendLags = new Float64Array(total);
  let answered = 0;
  let ok = 0;
  let failed = 0;
  let lastDone = 0;
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDone = resolve));
  let closed = false;
  const start = performance.now();
  const cpuAtStart = process.cpuUsage();
  const failures: Record<string, number> = {};
  const cache: Record<string, number> = {};
  const finish = (i: number, scheduledAt: number, status: number | 'error') => {
    if (closed) return;
    const now = performance.now();
    if (typeof status === 'number' && status >= 200 && status < 300) {
      late[ok] = scheduledAt - start >= 1000 ? 1 : 0;
      latencies[ok++] = now - scheduledAt;
    }
    else {
      failed++;
      failures[String(status)] = (failures[String(status)] ?? 0) + 1;
    }
    lastDone = now;
    answered++;
    if (answered === total) allDone();
    void i;
  };
  const send = (i: number, scheduledAt: number) => {
    sendLags[i] = performance.now() - scheduledAt;
    const req = http.request({ host: url.hostname, port: url.port, path: options.path(), method: 'GET', headers: options.headers, agent }, (res) => {
      res.resume();
      const outcome = String(res.headers['x-cache'] ?? 'none');
      cache[outcome] = (cache[outcome] ?? 0) + 1;
      res.once('end', () => {
        inFlight.delete(req);
        finish(i, scheduledAt, res.statusCode ?? 'error');
      });
      res.once('error', () => {
        inFlight.delete(req);
        finish(i, scheduledAt, 'error');
      });
    });
    inFlight.add(req);
    req.once('error', () => {
      inFlight.delete(req);
      finish(i, scheduledAt, 'error');
    });
    req.end();
  };

  const interval = 1000 / rate;
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now (after a stall of the generator, all at once).
      while (next < total && start + next * interval <= now) {
        send(next, start + next * interval);
        next++;
      }
      if (next >= total) return resolve();
      setTimeout(tick, Math.max(0, start + next * interval - performance.now()));
    };
    tick();
  });
  const drained = await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), options.drainMs ?? 10_000))]);
  const unanswered = total - answered;
  if (unanswered > 0) failures.unanswered = unanswered;
  closed = true;
  const cpu = process.cpuUsage(cpuAtStart);
  for (const req of inFlight) req.destroy();
  if (!options.agent) agent.destroy();
  const sorted = latencies.slice(0, ok).sort();
  const steady = latencies.slice(0, ok).filter((_, i) => late[i] === 1).sort();
  const lags = sendLags.slice(0, total).sort();
  const elapsed = ((drained ? lastDone : performance.now()) - start) / 1000;
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    scheduled: total,
    requests: ok,
    non2xx: failed + unanswered,
    failures,
    p50Ms: ms(rank(sorted, 50)),
    p90Ms: ms(rank(sorted, 90)),
    p99Ms: ms(rank(sorted, 99)),
    p999Ms: ms(rank(sorted, 99.9)),
    maxMs: ms(sorted.length ? (sorted[sorted.length - 1] as number) : 0),
    p99AfterFirstSecondMs: ms(rank(steady, 99)),
    meanMs: ms(ok ? sum / ok : 0),
    requestsPerSecond: Math.round(ok / Math.max(elapsed, seconds)),
    sendLagP99Ms: ms(rank(lags, 99)),
    sendLagMaxMs: ms(lags.length ? (lags[lags.length - 1] as number) : 0),
    generatorCpuMsPerRequest: Math.round(((cpu.user + cpu.system) / 1000 / total) * 1000) / 1000,
    cache,
  };
}
