import { Option } from 'clipanion';
import * as t from 'typanion';
import { BaseCommand } from '../base.js';

export class CaptureCommand extends BaseCommand {
  static override paths = [['capture']];
  static override usage = BaseCommand.Usage({
    description: 'record file-system syscalls with eBPF into a zstd Parquet trace',
    details: `
      Attaches to the kernel's syscall tracepoints and records every completed file-system syscall (open, read, write, fsync, rename, stat, ...) with its path, size, offset, result and latency.

      Without a command, the whole host is traced until \`-duration\` expires or Ctrl-C. With \`-- CMD ...\`, ior attaches first, then runs CMD (stdin/stdout/stderr untouched) and traces it and all its descendants until they have all exited, then exits with CMD's status.

      The trace is written as it goes under a temporary name and renamed to \`-o\` when the capture ends, with every loss counter in its footer. Needs root (CAP_BPF, CAP_PERFMON) and a kernel with BTF.
    `,
    examples: [
      ['Trace the whole host for 60 seconds', 'sudo ior capture -duration 60 -o trace.parquet'],
      ['Trace a build and its children', 'sudo ior capture -o build.parquet -- make -j2'],
      ['Trace two processes, only under /var/lib/db', 'sudo ior capture --pid 1234 --pid 5678 --path-prefix /var/lib/db -o db.parquet'],
      ['Only opens and fsyncs of postgres, JSON summary', 'sudo ior capture --comm postgres --syscalls openat,fsync,fdatasync -duration 30 -o pg.parquet --json'],
    ],
  });

  output = Option.String('-o,--output', 'trace.parquet', { description: 'trace file to write (default trace.parquet)' });
  duration = Option.String('--duration', { description: 'stop after this many seconds (also 500ms, 2m, 1h)' });
  pids = Option.Array('--pid', [], { description: 'trace only this process (repeatable); its children are followed', validator: t.isArray(t.cascade(t.isNumber(), t.isInteger())) as never });
  comm = Option.String('--comm', { description: 'trace only tasks with this name (as in /proc/PID/comm, 15 chars)' });
  pathPrefix = Option.Array('--path-prefix', [], { description: 'keep only events whose path starts with this prefix (repeatable)' });
  syscalls = Option.String('--syscalls', { description: 'comma-separated syscall names to record (default: all file-system syscalls)' });
  ringMb = Option.String('--ring-mb', '64', { description: 'BPF ring buffer size in MiB', validator: t.cascade(t.isNumber(), t.isInteger(), t.isInInclusiveRange(1, 1024)) });
  hooks = Option.String('--hooks', { description: 'kernel hooks: raw (the default: one sys_enter/sys_exit pair, cheapest per traced call, attaches and detaches at once) or tracepoints (a pair per traced syscall: costs the untraced syscalls of the host nothing, the traced ones more); docs/capture.md compares them', validator: t.isEnum(['raw', 'tracepoints'] as const) });
  json = Option.Boolean('--json', false, { description: 'no progress line; print a JSON summary on stdout at the end' });
  command = Option.Rest({ name: 'command' });

  async execute(): Promise<number> {
    const { runCapture } = await import('../../capture/index.js');
    const { InitFollower } = await import('../../replay/index.js');
    return runCapture({
      // the replay's initial state, worked out as the trace is written and stored in it
      follow: (tempPath) => new InitFollower(tempPath),
      output: this.output,
      duration: this.duration,
      pids: this.pids.map(Number),
      comm: this.comm,
      pathPrefixes: this.pathPrefix,
      syscalls: this.syscalls,
      ringMb: this.ringMb,
      hooks: this.hooks,
      json: this.json,
      command: this.command,
      argv: process.argv.slice(2),
      stdout: this.context.stdout,
      stderr: this.context.stderr,
    });
  }
}
