# Host layouts and templates: a pure cgroup v2 host (the layout most users
# run) simulated in a private mount namespace, and OS template tarballs.

# Runs the snippet in a mount namespace whose /sys/fs/cgroup is the unified
# cgroup2 hierarchy alone, as on a pure v2 host.
on_pure_v2() {
	unshare -m --propagation private bash -c '
		umount -l /sys/fs/cgroup || exit 97
		mount -t cgroup2 none /sys/fs/cgroup || exit 97
		'"$1" on_pure_v2 "${@:2}"
}

test_pure_cgroup_v2_host_runs_a_ct_with_its_own_delegated_cgroup() {
	# a CT without limits: on a hybrid host the simulated v2 hierarchy has
	# no memory, pids or cpu controller (v1 holds them), and the default
	# sample's limits would fail the start (the VM test has them all)
	vzlist -a >/dev/null
	echo 'ONBOOT="no"' >"$VZ_ROOT/etc/vz/conf/ve-nolimits.conf-sample"
	mk_ct 101 --config nolimits
	local out rc=0
	out=$(on_pure_v2 '
		v=$1
		"$v/vzctl" start 101 >/dev/null || exit 11
		"$v/vzctl" exec2 101 "grep cgroup2 /proc/self/mountinfo | grep -c \" /sys/fs/cgroup \"" || exit 12
		"$v/vzctl" exec2 101 "mkdir /sys/fs/cgroup/sub && rmdir /sys/fs/cgroup/sub && echo delegated" || exit 13
		"$v/vzctl" exec2 101 "cat /proc/self/cgroup" || exit 14
		# this root'"'"'s own cgroup (other roots may run a CT 101 too)
		ip=$(sed -n "s/^INIT_PID=\"\{0,1\}\([0-9]*\).*/\1/p" "$VZ_ROOT/run/vz/101.state")
		cg=/sys/fs/cgroup$(sed -n "s/^0:://p" "/proc/$ip/cgroup")
		[ -d "$cg" ] && [ "$cg" != /sys/fs/cgroup ] || exit 15
		echo "$cg"
		"$v/vzctl" stop 101 >/dev/null || exit 16
		[ -d "$cg" ] && exit 17
		grep -q " $VZ_ROOT/vz/root/101 " /proc/self/mountinfo && exit 18
		exit 0' "$VZ_BIN_DIR" 2>&1) || rc=$?
	[ $rc -ne 97 ] || fail "cannot simulate a pure cgroup v2 host here"
	[ $rc -eq 0 ] || fail "pure v2 lifecycle failed at step $rc: $out"
	assert_contains "$out" "delegated" "sub-cgroup made inside the CT"
	assert_contains "$out" "0::/" "the CT's cgroup namespace root"
	expect_status 101 "exist unmounted down"
}

test_template_tarball_is_unpacked_and_used() {
	mk_ct 101
	local cache="$VZ_ROOT/vz/template/cache"
	mkdir -p "$cache"
	tar -C "$VZ_ROOT/vz/template/layers/busybox" -czf "$cache/tiny-1.tar.gz" . ||
		fail "cannot pack a test tarball"
	expect_code 0 vzctl create 102 --ostemplate tiny-1
	[ -d "$VZ_ROOT/vz/template/layers/tiny-1" ] || fail "tarball not unpacked into a layer"
	expect_code 0 vzctl start 102
	in_ct 102 'ls -ln /bin/busybox'
	assert_match "$LAST_OUT" " 0 +0 " "template files owned by the CT's root"
	expect_code 0 vzctl stop 102
}

test_broken_template_tarball_is_refused_and_leaves_nothing() {
	local cache="$VZ_ROOT/vz/template/cache"
	mkdir -p "$cache"
	head -c 2000 /bin/busybox | gzip > "$cache/junk.tar.gz"
	expect_code 91 vzctl create 101 --ostemplate junk
	assert_one_line_error 101
	[ ! -e "$VZ_ROOT/vz/template/layers/junk" ] || fail "a broken layer was kept"
	[ -z "$(ls -A "$VZ_ROOT/vz/template/layers" | grep -v busybox)" ] ||
		fail "half-made layers left: $(ls -A "$VZ_ROOT/vz/template/layers")"
	expect_status 101 "deleted unmounted down"
}

test_template_names_with_path_tricks_are_refused() {
	local t
	for t in ../x a/b .hidden "" "x y"; do
		expect_code 21 vzctl create 101 --ostemplate "$t"
	done
	expect_code 91 vzctl create 101 --ostemplate no-such-template
	expect_status 101 "deleted unmounted down"
}

test_privileged_ct_runs_without_a_user_namespace() {
	mk_ct 101
	sed -i 's/^LOCAL_UID=.*/LOCAL_UID="0"/; s/^LOCAL_GID=.*/LOCAL_GID="0"/' \
		"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 0 vzctl start 101
	in_ct 101 'cat /proc/self/uid_map'
	assert_match "$LAST_OUT" "^ *0 +0 +4294967295" "identity map of a privileged CT"
	in_ct 101 'echo 1 > /proc/sys/kernel/ns_last_pid && echo writable || echo read-only'
	assert_contains "$LAST_OUT" "read-only" "/proc/sys of a privileged CT"
	expect_code 0 vzctl stop 101
	assert_ct_clean 101
}
