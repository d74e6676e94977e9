/* libFuzzer target: vz_ip_parse (net.c), which reads --ipadd, IP_ADDRESS
 * and the ip=/gw= of NETIF from configs and migration peers. An address it
 * takes must print (vz_ip_format) as one it reads back the same. */
#include <sys/socket.h>
#include "internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char *s = fuzz_str(data, size);
	struct vz_ip ip;
	if (vz_ip_parse(s, &ip) == 0) {
		FUZZ_CHECK(ip.family == AF_INET || ip.family == AF_INET6, "family %d", ip.family);
		unsigned max = ip.family == AF_INET ? 32 : 128;
		FUZZ_CHECK(ip.prefix >= 1 && ip.prefix <= max, "prefix %u", ip.prefix);
		for (int with = 0; with < 2; with++) {
			char buf[64], small[8];
			struct vz_ip back;
			vz_ip_format(&ip, with, buf, sizeof(buf));
			vz_ip_format(&ip, with, small, sizeof(small));
			FUZZ_CHECK(vz_ip_parse(buf, &back) == 0, "%s printed as %s", s, buf);
			FUZZ_CHECK(vz_ip_same(&ip, &back), "%s printed as %s", s, buf);
			FUZZ_CHECK(!with || back.prefix == ip.prefix, "%s printed as %s", s, buf);
		}
	}
	free(s);
	return 0;
}
