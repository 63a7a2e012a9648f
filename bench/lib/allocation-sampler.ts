import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Preloaded into every process the bench spawns when BENCH_HEAP_PROF names a directory: V8's
 * sampling heap profiler, keeping the samples of objects the collector has already freed, so
 * the profile says where memory is *allocated* (what makes the collector work), not only what
 * is still live. Written on exit as `<pid>.heapprofile` (Chrome DevTools reads it;
 * `npx tsx bench/allocation-summary.ts <file>` prints the largest allocators). About one
 * sample per 16 kB allocated. With BENCH_HEAP_PROF_PROMOTED=1 the samples of objects a young
 * collection freed are left out: what remains is what lived long enough to be promoted to the
 * old generation (and what is still live), i.e. what the major collections and the heap's size
 * are made of.
 */
const dir = process.env.BENCH_HEAP_PROF;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: process.env.BENCH_HEAP_PROF_PROMOTED !== '1' });
  process.on('exit', () => {
    // A session on the main thread answers synchronously, so this completes before the exit.
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(result.profile));
    });
  });
}
