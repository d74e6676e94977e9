#!/usr/bin/env bash
# Make a working CRIU (>= 4.2) available to vz on Debian 12.
#
# Debian 12's own criu 3.17 fails `criu check` on current kernels (vDSO) and
# 4.1 cannot dump TCP sockets, so unless the system criu is good enough this
# unpacks criu 4.2.x from Debian sid, together with the exact libraries sid's
# metadata says it needs (glibc included: the sid binary wants glibc >= 2.38),
# into a private prefix. Nothing is installed with dpkg and the host's apt
# sources and state are left alone. $PREFIX/criu is a wrapper that runs the
# binary through the prefix's own dynamic loader.
#
#   scripts/criu.sh [--prefix DIR]  ensure a working criu; print its path
#   scripts/criu.sh --print         only print the path of a working criu
#                                   (system or prefix); exit 1 if none
set -euo pipefail

PREFIX=/usr/local/lib/vz/criu
MIN=4.2
SYSTEM=/usr/sbin/criu
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg  # bookworm's also signs sid (bookworm+trixie keys)
ROOTS=(criu libcriu2)

die() { echo "criu.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 [--prefix DIR] [--print]"; }

print_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--prefix) [ $# -ge 2 ] || { usage >&2; exit 2; }; PREFIX=$2; shift ;;
	--print) print_only=1 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "criu.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
PREFIX=$(realpath -m "$PREFIX")

# Prints the version of criu $1 (empty if it does not even start).
version() { "$1" --version 2>/dev/null | sed -n 's/^Version: *//p' || true; }

# Succeeds when $1 is a criu >= $MIN whose `criu check` passes.
works() {
	local v
	[ -x "$1" ] || return 1
	v=$(version "$1")
	[ -n "$v" ] && dpkg --compare-versions "$v" ge "$MIN" || return 1
	"$1" check >/dev/null 2>&1
}

# Prints the path of a working criu, the system's first.
find_working() {
	local c
	for c in "$SYSTEM" "$PREFIX/criu"; do
		if works "$c"; then echo "$c"; return 0; fi
	done
	return 1
}

if find_working; then exit 0; fi
[ "$print_only" -eq 0 ] || die "no working criu >= $MIN (run scripts/criu.sh as root to install one)"

if ! mkdir -p "$(dirname "$PREFIX")" 2>/dev/null || [ ! -w "$(dirname "$PREFIX")" ]; then
	die "cannot write $(dirname "$PREFIX"): run as root"
fi
# Two concurrent runs (e.g. parallel test jobs) must not build over each other.
exec 9<"$(dirname "$PREFIX")"
flock 9
if works "$PREFIX/criu"; then echo "$PREFIX/criu"; exit 0; fi

# The Debian mirror this machine's apt already uses: the URI of the first
# `deb` entry (one-line or deb822) whose suite is a plain release name, so
# neither -security nor -updates, nor a third-party repository's odd suite.
mirror() {
	local f files=()
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*; do
		case "$f" in *.list|*.sources) [ -f "$f" ] && files+=("$f") ;; esac
	done
	awk '
	function flush() {
		if (deb && on && plain && uri ~ /^https?:\/\//) { print uri; done = 1; exit }
		deb = plain = 0; on = 1; uri = ""
	}
	BEGIN { on = 1 }
	FNR == 1 { flush() }
	/^[ \t]*#/ { next }
	FILENAME !~ /\.sources$/ {
		sub(/#.*/, ""); gsub(/\[[^]]*\]/, "")
		if ($1 == "deb" && $2 ~ /^https?:\/\// && $3 ~ /^[a-z]+$/) { print $2; done = 1; exit }
		next
	}
	/^[ \t]*$/ { flush(); next }
	/^[ \t]/ { next }   # continuation line (e.g. an inline Signed-By key)
	{
		k = tolower($1)
		if (k == "types:") { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		else if (k == "uris:") uri = $2
		else if (k == "suites:") { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+$/) plain = 1 }
		else if (k == "enabled:") on = tolower($2) != "no"
	}
	END { if (!done) flush() }' "${files[@]}" /dev/null
}
uri=$(mirror)
[ -n "$uri" ] || die "no plain-release 'deb' entry found in /etc/apt/sources.list{,.d}"

stage=$PREFIX.new.$$
old=$PREFIX.old.$$
tmp=$(mktemp -d /tmp/vz-criu.XXXXXX)
trap 'rm -rf "$tmp" "$stage" "$old"' EXIT
chmod 755 "$tmp"                  # apt downloads as user _apt: it must reach in
mkdir -p "$tmp/debs" "$stage"
if id _apt >/dev/null 2>&1; then chown _apt "$tmp/debs"; fi
: >"$tmp/status"                  # empty dpkg status: the host's installed set is irrelevant
echo "deb [arch=$(dpkg --print-architecture) signed-by=$KEYRING] $uri sid main" >"$tmp/sources.list"

# A private apt: only our sources list, its own lists/cache/state; the host's
# apt.conf.d (proxies etc.) still applies, its pinning does not.
APT=(-o Dir::Etc::sourcelist="$tmp/sources.list" -o Dir::Etc::sourceparts=-
	-o Dir::Etc::preferences="$tmp/prefs" -o Dir::Etc::preferencesparts="$tmp/prefs.d"
	-o Dir::State="$tmp" -o Dir::State::status="$tmp/status" -o Dir::Cache="$tmp"
	-o Acquire::Languages=none -q)

# run WHAT CMD...: runs CMD logging to $tmp/log; on failure shows the log's tail.
run() {
	local what=$1; shift
	"$@" >>"$tmp/log" 2>&1 || { tail -n 5 "$tmp/log" >&2; die "$what failed"; }
}

echo "criu.sh: fetching criu from Debian sid ($uri) into $PREFIX" >&2
mkdir -p "$tmp/lists/partial" "$tmp/archives/partial" "$tmp/prefs.d"
run "apt-get update (sid)" apt-get "${APT[@]}" update

# The dependency closure from sid's metadata: Depends/Pre-Depends only, so no
# python3 or iproute2 (Recommends); "<virtual>" names are not packages.
mapfile -t pkgs < <(apt-cache "${APT[@]}" depends --recurse --no-recommends --no-suggests \
	--no-conflicts --no-breaks --no-replaces --no-enhances "${ROOTS[@]}" | grep -v '^[ <]' | sort -u)
[ "${#pkgs[@]}" -gt "${#ROOTS[@]}" ] || die "could not resolve criu's dependencies in sid"
(cd "$tmp/debs" && run "apt-get download" apt-get "${APT[@]}" download "${pkgs[@]}")

for deb in "$tmp"/debs/*.deb; do
	dpkg -x "$deb" "$stage"
	# shellcheck disable=SC2016 # ${...} is dpkg-deb's format, not the shell's
	dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$stage/PACKAGES"
done

# sid is /usr-merged: glibc, its loader and every library sit in usr/lib/<triplet>.
libc=$(cd "$stage" && echo usr/lib/*/libc.so.6)
libdir=${libc%/*}
ld=$(cd "$stage" && echo "$libdir"/ld-linux*.so.*)
if [ ! -f "$stage/$libc" ] || [ ! -x "$stage/$ld" ] || [ ! -x "$stage/usr/sbin/criu" ]; then
	die "unexpected layout of sid's libc6/criu packages"
fi

# Every library must come from the prefix: one picked up from the host would
# mean the dependency list above is incomplete.
leak=$({ "$stage/$ld" --library-path "$stage/$libdir" --list "$stage/usr/sbin/criu" || true; } |
	awk -v p="$stage/" '/not found/ || (/=> \// && index($3, p) != 1) { print $1 }' | paste -sd' ')
[ -z "$leak" ] || die "sid criu needs libraries missing from the prefix: $leak"

# --library-path (not LD_LIBRARY_PATH) so that the tools criu runs (ip,
# iptables, action scripts) keep using the host's own libraries. The wrapper
# finds the prefix from its own location, so the prefix can be built aside.
cat >"$stage/criu" <<EOF
#!/bin/sh
# criu from Debian sid, run with the glibc and libraries of this prefix (scripts/criu.sh)
d=\$(dirname "\$(readlink -f "\$0")")
exec "\$d/$ld" --library-path "\$d/$libdir" "\$d/usr/sbin/criu" "\$@"
EOF
chmod 755 "$stage/criu"
ln -s "$libdir/libcriu.so.2" "$stage/libcriu.so.2"   # a stable path for vz

# Verify before putting it in place, so a failure leaves no half-made prefix.
v=$(version "$stage/criu")
if [ -z "$v" ] || ! dpkg --compare-versions "$v" ge "$MIN"; then
	die "sid criu reports version '${v:-?}', need >= $MIN"
fi
check=$("$stage/criu" check 2>&1) ||
	die "sid criu $v: 'criu check' failed: $(printf '%s\n' "$check" | tail -n 1)"
echo "$v" >"$stage/VERSION"

if [ -e "$PREFIX" ]; then mv "$PREFIX" "$old"; fi
mv "$stage" "$PREFIX" || { [ ! -e "$old" ] || mv "$old" "$PREFIX"; die "cannot move $stage to $PREFIX"; }
rm -rf "$old"
echo "criu.sh: criu $v ready ($(wc -l <"$PREFIX/PACKAGES") sid packages)" >&2
echo "$PREFIX/criu"
