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
  /** syscall name -> traceable here */
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
