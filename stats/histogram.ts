/**
 * LogHistogram: percentiles of non-negative integers (latencies in ns) in
 * bounded memory, HDR-style. Values below 256 get a bucket each (exact);
 * above, every power of two is split into 128 equal buckets, so a bucket is
 * at most 1/128 of its lower bound wide. A percentile is reported as the
 * middle of the bucket that holds the exact nearest-rank value (clamped to
 * the exact min and max), hence within 1/256 (0.39%) of the exact value.
 *
 * Starts sparse (a Map) and turns into a dense array once it holds more
 * than SPARSE_LIMIT distinct buckets: thousands of small groups (files,
 * processes) stay cheap, busy ones get the fast path.
 */

const SUB_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BITS; // 128
/** Index of the bucket after the last one (values up to 2^64). */
const BUCKET_COUNT = (64 - SUB_BITS) * SUB_BUCKETS + SUB_BUCKETS;
const SPARSE_LIMIT = 64;
const TWO_32 = 2 ** 32;

/** Relative precision of a reported percentile (half a bucket, at most). */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * SUB_BUCKETS);

/** floor(log2(v)) for an integer v >= 1 below 2^64 (exact, unlike Math.log2 near powers of two). */
function log2Floor(v: number): number {
  return v < TWO_32 ? 31 - Math.clz32(v) : 63 - Math.clz32(Math.floor(v / TWO_32));
}

export function bucketIndex(value: number): number {
  if (value < 2 * SUB_BUCKETS) return value < 0 ? 0 : Math.floor(value);
  if (value < TWO_32) {
    // integer fast path: the hot case (latencies under 4.3 s)
    const shift = 31 - Math.clz32(value) - SUB_BITS;
    return (shift << SUB_BITS) + (value >>> shift);
  }
  const shift = log2Floor(value) - SUB_BITS;
  return shift * SUB_BUCKETS + Math.floor(value / 2 ** shift);
}

/** Smallest and largest value that land in bucket `index`. */
export function bucketBounds(index: number): [number, number] {
  if (index < 2 * SUB_BUCKETS) return [index, index];
  const shift = Math.floor(index / SUB_BUCKETS) - 1;
  const sub = index - shift * SUB_BUCKETS;
  return [sub * 2 ** shift, (sub + 1) * 2 ** shift - 1];
}

export class LogHistogram {
  count = 0;
  min = Infinity;
  max = -Infinity;
  private dense: Float64Array | null = null;
  private sparse: Map<number, number> | null = new Map();

  record(value: number): void {
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const index = bucketIndex(value);
    if (this.dense !== null) this.dense[index]!++;
    else this.addSparse(index, 1);
  }

  /** Add the counts of `other` (the same values recorded here, e.g. by a parallel reader). */
  merge(other: LogHistogram): void {
    this.count += other.count;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    const add = (index: number, n: number) => {
      if (this.dense !== null) this.dense[index]! += n;
      else this.addSparse(index, n);
    };
    if (other.dense !== null) other.dense.forEach((n, index) => n > 0 && add(index, n));
    else for (const [index, n] of other.sparse!) add(index, n);
  }

  private addSparse(index: number, n: number): void {
    const sparse = this.sparse!;
    sparse.set(index, (sparse.get(index) ?? 0) + n);
    if (sparse.size > SPARSE_LIMIT) {
      this.dense = new Float64Array(BUCKET_COUNT);
      for (const [i, c] of sparse) this.dense[i] = c;
      this.sparse = null;
    }
  }

  /** Nearest-rank percentile, q in [0, 1]; null when empty. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    let index = -1;
    if (this.dense !== null) {
      const dense = this.dense;
      for (index = 0; index < dense.length; index++) {
        seen += dense[index]!;
        if (seen >= rank) break;
      }
    } else {
      for (const [i, n] of [...this.sparse!].sort((a, b) => a[0] - b[0])) {
        seen += n;
        index = i;
        if (seen >= rank) break;
      }
    }
    const [low, high] = bucketBounds(index);
    return Math.min(this.max, Math.max(this.min, Math.round((low + high) / 2)));
  }
}
