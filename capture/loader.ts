/**
 * LoaderProcess: runs the static BPF loader (native/loader.c) and turns its
 * fd-3 stream into typed frames. The loader needs the privileges; this side
 * only reads a pipe.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable, type Readable } from 'node:stream';
import { z } from 'zod';
import { loaderPath } from '../common/assets.js';
import { IorError } from '../common/errors.js';
import { EndFrameSchema, HelloFrameSchema, LogFrameSchema, StatsFrameSchema, type EndFrame, type HelloFrame, type LogFrame, type StatsFrame } from '../schema/index.js';
import { FrameReader, FrameType } from './wire.js';

export interface LoaderOptions {
  ringMb: number;
  pids: readonly number[];
  comm?: string;
  syscalls?: readonly string[];
  hooks?: 'raw' | 'tracepoints';
  /** with a command, the loader starts it once attached and follows its tree */
  command: readonly string[];
}

export interface LoaderHandlers {
  hello(frame: HelloFrame): void;
  events(payload: Buffer): void;
  stats(frame: StatsFrame): void;
  log(frame: LogFrame): void;
  end(frame: EndFrame): void;
}

export function loaderArgs(opts: LoaderOptions): string[] {
  const args = ['--ring-mb', String(opts.ringMb), '--exclude-pid', String(process.pid)];
  for (const pid of opts.pids) args.push('--pid', String(pid));
  if (opts.pids.length > 0 || opts.command.length > 0) args.push('--follow');
  if (opts.comm !== undefined) args.push('--comm', opts.comm);
  if (opts.syscalls !== undefined) args.push('--syscalls', opts.syscalls.join(','));
  if (opts.hooks !== undefined) args.push('--hooks', opts.hooks);
  // the command's stderr is ours (fd 4 of the loader); the loader's own stderr is a pipe to us;
  // the command starts when HELLO has been handled (a byte on fd 5): ior's "capturing" line comes first
  if (opts.command.length > 0) args.push('--cmd-stderr-fd', '4', '--start-fd', '5', '--', ...opts.command);
  return args;
}

export class LoaderProcess {
  readonly child: ChildProcess;
  private readonly frames = new FrameReader();
  /**
   * Resolves once the stream is fully read: after an END frame at once (the
   * loader may still be releasing perf events, which needs nobody: it is
   * left to finish on its own), else with the loader's exit status.
   */
  readonly done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** resolves when the loader process has exited */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private sawEnd = false;

  constructor(opts: LoaderOptions, handlers: LoaderHandlers) {
    // the command (if any) inherits stdin/stdout/stderr untouched (stderr through fd 4); events come on fd 3
    const command = opts.command.length > 0;
    this.child = spawn(loaderPath(), loaderArgs(opts), {
      stdio: command ? ['inherit', 'inherit', 'pipe', 'pipe', 2, 'pipe'] : ['ignore', 'inherit', 'pipe', 'pipe'],
    });
    const stream = this.child.stdio[3] as Readable;
    const streamEnded = new Promise<void>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => {
        try {
          for (const frame of this.frames.push(chunk)) {
            if (frame.type === FrameType.END) this.sawEnd = true;
            dispatch(frame.type, frame.payload, handlers);
            if (frame.type === FrameType.HELLO) this.startCommand();
          }
        } catch (err) {
          this.child.kill('SIGTERM');
          reject(err);
        }
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    // the loader's own stderr duplicates its LOG frames; keep it for when it dies before speaking
    let stderr = '';
    this.child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const failed = new Promise<never>((_, reject) => this.child.on('error', (err) => reject(new IorError(`cannot start the BPF loader: ${err.message}`, 2))));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    const read = streamEnded.then(async () => {
      if (this.sawEnd) {
        this.child.unref();
        this.child.stderr!.destroy();
        return { code: 0, signal: null };
      }
      const exit = await this.exited;
      await new Promise((resolve) => setImmediate(resolve)); // the last stderr bytes
      this.lastStderr = stderr;
      return exit;
    });
    this.done = Promise.race([failed, read]);
  }

  /**
   * HELLO has been handled (ior said it is capturing): let the loader start
   * the command (one byte on its --start-fd). A loader already gone is
   * reported by `done`, not here.
   */
  private startCommand(): void {
    const start = this.child.stdio.at(5);
    if (!(start instanceof Writable)) return;
    start.on('error', () => {});
    start.end('s');
  }

  /** The loader's stderr tail (for errors it printed before any frame). */
  lastStderr = '';

  /** Ask the loader to stop: final drain, END frame, exit. */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }
}

function parseJson<T>(schema: z.ZodType<T>, payload: Buffer, what: string): T {
  const parsed = schema.safeParse(JSON.parse(payload.toString('utf8')));
  if (!parsed.success) throw new IorError(`the loader sent a malformed ${what} frame (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}): rebuild loader and ior from one tree`, 2);
  return parsed.data;
}

function dispatch(type: number, payload: Buffer, h: LoaderHandlers): void {
  switch (type) {
    case FrameType.EVENTS:
      return h.events(payload);
    case FrameType.HELLO:
      return h.hello(parseJson(HelloFrameSchema, payload, 'HELLO'));
    case FrameType.STATS:
      return h.stats(parseJson(StatsFrameSchema, payload, 'STATS'));
    case FrameType.LOG:
      return h.log(parseJson(LogFrameSchema, payload, 'LOG'));
    case FrameType.END:
      return h.end(parseJson(EndFrameSchema, payload, 'END'));
    default:
      throw new IorError(`the loader sent an unknown frame type ${type}: rebuild loader and ior from one tree`, 2);
  }
}
