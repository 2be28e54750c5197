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
import { INIT_KEY, StoredInitSchema, type InitState } from '../schema/index.js';
import { TraceReader } from '../trace/index.js';
import { underRoot } from './interpret.js';
import type { ReplayAddon } from './native.js';

export interface InitResult {
  /** where the state came from: this replay's plan pass, the marker of the replay that prepared the target for the same trace, or the trace (its capture stored it) */
  stateFrom?: 'plan pass' | 'target marker' | 'trace';
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

/**
 * The initial state the capture stored in the trace (INIT_KEY), or null: a
 * trace without one (older, recovered, or its capture skipped it), or one
 * that does not check out (another state version, paths that are not
 * normalized and relative, a state for another number of events: a warning
 * through `warn`), means a plan pass; so does --root (`root`) when the
 * state cannot serve it (stateUnderRoot).
 */
export async function storedInit(trace: string, root: string, warn: (line: string) => void): Promise<InitState | null> {
  const reader = await TraceReader.open(trace);
  const raw = reader.keyValue(INIT_KEY);
  if (raw === undefined) return null;
  let why: string;
  try {
    const parsed = StoredInitSchema.safeParse(JSON.parse(raw));
    if (parsed.success && parsed.data.events === reader.rowCount) return stateUnderRoot(parsed.data.init, root);
    why = parsed.success ? `it is for ${parsed.data.events} events, the trace holds ${reader.rowCount}` : `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`;
  } catch {
    why = 'not JSON';
  }
  warn(`ior: warning: the initial state stored in ${shortPath(trace)} is not usable (${why}): working it out from the trace\n`);
  return null;
}

/**
 * A state worked out for the whole trace (the capture's) as --root sees it:
 * the paths under the root, without it; or null (a plan pass) if the trace
 * made symlinks, or the state does not say: a path the trace reached
 * through a link of its own out of the root (a PostgreSQL tablespace's) is
 * outside the root in that state but inside the target in a --root replay.
 */
function stateUnderRoot(init: InitState, root: string): InitState | null {
  if (root === '') return init;
  if (init.linksMade !== 0) return null;
  // (the root itself, '' below it, is the target: never made)
  const strip = (rel: string) => underRoot(rel, root) || null;
  const keep = (rels: string[]) => rels.map(strip).filter((r): r is string => r !== null);
  const files = init.files.flatMap((f) => {
    const rel = strip(f.rel);
    return rel === null ? [] : [{ ...f, rel }];
  });
  return { dirs: keep(init.dirs), files, symlinks: keep(init.symlinks), absent: keep(init.absent), bytes: files.reduce((n, f) => n + f.size, 0), linksMade: 0 };
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
