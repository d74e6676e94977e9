#!/usr/bin/env bash
# bench/density.sh: what a CT costs the host, by storage layout.
#
# Starts BENCH_N CTs from one Debian template in vz's overlay layout (the
# template shared: one copy on disk and in the page cache), in vz's image
# layout (a copy per CT, in its own ext4 image), and in LXC's dir backend
# (a copy per CT on the host's file system), each CT running the same
# program, which reads the template's binaries and libraries and sleeps.
# Prints, per CT: host page cache and memory used (from /proc/meminfo,
# caches dropped before each run) and disk used; and vz's create time
# against the template's size. See bench/README.md.
#
# Environment:
#   BENCH_N=20                 CTs per layout
#   BENCH_TEMPLATE=debian-12-x86_64-minimal
#   BENCH_TEMPLATE_DIR=DIR     a TEMPLATE dir that has it built already
#   BENCH_DISKSPACE=1G         the image layout's size per CT
#   BENCH_SKIP_LXC=0           1: no LXC run
#   VZCTL, VZTMPL              binaries (default: <repo>/build/, then $PATH)
#
# Exit status: 0 when vz's runs worked (LXC unusable: n/a), 1 when a vz step
# failed, 2 on a bad precondition.
set -u -o pipefail

N=${BENCH_N:-20}
TMPL=${BENCH_TEMPLATE:-debian-12-x86_64-minimal}
DISK=${BENCH_DISKSPACE:-1G}
BENCH=density
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TMP=$(mktemp -d /var/tmp/vz-bench-density.XXXXXX)
export VZ_ROOT=$TMP/root
LXCP=$TMP/lxc
LOG=$TMP/log
# the same work in every CT: read the template's programs, then wait
PROG='cat /usr/bin/* /usr/sbin/* /usr/lib/x86_64-linux-gnu/*.so* >/dev/null 2>&1; exec sleep 1000000'

cleanup() {
	local i
	for ((i = 1; i <= N; i++)); do
		"$VZCTL" stop $((1000 + i)) --fast >/dev/null 2>&1
		"$VZCTL" destroy $((1000 + i)) >/dev/null 2>&1
		if command -v lxc-stop >/dev/null; then
			lxc-stop -P "$LXCP" -n "vzd$$-$i" -k >/dev/null 2>&1
			lxc-destroy -P "$LXCP" -n "vzd$$-$i" >/dev/null 2>&1
		fi
	done
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
cd / || exit 2

meminfo() { awk -v k="$1:" '$1 == k {print $2}' /proc/meminfo; }
snapshot_mem() { # -> "cached used" in KB
	sync
	echo "$(meminfo Cached) $(($(meminfo MemTotal) - $(meminfo MemAvailable)))"
}
drop_caches() { sync; echo 3 >/proc/sys/vm/drop_caches; sleep 1; }
per_ct() { awk -v a="$1" -v n="$N" 'BEGIN {printf "%.1f", a / n / 1024}'; } # KB -> MB per CT

mkdir -p "$LXCP"
bench_template "$TMPL" "$LOG"
LAYER=$(readlink -f "$VZ_ROOT/vz/template/layers/$TMPL")
SIZE=$(du -sm "$LAYER" | cut -f1)

declare -A CACHE USED DISK CREATE
run_vz() { # label create-options...
	local label=$1 i t0 t1 before after total=0
	shift
	drop_caches
	read -r -a before <<<"$(snapshot_mem)"
	for ((i = 1; i <= N; i++)); do
		t0=$(now)
		"$VZCTL" create $((1000 + i)) --ostemplate "$TMPL" "$@" >>"$LOG" 2>&1 || { echo "vz create failed ($label)"; exit 1; }
		t1=$(now)
		total=$((total + t1 - t0))
		"$VZCTL" start $((1000 + i)) --wait >>"$LOG" 2>&1 || { echo "vz start failed ($label)"; exit 1; }
		"$VZCTL" exec $((1000 + i)) "setsid sh -c '$PROG' </dev/null >/dev/null 2>&1 &" >>"$LOG" 2>&1
	done
	sleep 5 # the readers finish
	read -r -a after <<<"$(snapshot_mem)"
	CACHE[$label]=$(per_ct $((after[0] - before[0])))
	USED[$label]=$(per_ct $((after[1] - before[1])))
	DISK[$label]=$(du -skx "$VZ_ROOT/vz/private" | awk -v n="$N" '{printf "%.1f", $1 / n / 1024}')
	CREATE[$label]=$(awk -v t="$total" -v n="$N" 'BEGIN {printf "%.1f", t / n / 1000}')
	for ((i = 1; i <= N; i++)); do
		"$VZCTL" stop $((1000 + i)) --fast >>"$LOG" 2>&1
		"$VZCTL" destroy $((1000 + i)) >>"$LOG" 2>&1
	done
}

LXC_NA=
run_lxc() {
	local i before after name total=0 t0 t1
	command -v lxc-start >/dev/null || { LXC_NA="lxc not installed"; return; }
	drop_caches
	read -r -a before <<<"$(snapshot_mem)"
	for ((i = 1; i <= N; i++)); do
		name=vzd$$-$i
		mkdir -p "$LXCP/$name"
		t0=$(now)
		cp -a "$LAYER" "$LXCP/$name/rootfs" || { LXC_NA="cannot copy the rootfs"; return; }
		t1=$(now)
		total=$((total + t1 - t0))
		{
			echo "lxc.include = /usr/share/lxc/config/common.conf"
			echo "lxc.arch = x86_64"
			echo "lxc.rootfs.path = dir:$LXCP/$name/rootfs"
			echo "lxc.uts.name = $name"
			echo "lxc.net.0.type = empty"
		} >"$LXCP/$name/config"
		lxc-start -P "$LXCP" -n "$name" -d >>"$LOG" 2>&1 || { LXC_NA="lxc-start failed"; return; }
		lxc-wait -P "$LXCP" -n "$name" -s RUNNING -t 30 >>"$LOG" 2>&1
		lxc-attach -P "$LXCP" -n "$name" -- sh -c "setsid sh -c '$PROG' </dev/null >/dev/null 2>&1 &" >>"$LOG" 2>&1
	done
	sleep 5
	read -r -a after <<<"$(snapshot_mem)"
	CACHE[lxc]=$(per_ct $((after[0] - before[0])))
	USED[lxc]=$(per_ct $((after[1] - before[1])))
	DISK[lxc]=$(du -skx "$LXCP" | awk -v n="$N" '{printf "%.1f", $1 / n / 1024}')
	CREATE[lxc]=$(awk -v t="$total" -v n="$N" 'BEGIN {printf "%.1f", t / n / 1000}')
	for ((i = 1; i <= N; i++)); do
		lxc-stop -P "$LXCP" -n "vzd$$-$i" -k >>"$LOG" 2>&1
		lxc-destroy -P "$LXCP" -n "vzd$$-$i" >>"$LOG" 2>&1
	done
}

echo "starting $N CTs per layout from $TMPL ($SIZE MB unpacked)..."
run_vz overlay
run_vz image --layout image --diskspace "$DISK"
[[ ${BENCH_SKIP_LXC:-0} == 1 ]] && LXC_NA="skipped" || run_lxc

# create time against template size: the tiny busybox template
t0=$(now)
"$VZCTL" create 1001 --ostemplate busybox >>"$LOG" 2>&1 && "$VZCTL" destroy 1001 >>"$LOG" 2>&1
t0=$(now)
"$VZCTL" create 1001 --ostemplate busybox >>"$LOG" 2>&1 || exit 1
t1=$(now)
"$VZCTL" destroy 1001 >>"$LOG" 2>&1
BB=$(awk -v t=$((t1 - t0)) 'BEGIN {printf "%.1f", t / 1000}')

echo
printf '%-26s %14s %14s %12s %12s\n' "per CT ($N CTs)" "page cache MB" "mem used MB" "disk MB" "create ms"
for l in overlay image lxc; do
	if [[ $l == lxc && -n $LXC_NA ]]; then
		printf '%-26s %14s\n' "LXC dir (copy)" "n/a: $LXC_NA"
		continue
	fi
	name=$l
	[[ $l == overlay ]] && name="vz overlay (shared)"
	[[ $l == image ]] && name="vz image ($DISK)"
	[[ $l == lxc ]] && name="LXC dir (copy)"
	printf '%-26s %14s %14s %12s %12s\n' "$name" "${CACHE[$l]}" "${USED[$l]}" "${DISK[$l]}" "${CREATE[$l]}"
done
echo "vz overlay create from busybox (~2 MB): $BB ms; from $TMPL ($SIZE MB): ${CREATE[overlay]} ms"
echo "target: the overlay layout's page cache per CT near zero, well under a copy's"
exit 0
