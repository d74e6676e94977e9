/* A CT's network settings as `set` changes them: routed addresses
 * (IP_ADDRESS) and bridged veths (NETIF), checked first, applied to a
 * running CT from the network namespace its monitor lives in, then saved. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <net/if.h>
#include <stdlib.h>
#include "internal.h"

#define MAX_IPS 64

/* IP_ADDRESS of a config: space-separated addresses */
static size_t conf_ips(const char *v, struct vz_ip *ips, size_t max)
{
	size_t n = 0;
	_cleanup_free_ char *copy = xstrdup(v ? v : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, " \t", &save); t && n < max; t = strtok_r(NULL, " \t", &save))
		if (vz_ip_parse(t, &ips[n]) == 0)
			n++;
	return n;
}

static bool ip_in(const struct vz_ip *ip, const struct vz_ip *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (vz_ip_same(ip, &list[i]))
			return true;
	return false;
}

/* Another CT of this root whose config holds the address: its id, else 0. */
static unsigned ip_owner(vz_ctx *ctx, unsigned self, const struct vz_ip *ip)
{
	unsigned *ids = NULL;
	size_t n = 0;
	unsigned owner = 0;
	vz_error e;
	if (vz_list_ids(ctx, &ids, &n, &e))
		return 0;
	for (size_t i = 0; i < n && !owner; i++) {
		struct vz_ct o;
		struct vz_ip ips[MAX_IPS];
		if (ids[i] == self || vz_ct_load(ctx, ids[i], &o, &e))
			continue;
		size_t k = conf_ips(vz_conf_get(&o.conf, "IP_ADDRESS"), ips, MAX_IPS);
		struct vz_state st;
		if (ip_in(ip, ips, k))
			owner = ids[i];
		if (!owner && vz_state_read(ctx, ids[i], &st) == 1) {
			_cleanup_free_ char *live = vz_state_net_read(ctx, ids[i], "ip");
			k = conf_ips(live, ips, MAX_IPS);
			if (ip_in(ip, ips, k))
				owner = ids[i];
		}
		vz_ct_free(&o);
	}
	free(ids);
	return owner;
}

/* base minus del (all of it with del_all) plus add, as IP_ADDRESS text */
static char *merge_ips(const struct vz_ip *base, size_t nb, const struct vz_ip *add,
		       size_t na, const struct vz_ip *del, size_t nd, bool del_all)
{
	char *list = xcalloc(1, (nb + na) * 48 + 1);
	size_t len = 0;
	for (size_t i = 0; i < nb + na; i++) {
		const struct vz_ip *ip = i < nb ? &base[i] : &add[i - nb];
		char a[64];
		if (i < nb && (del_all || ip_in(ip, del, nd)))
			continue;
		if (i >= nb && (ip_in(ip, add, i - nb) || (!del_all && ip_in(ip, base, nb) &&
							   !ip_in(ip, del, nd))))
			continue; /* already there */
		vz_ip_format(ip, true, a, sizeof(a));
		len += (size_t)sprintf(list + len, "%s%s", len ? " " : "", a);
	}
	return list;
}

/* Checks --ipadd/--ipdel; gives what to add and remove. */
static int check_ips(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o,
		     struct vz_ip *add, struct vz_ip *del, bool *del_all, vz_error *err)
{
	*del_all = false;
	if (o->nipadd > MAX_IPS || o->nipdel > MAX_IPS)
		return vz_err(err, VZ_E_BADIP, "CT %u: too many addresses", ctid);
	for (size_t i = 0; i < o->nipadd; i++) {
		if (vz_ip_parse(o->ipadd[i], &add[i]))
			return vz_err(err, VZ_E_BADIP, "CT %u: invalid IP address '%.64s'", ctid,
				      o->ipadd[i]);
		unsigned owner = ip_owner(ctx, ctid, &add[i]);
		if (owner)
			return vz_err(err, VZ_E_IPINUSE, "CT %u: IP address %.64s is in use by CT %u",
				      ctid, o->ipadd[i], owner);
	}
	for (size_t i = 0; i < o->nipdel; i++) {
		if (!strcmp(o->ipdel[i], "all"))
			*del_all = true;
		else if (vz_ip_parse(o->ipdel[i], &del[i]))
			return vz_err(err, VZ_E_BADIP, "CT %u: invalid IP address '%.64s'", ctid,
				      o->ipdel[i]);
	}
	return 0;
}

/* The running CT's addresses change; on failure nothing stays changed. */
static int apply_ips_here(struct vz_ct *ct, pid_t init, unsigned mtu, const struct vz_ip *old,
			  size_t nold, const struct vz_ip *add, size_t nadd,
			  const struct vz_ip *del, size_t ndel, bool del_all, vz_error *err)
{
	if (del_all) {
		vz_net_cleanup(ct->ctid);
	} else {
		int r = vz_net_del(ct->ctid, init, del, ndel, err);
		if (r)
			return r;
	}
	int r = vz_net_add(ct->ctid, init, mtu, add, nadd, err);
	if (r) {
		vz_error e;
		(void)vz_net_add(ct->ctid, init, mtu, old, nold, &e);
	}
	return r;
}

/* the bridged veths of a config, NETIF entries split by ';' */
size_t vz_netcfg_netifs(const char *v, unsigned ctid, struct vz_netif *nf, size_t max)
{
	size_t n = 0;
	_cleanup_free_ char *copy = xstrdup(v ? v : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, ";", &save); t && n < max; t = strtok_r(NULL, ";", &save))
		if (vz_netif_parse(t, ctid, &nf[n]) == 0)
			n++;
	return n;
}

/* vzctl's positional form IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE] */
static int netif_spec(const char *spec, unsigned ctid, struct vz_netif *nf)
{
	static const char *const keys[] = {"ifname", "mac", "host_ifname", "host_mac", "bridge"};
	char buf[512];
	size_t len = 0, k = 0;
	const char *p = spec;
	size_t commas = 0;
	for (const char *c = spec; *c; c++)
		commas += *c == ',';
	if (strlen(spec) > 200 || strchr(spec, '=') || strchr(spec, ';') || commas > 4)
		return -1;
	while (k < 5) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s=%.*s",
						len ? "," : "", keys[k], (int)n, p);
		else if (k == 0)
			return -1;
		k++;
		if (!c)
			break;
		p = c + 1;
	}
	return vz_netif_parse(buf, ctid, nf);
}

static bool netif_deleted(const struct vz_netchange *nc, const char *ifname);

/* have minus deleted plus added, as NETIF text */
static char *merge_netifs(const struct vz_netif *have, size_t nh, const struct vz_netchange *nc)
{
	char *list = xcalloc(1, (nh + nc->nnetif_add) * 320 + 1);
	size_t len = 0;
	for (size_t i = 0; i < nh + nc->nnetif_add; i++) {
		const struct vz_netif *nf = i < nh ? &have[i] : &nc->netifs[i - nh];
		char one[320];
		if (i < nh && netif_deleted(nc, nf->ifname))
			continue;
		vz_netif_format(nf, one, sizeof(one));
		len += (size_t)sprintf(list + len, "%s%s", len ? ";" : "", one);
	}
	return list;
}

/* the CT's veths as they are: live when running, else saved */
static size_t current_netifs(vz_ctx *ctx, const struct vz_ct *ct, struct vz_netif *nf)
{
	_cleanup_free_ char *live = vz_state_net_read(ctx, ct->ctid, "netif");
	struct vz_state st;
	bool running = vz_state_read(ctx, ct->ctid, &st) == 1;
	return vz_netcfg_netifs(running && live ? live : vz_conf_get(&ct->conf, "NETIF"), ct->ctid,
			   nf, VZ_MAX_NETIFS);
}

/* --ifname IF with --bridge, --mac, --host_ifname, --host_mac, --gw,
 * --ipadd, --ipdel: the veth IF as it will be */
static int check_mod(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o,
		     struct vz_netchange *nc, vz_error *err)
{
	struct vz_ct ct;
	struct vz_netif have[VZ_MAX_NETIFS];
	struct vz_ip ip;
	int r = vz_ct_load(ctx, ctid, &ct, err);
	if (r)
		return r;
	size_t nh = current_netifs(ctx, &ct, have);
	vz_ct_free(&ct);
	const struct vz_netif *cur = NULL;
	for (size_t i = 0; i < nh; i++)
		if (!strcmp(have[i].ifname, o->ifname))
			cur = &have[i];
	if (!cur)
		return vz_err(err, VZ_E_VETH, "CT %u has no interface %.32s (--netif_add it)", ctid,
			      o->ifname);
	for (size_t i = 0; i < o->nipadd; i++)
		if (vz_ip_parse(o->ipadd[i], &ip))
			return vz_err(err, VZ_E_BADIP, "CT %u: invalid IP address '%.64s'", ctid,
				      o->ipadd[i]);
	if (o->gw && (vz_ip_parse(o->gw, &ip) || strchr(o->gw, '/')))
		return vz_err(err, VZ_E_BADIP, "CT %u: invalid gateway '%.64s'", ctid, o->gw);
	/* the entry with the new values on top, parsed as a whole */
	char spec[1024];
	vz_netif_format(cur, spec, sizeof(spec));
	size_t len = strlen(spec);
	if (o->dhcp && strcmp(o->dhcp, "yes") && strcmp(o->dhcp, "no"))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: --dhcp %.16s: yes or no", ctid, o->dhcp);
	const char *keys[] = {"bridge", "mac", "host_ifname", "host_mac", "gw", "dhcp"};
	const char *vals[] = {o->bridge, o->mac, o->host_ifname, o->host_mac, o->gw, o->dhcp};
	for (size_t i = 0; i < 6; i++)
		if (vals[i])
			len += (size_t)snprintf(spec + len, sizeof(spec) - len, ",%s=%.64s", keys[i],
						vals[i]);
	for (size_t i = 0; i < o->nipadd && len < sizeof(spec); i++)
		len += (size_t)snprintf(spec + len, sizeof(spec) - len, ",ip=%.64s", o->ipadd[i]);
	if (len >= sizeof(spec) || (o->bridge && !*o->bridge) ||
	    vz_netif_parse(spec, ctid, &nc->mod))
		return vz_err(err, VZ_E_BADVALUE, "CT %u: invalid settings for %.32s", ctid,
			      o->ifname);
	/* ipdel: the old ones go (ADDR or all); the added ones stay */
	size_t keep = 0, nold = cur->nips;
	for (size_t i = 0; i < nc->mod.nips; i++) {
		bool gone = false;
		for (size_t k = 0; i < nold && k < o->nipdel; k++)
			gone |= !strcmp(o->ipdel[k], "all") ||
				(vz_ip_parse(o->ipdel[k], &ip) == 0 && vz_ip_same(&ip, &nc->mod.ips[i]));
		if (!gone)
			nc->mod.ips[keep++] = nc->mod.ips[i];
	}
	nc->mod.nips = keep;
	nc->has_mod = true;
	return 0;
}

int vz_netcfg_check(vz_ctx *ctx, unsigned ctid, const struct vz_set_opts *o,
		    struct vz_netchange *nc, vz_error *err)
{
	if (o->ifname)
		return check_mod(ctx, ctid, o, nc, err);
	if (o->bridge || o->mac || o->host_ifname || o->host_mac || o->gw || o->dhcp)
		return vz_err(err, VZ_E_BADOPT, "CT %u: --bridge, --mac, --host_ifname, "
			      "--host_mac, --gw and --dhcp need --ifname", ctid);
	if (check_ips(ctx, ctid, o, nc->add, nc->del, &nc->del_all, err))
		return err->code;
	nc->nadd = o->nipadd;
	nc->ndel = o->nipdel;
	if (o->nnetif_add > VZ_MAX_NETIFS || o->nnetif_del > VZ_MAX_NETIFS)
		return vz_err(err, VZ_E_VETH, "CT %u: too many interfaces", ctid);
	for (size_t i = 0; i < o->nnetif_add; i++) {
		if (netif_spec(o->netif_add[i], ctid, &nc->netifs[i]))
			return vz_err(err, VZ_E_BADVALUE, "CT %u: --netif_add %.64s: expected "
				      "IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE]", ctid, o->netif_add[i]);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(nc->netifs[j].ifname, nc->netifs[i].ifname))
				return vz_err(err, VZ_E_VETH, "CT %u: %s given twice", ctid,
					      nc->netifs[i].ifname);
	}
	nc->nnetif_add = o->nnetif_add;
	for (size_t i = 0; i < o->nnetif_del; i++) {
		if (!strcmp(o->netif_del[i], "all"))
			nc->netif_del_all = true;
		else if (strlen(o->netif_del[i]) >= sizeof(nc->netif_del[i]) ||
			 strchr(o->netif_del[i], ',') || strchr(o->netif_del[i], ';'))
			return vz_err(err, VZ_E_BADVALUE, "CT %u: --netif_del %.64s: no such name",
				      ctid, o->netif_del[i]);
		else
			snprintf(nc->netif_del[i], sizeof(nc->netif_del[i]), "%s", o->netif_del[i]);
	}
	nc->nnetif_del = o->nnetif_del;
	/* an interface the CT has already (saved, or live when running) */
	struct vz_ct ct;
	if (nc->nnetif_add && vz_ct_load(ctx, ctid, &ct, err) == 0) {
		struct vz_netif have[VZ_MAX_NETIFS];
		_cleanup_free_ char *live = vz_state_net_read(ctx, ctid, "netif");
		size_t nh = vz_netcfg_netifs(vz_conf_get(&ct.conf, "NETIF"), ctid, have, VZ_MAX_NETIFS);
		size_t nl = vz_netcfg_netifs(live, ctid, have + nh, VZ_MAX_NETIFS - nh);
		vz_ct_free(&ct);
		for (size_t i = 0; i < nc->nnetif_add; i++)
			for (size_t j = 0; j < nh + nl; j++)
				if (!strcmp(have[j].ifname, nc->netifs[i].ifname) &&
				    !netif_deleted(nc, have[j].ifname))
					return vz_err(err, VZ_E_VETH, "CT %u: it has %s already", ctid,
						      have[j].ifname);
	}
	return 0;
}

static bool netif_deleted(const struct vz_netchange *nc, const char *ifname)
{
	if (nc->netif_del_all)
		return true;
	for (size_t i = 0; i < nc->nnetif_del; i++)
		if (!strcmp(nc->netif_del[i], ifname))
			return true;
	return false;
}

struct live {
	vz_ctx *ctx;
	struct vz_ct *ct;
	const struct vz_state *st;
	const struct vz_netchange *nc;
};

/* In the host's network namespace: the whole change, or none of it. */
static int apply_here(const struct live *l, vz_error *err)
{
	const struct vz_netchange *nc = l->nc;
	struct vz_ct *ct = l->ct;
	unsigned mtu = vz_net_mtu(l->ctx);
	struct vz_ip cur[MAX_IPS];
	struct vz_netif have[VZ_MAX_NETIFS];
	_cleanup_free_ char *live = vz_state_net_read(l->ctx, ct->ctid, "ip");
	size_t ncur = conf_ips(live ? live : vz_conf_get(&ct->conf, "IP_ADDRESS"), cur, MAX_IPS);
	_cleanup_free_ char *live_nf = vz_state_net_read(l->ctx, ct->ctid, "netif");
	size_t nhave = vz_netcfg_netifs(live_nf ? live_nf : vz_conf_get(&ct->conf, "NETIF"), ct->ctid,
				   have, VZ_MAX_NETIFS);
	int r = 0;
	if (nc->nadd || nc->ndel || nc->del_all) {
		r = apply_ips_here(ct, l->st->init_pid, mtu, cur, ncur, nc->add, nc->nadd, nc->del,
				   nc->ndel, nc->del_all, err);
		if (r)
			return r;
		_cleanup_free_ char *now = merge_ips(cur, ncur, nc->add, nc->nadd, nc->del,
						     nc->ndel, nc->del_all);
		if ((r = vz_state_net_write(l->ctx, ct->ctid, "ip", now, err)))
			return r;
	}
	if (nc->has_mod) {
		for (size_t i = 0; i < nhave; i++) {
			if (strcmp(have[i].ifname, nc->mod.ifname))
				continue;
			/* made anew with the new settings; the old one back on failure */
			vz_netif_down(&have[i]);
			if ((r = vz_netif_up(ct->ctid, l->st->init_pid, &nc->mod, err))) {
				vz_error e;
				(void)vz_netif_up(ct->ctid, l->st->init_pid, &have[i], &e);
				return r;
			}
			have[i] = nc->mod;
		}
		_cleanup_free_ char *now = merge_netifs(have, nhave, nc);
		return vz_state_net_write(l->ctx, ct->ctid, "netif", now, err);
	}
	for (size_t i = 0; i < nhave; i++)
		if (netif_deleted(nc, have[i].ifname))
			vz_netif_down(&have[i]);
	for (size_t i = 0; i < nc->nnetif_add; i++) {
		if (if_nametoindex(nc->netifs[i].host_ifname))
			return vz_err(err, VZ_E_VETH, "CT %u: %s already exists", ct->ctid,
				      nc->netifs[i].host_ifname);
		if ((r = vz_netif_up(ct->ctid, l->st->init_pid, &nc->netifs[i], err))) {
			for (size_t j = 0; j < i; j++)
				vz_netif_down(&nc->netifs[j]);
			return r;
		}
	}
	if (nc->nnetif_add || nc->nnetif_del) {
		_cleanup_free_ char *now = merge_netifs(have, nhave, nc);
		r = vz_state_net_write(l->ctx, ct->ctid, "netif", now, err);
	}
	return r;
}

/* The host end lives in the network namespace of the CT's monitor, which
 * need not be this vzctl's: work from there. */
int vz_netcfg_apply(vz_ctx *ctx, struct vz_ct *ct, const struct vz_state *st,
		    const struct vz_netchange *nc, vz_error *err)
{
	struct live l = {ctx, ct, st, nc};
	struct stat a, b;
	_cleanup_free_ char *mon = xasprintf("/proc/%d/ns/net", (int)st->monitor_pid);
	if (st->monitor_pid <= 0 || stat(mon, &b) < 0 || stat("/proc/self/ns/net", &a) < 0 ||
	    a.st_ino == b.st_ino)
		return apply_here(&l, err);
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "pipe");
	pid_t c = fork();
	if (c == 0) {
		vz_error e = {0};
		int fd = open(mon, O_RDONLY | O_CLOEXEC);
		close(p[0]);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
			vz_err_errno(&e, VZ_E_SYSTEM, errno, "CT %u: cannot enter the host's network",
				     ct->ctid);
		else
			(void)apply_here(&l, &e);
		if (e.code)
			(void)dprintf(p[1], "%03d%s", e.code, e.msg);
		_exit(e.code ? 1 : 0);
	}
	close(p[1]);
	if (c < 0) {
		close(p[0]);
		return vz_err_errno(err, VZ_E_SYSTEM, errno, "fork");
	}
	char buf[sizeof(err->msg) + 4];
	ssize_t n = read_all(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	int status = 0;
	(void)waitpid(c, &status, 0);
	if (n > 3) {
		buf[n] = '\0';
		int code = atoi((char[]){buf[0], buf[1], buf[2], 0});
		return vz_err(err, code ? code : VZ_E_SYSTEM, "%s", buf + 3);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return vz_err(err, VZ_E_SYSTEM, "CT %u: network change failed", ct->ctid);
	return 0;
}

void vz_netcfg_save(struct vz_ct *ct, const struct vz_netchange *nc)
{
	if (nc->nadd || nc->ndel || nc->del_all) {
		struct vz_ip saved[MAX_IPS];
		size_t ns = conf_ips(vz_conf_get(&ct->conf, "IP_ADDRESS"), saved, MAX_IPS);
		_cleanup_free_ char *list = merge_ips(saved, ns, nc->add, nc->nadd, nc->del,
						      nc->ndel, nc->del_all);
		if (*list)
			vz_conf_set(&ct->conf, "IP_ADDRESS", list);
		else
			vz_conf_unset(&ct->conf, "IP_ADDRESS");
	}
	if (nc->nnetif_add || nc->nnetif_del || nc->netif_del_all || nc->has_mod) {
		struct vz_netif have[VZ_MAX_NETIFS];
		size_t nh = vz_netcfg_netifs(vz_conf_get(&ct->conf, "NETIF"), ct->ctid, have,
					VZ_MAX_NETIFS);
		bool found = false;
		for (size_t i = 0; nc->has_mod && i < nh; i++)
			if (!strcmp(have[i].ifname, nc->mod.ifname))
				have[i] = nc->mod, found = true;
		if (nc->has_mod && !found && nh < VZ_MAX_NETIFS)
			have[nh++] = nc->mod; /* added live before, saved now */
		_cleanup_free_ char *list = merge_netifs(have, nh, nc);
		if (*list)
			vz_conf_set(&ct->conf, "NETIF", list);
		else
			vz_conf_unset(&ct->conf, "NETIF");
	}
}

int vz_netcfg_start(vz_ctx *ctx, struct vz_ct *ct, pid_t init_pid, vz_error *err)
{
	struct vz_ip ips[MAX_IPS];
	struct vz_netif nf[VZ_MAX_NETIFS];
	const char *v = vz_ct_get(ct, ctx, "IP_ADDRESS");
	size_t n = conf_ips(v, ips, MAX_IPS);
	size_t nn = vz_netcfg_netifs(vz_ct_get(ct, ctx, "NETIF"), ct->ctid, nf, VZ_MAX_NETIFS);
	vz_netcfg_stop(ctx, ct); /* whatever an earlier run left */
	int r = vz_net_add(ct->ctid, init_pid, vz_net_mtu(ctx), ips, n, err);
	for (size_t i = 0; !r && i < nn; i++)
		r = vz_netif_up(ct->ctid, init_pid, &nf[i], err);
	/* recorded only when there is something (most CTs start with neither);
	 * a reboot drops what an earlier boot had live */
	vz_state_net_clear(ctx, ct->ctid, "ip");
	vz_state_net_clear(ctx, ct->ctid, "netif");
	if (!r && n)
		r = vz_state_net_write(ctx, ct->ctid, "ip", v, err);
	const char *nv = vz_ct_get(ct, ctx, "NETIF");
	return r || !nn ? r : vz_state_net_write(ctx, ct->ctid, "netif", nv, err);
}

int vz_netcfg_restored(vz_ctx *ctx, struct vz_ct *ct, const char *ip, const char *netif,
		       vz_error *err)
{
	struct vz_ip ips[MAX_IPS];
	struct vz_netif nf[VZ_MAX_NETIFS];
	size_t n = conf_ips(ip, ips, MAX_IPS);
	size_t nn = vz_netcfg_netifs(netif, ct->ctid, nf, VZ_MAX_NETIFS);
	int r = n ? vz_net_restored(ct->ctid, vz_net_mtu(ctx), ips, n, err) : 0;
	for (size_t i = 0; !r && i < nn; i++)
		r = vz_netif_restored(ct->ctid, &nf[i], err);
	vz_state_net_clear(ctx, ct->ctid, "ip");
	vz_state_net_clear(ctx, ct->ctid, "netif");
	if (!r && n)
		r = vz_state_net_write(ctx, ct->ctid, "ip", ip, err);
	if (!r && nn)
		r = vz_state_net_write(ctx, ct->ctid, "netif", netif, err);
	return r;
}

void vz_netcfg_stop(vz_ctx *ctx, struct vz_ct *ct)
{
	struct vz_netif nf[VZ_MAX_NETIFS];
	_cleanup_free_ char *live = vz_state_net_read(ctx, ct->ctid, "netif");
	size_t nn = vz_netcfg_netifs(live ? live : vz_ct_get(ct, ctx, "NETIF"), ct->ctid, nf,
				VZ_MAX_NETIFS);
	vz_net_cleanup(ct->ctid);
	for (size_t i = 0; i < nn; i++)
		vz_netif_down(&nf[i]);
}

/* ---- DNS: NAMESERVER and SEARCHDOMAIN into the CT's /etc/resolv.conf ---- */

static bool domain_ok(const char *d)
{
	size_t n = strlen(d), label = 0;
	if (n == 0 || n > 253 || *d == '.' || *d == '-')
		return false;
	for (const char *c = d; *c; c++) {
		if (*c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			   (*c >= '0' && *c <= '9') || *c == '-' || *c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

int vz_dns_check(unsigned ctid, const struct vz_set_opts *o, char **ns, char **search,
		 vz_error *err)
{
	*ns = *search = NULL;
	size_t len = 0;
	if (o->nnameserver) {
		*ns = xcalloc(1, o->nnameserver * 48 + 1);
		for (size_t i = 0; i < o->nnameserver; i++) {
			struct vz_ip ip;
			const char *v = o->nameserver[i];
			if (strcmp(v, "inherit") && (vz_ip_parse(v, &ip) || strchr(v, '/')))
				return vz_err(err, VZ_E_BADDNS, "CT %u: invalid nameserver '%.64s'",
					      ctid, v);
			len += (size_t)sprintf(*ns + len, "%s%.46s", len ? " " : "", v);
		}
	}
	len = 0;
	if (o->nsearchdomain) {
		*search = xcalloc(1, o->nsearchdomain * 256 + 1);
		for (size_t i = 0; i < o->nsearchdomain; i++) {
			if (!domain_ok(o->searchdomain[i]))
				return vz_err(err, VZ_E_BADSEARCH, "CT %u: invalid search domain '%.64s'",
					      ctid, o->searchdomain[i]);
			len += (size_t)sprintf(*search + len, "%s%s", len ? " " : "", o->searchdomain[i]);
		}
	}
	return 0;
}

/* "inherit" becomes the host's nameservers: call while the host's
 * /etc/resolv.conf is in view. */
char *vz_dns_expand(const char *ns)
{
	if (!ns)
		return NULL;
	char *out = xcalloc(1, 4096);
	size_t len = 0;
	_cleanup_free_ char *copy = xstrdup(ns);
	char *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (strcmp(t, "inherit")) {
			len += (size_t)snprintf(out + len, 4096 - len, "%s%s", len ? " " : "", t);
			continue;
		}
		_cleanup_free_ char *host = read_file("/etc/resolv.conf", NULL);
		char *s2 = NULL;
		for (char *l = host ? strtok_r(host, "\n", &s2) : NULL; l && len < 4000;
		     l = strtok_r(NULL, "\n", &s2)) {
			char a[64];
			struct vz_ip ip;
			if (sscanf(l, "nameserver %63s", a) == 1 && vz_ip_parse(a, &ip) == 0)
				len += (size_t)snprintf(out + len, 4096 - len, "%s%s", len ? " " : "",
							a);
		}
	}
	return out;
}

/* Inside the CT: /etc/resolv.conf keeps its other lines; nameserver and
 * search lines come from the config when it sets them. */
int vz_dns_write(const char *ns, const char *search)
{
	if (!ns && !search)
		return 0;
	_cleanup_free_ char *old = read_ct_file("/etc/resolv.conf", NULL);
	size_t cap = (old ? strlen(old) : 0) + (ns ? strlen(ns) * 2 + 256 : 0) +
		     (search ? strlen(search) + 16 : 0) + 64;
	_cleanup_free_ char *text = xcalloc(1, cap);
	size_t len = 0;
	if (search)
		len += (size_t)snprintf(text + len, cap - len, "search %s\n", search);
	_cleanup_free_ char *copy = xstrdup(ns ? ns : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		len += (size_t)snprintf(text + len, cap - len, "nameserver %s\n", t);
	char *s2 = NULL;
	for (char *l = old ? strtok_r(old, "\n", &s2) : NULL; l; l = strtok_r(NULL, "\n", &s2)) {
		if ((ns && !strncmp(l, "nameserver", 10)) ||
		    (search && (!strncmp(l, "search", 6) || !strncmp(l, "domain", 6))))
			continue;
		len += (size_t)snprintf(text + len, cap - len, "%s\n", l);
	}
	(void)unlink("/etc/resolv.conf.vz");
	if (write_file("/etc/resolv.conf.vz", text, len, O_CREAT | O_EXCL) < 0 ||
	    rename("/etc/resolv.conf.vz", "/etc/resolv.conf") < 0)
		return -1;
	return 0;
}

struct netifs_inside {
	const struct vz_netif *nf;
	size_t n;
};

static int write_netifs(void *arg)
{
	const struct netifs_inside *in = arg;
	return vz_distro_netifs(in->nf, in->n) < 0 ? 2 : 0;
}

/* --dhcp on a running CT: its ifupdown block rewritten and the interface
 * brought up (or down) by the CT's own ifup, which runs its DHCP client. */
int vz_netcfg_dhcp_live(vz_ctx *ctx, struct vz_ct *ct, const struct vz_netchange *nc,
			vz_error *err)
{
	if (!nc->has_mod)
		return 0;
	struct vz_netif have[VZ_MAX_NETIFS];
	_cleanup_free_ char *live = vz_state_net_read(ctx, ct->ctid, "netif");
	size_t nh = vz_netcfg_netifs(live ? live : vz_conf_get(&ct->conf, "NETIF"), ct->ctid, have,
				     VZ_MAX_NETIFS);
	const char *ifn = nc->mod.ifname;
	char *down[] = {"/bin/sh", "-c", "ifdown \"$1\" >/dev/null 2>&1; exit 0", "vz-dhcp",
			(char *)ifn, NULL};
	char *up[] = {"/bin/sh", "-c", "ifup \"$1\"", "vz-dhcp", (char *)ifn, NULL};
	int st = 0, r;
	/* down first, while the stanza is still there for ifdown to read */
	if ((r = vz_exec_input(ctx, ct->ctid, VZ_EXEC_DIRECT, down, "", &st, err)))
		return r;
	struct vz_state s;
	if (vz_state_read(ctx, ct->ctid, &s) != 1)
		return vz_err(err, VZ_E_NOTRUNNING, "CT %u is not running", ct->ctid);
	struct netifs_inside in = {have, nh};
	if (vz_run_in_ct(ctx, ct, &s, write_netifs, &in) != 0)
		return vz_err(err, VZ_E_VETH, "CT %u: cannot write /etc/network/interfaces",
			      ct->ctid);
	if (!nc->mod.dhcp)
		return 0;
	if ((r = vz_exec_input(ctx, ct->ctid, VZ_EXEC_DIRECT, up, "", &st, err)))
		return r;
	if (st)
		return vz_err(err, VZ_E_VETH, "CT %u: ifup %s failed inside (exit %d): no lease?",
			      ct->ctid, ifn, st);
	return 0;
}

unsigned vz_netcfg_ip_owner(vz_ctx *ctx, unsigned self, const struct vz_ip *ip)
{
	return ip_owner(ctx, self, ip);
}
