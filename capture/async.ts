/**
 * AsyncTracker: pairs the kernel's async submit and completion records
 * (bpf/async.bpf.h) into one operation each, which the decoder writes as a
 * row: submit time and thread, completion result and time, the ring it
 * went through and the ring's depth when it was submitted.
 *
 * Records come in ring-buffer order. io_uring's submit record always
 * precedes its completion (the kernel posts the CQE after the submit
 * tracepoint). An aio operation is recorded at io_submit's exit, so another
 * thread's io_getevents may reap it first: such a completion waits here
 * for its submission (and one older than the submission it would pair with
 * belongs to an operation from before the capture: unmatched).
 *
 * A ring's rows are written in submission order (a replay issues them in
 * that order, at that depth): a completed operation waits for the ones
 * submitted before it on its ring, up to REORDER_MAX waiting, past which
 * completed ones go out as they are (an operation that never completes,
 * such as a poll, holds back nothing for long).
 */
import type { AsyncEnd, AsyncOp } from '../schema/index.js';

/** An operation as its submit record tells it (the decoder resolves fd and path). */
export interface SubmittedOp {
  ts: bigint;
  pid: number;
  tid: number;
  comm: string;
  op: AsyncOp;
  fd: number;
  path: string | null;
  /** renameat's new path */
  path2: string | null;
  fileType: number;
  flags: number;
  /** the mode of openat/mkdirat, the mask of statx */
  mode: number | null;
  /** openat/close of a direct descriptor: its slot + 1 (-1: allocated by the kernel, the result), else 0 */
  fileSlot: number;
  offset: bigint | null;
  count: bigint | null;
  data: bigint;
}

/** An operation with its completion, as it becomes a row. */
export interface CompletedOp {
  sub: SubmittedOp;
  /** the ring's number in the trace */
  ringId: number;
  depth: number;
  latency: bigint;
  ret: bigint;
  end: AsyncEnd;
}

/** One aio context or io_uring ring: its operations by key (the iocb's or request's address, as a number). */
export interface Ring {
  id: number;
  inFlight: number;
  pending: Map<number, Pending>;
  /** aio completions reaped before their submit record arrived */
  early: Map<number, Completion>;
  /** its operations in submission order, from the oldest not yet written */
  queue: Pending[];
  head: number;
}

/** completed operations a ring holds back for an earlier one still in flight, at most */
const REORDER_MAX = 4096;

interface Pending extends CompletedOp {
  ring: Ring;
  done: boolean;
  written: boolean;
}

interface Completion {
  ts: bigint;
  ret: bigint;
  end: AsyncEnd;
}

export class AsyncTracker {
  /** io_uring rings by their kernel address; aio contexts by process, then context id (a user address) */
  private readonly urings = new Map<number, Ring>();
  private readonly aios = new Map<number, Map<number, Ring>>();
  private ringCount = 0;
  /** operations whose completion was never seen (emitted with end 'none') */
  unreaped = 0;
  /** completions whose operation was never seen */
  unmatched = 0;

  /**
   * emit: a completed operation, written in its ring's submission order;
   * settled: an operation whose completion was seen, at once (what it does
   * to the fd table must be known before the next records are decoded).
   */
  constructor(
    private readonly emit: (op: CompletedOp) => void,
    private readonly settled: (op: CompletedOp, ring: Ring) => void,
  ) {}

  /** The ring an async record names: addr is the aio context id or the io_uring ring's address (low 53 bits). */
  ring(aio: boolean, pid: number, addr: number): Ring {
    let rings = this.urings;
    if (aio) {
      let mine = this.aios.get(pid);
      if (!mine) this.aios.set(pid, (mine = new Map()));
      rings = mine;
    }
    let ring = rings.get(addr);
    if (!ring) rings.set(addr, (ring = { id: ++this.ringCount, inFlight: 0, pending: new Map(), early: new Map(), queue: [], head: 0 }));
    return ring;
  }

  /** A submit record for operation `key` of `ring`. */
  submitted(sub: SubmittedOp, ring: Ring, key: number): void {
    const stale = ring.pending.get(key);
    if (stale) {
      // the same iocb or request submitted again: the first one's completion was not seen
      ring.pending.delete(key);
      this.finishUnreaped(stale);
    }
    const p: Pending = { sub, ringId: ring.id, depth: ring.inFlight + 1, latency: 0n, ret: 0n, end: 'none', ring, done: false, written: false };
    ring.queue.push(p);
    const early = ring.early.size === 0 ? undefined : ring.early.get(key);
    if (early) {
      ring.early.delete(key);
      if (early.ts >= sub.ts) return this.complete(p, early.ts, early.ret, early.end);
      this.unmatched++; // reaped before this submission: another, older operation's
    }
    ring.inFlight++;
    ring.pending.set(key, p);
  }

  /** A completion record; `mayPrecede`: its submit record can still come (aio). */
  completed(ring: Ring, key: number, ts: bigint, ret: bigint, end: AsyncEnd, mayPrecede: boolean): void {
    const p = ring.pending.get(key);
    if (!p) {
      if (!mayPrecede || ring.early.has(key)) this.unmatched++; // (an older early one was never paired)
      if (mayPrecede) ring.early.set(key, { ts, ret, end });
      return;
    }
    ring.pending.delete(key);
    ring.inFlight--;
    this.complete(p, ts, ret, end);
  }

  /** The capture ended: what is still in flight is written without a completion. */
  finish(): void {
    const rings = [...this.urings.values(), ...[...this.aios.values()].flatMap((m) => [...m.values()])];
    for (const ring of rings) {
      for (const p of [...ring.pending.values()]) this.finishUnreaped(p);
      ring.pending.clear();
      this.unmatched += ring.early.size;
      ring.early.clear();
    }
  }

  private finishUnreaped(p: Pending): void {
    p.ring.inFlight--;
    this.unreaped++;
    this.complete(p, p.sub.ts, 0n, 'none');
  }

  /** p completed: write what its ring can now write in submission order. */
  private complete(p: Pending, ts: bigint, ret: bigint, end: AsyncEnd): void {
    p.latency = ts - p.sub.ts;
    p.ret = ret;
    p.end = end;
    p.done = true;
    if (end !== 'none') this.settled(p, p.ring);
    const ring = p.ring;
    const q = ring.queue;
    while (ring.head < q.length && (q[ring.head]!.done || q[ring.head]!.written)) {
      const head = q[ring.head++]!;
      if (!head.written) this.write(head);
    }
    if (q.length - ring.head > REORDER_MAX) {
      // an old operation holds the ring back: the completed ones go out now
      for (let i = ring.head; i < q.length; i++) if (q[i]!.done && !q[i]!.written) this.write(q[i]!);
    }
    if (ring.head > 1024 && ring.head * 2 > q.length) {
      ring.queue = q.slice(ring.head);
      ring.head = 0;
    }
  }

  private write(p: Pending): void {
    p.written = true;
    this.emit(p);
  }
}
