/**
 * RateTimeline: bytes read, bytes written and calls per time bin, over a
 * span that is not known in advance (the trace is streamed once). Bins
 * start 1 µs wide; when an event falls past the last bin, the bin width
 * doubles and neighbours merge, so memory stays at MAX_BINS whatever the
 * trace's length.
 */

const MAX_BINS = 4096;
const FIRST_BIN_NS = 1000;

export interface RateColumns {
  /** offset of the first column from the trace's start, ns: --since, else the first event */
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
  /** bins in use: 1 + index of the last bin that received an event */
  used = 0;
  private readonly read = new Float64Array(MAX_BINS);
  private readonly write = new Float64Array(MAX_BINS);
  private readonly calls = new Float64Array(MAX_BINS);

  /** `originNs`: offset of bin 0 (null: the first event's); events before it count in bin 0. */
  constructor(private originNs: number | null) {}

  record(offsetNs: number, readBytes: number, writeBytes: number): void {
    this.originNs ??= offsetNs;
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
  }

  private widen(): void {
    for (const series of [this.read, this.write, this.calls]) {
      for (let i = 0; i < MAX_BINS / 2; i++) series[i] = series[2 * i]! + series[2 * i + 1]!;
      series.fill(0, MAX_BINS / 2);
    }
    this.binNs *= 2;
    this.used = Math.ceil(this.used / 2);
  }

  /** At most `maxColumns` columns covering the bins in use, each a whole number of bins. */
  columns(maxColumns: number, endOffsetNs: number): RateColumns {
    const perColumn = Math.max(1, Math.ceil(this.used / maxColumns));
    const count = Math.ceil(this.used / perColumn);
    const sum = (series: Float64Array) =>
      Array.from({ length: count }, (_, c) => {
        let total = 0;
        for (let i = c * perColumn; i < Math.min(this.used, (c + 1) * perColumn); i++) total += series[i]!;
        return total;
      });
    const origin = this.originNs ?? 0;
    return {
      start_offset_ns: origin,
      end_offset_ns: Math.max(origin, endOffsetNs),
      column_ns: perColumn * this.binNs,
      read_bytes: sum(this.read),
      write_bytes: sum(this.write),
      calls: sum(this.calls),
    };
  }
}
