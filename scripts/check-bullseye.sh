#!/usr/bin/env bash
# check-bullseye.sh - prove that dist/ior runs on an older distribution:
# Debian 11 (bullseye, glibc 2.31, libstdc++ of gcc 10), made with debootstrap
# from Debian's own packages, entered with chroot. Inside it, with nothing but
# the copied binary and `env -i`, it runs --version, doctor, a capture of a
# small command, stats and sql on that trace (exact bytes per file), and a
# replay of it into a target directory (required once ior has `replay`).
#
#   sudo bash scripts/check-bullseye.sh        (CI: .ci/run)
#
# The debootstrap root is cached in $IOR_BULLSEYE_CACHE (/var/cache/ior-bullseye)
# and reused when complete, so a second run takes seconds. Mounts (/proc, /sys
# with its bpf and tracing file systems, /dev) are made in a private mount
# namespace and removed on exit. Exits non-zero when any check fails.
#
# Environment: IOR_BULLSEYE_CACHE, IOR_DEBIAN_MIRROR (default: the host's
# first Debian mirror, else http://deb.debian.org/debian), IOR_BINARY (a
# prebuilt binary to check instead of building dist/ior).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${IOR_BULLSEYE_CACHE:-/var/cache/ior-bullseye}"
ROOTFS="$CACHE/rootfs"
SUITE=bullseye

say() { printf 'check-bullseye: %s\n' "$*" >&2; }
die() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap, chroot and BPF need it)"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
command -v unshare >/dev/null || die "unshare not found: apt-get install util-linux"
# shellcheck source=lib/common.sh
. "$REPO/scripts/lib/common.sh"

# Runs in the private mount namespace (step 4): mounts /proc, /sys, the BPF
# and tracing file systems and /dev into the root, then the checks.
inside() {
	mounted=()
	cleanup() {
		local i
		for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
	}
	trap cleanup EXIT
	mnt() { # mnt TARGET ARGS...: mount and remember for cleanup
		local target="$1"; shift
		mkdir -p "$target"
		mount "$@" "$target"
		mounted+=("$target")
	}
	mnt "$ROOTFS/proc" -t proc proc
	mnt "$ROOTFS/sys" -t sysfs sysfs
	mnt "$ROOTFS/sys/fs/bpf" -t bpf bpf
	if [ -d /sys/kernel/tracing/events ]; then mnt "$ROOTFS/sys/kernel/tracing" --bind /sys/kernel/tracing
	else mnt "$ROOTFS/sys/kernel/tracing" -t tracefs nodev; fi
	if [ -d /sys/kernel/debug/tracing/events ]; then mnt "$ROOTFS/sys/kernel/debug" --bind /sys/kernel/debug; fi
	mnt "$ROOTFS/dev" --rbind /dev
	mount --make-rslave "$ROOTFS/dev"

	failed=0
	checked=()
	# run NAME CMD...: run CMD inside the chroot with an empty environment
	run() {
		local name="$1"; shift
		say "-- $name: $*"
		if chroot "$ROOTFS" /usr/bin/env -i "$@" >"$ROOTFS$WORK_IN/$name.out" 2>&1; then
			sed "s/^/   | /" "$ROOTFS$WORK_IN/$name.out" >&2
			checked+=("ok   $name")
			return 0
		fi
		sed "s/^/   | /" "$ROOTFS$WORK_IN/$name.out" >&2
		checked+=("FAIL $name (exit status non-zero)")
		failed=1
		return 1
	}
	# expect NAME PATTERN: the output of check NAME matches PATTERN (grep -E; CSV's CRs removed).
	# Not `tr | grep -q`: grep -q exits at the first match, tr's next write then dies
	# of SIGPIPE, and under pipefail the pipeline fails (seen in CI on a 4.2 KB output).
	expect() {
		if grep -qE "$2" <(tr -d '\r' <"$ROOTFS$WORK_IN/$1.out"); then checked+=("ok   $1 prints /$2/")
		else checked+=("FAIL $1 does not print /$2/"); failed=1; fi
	}

	glibc="$(chroot "$ROOTFS" /usr/bin/ldd --version | sed -n 1p)"
	say "inside: $(cat "$ROOTFS/etc/debian_version") ($glibc)"
	case "$glibc" in *2.31*) checked+=("ok   root is glibc 2.31: $glibc") ;; *) checked+=("FAIL root glibc is not 2.31: $glibc"); failed=1 ;; esac

	BIN="$WORK_IN/ior"
	W="$ROOTFS$WORK_IN"
	run version "$BIN" --version && expect version "^ior [0-9]" && expect version "^libbpf [0-9]" && expect version "BTF +yes"
	run doctor "$BIN" doctor || true
	# the workload writes "bullseye\n" (9 bytes) to data.txt and reads it back
	if run capture "$BIN" capture -o "$WORK_IN/t.parquet" -- /bin/sh -c "echo bullseye > $WORK_IN/data.txt && cat $WORK_IN/data.txt >/dev/null"; then
		# --path-prefix: in the unfiltered top 10, data.txt competes with the libraries and
		# locale files sh and cat read, and can fall out of it on a slow run
		run stats "$BIN" stats --path-prefix "$WORK_IN/" "$WORK_IN/t.parquet" && expect stats "^  command +/bin/sh -c .*, exit 0" && expect stats "$WORK_IN/data.txt"
		run sql "$BIN" sql --csv "$WORK_IN/t.parquet" \
			"select comm, syscall, sum(bytes) as bytes from events where path = '$WORK_IN/data.txt' and syscall in ('read', 'write') group by 1, 2 order by 1, 2" &&
			expect sql "^cat,read,9$" && expect sql "^sh,write,9$"
		# replay is required as soon as the binary has the command
		if chroot "$ROOTFS" /usr/bin/env -i "$BIN" replay --help >/dev/null 2>&1; then
			run replay "$BIN" replay "$WORK_IN/t.parquet" --speed max --target "$WORK_IN/replay" || true
			replayed="$W/replay$WORK_IN/data.txt"
			if [ -f "$replayed" ] && [ "$(stat -c %s "$replayed")" -eq 9 ]; then checked+=("ok   replay recreated data.txt (9 bytes) under the target")
			else checked+=("FAIL replay did not recreate $WORK_IN/replay$WORK_IN/data.txt with 9 bytes"); failed=1; fi
			# nothing outside the target: the original data.txt is the captured one
			[ "$(cat "$W/data.txt")" = bullseye ] && checked+=("ok   replay left the traced data.txt alone") || { checked+=("FAIL replay changed $WORK_IN/data.txt"); failed=1; }
		else
			checked+=("skip replay: this build of ior has no replay command yet")
		fi
	fi

	echo "check-bullseye: checked dist/ior in Debian $(cat "$ROOTFS/etc/debian_version") (chroot, env -i):"
	printf "  %s\n" "${checked[@]}"
	if [ "$failed" -ne 0 ]; then echo "check-bullseye: FAILED"; exit 1; fi
	echo "check-bullseye: all checks passed"
}

if [ "${1:-}" = --inside ]; then
	inside
	exit
fi

# 1. the bullseye root, built once (into a temp name, renamed when complete)
if [ ! -f "$ROOTFS/.ior-complete" ]; then
	MIRROR="${IOR_DEBIAN_MIRROR:-$(host_mirror)}"
	say "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOTFS (once; cached)"
	mkdir -p "$CACHE"
	# --one-file-system: an interrupted debootstrap may leave /proc or /sys mounted inside
	rm -rf --one-file-system "$ROOTFS.partial"
	keyring=/usr/share/keyrings/debian-archive-bullseye-stable.gpg
	[ -f "$keyring" ] || keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	debootstrap --variant=minbase --keyring="$keyring" "$SUITE" "$ROOTFS.partial" "$MIRROR" \
		>"$CACHE/debootstrap.log" 2>&1 ||
		die "debootstrap failed (log: $CACHE/debootstrap.log): check the mirror or set IOR_DEBIAN_MIRROR"
	touch "$ROOTFS.partial/.ior-complete"
	rm -rf --one-file-system "$ROOTFS"
	mv "$ROOTFS.partial" "$ROOTFS"
else
	say "reusing $ROOTFS"
fi

# 2. the binary
BIN="$(binary_under_test check-bullseye "$REPO")"
[ -x "$BIN" ] || die "no executable at $BIN"

# 3. a fresh work dir inside the root holding only the binary
WORK_IN="/tmp/ior-check"
WORK="$ROOTFS$WORK_IN"
rm -rf "$WORK"
mkdir -p "$WORK"
cp "$BIN" "$WORK/ior"

# 4. in a private mount namespace (mounts vanish with it): mount, check in the chroot
export ROOTFS WORK_IN
exec unshare --mount --propagation private bash "${BASH_SOURCE[0]}" --inside
