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

const NODE_WRITERS = new Set([...WRITE_KINDS, KIND.ftruncate, KIND.fallocate, KIND.truncate, KIND.chmod, KIND.fchmod, KIND.chown, KIND.fchown, KIND.utimens, KIND.utimens_fd]);
const NAMESPACE_CHANGES = new Set([KIND.unlink, KIND.mkdir, KIND.symlink]);

export class Orderer {
  /** resources by kind: a path's node, a directory's listing, an fd slot */
  private readonly nodes = new Map<string, Resource>();
  private readonly listings = new Map<string, Resource>();
  private readonly slots = new Map<number, Resource>();
  /** paths the trace mkdirs, rmdirs or renames: ops under them also wait on them */
  private readonly movedDirs = new Set<string>();
  private readonly deps = new Map<number, number>();
  private lane = 0;
  /** resources the op being planned touches (until `commit`) */
  private readonly touched: { r: Resource; write: boolean }[] = [];

  /**
   * Dependencies of lane's next op; then `commit(count)` records it as the
   * lane's `count`-th op (after any wait ops the caller puts in front).
   */
  depsOf(step: Step, lane: number): Dep[] {
    this.deps.clear();
    this.lane = lane;
    this.touched.length = 0;
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
      } else if (k === KIND.getdents) {
        // a listing sees every entry made or removed before it, and none after
        this.write(this.listings, rel);
      } else if (NODE_WRITERS.has(k)) {
        this.write(this.nodes, rel);
      } else {
        this.read(this.nodes, rel);
      }
    }
    if (this.deps.size === 0) return NO_DEPS;
    const out: Dep[] = [];
    for (const [l, c] of this.deps) out.push([l, c]);
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

  private ancestors(rel: string): void {
    if (this.movedDirs.size === 0) return;
    for (let p = parentOf(rel); p !== null && p !== ''; p = parentOf(p)) if (this.movedDirs.has(p)) this.read(this.nodes, p);
  }

  private need(lane: number, count: number): void {
    if (lane === this.lane || count <= 0) return;
    const have = this.deps.get(lane);
    if (have === undefined || have < count) this.deps.set(lane, count);
  }

  private resource<K>(map: Map<K, Resource>, key: K): Resource {
    let r = map.get(key);
    if (!r) map.set(key, (r = { writerLane: -1, writerCount: 0, readers: null }));
    return r;
  }

  private read<K>(map: Map<K, Resource>, key: K): void {
    const r = this.resource(map, key);
    this.need(r.writerLane, r.writerCount);
    this.touched.push({ r, write: false });
  }

  private write<K>(map: Map<K, Resource>, key: K): void {
    const r = this.resource(map, key);
    this.need(r.writerLane, r.writerCount);
    if (r.readers) for (const [l, c] of r.readers) this.need(l, c);
    this.touched.push({ r, write: true });
  }

  /** The op planned last is its lane's `count`-th op (1-based). */
  commit(count: number): void {
    for (const { r, write } of this.touched) {
      if (write) {
        r.writerLane = this.lane;
        r.writerCount = count;
        r.readers = null;
      } else (r.readers ??= new Map()).set(this.lane, count);
    }
    this.touched.length = 0;
  }

  /** Forget resources whose every recorded op has completed (`done(lane)`): memory stays bounded. */
  prune(done: (lane: number) => number): void {
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
