# The command line of vzctl and vzlist: ids, options, help, exit codes,
# vzlist output formats.
# Run by tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.

test_bad_ids_fail_with_21() {
	local long id shown
	long=$(printf '1%.0s' {1..300})
	for id in 0 -1 abc ../x 99999999999 2147483645 1x "$long"; do
		for cmd in status start; do
			expect_code 21 vzctl "$cmd" "$id"
			shown=${id:0:20}
			assert_one_line_error "$shown"
			[ -z "$LAST_OUT" ] || fail "'vzctl $cmd $id' printed on stdout: $LAST_OUT"
		done
	done
	[ -z "$(ls -A "$VZ_ROOT/etc/vz/conf" 2>/dev/null | grep -v sample)" ] ||
		fail "bad ids created configs: $(ls "$VZ_ROOT/etc/vz/conf")"
}

test_bad_id_at_create_fails_with_21() {
	local id
	for id in 0 abc ../x 2147483645; do
		expect_code 21 vzctl create "$id" --ostemplate "$TEMPLATE_NAME"
		assert_one_line_error "$id"
	done
	[ -z "$(ls -A "$VZ_ROOT/vz/private" 2>/dev/null)" ] ||
		fail "bad ids created private areas: $(ls "$VZ_ROOT/vz/private")"
}

test_largest_id_is_accepted() {
	expect_status 2147483644 "deleted unmounted down"
	expect_status 1 "deleted unmounted down"
}

test_unknown_option_fails_with_20() {
	mk_ct 101
	expect_code 20 vzctl start 101 --bogus
	assert_one_line_error bogus
	expect_code 20 vzctl --bogus status 101
	expect_code 20 vzctl status 101 --bogus
	expect_code 20 vzctl create 102 --ostemplate "$TEMPLATE_NAME" --frobnicate
	expect_status 102 "deleted unmounted down"
	expect_code 20 vzctl set 101 --no-such-thing x
	expect_status 101 "exist unmounted down"
	expect_code 20 vzlist --bogus
}

test_unknown_command_fails_with_20() {
	expect_code 20 vzctl frobnicate 101
	assert_one_line_error frobnicate
	expect_code 20 vzctl STATUS 101
}

test_bad_option_values_fail_with_21() {
	mk_ct 101
	expect_code 21 vzctl set 101 --onboot maybe --save
	expect_code 0 vzctl set 101 --onboot yes --save
	grep -q '^ONBOOT="\{0,1\}yes' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "ONBOOT not saved: $(cat "$VZ_ROOT/etc/vz/conf/101.conf")"
}

test_help_exits_0_and_prints_usage() {
	local cmd
	expect_code 0 vzctl --help
	grep -qi usage <<<"$LAST_OUT" || fail "vzctl --help: no usage on stdout: $LAST_OUT"
	for cmd in create start stop restart status mount umount destroy delete set exec exec2 exec3 enter; do
		assert_contains "$LAST_OUT" "$cmd" "vzctl --help"
	done
	for cmd in create start stop restart status mount umount destroy delete set exec exec2 exec3 enter; do
		expect_code 0 vzctl "$cmd" --help
		grep -qi usage <<<"$LAST_OUT" || fail "vzctl $cmd --help: no usage on stdout: $LAST_OUT"
		assert_contains "$LAST_OUT" "$cmd" "vzctl $cmd --help"
	done
	expect_code 0 vzctl start --help
	assert_contains "$LAST_OUT" "--wait" "vzctl start --help"
	expect_code 0 vzlist --help
	grep -qi usage <<<"$LAST_OUT" || fail "vzlist --help: no usage on stdout: $LAST_OUT"
	expect_code 0 vzctl --version
	assert_match "$LAST_OUT" '[0-9]+\.[0-9]+' "vzctl --version"
}

test_missing_ctid_fails_with_27_or_20() {
	local cmd
	for cmd in create start stop status destroy exec enter set; do
		expect_code '27|20' vzctl "$cmd"
		[ -n "$LAST_ERR" ] || fail "'vzctl $cmd' without CTID printed nothing on stderr"
	done
	run_cmd vzctl
	[ "$LAST_CODE" -ne 0 ] || fail "vzctl without arguments exited 0"
	[ -n "$LAST_ERR" ] || fail "vzctl without arguments printed nothing on stderr"
}

test_exec_without_command_fails_with_27_or_20() {
	mk_running_ct 101
	expect_code '27|20' vzctl exec 101
	expect_code '27|20' vzctl exec3 101
}

test_vz_root_option_overrides_env() {
	local other; other=$(mktemp -d /var/tmp/vz-test-other.XXXXXX)
	vzctl --vz-root "$other" create 101 --ostemplate "$TEMPLATE_NAME" >/dev/null 2>&1
	local rc=$?
	local st; st=$(vzctl --vz-root "$other" status 101 2>&1)
	vzctl --vz-root "$other" destroy 101 >/dev/null 2>&1
	local conf_in_other=no
	[ -e "$other/etc/vz/vz.conf" ] && conf_in_other=yes
	rm -rf --one-file-system "$other"
	assert_eq "$rc" 0 "create with --vz-root"
	assert_eq "$st" "CTID 101 exist unmounted down" "status with --vz-root"
	assert_eq "$conf_in_other" yes "vz.conf initialised under --vz-root"
	expect_status 101 "deleted unmounted down"
}

# --- vzlist ---

mk_three() { # 101 running, 102 and 103 stopped, created out of order
	mk_ct 103 --hostname c.example --name gamma
	mk_ct 101 --hostname b.example --name alpha
	mk_ct 102 --hostname a.example --name beta
	expect_code 0 vzctl start 101
}

# lines of LAST_OUT whose first field is the ctid
rows_ctids() { awk 'NF { print $1 }' <<<"$1" | tr '\n' ' '; }

test_vzlist_default_shows_running_with_header() {
	mk_three
	expect_code 0 vzlist
	local header; header=$(head -n1 <<<"$LAST_OUT")
	assert_match "$header" 'CTID' "vzlist header"
	assert_eq "$(tail -n +2 <<<"$LAST_OUT" | awk '{ print $1 }' | tr '\n' ' ')" "101 " "ctids of vzlist"
	# default columns: ctid numproc status ip hostname
	read -r id np st rest <<<"$(tail -n +2 <<<"$LAST_OUT")"
	assert_match "$np" '^[0-9]+$' "numproc of running 101"
	[ "$np" -ge 1 ] || fail "numproc of running 101 is $np"
	assert_eq "$st" running "status column"
	assert_match "$rest" 'b\.example' "rest of the row"
}

test_vzlist_all_and_stopped() {
	mk_three
	expect_code 0 vzlist -a -H
	assert_eq "$(rows_ctids "$LAST_OUT")" "101 102 103 " "vzlist -a -H"
	assert_match "$(grep '^ *102 ' <<<"$LAST_OUT")" 'stopped' "row of 102"
	assert_match "$(grep '^ *102 ' <<<"$LAST_OUT")" '^ *102 +- ' "numproc of stopped 102"
	expect_code 0 vzlist -S -H
	assert_eq "$(rows_ctids "$LAST_OUT")" "102 103 " "vzlist -S -H"
	expect_code 0 vzlist -H
	assert_eq "$(rows_ctids "$LAST_OUT")" "101 " "vzlist -H"
	expect_code 0 vzlist -a -H 103
	assert_eq "$(rows_ctids "$LAST_OUT")" "103 " "vzlist -a -H 103"
	expect_code 0 vzlist -a -H gamma
	assert_eq "$(rows_ctids "$LAST_OUT")" "103 " "vzlist -a -H gamma"
}

test_vzlist_H_drops_header() {
	mk_three
	expect_code 0 vzlist -a
	local with=$LAST_OUT
	expect_code 0 vzlist -a -H
	assert_eq "$(grep -c . <<<"$with")" 4 "lines of vzlist -a"
	assert_eq "$(grep -c . <<<"$LAST_OUT")" 3 "lines of vzlist -a -H"
	# NPROC of the running CT may change between the two calls (its init
	# is still running its boot script), so that column is left out.
	local strip='{ $2 = "-"; print }'
	assert_eq "$(tail -n +2 <<<"$with" | awk "$strip")" "$(awk "$strip" <<<"$LAST_OUT")" "vzlist -a without its header"
}

test_vzlist_output_fields() {
	mk_three
	expect_code 0 vzlist -a -H -o ctid,name,hostname,status,numproc,ip
	local r1 r2
	r1=$(grep '^ *101 ' <<<"$LAST_OUT")
	r2=$(grep '^ *102 ' <<<"$LAST_OUT")
	assert_match "$r1" '^ *101 +alpha +b\.example +running +[1-9][0-9]*( +-)? *$' "row of 101"
	assert_match "$r2" '^ *102 +beta +a\.example +stopped +-( +-)? *$' "row of 102"
	expect_code 0 vzlist -a -o ctid,hostname
	assert_match "$(head -n1 <<<"$LAST_OUT")" '^ *CTID +HOSTNAME *$' "header of -o ctid,hostname"
	expect_code 0 vzlist -a -H -o smart_name,ostemplate,layout,private,root,onboot
	assert_match "$(grep alpha <<<"$LAST_OUT")" "^ *alpha +$TEMPLATE_NAME +[a-z]+ +$VZ_ROOT/vz/private/101 +$VZ_ROOT/vz/root/101 +(no|-) *\$" "extra fields of 101"
	run_cmd vzlist -a -o ctid,nosuchfield
	[ "$LAST_CODE" -ne 0 ] || fail "vzlist -o nosuchfield exited 0"
	assert_contains "$LAST_ERR" nosuchfield "stderr of vzlist -o nosuchfield"
}

test_vzlist_L_lists_fields() {
	expect_code 0 vzlist -L
	local f
	for f in ctid name smart_name hostname status numproc ip description ostemplate onboot private root layout; do
		grep -qw -- "$f" <<<"$LAST_OUT" || fail "vzlist -L lacks $f: $LAST_OUT"
	done
}

test_vzlist_sort() {
	mk_three
	expect_code 0 vzlist -a -H -o ctid -s ctid
	assert_eq "$(rows_ctids "$LAST_OUT")" "101 102 103 " "vzlist -s ctid"
	expect_code 0 vzlist -a -H -o ctid -s -ctid
	assert_eq "$(rows_ctids "$LAST_OUT")" "103 102 101 " "vzlist -s -ctid"
	expect_code 0 vzlist -a -H -o ctid,hostname -s hostname
	assert_eq "$(rows_ctids "$LAST_OUT")" "102 101 103 " "vzlist -s hostname"
	expect_code 0 vzlist -a -H -o ctid,name -s -name
	assert_eq "$(rows_ctids "$LAST_OUT")" "103 102 101 " "vzlist -s -name"
}

test_vzlist_1_prints_ids_only() {
	mk_three
	expect_code 0 vzlist -a -1
	assert_eq "$(sed 's/^ *//; s/ *$//' <<<"$LAST_OUT")" "$(printf '101\n102\n103')" "vzlist -a -1"
	expect_code 0 vzlist -1
	assert_eq "$(sed 's/^ *//; s/ *$//' <<<"$LAST_OUT")" 101 "vzlist -1"
}

test_vzlist_json() {
	mk_three
	expect_code 0 vzlist -a -j
	local d; d=$(scratch)
	printf '%s\n' "$LAST_OUT" >"$d/j"
	python3 -m json.tool "$d/j" >/dev/null 2>"$d/jerr" || fail "vzlist -j is not valid JSON: $(cat "$d/jerr"): $LAST_OUT"
	python3 - "$d/j" "$VZ_ROOT" >"$d/check" 2>&1 <<'EOF' || fail "vzlist -j: $(cat "$d/check")"
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list), "not an array"
assert len(a) == 3, "%d objects, expected 3" % len(a)
by = {}
for o in a:
    assert isinstance(o, dict), "element is not an object: %r" % (o,)
    assert type(o.get("ctid")) is int, "ctid is not a number: %r" % (o.get("ctid"),)
    by[o["ctid"]] = o
assert sorted(by) == [101, 102, 103], "ctids %r" % sorted(by)
r = by[101]
assert r.get("name") == "alpha", "name of 101: %r" % (r.get("name"),)
assert r.get("hostname") == "b.example", "hostname of 101: %r" % (r.get("hostname"),)
assert r.get("status") == "running", "status of 101: %r" % (r.get("status"),)
assert type(r.get("numproc")) is int and r["numproc"] >= 1, "numproc of running 101: %r" % (r.get("numproc"),)
s = by[102]
assert s.get("status") == "stopped", "status of 102: %r" % (s.get("status"),)
assert s.get("numproc") is None, "numproc of stopped 102 should be null: %r" % (s.get("numproc"),)
for o in a:
    for k, v in o.items():
        assert not (isinstance(v, str) and v.strip().lstrip("-").isdigit() and k in ("ctid", "numproc")), \
            "%s is a string of digits: %r" % (k, v)
EOF
	expect_code 0 vzlist -j
	printf '%s\n' "$LAST_OUT" >"$d/j2"
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert [o["ctid"] for o in a]==[101], a' "$d/j2" 2>"$d/jerr" ||
		fail "vzlist -j (running only): $(cat "$d/jerr")"
}

test_vzlist_empty_root() {
	expect_code 0 vzlist
	[ "$(grep -c . <<<"$LAST_OUT")" -le 1 ] || fail "vzlist on an empty root printed: $LAST_OUT"
	expect_code 0 vzlist -a
	[ "$(grep -c . <<<"$LAST_OUT")" -le 1 ] || fail "vzlist -a on an empty root printed: $LAST_OUT"
	expect_output_is "" vzlist -a -H
	expect_output_is "" vzlist -H
	expect_output_is "" vzlist -a -1
	expect_code 0 vzlist -a -j
	local d; d=$(scratch)
	printf '%s\n' "$LAST_OUT" >"$d/j"
	python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); assert a==[], a' "$d/j" 2>"$d/jerr" ||
		fail "vzlist -a -j on an empty root is not []: $LAST_OUT $(cat "$d/jerr")"
}

test_vzlist_reflects_stop() {
	mk_running_ct 101
	expect_code 0 vzlist -1
	assert_eq "$(sed 's/^ *//; s/ *$//' <<<"$LAST_OUT")" 101 "vzlist -1"
	expect_code 0 vzctl stop 101
	expect_output_is "" vzlist -1
	expect_code 0 vzlist -a -H -o ctid,status
	assert_match "$LAST_OUT" '^ *101 +stopped *$' "vzlist after stop"
	expect_code 0 vzctl mount 101
	expect_code 0 vzlist -a -H -o ctid,status
	assert_match "$LAST_OUT" '^ *101 +mounted *$' "vzlist of a mounted CT"
}
