#!/usr/bin/env bash
# Runs integration tests inside a VM whose cgroups are pure v2 (cgroup2
# alone at /sys/fs/cgroup, cpu cpuset io memory pids enabled), the layout a
# host whose controllers sit on v1 cannot be switched to. The VM runs
# Debian's kernel (tests/vm/kernel.sh) with no network and no disk image of
# its own: its root is the host's /usr and /etc (9p, read-only, /etc under a
# tmpfs overlay) and a copy of this repository at the same path, plus a
# scratch ext4 disk for /var/tmp. tests/vm/init and tests/vm/guest.sh are
# its PID 1.
#
#   tests/vm/cgroup2.sh [--bin DIR] [--passes "main asan"] [--tests "resources lifecycle"]
#   tests/vm/cgroup2.sh --run 'COMMAND'
#
# --bin: the tools the main pass uses (default /usr/local/sbin); --passes,
# --tests: VZ_TEST_PASSES and RUN_TESTS of tests/run.sh inside; --run: a
# bash command to run there instead (to look around in the VM). Prints the
# tests' output; exits 0 only when the VM ran them and they all passed.
# VZ_VM_ACCEL=kvm|tcg overrides the choice of accelerator, VZ_VM_TIMEOUT
# (seconds, default 1200) bounds the whole VM run.
set -eu

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=/usr/local/sbin
PASSES=main
TESTS="resources lifecycle"
RUN=
TIMEOUT=${VZ_VM_TIMEOUT:-1200}
# what the VM's root needs beyond the kernel: virtio disk and 9p for the
# root, ext4 (crc32c for its checksums) and overlay, fuse for lxcfs, and
# what vz or its tests may ask for, criu's among them: socket diag, tun and
# nf_tables for its kernel checks and network lock, conntrack's netlink for
# its netns dump (the host's modprobe cannot load this kernel's modules, so
# they are all loaded up front)
MODULES="virtio_pci virtio_blk 9pnet_virtio 9p crc32c_generic ext4 overlay fuse loop veth bridge
	unix_diag inet_diag tcp_diag udp_diag raw_diag netlink_diag af_packet_diag tun nf_tables
	nf_conntrack_netlink"

die() { echo "cgroup2.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--bin) [ $# -ge 2 ] || die "--bin needs a directory"; BIN=$2; shift ;;
	--passes) [ $# -ge 2 ] || die "--passes needs a value"; PASSES=$2; shift ;;
	--tests) [ $# -ge 2 ] || die "--tests needs a value"; TESTS=$2; shift ;;
	--run) [ $# -ge 2 ] || die "--run needs a command"; RUN=$2; shift ;;
	*) die "unknown argument '$1'" ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || die "must run as root"
BIN=$(realpath "$BIN")
# one line: vm.conf is read by busybox sh and dash
# shellcheck disable=SC2086,SC2116 # split and joined by one space on purpose
TESTS=$(echo $TESTS)
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64 (scripts/deps.sh --test installs it)"
[ -x "$BIN/vzctl" ] || die "no $BIN/vzctl"

kdir=$("$REPO/tests/vm/kernel.sh") || die "no kernel for the VM"
kver=$(cat "$kdir/VERSION")
mods=$kdir/lib/modules/$kver/kernel

work=$(mktemp -d /var/tmp/vz-vm.XXXXXX)
qpid=
cleanup() {
	[ -z "$qpid" ] || kill "$qpid" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- what the VM runs: a copy of the repository (its tests and builds)
# and of the tools, so that a rebuild on the host while the VM runs (another
# checkout's CI, a developer) cannot change files under it ----
snap=$work/repo
mkdir "$snap"
tar -C "$REPO" --exclude=./.git --exclude=./build-analyzer -cf - . | tar -C "$snap" -xf -
vm_bin=$BIN
if [ "${BIN#"$REPO"/}" = "$BIN" ]; then
	vm_bin=$REPO/.vm-bin
	mkdir "$snap/.vm-bin"
	cp -p "$BIN"/vz* "$snap/.vm-bin/"
fi

# ---- initramfs: busybox, the first stage, the modules in load order ----
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/modules"
cp /bin/busybox "$ir/bin/busybox"
cp "$snap/tests/vm/init" "$ir/init"
chmod 755 "$ir/init"

declare -A modpath=() loaded=()
while read -r f; do
	n=${f##*/}; n=${n%.ko}
	modpath[${n//-/_}]=$f
done < <(find "$mods" -name '*.ko')
order=()
add_module() { # NAME: its dependencies (from its .modinfo) first
	local n=${1//-/_} d
	[ -z "${loaded[$n]:-}" ] || return 0
	[ -n "${modpath[$n]:-}" ] || die "kernel $kver has no module $n"
	loaded[$n]=1
	for d in $(tr '\0' '\n' <"${modpath[$n]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
		add_module "$d"
	done
	cp "${modpath[$n]}" "$ir/modules/$n.ko"
	order+=("$n")
}
for m in $MODULES; do
	# some are built in (on other kernels): nothing to load then
	grep -qx "CONFIG_$(tr '[:lower:]' '[:upper:]' <<<"$m")=y" "$kdir/config" 2>/dev/null || add_module "$m"
done
printf '%s\n' "${order[@]}" >"$ir/modules/order"

links=
for l in /*; do
	[ -L "$l" ] && links+=" ${l#/}=$(readlink "$l")"
done
{
	printf 'VM_%s=%q\n' REPO "$REPO" BIN "$vm_bin" TESTS "$TESTS" PASSES "$PASSES" \
		LINKS "$links" RUN "$RUN"
	# under emulation a test takes several times its usual time
	echo "VM_TEST_TIMEOUT=600"
} >"$ir/vm.conf"
(cd "$ir" && find . | busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$work/initrd"

# ---- the scratch disk: VZ_ROOTs and their CTs ----
truncate -s 8G "$work/disk"
mkfs.ext4 -q -F -E nodiscard "$work/disk"

# ---- accelerator: KVM only where the CPU has hardware virtualisation;
# a paravirtual /dev/kvm (kvm_pvm) runs only kernels built for it ----
accel=${VZ_VM_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -Eqw 'vmx|svm' /proc/cpuinfo; then
		accel=kvm
	fi
fi
# shellcheck disable=SC2054 # tcg,thread=multi is one argument
case $accel in
kvm) aopts=(-accel kvm -cpu host) ;;
tcg) aopts=(-accel tcg,thread=multi -cpu max) ;;
*) die "VZ_VM_ACCEL=$accel: kvm or tcg" ;;
esac

share() { # TAG DIR
	echo "-virtfs" "local,path=$2,mount_tag=$1,security_model=none,readonly=on,multidevs=remap"
}
echo "# VM: kernel $kver, $accel, tests '$TESTS' ($PASSES) with $BIN"
start=$SECONDS
: >"$work/result"
# shellcheck disable=SC2046 # share prints separate words on purpose
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${aopts[@]}" -smp 2 -m 2048 \
	-display none -no-reboot -nic none -monitor none \
	-kernel "$kdir/vmlinuz" -initrd "$work/initrd" \
	-append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all" \
	-drive "file=$work/disk,format=raw,if=virtio,cache=unsafe" \
	$(share usr /usr) $(share etc /etc) $(share repo "$snap") \
	-serial "file:$work/console" -serial "file:$work/result" \
	</dev/null >"$work/qemu.log" 2>&1 &
qpid=$!
# the tests' output as it comes
tail -n +1 -f --pid="$qpid" "$work/result" | sed -u -e 's/\r$//' -e '/^VZ-VM-RESULT /d' || true
rc=0
wait "$qpid" || rc=$?
qpid=
echo "# VM ran $((SECONDS - start)) s (qemu exit $rc)"

result=$(sed -n 's/^VZ-VM-RESULT \([0-9]*\).*/\1/p' "$work/result" 2>/dev/null | tail -n 1)
if [ -z "$result" ]; then
	echo "--- the VM's console (last 60 lines):"
	tail -n 60 "$work/console" | sed -e 's/\r$//' -e 's/^/  | /'
	sed 's/^/  qemu: /' "$work/qemu.log"
	[ "$rc" != 124 ] || die "the VM did not finish within ${TIMEOUT}s"
	die "the VM gave no result"
fi
[ "$result" = 0 ] || die "tests in the VM failed (exit $result)"
