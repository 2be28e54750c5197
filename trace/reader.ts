/**
 * TraceReader: opens a trace, checks that it is one (Parquet magic, ior
 * footer, schema version), and streams it back as EventBatches, one row
 * group at a time, so memory stays flat whatever the trace's size.
 */
import fs from 'node:fs';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, type AsyncBuffer, type ColumnMetaData, type FileMetaData, type RowGroup, type SchemaElement } from 'hyparquet';
import { COLUMNS, FOOTER_KEY, type ColumnDef, FooterSchema, SCHEMA_VERSION, type CodedBatch, type CodedInt32, type CodedInt64, type CodedStrings, type ColumnName, type Footer, type PartialEventBatch } from '../schema/index.js';
import { IorError, errnoCode } from '../common/errors.js';
import { zstdDecompress } from './zstd.js';
import { checkLevelStreams, decodeChunk, type ColumnScratch } from './page-reader.js';
import { parquetSchema } from './writer.js';

const PARQUET_MAGIC = 'PAR1';
const COLUMN_BY_NAME = new Map(COLUMNS.map((c) => [c.name as string, c]));
/** each column's schema element as this ior writes it: page-reader.ts decodes only chunks of such columns */
const EXPECTED_ELEMENTS = new Map(parquetSchema().map((s) => [s.name, s]));

export class TraceReader {
  private constructor(
    readonly path: string,
    readonly footer: Footer,
    readonly rowCount: number,
    private readonly file: AsyncBuffer,
    private readonly metadata: FileMetaData,
    /** the columns the file has (an older schema version lacks the newer ones) */
    private readonly present: ReadonlySet<string>,
  ) {}

  /** Open and validate; every problem is an IorError with one clear line. */
  static async open(path: string): Promise<TraceReader> {
    let size: number;
    try {
      const st = fs.statSync(path);
      if (!st.isFile()) throw new IorError(`${path} is not a regular file: give the path of a .parquet trace`);
      size = st.size;
    } catch (err) {
      if (err instanceof IorError) throw err;
      throw new IorError(`cannot read ${path}: ${errnoCode(err) === 'ENOENT' ? 'no such file' : (errnoCode(err) ?? String(err))}`);
    }
    const fd = fs.openSync(path, 'r');
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    if (size >= 8) fs.readSync(fd, tail, 0, 4, size - 4);
    fs.closeSync(fd);
    if (size < 12 || head.toString('latin1') !== PARQUET_MAGIC) {
      throw new IorError(`${path} is not a Parquet file (no PAR1 header): is it an ior trace?`);
    }
    if (tail.toString('latin1') !== PARQUET_MAGIC) {
      throw new IorError(`${path} is truncated or still being written (no Parquet footer): capture it again, or wait for the capture to finish`);
    }
    const file = await asyncBufferFromFile(path);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (err) {
      throw new IorError(`${path} has a corrupt Parquet footer (${(err as Error).message}): the file is damaged`);
    }
    const raw = metadata.key_value_metadata?.find((kv) => kv.key === FOOTER_KEY)?.value;
    if (raw === undefined) throw new IorError(`${path} is a Parquet file but not an ior trace (no ${FOOTER_KEY} metadata)`);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new IorError(`${path} has an unreadable ior footer (not JSON): the file is damaged`);
    }
    const version = (json as { schema_version?: unknown })?.schema_version;
    if (typeof version === 'number' && version > SCHEMA_VERSION) {
      throw new IorError(`${path} is a trace of schema version ${version}, newer than this ior reads (${SCHEMA_VERSION}): upgrade ior`);
    }
    const parsed = FooterSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new IorError(`${path} has an invalid ior footer: ${issue.path.join('.') || 'footer'}: ${issue.message}`);
    }
    // a column added after the trace's schema version reads as nulls
    const present = new Set(COLUMNS.filter((c) => metadata.schema.some((s) => s.name === c.name)).map((c) => c.name as string));
    const missing = COLUMNS.filter((c) => !present.has(c.name) && ((c as ColumnDef).since ?? 1) <= parsed.data.schema_version);
    if (missing.length > 0) throw new IorError(`${path} lacks trace columns ${missing.map((c) => c.name).join(', ')}: not a complete ior trace`);
    for (const c of COLUMNS) {
      if (!present.has(c.name)) continue;
      const got = metadata.schema.find((s) => s.name === c.name)!.type;
      const want = EXPECTED_ELEMENTS.get(c.name)!.type;
      if (got !== want) throw new IorError(`${path} is not an ior trace: column ${c.name} is ${got ?? 'a group'}, expected ${c.kind === 'string' ? 'a string' : `an ${c.kind === 'int32' ? 'int32' : 'int64'}`} (${want})`);
    }
    return new TraceReader(path, parsed.data, Number(metadata.num_rows), file, metadata, present);
  }

  /**
   * A reader of a trace still being written (a capture's temp file, no
   * footer yet): `rowGroups` are the ones the writer wrote so far
   * (TraceWriter.writtenRowGroups), `footer` the capture's as of then.
   */
  static async growing(path: string, rowGroups: readonly RowGroup[], footer: Footer): Promise<TraceReader> {
    const file = await asyncBufferFromFile(path);
    const metadata: FileMetaData = {
      version: 2,
      schema: parquetSchema(),
      num_rows: rowGroups.reduce((n, g) => n + g.num_rows, 0n),
      row_groups: [...rowGroups],
      metadata_length: 0,
    };
    return new TraceReader(path, footer, Number(metadata.num_rows), file, metadata, new Set(COLUMNS.map((c) => c.name as string)));
  }

  /** A key/value metadata entry beside ior's footer (INIT_KEY), or undefined. */
  keyValue(key: string): string | undefined {
    return this.metadata.key_value_metadata?.find((kv) => kv.key === key)?.value;
  }

  get rowGroupCount(): number {
    return this.metadata.row_groups.length;
  }

  /** Earliest and latest ts_ns, from the row groups' column statistics; null if a group has none (or no rows). */
  timestampRange(): { min: bigint; max: bigint } | null {
    let range: { min: bigint; max: bigint } | null = null;
    for (const group of this.metadata.row_groups) {
      const stats = group.columns.find((c) => c.meta_data?.path_in_schema[0] === 'ts_ns')?.meta_data?.statistics;
      const min = stats?.min_value ?? stats?.min;
      const max = stats?.max_value ?? stats?.max;
      if (typeof min !== 'bigint' || typeof max !== 'bigint') return null;
      range = range === null ? { min, max } : { min: min < range.min ? min : range.min, max: max > range.max ? max : range.max };
    }
    return range;
  }

  /**
   * Stream the trace, one batch per row group, with only `columns` decoded
   * (all by default), row groups [start, end) of `groups` (all by default:
   * parallel readers take a share each). int64 columns come back as bigint:
   * convert on purpose.
   */
  batches<K extends ColumnName>(columns?: readonly K[], groups?: { start: number; end: number }): AsyncGenerator<PartialEventBatch<K>> {
    return this.read(columns, groups, false) as AsyncGenerator<PartialEventBatch<K>>;
  }

  /**
   * As batches, with string columns as their dictionary and a code per row
   * (CodedStrings): no string per row is materialized, and a consumer can
   * look things up once per distinct value. The typed arrays of a batch are
   * reused for the next one: a batch is valid until the next is asked for.
   */
  codedBatches<K extends ColumnName>(columns: readonly K[], groups?: { start: number; end: number }): AsyncGenerator<CodedBatch<K>> {
    return this.read(columns, groups, true) as AsyncGenerator<CodedBatch<K>>;
  }

  private async *read(columns: readonly ColumnName[] | undefined, groups: { start: number; end: number } | undefined, coded: boolean): AsyncGenerator<Record<string, unknown>> {
    const wanted = (columns ?? COLUMNS.map((c) => c.name)) as readonly ColumnName[];
    // coded batches reuse their typed arrays, one scratch per column
    const scratch: (ColumnScratch | null)[] = wanted.map(() => (coded ? {} : null));
    const { start, end } = groups ?? { start: 0, end: this.metadata.row_groups.length };
    let rowStart = this.metadata.row_groups.slice(0, start).reduce((sum, g) => sum + Number(g.num_rows), 0);
    const handle = await fs.promises.open(this.path, 'r');
    const selected = this.metadata.row_groups.slice(start, end);
    // the next row group's chunks are read while this one decodes (and the consumer works on it)
    const prefetch = (g: number) => {
      if (g >= selected.length) return null;
      const read = this.readChunks(handle, selected[g]!, wanted);
      read.catch(() => undefined); // not unhandled while the generator waits at a yield: awaited below
      return read;
    };
    let pending = prefetch(0);
    try {
      for (let g = 0; g < selected.length; g++) {
        const rows = Number(selected[g]!.num_rows);
        const batch: Record<string, unknown> = { length: rows };
        try {
          const chunks = await pending!;
          pending = prefetch(g + 1);
          const others: ColumnName[] = []; // chunks not laid out as trace/pages.ts writes them
          for (const [i, name] of wanted.entries()) {
            if (!this.present.has(name)) {
              batch[name] = absentColumn(COLUMN_BY_NAME.get(name)!, coded, rows);
              continue;
            }
            const { meta, written, bytes } = chunks[i]!;
            const data = decodeChunk(bytes, COLUMN_BY_NAME.get(name)!, meta, written, EXPECTED_ELEMENTS.get(name)!, rows, coded, scratch[i] ?? null);
            if (data === null) others.push(name);
            else batch[name] = data;
          }
          if (others.length > 0) {
            for (const name of others) {
              const i = wanted.indexOf(name);
              checkLevelStreams(chunks[i]!.bytes, COLUMN_BY_NAME.get(name)!.nullable, rows);
            }
            const decoded = await this.readWithHyparquet(others, rowStart, rows);
            for (const name of others) batch[name] = coded ? codeColumn(decoded[name] as unknown[], COLUMN_BY_NAME.get(name)!) : decoded[name];
          }
        } catch (err) {
          throw new IorError(`${this.path}: cannot decode row group at row ${rowStart} (${(err as Error).message}): the file is damaged`);
        }
        rowStart += rows;
        yield batch;
      }
    } finally {
      // a consumer that stops early leaves a read in flight: let it end before the handle closes
      await pending?.catch(() => undefined);
      await handle.close();
    }
  }

  /** The bytes of the `names` column chunks of `group`, each read on its own (only what is asked for), all at once. */
  private readChunks(handle: fs.promises.FileHandle, group: RowGroup, names: readonly string[]): Promise<({ meta: ColumnMetaData; written: SchemaElement; bytes: Uint8Array } | null)[]> {
    return Promise.all(
      names.map(async (name) => {
        if (!this.present.has(name)) return null;
        const meta = group.columns.find((c) => c.meta_data?.path_in_schema[0] === name)?.meta_data;
        const written = this.metadata.schema.find((s) => s.name === name);
        if (meta === undefined || written === undefined) throw new Error(`no column chunk for ${name}`);
        const offset = Number(meta.dictionary_page_offset || meta.data_page_offset);
        const bytes = new Uint8Array(Number(meta.total_compressed_size));
        const { bytesRead } = await handle.read(bytes, 0, bytes.length, offset);
        if (bytesRead !== bytes.length) throw new Error(`column ${name} ends past the end of the file`);
        return { meta, written, bytes };
      }),
    );
  }

  /** Columns `names` of the row group of `rows` rows at `rowStart`, decoded by hyparquet: any Parquet layout. */
  private async readWithHyparquet(names: readonly string[], rowStart: number, rows: number): Promise<Record<string, unknown>> {
    const chunks = new Map<string, { at: number; data: ArrayLike<unknown> }[]>();
    await parquetRead({
      file: this.file,
      metadata: this.metadata,
      rowStart,
      rowEnd: rowStart + rows,
      columns: names as string[],
      compressors: { ZSTD: zstdDecompress },
      utf8: true,
      onChunk: ({ columnName, columnData, rowStart: at }) => {
        let list = chunks.get(columnName);
        if (!list) chunks.set(columnName, (list = []));
        list.push({ at, data: columnData as ArrayLike<unknown> });
      },
    });
    return Object.fromEntries(names.map((name) => [name, normalizeColumn(name, chunks.get(name) ?? [], rowStart, rows)]));
  }
}

/** A column the trace's schema version predates: all nulls (absent columns are nullable ones). */
function absentColumn(column: ColumnDef, coded: boolean, rows: number): unknown {
  if (!coded) return new Array(rows).fill(null);
  if (column.kind === 'string') return { dictionary: [], codes: new Int32Array(rows).fill(-1) } satisfies CodedStrings;
  if (column.kind === 'int32') return { values: new Int32Array(rows), defs: new Uint8Array(rows) } satisfies CodedInt32;
  return { values: new BigInt64Array(rows), defs: new Uint8Array(rows) } satisfies CodedInt64;
}

/** A column of hyparquet's as codedBatches gives it. */
function codeColumn(values: unknown[], column: ColumnDef): unknown {
  if (column.kind === 'string') return codeStrings(values as (string | null)[], column);
  if (!column.nullable) return values;
  const defs = new Uint8Array(values.length);
  if (column.kind === 'int32') {
    const ints = new Int32Array(values.length);
    values.forEach((v, i) => {
      if (v !== null && v !== undefined) (ints[i] = v as number), (defs[i] = 1);
    });
    return { values: ints, defs } satisfies CodedInt32;
  }
  const wide = new BigInt64Array(values.length);
  values.forEach((v, i) => {
    if (v !== null && v !== undefined) (wide[i] = BigInt.asIntN(64, v as bigint)), (defs[i] = 1);
  });
  return { values: wide, defs } satisfies CodedInt64;
}

/**
 * A string column of hyparquet's as CodedStrings. A damaged page can leave a
 * row without a value (hyparquet gives undefined for a dictionary index out
 * of range) or a required column with a null: an error, not a hole.
 */
function codeStrings(values: readonly (string | null)[], column: ColumnDef): CodedStrings {
  const index = new Map<string, number>();
  const dictionary: string[] = [];
  const codes = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null && column.nullable) {
      codes[i] = -1;
      continue;
    }
    if (typeof v !== 'string') throw new Error(`column ${column.name}: row ${i} of its row group holds no string`);
    let code = index.get(v);
    if (code === undefined) {
      index.set(v, (code = dictionary.length));
      dictionary.push(v);
    }
    codes[i] = code;
  }
  return { dictionary, codes };
}

/** Join a column's chunks into the EventBatch representation of its kind. */
function normalizeColumn(name: string, chunks: { at: number; data: ArrayLike<unknown> }[], rowStart: number, rows: number): unknown {
  const def = COLUMN_BY_NAME.get(name)!;
  chunks.sort((a, b) => a.at - b.at);
  if (def.nullable || def.kind === 'string') {
    const only = chunks.length === 1 ? chunks[0]! : null;
    if (only !== null && only.at === rowStart && only.data.length === rows && Array.isArray(only.data)) {
      // the usual case: one chunk for the whole row group, used in place (nulls made explicit)
      const data = only.data as unknown[];
      if (def.nullable) for (let i = 0; i < rows; i++) if (data[i] === undefined) data[i] = null;
      return data;
    }
    const out = new Array(rows);
    for (const { at, data } of chunks) for (let i = 0; i < data.length; i++) out[at - rowStart + i] = data[i] ?? null;
    return out;
  }
  const out = def.kind === 'int32' ? new Int32Array(rows) : new BigInt64Array(rows);
  for (const { at, data } of chunks) {
    if (def.kind === 'int32') {
      // an element loop: Int32Array.set from a plain array takes V8's slow generic path
      const target = out as Int32Array;
      const base = at - rowStart;
      for (let i = 0; i < data.length; i++) target[base + i] = data[i] as number;
    } else if (data instanceof BigInt64Array) (out as BigInt64Array).set(data, at - rowStart);
    else if (data instanceof BigUint64Array) (out as BigInt64Array).set(new BigInt64Array(data.buffer, data.byteOffset, data.length), at - rowStart);
    else if (def.kind === 'int64') {
      // dictionary-encoded pages come back as arrays of bigint, already signed
      const target = out as BigInt64Array;
      const base = at - rowStart;
      for (let i = 0; i < data.length; i++) target[base + i] = data[i] as bigint;
    } else {
      const target = out as BigInt64Array;
      const base = at - rowStart;
      for (let i = 0; i < data.length; i++) target[base + i] = BigInt.asIntN(64, data[i] as bigint);
    }
  }
  return out;
}
