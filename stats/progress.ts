/**
 * ReadProgress: "reading 45% (4,500,000 of 10,000,000 events)" on stderr
 * while a command streams a big trace, so a long read is visibly alive.
 * Only on a terminal, only past the first half second (small traces print
 * nothing), at most five times a second, erased when the last row group
 * is read.
 */
import { formatCount } from '../common/format.js';

const SHOW_AFTER_MS = 500;
const EVERY_MS = 200;

export type ProgressCallback = (rowsDone: number, rowsTotal: number) => void;

export class ReadProgress {
  private readonly started = performance.now();
  private lastDrawn = 0;
  private drawn = false;

  private constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  /** A progress line for `stream`, or null where there must be none (not a terminal, machine-readable output). */
  static on(stream: NodeJS.WritableStream, label: string, machineReadable: boolean): ReadProgress | null {
    const tty = stream as NodeJS.WriteStream;
    return !machineReadable && tty.isTTY ? new ReadProgress(tty, label) : null;
  }

  readonly update: ProgressCallback = (done, total) => {
    if (done >= total) return this.done();
    const now = performance.now();
    if (now - this.started < SHOW_AFTER_MS || now - this.lastDrawn < EVERY_MS) return;
    this.lastDrawn = now;
    this.drawn = true;
    const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
    this.stream.write(`\r\x1b[K ${this.label} ${percent}% (${formatCount(done)} of ${formatCount(total)} events)`);
  };

  /** Erase the line (the last row group, or an error, ends the read). */
  done(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
