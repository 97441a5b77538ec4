/* SPDX-License-Identifier: GPL-3.0-or-later */
/* signer/lease.h: the lease key and the choice of store (the store itself
 * runs against a real PostgreSQL in tests/func/signer-lease.sh). */
#include <errno.h>
#include <stddef.h>

#include "core/error.h"
#include "signer/lease.h"
#include "tap.h"

int main(void)
{
	plan_lazy();
	char key[32];
	is_int(zg_lease_key("Example.TEST.", key, sizeof(key)), 0, "key of a zone");
	is_str(key, "signer:example.test", "lower case, no final dot");
	is_int(zg_lease_key("example.test", key, sizeof(key)), 0, "without the final dot");
	is_str(key, "signer:example.test", "the same key");
	is_int(zg_lease_key(".", key, sizeof(key)), 0, "the root");
	is_str(key, "signer:.", "the root keeps its dot");
	is_int(zg_lease_key("", key, sizeof(key)), -EINVAL, "empty zone refused");
	is_int(zg_lease_key(NULL, key, sizeof(key)), -EINVAL, "no zone refused");
	char small[12];
	is_int(zg_lease_key("example.test", small, sizeof(small)), -EINVAL, "a key too long refused");

	zg_lease_store_t *s = NULL;
	char err[128] = "";
	is_int(zg_lease_open("etcd://127.0.0.1:2379", &s, err, sizeof(err)), ZG_ENOTSUP,
	       "etcd not supported yet");
	is_str(err, "lease store 'etcd' not supported (postgresql:// only)", "and says so");
	ok(s == NULL, "no store");
	is_int(zg_lease_open("", &s, err, sizeof(err)), -EINVAL, "empty URI refused");
	is_int(zg_lease_open("postgresql://u@/db?host=/nonexistent", &s, err, sizeof(err)), 0,
	       "a PostgreSQL store opens lazily");
	ok(s != NULL, "store made");
	zg_lease_info_t info;
	is_int(zg_lease_read(s, "test", &info, err, sizeof(err)), ZG_ECONNECT,
	       "an unreachable database: ZG_ECONNECT");
	ok(err[0] != '\0', "with a reason");
	int64_t token = 0;
	is_int(zg_lease_take(s, "", "a", 1000, &token, err, sizeof(err)), -EINVAL,
	       "empty zone refused by the store");
	zg_lease_free(s);
	zg_lease_free(NULL);
	ok(true, "zg_lease_free(NULL)");
	return done_testing();
}
