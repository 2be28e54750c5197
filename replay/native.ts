/**
 * The replay executor addon (native/replay/replay.c): its interface, and
 * loading it through the asset registry (so dist/ior can embed it).
 */
import { requireNativeAddon } from '../common/assets.js';

/** Helper syscalls ior issues on its own behalf, in the order native reports them. */
export const HELPER_NAMES = ['parent directory opens (openat2 O_PATH)', 'parent directory closes', 'whole-path O_PATH opens (openat2)', 'whole-path O_PATH closes', 'closes of fds replaced by dup2/dup3', 'lseeks placing fds opened before the capture', 'closes of fds that opens failing in the trace got'] as const;

export interface ReplayAddon {
  /** confine: index in CONFINE_MODES (auto, chroot, openat2); throws (code ECHROOT) when chroot is asked for and refused */
  setup(root: string, speed: number, symlinksPossible: boolean, confine: number, maxThreads: number): void;
  /** the run now has this many lanes and fd slots (before it submits ops that use them); throws past the limits */
  grow(lanes: number, slots: number): void;
  /** how paths are confined ('chroot', or 'openat2 (why not chroot)'), and executor threads that could not chroot (they walked) */
  confinement(): [mode: string, threadsWalking: number];
  /** the executor threads' nice and slice (ns; 0: the default, at --speed max); threads started, those the nice was refused for (no CAP_SYS_NICE), those without the slice (Linux < 6.12) */
  scheduling(): [nice: number, sliceNs: number, threads: number, notReniced: number, noSlice: number];
  /** calls in flight across the executor threads, time-weighted since setup: [mean, p99, max] */
  inflight(): [mean: number, p99: number, max: number];
  /** executor threads (one per lane with ops queued or recently run): alive now, the most at once */
  threads(): [live: number, peak: number];
  /** ns since setup, CLOCK_MONOTONIC */
  now(): number;
  start(atNs: number): void;
  stop(): void;
  /** the lane's ops done (what dependencies wait for) */
  laneDone(lane: number): number;
  /** the lane's ops whose results are written (an async op's at its completion): tally up to here */
  laneFinal(lane: number): number;
  helpers(): number[];
  /** CPU time the executor threads spent running ops (ns; sleeping and waiting do not count) */
  cpuNs(): number;
  teardown(): void;
  /** how async ops were issued: 'io_uring', 'synchronous (io_uring unavailable: ...)', null if none were */
  asyncIssuedAs(): string | null;
  /** async ops issued, and the sum of the depth each was submitted at */
  asyncDepths(): [ops: number, depthSum: number];
  /**
   * Queue ops [from, to) of a lane's segment for the lane's thread: started if it has none, or once fewer
   * than the most threads run (kick). The arrays must live until laneFinal passes them.
   */
  submit(ops: Int32Array, opsF: Float64Array, strings: Uint8Array, results: Float64Array, lane: number, laneBase: number, from: number, to: number): void;
  /** threads for the lanes that wait for one, while fewer than the most run */
  kick(): void;
  /** after stop(): the lanes' threads leave once their current op is done; returns when they have */
  stopThreads(): void;
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
