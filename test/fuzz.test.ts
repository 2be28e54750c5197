/**
 * Fuzzing the readers (issue #9): stored traces (as an older writer made
 * them, and written again by this ior's writer) mutated hundreds of ways
 * (bit flips anywhere or in the footer, truncations, footer JSON with wrong
 * or missing values) and hand-made traces of hostile paths, fed to stats,
 * the trace reader, sql and the replay's planner in process. Each case must
 * end in a result or an IorError (the one-line message), never another
 * exception. A share of the hostile traces is replayed for real: nothing
 * outside the target may change. The seed and case count are printed;
 * IOR_FUZZ_SEED and IOR_FUZZ_CASES reproduce or widen a run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { IorError } from '../common/errors.js';
import { REPO_ROOT } from '../common/assets.js';
import { computeStats } from '../stats/index.js';
import { runSql } from '../sql/index.js';
import { planReplay } from '../replay/plan.js';
import { TraceReader } from '../trace/index.js';
import { parquetWriteFile } from 'hyparquet-writer';
import { COLUMNS, FOOTER_KEY, type TraceEvent } from '../schema/index.js';
import { event, fixtureFooter, readTrace, seeded, tempDir, writeFixtureTrace } from './helpers/fixture.js';
import { ior } from './helpers/cli.js';

const SEED = Number(process.env.IOR_FUZZ_SEED ?? 20261203);
const CASES = Number(process.env.IOR_FUZZ_CASES ?? 600);
const BASES = ['fixtures/stats/mixed.parquet', 'fixtures/stats/capture-workload.parquet', 'fixtures/stats/edge-values.parquet', 'fixtures/replay/shell-workload.parquet'].map((f) => path.join(REPO_ROOT, f));

/** Runs `work`; a result or an IorError is fine, anything else is a finding. */
async function clean(what: string, work: () => Promise<unknown>, findings: string[]): Promise<'ok' | 'error'> {
  try {
    await work();
    return 'ok';
  } catch (err) {
    if (err instanceof IorError && !err.message.includes('\n')) return 'error';
    findings.push(`${what}: ${err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err)}`);
    return 'error';
  }
}

async function readAll(file: string): Promise<number> {
  const reader = await TraceReader.open(file);
  let rows = 0;
  for await (const b of reader.batches()) rows += b.length;
  return rows;
}

/** One mutation of a stored trace's bytes. */
function mutate(bytes: Buffer, rand: () => number): { bytes: Buffer; how: string } {
  const out = Buffer.from(bytes);
  const kind = Math.floor(rand() * 4);
  if (kind === 0) {
    const n = 1 + Math.floor(rand() * 8);
    for (let i = 0; i < n; i++) out[Math.floor(rand() * out.length)]! ^= 1 << Math.floor(rand() * 8);
    return { bytes: out, how: `${n} bit flips anywhere` };
  }
  if (kind === 1) {
    // the footer: thrift metadata and ior's JSON, where the readers look first
    const n = 1 + Math.floor(rand() * 4);
    const tail = Math.min(out.length - 8, 4096);
    for (let i = 0; i < n; i++) out[out.length - 8 - Math.floor(rand() * tail)]! ^= 1 << Math.floor(rand() * 8);
    return { bytes: out, how: `${n} bit flips in the footer` };
  }
  if (kind === 2) {
    const at = Math.floor(rand() * out.length);
    return { bytes: out.subarray(0, at), how: `truncated at ${at}` };
  }
  // a byte range overwritten with noise, as a torn write would
  const at = Math.floor(rand() * out.length);
  const n = Math.min(out.length - at, 1 + Math.floor(rand() * 256));
  for (let i = 0; i < n; i++) out[at + i] = Math.floor(rand() * 256);
  return { bytes: out, how: `${n} noise bytes at ${at}` };
}

/** Footer JSON with a value replaced, removed or of another type. */
function footerOverrides(rand: () => number): { overrides: Record<string, unknown>; how: string } {
  const choices: [string, unknown][] = [
    ['events', -1], ['events', 1e300], ['events', 'many'], ['schema_version', 0], ['schema_version', 2.5], ['start_ts_ns', 'not a number'],
    ['end_ts_ns', '-99999999999999999999999'], ['boot_to_wall_ns', null], ['losses', {}], ['losses', { ringbuf_drops: -5 }], ['host', null],
    ['capture', { argv: 'ior' }], ['stop_reason', 'exploded'], ['command_exit', { code: 'x', signal: 9 }], ['format', 'other'], ['start_wall', 42],
  ];
  const [key, value] = choices[Math.floor(rand() * choices.length)]!;
  return { overrides: { [key]: value }, how: `footer ${key} = ${JSON.stringify(value)}` };
}

const HOSTILE_PATHS = [
  '/../../etc/ior-fuzz', '/a/../../../etc/passwd', '/' + 'x/'.repeat(3000) + 'f', '/\u0000/etc', '/proc/self/root/etc/hostname',
  'relative/path', '', '/', '//', '/./././../', '/etc/../../..', '/dev/null', '/sys/kernel/x', '/ü/日本/🙂', '/a\nb', '/' + 'y'.repeat(5000),
];
const HOSTILE_CALLS = ['openat', 'unlinkat', 'renameat2', 'mkdirat', 'chmod', 'truncate', 'symlinkat', 'linkat', 'newfstatat', 'rmdir', 'utimensat', 'chown', 'process_fork', 'process_exec', 'process_exit'];
/** pids of lifecycle rows: the traced one (100, whose fd 3 is open), itself as its own child, odd ones */
const HOSTILE_PIDS = [100, 101, 0, -5, 2 ** 31 - 1];

/** A trace of random calls on hostile paths (paths also as symlink targets, path2 of renames and links). */
function hostileRows(rand: () => number): TraceEvent[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const rows: TraceEvent[] = [];
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    const syscall = pick(HOSTILE_CALLS);
    const p = pick(HOSTILE_PATHS);
    if (syscall.startsWith('process_')) {
      // a fork to any pid (the parent itself too) sharing or copying the fd table, exec and exit of any pid
      rows.push(event({ syscall, pid: pick(HOSTILE_PIDS), ret: BigInt(pick(HOSTILE_PIDS)), flags: pick([0, 0x400, 0x200, 0x600, -1, null]) }, rows.length));
    } else if (syscall === 'openat') {
      rows.push(event({ syscall, path: p, flags: 0o101, mode: 0o644, ret: 3n, fd: 3, file_type: 'regular' }, rows.length));
      rows.push(event({ syscall: 'write', path: p, fd: 3, count: 5n, ret: 5n, bytes: 5n, file_type: 'regular' }, rows.length));
      rows.push(event({ syscall: 'close', path: p, fd: 3, file_type: 'regular' }, rows.length));
    } else {
      rows.push(event({ syscall, path: p, path2: syscall === 'renameat2' || syscall === 'linkat' || syscall === 'symlinkat' ? pick(HOSTILE_PATHS) : null, mode: 0o600, flags: 0, count: 0n }, rows.length));
    }
  }
  return rows;
}

/** Every file under dir, with a hash of its content and its mode: equal snapshots, nothing changed. */
function snapshot(dir: string): string {
  const h = crypto.createHash('sha1');
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    h.update(`${p} ${st.mode} ${st.size}\n`);
    if (st.isFile()) h.update(fs.readFileSync(p));
    else if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
  };
  walk(dir);
  return h.digest('hex');
}

test(`fuzz: ${CASES} mutated and hostile traces through stats, the reader, sql and the replay planner end in a result or one clean line`, async (t) => {
  t.diagnostic(`seed ${SEED}, ${CASES} cases (IOR_FUZZ_SEED, IOR_FUZZ_CASES)`);
  const rand = seeded(SEED);
  const dir = tempDir('fuzz');
  // the stored traces as an older ior wrote them (read through hyparquet's decoder), and their rows
  // written again by this ior's writer (read by its own decoder)
  const bases: Buffer[] = BASES.map((f) => fs.readFileSync(f));
  for (const [i, f] of BASES.entries()) {
    const { rows } = await readTrace(f);
    bases.push(fs.readFileSync(writeFixtureTrace(path.join(dir, `base-${i}.parquet`), rows, {}, 256)));
  }
  const findings: string[] = [];
  const outcomes = { ok: 0, error: 0 };
  try {
    for (let i = 0; i < CASES; i++) {
      const file = path.join(dir, `case-${i}.parquet`);
      let how: string;
      const kind = rand();
      if (kind < 0.7) {
        const m = mutate(bases[Math.floor(rand() * bases.length)]!, rand);
        fs.writeFileSync(file, m.bytes);
        how = m.how;
      } else if (kind < 0.85) {
        // written without ior's writer, which would refuse such a footer
        const f = footerOverrides(rand);
        parquetWriteFile({
          filename: file,
          columnData: COLUMNS.map((c) =>
            c.kind === 'string' ? { name: c.name, data: ['/x'], type: 'STRING' as const }
            : c.kind === 'int32' ? { name: c.name, data: [3], type: 'INT32' as const }
            : { name: c.name, data: [1n], type: 'INT64' as const }),
          kvMetadata: [{ key: FOOTER_KEY, value: JSON.stringify({ ...fixtureFooter(1), ...f.overrides }) }],
        });
        how = f.how;
      } else {
        writeFixtureTrace(file, hostileRows(rand));
        how = 'hostile paths';
      }
      const what = `case ${i} (${how})`;
      const results = [
        await clean(`${what}: stats`, () => computeStats(file), findings),
        await clean(`${what}: reader`, () => readAll(file), findings),
        await clean(`${what}: replay plan`, () => planReplay(file), findings),
      ];
      // sql loads the trace into SQLite: a share of the cases
      if (i % 8 === 0) results.push(await clean(`${what}: sql`, () => runSql({ file, query: 'SELECT syscall, count(*) FROM events GROUP BY 1', format: 'csv', colour: false, write: () => {} }), findings));
      for (const r of results) outcomes[r]++;
      fs.rmSync(file, { force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  t.diagnostic(`${outcomes.ok} results, ${outcomes.error} clean errors, ${findings.length} findings`);
  assert.deepEqual(findings, [], `seed ${SEED}`);
  assert.ok(outcomes.ok > 0 && outcomes.error > 0, 'both results and errors were met');
});

test('fuzz: hostile traces replayed for real (chroot and openat2 confinement) change nothing outside the target', (t) => {
  const rand = seeded(SEED + 1);
  const dir = fs.realpathSync(tempDir('fuzz-replay'));
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim.txt'), 'keep me\n');
  const etc = () => ['/etc/passwd', '/etc/hostname', '/etc/hosts'].map((f) => `${f} ${fs.statSync(f).mode} ${crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex')}`).join('\n');
  const before = { outside: snapshot(outside), etc: etc(), etcEntries: fs.readdirSync('/etc').sort().join(',') };
  const runs = 12;
  t.diagnostic(`seed ${SEED + 1}, ${runs} replays`);
  try {
    for (let i = 0; i < runs; i++) {
      // the outside directory is the traced paths' "/" too: rows name ../outside/victim.txt relative to the target
      const rows = hostileRows(rand).concat([
        event({ syscall: 'unlinkat', path: '/../outside/victim.txt', flags: 0 }),
        event({ syscall: 'chmod', path: '/../../outside', mode: 0 }),
      ]);
      const file = writeFixtureTrace(path.join(dir, `h${i}.parquet`), rows);
      const target = path.join(dir, `target${i}`);
      // both confinements: chrooted executor threads (the default as root) and the openat2 walk
      const r = ior(['replay', file, '--target', target, '--speed', 'max', '--json', '--confine', i % 2 ? 'openat2' : 'chroot']);
      assert.ok(r.status === 0 || r.status === 3 || (r.status === 1 && r.stdout === '' && r.stderr.trim().split('\n').length === 1), `replay ${i}: exit ${r.status}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      if (r.status !== 1) JSON.parse(r.stdout);
    }
    assert.equal(snapshot(outside), before.outside, 'the directory beside the targets is unchanged');
    assert.equal(etc(), before.etc);
    assert.equal(fs.readdirSync('/etc').sort().join(','), before.etcEntries);
    assert.ok(!fs.existsSync('/etc/ior-fuzz'));
  } finally {
    // rm, not fs.rmSync: a replayed path of 3,000 components is a tree deeper than Node's recursive removal's stack
    spawnSync('rm', ['-rf', dir]);
  }
});
