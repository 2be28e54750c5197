import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { TraceReader } from '../trace/index.js';
import { Bytes, rleHybrid } from '../trace/pages.js';
import { COLUMNS, type TraceEvent } from '../schema/index.js';
import { event, readTrace, tempDir, writeFixtureTrace } from './helpers/fixture.js';

const MIN64 = -(2n ** 63n);
const MAX64 = 2n ** 63n - 1n;

/** Rows that hit every encoder's edges: int64 extremes and wrapping deltas, nulls, empty and non-ASCII strings, runs and non-runs. */
function edgeRows(n: number): TraceEvent[] {
  let x = 12345;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const extremes = [MIN64, MAX64, 0n, -1n, 1n, 2n ** 32n, -(2n ** 32n) - 1n, 2n ** 53n + 1n];
  return Array.from({ length: n }, (_, i) => {
    const r = rand();
    const run = Math.floor(i / 40) % 2 === 0; // stretches of repeated values (RLE runs), then varied ones (bit-packed)
    return event(
      {
        syscall: run ? 'pread64' : ['openat', 'read', 'close', 'renameat2'][r % 4]!,
        ts_ns: i % 97 === 5 ? extremes[i % extremes.length]! : 1_000_000_000n + BigInt(i) * 1000n + BigInt(r % 500),
        latency_ns: i % 13 === 0 ? extremes[(i / 13) % extremes.length]! : BigInt(r % 100_000),
        pid: run ? 7 : 1 - (r % 3),
        tid: r | 0,
        comm: i % 50 === 0 ? '' : run ? 'loop' : 'näme-日本',
        fd: run ? 3 : (r % 2000) - 100,
        fd2: -1,
        path: i % 7 === 0 ? null : run ? '/data/a' : `/data/f${r % 700}`,
        path2: i % 11 === 0 ? '' : null,
        flags: i % 3 === 0 ? null : r % 5 === 0 ? -2147483648 : r % 0o1000,
        mode: i % 5 === 0 ? 2147483647 : null,
        offset: i % 4 === 0 ? null : extremes[r % extremes.length]!,
        count: i % 9 === 0 ? null : BigInt(r),
        ret: i % 17 === 0 ? -2n : BigInt(r % 4096),
        bytes: run ? 4096n : 0n,
        file_type: run ? 'regular' : i % 2 ? null : 'pipe',
      },
      i,
    );
  });
}

test('edge values round-trip exactly, across row group boundaries', async () => {
  const dir = tempDir('pages');
  const rows = edgeRows(2500);
  const file = writeFixtureTrace(path.join(dir, 'e.parquet'), rows, {}, 1000); // groups of 1000, 1000, 500
  const back = await readTrace(file);
  assert.equal(back.rows.length, rows.length);
  for (let i = 0; i < rows.length; i++) assert.deepEqual(back.rows[i], { ...rows[i], seq: BigInt(i) }, `row ${i}`);
  const reader = await TraceReader.open(file);
  assert.equal(reader.rowGroupCount, 3);
  assert.deepEqual(reader.timestampRange(), { min: MIN64, max: MAX64 }, 'ts_ns statistics');
  fs.rmSync(dir, { recursive: true });
});

test('DuckDB reads every column of the edge rows back', async () => {
  const dir = tempDir('pages');
  const rows = edgeRows(2500).map((r, i) => ({ ...r, seq: BigInt(i) }));
  const file = writeFixtureTrace(path.join(dir, 'e.parquet'), rows, {}, 1000);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const got = await (await con.run(`SELECT ${COLUMNS.map((c) => `"${c.name}"`).join(', ')} FROM read_parquet('${file}') ORDER BY seq`)).getRowObjects();
  assert.equal(got.length, rows.length);
  for (let i = 0; i < rows.length; i++) assert.deepEqual(got[i], rows[i], `row ${i}`);
  con.closeSync();
  fs.rmSync(dir, { recursive: true });
});

test('delta-packed ts_ns at every bit width: pieces across the 24- and 32-bit splits', async () => {
  const dir = tempDir('pages');
  let x = 99;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  // deltas of up to 2^k for every k: each miniblock of 32 gets its own width
  const rows = Array.from({ length: 64 * 32 }, (_, i) => event({ syscall: 'read', ts_ns: BigInt(rand()) * 2n ** BigInt(Math.floor(i / 32)) }, i));
  const file = writeFixtureTrace(path.join(dir, 'w.parquet'), rows, {}, 1000);
  const back = await readTrace(file);
  assert.deepEqual(back.rows.map((r) => r.ts_ns), rows.map((r) => BigInt.asIntN(64, r.ts_ns)));
  fs.rmSync(dir, { recursive: true });
});

test('an empty trace is a valid file', async () => {
  const dir = tempDir('pages');
  const file = writeFixtureTrace(path.join(dir, 'z.parquet'), []);
  assert.equal((await readTrace(file)).rows.length, 0);
  fs.rmSync(dir, { recursive: true });
});

test('the RLE/bit-packed hybrid puts a run after a partial group into the group first', () => {
  // 3 varied values, then 13 equal ones: the first 5 of the run fill the bit-packed group, 8 remain for an RLE run
  const values = [1, 2, 3, ...Array<number>(13).fill(5)];
  const out = new Bytes();
  rleHybrid(out, values, values.length, 3);
  // bit-packed header (1 group), 8 values x 3 bits LSB first (1,2,3,5,5,5,5,5), RLE header (8 << 1), the value
  assert.deepEqual([...out.view()], [3, 0xd1, 0xda, 0xb6, 16, 5]);
});
