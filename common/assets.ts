/**
 * Where ior's non-JavaScript parts are: the static BPF loader, native addons
 * and worker scripts. From a source checkout they are in the tree; the
 * single-file binary (dist/ior) unpacks them into a private, checked
 * directory and records it in IOR_ASSET_DIR before the CLI starts
 * (scripts/sea/unpack.ts). Worker threads inherit that variable.
 *
 * Layout of that directory (scripts/sea/build.ts writes it):
 *   ior-loader                 the static loader
 *   addons/<name>.node         native addons, see NATIVE_ADDONS
 *   workers/<path>.cjs         worker scripts as CommonJS bundles
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IorError } from './errors.js';

/** The repository root (build/common/assets.js -> ../..). Meaningless inside dist/ior. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Native addons ior loads, by name: the directory whose binding.gyp builds
 * it (relative to the repository) and the file node-gyp makes there. dist/ior
 * rebuilds each from that directory with a low glibc floor and embeds it as
 * addons/<name>.node. Adding an addon: add it here and load it with
 * requireNativeAddon(name), or, for an npm package that loads its own binary,
 * also redirect that package in scripts/sea/build.ts.
 */
export const NATIVE_ADDONS = {
  'zstd-napi': { source: 'node_modules/zstd-napi', file: 'build/Release/binding.node' },
  'better-sqlite3': { source: 'node_modules/better-sqlite3', file: 'build/Release/better_sqlite3.node' },
  'ior-replay': { source: 'native/replay', file: 'build/Release/ior_replay.node' },
} as const satisfies Record<string, { source: string; file: string }>;
export type NativeAddonName = keyof typeof NATIVE_ADDONS;

/** The unpacked asset directory when running as dist/ior, else undefined. */
export function assetDir(): string | undefined {
  return process.env.IOR_ASSET_DIR || undefined;
}

/** Absolute path of the static loader executable. */
export function loaderPath(): string {
  const dir = assetDir();
  const candidate = dir ? path.join(dir, 'ior-loader') : path.join(REPO_ROOT, 'native', 'build', 'ior-loader');
  if (!fs.existsSync(candidate)) {
    throw new IorError(`the BPF loader is missing at ${candidate}: run 'npm run build' (or use dist/ior)`, 2);
  }
  return candidate;
}

/**
 * Absolute path of a worker script, named as its compiled file relative to
 * build/ (e.g. 'replay/worker.js'). In dist/ior it is a CommonJS bundle.
 */
export function workerPath(relative: string): string {
  const dir = assetDir();
  return dir ? path.join(dir, 'workers', relative.replace(/\.js$/, '.cjs')) : path.join(REPO_ROOT, 'build', relative);
}

/** Absolute path of a native addon (.node file). */
export function nativeAddonPath(name: NativeAddonName): string {
  const dir = assetDir();
  const addon = NATIVE_ADDONS[name];
  return dir ? path.join(dir, 'addons', `${name}.node`) : path.join(REPO_ROOT, addon.source, addon.file);
}

/** Loads a native addon by name (from the checkout, or the unpacked copy in dist/ior). */
export function requireNativeAddon<T>(name: NativeAddonName): T {
  const file = nativeAddonPath(name);
  if (!fs.existsSync(file)) {
    throw new IorError(`native addon ${name} is missing at ${file}: run 'npm ci' (or use dist/ior)`, 2);
  }
  return createRequire(import.meta.url)(file) as T;
}
