/**
 * A reader of a trace while it is written: the capture hands it the row
 * groups as they reach the temp file (every checkpoint, about once a
 * second) and, at the end, asks it for key/value metadata to store beside
 * the footer. The replay's initial state is worked out so
 * (replay/init-follow.ts): the capture does not depend on the replay, the
 * CLI joins them.
 */
import type { RowGroup } from 'hyparquet';
import type { Footer } from '../schema/index.js';
import type { KeyValue } from './writer.js';

export interface TraceFollower {
  /** `rowGroups`: every row group in the temp file so far (TraceWriter.writtenRowGroups); `footer`: the capture's as of now */
  grew(rowGroups: readonly RowGroup[], footer: Footer): void;
  /** every row group is written: what to store (rejects, with why, when there is nothing) */
  finish(rowGroups: readonly RowGroup[], footer: Footer, onRows: (rows: number) => void): Promise<KeyValue[]>;
  /** the capture ends without waiting (no trace, a full disk, a signal) */
  stop(): void;
}

/** Makes the follower of a capture's temp file. */
export type FollowerFactory = (tempPath: string) => TraceFollower;
