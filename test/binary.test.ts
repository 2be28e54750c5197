/**
 * dist/ior, the single executable: built by scripts/build-binary.sh (quick
 * when up to date), copied alone into an empty directory and run there with
 * `env -i`. As root the run also hides the source tree, the system's
 * node_modules and Node itself (empty tmpfs or /dev/null mounted over them in
 * a private mount namespace), so nothing can come from them.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../common/assets.js';
import { IOR_VERSION } from '../common/version.js';
import { needBpf } from './helpers/bpf.js';
import { tempDir } from './helpers/fixture.js';
import type { ReplayReport } from '../replay/index.js';

const isRoot = process.getuid?.() === 0;
/** Hidden while dist/ior runs (as root): the checkout, npm's global modules, the system's Node. */
const HIDDEN = [REPO_ROOT, '/usr/lib/node_modules', '/usr/local/lib/node_modules', process.execPath].filter((d) => fs.existsSync(d));


let dir: string;
let bin: string;

before(() => {
  const build = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'build-binary.sh')], { encoding: 'utf8', timeout: 15 * 60_000 });
  assert.equal(build.status, 0, `build-binary.sh failed:\n${build.stderr}`);
  dir = fs.realpathSync(tempDir('binary'));
  bin = path.join(dir, 'ior');
  fs.copyFileSync(path.join(REPO_ROOT, 'dist', 'ior'), bin);
  fs.chmodSync(bin, 0o755);
});

/** Runs the copied dist/ior in its directory under `env -i` (plus `vars`), the repo hidden when root. */
function run(args: string[], vars: Record<string, string> = {}): SpawnSyncReturns<string> {
  const command = ['env', '-i', ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), './ior', ...args];
  if (!isRoot) return spawnSync(command[0]!, command.slice(1), { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  // sh -c SCRIPT sh DIR HIDDEN... -- COMMAND...
  const script =
    'cd "$1"; shift; while [ "$1" != -- ]; do ' +
    'if [ -d "$1" ]; then mount -t tmpfs -o size=1m,mode=0 ior-hidden "$1"; else mount --bind /dev/null "$1"; fi || exit 99; shift; done; shift; exec "$@"';
  return spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, ...HIDDEN, '--', ...command], {
    encoding: 'utf8',
    timeout: 120_000,
  });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status} (${r.signal ?? 'no signal'}):\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

test('the repo really is hidden from the binary while it runs (as root)', (t) => {
  if (!isRoot) return t.skip('not root: cannot hide the source tree');
  const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=1m,mode=0 ior-hidden "$0" && ls -A "$0"', REPO_ROOT], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '');
});

test('--version: ior, the libbpf linked into the loader, the kernel features', () => {
  const out = ok(run(['--version']), 'ior --version');
  const lines = out.trimEnd().split('\n');
  assert.equal(lines[0], `ior ${IOR_VERSION} (single binary, Node.js ${process.version})`);
  assert.match(lines[1]!, /^libbpf 1\.\d+ \(linked into ior-loader \S+\)$/);
  assert.match(lines[2]!, /^kernel \S+ x86_64$/);
  assert.match(out, /^ {2}BTF +(yes|no) \(\/sys\/kernel\/btf\/vmlinux\)$/m);
  assert.match(out, /^ {2}ring buffer +(yes|no|not probed \(needs root\))$/m);
  assert.match(out, /^ {2}tracepoints +(raw sys_enter\/sys_exit \(tp_btf\)|per-syscall tracepoints): \d+ of \d+ syscalls traceable; tracefs/m);
  if (isRoot && fs.existsSync('/sys/kernel/btf/vmlinux')) assert.match(out, /BTF +yes/);
});

test('NODE_OPTIONS does not reach the embedded Node, even a --require that would stop it', () => {
  const out = ok(run(['--version'], { NODE_OPTIONS: '--require /nonexistent/ior-test.js' }), 'ior --version with NODE_OPTIONS');
  assert.match(out, /^ior /);
});

test('the unpack directory must be private: a group-writable one and a symlink are passed over', () => {
  const open = path.join(dir, 'open');
  fs.mkdirSync(open, { mode: 0o777 });
  fs.chmodSync(open, 0o777);
  ok(run(['--version'], { IOR_UNPACK_DIR: open }), 'ior with a 0777 IOR_UNPACK_DIR');
  assert.deepEqual(fs.readdirSync(open), []);

  const target = path.join(dir, 'target');
  fs.mkdirSync(target, { mode: 0o700 });
  fs.symlinkSync(target, path.join(dir, 'link'));
  ok(run(['--version'], { IOR_UNPACK_DIR: path.join(dir, 'link') }), 'ior with a symlink IOR_UNPACK_DIR');
  assert.deepEqual(fs.readdirSync(target), []);

  const good = path.join(dir, 'private');
  ok(run(['--version'], { IOR_UNPACK_DIR: good }), 'ior with a fresh IOR_UNPACK_DIR');
  assert.equal(fs.statSync(good).mode & 0o777, 0o700);
  const [build] = fs.readdirSync(good);
  assert.match(build!, new RegExp(`^${IOR_VERSION.replace(/\./g, '\\.')}-[0-9a-f]{16}$`));
  const loader = path.join(good, build!, 'ior-loader');
  assert.equal(fs.statSync(loader).mode & 0o777, 0o500);
  assert.ok(fs.statSync(path.join(good, build!, 'addons', 'zstd-napi.node')).size > 0);
});

test('doctor --json: every check, and capture possible here when BPF is', (t) => {
  const r = run(['doctor', '--json']);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
  assert.deepEqual(report.checks.map((c) => c.name), ['loader', 'privileges', 'BTF', 'kernel', 'ring buffer', 'tracefs', 'syscalls', 'programs', 'async I/O', 'memory', 'lockdown']);
  for (const c of report.checks) if (c.status !== 'ok') assert.ok(c.fix, `${c.name} is ${c.status} without a fix`);
  assert.equal(r.status, report.ok ? 0 : 1);
  if (!needBpf(t)) return;
  assert.equal(report.ok, true, JSON.stringify(report.checks, null, 2));
  // this kernel (6.2+) gets the btf build, and the probe behind the checks says so too
  assert.match(report.checks.find((c) => c.name === 'programs')!.detail, /^capture will load the btf build .*, on raw sys_enter\/sys_exit hooks/);
  assert.equal((report as unknown as { probe: { build: string } }).probe.build, 'btf');
});

test('capture, stats, sql and replay with the lone binary', async (t) => {
  if (!needBpf(t)) return;
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const data = path.join(work, 'data.txt');
  const sum = path.join(work, 'sum.txt');
  // sh writes 12 bytes, md5sum reads them (read returns 12, then 0) and writes one line
  ok(run(['capture', '-o', 'trace.parquet', '--', '/bin/sh', '-c', `echo binary-test > ${data} && md5sum ${data} > ${sum}`]), 'ior capture');
  const sumLine = `${crypto.createHash('md5').update('binary-test\n').digest('hex')}  ${data}\n`;
  assert.equal(fs.readFileSync(sum, 'utf8'), sumLine);

  const stats = JSON.parse(ok(run(['stats', '--json', 'trace.parquet']), 'ior stats')) as {
    trace: { command: string[]; command_exit: { code: number } };
    totals: { events: number; processes: number };
    losses: { events_lost: number };
  };
  assert.deepEqual(stats.trace.command, ['/bin/sh', '-c', `echo binary-test > ${data} && md5sum ${data} > ${sum}`]);
  assert.equal(stats.trace.command_exit.code, 0);
  assert.equal(stats.totals.processes, 2);
  assert.equal(stats.losses.events_lost, 0);

  const query = `select comm, syscall, path, sum(bytes) as bytes, count(*) as calls from events
    where path in ('${data}', '${sum}') and syscall in ('read', 'write') group by 1, 2, 3 order by 3, 1, 2`;
  assert.deepEqual(JSON.parse(ok(run(['sql', '--json', 'trace.parquet', query]), 'ior sql')), [
    { comm: 'md5sum', syscall: 'read', path: data, bytes: 12, calls: 2 },
    { comm: 'sh', syscall: 'write', path: data, bytes: 12, calls: 1 },
    { comm: 'md5sum', syscall: 'write', path: sum, bytes: sumLine.length, calls: 1 },
  ]);

  const target = path.join(dir, 'replay');
  ok(run(['replay', 'trace.parquet', '--speed', 'max', '--target', target]), 'ior replay');
  assert.equal(fs.statSync(path.join(target, data)).size, 12);
  assert.equal(fs.statSync(path.join(target, sum)).size, sumLine.length);
  // the originals are untouched
  assert.equal(fs.readFileSync(data, 'utf8'), 'binary-test\n');
});

test('doctor as an unprivileged user: privileges FAIL with a fix, exit 1; the binary unpacks into a place of its own', (t) => {
  if (!isRoot) return t.skip('not root: cannot switch to another user');
  fs.chmodSync(dir, 0o755); // mkdtemp made it 0700: let nobody reach the binary
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', 'env', '-i', bin, 'doctor', '--json'], { cwd: '/', encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; fix?: string }[] };
  assert.equal(report.ok, false);
  const privileges = report.checks.find((c) => c.name === 'privileges')!;
  assert.equal(privileges.status, 'fail');
  assert.match(privileges.fix!, /run ior capture as root/);
  // nobody has no XDG_RUNTIME_DIR and no usable home: /var/tmp/ior-65534 is the first private place
  const st = fs.lstatSync('/var/tmp/ior-65534');
  assert.equal(st.uid, 65534);
  assert.equal(st.mode & 0o777, 0o700);
});

test('replay as an unprivileged user: chroot is refused, so the openat2 walk confines (named in the report); --confine chroot fails with one line', (t) => {
  if (!isRoot) return t.skip('not root: cannot switch to another user');
  fs.chmodSync(dir, 0o755);
  const traceFile = path.join(dir, 'nobody-trace.parquet');
  fs.copyFileSync(path.join(REPO_ROOT, 'fixtures', 'replay', 'shell-workload.parquet'), traceFile);
  fs.chmodSync(traceFile, 0o644);
  const home = fs.mkdtempSync('/var/tmp/ior-nobody-');
  fs.chownSync(home, 65534, 65534);
  try {
    const asNobody = (args: string[]) => spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', 'env', '-i', bin, ...args], { cwd: '/', encoding: 'utf8', timeout: 120_000 });
    const r = asNobody(['replay', traceFile, '--target', path.join(home, 'auto'), '--speed', 'max', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as ReplayReport;
    assert.equal(report.confinement.mode, 'openat2 (chroot refused: Operation not permitted)');
    assert.equal(report.events.failed, 0, JSON.stringify(report.failed));
    assert.ok(report.added.helper_syscalls['parent directory opens (openat2 O_PATH)']! > 0);
    const refused = asNobody(['replay', traceFile, '--target', path.join(home, 'chroot'), '--speed', 'max', '--confine', 'chroot']);
    assert.equal(refused.status, 1);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, 'ior: --confine chroot: chroot refused: Operation not permitted (it needs root): use --confine openat2, or auto\n');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
