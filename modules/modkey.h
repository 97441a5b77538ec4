/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The modules' TSIG keys: a module item that references knotd's `key:`
 * section (YP_TREF) becomes a knot_tsig_key_t. Header only, included by
 * mod-ingest, mod-validate and mod-dsync.
 */
#ifndef ZONEGATE_MODULES_MODKEY_H
#define ZONEGATE_MODULES_MODKEY_H

#include <stdlib.h>
#include <string.h>

#include <knot/module.h>
#include <libknot/tsig.h>

/*
 * Copies the key that ref (a reference to the key section; its raw value is
 * the key's wire name) names into key. Returns KNOT_ENOENT when the key has
 * no secret, KNOT_ENOMEM; key is left empty on error and must be released
 * with knot_tsig_key_deinit() otherwise.
 */
static inline int zg_modkey_load(knotd_mod_t *mod, const knotd_conf_val_t *ref,
                                 knot_tsig_key_t *key)
{
	memset(key, 0, sizeof(*key));
	knotd_conf_t id = { .single = *ref, .count = 1 };
	knotd_conf_t alg = knotd_conf(mod, (const yp_name_t *)"\x03""key",
	                              (const yp_name_t *)"\x09""algorithm", &id);
	knotd_conf_t sec = knotd_conf(mod, (const yp_name_t *)"\x03""key",
	                              (const yp_name_t *)"\x06""secret", &id);
	if (sec.single.data == NULL || sec.single.data_len == 0) {
		return KNOT_ENOENT;
	}
	key->algorithm = (dnssec_tsig_algorithm_t)alg.single.option;
	key->name = knot_dname_copy(ref->data, NULL);
	key->secret.data = malloc(sec.single.data_len);
	if (key->name == NULL || key->secret.data == NULL) {
		knot_tsig_key_deinit(key);
		return KNOT_ENOMEM;
	}
	memcpy(key->secret.data, sec.single.data, sec.single.data_len);
	key->secret.size = sec.single.data_len;
	return KNOT_EOK;
}

#endif /* ZONEGATE_MODULES_MODKEY_H */
