/**
 * Gate for tests that need the real kernel side. Locally they skip with the
 * reason when BPF cannot work here; under CI=true a missing BPF is a test
 * failure, never a silent skip.
 */
import fs from 'node:fs';
import type { TestContext } from 'node:test';
import { REPO_ROOT } from '../../common/assets.js';

export function bpfUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'not root (BPF capture needs CAP_BPF and CAP_PERFMON)';
  if (!fs.existsSync('/sys/kernel/btf/vmlinux')) return 'no BTF at /sys/kernel/btf/vmlinux';
  if (!fs.existsSync(`${REPO_ROOT}/native/build/ior-loader`)) return 'loader not built (npm run build)';
  return null;
}

/** Returns true when the test may go on; otherwise skips it (or fails under CI). */
export function needBpf(t: TestContext): boolean {
  const reason = bpfUnavailableReason();
  if (reason === null) return true;
  if (process.env.CI === 'true') throw new Error(`BPF tests must run in CI, but: ${reason}`);
  t.skip(reason);
  return false;
}

/** For tests that need root for something else (mounting a small file system): skips locally, fails under CI. */
export function needRoot(t: TestContext, why: string): boolean {
  if (process.getuid?.() === 0) return true;
  if (process.env.CI === 'true') throw new Error(`this test must run in CI, but not root: ${why}`);
  t.skip(`not root: ${why}`);
  return false;
}
