/* Networking over rtnetlink (libmnl): the CT's namespace starts with
 * loopback up; routed IPs (OpenVZ's venet) are a veth pair, venet0 inside
 * holding the CT's addresses with a default route to the host, venetCTID
 * on the host with a host route per address and proxy ARP. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include "internal.h"

#define CT_IF "venet0"

struct nl {
	struct mnl_socket *s;
	unsigned seq;
	char buf[16384];
};

static int nl_open(struct nl *n, vz_error *err)
{
	n->s = mnl_socket_open(NETLINK_ROUTE);
	if (!n->s)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "netlink socket");
	if (mnl_socket_bind(n->s, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(n->s);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "netlink bind");
	}
	n->seq = (unsigned)time(NULL);
	return 0;
}

static void nl_close(struct nl *n)
{
	if (n->s)
		mnl_socket_close(n->s);
	n->s = NULL;
}

static struct nlmsghdr *nl_msg(struct nl *n, int type, int flags)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(n->buf);
	h->nlmsg_type = (unsigned short)type;
	h->nlmsg_flags = (unsigned short)(NLM_F_REQUEST | NLM_F_ACK | flags);
	h->nlmsg_seq = ++n->seq;
	return h;
}

/* Sends and waits for the ack; -1 with errno from the kernel. */
static int nl_talk(struct nl *n, struct nlmsghdr *h)
{
	if (mnl_socket_sendto(n->s, h, h->nlmsg_len) < 0)
		return -1;
	ssize_t r = mnl_socket_recvfrom(n->s, n->buf, sizeof(n->buf));
	if (r < 0)
		return -1;
	return mnl_cb_run(n->buf, (size_t)r, n->seq, mnl_socket_get_portid(n->s), NULL, NULL) <
			       0
		       ? -1
		       : 0;
}

/* up, with that MTU unless mtu is 0 */
static int link_up_mtu(struct nl *n, unsigned ifindex, unsigned mtu)
{
	struct nlmsghdr *h = nl_msg(n, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(h, IFLA_MTU, mtu);
	return nl_talk(n, h);
}

static int link_up(struct nl *n, unsigned ifindex)
{
	return link_up_mtu(n, ifindex, 0);
}

static int link_del(struct nl *n, unsigned ifindex)
{
	struct nlmsghdr *h = nl_msg(n, RTM_DELLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	return nl_talk(n, h);
}

/* host end here, peer end straight into the namespace of pid; MACs, MTU
 * and master (a bridge) only when given */
struct veth {
	const char *host, *peer;
	const unsigned char *host_mac, *peer_mac;
	unsigned mtu, master;
	int index;            /* ifindexes of the host end and of the CT's, */
	int peer_index;       /* both or neither (0: the kernel's choice) */
};

/* Interface indexes for a CT's pair that the host most likely never
 * uses: a restore (criu) makes the CT's end in the host's namespace first,
 * with the index it had inside, before moving it in; an index the host has
 * (2 is its first interface's) makes that fail. n: which pair (0..7). */
static int ct_ifindex(unsigned ctid, unsigned n, bool ct_end)
{
	return (int)(0x40000000u + (ctid % 0x100000u) * 16u + (n % 8u) * 2u + ct_end);
}

static int veth_create(struct nl *n, const struct veth *v, pid_t pid)
{
	struct nlmsghdr *h = nl_msg(n, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(h, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = v->index; /* the kernel takes the peer's only with it */
	mnl_attr_put_strz(h, IFLA_IFNAME, v->host);
	if (v->host_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, v->host_mac);
	if (v->mtu)
		mnl_attr_put_u32(h, IFLA_MTU, v->mtu);
	if (v->master)
		mnl_attr_put_u32(h, IFLA_MASTER, v->master);
	struct nlattr *li = mnl_attr_nest_start(h, IFLA_LINKINFO);
	mnl_attr_put_strz(h, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(h, IFLA_INFO_DATA);
	struct nlattr *p = mnl_attr_nest_start(h, VETH_INFO_PEER);
	struct ifinfomsg *pm = mnl_nlmsg_put_extra_header(h, sizeof(*pm));
	pm->ifi_family = AF_UNSPEC;
	pm->ifi_index = v->peer_index;
	mnl_attr_put_strz(h, IFLA_IFNAME, v->peer);
	if (v->peer_mac)
		mnl_attr_put(h, IFLA_ADDRESS, 6, v->peer_mac);
	if (v->mtu)
		mnl_attr_put_u32(h, IFLA_MTU, v->mtu);
	mnl_attr_put_u32(h, IFLA_NET_NS_PID, (uint32_t)pid);
	mnl_attr_nest_end(h, p);
	mnl_attr_nest_end(h, data);
	mnl_attr_nest_end(h, li);
	return nl_talk(n, h);
}

static int addr_change(struct nl *n, bool add, unsigned ifindex, const struct vz_ip *ip)
{
	struct nlmsghdr *h = nl_msg(n, add ? RTM_NEWADDR : RTM_DELADDR,
				    add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(h, sizeof(*ifa));
	ifa->ifa_family = (unsigned char)ip->family;
	ifa->ifa_prefixlen = ip->prefix;
	ifa->ifa_index = ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	size_t len = ip->family == AF_INET ? 4 : 16;
	mnl_attr_put(h, IFA_LOCAL, len, ip->addr);
	mnl_attr_put(h, IFA_ADDRESS, len, ip->addr);
	if (ip->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD; /* usable at once */
	return nl_talk(n, h);
}

/* dst/plen (plen 0: default) out of ifindex, via gw when given */
static int route_change(struct nl *n, bool add, int family, const void *dst,
			unsigned char plen, const void *gw, unsigned ifindex)
{
	struct nlmsghdr *h = nl_msg(n, add ? RTM_NEWROUTE : RTM_DELROUTE,
				    add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct rtmsg *rt = mnl_nlmsg_put_extra_header(h, sizeof(*rt));
	size_t len = family == AF_INET ? 4 : 16;
	rt->rtm_family = (unsigned char)family;
	rt->rtm_dst_len = plen;
	rt->rtm_table = RT_TABLE_MAIN;
	rt->rtm_protocol = RTPROT_STATIC;
	rt->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rt->rtm_type = RTN_UNICAST;
	if (plen)
		mnl_attr_put(h, RTA_DST, len, dst);
	if (gw)
		mnl_attr_put(h, RTA_GATEWAY, len, gw);
	mnl_attr_put_u32(h, RTA_OIF, ifindex);
	return nl_talk(n, h);
}

int vz_net_lo_up(vz_error *err)
{
	struct nl n;
	int r = nl_open(&n, err);
	if (r)
		return r;
	/* lo is always 1 in a new netns */
	if (link_up(&n, 1) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot bring lo up");
	nl_close(&n);
	return r;
}

/* ---- addresses ---- */

int vz_ip_parse(const char *s, struct vz_ip *ip)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, buf, ip->addr) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, ip->addr) == 1)
		ip->family = AF_INET6;
	else
		return -1;
	unsigned max = ip->family == AF_INET ? 32 : 128;
	ip->prefix = (unsigned char)max;
	if (slash) {
		if (!*slash || strlen(slash) > 3)
			return -1;
		unsigned p = 0;
		for (const char *c = slash; *c; c++) {
			if (*c < '0' || *c > '9')
				return -1;
			p = p * 10 + (unsigned)(*c - '0');
		}
		if (p == 0 || p > max)
			return -1;
		ip->prefix = (unsigned char)p;
	}
	return 0;
}

void vz_ip_format(const struct vz_ip *ip, bool with_prefix, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(ip->family, ip->addr, a, sizeof(a));
	unsigned max = ip->family == AF_INET ? 32 : 128;
	if (with_prefix && ip->prefix != max)
		snprintf(buf, n, "%s/%u", a, ip->prefix);
	else
		snprintf(buf, n, "%s", a);
}

bool vz_ip_same(const struct vz_ip *a, const struct vz_ip *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

/* ---- the CT's side, from inside its network namespace ---- */

static int ct_side(const struct vz_ip *ips, size_t n, bool add, vz_error *err)
{
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	unsigned idx = if_nametoindex(CT_IF);
	if (!idx) {
		nl_close(&nl);
		return vz_err(err, VZ_E_SYSTEM, "no %s in the CT", CT_IF);
	}
	static const unsigned char gw6[16] = {0xfe, 0x80, [15] = 1};
	bool v4 = false, v6 = false;
	if (add && link_up(&nl, idx) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot bring %s up", CT_IF);
	for (size_t i = 0; !r && i < n; i++) {
		char a[64];
		vz_ip_format(&ips[i], true, a, sizeof(a));
		if (addr_change(&nl, add, idx, &ips[i]) < 0 && (add || errno != EADDRNOTAVAIL))
			r = vz_err_errno(err, VZ_E_BADIP, errno, "cannot %s %s", add ? "add" : "remove", a);
		v4 |= ips[i].family == AF_INET;
		v6 |= ips[i].family == AF_INET6;
	}
	/* the default routes point at the host end */
	if (!r && add && v4 && route_change(&nl, true, AF_INET, NULL, 0, NULL, idx) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot add the default route");
	if (!r && add && v6 && route_change(&nl, true, AF_INET6, NULL, 0, gw6, idx) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot add the IPv6 default route");
	nl_close(&nl);
	return r;
}

/* Runs ct_side in a child that joined the network namespace of pid. */
static int in_ct(pid_t pid, const struct vz_ip *ips, size_t n, bool add, vz_error *err)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pidfd of %d", (int)pid);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = errno;
		close(pfd);
		return vz_err_errno(err, VZ_E_SYSTEM, e, "pipe");
	}
	pid_t c = fork();
	if (c == 0) {
		vz_error e = {0};
		close(p[0]);
		if (setns(pfd, CLONE_NEWNET) < 0)
			vz_err_errno(&e, VZ_E_SYSTEM, errno, "cannot enter the CT's network");
		else
			(void)ct_side(ips, n, add, &e);
		if (e.code)
			(void)write_all(p[1], e.msg, strlen(e.msg));
		_exit(e.code ? 1 : 0);
	}
	close(pfd);
	close(p[1]);
	if (c < 0) {
		close(p[0]);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	}
	char msg[sizeof(err->msg)];
	ssize_t m = read_all(p[0], msg, sizeof(msg) - 1);
	close(p[0]);
	int st = 0;
	(void)waitpid(c, &st, 0);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	msg[m > 0 ? m : 0] = '\0';
	return vz_err(err, VZ_E_BADIP, "%s", *msg ? msg : "network setup inside the CT failed");
}

/* ---- the host's side ---- */

unsigned vz_net_mtu(const vz_ctx *ctx)
{
	const char *v = vz_conf_get(&ctx->global, "VENET_MTU");
	char *end;
	unsigned long m = v ? strtoul(v, &end, 10) : 0;
	return m >= 1280 && m <= 65535 && v && !*end ? (unsigned)m : 65535;
}

static void host_if(unsigned ctid, char *buf, size_t n)
{
	snprintf(buf, n, "venet%u", ctid);
}

static void sysctl_if(const char *fam, const char *ifn, const char *key, const char *v)
{
	_cleanup_free_ char *p = xasprintf("/proc/sys/net/%s/conf/%s/%s", fam, ifn, key);
	(void)write_str(p, v);
}

/* The host routes to the CT's addresses, and its source address filter
 * (spoof.c) in step with them: an address is allowed before it is routed,
 * and unrouted before it is no longer allowed. */
static int host_routes(struct nl *nl, unsigned ctid, unsigned idx, const struct vz_ip *ips,
		       size_t n, bool add, vz_error *err)
{
	int r;
	if (add && (r = vz_spoof_addrs(ctid, ips, n, true, err)))
		return r;
	for (size_t i = 0; i < n; i++) {
		unsigned char plen = ips[i].family == AF_INET ? 32 : 128;
		if (route_change(nl, add, ips[i].family, ips[i].addr, plen, NULL, idx) < 0 &&
		    (add || errno != ESRCH)) {
			char a[64];
			vz_ip_format(&ips[i], false, a, sizeof(a));
			return vz_err_errno(err, VZ_E_BADIP, errno, "cannot %s the host route to %s",
					    add ? "add" : "remove", a);
		}
	}
	return add ? 0 : vz_spoof_addrs(ctid, ips, n, false, err);
}

/* The host end of the routed pair: answers the CT's ARP for anything the
 * host can route, forwards what comes from it; fe80::1 is its IPv6
 * gateway. What the CT sends must come from its own addresses (spoof.c),
 * and the host takes no router advertisements or redirects from it. */
static int host_end_setup(struct nl *nl, unsigned ctid, const char *ifn, unsigned idx,
			  unsigned mtu, vz_error *err)
{
	static const unsigned char ll6[16] = {0xfe, 0x80, [15] = 1};
	sysctl_if("ipv4", ifn, "proxy_arp", "1");
	sysctl_if("ipv4", ifn, "forwarding", "1");
	sysctl_if("ipv4", ifn, "rp_filter", "1");
	sysctl_if("ipv4", ifn, "accept_redirects", "0");
	sysctl_if("ipv4", ifn, "accept_source_route", "0");
	sysctl_if("ipv6", ifn, "accept_ra", "0");
	sysctl_if("ipv6", ifn, "accept_redirects", "0");
	sysctl_if("ipv6", ifn, "accept_source_route", "-1");
	int r = vz_spoof_setup(ctid, ifn, err);
	if (r)
		return r;
	struct vz_ip gw = {.family = AF_INET6, .prefix = 64};
	memcpy(gw.addr, ll6, 16);
	if (!idx || link_up_mtu(nl, idx, mtu) < 0 ||
	    (addr_change(nl, true, idx, &gw) < 0 && errno != EEXIST))
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot set up %s", ctid, ifn);
	return 0;
}

int vz_net_restored(unsigned ctid, unsigned mtu, const struct vz_ip *ips, size_t n,
		    vz_error *err)
{
	char ifn[IF_NAMESIZE];
	host_if(ctid, ifn, sizeof(ifn));
	unsigned idx = if_nametoindex(ifn);
	if (!idx)
		return vz_err(err, VZ_E_SYSTEM, "CT %u: %s was not restored", ctid, ifn);
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	r = host_end_setup(&nl, ctid, ifn, idx, mtu, err);
	if (!r)
		r = host_routes(&nl, ctid, idx, ips, n, true, err);
	nl_close(&nl);
	return r;
}

bool vz_net_has_host_end(unsigned ctid)
{
	char ifn[IF_NAMESIZE];
	host_if(ctid, ifn, sizeof(ifn));
	return if_nametoindex(ifn) != 0;
}

void vz_net_host_ifname(unsigned ctid, char *buf, size_t n)
{
	host_if(ctid, buf, n);
}

int vz_netif_restored(unsigned ctid, const struct vz_netif *nf, vz_error *err)
{
	unsigned idx = if_nametoindex(nf->host_ifname);
	struct nl nl;
	if (!idx)
		return vz_err(err, VZ_E_VETH, "CT %u: %s was not restored", ctid, nf->host_ifname);
	int r = nl_open(&nl, err);
	if (r)
		return r;
	if (link_up(&nl, idx) < 0)
		r = vz_err_errno(err, VZ_E_VETH, errno, "CT %u: cannot bring %s up", ctid,
				 nf->host_ifname);
	nl_close(&nl);
	return r;
}

int vz_net_add(unsigned ctid, pid_t init_pid, unsigned mtu, const struct vz_ip *ips,
	       size_t n, vz_error *err)
{
	char ifn[IF_NAMESIZE];
	host_if(ctid, ifn, sizeof(ifn));
	if (n == 0)
		return 0;
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	unsigned idx = if_nametoindex(ifn);
	bool made = false;
	if (!idx) {
		struct veth v = {.host = ifn, .peer = CT_IF, .mtu = mtu,
				 .index = ct_ifindex(ctid, 0, false),
				 .peer_index = ct_ifindex(ctid, 0, true)};
		int c = veth_create(&nl, &v, init_pid);
		if (c < 0 && (errno == EBUSY || errno == EEXIST) && !if_nametoindex(ifn)) {
			v.index = v.peer_index = 0; /* the host had them after all */
			c = veth_create(&nl, &v, init_pid);
		}
		if (c < 0) {
			r = vz_err_errno(err, VZ_E_SYSTEM, errno, "CT %u: cannot create %s", ctid, ifn);
			goto out;
		}
		made = true;
		idx = if_nametoindex(ifn);
		if ((r = host_end_setup(&nl, ctid, ifn, idx, 0, err)))
			goto out;
	}
	if ((r = in_ct(init_pid, ips, n, true, err)))
		goto out;
	r = host_routes(&nl, ctid, idx, ips, n, true, err);
out:
	if (r && made && idx) {
		(void)link_del(&nl, idx);
		vz_spoof_remove(ctid);
	}
	nl_close(&nl);
	if (r && err->code == VZ_E_BADIP) {
		char m[sizeof(err->msg)];
		snprintf(m, sizeof(m), "CT %u: %.1000s", ctid, err->msg);
		memcpy(err->msg, m, sizeof(m));
	}
	return r;
}

int vz_net_del(unsigned ctid, pid_t init_pid, const struct vz_ip *ips, size_t n,
	       vz_error *err)
{
	char ifn[IF_NAMESIZE];
	host_if(ctid, ifn, sizeof(ifn));
	unsigned idx = if_nametoindex(ifn);
	if (!idx || n == 0)
		return 0;
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	r = host_routes(&nl, ctid, idx, ips, n, false, err);
	nl_close(&nl);
	if (!r && init_pid > 0)
		r = in_ct(init_pid, ips, n, false, err);
	return r;
}

void vz_net_cleanup(unsigned ctid)
{
	char ifn[IF_NAMESIZE];
	host_if(ctid, ifn, sizeof(ifn));
	unsigned idx = if_nametoindex(ifn);
	struct nl nl;
	vz_error e;
	if (idx && nl_open(&nl, &e) == 0) {
		(void)link_del(&nl, idx); /* its routes go with it */
		nl_close(&nl);
	}
	/* after the link: a table whose device is gone unhooks nothing, which
	 * spares its deletion a wait for the kernel's grace period */
	vz_spoof_remove(ctid);
}

/* ---- bridged veth (vzctl's veth mode) ---- */

static int parse_mac(const char *s, unsigned char mac[6])
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return mac[0] & 1 ? -1 : 0; /* no multicast MACs */
}

static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (const char *c = s; *c; c++)
		if (*c == '/' || *c == ':' || *c == ',' || *c == ';' || *c == '=' ||
		    *c == '"' || *c <= ' ' || *c > '~')
			return false;
	return true;
}

/* OpenVZ's SWsoft prefix, the rest random */
static void random_mac(unsigned char mac[6])
{
	mac[0] = 0x00, mac[1] = 0x18, mac[2] = 0x51;
	if (getentropy(mac + 3, 3) < 0)
		mac[3] = (unsigned char)getpid(), mac[4] = (unsigned char)time(NULL), mac[5] = 1;
}

/* one NETIF entry: "ifname=eth0,mac=..,host_ifname=..,host_mac=..,bridge=..,ip=.." */
int vz_netif_parse(const char *s, unsigned ctid, struct vz_netif *nf)
{
	memset(nf, 0, sizeof(*nf));
	_cleanup_free_ char *copy = xstrdup(s);
	char *save = NULL;
	for (char *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');
		if (!v)
			return -1;
		*v++ = '\0';
		if (!strcmp(kv, "ifname") && ifname_ok(v))
			snprintf(nf->ifname, sizeof(nf->ifname), "%s", v);
		else if (!strcmp(kv, "host_ifname") && ifname_ok(v))
			snprintf(nf->host_ifname, sizeof(nf->host_ifname), "%s", v);
		else if (!strcmp(kv, "bridge") && ifname_ok(v))
			snprintf(nf->bridge, sizeof(nf->bridge), "%s", v);
		else if (!strcmp(kv, "mac") && parse_mac(v, nf->mac) == 0)
			nf->has_mac = true;
		else if (!strcmp(kv, "host_mac") && parse_mac(v, nf->host_mac) == 0)
			nf->has_host_mac = true;
		else if (!strcmp(kv, "ip") && nf->nips < VZ_NETIF_IPS &&
			 vz_ip_parse(v, &nf->ips[nf->nips]) == 0)
			nf->nips++;
		else if (!strcmp(kv, "gw") && vz_ip_parse(v, &nf->gw) == 0 && !strchr(v, '/'))
			;
		else if (!strcmp(kv, "dhcp") && (!strcmp(v, "yes") || !strcmp(v, "no")))
			nf->dhcp = !strcmp(v, "yes");
		else
			return -1;
	}
	if (!*nf->ifname)
		return -1;
	if (!*nf->host_ifname) {
		/* veth101.eth0 as vzctl, shortened when over IFNAMSIZ */
		char name[64];
		snprintf(name, sizeof(name), "veth%u.%s", ctid, nf->ifname);
		if (strlen(name) >= sizeof(nf->host_ifname))
			snprintf(name, sizeof(name), "vz%u.%.3s", ctid, nf->ifname);
		snprintf(nf->host_ifname, sizeof(nf->host_ifname), "%.15s", name);
	}
	if (!nf->has_mac)
		random_mac(nf->mac), nf->has_mac = true;
	if (!nf->has_host_mac)
		random_mac(nf->host_mac), nf->has_host_mac = true;
	return 0;
}

void vz_netif_format(const struct vz_netif *nf, char *buf, size_t n)
{
	const unsigned char *m = nf->mac, *h = nf->host_mac;
	size_t len = (size_t)snprintf(
		buf, n,
		"ifname=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x,host_ifname=%s,"
		"host_mac=%02x:%02x:%02x:%02x:%02x:%02x",
		nf->ifname, m[0], m[1], m[2], m[3], m[4], m[5], nf->host_ifname, h[0], h[1], h[2],
		h[3], h[4], h[5]);
	if (*nf->bridge && len < n)
		len += (size_t)snprintf(buf + len, n - len, ",bridge=%s", nf->bridge);
	for (size_t i = 0; i < nf->nips && len < n; i++) {
		char a[64];
		vz_ip_format(&nf->ips[i], true, a, sizeof(a));
		len += (size_t)snprintf(buf + len, n - len, ",ip=%s", a);
	}
	if (nf->gw.family && len < n) {
		char a[64];
		vz_ip_format(&nf->gw, false, a, sizeof(a));
		len += (size_t)snprintf(buf + len, n - len, ",gw=%s", a);
	}
	if (nf->dhcp && len < n)
		(void)snprintf(buf + len, n - len, ",dhcp=yes");
}

/* inside the CT: the interface up with its addresses */
static int netif_inside(const struct vz_netif *nf, vz_error *err)
{
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	unsigned idx = if_nametoindex(nf->ifname);
	if (!idx || link_up(&nl, idx) < 0)
		r = vz_err_errno(err, VZ_E_VETH, errno, "cannot bring %s up", nf->ifname);
	for (size_t i = 0; !r && i < nf->nips; i++)
		if (addr_change(&nl, true, idx, &nf->ips[i]) < 0)
			r = vz_err_errno(err, VZ_E_VETH, errno, "cannot add an address to %s",
					 nf->ifname);
	if (!r && nf->gw.family &&
	    route_change(&nl, true, nf->gw.family, NULL, 0, nf->gw.addr, idx) < 0)
		r = vz_err_errno(err, VZ_E_VETH, errno, "cannot route via the gateway of %s",
				 nf->ifname);
	nl_close(&nl);
	return r;
}

int vz_netif_up(unsigned ctid, pid_t init_pid, const struct vz_netif *nf, vz_error *err)
{
	struct nl nl;
	int r = nl_open(&nl, err);
	if (r)
		return r;
	unsigned master = 0;
	if (*nf->bridge && !(master = if_nametoindex(nf->bridge))) {
		nl_close(&nl);
		return vz_err(err, VZ_E_VETH, "CT %u: bridge %s not found", ctid, nf->bridge);
	}
	unsigned h = 0;
	for (const char *c = nf->ifname; *c; c++)
		h = h * 31 + (unsigned char)*c;
	struct veth v = {.host = nf->host_ifname, .peer = nf->ifname, .host_mac = nf->host_mac,
			 .peer_mac = nf->mac, .master = master,
			 .index = ct_ifindex(ctid, 1 + h % 7, false),
			 .peer_index = ct_ifindex(ctid, 1 + h % 7, true)};
	int made = veth_create(&nl, &v, init_pid);
	if (made < 0 && (errno == EBUSY || errno == EEXIST) &&
	    !if_nametoindex(nf->host_ifname)) {
		v.index = v.peer_index = 0; /* two of its names met on one index */
		made = veth_create(&nl, &v, init_pid);
	}
	if (made < 0) {
		r = vz_err_errno(err, VZ_E_VETH, errno, "CT %u: cannot create %s", ctid,
				 nf->host_ifname);
		nl_close(&nl);
		return r;
	}
	unsigned idx = if_nametoindex(nf->host_ifname);
	if (!idx || link_up(&nl, idx) < 0)
		r = vz_err_errno(err, VZ_E_VETH, errno, "CT %u: cannot bring %s up", ctid,
				 nf->host_ifname);
	if (!r) {
		int pfd = (int)syscall(SYS_pidfd_open, init_pid, 0);
		pid_t c = pfd < 0 ? -1 : fork();
		if (c == 0) {
			vz_error e = {0};
			_exit(setns(pfd, CLONE_NEWNET) == 0 && netif_inside(nf, &e) == 0 ? 0 : 1);
		}
		int st = 1;
		if (c > 0)
			(void)waitpid(c, &st, 0);
		if (pfd >= 0)
			close(pfd);
		if (c < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			r = vz_err(err, VZ_E_VETH, "CT %u: cannot set up %s inside", ctid,
				   nf->ifname);
	}
	if (r && idx)
		(void)link_del(&nl, idx);
	nl_close(&nl);
	return r;
}

void vz_netif_down(const struct vz_netif *nf)
{
	unsigned idx = if_nametoindex(nf->host_ifname);
	struct nl nl;
	vz_error e;
	if (!idx || nl_open(&nl, &e))
		return;
	(void)link_del(&nl, idx);
	nl_close(&nl);
}
