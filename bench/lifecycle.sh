#!/usr/bin/env bash
# bench/lifecycle.sh: container lifecycle latency, vz vs LXC vs an unshare floor.
#
# One run, one host, the same busybox on both sides. Medians over BENCH_N
# iterations (interleaved: vz, LXC, floor, vz, LXC, floor, ...), then
# ratios and the targets (informational). See bench/README.md.
#
# Environment:
#   BENCH_N=10          measured iterations
#   BENCH_WARMUP=1      discarded iterations before those
#   BENCH_SKIP_VZ=0     1: skip vz (LXC and floor only)
#   BENCH_SKIP_LXC=0    1: skip LXC
#   BENCH_FAST=1        0: skip the extra kill-stop cycle (vzctl stop CTID --fast / lxc-stop -k)
#   BENCH_CTID=900      vz CT id (in a private VZ_ROOT)
#   BENCH_CLOCK=auto    auto: bash $EPOCHREALTIME (no fork), date: `date +%s%N`
#   BENCH_KEEP=0        1: keep the temp dir (logs) at the end
#   VZCTL=...           vzctl binary (default: <repo>/build/vzctl, then $PATH)
#   BUSYBOX=/bin/busybox  static busybox the LXC rootfs is built from
#   BENCH_LXC_ROOTFS=own  own: LXC rootfs built here from $BUSYBOX (minimal inittab);
#                         vz: a copy of vz's unpacked busybox template (identical rootfs)
#   BENCH_LXC_CONFIG_EXTRA  extra lines appended to the LXC config
#   BENCH_VZ_CREATE_OPTS    extra options of vz's create (e.g. "--diskspace unlimited")
#   BENCH_VZ_CONFIG_EXTRA   extra lines appended to the vz CT's config (e.g.
#                           SECCOMP="none"): what one defence costs
#
# Exit status: 0 when everything measured ran (LXC unusable on this host is
# reported as n/a, not as a failure), 1 when a vz step failed, 2 on a bad
# precondition (not root, no vzctl, no unshare, no busybox).

set -u -o pipefail

N=${BENCH_N:-10}
WARMUP=${BENCH_WARMUP:-1}
SKIP_VZ=${BENCH_SKIP_VZ:-0}
SKIP_LXC=${BENCH_SKIP_LXC:-0}
FAST=${BENCH_FAST:-1}
CTID=${BENCH_CTID:-900}
CLOCK=${BENCH_CLOCK:-auto}
KEEP=${BENCH_KEEP:-0}
BUSYBOX=${BUSYBOX:-/bin/busybox}
LXC_ROOTFS_MODE=${BENCH_LXC_ROOTFS:-own}
EXEC_TIMEOUT_S=10    # exec-ready retry budget after start returned

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd / || exit 2       # lxc-attach and exec follow the cwd; / exists everywhere

die() { echo "lifecycle: $*" >&2; exit 2; }
note() { printf '\n   note: %s' "$*"; NOTED=1; }   # mid progress line
NOTED=0

[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got '$N')"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "BENCH_WARMUP must be an integer >= 0 (got '$WARMUP')"
[[ $LXC_ROOTFS_MODE == own || $LXC_ROOTFS_MODE == vz ]] ||
	die "BENCH_LXC_ROOTFS must be own or vz (got '$LXC_ROOTFS_MODE')"
[[ $(id -u) == 0 ]] || die "must run as root (namespaces, cgroups, mounts)"
command -v unshare >/dev/null || die "unshare (util-linux) not found"
[[ -x $BUSYBOX ]] || die "$BUSYBOX not found (apt-get install busybox-static)"

if [[ $SKIP_VZ != 1 ]]; then
	if [[ -z ${VZCTL:-} ]]; then
		if [[ -x $REPO/build/vzctl ]]; then VZCTL=$REPO/build/vzctl
		else VZCTL=$(command -v vzctl) || true; fi
	fi
	[[ -n ${VZCTL:-} && -x $VZCTL ]] ||
		die "vzctl not found: run make, set VZCTL=, or BENCH_SKIP_VZ=1"
fi

# ---------------------------------------------------------------- clock
if [[ $CLOCK == auto && -n ${EPOCHREALTIME:-} ]]; then
	now() { local t=${EPOCHREALTIME//[.,]/}; NOW=$((10#$t * 1000)); }
	# shellcheck disable=SC2016  # literal text
	CLOCK_DESC='bash $EPOCHREALTIME (us resolution, no fork)'
else
	now() { NOW=$(date +%s%N); }
	CLOCK_DESC='date +%s%N (one fork per reading)'
fi

# ---------------------------------------------------------------- state
TMP=$(mktemp -d /tmp/vz-bench.XXXXXX) || die "mktemp failed"
LOG=$TMP/bench.log
: >"$LOG"
declare -A S=()          # metric -> space-separated samples (ns, or kB for mem)
declare -A RETRIES=()    # side -> number of runs whose first exec failed
VZ_NA=''; VZ_BROKEN=0; VZ_CREATED=0; VZ_RUNNING=0; VZ_CHECKED=0
LXC_NA=''; LXC_CREATED=0; LXC_RUNNING=0
LXCP=$TMP/lxc                    # private lxcpath
LXN=vzbench-$$                   # cgroup names (lxc.payload.NAME) are host-global
ROOTFS=$TMP/lxc-rootfs
VZ_CGROUPS=()                    # cgroup dirs seen for the vz CT (leak check)
PIVOT_PRE=()                     # lxc.pivot dirs present before we ran

[[ $SKIP_VZ == 1 ]] && VZ_NA='skipped (BENCH_SKIP_VZ=1)'
[[ $SKIP_LXC == 1 ]] && LXC_NA='skipped (BENCH_SKIP_LXC=1)'
for d in /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot; do
	[[ -d $d ]] && PIVOT_PRE+=("$d")
done

add() { S[$1]+="$2 "; }

log_cmd() { echo "+ $*" >>"$LOG"; }

# run_timed CMD...: runs CMD (output to $LOG), sets T_NS, returns CMD's status
run_timed() {
	local t0 rc
	log_cmd "$@"
	now; t0=$NOW
	"$@" </dev/null >>"$LOG" 2>&1
	rc=$?
	now; T_NS=$((NOW - t0))
	return $rc
}

# exec_ready SIDE CMD...: time until CMD first succeeds (retries for up to
# EXEC_TIMEOUT_S). Sets T_NS (first attempt .. success) and TRIES.
exec_ready() {
	local side=$1 t0 deadline
	shift
	TRIES=0
	log_cmd "$@"
	now; t0=$NOW; deadline=$((t0 + EXEC_TIMEOUT_S * 1000000000))
	while :; do
		TRIES=$((TRIES + 1))
		"$@" </dev/null >>"$LOG" 2>&1 && break
		now
		((NOW > deadline)) && { T_NS=$((NOW - t0)); return 1; }
		sleep 0.01
	done
	now; T_NS=$((NOW - t0))
	((TRIES > 1)) && RETRIES[$side]=$((${RETRIES[$side]:-0} + 1))
	return 0
}

log_tail() { tail -n "${1:-8}" "$LOG" | sed 's/^/    | /'; }

# mem_kb PID -> "RSS PSS" in kB (PSS needs smaps_rollup, else -)
mem_kb() {
	local rss pss
	rss=$(awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null)
	pss=$(awk '/^Pss:/{print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)
	echo "${rss:--} ${pss:--}"
}

ppid_of() { awk '/^PPid:/{print $2}' "/proc/$1/status" 2>/dev/null; }

# ---------------------------------------------------------------- cleanup
# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
	local rc=$? d
	set +e
	trap - EXIT INT TERM
	((rc >= 128)) && echo >&2 && echo "lifecycle: interrupted; cleaning up" >&2
	if ((VZ_CREATED)); then
		if ((VZ_RUNNING)) || "$VZCTL" status "$CTID" 2>/dev/null | grep -q ' running'; then
			"$VZCTL" stop "$CTID" --fast >>"$LOG" 2>&1 ||
				echo "cleanup: vzctl stop $CTID --fast failed" >&2
		fi
		"$VZCTL" destroy "$CTID" >>"$LOG" 2>&1 ||
			echo "cleanup: vzctl destroy $CTID failed" >&2
		# vz's cgroups for this private root: report leaks, remove if empty
		for ((i = ${#VZ_CGROUPS[@]} - 1; i >= 0; i--)); do
			d=${VZ_CGROUPS[i]}
			if [[ -d $d ]]; then
				echo "cleanup: vz left cgroup $d behind; removing" >&2
				rmdir "$d" 2>/dev/null || echo "cleanup: could not rmdir $d" >&2
			fi
		done
	fi
	if ((LXC_CREATED)); then
		if lxc-info -P "$LXCP" -n "$LXN" -sH 2>/dev/null | grep -qv STOPPED; then
			lxc-stop -P "$LXCP" -n "$LXN" -k >>"$LOG" 2>&1
		fi
		lxc-destroy -P "$LXCP" -n "$LXN" >>"$LOG" 2>&1 ||
			echo "cleanup: lxc-destroy $LXN failed" >&2
		# LXC leaves an empty lxc.pivot cgroup per hierarchy (drop ours), and
		# after a failed start its lxc.monitor.NAME[-n] ones (EBUSY in
		# cgfsng_monitor_destroy); NAME carries our pid, so those are ours
		for d in /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot; do
			[[ -d $d ]] || continue
			[[ " ${PIVOT_PRE[*]} " == *" $d "* ]] && continue
			rmdir "$d" 2>/dev/null
		done
		for d in /sys/fs/cgroup/*/lxc.{monitor,payload}."$LXN"{,-[0-9]*} \
			/sys/fs/cgroup/lxc.{monitor,payload}."$LXN"{,-[0-9]*}; do
			[[ -d $d ]] && rmdir "$d" 2>/dev/null
		done
	fi
	# never let rm cross into something still mounted under $TMP
	awk -v p="$TMP" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | while read -r d; do
			echo "cleanup: $d still mounted; lazy-unmounting" >&2
			umount -l "$d"
		done
	if [[ $KEEP == 1 ]]; then
		echo "kept $TMP (log: $LOG)"
	else
		rm -rf --one-file-system "$TMP"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- vz
vz_fail() {
	VZ_NA="broken: $*"
	VZ_BROKEN=1
	echo >&2
	echo "vz: $*" >&2
	log_tail 8 >&2
}

vz_setup() {
	mkdir -p "$TMP/vzroot"
	export VZ_ROOT=$TMP/vzroot
	# shellcheck disable=SC2086 # options, split on purpose
	run_timed "$VZCTL" create "$CTID" --ostemplate busybox ${BENCH_VZ_CREATE_OPTS:-} ||
		{ vz_fail "vzctl create $CTID --ostemplate busybox failed (exit $?)"; return; }
	VZ_CREATED=1
	VZ_CREATE_NS=$T_NS
	if [[ -n ${BENCH_VZ_CONFIG_EXTRA:-} ]]; then
		printf '%s\n' "$BENCH_VZ_CONFIG_EXTRA" >>"$VZ_ROOT/etc/vz/conf/$CTID.conf"
	fi
}

vz_monitor_pid() {
	local f=$VZ_ROOT/run/vz/$CTID.state
	[[ -r $f ]] || return 1
	sed -n 's/^MONITOR_PID="\{0,1\}\([0-9][0-9]*\)"\{0,1\}[[:space:]]*$/\1/p' "$f" | head -n1
}

# once: is the vz CT really the same rootfs as the LXC one?
vz_compare_rootfs() {
	local out halt f mon kid ctl path mnt rest
	out=$("$VZCTL" exec3 "$CTID" /bin/cat /etc/inittab 2>/dev/null)
	if [[ -z $out ]]; then
		note "could not read the vz CT's /etc/inittab"
	elif [[ $out != "$(cat "$ROOTFS/etc/inittab" 2>/dev/null)" && $SKIP_LXC != 1 ]]; then
		note "vz busybox template inittab differs from the LXC rootfs' one:"
		printf '\n%s' "$out" | sed 's/^./    vz> &/'
	fi
	out=$("$VZCTL" exec3 "$CTID" /bin/busybox 2>/dev/null | head -n1)
	[[ $out == "$("$BUSYBOX" 2>/dev/null | head -n1)" ]] ||
		note "vz CT busybox ('${out:-?}') is not $BUSYBOX"
	f=$VZ_ROOT/run/vz/$CTID.state
	halt=$(sed -n 's/^HALT_SIGNAL="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$f" 2>/dev/null)
	[[ -z $halt || $halt == SIGUSR2 || $halt == USR2 || $halt == 12 ]] ||
		note "vz halts its init with $halt, LXC here with SIGUSR2"
	((NOTED)) && echo
	# Remember the CT's own cgroups (those of the monitor's children) for the
	# leak check at cleanup. Only the per-root parent `vz-<hash>` and what is
	# below it: VZ_ROOT is a fresh mktemp dir, so that subtree is this run's.
	mon=$(vz_monitor_pid) || return 0
	# shellcheck disable=SC2013  # children holds space-separated pids
	for kid in $(cat /proc/"$mon"/task/*/children 2>/dev/null); do
		while IFS=: read -r _ ctl path; do
			[[ $path/ =~ ^(.*/vz-[^/]+)(/.*)?/$ ]] || continue
			mnt=$(awk -v c="${ctl%%,*}" '{
				for (i = 7; $i != "-"; i++) ;
				if (c == "" && $(i + 1) == "cgroup2") { print $5; exit }
				if (c != "" && $(i + 1) == "cgroup" && ("," $(i + 3) ",") ~ ("," c ",")) { print $5; exit }
			}' /proc/self/mountinfo)
			[[ -n $mnt ]] || continue
			path=${path%/}
			f=${BASH_REMATCH[1]#/}
			VZ_CGROUPS+=("$mnt/$f")
			rest=${path#/"$f"}
			while [[ -n $rest ]]; do       # each level below vz-<hash>, shallow first
				rest=${rest#/}
				f=$f/${rest%%/*}
				VZ_CGROUPS+=("$mnt/$f")
				[[ $rest == */* ]] && rest=/${rest#*/} || rest=''
			done
		done <"/proc/$kid/cgroup"
	done
}

vz_cycle() {  # vz_cycle RECORD(0|1)
	local rec=$1 pid m
	run_timed "$VZCTL" start "$CTID" || { vz_fail "vzctl start $CTID failed (exit $?)"; return; }
	VZ_RUNNING=1
	((rec)) && add vz_start "$T_NS"
	exec_ready vz "$VZCTL" exec3 "$CTID" /bin/true ||
		{ vz_fail "vzctl exec3 $CTID /bin/true never succeeded within ${EXEC_TIMEOUT_S}s"; return; }
	((rec)) && add vz_exec "$T_NS"
	((VZ_CHECKED)) || { VZ_CHECKED=1; vz_compare_rootfs; }
	if ((rec)); then
		if pid=$(vz_monitor_pid) && [[ -n $pid ]]; then
			read -r -a m <<<"$(mem_kb "$pid")"
			[[ ${m[0]} != - ]] && add vz_rss "${m[0]}"
			[[ ${m[1]} != - ]] && add vz_pss "${m[1]}"
		else
			VZ_MEM_NOTE="no MONITOR_PID in $VZ_ROOT/run/vz/$CTID.state"
		fi
	fi
	run_timed "$VZCTL" stop "$CTID" || { vz_fail "vzctl stop $CTID failed (exit $?)"; return; }
	VZ_RUNNING=0
	((rec)) && add vz_stop "$T_NS"
	if [[ $FAST == 1 ]]; then
		run_timed "$VZCTL" start "$CTID" || { vz_fail "vzctl start $CTID failed (exit $?)"; return; }
		VZ_RUNNING=1
		exec_ready vz "$VZCTL" exec3 "$CTID" /bin/true ||
			{ vz_fail "vzctl exec3 $CTID /bin/true never succeeded"; return; }
		run_timed "$VZCTL" stop "$CTID" --fast ||
			{ vz_fail "vzctl stop $CTID --fast failed (exit $?)"; return; }
		VZ_RUNNING=0
		((rec)) && add vz_kill "$T_NS"
	fi
}

# ---------------------------------------------------------------- LXC
lxc_diagnose() {  # one verbose start to find out why LXC does not work
	local dl=$TMP/lxc-diag.log
	lxc-stop -P "$LXCP" -n "$LXN" -k >/dev/null 2>&1
	lxc-start -P "$LXCP" -n "$LXN" -d -l DEBUG -o "$dl" </dev/null >>"$LOG" 2>&1
	lxc-stop -P "$LXCP" -n "$LXN" -k >/dev/null 2>&1
	# the first ERRORs name the cause; the later ones are the generic epilogue
	grep -E ' ERROR ' "$dl" 2>/dev/null | head -n 6 | sed 's/^/    | /'
}

lxc_fail() {
	LXC_NA="n/a: $*"
	echo >&2
	echo "lxc: $* -- LXC figures will be n/a" >&2
	log_tail 6 >&2
	if ((LXC_RUNNING)); then
		lxc-stop -P "$LXCP" -n "$LXN" -k >>"$LOG" 2>&1
		LXC_RUNNING=0
	fi
	echo "lxc: diagnostic start with -l DEBUG:" >&2
	lxc_diagnose >&2
}

lxc_setup() {
	local p
	command -v lxc-start >/dev/null || { LXC_NA='n/a: lxc-start not installed (apt-get install lxc)'; return; }
	if ldd "$BUSYBOX" 2>/dev/null | grep -q '=>'; then
		LXC_NA="n/a: $BUSYBOX is dynamically linked (install busybox-static)"; return
	fi
	if [[ $LXC_ROOTFS_MODE == vz ]]; then
		# the very rootfs vz CTs start from: its unpacked busybox template
		local tpl=${VZ_ROOT:-}/vz/template/layers/busybox
		if ((VZ_CREATED)) && [[ -x $tpl/bin/busybox ]] && cp -a "$tpl" "$ROOTFS"; then
			LXC_ROOTFS_DESC="copy of vz's busybox template"
			lxc_write_config
			return
		fi
		rm -rf --one-file-system "$ROOTFS"
		LXC_ROOTFS_DESC="built from $BUSYBOX (BENCH_LXC_ROOTFS=vz, but no vz template at ${tpl})"
	fi
	# rootfs: busybox + its applet symlinks, busybox init with a tiny inittab
	mkdir -p "$ROOTFS"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,tmp,root,run}
	cp "$BUSYBOX" "$ROOTFS/bin/busybox"
	while read -r p; do
		p=${p#/}
		[[ -z $p || $p == bin/busybox ]] && continue
		mkdir -p "$ROOTFS/$(dirname "$p")"
		[[ -e $ROOTFS/$p || -L $ROOTFS/$p ]] || ln -s /bin/busybox "$ROOTFS/$p"
	done < <("$BUSYBOX" --list-full)
	[[ -L $ROOTFS/sbin/init ]] || ln -sf /bin/busybox "$ROOTFS/sbin/init"
	cat >"$ROOTFS/etc/inittab" <<-'EOF'
	::sysinit:/bin/true
	::respawn:/bin/sleep 1000000
	::shutdown:/bin/true
	EOF
	echo "root:x:0:0:root:/root:/bin/sh" >"$ROOTFS/etc/passwd"
	echo "root:x:0:" >"$ROOTFS/etc/group"
	: "${LXC_ROOTFS_DESC:=built from $BUSYBOX, minimal inittab}"
	lxc_write_config
}

lxc_write_config() {
	mkdir -p "$LXCP/$LXN"
	{
		echo "lxc.rootfs.path = dir:$ROOTFS"
		echo "lxc.uts.name = $LXN"
		echo "lxc.net.0.type = empty"
		echo "lxc.init.cmd = /sbin/init"
		echo "lxc.autodev = 1"
		echo "lxc.mount.auto = proc:mixed sys:ro"
		echo "lxc.signal.halt = SIGUSR2"
		echo "lxc.tty.max = 0"
		echo "lxc.log.file = $TMP/lxc-$LXN.log"
		echo "lxc.log.level = ERROR"
		if [[ -d /sys/kernel/security/apparmor ]]; then
			echo "lxc.apparmor.profile = unconfined"
		fi
		[[ -n ${BENCH_LXC_CONFIG_EXTRA:-} ]] && printf '%s\n' "$BENCH_LXC_CONFIG_EXTRA"
	} >"$LXCP/$LXN/config"
	LXC_CREATED=1
}

lxc_cycle() {  # lxc_cycle RECORD(0|1)
	local rec=$1 s pid mon m
	run_timed lxc-start -P "$LXCP" -n "$LXN" -d || { lxc_fail "lxc-start failed (exit $?)"; return; }
	LXC_RUNNING=1
	s=$T_NS
	run_timed lxc-wait -P "$LXCP" -n "$LXN" -s RUNNING -t 10 ||
		{ lxc_fail "lxc-wait RUNNING failed (exit $?)"; return; }
	s=$((s + T_NS))
	((rec)) && add lxc_start "$s"
	exec_ready lxc lxc-attach -P "$LXCP" -n "$LXN" -- /bin/true ||
		{ lxc_fail "lxc-attach -- /bin/true never succeeded within ${EXEC_TIMEOUT_S}s"; return; }
	((rec)) && add lxc_exec "$T_NS"
	if ((rec)); then
		pid=$(lxc-info -P "$LXCP" -n "$LXN" -pH 2>/dev/null)
		mon=$([[ -n $pid ]] && ppid_of "$pid")
		if [[ -n $mon ]]; then
			read -r -a m <<<"$(mem_kb "$mon")"
			[[ ${m[0]} != - ]] && add lxc_rss "${m[0]}"
			[[ ${m[1]} != - ]] && add lxc_pss "${m[1]}"
		fi
	fi
	run_timed lxc-stop -P "$LXCP" -n "$LXN" || { lxc_fail "lxc-stop failed (exit $?)"; return; }
	LXC_RUNNING=0
	((rec)) && add lxc_stop "$T_NS"
	if [[ $FAST == 1 ]]; then
		run_timed lxc-start -P "$LXCP" -n "$LXN" -d || { lxc_fail "lxc-start failed (exit $?)"; return; }
		LXC_RUNNING=1
		run_timed lxc-wait -P "$LXCP" -n "$LXN" -s RUNNING -t 10 ||
			{ lxc_fail "lxc-wait RUNNING failed (exit $?)"; return; }
		exec_ready lxc lxc-attach -P "$LXCP" -n "$LXN" -- /bin/true ||
			{ lxc_fail "lxc-attach -- /bin/true never succeeded"; return; }
		run_timed lxc-stop -P "$LXCP" -n "$LXN" -k || { lxc_fail "lxc-stop -k failed (exit $?)"; return; }
		LXC_RUNNING=0
		((rec)) && add lxc_kill "$T_NS"
	fi
}

# ---------------------------------------------------------------- floor
FLOOR_NA=''
floor_cycle() {
	local rec=$1
	run_timed unshare --fork --pid --mount --uts --ipc --net true ||
		{ FLOOR_NA="n/a: unshare failed (exit $?)"; log_tail 4 >&2; return; }
	((rec)) && add floor "$T_NS"
}

# ---------------------------------------------------------------- stats
median() {  # median KEY [DIV] -> median of samples / DIV (default 1e6: ns -> ms)
	local v=${S[$1]:-}
	[[ -z $v ]] && { echo n/a; return; }
	tr ' ' '\n' <<<"$v" | grep . | sort -n | awk -v div="${2:-1000000}" '
		{ a[NR] = $1 }
		END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		      printf (div == 1 ? "%d" : "%.2f"), m / div }'
}

range() {  # range KEY -> "min..max" in ms
	local v=${S[$1]:-}
	[[ -z $v ]] && { echo -; return; }
	tr ' ' '\n' <<<"$v" | grep . | sort -n | awk '{ a[NR] = $1 } END { printf "%.1f..%.1f", a[1] / 1e6, a[NR] / 1e6 }'
}

minimum() {  # minimum KEY -> smallest sample in ms
	local v=${S[$1]:-}
	[[ -z $v ]] && { echo n/a; return; }
	tr ' ' '\n' <<<"$v" | grep . | sort -n | awk 'NR == 1 { printf "%.2f", $1 / 1e6 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "n/a" || b == "n/a" || a == "" || b == "" || b + 0 == 0) print "n/a"
		else printf "%.2fx", a / b }'
}

target() {  # target LABEL VZ LXC LIMIT
	local r verdict
	r=$(awk -v a="$2" -v b="$3" 'BEGIN {
		if (a == "n/a" || b == "n/a" || b + 0 == 0) print "n/a"; else printf "%.2f", a / b }')
	if [[ $r == n/a ]]; then verdict='n/a'
	elif awk -v r="$r" -v l="$4" 'BEGIN { exit !(r <= l) }'; then verdict='met'
	else verdict='NOT met'; fi
	[[ $r != n/a ]] && r=${r}x
	printf '   %-36s %8s -> %s\n' "$1 <= ${4}x:" "$r" "$verdict"
}

# ---------------------------------------------------------------- run
echo "== vz lifecycle bench: $(date -u +%FT%TZ) on $(uname -srm)"
echo "   N=$N (+$WARMUP warm-up), clock: $CLOCK_DESC"
echo "   busybox: $("$BUSYBOX" 2>/dev/null | head -n1)"
[[ $SKIP_LXC != 1 ]] && command -v lxc-start >/dev/null &&
	echo "   lxc: $(lxc-start --version 2>/dev/null) (lxcpath $LXCP)"
[[ $SKIP_VZ != 1 ]] && echo "   vzctl: $VZCTL ($("$VZCTL" --version 2>/dev/null | head -n1))"
[[ -n ${BENCH_VZ_CREATE_OPTS:-}${BENCH_VZ_CONFIG_EXTRA:-} ]] &&
	echo "   vz CT: create options '${BENCH_VZ_CREATE_OPTS:-}', config extra '${BENCH_VZ_CONFIG_EXTRA:-}'"
echo "   tmp: $TMP"

[[ -z $VZ_NA ]] && vz_setup
[[ -z $LXC_NA ]] && lxc_setup
[[ -z $LXC_NA ]] && echo "   lxc rootfs: $LXC_ROOTFS_DESC"

total=$((WARMUP + N))
for ((it = 1; it <= total; it++)); do
	rec=$((it > WARMUP))
	printf '\r   iteration %d/%d%s ' "$it" "$total" "$( ((rec)) || echo ' (warm-up)')"
	[[ -z $VZ_NA ]] && vz_cycle "$rec"
	[[ -z $LXC_NA ]] && lxc_cycle "$rec"
	[[ -z $FLOOR_NA ]] && floor_cycle "$rec"
	[[ -n $VZ_NA && -n $LXC_NA && -n $FLOOR_NA ]] && break
done
echo

# ---------------------------------------------------------------- report
declare -A M
for k in vz_start vz_exec vz_stop vz_kill lxc_start lxc_exec lxc_stop lxc_kill floor; do
	M[$k]=$(median "$k")
done
# "ready" = start + first successful exec, per run (median of the sums)
for side in vz lxc; do
	read -r -a st <<<"${S[${side}_start]:-}"
	read -r -a ex <<<"${S[${side}_exec]:-}"
	for ((i = 0; i < ${#st[@]} && i < ${#ex[@]}; i++)); do add "${side}_ready" $((st[i] + ex[i])); done
	M[${side}_ready]=$(median "${side}_ready")
done

echo
echo "== medians in ms over N=$N (min..max in brackets)"
cell() { printf '%9s %-14s' "$1" "[$2]"; }
printf '%-20s %-24s %-24s %8s %9s %9s %9s\n' metric '   vz' '   lxc' vz/lxc vz/floor lxc/floor 'min:vz/lx'
row() {  # row LABEL KEY
	local vz=${M[vz_$2]} lx=${M[lxc_$2]}
	printf '%-20s %s %s %8s %9s %9s %9s\n' "$1" \
		"$(cell "$vz" "$(range "vz_$2")")" "$(cell "$lx" "$(range "lxc_$2")")" \
		"$(ratio "$vz" "$lx")" "$(ratio "$vz" "${M[floor]}")" "$(ratio "$lx" "${M[floor]}")" \
		"$(ratio "$(minimum "vz_$2")" "$(minimum "lxc_$2")")"
}
row 'start' start
row 'exec /bin/true' exec
row 'ready (start+exec)' ready
row 'stop (graceful)' stop
[[ $FAST == 1 ]] && row 'stop (kill)' kill
printf '%-20s %s\n' 'floor (unshare)' "$(cell "${M[floor]}" "$(range floor)")"
echo "   vz:  start = vzctl start; exec = vzctl exec3 $CTID /bin/true; stop = vzctl stop; kill = vzctl stop $CTID --fast"
echo "   lxc: start = lxc-start -d + lxc-wait -s RUNNING; exec = lxc-attach -- /bin/true;"
echo "        stop = lxc-stop; kill = lxc-stop -k"
echo "   floor: unshare --fork --pid --mount --uts --ipc --net true"
echo "   ratios are of medians; min:vz/lx is the ratio of the minima, steadier on a busy host"
echo "   graceful stop with busybox init: its poweroff path sleeps ~1 s after SIGTERM to all"
echo "   and ~1 s before reboot(2), so ~2000 ms is the init's own floor on both sides"
[[ -n ${VZ_CREATE_NS:-} ]] &&
	echo "   vzctl create (once, includes building the busybox template): $(awk -v t="$VZ_CREATE_NS" 'BEGIN{printf "%.1f", t/1e6}') ms"
for side in vz lxc; do
	[[ -n ${RETRIES[$side]:-} ]] &&
		echo "   warning: $side: the first exec after start failed in ${RETRIES[$side]} run(s); exec counts until success"
done

echo
echo "== host memory per running CT (monitor process, median, kB)"
printf '   %-12s VmRSS %6s   Pss %6s\n' 'vz monitor' "$(median vz_rss 1)" "$(median vz_pss 1)"
printf '   %-12s VmRSS %6s   Pss %6s\n' 'lxc monitor' "$(median lxc_rss 1)" "$(median lxc_pss 1)"
echo "   vz: pid from MONITOR_PID in \$VZ_ROOT/run/vz/$CTID.state; lxc: parent of the CT's init ([lxc monitor])"
[[ -n ${VZ_MEM_NOTE:-} ]] && echo "   note: ${VZ_MEM_NOTE}"

echo
echo "== targets (informational)"
target 'vz start / lxc start' "${M[vz_start]}" "${M[lxc_start]}" 0.5
target 'vz exec / lxc-attach exec' "${M[vz_exec]}" "${M[lxc_exec]}" 0.5

[[ -n $VZ_NA ]] && echo "   vz: $VZ_NA"
[[ -n $LXC_NA ]] && echo "   lxc: $LXC_NA"
[[ -n $FLOOR_NA ]] && echo "   floor: $FLOOR_NA"

((VZ_BROKEN)) && exit 1
[[ -n $FLOOR_NA ]] && exit 1
exit 0
