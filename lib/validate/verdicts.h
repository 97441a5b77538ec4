/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The verdict store of a validating follower (mod-validate): the latest
 * verdicts on a zone's serials, each with the digest of the content it was
 * made on, and their state file, so that a restart keeps what validated.
 *
 * State file (format 2; format 1, without key and digests, is read too):
 *
 *   zonegate-mod-validate 2
 *   zone ZONE
 *   key KEY                                     (digest key, 64 hex digits)
 *   last-validated SERIAL                       (once a serial has validated)
 *   lease-token TOKEN                           (downstream fencing: highest
 *                                                signer lease token accepted)
 *   verdict SERIAL valid TIME EXPIRY DIGEST     (EXPIRY, DIGEST "-" if unknown)
 *   verdict SERIAL failed TIME - DIGEST
 *   end COUNT                                   (COUNT verdict lines above)
 *
 * No locking here: the caller serialises access.
 */
#ifndef ZONEGATE_VERDICTS_H
#define ZONEGATE_VERDICTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "validate/digest.h"

/*! Most verdicts kept (the oldest goes first). */
#define ZG_VERDICTS_MAX 64

/*! One verdict. */
typedef struct {
	uint32_t serial;
	bool valid;
	bool restored;              /*!< Read from a file, not validated since. */
	int64_t time;               /*!< Unix time of the verdict. */
	int64_t expiry;             /*!< Valid: earliest signature expiry, INT64_MAX unknown. */
	bool has_digest;            /*!< The content the verdict was made on is known: */
	zg_digest_t digest;         /*!< its digest. */
} zg_verdict_t;

/*! The verdicts of one zone, oldest first. */
typedef struct {
	unsigned version;           /*!< Format of the file it was read from (1, 2). */
	zg_verdict_t v[ZG_VERDICTS_MAX];
	unsigned count;
	uint32_t last_valid;        /*!< Last validated serial (have_last_valid). */
	bool have_last_valid;
	int64_t lease_token;        /*!< Highest signer lease token accepted (0: none). */
	uint8_t key[ZG_DIGEST_KEY_LEN];  /*!< Digest key (have_key). */
	bool have_key;
} zg_verdicts_t;

/*!
 * Records the verdict of \a serial (replacing an older one of the same
 * serial; the oldest verdict goes when the store is full).
 *
 * \param expiry  Valid: earliest signature expiry (INT64_MAX unknown).
 * \param digest  Digest of the content judged, or NULL if unknown.
 */
void zg_verdicts_record(zg_verdicts_t *s, uint32_t serial, bool valid, int64_t time,
                        int64_t expiry, const zg_digest_t *digest);

/*!
 * The content digest of the newest verdict of \a serial (\a valid_only: a
 * valid one).
 *
 * \return true if found (*out set).
 */
bool zg_verdicts_digest(const zg_verdicts_t *s, uint32_t serial, bool valid_only,
                        zg_digest_t *out);

/*!
 * Writes the store with key \a s->key to \a path for zone \a zone (text)
 * atomically: a temporary file in the same directory (mode 0640), fsync,
 * rename, fsync of the directory.
 *
 * \return 0 or -errno.
 */
int zg_verdicts_write(const zg_verdicts_t *s, const char *zone, const char *path);

/*!
 * Parses a state file of zone \a zone (text, compared without case). Nothing
 * is set in \a out but on success; every verdict read is marked restored.
 *
 * \param line  Receives the line of the error.
 * \param why   Receives the reason of a -EINVAL (static text).
 *
 * \return 0, -EINVAL (malformed: *line, *why), -errno (read error).
 */
int zg_verdicts_parse(FILE *f, const char *zone, zg_verdicts_t *out, unsigned *line,
                      const char **why);

/*!
 * The state file of zone \a zone (text) in \a dir: DIR/NAME.mod-validate,
 * NAME the zone name without the final dot ("root" for the root zone), a
 * '/' in it written \047.
 *
 * \return 0 or -ENAMETOOLONG (out set to "").
 */
int zg_verdicts_path(const char *dir, const char *zone, char *out, size_t len);

/*!
 * zg_verdicts_path() of a directory given relative to \a cwd (knotd's
 * working directory, as knotd reads a relative storage): a relative \a dir
 * is joined to \a cwd unless cwd is NULL or "".
 *
 * \return 0, -ENOENT (dir NULL or "") or -ENAMETOOLONG (out set to "").
 */
int zg_verdicts_path_at(const char *cwd, const char *dir, const char *zone,
                        char *out, size_t len);

#endif
