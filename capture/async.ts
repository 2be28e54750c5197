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
  fileType: number;
  flags: number;
  offset: bigint | null;
  count: bigint | null;
  data: bigint;
}

/** An operation with its completion, as it becomes a row. */
export interface CompletedOp extends SubmittedOp {
  ring: number;
  depth: number;
  latency: bigint;
  ret: bigint;
  end: AsyncEnd;
}

/** completed operations a ring holds back for an earlier one still in flight, at most */
const REORDER_MAX = 4096;

interface Ring {
  id: number;
  inFlight: number;
  /** its operations in submission order, from the oldest not yet written */
  queue: Pending[];
  head: number;
}

interface Pending {
  sub: SubmittedOp;
  ring: Ring;
  depth: number;
  done: CompletedOp | null;
  written: boolean;
}

interface Completion {
  ts: bigint;
  ret: bigint;
  end: AsyncEnd;
}

export class AsyncTracker {
  private readonly rings = new Map<string, Ring>();
  private readonly pending = new Map<string, Pending>();
  /** aio completions reaped before their submit record arrived */
  private readonly early = new Map<string, Completion>();
  /** operations whose completion was never seen (emitted with end 'none') */
  unreaped = 0;
  /** completions whose operation was never seen */
  unmatched = 0;

  constructor(private readonly emit: (op: CompletedOp) => void) {}

  /** Operations submitted and not yet completed. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** A submit record. ringKey names the aio context / io_uring ring, key the operation in it. */
  submitted(sub: SubmittedOp, ringKey: string, key: string): void {
    let ring = this.rings.get(ringKey);
    if (!ring) this.rings.set(ringKey, (ring = { id: this.rings.size + 1, inFlight: 0, queue: [], head: 0 }));
    const id = `${ringKey}/${key}`;
    const stale = this.pending.get(id);
    if (stale) {
      // the same iocb or request submitted again: the first one's completion was not seen
      this.pending.delete(id);
      this.finishUnreaped(stale);
    }
    const p: Pending = { sub, ring, depth: ring.inFlight + 1, done: null, written: false };
    ring.queue.push(p);
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      if (early.ts >= sub.ts) return this.complete(p, early);
      this.unmatched++; // reaped before this submission: another, older operation's
    }
    ring.inFlight++;
    this.pending.set(id, p);
  }

  /** A completion record; `mayPrecede`: its submit record can still come (aio). */
  completed(ringKey: string, key: string, c: Completion, mayPrecede: boolean): void {
    const id = `${ringKey}/${key}`;
    const p = this.pending.get(id);
    if (!p) {
      if (!mayPrecede || this.early.has(id)) this.unmatched++; // (an older early one was never paired)
      if (mayPrecede) this.early.set(id, c);
      return;
    }
    this.pending.delete(id);
    p.ring.inFlight--;
    this.complete(p, c);
  }

  /** The capture ended: what is still in flight is written without a completion. */
  finish(): void {
    for (const p of [...this.pending.values()]) this.finishUnreaped(p);
    this.pending.clear();
    this.unmatched += this.early.size;
    this.early.clear();
  }

  private finishUnreaped(p: Pending): void {
    p.ring.inFlight--;
    this.unreaped++;
    this.complete(p, { ts: p.sub.ts, ret: 0n, end: 'none' });
  }

  /** p completed: write what its ring can now write in submission order. */
  private complete(p: Pending, c: Completion): void {
    p.done = { ...p.sub, ring: p.ring.id, depth: p.depth, latency: c.ts - p.sub.ts, ret: c.ret, end: c.end };
    const ring = p.ring;
    const q = ring.queue;
    while (ring.head < q.length && (q[ring.head]!.done !== null || q[ring.head]!.written)) {
      const head = q[ring.head++]!;
      if (!head.written) this.write(head);
    }
    if (q.length - ring.head > REORDER_MAX) {
      // an old operation holds the ring back: the completed ones go out now
      for (let i = ring.head; i < q.length; i++) if (q[i]!.done !== null && !q[i]!.written) this.write(q[i]!);
    }
    if (ring.head > 1024 && ring.head * 2 > q.length) {
      ring.queue = q.slice(ring.head);
      ring.head = 0;
    }
  }

  private write(p: Pending): void {
    p.written = true;
    this.emit(p.done!);
  }
}
