# vz's own processes that enter a running CT (exec, exec2, exec3, enter,
# start --wait, the live set helpers) as CT root would attack them: scan
# /proc for them, open their memory, ptrace them; and the terminal and
# pipes they hand to CT programs. Run by tests/run.sh with lib.sh sourced
# and a fresh VZ_ROOT.
# vz-test-timeout: 240

PROCSCAN=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/procscan

# scanner_ct ID: a running CT with the /proc scanner in /usr/local/bin
scanner_ct() {
	[ -x "$PROCSCAN" ] || fail "no $PROCSCAN (make builds it)"
	mk_ct "$1"
	ct_put_file "$1" /usr/local/bin/procscan 755 <"$PROCSCAN"
	expect_code 0 vzctl start "$1"
}

# scan_result ID: waits for the scanner's summary and prints its output
scan_result() {
	local i
	for ((i = 0; i < 100; i++)); do
		vzctl exec "$1" 'grep -q "^seen=" /tmp/scan.out' 2>/dev/null && break
		sleep 0.2
	done
	vzctl exec "$1" 'cat /tmp/scan.out'
}

test_no_helper_with_host_ids_is_ever_reachable_from_inside_a_ct() {
	scanner_ct 101
	expect_code 0 vzctl exec 101 '/usr/local/bin/procscan 12 >/tmp/scan.out 2>&1 </dev/null &'
	local end=$((SECONDS + 11)) n=0 d
	d=$(scratch)
	while [ $SECONDS -lt $end ]; do
		vzctl exec 101 true || fail "exec failed during the scan"
		vzctl exec2 101 true || fail "exec2 failed during the scan"
		vzctl exec3 101 /bin/true || fail "exec3 failed during the scan"
		printf 'exit\n' | timeout 20 script -qec "$(printf %q "$VZ_BIN_DIR/vzctl") enter 101" /dev/null >"$d/enter" 2>&1 ||
			fail "enter failed during the scan: $(cat -v "$d/enter")"
		vzctl set 101 --hostname "h$n.example" >/dev/null || fail "set --hostname failed during the scan"
		vzctl set 101 --userpasswd "root:pw$n" >/dev/null || fail "set --userpasswd failed during the scan"
		n=$((n + 1))
	done
	local out
	out=$(scan_result 101)
	[ "$n" -ge 2 ] || fail "only $n rounds of helpers ran during the scan"
	note "$n rounds of exec/exec2/exec3/enter/set; scanner: $(tail -n 1 <<<"$out")"
	assert_match "$out" 'seen=[1-9]' "the scanner's summary"
	assert_not_contains "$out" UNMAPPED "processes with host ids seen inside"
	assert_not_contains "$out" OPENED "helpers whose memory CT root opened"
	assert_not_contains "$out" ATTACHED "helpers CT root attached to"
}

test_exec_gives_ct_programs_pipes_not_the_callers_files() {
	mk_running_ct 101
	local d; d=$(scratch)
	# what stdin, stdout and stderr are inside, while the caller's are a
	# file, a file and a file
	echo secret >"$d/in"
	vzctl exec 101 'for i in 0 1 2; do readlink /proc/self/fd/$i; done' <"$d/in" >"$d/out" 2>"$d/err" ||
		fail "exec failed: $(cat "$d/err")"
	local n
	n=$(grep -c '^pipe:' "$d/out")
	assert_eq "$n" 3 "pipes among the command's stdin/stdout/stderr ($(tr '\n' ' ' <"$d/out"))"
	assert_not_contains "$(cat "$d/out")" "$d" "the command's descriptors"
	# a command that stays behind cannot write into the caller's file
	# after vzctl returned
	expect_code 0 vzctl exec 101 '(sleep 1; echo late) &'
	sleep 1.5
	assert_not_contains "$(cat "$d/out")" late "the caller's output file"
}

test_enter_never_hands_the_callers_terminal_to_the_ct() {
	mk_running_ct 101
	local d; d=$(scratch)
	# the shell's terminal is on the CT's own devpts (the same device as
	# its /dev/pts), not the caller's pty
	{
		sleep 0.5
		echo 'if [ "$(stat -L -c %d /proc/self/fd/0)" = "$(stat -c %d /dev/pts/ptmx)" ]; then echo own-pts; else echo foreign-pts; fi'
		sleep 0.5
		echo exit
	} | timeout 30 script -qec "$(printf %q "$VZ_BIN_DIR/vzctl") enter 101" /dev/null >"$d/out" 2>&1
	grep -q -- '-pts' "$d/out" || fail "enter: no output: $(cat -v "$d/out")"
	grep -q '^own-pts' "$d/out" || fail "enter: the shell's terminal is not the CT's own: $(cat -v "$d/out")"
}

test_enter_ends_when_its_input_ends() {
	mk_running_ct 101
	# no terminal, input at its end: the shell inside sees the end too
	expect_code 0 timeout 20 "$VZ_BIN_DIR/vzctl" enter 101 </dev/null
}
