#!/bin/sh
# checks.sh - what the kernel matrix runs on one kernel (scripts/check-kernels.sh).
#
#   IOR=/bin/ior FIXED=/bin/iowork-fixed FIO=/bin/fio SCRATCH=/tmp/ior-check sh checks.sh
#
# POSIX sh (busybox in the qemu guest, dash on the host row). It checks
# nothing itself: it runs the steps and reports on stdout, one line each,
#   @@ior KEY k=v ...
# and copies what the host checks (traces, outputs) as base64 between
#   @@ior-file NAME  ...  @@ior-end
# so the host judges every kernel with the same code (test/helpers/fixed-workload.ts).
#
# Steps: ior --version; ior doctor --json; for every build the loader can
# pick on this kernel (IOR_NO_RDONLY_CAST / IOR_NO_FIND_VMA step it down) and
# both hook kinds, a --pid capture of iowork-fixed (as test/capture.test.ts
# does it); ior stats of one trace; ior replay of it into a scratch target;
# fio with ioengine libaio and io_uring (buffered: the guest's root is a
# RAM file system), each under capture, with fio's own JSON counts.
set -u

: "${IOR:?}" "${FIXED:?}" "${FIO:?}" "${SCRATCH:?}"
mkdir -p "$SCRATCH"

say() { echo "@@ior $*"; }
# centiseconds since boot: busybox date has no %N
now_cs() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
send() { # send NAME FILE
	echo "@@ior-file $1"
	if [ -f "$2" ]; then base64 <"$2"; fi
	echo "@@ior-end"
}
# wait_for FILE PATTERN SECONDS PID: poll until FILE holds PATTERN (grep);
# fails after SECONDS, or as soon as process PID (what writes FILE) is gone
wait_for() {
	n=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		n=$((n + 1))
		[ "$n" -gt $(($3 * 10)) ] && return 1
		kill -0 "$4" 2>/dev/null || { grep -q "$2" "$1" 2>/dev/null; return; }
		sleep 0.1
	done
	return 0
}

say "kernel release=$(uname -r)"

t0=$(now_cs)
"$IOR" --version >"$SCRATCH/version.txt" 2>&1
say "step name=version rc=$? cs=$(($(now_cs) - t0))"
send version.txt "$SCRATCH/version.txt"

t0=$(now_cs)
"$IOR" doctor --json >"$SCRATCH/doctor.json" 2>"$SCRATCH/doctor.err"
say "step name=doctor rc=$? cs=$(($(now_cs) - t0))"
send doctor.json "$SCRATCH/doctor.json"
send doctor.err "$SCRATCH/doctor.err"

# what the probe says this kernel has: the best build and whether raw hooks exist
best=$(sed -n 's/^ *"build": "\([a-z-]*\)",*$/\1/p' "$SCRATCH/doctor.json" | head -n 1)
case "$best" in
btf) builds="btf core core-novma" ;;
core) builds="core core-novma" ;;
core-novma) builds="core-novma" ;;
*) builds="" ;;
esac
if grep -q '"raw_syscall_hooks": true' "$SCRATCH/doctor.json"; then hooks_list="raw tracepoints"; else hooks_list="tracepoints"; fi
say "plan best=$best builds=$(echo "$builds" | tr ' ' ,) hooks=$(echo "$hooks_list" | tr ' ' ,)"

first=""
for build in $builds; do
	for hooks in $hooks_list; do
		case "$build" in
		btf) no_cast=0 no_vma=0 ;;
		core) no_cast=1 no_vma=0 ;;
		*) no_cast=1 no_vma=1 ;;
		esac
		d="$SCRATCH/fixed-$build-$hooks"
		rm -rf "$d"
		mkdir -p "$d"
		# pre.txt: 10000 bytes (PRE_BYTES), opened by the workload before the capture
		head -c 10000 /dev/zero | tr '\0' p >"$d/pre.txt"
		mkfifo "$d/go"
		"$FIXED" "$d" <"$d/go" >"$d/work.out" 2>&1 &
		wpid=$!
		exec 9>"$d/go"
		if ! wait_for "$d/work.out" ready 60 "$wpid"; then
			say "capture build=$build hooks=$hooks dir=$d pid=$wpid rc=-1 wrc=-1 cs=0 error=workload-not-ready"
			kill "$wpid" 2>/dev/null
			exec 9>&-
			continue
		fi
		t0=$(now_cs)
		env IOR_NO_RDONLY_CAST=$no_cast IOR_NO_FIND_VMA=$no_vma "$IOR" capture --hooks "$hooks" --pid "$wpid" -o "$d/t.parquet" 2>"$d/capture.err" &
		cpid=$!
		if wait_for "$d/capture.err" "ior: capturing" 600 "$cpid"; then
			t1=$(now_cs)
			printf g >&9
			exec 9>&-
			wait "$wpid"
			wrc=$?
			kill -INT "$cpid"
			wait "$cpid"
			crc=$?
			say "capture build=$build hooks=$hooks dir=$d pid=$wpid rc=$crc wrc=$wrc start_cs=$((t1 - t0)) stop_cs=$(($(now_cs) - t1))"
		else
			exec 9>&-
			kill "$wpid" 2>/dev/null
			wait "$cpid"
			say "capture build=$build hooks=$hooks dir=$d pid=$wpid rc=$? wrc=-1 start_cs=$(($(now_cs) - t0)) stop_cs=0 error=never-capturing"
		fi
		send "capture-$build-$hooks.parquet" "$d/t.parquet"
		send "capture-$build-$hooks.err" "$d/capture.err"
		[ -z "$first" ] && [ -f "$d/t.parquet" ] && first="$d"
	done
done

if [ -n "$first" ]; then
	t0=$(now_cs)
	"$IOR" stats "$first/t.parquet" >"$SCRATCH/stats.txt" 2>&1
	say "step name=stats rc=$? cs=$(($(now_cs) - t0))"
	send stats.txt "$SCRATCH/stats.txt"

	t0=$(now_cs)
	"$IOR" replay "$first/t.parquet" --speed max --target "$SCRATCH/replay" >"$SCRATCH/replay.txt" 2>&1
	rc=$?
	# what the replay left: the workload's files under the target (DIR mapped below it)
	in_sub="$SCRATCH/replay$first/sub/in-sub.dat"
	size=missing
	[ -f "$in_sub" ] && size=$(wc -c <"$in_sub" | tr -d ' ')
	left=$(cd "$SCRATCH/replay$first" 2>/dev/null && find . -type f | sort | tr '\n' ,)
	say "step name=replay rc=$rc cs=$(($(now_cs) - t0)) in_sub_bytes=$size files=$left"
	send replay.txt "$SCRATCH/replay.txt"
fi
# async I/O: a fixed amount of fio random I/O per engine, captured; the host compares with fio's JSON
for engine in libaio io_uring; do
	d="$SCRATCH/fio-$engine"
	rm -rf "$d"
	mkdir -p "$d"
	head -c 1048576 /dev/zero >"$d/data"
	t0=$(now_cs)
	"$IOR" capture -o "$d/t.parquet" -- "$FIO" --name=t --filename="$d/data" --size=1M --io_size=1M --bs=4k --rw=randrw \
		--ioengine=$engine --iodepth=8 --output-format=json --output="$d/fio.json" >"$d/capture.out" 2>"$d/capture.err"
	say "fio engine=$engine dir=$d rc=$? cs=$(($(now_cs) - t0))"
	send "fio-$engine.parquet" "$d/t.parquet"
	send "fio-$engine.json" "$d/fio.json"
	send "fio-$engine.err" "$d/capture.err"
done
say done
