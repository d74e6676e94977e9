# Helpers for the integration tests; sourced by tests/run.sh before a test
# file. Every test runs in a process of its own with a fresh, exported
# VZ_ROOT; `fail` ends that test.
#
# VZ_BIN_DIR: where vzctl and vzlist are (default /usr/local/sbin).

: "${VZ_BIN_DIR:=/usr/local/sbin}"
TEMPLATE_NAME=${TEMPLATE_NAME:-busybox}

vzctl() { "$VZ_BIN_DIR/vzctl" "$@"; }
vzlist() { "$VZ_BIN_DIR/vzlist" "$@"; }

# Scratch directory of the running test (next to VZ_ROOT, removed with it).
scratch() {
	local d="$VZ_ROOT/.test"
	mkdir -p "$d" && echo "$d"
}

fail() {
	echo "FAILED: $*" >&2
	local i
	for ((i = 1; i < ${#FUNCNAME[@]}; i++)); do
		[[ ${FUNCNAME[i]} == test_* ]] && { echo "  in ${FUNCNAME[i]} (${BASH_SOURCE[i]##*/}:${BASH_LINENO[i-1]})" >&2; break; }
	done
	exit 1
}

note() { echo "# $*"; }

# expect_code N cmd...: runs cmd (stdout and stderr shown), fails unless it
# exits with N. N may be a list "27|20".
LAST_OUT= LAST_ERR= LAST_CODE=
expect_code() {
	local want=$1; shift
	local d; d=$(scratch)
	"$@" >"$d/out" 2>"$d/err"
	LAST_CODE=$?
	LAST_OUT=$(cat "$d/out")
	LAST_ERR=$(cat "$d/err")
	if [[ "|$want|" != *"|$LAST_CODE|"* ]]; then
		echo "--- stdout of: $*" >&2; sed 's/^/  | /' "$d/out" >&2
		echo "--- stderr of: $*" >&2; sed 's/^/  | /' "$d/err" >&2
		fail "'$*' exited $LAST_CODE, expected $want"
	fi
}

# run_cmd cmd...: like expect_code but never fails; sets LAST_*.
run_cmd() {
	local d; d=$(scratch)
	"$@" >"$d/out" 2>"$d/err"
	LAST_CODE=$?
	LAST_OUT=$(cat "$d/out")
	LAST_ERR=$(cat "$d/err")
	return 0
}

# expect_output_contains STRING cmd...: cmd must exit 0 and print STRING
# (fixed string) on stdout.
expect_output_contains() {
	local s=$1; shift
	expect_code 0 "$@"
	grep -qF -- "$s" <<<"$LAST_OUT" ||
		fail "output of '$*' lacks '$s'; got: $(printf '%q' "$LAST_OUT")"
}

# expect_output_is EXACT cmd...: cmd exits 0 and its stdout is EXACT.
expect_output_is() {
	local s=$1; shift
	expect_code 0 "$@"
	[ "$LAST_OUT" = "$s" ] ||
		fail "output of '$*' is $(printf '%q' "$LAST_OUT"), expected $(printf '%q' "$s")"
}

assert_eq() { # assert_eq ACTUAL EXPECTED WHAT
	[ "$1" = "$2" ] || fail "${3:-value}: got $(printf '%q' "$1"), expected $(printf '%q' "$2")"
}
assert_ne() {
	[ "$1" != "$2" ] || fail "${3:-value}: got $(printf '%q' "$1"), expected something else"
}
assert_match() { # assert_match STRING ERE WHAT
	[[ $1 =~ $2 ]] || fail "${3:-value} $(printf '%q' "$1") does not match /$2/"
}
assert_contains() { # assert_contains HAYSTACK NEEDLE WHAT
	grep -qF -- "$2" <<<"$1" || fail "${3:-text} lacks '$2': $(printf '%q' "$1")"
}
assert_not_contains() {
	! grep -qF -- "$2" <<<"$1" || fail "${3:-text} contains '$2': $(printf '%q' "$1")"
}

# The last command's stderr is exactly one line and mentions STRING.
assert_one_line_error() {
	local s=$1 n
	n=$(printf '%s' "$LAST_ERR" | grep -c '')
	[ "$n" -eq 1 ] || fail "expected one line on stderr, got $n: $(printf '%q' "$LAST_ERR")"
	grep -qF -- "$s" <<<"$LAST_ERR" || fail "stderr does not name '$s': $(printf '%q' "$LAST_ERR")"
}

# wait_until TIMEOUT_S cmd...: polls cmd (every 0.2 s) until it succeeds.
wait_until() {
	local t=$1; shift
	local end=$((SECONDS + t))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.2
	done
}

# fg_job CMD...: CMD as a terminal runs its foreground job, in a process
# group of its own with SIGINT at its default (a script's background job
# has it ignored), so that `kill -INT -- -PID` is a Ctrl-C.
fg_job() {
	exec python3 -c 'import os, signal, sys
os.setpgid(0, 0)
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# until_file TIMEOUT_S FILE [PATTERN]: waits (polling every 10 ms) until
# FILE exists and, with PATTERN, has a line matching it
until_file() {
	local end=$((SECONDS + $1)) f=$2 pat=${3:-}
	while [ $SECONDS -lt "$end" ]; do
		if [ -e "$f" ] && { [ -z "$pat" ] || grep -q -- "$pat" "$f"; }; then
			return 0
		fi
		sleep 0.01
	done
	return 1
}

# mk_ct ID [create options]: creates a CT from the busybox template.
mk_ct() {
	local id=$1; shift
	expect_code 0 vzctl create "$id" --ostemplate "$TEMPLATE_NAME" "$@"
}

# mk_running_ct ID [create options]
mk_running_ct() {
	mk_ct "$@"
	expect_code 0 vzctl start "$1"
}

# expect_named_status NAME ID "exist ...": status by name prints the number
expect_named_status() {
	expect_output_is "CTID $2 $3" vzctl status "$1"
}

# ct_put_file ID PATH MODE < content: writes a file into a stopped CT by
# way of its private area (the overlayfs upper layer), not the mounted view;
# under a disk limit (the default) the upper layer is in upper.img, seen at
# private/ID/mnt while the CT is mounted.
ct_put_file() {
	local up="$VZ_ROOT/vz/private/$1/fs" img=""
	if [ ! -d "$up" ] && [ -f "$VZ_ROOT/vz/private/$1/upper.img" ]; then
		img=1 up="$VZ_ROOT/vz/private/$1/mnt/fs"
		vzctl mount "$1" >/dev/null || fail "cannot mount CT $1"
	fi
	local f="$up$2"
	[ -d "$up" ] || fail "no $up"
	mkdir -p "${f%/*}" && rm -f "$f" && cat >"$f" && chmod "$3" "$f" || fail "cannot write $f"
	[ -z "$img" ] || vzctl umount "$1" >/dev/null || fail "cannot umount CT $1"
}

ct_status() { vzctl status "$1" 2>&1; }

status_is() { [ "$(vzctl status "$1" 2>/dev/null)" = "CTID $1 $2" ]; }

expect_status() { # expect_status ID "exist mounted running"
	expect_output_is "CTID $1 $2" vzctl status "$1"
}

state_file() { echo "$VZ_ROOT/run/vz/$1.state"; }

# INIT_PID from the CT's state file ("" when absent).
init_pid() {
	local f; f=$(state_file "$1")
	[ -r "$f" ] || return 0
	sed -n 's/^INIT_PID="\{0,1\}\([0-9]*\)"\{0,1\}[[:space:]]*$/\1/p' "$f" | head -n1
}

pid_alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# The cgroup parent of this VZ_ROOT: vz-<fnv1a-32 of the root path>.
cg_base() {
	local s=$VZ_ROOT h=2166136261 i c
	while [ "${#s}" -gt 1 ] && [ "${s%/}" != "$s" ]; do s=${s%/}; done
	for ((i = 0; i < ${#s}; i++)); do
		LC_ALL=C printf -v c '%d' "'${s:i:1}"
		h=$(( ((h ^ c) * 16777619) & 0xFFFFFFFF ))
	done
	printf 'vz-%08x' "$h"
}

# Directories that are this root's cgroup parent, in every hierarchy.
cg_base_dirs() {
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$(cg_base)" -prune 2>/dev/null
}

# The CT's cgroup directories that exist now.
ct_cgroup_dirs() {
	local d
	for d in $(cg_base_dirs); do
		[ -d "$d/$1" ] && echo "$d/$1"
	done
}

# Mount points under DIR (default: VZ_ROOT) in this mount namespace.
mounts_under() {
	local dir=${1:-$VZ_ROOT}
	awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# Host pids of the CT's inits: processes in the CT's cgroup whose pid in
# their innermost pid namespace is 1.
ct_inits() {
	local id=$1 base p ns
	base=$(cg_base)
	for p in /proc/[0-9]*; do
		grep -q "/$base/$id\$" "$p/cgroup" 2>/dev/null || continue
		ns=$(awk '/^NSpid:/ { print $NF }' "$p/status" 2>/dev/null)
		[ "$ns" = 1 ] && echo "${p#/proc/}"
	done
}

# Fails unless the CT is down with nothing left behind: status says down,
# no mounts at its root, no cgroup, its old init (if given) is gone.
assert_ct_clean() {
	local id=$1 oldinit=${2:-} m c
	expect_code 0 vzctl status "$id"
	assert_match "$LAST_OUT" "^CTID $id (exist|deleted) unmounted down( suspended)?\$" "status of $id"
	m=$(mounts_under "$VZ_ROOT/vz/root/$id")
	[ -z "$m" ] || fail "CT $id is down but mounts remain: $m"
	c=$(ct_cgroup_dirs "$id")
	[ -z "$c" ] || fail "CT $id is down but cgroups remain: $c"
	if [ -n "$oldinit" ] && pid_alive "$oldinit"; then
		fail "CT $id is down but its init $oldinit still runs"
	fi
	c=$(ct_inits "$id")
	[ -z "$c" ] || fail "CT $id is down but init processes remain: $c"
}

# in_ct ID 'shell': runs the snippet in the CT (exec2), which must exit 0;
# its stdout is in $LAST_OUT. Never call it (or any helper that can fail)
# inside $(...) or a pipeline: `fail` would only end that subshell.
in_ct() {
	local id=$1; shift
	expect_code 0 vzctl exec2 "$id" "$*"
}
