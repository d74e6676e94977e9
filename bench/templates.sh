#!/usr/bin/env bash
# bench/templates.sh: creating a CT from a cached Debian template, and
# booting it to systemd "running", vz against LXC on the same rootfs.
#
# vz creates over the template's shared layer (nothing copied), so its
# create time should not grow with the template; LXC's `lxc-create -t
# local` unpacks the same tree from a tarball. Boot is timed from the start
# command to `systemctl is-system-running` answering running (or degraded).
# Medians over BENCH_N runs, then ratios. See bench/README.md.
#
# Environment:
#   BENCH_N=5                 measured runs of each step
#   BENCH_TEMPLATE=debian-12-x86_64
#   BENCH_TEMPLATE_DIR=DIR    a TEMPLATE dir that has it built already
#                             (default: built here, once, with vztmpl)
#   VZCTL, VZTMPL             binaries (default: <repo>/build/, then $PATH)
#   BENCH_KEEP=0              1: keep the temp dir
#
# Exit status: 0 when vz's steps ran (LXC unusable here is reported n/a),
# 1 when a vz step failed, 2 on a bad precondition.
set -u -o pipefail

N=${BENCH_N:-5}
TMPL=${BENCH_TEMPLATE:-debian-12-x86_64}
BENCH=templates
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TMP=$(mktemp -d /var/tmp/vz-bench-tmpl.XXXXXX)
export VZ_ROOT=$TMP/root
LXCP=$TMP/lxc
LXN=vzbench-tmpl-$$
LOG=$TMP/log
cleanup() {
	"$VZCTL" stop 950 --fast >/dev/null 2>&1
	"$VZCTL" destroy 950 >/dev/null 2>&1
	if command -v lxc-stop >/dev/null; then
		lxc-stop -P "$LXCP" -n "$LXN" -k >/dev/null 2>&1
		lxc-destroy -P "$LXCP" -n "$LXN" >/dev/null 2>&1
	fi
	[[ ${BENCH_KEEP:-0} == 1 ]] && { echo "kept $TMP"; return; }
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
cd / || exit 2

mkdir -p "$LXCP"
bench_template "$TMPL" "$LOG"
LAYER=$(readlink -f "$VZ_ROOT/vz/template/layers/$TMPL")
SIZE=$(du -sm "$LAYER" | cut -f1)

# ---- vz: create (over the shared layer) and boot ----
vz_create=() vz_boot=() vz_bb=()
for ((i = 0; i < N; i++)); do
	t0=$(now)
	"$VZCTL" create 950 --ostemplate "$TMPL" >>"$LOG" 2>&1 || { echo "vz create failed"; exit 1; }
	t1=$(now)
	"$VZCTL" start 950 --wait >>"$LOG" 2>&1 || { echo "vz start --wait failed"; exit 1; }
	t2=$(now)
	st=$("$VZCTL" exec 950 systemctl is-system-running 2>>"$LOG")
	[[ $st == running || $st == degraded ]] || { echo "vz: CT is $st after start --wait"; exit 1; }
	"$VZCTL" stop 950 >>"$LOG" 2>&1 && "$VZCTL" destroy 950 >>"$LOG" 2>&1 || exit 1
	vz_create+=($((t1 - t0)))
	vz_boot+=($((t2 - t1)))
	# the same create from the tiny busybox template: flat in template size?
	t0=$(now)
	"$VZCTL" create 950 --ostemplate busybox >>"$LOG" 2>&1 || exit 1
	t1=$(now)
	"$VZCTL" destroy 950 >>"$LOG" 2>&1 || exit 1
	((i == 0)) || vz_bb+=($((t1 - t0))) # the first one builds busybox
done
VZ_CREATE=$(printf '%s\n' "${vz_create[@]}" | median)
VZ_BOOT=$(printf '%s\n' "${vz_boot[@]}" | median)
VZ_BB=$( ((${#vz_bb[@]})) && printf '%s\n' "${vz_bb[@]}" | median || echo 0)

# ---- LXC: lxc-create -t local from the same tree, lxc-start to running ----
LXC_NA=
LXC_CREATE=0 LXC_BOOT=0
lxc_run() {
	command -v lxc-create >/dev/null || { LXC_NA="lxc not installed"; return; }
	[[ -x /usr/share/lxc/templates/lxc-local ]] || { LXC_NA="no lxc-local template"; return; }
	echo "packing the rootfs for lxc-local (not timed)..."
	tar -C "$LAYER" --numeric-owner -cf - . | xz -0 -T2 >"$TMP/rootfs.tar.xz" || { LXC_NA="tar failed"; return; }
	mkdir -p "$TMP/meta"
	{
		echo "lxc.include = /usr/share/lxc/config/common.conf"
		echo "lxc.arch = x86_64"
	} >"$TMP/meta/config"
	tar -C "$TMP/meta" -cJf "$TMP/meta.tar.xz" config || { LXC_NA="tar failed"; return; }
	local c=() b=() t0 t1 t2 st
	for ((i = 0; i < N; i++)); do
		t0=$(now)
		lxc-create -P "$LXCP" -n "$LXN" -t local -- -m "$TMP/meta.tar.xz" -f "$TMP/rootfs.tar.xz" \
			>>"$LOG" 2>&1 || { LXC_NA="lxc-create failed (see $LOG)"; return; }
		t1=$(now)
		echo "lxc.net.0.type = empty" >>"$LXCP/$LXN/config"
		lxc-start -P "$LXCP" -n "$LXN" -d >>"$LOG" 2>&1 || { LXC_NA="lxc-start failed"; return; }
		st=
		for ((k = 0; k < 600; k++)); do
			st=$(lxc-attach -P "$LXCP" -n "$LXN" -- systemctl is-system-running --wait 2>/dev/null)
			[[ $st == running || $st == degraded ]] && break
			sleep 0.05
		done
		t2=$(now)
		[[ $st == running || $st == degraded ]] || { LXC_NA="LXC's CT did not reach running ($st)"; return; }
		lxc-stop -P "$LXCP" -n "$LXN" -k >>"$LOG" 2>&1
		lxc-destroy -P "$LXCP" -n "$LXN" >>"$LOG" 2>&1
		c+=($((t1 - t0)))
		b+=($((t2 - t1)))
	done
	LXC_CREATE=$(printf '%s\n' "${c[@]}" | median)
	LXC_BOOT=$(printf '%s\n' "${b[@]}" | median)
}
lxc_run

ratio() { [[ $2 == 0 ]] && echo n/a || awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3gx", a/b}'; }
lxc_ms() { [[ -n $LXC_NA ]] && echo n/a || ms "$1"; }
echo
echo "template $TMPL: ${SIZE} MB unpacked; medians of $N runs"
printf '%-34s %12s %12s %10s\n' "" "vz" "LXC" "vz/LXC"
printf '%-34s %9s ms %9s ms %10s\n' "create from cached template" "$(ms "$VZ_CREATE")" \
	"$(lxc_ms "$LXC_CREATE")" "$(ratio "$VZ_CREATE" "$LXC_CREATE")"
printf '%-34s %9s ms %9s ms %10s\n' "boot to systemd running" "$(ms "$VZ_BOOT")" \
	"$(lxc_ms "$LXC_BOOT")" "$(ratio "$VZ_BOOT" "$LXC_BOOT")"
printf '%-34s %9s ms\n' "vz create from busybox (~2 MB)" "$(ms "$VZ_BB")"
[[ -n $LXC_NA ]] && echo "LXC: n/a: $LXC_NA"
echo "target: create flat in template size (vz $TMPL vs busybox: $(ratio "$VZ_CREATE" "$VZ_BB"))"
exit 0
