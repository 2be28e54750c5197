/**
 * The main script of dist/ior (bundled to CommonJS by scripts/sea/build.ts
 * and embedded as the single executable application's entry point).
 *
 * 1. NODE_OPTIONS is ignored: Node reads it before any of this runs, so when
 *    it is set, ior runs itself again without it and passes on the exit
 *    status (SIGTERM and SIGHUP are forwarded; SIGINT and SIGQUIT already
 *    reach the whole foreground process group).
 * 2. The loader, addons and worker scripts are unpacked (scripts/sea/unpack.ts)
 *    and their directory exported as IOR_ASSET_DIR (common/assets.ts).
 * 3. The CLI is loaded only then (a dynamic import, which the bundle turns into
 *    a lazy require), because trace/ loads its zstd addon when first loaded.
 */
import { spawn } from 'node:child_process';
import * as sea from 'node:sea';
import { UnpackError, unpackAssets, type AssetManifest } from './unpack.js';

function runWithoutNodeOptions(): void {
  delete process.env.NODE_OPTIONS;
  // process.argv = [execPath, name as invoked, ...arguments]
  const child = spawn(process.execPath, process.argv.slice(2), { stdio: 'inherit', argv0: process.argv[1] });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) process.on(signal, () => {});
  child.on('error', (err) => {
    process.stderr.write(`ior: cannot run ${process.execPath} again without NODE_OPTIONS: ${err.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
}

function start(): void {
  if (!sea.isSea()) {
    process.stderr.write('ior: this bundle only runs embedded in dist/ior (npm run build:binary)\n');
    process.exit(2);
  }
  if (process.env.NODE_OPTIONS) return runWithoutNodeOptions();
  try {
    const manifest = JSON.parse(sea.getAsset('manifest.json', 'utf8')) as AssetManifest;
    process.env.IOR_ASSET_DIR = unpackAssets(manifest, sea.getRawAsset);
  } catch (err) {
    if (!(err instanceof UnpackError || (err as NodeJS.ErrnoException).code)) throw err;
    process.stderr.write(`ior: ${(err as Error).message}\n`);
    process.exit(2);
  }
  void import('../../cli/main.js').then((cli) => cli.main(process.argv.slice(2)));
}

start();
