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

interface Ring {
  id: number;
  inFlight: number;
}

interface Pending {
  sub: SubmittedOp;
  ring: Ring;
  depth: number;
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
    if (!ring) this.rings.set(ringKey, (ring = { id: this.rings.size + 1, inFlight: 0 }));
    const id = `${ringKey}/${key}`;
    const stale = this.pending.get(id);
    if (stale) {
      // the same iocb or request submitted again: the first one's completion was not seen
      this.pending.delete(id);
      this.finishUnreaped(stale);
    }
    const depth = ring.inFlight + 1;
    const early = this.early.get(id);
    if (early) {
      this.early.delete(id);
      if (early.ts >= sub.ts) return this.emit(completedOf({ sub, ring, depth }, early));
      this.unmatched++; // reaped before this submission: another, older operation's
    }
    ring.inFlight++;
    this.pending.set(id, { sub, ring, depth });
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
    this.emit(completedOf(p, c));
  }

  /** The capture ended: what is still in flight is written without a completion. */
  finish(): void {
    for (const p of this.pending.values()) this.finishUnreaped(p);
    this.pending.clear();
    this.unmatched += this.early.size;
    this.early.clear();
  }

  private finishUnreaped(p: Pending): void {
    p.ring.inFlight--;
    this.unreaped++;
    this.emit(completedOf(p, { ts: p.sub.ts, ret: 0n, end: 'none' }));
  }
}

function completedOf(p: Pending, c: Completion): CompletedOp {
  return { ...p.sub, ring: p.ring.id, depth: p.depth, latency: c.ts - p.sub.ts, ret: c.ret, end: c.end };
}
