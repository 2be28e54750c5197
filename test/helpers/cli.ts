/**
 * Running the real CLI (bin/ior) from tests, as a user would.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../../common/assets.js';

export const IOR_BIN = path.join(REPO_ROOT, 'bin', 'ior');
export const NATIVE_BUILD = path.join(REPO_ROOT, 'native', 'build');

/** Run `ior ARGS` to completion. */
export function ior(args: string[], opts: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [IOR_BIN, ...args], { encoding: 'utf8', input: opts.input, cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 64 << 20 });
}

/** Start `ior ARGS` in the background. */
export function iorSpawn(args: string[], opts: { cwd?: string } = {}): ChildProcess {
  return spawn(process.execPath, [IOR_BIN, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Resolves when `stream` has printed text matching `pattern` (rejects after timeoutMs). */
export function waitForOutput(stream: NodeJS.ReadableStream, pattern: RegExp, timeoutMs = 20000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; saw: ${seen}`)), timeoutMs);
    stream.on('data', (d: Buffer) => {
      seen += d.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve(seen);
      }
    });
  });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.on('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Replay `trace` into `target` at --speed max with the replay's own calls
 * captured into `replayTrace` (init first, not captured: only what the
 * replay does under the target is in it); the replay's JSON report.
 */
/** Replay trace into target at --speed max under a capture (of the target's paths and pathPrefixes'; every path with allPaths). */
export function captureReplay(trace: string, target: string, replayTrace: string, opts: { replayArgs?: string[]; pathPrefixes?: string[]; allPaths?: boolean } = {}): unknown {
  const init = ior(['replay', trace, '--target', target, '--init-only', '--json']);
  if (init.status !== 0) throw new Error(`replay --init-only exited ${init.status}: ${init.stderr}`);
  const prefixes = opts.allPaths ? [] : [target, ...(opts.pathPrefixes ?? [])].flatMap((p) => ['--path-prefix', p]);
  const r = ior(['capture', '-o', replayTrace, ...prefixes, '--', process.execPath, IOR_BIN, 'replay', trace, '--target', target, '--no-init', '--speed', 'max', '--json', ...(opts.replayArgs ?? [])]);
  if (r.status !== 0) throw new Error(`the captured replay exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
