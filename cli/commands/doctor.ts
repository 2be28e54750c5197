import { Option } from 'clipanion';
import { BaseCommand, quietOnClosedPipe, useColour } from '../base.js';
import type { HostCheck } from '../../common/host.js';

const MARK: Record<HostCheck['status'], { text: string; colour: string }> = {
  ok: { text: 'ok  ', colour: '\x1b[32m' },
  warn: { text: 'warn', colour: '\x1b[33m' },
  fail: { text: 'FAIL', colour: '\x1b[31m' },
};

export class DoctorCommand extends BaseCommand {
  static override paths = [['doctor']];
  static override usage = BaseCommand.Usage({
    description: 'check whether this host can capture, and say what to fix',
    details: `
      Runs the loader's probe and checks: privileges (root, or CAP_BPF and CAP_PERFMON), kernel BTF, the BPF ring buffer, tracefs, which of the file-system syscalls can be traced, the memory BPF maps are charged to (RLIMIT_MEMLOCK before Linux 5.11, the memory cgroup after), and kernel lockdown. Each problem comes with what to do.

      Exits 1 when capture cannot work here (any FAIL), 0 otherwise. Run it as the user that will run \`ior capture\` (usually root). stats, sql and replay need none of this.
    `,
    examples: [
      ['Check this host', 'sudo ior doctor'],
      ['The findings as JSON', 'sudo ior doctor --json'],
    ],
  });

  json = Option.Boolean('--json', false, { description: 'print {"ok", "checks": [{name, status, detail, fix}], "probe"} as one JSON document (probe: what the loader found, null when it could not run)' });

  async execute(): Promise<number> {
    const { diagnoseHost, probeLoader } = await import('../../common/host.js');
    const probe = await probeLoader();
    const checks = diagnoseHost(probe);
    const ok = checks.every((c) => c.status !== 'fail');
    const out = this.context.stdout;
    quietOnClosedPipe(out);
    if (this.json) {
      out.write(`${JSON.stringify({ ok, checks, probe: probe.ok ? probe.probe : null }, null, 2)}\n`);
      return ok ? 0 : 1;
    }
    const colour = useColour(out);
    const width = Math.max(...checks.map((c) => c.name.length));
    for (const c of checks) {
      const mark = colour ? `${MARK[c.status].colour}${MARK[c.status].text}\x1b[0m` : MARK[c.status].text;
      out.write(`${mark}  ${c.name.padEnd(width)}  ${c.detail}\n`);
      if (c.fix) out.write(`      ${' '.repeat(width)}  fix: ${c.fix}\n`);
    }
    const failures = checks.filter((c) => c.status === 'fail').length;
    out.write(ok ? '\nior capture can run on this host.\n' : `\nior capture cannot run on this host: fix the ${failures === 1 ? 'FAIL above' : `${failures} FAILs above`}.\n`);
    return ok ? 0 : 1;
  }
}
