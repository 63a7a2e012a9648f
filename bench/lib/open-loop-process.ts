/**
 * The open-loop generator of part 3 in a process of its own (forked by runOpenLoop): its
 * schedule must not wait on the bench's other work (the loaded round publishes thousands of
 * events a second from the bench process, which delayed the sends by up to 266 ms at p99).
 * It gets the request paths already drawn, so nothing but HTTP runs here.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openLoop, type OpenLoopResult } from './open-loop.js';

interface Task {
  address: string;
  headers: Record<string, string>;
  paths: string[];
  rate: number;
  seconds: number;
}

/** openLoop in a child process, over paths drawn beforehand (taken in order, from the start again if they run out). */
export async function runOpenLoop(task: Task): Promise<OpenLoopResult> {
  const child = fork(fileURLToPath(import.meta.url), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    return await new Promise<OpenLoopResult>((resolve, reject) => {
      child.once('message', (result) => resolve(result as OpenLoopResult));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the open-loop generator exited (${code}) without a result`)));
      child.send(task);
    });
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.once('message', (task: Task) => {
    let next = 0;
    const path = () => task.paths[next++ % task.paths.length] as string;
    void openLoop({ address: task.address, headers: task.headers, path, rate: task.rate, seconds: task.seconds }).then((result) => {
      process.send?.(result, () => process.exit(0));
    });
  });
}
