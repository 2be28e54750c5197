/**
 * The run: streams the trace a second time through the Interpreter, encodes
 * each lane's ops into segments (bounded window), and keeps every lane
 * moving on a Piscina pool: a task runs a range of one lane's segment in the
 * native executor, which sleeps until each op is due, waits for its
 * cross-lane dependencies, and issues the syscall. A task gives its worker
 * back when its next op is far in the future or blocked on a lane that is
 * not running, so a blocking call in one lane never holds back another lane
 * that has a worker. Results are tallied as tasks return.
 */
import { Piscina } from 'piscina';
import { workerPath } from '../common/assets.js';
import { TraceReader } from '../trace/index.js';
import { Interpreter, READ_KINDS, WRITE_KINDS, type Step } from './interpret.js';
import { eventBatches, type Plan } from './plan.js';
import { Orderer, type Dep } from './order.js';
import { F, KIND, OP_WORDS, Segment, W, type Op, type TracedInfo } from './ops.js';
import { RUN_BLOCKED, RUN_DONE, RUN_SLEEPING, type ReplayAddon } from './native.js';
import { Tally } from './tally.js';
import type { OpsOut } from './ops-out.js';
import type { RunTask, SegmentRange, TaskResult, WarmupTask } from './worker.js';

export interface RunOptions {
  /** 0: as fast as possible */
  speed: number;
  workers: number;
  onProgress?: (opsDone: number, opsTotal: number, elapsedNs: number) => void;
  /** --ops-out: every op's row as results come back */
  opsOut?: OpsOut;
}

export interface RunOutcome {
  tally: Tally;
  stopped: boolean;
  /** ns from the replay clock's start to the last op's completion */
  wallNs: number;
  /** Unix ms at which the replay clock started */
  startWallMs: number;
}

/**
 * Ops planned ahead of execution at most (memory stays bounded whatever the
 * trace's length). IOR_REPLAY_WINDOW lowers it (tests of the streaming path).
 */
const WINDOW_OPS = Number(process.env.IOR_REPLAY_WINDOW) > 0 ? Number(process.env.IOR_REPLAY_WINDOW) : 1 << 20;
/** The clock starts once this many ops are planned at --speed max, or this much replay time paced (or the window is full). */
const START_OPS_AT_MAX = 1 << 16;
const START_AHEAD_NS = 2e9;
/** Segments one task runs at most before the lane is handed over again. */
const MAX_TASK_SEGMENTS = 64;
/** Start this long after the clock is set, so the first tasks reach their workers. */
const START_LEAD_NS = 20e6;
/**
 * Handing a lane to a worker costs the main thread and the worker ~1-2 ms
 * of a CPU (Piscina's message, the worker's wake-up): lanes handed over at
 * once (at the start, or all waking from the same pause) reach their
 * workers one after another (seen with 256 paced threads on 2 CPUs: their
 * first calls up to 427 ms late, 116 ms on average). So the clock starts,
 * and lanes that have a worker of their own are handed over, this much
 * earlier per worker; they sleep in native until due.
 */
const HAND_OVER_NS_PER_WORKER = 2e6;
/** A lane whose next op is due later than this gives its worker back (ns)... */
const SHARED_HORIZON_NS = 60e6;
/** ...unless every lane has a worker of its own: then it sleeps in native, precisely. */
const OWN_HORIZON_NS = 250e6;
/** The longest a lane holds a worker before its next op is due when workers are shared (ns of wall time): the wake lead or the horizon */
export const HOLD_AHEAD_NS = 60e6;
/**
 * Hand a lane to a worker this long before its next op is due; the worker
 * sleeps the rest precisely. Main-thread timers run late on a busy host (GC,
 * CPU contention: 10-20 ms seen), the native sleep does not.
 */
const WAKE_LEAD_NS = 50e6;

class Lane {
  readonly segments: Segment[] = [];
  /** ops pushed so far (lane-wide index of the next one) */
  count = 0;
  /** index of the next op to run within segments[0] */
  pos = 0;
  running = false;
  timer: NodeJS.Timeout | null = null;
  blocked = false;
  constructor(readonly id: number) {}
}

export class Runner {
  private readonly lanes: Lane[] = [];
  private readonly pool: Piscina;
  private readonly orderer = new Orderer();
  private readonly tally: Tally;
  private pending = 0;
  private done = 0;
  private producing = true;
  private stopping = false;
  private running = 0;
  private readonly horizon: number;
  /** how long before its next op is due a lane is handed to a worker */
  private readonly wakeLead: number;
  /** how long after the clock is set the replay's time zero is */
  private readonly startLead: number;
  private blockedPoll: NodeJS.Timeout | null = null;
  private drained: (() => void) | null = null;
  private finished: (() => void) | null = null;
  private clockStarted = false;
  /** native clock (ns since setup) at which the replay's time zero is */
  private startAt = 0;
  private startWallMs = 0;
  /** an error a worker threw: the run stops and it is rethrown */
  failure: unknown = null;
  private readonly invSpeed: number;
  /** the event being planned (segments copy it) */
  private readonly traced: TracedInfo = { seq: 0, pid: 0, tid: 0, syscall: '', ret: 0, latency: 0, direction: 0, file: -1, first: true };
  /** plan.topFiles by path: their calls in flight are measured */
  private readonly topFiles: Map<string, number>;

  constructor(
    private readonly addon: ReplayAddon,
    private readonly plan: Plan,
    private readonly opts: RunOptions,
  ) {
    for (let i = 0; i < plan.lanes; i++) this.lanes.push(new Lane(i));
    const own = opts.workers >= plan.lanes, handOver = HAND_OVER_NS_PER_WORKER * opts.workers;
    this.startLead = START_LEAD_NS + handOver;
    this.wakeLead = WAKE_LEAD_NS + (own ? handOver : 0);
    // a lane with a worker of its own keeps it across any pause it is handed over ahead of
    this.horizon = own ? OWN_HORIZON_NS + Math.max(this.startLead, this.wakeLead) : SHARED_HORIZON_NS;
    this.pool = new Piscina({ filename: workerPath('replay/worker.js'), minThreads: opts.workers, maxThreads: opts.workers, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1 });
    this.tally = new Tally(opts.speed, plan.topFiles.length);
    this.topFiles = new Map(plan.topFiles.map((rel, i) => [rel, i]));
    this.invSpeed = opts.speed > 0 ? 1 / opts.speed : 0;
  }

  /** Ctrl-C: no new ops; tasks in flight finish their current op and return. */
  stop(): void {
    this.stopping = true;
    this.addon.stop();
    this.drained?.();
    this.checkFinished();
  }

  async run(): Promise<RunOutcome> {
    const reader = await TraceReader.open(this.plan.trace);
    const interp = new Interpreter();
    const all = new Promise<void>((resolve) => (this.finished = resolve));
    const barrier = new Int32Array(new SharedArrayBuffer(4));
    const warmup: WarmupTask = { barrier, workers: this.opts.workers };
    const ready = Promise.all(Array.from({ length: this.opts.workers }, () => this.pool.run(warmup)));
    let n = 0;
    read: for await (const batch of eventBatches(reader, this.plan.firstTs)) for (let row = 0; row < batch.length; row++) {
      if (this.stopping) break read;
      const e = batch.load(row);
      const steps = interp.interpret(e);
      if (typeof steps === 'string' || steps.length === 0) continue;
      const lane = this.lanes[interp.laneOf(e)]!;
      const direction = steps[0]!.kind === KIND.copy_file_range || steps[0]!.kind === KIND.sendfile ? 3 : READ_KINDS.has(steps[0]!.kind) ? 1 : WRITE_KINDS.has(steps[0]!.kind) ? 2 : 0;
      const traced = this.traced;
      traced.seq = e.seq;
      traced.pid = e.pid;
      traced.tid = e.tid;
      traced.syscall = e.syscall;
      traced.ret = e.ret;
      traced.latency = e.latency;
      traced.direction = direction;
      const rel = steps[0]!.rel;
      traced.file = rel === null ? -1 : (this.topFiles.get(rel) ?? -1);
      if (traced.file >= 0) this.tally.files[traced.file]!.traced.add(e.ts, e.ts + Math.max(0, e.latency));
      for (const s of steps) {
        traced.first = s === steps[0];
        if (s.preOpen) this.push(lane, { kind: KIND.open_pre, slot: s.preOpen.slot, slot2: -1, rel: s.preOpen.rel, rel2: null, flags: s.preOpen.flags, mode: 0, offset: s.preOpen.offset, count: 0, ringDepth: 0, preOpen: null }, e.ts, null);
        this.push(lane, s, e.ts, traced);
      }
      if (++n % 4096 === 0) {
        if (this.clockStarted) this.dispatchAll();
        else if (this.pending >= WINDOW_OPS || this.farEnoughAhead(e.ts)) {
          await ready;
          this.startClock();
        }
        if (this.pending >= WINDOW_OPS) await new Promise<void>((resolve) => (this.drained = resolve));
        else if (this.clockStarted) await new Promise((resolve) => setImmediate(resolve));
        if (n % (1 << 16) === 0) this.orderer.prune((l) => this.addon.laneDone(l));
      }
    }
    this.producing = false;
    await ready;
    if (!this.clockStarted) this.startClock();
    this.dispatchAll();
    this.checkFinished();
    await all;
    const wallNs = Math.max(0, this.addon.now() - this.startAt);
    if (this.blockedPoll) clearInterval(this.blockedPoll);
    await this.pool.destroy();
    return { tally: this.tally, stopped: this.stopping, wallNs, startWallMs: this.startWallMs };
  }

  /**
   * The clock may start before the window is full once the ops planned
   * cover the start: paced, the first START_AHEAD_NS of replay time
   * (planning runs ~10x faster than most traces' pace and keeps going while
   * they run); at --speed max, a first stretch of ops, when the trace does
   * not fit the window anyway (one that does is planned whole first: on 2
   * CPUs planning beside the executor halves its issue rate, 0.81 -> 0.54
   * of the native loop). A long trace's first op goes out ~2 s sooner.
   */
  private farEnoughAhead(plannedTs: number): boolean {
    if (this.invSpeed === 0) return this.plan.ops > WINDOW_OPS && this.pending >= START_OPS_AT_MAX;
    return plannedTs * this.invSpeed >= START_AHEAD_NS;
  }

  private startClock(): void {
    this.clockStarted = true;
    this.startAt = this.addon.now() + this.startLead;
    this.startWallMs = Date.now() + this.startLead / 1e6;
    this.addon.start(this.startAt);
    this.dispatchAll();
  }

  private push(lane: Lane, s: Step, due: number, traced: TracedInfo | null): void {
    let deps: Dep[] = this.orderer.depsOf(s, lane.id);
    this.orderer.commit(lane.count + 1 + Math.max(0, Math.ceil((deps.length - 2) / 2)));
    // an op holds two dependencies; more go on wait ops in front of it
    while (deps.length > 2) {
      this.append(lane, { kind: KIND.wait, slot: -1, slot2: -1, path: null, path2: null, flags: 0, mode: 0, offset: 0, count: 0, ringDepth: 0, due, deps: deps.slice(0, 2), traced: null });
      deps = deps.slice(2);
    }
    this.append(lane, { kind: s.kind, slot: s.slot, slot2: s.slot2, path: s.rel, path2: s.rel2, flags: s.flags, mode: s.mode, offset: s.offset, count: s.count, ringDepth: s.ringDepth, due, deps, traced });
  }

  private append(lane: Lane, op: Op): void {
    let seg = lane.segments.at(-1);
    if (!seg || !seg.fits(op)) {
      seg = new Segment(lane.id, lane.count);
      lane.segments.push(seg);
    }
    seg.push(op);
    lane.count++;
    this.pending++;
  }

  private dispatchAll(): void {
    for (const lane of this.lanes) this.dispatch(lane);
  }

  private dispatch(lane: Lane): void {
    if (!this.clockStarted || lane.running || lane.timer || lane.blocked || this.stopping) return;
    let seg = lane.segments[0];
    if (seg && lane.pos >= seg.length && lane.segments.length > 1) {
      lane.segments.shift();
      lane.pos = 0;
      seg = lane.segments[0];
    }
    if (!seg || lane.pos >= seg.length) return;
    // not due soon: wait here rather than hold a worker (or a place in its queue)
    const wait = this.startAt + seg.f64[(lane.pos * OP_WORDS) / 2 + F.due]! * this.invSpeed - this.addon.now() - this.wakeLead;
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = null;
        this.dispatch(lane);
      }, wait / 1e6);
      return;
    }
    // every op planned for the lane so far, across segments: fewer hand-overs at --speed max
    const segs = lane.segments.slice(0, MAX_TASK_SEGMENTS);
    const ranges: SegmentRange[] = segs.map((sg, i) => ({ ops: sg.i32, opsF: sg.f64, strings: sg.strings, results: sg.results, base: sg.base, from: i === 0 ? lane.pos : 0, to: sg.length }));
    lane.running = true;
    this.running++;
    const task: RunTask = { lane: lane.id, ranges, horizonNs: this.horizon };
    (this.pool.run(task) as Promise<TaskResult>).then(
      (r) => this.completed(lane, segs, ranges, r),
      (err: unknown) => {
        this.running--;
        lane.running = false;
        this.stopping = true;
        this.addon.stop();
        this.failure ??= err;
        this.checkFinished();
      },
    );
  }

  private completed(lane: Lane, segs: Segment[], ranges: SegmentRange[], [status, stoppedIn, next]: TaskResult): void {
    this.running--;
    lane.running = false;
    // the segments it finished are done with; the lane goes on first, the tally after
    lane.segments.splice(0, stoppedIn);
    lane.pos = next;
    if (status === RUN_DONE || status === RUN_SLEEPING) this.dispatch(lane); // sleeping: sets the wake-up timer
    else if (status === RUN_BLOCKED) {
      lane.blocked = true;
      this.blockedPoll ??= setInterval(() => this.pollBlocked(), 1);
    }
    let ran = 0;
    for (let i = 0; i <= stoppedIn; i++) {
      const end = i === stoppedIn ? next : ranges[i]!.to;
      this.tally.add(segs[i]!, ranges[i]!.from, end);
      this.opts.opsOut?.add(segs[i]!, ranges[i]!.from, end);
      ran += end - ranges[i]!.from;
    }
    this.done += ran;
    this.pending -= ran;
    if (this.drained && this.pending < WINDOW_OPS / 2) {
      const d = this.drained;
      this.drained = null;
      d();
    }
    this.opts.onProgress?.(this.done, this.plan.ops, this.addon.now() - this.startAt);
    this.checkFinished();
  }

  /** Lanes waiting for another lane: run them again once what they wait for is done. */
  private pollBlocked(): void {
    let any = false;
    for (const lane of this.lanes) {
      if (!lane.blocked) continue;
      const seg = lane.segments[0]!;
      const w = lane.pos * OP_WORDS;
      const ready = (l: number, c: number) => l < 0 || this.addon.laneDone(l) >= c;
      if (this.stopping || (ready(seg.i32[w + W.dep1Lane]!, seg.i32[w + W.dep1Index]!) && ready(seg.i32[w + W.dep2Lane]!, seg.i32[w + W.dep2Index]!))) {
        lane.blocked = false;
        this.dispatch(lane);
      } else any = true;
    }
    if (!any && this.blockedPoll) {
      clearInterval(this.blockedPoll);
      this.blockedPoll = null;
    }
    this.checkFinished();
  }

  private checkFinished(): void {
    if (this.producing && !this.stopping) return;
    if (this.running > 0) return;
    if (!this.stopping) {
      for (const lane of this.lanes) {
        if (lane.timer || lane.blocked) return;
        const last = lane.segments.at(-1);
        if (last && !(lane.segments.length === 1 && lane.pos >= last.length)) return;
      }
    } else {
      for (const lane of this.lanes) {
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
      }
    }
    this.finished?.();
    this.finished = null;
  }
}
