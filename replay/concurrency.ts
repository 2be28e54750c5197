/**
 * Concurrency of a trace: calls in flight over time (time-weighted), swept
 * as the calls stream in, in memory bounded by a horizon rather than by
 * the trace's length.
 */

/** Time-weighted calls in flight: mean, p99 and max of the level. */
export interface InFlight {
  mean: number;
  p99: number;
  max: number;
}

/** A binary min-heap of times. */
class TimeHeap {
  private a = new Float64Array(1024);
  size = 0;

  get top(): number {
    return this.size > 0 ? this.a[0]! : Infinity;
  }

  push(t: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= t) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = t;
  }

  pop(): number {
    const a = this.a, top = a[0]!, last = a[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) break;
      const c = l + 1 < this.size && a[l + 1]! < a[l]! ? l + 1 : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/**
 * Times to take smallest first: those that come in order (most: a trace is
 * in order of the calls' ends, and mostly of their starts) wait in a FIFO
 * at O(1), the others in a heap.
 */
class TimeQueue {
  private fifo = new Float64Array(1024);
  private head = 0;
  private tail = 0;
  private readonly heap = new TimeHeap();

  get top(): number {
    const f = this.head < this.tail ? this.fifo[this.head]! : Infinity;
    return Math.min(f, this.heap.top);
  }

  push(t: number): void {
    if (this.head < this.tail && t < this.fifo[this.tail - 1]!) return this.heap.push(t);
    if (this.tail === this.fifo.length) {
      // compact, or grow when more than half is in use
      const live = this.tail - this.head;
      if (live * 2 > this.fifo.length) {
        const grown = new Float64Array(this.fifo.length * 2);
        grown.set(this.fifo.subarray(this.head, this.tail));
        this.fifo = grown;
      } else this.fifo.copyWithin(0, this.head, this.tail);
      this.head = 0;
      this.tail = live;
    }
    this.fifo[this.tail++] = t;
  }

  pop(): number {
    if (this.head < this.tail && this.fifo[this.head]! <= this.heap.top) return this.fifo[this.head++]!;
    return this.heap.pop();
  }
}

/**
 * Intervals [start, end) that arrive roughly in order (a trace is in order
 * of the calls' ends; a replay's results as the lanes finish them). Their
 * starts and ends wait in two heaps until no later interval can come
 * before them: HORIZON_NS (1 s), or twice the longest call seen, behind the
 * latest end. An interval that still starts before the swept time (a call
 * longer than that) counts from the swept time on. Memory: the calls of
 * one horizon.
 */
export class InFlightSweep {
  private static readonly HORIZON_NS = 1e9;
  private readonly starts = new TimeQueue();
  private readonly ends = new TimeQueue();
  /** ns spent at each level */
  private timeAt = new Float64Array(64);
  private level = 0;
  private max = 0;
  /** time swept up to (-Infinity: nothing yet) */
  private last = -Infinity;
  private latest = -Infinity;
  /** the sweep runs once the latest end has moved this far past where it last ran (not per call) */
  private sweptFor = -Infinity;
  private longest = 0;

  add(start: number, end: number): void {
    if (end < start) end = start;
    if (start < this.last) start = Math.min(this.last, end);
    this.starts.push(start);
    this.ends.push(end);
    if (end - start > this.longest) this.longest = end - start;
    if (end > this.latest) {
      this.latest = end;
      const horizon = Math.max(InFlightSweep.HORIZON_NS, 2 * this.longest);
      if (end - this.sweptFor > horizon / 8) {
        this.sweptFor = end;
        this.sweep(end - horizon);
      }
    }
  }

  /** Sweep the points before `until`: an end before a start at the same instant (back-to-back calls do not overlap). */
  private sweep(until: number): void {
    const starts = this.starts, ends = this.ends;
    for (;;) {
      const s = starts.top, e = ends.top;
      if (e <= s) {
        if (!(e < until)) return;
        this.at(ends.pop());
        this.level--;
      } else {
        if (!(s < until)) return;
        this.at(starts.pop());
        if (++this.level > this.max) this.max = this.level;
      }
    }
  }

  private at(t: number): void {
    if (!(t > this.last)) return;
    if (this.last !== -Infinity) {
      if (this.level >= this.timeAt.length) {
        const grown = new Float64Array(Math.max(this.level + 1, this.timeAt.length * 2));
        grown.set(this.timeAt);
        this.timeAt = grown;
      }
      this.timeAt[this.level] += t - this.last;
    }
    this.last = t;
  }

  /** Level over time from the first start to the last end (the sweep is finished: add nothing after). */
  result(): InFlight {
    this.sweep(Infinity);
    const timeAt = this.timeAt;
    let total = 0, weighted = 0;
    for (let l = 0; l < timeAt.length; l++) {
      total += timeAt[l]!;
      weighted += timeAt[l]! * l;
    }
    let p99 = 0;
    for (let l = 0, seen = 0; l < timeAt.length && total > 0; l++) {
      seen += timeAt[l]!;
      if (seen >= 0.99 * total) {
        p99 = l;
        break;
      }
    }
    return { mean: total > 0 ? weighted / total : 0, p99, max: this.max };
  }
}
