/**
 * TraceWriter: streams EventBatches into a zstd Parquet file, one row group
 * at a time (bounded memory however long the capture), under a temporary
 * name that `finish` renames into place once the footer is written; the
 * final name is a complete trace or nothing.
 *
 * A writer that dies (kill -9, OOM) leaves the temp file without a footer.
 * `checkpoint` (the capture calls it every second) writes out the rows
 * appended so far as a row group and appends what the footer would need to
 * a journal beside it (`<temp>.journal`: one JSON line per checkpoint, the
 * new row groups' metadata and the footer as of then), so trace/recover.ts
 * can rebuild a valid trace up to the last checkpoint.
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
/** A checkpoint writes the rows waiting as a row group when there are this many, or when they have waited this long. */
const CHECKPOINT_MIN_ROWS = 4096;
const CHECKPOINT_MAX_WAIT_MS = 10_000;
/** Bytes set aside beside the temp file, freed for the footer: a full disk still gets a readable trace. */
const FOOTER_RESERVE = 1 << 20;

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
  /** the journal (append-only), and the row groups it does not hold yet */
  private journalFd: number | null = null;
  private journaled = 0;
  private lastFlushMs = Date.now();
  /** the file system refused a write (ENOSPC, EDQUOT, EFBIG): from then on rows are counted, not written */
  full: string | null = null;
  /** rows given to append that are not in the file: the row group cut short when it filled, and every one after */
  droppedRows = 0;

  private constructor(
    readonly finalPath: string,
    readonly tempPath: string,
    private readonly rowGroupRows: number,
  ) {
    this.fd = fs.openSync(tempPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    this.out = new FdWriter(this.fd);
    this.chunks = new ChunkEncoder(this.out);
    this.out.appendUint32(PARQUET_MAGIC);
    // on disk at once: a first row group refused by a full disk cuts the file back to here, not to nothing
    this.out.flush();
    // room for the footer when the disk fills: released just before the footer is written
    fs.writeFileSync(this.reservePath, Buffer.alloc(FOOTER_RESERVE));
  }

  private get reservePath(): string {
    return `${this.tempPath}.reserve`;
  }

  /** Opens `<dir>/.<name>.<pid>.tmp` next to `finalPath` (same file system, so the rename is atomic). */
  static create(finalPath: string, rowGroupRows = DEFAULT_ROW_GROUP_ROWS): TraceWriter {
    const dir = path.dirname(path.resolve(finalPath));
    const tempPath = path.join(dir, `.${path.basename(finalPath)}.${process.pid}.tmp`);
    try {
      return new TraceWriter(finalPath, tempPath, rowGroupRows);
    } catch (err) {
      // (a temp file made before the reserve could not be: nothing of it is worth keeping)
      if (errnoCode(err) !== 'EEXIST') for (const f of [tempPath, `${tempPath}.reserve`]) fs.rmSync(f, { force: true });
      throw new IorError(`cannot create ${tempPath}: ${errnoCode(err) ?? String(err)} (is ${dir} writable and not full?)`);
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
    if (this.full) {
      this.droppedRows += batch.length;
      return;
    }
    const group = (this.group ??= allocateBatch(this.rowGroupRows));
    for (let from = 0; from < batch.length; ) {
      const n = Math.min(batch.length - from, this.rowGroupRows - this.groupRows);
      for (const c of COLUMNS) copyRows(batch[c.name], from, group[c.name], this.groupRows, n);
      from += n;
      this.groupRows += n;
      if (this.groupRows === this.rowGroupRows) {
        this.flushRowGroup();
        if (this.full) {
          this.droppedRows += batch.length - from;
          return;
        }
      }
    }
  }

  /** Write the rows appended so far as one row group. */
  flushRowGroup(): void {
    const rows = this.groupRows;
    if (rows === 0) return;
    this.lastFlushMs = Date.now();
    const group = this.group!;
    this.rowsWritten += rows;
    this.groupRows = 0;
    const start = this.out.offset;
    try {
      const columns = COLUMNS.map((c) => this.chunks.write(c, group[c.name], rows));
      const compressed = BigInt(this.out.offset - start);
      this.out.flush();
      this.rowGroups.push({
        columns,
        num_rows: BigInt(rows),
        total_byte_size: columns.reduce((sum, c) => sum + c.meta_data!.total_uncompressed_size, 0n),
        total_compressed_size: compressed,
      });
    } catch (err) {
      this.rowsWritten -= rows;
      this.refused(err, start, rows);
    }
  }

  /**
   * A write failed. A full file system (or quota, or file size limit) cuts
   * the file back to the row groups before this one and turns the writer
   * into a counter of the rows it could not keep; the footer is still
   * written (room for it is reserved). Any other error is thrown.
   */
  private refused(err: unknown, end: number, rows: number): void {
    const code = errnoCode(err);
    if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EFBIG') throw err;
    this.full = code;
    this.droppedRows += rows;
    fs.ftruncateSync(this.fd, end);
    this.out.index = 0;
    this.out.offset = end;
  }

  /** The journal beside the temp file: what recovery rebuilds the footer from. */
  get journalPath(): string {
    return journalOf(this.tempPath);
  }

  /**
   * What was appended becomes readable after a crash: the rows as a row
   * group in the temp file, then one journal line with the row groups since
   * the last checkpoint, where the data ends, and `footer` (the capture's
   * footer as of now). Written after the data, so a line never names bytes
   * that are not there. A few rows wait for a later checkpoint (up to
   * CHECKPOINT_MAX_WAIT_MS): a row group's metadata costs ~3 KB in the
   * footer, which a quiet capture flushing every second would pay 3600
   * times an hour.
   */
  checkpoint(footer: Footer, nowMs = Date.now()): void {
    if (this.full) return;
    if (this.groupRows >= CHECKPOINT_MIN_ROWS || (this.groupRows > 0 && nowMs - this.lastFlushMs >= CHECKPOINT_MAX_WAIT_MS)) this.flushRowGroup();
    if (this.full || (this.journaled === this.rowGroups.length && this.journalFd !== null)) return;
    const line: JournalLine = { row_groups: this.rowGroups.slice(this.journaled), end: this.out.offset, footer };
    try {
      this.journalFd ??= fs.openSync(this.journalPath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o644);
      fs.writeSync(this.journalFd, JSON.stringify(line, toJson) + '\n');
    } catch (err) {
      this.refused(err, this.out.offset, 0);
      return;
    }
    this.journaled = this.rowGroups.length;
  }

  /** The row groups in the temp file so far (a reader of it, trace/reader.ts `TraceReader.growing`, takes them). */
  get writtenRowGroups(): readonly RowGroup[] {
    return this.rowGroups;
  }

  /** Write the last row group and the footer (with `extra` key/value metadata beside ior's footer), fsync, rename into place. */
  finish(footer: Footer, extra: KeyValue[] = []): void {
    this.flushRowGroup();
    fs.rmSync(this.reservePath, { force: true });
    const footerAt = this.out.offset;
    try {
      writeFooter(this.out, this.rowGroups, footer, extra);
      this.out.finish();
    } catch (err) {
      // the extra metadata can be bigger than the room reserved for the footer: a full disk still gets the trace without it
      const code = errnoCode(err);
      if (extra.length === 0 || (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EFBIG')) throw err;
      fs.ftruncateSync(this.fd, footerAt);
      this.out.index = 0;
      this.out.offset = footerAt;
      writeFooter(this.out, this.rowGroups, footer);
      this.out.finish();
    }
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    this.closed = true;
    fs.renameSync(this.tempPath, this.finalPath);
    this.dropJournal();
  }

  /** Remove the temp file (nothing was worth keeping). */
  abort(): void {
    if (!this.closed) fs.closeSync(this.fd);
    this.closed = true;
    fs.rmSync(this.tempPath, { force: true });
    fs.rmSync(this.reservePath, { force: true });
    this.dropJournal();
  }

  private dropJournal(): void {
    if (this.journalFd !== null) fs.closeSync(this.journalFd);
    this.journalFd = null;
    fs.rmSync(this.journalPath, { force: true });
  }
}

/** One checkpoint of a journal. */
export interface JournalLine {
  row_groups: RowGroup[];
  /** bytes of the temp file the row groups so far take, "PAR1" included */
  end: number;
  footer: Footer;
}

export function journalOf(tempPath: string): string {
  return `${tempPath}.journal`;
}

/** Parquet key/value metadata beside ior's footer (the replay's initial state, INIT_KEY). */
export interface KeyValue {
  key: string;
  value: string;
}

/** The footer: metadata thrift (row groups, schema, ior's footer JSON and `extra`), its length, "PAR1". */
export function writeFooter(out: ByteWriter, rowGroups: RowGroup[], footer: Footer, extra: KeyValue[] = []): void {
  const checked = FooterSchema.parse(footer);
  writeMetadata(out, {
    version: 2,
    created_by: 'ior',
    schema: parquetSchema(),
    num_rows: rowGroups.reduce((n, g) => n + g.num_rows, 0n),
    row_groups: rowGroups,
    key_value_metadata: [{ key: FOOTER_KEY, value: JSON.stringify(checked) }, ...extra],
    metadata_length: 0, // a reader's field, not in the thrift: writeMetadata appends the real length
  });
  out.appendUint32(PARQUET_MAGIC);
}

/** JSON of row group metadata: bigints and byte arrays tagged, so journalValue restores them exactly. */
function toJson(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return { $bigint: value.toString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64') };
  return value;
}

export function journalValue(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.$bigint === 'string') return BigInt(v.$bigint);
    if (typeof v.$bytes === 'string') return new Uint8Array(Buffer.from(v.$bytes, 'base64'));
  }
  return value;
}

/** to[at, at + n) = from[start, start + n), for a typed array or a plain one. */
function copyRows(from: ArrayLike<unknown>, start: number, to: ArrayLike<unknown>, at: number, n: number): void {
  if (ArrayBuffer.isView(from)) (to as Int32Array).set((from as Int32Array).subarray(start, start + n), at);
  else for (let i = 0; i < n; i++) (to as unknown[])[at + i] = from[start + i];
}
