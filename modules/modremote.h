/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A remote of knotd's configuration as a module reaches it: its addresses in
 * order, each with the local address to send from (as Knot: the first of the
 * remote's via addresses of the same family), and its TSIG key. Header only,
 * included by mod-validate (source, notify) and mod-dsync (parent).
 */
#ifndef ZONEGATE_MODULES_MODREMOTE_H
#define ZONEGATE_MODULES_MODREMOTE_H

#include <string.h>
#include <sys/socket.h>

#include "modules/knotd-compat.h"
#include "modules/modkey.h"

#define ZG_MOD_C_RMT	(const yp_name_t *)"\x06""remote"
#define ZG_MOD_C_ADDR	(const yp_name_t *)"\x07""address"
#define ZG_MOD_C_VIA	(const yp_name_t *)"\x03""via"
#define ZG_MOD_C_KEY	(const yp_name_t *)"\x03""key"

/*! Called for each address of a remote; via AF_UNSPEC: any local address. */
typedef void (*zg_mod_remote_cb)(void *arg, const struct sockaddr_storage *addr,
                                 const struct sockaddr_storage *via);

/* A reference to a remote (or any section) by its id, as text. */
static inline knotd_conf_t zg_mod_conf_id(const char *text)
{
	knotd_conf_t id = { .count = 1 };
	id.single.data = (const uint8_t *)text;
	id.single.data_len = strlen(text) + 1;
	return id;
}

/*
 * Reads the remote id: each(arg, addr, via) for each of its addresses in
 * order, *naddr their number (0: no remote with an address by that id). When
 * key is not NULL it receives the remote's key (name NULL: the remote has
 * none). Returns KNOT_EOK, or the error of a key that is not usable (the
 * addresses are still reported; key is left empty).
 */
static inline int zg_mod_remote(knotd_mod_t *mod, const knotd_conf_t *id,
                                zg_mod_remote_cb each, void *arg, size_t *naddr,
                                knot_tsig_key_t *key)
{
	knotd_conf_t addrs = knotd_conf(mod, ZG_MOD_C_RMT, ZG_MOD_C_ADDR, id);
	*naddr = addrs.count;
	if (key != NULL) {
		memset(key, 0, sizeof(*key));
	}
	if (addrs.count == 0) {
		knotd_conf_free(&addrs);
		return KNOT_EOK;
	}
	int ret = KNOT_EOK;
	if (key != NULL) {
		knotd_conf_t kref = knotd_conf(mod, ZG_MOD_C_RMT, ZG_MOD_C_KEY, id);
		if (kref.count == 1) {
			ret = zg_modkey_load(mod, &kref.single, key);
		}
		knotd_conf_free(&kref);
	}
	knotd_conf_t via = knotd_conf(mod, ZG_MOD_C_RMT, ZG_MOD_C_VIA, id);
	for (size_t i = 0; i < addrs.count; i++) {
		struct sockaddr_storage from = { 0 };
		for (size_t v = 0; v < via.count; v++) {
			if (via.multi[v].addr.ss_family == addrs.multi[i].addr.ss_family) {
				from = via.multi[v].addr;
				break;
			}
		}
		each(arg, &addrs.multi[i].addr, &from);
	}
	knotd_conf_free(&via);
	knotd_conf_free(&addrs);
	return ret;
}

#endif /* ZONEGATE_MODULES_MODREMOTE_H */
