/* What vz takes from outside: the config a migration peer sends, and the
 * dump a restore reads (written by a peer, or copied in by hand). Neither
 * may choose host-side values: paths, id ranges and host interface names
 * are chosen here; links and binds stay inside the dump and the CT's own
 * areas; the criu image that holds the CT's id map gets the local map. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include "internal.h"

/* ---- the peer's config ---- */

/* Keys a peer's config may carry as they are (their values are checked
 * where they are used, as for a config written by hand). */
static const char *const peer_keys[] = {
	/* resources (resources.c) and OpenVZ's beancounters, kept unused */
	"PHYSPAGES", "SWAPPAGES", "NUMPROC", "CPUUNITS", "CPULIMIT", "CPUS", "CPUMASK",
	"IOLIMIT", "IOPSLIMIT", "IOPRIO", "DISKSPACE", "DISKINODES", "KMEMSIZE",
	"LOCKEDPAGES", "PRIVVMPAGES", "SHMPAGES", "VMGUARPAGES", "OOMGUARPAGES", "NUMTCPSOCK",
	"NUMFLOCK", "NUMPTY", "NUMSIGINFO", "TCPSNDBUF", "TCPRCVBUF", "OTHERSOCKBUF",
	"DGRAMRCVBUF", "NUMOTHERSOCK", "NUMFILE", "DCACHESIZE", "NUMIPTENT", "AVNUMPROC",
	"VM_OVERCOMMIT", "MEMINFO", "CPUWEIGHT", "NODEMASK", "DISK_QUOTA", "QUOTATIME",
	"QUOTAUGIDLIMIT",
	/* the CT's own identity and settings inside it */
	"HOSTNAME", "NAMESERVER", "SEARCHDOMAIN", "DESCRIPTION", "ONBOOT", "BOOTORDER",
	"DISABLED", "STOP_TIMEOUT", "ORIGIN_SAMPLE", "CONFIGFILE", "CAPABILITY", "FEATURES",
	"IPV6", "VEID",
	/* mounts of the CT's own proc and sysfs, which CT root may make anyway */
	"NESTING",
};

static bool peer_key(const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(peer_keys); i++)
		if (!strcmp(k, peer_keys[i]))
			return true;
	return false;
}

/* Whether the address is one of this host's own (routing it to a CT
 * would take the host's traffic). */
static bool host_addr(const struct vz_ip *ip)
{
	struct ifaddrs *ifa = NULL;
	bool hit = false;
	if (getifaddrs(&ifa) < 0)
		return false;
	for (struct ifaddrs *i = ifa; i && !hit; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != ip->family)
			continue;
		if (ip->family == AF_INET)
			hit = !memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
				      ip->addr, 4);
		else
			hit = !memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr,
				      ip->addr, 16);
	}
	freeifaddrs(ifa);
	return hit;
}

/* Routed addresses from outside: well formed, no host's, no other CT's. */
static int check_ips(vz_ctx *ctx, unsigned ctid, const char *what, const char *v,
		     vz_error *err)
{
	_cleanup_free_ char *copy = xstrdup(v ? v : "");
	char *save = NULL;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		struct vz_ip ip;
		if (vz_ip_parse(w, &ip))
			return vz_err(err, VZ_E_BADIP, "CT %u: %s: invalid IP address '%.64s'", ctid,
				      what, w);
		if (host_addr(&ip))
			return vz_err(err, VZ_E_IPINUSE, "CT %u: %s: %.64s is this host's address",
				      ctid, what, w);
		unsigned o = vz_netcfg_ip_owner(ctx, ctid, &ip);
		if (o)
			return vz_err(err, VZ_E_IPINUSE, "CT %u: %s: %.64s is in use by CT %u", ctid,
				      what, w, o);
	}
	return 0;
}

/* The master must exist in this network namespace (sysfs may show
 * another's); the kernel takes only master devices (bridges, bonds). */
static bool is_bridge(const char *br)
{
	return strcmp(br, "lo") && if_nametoindex(br) != 0;
}

/* A NETIF value with host names chosen here: the host_ifname the CT's
 * own config gives that interface (local), else the name vz makes
 * (vethCTID.IF); each bridge must be one of this host's. */
static int local_netifs(unsigned ctid, const char *what, const char *v, const char *own,
			char **out, vz_error *err)
{
	struct vz_netif nf[VZ_MAX_NETIFS], mine[VZ_MAX_NETIFS];
	size_t n = 0, entries = 0;
	_cleanup_free_ char *copy = xstrdup(v ? v : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save)) {
		if (++entries > VZ_MAX_NETIFS || vz_netif_parse(t, ctid, &nf[n]))
			return vz_err(err, VZ_E_VETH, "CT %u: %s: invalid interface '%.64s'", ctid,
				      what, t);
		n++;
	}
	size_t nm = vz_netcfg_netifs(own, ctid, mine, VZ_MAX_NETIFS);
	char *list = xcalloc(1, n * 320 + 1);
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		const char *host = NULL;
		for (size_t k = 0; k < nm && !host; k++)
			if (!strcmp(mine[k].ifname, nf[i].ifname))
				host = mine[k].host_ifname;
		struct vz_netif def;
		_cleanup_free_ char *spec = xasprintf("ifname=%s", nf[i].ifname);
		if (!host && vz_netif_parse(spec, ctid, &def) == 0)
			host = def.host_ifname;
		snprintf(nf[i].host_ifname, sizeof(nf[i].host_ifname), "%s", host ? host : "");
		if (*nf[i].bridge && !is_bridge(nf[i].bridge)) {
			free(list);
			return vz_err(err, VZ_E_VETH, "CT %u: %s: no bridge %.16s on this host", ctid,
				      what, nf[i].bridge);
		}
		char one[320];
		vz_netif_format(&nf[i], one, sizeof(one));
		len += (size_t)snprintf(list + len, 320, "%s%s", len ? ";" : "", one);
	}
	*out = list;
	return 0;
}

int vz_peer_conf(vz_ctx *ctx, unsigned ctid, const struct vz_conf *in, struct vz_conf *out,
		 uid_t *base, vz_error *err)
{
	int r;
	memset(out, 0, sizeof(*out));
	*base = 0;
	for (size_t i = 0; i < in->n; i++) {
		const char *k = in->lines[i].key, *v = in->lines[i].value;
		if (!k)
			continue;
		if (!v || !vz_conf_value_ok(v)) {
			r = vz_err(err, VZ_MIG_E_CONFIG, "CT %u: the peer's %.40s: invalid value",
				   ctid, k);
			goto fail;
		}
		if (peer_key(k)) {
			vz_conf_set(out, k, v);
		} else if (!strcmp(k, "OSTEMPLATE")) {
			if (!vz_template_name_ok(v)) {
				r = vz_err(err, VZ_MIG_E_CONFIG, "CT %u: the peer's OSTEMPLATE: "
					   "invalid template name", ctid);
				goto fail;
			}
			vz_conf_set(out, k, v);
		} else if (!strcmp(k, "VE_LAYOUT")) {
			if (!vz_storage_layout_ok(v)) {
				r = vz_err(err, VZ_MIG_E_CONFIG, "CT %u: the peer's VE_LAYOUT: "
					   "not overlay or image", ctid);
				goto fail;
			}
			vz_conf_set(out, k, v);
		} else if (!strcmp(k, "NAME")) {
			unsigned other;
			vz_error e;
			if (*v && (vz_name_check(v, &e) ||
				   (vz_ct_resolve(ctx, v, &other, &e) == 0 && other != ctid))) {
				r = vz_err(err, VZ_MIG_E_CONFIG, "CT %u: the peer's NAME %.64s is "
					   "invalid or taken here", ctid, v);
				goto fail;
			}
			vz_conf_set(out, k, v);
		} else if (!strcmp(k, "IP_ADDRESS")) {
			if (check_ips(ctx, ctid, "the peer's IP_ADDRESS", v, err)) {
				err->code = r = VZ_MIG_E_CONFIG;
				goto fail;
			}
			vz_conf_set(out, k, v);
		} else if (!strcmp(k, "NETIF")) {
			_cleanup_free_ char *nv = NULL;
			if (local_netifs(ctid, "the peer's NETIF", v, NULL, &nv, err)) {
				err->code = r = VZ_MIG_E_CONFIG;
				goto fail;
			}
			vz_conf_set(out, k, nv);
		} else if (!strcmp(k, "LOCAL_UID") || !strcmp(k, "LOCAL_GID") ||
			   !strcmp(k, "VE_ROOT") || !strcmp(k, "VE_PRIVATE")) {
			; /* chosen here, below */
		} else {
			vz_log(ctx, ctid, VZ_LOG_DEBUG, "CT %u: the peer's %s is not taken", ctid, k);
		}
	}
	/* a privileged CT (its root is host root) only where this host makes
	 * privileged CTs itself */
	const char *pu = vz_conf_get(in, "LOCAL_UID");
	const char *gu = vz_conf_get(&ctx->global, "LOCAL_UID");
	bool priv = !pu || strtoul(pu, NULL, 10) == 0;
	if (priv && !(gu && !strcmp(gu, "0"))) {
		r = vz_err(err, VZ_MIG_E_CONFIG,
			   "CT %u: the peer's LOCAL_UID: a privileged CT is refused here "
			   "(vz.conf LOCAL_UID is not 0)", ctid);
		goto fail;
	}
	if (!priv && (r = vz_idmap_alloc_range(ctx, ctid, base, err)))
		goto fail;
	char num[32];
	snprintf(num, sizeof(num), "%u", (unsigned)*base);
	vz_conf_set(out, "LOCAL_UID", num);
	vz_conf_set(out, "LOCAL_GID", num);
	const char *root = vz_conf_get(&ctx->global, "VE_ROOT");
	const char *priva = vz_conf_get(&ctx->global, "VE_PRIVATE");
	if (!root || !*root || !priva || !*priva) {
		if (*base)
			vz_idmap_free(ctx, ctid, *base);
		*base = 0;
		r = vz_err(err, VZ_MIG_E_CONFIG, "vz.conf: VE_PRIVATE and VE_ROOT must be set");
		goto fail;
	}
	vz_conf_set(out, "VE_ROOT", root);
	vz_conf_set(out, "VE_PRIVATE", priva);
	return 0;
fail:
	vz_conf_free(out);
	return r;
}

/* ---- the dump ---- */

/* criu's "parent" link: to a pre-copy round next to it (top: pre-N, in
 * a round: ../pre-N); nothing else of a dump may be a link. */
static bool parent_link_ok(const char *name, const char *target, bool top)
{
	if (strcmp(name, "parent"))
		return false;
	const char *p = target;
	if (!top) {
		if (strncmp(p, "../", 3))
			return false;
		p += 3;
	}
	if (strncmp(p, "pre-", 4) || !p[4])
		return false;
	for (p += 4; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

bool vz_dump_link_ok(const char *name, const char *target)
{
	return parent_link_ok(name, target, true);
}

static bool round_dir(const char *n)
{
	if (strncmp(n, "pre-", 4) || !n[4])
		return false;
	for (n += 4; *n; n++)
		if (*n < '0' || *n > '9')
			return false;
	return true;
}

static int check_files(unsigned ctid, const char *dir, bool top, unsigned *nuserns,
		       vz_error *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return vz_err_errno(err, VZ_E_RESTORE, errno, "CT %u: cannot open %s", ctid, dir);
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return vz_err_errno(err, VZ_E_RESTORE, errno, "CT %u: cannot read %s", ctid, dir);
	}
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		struct stat st;
		const char *n = e->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode)) {
			if (top && !strncmp(n, "userns-", 7))
				(*nuserns)++;
			/* a hard link to a host file would have criu write it */
			if (st.st_nlink > 1)
				r = vz_err(err, VZ_E_RESTORE, "CT %u: the dump's %.64s has other "
					   "links", ctid, n);
		} else if (S_ISLNK(st.st_mode)) {
			char t[256];
			ssize_t l = readlinkat(dirfd(d), n, t, sizeof(t) - 1);
			t[l < 0 ? 0 : l] = '\0';
			if (l < 0 || !parent_link_ok(n, t, top))
				r = vz_err(err, VZ_E_RESTORE, "CT %u: the dump's %.64s is a link "
					   "out of it", ctid, n);
		} else if (S_ISDIR(st.st_mode) && top && round_dir(n)) {
			_cleanup_free_ char *sub = xasprintf("%s/%s", dir, n);
			r = check_files(ctid, sub, false, nuserns, err);
		} else if (S_ISSOCK(st.st_mode) && top && !strcmp(n, "lazy-pages.socket")) {
			; /* the lazy-pages daemon's, started here for this restore */
		} else if (S_ISDIR(st.st_mode) && top && !strncmp(n, ".criu.cgyard.", 13)) {
			; /* criu's cgroup yard: vz makes it, the restore mounts over it */
		} else {
			r = vz_err(err, VZ_E_RESTORE, "CT %u: the dump's %.64s is no image file",
				   ctid, n);
		}
	}
	closedir(d);
	return r;
}

/* ---- criu's userns-N.img: the CT's id map, which criu restores ----
 * Two magics, then one entry: a u32 size and a UsernsEntry message
 * (uid_map = 1, gid_map = 2, each a UidGidExtent: first = 1,
 * lower_first = 2, count = 3). */
#define IMG_COMMON_MAGIC 0x54564319u

static bool varint(const unsigned char **p, const unsigned char *end, unsigned long long *v)
{
	*v = 0;
	for (int s = 0; s < 64 && *p < end; s += 7) {
		unsigned char b = *(*p)++;
		*v |= (unsigned long long)(b & 0x7f) << s;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static size_t put_varint(unsigned char *o, unsigned long long v)
{
	size_t n = 0;
	do {
		o[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* One extent, which must map the CT's 65536 ids from 0 on. */
static bool extent_ok(const unsigned char *p, const unsigned char *end)
{
	unsigned long long first = ~0ULL, lower = ~0ULL, count = ~0ULL, v;
	while (p < end) {
		unsigned char tag = *p++;
		if ((tag & 7) != 0 || !varint(&p, end, &v))
			return false;
		switch (tag >> 3) {
		case 1: first = v; break;
		case 2: lower = v; break;
		case 3: count = v; break;
		default: return false;
		}
	}
	return first == 0 && count == VZ_IDMAP_SIZE && lower <= 0xffffffffULL;
}

static size_t put_extent(unsigned char *o, unsigned field, unsigned base)
{
	unsigned char body[32];
	size_t n = 0;
	body[n++] = 0x08;
	n += put_varint(body + n, 0);
	body[n++] = 0x10;
	n += put_varint(body + n, base);
	body[n++] = 0x18;
	n += put_varint(body + n, VZ_IDMAP_SIZE);
	size_t k = 0;
	o[k++] = (unsigned char)(field << 3 | 2);
	k += put_varint(o + k, n);
	memcpy(o + k, body, n);
	return k + n;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The map of the dump, whatever it was, becomes the CT's map here: the
 * CT's files are stored unshifted, so a new range costs nothing, and a
 * forged map (host root's ids) never reaches the kernel. */
static int userns_image_local(unsigned ctid, const char *path, uid_t ub, gid_t gb,
			      vz_error *err)
{
	size_t len = 0;
	_cleanup_free_ unsigned char *img = (unsigned char *)read_file(path, &len);
	if (!img)
		return vz_err_errno(err, VZ_E_RESTORE, errno, "CT %u: cannot read %s", ctid, path);
	if (len < 12 || len > 4096 || le32(img) != IMG_COMMON_MAGIC || le32(img + 8) != len - 12)
		return vz_err(err, VZ_E_RESTORE, "CT %u: the dump's user namespace image is not "
			      "one vz reads", ctid);
	const unsigned char *p = img + 12, *end = img + len;
	unsigned nu = 0, ng = 0;
	while (p < end) {
		unsigned char tag = *p++;
		unsigned long long l;
		if ((tag & 7) != 2 || !varint(&p, end, &l) || l > (unsigned long long)(end - p) ||
		    ((tag >> 3) != 1 && (tag >> 3) != 2) || !extent_ok(p, p + l))
			return vz_err(err, VZ_E_RESTORE, "CT %u: the dump's user namespace maps "
				      "other ids than a CT's 65536", ctid);
		(tag >> 3) == 1 ? nu++ : ng++;
		p += l;
	}
	if (nu != 1 || ng != 1)
		return vz_err(err, VZ_E_RESTORE, "CT %u: the dump's user namespace maps other ids "
			      "than a CT's 65536", ctid);
	unsigned char out[128];
	memcpy(out, img, 8);
	size_t n = 12;
	n += put_extent(out + n, 1, (unsigned)ub);
	n += put_extent(out + n, 2, (unsigned)gb);
	uint32_t sz = (uint32_t)(n - 12);
	for (int i = 0; i < 4; i++)
		out[8 + i] = (unsigned char)(sz >> (8 * i));
	_cleanup_free_ char *tmp = xasprintf("%s.vz-new", path);
	(void)unlink(tmp);
	if (write_file(tmp, (const char *)out, n, O_CREAT | O_EXCL) < 0 || rename(tmp, path) < 0) {
		int e = errno;
		(void)unlink(tmp);
		return vz_err_errno(err, VZ_E_RESTORE, e, "CT %u: cannot write %s", ctid, path);
	}
	return 0;
}

static bool word_ok(const char *s, const char *bad)
{
	return *s == '/' && !strstr(s, "/../") && !strstr(s, "/./") &&
	       (strlen(s) < 3 || strcmp(s + strlen(s) - 3, "/..")) && !strpbrk(s, bad);
}

/* HOST_BINDS words "MOUNTPOINT|KIND:ROOT": what the restore binds from
 * the host, so only what vz binds itself: lxcfs's files and the few
 * device nodes of the CT's /dev. */
static int check_binds(unsigned ctid, const char *v, vz_error *err)
{
	static const char *const devs[] = {"/null", "/zero", "/full", "/random", "/urandom",
					   "/tty"};
	_cleanup_free_ char *copy = xstrdup(v ? v : "");
	char *save = NULL;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *bar = strchr(w, '|'), *colon = bar ? strchr(bar, ':') : NULL;
		bool ok = colon != NULL;
		if (ok) {
			*bar = *colon = '\0';
			const char *kind = bar + 1, *root = colon + 1;
			ok = word_ok(w, ":,[]|") && word_ok(root, ":,[]|");
			if (ok && !strcmp(kind, "lxcfs"))
				ok = !strncmp(root, "/proc/", 6) || !strncmp(root, "/sys/", 5);
			else if (ok && !strcmp(kind, "dev")) {
				ok = false;
				for (size_t i = 0; i < ARRAY_SIZE(devs) && !ok; i++)
					ok = !strcmp(root, devs[i]);
			} else
				ok = false;
		}
		if (!ok)
			return vz_err(err, VZ_E_RESTORE, "CT %u: the dump's HOST_BINDS: %.64s is "
				      "nothing vz binds", ctid, w);
	}
	return 0;
}

int vz_dump_check(vz_ctx *ctx, const struct vz_ct *ct, const char *dir, vz_error *err)
{
	unsigned nuserns = 0;
	int r = check_files(ct->ctid, dir, true, &nuserns, err);
	if (r)
		return r;
	if (ct->uid_base && nuserns != 1)
		return vz_err(err, VZ_E_RESTORE, "CT %u: the dump has %s user namespace: it would "
			      "run with host ids", ct->ctid, nuserns ? "more than one" : "no");
	if (!ct->uid_base && nuserns)
		return vz_err(err, VZ_E_RESTORE, "CT %u: the dump is of an unprivileged CT, this "
			      "one is privileged", ct->ctid);
	if (nuserns) {
		DIR *d = opendir(dir);
		struct dirent *e;
		while (!r && d && (e = readdir(d)))
			if (!strncmp(e->d_name, "userns-", 7)) {
				_cleanup_free_ char *p = xasprintf("%s/%s", dir, e->d_name);
				r = userns_image_local(ct->ctid, p, ct->uid_base, ct->gid_base, err);
			}
		if (d)
			closedir(d);
		if (r)
			return r;
	}
	struct vz_conf meta;
	_cleanup_free_ char *mp = xasprintf("%s/vz-dump.conf", dir);
	if ((r = vz_conf_load(&meta, mp, err)))
		return r;
	const char *tty = vz_conf_get(&meta, "TTY");
	if (tty && strspn(tty, "0123456789abcdef:") != strlen(tty))
		r = vz_err(err, VZ_E_RESTORE, "CT %u: the dump's TTY: invalid value", ct->ctid);
	if (!r)
		r = check_binds(ct->ctid, vz_conf_get(&meta, "HOST_BINDS"), err);
	if (!r && (r = check_ips(ctx, ct->ctid, "the dump's IP_ADDRESS",
				 vz_conf_get(&meta, "IP_ADDRESS"), err)))
		err->code = r = VZ_E_RESTORE;
	_cleanup_free_ char *nv = NULL;
	const char *nif = vz_conf_get(&meta, "NETIF");
	if (!r && (r = local_netifs(ct->ctid, "the dump's NETIF", nif,
				    vz_conf_get(&ct->conf, "NETIF"), &nv, err)))
		err->code = r = VZ_E_RESTORE;
	/* the host names chosen here, kept where the restore reads them */
	if (!r && nv && strcmp(nv, nif ? nif : "")) {
		vz_conf_set(&meta, "NETIF", nv);
		r = vz_conf_save(&meta, mp, err);
	}
	vz_conf_free(&meta);
	return r;
}
