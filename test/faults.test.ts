/**
 * Faults during a capture, injected on the real kernel (issue #9): the
 * loader killed, ior signalled with and without a command. Each asserts the
 * exit code, the one line on stderr, and the events up to the fault
 * readable by DuckDB (an independent reader), as many as the footer says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { needBpf } from './helpers/bpf.js';
import { ior, iorSpawn, waitForOutput, exitOf, NATIVE_BUILD } from './helpers/cli.js';
import { readTrace, smallFs, tempDir } from './helpers/fixture.js';
import { TraceReader } from '../trace/index.js';
import { INIT_KEY } from '../schema/index.js';

/** ior capture with its stderr collected whole. */
function startCapture(args: string[]): { capture: ChildProcess; stderr: () => string } {
  const capture = iorSpawn(['capture', ...args]);
  let err = '';
  capture.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { capture, stderr: () => err };
}

/** The lines of ior's own on stderr (the command's are not ior's), the "capturing" line left out. */
function iorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('ior: ') && !l.startsWith('ior: capturing'));
}

/** Rows of the trace as DuckDB counts them. */
async function duckdbCount(file: string): Promise<number> {
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const rows = await (await con.run(`SELECT count(*) AS n FROM read_parquet('${file}')`)).getRowObjects();
  con.closeSync();
  return Number(rows[0]!.n);
}

function pidsOf(parent: number, name: string): number[] {
  const r = spawnSync('pgrep', ['-P', String(parent), '-x', name], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').filter(Boolean).map(Number);
}

test('kill -9 of the loader: exit 2, one line naming the loss and the command left running, the trace up to then readable, stats shows it', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fault-loader'));
  const trace = path.join(dir, 'k.parquet');
  const marker = path.join(dir, 'done');
  const { capture, stderr } = startCapture(['-o', trace, '--', 'sh', '-c', `cat /etc/hostname > /dev/null; sleep 2; touch ${marker}`]);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  await new Promise((r) => setTimeout(r, 300));
  const loaders = pidsOf(capture.pid!, 'ior-loader');
  assert.equal(loaders.length, 1, 'one loader, a child of ior');
  process.kill(loaders[0]!, 'SIGKILL');
  const exit = await exitOf(capture);
  assert.deepEqual(exit, { code: 2, signal: null }, stderr());
  const lines = iorLines(stderr());
  assert.equal(lines.filter((l) => !l.startsWith('ior: wrote') && !l.startsWith('ior: no events lost') && !l.startsWith('ior: LOST')).length, 1, stderr());
  assert.match(lines.at(-1)!, /^ior: the loader died \(killed by SIGKILL\): the events it held are lost, their number unknown; the trace up to then is in .*k\.parquet; the command \(pid \d+\) runs on, untraced$/);
  const { rows, footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'loader-exited');
  assert.deepEqual(footer.loader_died, { code: null, signal: 'SIGKILL' });
  assert.ok(rows.some((r) => r.path === '/etc/hostname'), 'what happened before the kill is there');
  assert.equal(await duckdbCount(trace), footer.events);
  const stats = ior(['stats', trace]);
  assert.equal(stats.status, 0, stats.stderr);
  assert.match(stats.stdout, /the loader died \(killed by SIGKILL\): the events it held then are lost, their number unknown/);
  // the command ran on, untraced, to its end
  for (let i = 0; i < 50 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(fs.existsSync(marker), 'the command finished on its own');
  fs.rmSync(dir, { recursive: true });
});

test('SIGTERM with -- CMD: forwarded to the command, its death recorded, ior exits 143', async (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('fault-term');
  const trace = path.join(dir, 't.parquet');
  const { capture, stderr } = startCapture(['-o', trace, '--', 'sleep', '20']);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  await new Promise((r) => setTimeout(r, 200));
  capture.kill('SIGTERM');
  assert.deepEqual(await exitOf(capture), { code: 143, signal: null }, stderr());
  const { footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'command-exited');
  assert.deepEqual(footer.command_exit, { code: null, signal: 'SIGTERM' });
  assert.equal(await duckdbCount(trace), footer.events);
  assert.deepEqual(fs.readdirSync(dir), ['t.parquet']);
  fs.rmSync(dir, { recursive: true });
});

test('SIGTERM twice to a command that ignores it: the capture stops with a complete file, exit 143, the command named as still running', async (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('fault-term2');
  const trace = path.join(dir, 't.parquet');
  const { capture, stderr } = startCapture(['-o', trace, '--', 'sh', '-c', 'trap "" TERM; sleep 20']);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  await new Promise((r) => setTimeout(r, 300));
  capture.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(capture.exitCode, null, 'still capturing: the command ignored the first');
  capture.kill('SIGTERM');
  assert.deepEqual(await exitOf(capture), { code: 143, signal: null }, stderr());
  const running = /^ior: the command \(pid (\d+)\) still runs, untraced$/m.exec(stderr());
  assert.ok(running, stderr());
  process.kill(Number(running[1]), 'SIGKILL');
  const { footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'signal');
  assert.deepEqual(footer.command_exit, { code: null, signal: null });
  assert.equal(await duckdbCount(trace), footer.events);
  fs.rmSync(dir, { recursive: true });
});

for (const [signal, code] of [['SIGTERM', 143], ['SIGHUP', 129], ['SIGINT', 0]] as const)
test(`${signal} of a capture with no command: a complete file, exit ${code}`, async (t) => {
  if (!needBpf(t)) return;
  const dir = tempDir('fault-sig');
  const trace = path.join(dir, 's.parquet');
  const { capture, stderr } = startCapture(['--comm', 'ior-no-such', '-o', trace]);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  capture.kill(signal);
  assert.deepEqual(await exitOf(capture), { code, signal: null }, stderr());
  const { footer } = await readTrace(trace);
  assert.equal(footer.stop_reason, 'signal');
  assert.equal(await duckdbCount(trace), 0);
  assert.deepEqual(fs.readdirSync(dir), ['s.parquet']);
  fs.rmSync(dir, { recursive: true });
});

test('kill -9 of ior: the temp file and its journal stay, the next capture to the name says so, `ior recover` rebuilds a trace DuckDB reads, with every row checkpointed before the kill', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fault-ior'));
  const trace = path.join(dir, 'r.parquet');
  const stop = path.join(dir, 'stop');
  const { capture } = startCapture(['-o', trace, '--', 'sh', '-c', `while [ ! -e ${stop} ]; do cat /etc/hostname > /dev/null; sleep 0.01; done`]);
  await waitForOutput(capture.stderr!, /ior: capturing/);
  const temp = path.join(dir, `.r.parquet.${capture.pid}.tmp`);
  const journal = `${temp}.journal`;
  const checkpoints = () => (fs.existsSync(journal) ? fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean).length : 0);
  for (let i = 0; i < 100 && checkpoints() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(checkpoints() >= 2, 'two checkpoints within 10 s');
  const flushed = fs.readFileSync(journal, 'utf8').split('\n').filter(Boolean)
    .reduce((n, line) => n + (JSON.parse(line) as { row_groups: { num_rows: { $bigint: string } }[] }).row_groups.reduce((m, g) => m + Number(g.num_rows.$bigint), 0), 0);
  capture.kill('SIGKILL');
  await exitOf(capture);
  fs.writeFileSync(stop, '');
  try {
    assert.ok(fs.existsSync(temp) && fs.existsSync(journal), 'the temp file and its journal are left');
    assert.ok(!fs.existsSync(trace));
    // a last journal line cut short by the kill is left out
    fs.appendFileSync(journal, '{"row_groups":[{"colu');
    const next = ior(['capture', '-o', path.join(dir, 'r.parquet'), '--', 'true']);
    assert.equal(next.status, 0, next.stderr);
    assert.equal(next.stderr.split('\n').filter((l) => l.includes('is left from a capture')).length, 1, next.stderr);
    assert.match(next.stderr, new RegExp(`^ior: warning: ${temp.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is left from a capture to r\\.parquet that died: \`ior recover .*\` rebuilds its trace$`, 'm'));
    fs.rmSync(trace);

    const r = ior(['recover', temp]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^ior: recovered .*r\.parquet: [\d,]+ events in \d+ row groups, up to the last checkpoint \(.*\); [\d,]+ bytes written after it dropped\n$/);
    assert.ok(!fs.existsSync(temp) && !fs.existsSync(journal), 'temp file renamed, journal removed');
    const { rows, footer } = await readTrace(trace);
    assert.equal(footer.stop_reason, 'recovered');
    assert.equal(footer.events, rows.length);
    assert.ok(rows.length >= flushed && flushed > 0, `${rows.length} rows recovered, ${flushed} checkpointed before the kill`);
    assert.ok(rows.some((x) => x.path === '/etc/hostname'));
    assert.equal(await duckdbCount(trace), rows.length);
    const stats = ior(['stats', trace]);
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /stopped: recovered/);
    // not a temp file, or one without a journal: one line
    const again = ior(['recover', trace]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^ior: cannot recover .*r\.parquet: it has no journal/);
    assert.equal(again.stderr.split('\n').length, 2);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('disk full during a capture: what was written stays a trace DuckDB reads, the footer says why, one line, exit 2, the command ran to its end', async (t) => {
  if (!needBpf(t)) return;
  const dir = fs.realpathSync(tempDir('fault-full'));
  const { mount: small, unmount } = smallFs(dir, 'small', '3m');
  try {
    const data = path.join(dir, 'loop.dat');
    fs.writeFileSync(data, 'x');
    const trace = path.join(small, 't.parquet');
    // ~2.4M events, ~7 MB of trace: the 3 MiB file system fills part way
    const r = ior(['capture', '-o', trace, '--json', '--', path.join(NATIVE_BUILD, 'iowork-loop'), data, '300000']);
    assert.equal(r.status, 2, r.stderr);
    const loop = JSON.parse(r.stdout.split('\n')[0]!) as { total: number };
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { stop_reason: string; events: number; losses: { disk_full_dropped: number } };
    const lines = iorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^ior: disk full \(ENOSPC\) writing .*t\.parquet: the trace holds the first [\d,]+ events, the [\d,]+ after them were not recorded \(the command ran to its end: exit 0\); free space in .*small$/);
    assert.equal(loop.total, 2_400_000, 'the command ran to its end');
    const { rows, footer } = await readTrace(trace);
    assert.equal(footer.stop_reason, 'disk-full');
    assert.deepEqual(footer.command_exit, { code: 0, signal: null });
    assert.ok(footer.events > 100_000, `${footer.events} events kept`);
    assert.equal(rows.length, footer.events);
    assert.ok(footer.losses.disk_full_dropped! > 0);
    assert.equal(summary.stop_reason, 'disk-full');
    assert.equal(summary.losses.disk_full_dropped, footer.losses.disk_full_dropped);
    assert.equal(await duckdbCount(trace), footer.events);
    assert.equal((await TraceReader.open(trace)).keyValue(INIT_KEY), undefined, 'no replay state worked out from a cut trace');
    assert.deepEqual(fs.readdirSync(small), ['t.parquet'], 'no temp file, journal or reserve left');
  } finally {
    unmount();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
