/**
 * The replay target directory: checks that it is a place ior may write
 * (never / or a system directory; a non-empty directory only if ior
 * prepared it before, or with --force), and the marker that says ior did,
 * for which trace, and the initial state it made (a later replay of the
 * same trace makes it again without a plan pass).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { IorError, errnoCode } from '../common/errors.js';
import { INIT_STATE_VERSION, InitStateSchema, type InitState } from '../schema/index.js';

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

/** The trace file as the marker names it: a re-captured or changed file is another trace. */
function traceIdentity(trace: string): { trace: string; traceBytes: number; traceMtimeMs: number } {
  const st = fs.statSync(trace);
  return { trace: path.resolve(trace), traceBytes: st.size, traceMtimeMs: st.mtimeMs };
}

const MarkerSchema = z.object({
  tool: z.literal('ior replay'),
  trace: z.string(),
  traceBytes: z.number(),
  traceMtimeMs: z.number(),
  /** markers of another version are not reused */
  stateVersion: z.literal(INIT_STATE_VERSION),
  /** --root the state was made for, relative ('' for /; markers before --root: '') */
  root: z.string().default(''),
  init: InitStateSchema,
});

/** Mark DIR as ior's: only once init succeeded, so a failed init (of a --force'd directory) leaves no claim on it. */
export function markTarget(t: Target, trace: string, root: string, init: InitState): void {
  const marker: z.infer<typeof MarkerSchema> = { tool: 'ior replay', ...traceIdentity(trace), stateVersion: INIT_STATE_VERSION, root, init };
  fs.writeFileSync(path.join(t.dir, MARKER), JSON.stringify({ ...marker, prepared: new Date().toISOString() }) + '\n');
}

/**
 * The initial state the replay that prepared DIR made for this very trace
 * (same file, same size and mtime) and --root, else null: anything else
 * (another trace or root, an older ior, a damaged or hand-edited marker)
 * means a plan pass. Its paths are made under the target through the same
 * confined init.
 */
export function rememberedInit(t: Target, trace: string, root: string): InitState | null {
  if (!t.prepared) return null;
  try {
    const marker = MarkerSchema.safeParse(JSON.parse(fs.readFileSync(path.join(t.dir, MARKER), 'utf8')));
    const now = traceIdentity(trace);
    if (!marker.success || marker.data.trace !== now.trace || marker.data.traceBytes !== now.traceBytes || marker.data.traceMtimeMs !== now.traceMtimeMs || marker.data.root !== root) return null;
    return marker.data.init;
  } catch {
    return null;
  }
}
