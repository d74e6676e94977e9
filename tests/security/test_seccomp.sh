# Defence in depth inside a CT: the seccomp filter (SECCOMP in the CT's
# config), sysinfo(2) answered with the CT's own figures, and the host's
# kernel state masked in the CT's /proc and /sys.
# vz-test-timeout: 300

SYSPROBE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/sysprobe

# a stopped CT with sysprobe in it, and rc.local recording what a process
# of init's own tree sees
probe_ct() {
	local id=$1; shift
	mk_ct "$id" "$@"
	[ -x "$SYSPROBE" ] || fail "no $SYSPROBE (make builds it)"
	ct_put_file "$id" /usr/local/bin/sysprobe 755 <"$SYSPROBE"
	ct_put_file "$id" /etc/init.d/rc.local 755 <<'EOF'
#!/bin/sh
grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status > /tmp/init-tree.status
free -m > /tmp/init-tree.free
EOF
}

# wait_file ID PATH: the file exists inside the running CT
wait_ct_file() {
	wait_until 20 vzctl exec2 "$1" "test -s $2" || fail "no $2 in CT $1"
}

test_ct_processes_run_under_a_seccomp_filter() {
	probe_ct 101
	expect_code 0 vzctl start 101
	wait_ct_file 101 /tmp/init-tree.status
	in_ct 101 'cat /tmp/init-tree.status'
	assert_contains "$LAST_OUT" $'Seccomp:\t2' "a process started by the CT's init"
	# no NO_NEW_PRIVS: setuid programs inside keep working
	assert_contains "$LAST_OUT" $'NoNewPrivs:\t0' "a process started by the CT's init"
	in_ct 101 'grep -E "^(Seccomp|NoNewPrivs):" /proc/1/status /proc/self/status'
	assert_contains "$LAST_OUT" $'/proc/1/status:Seccomp:\t2' "the CT's init"
	assert_contains "$LAST_OUT" $'/proc/self/status:Seccomp:\t2' "vzctl exec2"
	assert_contains "$LAST_OUT" $'/proc/self/status:NoNewPrivs:\t0' "vzctl exec2"
	expect_output_contains $'Seccomp:\t2' vzctl exec 101 'grep Seccomp: /proc/self/status'
}

# In a user namespace the kernel refuses module and kexec calls too (and
# this kernel may have no modules at all): the filter shows in the calls
# it would allow (keyrings, perf_event_open, userfaultfd, io_uring,
# personality, the i386 ABI); with SECCOMP="none" below they work.
test_module_kexec_keyring_and_other_calls_are_refused_inside() {
	probe_ct 101
	expect_code 0 vzctl start 101
	in_ct 101 'sysprobe deny'
	local bad
	# EPERM (1), and ENOSYS (38) for the keyring calls, which nested
	# runtimes take as "no keyrings" (test_nested.sh)
	bad=$(awk '$1 ~ /^(add_key|keyctl|add_key_i386)$/ { if ($2 != 38) print; next } $2 != 1' <<<"$LAST_OUT")
	[ -z "$bad" ] || fail "calls not refused with EPERM (ENOSYS for keyrings) inside: $bad"
	assert_contains "$LAST_OUT" "init_module 1" "sysprobe"
	assert_contains "$LAST_OUT" "kexec_load 1" "sysprobe"
	assert_contains "$LAST_OUT" "add_key_i386 38" "sysprobe"
	# what must keep working
	expect_output_is "personality_query 0" vzctl exec2 101 'sysprobe personality_query'
	expect_output_is "1" vzctl exec2 101 'unshare -Urpfm sh -c "mount -t tmpfs t /mnt && echo \$\$"'
}

test_seccomp_none_turns_the_filter_off() {
	probe_ct 101
	echo 'SECCOMP="none"' >>"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 0 vzctl start 101
	in_ct 101 'grep Seccomp: /proc/1/status /proc/self/status'
	assert_contains "$LAST_OUT" $'/proc/1/status:Seccomp:\t0' "the CT's init"
	assert_contains "$LAST_OUT" $'/proc/self/status:Seccomp:\t0' "vzctl exec2"
	expect_output_is "add_key 0" vzctl exec2 101 'sysprobe add_key'
}

test_an_extra_deny_list_adds_to_the_default() {
	probe_ct 101
	local list; list=$(scratch)/deny.list
	printf '# more for this CT\nchroot\n\n  sethostname  # and this\n' >"$list"
	chmod 644 "$list"
	echo "SECCOMP=\"$list\"" >>"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 0 vzctl start 101
	expect_code 0 vzctl exec2 101 'chroot / true; echo rc=$?'
	assert_contains "$LAST_OUT" "rc=1" "chroot under the extra list"
	assert_contains "$LAST_ERR" "Operation not permitted" "chroot under the extra list"
	expect_output_is "add_key 38" vzctl exec2 101 'sysprobe add_key'
}

test_bad_seccomp_values_are_refused_at_start() {
	mk_ct 101
	local conf="$VZ_ROOT/etc/vz/conf/101.conf" d; d=$(scratch)
	cp "$conf" "$d/conf.orig"
	local v
	printf 'chroot\nno_such_call\n' >"$d/unknown"
	printf 'chroot\n' >"$d/writable"
	chmod 666 "$d/writable"
	for v in strict relative/list "$d/missing" "$d/unknown" "$d/writable"; do
		cp "$d/conf.orig" "$conf"
		echo "SECCOMP=\"$v\"" >>"$conf"
		expect_code 85 vzctl start 101
		assert_one_line_error "SECCOMP"
		[[ $v != /* ]] || assert_contains "$LAST_ERR" "$v" "the error"
		expect_status 101 "exist unmounted down"
	done
	cp "$d/conf.orig" "$conf"
	echo "SECCOMP=\"$d/unknown\"" >>"$conf"
	expect_code 85 vzctl start 101
	assert_contains "$LAST_ERR" "$d/unknown:2: unknown system call no_such_call" "the error"
}

test_sysinfo_reports_the_cts_memory_limit() {
	probe_ct 101
	expect_code 0 vzctl set 101 --ram 256M --swap 0 --save
	expect_code 0 vzctl start 101
	# busybox free asks sysinfo(2)
	in_ct 101 'free -m'
	assert_match "$(awk '/^Mem:/ { print $2 }' <<<"$LAST_OUT")" '^25[0-6]$' "free's total in vzctl exec2"
	wait_ct_file 101 /tmp/init-tree.free
	in_ct 101 'cat /tmp/init-tree.free'
	assert_match "$(awk '/^Mem:/ { print $2 }' <<<"$LAST_OUT")" '^25[0-6]$' "free's total under the CT's init"
	in_ct 101 'sysprobe sysinfo'
	assert_contains "$LAST_OUT" "native 256" "sysinfo through the x86_64 ABI"
	[ "$(uname -m)" != x86_64 ] || assert_contains "$LAST_OUT" "i386 256" "sysinfo through the i386 ABI"
	# uptime counts from the CT's start, not the host's boot
	local up host
	up=$(awk '/^uptime/ { print $2 }' <<<"$LAST_OUT")
	host=$(cut -d. -f1 /proc/uptime)
	[ -n "$up" ] && [ "$up" -lt 60 ] || fail "CT uptime $up (host: $host)"
	# a reboot inside starts it again, with a new listener
	expect_code 0 vzctl restart 101
	expect_output_contains "native 256" vzctl exec2 101 'sysprobe sysinfo'
}

test_masked_proc_files_give_nothing() {
	mk_running_ct 101
	local f
	for f in /proc/kallsyms /proc/keys /proc/key-users /proc/timer_list; do
		expect_output_is 0 vzctl exec2 101 "test -e $f || echo 0 && test ! -e $f || wc -c < $f"
	done
	expect_output_is "" vzctl exec2 101 'ls -A /proc/acpi /sys/firmware 2>/dev/null | grep -v :'
	# host-wide /proc/sys read-only; the CT's own namespaces' entries not
	expect_code 0 vzctl exec2 101 'echo x > /proc/sys/kernel/core_pattern; echo rc=$?'
	assert_contains "$LAST_OUT" "rc=1" "writing kernel.core_pattern"
	assert_contains "$LAST_ERR" "Read-only file system" "writing kernel.core_pattern"
	expect_output_is "1" vzctl exec2 101 'echo 1 > /proc/sys/net/ipv4/ip_forward && cat /proc/sys/net/ipv4/ip_forward'
	expect_output_is "2000" vzctl exec2 101 'echo 2000 > /proc/sys/kernel/shmmni && cat /proc/sys/kernel/shmmni'
	expect_output_is "10" vzctl exec2 101 'echo 10 > /proc/sys/fs/mqueue/msg_max && cat /proc/sys/fs/mqueue/msg_max'
	expect_code 0 vzctl exec2 101 'echo 1 > /proc/sys/vm/drop_caches; echo rc=$?'
	assert_contains "$LAST_OUT" "rc=1" "writing vm.drop_caches"
}

# criu brings a filter back without its listener: sysinfo must still
# answer after a restore (the host's figures), not fail with ENOSYS
test_sysinfo_works_after_checkpoint_and_restore() {
	probe_ct 101
	# a loop of init's own tree asking sysinfo, across the restore
	ct_put_file 101 /etc/init.d/rc.local 755 <<'EOF2'
#!/bin/sh
(while :; do /usr/local/bin/sysprobe sysinfo > /tmp/si.new; mv -f /tmp/si.new /tmp/si; sleep 0.1; done) </dev/null >/dev/null 2>&1 &
EOF2
	expect_code 0 vzctl set 101 --ram 256M --save
	expect_code 0 vzctl start 101
	wait_ct_file 101 /tmp/si
	expect_output_contains "native 256" vzctl exec2 101 'cat /tmp/si'
	expect_code 0 vzctl chkpnt 101
	expect_code 0 vzctl restore 101
	in_ct 101 'rm -f /tmp/si'
	wait_ct_file 101 /tmp/si
	in_ct 101 'grep Seccomp: /proc/1/status; cat /tmp/si'
	assert_contains "$LAST_OUT" $'Seccomp:\t2' "the restored init"
	assert_not_contains "$LAST_OUT" "error" "sysinfo in the restored tree"
	assert_match "$(awk '/^native/ { print $2 }' <<<"$LAST_OUT")" '^[0-9]+$' "sysinfo in the restored tree"
	# processes started after the restore are answered by the monitor
	expect_output_contains "native 256" vzctl exec2 101 'sysprobe sysinfo'
	expect_code 0 vzctl exec2 101 'free -m'

}
