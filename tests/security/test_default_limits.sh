# Defaults that protect the host and the neighbours: a CT created without
# options has a process limit, RAM and swap limits, a disk limit and a CPU
# weight sized from the host (etc/ve-basic.conf-sample); a fork bomb, a
# memory hog and a disk filler run in it as CT root, and the host and a
# neighbour CT stay responsive. "unlimited" stays a choice.
#
# The fork bomb and the memory hog only run once the CT is seen to have
# its limit: without one they would take the host (shared with other
# work) down, so without the defaults those tests fail at that check. The
# disk filler runs on a small tmpfs of the test's own and fails for real.

MEMHOG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/memhog

conf_val() { sed -n "s/^$2=\"\\(.*\\)\"$/\\1/p" "$VZ_ROOT/etc/vz/conf/$1.conf"; }

# the CT's cgroup v1 or v2 directory holding FILE
ct_cg_file() {
	local d
	for d in $(ct_cgroup_dirs "$1"); do
		[ -e "$d/$2" ] && { echo "$d/$2"; return 0; }
	done
	return 1
}

# responsive WHAT: the host forks 50 times and the neighbour 102 runs a
# command, each within 10 s
responsive() {
	local t0 t1
	t0=$(date +%s%N)
	timeout 10 sh -c 'for i in $(seq 50); do /bin/true || exit 1; done' ||
		fail "$1: the host could not fork 50 times within 10 s"
	run_cmd timeout 10 "$VZ_BIN_DIR/vzctl" exec 102 'echo alive'
	[ "$LAST_CODE" = 0 ] && [ "$LAST_OUT" = alive ] ||
		fail "$1: the neighbour CT did not answer within 10 s (exit $LAST_CODE)"
	t1=$(date +%s%N)
	note "$1: host and neighbour answered in $(( (t1 - t0) / 1000000 )) ms"
}

test_a_ct_created_without_options_gets_limits_sized_from_the_host() {
	mk_ct 101
	local ram_kb pids ram numproc disk
	ram_kb=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
	pids=$(cat /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max | sort -n | head -n1)
	ram=$(conf_val 101 PHYSPAGES)
	numproc=$(conf_val 101 NUMPROC)
	disk=$(conf_val 101 DISKSPACE)
	[[ $ram =~ ^0:([0-9]+)M$ ]] || fail "PHYSPAGES of a default CT: '$ram'"
	local mb=${BASH_REMATCH[1]}
	[ "$mb" -le $((ram_kb / 1024 / 4)) ] && [ "$mb" -ge $((ram_kb / 1024 / 4 - 1)) ] ||
		fail "PHYSPAGES $ram is not a quarter of the host's $((ram_kb / 1024)) MB"
	[[ $(conf_val 101 SWAPPAGES) =~ ^0:[0-9]+M$ ]] || fail "SWAPPAGES: '$(conf_val 101 SWAPPAGES)'"
	assert_eq "$numproc" "$((pids * 15 / 100)):$((pids * 15 / 100))" "NUMPROC (15% of $pids)"
	assert_eq "$disk" "2097152:2306867" "DISKSPACE (OpenVZ basic's 2G:2.2G)"
	assert_eq "$(conf_val 101 CPUUNITS)" 1000 "CPUUNITS"
	[ -f "$VZ_ROOT/vz/private/101/upper.img" ] || fail "the default CT's upper layer is not in an image"
	# in force once it runs
	expect_code 0 vzctl start 101
	local f
	f=$(ct_cg_file 101 pids.max) || fail "no pids.max for 101"
	assert_eq "$(cat "$f")" "$((pids * 15 / 100))" "pids.max"
	f=$(ct_cg_file 101 memory.limit_in_bytes || ct_cg_file 101 memory.max) || fail "no memory limit file"
	assert_eq "$(cat "$f")" "$((mb * 1024 * 1024))" "the memory limit"
	expect_code 0 vzctl exec 101 'df -k / | tail -n1'
	# unlimited is a choice, at create
	mk_ct 102 --ram unlimited --swap unlimited --numproc unlimited --diskspace unlimited
	assert_eq "$(conf_val 102 PHYSPAGES)" 0:unlimited "PHYSPAGES of 102"
	assert_eq "$(conf_val 102 NUMPROC)" unlimited:unlimited "NUMPROC of 102"
	assert_eq "$(conf_val 102 DISKSPACE)" unlimited "DISKSPACE of 102"
	[ -d "$VZ_ROOT/vz/private/102/fs" ] || fail "102 (unlimited disk) has no plain upper layer"
	expect_code 0 vzctl start 102
	f=$(ct_cg_file 102 pids.max) || fail "no pids.max for 102"
	assert_eq "$(cat "$f")" max "pids.max of 102"
	expect_code 0 vzctl stop 102
	# and later, on a stopped CT: its upper layer leaves the image
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl set 101 --diskspace unlimited --save
	[ -d "$VZ_ROOT/vz/private/101/fs" ] && [ ! -e "$VZ_ROOT/vz/private/101/upper.img" ] ||
		fail "--diskspace unlimited left the image"
}

test_a_fork_bomb_in_a_default_ct_leaves_the_host_and_a_neighbour_working() {
	mk_running_ct 101
	mk_running_ct 102
	local f max
	f=$(ct_cg_file 101 pids.max) || fail "no pids.max for 101"
	max=$(cat "$f")
	[ "$max" != max ] && [ "$max" -lt "$(cat /proc/sys/kernel/pid_max)" ] ||
		fail "a default CT has no process limit below the host's (pids.max $max): not bombing the host"
	# CT root's bomb; the exec returns, the bomb goes on in the background
	timeout 10 "$VZ_BIN_DIR/vzctl" exec 101 'f() { f | f & }; f' >/dev/null 2>&1 </dev/null
	local cur=0 i
	for i in $(seq 100); do
		cur=$(cat "${f%/*}/pids.current")
		[ "$cur" -ge $((max * 9 / 10)) ] && break
		sleep 0.1
	done
	note "the bomb holds $cur of $max processes after $((i / 10)) s"
	[ "$cur" -le "$max" ] || fail "101 holds $cur processes, over its limit $max"
	responsive "during the fork bomb"
	sleep 2
	responsive "2 s later"
	cur=$(cat "${f%/*}/pids.current")
	[ "$cur" -le "$max" ] || fail "101 holds $cur processes, over its limit $max"
	run_cmd timeout 60 "$VZ_BIN_DIR/vzctl" stop 101 --fast
	[ "$LAST_CODE" = 0 ] || fail "stop --fast of the bombed CT: exit $LAST_CODE"
	expect_status 101 "exist unmounted down"
	responsive "after the stop"
	expect_code 0 vzctl stop 102
}

test_a_memory_hog_in_a_default_ct_is_oom_killed_inside_it() {
	[ -x "$MEMHOG" ] || fail "no $MEMHOG (make builds it)"
	mk_ct 101
	ct_put_file 101 /usr/local/bin/memhog 755 <"$MEMHOG"
	expect_code 0 vzctl start 101
	mk_running_ct 102
	local f lim host_mb
	f=$(ct_cg_file 101 memory.limit_in_bytes || ct_cg_file 101 memory.max) || fail "no memory limit file"
	lim=$(cat "$f")
	host_mb=$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo)
	[[ $lim =~ ^[0-9]+$ ]] && [ $((lim / 1048576)) -lt $((host_mb / 2)) ] ||
		fail "a default CT has no memory limit below half the host's (limit $lim): not starving the host"
	# a host process the host's OOM killer would pick if it ran
	sleep 300 &
	local sleeper=$!
	# past the CT's limit (RAM + swap)
	local want=$(( lim / 1048576 * 2 + 256 ))
	run_cmd timeout 60 "$VZ_BIN_DIR/vzctl" exec2 101 "/usr/local/bin/memhog $want 0 /tmp/mh"
	[ "$LAST_CODE" != 124 ] || fail "memhog of $want MB ran for 60 s in a CT of $((lim / 1048576)) MB"
	[ "$LAST_CODE" = 137 ] || fail "memhog of $want MB in a CT of $((lim / 1048576)) MB: exit $LAST_CODE, not killed"
	expect_code 0 vzctl stat 101
	local kills
	kills=$(awk '$1 == "oomguarpages" {print $NF}' <<<"$LAST_OUT")
	[ "$kills" -ge 1 ] || fail "no OOM kill counted in 101's cgroup: $LAST_OUT"
	pid_alive "$sleeper" || fail "a host process died meanwhile"
	kill "$sleeper"
	local p
	for p in $(cat "${f%/*}/cgroup.procs"); do
		! grep -qx memhog "/proc/$p/comm" 2>/dev/null || fail "memhog survived in 101"
	done
	in_ct 101 'echo still-here'
	assert_eq "$LAST_OUT" still-here "101 after its OOM kill"
	responsive "after the memory hog"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl stop 102
}

# on a 4 GB tmpfs of the test's own (root's, 0700, as vz wants its
# directories): each default CT's image is 2.2 GB of it, so a filler that
# got past its limit would leave no 1.2 GB free
PRIV_TMPFS=""
umount_priv() {
	[ -n "$PRIV_TMPFS" ] || return 0
	local conf id
	for conf in "$VZ_ROOT"/etc/vz/conf/*.conf; do
		[ -e "$conf" ] || continue
		id=${conf##*/}; id=${id%.conf}
		timeout 60 "$VZ_BIN_DIR/vzctl" stop "$id" --fast >/dev/null 2>&1
		timeout 60 "$VZ_BIN_DIR/vzctl" destroy "$id" >/dev/null 2>&1
	done
	umount "$PRIV_TMPFS" 2>/dev/null
	PRIV_TMPFS=""
}

test_a_disk_filler_in_a_default_ct_stops_at_its_limit() {
	vzlist -a >/dev/null
	expect_code 0 vzctl create 100 # the template, outside the tmpfs
	expect_code 0 vzctl destroy 100
	PRIV_TMPFS=$VZ_ROOT/vz/private
	mkdir -p "$PRIV_TMPFS" && mount -t tmpfs -o size=4g,mode=0700 vzt-priv "$PRIV_TMPFS" ||
		fail "cannot mount a tmpfs at $PRIV_TMPFS"
	trap umount_priv EXIT
	mk_running_ct 101
	mk_running_ct 102
	run_cmd timeout 60 "$VZ_BIN_DIR/vzctl" exec2 101 'dd if=/dev/zero of=/fill bs=1M 2>&1; sync'
	[ "$LAST_CODE" != 124 ] || fail "the disk filler ran for 60 s"
	assert_contains "$LAST_OUT" "No space left on device" "dd in 101"
	local avail
	avail=$(df -k --output=avail "$PRIV_TMPFS" | tail -n1)
	note "the file system under the private areas has $((avail / 1024)) MB of 4096 left"
	[ "$avail" -gt $((1200 * 1024)) ] || fail "101 took the shared file system down to $avail KB"
	in_ct 102 'dd if=/dev/zero of=/other bs=1M count=16 2>&1 && sync && echo written'
	assert_contains "$LAST_OUT" written "the neighbour writes"
	responsive "after the disk filler"
	umount_priv
	trap - EXIT
}
