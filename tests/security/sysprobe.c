/* Tries system calls and prints "name errno" a line (0: it worked), for
 * the seccomp tests; built static by the test and run inside a CT.
 *   sysprobe deny     the calls the default profile denies
 *   sysprobe sysinfo  "native MiB" and "i386 MiB": sysinfo's total RAM
 *                     through the x86_64 and the i386 (int 0x80) ABIs
 *   sysprobe NAME     one call of those */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

static long r_errno(long r)
{
	return r < 0 ? errno : 0;
}

#if defined(__x86_64__)
/* i386 system calls from a 64-bit process: arguments below 4 GiB */
static long int80(long nr, long a, long b, long c, long d, long e)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}
static char i386_buf[128];       /* static: in the low 4 GiB of a static binary */
static char i386_key_type[] = "user", i386_key_desc[] = "vztest32", i386_key_data[] = "x";
#endif

static long probe(const char *n)
{
	if (!strcmp(n, "init_module"))
		return r_errno(syscall(SYS_init_module, NULL, 0, ""));
	if (!strcmp(n, "finit_module"))
		return r_errno(syscall(SYS_finit_module, -1, "", 0));
	if (!strcmp(n, "delete_module"))
		return r_errno(syscall(SYS_delete_module, "vz_none", 0));
	if (!strcmp(n, "kexec_load"))
		return r_errno(syscall(SYS_kexec_load, 0, 0, NULL, 0));
	if (!strcmp(n, "kexec_file_load"))
		return r_errno(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0));
	if (!strcmp(n, "open_by_handle_at")) {
		char h[sizeof(unsigned int) * 2 + 8] = {0};
		return r_errno(syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY));
	}
	if (!strcmp(n, "add_key")) /* allowed to anyone by the kernel */
		return r_errno(syscall(SYS_add_key, "user", "vztest", "x", 1,
				       KEY_SPEC_PROCESS_KEYRING));
	if (!strcmp(n, "keyctl"))
		return r_errno(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID,
				       KEY_SPEC_PROCESS_KEYRING, 1));
	if (!strcmp(n, "perf_event_open")) { /* own task, user space only */
		struct perf_event_attr a = {.type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
					    .config = PERF_COUNT_SW_TASK_CLOCK,
					    .exclude_kernel = 1, .exclude_hv = 1};
		return r_errno(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0));
	}
	if (!strcmp(n, "userfaultfd")) /* user-mode faults: unprivileged */
		return r_errno(syscall(SYS_userfaultfd, O_CLOEXEC | 1 /* UFFD_USER_MODE_ONLY */));
	if (!strcmp(n, "io_uring_setup")) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		return r_errno(syscall(SYS_io_uring_setup, 1, &p));
	}
	if (!strcmp(n, "bpf"))
		return r_errno(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0));
	if (!strcmp(n, "personality_page_zero")) {
		long r = r_errno(syscall(SYS_personality, MMAP_PAGE_ZERO));
		(void)syscall(SYS_personality, PER_LINUX);
		return r;
	}
	if (!strcmp(n, "personality_query")) /* must stay allowed */
		return r_errno(syscall(SYS_personality, 0xffffffffUL));
	if (!strcmp(n, "swapon"))
		return r_errno(syscall(SYS_swapon, "/nonexistent", 0));
	if (!strcmp(n, "syslog"))
		return r_errno(syscall(SYS_syslog, 10 /* SIZE_BUFFER */, NULL, 0));
	if (!strcmp(n, "acct"))
		return r_errno(syscall(SYS_acct, NULL));
	if (!strcmp(n, "settimeofday"))
		return r_errno(syscall(SYS_settimeofday, NULL, NULL));
	if (!strcmp(n, "clock_settime")) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		return r_errno(syscall(SYS_clock_settime, CLOCK_REALTIME, &ts));
	}
	if (!strcmp(n, "iopl"))
		return r_errno(syscall(SYS_iopl, 0));
	if (!strcmp(n, "ioperm"))
		return r_errno(syscall(SYS_ioperm, 0, 0, 0));
#if defined(__x86_64__)
	if (!strcmp(n, "add_key_i386")) { /* i386 add_key is 286 */
		long r = int80(286, (long)(uintptr_t)i386_key_type, (long)(uintptr_t)i386_key_desc,
			       (long)(uintptr_t)i386_key_data, 1, KEY_SPEC_PROCESS_KEYRING);
		return r < 0 ? -r : 0;
	}
#endif
	return -1;
}

static const char *const denied[] = {
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"open_by_handle_at", "add_key", "keyctl", "perf_event_open", "userfaultfd",
	"io_uring_setup", "bpf", "personality_page_zero", "swapon", "syslog", "acct",
	"settimeofday", "clock_settime", "iopl", "ioperm",
#if defined(__x86_64__)
	"add_key_i386",
#endif
};

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "sysinfo")) {
		struct sysinfo s;
		if (sysinfo(&s) < 0) {
			printf("native error %d\n", errno);
		} else {
			printf("native %llu\n",
			       (unsigned long long)s.totalram * s.mem_unit >> 20);
			printf("uptime %ld\n", s.uptime);
		}
#if defined(__x86_64__)
		long r = int80(116, (long)(uintptr_t)i386_buf, 0, 0, 0, 0);
		if (r < 0) {
			printf("i386 error %ld\n", -r);
		} else { /* totalram at 16, mem_unit at 52 */
			uint32_t total, unit;
			memcpy(&total, i386_buf + 16, 4);
			memcpy(&unit, i386_buf + 52, 4);
			printf("i386 %llu\n", (unsigned long long)total * unit >> 20);
		}
#endif
		return 0;
	}
	if (!strcmp(argv[1], "deny")) {
		for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
			printf("%s %ld\n", denied[i], probe(denied[i]));
		return 0;
	}
	for (int i = 1; i < argc; i++)
		printf("%s %ld\n", argv[i], probe(argv[i]));
	return 0;
}
