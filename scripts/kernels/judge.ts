/**
 * judge.ts - the verdicts of the kernel matrix (scripts/check-kernels.sh).
 *
 *   node build/scripts/kernels/judge.js [--commit C] [--docs docs/install.md] OUT KERNEL...
 *
 * OUT holds, per KERNEL, NAME.log (the report of scripts/kernels/checks.sh:
 * `@@ior` lines and base64 files), NAME.label and NAME.seconds. Every
 * capture is read with ior's own reader and checked event by event against
 * the deterministic workload (test/helpers/fixed-workload.ts); doctor,
 * stats and replay by their exit status and what they left. Prints one
 * Markdown table row per kernel, then every problem; exits 1 when any
 * kernel is not ok. --docs replaces the table between the kernel-matrix
 * markers of that file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readTrace } from '../../test/helpers/fixture.js';
import { buildsFrom, fixedCaptureProblems, IN_SUB_BYTES, type Build } from '../../test/helpers/fixed-workload.js';

interface Report {
  lines: Map<string, Record<string, string>[]>;
  files: Map<string, Buffer>;
}

/** `@@ior KEY k=v k=v` lines (grouped by KEY) and `@@ior-file NAME` base64 blocks; console noise between them is ignored. */
export function parseReport(text: string): Report {
  const lines = new Map<string, Record<string, string>[]>();
  const files = new Map<string, Buffer>();
  let file: string | null = null;
  let b64: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (file !== null) {
      if (line === '@@ior-end') {
        files.set(file, Buffer.from(b64.join(''), 'base64'));
        file = null;
      } else if (/^[A-Za-z0-9+/=]+$/.test(line)) b64.push(line);
      continue;
    }
    const f = /^@@ior-file (\S+)$/.exec(line);
    if (f) {
      file = f[1]!;
      b64 = [];
      continue;
    }
    const m = /^@@ior (\S+)(.*)$/.exec(line);
    if (!m) continue;
    const fields: Record<string, string> = {};
    for (const kv of m[2]!.trim().split(/\s+/)) {
      const eq = kv.indexOf('=');
      if (eq > 0) fields[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    lines.set(m[1]!, [...(lines.get(m[1]!) ?? []), fields]);
  }
  return { lines, files };
}

interface Row {
  name: string;
  label: string;
  release: string;
  ok: boolean;
  programs: string;
  events: string;
  doctor: string;
  stats: string;
  replay: string;
  fio: string;
  load: string;
  attach: string;
  stop: string;
  seconds: string;
  problems: string[];
}

const secs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const range = (xs: number[], fmt: (x: number) => string) => (xs.length === 0 ? '-' : Math.min(...xs) === Math.max(...xs) ? fmt(xs[0]!) : `${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))}`);

async function judge(out: string, name: string): Promise<Row> {
  const read = (f: string) => (fs.existsSync(path.join(out, f)) ? fs.readFileSync(path.join(out, f), 'utf8').trim() : '');
  const report = parseReport(read(`${name}.log`));
  const problems: string[] = [];
  const step = (s: string) => report.lines.get('step')?.find((l) => l.name === s);
  const release = report.lines.get('kernel')?.[0]?.release ?? '?';
  if (!report.lines.has('done')) problems.push(`the checks did not finish (log: ${report.lines.get('error') ? 'error' : 'no "done" line'})`);

  // doctor: ok, and its probe names the build the captures below must use
  let doctor = 'FAIL';
  let best: Build | undefined;
  let raw = false;
  try {
    const d = JSON.parse(report.files.get('doctor.json')?.toString() ?? '') as { ok: boolean; probe: { build: Build; raw_syscall_hooks: boolean } | null };
    best = d.probe?.build;
    raw = d.probe?.raw_syscall_hooks === true;
    if (d.ok && step('doctor')?.rc === '0' && best) doctor = `ok (${best}${raw ? ', raw hooks' : ''})`;
    else problems.push(`doctor: rc ${step('doctor')?.rc}, ok ${d.ok}${report.files.get('doctor.err')?.length ? `: ${report.files.get('doctor.err')!.toString().trim()}` : ''}`);
  } catch {
    problems.push(`doctor: no JSON (rc ${step('doctor')?.rc})`);
  }
  if (step('version')?.rc !== '0') problems.push(`--version: rc ${step('version')?.rc}`);

  // the captures: the planned builds x hooks, each exact
  const captures = report.lines.get('capture') ?? [];
  const wanted = best ? buildsFrom(best).flatMap((b) => (raw ? ['raw', 'tracepoints'] : ['tracepoints']).map((h) => `${b}/${h}`)) : [];
  const ran = captures.map((c) => `${c.build}/${c.hooks}`);
  for (const w of wanted) if (!ran.includes(w)) problems.push(`capture ${w}: not run`);
  const matched: string[] = [];
  const load: Record<string, number[]> = { raw: [], tracepoints: [] };
  const attach: Record<string, number[]> = { raw: [], tracepoints: [] };
  const stop: Record<string, number[]> = { raw: [], tracepoints: [] };
  for (const c of captures) {
    const what = `capture ${c.build}/${c.hooks}`;
    if (c.rc !== '0' || c.wrc !== '0') {
      problems.push(`${what}: ior rc ${c.rc}, workload rc ${c.wrc}${c.error ? ` (${c.error})` : ''}: ${report.files.get(`capture-${c.build}-${c.hooks}.err`)?.toString().trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const file = path.join(out, `${name}-${c.build}-${c.hooks}.parquet`);
    fs.writeFileSync(file, report.files.get(`capture-${c.build}-${c.hooks}.parquet`) ?? Buffer.alloc(0));
    try {
      const { rows, footer } = await readTrace(file);
      const check = fixedCaptureProblems(rows, footer, Number(c.pid), c.dir!, { build: c.build as Build, hooks: c.hooks });
      matched.push(`${check.matched}/${check.expected}`);
      for (const p of check.problems) problems.push(`${what}: ${p}`);
      if (footer.host.kernel_release !== release) problems.push(`${what}: footer kernel ${footer.host.kernel_release}`);
      load[c.hooks!]!.push(footer.capture.load_ms ?? NaN);
      attach[c.hooks!]!.push(footer.capture.attach_ms ?? NaN);
      stop[c.hooks!]!.push(Number(c.stop_cs) * 10);
    } catch (err) {
      problems.push(`${what}: unreadable trace: ${(err as Error).message}`);
    }
  }
  const byHooks = (m: Record<string, number[]>, fmt: (x: number) => string) =>
    (['raw', 'tracepoints'] as const).filter((h) => m[h]!.length).map((h) => `${h === 'raw' ? 'raw' : 'tp'} ${range(m[h]!, fmt)}`).join(', ') || '-';
  const events = matched.length === 0 ? '-' : new Set(matched).size === 1 ? `${matched.length} x ${matched[0]}` : matched.join(', ');

  const stats = step('stats')?.rc === '0' ? 'ok' : 'FAIL';
  if (stats !== 'ok') problems.push(`stats: rc ${step('stats')?.rc}: ${report.files.get('stats.txt')?.toString().trim().split('\n').pop()}`);
  const r = step('replay');
  const replayOk = r?.rc === '0' && r.in_sub_bytes === String(IN_SUB_BYTES) && r.files === './pre.txt,./sub/in-sub.dat,';
  if (!replayOk) problems.push(`replay: rc ${r?.rc}, in-sub.dat ${r?.in_sub_bytes} bytes (expected ${IN_SUB_BYTES}), files left ${r?.files}: ${report.files.get('replay.txt')?.toString().trim().split('\n').pop()}`);

  // fio under capture: every operation on its file, per direction, equal to fio's own counts
  const fio: string[] = [];
  for (const engine of ['libaio', 'io_uring'] as const) {
    const run = report.lines.get('fio')?.find((l) => l.engine === engine);
    const what = `fio ${engine}`;
    if (run?.rc !== '0') {
      problems.push(`${what}: rc ${run?.rc}: ${report.files.get(`fio-${engine}.err`)?.toString().trim().split('\n').slice(-2).join(' | ')}`);
      fio.push(`${engine} FAIL`);
      continue;
    }
    const file = path.join(out, `${name}-fio-${engine}.parquet`);
    fs.writeFileSync(file, report.files.get(`fio-${engine}.parquet`) ?? Buffer.alloc(0));
    try {
      const job = JSON.parse(report.files.get(`fio-${engine}.json`)?.toString() ?? '').jobs[0];
      const { rows, footer } = await readTrace(file);
      const onFile = rows.filter((x) => x.path === `${run.dir}/data`);
      const want = job.read.total_ios + job.write.total_ios;
      if (engine === 'io_uring' && footer.capture.io_uring_tracepoint === null) {
        // a kernel whose io_uring tracepoints do not name the request: only the calls, and said so
        const said = /io_uring operations are not captured on this kernel/.test(report.files.get(`fio-${engine}.err`)?.toString() ?? '');
        if (!said || !rows.some((x) => x.syscall === 'io_uring_enter') || onFile.some((x) => x.syscall.startsWith('uring_'))) problems.push(`${what}: no io_uring tracepoint, but not said or not only the calls`);
        fio.push(`${engine} calls only (kernel < 6.0)`);
        continue;
      }
      const prefix = engine === 'libaio' ? 'aio_p' : 'uring_';
      const dir = (d: 'read' | 'write') => onFile.filter((x) => x.syscall.startsWith(prefix + d));
      const got = { read: { total_ios: dir('read').length, io_bytes: dir('read').reduce((n, x) => n + Number(x.bytes), 0) }, write: { total_ios: dir('write').length, io_bytes: dir('write').reduce((n, x) => n + Number(x.bytes), 0) } };
      const expected = { read: { total_ios: job.read.total_ios, io_bytes: job.read.io_bytes }, write: { total_ios: job.write.total_ios, io_bytes: job.write.io_bytes } };
      if (JSON.stringify(got) !== JSON.stringify(expected)) problems.push(`${what}: trace ${JSON.stringify(got)}, fio ${JSON.stringify(expected)}`);
      fio.push(`${engine} ${got.read.total_ios + got.write.total_ios}/${want}`);
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
      fio.push(`${engine} FAIL`);
    }
  }

  return {
    name,
    label: read(`${name}.label`),
    release,
    ok: problems.length === 0,
    programs: best ? `${buildsFrom(best).join(', ')} x ${raw ? 'raw, tracepoints' : 'tracepoints'}` : '-',
    events,
    doctor,
    stats,
    replay: replayOk ? `ok (${IN_SUB_BYTES} B)` : 'FAIL',
    fio: fio.join(', '),
    load: byHooks(load, secs),
    attach: byHooks(attach, secs),
    stop: byHooks(stop, secs),
    seconds: read(`${name}.seconds`),
    problems,
  };
}

export function table(rows: Row[]): string {
  const head = ['kernel', 'distribution', 'result', 'doctor', 'builds x hooks', 'events matched', 'stats', 'replay', 'fio ops = fio\'s', 'BPF load', 'attach', 'stop', 'check time'];
  const body = rows.map((r) => [r.release, r.label, r.ok ? 'ok' : 'FAIL', r.doctor, r.programs, r.events, r.stats, r.replay, r.fio, r.load, r.attach, r.stop, r.seconds ? `${r.seconds} s` : '-']);
  return [head, head.map(() => '---'), ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { commit: { type: 'string', default: 'unknown' }, docs: { type: 'string' } } });
  const [out, ...names] = positionals;
  if (!out || names.length === 0) {
    process.stderr.write('usage: judge.js [--commit C] [--docs FILE] OUT KERNEL...\n');
    return 2;
  }
  const rows: Row[] = [];
  for (const name of names) rows.push(await judge(out, name));
  const md = table(rows);
  process.stdout.write(`${md}\n`);
  for (const r of rows) for (const p of r.problems) process.stdout.write(`${r.name}: ${p}\n`);
  const ok = rows.every((r) => r.ok);
  process.stdout.write(ok ? `check-kernels: all ${rows.length} kernels ok\n` : `check-kernels: FAILED on ${rows.filter((r) => !r.ok).map((r) => r.name).join(', ')}\n`);
  if (values.docs) {
    const doc = fs.readFileSync(values.docs, 'utf8');
    const begin = '<!-- kernel-matrix:begin -->', end = '<!-- kernel-matrix:end -->';
    const i = doc.indexOf(begin), j = doc.indexOf(end);
    if (i < 0 || j < i) throw new Error(`${values.docs} has no ${begin} ... ${end} markers`);
    const stamp = `Run of ${new Date().toISOString().slice(0, 10)}, commit ${values.commit}, \`npm run check:kernels\` on ${os.cpus().length} cores (qemu TCG for the Debian kernels):`;
    fs.writeFileSync(values.docs, `${doc.slice(0, i + begin.length)}\n${stamp}\n\n${md}\n${doc.slice(j)}`);
    process.stdout.write(`check-kernels: table written to ${values.docs}\n`);
  }
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`check-kernels: ${(err as Error).message}\n`);
  process.exit(2);
});
