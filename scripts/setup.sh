#!/usr/bin/env bash
# Installs what ior needs on a fresh Debian 12 (root) and builds everything.
# Idempotent and quick when nothing changed: npm run demo/test/bench call it.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
. scripts/lib/common.sh

DEBIAN_PACKAGES=(clang llvm bpftool libbpf-dev libelf-dev libzstd-dev zlib1g-dev make gcc g++ python3 pkg-config
                 strace bpftrace sqlite3 git tar debootstrap fio libfuse3-dev fuse3)

ensure_debian_packages setup "${DEBIAN_PACKAGES[@]}"

# npm dependencies: reinstall when the lock file changed since the last install
stamp=node_modules/.ior-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

bash scripts/build.sh
