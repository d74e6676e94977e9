#!/usr/bin/env bash
# Install the Debian packages vz needs to build (and, with --test, to run
# its test suite). Idempotent: when everything is already installed it only
# asks dpkg and returns at once; apt is used only for what is missing.
#
#   scripts/deps.sh          build dependencies
#   scripts/deps.sh --test   build + test dependencies (used by `make check`)
set -euo pipefail

BUILD_PKGS=(
	build-essential pkg-config
	libcap-dev libmnl-dev libjson-c-dev libarchive-dev libseccomp-dev
	busybox-static    # the `busybox` OS template is built from it
	lxcfs             # the CT's own figures in /proc (meminfo, cpuinfo, uptime)
	debootstrap debian-archive-keyring  # Debian OS templates (vztmpl build)
	iproute2 psmisc
	rsync openssh-client  # vzmigrate: the private area's copy, the peer over ssh
)
TEST_PKGS=(
	libcmocka-dev cppcheck clang-tidy   # unit tests, static analysis
	clang libclang-rt-14-dev  # libFuzzer and the sanitizers' runtimes (make fuzz)
	lxc crun                 # reference runtimes the integration tests compare with
	util-linux               # unshare, nsenter, mount, findmnt
	procps                   # ps, pgrep, pkill
	bsdutils                 # script (runs `vzctl enter` on a pty)
	coreutils                # timeout
	iproute2                 # ip netns for the network tests
	iperf3                   # bench/network.sh
	qemu-system-x86 e2fsprogs  # the pure cgroup v2 VM (tests/vm/cgroup2.sh)
	openssh-server           # vzmigrate over ssh: the tests run their own sshd in a namespace
	nftables python3         # tests/security/test_spoofing.sh: counters, a crafted RA
)

usage() { echo "usage: $0 [--test]"; }

want_test=0
for arg in "$@"; do
	case "$arg" in
	--test) want_test=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "deps: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must be run as root (it installs Debian packages with apt-get); try: sudo $0 $*" >&2
	exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: dpkg-query/apt-get not found: vz's dependency script supports Debian (12) only" >&2
	exit 1
fi

pkgs=("${BUILD_PKGS[@]}")
what="build"
if [ "$want_test" -eq 1 ]; then
	pkgs+=("${TEST_PKGS[@]}")
	what="build+test"
fi

# Prints those of the given packages that are not fully installed (one dpkg
# call for all of them; an unknown package counts as missing).
find_missing() {
	local -A ok=()
	local name status p
	while read -r name status; do
		[ "$status" = "ii" ] && ok[$name]=1
	done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "$@" 2>/dev/null || true)
	for p in "$@"; do
		[ -n "${ok[$p]:-}" ] || echo "$p"
	done
}

# CRIU >= 4.2 for checkpoint/restore: the distro's criu where it passes
# `criu check`, else Debian sid's unpacked into a private prefix
# (scripts/criu.sh). Only chkpnt, restore and vzmigrate --online need it,
# so a failure here is a warning (their tests fail), not the end of the
# install.
criu_step() {
	"$(dirname "$0")/criu.sh" >/dev/null 2>"${log:-/dev/stderr}" ||
		echo "deps: warning: no working CRIU >= 4.2 (scripts/criu.sh failed)" >&2
}

# Debian's kernel for the cgroup v2 VM, unpacked privately (tests/vm/kernel.sh);
# the VM test fetches it itself when this fails, and fails without it.
kernel_step() {
	if [ "$want_test" -eq 1 ]; then
		"$(dirname "$0")/../tests/vm/kernel.sh" >/dev/null 2>"${log:-/dev/stderr}" ||
			echo "deps: warning: no kernel for the cgroup v2 VM (tests/vm/kernel.sh failed)" >&2
	fi
}

mapfile -t missing < <(find_missing "${pkgs[@]}")

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} $what packages already installed"
	criu_step
	kernel_step
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/vz-deps.XXXXXX)
trap 'rm -f "$log"' EXIT

run_apt() {
	if ! apt-get "$@" >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		echo "deps: 'apt-get $*' failed" >&2
		exit 1
	fi
}

echo "deps: apt-get update"
run_apt update -q
echo "deps: installing ${#missing[@]} package(s): ${missing[*]}"
# no service starts while packages go in (openssh-server would start sshd
# on the host): invoke-rc.d asks policy-rc.d, which says no
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# scripts/deps.sh: no service starts during its install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$log" "$policy"' EXIT
fi
run_apt install -y -q --no-install-recommends "${missing[@]}"

mapfile -t still < <(find_missing "${missing[@]}")
if [ "${#still[@]}" -ne 0 ]; then
	echo "deps: still not installed after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "deps: all ${#pkgs[@]} $what packages installed"
criu_step
kernel_step
