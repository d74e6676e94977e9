#!/usr/bin/env bash
# A Debian kernel for the test VM (tests/vm/cgroup2.sh), unpacked into a
# private cache: the package linux-image-amd64 points at, fetched with the
# host's own apt sources by `apt-get download` and extracted with
# `dpkg-deb -x`, so nothing is installed and the host's /boot is untouched.
#
#   tests/vm/kernel.sh [--dir DIR]   ensure the kernel; print its directory
#                                    (DIR/NAME: vmlinuz, lib/modules/VERSION)
set -eu

DIR=${VZ_VM_KERNEL_DIR:-/var/cache/vz-tests/vm-kernel}
META=linux-image-amd64

die() { echo "kernel.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--dir) [ $# -ge 2 ] || die "--dir needs a directory"; DIR=$2; shift ;;
	*) die "unknown argument '$1' (usage: $0 [--dir DIR])" ;;
	esac
	shift
done

# The real package behind the metapackage, as the host's apt lists know it.
real_pkg() {
	apt-cache depends "$META" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

ready() { [ -f "$1/vmlinuz" ] && [ -d "$1/lib/modules" ] && [ -f "$1/VERSION" ]; }

mkdir -p "$DIR"
# concurrent runs (a CI job and a developer) must not unpack over each other
exec 9<"$DIR"
flock 9

pkg=$(real_pkg)
if [ -z "$pkg" ]; then
	apt-get update -q >/dev/null 2>&1 || true
	pkg=$(real_pkg)
fi
# without apt at all, a kernel unpacked earlier still serves
if [ -z "$pkg" ]; then
	for d in "$DIR"/linux-image-*; do
		if ready "$d"; then echo "$d"; exit 0; fi
	done
	die "apt knows no $META (no Debian sources?)"
fi
dest=$DIR/$pkg
if ready "$dest"; then echo "$dest"; exit 0; fi

tmp=$(mktemp -d /var/tmp/vz-vmkernel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"   # apt downloads as user _apt: it must reach in
if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
echo "kernel.sh: fetching $pkg" >&2
if ! (cd "$tmp" && apt-get download -q "$pkg" >"$tmp/log" 2>&1); then
	# stale lists name a version the mirror has dropped: refresh once
	apt-get update -q >/dev/null 2>&1 || true
	pkg=$(real_pkg)
	dest=$DIR/$pkg
	(cd "$tmp" && apt-get download -q "$pkg" >"$tmp/log" 2>&1) ||
		{ tail -n 5 "$tmp/log" >&2; die "apt-get download $pkg failed"; }
fi
mkdir "$tmp/x"
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
set -- "$tmp"/x/boot/vmlinuz-*
[ -f "$1" ] || die "no vmlinuz in $pkg"
version=${1##*/vmlinuz-}
[ -d "$tmp/x/lib/modules/$version" ] || die "no modules for $version in $pkg"
mkdir "$tmp/k"
mv "$1" "$tmp/k/vmlinuz"
mv "$tmp/x/boot/config-$version" "$tmp/k/config"
mkdir "$tmp/k/lib"
mv "$tmp/x/lib/modules" "$tmp/k/lib/modules"
echo "$version" >"$tmp/k/VERSION"
rm -rf "$dest"
mv "$tmp/k" "$dest"
# older kernels of the same cache go: one is all the VM needs
for d in "$DIR"/linux-image-*; do
	[ "$d" = "$dest" ] || rm -rf "$d"
done
echo "kernel.sh: $pkg ($version) ready" >&2
echo "$dest"
