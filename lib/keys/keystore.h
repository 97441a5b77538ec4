/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Are the keys in the keystore? Opens a Knot keystore with libdnssec (the
 * library knotd signs with: "pkcs11" with Knot's config string "PKCS11-URI
 * MODULE-PATH", or "pem" with a directory) and fetches each key's private
 * key; the public key derived from it must have the key's tag, so a key
 * counts as present only if it is the right one.
 */
#ifndef ZONEGATE_KEYS_KEYSTORE_H
#define ZONEGATE_KEYS_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "keys/keyset.h"

/*!
 * Checks keys[0..n) in the keystore, in this process. libdnssec's crypto
 * must be initialised (dnssec_crypto_init(); knotd has done it). Safe in
 * knotd's process: it opens its own PKCS #11 sessions and never logs out or
 * finalises the module.
 *
 * \param present  Receives, per key, whether the keystore holds it.
 * \param err      On failure, what failed ("keystore not available (...)").
 *
 * \return 0 (see present[]), ZG_EINPUT (unknown backend), or the libdnssec
 *         error of opening the keystore (then no key is present).
 */
int zg_keystore_check(const char *backend, const char *config, const zg_key_t *keys, size_t n,
                      bool *present, char *err, size_t errlen);

/*!
 * Opens and closes the keystore without fetching any key: for PKCS #11 the
 * token must be present (no login; a login rewrites SoftHSM's token.object,
 * and other processes reading it meanwhile may find the token missing, so
 * frequent checks use this and zg_keystore_check() only now and then).
 *
 * \return 0, or the libdnssec error (err says what failed).
 */
int zg_keystore_available(const char *backend, const char *config, char *err, size_t errlen);

/*!
 * The same in a child process, with SOFTHSM2_CONF set to \a softhsm_conf
 * when it is not NULL (so a copied SoftHSM token directory can be checked
 * without touching the live one, and the calling process never loads a
 * PKCS #11 module). Bounded by \a timeout_ms.
 *
 * \return as zg_keystore_check(), or ZG_ETIMEOUT, -errno.
 */
int zg_keystore_check_child(const char *softhsm_conf, const char *backend, const char *config,
                            const zg_key_t *keys, size_t n, bool *present, int timeout_ms,
                            char *err, size_t errlen);

/*! The config string without a "pin-value=..." attribute (for manifests and logs). */
void zg_keystore_config_public(const char *config, char *out, size_t outlen);

#endif /* ZONEGATE_KEYS_KEYSTORE_H */
