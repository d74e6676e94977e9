/* Routed IPs cannot be spoofed: what a CT sends into the host end of its
 * routed pair (venetCTID) must come from an address it was given. An
 * nftables table per CT ("vz-venetCTID", netdev family) hooks that
 * device's ingress, before routing, so it holds for traffic to the host
 * itself as for traffic forwarded elsewhere, IPv4 and IPv6 alike (rp_filter
 * is IPv4 only, and "all" may loosen it; policy rules come after the
 * local table, so they never see traffic to the host):
 *
 *   ip6 icmpv6 type router-advert / redirect: drop  (never reach the host)
 *   ip  saddr @v4: accept          ip: drop
 *   ip6 saddr @v6: accept          ip6 saddr fe80::/64: accept (ND)
 *   ip6: drop                      anything else (ARP): accept
 *
 * The sets follow the CT's addresses as the host routes do (start, live
 * --ipadd/--ipdel, restore); the table goes at stop. Over nfnetlink with
 * libmnl, in one batch per change: the kernel applies a batch whole or
 * not at all, so the filter is never half made. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include "internal.h"

#define NFT(type) ((NFNL_SUBSYS_NFTABLES << 8) | (type))
#define SET_V4_ID 1
#define SET_V6_ID 2

struct batch {
	struct mnl_socket *s;
	struct mnl_nlmsg_batch *b;
	unsigned seq, first;
	char buf[32768];
	char table[32];
};

static struct nlmsghdr *put_msg(struct batch *bt, int type, int flags, unsigned short res_id)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(mnl_nlmsg_batch_current(bt->b));
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
	h->nlmsg_seq = ++bt->seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
	g->nfgen_family = type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END
				  ? NFPROTO_UNSPEC
				  : NFPROTO_NETDEV;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return h;
}

static void next(struct batch *bt)
{
	mnl_nlmsg_batch_next(bt->b);
}

static int batch_open(struct batch *bt, unsigned ctid)
{
	snprintf(bt->table, sizeof(bt->table), "vz-venet%u", ctid);
	bt->s = mnl_socket_open(NETLINK_NETFILTER);
	if (!bt->s)
		return -1;
	if (mnl_socket_bind(bt->s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(bt->s);
		errno = e;
		return -1;
	}
	bt->b = mnl_nlmsg_batch_start(bt->buf, sizeof(bt->buf));
	bt->seq = (unsigned)time(NULL);
	put_msg(bt, NFNL_MSG_BATCH_BEGIN, 0, NFNL_SUBSYS_NFTABLES);
	next(bt);
	bt->first = bt->seq + 1;
	return 0;
}

/* Sends the batch; every message asked for an ack: the first error wins.
 * -1 with errno. */
static int batch_send(struct batch *bt)
{
	unsigned last = bt->seq;
	put_msg(bt, NFNL_MSG_BATCH_END, 0, NFNL_SUBSYS_NFTABLES);
	next(bt);
	int r = 0, e = 0;
	if (mnl_socket_sendto(bt->s, mnl_nlmsg_batch_head(bt->b), mnl_nlmsg_batch_size(bt->b)) < 0)
		r = -1, e = errno;
	/* one ack per message, or an error that aborts the batch */
	for (unsigned acked = bt->first; r == 0 && acked <= last;) {
		char rb[8192];
		ssize_t got = mnl_socket_recvfrom(bt->s, rb, sizeof(rb));
		if (got <= 0) {
			r = -1, e = got < 0 ? errno : EIO;
			break;
		}
		int n = (int)got;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)rb; mnl_nlmsg_ok(h, n);
		     h = mnl_nlmsg_next(h, &n)) {
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *ne = mnl_nlmsg_get_payload(h);
				if (ne->error) {
					r = -1, e = -ne->error;
					break;
				}
			}
			acked = h->nlmsg_seq + 1;
		}
	}
	mnl_nlmsg_batch_stop(bt->b);
	mnl_socket_close(bt->s);
	errno = e;
	return r;
}

/* ---- expressions ---- */

static struct nlattr *expr_start(struct nlmsghdr *h, const char *name)
{
	struct nlattr *el = mnl_attr_nest_start(h, NFTA_LIST_ELEM);
	mnl_attr_put_strz(h, NFTA_EXPR_NAME, name);
	return el;
}

static void meta(struct nlmsghdr *h, unsigned key)
{
	struct nlattr *el = expr_start(h, "meta");
	struct nlattr *d = mnl_attr_nest_start(h, NFTA_EXPR_DATA);
	mnl_attr_put_u32(h, NFTA_META_KEY, htonl(key));
	mnl_attr_put_u32(h, NFTA_META_DREG, htonl(NFT_REG_1));
	mnl_attr_nest_end(h, d);
	mnl_attr_nest_end(h, el);
}

static void payload(struct nlmsghdr *h, unsigned base, unsigned off, unsigned len)
{
	struct nlattr *el = expr_start(h, "payload");
	struct nlattr *d = mnl_attr_nest_start(h, NFTA_EXPR_DATA);
	mnl_attr_put_u32(h, NFTA_PAYLOAD_DREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(h, NFTA_PAYLOAD_BASE, htonl(base));
	mnl_attr_put_u32(h, NFTA_PAYLOAD_OFFSET, htonl(off));
	mnl_attr_put_u32(h, NFTA_PAYLOAD_LEN, htonl(len));
	mnl_attr_nest_end(h, d);
	mnl_attr_nest_end(h, el);
}

static void cmp_eq(struct nlmsghdr *h, const void *v, size_t len)
{
	struct nlattr *el = expr_start(h, "cmp");
	struct nlattr *d = mnl_attr_nest_start(h, NFTA_EXPR_DATA);
	mnl_attr_put_u32(h, NFTA_CMP_SREG, htonl(NFT_REG_1));
	mnl_attr_put_u32(h, NFTA_CMP_OP, htonl(NFT_CMP_EQ));
	struct nlattr *data = mnl_attr_nest_start(h, NFTA_CMP_DATA);
	mnl_attr_put(h, NFTA_DATA_VALUE, len, v);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, d);
	mnl_attr_nest_end(h, el);
}

static void lookup(struct nlmsghdr *h, const char *set, unsigned id)
{
	struct nlattr *el = expr_start(h, "lookup");
	struct nlattr *d = mnl_attr_nest_start(h, NFTA_EXPR_DATA);
	mnl_attr_put_strz(h, NFTA_LOOKUP_SET, set);
	mnl_attr_put_u32(h, NFTA_LOOKUP_SET_ID, htonl(id));
	mnl_attr_put_u32(h, NFTA_LOOKUP_SREG, htonl(NFT_REG_1));
	mnl_attr_nest_end(h, d);
	mnl_attr_nest_end(h, el);
}

static void verdict(struct nlmsghdr *h, int code)
{
	struct nlattr *el = expr_start(h, "immediate");
	struct nlattr *d = mnl_attr_nest_start(h, NFTA_EXPR_DATA);
	mnl_attr_put_u32(h, NFTA_IMMEDIATE_DREG, htonl(NFT_REG_VERDICT));
	struct nlattr *data = mnl_attr_nest_start(h, NFTA_IMMEDIATE_DATA);
	struct nlattr *v = mnl_attr_nest_start(h, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(h, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	mnl_attr_nest_end(h, v);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, d);
	mnl_attr_nest_end(h, el);
}

/* ---- the table ---- */

enum match { ANY, IN_SET, LINK_LOCAL, ICMP6_TYPE };

/* one rule: the packet's ethertype is proto, then the match, then verdict */
static void rule(struct batch *bt, unsigned short proto, enum match m, unsigned char type,
		 int code)
{
	struct nlmsghdr *h = put_msg(bt, NFT(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK,
				     0);
	mnl_attr_put_strz(h, NFTA_RULE_TABLE, bt->table);
	mnl_attr_put_strz(h, NFTA_RULE_CHAIN, "ingress");
	struct nlattr *ex = mnl_attr_nest_start(h, NFTA_RULE_EXPRESSIONS);
	uint16_t p = htons(proto);
	meta(h, NFT_META_PROTOCOL);
	cmp_eq(h, &p, sizeof(p));
	bool v4 = proto == ETH_P_IP;
	static const unsigned char ll[8] = {0xfe, 0x80};
	static const unsigned char icmp6 = IPPROTO_ICMPV6;
	switch (m) {
	case IN_SET:
		/* saddr: at 12 in an IPv4 header, at 8 in an IPv6 one */
		payload(h, NFT_PAYLOAD_NETWORK_HEADER, v4 ? 12 : 8, v4 ? 4 : 16);
		lookup(h, v4 ? "v4" : "v6", v4 ? SET_V4_ID : SET_V6_ID);
		break;
	case LINK_LOCAL:
		payload(h, NFT_PAYLOAD_NETWORK_HEADER, 8, 8);
		cmp_eq(h, ll, sizeof(ll));
		break;
	case ICMP6_TYPE:
		meta(h, NFT_META_L4PROTO);
		cmp_eq(h, &icmp6, 1);
		payload(h, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		cmp_eq(h, &type, 1);
		break;
	case ANY:
		break;
	}
	verdict(h, code);
	mnl_attr_nest_end(h, ex);
	next(bt);
}

static void new_set(struct batch *bt, const char *name, unsigned id, unsigned keytype,
		    unsigned keylen)
{
	struct nlmsghdr *h = put_msg(bt, NFT(NFT_MSG_NEWSET), NLM_F_CREATE | NLM_F_ACK, 0);
	mnl_attr_put_strz(h, NFTA_SET_TABLE, bt->table);
	mnl_attr_put_strz(h, NFTA_SET_NAME, name);
	mnl_attr_put_u32(h, NFTA_SET_ID, htonl(id));
	mnl_attr_put_u32(h, NFTA_SET_FLAGS, 0);
	mnl_attr_put_u32(h, NFTA_SET_KEY_TYPE, htonl(keytype)); /* nft's ipv4_addr, ipv6_addr */
	mnl_attr_put_u32(h, NFTA_SET_KEY_LEN, htonl(keylen));
	next(bt);
}

static void table_msg(struct batch *bt, int type, int flags)
{
	struct nlmsghdr *h = put_msg(bt, NFT(type), flags | NLM_F_ACK, 0);
	mnl_attr_put_strz(h, NFTA_TABLE_NAME, bt->table);
	next(bt);
}

/* A new table; EEXIST when one is there already. */
static int setup(unsigned ctid, const char *ifn)
{
	struct batch bt = {.s = NULL};
	if (batch_open(&bt, ctid) < 0)
		return -1;
	table_msg(&bt, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL);
	struct nlmsghdr *h = put_msg(&bt, NFT(NFT_MSG_NEWCHAIN), NLM_F_CREATE | NLM_F_ACK, 0);
	mnl_attr_put_strz(h, NFTA_CHAIN_TABLE, bt.table);
	mnl_attr_put_strz(h, NFTA_CHAIN_NAME, "ingress");
	mnl_attr_put_strz(h, NFTA_CHAIN_TYPE, "filter");
	mnl_attr_put_u32(h, NFTA_CHAIN_POLICY, htonl(NF_ACCEPT));
	struct nlattr *hook = mnl_attr_nest_start(h, NFTA_CHAIN_HOOK);
	mnl_attr_put_u32(h, NFTA_HOOK_HOOKNUM, htonl(NF_NETDEV_INGRESS));
	mnl_attr_put_u32(h, NFTA_HOOK_PRIORITY, htonl((uint32_t)-500));
	mnl_attr_put_strz(h, NFTA_HOOK_DEV, ifn);
	mnl_attr_nest_end(h, hook);
	next(&bt);
	new_set(&bt, "v4", SET_V4_ID, 7, 4);
	new_set(&bt, "v6", SET_V6_ID, 8, 16);
	rule(&bt, ETH_P_IPV6, ICMP6_TYPE, 134, NF_DROP); /* router advertisement */
	rule(&bt, ETH_P_IPV6, ICMP6_TYPE, 137, NF_DROP); /* redirect */
	rule(&bt, ETH_P_IP, IN_SET, 0, NF_ACCEPT);
	rule(&bt, ETH_P_IP, ANY, 0, NF_DROP);
	rule(&bt, ETH_P_IPV6, IN_SET, 0, NF_ACCEPT);
	rule(&bt, ETH_P_IPV6, LINK_LOCAL, 0, NF_ACCEPT); /* neighbour discovery */
	rule(&bt, ETH_P_IPV6, ANY, 0, NF_DROP);
	return batch_send(&bt);
}

int vz_spoof_setup(unsigned ctid, const char *ifn, vz_error *err)
{
	int r = setup(ctid, ifn);
	if (r < 0 && errno == EEXIST) {
		/* left by a run that ended without its cleanup: made anew. (A
		 * delete in every setup would cost each start a grace period.) */
		vz_spoof_remove(ctid);
		r = setup(ctid, ifn);
	}
	if (r < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno,
				    "CT %u: cannot set up the source address filter of %s", ctid,
				    ifn);
	return 0;
}

/* Adds to / removes from the sets. A removal of what is not there is
 * no error, so each one goes in a batch of its own. */
int vz_spoof_addrs(unsigned ctid, const struct vz_ip *ips, size_t n, bool add, vz_error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct batch bt = {.s = NULL};
		if (batch_open(&bt, ctid) < 0)
			return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: nfnetlink socket", ctid);
		bool v4 = ips[i].family == AF_INET;
		struct nlmsghdr *h = put_msg(&bt, NFT(add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM),
					     (add ? NLM_F_CREATE : 0) | NLM_F_ACK, 0);
		mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_TABLE, bt.table);
		mnl_attr_put_strz(h, NFTA_SET_ELEM_LIST_SET, v4 ? "v4" : "v6");
		struct nlattr *list = mnl_attr_nest_start(h, NFTA_SET_ELEM_LIST_ELEMENTS);
		struct nlattr *el = mnl_attr_nest_start(h, NFTA_LIST_ELEM);
		struct nlattr *key = mnl_attr_nest_start(h, NFTA_SET_ELEM_KEY);
		mnl_attr_put(h, NFTA_DATA_VALUE, v4 ? 4 : 16, ips[i].addr);
		mnl_attr_nest_end(h, key);
		mnl_attr_nest_end(h, el);
		mnl_attr_nest_end(h, list);
		next(&bt);
		if (batch_send(&bt) < 0 && (add || errno != ENOENT)) {
			char a[64];
			vz_ip_format(&ips[i], false, a, sizeof(a));
			return vz_err_errno(err, VZ_E_BADIP, errno,
					    "CT %u: cannot %s %s in its source address filter", ctid,
					    add ? "allow" : "remove", a);
		}
	}
	return 0;
}

/* Whether the CT's table exists: a plain get, outside any batch. A
 * batch that fails (a delete of no table) still costs its commit's abort,
 * which waits for a grace period: ~15 ms of every start, which clears
 * what an earlier run may have left. -1: cannot tell. */
static int table_exists(unsigned ctid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], table[32];
	snprintf(table, sizeof(table), "vz-venet%u", ctid);
	struct mnl_socket *sk = mnl_socket_open(NETLINK_NETFILTER);
	if (!sk)
		return -1;
	int r = -1;
	if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) == 0) {
		struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
		h->nlmsg_type = NFT(NFT_MSG_GETTABLE);
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
		h->nlmsg_seq = (unsigned)time(NULL);
		struct nfgenmsg *g = mnl_nlmsg_put_extra_header(h, sizeof(*g));
		g->nfgen_family = NFPROTO_NETDEV;
		g->version = NFNETLINK_V0;
		mnl_attr_put_strz(h, NFTA_TABLE_NAME, table);
		if (mnl_socket_sendto(sk, h, h->nlmsg_len) >= 0) {
			ssize_t n = mnl_socket_recvfrom(sk, buf, sizeof(buf));
			const struct nlmsghdr *a = (const struct nlmsghdr *)buf;
			if (n > 0 && mnl_nlmsg_ok(a, (int)n)) {
				if (a->nlmsg_type == NFT(NFT_MSG_NEWTABLE))
					r = 1;
				else if (a->nlmsg_type == NLMSG_ERROR) {
					const struct nlmsgerr *ne = mnl_nlmsg_get_payload(a);
					r = ne->error == -ENOENT ? 0 : ne->error == 0 ? 1 : -1;
				}
			}
		}
	}
	mnl_socket_close(sk);
	return r;
}

/* Nothing there: nothing done, nothing waited for */
void vz_spoof_remove(unsigned ctid)
{
	if (table_exists(ctid) == 0)
		return;
	struct batch bt = {.s = NULL};
	if (batch_open(&bt, ctid) < 0)
		return;
	table_msg(&bt, NFT_MSG_DELTABLE, 0);
	(void)batch_send(&bt);
}
