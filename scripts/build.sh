#!/usr/bin/env bash
# Builds the BPF object + static loader (native/build/) and the TypeScript (build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-native.sh
npx tsc -p tsconfig.json
# test workloads (deterministic syscall sequences for the capture tests)
mkdir -p native/build
[[ native/build/iowork-fixed -nt test/workloads/iowork-fixed.c ]] || gcc -O2 -Wall -o native/build/iowork-fixed test/workloads/iowork-fixed.c
