#!/usr/bin/env bash
# The test runner of vz: unit test binaries, then the integration suite
# (tests/integration/test_*.sh) against the installed tools and again
# against the ASan/UBSan build when there is one.
#
#   tests/run.sh                     everything
#   RUN_TESTS="start exec3" tests/run.sh   only tests whose name (or file) contains
#                                    one of the space-separated substrings
#   VZ_BIN_DIR=DIR tests/run.sh      first pass against DIR (default /usr/local/sbin)
#   VZ_TEST_TIMEOUT=120              seconds per test
#   VZ_TEST_PASSES="main asan"       which integration passes run (the VM
#                                    test runs one pass per boot)
#
# Prints PASS/FAIL per test (a failure's output indented below it) and at
# the end one line "N passed, N failed"; exits 1 if anything failed.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ITEST_DIR=$REPO/tests/integration
TIMEOUT=${VZ_TEST_TIMEOUT:-120}
RUN_TESTS=${RUN_TESTS:-}
MAIN_BIN_DIR=${VZ_BIN_DIR:-/usr/local/sbin}
ASAN_BIN_DIR=$REPO/build-asan
PASSES=" ${VZ_TEST_PASSES:-main asan} "
SAN_ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=66"
SAN_UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# VZ_ROOT must not be inherited by the runner's own helpers (the leak check
# looks for processes that carry this test's VZ_ROOT in their environment).
unset VZ_ROOT VZ_BIN_DIR

npass=0
nfail=0
OUT=$(mktemp -d /var/tmp/vz-testrun.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

selected() { # selected NAME [FILE-STEM]
	[ -z "$RUN_TESTS" ] && return 0
	local p
	for p in $RUN_TESTS; do
		case "$1 ${2:-}" in *"$p"*) return 0 ;; esac
	done
	return 1
}

report() { # report PASS|FAIL NAME [OUTPUT-FILE]
	if [ "$1" = PASS ]; then
		npass=$((npass + 1))
		echo "PASS $2"
	else
		nfail=$((nfail + 1))
		echo "FAIL $2"
		if [ -n "${3:-}" ] && [ -s "$3" ]; then
			local n
			n=$(wc -l <"$3")
			if [ "$n" -gt 200 ]; then
				echo "    ... ($((n - 200)) earlier lines left out)"
				tail -n 200 "$3" | sed 's/^/    /'
			else
				sed 's/^/    /' "$3"
			fi
		fi
	fi
}

# ---- unit tests: each binary is one test ----
run_units() {
	local dir=$1 prefix=$2 t name
	for t in "$REPO/$dir"/tests/test_*; do
		[ -f "$t" ] && [ -x "$t" ] || continue
		name="unit:$prefix${t#"$REPO"/}"
		selected "$name" || continue
		if ASAN_OPTIONS=$SAN_ASAN_OPTIONS UBSAN_OPTIONS=$SAN_UBSAN_OPTIONS \
			timeout -k 10 "$TIMEOUT" "$t" >"$OUT/unit.log" 2>&1; then
			report PASS "$name"
		else
			echo "(exit $?)" >>"$OUT/unit.log"
			report FAIL "$name" "$OUT/unit.log"
		fi
	done
}

# ---- integration tests ----

# Test functions of a file in definition order.
list_tests() {
	(
		# shellcheck source=/dev/null
		. "$ITEST_DIR/lib.sh" && . "$1" || exit 1
		shopt -s extdebug
		declare -F | awk '$3 ~ /^test_/ { print $3 }' | while read -r f; do
			declare -F "$f"
		done | sort -k2,2n | awk '{ print $1 }'
	)
}

# Everything this root's tests leave around: mounts, cgroups, processes.
leftover_mounts() { # root
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}
cg_base_of() { # root -> vz-<fnv1a> (same as libvz's paths.c)
	local s=$1 h=2166136261 i c
	while [ "${#s}" -gt 1 ] && [ "${s%/}" != "$s" ]; do s=${s%/}; done
	for ((i = 0; i < ${#s}; i++)); do
		LC_ALL=C printf -v c '%d' "'${s:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xFFFFFFFF ))
	done
	printf 'vz-%08x' "$h"
}
leftover_cgroups() { # root: this root's cgroup dirs, deepest first
	local base; base=$(cg_base_of "$1")
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$base" -prune 2>/dev/null |
		while read -r d; do find "$d" -depth -type d; done
}
leftover_procs() { # root: processes whose environment carries VZ_ROOT=root
	local f
	for f in /proc/[0-9]*/environ; do
		grep -qzxF "VZ_ROOT=$1" "$f" 2>/dev/null && { f=${f%/environ}; echo "${f#/proc/}"; }
	done
}
cg_snapshot() { ls -d /sys/fs/cgroup/*/vz-*/* /sys/fs/cgroup/vz-*/* 2>/dev/null | sort; }
CG_BEFORE=
san_env() { # bindir: the sanitizer settings when it is the ASan build
	if [ "$1" = "$ASAN_BIN_DIR" ]; then
		echo "ASAN_OPTIONS=$SAN_ASAN_OPTIONS:log_path=$OUT/san/asan"
		echo "UBSAN_OPTIONS=$SAN_UBSAN_OPTIONS:log_path=$OUT/san/ubsan"
	fi
}

# Stops and destroys what a test left, then checks nothing leaked and
# removes the root. Prints problems; returns 1 when something leaked.
cleanup_root() { # root bindir
	local root=$1 bin=$2 conf id bad=0 m p d new
	local -a senv
	mapfile -t senv < <(san_env "$bin")
	for conf in "$root"/etc/vz/conf/*.conf; do
		[ -e "$conf" ] || continue
		id=${conf##*/}; id=${id%.conf}
		[[ $id =~ ^[0-9]+$ ]] || continue
		env VZ_ROOT="$root" "${senv[@]}" timeout 60 "$bin/vzctl" stop "$id" --fast >/dev/null 2>&1
		env VZ_ROOT="$root" "${senv[@]}" timeout 60 "$bin/vzctl" umount "$id" >/dev/null 2>&1
		env VZ_ROOT="$root" "${senv[@]}" timeout 60 "$bin/vzctl" destroy "$id" >"$OUT/destroy.log" 2>&1 || {
			case $? in
			14) ;;
			*) echo "cleanup: 'vzctl destroy $id' failed: $(head -c 300 "$OUT/destroy.log")"; bad=1 ;;
			esac
		}
	done
	sleep 0.1
	new=$(comm -13 <(echo "$CG_BEFORE") <(cg_snapshot))
	new=$(grep -vF "/$(cg_base_of "$root")/" <<<"$new" | sed -n 's|^\(/sys/fs/cgroup/.*/vz-[^/]*\)/.*|\1|p' | sort -u | head -n 5)
	if [ -n "$new" ]; then
		echo "NOTE: new cgroups of other vz roots appeared meanwhile (another vz running?):"
		echo "$new" | sed 's/^/  /'
	fi
	p=$(leftover_procs "$root")
	if [ -n "$p" ]; then
		echo "LEAK: processes left behind by the test (killed now):"
		for d in $p; do echo "  $d: $(tr '\0' ' ' 2>/dev/null <"/proc/$d/cmdline")"; done
		kill -9 $p 2>/dev/null
		bad=1
	fi
	m=$(leftover_mounts "$root")
	if [ -n "$m" ]; then
		echo "LEAK: mounts left under $root (unmounted now):"
		echo "$m" | sed 's/^/  /'
		echo "$m" | sort -r | while read -r d; do umount -l "$d" 2>/dev/null; done
		bad=1
	fi
	d=$(leftover_cgroups "$root")
	if [ -n "$d" ]; then
		echo "LEAK: cgroups of $root left behind ($(cg_base_of "$root")) (removed now):"
		echo "$d" | sed 's/^/  /'
		local cg pid
		for cg in $d; do
			[ -r "$cg/cgroup.procs" ] || continue
			for pid in $(cat "$cg/cgroup.procs" 2>/dev/null); do
				echo "  process in $cg: $pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")"
				kill -9 "$pid" 2>/dev/null
			done
		done
		sleep 0.2
		for cg in $d; do rmdir "$cg" 2>/dev/null; done
		bad=1
	fi
	if [ -z "$(leftover_mounts "$root")" ]; then
		rm -rf --one-file-system "$root"
	else
		echo "cannot remove $root: still mounted"
		bad=1
	fi
	return $bad
}

run_one() { # file func display-name bindir
	local file=$1 func=$2 name=$3 bin=$4 root rc log=$OUT/test.log tmo
	# a file may ask for more time per test: "# vz-test-timeout: SECONDS"
	tmo=$(sed -n 's/^# vz-test-timeout: \([0-9][0-9]*\)$/\1/p' "$file" | head -n 1)
	tmo=${tmo:-$TIMEOUT}
	# mktemp makes it 0700: the CTs' mapped users cannot traverse it, and
	# vz must not need them to
	root=$(mktemp -d /var/tmp/vz-test.XXXXXX)
	CG_BEFORE=$(cg_snapshot)
	(
		cd "$root" || exit 1
		export VZ_ROOT=$root VZ_BIN_DIR=$bin
		while read -r kv; do [ -n "$kv" ] && export "${kv?}"; done < <(san_env "$bin")
		exec timeout -k 10 "$tmo" bash -c '
			. "$1" || exit 90
			. "$2" || exit 91
			"$3"' run-test "$ITEST_DIR/lib.sh" "$file" "$func" </dev/null
	) >"$log" 2>&1
	rc=$?
	case $rc in
	0) ;;
	124 | 137) echo "TIMEOUT: $func did not finish within ${tmo}s (exit $rc)" >>"$log" ;;
	*) echo "(test exited $rc)" >>"$log" ;;
	esac
	# a shell error in the test itself (typo, missing helper) must not pass
	if grep -Eq 'line [0-9]+: .*(command not found|syntax error|bad substitution|unbound variable|ambiguous redirect)' "$log"; then
		echo "TEST BUG: shell error in the test (see above)" >>"$log"
		[ "$rc" = 0 ] && rc=1
	fi
	if ! cleanup_root "$root" "$bin" >>"$log" 2>&1; then
		[ "$rc" = 0 ] && rc=1
	fi
	if compgen -G "$OUT/san/*" >/dev/null; then
		echo "SANITIZER reports:" >>"$log"
		cat "$OUT"/san/* >>"$log"
		rm -f "$OUT"/san/*
		[ "$rc" = 0 ] && rc=1
	fi
	if [ "$rc" = 0 ]; then report PASS "$name"; else report FAIL "$name" "$log"; fi
}

run_suite() { # bindir prefix
	local bin=$1 prefix=$2 file stem func any=0
	mkdir -p "$OUT/san"
	for file in "$ITEST_DIR"/test_*.sh "$REPO"/tests/security/test_*.sh; do
		[ -e "$file" ] || continue
		stem=${file##*/}; stem=${stem%.sh}
		local funcs
		if ! funcs=$(list_tests "$file" 2>"$OUT/list.log"); then
			selected "$prefix$stem" "$stem" && report FAIL "$prefix$stem (cannot source)" "$OUT/list.log"
			continue
		fi
		for func in $funcs; do
			selected "$prefix$func" "$stem" || continue
			if [ $any -eq 0 ] && [ ! -x "$bin/vzctl" ]; then
				echo "no executable $bin/vzctl" >"$OUT/test.log"
				report FAIL "${prefix}integration (tools missing)" "$OUT/test.log"
				return
			fi
			any=1
			run_one "$file" "$func" "$prefix$func" "$bin"
		done
	done
}

if [ "$(id -u)" -ne 0 ]; then
	echo "tests/run.sh: the integration tests need root" >&2
fi

run_units build ""
run_units build-asan ""
if [[ $PASSES == *" main "* ]]; then
	run_suite "$MAIN_BIN_DIR" ""
fi
if [[ $PASSES == *" asan "* ]] && [ -x "$ASAN_BIN_DIR/vzctl" ]; then
	run_suite "$ASAN_BIN_DIR" "asan:"
fi

echo "$npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
