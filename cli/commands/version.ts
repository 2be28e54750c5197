import os from 'node:os';
import { BaseCommand, quietOnClosedPipe } from '../base.js';
import { IOR_VERSION } from '../../common/version.js';
import { assetDir } from '../../common/assets.js';

const yesNo = (v: boolean) => (v ? 'yes' : 'no');

/** Replaces clipanion's builtin: the version, the libbpf linked in, and what the kernel offers. */
export class VersionCommand extends BaseCommand {
  static override paths = [['--version'], ['-v'], ['version']];
  static override usage = BaseCommand.Usage({
    description: "print ior's version, the libbpf linked into its loader, and the kernel features found",
    details: `
      The first line is ior's version; the loader (the static executable that talks to the kernel) reports the libbpf version linked into it and probes this kernel: BTF, the BPF ring buffer and the syscall tracepoints. Without root the ring buffer cannot be probed. \`ior doctor\` explains anything missing.
    `,
    examples: [['Print versions and kernel features', 'ior --version']],
  });

  async execute(): Promise<number> {
    const out = this.context.stdout;
    quietOnClosedPipe(out);
    const runtime = assetDir() ? `single binary, Node.js ${process.version}` : `Node.js ${process.version} at ${process.execPath}`;
    out.write(`ior ${IOR_VERSION} (${runtime})\n`);
    const { probeLoader } = await import('../../common/host.js');
    const result = await probeLoader();
    if (!result.ok) {
      out.write(`libbpf unknown: ${result.error}\n`);
      out.write(`kernel ${os.release()} ${os.machine()}: features unknown (run 'ior doctor')\n`);
      return 0;
    }
    const p = result.probe;
    const total = Object.keys(p.tracepoints).length;
    const ringbuf = p.ringbuf === null ? 'not probed (needs root)' : yesNo(p.ringbuf);
    const tracefs = p.tracefs.mounted ? `tracefs at ${p.tracefs.path}` : 'tracefs not mounted';
    out.write(`libbpf ${p.libbpf_version} (linked into ior-loader ${p.loader_version})\n`);
    out.write(`kernel ${p.kernel_release} ${p.machine}\n`);
    out.write(`  BTF          ${yesNo(p.btf.present)} (${p.btf.path})\n`);
    out.write(`  ring buffer  ${ringbuf}\n`);
    const hooks = p.hooks === 'raw' ? 'raw sys_enter/sys_exit (tp_btf)' : 'per-syscall tracepoints';
    out.write(`  tracepoints  ${hooks}: ${p.tracepoints_available} of ${total} syscalls traceable; ${tracefs}\n`);
    return 0;
  }
}
