import { Option } from 'clipanion';
import * as t from 'typanion';
import { BaseCommand } from '../base.js';
import { MAX_WORKERS } from '../../replay/options.js';

export class ReplayCommand extends BaseCommand {
  static override paths = [['replay']];
  static override usage = BaseCommand.Usage({
    description: 'replay a trace as real file-system load under a target directory',
    details: `
      Re-issues the file-system syscalls of a trace (opens, reads, writes, fsyncs, renames, stats, ...) on regular files and directories, every traced path mapped under \`--target\`, with each traced thread's order and the traced pace: event i is due at start + (ts_i - ts_0) / speed. Async reads, writes and syncs (libaio, io_uring) are issued asynchronously through io_uring with each ring's traced depth, O_DIRECT and RWF_* flags as traced. Sockets, pipes, devices, /proc, /sys and /dev, memory mappings and other async operations are skipped and counted by reason.

      Before the clock starts, init creates the files and directories the trace expects (with at least the sizes it reads, incompressible content) and removes what the trace creates. Nothing outside the target is ever created, read, written or removed: the kernel confines every path, whatever \`..\` or symlinks the trace holds: each thread issuing the calls is chrooted into the target (as root; each traced call is then issued as itself, no syscall of ior's own), else every path goes through openat2 RESOLVE_IN_ROOT (\`--confine\`). The target must not be / or a system directory; a non-empty directory ior did not prepare needs \`--force\`.

      The report compares the replay with the trace: events replayed, skipped and failed (a call that fails as it failed in the trace is a match), achieved vs intended duration, schedule lag, latency per syscall and bytes moved. Ctrl-C stops and still reports. See docs/replay.md.
    `,
    examples: [
      ['Replay at the traced pace', 'ior replay trace.parquet --target /mnt/test/ior'],
      ['Twice as fast', 'ior replay trace.parquet --speed 2x --target /mnt/test/ior'],
      ['As fast as possible, order kept', 'ior replay trace.parquet --speed max --target /mnt/test/ior'],
      ['Only what a database did in its data directory, at the same depth under the target', 'ior replay db.parquet --root /var/lib/postgresql/16/main --target /mnt/test/pg'],
      ['See what would happen, touch nothing', 'ior replay trace.parquet --target /mnt/test/ior --dry-run'],
      ['Prepare once, replay many times', 'ior replay t.parquet --target /mnt/test/ior --init-only && ior replay t.parquet --target /mnt/test/ior --no-init --json'],
    ],
  });

  file = Option.String({ name: 'trace.parquet' });
  target = Option.String('--target', { required: true, description: 'directory to replay into (created if missing); every traced path maps under it' });
  root = Option.String('--root', { description: 'the traced directory the target stands for: paths under it replay at the same depth under the target, the rest are skipped (default /: every path, under target/<its path>)' });
  speed = Option.String('--speed', '1x', { description: 'pace: 1x (default), 2x, 0.5x, 2 or max (no waiting, order kept)' });
  workers = Option.String('--workers', { description: `executor threads alive at once at most (one per traced thread with calls due; default ${MAX_WORKERS})`, validator: t.cascade(t.isNumber(), t.isInteger(), t.isInInclusiveRange(1, MAX_WORKERS)) });
  dryRun = Option.Boolean('--dry-run', false, { description: 'print the plan (counts by syscall, files to create, bytes to write) and touch nothing' });
  initOnly = Option.Boolean('--init-only', false, { description: 'only create the initial state under the target, do not replay' });
  noInit = Option.Boolean('--no-init', false, { description: 'replay into a target prepared before (--init-only), without init' });
  confine = Option.String('--confine', 'auto', { description: 'how paths are kept inside the target: chroot (each executor thread chrooted into it; needs root), openat2 (RESOLVE_IN_ROOT walks, with helper syscalls) or auto (chroot where allowed, the default)', validator: t.isEnum(['auto', 'chroot', 'openat2'] as const) });
  opsOut = Option.String('--ops-out', { description: 'write one row per replayed call to this Parquet file: traced seq, due and issue time, traced and replayed latency and result (a trace: ior stats, ior sql and DuckDB read it)' });
  force = Option.Boolean('--force', false, { description: 'use a non-empty target that ior did not prepare' });
  json = Option.Boolean('--json', false, { description: 'no progress; print the report (or plan) as JSON' });

  async execute(): Promise<number> {
    const { runReplay } = await import('../../replay/index.js');
    return runReplay({
      trace: this.file,
      target: this.target,
      root: this.root,
      speed: this.speed,
      workers: this.workers === undefined ? undefined : Number(this.workers),
      dryRun: this.dryRun,
      initOnly: this.initOnly,
      noInit: this.noInit,
      force: this.force,
      confine: this.confine,
      opsOut: this.opsOut,
      json: this.json,
      stdout: this.context.stdout,
      stderr: this.context.stderr,
    });
  }
}
