#!/usr/bin/env bash
# bench/network.sh: TCP throughput and round-trip time of vz's routed IPs
# (host to CT, CT to CT) against host to host over loopback, the native
# ceiling, in one run. Everything runs inside a network namespace made here,
# with addresses from 198.18.0.0/15 only and no route out of the machine.
#
#   bench/network.sh            (root; needs build/vzctl or vzctl on PATH, iperf3)
#
# Environment: BENCH_SECONDS=5 (per iperf3 run), BENCH_PINGS=20, VZCTL=...
# Exit: 0 measured, 1 a vz step failed, 2 a bad precondition.
set -u -o pipefail

SECS=${BENCH_SECONDS:-5}
PINGS=${BENCH_PINGS:-20}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "network: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "must run as root"
command -v iperf3 >/dev/null || die "iperf3 not found (apt-get install iperf3)"
if [[ -z ${VZCTL:-} ]]; then
	if [[ -x $REPO/build/vzctl ]]; then VZCTL=$REPO/build/vzctl
	else VZCTL=$(command -v vzctl) || die "vzctl not found: run make"; fi
fi

NS=vzbench-net-$$
export VZ_ROOT
VZ_ROOT=$(mktemp -d /var/tmp/vz-bench-net.XXXXXX) || die "mktemp failed"
H=(nsenter --net=/run/netns/$NS)
PIDS=()
cleanup() {
	set +e
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for id in 901 902; do
		"${H[@]}" "$VZCTL" stop $id --fast >/dev/null 2>&1
		"$VZCTL" destroy $id >/dev/null 2>&1
	done
	ip netns del "$NS" 2>/dev/null
	rm -rf "$VZ_ROOT"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$NS" || die "cannot create netns $NS"
"${H[@]}" ip link set lo up
"${H[@]}" ip addr add 198.18.0.1/32 dev lo
"${H[@]}" sysctl -qw net.ipv4.ip_forward=1
for id in 901 902; do
	"$VZCTL" create $id --ostemplate busybox >/dev/null &&
		"$VZCTL" set $id --ipadd 198.18.0.$((id - 899)) --save >/dev/null &&
		"${H[@]}" "$VZCTL" start $id >/dev/null || { echo "network: CT $id failed" >&2; exit 1; }
done
# iperf3 is the host's binary, run in a CT's network namespace: the path
# measured is the CT's (venet0, the veth pair, the host's routing)
ct_net() { # ID -> nsenter prefix for that CT's network namespace
	local pid
	pid=$(sed -n 's/^INIT_PID="\{0,1\}\([0-9]*\).*/\1/p' "$VZ_ROOT/run/vz/$1.state")
	echo "nsenter --net=/proc/$pid/ns/net"
}
read -ra C1 <<<"$(ct_net 901)"
read -ra C2 <<<"$(ct_net 902)"

serve() { # NETNS-PREFIX... -- starts an iperf3 server there
	"$@" iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	PIDS+=($!)
	sleep 0.3
}
gbps() { # client prefix... -- server address: Gbit/s
	local srv=${*: -1} out
	out=$("${@:1:$#-1}" iperf3 -c "$srv" -p 5201 -t "$SECS" -J 2>/dev/null) || { echo "-"; return; }
	awk -F: '/"bits_per_second"/ {v=$2} END {gsub(/[ ,]/, "", v); printf "%.2f", v / 1e9}' <<<"$out"
}
rtt() { # client prefix... -- target: average ms
	local dst=${*: -1}
	"${@:1:$#-1}" busybox ping -c "$PINGS" -i 0.05 "$dst" 2>/dev/null |
		awk -F/ '/round-trip|rtt/ {printf "%.3f", $4}'
}

echo "== TCP, iperf3 ${SECS}s, one stream; RTT, ping x$PINGS ($(date -u +%F))"
serve "${H[@]}";  native_bw=$(gbps "${H[@]}" 198.18.0.1);  native_rtt=$(rtt "${H[@]}" 198.18.0.1)
serve "${C1[@]}"; h2c_bw=$(gbps "${H[@]}" 198.18.0.2);     h2c_rtt=$(rtt "${H[@]}" 198.18.0.2)
serve "${C1[@]}"; c2c_bw=$(gbps "${C2[@]}" 198.18.0.2);    c2c_rtt=$(rtt "${C2[@]}" 198.18.0.2)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
printf '%-22s %12s %12s %10s %10s\n' path Gbit/s "RTT ms" "bw/native" "rtt/native"
printf '%-22s %12s %12s %10s %10s\n' "host->host (loopback)" "$native_bw" "$native_rtt" 1.00 1.00
printf '%-22s %12s %12s %10s %10s\n' "host->CT (routed)" "$h2c_bw" "$h2c_rtt" \
	"$(ratio "$h2c_bw" "$native_bw")" "$(ratio "$h2c_rtt" "$native_rtt")"
printf '%-22s %12s %12s %10s %10s\n' "CT->CT (routed)" "$c2c_bw" "$c2c_rtt" \
	"$(ratio "$c2c_bw" "$native_bw")" "$(ratio "$c2c_rtt" "$native_rtt")"
echo "target: routed throughput within 10% of native (bw/native >= 0.90)"
