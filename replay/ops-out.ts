/**
 * `ior replay --ops-out FILE`: one row per traced call the replay issued,
 * written as a trace (schema 3), so `ior stats`, `ior sql` and DuckDB read
 * it as they read a capture. A row holds the replay's side in the usual
 * columns (ts_ns: when it was issued, latency_ns, ret, bytes) and the traced
 * side in the version-3 columns (replay_of: the traced event's seq, due_ns,
 * traced_latency_ns, traced_ret); pid, tid, syscall, paths, flags, offset
 * and count are the traced call's. Times are on the trace's clock: the
 * replay's start is the trace's first replayed event, so at 1x due_ns is
 * the traced ts_ns and ts_ns - due_ns is the lag.
 */
import os from 'node:os';
import { IOR_VERSION } from '../common/version.js';
import { allocateBatch, emptyLosses, FORMAT_NAME, SCHEMA_VERSION, type EventBatch, type Footer } from '../schema/index.js';
import { TraceWriter } from '../trace/index.js';
import { F, KIND, OP_MISALIGNED, OP_WORDS, RESULT_DOUBLES, segmentString, SYSCALL_NAMES, W, type Segment } from './ops.js';

const BATCH_ROWS = 4096;

export interface OpsOutRun {
  trace: string;
  target: string;
  speed: string;
  confinement: string;
  workers: number;
  /** Unix ms when the replay clock started, and ns from then until the last op completed */
  startWallMs: number;
  wallNs: number;
  stopped: boolean;
}

export class OpsOut {
  private readonly writer: TraceWriter;
  private readonly batch: EventBatch = allocateBatch(BATCH_ROWS);
  private rows = 0;
  /** ts_ns of the trace's first replayed event: the replay's time zero (zero(), before the first op) */
  private firstTs = 0n;

  /** invSpeed: 0 at --speed max */
  constructor(file: string, private readonly invSpeed: number) {
    this.writer = TraceWriter.create(file);
  }

  zero(firstTs: bigint): void {
    this.firstTs = firstTs;
  }

  /** Ops [from, to) of a segment, as their results came back (ops ior added are not rows) */
  add(seg: Segment, from: number, to: number): void {
    const b = this.batch;
    for (let i = from; i < to; i++) {
      const sys = seg.tracedSyscall[i]!;
      if (sys < 0) continue;
      const w = i * OP_WORDS, f = w / 2, r = i * RESULT_DOUBLES;
      const n = b.length++;
      const ret = seg.results[r]!;
      const offset = seg.f64[f + F.offset]!, count = seg.f64[f + F.count]!;
      b.seq[n] = BigInt(this.rows++);
      b.ts_ns[n] = this.firstTs + BigInt(Math.round(seg.results[r + 1]!));
      b.latency_ns[n] = BigInt(Math.round(seg.results[r + 2]!));
      b.pid[n] = seg.tracedPid[i]!;
      b.tid[n] = seg.tracedTid[i]!;
      b.comm[n] = 'ior-replay';
      b.syscall[n] = SYSCALL_NAMES[sys]!;
      b.fd[n] = -1;
      b.fd2[n] = -1;
      const path = segmentString(seg, seg.i32[w + W.path]!), path2 = segmentString(seg, seg.i32[w + W.path2]!);
      b.path[n] = path === null ? null : `/${path}`;
      b.path2[n] = path2 === null ? null : seg.i32[w + W.kind] === KIND.symlink ? path2 /* a symlink's target, as traced */ : `/${path2}`;
      b.flags[n] = seg.i32[w + W.flags]! & ~OP_MISALIGNED;
      b.mode[n] = seg.i32[w + W.mode]!;
      b.offset[n] = offset >= 0 ? BigInt(Math.round(offset)) : null;
      b.count[n] = BigInt(Math.round(count));
      b.ret[n] = BigInt(Math.round(ret));
      b.bytes[n] = ret > 0 && seg.tracedDirection[i] !== 0 ? BigInt(Math.round(ret)) : 0n;
      b.replay_of[n] = BigInt(seg.tracedSeq[i]!);
      b.due_ns[n] = this.firstTs + BigInt(Math.round(seg.f64[f + F.due]! * this.invSpeed));
      b.traced_latency_ns[n] = BigInt(Math.round(seg.tracedLatency[i]!));
      b.traced_ret[n] = BigInt(Math.round(seg.tracedRet[i]!));
      if (b.length === BATCH_ROWS) this.flush();
    }
  }

  finish(run: OpsOutRun): void {
    this.flush();
    const startNs = BigInt(Math.round(run.startWallMs * 1e6));
    const footer: Footer = {
      format: FORMAT_NAME,
      schema_version: SCHEMA_VERSION,
      ior_version: IOR_VERSION,
      host: { hostname: os.hostname(), kernel_release: os.release(), arch: os.arch(), cpus: os.cpus().length },
      boot_to_wall_ns: String(startNs - this.firstTs),
      start_ts_ns: String(this.firstTs),
      end_ts_ns: String(this.firstTs + BigInt(Math.round(run.wallNs))),
      start_wall: new Date(run.startWallMs).toISOString(),
      end_wall: new Date(run.startWallMs + run.wallNs / 1e6).toISOString(),
      capture: {
        argv: ['ior', ...process.argv.slice(2)],
        command: null,
        filters: { pids: [], comm: null, path_prefix: [], syscalls: null, follow: false },
        loader_version: '',
        libbpf_version: '',
        ring_bytes: 0,
        attached: [],
        skipped: [],
      },
      events: this.rows,
      filtered_out: 0,
      losses: emptyLosses(),
      stop_reason: run.stopped ? 'replay-stopped' : 'replay-completed',
      command_exit: null,
      replay: { trace: run.trace, target: run.target, speed: run.speed, confinement: run.confinement, workers: run.workers },
    };
    this.writer.finish(footer);
  }

  /** The replay failed: no file */
  abort(): void {
    this.writer.abort();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.writer.append(this.batch); // (copies the rows: the batch is reused)
    this.batch.length = 0;
  }
}
