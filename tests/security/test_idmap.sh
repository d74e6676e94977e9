# CT id ranges: taken from the block /etc/subuid and /etc/subgid register
# to root, so that no host user is ever handed (by useradd) ids that a CT
# uses, and unique on the whole host, across every VZ_ROOT.

# vz-test-timeout: 240

# shellcheck source=tests/integration/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/netns.sh"

IDMAP_DIR=${VZ_IDMAP_DIR:-/var/lib/vz/idmap}

ct_base() { # ct_base ROOT ID: the CT's LOCAL_UID
	sed -n 's/^LOCAL_UID="\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$1/etc/vz/conf/$2.conf"
}

# fails when [a, a+na) and [b, b+nb) overlap
assert_apart() { # A NA B NB WHAT
	if [ "$1" -lt $(($3 + $4)) ] && [ "$3" -lt $(($1 + $2)) ]; then
		fail "$5: $1+$2 overlaps $3+$4"
	fi
}

# the entry of NAME in FILE as "START COUNT" (first one)
subid_of() { awk -F: -v n="$1" '$1 == n { print $2, $3; exit }' "$2"; }

VZT_USER=""
idmap_user_cleanup() {
	[ -n "$VZT_USER" ] && userdel "$VZT_USER" >/dev/null 2>&1
	VZT_USER=""
}

test_ct_ids_never_overlap_a_host_users_subordinate_ids() {
	command -v useradd >/dev/null || fail "no useradd"
	mk_ct 101
	local b1 b2 f s n
	b1=$(ct_base "$VZ_ROOT" 101)
	[ "$b1" -gt 0 ] || fail "CT 101 has no id range ($b1)"
	# a host user added after the CT: useradd must not hand it the CT's ids
	VZT_USER=vzt$$
	trap idmap_user_cleanup EXIT
	expect_code 0 useradd "$VZT_USER"
	mk_ct 102
	b2=$(ct_base "$VZ_ROOT" 102)
	for f in /etc/subuid /etc/subgid; do
		read -r s n <<<"$(subid_of "$VZT_USER" "$f")"
		[ -n "$s" ] && [ -n "$n" ] || fail "useradd gave $VZT_USER no entry in $f"
		assert_apart "$b1" 65536 "$s" "$n" "CT 101 (made before the user) and $VZT_USER's ids in $f"
		assert_apart "$b2" 65536 "$s" "$n" "CT 102 (made after the user) and $VZT_USER's ids in $f"
		# the CTs' ranges lie in root's block
		read -r s n <<<"$(subid_of root "$f")"
		[ -n "$s" ] || fail "root has no entry in $f"
		[ "$b1" -ge "$s" ] && [ $((b1 + 65536)) -le $((s + n)) ] ||
			fail "CT 101's ids $b1 are not in root's block $s:$n of $f"
	done
	# a running CT's processes are in its own range, nowhere near the user's
	expect_code 0 vzctl start 101
	local pid uid
	pid=$(init_pid 101)
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	assert_eq "$uid" "$b1" "host uid of CT 101's init"
	idmap_user_cleanup
}

test_two_roots_never_share_an_id_range() {
	local r2=$VZ_ROOT/r2 b1 b2 b3
	mk_ct 101
	mk_ct 102
	expect_code 0 env VZ_ROOT="$r2" "$VZ_BIN_DIR/vzctl" create 101 --ostemplate "$TEMPLATE_NAME"
	b1=$(ct_base "$VZ_ROOT" 101)
	b2=$(ct_base "$VZ_ROOT" 102)
	b3=$(ct_base "$r2" 101)
	assert_apart "$b1" 65536 "$b2" 65536 "CTs 101 and 102 of one root"
	assert_apart "$b1" 65536 "$b3" 65536 "CT 101 of two roots"
	assert_apart "$b2" 65536 "$b3" 65536 "CT 102 and the other root's 101"
	# the registry knows who holds each
	grep -qxF "ROOT=$r2" "$IDMAP_DIR/$b3" || fail "the registry's $b3 does not name $r2"
	expect_code 0 env VZ_ROOT="$r2" "$VZ_BIN_DIR/vzctl" destroy 101
	[ ! -e "$IDMAP_DIR/$b3" ] || fail "destroy left $IDMAP_DIR/$b3"
}

test_a_removed_root_gives_its_ranges_back() {
	local r2=$VZ_ROOT/r2 b
	expect_code 0 env VZ_ROOT="$r2" "$VZ_BIN_DIR/vzctl" create 101 --ostemplate "$TEMPLATE_NAME"
	b=$(ct_base "$r2" 101)
	[ -e "$IDMAP_DIR/$b" ] || fail "no registry entry $IDMAP_DIR/$b"
	rm -rf "$r2"
	# the next allocation finds the entry stale (no config names it)
	mk_ct 101
	[ ! -e "$IDMAP_DIR/$b" ] || grep -qxF "ROOT=$VZ_ROOT" "$IDMAP_DIR/$b" ||
		fail "the entry of the removed root is still held: $(cat "$IDMAP_DIR/$b")"
}

test_a_privileged_ct_is_created_with_a_warning() {
	vzlist -a >/dev/null 2>&1 # makes the root's /etc/vz
	sed -i 's/^#\{0,1\}LOCAL_UID=.*/LOCAL_UID="0"/' "$VZ_ROOT/etc/vz/vz.conf"
	grep -q '^LOCAL_UID="0"' "$VZ_ROOT/etc/vz/vz.conf" || echo 'LOCAL_UID="0"' >>"$VZ_ROOT/etc/vz/vz.conf"
	mk_ct 101
	assert_contains "$LAST_ERR" "privileged" "create's warning"
	assert_eq "$(ct_base "$VZ_ROOT" 101)" 0 "LOCAL_UID of the privileged CT"
}

# A CT migrated (live: criu restores it) between two roots of this host
# gets a range of its own there, the source's being still taken, and runs
# with it: its files stored unshifted, its id map rewritten in the dump.
MIG_DST="" MIG_DROOT=""
idmap_mig_cleanup() {
	[ -n "$MIG_DROOT" ] && [ -e "$MIG_DROOT/etc/vz/conf/101.conf" ] && {
		in_ns "$MIG_DST" "$VZ_BIN_DIR/vzctl" --vz-root "$MIG_DROOT" stop 101 --fast
		in_ns "$MIG_DST" "$VZ_BIN_DIR/vzctl" --vz-root "$MIG_DROOT" destroy 101
	} >/dev/null 2>&1
	net_cleanup
}
test_a_migrated_ct_runs_with_a_range_of_the_destination() {
	net_setup
	mk_netns
	MIG_DST=$NS MIG_DROOT=$VZ_ROOT/dst
	trap idmap_mig_cleanup EXIT
	mk_ct 101
	expect_code 0 vzctl mount 101
	echo kept >"$VZ_ROOT/vz/root/101/root/kept" || fail "cannot write into CT 101"
	expect_code 0 vzctl umount 101
	expect_code 0 vzctl start 101
	in_ct 101 'sleep 1000 </dev/null >/dev/null 2>&1 &'
	local sb db pid uid
	sb=$(ct_base "$VZ_ROOT" 101)
	# the source's range stays registered meanwhile (-r no keeps its config)
	expect_code 0 hns "$VZ_BIN_DIR/vzmigrate" --online --strategy stopcopy -r no \
		--dst-root "$MIG_DROOT" "netns:$MIG_DST" 101
	db=$(ct_base "$MIG_DROOT" 101)
	[ -n "$db" ] && [ "$db" -gt 0 ] || fail "no LOCAL_UID on the destination"
	assert_apart "$sb" 65536 "$db" 65536 "the source's and the destination's range"
	expect_code 0 in_ns "$MIG_DST" "$VZ_BIN_DIR/vzctl" --vz-root "$MIG_DROOT" exec2 101 \
		'cat /proc/1/uid_map; stat -c "%u %n" /root/kept; pidof sleep'
	assert_match "$LAST_OUT" "^ *0 +$db +65536" "the uid_map there"
	assert_contains "$LAST_OUT" "0 /root/kept" "the CT's file there"
	pid=$(sed -n 's/^INIT_PID="\{0,1\}\([0-9]*\).*/\1/p' "$MIG_DROOT/run/vz/101.state")
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	assert_eq "$uid" "$db" "host uid of the migrated init"
}
