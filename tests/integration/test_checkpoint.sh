# Checkpoint and restore with CRIU: vzctl chkpnt/restore, suspend/resume,
# chkpnt --suspend/--resume; a CT runs on where it was (same pids, open
# files, memory, a TCP connection from outside); failures keep the CT or
# its dump. Network: the test's own namespaces (netns.sh).
# vz-test-timeout: 400

# shellcheck source=tests/integration/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
MEMHOG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/memhog

dump_of() { echo "$VZ_ROOT/vz/dump/Dump.$1"; }

# a CT with an IP in the test's host namespace, memhog inside, started
ckpt_ct() {
	local id=$1 ip=$2
	mk_ct "$id"
	[ -x "$MEMHOG" ] || fail "no $MEMHOG (make builds it)"
	ct_put_file "$id" /usr/local/bin/memhog 755 <"$MEMHOG"
	expect_code 0 vzctl set "$id" --ipadd "$ip" --save
	expect_code 0 vzctl start "$id"
}

# start_counter ID: a loop inside counting in /tmp/count, its pid in
# /tmp/counter.pid. Each count is renamed into place: a plain "echo >"
# truncates first, and a read (or a freeze) between truncate and write
# saw an empty counter, which failed these tests twice in CI.
start_counter() {
	in_ct "$1" 'sh -c '\''echo $$ > /tmp/counter.pid; i=0; while :; do i=$((i+1)); echo $i > /tmp/count.new; mv -f /tmp/count.new /tmp/count; sleep 0.1; done'\'' </dev/null >/dev/null 2>&1 &'
}

# expect_counts_on ID BEFORE WHAT: a moment later the counter is past BEFORE
expect_counts_on() {
	sleep 0.3
	count_of "$1"
	[ "$COUNT" -gt "$2" ] || fail "$3: counter $COUNT, $2 before"
}

# background workloads inside: a counting loop, a writer holding a file
# open, memhog (16 MiB, dirtying 4 MiB/s)
start_work() {
	start_counter "$1"
	in_ct "$1" 'sh -c '\''echo $$ > /tmp/writer.pid; exec 3>>/root/log; while :; do echo x >&3; sleep 0.2; done'\'' </dev/null >/dev/null 2>&1 &'
	in_ct "$1" 'memhog 16 4 /tmp/memhog </dev/null >/dev/null 2>&1 &'
	wait_until 10 vzctl exec2 "$1" 'test -s /tmp/memhog && test -s /tmp/count' ||
		fail "the workloads did not start in CT $1"
}

count_of() { # count_of ID: the counter now, in COUNT
	in_ct "$1" 'cat /tmp/count'
	COUNT=$LAST_OUT
}

# the same processes run on: counter beyond before, writer's fd 3 still on
# /root/log, memhog's pages all as it wrote them
expect_work_continues() {
	local id=$1 before=$2 cpid=$3 wpid=$4 hpid=$5
	sleep 0.5
	count_of "$id"
	[ "$COUNT" -gt "$before" ] || fail "counter of $id went from $before to $COUNT: restarted"
	in_ct "$id" 'cat /tmp/counter.pid /tmp/writer.pid; cut -d" " -f1 /tmp/memhog'
	assert_eq "$LAST_OUT" "$cpid"$'\n'"$wpid"$'\n'"$hpid" "pids of counter, writer, memhog"
	in_ct "$id" "readlink /proc/$wpid/fd/3"
	assert_eq "$LAST_OUT" /root/log "the writer's open file"
	in_ct "$id" 'read -r p t g b m s < /tmp/memhog; kill -USR1 $p; echo $s'
	local scans=$LAST_OUT
	wait_until 10 vzctl exec2 "$id" "test \$(cut -d' ' -f6 /tmp/memhog) -gt $scans" ||
		fail "memhog in $id did not check its memory"
	in_ct "$id" 'cut -d" " -f4 /tmp/memhog'
	assert_eq "$LAST_OUT" 0 "pages of memhog not as it wrote them"
}

pids_of() { # pids_of ID: counter, writer and memhog pids in PIDS
	in_ct "$1" 'cat /tmp/counter.pid /tmp/writer.pid; cut -d" " -f1 /tmp/memhog'
	PIDS=$LAST_OUT
}

# working_ct ID IP: ckpt_ct with the workloads running; PIDS and BEFORE
# (the counter) as they are now
working_ct() {
	ckpt_ct "$1" "$2"
	start_work "$1"
	pids_of "$1"
	count_of "$1"
	BEFORE=$COUNT
}

test_chkpnt_and_restore_keep_pids_open_files_and_memory() {
	net_setup
	working_ct 101 198.18.0.2
	# shellcheck disable=SC2086
	set -- $PIDS
	local before=$BEFORE
	expect_code 0 vzctl chkpnt 101
	expect_status 101 "exist unmounted down suspended"
	[ -e "$(dump_of 101)/inventory.img" ] || fail "no dump in $(dump_of 101)"
	# criu worked through vz's cgroup yard (links to the host's cgroup
	# mounts), which goes once criu is done
	[ ! -e "$(dump_of 101)/cgyard" ] || fail "the cgroup yard was left in the dump"
	expect_code 0 vzctl restore 101
	expect_status 101 "exist mounted running"
	expect_work_continues 101 "$before" "$1" "$2" "$3"
	! grep -q cgyard /proc/self/mountinfo || fail "a cgroup yard is still mounted"
	# the default dump is used up by the restore
	[ ! -e "$(dump_of 101)" ] || fail "$(dump_of 101) is still there after the restore"
	expect_code 0 hns ip route show 198.18.0.2
	assert_contains "$LAST_OUT" "dev venet101" "host route after the restore"
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}

test_tcp_connection_from_outside_survives_chkpnt_and_restore() {
	net_setup
	host_if 198.18.0.1/32
	ckpt_ct 101 198.18.0.2
	in_ct 101 'nc -l -p 5000 > /tmp/recv </dev/null 2>/dev/null &'
	wait_until 5 vzctl exec2 101 'netstat -ltn | grep -q :5000' || fail "nc does not listen"
	local d; d=$(scratch)
	# the client: one line every 0.2 s on one connection, in the host namespace
	hns bash -c 'exec 3<>/dev/tcp/198.18.0.2/5000 || exit 1
		for i in $(seq 1 40); do echo "line $i" >&3 || exit 2; sleep 0.2; done' \
		>"$d/client.log" 2>&1 &
	local client=$!
	wait_until 5 vzctl exec2 101 'grep -q "line 3" /tmp/recv' || fail "no data reached the CT"
	expect_code 0 vzctl chkpnt 101
	expect_code 0 vzctl restore 101
	wait $client || fail "the client's connection broke: $(cat "$d/client.log")"
	in_ct 101 'cat /tmp/recv'
	local n; n=$(grep -c '^line ' <<<"$LAST_OUT")
	assert_eq "$n" 40 "lines received on the one connection"
	assert_contains "$LAST_OUT" "line 40" "the last line"
	expect_code 0 vzctl stop 101 --fast
}

test_start_resumes_a_suspended_ct_and_status_says_suspended() {
	net_setup
	working_ct 101 198.18.0.2
	# shellcheck disable=SC2086
	set -- $PIDS
	local before=$BEFORE
	expect_code 0 vzctl suspend 101
	expect_status 101 "exist unmounted down suspended"
	expect_code 0 vzlist -a -H -o ctid,status
	assert_match "$LAST_OUT" '^ *101 +suspended$' "vzlist status"
	expect_code 0 vzctl start 101
	expect_status 101 "exist mounted running"
	expect_work_continues 101 "$before" "$1" "$2" "$3"
	expect_code 0 vzctl stop 101 --fast
	expect_status 101 "exist unmounted down"
}

test_chkpnt_suspend_freezes_and_resume_thaws() {
	net_setup
	ckpt_ct 101 198.18.0.2
	start_work 101
	expect_code 0 vzctl chkpnt 101 --suspend
	local a b
	a=$(cat "$VZ_ROOT/vz/root/101/tmp/count")
	sleep 0.6
	b=$(cat "$VZ_ROOT/vz/root/101/tmp/count")
	assert_eq "$b" "$a" "the counter of a frozen CT"
	expect_code 31 vzctl exec 101 true
	assert_contains "$LAST_ERR" "frozen" "exec into a frozen CT"
	expect_code 0 vzctl chkpnt 101 --resume
	# read inside once it runs: the host's view of a file the CT renames
	# over every 0.1 s, through its own overlay of the CT's image, may
	# show an older one for a while
	wait_until 5 eval '[ "$(vzctl exec2 101 cat /tmp/count)" -gt "$a" ]' ||
		fail "the counter did not go on after --resume ($a, now $(cat \
			"$VZ_ROOT/vz/root/101/tmp/count"); freezer: $(cat \
			/sys/fs/cgroup/freezer/*/101/freezer.state 2>/dev/null); status: $(vzctl \
			status 101 2>&1); in it: $(vzctl exec2 101 'ps -o pid,stat,args' 2>&1 | tr '\n' ';'))"
	# --dump saves and leaves the CT running
	expect_code 0 vzctl chkpnt 101 --dump --dumpfile "$VZ_ROOT/d1"
	expect_status 101 "exist mounted running"
	[ -e "$VZ_ROOT/d1/inventory.img" ] || fail "no dump in $VZ_ROOT/d1"
	# a frozen CT stops all the same
	expect_code 0 vzctl chkpnt 101 --suspend
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}

test_a_failed_checkpoint_leaves_the_ct_running() {
	net_setup
	ckpt_ct 101 198.18.0.2
	start_work 101
	# a process with a UTS namespace of its own: CRIU cannot save that
	in_ct 101 'unshare -u sleep 1000 </dev/null >/dev/null 2>&1 &'
	wait_until 5 vzctl exec2 101 'pidof sleep' || fail "no sleep in its own UTS namespace"
	count_of 101
	local before=$COUNT
	expect_code 16 vzctl chkpnt 101
	assert_one_line_error "$LAST_ERR"
	assert_contains "$LAST_ERR" "uts" "the reason"
	expect_status 101 "exist mounted running"
	[ ! -e "$(dump_of 101)" ] || fail "a failed dump left $(dump_of 101)"
	[ -e "$(dump_of 101).fail/dump.log" ] || fail "no log of the failed dump"
	expect_counts_on 101 "$before" "the CT does not run on after the failed dump"
	expect_code 0 vzctl stop 101 --fast
}

# Ctrl-C (SIGINT to the process group, as a terminal sends it) while criu
# dumps: the checkpoint runs to its end, since cut short it would leave the
# CT half dumped, and the dump restores with the same processes.
test_ctrl_c_during_chkpnt_lets_the_checkpoint_finish() {
	net_setup
	working_ct 101 198.18.0.2
	# shellcheck disable=SC2086
	set -- $PIDS
	local before=$BEFORE d; d=$(scratch)
	fg_job nsenter --net="/run/netns/$HOSTNS" "$VZ_BIN_DIR/vzctl" chkpnt 101 \
		>"$d/out" 2>"$d/err" &
	local job=$!
	until_file 30 "$(dump_of 101).tmp/dump.log" || fail "criu did not start: $(cat "$d/err")"
	kill -INT -- "-$job"
	wait $job
	local rc=$?
	assert_eq "$rc" 0 "vzctl chkpnt's exit code ($(cat "$d/err"))"
	grep -q "interrupted: the checkpoint was let finish" "$d/err" ||
		fail "no word of the interruption: $(cat "$d/err")"
	expect_status 101 "exist unmounted down suspended"
	expect_code 0 vzctl restore 101
	expect_work_continues 101 "$before" "$1" "$2" "$3"
	expect_code 0 vzctl stop 101
}

test_a_failed_restore_keeps_the_dump_for_a_retry() {
	net_setup
	ckpt_ct 101 198.18.0.2
	start_work 101
	count_of 101
	local before=$COUNT
	expect_code 0 vzctl chkpnt 101
	# the host end's name is taken: CRIU cannot make the CT's venet again
	hns ip link add venet101 type veth peer name vzt-clash || fail "cannot take venet101"
	expect_code 17 vzctl restore 101
	assert_one_line_error "$LAST_ERR"
	assert_ct_clean 101
	[ -e "$(dump_of 101)/inventory.img" ] || fail "the failed restore lost the dump"
	expect_status 101 "exist unmounted down suspended"
	hns ip link del venet101
	expect_code 0 vzctl restore 101
	expect_counts_on 101 "$before" "after the retry"
	expect_code 0 vzctl stop 101 --fast
}

test_checkpoint_bad_input_gives_clear_errors() {
	net_setup
	expect_code 14 vzctl chkpnt 555
	mk_ct 101
	expect_code 31 vzctl chkpnt 101
	assert_one_line_error "$LAST_ERR"
	expect_code 20 vzctl chkpnt 101 --suspend --dump
	expect_code 20 vzctl restore 101 --kill
	expect_code 17 vzctl restore 101 --dumpfile "$VZ_ROOT/nothing-here"
	assert_contains "$LAST_ERR" "nothing-here" "the dump named"
	# garbage where a dump should be: refused, the CT stays as it was
	mkdir -p "$VZ_ROOT/junk" && head -c 4096 /dev/urandom >"$VZ_ROOT/junk/inventory.img" &&
		printf 'CTID="101"\n' >"$VZ_ROOT/junk/vz-dump.conf" || fail "cannot make junk"
	expect_code 17 vzctl restore 101 --dumpfile "$VZ_ROOT/junk"
	assert_one_line_error "$LAST_ERR"
	assert_ct_clean 101
	# another CT's dump is not this one's
	printf 'CTID="102"\n' >"$VZ_ROOT/junk/vz-dump.conf"
	expect_code 17 vzctl restore 101 --dumpfile "$VZ_ROOT/junk"
	assert_contains "$LAST_ERR" "CT 102" "whose dump it is"
	expect_status 101 "exist unmounted down"
}

test_debian12_systemd_ct_checkpoint_and_restore() {
	. "$(dirname "${BASH_SOURCE[0]}")/test_templates.sh"
	net_setup
	mk_debian_ct 101 debian-12-x86_64
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --save
	expect_code 0 vzctl start 101 --wait
	start_counter 101
	sleep 0.5
	count_of 101
	local before=$COUNT
	in_ct 101 'systemctl show -p MainPID --value systemd-journald'
	local jpid=$LAST_OUT
	expect_code 0 vzctl chkpnt 101
	expect_code 0 vzctl restore 101
	in_ct 101 'systemctl is-system-running'
	assert_match "$LAST_OUT" '^(running|degraded)$' "systemd after the restore"
	in_ct 101 'systemctl show -p MainPID --value systemd-journald'
	assert_eq "$LAST_OUT" "$jpid" "journald's pid"
	expect_counts_on 101 "$before" "after the restore"
	# systemd still manages services
	in_ct 101 'systemctl restart ssh && systemctl is-active ssh'
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}

test_image_layout_ct_on_a_bridge_checkpoints_and_restores() {
	net_setup
	hns ip link add br0 type bridge && hns ip addr add 198.18.2.1/24 dev br0 &&
		hns ip link set br0 up || fail "cannot set up br0"
	mk_ct 101 --layout image --diskspace 256M
	expect_code 0 vzctl set 101 --netif_add eth0 --save
	expect_code 0 vzctl set 101 --ifname eth0 --bridge br0 --ipadd 198.18.2.2/24 --save
	expect_code 0 vzctl start 101
	start_counter 101
	wait_until 5 vzctl exec2 101 'test -s /tmp/count' || fail "no counter"
	in_ct 101 'cat /tmp/counter.pid'
	local cpid=$LAST_OUT
	count_of 101
	local before=$COUNT
	expect_code 0 vzctl chkpnt 101
	expect_status 101 "exist unmounted down suspended"
	expect_code 0 vzctl restore 101
	expect_counts_on 101 "$before" "after the restore"
	in_ct 101 'cat /tmp/counter.pid'
	assert_eq "$LAST_OUT" "$cpid" "the counter's pid"
	# the veth is back on the bridge, up, with the CT's address
	hns ip link show master br0 >"$VZ_ROOT/.test/br" 2>&1
	grep -q "veth101.eth0.*UP" "$VZ_ROOT/.test/br" || fail "veth101.eth0 not up on br0: $(cat "$VZ_ROOT/.test/br")"
	expect_code 0 hns busybox ping -c1 -W2 198.18.2.2
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}
