# CT files seen from the host give host users nothing: a setuid file or a
# device node made by a CT's root (or carried by its template) is dead in
# every host-side view of the CT's files (vzctl mount, the image's host
# mount, the private area, the view of a running CT), the directories that
# hold CT files are root's alone, and vz refuses a VZ_ROOT that a user
# could change under it. Inside the CT setuid keeps working.
# vz-test-timeout: 300

# as_nobody CMD...: CMD as the host user nobody, no groups, run by a shell
# that is nobody already (setpriv itself still holds root's capabilities
# when it executes its command, and would pass any directory)
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups /bin/sh -c 'exec "$@"' as-nobody "$@"; }

# A setuid-root copy of the host's id(1) planted by the CT's root: it says
# "euid=..." whenever it runs with an effective uid not its caller's.
plant_setuid() { # ID
	# sync: on the disk before a stop, since a mount namespace made
	# elsewhere on the host while the CT ran can keep the image's file
	# system alive (unwritten) past the stop, and the next mount of the
	# image would not see the file (a known problem of image mounts)
	expect_code 0 vzctl exec2 "$1" 'cat > /suid && chmod 4755 /suid && sync && ls -ln /suid' </usr/bin/id
	assert_match "$LAST_OUT" '^-rwsr-xr-x +1 +0 +0 ' "the CT's setuid file"
}

# Host user nobody runs FILE by its path: the directories must stop it.
nobody_cannot_reach() { # FILE
	local f=$1 out
	[ -e "$f" ] || fail "no $f to try"
	out=$(as_nobody "$f" 2>&1)
	assert_not_contains "$out" "uid=" "nobody running $f by its path"
	assert_contains "$out" "Permission denied" "nobody running $f by its path"
}

# ... and from a descriptor host root opened for it: the mount it is on
# must be nosuid (for a file on a mount of vz's; the private area's
# directories are on the host's own file system, where only the
# directories above stand in the way).
nobody_gets_nothing_from() { # FILE
	local f=$1 out
	nobody_cannot_reach "$f"
	out=$(as_nobody /proc/self/fd/3 2>&1 3<"$f")
	assert_contains "$out" "uid=65534" "nobody running $f from a descriptor"
	assert_not_contains "$out" "euid=" "nobody running $f from a descriptor"
}

# mount options of the mount at DIR in the host's mount namespace
mnt_opts() { awk -v d="$1" '$5 == d { o = $6 } END { print o }' /proc/self/mountinfo; }

expect_host_view_nosuid_nodev() { # DIR
	local o; o=$(mnt_opts "$1")
	[ -n "$o" ] || fail "$1 is not mounted"
	assert_contains "$o" nosuid "options of the host's mount $1"
	assert_contains "$o" nodev "options of the host's mount $1"
}

# The CT's own root keeps setuid: su, sudo and systemd need it inside.
expect_ct_root_allows_setuid() { # ID
	in_ct "$1" "awk '\$5 == \"/\" { print \$6 }' /proc/self/mountinfo"
	[ -n "$LAST_OUT" ] || fail "no / in the CT's mountinfo"
	assert_not_contains "$LAST_OUT" nosuid "the CT's own root"
}

# ... and a setuid-root program run by nobody inside runs as root there.
# (Not asserted for the overlay layout: its file system belongs to the
# user namespace vz mounts it from, not to the CT's, so the kernel ignores
# setuid in it whatever its flags; that is older than these defences.)
expect_setuid_works_inside() { # ID
	local d; d=$(scratch)
	if [ ! -x "$d/euid" ]; then
		printf '#include <stdio.h>\n#include <unistd.h>\nint main(void) { printf("%%d\\n", (int)geteuid()); return 0; }\n' |
			cc -static -x c -o "$d/euid" - || fail "cannot build a static euid printer"
	fi
	expect_code 0 vzctl exec2 "$1" 'cat > /euid && chmod 4755 /euid' <"$d/euid"
	in_ct "$1" '/bin/busybox su -s /bin/sh nobody -c /euid'
	assert_eq "$LAST_OUT" 0 "euid of a setuid-root program run by nobody inside"
}

test_setuid_file_made_by_ct_root_gives_host_users_nothing() {
	mk_running_ct 101 --diskspace unlimited # the upper layer as plain directories
	plant_setuid 101
	# the CT's root is as reachable as a default VZ_ROOT of / would be:
	# only vz's own directories stand in the way
	chmod 755 "$VZ_ROOT"
	local root=$VZ_ROOT/vz/root/101 priv=$VZ_ROOT/vz/private/101
	expect_ct_root_allows_setuid 101
	nobody_gets_nothing_from "$root/suid"
	nobody_cannot_reach "$priv/fs/suid"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl mount 101
	expect_host_view_nosuid_nodev "$root"
	nobody_gets_nothing_from "$root/suid"
	nobody_cannot_reach "$priv/fs/suid"
	# started from the host's view: the CT gets its own, setuid and all
	expect_code 0 vzctl start 101
	expect_ct_root_allows_setuid 101
	expect_host_view_nosuid_nodev "$root"
	nobody_gets_nothing_from "$root/suid"
	expect_code 0 vzctl stop 101
	chmod 700 "$VZ_ROOT"
}

test_setuid_file_in_an_image_ct_gives_host_users_nothing() {
	mk_running_ct 101 --layout image --diskspace 64M
	plant_setuid 101
	chmod 755 "$VZ_ROOT"
	local root=$VZ_ROOT/vz/root/101 mnt=$VZ_ROOT/vz/private/101/mnt
	expect_ct_root_allows_setuid 101
	expect_setuid_works_inside 101
	# running: the image's host mount and the host's side of the CT's root
	expect_host_view_nosuid_nodev "$mnt"
	expect_host_view_nosuid_nodev "$root"
	nobody_gets_nothing_from "$root/suid"
	nobody_gets_nothing_from "$mnt/suid"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl mount 101
	expect_host_view_nosuid_nodev "$mnt"
	expect_host_view_nosuid_nodev "$root"
	nobody_gets_nothing_from "$root/suid"
	nobody_gets_nothing_from "$mnt/suid"
	expect_code 0 vzctl umount 101
	expect_code 0 vzctl start 101
	# a reboot inside makes the CT's view again from the host's
	local old; old=$(init_pid 101)
	run_cmd timeout 20 "$VZ_BIN_DIR/vzctl" exec 101 reboot
	wait_until 20 eval 'n=$(init_pid 101); [ -n "$n" ] && [ "$n" != "'"$old"'" ]' ||
		fail "no new init after a reboot inside"
	wait_until 10 vzctl exec 101 true || fail "exec does not work after the reboot"
	expect_ct_root_allows_setuid 101
	expect_setuid_works_inside 101
	expect_host_view_nosuid_nodev "$root"
	nobody_gets_nothing_from "$root/suid"
	expect_code 0 vzctl stop 101
	chmod 700 "$VZ_ROOT"
}

test_restored_ct_keeps_setuid_inside_and_nothing_for_the_host() {
	mk_running_ct 101 --layout image --diskspace 64M
	plant_setuid 101
	expect_code 0 vzctl chkpnt 101
	expect_code 0 vzctl restore 101
	chmod 755 "$VZ_ROOT"
	expect_ct_root_allows_setuid 101
	expect_setuid_works_inside 101
	expect_host_view_nosuid_nodev "$VZ_ROOT/vz/root/101"
	nobody_gets_nothing_from "$VZ_ROOT/vz/root/101/suid"
	nobody_gets_nothing_from "$VZ_ROOT/vz/private/101/mnt/suid"
	expect_code 0 vzctl stop 101
	chmod 700 "$VZ_ROOT"
}

# A node opened for writing: "open" or the error.
try_node() { # FILE
	if sh -c 'echo x > "$1"' node "$1" 2>/dev/null; then echo open; else echo refused; fi
}

# A CT in a user namespace cannot mknod; a privileged CT (LOCAL_UID=0)
# can, and a template may carry nodes. Stand-in for both: host root puts
# a node (a copy of /dev/null, mode 0666) among the CT's files. Even host
# root cannot open it through a host-side view, nor can the CT in its root.
test_device_node_made_by_ct_root_is_dead_on_the_host() {
	mk_ct 101 --diskspace unlimited # the upper layer as plain directories
	local root=$VZ_ROOT/vz/root/101
	mknod -m 666 "$VZ_ROOT/vz/private/101/fs/null2" c 1 3 || fail "cannot make a node"
	expect_code 0 vzctl mount 101
	assert_eq "$(try_node "$root/null2")" refused "the node in vzctl mount's view"
	expect_code 0 vzctl umount 101
	# an image CT: the node goes in through the host's view (mknod works
	# on a nodev mount; opening does not)
	mk_ct 102 --layout image --diskspace 64M
	local root2=$VZ_ROOT/vz/root/102 mnt2=$VZ_ROOT/vz/private/102/mnt
	expect_code 0 vzctl mount 102
	mknod -m 666 "$root2/null2" c 1 3 || fail "cannot make a node in the image"
	assert_eq "$(try_node "$root2/null2")" refused "the node in vzctl mount's view of an image"
	assert_eq "$(try_node "$mnt2/null2")" refused "the node in the image's host mount"
	expect_code 0 vzctl umount 102
	expect_code 0 vzctl start 102
	assert_eq "$(try_node "$root2/null2")" refused "the node in a running image CT, from the host"
	assert_eq "$(try_node "$mnt2/null2")" refused "the node in a running image CT's host mount"
	in_ct 102 '(echo x > /null2) 2>/dev/null && echo open || echo refused'
	assert_eq "$LAST_OUT" refused "the node in the image CT's own root"
	expect_code 0 vzctl stop 102
	# a privileged CT's own mknod
	sed -i 's/^LOCAL_UID=.*/LOCAL_UID="0"/; s/^LOCAL_GID=.*/LOCAL_GID="0"/' \
		"$VZ_ROOT/etc/vz/conf/101.conf"
	expect_code 0 vzctl start 101
	in_ct 101 'mknod -m 666 /null3 c 1 3 && echo x > /null3 && echo ok'
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl mount 101
	assert_eq "$(try_node "$root/null3")" refused "a privileged CT's node in vzctl mount's view"
	expect_code 0 vzctl umount 101
}

# mode of PATH in octal (stat -c %a)
mode_of() { stat -c %a "$1"; }

test_vz_directories_holding_ct_files_are_root_only() {
	mk_ct 101
	mk_ct 102 --layout image --diskspace 64M
	expect_code 0 vzctl snapshot 101
	expect_code 0 vzctl mount 101
	expect_code 0 vzctl umount 101
	local d
	for d in vz/root vz/private vz/private/101 vz/private/102 vz/root/101 \
		vz/private/101/snapshots vz/template/layers; do
		assert_eq "$(mode_of "$VZ_ROOT/$d")" 700 "mode of $d"
	done
	# a root made by an older vz: opened up, fixed at the next mount/start
	chmod 755 "$VZ_ROOT/vz/root" "$VZ_ROOT/vz/private" "$VZ_ROOT/vz/private/101" \
		"$VZ_ROOT/vz/root/101" "$VZ_ROOT/vz/template/layers" "$VZ_ROOT/vz/private/102"
	expect_code 0 vzctl mount 101
	expect_code 0 vzctl start 102
	for d in vz/root vz/private vz/private/101 vz/private/102 vz/template/layers; do
		assert_eq "$(mode_of "$VZ_ROOT/$d")" 700 "mode of $d after mount and start"
	done
	expect_code 0 vzctl chkpnt 102
	assert_eq "$(mode_of "$VZ_ROOT/vz/dump")" 700 "mode of the dump directory"
	expect_code 0 vzctl restore 102
	expect_code 0 vzctl stop 102
	expect_code 0 vzctl umount 101
	assert_eq "$(mode_of "$VZ_ROOT/vz/root/101")" 700 "mode of vz/root/101 unmounted"
}

# vzlist must refuse (12) with one line naming WHAT
expect_refused() { # WHAT
	expect_code 12 vzlist -a
	assert_one_line_error "$1"
}

test_vz_root_writable_by_a_user_is_refused() {
	mk_ct 101
	expect_code 0 vzlist -a
	chmod 777 "$VZ_ROOT"
	expect_refused "$VZ_ROOT"
	chmod 1777 "$VZ_ROOT" # sticky is no excuse for the root itself
	expect_refused "$VZ_ROOT"
	chmod 700 "$VZ_ROOT"
	chown nobody "$VZ_ROOT/vz"
	expect_refused "$VZ_ROOT/vz"
	chown root "$VZ_ROOT/vz"
	chmod g+w "$VZ_ROOT/vz/private"
	expect_refused "$VZ_ROOT/vz/private"
	expect_code 12 vzctl start 101
	chmod g-w "$VZ_ROOT/vz/private"
	chmod o+w "$VZ_ROOT/etc/vz/vz.conf"
	expect_refused "$VZ_ROOT/etc/vz/vz.conf"
	chmod o-w "$VZ_ROOT/etc/vz/vz.conf"
	chown nobody "$VZ_ROOT/etc/vz/conf"
	expect_refused "$VZ_ROOT/etc/vz/conf"
	chown root "$VZ_ROOT/etc/vz/conf"
	expect_code 0 vzlist -a
	# above the root: a user's directory, a user's symlink
	local s; s=$(scratch)
	mkdir -p "$s/home/sub" "$s/sticky"
	chown nobody "$s/home"
	chmod 1777 "$s/sticky"
	expect_code 12 env VZ_ROOT="$s/home/sub" "$VZ_BIN_DIR/vzlist" -a
	assert_one_line_error "$s/home"
	[ ! -e "$s/home/sub/etc" ] || fail "vz initialised a refused root"
	ln -s "$s/home/sub" "$s/sticky/link"
	chown -h nobody "$s/sticky/link"
	chown root "$s/home"
	expect_code 12 env VZ_ROOT="$s/sticky/link" "$VZ_BIN_DIR/vzlist" -a
	assert_one_line_error "$s/sticky/link"
	# a root-owned sticky directory above the root is fine (/var/tmp is one)
	mkdir -p "$s/sticky/ok"
	expect_code 0 env VZ_ROOT="$s/sticky/ok" "$VZ_BIN_DIR/vzlist" -a
}
