# Post-copy page traffic is not open to local users: on the source, criu's
# page server (which hands out the CT's memory to whoever asks) has no TCP
# port, nor has the destination's relay that criu lazy-pages talks to:
# each criu talks over a socketpair whose other end vzmigrate holds.
# vz-test-timeout: 300

# the two "hosts" and the workload CT of the migration tests, without
# their tests
# shellcheck source=tests/integration/test_migrate.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/test_migrate.sh"
for f in $(declare -F | awk '$3 ~ /^test_/ { print $3 }'); do
	unset -f "$f"
done
unset f

# "criu PID" for each criu process (source and destination), and "listen
# PID PORT" for each TCP socket in LISTEN (st 0A) that it or a vzmigrate
# (the relays) holds, seen in its own network namespace. vz may run criu
# through its loader (comm is then ld-linux's): a criu is a process with
# an argument ending in /criu.
criu_tcp_listeners() {
	local c pid l ino a
	local -A mine
	for c in /proc/[0-9]*/cmdline; do
		pid=${c#/proc/}; pid=${pid%/cmdline}
		a=0
		while IFS= read -r -d '' l; do
			case $l in
			criu | */criu) a=1; break ;;
			*/vzmigrate) a=2; break ;;
			esac
		done 2>/dev/null <"$c"
		[ "$a" = 0 ] && continue
		[ "$a" = 1 ] && echo "criu $pid"
		mine=()
		for l in /proc/"$pid"/fd/*; do
			l=$(readlink "$l" 2>/dev/null) || continue
			case $l in socket:\[*\]) ino=${l#socket:[}; mine[${ino%]}]=1 ;; esac
		done
		[ "${#mine[@]}" -gt 0 ] || continue
		# sl local rem st tx:rx tr:tm retr uid timeout inode
		cat /proc/"$pid"/net/tcp /proc/"$pid"/net/tcp6 2>/dev/null |
			while read -r _ loc _ st _ _ _ _ _ ino _; do
				[ "$st" = 0A ] && [ -n "${mine[$ino]:-}" ] &&
					echo "listen $pid $((16#${loc##*:}))"
			done
	done
}

test_postcopy_page_traffic_listens_on_no_tcp_port() {
	mig_setup
	mig_ct 101 198.18.0.2 64 20
	local seen=$VZ_ROOT/.test/listeners mig scans=0
	: >"$seen"
	vzmigrate --online --strategy postcopy --dst-root "$DROOT" "netns:$DST" 101 \
		>"$VZ_ROOT/.test/mig.out" 2>&1 &
	mig=$!
	# the page server runs from the end of the dump until the destination
	# has all pages: watch the whole migration
	while kill -0 "$mig" 2>/dev/null; do
		criu_tcp_listeners >>"$seen"
		scans=$((scans + 1))
	done
	wait "$mig" || fail "the migration failed: $(cat "$VZ_ROOT/.test/mig.out")"
	assert_contains "$(cat "$VZ_ROOT/.test/mig.out")" "post-copy" "the report"
	# the watch saw criu at work, else it proves nothing
	if [ "$scans" -lt 3 ] || ! grep -q '^criu ' "$seen"; then
		fail "no criu process seen in $scans looks during the migration"
	fi
	! grep -q '^listen ' "$seen" ||
		fail "criu or a relay listened on TCP during the migration: $(grep '^listen ' "$seen" | sort -u | tr '\n' ' ')"
	dvzctl status 101 >"$VZ_ROOT/.test/st" 2>&1
	assert_eq "$(cat "$VZ_ROOT/.test/st")" "CTID 101 exist mounted running" "status on the destination"
}
