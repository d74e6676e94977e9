/* memhog: a workload for checkpoint and migration tests and benchmarks,
 * run inside a CT (built static, copied in).
 *
 *   memhog MIB DIRTY_MIB_PER_S OUT
 *
 * Touches MIB MiB, then keeps dirtying DIRTY_MIB_PER_S MiB a second and,
 * ten times a second, writes one line to OUT (replacing it):
 *   "<pid> <ticks> <gaps> <bad> <maxgap_ms> <scans>"
 * ticks counts on across a checkpoint (it is in memory, not in OUT), gaps
 * counts wall-clock stalls over 100 ms (the freeze as the app sees it),
 * and bad counts pages whose contents were not what this process wrote:
 * every page holds its index and the generation of its last write, and
 * each page is checked before it is written again, and all of them on
 * SIGUSR1 (scans counts the full checks done). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static volatile sig_atomic_t scan_wanted;
static void on_usr1(int sig)
{
	(void)sig;
	scan_wanted = 1;
}

static void report(const char *out, unsigned long ticks, unsigned long gaps, unsigned long bad,
		   double maxgap, unsigned long scans)
{
	char tmp[4096], line[128];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	int n = snprintf(line, sizeof(line), "%d %lu %lu %lu %.0f %lu\n", (int)getpid(), ticks,
			 gaps, bad, maxgap, scans);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) == n)
		(void)rename(tmp, out);
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: memhog MIB DIRTY_MIB_PER_S OUT\n");
		return 2;
	}
	size_t pages = (size_t)strtoul(argv[1], NULL, 10) * (1 << 20) / PAGE;
	double rate = strtod(argv[2], NULL) * (1 << 20) / PAGE; /* pages a second */
	const char *out = argv[3];
	if (pages == 0)
		pages = 1;
	uint64_t *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("memhog: mmap");
		return 1;
	}
	uint64_t *gen = calloc(pages, sizeof(*gen));
	if (!gen)
		return 1;
	for (size_t i = 0; i < pages; i++) {
		uint64_t *p = mem + i * (PAGE / 8);
		p[0] = i;
		p[1] = gen[i] = 1;
		p[PAGE / 8 - 1] = i ^ 0x5a5a5a5a5a5a5a5aULL;
	}
	signal(SIGUSR1, on_usr1);
	unsigned long ticks = 0, gaps = 0, bad = 0, scans = 0;
	double maxgap = 0, last = now_ms(), credit = 0;
	size_t next = 0;
	for (;;) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
		double t = now_ms(), gap = t - last;
		last = t;
		if (gap > 100) {
			gaps++;
			if (gap > maxgap)
				maxgap = gap;
		}
		credit += rate * gap / 1e3;
		while (credit >= 1) {
			uint64_t *p = mem + next * (PAGE / 8);
			if (p[0] != next || p[1] != gen[next] ||
			    p[PAGE / 8 - 1] != (next ^ 0x5a5a5a5a5a5a5a5aULL))
				bad++;
			p[1] = ++gen[next];
			next = (next + 1) % pages;
			credit -= 1;
		}
		if (scan_wanted) {
			scan_wanted = 0;
			for (size_t i = 0; i < pages; i++) {
				uint64_t *p = mem + i * (PAGE / 8);
				if (p[0] != i || p[1] != gen[i] ||
				    p[PAGE / 8 - 1] != (i ^ 0x5a5a5a5a5a5a5a5aULL))
					bad++;
			}
			scans++;
			last = now_ms(); /* the scan is no freeze */
			report(out, ticks, gaps, bad, maxgap, scans);
		}
		if (++ticks % 10 == 0)
			report(out, ticks, gaps, bad, maxgap, scans);
	}
}
