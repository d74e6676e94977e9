# What comes from outside, a migration peer's config and a dump, chooses
# no host-side value: the destination's receiver (vzmigrate --receive, as
# the peer's ssh runs it) is driven here with forged input, and restore is
# given forged dumps.

IDMAP_DIR=${VZ_IDMAP_DIR:-/var/lib/vz/idmap}

conf_val() { # conf_val FILE KEY
	sed -n "s/^$2=\"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" "$1" | head -n1
}

# rcv_start ROOT ID: the receiving side as a coprocess; rcv_say LINE... and
# rcv_read (the answer in RCV_LINE)
rcv_start() {
	coproc RCV { "$VZ_BIN_DIR/vzmigrate" --vz-root "$1" --receive "$2" 2>"$(scratch)/rcv.err"; }
}
rcv_say() { printf '%s\n' "$@" >&"${RCV[1]}"; }
rcv_read() {
	RCV_LINE=""
	read -r -t 60 RCV_LINE <&"${RCV[0]}" || fail "the receiver did not answer ($(cat "$(scratch)/rcv.err"))"
}
rcv_end() { # the session ends (EOF), the receiver undoes what it made
	local fd=${RCV[1]} pid=$RCV_PID
	eval "exec $fd>&-"
	wait "$pid" 2>/dev/null
}
rcv_conf() { # rcv_conf TEXT: CONF, the bytes, CONFDONE; the answer in RCV_LINE
	printf 'CONF %d\n%sCONFDONE\n' "${#1}" "$1" >&"${RCV[1]}"
	rcv_read
}

test_a_forged_migration_config_cannot_choose_host_values() {
	local d=$VZ_ROOT/dst c base
	# a privileged CT (its root is host root) is refused
	rcv_start "$d" 101
	rcv_say "HELLO 0.1.0 101 online=0 lazy=0 layer=-"
	rcv_read
	assert_eq "$RCV_LINE" "OK" "HELLO"
	rcv_conf 'LOCAL_UID="0"
LOCAL_GID="0"
OSTEMPLATE="busybox"
VE_LAYOUT="overlay"
'
	assert_match "$RCV_LINE" "^ERR 15 .*LOCAL_UID" "answer to a privileged config"
	rcv_end
	[ ! -e "$d/etc/vz/conf/101.conf" ] || fail "the refused config was kept"

	# a bridge the host does not have is refused
	rcv_start "$d" 101
	rcv_say "HELLO 0.1.0 101 online=0 lazy=0 layer=-"
	rcv_read
	rcv_conf 'LOCAL_UID="100000"
NETIF="ifname=eth0,host_ifname=eth0,bridge=vznosuchbr0"
'
	assert_match "$RCV_LINE" "^ERR 15 .*NETIF.*vznosuchbr0" "answer to a missing bridge"
	rcv_end

	# host paths, a taken range, a host interface name, unknown keys:
	# the config is taken with all of them chosen here
	rcv_start "$d" 101
	rcv_say "HELLO 0.1.0 101 online=0 lazy=0 layer=-"
	rcv_read
	rcv_conf 'LOCAL_UID="100000"
LOCAL_GID="0"
VE_ROOT="/etc"
VE_PRIVATE="/root/evil/$VEID"
NETIF="ifname=eth0,host_ifname=lo"
CGROUP_BASE="../../.."
CRIU="/tmp/evil-criu"
HOSTNAME="moved"
OSTEMPLATE="busybox"
'
	assert_match "$RCV_LINE" "^OK private=$d/vz/private/101 " "answer to the forged config"
	c=$d/etc/vz/conf/101.conf
	[ -e "$c" ] || fail "no config on the destination"
	assert_eq "$(conf_val "$c" VE_ROOT)" '/vz/root/$VEID' "VE_ROOT there"
	assert_eq "$(conf_val "$c" VE_PRIVATE)" '/vz/private/$VEID' "VE_PRIVATE there"
	base=$(conf_val "$c" LOCAL_UID)
	assert_ne "$base" 100000 "LOCAL_UID there"
	assert_ne "$base" 0 "LOCAL_UID there"
	assert_eq "$(conf_val "$c" LOCAL_GID)" "$base" "LOCAL_GID there"
	grep -qxF "ROOT=$d" "$IDMAP_DIR/$base" || fail "the range $base is not registered to $d"
	assert_contains "$(conf_val "$c" NETIF)" "host_ifname=veth101.eth0" "NETIF there"
	assert_not_contains "$(conf_val "$c" NETIF)" "host_ifname=lo" "NETIF there"
	! grep -q '^CGROUP_BASE=\|^CRIU=' "$c" || fail "unknown keys were kept: $(cat "$c")"
	assert_eq "$(conf_val "$c" HOSTNAME)" moved "HOSTNAME there"
	[ ! -e /root/evil ] || fail "/root/evil was made"
	# called off: nothing stays, the range is free again
	rcv_say ABORT
	rcv_read
	assert_eq "$RCV_LINE" OK "ABORT"
	rcv_end
	[ ! -e "$c" ] || fail "ABORT left the config"
	[ ! -e "$IDMAP_DIR/$base" ] || fail "ABORT left the range $base registered"
}

# userns_img FILE LOWER COUNT: criu's userns image mapping 0..COUNT to LOWER
userns_img() {
	python3 - "$@" <<'PY'
import struct, sys
path, lower, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def v(n):
    o = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            o += bytes([b | 0x80])
        else:
            return o + bytes([b])
magics = open(path, 'rb').read(8)
e = b''
for f in (1, 2):
    x = b'\x08' + v(0) + b'\x10' + v(lower) + b'\x18' + v(count)
    e += bytes([f << 3 | 2]) + v(len(x)) + x
open(path, 'wb').write(magics + struct.pack('<I', len(e)) + e)
PY
}

test_restore_of_a_dump_with_a_forged_config_is_refused_or_sanitized() {
	local s base pid uid f
	s=$(scratch)
	mk_running_ct 101
	base=$(conf_val "$VZ_ROOT/etc/vz/conf/101.conf" LOCAL_UID)
	expect_code 0 vzctl chkpnt 101 --dumpfile "$s/d"

	# a link out of the dump: criu would write its log through it (a
	# decoy stands for the host file a peer would aim at, /etc/passwd:
	# without the check it is overwritten)
	echo "host file" >"$s/decoy"
	cp -a "$s/d" "$s/d1" && ln -s "$s/decoy" "$s/d1/restore.log" || fail "cannot forge d1"
	expect_code 17 vzctl restore 101 --dumpfile "$s/d1"
	assert_one_line_error "restore.log"
	assert_eq "$(cat "$s/decoy")" "host file" "the file the dump's link names"

	# a bind of a host directory
	cp -a "$s/d" "$s/d2" || fail "cannot copy the dump"
	sed -i 's|^HOST_BINDS="|HOST_BINDS="/mnt\|dev:/../etc |' "$s/d2/vz-dump.conf"
	expect_code 17 vzctl restore 101 --dumpfile "$s/d2"
	assert_one_line_error "HOST_BINDS"

	# a bridge this host does not have
	cp -a "$s/d" "$s/d3" || fail "cannot copy the dump"
	sed -i 's|^NETIF=.*|NETIF="ifname=eth0,host_ifname=eth0,bridge=vznosuchbr0"|' "$s/d3/vz-dump.conf"
	expect_code 17 vzctl restore 101 --dumpfile "$s/d3"
	assert_one_line_error "vznosuchbr0"

	# an id map of all of the host's ids
	cp -a "$s/d" "$s/d4" || fail "cannot copy the dump"
	for f in "$s"/d4/userns-*.img; do userns_img "$f" 0 4294967295; done
	expect_code 17 vzctl restore 101 --dumpfile "$s/d4"
	assert_one_line_error "user namespace"

	# the map of host root's ids: the CT runs with its own range anyway
	cp -a "$s/d" "$s/d5" || fail "cannot copy the dump"
	for f in "$s"/d5/userns-*.img; do userns_img "$f" 0 65536; done
	expect_code 0 vzctl restore 101 --dumpfile "$s/d5"
	pid=$(init_pid 101)
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
	assert_eq "$uid" "$base" "host uid of the restored init"
	in_ct 101 'cat /proc/self/uid_map'
	assert_match "$LAST_OUT" "^ *0 +$base +65536$" "the restored CT's uid_map"
	expect_code 0 vzctl stop 101 --fast
}
