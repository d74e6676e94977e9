# Storage: the image layout, disk limits for both layouts, growing them,
# converting between layouts, compacting, and what faults leave behind.
# vz-test-timeout: 240

img_of() { # ID -> the CT's image file (root.img or upper.img), if any
	local f
	for f in root.img upper.img; do
		[ -f "$VZ_ROOT/vz/private/$1/$f" ] && { echo "$VZ_ROOT/vz/private/$1/$f"; return; }
	done
}

loops_of() { # file -> loop devices attached to it
	losetup -n -O NAME -j "$1" 2>/dev/null
}

assert_no_disk_leftovers() { # ID
	local m l
	m=$(mounts_under "$VZ_ROOT/vz/private/$1")
	[ -z "$m" ] || fail "mounts left under the private area: $m"
	l=$(losetup -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$VZ_ROOT/" || true)
	[ -z "$l" ] || fail "loop devices left: $l"
}

# A digest of the CT's whole tree as it sees it: names, modes, owners,
# link targets, file contents.
tree_sum() { # ID
	in_ct "$1" 'find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /var/log -o -path /var/run -o -path /lost+found \) -prune -o -print | sort | while read -r f; do
		if [ -L "$f" ]; then echo "$f L $(readlink "$f")"
		elif [ -f "$f" ]; then echo "$f F $(stat -c "%a %u %g %s" "$f") $(md5sum <"$f")"
		else echo "$f D $(stat -c "%a %u %g" "$f")"; fi
	done | md5sum'
	echo "$LAST_OUT"
}

test_image_layout_keeps_data_across_restart_and_its_limit_holds_inside_only() {
	mk_ct 101 --layout image --diskspace 64M
	[ -f "$VZ_ROOT/vz/private/101/root.img" ] || fail "no root.img"
	[ ! -e "$VZ_ROOT/vz/private/101/fs" ] || fail "an image CT has an overlay upper too"
	grep -q '^VE_LAYOUT="image"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "VE_LAYOUT not saved"
	grep -q '^DISKSPACE="65536:65536"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "DISKSPACE not saved"
	mk_running_ct 102
	expect_code 0 vzctl start 101
	in_ct 101 'echo kept >/root/data; df -k / | tail -n 1'
	local host_before
	host_before=$(df -k --output=avail "$VZ_ROOT" | tail -n 1)
	# past the limit: ENOSPC inside, the host and other CTs do not notice
	run_cmd vzctl exec2 101 'dd if=/dev/zero of=/fill bs=1M count=100 2>&1'
	[ "$LAST_CODE" != 0 ] || fail "100 MB fit in a 64 MB CT"
	assert_contains "$LAST_OUT" "No space left on device" "dd inside"
	in_ct 102 'dd if=/dev/zero of=/other bs=1M count=8 2>&1 && echo written'
	assert_contains "$LAST_OUT" written "another CT writes"
	local host_after
	host_after=$(df -k --output=avail "$VZ_ROOT" | tail -n 1)
	[ $((host_before - host_after)) -lt $((80 * 1024)) ] || fail "the host lost more than the CT's limit"
	expect_code 0 vzctl restart 101
	in_ct 101 'cat /root/data'
	assert_eq "$LAST_OUT" kept "data after restart"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl stop 102
	assert_no_disk_leftovers 101
}

test_overlay_with_diskspace_keeps_its_upper_layer_in_an_image_of_that_size() {
	mk_ct 101 --diskspace 48M
	[ -f "$VZ_ROOT/vz/private/101/upper.img" ] || fail "no upper.img"
	expect_code 0 vzctl start 101
	# the template's files are there, shared, and writes stop at the limit
	in_ct 101 'test -x /bin/busybox && echo shared'
	assert_eq "$LAST_OUT" shared "the template's files"
	run_cmd vzctl exec2 101 'dd if=/dev/zero of=/fill bs=1M count=80 2>&1'
	assert_contains "$LAST_OUT" "No space left on device" "dd inside"
	in_ct 101 'rm /fill && echo again >/root/x && cat /root/x'
	assert_eq "$LAST_OUT" again "writes after freeing space"
	expect_code 0 vzctl stop 101
	assert_no_disk_leftovers 101
	# the template layer is the same inode for every CT: nothing copied
	mk_ct 102
	local t1 t2
	expect_code 0 vzctl mount 101
	expect_code 0 vzctl mount 102
	t1=$(stat -c %i "$VZ_ROOT/vz/root/101/bin/busybox")
	t2=$(stat -c %i "$VZ_ROOT/vz/root/102/bin/busybox")
	assert_eq "$t1" "$t2" "inode of the shared busybox"
	expect_code 0 vzctl umount 101
	expect_code 0 vzctl umount 102
}

test_diskspace_grows_saved_and_is_never_shrunk() {
	mk_ct 101 --layout image --diskspace 64M
	expect_code 0 vzctl start 101
	expect_code 21 vzctl set 101 --diskspace 128M
	assert_contains "$LAST_ERR" "--save" "grow without --save"
	expect_code 0 vzctl set 101 --diskspace 128M --save
	# live where the host lets ext4 grow online, else at the next start
	[ -z "$LAST_ERR" ] || assert_contains "$LAST_ERR" "next start" "the warning"
	expect_code 0 vzctl restart 101
	in_ct 101 'df -k / | awk "NR == 2 {print \$2}"'
	[ "$LAST_OUT" -gt $((100 * 1024)) ] || fail "the CT's disk is $LAST_OUT KB after growing to 128M"
	expect_code 21 vzctl set 101 --diskspace 32M --save
	grep -q '^DISKSPACE="131072:131072"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "a refused shrink changed the config"
	expect_code 21 vzctl set 101 --diskinodes 5000 --save
	expect_code 0 vzctl stop 101
	# stopped: grown at once, offline
	expect_code 0 vzctl set 101 --diskspace 160M --save
	[ "$(stat -c %s "$(img_of 101)")" = $((160 * 1024 * 1024)) ] || fail "image not grown offline"
	expect_code 0 vzctl start 101
	in_ct 101 'cat /proc/mounts >/dev/null; df -k / | awk "NR == 2 {print \$2}"'
	[ "$LAST_OUT" -gt $((130 * 1024)) ] || fail "the CT's disk is $LAST_OUT KB after growing to 160M"
	expect_code 0 vzctl stop 101
}

test_a_disk_limit_on_a_plain_overlay_ct_moves_its_changes_into_an_image() {
	mk_running_ct 101 --diskspace unlimited
	in_ct 101 'echo mine >/root/mine; rm /bin/vi; dd if=/dev/zero of=/big bs=1M count=24 2>/dev/null; sync'
	expect_code 32 vzctl set 101 --diskspace 64M --save
	expect_code 0 vzctl stop 101
	# too small for what the CT holds: refused, nothing changed
	expect_code 21 vzctl set 101 --diskspace 16M --save
	[ -z "$(img_of 101)" ] && [ -d "$VZ_ROOT/vz/private/101/fs" ] || fail "a failed set changed the area"
	grep -q '^DISKSPACE="unlimited"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "a failed set saved DISKSPACE"
	expect_code 0 vzctl set 101 --diskspace 64M --save
	[ "$(img_of 101)" = "$VZ_ROOT/vz/private/101/upper.img" ] || fail "no upper.img"
	[ ! -e "$VZ_ROOT/vz/private/101/fs" ] || fail "the old upper directory is left"
	expect_code 0 vzctl start 101
	in_ct 101 'cat /root/mine; test -e /bin/vi && echo vi || echo no-vi; ls -l /big | awk "{print \$5}"'
	assert_eq "$LAST_OUT" $'mine\nno-vi\n25165824' "the CT's changes in its image"
	expect_code 0 vzctl stop 101
	assert_no_disk_leftovers 101
}

test_convert_both_ways_keeps_the_tree_byte_for_byte() {
	mk_running_ct 101 --diskspace unlimited
	in_ct 101 'echo a >/root/a; mkdir -p /srv/d; echo b >/srv/d/b; chmod 640 /srv/d/b; chown 33:44 /srv/d/b
		ln -s /srv/d/b /root/link; rm -rf /usr/bin/awk /home; echo changed >>/etc/hostname'
	local before after
	before=$(tree_sum 101)
	expect_code 0 vzctl stop 101
	expect_code 63 vzctl convert 101 --layout image
	expect_code 0 vzctl set 101 --diskspace 96M --save
	expect_code 0 vzctl convert 101 --layout image
	[ -f "$VZ_ROOT/vz/private/101/root.img" ] || fail "no root.img after convert"
	grep -q '^VE_LAYOUT="image"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "VE_LAYOUT not updated"
	expect_code 21 vzctl convert 101 --layout image
	expect_code 0 vzctl start 101
	after=$(tree_sum 101)
	assert_eq "$after" "$before" "the tree after convert to image"
	expect_code 32 vzctl convert 101 --layout overlay
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl convert 101 --layout overlay
	[ -f "$VZ_ROOT/vz/private/101/upper.img" ] || fail "no upper.img after convert back"
	expect_code 0 vzctl start 101
	after=$(tree_sum 101)
	assert_eq "$after" "$before" "the tree after convert back to overlay"
	expect_code 0 vzctl stop 101
	# only what differs from the template went into the upper layer
	local n
	expect_code 0 vzctl mount 101
	n=$(find "$VZ_ROOT/vz/private/101/mnt/fs" -type f | wc -l)
	expect_code 0 vzctl umount 101
	[ "$n" -lt 20 ] || fail "$n files in the upper layer after convert to overlay"
	assert_no_disk_leftovers 101
}

test_compact_gives_freed_blocks_back_to_the_host() {
	mk_ct 101 --layout image --diskspace 128M
	expect_code 0 vzctl start 101
	in_ct 101 'dd if=/dev/urandom of=/big bs=1M count=48 2>/dev/null; sync'
	expect_code 0 vzctl stop 101
	local img used1 used2
	img=$(img_of 101)
	used1=$(du -k "$img" | cut -f1)
	expect_code 0 vzctl start 101
	in_ct 101 'rm /big; sync'
	expect_code 0 vzctl compact 101
	assert_match "$LAST_OUT" "bytes given back" "compact's report"
	expect_code 0 vzctl stop 101
	used2=$(du -k "$img" | cut -f1)
	[ $((used1 - used2)) -gt $((32 * 1024)) ] || fail "compact gave back $((used1 - used2)) KB of 48 MB"
	expect_code 0 vzctl compact 101
	mk_ct 102 --diskspace unlimited
	expect_code 21 vzctl compact 102
}

test_destroy_leaves_no_loop_device_mount_or_file() {
	mk_ct 101 --layout image --diskspace 32M
	mk_ct 102 --diskspace 32M
	expect_code 0 vzctl start 101
	expect_code 0 vzctl start 102
	[ -n "$(loops_of "$(img_of 101)")" ] || fail "no loop device while running"
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl stop 102
	[ -z "$(loops_of "$VZ_ROOT/vz/private/101/root.img")" ] || fail "loop device outlived the stop"
	expect_code 0 vzctl mount 101
	expect_code 0 vzctl destroy 101
	expect_code 0 vzctl destroy 102
	[ ! -e "$VZ_ROOT/vz/private/101" ] && [ ! -e "$VZ_ROOT/vz/private/102" ] || fail "private areas left"
	assert_no_disk_leftovers 101
	assert_no_disk_leftovers 102
}

test_bad_disk_input_and_faults_leave_every_ct_as_it_was() {
	expect_code 21 vzctl create 101 --layout foo
	expect_code 63 vzctl create 101 --layout image --diskspace unlimited
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] && [ ! -e "$VZ_ROOT/vz/private/101" ] || fail "a failed create left the CT"
	local v
	for v in 1M abc -5 10G:5G unlimited:unlimited 0; do
		expect_code 21 vzctl create 101 --diskspace "$v"
	done
	expect_code 21 vzctl create 101 --diskinodes 10
	# a corrupt image: a clear error at start, nothing mounted or attached
	mk_ct 101 --layout image --diskspace 32M
	dd if=/dev/urandom of="$(img_of 101)" bs=1k seek=1 count=4 conv=notrunc 2>/dev/null
	expect_code 50 vzctl start 101
	assert_one_line_error
	assert_contains "$LAST_ERR" "root.img" "the error names the image"
	expect_status 101 "exist unmounted down"
	assert_no_disk_leftovers 101
	# an overlay CT whose template layer is gone
	mk_ct 102
	local layer
	layer=$(cat "$VZ_ROOT/vz/private/102/.layer") || fail "102 records no layer"
	mv "$VZ_ROOT/vz/template/layers/$layer" "$VZ_ROOT/vz/template/layers/.gone"
	expect_code 91 vzctl start 102
	assert_contains "$LAST_ERR" "template layer" "the error"
	mv "$VZ_ROOT/vz/template/layers/.gone" "$VZ_ROOT/vz/template/layers/$layer"
	expect_code 0 vzctl start 102
	expect_code 0 vzctl stop 102
}

test_a_create_killed_halfway_leaves_nothing_a_later_create_trips_on() {
	local i pid
	for i in 1 2 3; do
		vzctl create 101 --layout image --diskspace 256M >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((i * 2))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		if [ -e "$VZ_ROOT/etc/vz/conf/101.conf" ]; then
			expect_code 0 vzctl destroy 101
		fi
	done
	expect_code 0 vzctl create 101 --layout image --diskspace 64M
	expect_code 0 vzctl start 101
	in_ct 101 'echo ok'
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl destroy 101
	[ -z "$(ls -A "$VZ_ROOT/vz/private")" ] || fail "left in private/: $(ls -a "$VZ_ROOT/vz/private")"
	assert_no_disk_leftovers 101
}

test_snapshot_then_switch_back_drops_later_changes_in_every_layout() {
	local lay id n=0
	for lay in "--diskspace unlimited" "--diskspace 48M" "--layout image --diskspace 48M"; do
		n=$((n + 1))
		# shellcheck disable=SC2086
		mk_ct "10$n" $lay
		expect_code 0 vzctl start "10$n"
		in_ct "10$n" 'echo before >/root/f; sync'
		# taken while running: consistent, the CT frozen meanwhile and running after
		expect_code 0 vzctl snapshot "10$n" --name clean
		assert_match "$LAST_OUT" '^Snapshot [0-9a-f-]{36} of CT' "snapshot's report"
		id=$(awk '{print $2}' <<<"$LAST_OUT")
		expect_status "10$n" "exist mounted running"
		in_ct "10$n" 'echo after >/root/f; echo new >/root/g; rm /bin/vi'
		expect_code 0 vzctl snapshot-list "10$n" -H
		assert_match "$LAST_OUT" "^$id [0-9-]+ [0-9:]+ +running +clean\$" "snapshot-list ($lay)"
		expect_code 0 vzctl snapshot-switch "10$n" --id clean
		expect_status "10$n" "exist mounted running"
		in_ct "10$n" 'cat /root/f; ls /root; test -e /bin/vi && echo vi'
		assert_eq "$LAST_OUT" $'before\nf\nvi' "files after switching back ($lay)"
		# a stopped CT switches too, and the snapshot stays for another switch
		in_ct "10$n" 'echo again >/root/f'
		expect_code 0 vzctl stop "10$n"
		expect_code 0 vzctl snapshot-switch "10$n" --id "$id"
		expect_status "10$n" "exist unmounted down"
		expect_code 0 vzctl start "10$n"
		in_ct "10$n" 'cat /root/f'
		assert_eq "$LAST_OUT" before "after a second switch ($lay)"
		expect_code 0 vzctl snapshot-delete "10$n" --id "$id"
		expect_code 0 vzctl snapshot-list "10$n" -H
		assert_eq "$LAST_OUT" "" "snapshot-list after delete"
		expect_code 0 vzctl stop "10$n"
		assert_no_disk_leftovers "10$n"
	done
}

test_snapshots_go_along_with_a_convert_and_bad_ids_are_refused() {
	mk_ct 101 --diskspace 64M
	expect_code 0 vzctl start 101
	in_ct 101 'echo one >/root/f'
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl snapshot 101 --name one
	expect_code 0 vzctl convert 101 --layout image
	expect_code 0 vzctl snapshot-list 101 -H
	assert_match "$LAST_OUT" ' one$' "the snapshot after convert"
	expect_code 0 vzctl start 101
	in_ct 101 'echo two >/root/f'
	expect_code 0 vzctl snapshot-switch 101 --id one
	in_ct 101 'cat /root/f'
	assert_eq "$LAST_OUT" one "switched back across a convert"
	expect_code 0 vzctl stop 101
	expect_code 21 vzctl snapshot-switch 101 --id no-such
	assert_one_line_error
	expect_code 21 vzctl snapshot-delete 101 --id 00000000-0000-0000-0000-000000000000
	expect_code 27 vzctl snapshot-delete 101
	expect_code 27 vzctl snapshot-switch 101
	expect_code 14 vzctl snapshot 999
	expect_code 0 vzctl destroy 101
	assert_no_disk_leftovers 101
}

test_a_convert_or_snapshot_killed_halfway_leaves_the_ct_as_it_was() {
	mk_ct 101 --diskspace 256M
	expect_code 0 vzctl start 101
	in_ct 101 'dd if=/dev/urandom of=/big bs=1M count=96 2>/dev/null; md5sum /big | cut -d" " -f1'
	local sum=$LAST_OUT pid
	# a snapshot killed while it copies: the CT is not left frozen
	vzctl snapshot 101 --name k >/dev/null 2>&1 &
	pid=$!
	sleep 0.3
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	expect_code 0 vzctl stop 101
	expect_status 101 "exist unmounted down"
	# a convert killed while it copies
	vzctl convert 101 --layout image >/dev/null 2>&1 &
	pid=$!
	sleep 0.2
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	run_cmd vzctl umount 101
	expect_code 0 vzctl start 101
	in_ct 101 'md5sum /big | cut -d" " -f1'
	assert_eq "$LAST_OUT" "$sum" "the CT's data after a killed convert"
	expect_code 0 vzctl stop 101
	# and the next convert (or the killed one, had it got that far) and a
	# snapshot work, leaving nothing behind
	expect_code "0|21" vzctl convert 101 --layout image
	grep -q '^VE_LAYOUT="image"$' "$VZ_ROOT/etc/vz/conf/101.conf" || fail "VE_LAYOUT is not image"
	expect_code 0 vzctl snapshot 101
	expect_code 0 vzctl start 101
	in_ct 101 'md5sum /big | cut -d" " -f1'
	assert_eq "$LAST_OUT" "$sum" "the CT's data after the convert"
	expect_code 0 vzctl stop 101
	[ ! -e "$VZ_ROOT/vz/private/101.new" ] || fail "PRIVATE.new left"
	assert_no_disk_leftovers 101
}

test_a_full_host_disk_fails_create_cleanly() {
	local priv=$VZ_ROOT/vz/private
	vzlist -a >/dev/null
	expect_code 0 vzctl create 100 # the template layer, outside the full disk
	expect_code 0 vzctl destroy 100
	mkdir -p "$priv" && mount -t tmpfs -o size=1m vzfull "$priv" || fail "cannot mount a small tmpfs"
	run_cmd vzctl create 101 --layout image --diskspace 64M
	umount "$priv"
	[ "$LAST_CODE" != 0 ] || fail "create on a full disk succeeded"
	assert_one_line_error
	[ ! -e "$VZ_ROOT/etc/vz/conf/101.conf" ] || fail "a failed create wrote the CT's config"
	assert_no_disk_leftovers 101
	expect_code 0 vzctl create 101 --layout image --diskspace 64M
	expect_code 0 vzctl destroy 101
}
