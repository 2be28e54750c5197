/**
 * Init: makes the target hold the state the trace expects before its first
 * event (replay/plan.ts works it out): directories, files with at least the
 * sizes the trace reads (incompressible content), symlinks it reads, and
 * nothing where the trace creates something. Every change goes through the
 * native helpers, confined under the target like the replay itself.
 * Idempotent: files already big enough are left alone, so init is cheap
 * the second time.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { errnoCode, IorError } from '../common/errors.js';
import { shortPath } from '../common/format.js';
import type { InitState } from './plan.js';
import type { ReplayAddon } from './native.js';

export interface InitResult {
  /** where the state came from: this replay's plan pass, or the marker of the replay that prepared the target for the same trace */
  stateFrom?: 'plan pass' | 'target marker';
  dirs: number;
  files: number;
  symlinks: number;
  removed: number;
  bytesWritten: number;
  seconds: number;
}

const FILL = 1 << 20;
/** Target string of the symlinks init creates (what they pointed to was not traced). */
const INIT_SYMLINK_TARGET = 'ior-init-symlink-target';

function errnoName(n: number): string {
  const name = Object.entries(os.constants.errno).find(([, v]) => v === -n)?.[0];
  return name ?? `errno ${-n}`;
}

export function applyInit(addon: ReplayAddon, init: InitState, onProgress?: (done: number, total: number, bytes: number) => void): InitResult {
  const started = process.hrtime.bigint();
  const fill = crypto.randomBytes(FILL);
  const result: InitResult = { dirs: 0, files: 0, symlinks: 0, removed: 0, bytesWritten: 0, seconds: 0 };
  const total = init.absent.length + init.dirs.length + init.files.length + init.symlinks.length;
  let done = 0;
  let lastReport = 0;
  const tick = () => {
    done++;
    const now = Date.now();
    if (now - lastReport > 200) {
      lastReport = now;
      onProgress?.(done, total, result.bytesWritten);
    }
  };
  const check = (r: number, what: string, rel: string) => {
    if (r < 0) throw new IorError(`init: cannot ${what} ${shortPath(rel)} under the target: ${errnoName(r)}`);
  };
  for (const rel of init.absent) {
    check(addon.initRemove(rel), 'remove', rel);
    result.removed++;
    tick();
  }
  for (const rel of init.dirs) {
    check(addon.initDir(rel), 'create directory', rel);
    result.dirs++;
    tick();
  }
  for (const { rel, size, executable } of init.files) {
    const [fd, current] = addon.initFile(rel);
    check(fd, 'create file', rel);
    try {
      fs.fchmodSync(fd, executable ? 0o755 : 0o644);
      // different content per file: no block-level dedup
      let at = current;
      let from = crypto.randomInt(FILL);
      while (at < size) {
        const n = Math.min(size - at, FILL - from);
        at += fs.writeSync(fd, fill, from, n, at);
        result.bytesWritten += n;
        from = 0;
        if (Date.now() - lastReport > 200) {
          lastReport = Date.now();
          onProgress?.(done, total, result.bytesWritten);
        }
      }
    } catch (err) {
      // a full or failing target file system: one line, as the other init steps
      throw new IorError(`init: cannot write file ${shortPath(rel)} under the target: ${errnoCode(err) ?? String(err)}`);
    } finally {
      fs.closeSync(fd);
    }
    result.files++;
    tick();
  }
  for (const rel of init.symlinks) {
    check(addon.initSymlink(rel, INIT_SYMLINK_TARGET), 'create symlink', rel);
    result.symlinks++;
    tick();
  }
  onProgress?.(total, total, result.bytesWritten);
  result.seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return result;
}
