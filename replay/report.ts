/**
 * The replay report: one document (printed as a table, or as JSON with
 * --json) saying how faithful the replay was.
 */
import { formatDurationNs } from '../common/duration.js';
import { formatBytes, formatCount } from '../common/format.js';
import { ISSUED_AS, ISSUED_AS_CHROOT } from './interpret.js';
import { asyncOpNamed } from '../schema/index.js';
import { HELPER_NAMES } from './native.js';
import type { InitResult } from './init.js';
import type { Plan } from './plan.js';
import type { InFlight } from './concurrency.js';
import type { LogHistogram } from '../stats/index.js';
import type { RunOutcome } from './run.js';

export interface ReplayReport {
  trace: string;
  target: string;
  /** --root: the traced directory the target stood for (/ : the whole trace) */
  root: string;
  speed: string;
  /** executor threads alive at once, at most (one per lane with calls due) */
  workers: number;
  lanes: number;
  /** how paths were kept inside the target: 'chroot' (each executor thread), or 'openat2 (why not chroot)'; threads that could not chroot walked */
  confinement: { mode: string; threads_walking: number };
  /**
   * what the executor threads asked of the scheduler: nice -10 (needs
   * CAP_SYS_NICE) and, paced, a 100 us slice (Linux 6.12+; null at --speed
   * max); the threads the kernel refused or ignored it for
   */
  scheduling: { nice: number; threads_not_reniced: number; slice_us: number | null; threads_without_slice: number };
  outcome: 'completed' | 'stopped';
  events: { total: number; replayed: number; skipped: number; failed: number; matched_failures: number; short_transfers: number };
  skipped: Record<string, number>;
  failed: { syscall: string; errno: string; traced: string; count: number }[];
  /** calls ior issued that are not traced events */
  added: { ops: number; failed: number; pre_capture_opens: number; helper_syscalls: Record<string, number> };
  duration: { intended_s: number; achieved_s: number; wall_s: number };
  /** CPU time of the threads issuing the calls while they ran ops (not while sleeping until due) */
  executor_cpu_s: number;
  /** from ior's start to the replay clock's start (the plan pass and init, the first ops planned): when the first call could go */
  startup_s: number;
  /** the ior process's peak resident memory (MiB) */
  peak_rss_mib: number;
  /**
   * issue time minus due time, every call; `free`: the calls free to start when due (not held by
   * their thread's previous call, still running in the replay: the target's doing), the executor's
   * own lag; `held`: how many were held
   */
  lag_ms: { p50: number; p99: number; max: number; free: { p50: number; p99: number; max: number } | null; held: number } | null;
  /** per traced syscall: events replayed and skipped, and the calls `ops` issued for the replayed ones (several for close_range, process_fork, ...) */
  syscalls: { syscall: string; issued_as: string; replayed: number; ops: number; skipped: number; failed: number; matched_failures: number; traced_p50_us: number | null; traced_p99_us: number | null; replayed_p50_us: number | null; replayed_p99_us: number | null }[];
  bytes: { read: { traced: number; replayed: number }; written: { traced: number; replayed: number } };
  /**
   * calls in flight at once, time-weighted over the span of the calls (traced: the replayed ones only);
   * `files`: the same on each of the files with the most traced time in calls (path under the target)
   */
  concurrency: { traced: InFlight; replayed: InFlight; on_schedule: InFlight | null; files: { path: string; traced: InFlight; replayed: InFlight }[] };
  /** async operations (libaio, io_uring): how they were issued, and the queue depth each was submitted at, mean over them */
  async: { issued_as: string | null; ops: number; traced_mean_depth: number; replayed_mean_depth: number | null } | null;
  init: InitResult | null;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const rounded = (f: InFlight): InFlight => ({ mean: round2(f.mean), p99: f.p99, max: f.max });
const us = (ns: number | null) => (ns === null ? null : Math.round(ns / 10) / 100);
const ms = (ns: number | null) => Math.round((ns ?? 0) / 1e3) / 1e3;
/** p50, p99 and max of a lag histogram, ms; null if it is empty */
const lagOf = (h: LogHistogram) => (h.count === 0 ? null : { p50: ms(h.quantile(0.5)), p99: ms(h.quantile(0.99)), max: ms(h.max) });

/** What the native executor says of its run (replay/native.ts). */
export interface ExecutorReadings {
  /** executor threads alive at once, at most */
  workers: number;
  helpers: number[];
  cpuNs: number;
  /** how async operations were issued ('io_uring', or 'synchronous (io_uring unavailable: ...)'), null if none were */
  asyncIssuedAs: string | null;
  asyncDepths: [ops: number, depthSum: number];
  confinement: [mode: string, threadsWalking: number];
  inflight: [mean: number, p99: number, max: number];
  scheduling: [nice: number, sliceNs: number, threads: number, notReniced: number, noSlice: number];
}

export function buildReport(plan: Plan, where: { target: string; root: string }, speedLabel: string, outcome: RunOutcome, init: InitResult | null, exec: ExecutorReadings): ReplayReport {
  const { workers, helpers, cpuNs, asyncIssuedAs, asyncDepths, confinement, inflight, scheduling } = exec;
  const t = outcome.tally;
  const chroot = confinement[0] === 'chroot';
  const issuedAs = (name: string) => (asyncIssuedAs !== null && asyncIssuedAs !== 'io_uring' && asyncOpNamed(name) ? asyncIssuedAs : ((chroot ? ISSUED_AS_CHROOT[name] : undefined) ?? ISSUED_AS[name] ?? name));
  const syscalls = Object.entries(plan.bySyscall)
    .map(([name, counts]) => {
      const s = t.bySyscall.get(name);
      return {
        syscall: name,
        issued_as: counts.replayed > 0 ? issuedAs(name) : 'skipped',
        replayed: s?.replayed ?? 0,
        ops: s?.ops ?? 0,
        skipped: counts.skipped,
        failed: s?.failed ?? 0,
        matched_failures: s?.matchedFailures ?? 0,
        traced_p50_us: us(s?.traced.quantile(0.5) ?? null),
        traced_p99_us: us(s?.traced.quantile(0.99) ?? null),
        replayed_p50_us: us(s?.replay.quantile(0.5) ?? null),
        replayed_p99_us: us(s?.replay.quantile(0.99) ?? null),
      };
    })
    .sort((a, b) => b.replayed + b.skipped - (a.replayed + a.skipped) || (a.syscall < b.syscall ? -1 : 1));
  const skippedTotal = Object.values(plan.skipped).reduce((a, b) => a + (b ?? 0), 0);
  return {
    trace: plan.trace,
    target: where.target,
    root: `/${where.root}`,
    speed: speedLabel,
    workers,
    lanes: plan.lanes,
    confinement: { mode: confinement[0], threads_walking: confinement[1] },
    scheduling: {
      nice: scheduling[0],
      threads_not_reniced: scheduling[3],
      slice_us: scheduling[1] === 0 ? null : scheduling[1] / 1e3,
      threads_without_slice: scheduling[4],
    },
    outcome: outcome.stopped ? 'stopped' : 'completed',
    events: { total: plan.events, replayed: t.replayed, skipped: skippedTotal, failed: t.failed, matched_failures: t.matchedFailures, short_transfers: t.shortTransfers },
    skipped: Object.fromEntries(Object.entries(plan.skipped).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))) as Record<string, number>,
    failed: [...t.failures].map(([key, count]) => {
      const [syscall, errno, traced] = key.split('\t') as [string, string, string];
      return { syscall, errno, traced, count };
    }).sort((a, b) => b.count - a.count),
    added: {
      ops: t.addedOps,
      failed: t.addedFailures,
      pre_capture_opens: plan.preOpened,
      helper_syscalls: Object.fromEntries(HELPER_NAMES.map((n, i) => [n, helpers[i] ?? 0])),
    },
    duration: { intended_s: t.lastDueNs / 1e9, achieved_s: t.lastIssueNs / 1e9, wall_s: outcome.wallNs / 1e9 },
    executor_cpu_s: cpuNs / 1e9,
    startup_s: Math.round(outcome.startWallMs - performance.timeOrigin) / 1e3,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    lag_ms: t.lag.count === 0 ? null : { ...lagOf(t.lag)!, free: lagOf(t.freeLag), held: t.held },
    syscalls,
    concurrency: {
      traced: { mean: round2(plan.tracedInFlight.mean), p99: plan.tracedInFlight.p99, max: plan.tracedInFlight.max },
      replayed: { mean: round2(inflight[0]), p99: inflight[1], max: inflight[2] },
      on_schedule: t.onSchedule ? rounded(t.onSchedule.result()) : null,
      files: plan.topFiles.map((rel, i) => ({ path: rel, traced: rounded(t.files[i]!.traced.result()), replayed: rounded(t.files[i]!.replayed.result()) })),
    },
    bytes: { read: { traced: t.bytes.tracedRead, replayed: t.bytes.replayRead }, written: { traced: t.bytes.tracedWritten, replayed: t.bytes.replayWritten } },
    async: plan.async.ops === 0 ? null : {
      issued_as: asyncIssuedAs,
      ops: plan.async.ops,
      traced_mean_depth: Math.round((plan.async.depthSum / plan.async.ops) * 100) / 100,
      replayed_mean_depth: asyncDepths[0] === 0 ? null : Math.round((asyncDepths[1] / asyncDepths[0]) * 100) / 100,
    },
    init,
  };
}

function table(rows: string[][], right: Set<number>): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (right.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}

const n = formatCount;
const lat = (x: number | null) => (x === null ? '-' : formatDurationNs(x * 1000));

export function renderReport(r: ReplayReport): string {
  let out = `replay of ${r.trace}${r.root === '/' ? '' : ` (what it did under ${r.root})`}\n  into ${r.target} at ${r.speed}: ${r.lanes} traced threads, ${r.workers} executor threads at most at once, ${r.outcome}\n\n`;
  out += `confined    ${r.confinement.mode}${r.confinement.threads_walking ? ` (${n(r.confinement.threads_walking)} executor threads could not chroot and walked)` : ''}\n`;
  const sc = r.scheduling;
  out += `scheduled   nice ${sc.nice}${sc.threads_not_reniced ? ` (not allowed for ${n(sc.threads_not_reniced)} threads: CAP_SYS_NICE)` : ''}${sc.slice_us === null ? '' : sc.threads_without_slice ? `, default slice (the kernel ignored ${sc.slice_us} µs for ${n(sc.threads_without_slice)} threads: Linux < 6.12)` : `, ${sc.slice_us} µs slice`}\n`;
  out += `events      ${n(r.events.total)} traced, ${n(r.events.replayed)} replayed, ${n(r.events.skipped)} skipped, ${n(r.events.failed)} failed`;
  out += ` (${n(r.events.matched_failures)} failed as traced${r.events.short_transfers ? `, ${n(r.events.short_transfers)} moved other byte counts` : ''})\n`;
  out += `duration    ${formatDurationNs(r.duration.achieved_s * 1e9)} achieved, ${formatDurationNs(r.duration.intended_s * 1e9)} intended (last op issued vs due), ${formatDurationNs(r.duration.wall_s * 1e9)} wall, ${formatDurationNs(r.executor_cpu_s * 1e9)} executor CPU\n`;
  out += `start       ${formatDurationNs(r.startup_s * 1e9)} from ior's start to the first call's time, ${n(r.peak_rss_mib)} MiB peak memory\n`;
  if (r.init) out += `init        ${n(r.init.dirs)} directories, ${n(r.init.files)} files (${formatBytes(r.init.bytesWritten)} written), ${n(r.init.symlinks)} symlinks, ${n(r.init.removed)} paths cleared in ${r.init.seconds.toFixed(2)} s, the state from ${r.init.stateFrom === 'target marker' ? "the target's marker (prepared for this trace: no plan pass)" : r.init.stateFrom === 'trace' ? 'the trace (its capture stored it: no plan pass)' : 'a plan pass'}\n`;
  out += r.lag_ms ? `lag         p50 ${r.lag_ms.p50} ms, p99 ${r.lag_ms.p99} ms, max ${r.lag_ms.max} ms (issue time after due time)\n` : `lag         - (${r.speed === 'max' ? '--speed max: no schedule' : 'nothing replayed'})\n`;
  if (r.lag_ms?.held) out += `            ${n(r.lag_ms.held)} calls held by their thread's previous call (slower than traced); the others: p99 ${r.lag_ms.free?.p99 ?? '-'} ms, max ${r.lag_ms.free?.max ?? '-'} ms\n`;
  out += `read        ${formatBytes(r.bytes.read.replayed)} replayed, ${formatBytes(r.bytes.read.traced)} traced\n`;
  out += `written     ${formatBytes(r.bytes.written.replayed)} replayed, ${formatBytes(r.bytes.written.traced)} traced\n`;
  out += `in flight   mean ${r.concurrency.replayed.mean} / p99 ${r.concurrency.replayed.p99} / max ${r.concurrency.replayed.max} calls replayed, ${r.concurrency.traced.mean} / ${r.concurrency.traced.p99} / ${r.concurrency.traced.max} traced (time-weighted)\n`;
  const level = (f: InFlight) => `${f.mean} / ${f.p99} / ${f.max}`;
  if (r.concurrency.on_schedule) out += `            ${level(r.concurrency.on_schedule)} had every replayed call started when due (the replayed latencies; the difference from the replayed level is the lag's)\n`;
  for (const f of r.concurrency.files.slice(0, 3)) out += `            ${level(f.replayed)} replayed, ${level(f.traced)} traced on ${f.path}\n`;
  if (r.async) out += `async       ${n(r.async.ops)} operations issued as ${r.async.issued_as ?? '-'}, mean depth ${r.async.replayed_mean_depth ?? '-'} replayed, ${r.async.traced_mean_depth} traced\n`;
  const helpers = Object.entries(r.added.helper_syscalls).filter(([, v]) => v > 0);
  out += `added       ${n(r.added.pre_capture_opens)} opens of fds open before the capture${helpers.length ? ', ' + helpers.map(([k, v]) => `${n(v)} ${k}`).join(', ') : ''}\n`;
  if (Object.keys(r.skipped).length) {
    out += `\nskipped\n`;
    for (const [reason, count] of Object.entries(r.skipped)) out += `  ${n(count).padStart(10)}  ${reason}\n`;
  }
  if (r.failed.length) {
    out += `\nfailed (replay result vs traced result)\n`;
    for (const f of r.failed.slice(0, 20)) out += `  ${n(f.count).padStart(10)}  ${f.syscall} ${f.errno} (traced: ${f.traced})\n`;
  }
  out += '\n';
  const rows = [['syscall', 'replayed', 'skipped', 'failed', 'traced p50', 'p99', 'replayed p50', 'p99', 'issued as']];
  for (const s of r.syscalls) rows.push([s.syscall, n(s.replayed) + (s.ops !== s.replayed ? ` (${n(s.ops)} calls)` : ''), n(s.skipped), n(s.failed), lat(s.traced_p50_us), lat(s.traced_p99_us), lat(s.replayed_p50_us), lat(s.replayed_p99_us), s.issued_as]);
  out += table(rows, new Set([1, 2, 3, 4, 5, 6, 7]));
  return out;
}
