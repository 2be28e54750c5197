/**
 * Concurrency of a trace: calls in flight over time (time-weighted), a
 * sweep over the calls' sorted starts and ends.
 */

/** Time-weighted calls in flight: mean, p99 and max of the level. */
export interface InFlight {
  mean: number;
  p99: number;
  max: number;
}

/**
 * Intervals [start, end) in any order (a trace is in order of the calls'
 * ends, not their starts): kept as two growing arrays, sorted and swept
 * once all are in. 16 bytes per interval.
 */
export class InFlightSweep {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  private n = 0;

  add(start: number, end: number): void {
    if (this.n === this.starts.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.n] = start;
    this.ends[this.n] = Math.max(start, end);
    this.n++;
  }

  /** Level over time from the first start to the last end. */
  result(): InFlight {
    const s = this.starts.subarray(0, this.n).sort(), e = this.ends.subarray(0, this.n).sort();
    const timeAt: number[] = [];
    let level = 0, max = 0, last = NaN;
    const at = (t: number) => {
      if (!Number.isNaN(last) && t > last) timeAt[level] = (timeAt[level] ?? 0) + (t - last);
      last = t;
    };
    for (let i = 0, j = 0; i < s.length || j < e.length; ) {
      // an end before a start at the same instant: back-to-back calls do not overlap
      if (j < e.length && (i >= s.length || e[j]! <= s[i]!)) {
        at(e[j++]!);
        level--;
      } else {
        at(s[i++]!);
        if (++level > max) max = level;
      }
    }
    let total = 0, weighted = 0;
    for (let l = 0; l < timeAt.length; l++) {
      total += timeAt[l] ?? 0;
      weighted += (timeAt[l] ?? 0) * l;
    }
    let p99 = 0;
    for (let l = 0, seen = 0; l < timeAt.length && total > 0; l++) {
      seen += timeAt[l] ?? 0;
      if (seen >= 0.99 * total) {
        p99 = l;
        break;
      }
    }
    return { mean: total > 0 ? weighted / total : 0, p99, max };
  }
}
