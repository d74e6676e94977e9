# vzmigrate between two "hosts" on this machine: two network namespaces
# (netns.sh), each running vz with its own VZ_ROOT (the source's is the
# test's, the destination's $VZ_ROOT/dst), reached as netns:NAME. Online
# (post-copy, stop-copy) and offline; failures leave the CT on the source.
# vz-test-timeout: 300

# shellcheck source=tests/integration/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
MEMHOG=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/memhog
DST="" DROOT=""

vzmigrate() { hns "$VZ_BIN_DIR/vzmigrate" "$@"; }
dvzctl() { in_ns "$DST" "$VZ_BIN_DIR/vzctl" --vz-root "$DROOT" "$@"; }

# the two hosts: SRC (HOSTNS, where vzctl runs) and DST, with host
# addresses to ping the CTs from
mig_setup() {
	net_setup
	host_if 198.18.0.1/32
	mk_netns
	DST=$NS
	DROOT=$VZ_ROOT/dst
	in_ns "$DST" ip link add hostif type veth peer name hostif-p &&
		in_ns "$DST" ip link set hostif up && in_ns "$DST" ip link set hostif-p up &&
		in_ns "$DST" ip addr add 198.18.1.1/32 dev hostif || fail "cannot set up $DST"
	trap mig_cleanup EXIT
}

mig_cleanup() {
	local c id
	for c in "$DROOT"/etc/vz/conf/*.conf; do
		[ -e "$c" ] || continue
		id=${c##*/}; id=${id%.conf}
		dvzctl stop "$id" --fast >/dev/null 2>&1
		dvzctl destroy "$id" >/dev/null 2>&1
	done
	net_cleanup
}

# a running CT with an IP and memhog inside (MIB MiB, DIRTY MiB/s), a
# counter, a writer appending a numbered line to /root/lines every 0.1 s
# Without a disk image by default: rsync reads an image's whole apparent
# size on every pass (the default 2.2 GB: seconds; a first default of 10% of
# this disk, 25 GB, took a minute), which these tests of the phases' timing
# are not about.
mig_ct() {
	local id=$1 ip=$2 mib=${3:-16} dirty=${4:-4}
	mk_ct "$id" ${MIG_CREATE:---diskspace unlimited}
	# through the host's view of the stopped CT (root there is the CT's root)
	expect_code 0 vzctl mount "$id"
	install -D -m 755 "$MEMHOG" "$VZ_ROOT/vz/root/$id/usr/local/bin/memhog" &&
		echo before >"$VZ_ROOT/vz/root/$id/root/before" || fail "cannot put files into CT $id"
	expect_code 0 vzctl umount "$id"
	expect_code 0 vzctl set "$id" --ipadd "$ip" --save
	expect_code 0 vzctl start "$id"
	in_ct "$id" "memhog $mib $dirty /tmp/memhog </dev/null >/dev/null 2>&1 &"
	in_ct "$id" 'sh -c '\''i=0; while :; do i=$((i+1)); echo $i >> /root/lines; sleep 0.1; done'\'' </dev/null >/dev/null 2>&1 &'
	wait_until 10 vzctl exec2 "$id" 'test -s /tmp/memhog && test -s /root/lines' ||
		fail "the workload did not start in CT $id"
}

# on the destination: memhog (same pid) ran on and its pages are right,
# lines are numbered without a gap or a restart, the file from before is
# there, the IP answers from the destination's host
expect_ct_moved() {
	local id=$1 ip=$2 hpid=$3
	dvzctl status "$id" >"$VZ_ROOT/.test/st" 2>&1
	assert_eq "$(cat "$VZ_ROOT/.test/st")" "CTID $id exist mounted running" "status on the destination"
	expect_code 0 dvzctl exec2 "$id" 'cut -d" " -f1 /tmp/memhog; cat /root/before'
	assert_eq "$LAST_OUT" "$hpid"$'\n'"before" "memhog's pid and the file from before"
	expect_code 0 dvzctl exec2 "$id" 'read -r p t g b m s < /tmp/memhog; kill -USR1 $p; echo $s'
	local scans=$LAST_OUT
	wait_until 15 dvzctl exec2 "$id" "test \$(cut -d' ' -f6 /tmp/memhog) -gt $scans" ||
		fail "memhog did not check its memory on the destination"
	expect_code 0 dvzctl exec2 "$id" 'cut -d" " -f4 /tmp/memhog'
	assert_eq "$LAST_OUT" 0 "memhog's pages not as it wrote them"
	local n1 n2
	expect_code 0 dvzctl exec2 "$id" 'wc -l < /root/lines'
	n1=$LAST_OUT
	sleep 0.5
	expect_code 0 dvzctl exec2 "$id" 'wc -l < /root/lines; awk "\$1 != NR { print \"gap at \" NR; exit }" /root/lines'
	n2=${LAST_OUT%%$'\n'*}
	[ "$n2" -gt "$n1" ] || fail "the writer does not run on the destination ($n1, $n2)"
	assert_not_contains "$LAST_OUT" "gap" "the numbered lines"
	expect_code 0 in_ns "$DST" busybox ping -c1 -W2 "$ip"
	# gone from the source: config, private area, its host end
	[ ! -e "$VZ_ROOT/etc/vz/conf/$id.conf" ] || fail "the source still has $id.conf"
	[ ! -e "$VZ_ROOT/vz/private/$id" ] || fail "the source still has the private area"
	! hns ip link show "venet$id" >/dev/null 2>&1 || fail "venet$id is still on the source"
}

memhog_pid() { # memhog_pid ID: in HPID
	in_ct "$1" 'cut -d" " -f1 /tmp/memhog'
	HPID=$LAST_OUT
}

test_online_postcopy_migration_moves_a_running_ct_with_its_memory() {
	mig_setup
	mig_ct 101 198.18.0.2 64 20
	memhog_pid 101
	expect_code 0 vzmigrate --online --strategy postcopy --dst-root "$DROOT" "netns:$DST" 101
	assert_contains "$LAST_OUT" "post-copy" "the report"
	assert_match "$LAST_OUT" "frozen [0-9.]+ s" "the report"
	expect_ct_moved 101 198.18.0.2 "$HPID"
	# and back again, the default strategy
	expect_code 0 in_ns "$DST" "$VZ_BIN_DIR/vzmigrate" --vz-root "$DROOT" --online \
		--dst-root "$VZ_ROOT" "netns:$HOSTNS" 101
	expect_code 0 vzctl exec2 101 'cut -d" " -f1 /tmp/memhog'
	assert_eq "$LAST_OUT" "$HPID" "memhog back on the source"
	expect_code 0 vzctl stop 101 --fast
}

test_online_stopcopy_migration_holds_the_source_until_the_destination_runs() {
	mig_setup
	mig_ct 101 198.18.0.2 32 4
	memhog_pid 101
	expect_code 0 vzmigrate --online --strategy stopcopy --dst-root "$DROOT" "netns:$DST" 101
	assert_contains "$LAST_OUT" "stop-copy" "the report"
	expect_ct_moved 101 198.18.0.2 "$HPID"
}

# Pre-copy needs the kernel to track dirty memory (soft-dirty): rounds of
# pre-dumps while memhog dirties its memory and the writer runs, each
# sending what changed since the last, then the final dump on top of them.
# A kernel without it (6.18 has none) is no skip: --strategy precopy must
# then fall back to post-copy, saying so, and move the CT all the same.
test_online_precopy_migration_where_the_kernel_tracks_dirty_memory() {
	local criu=/usr/local/lib/vz/criu/criu
	[ -x "$criu" ] || criu=criu
	mig_setup
	mig_ct 101 198.18.0.2 32 4
	memhog_pid 101
	if "$criu" check --feature mem_dirty_track >/dev/null 2>&1; then
		expect_code 0 vzmigrate --online --strategy precopy --dst-root "$DROOT" "netns:$DST" 101
		# a second round at least: the first has no parent to diff against
		assert_match "$LAST_OUT" "\(pre-copy, [2-8] rounds, [0-9]+ pages dirty at the end\)" \
			"the report"
		assert_match "$LAST_ERR" "pre-copy round 2: [0-9]+ pages" "the progress"
		assert_not_contains "$LAST_ERR" "Warning" "the output of pre-copy"
	else
		expect_code 0 vzmigrate --online --strategy precopy --dst-root "$DROOT" "netns:$DST" 101
		assert_contains "$LAST_ERR" "Warning: this kernel cannot track dirty memory" "the warning"
		assert_contains "$LAST_OUT" "(post-copy)" "the report"
		assert_not_contains "$LAST_ERR" "pre-copy round" "the progress"
	fi
	expect_ct_moved 101 198.18.0.2 "$HPID"
}

test_offline_migration_starts_the_ct_there_and_r_no_keeps_the_config_here() {
	mig_setup
	mig_ct 101 198.18.0.2
	expect_code 0 vzmigrate -r no --dst-root "$DROOT" "netns:$DST" 101
	assert_contains "$LAST_OUT" "offline" "the report"
	expect_code 0 dvzctl exec2 101 'cat /root/before'
	assert_eq "$LAST_OUT" before "the file on the destination"
	expect_code 0 in_ns "$DST" busybox ping -c1 -W2 198.18.0.2
	[ -e "$VZ_ROOT/etc/vz/conf/101.conf.migrated" ] || fail "-r no: no 101.conf.migrated"
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "-r no: 101.conf is still active"
	# a stopped CT moves stopped
	mk_ct 102 --diskspace unlimited
	expect_code 0 vzmigrate --dst-root "$DROOT" "netns:$DST" 102
	dvzctl status 102 >"$VZ_ROOT/.test/st" 2>&1
	assert_eq "$(cat "$VZ_ROOT/.test/st")" "CTID 102 exist unmounted down" "status of 102 there"
}

# the CT runs on at the source as it was (memhog the same process, the
# writer going on, its IP answering: no network lock left), and nothing of
# it is on the destination
expect_ct_stayed() {
	local id=$1 ip=$2
	expect_status "$id" "exist mounted running"
	expect_code 0 vzctl exec2 "$id" 'wc -l < /root/lines'
	local n=$LAST_OUT
	sleep 0.5
	expect_code 0 vzctl exec2 "$id" 'wc -l < /root/lines; cut -d" " -f1 /tmp/memhog'
	[ "${LAST_OUT%%$'\n'*}" -gt "$n" ] || fail "the CT does not run on at the source"
	assert_eq "${LAST_OUT##*$'\n'}" "$HPID" "memhog at the source"
	expect_code 0 hns busybox ping -c1 -W2 "$ip"
	[ ! -e "$DROOT/etc/vz/conf/$id.conf" ] || fail "the destination kept $id.conf"
	[ -z "$(ls -A "$DROOT/vz/private" 2>/dev/null)" ] || fail "the destination kept a private area"
	[ -z "$(mounts_under "$DROOT")" ] || fail "mounts left on the destination"
}

# A destination that cannot run the CT (its venet name is taken there):
# the CT runs on at the source, the destination keeps nothing.
refused_by_destination() {
	local strategy=$1
	mig_setup
	mig_ct 101 198.18.0.2
	memhog_pid 101
	in_ns "$DST" ip link add venet101 type veth peer name vzt-clash || fail "cannot take venet101"
	expect_code 7 vzmigrate --online --strategy "$strategy" --dst-root "$DROOT" "netns:$DST" 101
	assert_contains "$LAST_ERR" "restore" "the reason"
	expect_ct_stayed 101 198.18.0.2
	expect_code 0 vzctl stop 101 --fast
}
test_postcopy_refused_by_the_destination_leaves_the_ct_running_here() {
	refused_by_destination postcopy
}
test_stopcopy_refused_by_the_destination_leaves_the_ct_running_here() {
	refused_by_destination stopcopy
}

test_destination_dying_midway_leaves_the_ct_running_here() {
	mig_setup
	mig_ct 101 198.18.0.2 64 8
	memhog_pid 101
	local d; d=$(scratch)
	vzmigrate --online --strategy stopcopy --dst-root "$DROOT" "netns:$DST" 101 \
		>"$d/mig.out" 2>"$d/mig.err" &
	local mig=$!
	# the destination host dies while the CT is frozen and being dumped
	# (later, once the dump is streamed, the destination may already run it)
	wait_until 60 grep -q "^copying what changed while frozen" "$d/mig.err" ||
		fail "no frozen phase: $(cat "$d/mig.err")"
	# (not "$DROOT" alone: the source's vzmigrate has it in --dst-root)
	pkill -9 -f -- "--vz-root $DROOT" || fail "nothing of the destination to kill"
	pkill -9 -f -- "$DROOT/"
	wait $mig
	local rc=$?
	[ "$rc" -ne 0 ] || fail "vzmigrate succeeded with its destination dead"
	expect_status 101 "exist mounted running"
	expect_code 0 vzctl exec2 101 'cut -d" " -f1 /tmp/memhog'
	assert_eq "$LAST_OUT" "$HPID" "memhog at the source"
	expect_code 0 vzctl exec2 101 'wc -l < /root/lines'
	local n=$LAST_OUT
	sleep 0.5
	expect_code 0 vzctl exec2 101 'wc -l < /root/lines'
	[ "$LAST_OUT" -gt "$n" ] || fail "the CT does not run on at the source"
	expect_code 0 vzctl stop 101 --fast
	# what the dead destination left is cleaned by its own vzctl
	dvzctl umount 101 >/dev/null 2>&1
	[ -z "$(mounts_under "$DROOT")" ] || umount -R "$DROOT/vz/root/101" 2>/dev/null
}

# vzmigrate as a terminal's foreground job (fg_job): `kill -INT -- -PID`
# is the user's Ctrl-C
fg_vzmigrate() {
	fg_job nsenter --net="/run/netns/$HOSTNS" "$VZ_BIN_DIR/vzmigrate" "$@"
}

# mig_ctrl_c STRATEGY DIRTY PHASE: CT 101 (memhog, 128 MiB, dirtying DIRTY
# MiB/s) migrating online with STRATEGY, and Ctrl-C once vzmigrate reports
# PHASE; its exit code in RC, its stderr in the file MIGERR
mig_ctrl_c() {
	mig_setup
	mig_ct 101 198.18.0.2 128 "$2"
	memhog_pid 101
	local d; d=$(scratch)
	MIGERR=$d/mig.err
	fg_vzmigrate --online --strategy "$1" --dst-root "$DROOT" "netns:$DST" 101 \
		>"$d/mig.out" 2>"$MIGERR" &
	local mig=$!
	until_file 60 "$MIGERR" "^$3" || fail "no phase '$3': $(cat "$MIGERR")"
	kill -INT -- "-$mig"
	wait $mig
	RC=$?
}

# Ctrl-C while the CT is frozen for its dump, before the destination runs
# it: the migration is called off, and the CT runs on here as it was (same
# processes, its IP answering: criu's network lock gone), nothing of it
# left there.
test_ctrl_c_before_the_ct_runs_there_calls_the_migration_off() {
	mig_ctrl_c stopcopy 8 "copying what changed while frozen"
	assert_eq "$RC" 130 "vzmigrate's exit code ($(tail -n1 "$MIGERR"))"
	grep -q "migration interrupted: the CT stays here as it was" "$MIGERR" ||
		fail "no word of the interruption: $(cat "$MIGERR")"
	expect_ct_stayed 101 198.18.0.2
	expect_code 0 vzctl stop 101 --fast
}

# Ctrl-C once the destination runs the CT, its memory still on the way
# (post-copy): too late to call off, so the migration is finished, and the
# CT is whole there.
test_ctrl_c_once_the_ct_runs_there_finishes_the_migration() {
	mig_ctrl_c postcopy 20 "memory follows on demand"
	assert_eq "$RC" 0 "vzmigrate's exit code ($(tail -n1 "$MIGERR"))"
	grep -q "interrupted once it ran on the destination: the migration was finished" \
		"$MIGERR" || fail "no word of the late interruption: $(cat "$MIGERR")"
	expect_ct_moved 101 198.18.0.2 "$HPID"
}

# vzmigrate killed outright (SIGKILL: no handler runs) while the CT is
# frozen for its dump: its watchdog lets criu resume the CT, thaws it and
# lifts criu's network lock, so the CT runs on here; the destination,
# left without a source, removes what it got.
killed_while_frozen() {
	mig_setup
	mig_ct 101 198.18.0.2 64 8
	memhog_pid 101
	local d; d=$(scratch)
	fg_vzmigrate --online --strategy "$1" --dst-root "$DROOT" "netns:$DST" 101 \
		>"$d/mig.out" 2>"$d/mig.err" &
	local mig=$!
	until_file 60 "$d/mig.err" "^copying what changed while frozen" ||
		fail "no frozen phase: $(cat "$d/mig.err")"
	kill -KILL "$mig"
	wait $mig
	wait_until 30 vzctl exec2 101 true || fail "the CT stays frozen"
	wait_until 30 test ! -e "$DROOT/etc/vz/conf/101.conf" || fail "the destination kept 101.conf"
	expect_ct_stayed 101 198.18.0.2
	expect_code 0 vzctl stop 101 --fast
}
test_postcopy_vzmigrate_killed_while_the_ct_is_frozen_leaves_it_running_here() {
	killed_while_frozen postcopy
}
test_stopcopy_vzmigrate_killed_while_the_ct_is_frozen_leaves_it_running_here() {
	killed_while_frozen stopcopy
}

# Files come and go in the CT while its private area is copied live
# (rsync lists a file, then finds it gone: its exit 24). That is no
# failure: the pass while the CT is frozen brings the destination's tree
# to what the CT has, vanished files removed there too.
test_files_vanishing_during_the_live_copy_do_not_fail_the_migration() {
	mig_setup
	mig_ct 101 198.18.0.2
	memhog_pid 101
	# a big file first in rsync's list, then files each removed 20
	# files after it was made: by the time rsync is past the big file,
	# the small ones it listed are gone
	expect_code 0 vzctl exec2 101 'mkdir /root/churn && head -c 16777216 /dev/urandom > /root/churn/a.big'
	in_ct 101 'cd /root/churn && sh -c '\''echo $$ > /tmp/churn.pid; n=0; while :; do n=$((n+1)); echo $n > f$n; rm -f f$((n-20)); done'\'' </dev/null >/dev/null 2>&1 &'
	wait_until 10 vzctl exec2 101 'ls /root/churn | grep -q ^f' || fail "the churn did not start"
	expect_code 0 vzmigrate --online --strategy stopcopy --dst-root "$DROOT" "netns:$DST" 101
	# rsync says so on stderr: the case this test is about did happen
	assert_contains "$LAST_ERR" "vanished" "vzmigrate's stderr"
	expect_code 0 dvzctl exec2 101 'kill $(cat /tmp/churn.pid)'
	expect_ct_moved 101 198.18.0.2 "$HPID"
}

test_vzmigrate_bad_input_gives_clear_errors() {
	mig_setup
	expect_code 1 vzmigrate
	expect_code 10 vzmigrate --dst-root "$DROOT" "netns:$DST" 555
	mk_ct 101
	expect_code 2 vzmigrate --online --dst-root "$DROOT" "netns:$DST" 101
	assert_one_line_error "$LAST_ERR"
	expect_code 1 vzmigrate -r maybe --dst-root "$DROOT" "netns:$DST" 101
	expect_code 1 vzmigrate --strategy fastest --dst-root "$DROOT" "netns:$DST" 101
	expect_code 1 vzmigrate "netns:$DST" 101
	assert_contains "$LAST_ERR" "--dst-root" "the error"
	expect_code 4 vzmigrate --dst-root "$DROOT" netns:vzt-no-such-ns 101
	# ssh to an address this namespace has no route to
	expect_code 4 vzmigrate --ssh="-o ConnectTimeout=3" root@198.18.255.254 101
	# the CT exists there already
	expect_code 0 dvzctl create 101 --ostemplate busybox
	expect_code 9 vzmigrate --dst-root "$DROOT" "netns:$DST" 101
	assert_contains "$LAST_ERR" "exists" "the error"
	expect_status 101 "exist unmounted down"
}

# ssh_dest: an sshd of the test's own in DST on 198.18.2.2, reached from
# the source over a veth link (198.18.2.1); SSHOPTS for vzmigrate --ssh
ssh_dest() {
	local d; d=$(scratch)
	hns ip link add vzt-mig type veth peer name vzt-mig netns "$DST" &&
		hns ip addr add 198.18.2.1/30 dev vzt-mig && hns ip link set vzt-mig up &&
		in_ns "$DST" ip addr add 198.18.2.2/30 dev vzt-mig &&
		in_ns "$DST" ip link set vzt-mig up || fail "cannot link the two hosts"
	ssh-keygen -q -t ed25519 -N '' -f "$d/id" && ssh-keygen -q -t ed25519 -N '' -f "$d/hostkey" &&
		cp "$d/id.pub" "$d/authorized_keys" || fail "cannot make ssh keys"
	cat >"$d/sshd_config" <<-CONF
		ListenAddress 198.18.2.2
		HostKey $d/hostkey
		AuthorizedKeysFile $d/authorized_keys
		PermitRootLogin prohibit-password
		StrictModes no
		UsePAM no
		PidFile $d/sshd.pid
	CONF
	mkdir -p /run/sshd
	(exec nsenter --net="/run/netns/$DST" /usr/sbin/sshd -D -e -f "$d/sshd_config" \
		>"$d/sshd.log" 2>&1) &
	BG_PIDS+=($!)
	SSHOPTS="-i $d/id -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ServerAliveInterval=1 -o ServerAliveCountMax=3"
	wait_until 10 hns ssh $SSHOPTS -o BatchMode=yes root@198.18.2.2 true ||
		fail "sshd in $DST does not answer: $(cat "$d/sshd.log")"
}

test_online_migration_over_ssh_moves_the_ct_to_a_host_running_sshd() {
	mig_setup
	ssh_dest
	mig_ct 101 198.18.0.2
	memhog_pid 101
	expect_code 0 vzmigrate --online --ssh="$SSHOPTS" --dst-vzmigrate "$VZ_BIN_DIR/vzmigrate" \
		--dst-root "$DROOT" root@198.18.2.2 101
	echo "$LAST_OUT" >"$VZ_ROOT/.test/report"
	expect_ct_moved 101 198.18.0.2 "$HPID"
	# one ssh connection carried it all: its master is gone with it
	[ ! -e "$VZ_ROOT/run/vz/101.ssh" ] || fail "the ssh control socket is left behind"
}

test_network_cut_during_a_migration_leaves_the_ct_running_here() {
	mig_setup
	ssh_dest
	mig_ct 101 198.18.0.2 64 8
	memhog_pid 101
	local d; d=$(scratch)
	vzmigrate --online --strategy stopcopy --ssh="$SSHOPTS" \
		--dst-vzmigrate "$VZ_BIN_DIR/vzmigrate" --dst-root "$DROOT" root@198.18.2.2 101 \
		>"$d/mig.out" 2>"$d/mig.err" &
	local mig=$!
	# the link goes down while the CT is frozen and being dumped
	wait_until 60 grep -q "^copying what changed while frozen" "$d/mig.err" ||
		fail "no frozen phase: $(cat "$d/mig.err")"
	hns ip link set vzt-mig down || fail "cannot cut the link"
	wait $mig
	[ $? -ne 0 ] || fail "vzmigrate succeeded over a cut link"
	expect_status 101 "exist mounted running"
	expect_code 0 vzctl exec2 101 'cut -d" " -f1 /tmp/memhog; wc -l < /root/lines'
	assert_eq "${LAST_OUT%%$'\n'*}" "$HPID" "memhog at the source"
	local n=${LAST_OUT##*$'\n'}
	sleep 0.5
	expect_code 0 vzctl exec2 101 'wc -l < /root/lines'
	[ "$LAST_OUT" -gt "$n" ] || fail "the CT does not run on at the source"
	expect_code 0 hns busybox ping -c1 -W2 198.18.0.2
	expect_code 0 vzctl stop 101 --fast
	# the destination's receiver notices the cut and cleans up itself
	hns ip link set vzt-mig up
	wait_until 30 test ! -e "$DROOT/etc/vz/conf/101.conf" ||
		fail "the destination kept 101.conf after the cut"
}

test_online_migration_of_an_image_layout_ct() {
	mig_setup
	MIG_CREATE="--layout image --diskspace 256M" mig_ct 101 198.18.0.2
	memhog_pid 101
	expect_code 0 vzmigrate --online --dst-root "$DROOT" "netns:$DST" 101
	expect_ct_moved 101 198.18.0.2 "$HPID"
	[ -e "$DROOT/vz/private/101/root.img" ] || fail "no root.img on the destination"
}
