/**
 * `ior sql` on the fixtures of fixtures/stats/: answers checked against
 * values computed here from the trace's rows; every column round-trips
 * exactly (int64 past 2^53, awkward strings, NULLs) in the table, CSV and
 * JSON outputs; only the named columns are loaded; bad input and bad SQL
 * are one line. Every query of docs/queries.md runs on a real capture both
 * with `ior sql` and with DuckDB on the Parquet file, and both must agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { COLUMNS } from '../schema/index.js';
import { REPO_ROOT } from '../common/assets.js';
import { flattenFooter, referencedColumns } from '../sql/index.js';
import { ior } from './helpers/cli.js';
import { readTrace, tempDir } from './helpers/fixture.js';
import { assertOneLineError, badTraces } from './helpers/bad-input.js';

const fixture = (name: string) => path.join(REPO_ROOT, 'fixtures', 'stats', `${name}.parquet`);

function sql(args: string[]): string {
  const r = ior(['sql', ...args]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      (row = []), (field = ''), i++;
    } else field += c;
  }
  return rows;
}

/** A value as ior sql prints it in CSV: integers as digits, NULL as empty. */
const csvText = (v: bigint | number | string | null) => (v === null ? '' : String(v));

test('sql: GROUP BY answers equal the rows', async () => {
  const { rows } = await readTrace(fixture('mixed'));
  const out = parseCsv(sql(['--csv', fixture('mixed'), 'SELECT syscall, count(*) AS calls, sum(ret < 0) AS errors, sum(bytes) AS bytes, max(latency_ns) AS max_ns FROM events GROUP BY syscall ORDER BY syscall']));
  assert.deepEqual(out[0], ['syscall', 'calls', 'errors', 'bytes', 'max_ns']);
  const names = [...new Set(rows.map((r) => r.syscall))].sort();
  assert.deepEqual(
    out.slice(1),
    names.map((s) => {
      const g = rows.filter((r) => r.syscall === s);
      return [s, String(g.length), String(g.filter((r) => r.ret < 0n).length), String(g.reduce((a, r) => a + r.bytes, 0n)), String(g.reduce((a, r) => (r.latency_ns > a ? r.latency_ns : a), 0n))];
    }),
  );

  // a real capture: the iowork-fixed calls on its directory, in order
  const real = await readTrace(fixture('capture-iowork'));
  const mine = real.rows.filter((r) => r.path?.startsWith('/tmp/ior-stats-fixture/iowork/'));
  const got = parseCsv(sql(['--csv', fixture('capture-iowork'), "SELECT seq, syscall, path, ret, bytes FROM events WHERE path LIKE '/tmp/ior-stats-fixture/iowork/%' ORDER BY seq"]));
  assert.deepEqual(got.slice(1), mine.map((r) => [String(r.seq), r.syscall, r.path!, String(r.ret), String(r.bytes)]));
  assert.equal(mine.filter((r) => r.syscall === 'write').length, 3);
});

test('sql: every column of every row round-trips exactly (CSV, JSON, table)', async () => {
  for (const name of ['edge-values', 'capture-iowork']) {
    const { rows } = await readTrace(fixture(name));
    const names = COLUMNS.map((c) => c.name);
    const csv = parseCsv(sql(['--csv', fixture(name), 'SELECT * FROM events ORDER BY seq']));
    assert.deepEqual(csv[0], names);
    assert.deepEqual(csv.slice(1), rows.map((r) => names.map((c) => csvText(r[c] as never))));

    // JSON: integers as exact digits (2^53 + 1 stays ...993), strings escaped
    const json = sql(['--json', fixture(name), 'SELECT * FROM events ORDER BY seq']);
    const parsed = JSON.parse(json.replace(/: (-?\d+)([,}])/g, ': "$1"$2')) as Record<string, string | null>[];
    assert.deepEqual(parsed, rows.map((r) => Object.fromEntries(names.map((c) => [c, r[c] === null ? null : String(r[c])]))));
  }
  const json = sql(['--json', fixture('edge-values'), 'SELECT ts_ns, path FROM events WHERE seq = 0']);
  assert.match(json, /"ts_ns": 9007199254740993/);

  // the aligned table: header, rule, one line per row, numbers right-aligned, NULL shown
  const table = sql([fixture('all-failing'), 'SELECT seq, syscall, ret, path FROM events ORDER BY seq']).split('\n');
  const { rows } = await readTrace(fixture('all-failing'));
  assert.match(table[0]!, /^seq +syscall +ret +path$/);
  assert.match(table[1]!, /^-+ +-+ +-+ +-+$/);
  const widths = table[1]!.split('  ').map((d) => d.length);
  rows.forEach((r, i) => {
    const line = table[2 + i]!;
    assert.equal(line.slice(0, widths[0]), String(r.seq).padStart(widths[0]!));
    assert.equal(line.slice(widths[0]! + 2 + widths[1]! + 2, widths[0]! + 2 + widths[1]! + 2 + widths[2]!), String(r.ret).padStart(widths[2]!));
    assert.equal(line.slice(widths[0]! + widths[1]! + widths[2]! + 6).trimEnd(), r.path ?? 'NULL');
  });
  assert.equal(table[2 + rows.length], `(${rows.length} rows)`);
  assert.doesNotMatch(table.join('\n'), /\x1b\[/, 'no colour in a pipe');
});

test('sql: meta is the footer', async () => {
  const { footer } = await readTrace(fixture('losses'));
  const out = parseCsv(sql(['--csv', fixture('losses'), "SELECT key, value, typeof(value) AS type FROM meta WHERE key LIKE 'losses.%' OR key IN ('start_ts_ns', 'filtered_out', 'host.hostname', 'capture.argv') ORDER BY key"]));
  const expected: [string, string, string][] = [
    ['capture.argv', JSON.stringify(footer.capture.argv), 'text'],
    ['filtered_out', String(footer.filtered_out), 'integer'],
    ['host.hostname', footer.host.hostname, 'text'],
    ...Object.entries(footer.losses).map(([k, v]): [string, string, string] => [`losses.${k}`, String(v), 'integer']),
    ['start_ts_ns', footer.start_ts_ns, 'integer'],
  ];
  assert.deepEqual(out.slice(1), expected.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  assert.equal(flattenFooter(footer).length, Number(parseCsv(sql(['--csv', fixture('losses'), 'SELECT count(*) FROM meta']))[1]![0]));
  // the empty trace: tables exist, no rows
  assert.deepEqual(parseCsv(sql(['--csv', fixture('empty'), 'SELECT count(*) AS n, sum(bytes) AS b FROM events'])), [['n', 'b'], ['0', '']]);
});

test('sql: only the columns the query names are loaded', async () => {
  assert.deepEqual(referencedColumns('SELECT syscall, count(*) FROM events GROUP BY syscall'), { events: true, columns: ['syscall'] });
  assert.deepEqual(referencedColumns("SELECT count(*) FROM events WHERE comm = 'path' -- bytes"), { events: true, columns: ['comm'] });
  assert.deepEqual(referencedColumns('SELECT * FROM meta'), { events: false, columns: COLUMNS.map((c) => c.name) });
  assert.equal(referencedColumns('SELECT e.* FROM events e').columns.length, COLUMNS.length);
  // seen from inside: the events table ior built for this query has the named columns only
  const out = parseCsv(sql(['--csv', fixture('mixed'), "SELECT (SELECT sql FROM sqlite_master WHERE name = 'events') AS ddl, count(*) AS n FROM events WHERE pid > 0 AND \"offset\" IS NULL"]));
  const { rows } = await readTrace(fixture('mixed'));
  assert.deepEqual(out[1], ['CREATE TABLE events (pid INTEGER NOT NULL, offset INTEGER)', String(rows.filter((r) => r.pid > 0 && r.offset === null).length)]);
});

test('sql: bad input and bad SQL are one line, a non-zero exit and no stack', () => {
  const dir = tempDir('sql-bad');
  try {
    for (const { file, error } of badTraces(dir)) assertOneLineError(ior(['sql', file, 'SELECT count(*) FROM events']), error);
    const f = fixture('one-event');
    assertOneLineError(ior(['sql', f, 'SELEKT 1']), /^ior: SQL error: near "SELEKT": syntax error$/);
    assertOneLineError(ior(['sql', f, 'SELECT nosuch FROM events']), /SQL error: no such column: nosuch/);
    assertOneLineError(ior(['sql', f, 'SELECT * FROM nosuch']), /SQL error: no such table: nosuch/);
    assertOneLineError(ior(['sql', f, 'SELECT 1; SELECT 2']), /SQL error: .*one statement/);
    assertOneLineError(ior(['sql', f, '  ']), /the query is empty/);
    assertOneLineError(ior(['sql', '--csv', '--json', f, 'SELECT 1']), /--csv and --json exclude each other/);
    // read-only: nothing may write, attach or create a file (ior often runs as root)
    const made = path.join(dir, 'made');
    for (const [query, verb] of [
      [`ATTACH DATABASE '${made}.db' AS x`, 'ATTACH'],
      [`VACUUM INTO '${made}.vacuum'`, 'VACUUM'],
      ["INSERT INTO meta VALUES ('k', 1)", 'INSERT'],
      ['WITH x AS (SELECT 1) DELETE FROM events RETURNING seq', 'WITH'],
      ['CREATE TABLE t (x)', 'CREATE'],
    ]) assertOneLineError(ior(['sql', f, query!]), new RegExp(`^ior: ior sql runs read-only queries .*: ${verb} would change a database or create a file$`));
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('made')), [], 'no file created');
    const cte = ior(['sql', '--csv', f, 'WITH x AS (SELECT count(*) AS n FROM events) SELECT n FROM x']);
    assert.equal(cte.status, 0, cte.stderr);
    assert.equal(cte.stdout, 'n\r\n1\r\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The ```sql ior / ```sql duckdb pairs of docs/queries.md, with their headings. */
function documentedQueries(): { title: string; ior: string; duckdb: string }[] {
  const text = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'queries.md'), 'utf8');
  const out: { title: string; ior: string; duckdb: string }[] = [];
  for (const part of text.split(/^## /m).slice(1)) {
    const block = (tag: string) => new RegExp('```sql ' + tag + '\\n([\\s\\S]*?)```').exec(part)?.[1]?.trim();
    const q = { title: part.split('\n')[0]!, ior: block('ior')!, duckdb: block('duckdb')! };
    assert.ok(q.ior && q.duckdb, `${q.title}: both queries`);
    out.push(q);
  }
  return out;
}

/** A result cell compared across engines: integers as digits, other numbers rounded. */
function normal(v: unknown): string {
  if (v === null || v === undefined || v === '') return 'NULL';
  const num = Number(v);
  if (typeof v !== 'bigint' && !Number.isNaN(num) && /^-?[\d.e+-]+$/.test(String(v))) return Number.isInteger(num) ? String(num) : num.toPrecision(10);
  return String(v);
}

test('docs/queries.md: every query gives the same rows in ior sql and in DuckDB, on a real capture', async () => {
  const trace = fixture('capture-workload');
  const queries = documentedQueries();
  assert.ok(queries.length >= 12, `a dozen queries (${queries.length})`);
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  for (const q of queries) {
    const ours = parseCsv(sql(['--csv', trace, q.ior]));
    const reader = await duck.runAndReadAll(q.duckdb.replaceAll("'trace.parquet'", `'${trace}'`));
    const theirs = [reader.columnNames(), ...reader.getRows().map((r) => r.map((v) => (v === null ? '' : String(v))))];
    assert.deepEqual(ours[0], theirs[0], `${q.title}: columns`);
    assert.deepEqual(ours.slice(1).map((r) => r.map(normal)), theirs.slice(1).map((r) => r.map(normal)), `${q.title}: rows`);
    assert.ok(ours.length > 1, `${q.title}: the capture has rows for it`);
  }
});

test('sql: output to a closed pipe stops quietly', () => {
  const r = ior(['sql', fixture('mixed'), 'SELECT * FROM events']);
  assert.equal(r.status, 0);
  // `| head -1` closes stdout after the first line
  // pipefail: the status is ior's (or head's, if it failed), not head's alone
  const piped = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'ior')}" sql "${fixture('mixed')}" "SELECT * FROM events" --csv | head -1`], { encoding: 'utf8' });
  assert.equal(piped.status, 0, 'ior exits 0 when its reader closed the pipe');
  assert.equal(piped.stdout.trim(), COLUMNS.map((c) => c.name).join(','));
  assert.equal(piped.stderr, '');
});
