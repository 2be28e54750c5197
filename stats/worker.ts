/**
 * A worker thread of computeStats: aggregates its share of a trace's row
 * groups and posts the Aggregation back (stats/aggregate.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IorError } from '../common/errors.js';
import { TraceReader } from '../trace/index.js';
import { aggregatePart, type StatsWorkerInput, type StatsWorkerMessage } from './aggregate.js';

const post = (message: StatsWorkerMessage) => parentPort!.postMessage(message);

// no top-level await: dist/ior bundles workers as CommonJS
async function run({ file, scope, groups }: StatsWorkerInput): Promise<void> {
  try {
    const reader = await TraceReader.open(file);
    post({ aggregation: await aggregatePart(reader, scope, groups, (rows) => post({ rows })) });
  } catch (err) {
    post({ error: (err as Error).message, ior: err instanceof IorError, exitCode: err instanceof IorError ? err.exitCode : 1 });
  }
}

void run(workerData as StatsWorkerInput);
