# Routed IPs (OpenVZ's venet): vzctl set --ipadd/--ipdel, live and saved;
# venet0 inside the CT, venet<CTID> plus a host route per address outside;
# traffic host<->CT, CT<->CT, client<->CT; errors; vzlist; what stop leaves.
# Run by tests/run.sh with lib.sh sourced and a fresh VZ_ROOT.
#
# Network safety: every test runs vzctl inside network namespaces of its
# own (vzt-PID-N, made with `ip netns add`, entered with nsenter, not `ip
# netns exec`, which remounts /sys) with no route out of the machine. Only
# 198.18.0.0/15 and fd00::/8 are used. The namespaces go at exit (trap).

conf_of() { echo "$VZ_ROOT/etc/vz/conf/$1.conf"; }
conf_sum() { md5sum <"$(conf_of "$1")"; }

# shellcheck source=tests/integration/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

# host_traces ID ADDR...: the lines of the host namespace's link and route
# tables that name venet<ID> or one of ADDR (in TRACES).
host_traces() {
	local id=$1 d; shift
	d=$(scratch)
	{ hns ip -o link; hns ip route show table all; hns ip -6 route show table all; } >"$d/tables" 2>&1
	local -a pats=(-e "venet$id") a
	for a; do pats+=(-e "$a"); done
	TRACES=$(grep -wF "${pats[@]}" "$d/tables")
}

test_routed_ip_reaches_host_and_back() {
	net_setup
	host_if 198.18.0.1/32
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --save
	expect_code 0 vzctl start 101
	ping_from 101 198.18.0.1
	ping_from host 198.18.0.2
	expect_code 0 vzctl exec 101 'ip addr show venet0'
	assert_contains "$LAST_OUT" "inet 198.18.0.2/32" "venet0 of 101"
	expect_code 0 vzctl exec 101 'ip route show default'
	assert_contains "$LAST_OUT" "dev venet0" "default route of 101"
	expect_code 0 hns ip route show 198.18.0.2
	assert_contains "$LAST_OUT" "dev venet101" "host route to 198.18.0.2"
	expect_output_is 1 hns cat /proc/sys/net/ipv4/conf/venet101/proxy_arp
	# all of it in the test's namespace, none in the machine's own
	! ip link show venet101 >/dev/null 2>&1 || fail "venet101 appeared in the machine's own namespace"
	expect_code 0 vzctl stop 101 --fast
}

test_two_cts_with_routed_ips_ping_each_other() {
	net_setup forward
	mk_ct 101
	mk_ct 102
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --ipadd fd00::2 --save
	expect_code 0 vzctl set 102 --ipadd 198.18.0.3 --ipadd fd00::3 --save
	expect_code 0 vzctl start 101
	expect_code 0 vzctl start 102
	ping_from 101 198.18.0.3
	ping_from 102 198.18.0.2
	ping_from 101 fd00::3
	ping_from 102 fd00::2
	# each CT holds its own addresses only
	expect_code 0 vzctl exec 102 'ip addr show venet0'
	assert_not_contains "$LAST_OUT" 198.18.0.2 "venet0 of 102"
	expect_code 0 vzctl stop 102 --fast
	no_ping_from 101 198.18.0.3
	expect_code 0 vzctl stop 101 --fast
}

test_tcp_server_in_ct_is_reached_from_host_and_from_a_client_namespace() {
	net_setup forward
	host_if 198.18.0.1/32
	mk_netns
	local client=$NS url=http://198.18.0.2:8080/index.html
	hns ip link add vztc type veth peer name eth0 netns "$client" || fail "cannot create the client's veth"
	hns ip addr add 198.18.1.1/24 dev vztc && hns ip link set vztc up || fail "cannot set up vztc"
	in_ns "$client" ip addr add 198.18.1.2/24 dev eth0 && in_ns "$client" ip link set eth0 up &&
		in_ns "$client" ip route add default via 198.18.1.1 || fail "cannot set up the client namespace"
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --save
	expect_code 0 vzctl start 101
	expect_code 0 vzctl exec 101 'mkdir -p /srv/www && echo hello-from-101 >/srv/www/index.html &&
		httpd -f -p 8080 -h /srv/www </dev/null >/dev/null 2>&1 &'
	wait_until 5 hns timeout 3 busybox wget -qO- "$url" || fail "httpd of 101 not reachable from the host namespace"
	expect_output_is hello-from-101 hns timeout 3 busybox wget -qO- "$url"
	expect_output_is hello-from-101 in_ns "$client" timeout 3 busybox wget -qO- "$url"
	run_cmd in_ns "$client" sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | timeout 3 busybox nc 198.18.0.2 8080"
	assert_contains "$LAST_OUT" hello-from-101 "reply to the client's nc"
	expect_code 0 vzctl stop 101 --fast
	run_cmd in_ns "$client" timeout 3 busybox wget -qO- "$url"
	[ "$LAST_CODE" -ne 0 ] || fail "the client still gets $url with 101 stopped: $LAST_OUT"
}

test_ipv6_routed_address_reaches_host() {
	net_setup
	host_if fd00::1/128
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd fd00::2 --save
	expect_code 0 vzctl start 101
	ping_from 101 fd00::1
	ping_from host fd00::2
	expect_code 0 vzctl exec 101 'ip -6 addr show venet0'
	assert_contains "$LAST_OUT" "inet6 fd00::2/128" "venet0 of 101"
	expect_code 0 vzctl exec 101 'ip -6 route show default'
	assert_contains "$LAST_OUT" "via fe80::1 dev venet0" "IPv6 default route of 101"
	expect_code 0 hns ip -6 route show fd00::2
	assert_contains "$LAST_OUT" "dev venet101" "host route to fd00::2"
	expect_code 0 vzctl stop 101 --fast
}

test_ipadd_and_ipdel_on_running_ct_take_effect_at_once() {
	net_setup
	host_if 198.18.0.1/32 fd00::1/128
	mk_running_ct 101
	local sum; sum=$(conf_sum 101)
	expect_code 0 vzctl set 101 --ipadd 198.18.0.3
	ping_once host 198.18.0.3 2 >/dev/null || fail "198.18.0.3 not reachable right after --ipadd"
	ping_from 101 198.18.0.1
	expect_code 0 vzctl exec 101 'ip addr show venet0'
	assert_contains "$LAST_OUT" "inet 198.18.0.3/32" "venet0 of 101 after --ipadd"
	assert_eq "$(conf_sum 101)" "$sum" "101.conf after --ipadd without --save"
	expect_code 0 vzctl set 101 --ipdel 198.18.0.3
	no_ping_from host 198.18.0.3
	host_traces 101 198.18.0.3
	assert_not_contains "$TRACES" 198.18.0.3 "host namespace's tables after --ipdel"
	expect_code 0 vzctl exec 101 'ip addr show'
	assert_not_contains "$LAST_OUT" 198.18.0.3 "addresses of 101 after --ipdel"
	assert_eq "$(conf_sum 101)" "$sum" "101.conf after --ipdel without --save"
	# --ipdel all takes both families; unsaved addresses end with the CT
	expect_code 0 vzctl set 101 --ipadd 198.18.0.4 --ipadd fd00::4
	ping_from host fd00::4
	expect_code 0 vzctl set 101 --ipdel all
	no_ping_from host 198.18.0.4
	no_ping_from host fd00::4
	expect_code 0 vzctl set 101 --ipadd 198.18.0.5
	expect_code 0 vzctl stop 101
	expect_code 0 vzctl start 101
	no_ping_from host 198.18.0.5
	expect_code 0 vzctl stop 101 --fast
}

test_ipadd_without_save_on_stopped_ct_is_refused_with_31() {
	net_setup
	mk_ct 101
	local sum; sum=$(conf_sum 101)
	expect_code 31 vzctl set 101 --ipadd 198.18.0.2
	expect_code 31 vzctl set 101 --ipdel all
	assert_eq "$(conf_sum 101)" "$sum" "101.conf after refused sets"
}

test_bad_and_duplicate_addresses_are_refused() {
	net_setup
	mk_ct 101
	mk_ct 102
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --ipadd fd00::2 --save
	local s1 s2 a
	s1=$(conf_sum 101) s2=$(conf_sum 102)
	for a in 10.0.0.256 1.2.3.4/33 ::1/129 "" garbage 198.18.0.1/-1 fd00::2::3; do
		expect_code 71 vzctl set 102 --ipadd "$a" --save
		assert_one_line_error "$a"
		assert_eq "$(conf_sum 102)" "$s2" "102.conf after --ipadd '$a'"
	done
	# all or nothing: a good address next to a bad one is not kept either
	expect_code 71 vzctl set 102 --ipadd 198.18.0.9 --ipadd 10.0.0.256 --save
	assert_one_line_error 10.0.0.256
	expect_code 71 vzctl set 101 --ipdel garbage --save
	assert_eq "$(conf_sum 102)" "$s2" "102.conf after the refused sets"
	assert_eq "$(conf_sum 101)" "$s1" "101.conf after the refused sets"
	# 101's saved addresses, also written another way
	for a in 198.18.0.2 198.18.0.2/32 fd00::2 fd00:0:0::2; do
		expect_code 78 vzctl set 102 --ipadd "$a" --save
		grep -qE '198\.18\.0\.2|fd00:' <<<"$LAST_ERR" || fail "stderr of --ipadd $a names no address: $LAST_ERR"
		assert_eq "$(conf_sum 102)" "$s2" "102.conf after --ipadd '$a' of 101"
	done
	# an address 101 holds live only, then both running
	expect_code 0 vzctl start 101
	expect_code 0 vzctl set 101 --ipadd 198.18.0.7
	expect_code 78 vzctl set 102 --ipadd 198.18.0.7 --save
	assert_eq "$(conf_sum 102)" "$s2" "102.conf after --ipadd of 101's live address"
	expect_code 0 vzctl start 102
	expect_code 78 vzctl set 102 --ipadd 198.18.0.7
	expect_code 0 vzctl exec 102 'ip addr show'
	assert_not_contains "$LAST_OUT" 198.18.0.7 "addresses of 102 after the refused --ipadd"
	expect_code 0 vzctl stop 102 --fast
	expect_code 0 vzctl stop 101 --fast
}

test_stop_leaves_nothing_of_the_ct_in_host_link_and_route_tables() {
	net_setup forward
	host_if 198.18.0.1/32 fd00::1/128
	mk_ct 101
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --ipadd fd00::2 --save
	local how
	for how in "" --fast; do
		expect_code 0 vzctl start 101
		ping_from host 198.18.0.2
		ping_from host fd00::2
		host_traces 101 198.18.0.2 fd00::2
		assert_contains "$TRACES" "venet101" "host tables of running 101"
		assert_contains "$TRACES" "198.18.0.2 dev venet101" "host routes of running 101"
		assert_contains "$TRACES" "fd00::2 dev venet101" "host routes of running 101"
		expect_code 0 vzctl stop 101 $how
		host_traces 101 198.18.0.2 fd00::2
		[ -z "$TRACES" ] || fail "after stop $how of 101 the host namespace still has: $TRACES"
		assert_ct_clean 101
	done
}

test_vzlist_shows_saved_ips() {
	net_setup
	mk_ct 101
	mk_ct 102
	expect_code 0 vzctl set 101 --ipadd 198.18.0.2 --ipadd fd00::2 --save
	grep -qx 'IP_ADDRESS="198.18.0.2 fd00::2"' "$(conf_of 101)" ||
		fail "101.conf lacks IP_ADDRESS=\"198.18.0.2 fd00::2\": $(cat "$(conf_of 101)")"
	expect_code 0 vzlist -a -H -o ctid,ip 101
	assert_match "$LAST_OUT" '^ *101 +198\.18\.0\.2 +fd00::2 *$' "vzlist -o ctid,ip 101"
	expect_code 0 vzlist -a -H -o ctid,ip 102
	assert_match "$LAST_OUT" '^ *102 +- *$' "vzlist -o ctid,ip 102"
	expect_code 0 vzlist -a -j -o ip 101
	local d; d=$(scratch)
	printf '%s\n' "$LAST_OUT" >"$d/j"
	python3 - "$d/j" >"$d/check" 2>&1 <<'EOF' || fail "vzlist -j -o ip 101: $(cat "$d/check"): $LAST_OUT"
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and len(a) == 1, "expected an array of one object"
ip = a[0].get("ip")
ips = ip.split() if isinstance(ip, str) else ip
assert ips == ["198.18.0.2", "fd00::2"], "ip is %r" % (ip,)
EOF
	expect_code 0 vzctl set 101 --ipdel 198.18.0.2 --save
	expect_code 0 vzlist -a -H -o ctid,ip 101
	assert_match "$LAST_OUT" '^ *101 +fd00::2 *$' "vzlist -o ctid,ip 101 after --ipdel 198.18.0.2"
	expect_code 0 vzctl set 101 --ipdel all --save
	expect_code 0 vzlist -a -H -o ctid,ip 101
	assert_match "$LAST_OUT" '^ *101 +- *$' "vzlist -o ctid,ip 101 after --ipdel all"
}

# ---- bridged veth (--netif_add/--netif_del) ----

# a bridge br0 in the host namespace, 198.18.2.1/24 on it
mk_test_bridge() {
	hns ip link add br0 type bridge || fail "cannot create br0"
	hns ip addr add 198.18.2.1/24 dev br0 && hns ip link set br0 up || fail "cannot set up br0"
}

test_bridged_veth_cts_talk_to_each_other_and_the_host_on_a_bridge() {
	net_setup
	mk_test_bridge
	local id
	for id in 101 102; do
		mk_ct $id
		expect_code 0 vzctl set $id --netif_add eth0,,,,br0 --save
		grep -q '^NETIF=".*ifname=eth0,.*bridge=br0' "$(conf_of $id)" ||
			fail "no NETIF with eth0 on br0 in $(cat "$(conf_of $id)")"
		expect_code 0 vzctl start $id
		expect_code 0 vzctl exec $id "ip addr add 198.18.2.$((id - 99))/24 dev eth0"
	done
	hns ip link show master br0 | grep -q "veth101.eth0" || fail "veth101.eth0 is not on br0"
	expect_code 0 vzctl exec 101 "$(ping_cmd 198.18.2.1 2)"
	expect_code 0 vzctl exec 101 "$(ping_cmd 198.18.2.3 2)"
	expect_code 0 vzctl exec 102 "$(ping_cmd 198.18.2.2 2)"
	expect_code 0 vzctl stop 101 --fast
	expect_code 0 vzctl stop 102 --fast
	! hns ip link show | grep -q "veth10[12]" || fail "host ends left after stop: $(hns ip -br link)"
}

test_netif_add_and_del_on_running_ct_take_effect_at_once() {
	net_setup
	mk_test_bridge
	mk_ct 101
	expect_code 0 vzctl start 101
	local before; before=$(conf_sum 101)
	expect_code 0 vzctl set 101 --netif_add eth1,00:18:51:aa:bb:cc,vzt101e1,,br0
	expect_output_contains "00:18:51:aa:bb:cc" vzctl exec 101 'ip link show eth1'
	hns ip link show vzt101e1 >/dev/null 2>&1 || fail "no host end vzt101e1"
	assert_eq "$(conf_sum 101)" "$before" "config after --netif_add without --save"
	expect_code 130 vzctl set 101 --netif_add eth1
	expect_code 130 vzctl set 101 --netif_add eth3,,,,nobridge
	assert_one_line_error nobridge
	expect_code 0 vzctl set 101 --netif_del eth1
	run_cmd vzctl exec 101 'ip link show eth1'
	[ "$LAST_CODE" != 0 ] || fail "eth1 still in the CT after --netif_del"
	! hns ip link show vzt101e1 >/dev/null 2>&1 || fail "vzt101e1 still on the host"
	# one added live and not saved goes with the CT too
	expect_code 0 vzctl set 101 --netif_add eth2,,vzt101e2,,br0
	expect_code 0 vzctl stop 101
	! hns ip link show vzt101e2 >/dev/null 2>&1 || fail "vzt101e2 left after stop"
}

test_bad_netif_specs_are_refused_and_change_nothing() {
	net_setup
	mk_ct 101
	local before spec; before=$(conf_sum 101)
	for spec in "" ",00:18:51:aa:bb:cc" "eth0,zz" "eth0,01:00:5e:00:00:01" "eth0,,bad/name" \
		"a-name-far-too-long" "eth0,,,,br0,extra" "eth0;x"; do
		expect_code 21 vzctl set 101 --netif_add "$spec" --save
		assert_one_line_error 101
	done
	assert_eq "$(conf_sum 101)" "$before" "config after refused --netif_add"
	expect_code 0 vzctl set 101 --netif_add eth0 --save
	expect_code 130 vzctl set 101 --netif_add eth0 --save
}

# ---- DNS and hostname inside the CT ----

test_nameserver_searchdomain_and_hostname_are_written_into_the_ct() {
	mk_ct 101 --hostname ct101
	expect_code 0 vzctl set 101 --nameserver 198.18.0.53 --nameserver fd00::53 \
		--searchdomain example.test --save
	expect_code 0 vzctl start 101
	expect_output_is $'search example.test\nnameserver 198.18.0.53\nnameserver fd00::53' \
		vzctl exec 101 'cat /etc/resolv.conf'
	expect_output_is ct101 vzctl exec 101 'cat /etc/hostname'
	local before; before=$(conf_sum 101)
	expect_code 0 vzctl set 101 --nameserver 198.18.0.9
	# the nameserver lines replaced, the rest of the file kept
	expect_output_is $'nameserver 198.18.0.9\nsearch example.test' vzctl exec 101 'cat /etc/resolv.conf'
	assert_eq "$(conf_sum 101)" "$before" "config after a live --nameserver"
	expect_code 0 vzctl exec 101 'ls -ln /etc/resolv.conf'
	assert_match "$LAST_OUT" " 0 +0 " "owner of resolv.conf inside"
	expect_code 0 vzctl stop 101 --fast
}

test_bad_nameservers_and_search_domains_are_refused() {
	mk_ct 101
	local before v; before=$(conf_sum 101)
	for v in 1.2.3.4/24 300.1.1.1 "" garbage; do
		expect_code 72 vzctl set 101 --nameserver "$v" --save
		assert_one_line_error 101
	done
	for v in "bad domain" ".x" "a..b" "x/y"; do
		expect_code 73 vzctl set 101 --searchdomain "$v" --save
		assert_one_line_error 101
	done
	assert_eq "$(conf_sum 101)" "$before" "config after refused DNS settings"
}

test_ifname_sets_a_veths_bridge_address_and_gateway() {
	net_setup
	mk_test_bridge
	mk_ct 101
	expect_code 0 vzctl set 101 --netif_add eth0 --save
	expect_code 0 vzctl set 101 --ifname eth0 --bridge br0 --ipadd 198.18.2.2/24 \
		--gw 198.18.2.1 --save
	grep -q '^NETIF=".*bridge=br0,ip=198.18.2.2/24,gw=198.18.2.1"' "$(conf_of 101)" ||
		fail "NETIF after --ifname: $(grep NETIF "$(conf_of 101)")"
	expect_code 0 vzctl start 101
	expect_output_contains "198.18.2.2/24" vzctl exec 101 'ip addr show eth0'
	expect_output_contains "default via 198.18.2.1 dev eth0" vzctl exec 101 'ip route'
	expect_code 0 vzctl exec 101 "$(ping_cmd 198.18.2.1 2)"
	# live: the address changes at once, the config does not
	local before; before=$(conf_sum 101)
	expect_code 0 vzctl set 101 --ifname eth0 --ipdel 198.18.2.2 --ipadd 198.18.2.5/24
	hns busybox ping -c1 -W2 198.18.2.5 >/dev/null || fail "198.18.2.5 not reached after a live --ipadd"
	run_cmd vzctl exec 101 'ip addr show eth0'
	[[ $LAST_OUT != *198.18.2.2/* ]] || fail "198.18.2.2 still on eth0: $LAST_OUT"
	assert_eq "$(conf_sum 101)" "$before" "config after a live --ifname change"
	expect_code 130 vzctl set 101 --ifname eth9 --ipadd 198.18.2.9/24
	expect_code 71 vzctl set 101 --ifname eth0 --gw 1.2.3
	expect_code 20 vzctl set 101 --bridge br0
	expect_code 0 vzctl stop 101 --fast
}

test_bridged_veth_ipv6_between_two_cts_and_vzlist_shows_veth_addresses() {
	net_setup
	mk_test_bridge
	local id
	for id in 101 102; do
		mk_ct $id
		expect_code 0 vzctl set $id --netif_add eth0,,,,br0 --save
		expect_code 0 vzctl set $id --ifname eth0 --ipadd "fd00:2::$id/64" --save
		expect_code 0 vzctl start $id
	done
	expect_code 0 vzctl exec 101 "ip -6 addr show eth0"
	assert_contains "$LAST_OUT" "fd00:2::101/64" "IPv6 address of eth0 in 101"
	expect_code 0 vzctl exec 101 "$(ping_cmd fd00:2::102 5)"
	expect_code 0 vzctl exec 102 "$(ping_cmd fd00:2::101 5)"
	expect_code 0 vzlist -H -o ctid,ip 101
	assert_contains "$LAST_OUT" "fd00:2::101" "vzlist ip of a CT with a bridged veth"
	expect_code 0 vzctl stop 101 --fast
	expect_code 0 vzctl stop 102 --fast
}

test_dhcp_gives_a_bridged_veth_its_address_from_the_cts_own_client() {
	net_setup
	mk_test_bridge
	local d
	d=$(scratch)
	: >"$d/leases"
	printf '%s\n' "interface br0" "start 198.18.2.100" "end 198.18.2.110" \
		"lease_file $d/leases" "pidfile $d/udhcpd.pid" "opt router 198.18.2.1" \
		"opt subnet 255.255.255.0" "opt dns 198.18.2.53" >"$d/udhcpd.conf"
	(exec nsenter --net="/run/netns/$HOSTNS" busybox udhcpd -f "$d/udhcpd.conf" >"$d/udhcpd.log" 2>&1) &
	BG_PIDS+=($!)
	mk_ct 101
	expect_code 0 vzctl set 101 --netif_add eth0,,,,br0 --save
	expect_code 20 vzctl set 101 --dhcp yes --save
	expect_code 21 vzctl set 101 --ifname eth0 --dhcp=maybe --save
	expect_code 0 vzctl set 101 --ifname eth0 --dhcp yes --save
	grep -q '^NETIF=".*ifname=eth0,.*dhcp=yes' "$(conf_of 101)" || fail "no dhcp=yes in NETIF"
	expect_code 0 vzctl start 101 --wait
	# the CT's own client (busybox ifup -> udhcpc) asked the server
	in_ct 101 'ip -4 -o addr show dev eth0; cat /etc/resolv.conf; ip route show default'
	assert_match "$LAST_OUT" 'inet 198\.18\.2\.1(0[0-9]|10)/24' "eth0's leased address"
	assert_contains "$LAST_OUT" "nameserver 198.18.2.53" "the lease's DNS server"
	assert_contains "$LAST_OUT" "default via 198.18.2.1" "the lease's router"
	expect_code 0 vzctl exec 101 "$(ping_cmd 198.18.2.1 2)"
	in_ct 101 'grep -A2 "^# vz: begin" /etc/network/interfaces'
	assert_contains "$LAST_OUT" "iface eth0 inet dhcp" "the CT's ifupdown config"
	# off and on again on the running CT
	expect_code 0 vzctl set 101 --ifname eth0 --dhcp no --save
	in_ct 101 'ip -4 -o addr show dev eth0 | grep -c "inet 198.18.2.1" || true; grep -c "inet dhcp" /etc/network/interfaces || true'
	assert_eq "$LAST_OUT" $'0\n0' "eth0 after --dhcp no"
	expect_code 0 vzctl set 101 --ifname eth0 --dhcp yes
	in_ct 101 'ip -4 -o addr show dev eth0'
	assert_match "$LAST_OUT" 'inet 198\.18\.2\.1(0[0-9]|10)/24' "eth0 after --dhcp yes again"
	expect_code 0 vzctl stop 101
}
