/**
 * What this host offers ior's capture: the loader's own probe
 * (`ior-loader --probe`: libbpf, BTF, ring buffer, tracefs, tracepoints,
 * capabilities, memlock) plus what only needs a file read (kernel lockdown,
 * kernel version). Used by `ior --version` and `ior doctor`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { z } from 'zod';
import { loaderPath } from './assets.js';
import { errnoCode } from './errors.js';
import { CaptureBuildSchema } from '../schema/wire.js';

const Rlimit = z.union([z.number(), z.literal('unlimited')]);

/** The JSON `ior-loader --probe` prints (extra keys are kept, not required). */
export const LoaderProbeSchema = z.looseObject({
  loader_version: z.string(),
  libbpf_version: z.string(),
  kernel_release: z.string(),
  machine: z.string(),
  btf: z.object({ present: z.boolean(), path: z.string() }),
  /** BPF_MAP_TYPE_RINGBUF loads; null when it could not be tried (no CAP_BPF) */
  ringbuf: z.boolean().nullable(),
  tracefs: z.object({ mounted: z.boolean(), path: z.string().nullable(), mounted_now: z.boolean(), error: z.string().optional() }),
  /** the hooks capture uses by default here: one raw sys_enter/sys_exit pair (tp_btf), or per-syscall tracepoints */
  hooks: z.enum(['raw', 'tracepoints']),
  /** the build of the BPF programs capture loads here (native/probe.c, build_name) */
  build: CaptureBuildSchema,
  /** the io_uring tracepoint that gives io_uring's operations here, null: only the io_uring_enter calls (absent: an older loader) */
  io_uring_tracepoint: z.string().nullable().optional(),
  /** syscall name -> traceable here with `hooks` */
  tracepoints: z.record(z.string(), z.boolean()),
  tracepoints_available: z.number(),
  root: z.boolean(),
  cap_bpf: z.boolean(),
  cap_perfmon: z.boolean(),
  cap_sys_admin: z.boolean(),
  memlock: z.object({ soft: Rlimit, hard: Rlimit }),
});
export type LoaderProbe = z.infer<typeof LoaderProbeSchema>;

export type ProbeResult = { ok: true; probe: LoaderProbe } | { ok: false; error: string };

const PROBE_TIMEOUT_MS = 15_000;

/** Runs `ior-loader --probe`; never throws (the reason is in `error`). */
export async function probeLoader(loader?: string): Promise<ProbeResult> {
  let file: string;
  try {
    file = loader ?? loaderPath();
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  return new Promise((resolve) => {
    execFile(file, ['--probe'], { timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim().split('\n').pop() || err.message;
        return resolve({ ok: false, error: `${file} --probe failed: ${why}` });
      }
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        return resolve({ ok: false, error: `${file} --probe printed no JSON: ${stdout.slice(0, 120)}` });
      }
      const parsed = LoaderProbeSchema.safeParse(json);
      if (!parsed.success) return resolve({ ok: false, error: `${file} --probe printed unexpected JSON: ${parsed.error.issues[0]?.message}` });
      resolve({ ok: true, probe: parsed.data });
    });
  });
}

/** [major, minor] of a kernel release such as "6.18.44-fc-v669" ([0, 0] if unparsable). */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** True when kernel `release` is at least major.minor. */
export function kernelAtLeast(release: string, major: number, minor: number): boolean {
  const [a, b] = kernelVersion(release);
  return a > major || (a === major && b >= minor);
}

/** The active kernel lockdown mode ("none", "integrity", "confidentiality"), or undefined without securityfs. */
export function lockdownMode(file = '/sys/kernel/security/lockdown'): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync(file, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Oldest kernel the BPF program is built to load on (bpf/ior.bpf.c: the ring buffer and bpf_ktime_get_boot_ns came with 5.8; docs/capture.md). */
const MIN_KERNEL = [5, 8] as const;

/** What the loader needs by default: the ring buffer (64 MiB) plus maps and programs, rounded up. */
const CAPTURE_MEMORY_BYTES = 80 << 20;

/** What each build of the BPF programs is, for `ior doctor` (bpf/ior.bpf.c). */
const BUILD_DETAIL: Record<LoaderProbe['build'], string> = {
  btf: 'btf build (bpf_rdonly_cast, task-local slots: Linux 6.2+)',
  core: 'core build (CO-RE reads, bpf_find_vma: Linux 5.17+)',
  'core-novma': 'core-novma build (CO-RE reads; no bpf_find_vma before 5.17: munmap and msync untraced)',
};

/** One finding of `ior doctor`. */
export interface HostCheck {
  name: string;
  /** fail: capture cannot work; warn: it works with limits; ok */
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  /** what to do about a warn or fail */
  fix?: string;
}

/** Effective capabilities of this process, from /proc/self/status (0n when unreadable). */
export function effectiveCapabilities(status = '/proc/self/status'): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(status, 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

const CAP_SYS_RESOURCE = 24;

/** Memory this process's cgroup (v2) may still use, or undefined when unlimited or unknown. */
export function cgroupMemoryHeadroom(): { limit: number; used: number; path: string } | undefined {
  try {
    const line = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
    if (!line) return undefined;
    const dir = `/sys/fs/cgroup${line.slice(3).replace(/\/$/, '')}`;
    const max = fs.readFileSync(`${dir}/memory.max`, 'utf8').trim();
    if (max === 'max') return undefined;
    return { limit: Number(max), used: Number(fs.readFileSync(`${dir}/memory.current`, 'utf8').trim()), path: dir };
  } catch {
    return undefined;
  }
}

/** Where tracefs is mounted, from /proc/self/mountinfo (readable by anyone, unlike tracefs itself). */
export function tracefsMounts(mountinfo = '/proc/self/mountinfo'): string[] {
  try {
    return fs
      .readFileSync(mountinfo, 'utf8')
      .split('\n')
      .map((line) => line.split(' '))
      .filter((f) => f[f.indexOf('-') + 1] === 'tracefs')
      .map((f) => f[4]!.replace(/\\040/g, ' '));
  } catch {
    return [];
  }
}

const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;

/**
 * Checks a host for capture, from the loader's probe and a few files. Every
 * check that is not ok says what to do; any `fail` means capture cannot work.
 */
export function diagnoseHost(result: ProbeResult, env: { capabilities?: bigint; lockdown?: string; memcg?: ReturnType<typeof cgroupMemoryHeadroom>; tracefsMounts?: string[] } = {}): HostCheck[] {
  if (!result.ok) {
    return [{ name: 'loader', status: 'fail', detail: result.error, fix: "rebuild it ('npm run build') or use dist/ior; see docs/troubleshooting.md" }];
  }
  const p = result.probe;
  const checks: HostCheck[] = [];
  const add = (c: HostCheck) => checks.push(c);
  add({ name: 'loader', status: 'ok', detail: `ior-loader ${p.loader_version}, libbpf ${p.libbpf_version}` });

  const bpf = p.cap_bpf || p.cap_sys_admin;
  const perfmon = p.cap_perfmon || p.cap_sys_admin;
  if (bpf && perfmon) {
    add({ name: 'privileges', status: 'ok', detail: p.root ? 'root with CAP_BPF and CAP_PERFMON' : 'CAP_BPF and CAP_PERFMON (not root)' });
  } else {
    const missing = [!bpf && 'CAP_BPF', !perfmon && 'CAP_PERFMON'].filter(Boolean).join(' and ');
    add({ name: 'privileges', status: 'fail', detail: `${p.root ? 'root, but' : 'not root:'} no ${missing}`, fix: 'run ior capture as root (sudo ior capture ...; in a container: --privileged or --cap-add BPF,PERFMON,SYS_ADMIN); stats, sql and replay need no privileges' });
  }

  add(p.btf.present
    ? { name: 'BTF', status: 'ok', detail: `${p.btf.path} present (CO-RE relocations and tp_btf hooks work)` }
    : { name: 'BTF', status: 'fail', detail: `${p.btf.path} is missing: the kernel was built without CONFIG_DEBUG_INFO_BTF`, fix: 'boot a kernel with CONFIG_DEBUG_INFO_BTF=y (Debian 11+, Ubuntu 20.10+, RHEL/Alma/Rocky 8.2+, Fedora 31+ ship one)' });

  const kernel = p.kernel_release;
  const [major, minor] = MIN_KERNEL;
  add(kernelAtLeast(kernel, major, minor)
    ? { name: 'kernel', status: 'ok', detail: `Linux ${kernel} (capture needs ${major}.${minor}+${kernelAtLeast(kernel, 5, 17) ? '' : '; munmap and msync need 5.17 and are not traced here'})` }
    : { name: 'kernel', status: 'fail', detail: `Linux ${kernel} is older than ${major}.${minor}: the BPF program needs the BPF ring buffer and bpf_ktime_get_boot_ns (5.8)`, fix: `boot Linux ${major}.${minor} or newer; stats, sql and replay work on this kernel` });

  if (p.ringbuf === true) add({ name: 'ring buffer', status: 'ok', detail: 'BPF_MAP_TYPE_RINGBUF available' });
  else if (p.ringbuf === false) add({ name: 'ring buffer', status: 'fail', detail: `kernel ${kernel} has no BPF ring buffer (needs Linux 5.8)`, fix: 'boot Linux 5.8 or newer' });
  else add({ name: 'ring buffer', status: kernelAtLeast(kernel, 5, 8) ? 'warn' : 'fail', detail: `not probed without CAP_BPF; kernel ${kernel} ${kernelAtLeast(kernel, 5, 8) ? 'should have it' : 'is older than 5.8, which introduced it'}`, fix: 'run ior doctor as root to probe it' });

  const total = Object.keys(p.tracepoints).length;
  const missingSyscalls = Object.entries(p.tracepoints).filter(([, ok]) => !ok).map(([name]) => name);
  if (p.tracefs.mounted) {
    add({ name: 'tracefs', status: 'ok', detail: `${p.tracefs.path}${p.tracefs.mounted_now ? ' (mounted just now by the loader)' : ''}` });
  } else {
    const needed = p.hooks !== 'raw';
    const why = needed ? 'the per-syscall tracepoints need it' : 'only --hooks tracepoints needs it';
    const mountedAt = env.tracefsMounts ?? tracefsMounts();
    add(mountedAt.length > 0
      ? { name: 'tracefs', status: needed ? 'fail' : 'warn', detail: `mounted at ${mountedAt.join(', ')} but not readable by this user; ${why}`, fix: 'run ior capture as root' }
      : {
          name: 'tracefs',
          status: needed ? 'fail' : 'warn',
          detail: `not mounted${p.tracefs.error ? ` and cannot be mounted (${p.tracefs.error})` : ''}; ${why}`,
          fix: "mount -t tracefs nodev /sys/kernel/tracing (as root; in a container, bind-mount the host's /sys/kernel/tracing)",
        });
  }
  const hooks = p.hooks === 'raw' ? 'raw sys_enter/sys_exit hooks (tp_btf)' : 'per-syscall tracepoints';
  if (p.tracepoints_available === 0) {
    add({ name: 'syscalls', status: 'fail', detail: `none of the ${total} file-system syscalls can be traced with ${hooks}`, fix: 'mount tracefs and boot a kernel with CONFIG_FTRACE_SYSCALLS=y' });
  } else if (missingSyscalls.length > 0) {
    add({ name: 'syscalls', status: 'warn', detail: `${p.tracepoints_available} of ${total} traceable with ${hooks}; missing: ${missingSyscalls.join(', ')}`, fix: 'nothing, unless the workload relies on them: their calls will be missing from traces (the loader found no hook for them in this kernel)' });
  } else {
    add({ name: 'syscalls', status: 'ok', detail: `all ${total} traceable with ${hooks}` });
  }

  add({ name: 'programs', status: 'ok', detail: `capture will load the ${BUILD_DETAIL[p.build]}, on ${hooks}${p.hooks === 'raw' ? ' (--hooks tracepoints also works)' : ''}` });
  add(
    p.io_uring_tracepoint
      ? { name: 'async I/O', status: 'ok', detail: `libaio and io_uring operations, one row each (io_uring from the ${p.io_uring_tracepoint} tracepoint)` }
      : { name: 'async I/O', status: 'warn', detail: 'libaio operations, one row each; io_uring only as io_uring_enter calls: this kernel\'s io_uring tracepoints do not name the request (Linux 6.0+ do)', fix: 'boot Linux 6.0 or later to capture io_uring operations' },
  );

  // Linux 5.11 charges BPF memory to the memory cgroup instead of RLIMIT_MEMLOCK
  const caps = env.capabilities ?? effectiveCapabilities();
  if (kernelAtLeast(kernel, 5, 11)) {
    const memcg = 'memcg' in env ? env.memcg : cgroupMemoryHeadroom();
    if (memcg && memcg.limit - memcg.used < CAPTURE_MEMORY_BYTES) {
      add({ name: 'memory', status: 'warn', detail: `BPF maps are charged to cgroup ${memcg.path}: ${mib(memcg.limit - memcg.used)} left of ${mib(memcg.limit)}, the default capture needs ~${mib(CAPTURE_MEMORY_BYTES)}`, fix: 'use a smaller ring (ior capture --ring-mb 8) or raise memory.max of that cgroup' });
    } else {
      add({ name: 'memory', status: 'ok', detail: `kernel >= 5.11 charges BPF memory to the memory cgroup${memcg ? ` (${mib(memcg.limit - memcg.used)} left)` : ' (no limit)'}; RLIMIT_MEMLOCK does not matter` });
    }
  } else {
    const soft = p.memlock.soft;
    const enough = soft === 'unlimited' || soft >= CAPTURE_MEMORY_BYTES || (caps & (1n << BigInt(CAP_SYS_RESOURCE))) !== 0n;
    add(enough
      ? { name: 'memory', status: 'ok', detail: `kernel < 5.11 counts BPF maps against RLIMIT_MEMLOCK: ${soft === 'unlimited' ? 'unlimited' : mib(soft)}${soft !== 'unlimited' && soft < CAPTURE_MEMORY_BYTES ? ' (raised by the loader: CAP_SYS_RESOURCE)' : ''}` }
      : { name: 'memory', status: 'fail', detail: `kernel < 5.11 counts BPF maps against RLIMIT_MEMLOCK, which is ${mib(soft)} without CAP_SYS_RESOURCE to raise it`, fix: 'ulimit -l unlimited before ior capture (as root), or LimitMEMLOCK=infinity in a systemd unit' });
  }

  const lockdown = 'lockdown' in env ? env.lockdown : lockdownMode();
  if (lockdown === 'confidentiality') {
    add({ name: 'lockdown', status: 'fail', detail: 'kernel lockdown=confidentiality forbids BPF programs from reading kernel memory (paths, file positions)', fix: 'boot with lockdown=integrity or none (often: disable Secure Boot\'s lockdown, or lockdown= on the kernel command line)' });
  } else {
    add({ name: 'lockdown', status: 'ok', detail: lockdown ? `lockdown=${lockdown}` : 'no lockdown (securityfs not mounted or not built in)' });
  }
  return checks;
}

/** Does process `pid` run? A zombie does not (it has ended, only its parent has not reaped it). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}
