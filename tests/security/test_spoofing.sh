# Routed IPs cannot be spoofed: CT root puts an address it was not given
# on venet0 and sends from it (to the host, to a neighbour CT), IPv4 and
# IPv6; nothing of it reaches the host's stack, while its own addresses
# work. A router advertisement from a CT changes nothing on the host.
# Counted by an nftables counter at the host's prerouting (it sees what
# the host end lets through, for the host and for forwarding alike).
#
# Network safety: the test's own namespaces (netns.sh), 198.18.0.0/15 and
# fd00::/8 only.

# shellcheck source=tests/integration/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/netns.sh"

# add6 ADDR: a command for CT root that puts ADDR on venet0 and waits out
# its duplicate address detection (busybox ip has no nodad)
add6() {
	echo "ip addr add $1/128 dev venet0 && i=0 && while ip -6 addr show dev venet0 | grep -q tentative && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done"
}

# counters in the test's host namespace, by source address
count_sources() {
	hns nft -f - <<-EOF || fail "cannot add the counters"
	table inet vzt {
		chain pre {
			type filter hook prerouting priority -400; policy accept;
			ip saddr 198.18.0.2 counter
			ip saddr 198.18.0.99 counter
			ip saddr 198.18.0.3 counter
			ip6 saddr fd00::2 counter
			ip6 saddr fd00::99 counter
		}
	}
	EOF
}

counted() { # counted ADDR: packets seen from ADDR
	hns nft list table inet vzt | awk -v a="$1" '$0 ~ "saddr " a " counter" {print $(NF-2)}'
}

# echos_in ID: echo requests CT ID has received (IPv4 and IPv6)
echos_in() {
	vzctl exec "$1" "{ awk '/^Icmp:/ { if (!c) { for (i = 1; i <= NF; i++) if (\$i == \"InEchos\") c = i } else print \$c }' /proc/net/snmp
		awk '/^Icmp6InEchos / {print \$2}' /proc/net/snmp6; } | awk '{s += \$1} END {print s + 0}'"
}

test_a_ct_cannot_send_from_an_address_it_was_not_given() {
	net_setup forward
	host_if 198.18.0.1/32 fd00::1/128
	mk_ct 101
	mk_ct 102
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --ipadd fd00::2 --save
	expect_code 0 vzctl set 102 --ipadd 198.18.0.3 --ipadd fd00::3 --save
	expect_code 0 vzctl start 101
	expect_code 0 vzctl start 102
	count_sources
	# its own addresses work
	ping_from 101 198.18.0.1
	ping_from 101 fd00::1
	[ "$(counted 198.18.0.2)" -ge 1 ] || fail "the counter did not see 198.18.0.2's ping"
	[ "$(counted fd00::2)" -ge 1 ] || fail "the counter did not see fd00::2's ping"
	local before
	before=$(echos_in 102)
	# CT root takes addresses it was not given and sends from them
	expect_code 0 vzctl exec 101 "ip addr add 198.18.0.99/32 dev venet0 && $(add6 fd00::99)"
	run_cmd vzctl exec 101 'for a in 198.18.0.1 198.18.0.3; do ping -c2 -W1 -I 198.18.0.99 $a; done
		for a in fd00::1 fd00::3; do ping -6 -c2 -W1 -I fd00::99 $a; done'
	assert_eq "$(counted 198.18.0.99)" 0 "IPv4 packets from a forged source that reached the host"
	assert_eq "$(counted fd00::99)" 0 "IPv6 packets from a forged source that reached the host"
	assert_eq "$(echos_in 102)" "$before" "echo requests the neighbour CT got from forged sources"
	# a neighbour's address is no better (102 itself has sent nothing)
	expect_code 0 vzctl exec 101 'ip addr add 198.18.0.3/32 dev venet0'
	run_cmd vzctl exec 101 'ping -c2 -W1 -I 198.18.0.3 198.18.0.1'
	assert_eq "$(counted 198.18.0.3)" 0 "packets from the neighbour's address that reached the host"
	# the legit address still works
	ping_from 101 198.18.0.1
}

test_the_filter_follows_live_ipadd_and_ipdel_and_goes_at_stop() {
	net_setup
	host_if 198.18.0.1/32 fd00::1/128
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --save
	expect_code 0 vzctl start 101
	count_sources
	# 198.18.0.99 on venet0 without vzctl: dropped; through vzctl: allowed
	expect_code 0 vzctl exec 101 'ip addr add 198.18.0.99/32 dev venet0'
	run_cmd vzctl exec 101 'ping -c1 -W1 -I 198.18.0.99 198.18.0.1'
	assert_eq "$(counted 198.18.0.99)" 0 "packets from 198.18.0.99 before it was given"
	expect_code 0 vzctl set 101 --ipadd 198.18.0.99 --ipadd fd00::99
	expect_code 0 vzctl exec 101 'ping -c1 -W2 -I 198.18.0.99 198.18.0.1 && ping -6 -c1 -W2 -I fd00::99 fd00::1'
	[ "$(counted 198.18.0.99)" -ge 1 ] || fail "198.18.0.99 given live but still dropped"
	expect_code 0 vzctl set 101 --ipdel 198.18.0.99 --ipdel fd00::99
	local n6
	n6=$(counted fd00::99)
	expect_code 0 vzctl exec 101 "$(add6 fd00::99)"
	run_cmd vzctl exec 101 'ping -6 -c1 -W1 -I fd00::99 fd00::1'
	assert_eq "$(counted fd00::99)" "$n6" "packets from fd00::99 after --ipdel"
	expect_code 0 hns nft list tables
	assert_contains "$LAST_OUT" "vz-venet101" "the host's tables while running"
	expect_code 0 vzctl stop 101
	expect_code 0 hns nft list tables
	assert_not_contains "$LAST_OUT" "vz-venet101" "the host's tables after stop"
}

# A router advertisement sent from the CT's network namespace (crafted
# with a raw socket there) changes no route of the host's.
test_router_advertisements_from_a_ct_change_no_host_route() {
	command -v python3 >/dev/null || fail "no python3 to craft a router advertisement"
	net_setup # no forwarding: a host that would take RAs
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd fd00::2 --save
	expect_code 0 vzctl start 101
	local pid
	pid=$(init_pid 101)
	# an RA must come from a link-local address: wait for venet0's
	wait_until 10 eval '! vzctl exec 101 "ip -6 addr show dev venet0" | grep -q tentative' ||
		fail "venet0's link-local address stays tentative"
	# RA: router lifetime 1800 s, a prefix fd00:99::/64 (on-link, autonomous)
	nsenter --net="/proc/$pid/ns/net" python3 - <<-'EOF' || fail "cannot send the RA"
	import socket, struct
	s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
	s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
	s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
	ra = struct.pack("!BBHBBHII", 134, 0, 0, 64, 0, 1800, 0, 0)
	pi = struct.pack("!BBBBIII16s", 3, 4, 64, 0xc0, 86400, 14400, 0,
	                 socket.inet_pton(socket.AF_INET6, "fd00:99::"))
	idx = socket.if_nametoindex("venet0")
	for _ in range(3):
	    s.sendto(ra + pi, ("ff02::1", 0, 0, idx))
	EOF
	sleep 0.5
	expect_code 0 hns ip -6 route show table all
	assert_not_contains "$LAST_OUT" "proto ra" "the host's IPv6 routes after an RA from the CT"
	assert_not_contains "$LAST_OUT" "fd00:99::" "the host's IPv6 routes after an RA from the CT"
	assert_eq "$(hns sysctl -n net.ipv6.conf.venet101.accept_ra)" 0 "accept_ra of venet101"
	assert_eq "$(hns sysctl -n net.ipv6.conf.venet101.accept_redirects)" 0 "accept_redirects of venet101"
}
