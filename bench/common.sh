# Sourced by the Debian-template benches (templates.sh, density.sh): their
# common preconditions, the tools, a clock, and the template they measure,
# built once into the bench's own root unless BENCH_TEMPLATE_DIR has it.
# The sourcing script sets BENCH (its name, for messages) and N first.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
die() { echo "$BENCH: $*" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "must run as root"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer"
VZCTL=${VZCTL:-$REPO/build/vzctl}
VZTMPL=${VZTMPL:-$REPO/build/vztmpl}
[[ -x $VZCTL ]] || VZCTL=$(command -v vzctl) || die "no vzctl (make first)"
[[ -x $VZTMPL ]] || VZTMPL=$(command -v vztmpl) || die "no vztmpl (make first)"

now() { echo "${EPOCHREALTIME/./}"; } # microseconds, no fork
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { awk -v u="$1" 'BEGIN {printf "%.1f", u/1000}'; }

# bench_template TMPL LOG: the template's layer in $VZ_ROOT (made here once)
bench_template() {
	mkdir -p "$VZ_ROOT/vz"
	[[ -n ${BENCH_TEMPLATE_DIR:-} ]] && ln -s "$BENCH_TEMPLATE_DIR" "$VZ_ROOT/vz/template"
	"$VZTMPL" list >/dev/null || die "vztmpl list failed"
	if [[ ! -e $VZ_ROOT/vz/template/layers/$1 ]]; then
		echo "building $1 once (not timed)..."
		"$VZTMPL" build "$1" >"$2" 2>&1 || { tail -n 3 "$2"; exit 1; }
	fi
}
