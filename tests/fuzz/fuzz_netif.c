/* libFuzzer target: NETIF values (net.c vz_netif_parse, through netcfg.c's
 * split on ';'), from configs, `vzctl set` and migration peers. An entry
 * it takes must print (vz_netif_format, what is saved) as one that parses
 * back to the same interface; printing into short buffers stays inside. */
#include "internal.h"
#include "fuzz.h"

static void same_netif(const struct vz_netif *a, const struct vz_netif *b, const char *text)
{
	FUZZ_CHECK(!strcmp(a->ifname, b->ifname) && !strcmp(a->host_ifname, b->host_ifname) &&
			   !strcmp(a->bridge, b->bridge),
		   "names differ after %s", text);
	FUZZ_CHECK(!memcmp(a->mac, b->mac, 6) && !memcmp(a->host_mac, b->host_mac, 6),
		   "MACs differ after %s", text);
	FUZZ_CHECK(a->nips == b->nips && a->dhcp == b->dhcp && a->gw.family == b->gw.family,
		   "ips, gw or dhcp differ after %s", text);
	for (size_t i = 0; i < a->nips; i++)
		FUZZ_CHECK(vz_ip_same(&a->ips[i], &b->ips[i]) &&
				   a->ips[i].prefix == b->ips[i].prefix,
			   "ip %zu differs after %s", i, text);
	FUZZ_CHECK(!a->gw.family || vz_ip_same(&a->gw, &b->gw), "gw differs after %s", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = fuzz_str(data, size);
	struct vz_netif nf[VZ_MAX_NETIFS];
	size_t n = vz_netcfg_netifs(s, 101, nf, VZ_MAX_NETIFS);
	FUZZ_CHECK(n <= VZ_MAX_NETIFS, "%zu interfaces", n);
	for (size_t i = 0; i < n; i++) {
		const struct vz_netif *f = &nf[i];
		FUZZ_CHECK(*f->ifname && *f->host_ifname && f->has_mac && f->has_host_mac &&
				   f->nips <= VZ_NETIF_IPS,
			   "entry %zu incomplete", i);
		FUZZ_CHECK(memchr(f->ifname, '\0', sizeof(f->ifname)) &&
				   memchr(f->host_ifname, '\0', sizeof(f->host_ifname)) &&
				   memchr(f->bridge, '\0', sizeof(f->bridge)),
			   "entry %zu: a name not terminated", i);
		char buf[1024], small[24];
		vz_netif_format(f, buf, sizeof(buf));
		vz_netif_format(f, small, sizeof(small));
		FUZZ_CHECK(vz_conf_value_ok(buf), "%s cannot be saved", buf);
		struct vz_netif back;
		FUZZ_CHECK(vz_netif_parse(buf, 101, &back) == 0, "%s printed as %s, refused", s,
			   buf);
		same_netif(f, &back, buf);
	}
	free(s);
	return 0;
}
