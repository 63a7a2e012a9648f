import { readFileSync } from 'node:fs';

/**
 * The largest allocators of a sampling heap profile (BENCH_HEAP_PROF): bytes allocated by each
 * function itself, and by each function with everything it called.
 *   npx tsx bench/allocation-summary.ts /tmp/heap/1234.heapprofile [rows]
 */
interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children: ProfileNode[] }
const [file, rowsArg] = process.argv.slice(2);
if (!file) throw new Error('usage: allocation-summary.ts <file.heapprofile> [rows]');
const rows = Number(rowsArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: ProfileNode; samples: { size: number; nodeId: number }[] };
const nodes = new Map<number, ProfileNode>();
const parent = new Map<number, number>();
const walk = (node: ProfileNode, up?: ProfileNode): void => {
  nodes.set(node.id, node);
  if (up) parent.set(node.id, up.id);
  for (const child of node.children) walk(child, node);
};
walk(profile.head);
const name = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/\/.*?\/(build|libs|services|bench)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
let total = 0;
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const { size, nodeId } of profile.samples) {
  total += size;
  const key = name(nodes.get(nodeId)!);
  self.set(key, (self.get(key) ?? 0) + size);
  const seen = new Set<string>();
  for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
    const k = name(nodes.get(id)!);
    if (!seen.has(k)) inclusive.set(k, (inclusive.get(k) ?? 0) + size);
    seen.add(k);
  }
}
const print = (title: string, m: Map<string, number>): void => {
  console.log(`\n${title}`);
  for (const [k, bytes] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(`${(bytes / 1e6).toFixed(0).padStart(8)} MB ${((100 * bytes) / total).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${(total / 1e6).toFixed(0)} MB allocated (sampled)`);
print('allocated by the function itself', self);
print('allocated by the function and what it called', new Map([...inclusive].filter(([k]) => !k.startsWith('(root)'))));
