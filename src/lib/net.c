/* Network setup over rtnetlink (libmnl): the CT's own namespace starts
 * with loopback up. Routed IPs and veth come in the networking module. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include "internal.h"

static int link_set_up(struct mnl_socket *nl, unsigned ifindex, vz_error *err)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	unsigned seq = (unsigned)time(NULL);
	nlh->nlmsg_seq = seq;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)ifindex;
	ifm->ifi_change = IFF_UP;
	ifm->ifi_flags = IFF_UP;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "netlink send");
	ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "netlink receive");
	if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "cannot bring lo up");
	return 0;
}

int vz_net_lo_up(vz_error *err)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "netlink socket");
	int r;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = vz_err_errno(err, VZ_E_SYSTEM, errno, "netlink bind");
	else
		r = link_set_up(nl, 1 /* lo is always 1 in a new netns */, err);
	mnl_socket_close(nl);
	return r;
}
