#!/usr/bin/env bash
# bench/migrate.sh: live migration's frozen time, against plain CRIU.
#
# Two "hosts" on this machine (network namespaces made here, no route out,
# 198.18.0.0/15 only), each with its own VZ_ROOT. A busybox CT runs memhog
# (tests/memhog.c) with MiB of touched memory, idle or dirtying a steady
# MiB/s. For each size and load it measures, in the same run:
#   - baseline: plain stop, dump, copy, restore with CRIU alone (vzctl
#     chkpnt, an rsync of the dump to another directory, vzctl restore from
#     it): the CT is frozen (down) the whole time;
#   - each online strategy the kernel allows (post-copy, stop-copy, and
#     pre-copy where it tracks dirty memory), as vzmigrate reports it:
#     total time, frozen time, bytes sent; and memhog's own longest stall.
# Prints a table and the ratios the targets are about: post-copy's frozen
# time against the baseline's at the biggest size (target <= 1/20), and at
# the biggest size against the smallest (target <= 1.2x). Medians of N.
#
# Environment:
#   BENCH_N=3                   runs per cell (medians)
#   BENCH_SIZES="256 1024"      MiB of touched memory
#   BENCH_DIRTY="0 20"          MiB/s the writer dirties (0: idle)
#   VZCTL, VZMIGRATE            binaries (default: <repo>/build/)
#
# Exit status: 0 when every run worked, 1 when one failed, 2 on a bad
# precondition.
set -u -o pipefail

N=${BENCH_N:-3}
SIZES=${BENCH_SIZES:-256 1024}
DIRTY=${BENCH_DIRTY:-0 20}
BENCH=migrate
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "$BENCH: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "must run as root"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
VZCTL=${VZCTL:-$REPO/build/vzctl}
VZMIGRATE=${VZMIGRATE:-$REPO/build/vzmigrate}
MEMHOG=$REPO/build/memhog
for b in "$VZCTL" "$VZMIGRATE" "$MEMHOG"; do [[ -x $b ]] || die "no $b (make first)"; done
command -v rsync >/dev/null || die "no rsync (scripts/deps.sh)"

now() { echo "${EPOCHREALTIME/./}"; } # microseconds, no fork
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

TMP=$(mktemp -d /var/tmp/vz-bench-migrate.XXXXXX)
A=vzb-$$-a B=vzb-$$-b
RA=$TMP/a RB=$TMP/b
ID=101 IP=198.18.0.2
ina() { nsenter --net="/run/netns/$A" "$@"; }
inb() { nsenter --net="/run/netns/$B" "$@"; }
va() { ina "$VZCTL" --vz-root "$RA" "$@"; }
vb() { inb "$VZCTL" --vz-root "$RB" "$@"; }

cleanup() {
	va stop $ID --fast >/dev/null 2>&1
	vb stop $ID --fast >/dev/null 2>&1
	va destroy $ID >/dev/null 2>&1
	vb destroy $ID >/dev/null 2>&1
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	rm -rf --one-file-system "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$A" && ip netns add "$B" || die "cannot make network namespaces"
ina ip link set lo up && inb ip link set lo up

# the CT, fresh on host A, running memhog MIB DIRTY
fresh_ct() {
	va stop $ID --fast >/dev/null 2>&1; vb stop $ID --fast >/dev/null 2>&1
	va destroy $ID >/dev/null 2>&1; vb destroy $ID >/dev/null 2>&1
	rm -rf "$RA/vz/dump" "$RB/vz/dump"
	# no disk image: memhog goes into the plain upper layer below, and the
	# copy of an image costs its whole apparent size on every pass
	va create $ID --ostemplate busybox --diskspace unlimited >/dev/null || return 1
	install -D -m 755 "$MEMHOG" "$RA/vz/private/$ID/fs/usr/local/bin/memhog" || return 1
	va set $ID --ipadd $IP --save >/dev/null || return 1
	va start $ID >/dev/null || return 1
	va exec $ID "memhog $1 $2 /tmp/memhog </dev/null >/dev/null 2>&1 &" || return 1
	# touched: memhog reports once all of it is written
	local i
	for ((i = 0; i < 600; i++)); do
		va exec2 $ID 'test -s /tmp/memhog' >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# memhog's longest stall so far, ms (as the app saw the freeze)
maxgap() { "$@" exec2 $ID 'cut -d" " -f5 /tmp/memhog' 2>/dev/null || echo -1; }

# one baseline run: "frozen_ms total_ms bytes gap_ms"
baseline() {
	local t0 t1 bytes
	t0=$(now)
	va chkpnt $ID >/dev/null || return 1
	bytes=$(du -sb "$RA/vz/dump/Dump.$ID" | cut -f1)
	rsync -a "$RA/vz/dump/Dump.$ID/" "$TMP/copy/" || return 1
	rm -rf "$RA/vz/dump/Dump.$ID"
	va restore $ID --dumpfile "$TMP/copy" >/dev/null || return 1
	t1=$(now)
	rm -rf "$TMP/copy"
	local ms=$(((t1 - t0) / 1000))
	echo "$ms $ms $bytes $(maxgap va)"
}

precopy=no
criu_bin=/usr/local/lib/vz/criu/criu
[[ -x $criu_bin ]] || criu_bin=$(command -v criu) || die "no criu (scripts/criu.sh)"
if "$criu_bin" check --feature mem_dirty_track >/dev/null 2>&1; then
	precopy=yes
fi
STRATS="postcopy stopcopy"
[[ $precopy == yes ]] && STRATS="postcopy precopy stopcopy"

declare -A FROZEN TOTAL BYTES GAP
fail=0
for mib in $SIZES; do
	for dirty in $DIRTY; do
		for what in baseline $STRATS; do
			f=() t=() b=() g=()
			for ((r = 1; r <= N; r++)); do
				fresh_ct "$mib" "$dirty" || { echo "$BENCH: cannot start the CT" >&2; fail=1; continue; }
				if [[ $what == baseline ]]; then
					line=$(baseline) || { echo "$BENCH: baseline failed" >&2; fail=1; continue; }
				else
					out=$(ina "$VZMIGRATE" --vz-root "$RA" --online --strategy "$what" \
						--dst-root "$RB" "netns:$B" $ID 2>"$TMP/err") ||
						{ echo "$BENCH: $what: $(tail -n1 "$TMP/err")" >&2; fail=1; continue; }
					# "... total T s, frozen F s, M MB sent"
					line=$(awk '{for (i = 1; i <= NF; i++) {
						if ($i == "total") t = $(i+1) * 1000
						if ($i == "frozen") f = $(i+1) * 1000
						if ($i == "MB") m = $(i-1) * 1e6 }
						printf "%d %d %d", f, t, m}' <<<"$out")
					line="$line $(maxgap vb)"
				fi
				read -r fr to by ga <<<"$line"
				f+=("$fr") t+=("$to") b+=("$by") g+=("$ga")
			done
			k="$mib/$dirty/$what"
			FROZEN[$k]=$(printf '%s\n' "${f[@]:-0}" | median)
			TOTAL[$k]=$(printf '%s\n' "${t[@]:-0}" | median)
			BYTES[$k]=$(printf '%s\n' "${b[@]:-0}" | median)
			GAP[$k]=$(printf '%s\n' "${g[@]:-0}" | median)
			printf '%6s MiB %3s MiB/s %-9s frozen %8.0f ms  total %8.0f ms  %8.1f MB  app stall %6.0f ms\n' \
				"$mib" "$dirty" "$what" "${FROZEN[$k]}" "${TOTAL[$k]}" \
				"$(awk -v b="${BYTES[$k]}" 'BEGIN{print b/1e6}')" "${GAP[$k]}"
		done
	done
done

echo
echo "pre-copy on this kernel: $precopy (it needs soft-dirty memory tracking)"
set -- $SIZES
small=$1 big=${!#}
for dirty in $DIRTY; do
	for s in $STRATS; do
		awk -v s="$s" -v d="$dirty" -v big="$big" -v small="$small" \
			-v f="${FROZEN[$big/$dirty/$s]}" -v fb="${FROZEN[$big/$dirty/baseline]}" \
			-v fs="${FROZEN[$small/$dirty/$s]}" 'BEGIN {
			printf "%-9s %2s MiB/s: frozen at %s MiB = %.3f of the baseline'"'"'s (target <= 0.050); %s/%s MiB = %.2fx (target <= 1.20)\n",
				s, d, big, (fb > 0 ? f / fb : 0), big, small, (fs > 0 ? f / fs : 0) }'
	done
done
exit $fail
