/* CRIU's network lock: while it dumps a CT, criu drops the traffic of the
 * CT's network namespace with an nftables table of its own ("CRIU-..."),
 * which its error path after a post-copy that never started leaves
 * behind. Removed here over nfnetlink (libmnl), in the CT's namespace. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include "internal.h"

#define LOCK_PREFIX "CRIU-"
#define MAX_TABLES 16

struct tables {
	char name[MAX_TABLES][64];
	unsigned char family[MAX_TABLES];
	size_t n;
};

static int table_attr(const struct nlattr *a, void *data)
{
	const char **name = data;
	if (mnl_attr_get_type(a) == NFTA_TABLE_NAME && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static int table_cb(const struct nlmsghdr *h, void *data)
{
	struct tables *t = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(h);
	const char *name = NULL;
	mnl_attr_parse(h, sizeof(*g), table_attr, &name);
	if (name && !strncmp(name, LOCK_PREFIX, strlen(LOCK_PREFIX)) && t->n < MAX_TABLES &&
	    strlen(name) < sizeof(t->name[0])) {
		snprintf(t->name[t->n], sizeof(t->name[0]), "%s", name);
		t->family[t->n++] = g->nfgen_family;
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *nft_msg(char *buf, int type, int flags, unsigned char family,
				unsigned seq, unsigned short res_id)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	h->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return h;
}

/* In the namespace: lists the lock tables and deletes them in one batch. */
static int unlock_here(void)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	if (!s || mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
		if (s)
			mnl_socket_close(s);
		return -1;
	}
	static char buf[16384];
	unsigned seq = (unsigned)time(NULL), port = mnl_socket_get_portid(s);
	struct tables t = {.n = 0};
	struct nlmsghdr *h = nft_msg(buf, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE,
				     NLM_F_DUMP, NFPROTO_UNSPEC, seq, 0);
	int r = mnl_socket_sendto(s, h, h->nlmsg_len) < 0 ? -1 : 0;
	while (r == 0) {
		ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
		if (n <= 0) {
			r = -1;
			break;
		}
		int c = mnl_cb_run(buf, (size_t)n, seq, port, table_cb, &t);
		if (c <= MNL_CB_STOP) {
			r = c < 0 ? -1 : 0;
			break;
		}
	}
	if (r == 0 && t.n) {
		struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, sizeof(buf));
		nft_msg(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_BEGIN, 0, NFPROTO_UNSPEC, ++seq,
			NFNL_SUBSYS_NFTABLES);
		mnl_nlmsg_batch_next(b);
		for (size_t i = 0; i < t.n; i++) {
			h = nft_msg(mnl_nlmsg_batch_current(b),
				    (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_DELTABLE, NLM_F_ACK,
				    t.family[i], ++seq, 0);
			mnl_attr_put_strz(h, NFTA_TABLE_NAME, t.name[i]);
			mnl_nlmsg_batch_next(b);
		}
		nft_msg(mnl_nlmsg_batch_current(b), NFNL_MSG_BATCH_END, 0, NFPROTO_UNSPEC, ++seq,
			NFNL_SUBSYS_NFTABLES);
		mnl_nlmsg_batch_next(b);
		if (mnl_socket_sendto(s, mnl_nlmsg_batch_head(b), mnl_nlmsg_batch_size(b)) < 0)
			r = -1;
		/* one ack per deleted table */
		for (size_t i = 0; r == 0 && i < t.n; i++) {
			ssize_t n = mnl_socket_recvfrom(s, buf, sizeof(buf));
			if (n <= 0 || mnl_cb_run(buf, (size_t)n, 0, port, NULL, NULL) < 0)
				r = -1;
		}
		mnl_nlmsg_batch_stop(b);
	}
	mnl_socket_close(s);
	return r;
}

int vz_netlock_remove(pid_t init_pid)
{
	int pfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
	if (pfd < 0)
		return -1;
	pid_t c = fork();
	if (c == 0)
		_exit(setns(pfd, CLONE_NEWNET) == 0 && unlock_here() == 0 ? 0 : 1);
	close(pfd);
	int st = 1;
	if (c > 0)
		(void)waitpid(c, &st, 0);
	return c > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}
