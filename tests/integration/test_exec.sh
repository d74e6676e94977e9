# exec/exec2/exec3/enter and what a command inside the CT sees: namespaces,
# cgroups, environment, fds, capabilities, /sys, /dev, user namespace.
# Run by tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.

test_exec_false_exits_8() {
	mk_running_ct 101
	expect_code 8 vzctl exec 101 false
	expect_code 8 vzctl exec 101 'exit 3'
	expect_code 0 vzctl exec 101 true
}

test_exec_runs_through_shell() {
	mk_running_ct 101
	expect_output_is 5 vzctl exec 101 'echo $((2+3))'
	expect_output_is "a b c" vzctl exec 101 echo a b c
	expect_output_is "x" vzctl exec 101 'true && echo x || echo y'
}

test_exec2_exits_with_command_code() {
	mk_running_ct 101
	expect_code 7 vzctl exec2 101 'exit 7'
	expect_code 0 vzctl exec2 101 true
	expect_code 1 vzctl exec2 101 false
}

test_exec2_killed_command_reports_128_plus_signal() {
	mk_running_ct 101
	expect_code 137 vzctl exec2 101 'kill -9 $$'
}

test_exec3_exits_with_command_code() {
	mk_running_ct 101
	expect_code 5 vzctl exec3 101 /bin/sh -c 'exit 5'
	# no shell: the argument is not split or expanded
	expect_output_is 'a  $HOME *' vzctl exec3 101 /bin/echo 'a  $HOME *'
}

test_exec3_missing_binary_fails_with_message() {
	mk_running_ct 101
	run_cmd vzctl exec3 101 /no/such/binary arg
	[ "$LAST_CODE" -ne 0 ] || fail "exec3 of a missing binary exited 0"
	[ -n "$LAST_ERR" ] || fail "exec3 of a missing binary printed nothing on stderr"
	assert_contains "$LAST_ERR" /no/such/binary "stderr of exec3 /no/such/binary"
	# the CT is unharmed
	expect_output_is ok vzctl exec 101 echo ok
}

test_exec_stdin_passes_through() {
	mk_running_ct 101
	expect_output_is hi vzctl exec 101 cat <<<"hi"
	expect_output_is hi vzctl exec3 101 /bin/cat <<<"hi"
	local d; d=$(scratch)
	head -c 1048576 /dev/urandom >"$d/big"
	expect_output_is 1048576 vzctl exec 101 'wc -c' <"$d/big"
	expect_output_is "$(md5sum <"$d/big" | cut -d' ' -f1)" vzctl exec 101 'md5sum | cut -d" " -f1' <"$d/big"
	# stdout of a big output arrives whole
	vzctl exec 101 'head -c 3000000 /dev/zero' >"$d/zero" || fail "exec head -c 3000000 failed"
	assert_eq "$(stat -c %s "$d/zero")" 3000000 "bytes of output"
	# a command that does not read stdin does not hang on it
	expect_output_is done timeout 20 "$VZ_BIN_DIR/vzctl" exec 101 'echo done' </dev/zero
}

test_exec_stdout_and_stderr_are_separate() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'echo to-out; echo to-err >&2'
	assert_eq "$LAST_OUT" to-out "stdout"
	assert_eq "$LAST_ERR" to-err "stderr"
	expect_code 0 vzctl exec3 101 /bin/sh -c 'echo o3; echo e3 >&2'
	assert_eq "$LAST_OUT" o3 "stdout of exec3"
	assert_eq "$LAST_ERR" e3 "stderr of exec3"
}

test_exec_dash_reads_commands_from_stdin() {
	mk_running_ct 101
	expect_output_is "$(printf 'a\nb-3')" vzctl exec 101 - <<<"$(printf 'echo a\necho b-$((1+2))\n')"
	expect_code 8 vzctl exec 101 - <<<"false"
}

test_exec_runs_as_root_inside() {
	mk_running_ct 101
	expect_output_is 0 vzctl exec 101 'id -u'
	expect_output_is 0 vzctl exec 101 'id -g'
	expect_output_is 0 vzctl exec3 101 /bin/sh -c 'id -u'
	expect_code 0 vzctl exec 101 'touch /root/x && rm /root/x'
}

test_exec_in_ct_pid_namespace() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'ls -d /proc/[0-9]*'
	local n; n=$(grep -c . <<<"$LAST_OUT")
	[ "$n" -ge 2 ] && [ "$n" -le 10 ] || fail "exec sees $n processes: $(tr '\n' ' ' <<<"$LAST_OUT")"
	expect_code 0 vzctl exec 101 'tr "\0" " " </proc/1/cmdline'
	assert_contains "$LAST_OUT" init "/proc/1/cmdline inside"
	# the host's processes are invisible: our own host pid is not there
	if [ $$ -gt 20 ]; then
		expect_code 1 vzctl exec2 101 "test -e /proc/$$"
	fi
	expect_code 0 vzctl exec 101 'ps'
	n=$(grep -c . <<<"$LAST_OUT")
	[ "$n" -le 11 ] || fail "ps inside shows $((n - 1)) processes: $LAST_OUT"
}

test_exec_in_ct_net_namespace() {
	mk_running_ct 101
	expect_code 0 vzctl exec3 101 /bin/cat /proc/net/dev
	local ifs
	ifs=$(tail -n +3 <<<"$LAST_OUT" | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')
	assert_eq "$ifs" "lo " "interfaces inside"
}

test_exec_loopback_is_up() {
	mk_running_ct 101
	expect_code 0 vzctl exec3 101 /bin/cat /sys/class/net/lo/flags
	(( LAST_OUT & 1 )) || fail "lo is down inside (flags $LAST_OUT)"
}

test_exec_in_ct_cgroup_namespace() {
	mk_running_ct 101
	expect_code 0 vzctl exec3 101 /bin/cat /proc/self/cgroup
	[ -n "$LAST_OUT" ] || fail "empty /proc/self/cgroup inside"
	local line
	while IFS= read -r line; do
		[[ $line == *:/ ]] || fail "cgroup path inside is not /: '$line' (all: $(tr '\n' ' ' <<<"$LAST_OUT"))"
	done <<<"$LAST_OUT"
	# and seen from the host, a command started by exec is in the CT's
	# cgroup in every hierarchy
	expect_code 0 vzctl exec 101 'sleep 30 >/dev/null 2>&1 </dev/null & echo $!'
	local inner=$LAST_OUT dirs d p hit
	assert_match "$inner" '^[0-9]+$' "pid of the background sleep inside"
	dirs=$(ct_cgroup_dirs 101)
	[ -n "$dirs" ] || fail "no cgroup dirs for 101"
	for d in $dirs; do
		hit=
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do
			[ "$(awk '/^NSpid:/ { print $NF }' "/proc/$p/status" 2>/dev/null)" = "$inner" ] && hit=$p
		done
		[ -n "$hit" ] || fail "the sleep started by exec (pid $inner inside) is not in $d ($(tr '\n' ' ' <"$d/cgroup.procs"))"
	done
}

host_env_leaks() { # NAME=VALUE lines of inside env -> those copied from the host
	local kv name
	while IFS= read -r kv; do
		name=${kv%%=*}
		[[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
		case $name in PATH | HOME | TERM | PWD | OLDPWD | SHLVL | _ | USER | LOGNAME | SHELL | LANG) continue ;; esac
		[ "${!name+set}" = set ] && [ "${!name}" = "${kv#*=}" ] && echo "$kv"
	done
}

test_exec_environment_is_sane() {
	mk_running_ct 101
	export VZ_LEAK_TEST=1
	local mode leaks
	for mode in exec exec2; do
		expect_code 0 vzctl $mode 101 env
		assert_match "$LAST_OUT" '(^|'$'\n'')PATH=[^'$'\n'']*/bin' "PATH inside ($mode)"
		assert_match "$LAST_OUT" '(^|'$'\n'')HOME=/root('$'\n''|$)' "HOME inside ($mode)"
		assert_not_contains "$LAST_OUT" VZ_LEAK_TEST "env inside ($mode)"
		assert_not_contains "$LAST_OUT" "VZ_ROOT=" "env inside ($mode)"
		assert_not_contains "$LAST_OUT" "VZ_BIN_DIR=" "env inside ($mode)"
		leaks=$(host_env_leaks <<<"$LAST_OUT")
		[ -z "$leaks" ] || fail "host variables leaked into the CT ($mode): $(tr '\n' ' ' <<<"$leaks")"
	done
	expect_code 0 vzctl exec3 101 /bin/sh -c env
	assert_not_contains "$LAST_OUT" VZ_LEAK_TEST "env inside (exec3)"
	assert_match "$LAST_OUT" '(^|'$'\n'')PATH=' "PATH inside (exec3)"
	# nor into the CT's init
	expect_code 0 vzctl exec 101 'tr "\0" "\n" </proc/1/environ'
	assert_not_contains "$LAST_OUT" VZ_LEAK_TEST "environment of the CT's init"
	assert_not_contains "$LAST_OUT" "VZ_ROOT=" "environment of the CT's init"
}

test_init_has_no_host_fds() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'ls /proc/1/fd'
	local fds; fds=$(tr '\n' ' ' <<<"$LAST_OUT")
	[[ " $fds" =~ ^(\ [012])*\ ?$ ]] || fail "the CT's init has fds: $fds (expected only 0 1 2)"
	expect_code 0 vzctl exec 101 'for f in /proc/1/fd/*; do readlink "$f"; done'
	local t
	while IFS= read -r t; do
		[ -z "$t" ] && continue
		[[ $t == /dev/* ]] || fail "fd of the CT's init points at '$t' (all: $(tr '\n' ' ' <<<"$LAST_OUT"))"
	done <<<"$LAST_OUT"
	# seen from the host too
	local pid f; pid=$(init_pid 101)
	[ -n "$pid" ] || fail "no INIT_PID"
	for f in /proc/"$pid"/fd/*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		case ${f##*/} in 0 | 1 | 2) ;; *) fail "host view: init $pid has fd ${f##*/} -> $(readlink "$f")" ;; esac
		t=$(readlink "$f")
		case $t in
		pipe:* | socket:* | anon_inode:* | /var/tmp/* | /tmp/* | "$VZ_ROOT"/*) fail "host view: init fd ${f##*/} -> $t" ;;
		esac
	done
}

test_exec_command_gets_no_host_fds() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'ls /proc/$$/fd; :'
	local fds; fds=$(tr '\n' ' ' <<<"$LAST_OUT")
	[[ " $fds" =~ ^(\ [012])*\ ?$ ]] || fail "exec'd shell has fds: $fds (expected only 0 1 2)"
	# 0 1 2 are vzctl's own stdio, passed through: nothing else
}

cap_bit_set() { # HEX BIT
	(( (16#$1 >> $2) & 1 ))
}

test_capability_bounding_set_lacks_sys_module() {
	mk_running_ct 101
	local who v
	for who in 1 self; do
		expect_code 0 vzctl exec3 101 /bin/cat /proc/$who/status
		v=$(awk '/^CapBnd:/ { print $2 }' <<<"$LAST_OUT")
		assert_match "$v" '^[0-9a-f]{16}$' "CapBnd of /proc/$who"
		cap_bit_set "$v" 16 && fail "CapBnd of /proc/$who inside ($v) has CAP_SYS_MODULE (bit 16)"
		# still a useful root: CAP_CHOWN(0), CAP_KILL(5), CAP_SETUID(7)
		cap_bit_set "$v" 0 && cap_bit_set "$v" 5 && cap_bit_set "$v" 7 ||
			fail "CapBnd of /proc/$who inside ($v) lacks chown/kill/setuid"
	done
	v=$(awk '/^CapEff:/ { print $2 }' <<<"$LAST_OUT")
	cap_bit_set "$v" 16 && fail "CapEff of an exec'd command ($v) has CAP_SYS_MODULE"
	# and the host view of the init agrees
	local pid; pid=$(init_pid 101)
	v=$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")
	cap_bit_set "$v" 16 && fail "host view: CapBnd of init $pid ($v) has CAP_SYS_MODULE"
	return 0
}

test_sys_is_read_only() {
	mk_running_ct 101
	expect_code 8 vzctl exec 101 'touch /sys/x'
	expect_code 0 vzctl exec3 101 /bin/cat /proc/mounts
	local opts
	opts=$(awk '$2 == "/sys" { o = $4 } END { print o }' <<<"$LAST_OUT")
	[ -n "$opts" ] || fail "no /sys mount inside: $LAST_OUT"
	assert_match "$opts" '^ro(,|$)' "mount options of /sys inside"
}

test_dev_holds_only_standard_nodes() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'ls -1a /dev'
	local e have=" " req
	while IFS= read -r e; do
		case $e in
		. | .. | null | zero | full | random | urandom | tty | console | ptmx | pts | shm | mqueue | \
			fd | stdin | stdout | stderr | core | log | initctl | tty[0-9] | tty[0-9][0-9]) have="$have$e " ;;
		*) fail "unexpected /dev/$e inside (all: $(tr '\n' ' ' <<<"$LAST_OUT"))" ;;
		esac
	done <<<"$LAST_OUT"
	for req in null zero full random urandom tty ptmx pts; do
		[[ $have == *" $req "* ]] || fail "/dev/$req missing inside (have:$have)"
	done
	expect_output_is "" vzctl exec 101 'find /dev -type b'
	expect_code 0 vzctl exec 101 'test -c /dev/null && echo x >/dev/null && test -c /dev/urandom && head -c 4 /dev/urandom | wc -c'
	assert_eq "$LAST_OUT" 4 "bytes read from /dev/urandom inside"
	expect_code 8 vzctl exec 101 'test -e /dev/mem || test -e /dev/kmem || test -e /dev/sda || test -e /dev/vda'
}

uid_base_of() { # ID -> base in LAST_OUT... sets UID_BASE
	expect_code 0 vzctl exec3 "$1" /bin/cat /proc/self/uid_map
	local a b c
	read -r a b c <<<"$LAST_OUT"
	assert_eq "$(grep -c . <<<"$LAST_OUT")" 1 "lines of uid_map of $1"
	assert_eq "$a" 0 "first id of uid_map of $1"
	assert_eq "$c" 65536 "range of uid_map of $1"
	assert_match "$b" '^[0-9]+$' "base of uid_map of $1"
	[ "$b" -ge 100000 ] || fail "uid base $b of CT $1 is below 100000"
	UID_BASE=$b
}

test_user_namespace_maps_root_to_high_base() {
	mk_running_ct 101
	uid_base_of 101
	local base=$UID_BASE a b c
	expect_code 0 vzctl exec3 101 /bin/cat /proc/self/gid_map
	read -r a b c <<<"$LAST_OUT"
	assert_eq "$a $c" "0 65536" "gid_map of 101"
	[ "$b" -ge 100000 ] || fail "gid base $b below 100000"
	# on the host the init runs as the base uid, not as root
	local pid; pid=$(init_pid 101)
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" "$base" "host uid of the CT's init"
	assert_eq "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" "$b" "host gid of the CT's init"
}

test_two_cts_get_disjoint_id_ranges() {
	mk_running_ct 101
	mk_running_ct 102
	uid_base_of 101
	local b1=$UID_BASE
	uid_base_of 102
	local b2=$UID_BASE d
	d=$((b1 > b2 ? b1 - b2 : b2 - b1))
	[ "$d" -ge 65536 ] || fail "uid ranges overlap: 101 at $b1, 102 at $b2"
	# the base is stable over a restart
	expect_code 0 vzctl restart 101
	uid_base_of 101
	assert_eq "$UID_BASE" "$b1" "uid base of 101 after restart"
}

test_template_files_owned_by_root_inside() {
	mk_running_ct 101
	local p
	for p in /bin/busybox /bin/sh /sbin/init /etc /; do
		expect_code 0 vzctl exec 101 "ls -lndL $p"
		read -r _ _ u g _ <<<"$LAST_OUT"
		assert_eq "$u $g" "0 0" "owner of $p inside ($LAST_OUT)"
	done
}

test_file_created_inside_is_stored_in_private_area() {
	mk_running_ct 101 --diskspace unlimited # the upper layer as plain directories
	expect_code 0 vzctl exec 101 'echo hi >/root/created-inside && mkdir /made-dir && ls -lnd /root/created-inside'
	read -r _ _ u g _ <<<"$LAST_OUT"
	assert_eq "$u $g" "0 0" "owner inside of a file created inside"
	local f
	f=$(find "$VZ_ROOT/vz/private/101" -name created-inside 2>/dev/null | head -n1)
	[ -n "$f" ] || fail "created-inside is not under $VZ_ROOT/vz/private/101"
	[[ $f == "$VZ_ROOT/vz/private/101/fs/"* ]] || fail "created-inside stored at $f, not under private/101/fs/"
	assert_eq "$(stat -c '%u %g' "$f")" "0 0" "host owner of $f"
	assert_eq "$(cat "$f")" hi "content of $f"
	[ -z "$(find "$VZ_ROOT/vz/template" -name created-inside 2>/dev/null)" ] ||
		fail "a file created inside landed in the template"
	local odd
	odd=$(find "$VZ_ROOT/vz/template" \( ! -uid 0 -o ! -gid 0 \) -print 2>/dev/null | head -n5)
	[ -z "$odd" ] || fail "the template was chowned: $odd"
	[ -n "$(find "$VZ_ROOT/vz/template" -mindepth 1 -print -quit 2>/dev/null)" ] ||
		fail "no template under $VZ_ROOT/vz/template"
	# survives a restart
	expect_code 0 vzctl restart 101
	expect_output_is hi vzctl exec 101 cat /root/created-inside
}

test_enter_runs_interactive_shell() {
	mk_running_ct 101
	local d; d=$(scratch)
	{
		sleep 1
		printf 'echo inside-$((6*7))\n'
		sleep 1
		printf 'exit\n'
		sleep 3
	} | timeout 30 script -qec "$(printf %q "$VZ_BIN_DIR/vzctl") enter 101" /dev/null >"$d/out" 2>&1
	local rc=${PIPESTATUS[1]}
	grep -q 'inside-42' "$d/out" || fail "enter: no inside-42 in output: $(cat -v "$d/out")"
	assert_eq "$rc" 0 "exit status of script -c 'vzctl enter 101' (output: $(cat -v "$d/out"))"
	expect_status 101 "exist mounted running"
}

test_enter_shell_is_in_the_ct() {
	mk_running_ct 101 --hostname entered.example
	local d; d=$(scratch)
	{
		sleep 1
		printf 'echo "host=$(hostname) pid1=$(tr "\\0" " " </proc/1/cmdline) tty=$(tty)"\n'
		sleep 1
		printf 'exit\n'
		sleep 3
	} | timeout 30 script -qec "$(printf %q "$VZ_BIN_DIR/vzctl") enter 101" /dev/null >"$d/out" 2>&1
	grep -q 'host=entered.example' "$d/out" || fail "enter: hostname not the CT's: $(cat -v "$d/out")"
	grep -q 'pid1=[^ ]*init' "$d/out" || fail "enter: pid 1 is not the CT's init: $(cat -v "$d/out")"
	grep -q 'tty=/dev/' "$d/out" || fail "enter: no tty inside: $(cat -v "$d/out")"
}

test_enter_stopped_ct_fails_with_31() {
	mk_ct 101
	local d; d=$(scratch)
	timeout 30 script -qec "$(printf %q "$VZ_BIN_DIR/vzctl") enter 101" /dev/null </dev/null >"$d/out" 2>&1
	local rc=$?
	assert_eq "$rc" 31 "exit of enter on a stopped CT (output: $(cat -v "$d/out"))"
}

test_exec_background_process_dies_with_ct() {
	mk_running_ct 101
	local pid; pid=$(init_pid 101)
	local t0=$SECONDS
	expect_code 0 timeout 20 "$VZ_BIN_DIR/vzctl" exec 101 'sleep 1000 >/dev/null 2>&1 </dev/null &'
	[ $((SECONDS - t0)) -le 10 ] || fail "exec waited for a background child"
	expect_code 0 vzctl exec 101 'pidof sleep || ps | grep -v grep | grep "sleep 1000"'
	expect_code 0 vzctl stop 101
	assert_ct_clean 101 "$pid"
}

# systemd inside a CT on a cgroup v2 host moves every process into cgroups
# of its own and enables controllers for them: the CT's cgroup becomes an
# inner node, which takes no process (CLONE_INTO_CGROUP fails with EBUSY).
# Commands still get in, beside its init; stop still removes it all.
test_exec_into_a_ct_whose_cgroup_became_an_inner_node() {
	mk_running_ct 101
	expect_code 0 vzctl exec 101 'cat >/inner.sh' <<'EOS'
cg=/sys/fs/cgroup
[ -e $cg/cgroup.controllers ] || cg=$cg/unified
[ -n "$(cat $cg/cgroup.controllers)" ] || { echo none >/inner.out; exit 0; }
mkdir $cg/init.scope
i=0
# the exec that started this is still leaving the CT's cgroup: retry
while [ $i -lt 100 ]; do
	for p in $(cat $cg/cgroup.procs); do echo $p >$cg/init.scope/cgroup.procs; done
	for c in $(cat $cg/cgroup.controllers); do echo +$c >$cg/cgroup.subtree_control; done
	[ -n "$(cat $cg/cgroup.subtree_control)" ] && break
	sleep 0.1
	i=$((i + 1))
done 2>/dev/null
cat $cg/cgroup.subtree_control >/inner.out
EOS
	expect_code 0 vzctl exec 101 'setsid sh /inner.sh </dev/null >/dev/null 2>&1 &'
	local out=$VZ_ROOT/vz/root/101/inner.out
	wait_until 20 test -s "$out" || fail "the CT did not make its cgroup an inner node"
	if [ "$(cat "$out")" = none ]; then
		note "no cgroup v2 controller reaches the CT here: nothing to enable"
		expect_code 0 vzctl stop 101
		return 0
	fi
	note "the CT enabled for its sub-cgroups: $(cat "$out")"
	expect_output_is ok vzctl exec 101 'echo ok'
	in_ct 101 'cat /proc/self/cgroup'
	assert_contains "$LAST_OUT" "0::/init.scope" "the cgroup of a command in the CT"
	expect_code 0 vzctl exec3 101 /bin/true
	expect_code 3 vzctl exec2 101 'exit 3'
	# live settings that run inside the CT
	expect_code 0 vzctl set 101 --hostname inner.example
	expect_output_is inner.example vzctl exec 101 hostname
	local pid; pid=$(init_pid 101)
	expect_code 0 vzctl stop 101
	assert_ct_clean 101 "$pid"
}
