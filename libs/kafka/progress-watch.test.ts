import { describe, expect, it } from 'vitest';
import { createProgressTracker, describeOutOfRange, positionOutOfRange, progressProblem } from './progress-watch.js';

const range = (low: number, high: number) => ({ low: BigInt(low), high: BigInt(high) });

describe('positionOutOfRange', () => {
  it('accepts every position from the start to the end, the end included', () => {
    expect(positionOutOfRange(0n, range(0, 0))).toBeNull();
    expect(positionOutOfRange(10n, range(10, 50))).toBeNull();
    expect(positionOutOfRange(50n, range(10, 50))).toBeNull();
  });

  it('a position beyond the end is a recreated or truncated topic, one below the start records lost to retention', () => {
    expect(positionOutOfRange(51n, range(10, 50))).toEqual({ kind: 'beyond-end', position: 51n, low: 10n, high: 50n });
    expect(positionOutOfRange(9n, range(10, 50))).toEqual({ kind: 'below-start', position: 9n, low: 10n, high: 50n });
    expect(describeOutOfRange(positionOutOfRange(500n, range(0, 3))!)).toBe("position 500 is beyond the partition's end 3 (the topic was recreated or truncated)");
    expect(describeOutOfRange(positionOutOfRange(4n, range(10, 50))!)).toBe("position 4 is below the partition's start 10 (retention deleted 6 records before they were read)");
  });
});

describe('progress tracker', () => {
  it('a partition with records to read that does not advance for the threshold is stalled, and moving again the moment it advances', () => {
    const t = createProgressTracker({ stallMs: 60_000 });
    t.assign('clicks', 3, 100n, 0);
    expect(t.observe('clicks', 3, range(0, 120), 59_999)).toBeNull();
    expect(t.get('clicks', 3)).toMatchObject({ stalled: false, lag: 20 });
    expect(t.observe('clicks', 3, range(0, 120), 60_000)).toBe('stalled');
    expect(t.list(61_000)).toEqual([{ topic: 'clicks', partition: 3, position: 100n, lag: 20, idleMs: 61_000, stalled: true, stopped: null }]);
    expect(progressProblem(t.list(61_000))).toBe('clicks[3] has not advanced for 61 s at offset 100 with 20 records to read');
    expect(t.observe('clicks', 3, range(0, 120), 62_000)).toBeNull(); // reported once, not on every look
    expect(t.advance('clicks', 3, 110n, 63_000)).toBe(true);
    expect(t.get('clicks', 3)?.stalled).toBe(false);
    expect(progressProblem(t.list(63_000))).toBeNull();
  });

  it('a partition with nothing to read is never stalled, however long it is idle', () => {
    const t = createProgressTracker({ stallMs: 1_000 });
    t.assign('links', 0, 7n, 0);
    expect(t.observe('links', 0, range(0, 7), 10_000)).toBeNull();
    expect(t.get('links', 0)).toMatchObject({ lag: 0, stalled: false });
    // New records arrive: the clock runs from the last time it was caught up, not from the assignment.
    expect(t.observe('links', 0, range(0, 9), 10_500)).toBeNull();
    expect(t.observe('links', 0, range(0, 9), 11_000)).toBe('stalled');
    // Caught up by a record the client skipped on its own (a compacted batch): the stall ends.
    expect(t.advance('links', 0, 9n, 11_200)).toBe(true);
    expect(t.observe('links', 0, range(0, 9), 20_000)).toBeNull();
  });

  it('a position not known yet counts from the partition start', () => {
    const t = createProgressTracker({ stallMs: 1_000 });
    t.assign('logins', 1, null, 0);
    expect(t.observe('logins', 1, range(4, 10), 2_000)).toBe('stalled');
    expect(t.get('logins', 1)).toMatchObject({ lag: 6, position: null });
    expect(progressProblem(t.list(2_000))).toBe('logins[1] has not advanced for 2 s at offset start with 6 records to read');
  });

  it('a partition assigned again at the same position keeps its idle clock: rejoining over and over does not hide a stall', () => {
    const t = createProgressTracker({ stallMs: 60_000 });
    t.assign('clicks', 0, 50n, 0);
    t.observe('clicks', 0, range(0, 60), 30_000);
    t.assign('clicks', 0, 50n, 40_000);
    expect(t.observe('clicks', 0, range(0, 60), 60_000)).toBe('stalled');
    t.assign('clicks', 0, 50n, 70_000);
    expect(t.get('clicks', 0)?.stalled).toBe(true);
    t.assign('clicks', 0, 55n, 80_000); // elsewhere: a fresh start
    expect(t.get('clicks', 0)).toMatchObject({ position: 55n, stalled: false });
  });

  it('a partition held but not checked yet is watched from the start of the partition', () => {
    const t = createProgressTracker({ stallMs: 1_000 });
    t.hold('clicks', 0, 0);
    t.hold('clicks', 0, 500); // held again: the clock runs on
    expect(t.observe('clicks', 0, range(0, 3), 1_000)).toBe('stalled');
    expect(t.get('clicks', 0)).toMatchObject({ position: null, lag: 3 });
  });

  it('never moves backwards: a redelivered batch is not progress', () => {
    const t = createProgressTracker({ stallMs: 1_000 });
    t.assign('clicks', 0, 50n, 0);
    expect(t.observe('clicks', 0, range(0, 60), 1_000)).toBe('stalled');
    expect(t.advance('clicks', 0, 40n, 1_500)).toBe(false);
    expect(t.advance('clicks', 0, 50n, 1_500)).toBe(false);
    expect(t.get('clicks', 0)).toMatchObject({ position: 50n, stalled: true });
  });

  it('a stopped partition is stalled until it is assigned again, and is not observed meanwhile', () => {
    const t = createProgressTracker({ stallMs: 60_000 });
    t.assign('events', 2, 500n, 0);
    t.stop('events', 2, "position 500 is beyond the partition's end 3 (the topic was recreated or truncated)", 1_000);
    expect(t.isStopped('events', 2)).toBe(true);
    expect(t.observe('events', 2, range(0, 3), 2_000)).toBeNull();
    expect(t.advance('events', 2, 501n, 2_000)).toBe(false);
    expect(progressProblem(t.list(2_000))).toBe("events[2] stopped: position 500 is beyond the partition's end 3 (the topic was recreated or truncated)");
    t.assign('events', 2, 0n, 3_000);
    expect(t.isStopped('events', 2)).toBe(false);
    expect(t.observe('events', 2, range(0, 3), 3_500)).toBeNull();
    expect(progressProblem(t.list(3_500))).toBeNull();
  });

  it('reminds of a stall that goes on, at most every remindEveryMs', () => {
    const t = createProgressTracker({ stallMs: 1_000, remindEveryMs: 10_000 });
    t.assign('clicks', 0, 0n, 0);
    const changes = [1_000, 5_000, 10_999, 11_000, 15_000, 21_000].map((now) => t.observe('clicks', 0, range(0, 5), now));
    expect(changes).toEqual(['stalled', null, null, 'still-stalled', null, 'still-stalled']);
  });

  it('forgets partitions no longer assigned, and lists the rest in order', () => {
    const t = createProgressTracker({ stallMs: 1_000 });
    for (const [topic, p] of [['b', 1], ['a', 2], ['a', 0]] as const) t.assign(topic, p, 0n, 0);
    t.retain({ a: [0, 2] });
    expect(t.list(0).map((p) => `${p.topic}[${p.partition}]`)).toEqual(['a[0]', 'a[2]']);
  });

  it('readiness names at most five partitions', () => {
    const t = createProgressTracker({ stallMs: 1 });
    for (let p = 0; p < 7; p++) {
      t.assign('clicks', p, 0n, 0);
      t.observe('clicks', p, range(0, 1), 5);
    }
    expect(progressProblem(t.list(5))).toMatch(/clicks\[4\] has not advanced .* \(and 2 more\)$/);
  });
});
