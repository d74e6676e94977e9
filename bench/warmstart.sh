#!/usr/bin/env bash
# bench/warmstart.sh: a CT whose services are up in the time of a restore.
#
# One Debian CT (systemd, sshd) started N times cold (`vzctl start --wait`:
# a boot until systemd says running) and N times warm (`vzctl start` while
# a dump of the booted CT is there: vzctl restores it, as vzctl always did
# for a suspended CT), each until `systemctl is-system-running` answers
# running inside. Between warm starts the CT is suspended again (not
# timed). Prints the medians and their ratio. See bench/README.md.
#
# Environment:
#   BENCH_N=5                      starts of each kind
#   BENCH_TEMPLATE=debian-12-x86_64
#   BENCH_TEMPLATE_DIR=DIR         a TEMPLATE dir that has it built already
#   VZCTL, VZTMPL                  binaries (default: <repo>/build/, then $PATH)
#
# Exit status: 0 when every start worked, 1 when one failed, 2 on a bad
# precondition.
set -u -o pipefail

N=${BENCH_N:-5}
TMPL=${BENCH_TEMPLATE:-debian-12-x86_64}
BENCH=warmstart
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

TMP=$(mktemp -d /var/tmp/vz-bench-warm.XXXXXX)
export VZ_ROOT=$TMP/root
LOG=$TMP/log
ID=301
cleanup() {
	"$VZCTL" stop $ID --fast >/dev/null 2>&1
	"$VZCTL" destroy $ID >/dev/null 2>&1
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_template "$TMPL" "$LOG"
"$VZCTL" create $ID --ostemplate "$TMPL" >"$LOG" 2>&1 || { tail -n 3 "$LOG"; exit 1; }

# running: systemd inside says so
ready() {
	local i
	for ((i = 0; i < 1200; i++)); do
		[[ $("$VZCTL" exec2 $ID 'systemctl is-system-running' 2>/dev/null) == running ]] && return 0
		sleep 0.01
	done
	return 1
}

cold=() warm=() fail=0
for ((i = 0; i < N; i++)); do
	t0=$(now)
	"$VZCTL" start $ID --wait >>"$LOG" 2>&1 && ready || { fail=1; break; }
	cold+=($(($(now) - t0)))
	"$VZCTL" stop $ID --fast >>"$LOG" 2>&1
done
"$VZCTL" start $ID --wait >>"$LOG" 2>&1 && ready && "$VZCTL" suspend $ID >>"$LOG" 2>&1 || fail=1
for ((i = 0; i < N && !fail; i++)); do
	t0=$(now)
	"$VZCTL" start $ID >>"$LOG" 2>&1 && ready || { fail=1; break; }
	warm+=($(($(now) - t0)))
	"$VZCTL" suspend $ID >>"$LOG" 2>&1 || fail=1
done
((fail)) && { echo "$BENCH: a start failed:"; tail -n 5 "$LOG"; exit 1; }
c=$(printf '%s\n' "${cold[@]}" | median)
w=$(printf '%s\n' "${warm[@]}" | median)
printf 'cold boot to systemd running:     %8s ms (median of %d)\n' "$(ms "$c")" "$N"
printf 'warm start (restore) to running:  %8s ms (median of %d)\n' "$(ms "$w")" "$N"
awk -v c="$c" -v w="$w" 'BEGIN { printf "warm/cold: %.2fx\n", w / c }'
