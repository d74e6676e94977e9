# vz-test-timeout: 1140
# Pure cgroup v2: this host's cgroups may be v1 or hybrid, where systemd
# holds them, so a VM with cgroup2 alone at /sys/fs/cgroup runs integration
# tests (tests/vm/cgroup2.sh: Debian's kernel under QEMU, the host's /usr
# and /etc read-only, no network). The normal pass runs the resource tests,
# the lifecycle tests that touch cgroups and the inner-node exec test with
# its tools, one checkpoint/restore test, the pre-copy migration (its
# only run: that kernel tracks dirty memory, this host's may not) and the
# device allowlist (the BPF program alone, no v1 list behind it); the ASan
# pass the resource and inner-node ones with the ASan build: every
# lifecycle test, twice, would not fit CI's time under emulation, and
# resources are where v1 and v2 differ most. A VM that cannot boot is a
# failure, not a skip. The main pass takes about 12 minutes under
# emulation here (a CI run cut it short at 720 s, all its tests passed
# but one not yet run): the VM gets 18, so a slow run is no failure.

VM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

test_pure_cgroup2_host_in_a_vm() {
	local d passes=main rc=0
	local tests="resources inner_node full_lifecycle cgroup_of_running restart_gives
		reboot_inside kill_init stop_fast halt_inside
		test_chkpnt_and_restore_keep test_online_precopy
		test_a_privileged_ct_cannot_open_host_devices"
	d=$(scratch)
	if [ "$VZ_BIN_DIR" -ef "$VM_REPO/build-asan" ]; then
		passes=asan tests="resources inner_node"
	fi
	VZ_VM_TIMEOUT=1080 "$VM_REPO/tests/vm/cgroup2.sh" --bin "$VZ_BIN_DIR" --passes "$passes" \
		--tests "$tests" >"$d/vm.log" 2>&1 || rc=$?
	sed 's/^/  vm| /' "$d/vm.log"
	[ "$rc" = 0 ] || fail "tests in the cgroup v2 VM failed (exit $rc): $(tail -n 1 "$d/vm.log")"
	grep -Eq '^[1-9][0-9]* passed, 0 failed$' "$d/vm.log" ||
		fail "the cgroup v2 VM ran no test"
}
