# The device allowlist on a CT's cgroup: a privileged CT's root, who can
# make device nodes, still cannot open host devices it was not given; an
# unprivileged CT's cgroup carries the same list. Run by tests/run.sh with
# lib.sh sourced and a fresh VZ_ROOT.

privileged_ct() { # ID
	mk_ct "$1"
	sed -i 's/^LOCAL_UID=.*/LOCAL_UID="0"/; s/^LOCAL_GID=.*/LOCAL_GID="0"/' \
		"$VZ_ROOT/etc/vz/conf/$1.conf"
}

test_a_privileged_ct_cannot_open_host_devices_outside_its_allowlist() {
	privileged_ct 101
	expect_code 0 vzctl start 101
	# /dev/kmsg (1:11) takes writes from root: the host's kernel log
	expect_code 0 vzctl exec 101 'mknod /tmp/kmsg c 1 11 && mknod /tmp/loop0 b 7 0'
	run_cmd vzctl exec 101 'echo vz-ct-wrote-this >/tmp/kmsg'
	assert_ne "$LAST_CODE" 0 "writing the host's /dev/kmsg from a privileged CT"
	assert_contains "$LAST_ERR" "ermitted" "the error of the write"
	run_cmd vzctl exec 101 'head -c 512 /tmp/loop0 >/dev/null'
	assert_ne "$LAST_CODE" 0 "reading a host block device from a privileged CT"
	# what every CT has still works
	expect_code 0 vzctl exec 101 'echo x >/dev/null && head -c 4 /dev/urandom >/dev/null && test -c /dev/ptmx'
}

test_devices_in_the_config_add_to_the_allowlist() {
	privileged_ct 101
	echo 'DEVICES="c:1:11:w"' >>"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 0 vzctl start 101
	expect_code 0 vzctl exec 101 'mknod /tmp/kmsg c 1 11 && echo "<7>vz-test: allowed by DEVICES" >/tmp/kmsg'
	# only writes were given
	run_cmd vzctl exec 101 'head -c 1 /tmp/kmsg'
	assert_ne "$LAST_CODE" 0 "reading /dev/kmsg given as c:1:11:w"
}

test_an_unprivileged_cts_cgroup_carries_the_allowlist() {
	mk_running_ct 101
	local d list=
	for d in $(ct_cgroup_dirs 101); do
		[ -r "$d/devices.list" ] && list=$(cat "$d/devices.list")
	done
	if [ -z "$list" ]; then
		note "no v1 devices controller here: the v2 program is tested in the VM"
		return 0
	fi
	assert_contains "$list" "c 1:3 rwm" "devices.list"
	assert_not_contains "$list" "a *:* rwm" "devices.list"
}

test_a_bad_devices_entry_is_refused_at_start() {
	mk_ct 101
	echo 'DEVICES="c:1:x:rw"' >>"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 86 vzctl start 101
	assert_one_line_error "DEVICES entry 'c:1:x:rw'"
	expect_status 101 "exist unmounted down"
}
