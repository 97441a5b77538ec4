/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "signer/lease.h"
#include "signer/pglease.h"

int zg_lease_open(const char *uri, zg_lease_store_t **out, char *err, size_t err_len)
{
	*out = NULL;
	if (uri == NULL || uri[0] == '\0') {
		snprintf(err, err_len, "no lease store given");
		return -EINVAL;
	}
	const char *colon = strstr(uri, "://");
	if (colon == NULL || strncmp(uri, "postgresql://", 13) == 0 ||
	    strncmp(uri, "postgres://", 11) == 0) {
		return zg_pglease_new(uri, out);
	}
	snprintf(err, err_len, "lease store '%.*s' not supported (postgresql:// only)",
	         (int)(colon - uri), uri);
	return ZG_ENOTSUP;
}

int zg_lease_take(zg_lease_store_t *s, const char *zone, const char *holder,
                  unsigned period_ms, int64_t *token, char *err, size_t err_len)
{
	return s->ops->take(s, zone, holder, period_ms, token, err, err_len);
}

int zg_lease_renew(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                   unsigned period_ms, char *err, size_t err_len)
{
	return s->ops->renew(s, zone, holder, token, period_ms, err, err_len);
}

int zg_lease_release(zg_lease_store_t *s, const char *zone, const char *holder, int64_t token,
                     char *err, size_t err_len)
{
	return s->ops->release(s, zone, holder, token, err, err_len);
}

int zg_lease_read(zg_lease_store_t *s, const char *zone, zg_lease_info_t *info,
                  char *err, size_t err_len)
{
	memset(info, 0, sizeof(*info));
	return s->ops->read(s, zone, info, err, err_len);
}

void zg_lease_free(zg_lease_store_t *s)
{
	if (s != NULL) {
		s->ops->free(s);
	}
}

int zg_lease_key(const char *zone, char *key, size_t len)
{
	if (zone == NULL || zone[0] == '\0') {
		return -EINVAL;
	}
	size_t n = strlen(zone);
	while (n > 1 && zone[n - 1] == '.') {
		n--;
	}
	if (n + sizeof("signer:") > len) {
		return -EINVAL;
	}
	int w = snprintf(key, len, "signer:");
	for (size_t i = 0; i < n; i++) {
		char c = zone[i];
		key[w++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	key[w] = '\0';
	return 0;
}
