# Concurrent vzctl commands, many CTs at once, an init that dies at once.
# Run by tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.

# bgrun NAME cmd...: runs cmd in the background; its exit code lands in
# $(scratch)/NAME.rc, its output in NAME.out.
bgrun() {
	local name=$1 d; shift
	d=$(scratch)
	( "$@" >"$d/$name.out" 2>&1; echo $? >"$d/$name.rc" ) &
}
bg_rc() { cat "$(scratch)/$1.rc" 2>/dev/null || echo none; }
bg_out() { cat "$(scratch)/$1.out" 2>/dev/null; }

# Fails unless the CT's status agrees with what runs: running <-> exactly
# one init in its cgroup equal to INIT_PID; down <-> nothing left.
assert_consistent() {
	local id=$1 st inits pid
	st=$(vzctl status "$id" 2>&1)
	inits=$(ct_inits "$id" | tr '\n' ' ')
	case $st in
	"CTID $id exist mounted running")
		pid=$(init_pid "$id")
		assert_eq "$inits" "$pid " "inits of running $id (INIT_PID $pid)"
		expect_output_is ok vzctl exec "$id" echo ok
		;;
	"CTID $id exist unmounted down")
		assert_ct_clean "$id"
		;;
	*) fail "status of $id after the race: '$st' (inits: $inits)" ;;
	esac
}

test_start_race_exactly_one_wins() {
	local round
	mk_ct 101
	for round in 1 2 3; do
		bgrun s1 vzctl start 101
		bgrun s2 vzctl start 101
		wait
		local codes; codes=$(printf '%s\n' "$(bg_rc s1)" "$(bg_rc s2)" | sort -n | tr '\n' ' ')
		assert_eq "$codes" "0 32 " "exit codes of two racing starts, round $round (outputs: $(bg_out s1) | $(bg_out s2))"
		expect_status 101 "exist mounted running"
		local inits; inits=$(ct_inits 101 | tr '\n' ' ')
		assert_eq "$inits" "$(init_pid 101) " "inits after racing starts, round $round"
		expect_output_is ok vzctl exec 101 echo ok
		expect_code 0 vzctl stop 101 --fast
		assert_ct_clean 101
	done
}

test_start_stop_race_leaves_consistent_state() {
	local round
	mk_ct 101
	for round in 1 2 3 4; do
		if [ $((round % 2)) = 1 ]; then
			# stopped CT: start and stop at once
			bgrun start vzctl start 101
			bgrun stop vzctl stop 101
		else
			# running CT: stop and start at once
			expect_code 0 vzctl start 101
			bgrun stop vzctl stop 101
			bgrun start vzctl start 101
		fi
		wait
		case "$(bg_rc start)" in 0 | 32) ;; *) fail "racing start exited $(bg_rc start): $(bg_out start)" ;; esac
		case "$(bg_rc stop)" in 0 | 31) ;; *) fail "racing stop exited $(bg_rc stop): $(bg_out stop)" ;; esac
		assert_consistent 101
		run_cmd vzctl stop 101 --fast
		assert_ct_clean 101
	done
}

test_exec_and_stop_race() {
	mk_running_ct 101
	bgrun ex vzctl exec 101 'sleep 2; echo done'
	sleep 0.5
	bgrun stop vzctl stop 101
	wait
	assert_eq "$(bg_rc stop)" 0 "stop while an exec runs (output: $(bg_out stop))"
	[ "$(bg_rc ex)" != none ] || fail "exec did not finish"
	assert_ct_clean 101
}

test_ten_cts_in_parallel() {
	local id
	for id in $(seq 101 110); do bgrun c$id vzctl create "$id" --ostemplate "$TEMPLATE_NAME" --hostname "ct$id"; done
	wait
	for id in $(seq 101 110); do
		assert_eq "$(bg_rc c$id)" 0 "parallel create of $id (output: $(bg_out c$id))"
	done
	for id in $(seq 101 110); do bgrun s$id vzctl start "$id"; done
	wait
	for id in $(seq 101 110); do
		assert_eq "$(bg_rc s$id)" 0 "parallel start of $id (output: $(bg_out s$id))"
	done
	for id in $(seq 101 110); do
		expect_status "$id" "exist mounted running"
		expect_output_is "ct$id" vzctl exec "$id" hostname
	done
	expect_code 0 vzlist -H -o ctid,status
	assert_eq "$(grep -c ' running *$' <<<"$LAST_OUT")" 10 "running CTs in vzlist ($LAST_OUT)"
	assert_eq "$(vzlist -1 | tr -s ' \n' '  ' | sed 's/^ //')" "$(seq 101 110 | tr '\n' ' ')" "vzlist -1"
	# ten distinct inits, ten distinct uid ranges
	local pids bases
	pids=$(for id in $(seq 101 110); do init_pid "$id"; done | sort -u | wc -l)
	assert_eq "$pids" 10 "distinct INIT_PIDs"
	bases=$(for id in $(seq 101 110); do awk '/^Uid:/ { print $2 }' "/proc/$(init_pid "$id")/status"; done | sort -u | wc -l)
	assert_eq "$bases" 10 "distinct host uids of the inits"
	for id in $(seq 101 110); do bgrun t$id vzctl stop "$id"; done
	wait
	for id in $(seq 101 110); do
		assert_eq "$(bg_rc t$id)" 0 "parallel stop of $id (output: $(bg_out t$id))"
	done
	expect_output_is "" vzlist -H
	for id in $(seq 101 110); do assert_ct_clean "$id"; done
	for id in $(seq 101 110); do bgrun d$id vzctl destroy "$id"; done
	wait
	for id in $(seq 101 110); do
		assert_eq "$(bg_rc d$id)" 0 "parallel destroy of $id (output: $(bg_out d$id))"
	done
	expect_output_is "" vzlist -a -H
	[ -z "$(ls -A "$VZ_ROOT/vz/private")" ] || fail "private areas left: $(ls "$VZ_ROOT/vz/private")"
}

test_init_that_exits_at_once() {
	mk_ct 101
	ct_put_file 101 /sbin/init 755 <<<$'#!/bin/sh\nexit 3'
	run_cmd vzctl start 101
	note "start of a CT whose init exits: code $LAST_CODE, stderr: $LAST_ERR"
	if [ "$LAST_CODE" = 0 ]; then
		wait_until 15 status_is 101 "exist unmounted down" ||
			fail "start succeeded, and 15 s later status is '$(ct_status 101)'"
	else
		[ -n "$LAST_ERR" ] || fail "start failed ($LAST_CODE) without a message"
		expect_status 101 "exist unmounted down"
	fi
	assert_ct_clean 101
	# the same again: no stale state from the first attempt
	run_cmd vzctl start 101
	[ "$LAST_CODE" = 0 ] || [ "$LAST_CODE" != 32 ] || fail "second start says the CT runs (32): $LAST_ERR"
	wait_until 15 status_is 101 "exist unmounted down" || fail "status after second start: '$(ct_status 101)'"
	assert_ct_clean 101
	expect_code 0 vzctl destroy 101
}

test_start_wait_on_init_that_exits_fails() {
	mk_ct 101
	ct_put_file 101 /sbin/init 755 <<<$'#!/bin/sh\nexit 3'
	run_cmd timeout 60 "$VZ_BIN_DIR/vzctl" start 101 --wait
	[ "$LAST_CODE" != 0 ] || fail "start --wait succeeded although the init exits at once"
	[ "$LAST_CODE" != 124 ] || fail "start --wait hung (timeout 60 s)"
	wait_until 15 status_is 101 "exist unmounted down" || fail "status: '$(ct_status 101)'"
	assert_ct_clean 101
}

test_broken_ct_without_init_fails_with_47() {
	mk_ct 101 --diskspace unlimited # the upper layer as plain directories
	# an overlayfs whiteout in the upper layer hides the template's init
	mkdir -p "$VZ_ROOT/vz/private/101/fs/sbin" && mknod "$VZ_ROOT/vz/private/101/fs/sbin/init" c 0 0 ||
		fail "cannot white out /sbin/init in the private area"
	expect_code 47 vzctl start 101
	assert_one_line_error 101
	assert_ct_clean 101
}

test_start_wait_answers_exec() {
	mk_ct 101
	expect_code 0 vzctl start 101 --wait
	expect_output_is ok vzctl exec 101 echo ok
}

test_parallel_execs() {
	mk_running_ct 101
	local i
	for i in $(seq 1 10); do bgrun e$i vzctl exec2 101 "echo n$i; exit $i"; done
	wait
	for i in $(seq 1 10); do
		assert_eq "$(bg_rc e$i)" "$i" "exit of parallel exec $i"
		assert_eq "$(bg_out e$i)" "n$i" "output of parallel exec $i"
	done
}
