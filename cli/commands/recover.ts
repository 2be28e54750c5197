import { formatCount } from '../../common/format.js';
import { Option } from 'clipanion';
import { BaseCommand } from '../base.js';

export class RecoverCommand extends BaseCommand {
  static override paths = [['recover']];
  static override usage = BaseCommand.Usage({
    description: 'rebuild the trace of a capture whose ior died, from the temp file it left',
    details: `
      A capture writes \`.NAME.parquet.PID.tmp\` next to NAME.parquet and renames it when it ends. If ior itself is killed (kill -9, OOM, a crash), the temp file stays, without the footer that makes it a trace. Every second the capture also writes its rows out as a row group and notes them in \`.NAME.parquet.PID.tmp.journal\`; \`ior recover\` cuts the temp file where the journal's last checkpoint ends and appends that checkpoint's footer (stop reason \`recovered\`), so the trace holds everything up to a second before the crash. The next capture to the same name points at such leftovers.

      The file is renamed to NAME.parquet (or \`-o\`), which must not exist. See docs/troubleshooting.md.
    `,
    examples: [['Rebuild a trace', 'ior recover .trace.parquet.4242.tmp']],
  });

  file = Option.String({ name: '.NAME.parquet.PID.tmp' });
  output = Option.String('-o', { description: 'write the trace here (default: the name the capture was writing)' });
  json = Option.Boolean('--json', false, { description: 'print {output, events, row_groups, dropped_bytes, checkpoint_wall} as JSON' });

  async execute(): Promise<number> {
    const { recoverTrace } = await import('../../trace/index.js');
    const r = recoverTrace(this.file, this.output);
    if (this.json) this.context.stdout.write(`${JSON.stringify(r)}\n`);
    else this.context.stderr.write(`ior: recovered ${r.output}: ${formatCount(r.events)} events in ${r.row_groups} row groups, up to the last checkpoint (${r.checkpoint_wall}); ${formatCount(r.dropped_bytes)} bytes written after it dropped\n`);
    return 0;
  }
}
