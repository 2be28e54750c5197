#!/usr/bin/env bash
# build-native.sh - build the kernel side and the static loader of ior.
#
#   native/build/vmlinux.h      bpftool btf dump of the running kernel (CO-RE)
#   native/build/ior.bpf.o      clang -target bpf
#   native/build/ior.skel.h     bpftool gen skeleton (embeds ior.bpf.o)
#   native/build/ior-loader     gcc -static, libbpf + libelf + zstd + zlib linked in
#   native/build/iowork-*       workload programs (native/bench/*.c, test/workloads/*.c; delayfs with libfuse3)
#
# Idempotent: each step runs only when an input is newer than its output.
# Environment: CC (gcc), CLANG (clang), BPFTOOL (bpftool), VMLINUX_BTF
# (/sys/kernel/btf/vmlinux), IOR_VMLINUX_H (use this vmlinux.h instead),
# IOR_VERSION (loader version string), V=1 (show commands).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
B="$ROOT/native/build"
CC="${CC:-gcc}"
CLANG="${CLANG:-clang}"
BPFTOOL="${BPFTOOL:-bpftool}"
VMLINUX_BTF="${VMLINUX_BTF:-/sys/kernel/btf/vmlinux}"
VERSION="${IOR_VERSION:-$(node -p 'require(process.argv[1]).version' "$ROOT/package.json" 2>/dev/null || echo 0.1.0)}"

die() { echo "build-native: $*" >&2; exit 1; }
run() { [ "${V:-0}" = 1 ] && echo "+ $*" >&2; "$@"; }
# need_tool CMD PACKAGE
need_tool() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: apt-get install $2"; }
# need_lib NAME PACKAGE: a static library the loader links
need_lib() {
	local f
	f="$("$CC" -print-file-name="$1")"
	[ -f "$f" ] || die "static library $1 not found: apt-get install $2"
}
# stale OUT IN...: true when OUT is missing or older than any IN
stale() {
	local out="$1"; shift
	[ -e "$out" ] || return 0
	local f
	for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
	return 1
}

need_tool "$CC" "gcc (build-essential)"
need_tool "$CLANG" "clang"
need_tool "$BPFTOOL" "bpftool"
need_lib libbpf.a libbpf-dev
need_lib libelf.a libelf-dev
need_lib libzstd.a libzstd-dev
need_lib libz.a zlib1g-dev
need_lib libc.a libc6-dev
[ -f /usr/include/bpf/bpf_helpers.h ] || [ -f "$("$CC" -print-sysroot)/usr/include/bpf/bpf_helpers.h" ] ||
	die "bpf/bpf_helpers.h not found: apt-get install libbpf-dev"

case "$(uname -m)" in
x86_64) ARCH=x86 ;;
aarch64) ARCH=arm64 ;;
s390x) ARCH=s390 ;;
ppc64le) ARCH=powerpc ;;
riscv64) ARCH=riscv ;;
*) ARCH="$(uname -m)" ;;
esac

mkdir -p "$B"
BPF_SRC=("$ROOT/bpf/ior.bpf.c" "$ROOT/bpf/async.bpf.h" "$ROOT/bpf/ior.h" "$ROOT/bpf/syscalls.def")

# 1. vmlinux.h (only ever generated once per build dir; CO-RE relocates)
if [ -n "${IOR_VMLINUX_H:-}" ]; then
	stale "$B/vmlinux.h" "$IOR_VMLINUX_H" && run cp "$IOR_VMLINUX_H" "$B/vmlinux.h"
elif [ ! -s "$B/vmlinux.h" ]; then
	[ -r "$VMLINUX_BTF" ] || die "kernel has no BTF at $VMLINUX_BTF (CONFIG_DEBUG_INFO_BTF=y needed), or set IOR_VMLINUX_H"
	run "$BPFTOOL" btf dump file "$VMLINUX_BTF" format c >"$B/vmlinux.h.tmp" || die "bpftool btf dump failed"
	mv "$B/vmlinux.h.tmp" "$B/vmlinux.h"
fi

# 2. BPF object
if stale "$B/ior.bpf.o" "${BPF_SRC[@]}" "$B/vmlinux.h"; then
	echo "build-native: ior.bpf.o" >&2
	run "$CLANG" -target bpf -g -O2 -mcpu=v3 -D__TARGET_ARCH_$ARCH \
		-I"$B" -I"$ROOT/bpf" -Wall -Wno-unused-function \
		-c "$ROOT/bpf/ior.bpf.c" -o "$B/ior.bpf.o.tmp"
	# DWARF is not needed at run time (BTF stays): a smaller embedded object
	if command -v llvm-strip >/dev/null 2>&1; then
		run llvm-strip -g "$B/ior.bpf.o.tmp"
	fi
	mv "$B/ior.bpf.o.tmp" "$B/ior.bpf.o"
fi

# 3. skeleton
if stale "$B/ior.skel.h" "$B/ior.bpf.o"; then
	run "$BPFTOOL" gen skeleton "$B/ior.bpf.o" name ior_bpf >"$B/ior.skel.h.tmp" || die "bpftool gen skeleton failed"
	mv "$B/ior.skel.h.tmp" "$B/ior.skel.h"
fi

# 4. loader: static, no NEEDED entries
LOADER_SRC=("$ROOT"/native/*.c "$ROOT"/native/*.h)
if stale "$B/ior-loader" "${LOADER_SRC[@]}" "$B/ior.skel.h" "$ROOT/bpf/ior.h" "$ROOT/bpf/syscalls.def" "$ROOT/scripts/build-native.sh" ||
	! grep -qF "ior-loader $VERSION" "$B/.loader-version" 2>/dev/null; then
	echo "build-native: ior-loader" >&2
	run "$CC" -O2 -g0 -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers \
		-std=gnu11 -static -pthread -DIOR_LOADER_VERSION="\"$VERSION\"" \
		-I"$B" -I"$ROOT/bpf" -I"$ROOT/native" \
		$(ls "$ROOT"/native/*.c) -o "$B/ior-loader.tmp" \
		-lbpf -lelf -lzstd -lz
	run strip "$B/ior-loader.tmp" 2>/dev/null || true
	mv "$B/ior-loader.tmp" "$B/ior-loader"
	echo "ior-loader $VERSION" >"$B/.loader-version"
fi
if readelf -d "$B/ior-loader" 2>/dev/null | grep NEEDED >/dev/null; then
	die "ior-loader is not static (NEEDED entries found)"
fi

# 5. workload programs: benchmark loops and the capture tests' deterministic workloads
for src in "$ROOT"/native/bench/*.c "$ROOT"/test/workloads/*.c; do
	[ -e "$src" ] || continue
	out="$B/$(basename "$src" .c)"
	if stale "$out" "$src"; then
		echo "build-native: $(basename "$out")" >&2
		libs=()
		# delayfs is a FUSE file system (libfuse3)
		if [[ $(basename "$src") == delayfs.c ]]; then
			flags=$(pkg-config --cflags --libs fuse3 2>/dev/null) || die "libfuse3 not found (delayfs, a test file system): apt-get install libfuse3-dev"
			read -ra libs <<<"$flags"
		fi
		run "$CC" -O2 -Wall -std=gnu11 -pthread "$src" "${libs[@]}" -o "$out.tmp"
		mv "$out.tmp" "$out"
	fi
done

exit 0
