# Attacks by CT root from inside a CT, and by a non-root host user, each
# tried for real; each test asserts that the host is as it was. Run by
# tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.
#
# Some of these hold by the kernel alone (a CT in a user namespace of its
# own), some by vz (how it enters, relays and sets up a CT); either way a
# change that breaks them is a hole.
# vz-test-timeout: 180

ATTACK=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/attack
MEMHOG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/memhog

# attack_ct ID [create options]: a running CT with the attacker at /attack
attack_ct() {
	[ -x "$ATTACK" ] || fail "no $ATTACK (make builds it)"
	mk_ct "$@"
	ct_put_file "$1" /attack 755 <"$ATTACK"
	expect_code 0 vzctl start "$1"
}

# host_knobs: the host-wide kernel settings CT root would want to change
host_knobs() {
	local f
	for f in kernel/core_pattern kernel/core_uses_pid kernel/sysrq kernel/panic \
		kernel/randomize_va_space kernel/printk vm/swappiness vm/overcommit_memory \
		vm/max_map_count fs/suid_dumpable fs/protected_symlinks kernel/modprobe \
		kernel/kptr_restrict; do
		[ -r "/proc/sys/$f" ] && printf '%s=%s\n' "$f" "$(cat "/proc/sys/$f")"
	done
	ls /proc/sys/fs/binfmt_misc/ 2>/dev/null
}

test_ct_root_cannot_change_host_kernel_knobs() {
	attack_ct 101
	local before after
	before=$(host_knobs)
	# every knob, written as a host root would (core_pattern with a pipe
	# is code run as host root at the next crash anywhere)
	run_cmd vzctl exec 101 '
		for f in kernel/core_uses_pid kernel/sysrq kernel/panic kernel/randomize_va_space \
			kernel/printk vm/swappiness vm/overcommit_memory vm/max_map_count \
			fs/suid_dumpable fs/protected_symlinks kernel/kptr_restrict; do
			echo 1 >/proc/sys/$f && echo "WROTE $f"
		done
		echo "|/tmp/vz-attack %p" >/proc/sys/kernel/core_pattern && echo "WROTE core_pattern"
		echo /tmp/vz-attack >/proc/sys/kernel/modprobe && echo "WROTE modprobe"
		echo 3 >/proc/sys/vm/drop_caches && echo "WROTE drop_caches"
		echo b >/proc/sysrq-trigger && echo "WROTE sysrq-trigger"
		# remounted read-write, /proc/sys stays the host'"'"'s to write
		mount -o remount,rw /proc; mount -t proc proc /mnt && echo "MOUNTED proc" &&
			{ echo "|/tmp/vz-attack" >/mnt/sys/kernel/core_pattern && echo "WROTE fresh core_pattern"; umount /mnt; }
		# binfmt_misc: an interpreter for every ELF file, host-wide if the
		# registration were the host'"'"'s
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null
		echo ":vzattack:M::\x7fELF::/tmp/vz-attack:" >/proc/sys/fs/binfmt_misc/register && echo "REGISTERED binfmt"
		true'
	note "inside: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_not_contains "$LAST_OUT" "WROTE" "host sysctls written from inside"
	after=$(host_knobs)
	assert_eq "$after" "$before" "the host's kernel settings"
	[ ! -e /proc/sys/fs/binfmt_misc/vzattack ] || fail "a CT registered a binfmt_misc interpreter on the host"
	expect_status 101 "exist mounted running"
}

test_ct_root_cannot_remount_sys_or_cgroups_writable_nor_write_host_sysfs() {
	attack_ct 101
	run_cmd vzctl exec 101 '
		mount -o remount,rw /sys && echo "REMOUNTED /sys"
		mount -o remount,rw /sys/fs/cgroup && echo "REMOUNTED /sys/fs/cgroup"
		# a bind remount changes the mount'"'"'s flag, not the file system'"'"'s
		mount -o remount,bind,rw /sys
		for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/uevent_helper \
			/sys/power/state /sys/module/printk/parameters/time; do
			[ -e "$f" ] && echo never >"$f" 2>/dev/null && echo "WROTE $f"
		done
		# a sysfs of its own (it has its own network namespace): the host
		# kernel'"'"'s files in it are not its to write
		mkdir -p /mnt/s && mount -t sysfs sysfs /mnt/s && echo "MOUNTED sysfs" &&
			{ for f in /mnt/s/kernel/mm/transparent_hugepage/enabled /mnt/s/kernel/uevent_helper \
				/mnt/s/power/state /mnt/s/module/printk/parameters/time; do
				[ -e "$f" ] && echo never >"$f" 2>/dev/null && echo "WROTE $f"
			done; umount /mnt/s; }
		# the lxcfs files over /proc: gone, /proc is still the CT'"'"'s own
		umount /proc/meminfo /proc/stat /proc/uptime 2>/dev/null
		echo "PID1=$(cat /proc/1/comm)"
		echo 1 >/proc/sys/vm/drop_caches && echo "WROTE drop_caches"
		true'
	note "inside: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_not_contains "$LAST_OUT" "REMOUNTED" "read-only mounts made writable from inside"
	assert_not_contains "$LAST_OUT" "WROTE" "host kernel files written from inside"
	assert_contains "$LAST_OUT" "PID1=init" "the CT's /proc after its lxcfs files went"
	[ "$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)" != "always madvise [never]" ] ||
		note "(THP is 'never' on this host anyway)"
}

# The CT's memory limit holds whatever CT root does with the cgroup tree
# it sees: its own files are host root's, a child cgroup with a larger
# limit is still under it, and it cannot move out of its own cgroup.
test_ct_root_cannot_raise_or_leave_its_cgroup_limits() {
	[ -x "$MEMHOG" ] || fail "no $MEMHOG (make builds it)"
	mk_ct 101
	ct_put_file 101 /usr/local/bin/memhog 755 <"$MEMHOG"
	expect_code 0 vzctl set 101 --ram 64M --numproc 200 --save
	expect_code 0 vzctl start 101
	local d lim=() before after
	for d in $(ct_cgroup_dirs 101); do
		for f in memory.limit_in_bytes memory.max pids.max; do
			[ -e "$d/$f" ] && lim+=("$d/$f")
		done
	done
	[ ${#lim[@]} -ge 2 ] || fail "no memory and pids limit files of CT 101 (found: ${lim[*]})"
	before=$(for f in "${lim[@]}"; do echo "$f=$(cat "$f")"; done)
	# its own limits, any way it can name them
	run_cmd vzctl exec 101 '
		for f in /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max \
			/sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/unified/pids.max \
			/sys/fs/cgroup/unified/memory.max; do
			[ -e "$f" ] && echo max >"$f" 2>/dev/null && echo "WROTE $f"
			[ -e "$f" ] && echo 9223372036854771712 >"$f" 2>/dev/null && echo "WROTE $f"
		done
		true'
	assert_not_contains "$LAST_OUT" "WROTE" "the CT's own limits written from inside"
	# a child cgroup with a limit of 1 GiB, memhog in it touching 128 MiB
	local setup
	setup='if [ -d /sys/fs/cgroup/memory ]; then c=/sys/fs/cgroup/memory/vzbig; mkdir -p $c;
			echo 1G >$c/memory.limit_in_bytes || exit 3;
		else c=/sys/fs/cgroup/vzbig; echo +memory >/sys/fs/cgroup/cgroup.subtree_control; mkdir -p $c;
			echo 1G >$c/memory.max || exit 3; fi
		echo $$ >$c/cgroup.procs || exit 4'
	run_cmd timeout 60 "$VZ_BIN_DIR/vzctl" exec2 101 "$setup; exec memhog 128 0 /tmp/hog"
	note "memhog in a child cgroup of 1G under 64M: exit $LAST_CODE"
	if [ "$LAST_CODE" = 3 ] && [ ! -d /sys/fs/cgroup/memory ]; then
		# cgroup v2: the CT's cgroup holds processes (vz's exec helper
		# among them), so it cannot hand controllers to a child now
		note "v2: no child cgroup with a memory limit of its own could be made ($LAST_ERR)"
	else
		[ "$LAST_CODE" != 3 ] && [ "$LAST_CODE" != 4 ] ||
			fail "could not set up the child cgroup (exit $LAST_CODE): $LAST_ERR"
		[ "$LAST_CODE" != 124 ] || fail "128 MiB held in a CT limited to 64 MiB (memhog still ran)"
		assert_eq "$LAST_CODE" 137 "memhog's end (OOM kill)"
	fi
	# out of its cgroup: every cgroup.procs it can reach, a cgroup2 of its
	# own mounted anew; then the host says where the process is
	run_cmd vzctl exec 101 'sh -c '\''for f in /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/cgroup.procs \
			/sys/fs/cgroup/*/../cgroup.procs /sys/fs/cgroup/../cgroup.procs; do
			[ -e "$f" ] && echo $$ >"$f" 2>/dev/null; done
		mkdir -p /mnt/cg2 && mount -t cgroup2 none /mnt/cg2 2>/dev/null && echo $$ >/mnt/cg2/cgroup.procs
		mkdir -p /mnt/cg1 && mount -t cgroup -o memory none /mnt/cg1 2>/dev/null && echo $$ >/mnt/cg1/cgroup.procs
		exec sleep 3017'\'' </dev/null >/dev/null 2>&1 &'
	local pid= p
	for ((i = 0; i < 50; i++)); do
		for p in $(pgrep -x sleep); do
			grep -qz '^3017$' "/proc/$p/cmdline" 2>/dev/null &&
				grep -q "/$(cg_base)/101" "/proc/$p/cgroup" 2>/dev/null && pid=$p && break
			tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qx 'sleep 3017 ' && pid=$p && break
		done
		[ -n "$pid" ] && break
		sleep 0.1
	done
	[ -n "$pid" ] || fail "the CT's sleep 3017 did not show up on the host"
	# every hierarchy: under CT 101's cgroup (vz makes it in all of them)
	local out
	out=$(grep -v "/$(cg_base)/101" "/proc/$pid/cgroup" || true)
	[ -z "$out" ] || fail "a CT process left its cgroup: $out (all: $(tr '\n' ' ' <"/proc/$pid/cgroup"))"
	grep -q "/$(cg_base)/101" "/proc/$pid/cgroup" || fail "the CT's process is in no cgroup of CT 101: $(cat "/proc/$pid/cgroup")"
	after=$(for f in "${lim[@]}"; do echo "$f=$(cat "$f")"; done)
	assert_eq "$after" "$before" "CT 101's limits on the host"
}

test_ct_root_cannot_make_or_open_host_devices_nor_the_kernel_log() {
	attack_ct 101
	local mark
	mark="vz-attack-$RANDOM$RANDOM"
	run_cmd vzctl exec 101 "
		mknod /tmp/kmsg c 1 11 && echo MADE kmsg
		mknod /tmp/mem c 1 1 && echo MADE mem
		mknod /tmp/disk b $(stat -c '%Hd' / 2>/dev/null || echo 8) $(stat -c '%Ld' / 2>/dev/null || echo 0) && echo MADE disk
		echo '<0>$mark' >/dev/kmsg 2>/dev/null; rm -f /dev/kmsg
		[ -c /tmp/kmsg ] && echo '<0>$mark' >/tmp/kmsg 2>/dev/null && echo WROTE kmsg
		head -c 1 /proc/kmsg >/dev/null 2>&1 && echo READ proc-kmsg
		dmesg >/dev/null 2>&1 && echo READ dmesg
		[ -c /tmp/mem ] && head -c 1 /tmp/mem >/dev/null 2>&1 && echo READ mem
		head -c 1 /dev/vda >/dev/null 2>&1 && echo READ vda
		true"
	note "inside: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_not_contains "$LAST_OUT" "WROTE" "the host's kernel log written"
	assert_not_contains "$LAST_OUT" "READ" "host devices or the kernel log read"
	assert_not_contains "$LAST_OUT" "MADE" "device nodes made in an unprivileged CT"
	if dmesg 2>/dev/null | grep -q "$mark"; then
		fail "the CT wrote into the host's kernel log"
	fi
}

test_ct_root_cannot_load_modules_kexec_or_open_files_by_handle() {
	attack_ct 101
	expect_code 0 vzctl exec 101 '/attack modules; /attack kexec; /attack handle /; /attack handle /etc/passwd; /attack keyring'
	note "inside: $(tr '\n' ' ' <<<"$LAST_OUT")"
	local l
	while read -r l; do
		case $l in
		"DONE keyctl" | "DONE add_key") ;; # its own keyrings: keys are per user namespace
		DONE*) fail "CT root could: $l" ;;
		esac
	done <<<"$LAST_OUT"
	assert_contains "$LAST_OUT" "DENIED open_by_handle_at" "open_by_handle_at from inside"
}

# vz's own processes for the CT: the monitor (vzctl start's child that
# waits for init) and the exec helpers are not in the CT's pid namespace,
# so CT root can neither see, signal nor trace them; nor any host process.
test_ct_root_cannot_see_signal_or_trace_host_processes() {
	attack_ct 101
	local mon st host_pid
	st=$(state_file 101)
	mon=$(sed -n 's/^MONITOR_PID="\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$st")
	[ -n "$mon" ] && pid_alive "$mon" || fail "no monitor pid in $st"
	sleep 3019 &
	host_pid=$!
	expect_code 0 vzctl exec 101 "
		for p in /proc/[0-9]*; do
			n=\${p#/proc/}; c=\$(cat \$p/comm 2>/dev/null)
			case \$c in vzctl*|vzmon*|sleep) [ \"\$(cat \$p/cmdline 2>/dev/null | tr '\\0' ' ')\" = 'sleep 3019 ' ] && echo SEEN host sleep;
				case \$c in vz*) echo SEEN \$c \$n;; esac;; esac
		done
		kill -0 $mon 2>/dev/null && echo SIGNALLED monitor
		kill -0 $host_pid 2>/dev/null && echo SIGNALLED host sleep
		/attack ptrace $mon
		/attack ptrace $host_pid
		ls /proc/$mon/root/ >/dev/null 2>&1 && echo ROOT monitor
		true"
	note "inside: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_not_contains "$LAST_OUT" "SEEN" "host processes seen inside"
	assert_not_contains "$LAST_OUT" "SIGNALLED" "host processes signalled from inside"
	assert_not_contains "$LAST_OUT" "DONE" "host processes traced from inside"
	assert_not_contains "$LAST_OUT" "ROOT" "the monitor's root reached from inside"
	# everything it may signal at once: its own processes only
	run_cmd vzctl exec 101 'kill -9 -1'
	pid_alive "$host_pid" || fail "kill -9 -1 in a CT killed a host process"
	pid_alive "$mon" || fail "kill -9 -1 in a CT killed its monitor"
	kill "$host_pid"
	wait "$host_pid" 2>/dev/null
	expect_status 101 "exist mounted running"
	# /proc/1/root is the CT's own root, not the host's
	expect_code 0 vzctl exec 101 'test -x /proc/1/root/attack && ! test -e /proc/1/root/etc/vz'
}

# Abstract unix sockets belong to a network namespace: a host service
# listening on one is out of the CT's reach (the X11 and D-Bus escapes of
# containers sharing the host's network).
test_ct_root_cannot_reach_host_abstract_unix_sockets() {
	attack_ct 101
	local name="vz-attack-$RANDOM$RANDOM" d
	d=$(scratch)
	python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0" + sys.argv[1]); s.listen(4)
open(sys.argv[2], "w").close()
s.settimeout(30)
try:
    while True:
        c, _ = s.accept(); c.close()
except socket.timeout:
    pass' "$name" "$d/listening" &
	local srv=$!
	until_file 10 "$d/listening" || fail "the host's listener did not start"
	# it can be reached from the host's namespace: the attack below can
	# tell success from failure
	expect_code 0 "$ATTACK" unix "$name"
	assert_contains "$LAST_OUT" "DONE connect" "a connect from the host"
	expect_code 0 vzctl exec 101 "/attack unix $name"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	assert_contains "$LAST_OUT" "DENIED connect" "a connect from inside the CT"
}

# vzctl exec's protocol: the child that enters the CT reports a failure to
# enter on a pipe, then the command's exit status. The command never holds
# that pipe or any descriptor of vzctl's: what it writes anywhere it can
# cannot become vzctl's error or exit code.
test_a_ct_program_cannot_forge_vzctl_exec_errors_or_hang_it() {
	attack_ct 101
	run_cmd vzctl exec 101 '
		for f in /proc/self/fd/* /proc/$$/fd/*; do
			case $f in */0|*/1|*/2) continue;; esac
			[ -e "$f" ] && echo "FD $f -> $(readlink $f)"
			printf "099forged by the CT" >"$f" 2>/dev/null
		done
		ls /proc/$PPID/fd >/dev/null 2>&1 && echo "PARENT fds"
		echo "PPID=$PPID"
		exit 0'
	assert_eq "$LAST_CODE" 0 "vzctl exec's exit code"
	assert_not_contains "$LAST_ERR$LAST_OUT" "forged" "a forged error"
	assert_not_contains "$LAST_OUT" "FD " "descriptors beyond stdio in the CT program"
	assert_contains "$LAST_OUT" "PPID=0" "the CT program's parent (vz's helper, outside)"
	# a program left behind that floods its stdout, read slowly: vzctl
	# returns when the command does (the landed relay read on for as long
	# as the program kept writing)
	# (three writers keep the pipe full: one alone sometimes let it empty)
	local t0=$SECONDS
	run_cmd bash -c "timeout 20 '$VZ_BIN_DIR/vzctl' exec 101 'yes vz-flood & yes vz-flood & yes vz-flood & sleep 1' | while read -r l; do :; done; echo \"rc=\${PIPESTATUS[0]}\""
	assert_contains "$LAST_OUT" "rc=0" "vzctl exec's exit (124: it was still relaying after 20 s)"
	[ $((SECONDS - t0)) -lt 15 ] || fail "vzctl exec took $((SECONDS - t0)) s to end after its command"
	run_cmd vzctl exec 101 'killall yes'
	# one that never reads its stdin, and one that keeps it open
	# after the command: both end with the command
	t0=$SECONDS
	run_cmd bash -c "yes | timeout 20 '$VZ_BIN_DIR/vzctl' exec2 101 'sleep 1; exit 7'; echo \"rc=\${PIPESTATUS[1]}\""
	assert_contains "$LAST_OUT" "rc=7" "an exec that never read its input"
	run_cmd bash -c "timeout 20 '$VZ_BIN_DIR/vzctl' exec2 101 'sleep 300 & exit 5' </dev/zero; echo \"rc=\$?\""
	assert_contains "$LAST_OUT" "rc=5" "an exec whose background child holds stdin open"
	[ $((SECONDS - t0)) -lt 30 ] || fail "vzctl exec waited on programs left behind"
	run_cmd vzctl exec 101 'killall sleep'
}

# set --userpasswd on a stopped CT runs the CT's own /bin/sh. CT root put
# a program there that leaves a chroot (the landed helper chrooted into
# the CT's root, and root in a user namespace of its own may chroot
# again): it must find nothing but the CT's own root.
test_a_stopped_cts_userpasswd_helper_cannot_leave_the_ct_root() {
	[ -x "$ATTACK" ] || fail "no $ATTACK (make builds it)"
	mk_ct 101 --diskspace unlimited # the upper layer as plain directories
	local marker=vz-host-marker-$RANDOM
	: >"$VZ_ROOT/$marker"
	: >"$VZ_ROOT/vz/$marker"
	ct_put_file 101 /bin/sh 755 <"$ATTACK"
	ct_put_file 101 /vz-attack-target 644 <<<"/$marker"
	run_cmd vzctl set 101 --userpasswd root:x
	local log="$VZ_ROOT/vz/private/101/fs/vz-attack-log"
	[ -f "$log" ] || fail "the CT's /bin/sh did not run ($LAST_ERR)"
	note "the CT's /bin/sh: $(tr '\n' ' ' <"$log")"
	assert_not_contains "$(cat "$log")" "REACHED /$marker" "a host file reached from the stopped CT's helper"
	assert_contains "$(cat "$log")" "ROOT:" "the attack's report"
	assert_contains "$(grep ROOT: "$log")" " vz-attack-target" "the root the helper reached (the CT's own)"
	[ ! -e "$VZ_ROOT/$marker.created" ] && [ ! -e "$VZ_ROOT/vz/$marker.created" ] || fail "the helper created a file on the host"
}

# A non-root host user and the CT's files under VZ_ROOT that vz itself
# keeps: the console socket, the state and console files, the lock.
test_a_host_user_cannot_use_a_cts_console_or_state() {
	attack_ct 101
	# as on a host whose VZ_ROOT is / (the test's is 0700)
	chmod 755 "$VZ_ROOT"
	local run="$VZ_ROOT/run/vz"
	[ -S "$run/101.sock" ] || fail "no console socket $run/101.sock"
	run_cmd setpriv --reuid=nobody --regid=nogroup --clear-groups "$ATTACK" unix-path "$run/101.sock"
	chmod 700 "$VZ_ROOT"
	assert_contains "$LAST_OUT" "DENIED connect-path" "nobody connecting to CT 101's console socket"
	chmod 755 "$VZ_ROOT"
	run_cmd setpriv --reuid=nobody --regid=nogroup --clear-groups sh -c "
		echo x >>'$run/101.state' && echo WROTE state
		echo x >>'$run/101.console' && echo WROTE console
		cat '$run/101.console' >/dev/null 2>&1 && echo READ console
		touch '$run/101.x' 2>/dev/null && echo MADE in run
		ls '$VZ_ROOT/vz/private/101/' >/dev/null 2>&1 && echo LISTED private
		for f in '$VZ_ROOT'/vz/lock/*; do [ -e \"\$f\" ] && echo x >>\"\$f\" 2>/dev/null && echo WROTE lock; done
		true"
	chmod 700 "$VZ_ROOT"
	note "as nobody: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_not_contains "$LAST_OUT" "WROTE" "nobody writing vz's files of CT 101"
	assert_not_contains "$LAST_OUT" "READ" "nobody reading CT 101's console log"
	assert_not_contains "$LAST_OUT" "MADE" "nobody creating files in vz's run directory"
	assert_not_contains "$LAST_OUT" "LISTED" "nobody listing CT 101's private area"
	expect_status 101 "exist mounted running"
}

# The files vz writes inside a CT (/etc/hostname, /etc/hosts,
# /etc/resolv.conf) at start and at a live set: CT root made them FIFOs,
# which a helper opening them waits on for ever (holding the CT's lock),
# or a link to /dev/zero, which a read never finishes.
test_ct_files_made_fifos_or_devices_do_not_hold_vzctl() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'rm -f /etc/hostname /etc/hosts.vz-new /etc/resolv.conf &&
		mkfifo /etc/hostname /etc/hosts.vz-new && ln -s /dev/zero /etc/resolv.conf'
	run_cmd timeout 20 "$VZ_BIN_DIR/vzctl" set 101 --hostname h1.example --nameserver 198.18.0.1 --save
	[ "$LAST_CODE" != 124 ] || fail "vzctl set --hostname/--nameserver hung on the CT's FIFO or /dev/zero"
	note "set on the FIFOs: exit $LAST_CODE $LAST_ERR"
	expect_code 0 vzctl exec 101 'rm -f /etc/resolv.conf && mkfifo /etc/resolv.conf'
	expect_code 0 vzctl stop 101
	# at start, init's setup writes them too
	run_cmd timeout 20 "$VZ_BIN_DIR/vzctl" start 101 --wait
	[ "$LAST_CODE" != 124 ] || fail "vzctl start hung on the CT's FIFOs"
	expect_code 0 vzctl exec 101 'hostname'
	assert_eq "$LAST_OUT" "h1.example" "the CT's hostname"
}
