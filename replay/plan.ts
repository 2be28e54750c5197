/**
 * The plan pass: streams the trace once (one row group at a time) through
 * the Interpreter and works out what a replay will do: events replayed and
 * skipped (by reason and syscall), lanes, fd slots, the traced span and
 * bytes, and the initial state the trace expects under the target (files
 * with the sizes it reads, directories, paths that must not exist yet).
 */
import path from 'node:path';
import { InFlightSweep, type InFlight } from './concurrency.js';
import { TraceReader } from '../trace/index.js';
import { IorError } from '../common/errors.js';
import { Interpreter, REPLAY_COLUMNS, READ_KINDS, WRITE_KINDS, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY, O_PATH, AT_REMOVEDIR, type Ev, type SkipReason, type Step } from './interpret.js';
import { KIND } from './ops.js';
import { COLUMNS, FILE_TYPES, TraceEventSchema, type InitState, type CodedInt32, type CodedInt64, type CodedStrings } from '../schema/index.js';

export type InitKind = 'file' | 'dir' | 'symlink' | 'any' | 'absent';

export interface InitItem {
  rel: string;
  kind: InitKind;
  /** files: at least this many bytes */
  size: number;
  /** files: the trace checked it for execute permission (access X_OK) */
  executable?: boolean;
}

export interface Plan {
  trace: string;
  events: number;
  replayed: number;
  /** ops the replay issues for the replayed events (close_range can give several) */
  ops: number;
  /** fds the trace used that were opened before the capture: opened (and positioned) on first use */
  preOpened: number;
  skipped: Partial<Record<SkipReason | 'no effect', number>>;
  bySyscall: Record<string, { replayed: number; skipped: number }>;
  lanes: number;
  /** traced calls in flight (replayed ones only), time-weighted */
  tracedInFlight: InFlight;
  /** the files (under the target) with the most traced time in calls, most first: the report has their calls in flight */
  topFiles: string[];
  slots: number;
  /** ts_ns of the first replayed event: the replay's time zero */
  firstTs: bigint;
  /** ns from the first to the last replayed event (unscaled) */
  spanNs: number;
  traced: { readBytes: number; writtenBytes: number };
  /** async operations replayed, and the sum of their traced depths (async_depth) */
  async: { ops: number; depthSum: number };
  init: InitState;
}

const ENOENT = 2, EEXIST = 17, EISDIR = 21;
/** files whose calls in flight the report shows */
export const TOP_FILES = 8;
const X_OK = 1;

/** Rows checked against the Zod event schema at the start of each row group (the rest: the checks replay relies on). */
const ZOD_SAMPLE = 256;
const FILE_TYPE_NAMES = new Set<string | null>(FILE_TYPES);

function badRow(reader: TraceReader, row: number, what: string): IorError {
  return new IorError(`${reader.path}: event ${row} is not a valid trace event (${what}): the trace is damaged or was not written by ior`);
}

/** An int64 column read as doubles without a BigInt per value (exact below 2^53; ts_ns stays so for 104 days of uptime). */
function int64Reader(col: BigInt64Array): (i: number) => number {
  const w = new Int32Array(col.buffer, col.byteOffset, col.length * 2);
  return (i) => w[2 * i + 1]! * 4294967296 + (w[2 * i]! >>> 0);
}

/** One row group of events: `load(i)` fills the shared Ev with row i. */
export interface EventBatch {
  length: number;
  load(i: number): Ev;
}

/**
 * The trace's events, one row group at a time (ts relative to `zero`, the
 * first event's when null), validated: Zod on the first rows of each row
 * group, the fields replay relies on for every row. The Ev is reused.
 * `groups`: only row groups [start, end), the first of them at row `firstRow`.
 */
/** The columns replay does not read, as values the row schema accepts. */
const UNREAD: Record<string, unknown> = { ...Object.fromEntries(COLUMNS.filter((c) => c.nullable).map((c) => [c.name, null])), comm: '' };

export async function* eventBatches(reader: TraceReader, zero: bigint | null, groups?: { start: number; end: number; firstRow: number }): AsyncGenerator<EventBatch> {
  const e: Ev = { seq: 0, ts: 0, latency: 0, pid: 0, tid: 0, syscall: '', fd: -1, fd2: -1, path: null, path2: null, flags: null, mode: null, offset: null, count: null, ret: 0, bytes: 0, fileType: null, ring: null, depth: null };
  let base: number | null = zero === null ? null : Number(zero);
  let row = groups?.firstRow ?? 0;
  // strings as dictionary codes: no string per row is made (each row's is the dictionary's own)
  for await (const b of reader.codedBatches(REPLAY_COLUMNS, groups)) {
    if (base === null && b.length > 0) base = Number(b.ts_ns[0]!);
    const syscalls = b.syscall.dictionary, syscallCodes = b.syscall.codes;
    const paths = b.path.dictionary, pathCodes = b.path.codes;
    const paths2 = b.path2.dictionary, path2Codes = b.path2.codes;
    const fileTypes = b.file_type.dictionary, fileTypeCodes = b.file_type.codes;
    const str = (dict: string[], codes: Int32Array, i: number): string | null => (codes[i]! < 0 ? null : dict[codes[i]!]!);
    const int = (col: CodedInt32, i: number): number | null => (col.defs[i] ? col.values[i]! : null);
    for (let i = 0; i < Math.min(ZOD_SAMPLE, b.length); i++) {
      const row1 = Object.fromEntries(REPLAY_COLUMNS.map((c) => {
        const col = b[c] as ArrayLike<unknown> | CodedStrings | CodedInt32 | CodedInt64;
        return [c, 'codes' in col ? str(col.dictionary, col.codes, i) : 'defs' in col ? (col.defs[i] ? col.values[i]! : null) : col[i]];
      }));
      const parsed = TraceEventSchema.safeParse({ ...UNREAD, seq: BigInt(row + i), ...row1 });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw badRow(reader, row + i, `${issue.path.join('.')}: ${issue.message}`);
      }
    }
    const ts = int64Reader(b.ts_ns), latency = int64Reader(b.latency_ns), ret = int64Reader(b.ret), bytes = int64Reader(b.bytes);
    const offsets = int64Reader(b.offset.values), offsetDefs = b.offset.defs, counts = int64Reader(b.count.values), countDefs = b.count.defs;
    const first = row, zeroTs = base!;
    row += b.length;
    yield {
      length: b.length,
      load(i: number): Ev {
        const syscall = str(syscalls, syscallCodes, i);
        if (syscall === null || syscall === '') throw badRow(reader, first + i, 'no syscall name');
        const fileType = str(fileTypes, fileTypeCodes, i);
        if (!FILE_TYPE_NAMES.has(fileType)) throw badRow(reader, first + i, `file_type ${JSON.stringify(fileType)}`);
        e.seq = first + i;
        e.ts = ts(i) - zeroTs;
        e.latency = latency(i);
        e.pid = b.pid[i]!;
        e.tid = b.tid[i]!;
        e.syscall = syscall;
        e.fd = b.fd[i]!;
        e.fd2 = b.fd2[i]!;
        e.path = str(paths, pathCodes, i);
        e.path2 = str(paths2, path2Codes, i);
        e.flags = int(b.flags, i);
        e.mode = int(b.mode, i);
        e.offset = offsetDefs[i] ? offsets(i) : null;
        e.count = countDefs[i] ? counts(i) : null;
        e.ret = ret(i);
        e.bytes = bytes(i);
        e.fileType = fileType;
        e.ring = int(b.async_ring, i);
        e.depth = int(b.async_depth, i);
        return e;
      },
    };
  }
}

interface NodeState {
  exists: boolean;
  kind: InitKind;
  /** the initial item whose content this path still holds (size requirements go there) */
  init: InitItem | null;
  /** highest byte written so far: reads below it need nothing from the initial content */
  written: number;
}

/** The namespace as the trace sees it, to find what must exist (or not) before the first event. */
class InitModel {
  private readonly nodes = new Map<string, NodeState>();
  private readonly items = new Map<string, InitItem>();
  private readonly parents = new Set<string>();
  /** directory renames (to, from): a path under `to` was under `from` at the start */
  private readonly aliases: [string, string][] = [];
  /** symlinks the trace created: link path -> target as written */
  private readonly links = new Map<string, string>();
  /** how many it created (a state for the whole trace serves a --root replay only without any: stateUnderRoot in init.ts) */
  private linksMade = 0;

  private origin(rel: string): string {
    for (let i = this.aliases.length - 1; i >= 0; i--) {
      const [to, from] = this.aliases[i]!;
      if (rel.startsWith(to + '/')) rel = from + rel.slice(to.length);
    }
    return rel;
  }

  private set(rel: string, node: NodeState): NodeState {
    if (!this.nodes.has(rel)) this.needAncestors(rel);
    this.nodes.set(rel, node);
    return node;
  }

  /**
   * A new node's directories exist: its ancestors up to the nearest known
   * one are needed as directories, outermost first, so each finds its own
   * parent known. A loop, not a recursion: a traced path may have
   * thousands of components.
   */
  private needAncestors(rel: string): void {
    const unknown: string[] = [];
    for (let p = parentOf(rel); p !== null; p = parentOf(p)) {
      this.parents.add(p);
      if (this.nodes.has(p)) {
        this.need(p, 'dir');
        break;
      }
      unknown.push(p);
    }
    for (let i = unknown.length - 1; i >= 0; i--) this.need(unknown[i]!, 'dir');
  }

  node(rel: string): NodeState | undefined {
    return this.nodes.get(rel);
  }

  /** The trace presupposes rel exists (as `kind`). */
  need(rel: string, kind: InitKind): NodeState {
    const known = this.nodes.get(rel);
    if (known) {
      // a stat first (any), a chdir or a path under it later (dir): the later, precise kind wins
      if (known.kind === 'any' && kind !== 'any') {
        known.kind = kind;
        if (known.init?.kind === 'any') known.init.kind = kind;
      }
      return known;
    }
    if (rel === '') return this.set(rel, { exists: true, kind: 'dir', init: null, written: 0 });
    const at = this.origin(rel);
    let item = this.items.get(at);
    if (!item) this.items.set(at, (item = { rel: at, kind, size: 0 }));
    else if (item.kind === 'any' || item.kind === 'absent') item.kind = kind;
    return this.set(rel, { exists: true, kind, init: item, written: 0 });
  }

  /** The trace presupposes nothing is at rel. */
  absent(rel: string): void {
    if (this.nodes.has(rel) || rel === '') return;
    const at = this.origin(rel);
    if (!this.items.has(at)) this.items.set(at, { rel: at, kind: 'absent', size: 0 });
    this.set(rel, { exists: false, kind: 'absent', init: null, written: 0 });
  }

  /** The trace creates rel: nothing may be there before. */
  created(rel: string, kind: InitKind): NodeState {
    this.absent(rel);
    return this.set(rel, { exists: true, kind, init: null, written: 0 });
  }

  removed(rel: string, kind: InitKind): void {
    this.need(rel, kind);
    this.nodes.set(rel, { exists: false, kind: 'absent', init: null, written: 0 });
    this.links.delete(rel);
  }

  renamed(from: string, to: string): void {
    const node = this.need(from, 'any');
    this.absent(to);
    this.nodes.set(to, node);
    this.nodes.set(from, { exists: false, kind: 'absent', init: null, written: 0 });
    const link = this.links.get(from);
    if (link !== undefined) {
      this.links.delete(from);
      this.links.set(to, link);
    }
    if (node.kind !== 'file' && node.kind !== 'symlink') {
      const under = from + '/';
      for (const [k, v] of [...this.nodes]) {
        if (k.startsWith(under)) {
          this.nodes.delete(k);
          this.nodes.set(to + k.slice(from.length), v);
        }
      }
      this.parents.add(to);
      this.aliases.push([to, this.origin(from)]);
    }
  }

  /** rel with links resolved in its directories (its last component stays as named). */
  private resolveParent(rel: string): string {
    const p = parentOf(rel);
    if (p === null || p === '') return rel;
    const dir = this.resolve(p, true);
    return dir === '' ? rel.slice(rel.lastIndexOf('/') + 1) : `${dir}/${rel.slice(rel.lastIndexOf('/') + 1)}`;
  }

  /** A symlink the trace made: paths through it resolve to where it points (inside the target). */
  linked(rel: string, target: string): void {
    this.created(rel, 'symlink');
    this.links.set(rel, target);
    this.linksMade++;
  }

  /**
   * rel with the symlinks the trace made resolved, as the kernel will
   * resolve it under RESOLVE_IN_ROOT (absolute targets and `..` stay inside).
   */
  resolve(rel: string, followLast: boolean): string {
    if (this.links.size === 0) return rel;
    for (let hops = 0; hops < 40; hops++) {
      const parts = rel.split('/');
      let changed = false;
      for (let i = 1; i <= parts.length; i++) {
        const prefix = parts.slice(0, i).join('/');
        const target = this.links.get(prefix);
        if (target === undefined) continue;
        if (i === parts.length && !followLast) return rel; // the link itself
        const base = target.startsWith('/') ? target : `/${parentOf(prefix)}/${target}`;
        rel = path.posix.normalize(`/${base}/${parts.slice(i).join('/')}`).replace(/^\/+/, '').replace(/\/+$/, '');
        changed = true;
        break;
      }
      if (!changed) return rel;
    }
    return rel;
  }

  /** Reading [0, end) of rel's current content. */
  read(rel: string | null, end: number): void {
    if (rel === null) return;
    const n = this.nodes.get(rel) ?? this.need(rel, 'file');
    if (n.init && end > n.written && end > n.init.size) n.init.size = end;
  }

  wrote(rel: string | null, end: number): void {
    if (rel === null) return;
    const n = this.nodes.get(rel) ?? this.need(rel, 'file');
    if (end > n.written) n.written = end;
  }

  /** Size set outright (O_TRUNC, truncate): the initial content no longer matters. */
  sized(rel: string | null, size: number): void {
    if (rel === null) return;
    const n = this.nodes.get(rel) ?? this.need(rel, 'file');
    n.init = null;
    n.written = size;
  }

  state(): InitState {
    const existing = [...this.items.values()].filter((i) => i.kind !== 'absent');
    const ancestors = new Set<string>();
    // up to the first ancestor already known: its own are in the set too (linear in the items, not quadratic in a path's depth)
    for (const i of existing) for (let p = parentOf(i.rel); p !== null && p !== '' && !ancestors.has(p); p = parentOf(p)) ancestors.add(p);
    const dirs: string[] = [], files: InitState['files'] = [], symlinks: string[] = [], absent: string[] = [];
    let bytes = 0;
    for (const i of this.items.values()) {
      if (i.kind === 'absent') {
        if (!ancestors.has(i.rel)) absent.push(i.rel);
      } else if (i.kind === 'dir' || ancestors.has(i.rel)) dirs.push(i.rel);
      else if (i.kind === 'symlink') symlinks.push(i.rel);
      else {
        files.push(i.executable ? { rel: i.rel, size: i.size, executable: true } : { rel: i.rel, size: i.size });
        bytes += i.size;
      }
    }
    // outermost first (init makes each directory inside an existing one); depths counted once, not per comparison
    const depth = new Map(dirs.map((d) => [d, d.split('/').length]));
    dirs.sort((a, b) => depth.get(a)! - depth.get(b)! || (a < b ? -1 : 1));
    files.sort((a, b) => (a.rel < b.rel ? -1 : 1));
    return { dirs, files, symlinks: symlinks.sort(), absent: absent.sort(), bytes, linksMade: this.linksMade };
  }

  /** Apply one replayed step with the traced result. */
  apply(step: Step, e: Ev): void {
    const s = this.links.size === 0 ? step : { ...step, rel: step.rel === null ? null : this.resolveParent(step.rel), rel2: step.rel2 === null || step.kind === KIND.symlink ? step.rel2 : this.resolveParent(step.rel2) };
    const ok = e.ret >= 0;
    const errno = ok ? 0 : -e.ret;
    const k = s.kind;
    if (s.preOpen) this.need(s.preOpen.rel, s.preOpen.flags & O_DIRECTORY ? 'dir' : s.preOpen.flags & O_PATH ? 'symlink' : 'file');
    if (k === KIND.open) {
      const rel = s.rel!;
      if (ok) {
        if (s.flags & O_CREAT && (s.flags & O_EXCL || !this.nodes.has(rel))) {
          const n = this.created(rel, s.flags & O_DIRECTORY ? 'dir' : 'file');
          n.written = 0;
        } else {
          this.need(rel, s.flags & O_DIRECTORY || e.fileType === 'directory' ? 'dir' : e.fileType === 'symlink' ? 'symlink' : 'file');
          if (s.flags & O_TRUNC) this.sized(rel, 0);
        }
      } else if (errno === ENOENT && !(s.flags & O_CREAT)) this.absent(rel);
      else if (errno === EEXIST) this.need(rel, 'any');
      else if (errno === EISDIR) this.need(rel, 'dir');
    } else if (READ_KINDS.has(k)) {
      if (ok && e.ret > 0) this.read(s.rel, (k === KIND.read || k === KIND.readv ? e.offset ?? 0 : s.offset) + e.ret);
    } else if (WRITE_KINDS.has(k)) {
      if (ok && e.ret > 0) this.wrote(s.rel, (k === KIND.write || k === KIND.writev ? e.offset ?? 0 : s.offset) + e.ret);
    } else if (k === KIND.copy_file_range || k === KIND.sendfile) {
      // the input is read from the traced position; where the output was written is not traced, so its initial content is kept
      if (ok && e.ret > 0) this.read(s.rel, (e.offset ?? 0) + e.ret);
    } else if (k === KIND.lseek) {
      if (ok && s.flags === 2) this.read(s.rel, e.ret - s.offset);
    } else if (k === KIND.ftruncate || k === KIND.truncate) {
      if (k === KIND.truncate) ok ? this.need(s.rel!, 'file') : errno === ENOENT && this.absent(s.rel!);
      if (ok) this.sized(s.rel, s.count);
    } else if (k === KIND.statat || k === KIND.statx || k === KIND.access || k === KIND.chmod || k === KIND.chown || k === KIND.utimens || k === KIND.readlink || k === KIND.chdir) {
      if (s.rel === null) return;
      if (ok) {
        const n = this.need(s.rel, k === KIND.chdir ? 'dir' : k === KIND.readlink ? 'symlink' : 'any');
        if (k === KIND.access && s.mode & X_OK && n.init) n.init.executable = true;
      } else if (errno === ENOENT) this.absent(s.rel);
    } else if (k === KIND.unlink) {
      if (ok) this.removed(s.rel!, s.flags & AT_REMOVEDIR ? 'dir' : 'file');
      else if (errno === ENOENT) this.absent(s.rel!);
    } else if (k === KIND.mkdir) {
      if (ok) this.created(s.rel!, 'dir');
      else if (errno === EEXIST) this.need(s.rel!, 'dir');
    } else if (k === KIND.rename) {
      if (ok) this.renamed(s.rel!, s.rel2!);
      else if (errno === ENOENT) this.absent(s.rel!);
    } else if (k === KIND.link) {
      if (ok) {
        this.need(s.rel!, 'file');
        this.created(s.rel2!, 'file');
      }
    } else if (k === KIND.symlink) {
      if (ok) this.linked(s.rel!, s.rel2 ?? '');
      else if (errno === EEXIST) this.need(s.rel!, 'any');
    }
  }
}

export function parentOf(rel: string): string | null {
  if (rel === '') return null;
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

function emptyPlan(trace: string): Plan {
  return {
    trace, events: 0, replayed: 0, ops: 0, preOpened: 0, skipped: {}, bySyscall: {}, lanes: 0, tracedInFlight: { mean: 0, p99: 0, max: 0 }, topFiles: [], slots: 0,
    firstTs: 0n, spanNs: 0, traced: { readBytes: 0, writtenBytes: 0 }, async: { ops: 0, depthSum: 0 }, init: { dirs: [], files: [], symlinks: [], absent: [], bytes: 0, linksMade: 0 },
  };
}

/**
 * The plan, worked out one event at a time: the same counting serves the
 * plan pass (--dry-run, the init) and the run's own streaming pass, which
 * replays without a pass before it. What it keeps is bounded by the
 * trace's files and threads, not its events: the initial state (`init`)
 * and the files' traced time (`files`, to pick topFiles) only when asked.
 */
export class Planner {
  readonly plan: Plan;
  readonly interp: Interpreter;
  private readonly model: InitModel | null;
  private readonly fileTime: Map<string, number> | null;
  private readonly inFlight: InFlightSweep | null;
  /** ts (relative to the trace's first event) of the first and last replayed events */
  first: number | null = null;
  private last = 0;
  /** the lane of the event add() last returned steps for */
  lane = 0;
  private firstTsRead: Promise<bigint> | null = null;

  /**
   * `inFlight`: sweep the traced calls in flight (a fifth of the pass's time; a plan pass for the init alone skips it);
   * `root`: the traced directory the target stands for (--root, relative; '' for /)
   */
  constructor(trace: string, want: { init: boolean; files: boolean; inFlight?: boolean; root?: string }) {
    this.interp = new Interpreter(want.root);
    this.plan = emptyPlan(path.resolve(trace));
    this.model = want.init ? new InitModel() : null;
    this.fileTime = want.files ? new Map() : null;
    this.inFlight = want.inFlight === false ? null : new InFlightSweep();
  }

  /** The steps that replay e, or null if it is skipped (counted either way). */
  add(e: Ev): Step[] | null {
    const plan = this.plan;
    plan.events++;
    const per = (plan.bySyscall[e.syscall] ??= { replayed: 0, skipped: 0 });
    const steps = this.interp.interpret(e);
    if (typeof steps === 'string' || steps.length === 0) {
      const reason = typeof steps === 'string' ? steps : 'no effect';
      plan.skipped[reason] = (plan.skipped[reason] ?? 0) + 1;
      per.skipped++;
      return null;
    }
    per.replayed++;
    plan.replayed++;
    this.lane = this.interp.laneOf(e);
    const end = e.ts + Math.max(0, e.latency);
    this.inFlight?.add(e.ts, end);
    const rel = steps[0]!.rel;
    if (this.fileTime && rel !== null && rel !== '') this.fileTime.set(rel, (this.fileTime.get(rel) ?? 0) + (end - e.ts));
    if (e.ring !== null && steps[0]!.kind >= KIND.aread) {
      // (an io_uring path request is replayed as its syscall, not as an async operation)
      plan.async.ops++;
      plan.async.depthSum += e.depth ?? 1;
    }
    if (this.first === null) this.first = e.ts;
    this.last = e.ts;
    for (const s of steps) {
      if (s.preOpen) {
        plan.preOpened++;
        plan.ops++;
      }
      plan.ops++;
      this.model?.apply(s, e);
      if (e.ret > 0 && READ_KINDS.has(s.kind)) plan.traced.readBytes += e.bytes;
      if (e.ret > 0 && (WRITE_KINDS.has(s.kind) || s.kind === KIND.copy_file_range || s.kind === KIND.sendfile)) plan.traced.writtenBytes += e.bytes;
      if (e.ret > 0 && (s.kind === KIND.copy_file_range || s.kind === KIND.sendfile)) plan.traced.readBytes += e.bytes;
    }
    return steps;
  }

  /** The first replayed event's ts_ns (absolute: the first row group's first ts plus `first`), read once. */
  firstTs(reader: TraceReader): Promise<bigint> {
    return (this.firstTsRead ??= firstTsOf(reader, this.first));
  }

  /** The initial state the events so far expect (a Planner made with `init`). */
  initState(): InitState {
    if (!this.model) throw new Error('a Planner without init has no initial state');
    return this.model.state();
  }

  /** The files with the most traced time in calls so far, most first. */
  topFiles(): string[] {
    return [...(this.fileTime ?? [])].sort((a, b) => b[1] - a[1]).slice(0, TOP_FILES).map(([rel]) => rel);
  }

  /** The plan once every event is in (the sweep of calls in flight ends here). */
  async finish(reader: TraceReader): Promise<Plan> {
    const plan = this.plan;
    if (plan.events === 0) throw new IorError(`${reader.path} holds no events: nothing to replay`);
    plan.lanes = this.interp.laneCount;
    plan.slots = this.interp.slotCount;
    if (this.inFlight) plan.tracedInFlight = this.inFlight.result();
    if (this.fileTime) plan.topFiles = this.topFiles();
    plan.spanNs = this.first === null ? 0 : this.last - this.first;
    plan.firstTs = await this.firstTs(reader);
    if (this.model) plan.init = this.initState();
    return plan;
  }
}

/**
 * Read the trace once and work out the whole plan. `onProgress` gets events
 * read so far. `inFlight: false`: no traced calls in flight (a plan pass for
 * the init: the run that follows sweeps them itself); `root`: as --root.
 */
export async function planReplay(tracePath: string, onProgress?: (done: number, total: number) => void, want: { inFlight: boolean; root?: string } = { inFlight: true }): Promise<Plan> {
  const reader = await TraceReader.open(tracePath);
  const planner = new Planner(tracePath, { init: true, files: true, inFlight: want.inFlight, root: want.root });
  for await (const batch of eventBatches(reader, null)) {
    for (let row = 0; row < batch.length; row++) planner.add(batch.load(row));
    onProgress?.(planner.plan.events, reader.rowCount);
  }
  return planner.finish(reader);
}

/** Absolute ts_ns of the event `relative` ns after the trace's first event. */
async function firstTsOf(reader: TraceReader, relative: number | null): Promise<bigint> {
  for await (const b of reader.batches(['ts_ns'])) return b.length > 0 ? b.ts_ns[0]! + BigInt(relative ?? 0) : 0n;
  return 0n;
}
