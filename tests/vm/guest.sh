#!/bin/sh
# PID 1 of the cgroup v2 test VM, second stage (tests/vm/init hands over):
# a pure cgroup v2 host as systemd would make it (cgroup2 alone at
# /sys/fs/cgroup, controllers enabled at the root, no process left in the
# root cgroup), then the chosen integration tests (tests/run.sh) with their
# output on the second serial port, and power off. A shell as PID 1 reaps
# the orphans vz leaves to init (its monitors), as init must: it waits for
# any child while the tests run in the foreground.
set -eu
# shellcheck source=/dev/null # written by tests/vm/cgroup2.sh
. /.vm/conf
out=/dev/ttyS1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
# /run, /var/log and /var/tmp are mounted by tests/vm/init, under the
# repository's own path; /tmp is on the root tmpfs
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs shm /dev/shm
# what udev would add: bash's process substitution needs /dev/fd
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
# systemd's options: nsdelegate makes a cgroup namespace a delegation
# boundary, which is what a CT's cgroup namespace meets on a real v2 host
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
echo "+cpu +cpuset +io +memory +pids" >/sys/fs/cgroup/cgroup.subtree_control
mkdir /sys/fs/cgroup/init.scope /sys/fs/cgroup/vztest.scope
echo $$ >/sys/fs/cgroup/init.scope/cgroup.procs
hostname vzvm
ip link set lo up

status=0
{
	echo "VM kernel $(uname -r), $(nproc) CPUs, cgroup2 controllers:" \
		"$(cat /sys/fs/cgroup/cgroup.subtree_control)"
	grep cgroup /proc/self/mountinfo
} >$out 2>&1
(
	# "0": the writer itself, this subshell, in a leaf as systemd's units are
	echo 0 >/sys/fs/cgroup/vztest.scope/cgroup.procs
	cd "$VM_REPO"
	# shellcheck disable=SC2153 # VM_* come from the conf
	export VZ_BIN_DIR="$VM_BIN" RUN_TESTS="$VM_TESTS" VZ_TEST_TIMEOUT="$VM_TEST_TIMEOUT"
	export VZ_TEST_PASSES="$VM_PASSES" HOME=/root
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	if [ -n "$VM_RUN" ]; then exec bash -c "$VM_RUN"; fi
	exec bash tests/run.sh
) >$out 2>&1 </dev/null || status=$?
echo "VZ-VM-RESULT $status" >$out
sync
exec busybox poweroff -f
