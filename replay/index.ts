/**
 * replay/: re-issue a captured trace as real load under a target directory.
 *   plan (plan.ts, interpret.ts)  what is replayed, skipped, the initial state
 *   init (init.ts)                create that state under the target (from the trace, where the
 *                                 capture stored it: init-follow.ts; else a plan pass first)
 *   run  (run.ts, order.ts, native executor: a thread per lane)  plan as it goes, issue the syscalls on schedule
 *   report (tally.ts, report.ts)  how faithful it was
 * runReplay is the whole command; docs/replay.md has the semantics.
 */
import { IorError } from '../common/errors.js';
import { formatDurationNs } from '../common/duration.js';
import { formatBytes, formatCount } from '../common/format.js';
import { applyInit, storedInit, type InitResult } from './init.js';
import { relativeOf } from './interpret.js';
import { replayAddon } from './native.js';
import { planReplay, type Plan } from './plan.js';
import { buildReport, renderReport, type ReplayReport } from './report.js';
import { Runner } from './run.js';
import { OpsOut } from './ops-out.js';
import { createTarget, inspectTarget, markTarget, rememberedInit } from './target.js';
import { CONFINE_MODES, MAX_WORKERS, type ReplayOptions } from './options.js';

export { planReplay, type Plan } from './plan.js';
export { InitFollower } from './init-follow.js';
export { MAX_WORKERS, type ReplayOptions } from './options.js';
export { type ReplayReport } from './report.js';

/** "1x", "2x", "0.5x", "2", "max" -> factor, 0 for max. */
export function parseSpeed(text: string): number {
  if (text === 'max') return 0;
  const m = /^(\d+(?:\.\d+)?|\.\d+)x?$/.exec(text.trim());
  const v = m ? Number(m[1]) : NaN;
  if (!(v > 0) || !Number.isFinite(v) || v > 1e6) throw new IorError(`--speed ${JSON.stringify(text)} is not a speed: use 1x, 2x, 0.5x, 2 or max`);
  return v;
}

/**
 * Progress on a terminal only, never with --json. The line is a function,
 * called only when it is shown (at most every 200 ms): the replay's main
 * thread polls every 2 ms, and CPU it spends formatting lines nobody sees
 * is CPU the executor threads wait for.
 */
function progressLine(stderr: NodeJS.WritableStream, json: boolean): (line: (() => string) | null) => void {
  const tty = !json && Boolean((stderr as NodeJS.WriteStream).isTTY);
  let last = 0;
  return (line) => {
    if (!tty) return;
    if (line === null) {
      stderr.write('\r\x1b[K');
      return;
    }
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    stderr.write(`\r\x1b[K${line()}`);
  };
}

export function renderPlan(plan: Plan, target: string, root: string): string {
  const n = formatCount;
  let out = `plan for replaying ${plan.trace}${root ? ` (what it did under /${root})` : ''} into ${target}\n`;
  out += `  events ${n(plan.events)}: ${n(plan.replayed)} replayed (${n(plan.ops)} ops, ${n(plan.preOpened)} of them opens of fds open before the capture), ${n(plan.events - plan.replayed)} skipped\n`;
  out += `  ${n(plan.lanes)} traced threads, ${formatDurationNs(plan.spanNs)} at 1x; traced ${formatBytes(plan.traced.readBytes)} read, ${formatBytes(plan.traced.writtenBytes)} written\n`;
  out += `  init: ${n(plan.init.dirs.length)} directories, ${n(plan.init.files.length)} files (${formatBytes(plan.init.bytes)} to write at most), ${n(plan.init.symlinks.length)} symlinks, ${n(plan.init.absent.length)} paths that must not exist\n`;
  out += `\n  syscall                 replayed    skipped\n`;
  for (const [name, c] of Object.entries(plan.bySyscall).sort((a, b) => b[1].replayed + b[1].skipped - a[1].replayed - a[1].skipped)) {
    out += `  ${name.padEnd(20)} ${n(c.replayed).padStart(11)} ${n(c.skipped).padStart(10)}\n`;
  }
  if (Object.keys(plan.skipped).length) {
    out += `\n  skipped\n`;
    for (const [reason, count] of Object.entries(plan.skipped)) out += `  ${n(count ?? 0).padStart(10)}  ${reason}\n`;
  }
  const show = (label: string, list: string[]) => {
    if (list.length === 0) return;
    out += `\n  ${label}\n`;
    for (const p of list.slice(0, 50)) out += `    /${p}\n`;
    if (list.length > 50) out += `    ... and ${n(list.length - 50)} more\n`;
  };
  show('directories to create', plan.init.dirs);
  show('files to create (size)', plan.init.files.map((f) => `${f.rel} (${formatBytes(f.size)})`));
  show('symlinks to create', plan.init.symlinks);
  show('paths that must not exist', plan.init.absent);
  return out;
}

/** --root as the plan uses it: a traced absolute directory, normalized and relative ('' for /). */
export function parseRoot(text: string | undefined): string {
  if (text === undefined) return '';
  if (!text.startsWith('/') || text.includes('\0')) throw new IorError(`--root ${JSON.stringify(text)} is not an absolute path: give the traced directory the target stands for, such as /var/lib/postgresql`);
  return relativeOf(text);
}

/** The whole `ior replay`: returns the exit code. */
export async function runReplay(o: ReplayOptions): Promise<number> {
  const speed = parseSpeed(o.speed);
  const root = parseRoot(o.root);
  if (o.initOnly && o.noInit) throw new IorError('--init-only and --no-init exclude each other: pick one');
  if (o.opsOut !== undefined && (o.dryRun || o.initOnly)) throw new IorError(`--ops-out records the calls a replay issues: ${o.dryRun ? '--dry-run' : '--init-only'} issues none`);
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1 && o.workers <= MAX_WORKERS)) throw new IorError(`--workers ${o.workers} is not a thread count: use 1 to ${MAX_WORKERS}`);
  const target = inspectTarget(o.target, o.force);
  const progress = progressLine(o.stderr, o.json);
  // the initial state needs the whole trace read first, unless this target was prepared for this very
  // trace (the state is in its marker) or needs none (--no-init): then the first op goes out at once
  const remembered = o.dryRun || o.noInit ? null : rememberedInit(target, o.trace, root);
  // or the capture stored it in the trace
  const stored = o.dryRun || o.noInit || remembered ? null : await storedInit(o.trace, root, (line) => o.stderr.write(line));
  let plan: Plan | null = null;
  if (o.dryRun || (!o.noInit && !remembered && !stored)) {
    // (for the init alone, without the traced calls in flight: the run sweeps them itself)
    plan = await planReplay(o.trace, (done, total) => progress(() => `replay: planning, ${Math.round((100 * done) / Math.max(1, total))}% of ${formatCount(total)} events`), { inFlight: o.dryRun, root });
    progress(null);
  }
  if (o.dryRun) {
    o.stdout.write(o.json ? JSON.stringify({ target: target.dir, root: `/${root}`, ...plan!, firstTs: String(plan!.firstTs) }, null, 2) + '\n' : renderPlan(plan!, target.dir, root));
    return 0;
  }
  if (o.noInit && !target.exists) throw new IorError(`--no-init needs a prepared target, but ${o.target} does not exist: run with --init-only first`);
  // a thread per lane with ops due (one per traced thread alive at once), up to this many
  const maxThreads = o.workers ?? MAX_WORKERS;
  createTarget(target);
  const addon = replayAddon();
  const confine = CONFINE_MODES.indexOf(o.confine ?? 'auto');
  const setup = (symlinks: boolean) => {
    try {
      addon.setup(target.dir, speed, symlinks, confine, maxThreads);
    } catch (err) {
      if ((err as { code?: string }).code === 'ECHROOT') throw new IorError(`--confine chroot: ${(err as Error).message} (it needs root): use --confine openat2, or auto`);
      throw err;
    }
  };
  setup(false);
  let init: InitResult | null = null;
  const state = plan?.init ?? remembered ?? stored;
  if (state) {
    init = { ...applyInit(addon, state, (done, total, bytes) => progress(() => `replay: init ${done}/${total} paths, ${formatBytes(bytes)} written`)), stateFrom: plan ? 'plan pass' : remembered ? 'target marker' : 'trace' };
    progress(null);
    markTarget(target, o.trace, root, state);
  }
  if (o.initOnly) {
    addon.teardown();
    const summary = { target: target.dir, init };
    o.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : `init of ${target.dir}: ${init!.dirs} directories, ${init!.files} files (${formatBytes(init!.bytesWritten)} written), ${init!.symlinks} symlinks, ${init!.removed} paths cleared in ${init!.seconds.toFixed(2)} s\n`);
    return 0;
  }
  // symlinks already in the target (from init or an earlier run) turn off the fast path for calls that follow them
  const [symlinks] = addon.scan();
  setup(symlinks > 0);
  const opsOut = o.opsOut === undefined ? undefined : new OpsOut(o.opsOut, speed > 0 ? 1 / speed : 0);
  const runner = new Runner(addon, {
    trace: o.trace,
    speed,
    root,
    topFiles: plan?.topFiles,
    opsOut,
    onProgress: (done, planned, total, elapsed) => progress(() => `replay: ${formatCount(done)} ops, ${Math.floor((100 * planned) / Math.max(1, total))}% of the trace read, ${formatDurationNs(Math.max(0, elapsed))}`),
  });
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) process.exit(130);
    o.stderr.write('\nior: stopping the replay (Ctrl-C again to quit at once)\n');
    runner.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let outcome;
  try {
    outcome = await runner.run();
  } catch (err) {
    opsOut?.abort();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    progress(null);
    addon.teardown();
  }
  if (runner.failure) {
    opsOut?.abort();
    throw runner.failure;
  }
  const speedLabel = speed === 0 ? 'max' : `${speed}x`;
  const confinement = addon.confinement();
  const workers = addon.threads()[1];
  opsOut?.finish({ trace: outcome.plan.trace, target: target.dir, speed: speedLabel, confinement: confinement[0], workers, startWallMs: outcome.startWallMs, wallNs: outcome.wallNs, stopped: outcome.stopped });
  const report: ReplayReport = buildReport(outcome.plan, { target: target.dir, root }, speedLabel, outcome, init, {
    workers,
    helpers: addon.helpers(),
    cpuNs: addon.cpuNs(),
    asyncIssuedAs: addon.asyncIssuedAs(),
    asyncDepths: addon.asyncDepths(),
    confinement,
    inflight: addon.inflight(),
    scheduling: addon.scheduling(),
  });
  o.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : renderReport(report));
  if (outcome.stopped) return 130;
  if (root !== '' && report.events.replayed === 0) {
    // every path outside the root: a mistyped --root, most likely
    o.stderr.write(`ior: nothing the trace did was under --root /${root}: ${formatCount(report.events.total)} events skipped\n`);
    return 1;
  }
  // the target refused calls the traced system did not: a full disk, a read-only or failing file system,
  // permissions, limits (a state the init did not rebuild, such as ENOENT, is in the report, not the exit code)
  const regressions = report.failed.filter((f) => f.traced === 'success' && REFUSALS.has(f.errno));
  if (regressions.length > 0) {
    const count = regressions.reduce((n, f) => n + f.count, 0);
    const worst = regressions.sort((a, b) => b.count - a.count).slice(0, 3).map((f) => `${f.syscall} ${f.errno} x${f.count}`).join(', ');
    o.stderr.write(`ior: ${formatCount(count)} replayed calls failed where the trace succeeded (${worst}${regressions.length > 3 ? ', ...' : ''})\n`);
    return REPLAY_REGRESSED;
  }
  return 0;
}

/** Exit code of a replay that ran to its end but whose calls the target refused where the trace's succeeded. */
export const REPLAY_REGRESSED = 3;
const REFUSALS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EMFILE', 'ENFILE', 'ENOMEM']);
