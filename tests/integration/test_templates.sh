# OS templates from Debian packages (vztmpl, create on first use) and CTs
# that boot a real distro: systemd with sshd, sysvinit for the minimal one.
# vz-test-timeout: 600
#
# Real templates are built with debootstrap from the mirror of apt's own
# configuration, once per machine and per version of the definitions: they
# are kept in $VZ_TEST_CACHE (default /var/cache/vz-tests), which each test
# root's TEMPLATE links to, so the suite stays well inside CI's time.

TEST_CACHE=${VZ_TEST_CACHE:-/var/cache/vz-tests}
DEFS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../etc/templates" && pwd)

# The shared template dir for this version of the definitions; older ones go.
shared_templates() {
	local h d
	h=$(cat "$DEFS_DIR"/* | sha256sum | cut -c1-12)
	d=$TEST_CACHE/template-$h
	mkdir -p "$d" "$TEST_CACHE/packages" || fail "cannot create $d"
	[ -e "$d/packages" ] || ln -s "$TEST_CACHE/packages" "$d/packages"
	# other versions of the definitions: kept a while (another checkout on
	# this machine may be testing with them right now), then removed
	find "$TEST_CACHE" -maxdepth 1 -name 'template-*' ! -path "$d" -mtime +2 \
		-exec rm -rf --one-file-system {} + 2>/dev/null
	touch "$d"
	echo "$d"
}

# use_shared_templates: this root's TEMPLATE is the machine's test cache
use_shared_templates() {
	local d
	d=$(shared_templates) || fail "no shared template dir"
	mkdir -p "$VZ_ROOT/vz" && ln -sfn "$d" "$VZ_ROOT/vz/template" || fail "cannot link $d"
}

# mk_debian_ct ID TEMPLATE [create options]: from the shared cache; the
# first create on a machine builds the template (create on first use)
mk_debian_ct() {
	local id=$1 t=$2; shift 2
	use_shared_templates
	expect_code 0 vzctl create "$id" --ostemplate "$t" "$@"
}

sshd_host_key() { # ID: the CT's ed25519 host key
	in_ct "$1" 'cat /etc/ssh/ssh_host_ed25519_key.pub'
	echo "$LAST_OUT"
}

test_debian12_ct_boots_systemd_with_sshd_listening_and_apt() {
	mk_debian_ct 101 debian-12-x86_64 --hostname deb1.example.com
	mk_debian_ct 102 debian-12-x86_64
	expect_code 0 vzctl start 101 --wait
	expect_code 0 vzctl start 102 --wait
	in_ct 101 'systemctl is-system-running'
	assert_match "$LAST_OUT" '^(running|degraded)$' "systemctl is-system-running"
	in_ct 101 'systemctl --failed --no-legend --plain | cut -d" " -f1'
	assert_eq "$LAST_OUT" "" "failed units"
	in_ct 101 'readlink -f /proc/1/exe'
	assert_eq "$LAST_OUT" /usr/lib/systemd/systemd "the CT's init"
	in_ct 101 'apt-get --version | head -n1'
	assert_match "$LAST_OUT" '^apt [0-9]' "apt-get --version"
	in_ct 101 'cat /etc/debian_version'
	assert_match "$LAST_OUT" '^12\.' "/etc/debian_version"
	in_ct 101 'ss -Hltn "sport = :22" | wc -l'
	[ "$LAST_OUT" -ge 1 ] || fail "sshd does not listen on port 22"
	in_ct 101 'hostname; hostname -f; grep -c "^127.0.1.1.*deb1.example.com deb1" /etc/hosts'
	assert_eq "$LAST_OUT" $'deb1.example.com\ndeb1.example.com\n1' "hostname and /etc/hosts"
	# identity is the CT's own, never the template's
	local k1 k2
	k1=$(sshd_host_key 101)
	k2=$(sshd_host_key 102)
	[ -n "$k1" ] && [ "$k1" != "$k2" ] || fail "two CTs share their SSH host key"
	in_ct 101 'cat /etc/machine-id'
	k1=$LAST_OUT
	in_ct 102 'cat /etc/machine-id'
	[ -n "$k1" ] && [ "$k1" != "$LAST_OUT" ] || fail "two CTs share a machine-id"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl stop 102
}

test_debian12_ct_stops_through_systemd_and_reboots_and_halts_from_inside() {
	mk_debian_ct 101 debian-12-x86_64
	expect_code 0 vzctl start 101 --wait
	local pid1 pid2
	pid1=$(init_pid 101)
	local t0=$SECONDS
	expect_code 0 vzctl stop 101
	[ $((SECONDS - t0)) -lt 60 ] || fail "stop took $((SECONDS - t0)) s"
	# systemd went down its own way, not killed
	sed 's/\x1b\[[0-9;]*m//g' "$VZ_ROOT/run/vz/101.console" >"$(scratch)/console"
	grep -q "Reached target poweroff.target" "$(scratch)/console" ||
		fail "no clean poweroff on the console: $(tail -n 5 "$(scratch)/console")"
	assert_ct_clean 101 "$pid1"
	# reboot inside: a new init, the CT running again
	expect_code 0 vzctl start 101 --wait
	pid1=$(init_pid 101)
	run_cmd vzctl exec 101 reboot
	wait_until 60 eval '[ -n "$(init_pid 101)" ] && [ "$(init_pid 101)" != '"$pid1"' ]' ||
		fail "no new init after reboot inside (status: $(ct_status 101))"
	pid2=$(init_pid 101)
	expect_status 101 "exist mounted running"
	# the new systemd takes a moment to open its bus (a loaded host saw
	# "Failed to connect to bus" right after the new init appeared)
	wait_until 60 vzctl exec 101 'test -S /run/systemd/private' ||
		fail "systemd's bus did not come up after reboot inside"
	in_ct 101 'systemctl is-system-running --wait'
	assert_match "$LAST_OUT" '^(running|degraded)$' "state after reboot"
	# halt and poweroff inside stop it
	run_cmd vzctl exec 101 halt
	wait_until 60 status_is 101 "exist unmounted down" || fail "halt inside: $(ct_status 101)"
	assert_ct_clean 101 "$pid2"
	expect_code 0 vzctl start 101 --wait
	run_cmd vzctl exec 101 poweroff
	wait_until 60 status_is 101 "exist unmounted down" || fail "poweroff inside: $(ct_status 101)"
	assert_ct_clean 101
}

# procps' free and top read /proc/meminfo and /proc/stat, which lxcfs
# serves from the CT's own cgroups
test_free_top_and_nproc_in_a_debian_ct_show_its_own_limits() {
	mk_debian_ct 101 debian-12-x86_64-minimal --ram 512M --swap 256M --cpus 1
	expect_code 0 vzctl start 101 --wait
	in_ct 101 'free -m | awk "/^Mem:/ { print \$2 } /^Swap:/ { print \$2 }"'
	# a CT's swap is its --swap, and no more than the host has
	local hswap; hswap=$(awk '/^SwapTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	assert_eq "$LAST_OUT" "512"$'\n'"$((hswap < 256 ? hswap : 256))" "free -m totals (Mem, Swap)"
	in_ct 101 'top -bn1 | grep "Mem :"'
	assert_match "$LAST_OUT" ' 512\.0 total' "top's memory line"
	in_ct 101 'nproc; grep -c ^processor /proc/cpuinfo'
	assert_eq "$LAST_OUT" $'1\n1' "nproc and cpuinfo with --cpus 1"
	expect_code 0 vzctl set 101 --ram 1G
	in_ct 101 'free -m | awk "/^Mem:/ { print \$2 }"'
	assert_eq "$LAST_OUT" 1024 "free -m after a live --ram 1G"
	expect_code 0 vzctl stop 101
}

test_minimal_template_boots_its_own_sysvinit_and_stops() {
	mk_debian_ct 101 debian-12-x86_64-minimal --hostname mini
	expect_code 0 vzctl start 101 --wait
	in_ct 101 'cat /proc/1/comm; runlevel; test -x /lib/systemd/systemd && echo has-systemd || true'
	assert_eq "$LAST_OUT" $'init\nN 2' "the minimal CT's init and runlevel"
	in_ct 101 'ps -eo args | grep -c "[g]etty.*tty[1-6]" || true'
	assert_eq "$LAST_OUT" 0 "gettys on ttys the CT does not have"
	in_ct 101 'ps -eo args | grep -c "[g]etty.*console"'
	assert_eq "$LAST_OUT" 1 "a getty on the console"
	in_ct 101 'hostname'
	assert_eq "$LAST_OUT" mini "hostname"
	local pid
	pid=$(init_pid 101)
	expect_code 0 vzctl stop 101
	assert_ct_clean 101 "$pid"
}

test_userpasswd_sets_the_hash_in_shadow_and_creates_the_user() {
	mk_debian_ct 101 debian-12-x86_64
	# stopped: the CT is mounted for it and left as it was
	expect_code 0 vzctl set 101 --userpasswd root:Secret1
	expect_status 101 "exist unmounted down"
	expect_code 0 vzctl start 101 --wait
	expect_code 0 vzctl set 101 --userpasswd alice:Wonder2
	in_ct 101 'getent passwd alice | cut -d: -f1,6; test -d /home/alice && stat -c %U /home/alice'
	assert_eq "$LAST_OUT" $'alice:/home/alice\nalice' "the new user alice"
	in_ct 101 'grep -E "^(root|alice):" /etc/shadow | cut -d: -f1,2'
	local line salt shadow=$LAST_OUT
	for u_p in root:Secret1 alice:Wonder2; do
		line=$(grep "^${u_p%%:*}:" <<<"$shadow")
		assert_match "$line" '^[a-z]+:\$y\$' "yescrypt hash of ${u_p%%:*}"
		salt=${line#*:}
		salt=${salt%\$*}
		# the hash is of the password we gave
		in_ct 101 "perl -e 'print crypt(\$ARGV[0], \$ARGV[1]) eq \$ARGV[2] ? \"ok\" : \"no\"' '${u_p#*:}' '$salt' '${line#*:}' 2>/dev/null || echo no-perl"
		[ "$LAST_OUT" = ok ] || [ "$LAST_OUT" = no-perl ] || fail "hash of ${u_p%%:*} is not of its password"
	done
	# the password is never on a command line inside
	expect_code 21 vzctl set 101 --userpasswd 'bad user:x'
	expect_code 21 vzctl set 101 --userpasswd 'nopassword'
	expect_code 21 vzctl set 101 --userpasswd 'bob:'
	expect_code 0 vzctl stop 101
}

test_hostname_and_hosts_are_written_at_start_and_live() {
	mk_ct 101 --hostname one.example.org
	expect_code 0 vzctl start 101
	in_ct 101 'cat /etc/hostname; grep "^127.0.1.1" /etc/hosts; grep -c "^127.0.0.1" /etc/hosts'
	assert_eq "$LAST_OUT" $'one.example.org\n127.0.1.1\tone.example.org one\n1' "at start"
	expect_code 0 vzctl set 101 --hostname two --save
	in_ct 101 'hostname; grep "^127.0.1.1" /etc/hosts; grep -c "one" /etc/hosts || true'
	assert_eq "$LAST_OUT" $'two\n127.0.1.1\ttwo\n0' "after a live --hostname"
	expect_code 0 vzctl stop 101
}

test_userpasswd_on_a_busybox_ct_running_and_stopped() {
	mk_ct 101
	expect_code 0 vzctl set 101 --userpasswd carol:pw1
	expect_status 101 "exist unmounted down"
	expect_code 0 vzctl start 101
	expect_code 0 vzctl set 101 --userpasswd root:pw2
	in_ct 101 'grep -E "^(carol|root):" /etc/shadow | cut -d: -f1,2 | sed "s/^\\([a-z]*:.6.\\).*/\\1/"; ls -ld /home/carol | awk "{print \$3}"'
	assert_eq "$LAST_OUT" $'root:$6$\ncarol:$6$\ncarol' "busybox shadow and home"
	expect_code 0 vzctl stop 101
}

test_vztmpl_lists_builds_on_create_and_removes_only_unused_templates() {
	use_shared_templates
	expect_code 0 "$VZ_BIN_DIR/vztmpl" list
	assert_match "$LAST_OUT" '^NAME +SIZE +DATE +STATE +CTS' "vztmpl list header"
	local t
	for t in debian-11-x86_64 debian-12-x86_64 debian-13-x86_64 debian-12-x86_64-minimal; do
		grep -q "^$t " <<<"$LAST_OUT" || fail "vztmpl list lacks $t: $LAST_OUT"
	done
	# a template built privately here: create builds it, with progress lines
	rm -f "$VZ_ROOT/vz/template"
	mkdir -p "$VZ_ROOT/vz/template"
	ln -s "$TEST_CACHE/packages" "$VZ_ROOT/vz/template/packages"
	expect_code 0 vzctl create 101 --ostemplate debian-12-x86_64-minimal
	assert_contains "$LAST_OUT" "debootstrap: I: Base system installed successfully." "create's progress"
	assert_contains "$LAST_OUT" "OS template debian-12-x86_64-minimal is built" "create's progress"
	[ -f "$VZ_ROOT/vz/template/cache/debian-12-x86_64-minimal.tar.zst" ] || fail "no cache tarball"
	expect_code 0 "$VZ_BIN_DIR/vztmpl" list -H
	assert_match "$(grep '^debian-12-x86_64-minimal ' <<<"$LAST_OUT")" \
		'^debian-12-x86_64-minimal +[0-9.]+M +[0-9-]+ [0-9:]+ +cached,unpacked +1$' "list line"
	expect_code 92 "$VZ_BIN_DIR/vztmpl" build debian-12-x86_64-minimal
	expect_code 96 "$VZ_BIN_DIR/vztmpl" remove debian-12-x86_64-minimal
	assert_contains "$LAST_ERR" "101" "remove names the CT that uses the template"
	expect_code 0 vzctl destroy 101
	expect_code 0 "$VZ_BIN_DIR/vztmpl" remove debian-12-x86_64-minimal
	[ -z "$(ls -A "$VZ_ROOT/vz/template/cache")" ] || fail "cache left: $(ls "$VZ_ROOT/vz/template/cache")"
	[ -z "$(ls -A "$VZ_ROOT/vz/template/layers")" ] || fail "layer left: $(ls -a "$VZ_ROOT/vz/template/layers")"
	expect_code 91 "$VZ_BIN_DIR/vztmpl" remove debian-12-x86_64-minimal
}

test_template_names_with_path_tricks_are_refused() {
	local n
	for n in ../etc /abs .hidden 'a/b' 'x..y' ''; do
		expect_code 21 "$VZ_BIN_DIR/vztmpl" build "$n"
		assert_one_line_error
		expect_code 21 vzctl create 101 --ostemplate "$n"
	done
	expect_code 21 "$VZ_BIN_DIR/vztmpl" import /tmp/../x.tar.gz --name ../x
	expect_code 91 "$VZ_BIN_DIR/vztmpl" build no-such-template
	expect_code 20 "$VZ_BIN_DIR/vztmpl" frobnicate
	expect_code 27 "$VZ_BIN_DIR/vztmpl" build
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "a CT was created"
}

test_import_takes_an_openvz_cache_and_refuses_broken_ones() {
	local d
	d=$(scratch)
	mkdir -p "$d/tree"
	vzlist -a >/dev/null
	# a precreated cache as OpenVZ shipped them: a tar.gz of a root tree
	expect_code 0 vzctl create 100
	cp -a "$VZ_ROOT/vz/template/layers/busybox/." "$d/tree/"
	expect_code 0 vzctl destroy 100
	tar -C "$d/tree" --numeric-owner -czf "$d/mycentos-7-x86_64.tar.gz" . || fail "tar"
	head -c 20000 "$d/mycentos-7-x86_64.tar.gz" >"$d/cut-1-x86_64.tar.gz"
	head -c 3000 /dev/urandom >"$d/junk-1-x86_64.tar.xz"
	: >"$d/empty-1-x86_64.tar.zst"
	for f in cut-1-x86_64.tar.gz junk-1-x86_64.tar.xz empty-1-x86_64.tar.zst; do
		expect_code 91 "$VZ_BIN_DIR/vztmpl" import "$d/$f"
		assert_one_line_error
	done
	expect_code 21 "$VZ_BIN_DIR/vztmpl" import "$d/tree"
	expect_code 91 "$VZ_BIN_DIR/vztmpl" import "$d/missing-1.tar.gz"
	# nothing of the failures kept: no cache, no layer, nothing half made
	local left
	left=$(ls -A "$VZ_ROOT/vz/template/cache" "$VZ_ROOT/vz/template/layers" 2>/dev/null | grep -v -e '^busybox' -e '^$' -e ':$')
	[ -z "$left" ] || fail "left behind: $left"
	expect_code 91 vzctl create 101 --ostemplate cut-1-x86_64
	expect_code 0 "$VZ_BIN_DIR/vztmpl" import "$d/mycentos-7-x86_64.tar.gz"
	expect_code 92 "$VZ_BIN_DIR/vztmpl" import "$d/mycentos-7-x86_64.tar.gz"
	expect_code 0 "$VZ_BIN_DIR/vztmpl" import "$d/mycentos-7-x86_64.tar.gz" --force
	expect_code 0 vzctl create 101 --ostemplate mycentos-7-x86_64
	expect_code 0 vzctl start 101
	in_ct 101 'echo imported'
	expect_code 0 vzctl stop 101
}

test_a_failing_mirror_fails_the_build_cleanly_and_creates_no_ct() {
	vzlist -a >/dev/null
	sed 's|^MIRROR=.*|MIRROR="file:///nonexistent/debian"|' \
		"$VZ_ROOT/etc/vz/templates/debian-12-x86_64-minimal.conf" \
		>"$VZ_ROOT/etc/vz/templates/nomirror-12.conf" || fail "cannot write the definition"
	expect_code 91 "$VZ_BIN_DIR/vztmpl" build nomirror-12
	assert_contains "$LAST_ERR" "debootstrap failed" "the error"
	expect_code 91 vzctl create 101 --ostemplate nomirror-12
	assert_one_line_error
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] && [ ! -e "$VZ_ROOT/vz/private/101" ] ||
		fail "a CT was left by the failed create"
	local left
	left=$(ls -A "$VZ_ROOT/vz/template/cache" "$VZ_ROOT/vz/template/layers" 2>/dev/null | grep -v -e '^$' -e ':$')
	[ -z "$left" ] || fail "left behind: $left"
	# a definition with bad values is refused before anything runs
	printf 'DISTRIBUTION="debian"\nRELEASE="bookworm; rm -rf /"\nARCH="amd64"\nINIT="systemd"\n' \
		>"$VZ_ROOT/etc/vz/templates/evil.conf"
	expect_code 85 "$VZ_BIN_DIR/vztmpl" build evil
	assert_contains "$LAST_ERR" "RELEASE" "the error names the bad key"
}

test_a_network_mirror_that_does_not_answer_is_tried_again_then_fails_cleanly() {
	vzlist -a >/dev/null
	# an address of the test range in a namespace with no route: nothing
	# answers, and no packet leaves the machine
	sed 's|^MIRROR=.*|MIRROR="http://198.18.0.1/debian"|' \
		"$VZ_ROOT/etc/vz/templates/debian-12-x86_64-minimal.conf" \
		>"$VZ_ROOT/etc/vz/templates/deadmirror-12.conf" || fail "cannot write the definition"
	MIRROR_NS=vzt-$$-mirror
	ip netns add "$MIRROR_NS" || fail "cannot create network namespace $MIRROR_NS"
	trap 'ip netns del "$MIRROR_NS" 2>/dev/null' EXIT
	expect_code 91 nsenter --net="/run/netns/$MIRROR_NS" "$VZ_BIN_DIR/vztmpl" build deadmirror-12
	assert_contains "$LAST_OUT" "trying again (2 of 3)" "the progress"
	assert_contains "$LAST_OUT" "trying again (3 of 3)" "the progress"
	assert_contains "$LAST_ERR" "Failed getting release file" "the error"
	local left
	left=$(ls -A "$VZ_ROOT/vz/template/cache" "$VZ_ROOT/vz/template/layers" 2>/dev/null | grep -v -e '^$' -e ':$')
	[ -z "$left" ] || fail "left behind: $left"
}

test_an_interrupted_build_leaves_nothing_to_trust() {
	use_shared_templates
	rm -f "$VZ_ROOT/vz/template"
	mkdir -p "$VZ_ROOT/vz/template"
	ln -s "$TEST_CACHE/packages" "$VZ_ROOT/vz/template/packages"
	local d pid
	d=$(scratch)
	setsid "$VZ_BIN_DIR/vztmpl" build debian-12-x86_64-minimal >"$d/out" 2>"$d/err" &
	pid=$!
	wait_until 60 grep -q "debootstrap: I: " "$d/out" || fail "the build did not start: $(cat "$d/err")"
	sleep 2
	kill -INT "$pid"
	wait "$pid"
	local rc=$?
	[ "$rc" != 0 ] || fail "an interrupted build exited 0"
	grep -q "interrupted" "$d/err" || fail "no word of the interruption: $(cat "$d/err")"
	local left
	left=$(ls -A "$VZ_ROOT/vz/template/cache" "$VZ_ROOT/vz/template/layers" 2>/dev/null | grep -v -e '^$' -e ':$')
	[ -z "$left" ] || fail "left behind: $left"
	pgrep -f "debootstrap.*$VZ_ROOT" >/dev/null && fail "debootstrap still runs"
	expect_code 91 vzctl create 101 --ostemplate no-such
	return 0
}

# Ctrl-C while a create fills an image from the template: the create is
# called off, and nothing of the CT is left (no config, private area,
# mount or loop device), so the same create then works.
test_ctrl_c_while_a_create_fills_an_image_leaves_nothing() {
	use_shared_templates
	local d; d=$(scratch)
	local tmp=$VZ_ROOT/vz/private/101.tmp
	fg_job "$VZ_BIN_DIR/vzctl" create 101 --ostemplate debian-12-x86_64-minimal \
		--layout image --diskspace 2G >"$d/out" 2>"$d/err" &
	local job=$! end=$((SECONDS + 300))
	# the image is mounted in the area being made once the copy begins
	until mountpoint -q "$tmp/mnt"; do
		[ $SECONDS -lt $end ] && kill -0 "$job" 2>/dev/null ||
			fail "no copy into the image seen: $(cat "$d/err")"
		sleep 0.01
	done
	kill -INT -- "-$job"
	wait $job
	local rc=$?
	assert_eq "$rc" 3 "vzctl create's exit code ($(cat "$d/err"))"
	grep -q "interrupted while copying" "$d/err" || fail "no word of the interruption: $(cat "$d/err")"
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "the config was left"
	[ -z "$(ls -A "$VZ_ROOT/vz/private")" ] || fail "left in private: $(ls -A "$VZ_ROOT/vz/private")"
	[ -z "$(mounts_under "$VZ_ROOT")" ] || fail "mounts left: $(mounts_under "$VZ_ROOT")"
	! grep -qs "$VZ_ROOT/" /sys/block/loop*/loop/backing_file || fail "a loop device was left"
	expect_code 0 vzctl create 101 --ostemplate debian-12-x86_64-minimal --layout image \
		--diskspace 2G
	expect_code 0 vzctl destroy 101
}

test_console_gives_a_login_on_the_cts_console_and_detaches() {
	mk_debian_ct 101 debian-12-x86_64-minimal --hostname cons
	expect_code 0 vzctl set 101 --userpasswd root:Pw4console
	expect_code 31 vzctl console 101
	expect_code 0 vzctl start 101 --wait
	local d
	d=$(scratch)
	# a terminal (script) typing at the login prompt, then Esc . to detach
	(
		sleep 1; printf '\r'; sleep 1; printf 'root\r'; sleep 1; printf 'Pw4console\r'
		sleep 2; printf 'echo CONSOLE-$((6 * 7))\r'; sleep 1; printf 'exit\r'; sleep 1
		printf '\033.'; sleep 1
	) | timeout 30 script -qec "$VZ_BIN_DIR/vzctl console 101" /dev/null >"$d/out" 2>&1
	local rc=$?
	[ "$rc" = 0 ] || fail "vzctl console exited $rc: $(tr -d '\r' <"$d/out" | tail -n 5)"
	grep -q "cons login:" "$d/out" || fail "no login prompt: $(tr -d '\r' <"$d/out" | tail -n 5)"
	grep -q "CONSOLE-42" "$d/out" || fail "no shell after login: $(tr -d '\r' <"$d/out" | tail -n 8)"
	grep -q "Detached from CT 101" "$d/out" || fail "no detach"
	# the CT did not notice
	expect_status 101 "exist mounted running"
	expect_code 0 vzctl stop 101
	[ ! -e "$VZ_ROOT/run/vz/101.sock" ] || fail "the console socket outlived the CT"
}

test_a_refreshed_template_is_a_new_layer_and_old_cts_keep_theirs() {
	local d
	d=$(scratch)
	mkdir -p "$d/tree"
	expect_code 0 vzctl create 100
	cp -a "$VZ_ROOT/vz/template/layers/busybox/." "$d/tree/"
	expect_code 0 vzctl destroy 100
	echo one >"$d/tree/etc/tversion"
	tar -C "$d/tree" --numeric-owner -czf "$d/mine-1-x86_64.tar.gz" . || fail "tar"
	expect_code 0 "$VZ_BIN_DIR/vztmpl" import "$d/mine-1-x86_64.tar.gz"
	expect_code 0 vzctl create 101 --ostemplate mine-1-x86_64
	expect_code 0 vzctl start 101
	# the refresh, while 101 runs on the old version
	echo two >"$d/tree/etc/tversion"
	tar -C "$d/tree" --numeric-owner -czf "$d/mine-1-x86_64.tar.gz" . || fail "tar"
	expect_code 0 "$VZ_BIN_DIR/vztmpl" import "$d/mine-1-x86_64.tar.gz" --force
	expect_code 0 vzctl create 102 --ostemplate mine-1-x86_64
	expect_code 0 vzctl start 102
	in_ct 101 'cat /etc/tversion'
	assert_eq "$LAST_OUT" one "the running CT's template after a refresh"
	in_ct 102 'cat /etc/tversion'
	assert_eq "$LAST_OUT" two "a new CT's template"
	expect_code 0 vzctl restart 101
	in_ct 101 'cat /etc/tversion'
	assert_eq "$LAST_OUT" one "the old CT's template after its restart"
	local n
	n=$(ls -d "$VZ_ROOT"/vz/template/layers/mine-1-x86_64@* | wc -l)
	assert_eq "$n" 2 "versions while both CTs exist"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl destroy 101
	n=$(ls -d "$VZ_ROOT"/vz/template/layers/mine-1-x86_64@* | wc -l)
	assert_eq "$n" 1 "versions once the old CT is gone"
	expect_code 0 vzctl stop 102
}
