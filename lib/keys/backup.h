/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * A backup of a Knot + SoftHSM signer, as `zg-keys backup` makes it:
 *
 *     DIR/MANIFEST   what is in it (text, written last, atomically)
 *     DIR/knot/      `knotc zone-backup +kaspdb` of the zones (Knot's KASP
 *                    database: key metadata and timers)
 *     DIR/token/     a copy of the SoftHSM token directory (the private keys,
 *                    encrypted by SoftHSM under the token's PIN)
 *
 * MANIFEST, one record a line, fields separated by tabs:
 *
 *     zonegate-keys-backup 1
 *     created<TAB>2026-12-05T12:23:32Z
 *     keystore<TAB>hsm<TAB>pkcs11<TAB>pkcs11:token=zonegate /usr/lib/softhsm/libsofthsm2.so
 *     zone<TAB>test.
 *     key<TAB>test.<TAB>KEY-ID<TAB>TAG<TAB>ALGORITHM<TAB>KSK|ZSK|CSK
 *     file<TAB>SHA-256<TAB>knot/keys/data.mdb
 *
 * The keystore config is Knot's, without its pin-value. Every file of the
 * backup except MANIFEST and LMDB lock files (lock.mdb, which LMDB rewrites
 * when the database is opened) is listed with its SHA-256, so corruption is
 * found before anything is restored.
 */
#ifndef ZONEGATE_KEYS_BACKUP_H
#define ZONEGATE_KEYS_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys/keyset.h"

#define ZG_BACKUP_MAGIC "zonegate-keys-backup 1"

/*! A key in a backup. */
typedef struct {
	char zone[256];
	zg_key_t key;          /*!< id, tag, algorithm, flags (timers not recorded). */
} zg_backup_key_t;

/*! A file of a backup and its SHA-256 (hex). */
typedef struct {
	char path[512];        /*!< Relative to the backup directory. */
	char sha256[65];
} zg_backup_file_t;

/*! A backup's manifest; zg_backup_manifest_deinit() frees it. */
typedef struct {
	int64_t created;
	char keystore[64];     /*!< Knot's keystore id. */
	char backend[16];      /*!< "pkcs11" or "pem". */
	char config[1024];     /*!< Knot's keystore config without pin-value. */
	char (*zones)[256];
	size_t nzones;
	zg_backup_key_t *keys;
	size_t nkeys;
	zg_backup_file_t *files;
	size_t nfiles;
} zg_backup_manifest_t;

/*! Frees the arrays and clears the manifest. */
void zg_backup_manifest_deinit(zg_backup_manifest_t *m);

/*! Adds a zone (lowercase, final dot). \return 0, -ENOMEM. */
int zg_backup_manifest_add_zone(zg_backup_manifest_t *m, const char *zone);

/*! Adds a key of a zone. \return 0, -ENOMEM. */
int zg_backup_manifest_add_key(zg_backup_manifest_t *m, const char *zone, const zg_key_t *key);

/*!
 * Parses a manifest's text. \a err names the line and the problem.
 *
 * \return 0, ZG_ESYNTAX, -ENOMEM.
 */
int zg_backup_manifest_parse(zg_backup_manifest_t *m, const char *text, size_t len, char *err,
                             size_t errlen);

/*! Reads DIR/MANIFEST. \return as zg_backup_manifest_parse(), or -errno (err names the file). */
int zg_backup_manifest_load(zg_backup_manifest_t *m, const char *dir, char *err, size_t errlen);

/*!
 * Lists every file under \a dir (except MANIFEST and lock.mdb files) with
 * its SHA-256 into m->files (replacing them), sorted by path.
 *
 * \return 0, -errno (err names the file).
 */
int zg_backup_hash_files(zg_backup_manifest_t *m, const char *dir, char *err, size_t errlen);

/*! Writes DIR/MANIFEST atomically (temporary file, fsync, rename). */
int zg_backup_manifest_write(const zg_backup_manifest_t *m, const char *dir, char *err,
                             size_t errlen);

/*!
 * Checks the files of the backup in \a dir against its manifest: every
 * listed file is there with its SHA-256, and no other file is (except
 * lock.mdb).
 *
 * \return 0, ZG_EINPUT (err: "knot/keys/data.mdb: checksum mismatch"), -errno.
 */
int zg_backup_verify_files(const zg_backup_manifest_t *m, const char *dir, char *err,
                           size_t errlen);

/*! The key of zone \a zone with id \a id in the manifest, or NULL. */
const zg_backup_key_t *zg_backup_find_key(const zg_backup_manifest_t *m, const char *zone,
                                          const char *id);

/*! True if the manifest lists \a zone (case-insensitive, final dot optional). */
bool zg_backup_has_zone(const zg_backup_manifest_t *m, const char *zone);

/*!
 * Copies the tree \a src to \a dst (which must not exist): directories and
 * regular files with their modes; symbolic links and other files are
 * refused. Files are fsynced.
 *
 * \return 0, -errno (err names the path).
 */
int zg_copy_tree(const char *src, const char *dst, char *err, size_t errlen);

/*!
 * The token directory of a SoftHSM configuration file (directories.tokendir).
 *
 * \return 0, ZG_EINPUT (no tokendir line), -errno.
 */
int zg_softhsm_tokendir(const char *conf_path, char *out, size_t outlen, char *err,
                        size_t errlen);

/*!
 * Writes a SoftHSM configuration that uses \a tokendir (file object store)
 * to \a path.
 */
int zg_softhsm_conf_write(const char *path, const char *tokendir, char *err, size_t errlen);

/*! What restoring a backed-up token directory into a live one would do. */
typedef enum {
	ZG_TOKEN_INTACT = 0,    /*!< The live token has every file of the backup. */
	ZG_TOKEN_RESTORE_DIR,   /*!< The live token directory is missing or empty: copied back. */
	ZG_TOKEN_RESTORE_FILES, /*!< Same token (token.object equal but for SoftHSM's leading
	                             8-byte generation counter), object files missing: copied. */
	ZG_TOKEN_CONFLICT,      /*!< Another token is there (initialised anew): refused. */
} zg_token_action_t;

/*!
 * Plans (\a apply false) or carries out (\a apply true) the restore of every
 * token directory of \a backup_tokendir into \a live_tokendir. Planning
 * changes nothing; carrying out copies a whole directory under a temporary
 * name and renames it into place, or copies missing object files. Refuses a
 * conflict (a live token directory of the same name holding another token)
 * without changing anything.
 *
 * \param summary  Receives what was (or would be) done, one clause per token.
 *
 * \return 0, ZG_EINPUT (conflict; err names the directory), -errno.
 */
int zg_token_restore(const char *backup_tokendir, const char *live_tokendir, bool apply,
                     char *summary, size_t sumlen, char *err, size_t errlen);

#endif /* ZONEGATE_KEYS_BACKUP_H */
