# Symlinks CT root plants in its own files, aimed at host files: what vz
# writes into a CT at start and at every live `set` (hostname, hosts,
# resolv.conf, passwords, the network) must land in the CT or nowhere,
# never on the host. Run by tests/run.sh with lib.sh sourced and a fresh
# VZ_ROOT.

# open_dir: a host directory anyone may write in (sticky, as /tmp), which
# a redirected write of CT root's would reach; removed with the test root
open_dir() {
	local d
	d=$(mktemp -d /var/tmp/vz-canary.XXXXXX) || fail "mktemp"
	chmod 1777 "$d"
	echo "$d" >>"$VZ_ROOT/.canaries"
	echo "$d"
}

# canary FILE: a host file CT root must never change
canary() {
	echo "canary of the host" >"$1"
	chmod 666 "$1"
}

expect_canaries_untouched() { # DIR
	local f
	for f in "$1"/*; do
		[ -e "$f" ] || continue
		case $f in
		*.canary) [ "$(cat "$f")" = "canary of the host" ] || fail "host file $f was written: $(head -c 200 "$f")" ;;
		*) fail "a file appeared on the host: $f ($(stat -c '%U %s' "$f"))" ;;
		esac
	done
}

cleanup_canaries() {
	[ -f "$VZ_ROOT/.canaries" ] || return 0
	local d
	while read -r d; do rm -rf "$d"; done <"$VZ_ROOT/.canaries"
}

test_symlinked_etc_files_in_a_ct_never_reach_host_files() {
	trap cleanup_canaries EXIT
	local open fs f
	open=$(open_dir)
	for f in hostname hosts resolv.conf shadow; do canary "$open/$f.canary"; done
	mk_ct 101 --hostname first.example --diskspace unlimited # the upper layer as plain directories
	fs=$VZ_ROOT/vz/private/101/fs
	mkdir -p "$fs/etc" "$fs/etc/network"
	for f in hostname hosts resolv.conf; do
		rm -f "$fs/etc/$f"
		ln -s "$open/$f.canary" "$fs/etc/$f"
	done
	ln -s "$open/interfaces" "$fs/etc/network/interfaces"
	expect_code 0 vzctl set 101 --nameserver 198.18.0.53 --save
	run_cmd vzctl start 101
	# what the start wrote and each live set
	run_cmd vzctl set 101 --hostname second.example
	run_cmd vzctl set 101 --nameserver 198.18.0.54
	run_cmd vzctl set 101 --userpasswd root:pw1
	run_cmd vzctl set 101 --ipadd 198.18.0.2
	run_cmd vzctl stop 101 --fast
	run_cmd vzctl set 101 --userpasswd root:pw2
	run_cmd vzctl set 101 --hostname third.example --save
	expect_canaries_untouched "$open"
}

test_a_ct_whose_dev_proc_sys_or_run_is_a_symlink_does_not_start() {
	trap cleanup_canaries EXIT
	local open fs top
	open=$(open_dir)
	mk_ct 101 --diskspace unlimited # the upper layer as plain directories
	fs=$VZ_ROOT/vz/private/101/fs
	for top in dev proc sys run; do
		rm -rf "${fs:?}/$top"
		ln -s "$open" "$fs/$top"
		expect_code 50 vzctl start 101
		assert_contains "$LAST_ERR" "/$top" "the start's error"
		expect_status 101 "exist unmounted down"
		expect_canaries_untouched "$open"
		rm -f "$fs/$top"
	done
	# as it was, it starts
	expect_code 0 vzctl start 101
	expect_code 0 vzctl exec 101 'test -c /dev/null && test -d /proc/1'
}
