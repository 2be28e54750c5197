/**
 * TraceWriter: streams EventBatches into a zstd Parquet file, one row group
 * at a time (bounded memory however long the capture), under a temporary
 * name that `finish` renames into place once the footer is written. A crash
 * or kill leaves only the temp file; the final name is a complete trace or
 * nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ByteWriter } from 'hyparquet-writer';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import type { RowGroup, SchemaElement } from 'hyparquet';
import { allocateBatch, COLUMNS, FOOTER_KEY, FooterSchema, type EventBatch, type Footer } from '../schema/index.js';
import { IorError, errnoCode } from '../common/errors.js';
import { ChunkEncoder } from './pages.js';

/** "PAR1", at both ends of a Parquet file */
const PARQUET_MAGIC = 0x31524150;

/** 128k rows per row group: ~1 MB compressed, a few MB in memory while building. */
export const DEFAULT_ROW_GROUP_ROWS = 131072;

export function parquetSchema(): SchemaElement[] {
  const root: SchemaElement = { name: 'schema', num_children: COLUMNS.length };
  return [
    root,
    ...COLUMNS.map((c): SchemaElement => {
      const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
      switch (c.kind) {
        case 'string':
          return { name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type };
        case 'int32':
          return { name: c.name, type: 'INT32', repetition_type };
        case 'int64':
          return { name: c.name, type: 'INT64', repetition_type };
        case 'uint64':
          // converted_type only: DuckDB rejects hyparquet-writer's INTEGER logical type
          return { name: c.name, type: 'INT64', converted_type: 'UINT_64', repetition_type };
      }
    }),
  ];
}

/** hyparquet-writer's Writer over a file descriptor: write errors (ENOSPC) surface where they happen. */
class FdWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(1 << 20);
  }
  flush(): void {
    let done = 0;
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
    this.index = 0;
  }
  override ensure(size: number): void {
    if (this.index > 4 << 20) this.flush();
    super.ensure(size);
  }
  override finish(): void {
    this.flush();
  }
}

/**
 * The file is laid out by hand: "PAR1", row groups whose column chunks
 * ChunkEncoder encodes (trace/pages.ts: one encoding per column kind, no
 * sampling), then hyparquet-writer's footer thrift (writeMetadata).
 */
export class TraceWriter {
  private readonly out: FdWriter;
  private readonly chunks: ChunkEncoder;
  private readonly rowGroups: RowGroup[] = [];
  private readonly fd: number;
  /** the row group being filled: allocated once, reused for every row group */
  private group: EventBatch | undefined;
  private groupRows = 0;
  private rowsWritten = 0;
  private closed = false;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly rowGroupRows: number,
  ) {
    this.fd = fs.openSync(tempPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    this.out = new FdWriter(this.fd);
    this.chunks = new ChunkEncoder(this.out);
    this.out.appendUint32(PARQUET_MAGIC);
  }

  /** Opens `<dir>/.<name>.<pid>.tmp` next to `finalPath` (same file system, so the rename is atomic). */
  static create(finalPath: string, rowGroupRows = DEFAULT_ROW_GROUP_ROWS): TraceWriter {
    const dir = path.dirname(path.resolve(finalPath));
    const tempPath = path.join(dir, `.${path.basename(finalPath)}.${process.pid}.tmp`);
    try {
      return new TraceWriter(finalPath, tempPath, rowGroupRows);
    } catch (err) {
      throw new IorError(`cannot create ${tempPath}: ${errnoCode(err) ?? String(err)} (is ${dir} writable?)`);
    }
  }

  get rows(): number {
    return this.rowsWritten + this.groupRows;
  }

  /** Bytes on disk so far (row groups flushed). */
  get bytesWritten(): number {
    return fs.fstatSync(this.fd).size;
  }

  /**
   * Copy a batch's rows into the row group being filled, writing it out
   * whenever it is full. The rows are copied: the caller may reuse the batch
   * once this returns (EventDecoder does). Copying into arrays that live as
   * long as the writer costs less than allocating (and collecting) a new
   * 128k-row array per column and row group.
   */
  append(batch: EventBatch): void {
    const group = (this.group ??= allocateBatch(this.rowGroupRows));
    for (let from = 0; from < batch.length; ) {
      const n = Math.min(batch.length - from, this.rowGroupRows - this.groupRows);
      for (const c of COLUMNS) copyRows(batch[c.name], from, group[c.name], this.groupRows, n);
      from += n;
      this.groupRows += n;
      if (this.groupRows === this.rowGroupRows) this.flushRowGroup();
    }
  }

  /** Write the rows appended so far as one row group. */
  flushRowGroup(): void {
    const rows = this.groupRows;
    if (rows === 0) return;
    const group = this.group!;
    this.rowsWritten += rows;
    this.groupRows = 0;
    const start = this.out.offset;
    const columns = COLUMNS.map((c) => this.chunks.write(c, group[c.name], rows));
    this.rowGroups.push({
      columns,
      num_rows: BigInt(rows),
      total_byte_size: columns.reduce((sum, c) => sum + c.meta_data!.total_uncompressed_size, 0n),
      total_compressed_size: BigInt(this.out.offset - start),
    });
    this.out.flush();
  }

  /** Write the last row group and the footer, fsync, rename into place. */
  finish(footer: Footer): void {
    this.flushRowGroup();
    const checked = FooterSchema.parse(footer);
    writeMetadata(this.out, {
      version: 2,
      created_by: 'ior',
      schema: parquetSchema(),
      num_rows: BigInt(this.rowsWritten),
      row_groups: this.rowGroups,
      key_value_metadata: [{ key: FOOTER_KEY, value: JSON.stringify(checked) }],
      metadata_length: 0, // a reader's field, not in the thrift: writeMetadata appends the real length
    });
    this.out.appendUint32(PARQUET_MAGIC);
    this.out.finish();
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    fs.renameSync(this.tempPath, this.finalPath);
  }

  /** Remove the temp file (nothing was worth keeping). */
  abort(): void {
    if (!this.closed) fs.closeSync(this.fd);
    this.closed = true;
    fs.rmSync(this.tempPath, { force: true });
  }
}

/** to[at, at + n) = from[start, start + n), for a typed array or a plain one. */
function copyRows(from: ArrayLike<unknown>, start: number, to: ArrayLike<unknown>, at: number, n: number): void {
  if (ArrayBuffer.isView(from)) (to as Int32Array).set((from as Int32Array).subarray(start, start + n), at);
  else for (let i = 0; i < n; i++) (to as unknown[])[at + i] = from[start + i];
}
