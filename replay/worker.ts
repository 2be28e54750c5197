/**
 * Piscina worker: runs a range of one lane's encoded ops through the native
 * executor, which issues the syscalls on this thread (replay/run.ts).
 */
import { replayAddon, RUN_DONE } from './native.js';

/** One segment's part of a task: ops [from, to). */
export interface SegmentRange {
  ops: Int32Array;
  opsF: Float64Array;
  strings: Uint8Array;
  results: Float64Array;
  base: number;
  from: number;
  to: number;
}

/** Runs a lane's ranges in order, on to the next while each one finishes. */
export interface RunTask {
  lane: number;
  ranges: SegmentRange[];
  horizonNs: number;
}

/** [status, index of the range it stopped in, next op in that range] */
export type TaskResult = [status: number, range: number, next: number];

/** Warm-up: every worker loads the addon and waits at a barrier until all have, so none starts late. */
export interface WarmupTask {
  barrier: Int32Array;
  workers: number;
}

export default function runTask(t: RunTask | WarmupTask): TaskResult | null {
  const addon = replayAddon();
  if ('barrier' in t) {
    addon.prepareThread();
    Atomics.add(t.barrier, 0, 1);
    Atomics.notify(t.barrier, 0);
    const deadline = Date.now() + 30000;
    for (let seen = Atomics.load(t.barrier, 0); seen < t.workers && Date.now() < deadline; seen = Atomics.load(t.barrier, 0)) Atomics.wait(t.barrier, 0, seen, 100);
    return null;
  }
  for (let i = 0; i < t.ranges.length; i++) {
    const r = t.ranges[i]!;
    const [status, next] = addon.run(r.ops, r.opsF, r.strings, r.results, t.lane, r.base, r.from, r.to, t.horizonNs);
    if (status !== RUN_DONE || i === t.ranges.length - 1) return [status, i, next];
  }
  return [RUN_DONE, 0, 0];
}
