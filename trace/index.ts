/**
 * trace/: the trace file. TraceWriter streams EventBatches into zstd Parquet
 * row groups and finishes with the footer (temp name, then rename);
 * TraceReader validates a file and streams it back batch by batch.
 */
export { TraceWriter, DEFAULT_ROW_GROUP_ROWS, parquetSchema, type KeyValue } from './writer.js';
export type { TraceFollower, FollowerFactory } from './follower.js';
export { TraceReader } from './reader.js';
export { recoverTrace, leftoverTemps, type Recovered } from './recover.js';
