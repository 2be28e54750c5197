/**
 * Unpacks the parts of dist/ior that must be files (the static loader, native
 * addons, worker scripts) from the executable's SEA assets into a private
 * directory, and reuses it on later runs.
 *
 * A directory is used only if it is a real directory (not a symlink) owned
 * by the effective user, with no group or other permissions, on a file
 * system mounted without noexec. Candidates, first usable wins:
 *   $IOR_UNPACK_DIR, $XDG_RUNTIME_DIR/ior, /run/ior (root only),
 *   <home from passwd>/.cache/ior,
 *   /var/tmp/ior-<uid>, /tmp/ior-<uid>, /dev/shm/ior-<uid>
 * The passwd home, not $HOME: under sudo $HOME may be the invoking user's.
 *
 * Inside it, each build gets <version>-<content id>/, written under a
 * temporary name and renamed into place when complete, so a directory with
 * the final name is always whole. Reuse checks owner, type, mode and size of
 * every file (not contents: only this user or root can write there).
 * Directories of other builds unused for PRUNE_AFTER_DAYS are removed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { getRawAsset } from 'node:sea';

/** manifest.json, the one asset describing the others (written by build.ts). */
export interface AssetManifest {
  version: string;
  /** sha256 over every asset's name and content, 16 hex digits */
  id: string;
  files: { name: string; size: number; executable: boolean }[];
}

export type AssetReader = typeof getRawAsset;

const PRUNE_AFTER_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export class UnpackError extends Error {}

/** Candidate parent directories, in order of preference. */
export function candidateBases(env: NodeJS.ProcessEnv = process.env): string[] {
  const uid = process.geteuid!();
  const out: string[] = [];
  if (env.IOR_UNPACK_DIR) out.push(env.IOR_UNPACK_DIR);
  if (env.XDG_RUNTIME_DIR) out.push(path.join(env.XDG_RUNTIME_DIR, 'ior'));
  // root's runtime directory (sudo and cron set no XDG_RUNTIME_DIR)
  if (uid === 0) out.push('/run/ior');
  let home: string | undefined;
  try {
    home = os.userInfo().homedir;
  } catch {
    // no passwd entry for this uid (containers): skip the home candidate
  }
  if (home && home !== '/' && path.isAbsolute(home)) out.push(path.join(home, '.cache', 'ior'));
  out.push(`/var/tmp/ior-${uid}`, `/tmp/ior-${uid}`, `/dev/shm/ior-${uid}`);
  return out;
}

/** Mount points and whether each is noexec, from /proc/self/mountinfo (empty if unreadable). */
function readMounts(): { point: string; noexec: boolean }[] {
  let text: string;
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      return { point: unescape(f[4]!), noexec: f[5]!.split(',').includes('noexec') };
    });
}

/** True when the file system holding `dir` is mounted noexec (false when unknown). */
export function isNoexec(dir: string, mounts = readMounts()): boolean {
  let best: { point: string; noexec: boolean } | undefined;
  for (const m of mounts) {
    const inside = m.point === '/' || dir === m.point || dir.startsWith(m.point + '/');
    if (inside && (!best || m.point.length >= best.point.length)) best = m;
  }
  return best?.noexec ?? false;
}

/** Why `dir` (which must exist) is not private to us, or undefined when it is. */
export function privacyProblem(dir: string): string | undefined {
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink()) return 'is a symlink';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== process.geteuid!()) return `is owned by uid ${st.uid}, not ${process.geteuid!()}`;
  if ((st.mode & 0o077) !== 0) return `has mode ${(st.mode & 0o777).toString(8)}, not 700`;
  return undefined;
}

/** Makes `base` if missing (mode 0700) and says why it cannot be used, or undefined. */
function checkBase(base: string, mounts: { point: string; noexec: boolean }[]): string | undefined {
  if (!path.isAbsolute(base)) return 'is not an absolute path';
  try {
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    const problem = privacyProblem(base);
    if (problem) return problem;
    if (isNoexec(fs.realpathSync(base), mounts)) return 'is on a file system mounted noexec';
    fs.accessSync(base, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    return (err as Error).message;
  }
  return undefined;
}

/** Why the unpacked directory does not match the manifest, or undefined when it does. */
export function verifyUnpacked(dir: string, manifest: AssetManifest): string | undefined {
  const problem = privacyProblem(dir);
  if (problem) return `${dir} ${problem}`;
  for (const f of manifest.files) {
    const file = path.join(dir, f.name);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      return `${file} is missing`;
    }
    if (!st.isFile()) return `${file} is not a regular file`;
    if (st.uid !== process.geteuid!()) return `${file} is owned by uid ${st.uid}`;
    if ((st.mode & 0o022) !== 0) return `${file} is writable by group or others`;
    if (st.size !== f.size) return `${file} has ${st.size} bytes, expected ${f.size}`;
  }
  return undefined;
}

function writeAll(dir: string, manifest: AssetManifest, read: AssetReader): void {
  for (const f of manifest.files) {
    const file = path.join(dir, f.name);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const data = new Uint8Array(read(f.name) as ArrayBuffer);
    if (data.byteLength !== f.size) throw new UnpackError(`asset ${f.name} has ${data.byteLength} bytes, the manifest says ${f.size}: the binary is damaged`);
    fs.writeFileSync(file, data, { mode: f.executable ? 0o500 : 0o400, flag: 'wx' });
  }
}

/** Removes other builds' directories not used for PRUNE_AFTER_DAYS, and stale temporaries. */
function prune(base: string, keep: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(base)) {
    const full = path.join(base, name);
    if (full === keep) continue;
    const isBuild = /^[0-9][^/]*-[0-9a-f]{16}$/.test(name);
    const isTemp = name.startsWith('.unpack-');
    if (!isBuild && !isTemp) continue;
    try {
      const age = now - fs.lstatSync(full).mtimeMs;
      if (age > (isTemp ? DAY_MS : PRUNE_AFTER_DAYS * DAY_MS)) fs.rmSync(full, { recursive: true, force: true });
    } catch {
      // another ior may be pruning the same directory
    }
  }
}

/** Unpacks (or reuses) this build's assets; returns the directory. */
export function unpackAssets(manifest: AssetManifest, read: AssetReader, bases = candidateBases()): string {
  const mounts = readMounts();
  const rejected: string[] = [];
  for (const base of bases) {
    const problem = checkBase(base, mounts);
    if (problem) {
      rejected.push(`${base} ${problem}`);
      continue;
    }
    const final = path.join(base, `${manifest.version}-${manifest.id}`);
    if (fs.existsSync(final)) {
      if (!verifyUnpacked(final, manifest)) {
        const now = new Date();
        fs.utimesSync(final, now, now); // marks it in use, for prune()
        return final;
      }
      fs.rmSync(final, { recursive: true, force: true });
    }
    const temp = fs.mkdtempSync(path.join(base, '.unpack-'));
    try {
      writeAll(temp, manifest, read); // mkdtemp made it 0700
      try {
        fs.renameSync(temp, final);
      } catch (err) {
        // another ior unpacked the same build at the same moment: use theirs
        if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        fs.rmSync(temp, { recursive: true, force: true });
        const problem = verifyUnpacked(final, manifest);
        if (problem) throw new UnpackError(problem);
      }
    } catch (err) {
      fs.rmSync(temp, { recursive: true, force: true });
      if (err instanceof UnpackError) throw err;
      rejected.push(`${base}: ${(err as Error).message}`);
      continue;
    }
    prune(base, final);
    return final;
  }
  throw new UnpackError(
    `no private directory to unpack the loader and addons into (${rejected.join('; ')}): set IOR_UNPACK_DIR to a directory you own, mode 700, on a file system without noexec`,
  );
}
