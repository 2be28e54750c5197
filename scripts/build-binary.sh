#!/usr/bin/env bash
# build-binary.sh - make dist/ior, one executable file to scp to any x86_64
# Linux with a BTF kernel (npm run build:binary; the Dockerfile runs it too).
#
# It is Node's own single executable application: this Node binary (stripped)
# with the bundled CLI, the static loader, the worker scripts and the native
# addons injected; see scripts/sea/build.ts for the steps and docs/internals.md
# for why. Needs what `npm run build` needs plus g++, make, python3 (node-gyp)
# and binutils (strip, objdump); no network.
#
# Quick when nothing changed: dist/ior is rebuilt only if a source file of the
# repository (outside node_modules, build, dist, test, bench, docs) or the
# loader is newer than it. IOR_REBUILD=1 forces a rebuild.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

die() { echo "build-binary: $*" >&2; exit 1; }
for tool in gcc g++ make python3 strip objdump; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found: apt-get install build-essential python3 binutils"
done

bash scripts/build-native.sh

stale_input() {
	[ -x dist/ior ] || { echo "dist/ior (missing)"; return; }
	[ native/build/ior-loader -nt dist/ior ] && { echo native/build/ior-loader; return; }
	find . \( -path ./node_modules -o -path ./build -o -path ./dist -o -path ./.git -o -path ./test \
		-o -path ./bench -o -path ./docs -o -path ./native/build -o -path ./fixtures \) -prune \
		-o -type f -newer dist/ior -print -quit
}
changed="$(stale_input)"
if [ -z "$changed" ] && [ "${IOR_REBUILD:-0}" != 1 ]; then
	echo "build-binary: dist/ior is up to date ($(stat -c %s dist/ior | awk '{ printf "%.1f MiB", $1 / 1048576 }'))" >&2
	exit 0
fi
echo "build-binary: building dist/ior (changed: ${changed:-IOR_REBUILD=1})" >&2
npx tsc -p tsconfig.json
node build/scripts/sea/build.js
