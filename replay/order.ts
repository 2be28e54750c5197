/**
 * Order across lanes. Each lane (traced thread) runs its ops in trace
 * order by construction; this works out which ops of *other* lanes an op
 * must wait for: ops on the same resource keep their traced order where it
 * matters. Resources are a path's node (existence, data, metadata), a
 * directory's listing (entry changes share it, getdents is its writer),
 * and an fd slot. Readers run concurrently; a writer
 * waits for the last writer and every reader since (and readers wait for
 * the last writer), so creation comes before use, writes before reads of
 * the same file, renames and unlinks before later use, and no fd is used
 * before its open or after its close.
 *
 * copy_file_range and sendfile read one file and write another: ordered
 * as a read of the input and a whole-file write of the output.
 *
 * File data is ordered by byte range where the call names its offset
 * (pread, pwrite, their vectored forms, async reads and writes): such a
 * write waits only for the reads and writes of other lanes that overlap its
 * range, such a read for the overlapping writes, and fsync/fdatasync for
 * every write before it. Threads writing disjoint pages of one file (any
 * database) run concurrently, as traced. Calls at the file position (read,
 * write) and calls on the whole file (truncate, open O_TRUNC, fallocate)
 * order against every range.
 *
 * While the trace has shown one lane only, nothing is recorded (no other
 * lane could wait on it: the per-op cost of a single-threaded trace is
 * nil); the first op of every later lane waits for all of those but the
 * last, which is recorded when a second lane appears and ordered like any
 * other. (It may still have been running then: 256 threads starting at a
 * barrier, the first one's create holding the other 255 creates until it
 * returned made them 60-800 ms late on a FUSE file system, where the trace
 * shows them issued while it ran.)
 */
import { KIND } from './ops.js';
import { parentOf } from './plan.js';
import { WRITE_KINDS, O_CREAT, O_TRUNC, AT_REMOVEDIR, type Step } from './interpret.js';

export type Dep = readonly [lane: number, count: number];
const NO_DEPS: Dep[] = [];

interface Resource {
  writerLane: number;
  writerCount: number;
  /** lane -> ops completed needed, for reads since the last write */
  readers: Map<number, number> | null;
}

/** reads and writes at an offset the call names: ordered by byte range */
const RANGED = new Set([KIND.pread, KIND.preadv, KIND.preadv2, KIND.pwrite, KIND.pwritev, KIND.pwritev2, KIND.aread, KIND.awrite]);
const SYNCS = new Set([KIND.fsync, KIND.fdatasync, KIND.sync_file_range, KIND.afsync, KIND.afdatasync]);
/** ranges kept per file before they are folded into one per lane (bounds the scan of each call) */
const MAX_RANGES = 256;

interface Range {
  start: number;
  end: number;
  lane: number;
  count: number;
  write: boolean;
}

const NODE_WRITERS = new Set([...WRITE_KINDS, KIND.ftruncate, KIND.fallocate, KIND.truncate, KIND.chmod, KIND.fchmod, KIND.chown, KIND.fchown, KIND.utimens, KIND.utimens_fd]);
const NAMESPACE_CHANGES = new Set([KIND.unlink, KIND.mkdir, KIND.symlink]);

/** Too many ranges on one file: one per lane and kind over the whole file, in place (later calls wait for them all: conservative). */
function fold(list: Range[]): void {
  const last = new Map<string, Range>();
  for (const r of list) {
    const key = `${r.lane}:${r.write}`;
    const f = last.get(key);
    if (!f || f.count < r.count) last.set(key, { start: 0, end: Infinity, lane: r.lane, count: r.count, write: r.write });
  }
  list.length = 0;
  list.push(...last.values());
}

export class Orderer {
  /** resources by kind: a path's node, a directory's listing, an fd slot */
  private readonly nodes = new Map<string, Resource>();
  private readonly listings = new Map<string, Resource>();
  private readonly slots = new Map<number, Resource>();
  /** paths the trace mkdirs, rmdirs or renames: ops under them also wait on them */
  private readonly movedDirs = new Set<string>();
  /** byte ranges read and written at named offsets, per file */
  private readonly ranges = new Map<string, Range[]>();
  /** the range the op being planned adds (until `commit`) */
  private pendingRange: { rel: string; start: number; end: number; write: boolean } | null = null;
  /**
   * The op being planned's dependencies: (lane, count) pairs, at most one
   * per lane (the lane's index in them where depGen[lane] is this op's gen).
   * Arrays reused op after op: a Map cleared per op costs an allocation.
   */
  private readonly depLane: number[] = [];
  private readonly depCount: number[] = [];
  private ndeps = 0;
  private gen = 0;
  private depGen = new Int32Array(64);
  private depAt = new Int32Array(64);
  private lane = 0;
  /** resources the op being planned touches (until `commit`), and whether it writes them */
  private readonly touched: Resource[] = [];
  private readonly touchedWrite: boolean[] = [];
  private ntouched = 0;
  /** only lane 0 so far: its ops are not recorded; soloCount of them were planned */
  private solo = true;
  private soloCount = 0;
  /** the last of them, and the count of those before it */
  private soloLast: Step | null = null;
  private soloBefore = 0;
  /** the highest lane seen: a higher one is new */
  private lastLane = 0;

  /**
   * Dependencies of lane's next op; then `commit(count)` records it as the
   * lane's `count`-th op (after any wait ops the caller puts in front).
   */
  depsOf(step: Step, lane: number): Dep[] {
    if (this.solo) {
      if (lane === 0) {
        this.soloLast = step;
        return NO_DEPS;
      }
      this.solo = false;
      if (this.soloLast) {
        this.collect(this.soloLast, 0);
        this.commit(this.soloCount);
      }
    }
    return this.collect(step, lane);
  }

  private collect(step: Step, lane: number): Dep[] {
    this.ndeps = 0;
    this.gen++;
    this.lane = lane;
    this.ntouched = 0;
    this.pendingRange = null;
    if (lane > this.lastLane) {
      this.lastLane = lane;
      this.need(0, this.soloBefore);
    }
    const k = step.kind;
    const rel = step.rel;
    if (step.slot >= 0) {
      if (k === KIND.open || k === KIND.close || k === KIND.open_pre) this.write(this.slots, step.slot);
      else this.read(this.slots, step.slot);
    }
    if (step.slot2 >= 0) this.write(this.slots, step.slot2);
    if (rel !== null) {
      this.ancestors(rel);
      if (k === KIND.open) {
        if (step.flags & (O_CREAT | O_TRUNC)) {
          this.write(this.nodes, rel);
          this.entry(parentOf(rel) ?? '');
        } else this.read(this.nodes, rel);
      } else if (NAMESPACE_CHANGES.has(k)) {
        this.write(this.nodes, rel);
        this.entry(parentOf(rel) ?? '');
        if (k === KIND.mkdir || (k === KIND.unlink && step.flags & AT_REMOVEDIR)) this.movedDirs.add(rel);
      } else if (k === KIND.rename || k === KIND.link) {
        const rel2 = step.rel2!;
        this.ancestors(rel2);
        if (k === KIND.rename) {
          this.write(this.nodes, rel);
          this.entry(parentOf(rel) ?? '');
          this.movedDirs.add(rel);
          this.movedDirs.add(rel2);
        } else this.read(this.nodes, rel);
        this.write(this.nodes, rel2);
        this.entry(parentOf(rel2) ?? '');
      } else if (k === KIND.copy_file_range || k === KIND.sendfile) {
        // reads its input (rel) and writes its output (rel2), at the file position or an offset:
        // a read of the one and a whole-file write of the other (a truncate of the copy waits for it)
        this.read(this.nodes, rel);
        this.rangesOf(rel, false);
        const out = step.rel2;
        if (out !== null) {
          this.ancestors(out);
          this.write(this.nodes, out);
          this.rangesOf(out, true);
          this.ranges.delete(out);
        }
      } else if (k === KIND.getdents) {
        // a listing sees every entry made or removed before it, and none after
        this.write(this.listings, rel);
      } else if (RANGED.has(k) && step.offset >= 0 && step.count > 0) {
        this.ranged(rel, step.offset, step.offset + step.count, WRITE_KINDS.has(k));
      } else if (SYNCS.has(k)) {
        // after every write of the file before it; writes after it need not wait for it
        this.read(this.nodes, rel);
        this.rangesOf(rel, false);
      } else if (NODE_WRITERS.has(k)) {
        this.write(this.nodes, rel);
        this.rangesOf(rel, true);
        this.ranges.delete(rel); // ordered after them all: later calls wait for this one instead
      } else {
        // (stat, reads at the file position, ...: after the writes at named offsets too)
        this.read(this.nodes, rel);
        this.rangesOf(rel, false);
      }
    }
    if (this.ndeps === 0) return NO_DEPS;
    const out: Dep[] = new Array(this.ndeps);
    for (let i = 0; i < this.ndeps; i++) out[i] = [this.depLane[i]!, this.depCount[i]!];
    return out;
  }

  /**
   * An entry of directory `dir` made or removed: such changes of different
   * names commute (each name is ordered on its own node), so they share the
   * listing as readers do, and only a listing of the directory (getdents,
   * its writer) is ordered against them. 256 threads creating files in one
   * directory do so at once, as traced, not one after another.
   */
  private entry(dir: string): void {
    this.read(this.listings, dir);
  }

  /** A read or write of [start, end): after whole-file changes and the overlapping calls of other lanes it conflicts with. */
  private ranged(rel: string, start: number, end: number, write: boolean): void {
    this.read(this.nodes, rel);
    const list = this.ranges.get(rel);
    if (list) for (const r of list) if ((write || r.write) && r.start < end && start < r.end) this.need(r.lane, r.count);
    this.pendingRange = { rel, start, end, write };
  }

  /** Every range of rel (or only its writes): a call on the whole file. */
  private rangesOf(rel: string, reads: boolean): void {
    const list = this.ranges.get(rel);
    if (list) for (const r of list) if (reads || r.write) this.need(r.lane, r.count);
  }

  private ancestors(rel: string): void {
    if (this.movedDirs.size === 0) return;
    for (let p = parentOf(rel); p !== null && p !== ''; p = parentOf(p)) if (this.movedDirs.has(p)) this.read(this.nodes, p);
  }

  private need(lane: number, count: number): void {
    if (lane === this.lane || count <= 0) return;
    if (lane >= this.depGen.length) {
      const size = Math.max(lane + 1, this.depGen.length * 2);
      const gen = new Int32Array(size), at = new Int32Array(size);
      gen.set(this.depGen);
      at.set(this.depAt);
      this.depGen = gen;
      this.depAt = at;
    }
    if (this.depGen[lane] === this.gen) {
      const i = this.depAt[lane]!;
      if (this.depCount[i]! < count) this.depCount[i] = count;
      return;
    }
    this.depGen[lane] = this.gen;
    this.depAt[lane] = this.ndeps;
    this.depLane[this.ndeps] = lane;
    this.depCount[this.ndeps++] = count;
  }

  private resource<K>(map: Map<K, Resource>, key: K): Resource {
    let r = map.get(key);
    if (!r) map.set(key, (r = { writerLane: -1, writerCount: 0, readers: null }));
    return r;
  }

  private read<K>(map: Map<K, Resource>, key: K): void {
    const r = this.resource(map, key);
    this.need(r.writerLane, r.writerCount);
    this.touch(r, false);
  }

  private write<K>(map: Map<K, Resource>, key: K): void {
    const r = this.resource(map, key);
    this.need(r.writerLane, r.writerCount);
    if (r.readers) for (const [l, c] of r.readers) this.need(l, c);
    this.touch(r, true);
  }

  private touch(r: Resource, write: boolean): void {
    this.touched[this.ntouched] = r;
    this.touchedWrite[this.ntouched++] = write;
  }

  /** The op planned last is its lane's `count`-th op (1-based). */
  commit(count: number): void {
    if (this.solo) {
      this.soloBefore = this.soloCount;
      this.soloCount = count;
      return;
    }
    for (let i = 0; i < this.ntouched; i++) {
      const r = this.touched[i]!;
      if (this.touchedWrite[i]) {
        r.writerLane = this.lane;
        r.writerCount = count;
        r.readers = null;
      } else (r.readers ??= new Map()).set(this.lane, count);
    }
    this.ntouched = 0;
    const p = this.pendingRange;
    if (p) {
      let list = this.ranges.get(p.rel);
      if (!list) this.ranges.set(p.rel, (list = []));
      // this lane's earlier calls within the range are covered by this one (it comes after them in its lane)
      let kept = 0;
      for (const r of list) if (!(r.lane === this.lane && p.start <= r.start && r.end <= p.end && (p.write || !r.write))) list[kept++] = r;
      list.length = kept;
      if (list.length >= MAX_RANGES) fold(list);
      list.push({ start: p.start, end: p.end, lane: this.lane, count, write: p.write });
      this.pendingRange = null;
    }
  }



  /** Forget resources whose every recorded op has completed (`done(lane)`): memory stays bounded. */
  prune(done: (lane: number) => number): void {
    for (const [rel, list] of this.ranges) {
      const live = list.filter((r) => done(r.lane) < r.count);
      if (live.length === 0) this.ranges.delete(rel);
      else if (live.length < list.length) this.ranges.set(rel, live);
    }
    for (const map of [this.nodes, this.listings, this.slots] as Map<unknown, Resource>[]) {
      for (const [key, r] of map) {
        if (r.writerLane >= 0 && done(r.writerLane) < r.writerCount) continue;
        let pending = false;
        if (r.readers) for (const [l, c] of r.readers) if (done(l) < c) { pending = true; break; }
        if (!pending) map.delete(key);
      }
    }
  }
}
