import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TraceReader, TraceWriter } from '../trace/index.js';
import { batchFromRows, FooterSchema, INIT_KEY, rowOf, SCHEMA_VERSION, type EventBatch, type TraceEvent } from '../schema/index.js';
import { IorError } from '../common/errors.js';
import { event, writeFixtureTrace, tempDir, fixtureFooter, smallFs } from './helpers/fixture.js';
import { needRoot } from './helpers/bpf.js';

const rows: TraceEvent[] = [
  event({ syscall: 'openat', path: '/data/a.txt', fd: 3, ret: 3n, flags: 0o101, mode: 0o644, file_type: 'regular', ts_ns: 9_007_199_254_740_993n }, 0),
  event({ syscall: 'pwrite64', path: '/data/a.txt', fd: 3, offset: 4096n, count: 100n, ret: 100n, bytes: 100n, file_type: 'regular' }, 1),
  event({ syscall: 'openat', path: '/data/missing', ret: -2n, flags: 0 }, 2),
  event({ syscall: 'renameat2', path: '/data/a.txt', path2: '/data/b.txt', flags: 0, latency_ns: 123456789n }, 3),
];

test('a trace round-trips exactly through Parquet (int64 beyond 2^53, nulls, strings)', async () => {
  const dir = tempDir('trace');
  const file = writeFixtureTrace(path.join(dir, 't.parquet'), rows);
  assert.deepEqual(fs.readdirSync(dir), ['t.parquet'], 'temp file renamed away');
  const reader = await TraceReader.open(file);
  assert.equal(reader.rowCount, 4);
  assert.equal(reader.footer.events, 4);
  const back: TraceEvent[] = [];
  for await (const b of reader.batches()) for (let i = 0; i < b.length; i++) back.push(rowOf(b as EventBatch, i));
  assert.deepEqual(back, rows.map((r, i) => ({ ...r, seq: BigInt(i) })));
  fs.rmSync(dir, { recursive: true });
});

test('many row groups stream back in order with only the asked columns', async () => {
  const dir = tempDir('trace');
  const many = Array.from({ length: 2500 }, (_, i) => event({ syscall: i % 2 ? 'read' : 'write', fd: i % 7, ret: BigInt(i), bytes: BigInt(i) }, i));
  const file = writeFixtureTrace(path.join(dir, 'm.parquet'), many, {}, 1000);
  const reader = await TraceReader.open(file);
  assert.equal(reader.rowGroupCount, 3);
  let n = 0;
  for await (const b of reader.batches(['seq', 'bytes'])) {
    assert.equal(Object.keys(b).sort().join(','), 'bytes,length,seq');
    for (let i = 0; i < b.length; i++, n++) assert.equal(b.bytes[i], BigInt(n));
  }
  assert.equal(n, 2500);
  fs.rmSync(dir, { recursive: true });
});

test('DuckDB reads a trace with integer and string types', async () => {
  const dir = tempDir('trace');
  const file = writeFixtureTrace(path.join(dir, 'd.parquet'), rows);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const types = await (await con.run(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects();
  const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t.column_type]));
  assert.equal(typeOf.seq, 'UBIGINT');
  assert.equal(typeOf.ts_ns, 'BIGINT');
  assert.equal(typeOf.pid, 'INTEGER');
  assert.equal(typeOf.path, 'VARCHAR');
  const result = await (await con.run(`SELECT syscall, sum(bytes)::BIGINT AS b, max(ts_ns) AS t, count(path2) AS p2 FROM read_parquet('${file}') GROUP BY syscall ORDER BY syscall`)).getRowObjects();
  assert.deepEqual(result, [
    { syscall: 'openat', b: 0n, t: 9_007_199_254_740_993n, p2: 0n },
    { syscall: 'pwrite64', b: 100n, t: 1_000_001_000n, p2: 0n },
    { syscall: 'renameat2', b: 0n, t: 1_000_003_000n, p2: 1n },
  ]);
  const kv = await (await con.run(`SELECT decode(value) AS value FROM parquet_kv_metadata('${file}') WHERE decode(key) = 'ior.footer'`)).getRowObjects();
  assert.equal(JSON.parse(String(kv[0]!.value)).events, 4);
  con.closeSync();
  fs.rmSync(dir, { recursive: true });
});

test('bad files get one clear IorError each', async () => {
  const dir = tempDir('trace');
  const expectError = async (file: string, pattern: RegExp) => {
    await assert.rejects(TraceReader.open(file), (err: unknown) => err instanceof IorError && pattern.test(err.message) && !err.message.includes('\n'));
  };
  await expectError(path.join(dir, 'nope.parquet'), /no such file/);
  fs.writeFileSync(path.join(dir, 'text.parquet'), 'hello, this is not parquet at all');
  await expectError(path.join(dir, 'text.parquet'), /not a Parquet file/);
  const good = writeFixtureTrace(path.join(dir, 'good.parquet'), rows);
  const bytes = fs.readFileSync(good);
  fs.writeFileSync(path.join(dir, 'cut.parquet'), bytes.subarray(0, bytes.length - 10));
  await expectError(path.join(dir, 'cut.parquet'), /truncated/);
  writeFixtureTrace(path.join(dir, 'newer.parquet'), rows, { schema_version: 99 });
  await expectError(path.join(dir, 'newer.parquet'), new RegExp(`schema version 99, newer than this ior reads \\(${SCHEMA_VERSION}\\): upgrade ior`));
  const { ParquetWriter, ByteWriter } = await import('hyparquet-writer');
  const w = new ByteWriter();
  new ParquetWriter({ writer: w, schema: [{ name: 'root', num_children: 1 }, { name: 'x', type: 'INT32', repetition_type: 'REQUIRED' }] }).finish();
  fs.writeFileSync(path.join(dir, 'other.parquet'), new Uint8Array(w.getBuffer()));
  await expectError(path.join(dir, 'other.parquet'), /Parquet file but not an ior trace/);
  // the fixtures' own footer is a valid one (every hand-made trace relies on it)
  assert.equal(FooterSchema.safeParse(fixtureFooter(0)).success, true, JSON.stringify(FooterSchema.safeParse(fixtureFooter(0)).error?.issues));
  assert.equal(fixtureFooter(0).events, 0);
  fs.rmSync(dir, { recursive: true });
});

test('version-1 traces (the stored fixtures) keep reading: the version-2 async columns come back as nulls, in every reader', async () => {
  const { REPO_ROOT } = await import('../common/assets.js');
  const { ior } = await import('./helpers/cli.js');
  const file = path.join(REPO_ROOT, 'fixtures', 'stats', 'capture-workload.parquet');
  const reader = await TraceReader.open(file);
  assert.equal(reader.footer.schema_version, 1);
  let rows = 0;
  for await (const b of reader.batches()) {
    for (const c of ['async_ring', 'async_data', 'async_depth', 'async_end'] as const) assert.ok((b[c] as unknown[]).every((v) => v === null), c);
    rows += b.length;
  }
  assert.equal(rows, reader.rowCount);
  for await (const b of reader.codedBatches(['syscall', 'async_end'])) assert.ok(b.async_end.dictionary.length === 0 && b.async_end.codes.every((c) => c === -1));
  // stats and sql read it as before; sql sees the new columns, null
  const stats = ior(['stats', file, '--json']);
  assert.equal(stats.status, 0, stats.stderr);
  assert.equal(JSON.parse(stats.stdout).trace.schema_version, 1);
  const sql = ior(['sql', '--json', file, 'SELECT count(*) AS n, count(async_ring) AS async FROM events']);
  assert.equal(sql.status, 0, sql.stderr);
  assert.deepEqual(JSON.parse(sql.stdout), [{ n: reader.rowCount, async: 0 }]);
});

test('metadata beside the footer (the replay\'s initial state) that does not fit on a full disk: the trace is written without it, whole and readable; a first row group refused by a full disk leaves a trace of no rows', async (t) => {
  if (!needRoot(t, 'mounts a small tmpfs')) return;
  const dir = fs.realpathSync(tempDir('extra-full'));
  const { mount, unmount } = smallFs(dir, 'small', '8m');
  try {
    const file = path.join(mount, 't.parquet');
    // distinct paths: a row group of ~1 MB (tmpfs counts blocks per CPU in batches: a small one still fits on a "full" one)
    const rows = Array.from({ length: 100_000 }, (_, i) => event({ syscall: 'read', fd: 3, path: `/data/f${i}`, ret: 10n, bytes: 10n }, i));
    const writer = TraceWriter.create(file);
    writer.append(batchFromRows(rows));
    writer.flushRowGroup();
    // and a trace whose first row group meets the full disk
    const empty = TraceWriter.create(path.join(mount, 'empty.parquet'));
    empty.append(batchFromRows(rows));
    // everything but the footers' reserves is taken
    const fill = fs.openSync(path.join(mount, 'fill'), 'w');
    for (const chunk of [65536, 4096, 1]) {
      assert.throws(() => {
        for (;;) fs.writeSync(fill, Buffer.alloc(chunk));
      }, /ENOSPC/);
    }
    fs.closeSync(fill);
    empty.finish(fixtureFooter(0));
    assert.equal(empty.droppedRows, 100_000);
    writer.finish(fixtureFooter(rows.length), [{ key: INIT_KEY, value: 'x'.repeat(4 << 20) }]);
    const reader = await TraceReader.open(file);
    assert.equal(reader.rowCount, 100_000);
    assert.equal(reader.keyValue(INIT_KEY), undefined, 'written without the entry that did not fit');
    let n = 0;
    for await (const b of reader.batches(['path'])) n += b.length;
    assert.equal(n, 100_000);
    assert.equal((await TraceReader.open(path.join(mount, 'empty.parquet'))).rowCount, 0, 'a trace still, with the magic it began with');
    assert.deepEqual(fs.readdirSync(mount).sort(), ['empty.parquet', 'fill', 't.parquet'], 'no temp file or reserve left');
  } finally {
    unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
