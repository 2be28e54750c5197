/**
 * The replay executor addon (native/replay/replay.c): its interface, and
 * loading it through the asset registry (so dist/ior can embed it).
 */
import { requireNativeAddon } from '../common/assets.js';

export type RunResult = [status: number, next: number, wakeAt: number];
/** run() status: the range is done; the next op is due beyond the horizon; it waits for a lane that is not running; Ctrl-C (3) */
export const RUN_DONE = 0, RUN_SLEEPING = 1, RUN_BLOCKED = 2;
/** Helper syscalls ior issues on its own behalf, in the order native reports them. */
export const HELPER_NAMES = ['parent directory opens (openat2 O_PATH)', 'parent directory closes', 'whole-path O_PATH opens (openat2)', 'whole-path O_PATH closes', 'closes of fds replaced by dup2/dup3', 'lseeks placing fds opened before the capture', 'closes of fds that opens failing in the trace got'] as const;

export interface ReplayAddon {
  /** confine: index in CONFINE_MODES (auto, chroot, openat2); throws (code ECHROOT) when chroot is asked for and refused */
  setup(root: string, lanes: number, slots: number, speed: number, symlinksPossible: boolean, confine: number, workers: number): void;
  /** how paths are confined ('chroot', or 'openat2 (why not chroot)'), and executor threads that could not chroot (they walked) */
  confinement(): [mode: string, threadsWalking: number];
  /** calls in flight across the executor threads, time-weighted since setup: [mean, p99, max] */
  inflight(): [mean: number, p99: number, max: number];
  /** timer slack and priority of the calling thread, before its first op */
  prepareThread(): void;
  /** ns since setup, CLOCK_MONOTONIC */
  now(): number;
  start(atNs: number): void;
  stop(): void;
  laneDone(lane: number): number;
  helpers(): number[];
  /** CPU time the executor threads spent running ops (ns; sleeping and waiting do not count) */
  cpuNs(): number;
  teardown(): void;
  /** how async ops were issued: 'io_uring', 'synchronous (io_uring unavailable: ...)', null if none were */
  asyncIssuedAs(): string | null;
  /** async ops issued, and the sum of the depth each was submitted at */
  asyncDepths(): [ops: number, depthSum: number];
  run(ops: Int32Array, opsF: Float64Array, strings: Uint8Array, results: Float64Array, lane: number, laneBase: number, from: number, to: number, horizonNs: number): RunResult;
  initDir(rel: string): number;
  initRemove(rel: string): number;
  initFile(rel: string): [fdOrErrno: number, size: number];
  initSymlink(rel: string, target: string): number;
  scan(): [symlinks: number, multiplyLinked: number];
}

let addon: ReplayAddon | undefined;

export function replayAddon(): ReplayAddon {
  return (addon ??= requireNativeAddon<ReplayAddon>('ior-replay'));
}
