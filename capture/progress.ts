/**
 * The one-line progress display of a capture on a terminal: elapsed (and
 * remaining with -duration), events, events/s, losses, trace size. Silent
 * when stderr is not a terminal or --json was asked.
 */
import { formatDurationNs } from '../common/duration.js';
import { formatBytes, formatCount } from '../common/format.js';

export interface ProgressSample {
  events: number;
  lost: number;
  bytes: number;
}

export class ProgressLine {
  private timer: NodeJS.Timeout | undefined;
  private last = { at: 0, events: 0 };
  private readonly started = performance.now();

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly sample: () => ProgressSample,
    private readonly durationNs: number | undefined,
  ) {}

  static enabledFor(stream: NodeJS.WriteStream, json: boolean): boolean {
    return !json && Boolean(stream.isTTY);
  }

  start(intervalMs = 500): void {
    this.last = { at: performance.now(), events: 0 };
    this.timer = setInterval(() => this.render(), intervalMs);
    this.timer.unref();
  }

  private render(): void {
    const now = performance.now();
    const s = this.sample();
    const rate = ((s.events - this.last.events) * 1000) / Math.max(1, now - this.last.at);
    this.last = { at: now, events: s.events };
    const elapsedNs = (now - this.started) * 1e6;
    const time = this.durationNs ? `${formatDurationNs(elapsedNs)} / ${formatDurationNs(this.durationNs)}` : formatDurationNs(elapsedNs);
    const lost = s.lost > 0 ? `\x1b[31m${formatCount(s.lost)} lost\x1b[0m` : '0 lost';
    this.stream.write(`\r\x1b[K ior capture  ${time}  ${formatCount(s.events)} events  ${formatCount(rate)} ev/s  ${lost}  ${formatBytes(s.bytes)}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stream.write('\r\x1b[K');
  }
}
