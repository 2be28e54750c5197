#!/usr/bin/env bash
# npm run demo: capture the built-in workload, show its stats, replay it at 2x
# into a scratch directory. Everything lands in ./demo-output (or $1).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/demo-output}
rm -rf "$out"
mkdir -p "$out"
ior() { node "$repo/bin/ior" "$@"; }

echo "== 1. capture: the demo workload (a WAL with fsyncs, SQLite, blobs, tar) =="
ior capture -o "$out/trace.parquet" -- sh "$repo/scripts/demo-workload.sh" "$out/workload"
echo
echo "== 2. stats =="
ior stats "$out/trace.parquet"
echo
echo "== 3. replay at 2x into $out/replay =="
ior replay "$out/trace.parquet" --speed 2x --target "$out/replay"
echo
echo "demo: trace, workload and replay are in $out; try: ior sql $out/trace.parquet \"SELECT syscall, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC\""
