/**
 * runCapture: one capture from start to a complete trace file.
 * loader (kernel events) -> EventDecoder (fd/path resolution) -> TraceWriter
 * (zstd Parquet row groups), with the footer written last. Every way a
 * capture can end (duration, Ctrl-C/SIGTERM, the traced command exiting, the
 * loader dying) goes through `finish`, so the file is always complete.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IorError, errnoCode } from '../common/errors.js';
import { processRuns } from '../common/host.js';
import { parseDurationNs, formatDurationNs } from '../common/duration.js';
import { IOR_VERSION } from '../common/version.js';
import { eventsLost, FORMAT_NAME, SCHEMA_VERSION, type EndFrame, type Footer, type HelloFrame, type LossCounters } from '../schema/index.js';
import { leftoverTemps, TraceWriter, type FollowerFactory, type KeyValue, type TraceFollower } from '../trace/index.js';
import { EventDecoder } from './decode.js';
import { PathResolver } from './fd-table.js';
import { LoaderProcess } from './loader.js';
import { formatBytes, formatCount } from '../common/format.js';
import { ProgressLine } from './progress.js';

export interface CaptureOptions {
  output: string;
  duration?: string;
  pids: number[];
  comm?: string;
  pathPrefixes: string[];
  syscalls?: string;
  ringMb: number;
  /** kernel hooks: one raw sys_enter/sys_exit pair, or a tracepoint pair per syscall (docs/capture.md) */
  hooks?: 'raw' | 'tracepoints';
  json: boolean;
  command: string[];
  argv: string[];
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** reads the trace as it is written and adds metadata to its footer (the CLI's: the replay's initial state) */
  follow?: FollowerFactory;
}

export interface CaptureSummary {
  output: string;
  events: number;
  bytes: number;
  bytes_per_event: number;
  duration_s: number;
  stop_reason: Footer['stop_reason'];
  losses: LossCounters;
  events_lost: number;
  filtered_out: number;
  skipped_tracepoints: { name: string; reason: string }[];
  command_exit: Footer['command_exit'];
  /** the loader ended without END (killed, crashed): its exit; null when it ended well */
  loader_died: { code: number | null; signal: string | null } | null;
}

type StopReason = Footer['stop_reason'];

/** Map the loader's counters (names from native/frames.c counter_names) onto the footer's loss counters. */
export function lossesFrom(counters: Record<string, number>, unpairedEnters: number, unresolvedFds: number): LossCounters {
  const get = (name: string) => counters[name] ?? 0;
  return {
    ringbuf_drops: get('loss_ringbuf'),
    inflight_full: get('loss_inflight_full'),
    loader_queue_dropped: get('loader_queue_dropped'),
    unpaired_exits: get('unpaired_exit'),
    unpaired_enters: unpairedEnters,
    unresolved_fds: unresolvedFds,
    path_truncated: get('loss_path_truncated'),
    path_faults: get('loss_path_fault'),
    async_batch: get('loss_async_batch'),
  };
}

function checkOutput(output: string): string {
  const abs = path.resolve(output);
  const dir = path.dirname(abs);
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(abs);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw new IorError(`cannot use ${output} as output: ${errnoCode(err)}`);
  }
  if (st?.isDirectory()) throw new IorError(`-o ${output} is a directory: give a file name such as ${path.join(output, 'trace.parquet')}`);
  if (!fs.existsSync(dir)) throw new IorError(`the directory of -o ${output} does not exist: create ${dir} first`);
  return abs;
}

/**
 * What the follower stores beside the footer, once it has read the last
 * row groups (a progress line meanwhile). Nothing, and one line on stderr,
 * if it failed or a signal cut the wait short: the trace is complete
 * without it.
 */
async function followerMetadata(follower: TraceFollower | undefined, writer: TraceWriter, footer: Footer, stderr: NodeJS.WriteStream, json: boolean): Promise<KeyValue[]> {
  if (!follower) return [];
  writer.flushRowGroup();
  if (writer.full) {
    follower.stop();
    return [];
  }
  const total = writer.rows;
  const show = ProgressLine.enabledFor(stderr, json);
  let shownAt = 0;
  let signal: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    signal ??= s;
    follower.stop();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    return await follower.finish(writer.writtenRowGroups, footer, (rows) => {
      if (!show || performance.now() - shownAt < 200) return;
      shownAt = performance.now();
      stderr.write(`\r\x1b[K ior capture  the replay's initial state: ${Math.floor((100 * rows) / Math.max(1, total))}% of ${formatCount(total)} events (Ctrl-C: skip it)`);
    });
  } catch (err) {
    stderr.write(`${show ? '\r\x1b[K' : ''}ior: warning: the replay's initial state is not stored in the trace (${signal ? `skipped by ${signal}` : (err as Error).message}): a first replay of it reads it whole first\n`);
    return [];
  } finally {
    for (const s of signals) process.off(s, onSignal);
    if (show) stderr.write('\r\x1b[K');
  }
}

export async function runCapture(opts: CaptureOptions): Promise<number> {
  const output = checkOutput(opts.output);
  const durationNs = opts.duration !== undefined ? parseDurationNs(opts.duration, '-duration') : undefined;
  if (durationNs === 0n) throw new IorError('-duration must be more than 0');
  const syscalls = opts.syscalls?.split(',').map((s) => s.trim()).filter(Boolean);
  if (opts.comm !== undefined && (opts.comm.length === 0 || Buffer.byteLength(opts.comm) > 15)) {
    throw new IorError(`--comm ${JSON.stringify(opts.comm)}: a task name is 1 to 15 bytes (as in /proc/PID/comm)`);
  }
  const stderr = opts.stderr as NodeJS.WriteStream;
  for (const left of leftoverTemps(output)) stderr.write(`ior: warning: ${left} is left from a capture to ${path.basename(output)} that died: \`ior recover ${left}\` rebuilds its trace\n`);
  const writer = TraceWriter.create(output);
  const resolver = new PathResolver();
  const startWall = new Date();
  let hello: HelloFrame | undefined;
  let decoder: EventDecoder | undefined;
  let end: EndFrame | undefined;
  let liveCounters: Record<string, number> = {};
  let failure: unknown;
  let stopReason: StopReason | undefined;
  const loaderErrors: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let follower: TraceFollower | undefined;

  /** The footer's loss counters: the loader's, the decoder's and the writer's */
  const lossesOf = (decoder: EventDecoder, counters: Record<string, number>, unpairedEnters: number): LossCounters => ({
    ...lossesFrom(counters, unpairedEnters, resolver.unresolved),
    async_unreaped: decoder.async.unreaped,
    async_unmatched: decoder.async.unmatched,
    disk_full_dropped: writer.droppedRows,
  });

  /** The footer as of `endWall` (the final one, or a checkpoint's: trace/writer.ts) */
  const footerOf = (hello: HelloFrame, decoder: EventDecoder, losses: LossCounters, reason: StopReason, commandExit: Footer['command_exit'], loaderDied: Footer['loader_died'], endWall: Date): Footer => ({
    format: FORMAT_NAME,
    schema_version: SCHEMA_VERSION,
    ior_version: IOR_VERSION,
    host: { hostname: os.hostname(), kernel_release: os.release(), arch: os.arch(), cpus: os.cpus().length },
    boot_to_wall_ns: BigInt(hello.boot_to_wall_ns).toString(),
    start_ts_ns: (BigInt(startWall.getTime()) * 1_000_000n - BigInt(hello.boot_to_wall_ns)).toString(),
    end_ts_ns: (BigInt(endWall.getTime()) * 1_000_000n - BigInt(hello.boot_to_wall_ns)).toString(),
    start_wall: startWall.toISOString(),
    end_wall: endWall.toISOString(),
    capture: {
      argv: ['ior', ...opts.argv],
      command: opts.command.length > 0 ? opts.command : null,
      filters: { pids: opts.pids, comm: opts.comm ?? null, path_prefix: opts.pathPrefixes, syscalls: syscalls ?? null, follow: opts.pids.length > 0 || opts.command.length > 0 },
      loader_version: hello.loader_version,
      libbpf_version: hello.libbpf_version,
      ring_bytes: hello.ring_bytes,
      attached: hello.attached,
      skipped: hello.skipped,
      hooks: hello.hooks,
      build: hello.build,
      load_ms: hello.load_ms,
      attach_ms: hello.attach_ms,
      io_uring_tracepoint: hello.io_uring_tracepoint,
    },
    events: Number(decoder.events) - writer.droppedRows,
    filtered_out: decoder.counters.filteredOut,
    losses,
    stop_reason: reason,
    command_exit: commandExit,
    loader_died: loaderDied,
  });

  const loader = new LoaderProcess(
    { ringMb: opts.ringMb, pids: opts.pids, comm: opts.comm, syscalls, command: opts.command, hooks: opts.hooks },
    {
      hello(frame) {
        hello = frame;
        // attached: name the fds of processes already running; a command started by the loader
        // starts with the cwd and fds the loader read just before forking it
        if (frame.child_pid && frame.command_files) resolver.seed(frame.child_pid, frame.command_files.cwd, frame.command_files.fds);
        else resolver.snapshot(opts.pids.length > 0 ? opts.pids : null, [process.pid, frame.loader_pid]);
        decoder = new EventDecoder(frame, resolver, opts.pathPrefixes, (batch) => writer.append(batch));
        follower = opts.follow?.(writer.tempPath);
        if (!opts.json) {
          const target = opts.command.length > 0 ? opts.command.join(' ') : opts.pids.length > 0 ? `pid ${opts.pids.join(', ')} and children` : 'the whole host';
          stderr.write(`ior: capturing ${frame.attached.length} syscalls of ${target} into ${output}${opts.command.length > 0 ? '' : '; Ctrl-C to stop'}\n`);
        }
        progress?.start();
        // -duration counts from attach: the capture covers that long
        if (durationNs !== undefined) {
          timer = setTimeout(() => {
            stopReason ??= 'duration';
            loader.stop();
          }, Number(durationNs / 1_000_000n));
        }
      },
      events(payload) {
        if (!decoder) throw new IorError('the loader sent events before its HELLO frame: rebuild loader and ior from one tree', 2);
        decoder.decode(payload);
        // the trace's file system is full: what was written stays a trace; with a command, its end is
        // still waited for (and recorded), the events meanwhile counted, not written
        if (writer.full && opts.command.length === 0 && stopReason === undefined) {
          stopReason = 'disk-full';
          loader.stop();
        }
      },
      stats(frame) {
        liveCounters = frame.counters;
        // every second: what was decoded becomes a row group the journal names (a crash of ior loses at most this second)
        if (hello && decoder) {
          decoder.flush();
          const footer = footerOf(hello, decoder, lossesOf(decoder, liveCounters, 0), 'recovered', null, null, new Date());
          writer.checkpoint(footer);
          if (!writer.full) follower?.grew(writer.writtenRowGroups, footer);
        }
      },
      log(frame) {
        if (frame.level === 'error') loaderErrors.push(frame.message);
        else if (frame.level === 'warn' || !opts.json) stderr.write(`ior: ${frame.level === 'warn' ? 'warning: ' : ''}${frame.message}\n`);
      },
      end(frame) {
        end = frame;
      },
    },
  );

  const progress = ProgressLine.enabledFor(stderr, opts.json)
    ? new ProgressLine(stderr, () => ({ events: Number(decoder?.events ?? 0n), lost: lostOf(liveCounters), bytes: writer.bytesWritten }), durationNs === undefined ? undefined : Number(durationNs))
    : undefined;

  // With a command, the first signal is the command's, as a shell's foreground job gets it: Ctrl-C
  // reached it from the terminal already, SIGTERM and SIGHUP are forwarded; its exit ends the capture
  // and is recorded. A second signal (or any signal without a command) stops the capture now.
  let interrupts = 0;
  let endSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (opts.command.length > 0 && interrupts === 1 && hello?.child_pid) {
      if (signal !== 'SIGINT') {
        try {
          process.kill(hello.child_pid, signal);
        } catch {
          // it has exited already: its END is on the way
        }
      }
      return;
    }
    endSignal ??= signal;
    stopReason ??= 'signal';
    loader.stop();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);

  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    exit = await loader.done;
  } catch (err) {
    failure = err;
    loader.stop();
  } finally {
    if (timer) clearTimeout(timer);
    for (const s of signals) process.off(s, onSignal);
    progress?.stop();
  }

  if (!hello || !decoder || writer.full || failure) follower?.stop();
  if (!hello || !decoder) {
    writer.abort();
    if (failure) throw failure;
    const message = loaderErrors[0] ?? loader.lastStderr.trim().split('\n').pop()?.replace(/^ior-loader: /, '') ?? `the loader exited with ${exit?.code ?? exit?.signal}`;
    throw new IorError(message, 2);
  }
  if (failure && !(failure instanceof IorError)) {
    writer.abort();
    throw failure;
  }

  decoder.finish();
  const endWall = new Date();
  const reason: StopReason = failure ? 'error' : writer.full ? 'disk-full' : end?.reason === 'child-exited' ? 'command-exited' : (stopReason ?? (end ? 'signal' : 'loader-exited'));
  const counters = end?.counters ?? liveCounters;
  const losses = lossesOf(decoder, counters, end?.unpaired_enters ?? 0);
  const child = end?.child ?? null;
  // no END frame: the loader was killed or crashed, and the events it held went with it
  const loaderDied = end === undefined && !failure ? { code: exit?.code ?? null, signal: exit?.signal ?? null } : null;
  const footer = footerOf(hello, decoder, losses, reason, child ? { code: child.code, signal: child.signal === null ? null : signalName(child.signal) } : null, loaderDied, endWall);
  const extra = writer.full || failure ? [] : await followerMetadata(follower, writer, footer, stderr, opts.json);
  try {
    writer.finish(footer, extra);
  } catch (err) {
    const code = errnoCode(err);
    // the row groups and the journal stay: once there is room, ior recover makes them a trace
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new IorError(`disk full (${code}) while writing the footer of ${output}: free space in ${path.dirname(output)}, then \`ior recover ${writer.tempPath}\``, 2);
    writer.abort();
    throw new IorError(`cannot write ${output}: ${code ?? (err as Error).message}`);
  }
  const bytes = fs.statSync(output).size;
  const summary: CaptureSummary = {
    output,
    events: footer.events,
    bytes,
    bytes_per_event: footer.events ? bytes / footer.events : 0,
    duration_s: (endWall.getTime() - startWall.getTime()) / 1000,
    stop_reason: reason,
    losses,
    events_lost: eventsLost(losses),
    filtered_out: footer.filtered_out,
    skipped_tracepoints: hello.skipped,
    command_exit: footer.command_exit,
    loader_died: loaderDied,
  };
  if (opts.json) {
    // a reader that closed the pipe early (| head) does not turn a complete capture into a crash
    (opts.stdout as NodeJS.WriteStream).on?.('error', () => {});
    opts.stdout.write(`${JSON.stringify(summary)}\n`);
  }
  else stderr.write(humanSummary(summary));
  if (failure) throw failure;
  if (loaderErrors.length > 0) throw new IorError(`${loaderErrors[0]} (the trace up to that point is in ${output})`, 2);
  if (writer.full) {
    throw new IorError(`disk full (${writer.full}) writing ${output}: the trace holds the first ${formatCount(footer.events)} events, the ${formatCount(writer.droppedRows)} after them were not recorded${child ? ` (the command ran to its end: ${child.signal ? `killed by ${signalName(child.signal)}` : `exit ${child.code}`})` : ''}; free space in ${path.dirname(output)}`, 2);
  }
  const running = opts.command.length > 0 && hello.child_pid && (!child || (child.code === null && child.signal === null)) ? hello.child_pid : null;
  if (loaderDied) {
    const how = loaderDied.signal ? `killed by ${loaderDied.signal}` : `exit ${loaderDied.code}`;
    throw new IorError(`the loader died (${how}): the events it held are lost, their number unknown; the trace up to then is in ${output}${running ? `; the command (pid ${running}) runs on, untraced` : ''}`, 2);
  }
  if (running && processRuns(running)) stderr.write(`ior: the command (pid ${running}) still runs, untraced\n`);
  return exitStatusOf(child, reason, endSignal, opts.command.length > 0);
}

/** SIGTERM for 15 (the loader reports numbers); a name as it is */
function signalName(signal: string | number): string {
  if (typeof signal !== 'number') return signal;
  return Object.entries(os.constants.signals).find(([, n]) => n === signal)?.[0] ?? String(signal);
}


function lostOf(counters: Record<string, number>): number {
  return eventsLost(lossesFrom(counters, 0, 0));
}

/**
 * ior exits as the traced command did: its code, or 128 + signal number.
 * A capture a signal stopped exits 128 + that signal (130 Ctrl-C, 143
 * SIGTERM, 129 SIGHUP), as an interrupted command would; except Ctrl-C of
 * a capture with no command (--pid, the whole host): that is how such a
 * capture is meant to end, 0.
 */
function exitStatusOf(child: EndFrame['child'], reason: StopReason, endSignal: NodeJS.Signals | undefined, withCommand: boolean): number {
  const signalNumber = (signal: string | number) => (typeof signal === 'number' ? signal : (os.constants.signals[signal as NodeJS.Signals] ?? 0));
  if (child && child.code !== null) return child.code;
  if (child && child.signal !== null) return 128 + signalNumber(child.signal);
  if (reason !== 'signal' || endSignal === undefined) return 0;
  if (endSignal === 'SIGINT' && !withCommand) return 0;
  return 128 + signalNumber(endSignal);
}

function humanSummary(s: CaptureSummary): string {
  const lossParts = Object.entries(s.losses).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${formatCount(v)}`);
  return (
    `ior: wrote ${s.output}: ${formatCount(s.events)} events in ${formatDurationNs(s.duration_s * 1e9)}, ` +
    `${formatBytes(s.bytes)} (${s.bytes_per_event.toFixed(1)} B/event), stopped by ${s.stop_reason}\n` +
    `ior: ${s.events_lost > 0 ? `LOST ${formatCount(s.events_lost)} events; ` : 'no events lost; '}${lossParts.length ? lossParts.join(', ') : 'all loss counters 0'}` +
    `${s.filtered_out ? `; ${formatCount(s.filtered_out)} events outside --path-prefix left out` : ''}\n`
  );
}
