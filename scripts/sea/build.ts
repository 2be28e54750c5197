/**
 * Makes dist/ior, one executable file: Node's own single executable
 * application (SEA) = this Node binary, stripped, plus an injected blob with
 * the CLI bundled to CommonJS and the parts that must be files at run time
 * as assets. Run by scripts/build-binary.sh after tsc (this file runs from
 * build/scripts/sea/build.js and bundles the compiled JS in build/).
 *
 *   1. native addons (common/assets.ts NATIVE_ADDONS) rebuilt from source with
 *      node-gyp and scripts/sea/glibc-compat.*, so they need no newer glibc
 *      or libstdc++ than Node itself; cached in build/sea/addons/
 *   2. esbuild: the CLI (bootstrap.ts) and every worker script the code
 *      names with workerPath('...'), each one CJS file
 *   3. manifest.json + SEA config -> node --experimental-sea-config -> blob
 *   4. copy of process.execPath, stripped, its NODE_OPTIONS renamed (see
 *      renameNodeOptions), postject injects the blob
 *   5. smoke test (env -i dist/ior --version from another directory), sizes
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { NATIVE_ADDONS, type NativeAddonName } from '../../common/assets.js';
import { IOR_VERSION } from '../../common/version.js';
import type { AssetManifest } from './unpack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SEA_SRC = path.join(ROOT, 'scripts', 'sea');
const OUT = path.join(ROOT, 'build', 'sea');
const DIST = path.join(ROOT, 'dist');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** Source directories (relative to the repo) whose compiled JS is bundled. */
const BUNDLED_SOURCES = ['cli', 'capture', 'common', 'schema', 'trace', 'stats', 'sql', 'replay', 'scripts/sea'];

function log(message: string): void {
  process.stderr.write(`build-binary: ${message}\n`);
}

class BuildError extends Error {}

type RunOptions = { cwd?: string; env?: NodeJS.ProcessEnv };

function commandFailed(cmd: string, args: string[], status: number | null, output: string): BuildError {
  const tail = output.trim().split('\n').slice(-30).join('\n');
  return new BuildError(`${cmd} ${args.join(' ')} failed (exit ${status}):\n${tail}`);
}

function run(cmd: string, args: string[], opts: RunOptions = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new BuildError(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw commandFailed(cmd, args, r.status, `${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** run(), without blocking: the addons compile side by side. */
function runAsync(cmd: string, args: string[], opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (err) => reject(new BuildError(`cannot run ${cmd}: ${err.message}`)));
    child.on('close', (status) => (status === 0 ? resolve() : reject(commandFailed(cmd, args, status, output))));
  });
}

const sha256 = (data: string | Uint8Array) => crypto.createHash('sha256').update(data).digest('hex');

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

type VersionedLib = 'GLIBC' | 'GLIBCXX' | 'CXXABI';
/** Newest version of glibc, libstdc++ and the C++ ABI that some symbol needs. */
type Floor = Partial<Record<VersionedLib, string>>;

/** The glibc/libstdc++ symbol versions a dynamic ELF file needs (objdump -T). */
function versionedSymbols(file: string): { lib: VersionedLib; version: string; symbol: string }[] {
  const out: { lib: VersionedLib; version: string; symbol: string }[] = [];
  for (const line of run('objdump', ['-T', file]).split('\n')) {
    const m = /\((GLIBC|GLIBCXX|CXXABI)_([0-9.]+)\)\s+(\S+)/.exec(line);
    if (m) out.push({ lib: m[1] as VersionedLib, version: m[2]!, symbol: m[3]! });
  }
  return out;
}

function floorOf(symbols: { lib: VersionedLib; version: string }[]): Floor {
  const floor: Floor = {};
  for (const { lib, version } of symbols) if (!floor[lib] || compareVersions(version, floor[lib]!) > 0) floor[lib] = version;
  return floor;
}

const showFloor = (floor: Floor) => Object.entries(floor).map(([lib, v]) => `${lib}_${v}`).join(', ');

// ---- 1. native addons -------------------------------------------------------

function nodeGyp(): string {
  const candidates = [process.env.NODE_GYP, process.env.npm_config_node_gyp,
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new BuildError('node-gyp not found (it comes with npm): set NODE_GYP to node-gyp.js');
  return found;
}

/** Node's headers next to this Node (official builds and Debian's nodejs ship them), so node-gyp needs no download. */
function nodeHeadersDir(): string {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (!fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
    throw new BuildError(`Node's headers are not in ${prefix}/include/node: install the Node build that includes them (nodejs.org tarball or nodesource)`);
  }
  return prefix;
}

function compatObjects(): string[] {
  const dir = path.join(OUT, 'compat');
  fs.mkdirSync(dir, { recursive: true });
  const header = path.join(SEA_SRC, 'glibc-compat.h');
  const c = path.join(dir, 'glibc-compat.o');
  const cxx = path.join(dir, 'libstdcxx-compat.o');
  run(process.env.CC ?? 'gcc', ['-c', '-O2', '-fPIC', path.join(SEA_SRC, 'glibc-compat.c'), '-o', c]);
  run(process.env.CXX ?? 'g++', ['-c', '-O2', '-fPIC', '-include', header, path.join(SEA_SRC, 'libstdcxx-compat.cc'), '-o', cxx]);
  return [c, cxx];
}

/** Digest of every file under an addon's source directory but its build output (and nested node_modules). */
function treeDigest(dir: string): string {
  const hash = crypto.createHash('sha256');
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (d === dir && (entry.name === 'build' || entry.name === 'node_modules')) continue;
        walk(full);
      } else if (entry.isFile()) {
        hash.update(path.relative(dir, full)).update('\0').update(fs.readFileSync(full));
      }
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** Builds (or reuses) every addon, the stale ones side by side; returns asset name -> file. */
async function buildAddons(): Promise<Record<string, string>> {
  const compatSources = ['glibc-compat.h', 'glibc-compat.c', 'libstdcxx-compat.cc'].map((f) => fs.readFileSync(path.join(SEA_SRC, f), 'utf8'));
  const out: Record<string, string> = {};
  const stale: { name: NativeAddonName; source: string; file: string; built: string; stamp: string }[] = [];
  for (const [name, addon] of Object.entries(NATIVE_ADDONS) as [NativeAddonName, (typeof NATIVE_ADDONS)[NativeAddonName]][]) {
    const source = path.join(ROOT, addon.source);
    const built = path.join(OUT, 'addons', `${name}.node`);
    const stamp = sha256(JSON.stringify([treeDigest(source), compatSources, process.version, process.env.CC, process.env.CXX]));
    out[`addons/${name}.node`] = built;
    if (fs.existsSync(built) && fs.existsSync(`${built}.stamp`) && fs.readFileSync(`${built}.stamp`, 'utf8') === stamp) log(`addon ${name}: up to date`);
    else stale.push({ name, source, file: addon.file, built, stamp });
  }
  const objects = stale.length ? compatObjects() : [];
  await Promise.all(
    stale.map(async ({ name, source, file, built, stamp }) => {
      // a copy inside the repo: the original stays as npm built it, and
      // node-addon-api etc. still resolve from the repo's node_modules
      const work = path.join(OUT, 'addon-src', name);
      fs.rmSync(work, { recursive: true, force: true });
      fs.cpSync(source, work, { recursive: true, filter: (src) => src !== path.join(source, 'build') && src !== path.join(source, 'node_modules') });
      log(`addon ${name}: node-gyp rebuild`);
      const started = Date.now();
      await runAsync(process.execPath, [nodeGyp(), 'rebuild', '--jobs', 'max', `--nodedir=${nodeHeadersDir()}`], {
        cwd: work,
        env: {
          ...process.env,
          CPPFLAGS: `-include ${path.join(SEA_SRC, 'glibc-compat.h')}`,
          LDFLAGS: [...objects, '-Wl,--wrap=stat64,--wrap=fstat64,--wrap=lstat64,--wrap=fstatat64'].join(' '),
        },
      });
      fs.mkdirSync(path.dirname(built), { recursive: true });
      fs.copyFileSync(path.join(work, file), built);
      run('strip', ['--strip-unneeded', built]);
      fs.writeFileSync(`${built}.stamp`, stamp);
      log(`addon ${name}: ${((Date.now() - started) / 1000).toFixed(0)} s, ${mib(fs.statSync(built).size)}`);
    }),
  );
  // the addons must not need a newer glibc or libstdc++ than Node itself
  const nodeFloor = floorOf(versionedSymbols(process.execPath));
  for (const [asset, file] of Object.entries(out)) {
    const symbols = versionedSymbols(file);
    const above = symbols.filter((s) => !nodeFloor[s.lib] || compareVersions(s.version, nodeFloor[s.lib]!) > 0);
    if (above.length) {
      throw new BuildError(`${asset} needs newer symbols than Node (${showFloor(nodeFloor)}): ${above.map((s) => `${s.symbol}@${s.lib}_${s.version}`).join(', ')}; pin them in scripts/sea/glibc-compat.h (or glibc-compat.c)`);
    }
    log(`${asset}: needs ${showFloor(floorOf(symbols))} (Node: ${showFloor(nodeFloor)})`);
  }
  return out;
}

// ---- 2. bundles --------------------------------------------------------------

function* tsFiles(dir: string): Generator<string> {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield full;
  }
}

/**
 * Every worker script the code names as a call workerPath('<path>.js') with a
 * string literal (found in the syntax tree, so comments and strings that only
 * mention it do not count): the compiled file must exist in build/.
 */
function discoverWorkers(): string[] {
  const found = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'workerPath') {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteralLike(arg) && arg.text.endsWith('.js')) found.add(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  for (const dir of BUNDLED_SOURCES) {
    for (const file of tsFiles(path.join(ROOT, dir))) {
      const text = fs.readFileSync(file, 'utf8');
      if (text.includes('workerPath(')) visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false));
    }
  }
  for (const rel of found) {
    if (!fs.existsSync(path.join(ROOT, 'build', rel))) throw new BuildError(`worker build/${rel} (named by workerPath) does not exist: run tsc`);
  }
  return [...found].sort();
}

/**
 * Redirects what cannot work inside one executable:
 *  - zstd-napi (require('../binding'), and trace/zstd.ts's import of
 *    zstd-napi/binding.js) and better-sqlite3 (require('bindings'))
 *    load their .node files relative to their package: point them at
 *    requireNativeAddon(), which finds the unpacked copy.
 */
function seaPlugin(): esbuild.Plugin {
  const assetsModule = path.join(ROOT, 'build', 'common', 'assets.js');
  const inPackage = (importer: string, pkg: string) => importer.includes(`${path.sep}node_modules${path.sep}${pkg}${path.sep}`);
  const addonModule = (name: NativeAddonName, asFunction: boolean) =>
    `const { requireNativeAddon } = require(${JSON.stringify(assetsModule)});\n` +
    (asFunction ? `module.exports = () => requireNativeAddon(${JSON.stringify(name)});\n` : `module.exports = requireNativeAddon(${JSON.stringify(name)});\n`);
  return {
    name: 'ior-sea',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/binding$/ }, (args) => (inPackage(args.importer, 'zstd-napi') ? { path: 'zstd-napi', namespace: 'ior-addon' } : undefined));
      b.onResolve({ filter: /^zstd-napi\/binding\.js$/ }, () => ({ path: 'zstd-napi', namespace: 'ior-addon' })); // trace/zstd.ts
      b.onResolve({ filter: /^bindings$/ }, (args) => (inPackage(args.importer, 'better-sqlite3') ? { path: 'better-sqlite3', namespace: 'ior-addon-fn' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'ior-addon' }, (args) => ({ contents: addonModule(args.path as NativeAddonName, false), resolveDir: ROOT, loader: 'js' }));
      b.onLoad({ filter: /.*/, namespace: 'ior-addon-fn' }, (args) => ({ contents: addonModule(args.path as NativeAddonName, true), resolveDir: ROOT, loader: 'js' }));
    },
  };
}

async function bundle(entry: string, outfile: string): Promise<void> {
  await esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // import.meta does not exist in CommonJS: give it this file's URL
    define: { 'import.meta.url': '__iorImportMetaUrl' },
    banner: { js: 'var __iorImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    logOverride: { 'empty-import-meta': 'error' },
    plugins: [seaPlugin()],
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'error',
  });
}

// ---- 3.-5. blob, executable, check ---------------------------------------------

function mib(bytes: number): string {
  return bytes < 1048576 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * Node reads NODE_OPTIONS (for the process, and for each worker from its env)
 * through one C string literal, before any JavaScript runs: a `--require` there
 * would run someone else's code inside ior (as root, for capture). Renaming
 * that literal in dist/ior's copy of Node makes it read IOR_NODEOPTS instead
 * (same length), so NODE_OPTIONS is ignored while the traced command, which
 * gets ior's environment, still sees it. Must run before the blob is
 * injected, which may hold the same bytes.
 */
function renameNodeOptions(file: string): void {
  const from = Buffer.from('\0NODE_OPTIONS\0');
  const to = Buffer.from('\0IOR_NODEOPTS\0');
  const data = fs.readFileSync(file);
  // the C literal follows another C string; V8's snapshot holds the same
  // bytes as string objects, after a binary length field
  const literals: number[] = [];
  for (let at = data.indexOf(from); at >= 0; at = data.indexOf(from, at + 1)) {
    if (data[at - 1]! >= 0x20 && data[at - 1]! < 0x7f) literals.push(at);
  }
  if (literals.length !== 1) {
    throw new BuildError(`${process.execPath} holds ${literals.length} "NODE_OPTIONS" C strings, not 1: cannot make dist/ior ignore NODE_OPTIONS; update scripts/sea/build.ts`);
  }
  to.copy(data, literals[0]);
  fs.writeFileSync(file, data);
}

function manifestFor(assets: Record<string, string>): AssetManifest {
  const names = Object.keys(assets).sort();
  const hash = crypto.createHash('sha256');
  const files = names.map((name) => {
    const data = fs.readFileSync(assets[name]!);
    hash.update(name).update('\0').update(data);
    return { name, size: data.byteLength, executable: !name.endsWith('.cjs') };
  });
  return { version: IOR_VERSION, id: hash.digest('hex').slice(0, 16), files };
}

async function main(): Promise<void> {
  const started = Date.now();
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(DIST, { recursive: true });
  if (process.arch !== 'x64' || process.platform !== 'linux') throw new BuildError(`dist/ior is built for x86_64 Linux only (this is ${process.platform}/${process.arch})`);
  if (!fs.readFileSync(process.execPath).includes(SEA_FUSE)) throw new BuildError(`${process.execPath} cannot make single executable applications (no ${SEA_FUSE}): use an official Node 20 build`);

  const loader = path.join(ROOT, 'native', 'build', 'ior-loader');
  if (!fs.existsSync(loader)) throw new BuildError(`${loader} is missing: run scripts/build-native.sh`);
  const assets: Record<string, string> = { 'ior-loader': loader, ...(await buildAddons()) };

  const mainBundle = path.join(OUT, 'ior.cjs');
  await bundle(path.join(ROOT, 'build', 'scripts', 'sea', 'bootstrap.js'), mainBundle);
  for (const rel of discoverWorkers()) {
    const name = `workers/${rel.replace(/\.js$/, '.cjs')}`;
    assets[name] = path.join(OUT, 'assets', name);
    await bundle(path.join(ROOT, 'build', rel), assets[name]!);
  }

  const manifest = manifestFor(assets);
  const manifestFile = path.join(OUT, 'manifest.json');
  fs.writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
  const blob = path.join(OUT, 'sea-prep.blob');
  const config = {
    main: mainBundle,
    output: blob,
    disableExperimentalSEAWarning: true,
    useCodeCache: true,
    assets: { ...assets, 'manifest.json': manifestFile },
  };
  const configFile = path.join(OUT, 'sea-config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  run(process.execPath, ['--experimental-sea-config', configFile]);

  const tmp = path.join(DIST, `.ior.${process.pid}`);
  try {
    fs.copyFileSync(process.execPath, tmp);
    fs.chmodSync(tmp, 0o755);
    const nodeSize = fs.statSync(tmp).size;
    // symbols and debug info: Node's exported API (.dynsym, used by addons) stays
    const strip = spawnSync('strip', ['--strip-all', tmp], { encoding: 'utf8' });
    if (strip.status !== 0) throw new BuildError(`strip failed: ${strip.stderr.trim()}`);
    const strippedSize = fs.statSync(tmp).size;
    renameNodeOptions(tmp);
    run(process.execPath, [path.join(ROOT, 'node_modules', 'postject', 'dist', 'cli.js'), tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
    // smoke test: from another directory, with an empty environment but for a NODE_OPTIONS that would stop Node
    const version = execFileSync('env', ['-i', 'NODE_OPTIONS=--require /nonexistent/ior-must-ignore-this.js', tmp, '--version'], { cwd: '/', encoding: 'utf8' });
    if (!version.startsWith(`ior ${IOR_VERSION}`)) throw new BuildError(`the new binary printed an unexpected version:\n${version}`);
    fs.renameSync(tmp, path.join(DIST, 'ior'));
    const total = fs.statSync(path.join(DIST, 'ior')).size;
    const assetBytes = manifest.files.reduce((s, f) => s + f.size, 0);
    log(`dist/ior: ${mib(total)} = node ${mib(strippedSize)} (stripped from ${mib(nodeSize)}) + CLI bundle ${mib(fs.statSync(mainBundle).size)} + assets ${mib(assetBytes)} (${manifest.files.map((f) => `${f.name} ${mib(f.size)}`).join(', ')}); built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

main().catch((err: unknown) => {
  if (!(err instanceof BuildError)) throw err;
  process.stderr.write(`build-binary: ${err.message}\n`);
  process.exitCode = 1;
});
