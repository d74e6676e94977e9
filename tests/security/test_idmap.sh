# CT id ranges: taken from the block /etc/subuid and /etc/subgid register
# to root, so that no host user is ever handed (by useradd) ids that a CT
# uses, and unique on the whole host, across every VZ_ROOT.

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
