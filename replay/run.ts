/**
 * The run: streams the trace through the Planner (no pass before it: the
 * first ops go out while the rest is read), encodes
 * each lane's ops into segments (bounded window), and submits them to the
 * native executor, where each lane has a thread of its own (native/replay/
 * lanes.c) that sleeps until each op is due, waits for its cross-lane
 * dependencies, and issues the syscall. Every lane that is active at once
 * runs at once, and nothing is handed over per op or per range: the main
 * thread only plans, submits, and tallies the results it finds by polling
 * each lane's progress.
 */
import { formatCount } from '../common/format.js';
import { TraceReader } from '../trace/index.js';
import { READ_KINDS, WRITE_KINDS, type Step } from './interpret.js';
import { eventBatches, Planner, TOP_FILES, type Plan } from './plan.js';
import { IorError } from '../common/errors.js';
import { Orderer, type Dep } from './order.js';
import { F, FIRST_SEGMENT_OPS, KIND, OP_WORDS, SEGMENT_OPS, Segment, type OpFields, type TracedInfo } from './ops.js';
import type { ReplayAddon } from './native.js';
import { Tally } from './tally.js';
import type { OpsOut } from './ops-out.js';

export interface RunOptions {
  trace: string;
  /** 0: as fast as possible */
  speed: number;
  /** the traced directory the target stands for (--root, relative; '' for /) */
  root: string;
  /** the files whose calls in flight the report shows (a plan pass's); none: those with the most traced time in the ops planned before the clock starts */
  topFiles?: string[];
  onProgress?: (opsDone: number, eventsPlanned: number, eventsTotal: number, elapsedNs: number) => void;
  /** --ops-out: every op's row as results come back */
  opsOut?: OpsOut;
}

export interface RunOutcome {
  /** what the run planned: the whole trace unless it stopped */
  plan: Plan;
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
/** The clock starts once this many ops are planned at --speed max (see farEnoughAhead), or this much replay time paced (or the window is full). */
const START_OPS_AT_MAX = 1 << 16;
/** --speed max: a trace planned whole within this long (ms) is planned whole before the clock starts */
const PLAN_WHOLE_MS = 600;
const START_AHEAD_NS = 2e9;
/**
 * A lane's ops go to its thread this long (wall time) before the first of
 * them is due: its thread sleeps the rest precisely in native (main-thread
 * timers run late on a busy host: GC, CPU contention, 10-20 ms seen), and
 * lanes not due yet hold no thread.
 */
const SUBMIT_AHEAD_NS = 250e6;
/**
 * The replay's time zero is this long after the clock is set: paced, the
 * first lanes' threads start as early before their first op as the others'
 * (256 threads starting 20 ms before their first calls were due made those
 * calls up to 70 ms late); at --speed max the threads start as they can.
 */
const START_LEAD_PACED_NS = SUBMIT_AHEAD_NS;
const START_LEAD_MAX_NS = 20e6;
/** segments kept for reuse at most (~0.4 MB each at most) */
const SPARE_SEGMENTS = 64;
/** an op that only waits for the lanes in its dependencies (ahead of an op with more than two) */
const WAIT_OP: OpFields = { kind: KIND.wait, slot: -1, slot2: -1, rel: null, rel2: null, flags: 0, mode: 0, offset: 0, count: 0, ringDepth: 0 };
/** How often the main thread looks for results (ms). */
const POLL_MS = 2;

class Lane {
  readonly segments: Segment[] = [];
  /** ops pushed so far (lane-wide index of the next one) */
  count = 0;
  /** ops handed to the lane's thread */
  submitted = 0;
  /** ops whose results are tallied */
  tallied = 0;
  timer: NodeJS.Timeout | null = null;
  /** ops the lane's last segment had room for (0: none yet) */
  lastCapacity = 0;
  constructor(readonly id: number) {}
}

export class Runner {
  private readonly lanes: Lane[] = [];
  /** lanes with ops submitted and not tallied yet */
  private readonly active = new Set<Lane>();
  private readonly orderer = new Orderer();
  /** segments done with (executed, tallied), for new ops */
  private readonly spare: Segment[] = [];
  private readonly tally: Tally;
  private pending = 0;
  private done = 0;
  private producing = true;
  private stopping = false;
  private poller: NodeJS.Timeout | null = null;
  private drained: (() => void) | null = null;
  private finished: (() => void) | null = null;
  private clockStarted = false;
  /** native clock (ns since setup) at which the replay's time zero is */
  private startAt = 0;
  private startWallMs = 0;
  /** an error submitting ops: the run stops and it is rethrown */
  failure: unknown = null;
  private readonly invSpeed: number;
  /** the event being planned (segments copy it) */
  private readonly traced: TracedInfo = { seq: 0, pid: 0, tid: 0, syscall: '', ret: 0, latency: 0, direction: 0, file: -1, first: true };
  /**
   * Files as ops name them (tracedFile): until the measured files are
   * picked, every file met gets a number and its traced time is summed;
   * after, only the measured ones have one.
   */
  private fileIds = new Map<string, number>();
  private fileTime: number[] = [];
  private picking: boolean;
  private measured: string[] = [];
  private readonly planner: Planner;
  /** events in the trace */
  private total = 0;
  /** when the run started reading the trace (performance.now()) */
  private planningSince = 0;
  /** lanes and fd slots the executor has room for */
  private grownLanes = 0;
  private grownSlots = 0;

  constructor(
    private readonly addon: ReplayAddon,
    private readonly opts: RunOptions,
  ) {
    this.planner = new Planner(opts.trace, { init: false, files: false, root: opts.root });
    this.tally = new Tally(opts.speed);
    this.picking = opts.topFiles === undefined;
    if (opts.topFiles) this.measure(opts.topFiles.map((rel, i) => [rel, i]), opts.topFiles.length);
    this.invSpeed = opts.speed > 0 ? 1 / opts.speed : 0;
  }

  /** Ctrl-C: no new ops; calls in flight complete, and the lanes' threads stop. */
  stop(): void {
    this.stopping = true;
    this.addon.stop();
    this.drained?.();
    this.checkFinished();
  }

  async run(): Promise<RunOutcome> {
    const reader = await TraceReader.open(this.opts.trace);
    this.total = reader.rowCount;
    this.planningSince = performance.now();
    const planner = this.planner;
    const all = new Promise<void>((resolve) => (this.finished = resolve));
    let n = 0;
    read: for await (const batch of eventBatches(reader, null)) for (let row = 0; row < batch.length; row++) {
      if (this.stopping) break read;
      const e = batch.load(row);
      const steps = planner.add(e);
      if (steps === null) continue;
      // due times count from the first replayed event: the replay's time zero
      const due = e.ts - planner.first!;
      let lane = this.lanes[planner.lane];
      if (!lane) this.lanes.push((lane = new Lane(planner.lane)));
      const direction = steps[0]!.kind === KIND.copy_file_range || steps[0]!.kind === KIND.sendfile ? 3 : READ_KINDS.has(steps[0]!.kind) ? 1 : WRITE_KINDS.has(steps[0]!.kind) ? 2 : 0;
      const traced = this.traced;
      traced.seq = e.seq;
      traced.pid = e.pid;
      traced.tid = e.tid;
      traced.syscall = e.syscall;
      traced.ret = e.ret;
      traced.latency = e.latency;
      traced.direction = direction;
      traced.file = this.fileOf(steps[0]!.rel, e.latency);
      for (const s of steps) {
        traced.first = s === steps[0];
        if (s.preOpen) this.push(lane, { kind: KIND.open_pre, slot: s.preOpen.slot, slot2: -1, rel: s.preOpen.rel, rel2: null, flags: s.preOpen.flags, mode: 0, offset: s.preOpen.offset, count: 0, ringDepth: 0, preOpen: null }, due, null);
        this.push(lane, s, due, traced);
      }
      if (++n % 4096 === 0) {
        if (!this.clockStarted && (this.pending >= WINDOW_OPS || this.farEnoughAhead(due))) await this.startClock(reader);
        else this.submitAll();
        if (this.pending >= WINDOW_OPS) await new Promise<void>((resolve) => (this.drained = resolve));
        else if (this.clockStarted) await new Promise((resolve) => setImmediate(resolve));
        if (n % (1 << 16) === 0) this.orderer.prune((l) => this.addon.laneDone(l));
      }
    }
    this.producing = false;
    if (!this.clockStarted) await this.startClock(reader);
    this.submitAll();
    this.checkFinished();
    await all;
    const wallNs = Math.max(0, this.addon.now() - this.startAt);
    const plan = { ...(await planner.finish(reader)), topFiles: this.measured };
    return { plan, tally: this.tally, stopped: this.stopping, wallNs, startWallMs: this.startWallMs };
  }

  /**
   * The clock may start before the window is full once the ops planned
   * cover the start: paced, the first START_AHEAD_NS of replay time
   * (planning runs ~10x faster than most traces' pace and keeps going while
   * they run); at --speed max, a first stretch of ops, unless the whole
   * trace will be planned within PLAN_WHOLE_MS (at the rate so far): on 2
   * CPUs, planning beside the executor costs it calls/s (the issue-rate
   * benchmark, 400k events: 0.86 -> 0.70 of the native loop), while
   * planning a long trace whole first puts its first call seconds late.
   */
  private farEnoughAhead(plannedDue: number): boolean {
    if (this.invSpeed > 0) return plannedDue * this.invSpeed >= START_AHEAD_NS;
    if (this.pending < START_OPS_AT_MAX) return false;
    const planned = this.planner.plan.events, elapsed = performance.now() - this.planningSince;
    return elapsed + ((this.total - planned) * elapsed) / planned > PLAN_WHOLE_MS;
  }

  private async startClock(reader: TraceReader): Promise<void> {
    if (this.opts.opsOut) this.opts.opsOut.zero(await this.planner.firstTs(reader));
    this.pickFiles();
    this.clockStarted = true;
    const lead = this.invSpeed > 0 ? START_LEAD_PACED_NS : START_LEAD_MAX_NS;
    this.startAt = this.addon.now() + lead;
    this.startWallMs = Date.now() + lead / 1e6;
    this.addon.start(this.startAt);
    this.poller = setInterval(() => this.poll(), POLL_MS);
    this.submitAll();
  }

  /** The number ops carry for the file rel (-1: not measured), its traced time summed while the measured files are not picked yet. */
  private fileOf(rel: string | null, latency: number): number {
    if (rel === null || rel === '') return -1;
    let id = this.fileIds.get(rel);
    if (!this.picking) return id ?? -1;
    if (id === undefined) {
      this.fileIds.set(rel, (id = this.fileTime.length));
      this.fileTime.push(0);
    }
    this.fileTime[id] += Math.max(0, latency);
    return id;
  }

  /** Measure these files: (path, number the ops carry); `count` numbers given out so far. */
  private measure(files: [string, number][], count: number): void {
    this.measured = files.map(([rel]) => rel);
    this.fileIds = new Map(files);
    const index = new Int32Array(count).fill(-1);
    files.forEach(([, id], i) => (index[id] = i));
    this.tally.measure(files.length, index);
  }

  /** The files with the most traced time in calls among the ops planned so far (before the first is tallied). */
  private pickFiles(): void {
    if (!this.picking) return;
    this.picking = false;
    const top = [...this.fileIds].sort((a, b) => this.fileTime[b[1]]! - this.fileTime[a[1]]!).slice(0, TOP_FILES);
    this.measure(top, this.fileTime.length);
    this.fileTime = [];
  }

  private push(lane: Lane, s: Step, due: number, traced: TracedInfo | null): void {
    let deps: Dep[] = this.orderer.depsOf(s, lane.id);
    this.orderer.commit(lane.count + 1 + Math.max(0, Math.ceil((deps.length - 2) / 2)));
    // an op holds two dependencies; more go on wait ops in front of it
    while (deps.length > 2) {
      this.append(lane, WAIT_OP, due, deps.slice(0, 2), null);
      deps = deps.slice(2);
    }
    this.append(lane, s, due, deps, traced);
  }

  private append(lane: Lane, op: OpFields, due: number, deps: Dep[], traced: TracedInfo | null): void {
    let seg = lane.segments.at(-1);
    if (!seg || !seg.fits(op)) {
      const capacity = lane.lastCapacity ? Math.min(2 * lane.lastCapacity, SEGMENT_OPS) : FIRST_SEGMENT_OPS;
      const at = this.spare.findIndex((sg) => sg.capacity >= capacity);
      const spare = at >= 0 ? this.spare.splice(at, 1)[0]!.reuse(lane.id, lane.count) : null;
      seg = spare?.fits(op) ? spare : new Segment(lane.id, lane.count, op, capacity);
      lane.lastCapacity = seg.capacity;
      lane.segments.push(seg);
    }
    seg.push(op, due, deps, traced);
    lane.count++;
    this.pending++;
  }

  private submitAll(): void {
    if (!this.clockStarted) return;
    const interp = this.planner.interp;
    if (interp.laneCount > this.grownLanes || interp.slotCount > this.grownSlots) {
      try {
        this.addon.grow((this.grownLanes = interp.laneCount), (this.grownSlots = interp.slotCount));
      } catch (err) {
        throw new IorError(`the trace has more traced threads (${formatCount(interp.laneCount)}) or fds opened (${formatCount(interp.slotCount)}) than a replay can hold: ${(err as Error).message}`);
      }
    }
    for (const lane of this.lanes) this.submit(lane);
  }

  /** Hand the lane's thread the ops planned for it, once the first of them is due within SUBMIT_AHEAD_NS. */
  private submit(lane: Lane): void {
    if (!this.clockStarted || this.stopping || lane.timer || lane.submitted >= lane.count) return;
    const first = lane.segments.find((sg) => sg.base + sg.length > lane.submitted)!;
    const wait = this.startAt + first.f64[((lane.submitted - first.base) * OP_WORDS) / 2 + F.due]! * this.invSpeed - this.addon.now() - SUBMIT_AHEAD_NS;
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = null;
        this.submit(lane);
      }, wait / 1e6);
      return;
    }
    for (const sg of lane.segments) {
      if (sg.base + sg.length <= lane.submitted) continue;
      try {
        this.addon.submit(sg.i32, sg.f64, sg.strings, sg.results, lane.id, sg.base, lane.submitted - sg.base, sg.length);
      } catch (err) {
        this.failure ??= err;
        this.stop();
        return;
      }
      lane.submitted = sg.base + sg.length;
      this.active.add(lane);
    }
  }

  /** Tally the results the lanes' threads have written since the last poll; threads for lanes that wait for one. */
  private poll(): void {
    this.addon.kick();
    let ran = 0;
    for (const lane of this.active) {
      ran += this.tallyLane(lane, this.addon.laneFinal(lane.id));
      if (lane.tallied >= lane.submitted) this.active.delete(lane);
    }
    if (ran === 0) return this.checkFinished();
    this.done += ran;
    this.pending -= ran;
    if (this.drained && this.pending < WINDOW_OPS / 2) {
      const d = this.drained;
      this.drained = null;
      d();
    }
    this.opts.onProgress?.(this.done, this.planner.plan.events, this.total, this.addon.now() - this.startAt);
    this.checkFinished();
  }

  /** Tally the lane's ops up to `upto` (lane-wide), and let go of the segments done with. */
  private tallyLane(lane: Lane, upto: number): number {
    const before = lane.tallied;
    for (const sg of lane.segments) {
      const from = Math.max(lane.tallied, sg.base) - sg.base, to = Math.min(upto, sg.base + sg.length) - sg.base;
      if (from >= to) continue;
      this.tally.add(sg, from, to);
      this.opts.opsOut?.add(sg, from, to);
      lane.tallied = sg.base + to;
    }
    // a segment no op will be added to (full, or not the last) and all tallied
    while (lane.segments.length > 0) {
      const sg = lane.segments[0]!;
      if (sg.base + sg.length > lane.tallied || (sg === lane.segments.at(-1) && !sg.full)) break;
      lane.segments.shift();
      if (this.spare.length < SPARE_SEGMENTS) this.spare.push(sg);
    }
    return lane.tallied - before;
  }

  private checkFinished(): void {
    if (!this.finished) return;
    if (this.stopping) {
      // the threads leave after their current op: then what they did is final
      this.addon.stopThreads();
      for (const lane of this.lanes) {
        if (lane.timer) clearTimeout(lane.timer);
        lane.timer = null;
        this.tallyLane(lane, this.addon.laneFinal(lane.id));
      }
    } else {
      if (this.producing) return;
      for (const lane of this.lanes) if (lane.tallied < lane.count) return;
    }
    if (this.poller) clearInterval(this.poller);
    this.poller = null;
    this.finished();
    this.finished = null;
  }
}
