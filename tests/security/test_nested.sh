# Nested containers inside an unprivileged Debian 12 CT keep working under
# vz's defences (the default seccomp filter, the masked /proc and /sys, the
# device allowlist and the default limits): util-linux unshare with every
# namespace a rootless runtime needs, crun running an OCI bundle and podman
# running a container from a local root tree (no registry is reachable).
# vz-test-timeout: 600
#
# The CT's template is the minimal Debian 12 one plus crun and podman. Its definition
# lives here, not in etc/templates: it is a test fixture. Like
# test_templates.sh, the build is made once per machine and per version of
# the definitions (the shipped ones and this one) and kept in
# $VZ_TEST_CACHE; the .deb files are shared with the other template tests.

TEST_CACHE=${VZ_TEST_CACHE:-/var/cache/vz-tests}
NEST_DEFS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../etc/templates" && pwd)
NEST_TMPL=debian-12-x86_64-nested
# netavark: podman's dependency on a "container-network-stack", a virtual
# package debootstrap cannot choose by itself
NEST_PKGS="crun podman netavark"

nest_definition() {
	sed -e "s|^PACKAGES=\"\(.*\)\"|PACKAGES=\"\1 $NEST_PKGS\"|" \
		-e '1s|.*|# vz test template: Debian 12 minimal with a nested OCI runtime|' \
		"$NEST_DEFS/debian-12-x86_64-minimal.conf"
}

# use_nested_template: this root knows the template and its TEMPLATE dir is
# the machine's cache of it (the first create on a machine builds it)
use_nested_template() {
	local h d
	h=$( (cat "$NEST_DEFS"/*; nest_definition) | sha256sum | cut -c1-12)
	d=$TEST_CACHE/nested-$h
	mkdir -p "$d" "$TEST_CACHE/packages" || fail "cannot create $d"
	[ -e "$d/packages" ] || ln -s "$TEST_CACHE/packages" "$d/packages"
	find "$TEST_CACHE" -maxdepth 1 -name 'nested-*' ! -path "$d" -mtime +2 \
		-exec rm -rf --one-file-system {} + 2>/dev/null
	touch "$d"
	vzlist -a >/dev/null # makes this root's etc/vz
	nest_definition >"$VZ_ROOT/etc/vz/templates/$NEST_TMPL.conf" ||
		fail "cannot write the template definition"
	mkdir -p "$VZ_ROOT/vz" && ln -sfn "$d" "$VZ_ROOT/vz/template" || fail "cannot link $d"
}

# mk_nested_ct ID [create options]: a running Debian CT with crun, made
# with vz's defaults (nothing relaxed for nesting)
mk_nested_ct() {
	local id=$1; shift
	use_nested_template
	expect_code 0 vzctl create "$id" --ostemplate "$NEST_TMPL" "$@"
	expect_code 0 vzctl start "$id"
}

# nested_ct ID: a CT made from the nested template, with a root tree for
# nested containers in /srv/rootfs (a static busybox; /srv, not /root: a
# container's mapped root must be able to reach it) and the generator of
# an OCI bundle's config.json; started
nested_ct() {
	local id=$1
	use_nested_template
	expect_code 0 vzctl create "$id" --ostemplate "$NEST_TMPL"
	local bb
	bb=$(command -v busybox) || fail "no busybox on the host (busybox-static)"
	ct_put_file "$id" /srv/rootfs/bin/busybox 755 <"$bb"
	ct_put_file "$id" /root/mkcfg 755 <<'SH'
#!/bin/sh
# mkcfg USERNS(0|1) COMMAND: an OCI config.json running `sh -c COMMAND` in
# new pid, net, ipc, uts and mount namespaces (and a user namespace
# mapping 0-999 to the CT's 1000-1999 when USERNS is 1), with a fresh
# proc, sysfs and tmpfs: what podman's default config asks of crun
set -eu
ns='{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}'
maps=
if [ "$1" = 1 ]; then
	ns="$ns, {\"type\": \"user\"}"
	maps='"uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1000}],
		"gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1000}],'
fi
cmd=$(printf '%s' "$2" | tr '\n\t' '  ' | sed 's/\\/\\\\/g; s/"/\\"/g')
cat <<JSON
{
	"ociVersion": "1.0.0",
	"process": {
		"terminal": false,
		"user": {"uid": 0, "gid": 0},
		"args": ["sh", "-c", "$cmd"],
		"env": ["PATH=/bin"],
		"cwd": "/",
		"noNewPrivileges": true
	},
	"root": {"path": "/srv/rootfs", "readonly": true},
	"hostname": "nested",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755", "size=1m"]},
		{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "size=1m"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
	],
	"linux": {
		$maps
		"namespaces": [$ns],
		"maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
		"readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
	}
}
JSON
SH
	expect_code 0 vzctl start "$id"
	in_ct "$id" 'mkdir -p /root/bundle && cd /srv/rootfs && for d in proc sys dev tmp; do mkdir -p $d; done &&
		for a in sh cat grep hostname ip ls touch wc id; do ln -sf busybox bin/$a; done'
}

# crun_in_ct ID NAME USERNS COMMAND: runs COMMAND in a new OCI container
# NAME from the bundle; its output is $LAST_OUT. crun refuses a "hybrid"
# cgroup layout (a cgroup2 hierarchy with a controller at
# /sys/fs/cgroup/unified, as a CT on a cgroup v1 host has, with hugetlb
# there): crun runs in a mount namespace of its own without that mount, so
# it sees plain v1. The container stays in the CT's cgroups and limits.
crun_in_ct() {
	local id=$1 name=$2 userns=$3 cmd=$4
	expect_code 0 vzctl exec2 "$id" "cd /root/bundle && /root/mkcfg $userns '$cmd' >config.json &&
		exec unshare -m sh -c 'if grep -q \" /sys/fs/cgroup/unified \" /proc/self/mountinfo; then
			umount /sys/fs/cgroup/unified; fi; exec crun run $name'"
}

# The CT runs under every default defence: nothing is relaxed for nesting.
assert_defended() {
	in_ct "$1" 'grep "^Seccomp:" /proc/self/status; grep -c " /proc/keys " /proc/self/mountinfo'
	assert_eq "$LAST_OUT" $'Seccomp:\t2\n1' "the CT's filter and masked /proc/keys"
	grep -Eq '^(NUMPROC|PHYSPAGES)=' "$VZ_ROOT/etc/vz/conf/$1.conf" ||
		fail "CT $1 has no default limits: $(cat "$VZ_ROOT/etc/vz/conf/$1.conf")"
}

test_unshare_makes_user_pid_mount_net_uts_ipc_namespaces_inside_a_debian_ct() {
	nested_ct 101
	assert_defended 101
	# as CT root: every namespace a rootless runtime makes, a tmpfs, a
	# hostname, a network with only lo, the caller mapped to root
	in_ct 101 'unshare -Urnium --fork --pid sh -c "
		mount -t tmpfs t /mnt && echo x >/mnt/f && cat /mnt/f &&
		hostname inner && hostname && echo pid \$\$ &&
		ip -o link | cut -d: -f2 | tr -d \" \" &&
		cat /proc/self/uid_map | tr -s \" \" && ipcmk -Q >/dev/null && ipcs -q | grep -c 0x"'
	assert_eq "$LAST_OUT" $'x\ninner\npid 1\nlo\n 0 0 1\n1' "inside unshare -Urnium"
	in_ct 101 'hostname; ipcs -q | grep -c 0x || true'
	assert_eq "$LAST_OUT" $'localhost\n0' "the CT's own hostname and IPC, untouched"
	# a nested pid 1 with a proc of its own (without a user namespace of
	# its own, CT root's mounts in its own mount namespace are not locked)
	in_ct 101 'unshare -pf --mount-proc sh -c "echo pid \$\$; set -- /proc/[0-9]*; echo \$#"'
	assert_eq "$LAST_OUT" $'pid 1\n1' "the nested pid namespace's own proc"
}

# In a user namespace of its own, a fresh proc is refused by the kernel
# while the only proc in the mount namespace has mounts over its files (vz's
# masks, lxcfs's files): see docs/security.md "Nested containers". A proc
# without such mounts, as LXC's nesting mounts at /dev/.lxc/proc, lifts it.
test_a_nested_user_namespace_mounts_proc_once_a_full_proc_is_visible() {
	nested_ct 101
	assert_defended 101
	expect_code 1 vzctl exec2 101 'unshare -Urpf --mount-proc true'
	assert_contains "$LAST_ERR" "mount /proc failed: Operation not permitted" "unshare -Urpf --mount-proc"
	expect_code 32 vzctl exec2 101 'unshare -Urpfm mount -t proc -o nosuid,nodev,noexec proc /proc'
	expect_code 32 vzctl exec2 101 'unshare -Urpfm mount -t proc -o subset=pid proc /proc'
	# CT root may mount a proc of its own pid namespace anywhere in its
	# own mount namespace: then the nested one is allowed
	in_ct 101 'mkdir -p /dev/.lxc/proc && mount -t proc -o nosuid,nodev,noexec proc /dev/.lxc/proc'
	in_ct 101 'unshare -Urpf --mount-proc sh -c "echo pid \$\$; set -- /proc/[0-9]*; echo \$#"'
	assert_eq "$LAST_OUT" $'pid 1\n1' "the nested user and pid namespaces' own proc"
}

test_crun_runs_an_oci_container_inside_a_debian_ct() {
	nested_ct 101
	assert_defended 101
	# as CT root, the namespaces of podman's default config; plain
	# `crun run`: its keyring call gets ENOSYS from the CT's filter
	crun_in_ct 101 c1 0 'echo pid $$ $(hostname); set -- /proc/[0-9]*; echo $#; ip -o link | wc -l;
		echo x >/tmp/f && cat /tmp/f; touch /x 2>/dev/null || echo ro;
		grep "^Seccomp:" /proc/self/status; sed -n "/pids/p" /proc/self/cgroup'
	note "crun, CT root: $(tr '\n' ' ' <<<"$LAST_OUT")"
	assert_eq "$(sed -n 1,6p <<<"$LAST_OUT")" $'pid 1 nested\n1\n1\nx\nro\nSeccomp:\t2' "the container crun ran"
	# with a user namespace too (ids 1000-1999 of the CT), once a full
	# proc is visible (see the previous test; NESTING="yes" mounts it)
	in_ct 101 'chown -R 1000:1000 /srv/rootfs'
	expect_code 1 vzctl exec2 101 "cd /root/bundle && /root/mkcfg 1 'true' >config.json &&
		unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun run c2'"
	assert_contains "$LAST_ERR" "mount \`proc\` to \`proc\`: Operation not permitted" "crun with a user namespace"
	in_ct 101 'mkdir -p /dev/.lxc/proc && mount -t proc -o nosuid,nodev,noexec proc /dev/.lxc/proc'
	crun_in_ct 101 c3 1 'echo pid $$; cat /proc/self/uid_map | tr -s " "; id -u; set -- /proc/[0-9]*; echo $#'
	assert_eq "$LAST_OUT" $'pid 1\n 0 1000 1000\n0\n1' "the container crun ran in a user namespace"
	in_ct 101 'crun list -q | wc -l'
	assert_eq "$LAST_OUT" 0 "containers left"
}

# podman as CT root, from a local root tree (--rootfs), storage "vfs"
# (nothing to pull), no network (netavark's bridge needs iptables), and no
# cgroup of its own: podman asks crun for one in every hierarchy of
# /proc/self/cgroup, the cgroup2 one included, which the hybrid layout
# refuses (see crun_in_ct)
podman_in_ct() { # ID OPTIONS COMMAND (no single quotes in either)
	expect_code 0 vzctl exec2 "$1" "exec unshare -m sh -c 'if grep -q \" /sys/fs/cgroup/unified \" /proc/self/mountinfo; then
		umount /sys/fs/cgroup/unified; fi; exec podman --storage-driver vfs --cgroup-manager cgroupfs \\
		--events-backend file run --rm --cgroups=disabled --network none $2 --rootfs /srv/rootfs $3'"
}

test_podman_runs_a_container_from_a_local_root_tree_inside_a_debian_ct() {
	nested_ct 101
	assert_defended 101
	podman_in_ct 101 "--hostname inner" 'sh -c "echo pid \$\$ \$(hostname); set -- /proc/[0-9]*; echo \$#; ip -o link | wc -l; grep ^Seccomp: /proc/self/status"'
	assert_eq "$LAST_OUT" $'pid 1 inner\n1\n1\nSeccomp:\t2' "the container podman ran"
	# and in a user namespace of its own (ids 1000-1999 of the CT), once a
	# full proc is visible
	in_ct 101 'chown -R 1000:1000 /srv/rootfs'
	expect_code 126 vzctl exec2 101 "unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null;
		exec podman --storage-driver vfs --cgroup-manager cgroupfs --events-backend file run --rm \\
		--cgroups=disabled --network none --uidmap 0:1000:1000 --gidmap 0:1000:1000 --rootfs /srv/rootfs true'"
	assert_contains "$LAST_ERR" "mount \`proc\` to \`proc\`: Operation not permitted" "podman with a user namespace"
	in_ct 101 'mkdir -p /dev/.lxc/proc && mount -t proc -o nosuid,nodev,noexec proc /dev/.lxc/proc'
	podman_in_ct 101 "--uidmap 0:1000:1000 --gidmap 0:1000:1000" 'sh -c "echo pid \$\$; cat /proc/self/uid_map | tr -s \" \"; id -u"'
	assert_eq "$LAST_OUT" $'pid 1\n 0 1000 1000\n0' "the container podman ran in a user namespace"
	in_ct 101 'podman --storage-driver vfs ps -aq | wc -l'
	assert_eq "$LAST_OUT" 0 "containers left"
}

# NESTING="yes" does LXC's nesting: an unmasked proc (and sysfs) at
# /dev/.lxc, so nested user namespaces mount their own without CT root's
# help; the CT's /proc keeps its masks.
test_nesting_yes_lets_nested_user_namespaces_mount_proc() {
	use_nested_template
	expect_code 0 vzctl create 101 --ostemplate "$NEST_TMPL"
	local conf="$VZ_ROOT/etc/vz/conf/101.conf"
	echo 'NESTING="maybe"' >>"$conf"
	expect_code 85 vzctl start 101
	assert_one_line_error "NESTING"
	expect_status 101 "exist unmounted down"
	sed -i '/^NESTING=/d' "$conf" && echo 'NESTING="yes"' >>"$conf"
	expect_code 0 vzctl start 101
	assert_defended 101
	in_ct 101 'grep -E " /dev/\.lxc/(proc|sys) " /proc/self/mountinfo | cut -d" " -f5,6,9 | sort'
	assert_eq "$LAST_OUT" $'/dev/.lxc/proc rw,nosuid,nodev,noexec,relatime proc\n/dev/.lxc/sys ro,nosuid,nodev,noexec,relatime sysfs' "the nesting mounts"
	in_ct 101 'unshare -Urpf --mount-proc sh -c "echo pid \$\$; set -- /proc/[0-9]*; echo \$#"'
	assert_eq "$LAST_OUT" $'pid 1\n1' "a nested user and pid namespace's own proc"
	# a new sysfs too, in a nested user and network namespace
	in_ct 101 'unshare -Urnm sh -c "mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys && ls /sys/class/net"'
	assert_eq "$LAST_OUT" lo "a nested network namespace's own sysfs"
	# and after a restart (init made again), a checkpoint and a restore
	expect_code 0 vzctl restart 101
	# booted before it is frozen: criu once timed out freezing a CT still
	# running its boot scripts (ASan's pace, a loaded host)
	wait_until 60 vzctl exec2 101 'case $(runlevel 2>/dev/null) in *[0-9]) exit 0;; esac; test -e /run/vz-booted' ||
		fail "101 did not finish booting after the restart"
	in_ct 101 'unshare -Urpf --mount-proc true'
	expect_code 0 vzctl chkpnt 101
	expect_code 0 vzctl restore 101
	in_ct 101 'grep -c " /dev/\.lxc/proc " /proc/self/mountinfo; unshare -Urpf --mount-proc true'
	assert_eq "$LAST_OUT" 1 "the nesting proc after a restore"
	expect_code 0 vzctl stop 101
	# without it: refused (test_a_nested_user_namespace_mounts_proc...)
	sed -i '/^NESTING=/d' "$conf"
	expect_code 0 vzctl start 101
	expect_code 1 vzctl exec2 101 'unshare -Urpf --mount-proc true'
	expect_code 32 vzctl exec2 101 'unshare -Urnm mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys'
	expect_code 1 vzctl exec2 101 'test -e /dev/.lxc'
}
