/**
 * Concurrency of a trace: calls in flight over time (time-weighted), and how
 * many traced threads are alive at once (which sizes the replay's pool).
 * Both are sweeps over intervals given in start order, the trace's order,
 * holding only what is open at a time (a heap of end times).
 */

/** Time-weighted calls in flight: mean, p99 and max of the level. */
export interface InFlight {
  mean: number;
  p99: number;
  max: number;
}

/** A min-heap of numbers. */
class MinHeap {
  private readonly a: number[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): number {
    return this.a[0]!;
  }
  push(x: number): void {
    const a = this.a;
    let i = a.length;
    a.push(x);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= x) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = x;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i, v = last;
        if (l < a.length && a[l]! < v) (m = l), (v = a[l]!);
        if (r < a.length && a[r]! < v) m = r;
        if (m === i) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

/** Sweeps intervals [start, end) added in start order (a start earlier than the one before counts from it). */
export class InFlightSweep {
  private readonly ends = new MinHeap();
  /** ns spent at each level */
  private readonly timeAt: number[] = [];
  private level = 0;
  private last = NaN;
  private max = 0;

  add(start: number, end: number): void {
    if (start < this.last) start = this.last;
    this.closeUntil(start);
    this.advance(start);
    this.level++;
    if (this.level > this.max) this.max = this.level;
    this.ends.push(Math.max(start, end));
  }

  /** Level over time so far, every interval closed. */
  result(): InFlight {
    this.closeUntil(Infinity);
    let total = 0, weighted = 0;
    for (let l = 0; l < this.timeAt.length; l++) {
      total += this.timeAt[l] ?? 0;
      weighted += (this.timeAt[l] ?? 0) * l;
    }
    let p99 = 0;
    for (let l = 0, seen = 0; l < this.timeAt.length && total > 0; l++) {
      seen += this.timeAt[l] ?? 0;
      if (seen >= 0.99 * total) {
        p99 = l;
        break;
      }
    }
    return { mean: total > 0 ? weighted / total : 0, p99, max: this.max };
  }

  /** The most intervals open at once. */
  get peak(): number {
    return this.max;
  }

  private closeUntil(t: number): void {
    while (this.ends.size > 0 && this.ends.peek() <= t) {
      this.advance(this.ends.pop());
      this.level--;
    }
  }

  private advance(t: number): void {
    if (!Number.isNaN(this.last) && t > this.last) this.timeAt[this.level] = (this.timeAt[this.level] ?? 0) + (t - this.last);
    this.last = t;
  }
}

/** Intervals in any order, swept once all are in: for the lanes' lifetimes (one interval per traced thread). */
export function peakOverlap(starts: Float64Array | number[], ends: Float64Array | number[]): number {
  const s = Float64Array.from(starts).sort(), e = Float64Array.from(ends).sort();
  let open = 0, peak = 0;
  for (let i = 0, j = 0; i < s.length; i++) {
    // strictly before: an interval of no length still counts as open at its instant
    while (j < e.length && e[j]! < s[i]!) (j++, open--);
    open++;
    if (open > peak) peak = open;
  }
  return peak;
}
