/**
 * Tally: what the replay did, op by op, as tasks return: results compared
 * with the traced ones (the same failure is a match), schedule lag, latency
 * per syscall (traced and replayed), bytes moved. Bounded memory
 * (histograms, counters).
 */
import os from 'node:os';
import { LogHistogram } from '../stats/index.js';
import { InFlightSweep } from './concurrency.js';
import { F, KIND, OP_WORDS, RESULT_DOUBLES, SYSCALL_NAMES, W, type Segment } from './ops.js';

const ERRNO_NAMES = new Map(Object.entries(os.constants.errno).map(([name, n]) => [n, name]));

export function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? `errno ${n}`;
}

export interface SyscallTally {
  /** traced events replayed */
  replayed: number;
  /** calls issued for them (more than events where one gives several: close_range, process_fork, ...) */
  ops: number;
  failed: number;
  matchedFailures: number;
  traced: LogHistogram;
  replay: LogHistogram;
}

export class Tally {
  readonly bySyscall = new Map<string, SyscallTally>();
  /** the same, by index in SYSCALL_NAMES (the hot path) */
  private readonly bySyscallId: (SyscallTally | undefined)[] = [];
  /** "syscall\terrno\ttraced result" -> count */
  readonly failures = new Map<string, number>();
  readonly lag = new LogHistogram();
  /**
   * The lag of the calls free to start when due: a call due while its
   * thread's previous (synchronous) call still runs in the replay starts
   * late whatever the executor does (the target was slower there than the
   * traced system); those are counted in `held` instead.
   */
  readonly freeLag = new LogHistogram();
  held = 0;
  /** per lane: when its last synchronous op ended (ns after the start), across the ranges tallied */
  private readonly laneEnd = new Map<number, number>();
  replayed = 0;
  failed = 0;
  matchedFailures = 0;
  shortTransfers = 0;
  /** ops ior added: pre-capture opens, waits */
  addedOps = 0;
  addedFailures = 0;
  lastIssueNs = 0;
  lastDueNs = 0;
  readonly bytes = { tracedRead: 0, tracedWritten: 0, replayRead: 0, replayWritten: 0 };
  /**
   * Paced: calls in flight had each replayed call started when it was due
   * (its replayed latency from its due time). Against the replayed level
   * it shows the executor's part in a difference from the traced one (its
   * lag); against the traced level, the target's (its latencies).
   */
  readonly onSchedule: InFlightSweep | null;
  /** calls in flight on each of the files the run measures: the traced calls and the replay's */
  files: { traced: InFlightSweep; replayed: InFlightSweep }[] = [];
  /** an op's file (its segment's tracedFile) -> its index in `files`, -1 for files not measured */
  private fileIndex: Int32Array = new Int32Array(0);
  private readonly invSpeed: number;

  constructor(speed: number) {
    this.invSpeed = speed > 0 ? 1 / speed : 0;
    this.onSchedule = speed > 0 ? new InFlightSweep() : null;
  }

  /** Measure these files: fileIndex[file] is the index in `files` of the ops' file (before the first op is tallied). */
  measure(count: number, fileIndex: Int32Array): void {
    this.files = Array.from({ length: count }, () => ({ traced: new InFlightSweep(), replayed: new InFlightSweep() }));
    this.fileIndex = fileIndex;
  }

  add(seg: Segment, from: number, to: number): void {
    const res = seg.results, f64 = seg.f64;
    let prevEnd = this.laneEnd.get(seg.lane) ?? -Infinity;
    for (let i = from; i < to; i++) {
      const ret = res[i * RESULT_DOUBLES]!;
      const issue = res[i * RESULT_DOUBLES + 1]!;
      const latency = res[i * RESULT_DOUBLES + 2]!;
      const due = f64[(i * OP_WORDS) / 2 + F.due]! * this.invSpeed;
      const heldBack = prevEnd > due;
      // an async op's submission returns at once: the next op is not held by its completion
      prevEnd = seg.i32[i * OP_WORDS + W.kind]! >= KIND.aread ? issue : issue + latency;
      if (issue > this.lastIssueNs) this.lastIssueNs = issue;
      if (due > this.lastDueNs) this.lastDueNs = due;
      const sys = seg.tracedSyscall[i]!;
      if (sys < 0) {
        this.addedOps++;
        if (ret < 0) this.addedFailures++;
        continue;
      }
      const tracedRet = seg.tracedRet[i]!;
      const direction = seg.tracedDirection[i]!;
      if (this.invSpeed > 0) {
        this.onSchedule!.add(due, due + latency);
        const lag = Math.max(0, Math.round(issue - due));
        this.lag.record(lag);
        if (heldBack) this.held++;
        else this.freeLag.record(lag);
      }
      let s = this.bySyscallId[sys];
      if (!s) {
        s = { replayed: 0, ops: 0, failed: 0, matchedFailures: 0, traced: new LogHistogram(), replay: new LogHistogram() };
        this.bySyscallId[sys] = s;
        this.bySyscall.set(SYSCALL_NAMES[sys]!, s);
      }
      s.ops++;
      if (seg.tracedFirst[i]) {
        s.replayed++;
        this.replayed++;
      }
      const file = seg.tracedFile[i]!;
      const measured = file >= 0 && file < this.fileIndex.length ? this.files[this.fileIndex[file]!] : undefined;
      if (measured) {
        measured.replayed.add(issue, issue + latency);
        // the traced call once (its other steps are the same call), at its traced time from the replay's zero
        if (seg.tracedFirst[i]) {
          const at = f64[(i * OP_WORDS) / 2 + F.due]!;
          measured.traced.add(at, at + seg.tracedLatency[i]!);
        }
      }
      s.traced.record(seg.tracedLatency[i]!);
      s.replay.record(Math.round(latency));
      if (tracedRet < 0 || ret < 0) {
        if (tracedRet === ret) {
          s.matchedFailures++;
          this.matchedFailures++;
        } else {
          s.failed++;
          this.failed++;
          const key = `${SYSCALL_NAMES[sys]}\t${ret < 0 ? errnoName(-ret) : 'success'}\t${tracedRet < 0 ? errnoName(-tracedRet) : 'success'}`;
          this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
        }
      } else if (direction !== 0 && ret !== tracedRet) this.shortTransfers++;
      if (direction & 1) {
        if (tracedRet > 0) this.bytes.tracedRead += tracedRet;
        if (ret > 0) this.bytes.replayRead += ret;
      }
      if (direction & 2) {
        if (tracedRet > 0) this.bytes.tracedWritten += tracedRet;
        if (ret > 0) this.bytes.replayWritten += ret;
      }
    }
    this.laneEnd.set(seg.lane, prevEnd);
  }
}
