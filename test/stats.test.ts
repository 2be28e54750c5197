/**
 * `ior stats` on the fixtures of fixtures/stats/ (real captures and
 * hand-made edge cases): every figure of the report, in --json and in the
 * human output, against values this file computes on its own from the
 * trace's rows (exact BigInt arithmetic, its own syscall classes, exact
 * nearest-rank percentiles). Runs the real CLI, as a user would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Footer, TraceEvent } from '../schema/index.js';
import { REPO_ROOT } from '../common/assets.js';
import { computeStats, DEFAULT_STATS_OPTIONS, formatBytes, formatCount, formatDurationNs, type StatsReport } from '../stats/index.js';
import { ior, IOR_BIN } from './helpers/cli.js';
import { readTrace, tempDir, writeFixtureTrace } from './helpers/fixture.js';
import { assertOneLineError, badTraces } from './helpers/bad-input.js';

const FIXTURES = path.join(REPO_ROOT, 'fixtures', 'stats');
const fixture = (name: string) => path.join(FIXTURES, `${name}.parquet`);

// The test's own classes (docs/stats.md): data read, data written, in-kernel copies (both).
const READS = new Set(['read', 'pread64', 'readv', 'preadv', 'preadv2']);
const WRITES = new Set(['write', 'pwrite64', 'writev', 'pwritev', 'pwritev2']);
const COPIES = new Set(['sendfile64', 'copy_file_range']);
const ERRNO: Record<number, string> = { 2: 'ENOENT', 9: 'EBADF', 11: 'EAGAIN', 13: 'EACCES', 17: 'EEXIST', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 25: 'ENOTTY', 29: 'ESPIPE', 39: 'ENOTEMPTY', 61: 'ENODATA', 95: 'ENOTSUP' };

interface Filter {
  pids?: number[];
  comm?: string;
  prefixes?: string[];
  sinceNs?: number;
  untilNs?: number;
}

interface Row extends TraceEvent {
  at: number;
}

const n = (v: bigint) => Number(v);
const isRead = (r: TraceEvent) => READS.has(r.syscall) || COPIES.has(r.syscall);
const isWrite = (r: TraceEvent) => WRITES.has(r.syscall) || COPIES.has(r.syscall);

function selectRows(rows: TraceEvent[], footer: Footer, f: Filter = {}): Row[] {
  const start = BigInt(footer.start_ts_ns);
  const origin = start > 0n ? start : rows.reduce((min, r) => (r.ts_ns < min ? r.ts_ns : min), rows[0]?.ts_ns ?? 0n);
  return rows
    .map((r) => ({ ...r, at: n(r.ts_ns - origin) }))
    .filter(
      (r) =>
        (f.sinceNs === undefined || r.at >= f.sinceNs) &&
        (f.untilNs === undefined || r.at < f.untilNs) &&
        (!f.pids || f.pids.includes(r.pid)) &&
        (f.comm === undefined || r.comm === f.comm) &&
        (!f.prefixes || f.prefixes.some((p) => r.path?.startsWith(p) || r.path2?.startsWith(p))),
    );
}

/** Exact nearest-rank percentile. */
function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
}

/** Within the histogram's half-bucket (1/256) of the exact value, or 1 ns. */
function assertClose(actual: number | null, exact: number, what: string): void {
  assert.ok(actual !== null && Math.abs(actual - exact) <= Math.max(1, exact / 256), `${what}: ${actual} vs exact ${exact}`);
}

function groupBy<K>(rows: Row[], key: (r: Row) => K): Map<K, Row[]> {
  const m = new Map<K, Row[]>();
  for (const r of rows) {
    const k = key(r);
    m.set(k, [...(m.get(k) ?? []), r]);
  }
  return m;
}

const sum = (rows: Row[], f: (r: Row) => number) => rows.reduce((s, r) => s + f(r), 0);
const byKey = (a: string | number | null, b: string | number | null) => String(a).localeCompare(String(b));

function sizeClasses(values: number[]): { min: number; max: number; calls: number }[] {
  const counts = new Map<number, number>();
  for (const v of values) {
    const k = v === 0 ? 0 : Math.floor(Math.log2(v)) + 1;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const out = counts.has(0) ? [{ min: 0, max: 0, calls: counts.get(0)! }] : [];
  const used = [...counts.keys()].filter((k) => k > 0);
  if (used.length) for (let k = Math.min(...used); k <= Math.max(...used); k++) out.push({ min: 2 ** (k - 1), max: 2 ** k - 1, calls: counts.get(k) ?? 0 });
  return out;
}

interface Expect {
  by?: 'syscall' | 'file' | 'process' | 'dir';
  top?: number;
  filter?: Filter;
}

/** Every figure of a --json report against the rows. */
function checkReport(report: StatsReport, rows: TraceEvent[], footer: Footer, opts: Expect = {}): void {
  const top = opts.top ?? 10;
  const by = opts.by ?? 'syscall';
  const sel = selectRows(rows, footer, opts.filter);

  // the capture
  assert.equal(report.trace.hostname, footer.host.hostname);
  assert.equal(report.trace.kernel_release, footer.host.kernel_release);
  assert.deepEqual(report.trace.argv, footer.capture.argv);
  assert.deepEqual(report.trace.command, footer.capture.command);
  assert.equal(report.trace.duration_ns, n(BigInt(footer.end_ts_ns) - BigInt(footer.start_ts_ns)));
  assert.equal(report.trace.stop_reason, footer.stop_reason);
  for (const [k, v] of Object.entries(footer.losses)) assert.equal(report.losses[k as keyof typeof report.losses], v, k);
  assert.equal(report.losses.events_lost, footer.losses.ringbuf_drops + footer.losses.inflight_full + footer.losses.loader_queue_dropped);
  assert.equal(report.losses.filtered_out, footer.filtered_out);

  // totals
  const t = report.totals;
  assert.equal(t.events, sel.length);
  assert.equal(t.trace_events, rows.length);
  assert.equal(t.first_offset_ns, sel.length ? Math.min(...sel.map((r) => r.at)) : null);
  assert.equal(t.last_offset_ns, sel.length ? Math.max(...sel.map((r) => r.at + n(r.latency_ns))) : null);
  assert.equal(t.processes, new Set(sel.map((r) => r.pid)).size);
  assert.equal(t.threads, new Set(sel.map((r) => r.tid)).size);
  assert.equal(t.files, new Set(sel.flatMap((r) => [r.path, r.path2]).filter((p) => p !== null)).size);
  assert.equal(t.read_calls, sel.filter(isRead).length);
  assert.equal(t.read_bytes, sum(sel.filter(isRead), (r) => n(r.bytes)));
  assert.equal(t.write_calls, sel.filter(isWrite).length);
  assert.equal(t.write_bytes, sum(sel.filter(isWrite), (r) => n(r.bytes)));
  assert.equal(t.errors, sel.filter((r) => r.ret < 0n).length);
  assert.equal(t.time_ns, sum(sel, (r) => n(r.latency_ns)));

  // the breakdown (every syscall; other dimensions cut at --top)
  const parent = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
  const keyOf = { syscall: (r: Row) => r.syscall, file: (r: Row) => r.path, process: (r: Row) => r.pid, dir: (r: Row) => (r.path === null ? null : parent(r.path)) }[by];
  const groups = [...groupBy<string | number | null>(sel, keyOf)].map(([key, g]) => ({ key, g, time: sum(g, (r) => n(r.latency_ns)) }));
  groups.sort((a, b) => b.time - a.time || byKey(a.key, b.key));
  const shown = by === 'syscall' ? groups : groups.slice(0, top);
  assert.equal(report.breakdown.by, by);
  assert.deepEqual(report.breakdown.rows.map((r) => r.key), shown.map((s) => s.key));
  assert.equal(report.breakdown.omitted, groups.length - shown.length);
  shown.forEach(({ key, g, time }, i) => {
    const row = report.breakdown.rows[i]!;
    const lat = g.map((r) => n(r.latency_ns));
    assert.equal(row.calls, g.length, `${key} calls`);
    assert.equal(row.errors, g.filter((r) => r.ret < 0n).length, `${key} errors`);
    assert.equal(row.bytes, sum(g, (r) => n(r.bytes)), `${key} bytes`);
    assert.equal(row.time_ns, time, `${key} time`);
    assertClose(row.p50_ns, percentile(lat, 0.5), `${key} p50`);
    assertClose(row.p95_ns, percentile(lat, 0.95), `${key} p95`);
    assertClose(row.p99_ns, percentile(lat, 0.99), `${key} p99`);
    assert.equal(row.max_ns, Math.max(...lat), `${key} max`);
    if (by === 'process') assert.equal(row.comm, g[g.length - 1]!.comm);
  });

  // files: a call counts for path and for a different path2; bytes read from path, written to path (path2 for copies)
  const files = new Map<string, { calls: number; read: number; write: number; time: number }>();
  const file = (p: string) => files.get(p) ?? files.set(p, { calls: 0, read: 0, write: 0, time: 0 }).get(p)!;
  for (const r of sel) {
    for (const p of new Set([r.path, r.path2])) {
      if (p === null) continue;
      file(p).calls++;
      file(p).time += n(r.latency_ns);
    }
    if (r.path !== null && isRead(r)) file(r.path).read += n(r.bytes);
    const out = COPIES.has(r.syscall) ? r.path2 : WRITES.has(r.syscall) ? r.path : null;
    if (out !== null) file(out).write += n(r.bytes);
  }
  const fileRows = [...files].map(([p, f]) => ({ path: p, calls: f.calls, read_bytes: f.read, write_bytes: f.write, time_ns: f.time }));
  const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  assert.deepEqual(
    report.top_files_by_bytes,
    fileRows.filter((f) => f.read_bytes + f.write_bytes > 0).sort((a, b) => b.read_bytes + b.write_bytes - a.read_bytes - a.write_bytes || byPath(a, b)).slice(0, top),
  );
  assert.deepEqual(report.top_files_by_time, fileRows.sort((a, b) => b.time_ns - a.time_ns || byPath(a, b)).slice(0, top));

  // processes
  const procs = [...groupBy(sel, (r) => r.pid)].map(([pid, g]) => ({
    pid,
    comm: g[g.length - 1]!.comm,
    calls: g.length,
    errors: g.filter((r) => r.ret < 0n).length,
    read_bytes: sum(g.filter(isRead), (r) => n(r.bytes)),
    write_bytes: sum(g.filter(isWrite), (r) => n(r.bytes)),
    time_ns: sum(g, (r) => n(r.latency_ns)),
  }));
  assert.deepEqual(report.top_processes, procs.sort((a, b) => b.time_ns - a.time_ns || a.pid - b.pid).slice(0, top));

  // errors and slowest calls
  const errs = [...groupBy(sel.filter((r) => r.ret < 0n), (r) => `${r.syscall} ${-r.ret}`)].map(([, g]) => ({ syscall: g[0]!.syscall, errno: n(-g[0]!.ret), name: ERRNO[n(-g[0]!.ret)]!, count: g.length }));
  assert.deepEqual(report.errors, errs.sort((a, b) => b.count - a.count || a.syscall.localeCompare(b.syscall) || a.errno - b.errno).slice(0, top));
  const slow = [...sel].sort((a, b) => n(b.latency_ns - a.latency_ns) || n(a.seq - b.seq)).slice(0, top);
  assert.deepEqual(
    report.slowest,
    slow.map((r) => ({ seq: n(r.seq), offset_ns: r.at, pid: r.pid, tid: r.tid, comm: r.comm, syscall: r.syscall, path: r.path, file_type: r.file_type, latency_ns: n(r.latency_ns), ret: n(r.ret) })),
  );

  // the rate chart: each column's calls and bytes, from its width and origin
  const rate = report.rate;
  if (sel.length === 0) assert.equal(rate.calls.length, 0);
  else {
    assert.ok(rate.calls.length >= 1 && rate.calls.length <= 60);
    // the first column starts at or before the first event, and holds it
    const firstAt = Math.min(...sel.map((r) => r.at));
    assert.ok(rate.start_offset_ns <= firstAt && firstAt < rate.start_offset_ns + rate.column_ns, `first column ${rate.start_offset_ns} + ${rate.column_ns} holds ${firstAt}`);
    assert.equal(rate.end_offset_ns, t.last_offset_ns);
    const column = (r: Row) => Math.max(0, Math.floor((r.at - rate.start_offset_ns) / rate.column_ns));
    const expected = Array.from({ length: rate.calls.length }, () => ({ calls: 0, read: 0, write: 0 }));
    for (const r of sel) {
      const c = expected[column(r)]!;
      c.calls++;
      if (isRead(r)) c.read += n(r.bytes);
      if (isWrite(r)) c.write += n(r.bytes);
    }
    assert.deepEqual(rate.calls, expected.map((c) => c.calls));
    assert.deepEqual(rate.read_bytes, expected.map((c) => c.read));
    assert.deepEqual(rate.write_bytes, expected.map((c) => c.write));
  }

  // size distributions: successful calls only
  assert.deepEqual(report.sizes.read, sizeClasses(sel.filter((r) => isRead(r) && r.ret >= 0n).map((r) => n(r.bytes))));
  assert.deepEqual(report.sizes.write, sizeClasses(sel.filter((r) => isWrite(r) && r.ret >= 0n).map((r) => n(r.bytes))));
}

function statsJson(args: string[]): StatsReport {
  const r = ior(['stats', '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout) as StatsReport;
}

/** The lines of one section of the human output (heading to the next blank line). */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(heading));
  assert.ok(at >= 0, `no section "${heading}" in:\n${text}`);
  const end = lines.indexOf('', at);
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

const cells = (line: string) => line.trim().split(/\s{2,}/);

/** The human output shows the same figures as the JSON report, formatted for people. */
function checkHuman(text: string, report: StatsReport): void {
  assert.doesNotMatch(text, /\x1b\[/, 'no colour in a pipe');
  const t = report.totals;
  const totals = section(text, 'Totals').join('\n');
  assert.match(totals, new RegExp(`events +${formatCount(t.events)}`));
  assert.match(totals, new RegExp(`processes +${formatCount(t.processes)} +threads ${formatCount(t.threads)} +files ${formatCount(t.files)}`));
  assert.match(totals, new RegExp(`read +${formatBytes(t.read_bytes)} in ${formatCount(t.read_calls)} calls`));
  assert.match(totals, new RegExp(`written +${formatBytes(t.write_bytes)} in ${formatCount(t.write_calls)} calls`));
  assert.match(totals, new RegExp(`errors +${formatCount(t.errors)}`));
  assert.match(totals, new RegExp(`in calls +${formatDurationNs(t.time_ns).replace('.', '\\.')}`));
  assert.ok(text.includes(`${report.trace.hostname}, kernel ${report.trace.kernel_release}`));
  const losses = section(text, 'Losses').join(' ');
  for (const [k, v] of Object.entries(report.losses)) if (k !== 'events_lost') assert.match(losses, new RegExp(`${k} +${formatCount(v)}\\b`), k);

  const table = section(text, 'Per ');
  for (const row of report.breakdown.rows) {
    const line = table.find((l) => cells(l)[0] === (row.key === null ? '(no path)' : String(row.key)));
    assert.ok(line, `no breakdown row for ${row.key}`);
    const c = cells(line);
    const lat = (v: number | null) => (v === null ? '-' : formatDurationNs(v));
    assert.deepEqual(c.slice(-8), [formatCount(row.calls), formatCount(row.errors), formatBytes(row.bytes), formatDurationNs(row.time_ns), lat(row.p50_ns), lat(row.p95_ns), lat(row.p99_ns), lat(row.max_ns)]);
  }
  const fileLines = (heading: string, rows: StatsReport['top_files_by_bytes']) => {
    const lines = section(text, heading);
    if (rows.length === 0) return assert.deepEqual(lines, ['  (none)']);
    assert.deepEqual(lines.slice(1).map(cells), rows.map((f) => [formatBytes(f.read_bytes), formatBytes(f.write_bytes), formatCount(f.calls), formatDurationNs(f.time_ns), f.path.replace(/\n/g, '\\n')]));
  };
  fileLines('Top files by bytes', report.top_files_by_bytes);
  fileLines('Top files by time', report.top_files_by_time);
  const procLines = section(text, 'Top processes');
  if (report.top_processes.length) {
    assert.deepEqual(
      procLines.slice(1).map(cells),
      report.top_processes.map((p) => [String(p.pid), p.comm, formatCount(p.calls), formatCount(p.errors), formatBytes(p.read_bytes), formatBytes(p.write_bytes), formatDurationNs(p.time_ns)]),
    );
  }
  const errLines = section(text, 'Errors');
  if (report.errors.length) assert.deepEqual(errLines.slice(1).map(cells), report.errors.map((e) => [e.syscall, `${e.name} (${e.errno})`, formatCount(e.count)]));
  else assert.deepEqual(errLines, ['  (none)']);
  const slowest = section(text, 'Slowest calls');
  if (report.slowest.length) {
    assert.deepEqual(
      slowest.slice(1).map((l) => cells(l).slice(2, 7)),
      report.slowest.map((s) => [String(s.pid), String(s.tid), s.comm, s.syscall, String(s.ret)]),
    );
    report.slowest.forEach((s, i) => assert.ok(slowest[i + 1]!.trimEnd().endsWith(s.path === null ? (s.file_type ? `(${s.file_type})` : String(s.ret)) : s.path.replace(/\n/g, '\\n'))));
  } else assert.deepEqual(slowest, ['  (none)']);
  const chart = section(text, 'I/O rate');
  if (report.totals.events) {
    const bars = chart.filter((l) => /^ {2}(read|write|calls) +\|/.test(l));
    assert.equal(bars.length, 3);
    for (const b of bars) assert.equal(b.slice(b.indexOf('|') + 1, b.lastIndexOf('|')).length, report.rate.calls.length, 'one character per column');
    // the calls row: a full block where the busiest column is
    const calls = bars[2]!.slice(bars[2]!.indexOf('|') + 1, bars[2]!.lastIndexOf('|'));
    const perSecond = report.rate.calls.map((c, i) => c / Math.max(1, Math.min(report.rate.column_ns, report.rate.end_offset_ns - report.rate.start_offset_ns - i * report.rate.column_ns)));
    assert.equal(calls[perSecond.indexOf(Math.max(...perSecond))], '█');
    report.rate.calls.forEach((c, i) => assert.equal(calls[i] === ' ', c === 0, `column ${i} blank iff no calls`));
  } else assert.deepEqual(chart, ['  (no events)']);
  for (const [heading, buckets] of [['Read sizes', report.sizes.read], ['Write sizes', report.sizes.write]] as const) {
    const lines = section(text, heading);
    if (buckets.length === 0) assert.deepEqual(lines, ['  (none)']);
    else assert.deepEqual(lines.map((l) => l.trim().split(/\s+/).at(-2)), buckets.map((b) => formatCount(b.calls)));
  }
}

for (const name of ['capture-workload', 'capture-iowork', 'mixed', 'empty', 'one-event', 'all-failing', 'losses', 'edge-values']) {
  test(`stats ${name}: every figure, JSON and human`, async () => {
    const { rows, footer } = await readTrace(fixture(name));
    const report = statsJson([fixture(name)]);
    checkReport(report, rows, footer);
    const human = ior(['stats', fixture(name)]);
    assert.equal(human.status, 0, human.stderr);
    checkHuman(human.stdout, report);
  });
}

test('stats of a real capture: what the workload did', async () => {
  // iowork-fixed: three 4096-byte writes to rel.txt, a 512-byte pwrite64, an fsync, one ENOENT open
  const report = statsJson([fixture('capture-iowork'), '--path-prefix', '/tmp/ior-stats-fixture/iowork/']);
  const calls = (s: string) => report.breakdown.rows.find((r) => r.key === s)?.calls;
  assert.equal(calls('write'), 3);
  assert.equal(calls('pwrite64'), 1);
  assert.equal(calls('fsync'), 1);
  assert.equal(report.totals.write_bytes, 3 * 4096 + 512);
  assert.equal(report.totals.read_bytes, 100 + 300);
  assert.deepEqual(report.errors.map((e) => [e.syscall, e.name, e.count]), [['openat', 'ENOENT', 1]]);
  assert.equal(report.top_files_by_bytes[0]!.path, '/tmp/ior-stats-fixture/iowork/rel.txt');
  // the workload script: dd wrote 16 x 64 KiB to data.bin and read it back
  const work = statsJson([fixture('capture-workload'), '--path-prefix', '/tmp/ior-stats-fixture/workload/data.bin']);
  assert.deepEqual(work.top_files_by_bytes.map((f) => [f.path, f.read_bytes, f.write_bytes]), [['/tmp/ior-stats-fixture/workload/data.bin', 1 << 20, 1 << 20]]);
});

test('stats options: --by, --top, --pid, --comm, --path-prefix, --since/--until', async () => {
  const { rows, footer } = await readTrace(fixture('mixed'));
  const f = fixture('mixed');
  checkReport(statsJson([f, '--by', 'file', '--top', '5']), rows, footer, { by: 'file', top: 5 });
  checkReport(statsJson([f, '--by', 'process']), rows, footer, { by: 'process' });
  checkReport(statsJson([f, '--by', 'dir', '--top', '3']), rows, footer, { by: 'dir', top: 3 });
  checkReport(statsJson([f, '--pid', '3200', '--pid', '3300']), rows, footer, { filter: { pids: [3200, 3300] } });
  checkReport(statsJson([f, '--comm', 'rsync', '--top', '4']), rows, footer, { top: 4, filter: { comm: 'rsync' } });
  checkReport(statsJson([f, '--path-prefix', '/srv/backup/', '--path-prefix', '/home/dev/src/build']), rows, footer, { filter: { prefixes: ['/srv/backup/', '/home/dev/src/build'] } });
  checkReport(statsJson([f, '--since', '2s', '--until', '2500ms']), rows, footer, { filter: { sinceNs: 2e9, untilNs: 2.5e9 } });
  checkReport(statsJson([f, '-since', '1.5', '-comm', 'postgres', '-by', 'file']), rows, footer, { by: 'file', filter: { sinceNs: 1.5e9, comm: 'postgres' } });

  // filters that leave nothing: an empty report, not an error
  const none = statsJson([f, '--comm', 'nosuchtask']);
  checkReport(none, rows, footer, { filter: { comm: 'nosuchtask' } });

  // human output of a filtered, non-syscall breakdown
  const text = ior(['stats', f, '--by', 'process', '--comm', 'make']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /filters +comm make/);
  assert.match(text.stdout, /Per process, by time in calls/);
  checkHuman(text.stdout, statsJson([f, '--by', 'process', '--comm', 'make']));
  const cut = ior(['stats', f, '--by', 'file', '--top', '2']);
  assert.match(cut.stdout, /\.\.\. \d+ more \(--top\)/);
});

test('stats: colour on a terminal only', () => {
  const f = fixture('all-failing');
  const tty = spawnSync('script', ['-qec', `${process.execPath} ${IOR_BIN} stats ${f}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '' } });
  assert.equal(tty.status, 0, tty.stderr);
  assert.match(tty.stdout, /\x1b\[31m/, 'errors in red on a terminal');
  const noColor = spawnSync('script', ['-qec', `${process.execPath} ${IOR_BIN} stats ${f}`, '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.doesNotMatch(noColor.stdout, /\x1b\[[0-9;]*m/, 'NO_COLOR turns it off');
  assert.doesNotMatch(ior(['stats', f]).stdout, /\x1b\[/, 'never in a pipe');
});

test('stats: bad input is one line, a non-zero exit and no stack', () => {
  const dir = tempDir('stats-bad');
  try {
    for (const { file, error } of badTraces(dir)) {
      assertOneLineError(ior(['stats', file]), error);
      assertOneLineError(ior(['stats', '--json', file]), error);
    }
    const f = fixture('mixed');
    assertOneLineError(ior(['stats', f, '--by', 'color']), /--by "color" is not a breakdown/);
    assertOneLineError(ior(['stats', f, '--since', '3s', '--until', '1s']), /not after --since/);
    assertOneLineError(ior(['stats', f, '--since', 'soon']), /--since "soon" is not a duration/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats streams: many row groups give the same report as one', async () => {
  const dir = tempDir('stats-groups');
  try {
    const { rows, footer } = await readTrace(fixture('mixed'));
    const small = writeFixtureTrace(path.join(dir, 'small-groups.parquet'), rows, footer, 97);
    const one = writeFixtureTrace(path.join(dir, 'one-group.parquet'), rows, footer, 1 << 20);
    const a = statsJson([small]);
    const b = statsJson([one]);
    assert.deepEqual({ ...a, file: '' }, { ...b, file: '' });
    checkReport(a, rows, footer);
    // a footer without a start: offsets count from the earliest event
    const startless = { ...footer, start_ts_ns: '0' };
    checkReport(statsJson([writeFixtureTrace(path.join(dir, 'no-start.parquet'), rows, startless, 500)]), rows, startless);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stats in parallel: worker threads give exactly the report of one thread', async () => {
  const dir = tempDir('stats-parallel');
  try {
    const { rows, footer } = await readTrace(fixture('mixed'));
    const file = writeFixtureTrace(path.join(dir, 'groups.parquet'), rows, footer, 97);
    const variants = [
      {},
      { by: 'file' as const, top: 7 },
      { by: 'process' as const },
      { by: 'dir' as const, comm: 'rsync' },
      { sinceNs: 1.2e9, untilNs: 2.6e9, pathPrefixes: ['/var/lib/pg/'] },
    ];
    for (const variant of variants) {
      const options = { ...DEFAULT_STATS_OPTIONS, ...variant };
      const one = await computeStats(file, { ...options, threads: 1 });
      checkReport(one, rows, footer, { by: options.by, top: options.top, filter: { comm: options.comm ?? undefined, sinceNs: options.sinceNs ?? undefined, untilNs: options.untilNs ?? undefined, prefixes: options.pathPrefixes.length ? options.pathPrefixes : undefined } });
      for (const threads of [2, 3]) assert.deepEqual(await computeStats(file, { ...options, threads }), one, `${JSON.stringify(variant)}, ${threads} threads`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
