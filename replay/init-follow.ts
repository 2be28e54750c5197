/**
 * InitFollower: works out, during the capture, the initial state a replay
 * of the trace will need (replay/plan.ts's, from the same Planner), so the
 * capture stores it in the trace (INIT_KEY) and a first replay into a new
 * target starts without a pass over the whole trace. The work is done in a
 * worker thread at nice 19 (replay/init-worker.ts) that reads the row
 * groups back from the temp file as they are written, while the host has
 * a CPU to spare: the capture's own thread pays nothing per event; at the
 * end it waits for the row groups the worker has not read yet.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { RowGroup } from 'hyparquet';
import { workerPath } from '../common/assets.js';
import { INIT_KEY, type Footer, type StoredInit } from '../schema/index.js';
import type { KeyValue, TraceFollower } from '../trace/index.js';

/**
 * The worker is given row groups only while the host had at least this many
 * CPUs idle (or running niced work, the worker's own) since the last row
 * group: on 2 CPUs, its work beside a 1M events/s loop (one CPU) and the
 * capture (0.7) made the loop 7-9% slower, even at nice 19 or SCHED_IDLE
 * (docs/benchmarks.md); on a host with CPUs to spare it keeps up, and the
 * end of a long busy capture does not wait for all of it (~1 us per event).
 */
const SPARE_CPUS = 1;

/** The host's CPU time so far (/proc/stat, in ticks): all of it, and what was spare (idle, I/O wait, niced). */
function cpuTicks(): { spare: number; total: number } | null {
  try {
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = user! + nice! + system! + idle! + iowait! + irq! + softirq! + steal!;
    return Number.isFinite(total) ? { spare: nice! + idle! + iowait!, total } : null;
  } catch {
    return null;
  }
}

/** CPUs spare on average between two readings (0 when unknown: the worker waits for the end). */
function spareCpus(before: { spare: number; total: number } | null, after: { spare: number; total: number } | null, cpus: number): number {
  if (!before || !after || after.total <= before.total) return 0;
  return ((after.spare - before.spare) / (after.total - before.total)) * cpus;
}
/** A state bigger than this (as JSON) is not stored: the footer's metadata is read whole by every reader. */
const MAX_STORED_BYTES = 16 << 20;

export interface InitWorkerInput {
  tempPath: string;
}
export interface InitWorkerRequest {
  /** row groups written since the last request */
  rowGroups: RowGroup[];
  footer: Footer;
  /** no more: post the state */
  last: boolean;
}
export type InitWorkerMessage = { rows: number } | { stored: StoredInit } | { error: string };

export class InitFollower implements TraceFollower {
  private readonly worker: Worker;
  private sent = 0;
  private readonly result: Promise<StoredInit>;
  private onRows: ((rows: number) => void) | null = null;
  /** the host's CPU time at the last `grew` */
  private ticks = cpuTicks();
  private readonly cpus = os.availableParallelism();

  constructor(tempPath: string) {
    this.worker = new Worker(workerPath('replay/init-worker.js'), { workerData: { tempPath } satisfies InitWorkerInput });
    // (it never keeps the capture alive: finish or stop ends it)
    this.worker.unref();
    this.result = new Promise((resolve, reject) => {
      this.worker.on('message', (m: InitWorkerMessage) => {
        if ('rows' in m) this.onRows?.(m.rows);
        else if ('stored' in m) resolve(m.stored);
        else reject(new Error(m.error));
      });
      this.worker.on('error', reject);
      this.worker.on('exit', (code) => reject(new Error(`its worker exited (${code})`)));
    });
    this.result.catch(() => undefined); // awaited by finish; a capture that stops early never asks
  }

  private send(rowGroups: readonly RowGroup[], footer: Footer, last: boolean): void {
    this.worker.postMessage({ rowGroups: rowGroups.slice(this.sent), footer, last } satisfies InitWorkerRequest);
    this.sent = rowGroups.length;
  }

  grew(rowGroups: readonly RowGroup[], footer: Footer): void {
    const ticks = cpuTicks();
    const spare = spareCpus(this.ticks, ticks, this.cpus);
    this.ticks = ticks;
    if (rowGroups.length > this.sent && spare >= SPARE_CPUS) this.send(rowGroups, footer, false);
  }

  async finish(rowGroups: readonly RowGroup[], footer: Footer, onRows: (rows: number) => void): Promise<KeyValue[]> {
    this.onRows = onRows;
    this.worker.ref();
    this.send(rowGroups, footer, true);
    try {
      const value = JSON.stringify(await this.result);
      if (value.length > MAX_STORED_BYTES) throw new Error(`${(value.length / 2 ** 20).toFixed(0)} MiB of paths, more than a trace's metadata should hold`);
      return [{ key: INIT_KEY, value }];
    } finally {
      this.stop();
    }
  }

  stop(): void {
    void this.worker.terminate();
  }
}
