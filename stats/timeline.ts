/**
 * RateTimeline: bytes read, bytes written and calls per time bin, over a
 * span that is not known in advance (the trace is streamed once). Bins
 * start 1 µs wide from a fixed origin; when an event falls past the last
 * bin, the bin width doubles and neighbours merge, so memory stays at
 * MAX_BINS whatever the trace's length. Timelines with the same origin
 * (parts of one trace read in parallel) merge exactly: the finer one is
 * widened to the coarser one's bins, then bins add up.
 */

const MAX_BINS = 4096;
const FIRST_BIN_NS = 1000;

export interface RateColumns {
  /** offset of the first column from the trace's start, ns: the start of the first bin with an event */
  start_offset_ns: number;
  /** exit of the last event: the last column is cut there (it may be narrower) */
  end_offset_ns: number;
  column_ns: number;
  read_bytes: number[];
  write_bytes: number[];
  calls: number[];
}

export class RateTimeline {
  binNs = FIRST_BIN_NS;
  /** bins in use: [first, used) holds every event recorded */
  first = MAX_BINS;
  used = 0;
  private readonly read = new Float64Array(MAX_BINS);
  private readonly write = new Float64Array(MAX_BINS);
  private readonly calls = new Float64Array(MAX_BINS);

  /** `originNs`: offset of bin 0's start; events before it count in bin 0. */
  constructor(readonly originNs: number) {}

  record(offsetNs: number, readBytes: number, writeBytes: number): void {
    const sinceOrigin = offsetNs - this.originNs;
    let bin = Math.floor(sinceOrigin / this.binNs);
    if (bin < 0) bin = 0;
    while (bin >= MAX_BINS) {
      this.widen();
      bin = Math.floor(sinceOrigin / this.binNs);
    }
    this.read[bin] += readBytes;
    this.write[bin] += writeBytes;
    this.calls[bin]!++;
    if (bin >= this.used) this.used = bin + 1;
    if (bin < this.first) this.first = bin;
  }

  private widen(): void {
    for (const series of [this.read, this.write, this.calls]) {
      for (let i = 0; i < MAX_BINS / 2; i++) series[i] = series[2 * i]! + series[2 * i + 1]!;
      series.fill(0, MAX_BINS / 2);
    }
    this.binNs *= 2;
    this.used = Math.ceil(this.used / 2);
    if (this.first < MAX_BINS) this.first = Math.floor(this.first / 2);
  }

  /** Add the bins of `other` (same origin) into this one. */
  merge(other: RateTimeline): void {
    if (other.originNs !== this.originNs) throw new Error('RateTimeline.merge: different origins');
    while (this.binNs < other.binNs) this.widen();
    while (other.binNs < this.binNs) other.widen();
    for (let i = other.first; i < other.used; i++) {
      this.read[i] += other.read[i]!;
      this.write[i] += other.write[i]!;
      this.calls[i] += other.calls[i]!;
    }
    this.first = Math.min(this.first, other.first);
    this.used = Math.max(this.used, other.used);
  }

  /** At most `maxColumns` columns covering the bins in use, each a whole number of bins. */
  columns(maxColumns: number, endOffsetNs: number): RateColumns {
    const first = Math.min(this.first, this.used);
    const perColumn = Math.max(1, Math.ceil((this.used - first) / maxColumns));
    const count = Math.ceil((this.used - first) / perColumn);
    const sum = (series: Float64Array) =>
      Array.from({ length: count }, (_, c) => {
        let total = 0;
        for (let i = first + c * perColumn; i < Math.min(this.used, first + (c + 1) * perColumn); i++) total += series[i]!;
        return total;
      });
    const start = this.originNs + first * this.binNs;
    return {
      start_offset_ns: start,
      end_offset_ns: Math.max(start, endOffsetNs),
      column_ns: perColumn * this.binNs,
      read_bytes: sum(this.read),
      write_bytes: sum(this.write),
      calls: sum(this.calls),
    };
  }
}
