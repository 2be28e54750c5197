/**
 * The in-memory shapes of events, derived from COLUMNS:
 * - EventBatch: columnar, as capture builds it and trace/ reads it back.
 *   int64 columns stay bigint (exact); convert with Number() on purpose
 *   where a double is enough (latencies, sizes).
 * - TraceEvent: one row, validated with Zod (fixtures, tests, sql import).
 */
import { z } from 'zod';
import { COLUMNS, FILE_TYPES, type ColumnDef, type ColumnName } from './columns.js';

type ColumnOf<N extends ColumnName> = Extract<(typeof COLUMNS)[number], { name: N }>;

type BatchColumn<C extends ColumnDef> = C['kind'] extends 'int64' | 'uint64'
  ? C['nullable'] extends true ? (bigint | null)[] : BigInt64Array
  : C['kind'] extends 'int32'
    ? C['nullable'] extends true ? (number | null)[] : Int32Array
    : C['nullable'] extends true ? (string | null)[] : string[];

type RowValue<C extends ColumnDef> = C['kind'] extends 'int64' | 'uint64'
  ? C['nullable'] extends true ? bigint | null : bigint
  : C['kind'] extends 'int32'
    ? C['nullable'] extends true ? number | null : number
    : C['nullable'] extends true ? string | null : string;

/** Columnar events: every column has `length` entries. */
export type EventBatch = { length: number } & { [N in ColumnName]: BatchColumn<ColumnOf<N>> };
/** Any subset of columns (what a reader asked for). */
export type PartialEventBatch<K extends ColumnName = ColumnName> = { length: number } & Pick<EventBatch, K>;

/**
 * A string column as its dictionary and one index per row (-1: null): how
 * the file stores it, so a consumer can work per distinct value instead of
 * per row (ior stats does).
 */
export interface CodedStrings {
  dictionary: string[];
  codes: Int32Array;
}

/**
 * A nullable number column as one value per row (0 where null) and its
 * definition levels (1: the row has a value): no JS value (a bigint, a
 * slot of an array with nulls) is made per row.
 */
export interface CodedNumbers<T extends Int32Array | BigInt64Array> {
  values: T;
  defs: Uint8Array;
}
export type CodedInt64 = CodedNumbers<BigInt64Array>;
export type CodedInt32 = CodedNumbers<Int32Array>;

type CodedColumn<C extends ColumnDef> = C['kind'] extends 'string'
  ? CodedStrings
  : C['nullable'] extends true
    ? C['kind'] extends 'int32' ? CodedInt32 : CodedInt64
    : BatchColumn<C>;

/** A batch whose string columns come as CodedStrings, its nullable numbers as CodedInt32 / CodedInt64 (TraceReader.codedBatches). */
export type CodedBatch<K extends ColumnName = ColumnName> = { length: number } & { [N in K]: CodedColumn<ColumnOf<N>> };

/** One event as a plain object. */
export type TraceEvent = { [N in ColumnName]: RowValue<ColumnOf<N>> };

const int32 = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);
const int64 = z.bigint().min(-(2n ** 63n)).max(2n ** 63n - 1n);
const uint64 = z.bigint().min(0n).max(2n ** 64n - 1n);

function zodFor(column: ColumnDef): z.ZodType {
  const base = column.kind === 'int32' ? int32 : column.kind === 'int64' ? int64 : column.kind === 'uint64' ? uint64 : z.string();
  return column.nullable ? base.nullable() : base;
}

/** Zod schema of one event row, derived from COLUMNS (file_type restricted to its names). */
export const TraceEventSchema = z.object(
  Object.fromEntries(
    COLUMNS.map((c) => [c.name, c.name === 'file_type' ? z.enum(FILE_TYPES.filter((t) => t !== null) as [string, ...string[]]).nullable() : zodFor(c)]),
  ),
) as unknown as z.ZodType<TraceEvent>;

/** An empty batch with room for `capacity` rows of every column; fill then `sliceBatch`. */
export function allocateBatch(capacity: number): EventBatch {
  const batch: Record<string, unknown> = { length: 0 };
  for (const c of COLUMNS) {
    if (c.nullable) batch[c.name] = new Array(capacity).fill(null);
    else if (c.kind === 'int32') batch[c.name] = new Int32Array(capacity);
    else if (c.kind === 'string') batch[c.name] = new Array<string>(capacity).fill('');
    else batch[c.name] = new BigInt64Array(capacity);
  }
  return batch as EventBatch;
}

/** The first `length` rows of a batch, as a batch (views for typed arrays, copies for arrays). */
export function sliceBatch<K extends ColumnName>(batch: PartialEventBatch<K>, start: number, end: number): PartialEventBatch<K> {
  const out: Record<string, unknown> = { length: end - start };
  for (const c of COLUMNS) {
    const col = (batch as Record<string, unknown>)[c.name] as { subarray?: (s: number, e: number) => unknown; slice: (s: number, e: number) => unknown } | undefined;
    if (col === undefined) continue;
    out[c.name] = col.subarray ? col.subarray(start, end) : col.slice(start, end);
  }
  return out as PartialEventBatch<K>;
}

/** Row `i` of a batch as a TraceEvent (tests, fixtures, sql import). */
export function rowOf(batch: EventBatch, i: number): TraceEvent {
  const row: Record<string, unknown> = {};
  for (const c of COLUMNS) row[c.name] = (batch[c.name] as ArrayLike<unknown>)[i];
  return row as TraceEvent;
}

/** Build a batch from rows (fixtures made by hand, tests). */
export function batchFromRows(rows: readonly TraceEvent[]): EventBatch {
  const batch = allocateBatch(rows.length);
  rows.forEach((row, i) => {
    for (const c of COLUMNS) (batch[c.name] as unknown as Record<number, unknown>)[i] = row[c.name];
  });
  batch.length = rows.length;
  return batch;
}
