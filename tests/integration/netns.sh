# Network namespaces for the integration tests that send traffic: the
# test's own "host" namespaces (vzt-PID-N, made with `ip netns add`,
# entered with nsenter, not `ip netns exec`, which remounts /sys), with no
# route out of the machine. Only 198.18.0.0/15 and fd00::/8 are used. The
# namespaces go at exit (trap). Sourced by the test files that need it.

NETNS=() HOSTNS="" NS=""
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }
hns() { in_ns "$HOSTNS" "$@"; } # a command in the test's host namespace

# vzctl (lib.sh's, and so mk_ct, expect_status...) runs in the test's host
# namespace once net_setup has made it: the CT's venet<CTID> lives there.
vzctl() {
	if [ -n "$HOSTNS" ]; then
		in_ns "$HOSTNS" "$VZ_BIN_DIR/vzctl" "$@"
	else
		"$VZ_BIN_DIR/vzctl" "$@"
	fi
}

# mk_netns: a new namespace with lo up; its name in NS.
mk_netns() {
	NS=vzt-$$-${#NETNS[@]}
	ip netns add "$NS" || fail "cannot create network namespace $NS"
	NETNS+=("$NS")
	in_ns "$NS" ip link set lo up || fail "cannot bring lo up in $NS"
}

# Stops this root's CTs from the host namespace (where their venet is),
# then deletes the test's namespaces.
BG_PIDS=() # servers a test runs in its namespaces, stopped with them
net_cleanup() {
	local conf id ns p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	if [ -n "$HOSTNS" ]; then
		for conf in "$VZ_ROOT"/etc/vz/conf/*.conf; do
			[ -e "$conf" ] || continue
			id=${conf##*/}; id=${id%.conf}
			[[ $id =~ ^[0-9]+$ ]] || continue
			hns timeout 60 "$VZ_BIN_DIR/vzctl" stop "$id" --fast >/dev/null 2>&1 </dev/null
		done
	fi
	for ns in "${NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
	NETNS=() HOSTNS=""
}

# net_setup [forward]: the test's host namespace HOSTNS, removed at exit;
# "forward" turns IPv4 and IPv6 forwarding on in it (only in it).
net_setup() {
	trap net_cleanup EXIT
	trap 'exit 143' TERM INT
	mk_netns
	HOSTNS=$NS
	if [ "${1:-}" = forward ]; then
		hns sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
			fail "cannot turn forwarding on in $HOSTNS"
	fi
}

# host_if ADDR...: the host namespace's own addresses, on "hostif" (one end
# of a veth pair whose both ends stay in HOSTNS: this kernel has no dummy).
host_if() {
	local a
	hns ip link add hostif type veth peer name hostif-p || fail "cannot create hostif in $HOSTNS"
	hns ip link set hostif-p up && hns ip link set hostif up || fail "cannot bring hostif up"
	for a; do
		case $a in
		*:*) hns ip addr add "$a" dev hostif nodad ;;
		*) hns ip addr add "$a" dev hostif ;;
		esac || fail "cannot put $a on hostif"
	done
}

ping_cmd() { # ping_cmd ADDR WAIT: the busybox ping of one echo to ADDR
	case $1 in *:*) echo "ping -6 -c1 -W$2 $1" ;; *) echo "ping -c1 -W$2 $1" ;; esac
}
ping_once() { # ping_once FROM ADDR WAIT: FROM is "host" or a CT id
	if [ "$1" = host ]; then
		# shellcheck disable=SC2046
		hns busybox $(ping_cmd "$2" "$3")
	else
		vzctl exec2 "$1" "$(ping_cmd "$2" "$3")"
	fi
}
# ping_from FROM ADDR: one echo from FROM to ADDR comes back. An IPv6
# address may first need a few seconds (duplicate address detection).
ping_from() {
	case $2 in *:*) wait_until 5 ping_once "$1" "$2" 1 ;; esac
	expect_code 0 ping_once "$1" "$2" 2
}
no_ping_from() { # no_ping_from FROM ADDR: no echo comes back
	run_cmd ping_once "$1" "$2" 1
	[ "$LAST_CODE" -ne 0 ] || fail "$1 still reaches $2: $LAST_OUT"
}

