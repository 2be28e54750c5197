/**
 * The replay target directory: checks that it is a place ior may write
 * (never / or a system directory; a non-empty directory only if ior
 * prepared it before, or with --force), and the marker that says ior did.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IorError, errnoCode } from '../common/errors.js';

export const MARKER = '.ior-replay-target';

/** Directories that are never a target, nor anything under the second list. */
const SYSTEM_DIRS = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib32', '/lib64', '/libx32', '/media', '/mnt', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/tmp', '/var/lib', '/var/log', '/var/cache', '/var/spool', '/var/mail', '/var/run', '/var/lock']);
const SYSTEM_TREES = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/run', '/sbin', '/sys', '/usr'];

export interface Target {
  /** absolute, symlinks resolved */
  dir: string;
  exists: boolean;
  /** ior prepared it before (marker present) */
  prepared: boolean;
  empty: boolean;
}

/** The real path of `dir`, resolving what exists of it. */
function realTarget(dir: string): string {
  const abs = path.resolve(dir);
  let existing = abs;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest);
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || existing === '/') throw new IorError(`cannot use --target ${dir}: ${errnoCode(err) ?? String(err)}`);
      rest.unshift(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
}

/** Check DIR without changing anything. */
export function inspectTarget(dir: string, force: boolean): Target {
  const real = realTarget(dir);
  if (SYSTEM_DIRS.has(real) || SYSTEM_TREES.some((t) => real.startsWith(t + '/')) || real === os.homedir()) {
    throw new IorError(`--target ${dir} is ${real === dir ? '' : `${real}, `}a system directory: give a directory of its own, such as /mnt/test/ior-replay`);
  }
  let st: fs.Stats;
  try {
    st = fs.statSync(real);
  } catch {
    return { dir: real, exists: false, prepared: false, empty: true };
  }
  if (!st.isDirectory()) throw new IorError(`--target ${dir} is not a directory: give a directory (it is created if missing)`);
  const entries = fs.readdirSync(real);
  const prepared = entries.includes(MARKER);
  const empty = entries.length === 0;
  if (!empty && !prepared && !force) {
    throw new IorError(`--target ${dir} is not empty and was not prepared by ior: files in it may be replaced or removed; use an empty directory, or --force`);
  }
  return { dir: real, exists: true, prepared, empty };
}

/** Create DIR if needed. */
export function createTarget(t: Target): void {
  fs.mkdirSync(t.dir, { recursive: true });
}

/** Mark DIR as ior's: only once init succeeded, so a failed init (of a --force'd directory) leaves no claim on it. */
export function markTarget(t: Target, trace: string): void {
  fs.writeFileSync(path.join(t.dir, MARKER), JSON.stringify({ tool: 'ior replay', trace, prepared: new Date().toISOString() }) + '\n');
}
