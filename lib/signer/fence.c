/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "dns/dnsclient.h"
#include "signer/fence.h"

/* Serial arithmetic (RFC 1982): whether a is above b. */
static bool serial_above(uint32_t a, uint32_t b)
{
	return a != b && (uint32_t)(a - b) < 0x80000000U;
}

bool zg_fence_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family) {
		return false;
	}
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

zg_fence_t zg_fence_decide(const zg_fence_in_t *in, bool *new_token)
{
	*new_token = false;
	const zg_lease_info_t *l = in->lease;
	if (!l->exists) {
		return ZG_FENCE_NO_LEASE;
	}
	if (l->remaining_ms <= 0) {
		return ZG_FENCE_EXPIRED;
	}
	if (in->holder_addr == NULL) {
		return ZG_FENCE_NO_ADDRESS;
	}
	if (!zg_fence_addr_equal(in->holder_addr, in->from)) {
		return ZG_FENCE_NOT_HOLDER;
	}
	if (l->token < in->last_token) {
		return ZG_FENCE_TOKEN_BACK;
	}
	if (l->token > in->last_token) {
		if (in->have_last_serial && !serial_above(in->serial, in->last_serial)) {
			return ZG_FENCE_SERIAL_BACK;
		}
		*new_token = true;
	}
	return ZG_FENCE_ACCEPT;
}

char *zg_fence_reason(zg_fence_t d, const zg_fence_in_t *in, char *buf, size_t len)
{
	const zg_lease_info_t *l = in->lease;
	switch (d) {
	case ZG_FENCE_NO_LEASE:
		snprintf(buf, len, "no signer lease taken for the zone");
		break;
	case ZG_FENCE_EXPIRED:
		snprintf(buf, len, "signer lease of %s, token %lld, expired", l->holder,
		         (long long)l->token);
		break;
	case ZG_FENCE_NO_ADDRESS:
		snprintf(buf, len, "signer lease held by %s, token %lld, a holder of no known "
		         "address", l->holder, (long long)l->token);
		break;
	case ZG_FENCE_ACCEPT:
	case ZG_FENCE_NOT_HOLDER:
		snprintf(buf, len, "signer lease held by %s, token %lld", l->holder,
		         (long long)l->token);
		break;
	case ZG_FENCE_TOKEN_BACK:
		snprintf(buf, len, "signer lease token %lld of %s is below token %lld accepted "
		         "before", (long long)l->token, l->holder, (long long)in->last_token);
		break;
	case ZG_FENCE_SERIAL_BACK:
		snprintf(buf, len, "first serial of %s under token %lld is not above the last "
		         "accepted serial %u", l->holder, (long long)l->token, in->last_serial);
		break;
	}
	return buf;
}

int zg_fence_map_parse(const char *text, char *holder, size_t holder_len,
                       struct sockaddr_storage *addr)
{
	const char *at = strchr(text, '@');
	if (at == NULL || at == text || (size_t)(at - text) >= holder_len) {
		return ZG_EINPUT;
	}
	if (zg_dns_addr_parse(at + 1, 53, addr) != 0) {
		return ZG_EINPUT;
	}
	memcpy(holder, text, (size_t)(at - text));
	holder[at - text] = '\0';
	return 0;
}

int zg_fence_holder_addr(const char *const *map, size_t n, const char *holder,
                         struct sockaddr_storage *out)
{
	char name[256];
	for (size_t i = 0; i < n; i++) {
		if (zg_fence_map_parse(map[i], name, sizeof(name), out) == 0 &&
		    strcmp(name, holder) == 0) {
			return 0;
		}
	}
	return zg_dns_addr_parse(holder, 53, out) == 0 ? 0 : ZG_EINPUT;
}

_Static_assert(ZG_FENCE_MAP_MAX == 16, "the error text says 16");

const char *zg_fence_conf_check(const char *const *map, size_t n, const char *lease)
{
	if (n > ZG_FENCE_MAP_MAX) {
		return "at most 16 signer items";
	}
	for (size_t i = 0; i < n; i++) {
		char holder[256];
		struct sockaddr_storage ss;
		if (zg_fence_map_parse(map[i], holder, sizeof(holder), &ss) != 0) {
			return "signer must be HOLDER@ADDRESS (the lease holder's name, "
			       "an IP address, optionally with @port)";
		}
	}
	if (n > 0 && lease == NULL) {
		return "signer needs lease";
	}
	if (lease != NULL) {
		zg_lease_store_t *st = NULL;
		char err[128];
		int ret = zg_lease_open(lease, &st, err, sizeof(err));
		zg_lease_free(st);
		if (ret != 0) {
			return "lease must be a postgresql:// URI or a libpq key=value string";
		}
	}
	return NULL;
}
