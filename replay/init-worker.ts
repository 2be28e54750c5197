/**
 * The worker thread of InitFollower (replay/init-follow.ts): runs the row
 * groups of a capture's temp file through the plan's Planner as they are
 * written, at nice 19 (it takes what the traced programs leave of the
 * CPUs), and posts the initial state a replay of the trace expects once
 * the last row group is in.
 */
import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { RowGroup } from 'hyparquet';
import { TraceReader } from '../trace/index.js';
import { INIT_STATE_VERSION, type Footer } from '../schema/index.js';
import { eventBatches, Planner } from './plan.js';
import type { InitWorkerInput, InitWorkerMessage, InitWorkerRequest } from './init-follow.js';

const post = (message: InitWorkerMessage) => parentPort!.postMessage(message);
const { tempPath } = workerData as InitWorkerInput;

/** This thread's id, for setpriority (which, on Linux, takes a thread's). */
function threadId(): number | null {
  const m = /\/task\/(\d+)$/.exec(fs.readlinkSync('/proc/thread-self'));
  return m ? Number(m[1]) : null;
}

try {
  const tid = threadId();
  if (tid !== null) os.setPriority(tid, 19);
} catch {
  // (no /proc, or not allowed: it runs at the capture's priority)
}

const groups: RowGroup[] = [];
let footer: Footer | null = null;
let last = false;
let working = false;
const planner = new Planner(tempPath, { init: true, files: false, inFlight: false });
let groupsDone = 0;
let rowsDone = 0;
let zero: bigint | null = null;

// no top-level await: dist/ior bundles workers as CommonJS
async function work(): Promise<void> {
  working = true;
  try {
    while (groupsDone < groups.length) {
      const end = groups.length;
      const reader = await TraceReader.growing(tempPath, groups, footer!);
      if (zero === null) for await (const b of reader.batches(['ts_ns'], { start: 0, end: 1 })) zero = b.length > 0 ? b.ts_ns[0]! : 0n;
      for await (const batch of eventBatches(reader, zero, { start: groupsDone, end, firstRow: rowsDone })) {
        for (let row = 0; row < batch.length; row++) planner.add(batch.load(row));
        rowsDone += batch.length;
        post({ rows: rowsDone });
      }
      groupsDone = end;
    }
    if (last) post({ stored: { version: INIT_STATE_VERSION, events: rowsDone, init: planner.initState() } });
  } catch (err) {
    post({ error: (err as Error).message });
  }
  working = false;
}

parentPort!.on('message', (m: InitWorkerRequest) => {
  groups.push(...m.rowGroups);
  footer = m.footer;
  last ||= m.last;
  if (!working) void work();
});
