# Lifecycle of a CT: create, start, status, stop, destroy, mount, restart,
# halt/reboot from inside, init killed from the host, hostname and name.
# Run by tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.

test_full_lifecycle_and_status_lines() {
	expect_status 101 "deleted unmounted down"
	mk_ct 101
	[ -f "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "create left no $VZ_ROOT/etc/vz/conf/101.conf"
	[ -d "$VZ_ROOT/vz/private/101" ] || fail "create left no private area $VZ_ROOT/vz/private/101"
	expect_status 101 "exist unmounted down"
	expect_code 0 vzctl start 101
	expect_status 101 "exist mounted running"
	expect_output_is "alive" vzctl exec 101 echo alive
	expect_code 0 vzctl stop 101
	expect_status 101 "exist unmounted down"
	expect_code 0 vzctl destroy 101
	expect_status 101 "deleted unmounted down"
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "destroy left $VZ_ROOT/etc/vz/conf/101.conf"
	[ ! -e "$VZ_ROOT/vz/private/101" ] || fail "destroy left the private area $VZ_ROOT/vz/private/101"
	assert_ct_clean 101
}

test_delete_is_destroy() {
	mk_ct 101
	expect_code 0 vzctl delete 101
	expect_status 101 "deleted unmounted down"
}

test_start_twice_fails_with_32() {
	mk_running_ct 101
	local pid; pid=$(init_pid 101)
	expect_code 32 vzctl start 101
	assert_one_line_error 101
	expect_status 101 "exist mounted running"
	assert_eq "$(init_pid 101)" "$pid" "INIT_PID after the refused second start"
}

test_stop_stopped_fails_with_31() {
	mk_ct 101
	expect_code 31 vzctl stop 101
	assert_one_line_error 101
	expect_status 101 "exist unmounted down"
}

test_exec_into_stopped_fails_with_31() {
	mk_ct 101
	expect_code 31 vzctl exec 101 true
	assert_one_line_error 101
	expect_code 31 vzctl exec2 101 true
	expect_code 31 vzctl exec3 101 /bin/true
	expect_status 101 "exist unmounted down"
}

test_destroy_running_fails_with_32() {
	mk_running_ct 101
	expect_code 32 vzctl destroy 101
	assert_one_line_error 101
	expect_status 101 "exist mounted running"
	[ -d "$VZ_ROOT/vz/private/101" ] || fail "refused destroy removed the private area"
	expect_output_is ok vzctl exec 101 echo ok
}

test_create_twice_fails_with_44() {
	mk_ct 101 --hostname first.example
	ct_put_file 101 /marker 644 <<<keep
	expect_code 44 vzctl create 101 --ostemplate "$TEMPLATE_NAME" --hostname second.example
	assert_one_line_error 101
	expect_status 101 "exist unmounted down"
	grep -q 'first.example' "$VZ_ROOT/etc/vz/conf/101.conf" ||
		fail "failed second create changed 101.conf: $(cat "$VZ_ROOT/etc/vz/conf/101.conf")"
	expect_code 0 vzctl start 101
	expect_output_is keep vzctl exec 101 cat /marker
}

test_ops_on_missing_ct_fail_with_14() {
	local cmd
	for cmd in start stop restart mount umount destroy delete; do
		expect_code 14 vzctl "$cmd" 555
		assert_one_line_error 555
	done
	expect_code 14 vzctl exec 555 true
	assert_one_line_error 555
	expect_code 14 vzctl exec2 555 true
	expect_code 14 vzctl exec3 555 /bin/true
	expect_code 14 vzctl set 555 --hostname x --save
	assert_one_line_error 555
	[ ! -e "$VZ_ROOT/etc/vz/conf/555.conf" ] || fail "set on a missing CT created 555.conf"
	expect_status 555 "deleted unmounted down"
}

test_mount_umount() {
	mk_ct 101
	expect_code 0 vzctl mount 101
	expect_status 101 "exist mounted down"
	[ -n "$(mounts_under "$VZ_ROOT/vz/root/101")" ] || fail "mount: nothing mounted at $VZ_ROOT/vz/root/101"
	[ -e "$VZ_ROOT/vz/root/101/bin/sh" ] || [ -L "$VZ_ROOT/vz/root/101/bin/sh" ] ||
		fail "mounted CT root has no /bin/sh"
	expect_code 41 vzctl mount 101
	expect_code 0 vzctl umount 101
	expect_status 101 "exist unmounted down"
	[ -z "$(mounts_under "$VZ_ROOT/vz/root/101")" ] || fail "umount left mounts: $(mounts_under "$VZ_ROOT/vz/root/101")"
	expect_code 40 vzctl umount 101
	# a mounted CT can be started and, once stopped, is unmounted
	expect_code 0 vzctl mount 101
	expect_code 0 vzctl start 101
	expect_status 101 "exist mounted running"
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}

test_umount_running_fails_with_32() {
	mk_running_ct 101
	expect_code 32 vzctl umount 101
	assert_one_line_error 101
	expect_status 101 "exist mounted running"
	expect_output_is ok vzctl exec 101 echo ok
}

test_state_file_names_live_init() {
	mk_running_ct 101
	local pid ns
	pid=$(init_pid 101)
	assert_match "$pid" '^[0-9]+$' "INIT_PID in $(state_file 101)"
	pid_alive "$pid" || fail "INIT_PID $pid is not a live process"
	ns=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status")
	assert_eq "$ns" 1 "pid of INIT_PID $pid in its own pid namespace"
	expect_code 0 vzctl stop 101
	assert_ct_clean 101 "$pid"
}

test_cgroup_of_running_ct() {
	mk_running_ct 101
	local pid dirs d found=0
	pid=$(init_pid 101)
	dirs=$(ct_cgroup_dirs 101)
	[ -n "$dirs" ] || fail "no cgroup $(cg_base)/101 under /sys/fs/cgroup while running; have: $(find /sys/fs/cgroup -maxdepth 3 -name 'vz*' | head)"
	for d in $dirs; do
		grep -qx "$pid" "$d/cgroup.procs" 2>/dev/null && found=1
	done
	[ $found = 1 ] || fail "init $pid is in none of $dirs"
	# every hierarchy: the init's cgroup is the CT's
	while IFS= read -r line; do
		case $line in
		*"/$(cg_base)/101") ;;
		*) fail "init $pid is outside the CT's cgroup in: $line (all: $(tr '\n' ' ' <"/proc/$pid/cgroup"))" ;;
		esac
	done <"/proc/$pid/cgroup"
	expect_code 0 vzctl stop 101
	assert_ct_clean 101 "$pid"
}

test_restart_gives_new_init() {
	mk_running_ct 101
	local old new
	old=$(init_pid 101)
	expect_code 0 vzctl restart 101
	expect_status 101 "exist mounted running"
	new=$(init_pid 101)
	assert_match "$new" '^[0-9]+$' "INIT_PID after restart"
	assert_ne "$new" "$old" "INIT_PID after restart"
	pid_alive "$old" && fail "old init $old still alive after restart"
	expect_output_is ok vzctl exec 101 echo ok
	# restart of a stopped CT starts it
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl restart 101
	expect_status 101 "exist mounted running"
}

test_stop_fast() {
	mk_running_ct 101
	local pid; pid=$(init_pid 101)
	local t0=$SECONDS
	expect_code 0 vzctl stop 101 --fast
	[ $((SECONDS - t0)) -le 10 ] || fail "stop --fast took $((SECONDS - t0)) s"
	assert_ct_clean 101 "$pid"
}

test_stop_is_graceful_and_quick() {
	mk_running_ct 101
	local pid; pid=$(init_pid 101)
	local t0=$SECONDS
	expect_code 0 vzctl stop 101
	# busybox init honours its halt signal: no need for the 120 s SIGKILL
	[ $((SECONDS - t0)) -le 30 ] || fail "graceful stop took $((SECONDS - t0)) s"
	assert_ct_clean 101 "$pid"
}

halt_from_inside() { # ID CMD
	local id=$1 cmd=$2 pid
	mk_running_ct "$id"
	pid=$(init_pid "$id")
	# the exec may be cut short when the CT goes away: any code will do
	run_cmd timeout 20 "$VZ_BIN_DIR/vzctl" exec "$id" "$cmd"
	wait_until 15 status_is "$id" "exist unmounted down" ||
		fail "'$cmd' inside: status is still '$(ct_status "$id")' after 15 s"
	wait_until 5 eval '! pid_alive '"$pid" || fail "init $pid still alive after '$cmd'"
	assert_ct_clean "$id" "$pid"
	# and it can be started again
	expect_code 0 vzctl start "$id"
	expect_output_is ok vzctl exec "$id" echo ok
}

test_halt_inside_stops_ct() {
	halt_from_inside 101 halt
}

test_poweroff_inside_stops_ct() {
	halt_from_inside 101 poweroff
}

test_reboot_inside_restarts_with_new_init() {
	mk_running_ct 101
	local old new
	old=$(init_pid 101)
	run_cmd timeout 20 "$VZ_BIN_DIR/vzctl" exec 101 reboot
	wait_until 20 eval 'new=$(init_pid 101); [ -n "$new" ] && [ "$new" != "'"$old"'" ] && pid_alive "$new"' ||
		fail "no new init after reboot inside (INIT_PID still '$(init_pid 101)', status '$(ct_status 101)')"
	pid_alive "$old" && fail "old init $old still alive after reboot"
	wait_until 10 status_is 101 "exist mounted running" || fail "status after reboot: $(ct_status 101)"
	wait_until 10 vzctl exec 101 true || fail "exec does not work after reboot"
	expect_output_is ok vzctl exec 101 echo ok
	[ "$(ct_inits 101 | wc -l)" -eq 1 ] || fail "after reboot the CT has inits: $(ct_inits 101 | tr '\n' ' ')"
}

test_kill_init_from_host_leaves_ct_down_and_clean() {
	mk_running_ct 101
	local pid; pid=$(init_pid 101)
	pid_alive "$pid" || fail "no live INIT_PID in the state file"
	kill -9 "$pid" || fail "kill -9 $pid failed"
	wait_until 15 status_is 101 "exist unmounted down" ||
		fail "status after killing init: '$(ct_status 101)'"
	wait_until 5 eval '[ -z "$(ct_cgroup_dirs 101)" ]' || true
	assert_ct_clean 101 "$pid"
	expect_code 31 vzctl exec 101 true
	expect_code 0 vzctl start 101
	expect_status 101 "exist mounted running"
}

test_init_is_pid1_and_session_leader() {
	mk_running_ct 101
	expect_code 0 vzctl exec3 101 /bin/cat /proc/1/stat
	local stat=$LAST_OUT rest
	assert_match "$stat" '^1 \(' "/proc/1/stat inside"
	rest=${stat##*) }
	# rest: state ppid pgrp session ...
	read -r _ ppid pgrp sid _ <<<"$rest"
	assert_eq "$ppid" 0 "ppid of the CT's init"
	assert_eq "$sid" 1 "session id of the CT's init"
	assert_eq "$pgrp" 1 "process group of the CT's init"
	expect_code 0 vzctl exec 101 'tr "\0" " " </proc/1/cmdline'
	assert_match "$LAST_OUT" 'init' "cmdline of pid 1"
}

test_hostname_set_at_create() {
	mk_ct 101 --hostname ct101.example.com
	grep -q '^HOSTNAME="\{0,1\}ct101.example.com' "$VZ_ROOT/etc/vz/conf/101.conf" ||
		fail "101.conf lacks HOSTNAME: $(cat "$VZ_ROOT/etc/vz/conf/101.conf")"
	expect_code 0 vzctl start 101
	expect_output_is ct101.example.com vzctl exec 101 hostname
	expect_output_is ct101.example.com vzctl exec3 101 /bin/cat /proc/sys/kernel/hostname
	[ "$(hostname)" != ct101.example.com ] || fail "the host's hostname was changed"
}

test_set_hostname_live_and_saved() {
	mk_running_ct 101 --hostname before.example
	local host_before; host_before=$(hostname)
	expect_code 0 vzctl set 101 --hostname after.example --save
	expect_output_is after.example vzctl exec 101 hostname
	grep -q '^HOSTNAME="\{0,1\}after.example' "$VZ_ROOT/etc/vz/conf/101.conf" ||
		fail "101.conf not saved: $(cat "$VZ_ROOT/etc/vz/conf/101.conf")"
	assert_eq "$(hostname)" "$host_before" "host hostname"
	expect_code 0 vzctl restart 101
	expect_output_is after.example vzctl exec 101 hostname
}

test_set_hostname_bad_fails_with_70() {
	mk_ct 101
	expect_code 70 vzctl set 101 --hostname 'bad host!' --save
	assert_one_line_error 'bad host!'
	expect_code 70 vzctl create 102 --ostemplate "$TEMPLATE_NAME" --hostname '-x..y'
	[ ! -e "$VZ_ROOT/etc/vz/conf/102.conf" ] || fail "create with a bad hostname left 102.conf"
	[ ! -e "$VZ_ROOT/vz/private/102" ] || fail "create with a bad hostname left the private area"
}

test_set_name_then_commands_accept_it() {
	mk_ct 101
	expect_code 0 vzctl set 101 --name web --save
	[ -e "$VZ_ROOT/etc/vz/names/web" ] || [ -L "$VZ_ROOT/etc/vz/names/web" ] ||
		fail "no $VZ_ROOT/etc/vz/names/web"
	expect_named_status web 101 "exist unmounted down"
	expect_code 0 vzctl start web
	expect_status 101 "exist mounted running"
	expect_output_is ok vzctl exec web echo ok
	expect_code 7 vzctl exec2 web 'exit 7'
	expect_output_is ok vzctl exec3 web /bin/echo ok
	expect_code 0 vzctl set web --hostname named.example --save
	expect_output_is named.example vzctl exec web hostname
	expect_code 0 vzctl restart web
	expect_code 0 vzctl stop web
	expect_code 0 vzctl mount web
	expect_code 0 vzctl umount web
	expect_code 0 vzlist -a -H -o ctid,name
	assert_match "$LAST_OUT" '^ *101 +web *$' "vzlist -o ctid,name"
	expect_code 0 vzctl destroy web
	expect_status 101 "deleted unmounted down"
	[ ! -e "$VZ_ROOT/etc/vz/names/web" ] && [ ! -L "$VZ_ROOT/etc/vz/names/web" ] ||
		fail "destroy left the name web"
	expect_code '14|21' vzctl status web
}

test_create_with_name() {
	mk_ct 101 --name db
	expect_named_status db 101 "exist unmounted down"
	expect_code 0 vzctl start db
	expect_status 101 "exist mounted running"
}

test_name_conflicts_fail_with_131() {
	mk_ct 101 --name web
	expect_code 131 vzctl create 102 --ostemplate "$TEMPLATE_NAME" --name web
	assert_one_line_error web
	expect_status 102 "deleted unmounted down"
	[ ! -e "$VZ_ROOT/vz/private/102" ] || fail "create with a taken name left a private area"
	mk_ct 102
	expect_code 131 vzctl set 102 --name web --save
	assert_one_line_error web
	expect_named_status web 101 "exist unmounted down"
	expect_code 0 vzctl set 102 --name db --save
	expect_named_status db 102 "exist unmounted down"
	# bad names
	expect_code 131 vzctl set 102 --name 'a/b' --save
	expect_code 131 vzctl set 102 --name '../etc' --save
	expect_named_status db 102 "exist unmounted down"
}

test_host_can_write_into_mounted_ct() {
	mk_ct 101
	expect_code 0 vzctl mount 101
	local r="$VZ_ROOT/vz/root/101" err
	err=$( { echo keep >"$r/marker"; } 2>&1) || fail "host root cannot create a file in the mounted CT: $err"
	err=$( { rm -f "$r/sbin/init" && printf '#!/bin/sh\nexec /bin/busybox init\n' >"$r/sbin/init" && chmod 755 "$r/sbin/init"; } 2>&1) ||
		fail "host root cannot replace /sbin/init in the mounted CT: $err"
	expect_code 0 vzctl umount 101
	expect_code 0 vzctl start 101
	expect_output_is keep vzctl exec 101 cat /marker
	expect_code 0 vzctl exec 101 'ls -ln /marker'
	read -r _ _ u g _ <<<"$LAST_OUT"
	assert_eq "$u $g" "0 0" "owner inside of a file the host wrote into the mounted CT"
}

test_ct_root_is_its_own_tree_under_a_root_only_vz_root() {
	chmod 700 "$VZ_ROOT" || fail "chmod $VZ_ROOT"
	mk_ct 101
	expect_code 0 vzctl start 101
	# the CT sees the template's tree, never the host's
	expect_code 0 vzctl exec 101 'test -x /bin/busybox && test -e /etc/inittab && ! test -e /usr/local/sbin/vzctl && ! test -d /vz'
	expect_code 0 vzctl stop 101
}
