#!/usr/bin/env bash
# check-kernels.sh - the kernel matrix: dist/ior on Debian's kernels.
#
#   sudo npm run check:kernels                 (CI: .ci/run)
#   sudo bash scripts/check-kernels.sh [--write-docs] [KERNEL...]
#
# KERNEL: bullseye (5.10, Debian 11), bookworm (6.1, Debian 12), trixie
# (6.12, Debian 13), host (this machine's kernel, no VM); all four by
# default. For each Debian kernel it downloads the newest cloud image of
# that suite once (cached in $IOR_KERNEL_CACHE, /var/cache/ior-kernels),
# boots it in qemu (TCG: no KVM needed) with an initramfs that holds busybox,
# dist/ior as a user copies it, the test workload and the glibc they need,
# and runs scripts/kernels/checks.sh there: ior --version, ior doctor, a
# capture of the deterministic workload with every build the loader can pick
# on that kernel and both hook kinds, ior stats, ior replay. The host row
# runs the same script here. scripts/kernels/judge.ts then checks every
# capture event by event (test/helpers/fixed-workload.ts), prints one table
# row per kernel and exits non-zero when any is not ok. --write-docs puts
# the table into docs/install.md with the date and commit.
#
# Environment: IOR_KERNEL_CACHE, IOR_DEBIAN_MIRROR (default: the host's
# Debian mirror), IOR_BINARY (check this binary instead of building
# dist/ior), IOR_VM_TIMEOUT (seconds per kernel, 1500).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${IOR_KERNEL_CACHE:-/var/cache/ior-kernels}"
VM_TIMEOUT="${IOR_VM_TIMEOUT:-1500}"
# shellcheck source=lib/common.sh
. "$REPO/scripts/lib/common.sh"

say() { printf 'check-kernels: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

write_docs=()
kernels=()
for a in "$@"; do
	case "$a" in
	--write-docs) write_docs=(--docs "$REPO/docs/install.md") ;;
	bullseye | bookworm | trixie | host) kernels+=("$a") ;;
	*) die "unknown argument '$a' (kernels: bullseye bookworm trixie host; --write-docs)" ;;
	esac
done
((${#kernels[@]})) || kernels=(bullseye bookworm trixie host)

[ "$(id -u)" -eq 0 ] || die "run as root (BPF on the host row, the kernel cache)"
ensure_debian_packages check-kernels qemu-system-x86 busybox-static cpio fio

# 1. the binary and the workload
BIN="$(binary_under_test check-kernels "$REPO")"
FIXED="$REPO/native/build/iowork-fixed"
[ -x "$BIN" ] || die "no executable at $BIN"
[ -x "$FIXED" ] || die "no $FIXED: npm run build"

# 2. the kernels: a private apt state (lists of the three suites, nothing of
# the host's apt touched) resolves each suite's linux-image-cloud-amd64 to
# its kernel package; only its vmlinuz is kept.
APT_DIR="$CACHE/apt"
APT=(-o "Dir::Etc::sourcelist=$APT_DIR/sources.list" -o Dir::Etc::sourceparts=/dev/null
	-o "Dir::State::Lists=$APT_DIR/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Sandbox::User=root -o Debug::NoLocking=1)
lists_fresh=0
fetch_lists() {
	mkdir -p "$APT_DIR/lists/partial"
	local mirror="${IOR_DEBIAN_MIRROR:-$(host_mirror)}" s
	: >"$APT_DIR/sources.list"
	for s in bullseye bookworm trixie; do
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" >>"$APT_DIR/sources.list"
	done
	say "apt-get update of bullseye, bookworm, trixie (private lists in $APT_DIR)"
	apt-get "${APT[@]}" update -qq >"$APT_DIR/update.log" 2>&1 && lists_fresh=1
}
# kernel_image SUITE: prints the cached vmlinuz of SUITE's newest cloud kernel, downloading it once
kernel_image() {
	local suite="$1" pkg deb dir
	if [ "$lists_fresh" = 1 ]; then
		pkg="$(apt-cache "${APT[@]}" show "linux-image-cloud-amd64/$suite" 2>/dev/null |
			sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -n 1)"
	else
		pkg=""
		say "apt-get update failed (log: $APT_DIR/update.log); using the cached $suite kernel if any"
	fi
	if [ -z "$pkg" ]; then
		[ -f "$CACHE/$suite.image" ] && cat "$CACHE/$suite.image" && return 0
		return 1
	fi
	if [ ! -f "$CACHE/$pkg/vmlinuz" ]; then
		say "downloading $pkg ($suite)"
		dir="$(mktemp -d "$CACHE/.dl.XXXXXX")"
		(cd "$dir" && apt-get "${APT[@]}" download "$pkg/$suite" >"$dir/download.log" 2>&1) || { rm -rf "$dir"; return 1; }
		deb="$(ls "$dir"/*.deb)"
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" --wildcards './boot/vmlinuz-*'
		mkdir -p "$CACHE/$pkg"
		mv "$dir"/boot/vmlinuz-* "$CACHE/$pkg/vmlinuz"
		rm -rf "$dir"
	fi
	echo "$CACHE/$pkg/vmlinuz" >"$CACHE/$suite.image"
	echo "$CACHE/$pkg/vmlinuz"
}

OUT="$(mktemp -d /tmp/ior-kernels.XXXXXX)"

# 3. the initramfs: busybox, the binary, the workload, their libraries, the scripts
make_initramfs() {
	local root="$OUT/initramfs" f l
	mkdir -p "$root"/{bin,proc,sys,dev,tmp,run,root}
	cp /bin/busybox "$root/bin/busybox"
	for l in $("$root/bin/busybox" --list); do [ -e "$root/bin/$l" ] || ln -s busybox "$root/bin/$l"; done
	cp "$BIN" "$root/bin/ior"
	cp "$FIXED" "$root/bin/iowork-fixed"
	cp "$(command -v fio)" "$root/bin/fio"
	for f in $( (ldd "$BIN"; ldd "$FIXED"; ldd "$(command -v fio)") | grep -o '/[^ ]*' | sort -u); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	cp "$REPO/scripts/kernels/checks.sh" "$root/checks.sh"
	install -m 0755 "$REPO/scripts/kernels/init.sh" "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$OUT/initramfs.cpio"
	rm -rf "$root"
}

# 4. each kernel: its report in $OUT/NAME.log, its label and wall time beside it
label() {
	case "$1" in
	bullseye) echo "Debian 11 (bullseye)" ;;
	bookworm) echo "Debian 12 (bookworm)" ;;
	trixie) echo "Debian 13 (trixie)" ;;
	host) echo "this host" ;;
	esac
}
for k in "${kernels[@]}"; do [ "$k" = host ] || { fetch_lists || true; break; }; done
for k in "${kernels[@]}"; do
	label "$k" >"$OUT/$k.label"
	start=$(date +%s)
	if [ "$k" = host ]; then
		say "host: $(uname -r)"
		IOR="$BIN" FIXED="$FIXED" FIO="$(command -v fio)" SCRATCH="$OUT/host-scratch" sh "$REPO/scripts/kernels/checks.sh" >"$OUT/$k.log" 2>&1 || true
		rm -rf "$OUT/host-scratch"
	else
		if ! image="$(kernel_image "$k")"; then
			say "$k: no kernel image (see $APT_DIR/update.log)"
			echo "@@ior error no kernel image for $k" >"$OUT/$k.log"
			continue
		fi
		[ -f "$OUT/initramfs.cpio" ] || make_initramfs
		# single-threaded TCG: with thread=multi a 6.12 guest now and then
		# oopsed on int3 while patching its own text at boot. A boot that
		# never reaches /init (no "@@ior kernel" line) is the emulator's
		# failure, not the kernel's or ior's: it is tried once more, and said.
		for attempt in 1 2; do
			say "$k: booting $(basename "$(dirname "$image")") in qemu (TCG, attempt $attempt)"
			timeout "$VM_TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 2 -m 2048 \
				-nodefaults -display none -no-reboot -serial "file:$OUT/$k.log" \
				-kernel "$image" -initrd "$OUT/initramfs.cpio" \
				-append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init" >"$OUT/$k.qemu" 2>&1 ||
				say "$k: qemu exited with status $? (timeout ${VM_TIMEOUT}s: 124)"
			grep -q "^@@ior kernel" "$OUT/$k.log" && break
			say "$k: the guest did not reach /init (attempt $attempt); its console: $(tr -d '\r' <"$OUT/$k.log" | grep -m1 -E 'panic|Oops' || echo none)"
		done
	fi
	echo $(($(date +%s) - start)) >"$OUT/$k.seconds"
	say "$k: done in $(cat "$OUT/$k.seconds") s"
done

# 5. judge
commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
rm -f "$OUT/initramfs.cpio"
if node "$REPO/build/scripts/kernels/judge.js" --commit "$commit" "${write_docs[@]}" "$OUT" "${kernels[@]}"; then
	rm -rf "$OUT"
else
	status=$?
	say "the guests' reports and traces are kept in $OUT"
	exit "$status"
fi
