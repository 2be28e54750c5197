#!/usr/bin/env bash
# Builds the BPF object + static loader (native/build/) and the TypeScript (build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-native.sh
npx tsc -p tsconfig.json
# replay executor addon (native/replay, Node-API): rebuilt when its sources change
replay_addon=native/replay/build/Release/ior_replay.node
stale_addon=false
for src in native/replay/*.c native/replay/*.h native/replay/binding.gyp; do [[ $replay_addon -nt $src ]] || stale_addon=true; done
if $stale_addon; then
	node_gyp="$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
	nodedir=(); [[ -f /usr/include/node/node_api.h ]] && nodedir=(--nodedir=/usr)
	gyp=(npx --yes node-gyp); [[ -f $node_gyp ]] && gyp=(node "$node_gyp")
	echo "build: native/replay addon" >&2
	if ! log=$("${gyp[@]}" rebuild "${nodedir[@]}" -C native/replay 2>&1); then echo "$log" >&2; exit 1; fi
fi
