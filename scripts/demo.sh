#!/usr/bin/env bash
# A CT's life in a few commands: create, start, run a command in it, status,
# list, stop. Run as root after `make install` (this is `make demo`).
# Everything lives under VZ_ROOT=/var/tmp/vz-demo, so the host's own CTs
# (under /) are never touched. CT 101 there is destroyed first if present.
set -euo pipefail

export VZ_ROOT=/var/tmp/vz-demo
export PATH="/usr/local/sbin:$PATH"
CT=101

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: must be run as root (containers need it)" >&2
	exit 1
fi
if ! command -v vzctl >/dev/null 2>&1 || ! command -v vzlist >/dev/null 2>&1; then
	echo "demo: vzctl/vzlist not found in PATH; run 'make && make install' first" >&2
	exit 1
fi

# Print a command the way one would type it, then run it.
show() {
	local out="+" a
	for a in "$@"; do
		if [[ "$a" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	echo "$out"
}
run() { show "$@"; "$@"; }

# Run, accepting the given exit codes besides 0 (e.g. 14: CT does not exist).
run_ok() {
	local codes=$1 rc=0
	shift
	show "$@"
	"$@" || rc=$?
	case " 0 $codes " in
	*" $rc "*) return 0 ;;
	esac
	echo "demo: '$*' failed with exit code $rc" >&2
	exit "$rc"
}

echo "# VZ_ROOT=$VZ_ROOT ($(vzctl --version 2>/dev/null || echo vzctl))"

# Clean slate: 14 = no such CT, 31 = not running.
run_ok "14 31" vzctl stop "$CT" --fast
run_ok "14" vzctl destroy "$CT"

run vzctl create "$CT" --ostemplate busybox --hostname demo
run vzctl start "$CT"
run vzctl exec "$CT" 'hostname; ps; cat /proc/1/cmdline | tr "\0" " "; echo'
run vzctl status "$CT"
run vzlist -a
run vzctl stop "$CT"
run vzctl status "$CT"
