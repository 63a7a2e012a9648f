/**
 * The open-loop generator of part 3 in a process of its own: its schedule must not wait on
 * the bench's other work (the loaded round publishes thousands of events a second from the
 * bench process, which delayed the sends by up to 266 ms at p99). It gets the request paths
 * already drawn, so nothing but HTTP runs here.
 *
 * One process serves every run of a round, with one keep-alive agent, as a dashboard's
 * reverse proxy keeps its connections: a process forked per route started each run with a
 * cold client (its code not yet optimized, every connection new), and that start was in the
 * route's first second, where most of its p99 was.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { keepAliveAgent, openLoop, type OpenLoopResult } from './open-loop.js';

interface Task {
  address: string;
  headers: Record<string, string>;
  paths: string[];
  rate: number;
  seconds: number;
}

/** The generator's answer to a run: its figures, or why the run failed. */
type Reply = { id: number; result: OpenLoopResult } | { id: number; error: string };

export interface OpenLoopRunner {
  /** openLoop in the generator's process, over paths drawn beforehand (taken in order, from the start again if they run out). */
  run(task: Task): Promise<OpenLoopResult>;
  /** Stops the generator's process. */
  close(): void;
}

export function openLoopRunner(): OpenLoopRunner {
  let child: ChildProcess | undefined;
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: OpenLoopResult) => void; reject: (e: Error) => void }>();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    child = undefined;
  };
  const start = (): ChildProcess => {
    const made = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    made.on('message', (reply: Reply) => {
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(`the open-loop generator failed a run: ${reply.error}`));
      else waiting?.resolve(reply.result);
    });
    made.once('error', (err) => failAll(err));
    made.once('exit', (code) => failAll(new Error(`the open-loop generator exited (${code}) without a result`)));
    return made;
  };
  return {
    run(task) {
      child ??= start();
      const id = nextId++;
      const result = new Promise<OpenLoopResult>((resolve, reject) => pending.set(id, { resolve, reject }));
      child.send({ id, task });
      return result;
    },
    close() {
      const running = child;
      failAll(new Error('the open-loop generator was closed'));
      if (running && running.exitCode === null) running.kill();
    },
  };
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  // Runs one task at a time, in the order they came, on one agent for the life of the process.
  // A run that fails is answered with its error, and the next still run: the bench never waits on a lost answer.
  const agent = keepAliveAgent();
  let queue = Promise.resolve();
  process.on('message', ({ id, task }: { id: number; task: Task }) => {
    queue = queue.then(async () => {
      let next = 0;
      const path = () => task.paths[next++ % task.paths.length] as string;
      try {
        const result = await openLoop({ address: task.address, headers: task.headers, path, rate: task.rate, seconds: task.seconds, agent });
        process.send?.({ id, result } satisfies Reply);
      } catch (err) {
        process.send?.({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies Reply);
      }
    });
  });
  process.once('disconnect', () => process.exit(0));
}
