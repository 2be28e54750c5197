/**
 * The main script of dist/ior (bundled to CommonJS by scripts/sea/build.ts
 * and embedded as the single executable application's entry point).
 *
 * NODE_OPTIONS never reaches this: the Node inside dist/ior reads
 * IOR_NODEOPTS instead (scripts/sea/build.ts renameNodeOptions).
 *
 * 1. The loader, addons and worker scripts are unpacked (scripts/sea/unpack.ts)
 *    and their directory exported as IOR_ASSET_DIR (common/assets.ts).
 * 2. The CLI is loaded only then (a dynamic import, which the bundle turns into
 *    a lazy require), because trace/ loads its zstd addon when first loaded.
 */
import * as sea from 'node:sea';
import { UnpackError, unpackAssets, type AssetManifest } from './unpack.js';

function start(): void {
  if (!sea.isSea()) {
    process.stderr.write('ior: this bundle only runs embedded in dist/ior (npm run build:binary)\n');
    process.exit(2);
  }
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
