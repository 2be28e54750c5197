/**
 * trace/page-reader.ts, TraceReader's own decoder of the chunks
 * trace/pages.ts writes, checked against hyparquet's generic decoder on the
 * same files; and the fallback to hyparquet for traces of older writers,
 * checked against DuckDB.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ByteWriter } from 'hyparquet-writer';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type SchemaElement } from 'hyparquet';
import { DuckDBInstance } from '@duckdb/node-api';
import { TraceReader, parquetSchema } from '../trace/index.js';
import { ChunkEncoder } from '../trace/pages.js';
import { decodeChunk } from '../trace/page-reader.js';
import { zstdDecompress } from '../trace/zstd.js';
import { REPO_ROOT } from '../common/assets.js';
import { COLUMNS, rowOf, type CodedInt32, type CodedInt64, type CodedStrings, type ColumnDef, type TraceEvent } from '../schema/index.js';
import { event, tempDir, writeFixtureTrace } from './helpers/fixture.js';

const MIN64 = -(2n ** 63n);
const MAX64 = 2n ** 63n - 1n;
const EXTREMES = [MIN64, MAX64, 0n, -1n, 1n, 2n ** 32n, -(2n ** 32n) - 1n, 2n ** 53n + 1n, 2n ** 62n];

/** Rows on every decoder's edges: int64 extremes (and deltas that wrap), wide and zero-width deltas, nulls, empty and non-ASCII strings, RLE runs and bit-packed stretches. */
function edgeRows(n: number): TraceEvent[] {
  let x = 99;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  return Array.from({ length: n }, (_, i) => {
    const r = rand();
    const run = Math.floor(i / 50) % 2 === 0;
    return event(
      {
        syscall: run ? 'read' : ['openat', 'pwrite64', 'close', 'renameat2', 'newfstatat'][r % 5]!,
        ts_ns: i % 89 === 3 ? EXTREMES[i % EXTREMES.length]! : run ? 5_000_000_000n + BigInt(i) : -BigInt(r) * 2n ** 20n,
        latency_ns: i % 11 === 0 ? EXTREMES[(i / 11) % EXTREMES.length]! : BigInt(r % 1_000_000),
        pid: run ? 42 : 1 - (r % 5),
        tid: r | 0,
        comm: i % 37 === 0 ? '' : run ? 'postgres' : 'çà-日本語-🙂',
        fd: run ? 3 : (r % 70000) - 1,
        fd2: i % 3 === 0 ? -2147483648 : 2147483647,
        path: i % 6 === 0 ? null : run ? '/pg/base/1' : `/pg/f${r % 3000}`,
        path2: i % 13 === 0 ? '' : i % 17 === 0 ? 'ü' : null,
        flags: i % 4 === 0 ? null : r % 7 === 0 ? -2147483648 : r % 0o777,
        mode: i % 9 === 0 ? 2147483647 : null,
        offset: i % 5 === 0 ? null : EXTREMES[r % EXTREMES.length]!,
        count: run ? null : BigInt(r) - 2n ** 31n,
        ret: i % 19 === 0 ? -2n : BigInt(r % 8192),
        bytes: run ? 8192n : 0n,
        file_type: run ? 'regular' : i % 2 ? null : 'directory',
      },
      i,
    );
  });
}

/** Every row through TraceReader.batches() (its own decoder where it applies). */
async function readerRows(file: string): Promise<TraceEvent[]> {
  const reader = await TraceReader.open(file);
  const rows: TraceEvent[] = [];
  for await (const b of reader.batches()) for (let i = 0; i < b.length; i++) rows.push(rowOf(b as never, i));
  return rows;
}

/** Every row through hyparquet alone, in the TraceEvent representation (int32 numbers, int64 bigints, nulls). */
async function hyparquetRows(file: string): Promise<TraceEvent[]> {
  const objects = (await parquetReadObjects({ file: await asyncBufferFromFile(file), compressors: { ZSTD: zstdDecompress }, utf8: true })) as Record<string, unknown>[];
  return objects.map((o) => {
    const row: Record<string, unknown> = {};
    for (const c of COLUMNS) {
      const v = o[c.name] ?? null;
      row[c.name] = v === null || c.kind === 'string' || c.kind === 'int32' ? v : BigInt.asIntN(64, BigInt(v as bigint));
    }
    return row as unknown as TraceEvent;
  });
}

/** Which columns of the file's first row group the fast decoder takes (the others fall back to hyparquet). */
async function decodedOwnColumns(file: string): Promise<string[]> {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  const bytes = fs.readFileSync(file);
  const expected = new Map(parquetSchema().map((s) => [s.name, s]));
  const group = metadata.row_groups[0]!;
  // columns newer than the file's schema version are not in it
  const inFile = COLUMNS.filter((c) => group.columns.some((chunk) => chunk.meta_data?.path_in_schema[0] === c.name));
  return inFile.filter((c) => {
    const meta = group.columns.find((chunk) => chunk.meta_data?.path_in_schema[0] === c.name)!.meta_data!;
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const chunk = new Uint8Array(bytes.subarray(start, start + Number(meta.total_compressed_size)));
    const written = metadata.schema.find((s) => s.name === c.name)!;
    return decodeChunk(chunk, c, meta, written, expected.get(c.name)!, Number(group.num_rows)) !== null;
  }).map((c) => c.name);
}

test('edge values read back as written and as hyparquet reads them, over several row groups', async () => {
  const dir = tempDir('page-reader');
  const rows = edgeRows(3000);
  const file = writeFixtureTrace(path.join(dir, 'edge.parquet'), rows, {}, 1024); // groups of 1024, 1024, 952
  assert.deepEqual(await decodedOwnColumns(file), COLUMNS.map((c) => c.name), 'every chunk of a current trace takes the fast path');
  const back = await readerRows(file);
  assert.equal(back.length, rows.length);
  for (let i = 0; i < rows.length; i++) assert.deepEqual(back[i], { ...rows[i], seq: BigInt(i) }, `row ${i}`);
  assert.deepEqual(back, await hyparquetRows(file));
  fs.rmSync(dir, { recursive: true });
});

test('a requested subset of columns and a share of the row groups', async () => {
  const dir = tempDir('page-reader');
  const rows = edgeRows(700);
  const file = writeFixtureTrace(path.join(dir, 'subset.parquet'), rows, {}, 100);
  const reader = await TraceReader.open(file);
  const seen: bigint[] = [];
  for await (const b of reader.batches(['seq', 'path2'], { start: 2, end: 5 })) {
    assert.deepEqual(Object.keys(b).sort(), ['length', 'path2', 'seq']);
    assert.ok(b.seq instanceof BigInt64Array);
    for (let i = 0; i < b.length; i++) {
      seen.push(b.seq[i]!);
      assert.equal(b.path2[i], rows[Number(b.seq[i])]!.path2);
    }
  }
  assert.deepEqual(seen, Array.from({ length: 300 }, (_, i) => BigInt(200 + i)));
  fs.rmSync(dir, { recursive: true });
});

test('an empty trace and a one-row trace', async () => {
  const dir = tempDir('page-reader');
  assert.deepEqual(await readerRows(writeFixtureTrace(path.join(dir, 'empty.parquet'), [])), []);
  const one = [event({ syscall: 'write', path: null, comm: '', ts_ns: MIN64, latency_ns: MAX64 })];
  const file = writeFixtureTrace(path.join(dir, 'one.parquet'), one);
  assert.deepEqual(await readerRows(file), one);
  assert.deepEqual(await readerRows(file), await hyparquetRows(file));
  fs.rmSync(dir, { recursive: true });
});

test('a chunk of several data pages decodes as their concatenation', () => {
  // TraceWriter writes one data page per chunk; other writers split them: pages of two chunks, end to end, make such a chunk
  const expected = new Map(parquetSchema().map((s) => [s.name, s]));
  const rows = edgeRows(600);
  for (const name of ['ts_ns', 'latency_ns', 'offset', 'pid', 'flags'] as const) {
    const column = COLUMNS.find((c) => c.name === name)! as ColumnDef;
    const values = rows.map((r) => r[name]);
    const typed = (part: unknown[]) =>
      column.nullable ? part : column.kind === 'int32' ? Int32Array.from(part as number[]) : BigInt64Array.from(part as bigint[]);
    const out = new ByteWriter();
    const encoder = new ChunkEncoder(out);
    const first = encoder.write(column, typed(values.slice(0, 250)), 250);
    encoder.write(column, typed(values.slice(250)), 350);
    const chunk = out.getBytes();
    const element = expected.get(name) as SchemaElement;
    const decoded = decodeChunk(chunk, column, first.meta_data!, element, element, 600) as ArrayLike<unknown>;
    assert.deepEqual(Array.from(decoded), values, name);
  }
});

/** Every row as DuckDB reads the file (an independent reader), in seq order; columns the file lacks are absent. */
async function duckdbRows(file: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const described = await (await con.run(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects();
  const present = new Set(described.map((d) => String(d.column_name)));
  const columns = COLUMNS.map((c) => c.name).filter((c) => present.has(c));
  const rows = await (await con.run(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM read_parquet('${file}') ORDER BY seq`)).getRowObjects();
  con.closeSync();
  return { columns, rows };
}

test('traces of older writers fall back to hyparquet and read as DuckDB reads them', async () => {
  for (const name of ['mixed.parquet', 'edge-values.parquet']) {
    const file = path.join(REPO_ROOT, 'fixtures', 'stats', name);
    assert.deepEqual(await decodedOwnColumns(file), [], `${name}: written by hyparquet-writer, not taken by the fast path`);
    // the fallback is hyparquet itself: the oracle is DuckDB
    const ours = await readerRows(file);
    const duck = await duckdbRows(file);
    assert.ok(duck.rows.length > 0 && duck.columns.includes('path'), name);
    assert.equal(ours.length, duck.rows.length, name);
    for (let i = 0; i < ours.length; i++) {
      const row = ours[i] as unknown as Record<string, unknown>;
      for (const c of duck.columns) assert.deepEqual(row[c], duck.rows[i]![c], `${name} row ${i} column ${c}`);
      // columns of later schema versions read as null
      for (const c of COLUMNS) if (!duck.columns.includes(c.name)) assert.equal(row[c.name], null, `${name} row ${i} column ${c.name}`);
    }
  }
});

/** Every row through TraceReader.codedBatches(), strings looked up in their dictionaries, nullable numbers by their definition levels; each batch read before the next is asked for. */
async function codedRows(file: string, reused: boolean): Promise<TraceEvent[]> {
  const reader = await TraceReader.open(file);
  const rows: TraceEvent[] = [];
  const names = COLUMNS.map((c) => c.name);
  let previous: Int32Array | null = null;
  for await (const b of reader.codedBatches(names)) {
    if (previous !== null) assert.equal(b.pid.buffer === previous.buffer, reused, `the typed arrays are ${reused ? '' : 'not '}reused from batch to batch`);
    previous = b.pid;
    for (let i = 0; i < b.length; i++) {
      const row: Record<string, unknown> = {};
      for (const c of COLUMNS) {
        const column = (b as Record<string, unknown>)[c.name];
        if (c.nullable && c.kind !== 'string') {
          const { values, defs } = column as CodedInt32 | CodedInt64;
          row[c.name] = defs[i] ? values[i]! : null;
        } else if (c.kind !== 'string') row[c.name] = (column as ArrayLike<unknown>)[i];
        else {
          const { dictionary, codes } = column as CodedStrings;
          row[c.name] = codes[i] === -1 ? null : dictionary[codes[i]!];
        }
      }
      rows.push(row as TraceEvent);
    }
  }
  return rows;
}

test('coded batches: every string as its dictionary entry (or null), every nullable number with its level, for current (arrays reused) and older writers (hyparquet)', async () => {
  const dir = tempDir('page-reader');
  const rows = edgeRows(3000);
  const current = writeFixtureTrace(path.join(dir, 'edge.parquet'), rows, {}, 1024);
  assert.deepEqual(await codedRows(current, true), await readerRows(current));
  for (const name of ['mixed.parquet', 'edge-values.parquet']) {
    const older = path.join(REPO_ROOT, 'fixtures', 'stats', name);
    assert.deepEqual(await codedRows(older, false), await readerRows(older), name);
  }
  fs.rmSync(dir, { recursive: true });
});

test('a consumer that stops after the first batch leaves no read behind', async () => {
  const dir = tempDir('page-reader');
  const file = writeFixtureTrace(path.join(dir, 'stop.parquet'), edgeRows(500), {}, 100);
  const reader = await TraceReader.open(file);
  const openFds = () => fs.readdirSync('/proc/self/fd').length;
  await new Promise((resolve) => setTimeout(resolve, 50)); // open()'s footer read closes its file asynchronously
  const before = openFds();
  for await (const b of reader.batches(['ts_ns'])) {
    assert.equal(b.length, 100);
    break; // the second row group's chunks are being read ahead at this point
  }
  assert.equal(openFds(), before, 'the file handle is closed');
  assert.equal((await readerRows(file)).length, 500);
  fs.rmSync(dir, { recursive: true });
});
