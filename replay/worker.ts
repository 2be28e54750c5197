/**
 * Piscina worker: runs a range of one lane's encoded ops through the native
 * executor, which issues the syscalls on this thread (replay/run.ts).
 */
import { replayAddon, type RunResult } from './native.js';

export interface RunTask {
  ops: Int32Array;
  opsF: Float64Array;
  strings: Uint8Array;
  results: Float64Array;
  lane: number;
  base: number;
  from: number;
  to: number;
  horizonNs: number;
}

/** Warm-up: every worker loads the addon and waits at a barrier until all have, so none starts late. */
export interface WarmupTask {
  barrier: Int32Array;
  workers: number;
}

export default function runTask(t: RunTask | WarmupTask): RunResult | null {
  const addon = replayAddon();
  if ('barrier' in t) {
    Atomics.add(t.barrier, 0, 1);
    Atomics.notify(t.barrier, 0);
    const deadline = Date.now() + 30000;
    for (let seen = Atomics.load(t.barrier, 0); seen < t.workers && Date.now() < deadline; seen = Atomics.load(t.barrier, 0)) Atomics.wait(t.barrier, 0, seen, 100);
    return null;
  }
  return addon.run(t.ops, t.opsF, t.strings, t.results, t.lane, t.base, t.from, t.to, t.horizonNs);
}
