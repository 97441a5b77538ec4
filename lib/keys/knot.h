/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Knot's own tools as the interlock's hands: keymgr (list keys as JSON, set
 * key timers, pre-generate ZSKs) and knotc (zone-backup, zone-restore,
 * zone-keys-load, conf-export), run as child processes with a bounded run
 * time and their output captured. The same calls work against Knot 3.2, 3.4
 * and 3.5. Also `knotc conf-export`, read back: zone -> policy -> keystore,
 * the KASP database directory.
 */
#ifndef ZONEGATE_KEYS_KNOT_H
#define ZONEGATE_KEYS_KNOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/decide.h"
#include "keys/keyset.h"

/*! What a finished child process left. */
typedef struct {
	char *out;     /*!< Standard output, NUL-terminated (owned). */
	size_t outlen;
	char *err;     /*!< Standard error, NUL-terminated (owned). */
	size_t errlen;
	int status;    /*!< Exit status, or 128 + signal. */
} zg_exec_result_t;

/*!
 * Runs argv[0] (a path, or a name looked up in PATH) with argv, without a
 * shell, signals unblocked and SIGPIPE at its default (knotd blocks and
 * ignores them in its threads), stdin from /dev/null; captures stdout and
 * stderr (each at most 64 MiB). Kills the child once \a timeout_ms passes.
 *
 * \param env  NULL, or "NAME=VALUE" strings added to (replacing) the
 *             environment, NULL-terminated.
 *
 * \return 0 when the child ran (see res->status), ZG_ETIMEOUT (killed),
 *         -errno (could not start it), -ENOMEM.
 */
int zg_exec(const char *const argv[], const char *const env[], int timeout_ms,
            zg_exec_result_t *res);

/*! Frees the captured output. */
void zg_exec_result_free(zg_exec_result_t *res);

/*! How to run Knot's tools. */
typedef struct {
	const char *keymgr;     /*!< Path or name of keymgr. */
	const char *knotc;      /*!< Path or name of knotc. */
	const char *conf_opt;   /*!< "-c" (file), "-C" (confdb) or NULL (Knot's default). */
	const char *conf_arg;
	const char *kasp_dir;   /*!< If set, keymgr uses `-D DIR` (the KASP database only,
	                             no keystore) for list and set. */
	int timeout_ms;         /*!< Per command. */
} zg_knot_t;

/*!
 * `keymgr ... -j ZONE list`: the zone's keys.
 *
 * \param err  Receives keymgr's message or the reason on failure.
 *
 * \return 0, ZG_EINPUT (keymgr failed), ZG_ESYNTAX, ZG_ETIMEOUT, -errno.
 */
int zg_keymgr_list(const zg_knot_t *kt, const char *zone, zg_keyset_t *ks, char *err,
                   size_t errlen);

/*!
 * `keymgr ... ZONE set id=ID TIMER=VALUE...` with the plan's changes of one
 * key (index \a key; all of its changes in one call, so Knot's timer order
 * is checked on the result).
 *
 * \return 0, ZG_EINPUT (keymgr refused), ZG_ETIMEOUT, -errno.
 */
int zg_keymgr_apply(const zg_knot_t *kt, const char *zone, const zg_keys_plan_t *plan,
                    size_t key, char *err, size_t errlen);

/*!
 * `keymgr -c/-C ZONE pregenerate +SECONDS`: ZSKs for automatic rollovers
 * until now + \a period, generated in the keystore now (Knot's offline-KSK
 * tool, which also serves ordinary policies).
 */
int zg_keymgr_pregenerate(const zg_knot_t *kt, const char *zone, int64_t period, char *err,
                          size_t errlen);

/*!
 * `knotc -b ... ARGS` (blocking). \a args is NULL-terminated.
 *
 * \return 0, ZG_EINPUT (knotc failed; err holds its message), ZG_ETIMEOUT, -errno.
 */
int zg_knotc(const zg_knot_t *kt, const char *const args[], char *err, size_t errlen);

/*! One item of `knotc conf-export`: section, id (or domain), item, values. */
typedef struct {
	char *section;
	char *id;        /*!< NULL in sections without ids (server, database). */
	char *item;
	char **values;   /*!< NULL-terminated, unquoted. */
} zg_kconf_item_t;

/*! Knot's configuration as exported; zg_kconf_deinit() frees it. */
typedef struct {
	zg_kconf_item_t *items;
	size_t count;
} zg_kconf_t;

/*!
 * Parses the text of `knotc conf-export` (Knot's normalised YAML).
 *
 * \return 0, ZG_ESYNTAX (err names the line), -ENOMEM.
 */
int zg_kconf_parse(zg_kconf_t *conf, const char *text, char *err, size_t errlen);

/*! Runs `knotc ... conf-export FILE` into a temporary file and parses it. */
int zg_kconf_load(zg_kconf_t *conf, const zg_knot_t *kt, char *err, size_t errlen);

/*! Frees the items. */
void zg_kconf_deinit(zg_kconf_t *conf);

/*! First value of SECTION[ID].ITEM (id NULL for sections without ids), or NULL. */
const char *zg_kconf_get(const zg_kconf_t *conf, const char *section, const char *id,
                         const char *item);

/*!
 * A zone item, from the zone or else its template (or the "default"
 * template), or NULL.
 */
const char *zg_kconf_zone(const zg_kconf_t *conf, const char *zone, const char *item);

/*!
 * The zones with dnssec-signing on (names as exported, owned by conf): up to
 * \a max into \a out; returns how many there are.
 */
size_t zg_kconf_signed_zones(const zg_kconf_t *conf, const char **out, size_t max);

/*! Where the zone's keys live. */
typedef struct {
	char policy[128];      /*!< Policy id ("default" when none is set). */
	char keystore[128];    /*!< Keystore id ("default"). */
	char backend[16];      /*!< "pkcs11" or "pem". */
	char config[1024];     /*!< Knot's keystore config (PKCS #11 URI and module, or a directory). */
	char kasp_dir[1024];   /*!< The KASP database directory. */
} zg_kconf_zone_keys_t;

/*!
 * Resolves the zone's policy, keystore and KASP directory (Knot's defaults:
 * storage /var/lib/knot, kasp-db "keys" in it, keystore "default" = PEM files
 * in KASP-DIR/keys) and fills \a pol with the policy's values (Knot's
 * defaults for unset items).
 *
 * \param signed_only  Refuse a zone with dnssec-signing off (a zone being
 *                     restored onto a new signer is configured unsigned
 *                     until its KASP state is back).
 *
 * \return 0, ZG_EINPUT (err: the zone is not configured, or not signed).
 */
int zg_kconf_zone_keys(const zg_kconf_t *conf, const char *zone, bool signed_only,
                       zg_kconf_zone_keys_t *out, zg_keys_policy_t *pol, char *err,
                       size_t errlen);

#endif /* ZONEGATE_KEYS_KNOT_H */
