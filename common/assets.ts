/**
 * Where ior's non-JavaScript parts are: the static BPF loader, native addons
 * and worker scripts. From a source checkout they are in the tree; the
 * single-file binary (dist/ior) unpacks them into a private directory and
 * records it in IOR_ASSET_DIR before the CLI starts (see scripts/sea/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IorError } from './errors.js';

/** The repository root (build/common/assets.js -> ../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function assetDir(): string | undefined {
  return process.env.IOR_ASSET_DIR || undefined;
}

/** Absolute path of the static loader executable. */
export function loaderPath(): string {
  const candidate = assetDir() ? path.join(assetDir()!, 'ior-loader') : path.join(REPO_ROOT, 'native', 'build', 'ior-loader');
  if (!fs.existsSync(candidate)) {
    throw new IorError(`the BPF loader is missing at ${candidate}: run 'npm run build' (or use dist/ior)`, 2);
  }
  return candidate;
}

/** Absolute path of a compiled worker script (relative to build/), e.g. 'replay/worker.js'. */
export function workerPath(relative: string): string {
  return assetDir() ? path.join(assetDir()!, relative) : path.join(REPO_ROOT, 'build', relative);
}
