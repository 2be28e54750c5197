#!/usr/bin/env bash
# Builds the BPF object + static loader (native/build/) and the TypeScript (build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-native.sh
npx tsc -p tsconfig.json
