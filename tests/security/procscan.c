/* The attacker of the helper race, run as root inside a CT: for a given
 * time it walks /proc as fast as it can and, for every process other than
 * itself, looks at its ids and tries what CT root would try on a host
 * helper that shows up in the CT: open its memory read-write, ptrace it.
 *
 *   procscan SECONDS
 *
 * Prints one line per finding and a summary:
 *   UNMAPPED pid comm        a process whose ids are outside the CT's map
 *   OPENED pid comm          its /proc/PID/mem opened read-write
 *   ATTACHED pid comm        PTRACE_SEIZE succeeded
 *   seen=N helpers=N unmapped=N opened=N attached=N execwin=N gone=N
 * "helpers" counts sightings of vz's own processes (comm vzctl) before
 * they ran a CT program: that the race was run at all. Only a helper that
 * is opened or attached while its memory is still vz's (its exe is
 * vzctl) counts as an escape: CT root may of course trace its own
 * programs, and a helper in the middle of execve has the CT program's
 * memory already, under the old name for a moment ("execwin"); one that
 * exited before it could be looked at is "gone".
 * Static: it needs nothing in the CT. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OVERFLOW_ID 65534u

static int read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/* real and effective uid and gid from status; -1 when gone */
static int ids_of(const char *pid, unsigned ids[4])
{
	char path[300], buf[4096];
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	if (read_small(path, buf, sizeof(buf)))
		return -1;
	const char *u = strstr(buf, "\nUid:");
	const char *g = strstr(buf, "\nGid:");
	if (!u || !g || sscanf(u + 5, "%u %u", &ids[0], &ids[1]) != 2 ||
	    sscanf(g + 5, "%u %u", &ids[2], &ids[3]) != 2)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: procscan SECONDS\n");
		return 2;
	}
	time_t end = time(NULL) + atoi(argv[1]);
	pid_t self = getpid();
	unsigned long seen = 0, helpers = 0, unmapped = 0, opened = 0, attached = 0, execwin = 0,
		      gone = 0;
	while (time(NULL) < end) {
		DIR *d = opendir("/proc");
		if (!d)
			return 1;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == self)
				continue;
			unsigned ids[4];
			char path[300], comm[64] = "";
			if (ids_of(e->d_name, ids))
				continue;
			seen++;
			snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
			(void)read_small(path, comm, sizeof(comm));
			comm[strcspn(comm, "\n")] = '\0';
			bool helper = !strcmp(comm, "vzctl");
			helpers += helper;
			bool outside = false;
			for (int i = 0; i < 4; i++)
				outside |= ids[i] == OVERFLOW_ID;
			if (outside) {
				unmapped++;
				printf("UNMAPPED %s %s\n", e->d_name, comm);
			}
			if (!helper && !outside)
				continue;
			snprintf(path, sizeof(path), "/proc/%s/mem", e->d_name);
			int fd = open(path, O_RDWR | O_CLOEXEC);
			pid_t pid = atoi(e->d_name);
			bool traced = ptrace(PTRACE_SEIZE, pid, 0, 0) == 0;
			if (fd < 0 && !traced)
				continue;
			/* hold it still (a seized tracee detaches only when
			 * stopped; left traced, its exit would wait for us, not
			 * its parent), then see whose memory it has: still vz's,
			 * or already the CT program's */
			int st = 0;
			bool stopped = traced && ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 &&
				       waitpid(pid, &st, __WALL) == pid && WIFSTOPPED(st);
			char exe[300] = "";
			snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
			ssize_t l = readlink(path, exe, sizeof(exe) - 1);
			exe[l > 0 ? l : 0] = '\0';
			const char *base = strrchr(exe, '/');
			base = base ? base + 1 : exe;
			if (l <= 0) {
				gone++; /* exited meanwhile: nothing to tell */
			} else if (strncmp(base, "vzctl", 5) && strncmp(base, "vzmigrate", 9)) {
				execwin++;
			} else {
				if (fd >= 0) {
					opened++;
					printf("OPENED %s %s %s\n", e->d_name, comm, exe);
				}
				if (traced) {
					attached++;
					printf("ATTACHED %s %s %s\n", e->d_name, comm, exe);
				}
			}
			if (fd >= 0)
				close(fd);
			if (stopped)
				(void)ptrace(PTRACE_DETACH, pid, 0, 0);
		}
		closedir(d);
	}
	printf("seen=%lu helpers=%lu unmapped=%lu opened=%lu attached=%lu execwin=%lu gone=%lu\n",
	       seen, helpers, unmapped, opened, attached, execwin, gone);
	fflush(stdout);
	return 0;
}
