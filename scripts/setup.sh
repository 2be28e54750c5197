#!/usr/bin/env bash
# Installs what ior needs on a fresh Debian 12 (root) and builds everything.
# Idempotent and quick when nothing changed: npm run demo/test/bench call it.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(clang llvm bpftool libbpf-dev libelf-dev libzstd-dev zlib1g-dev make gcc g++ python3 pkg-config
                 strace bpftrace sqlite3 git tar debootstrap)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm dependencies: reinstall when the lock file changed since the last install
stamp=node_modules/.ior-lock-stamp
if [[ ! -f $stamp ]] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi

bash scripts/build.sh
