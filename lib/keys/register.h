/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The backup register: which DNSSEC keys (zone, key id and tag, keystore)
 * are in which backup, when it was made and where it is. A text file, one
 * line per key and backup, written only as a whole (temporary file, fsync,
 * rename) under an exclusive lock on PATH.lock, so readers (mod-keys, other
 * signers sharing the file) always see a complete version:
 *
 *     zonegate-keys-register 1
 *     # zone<TAB>key-id<TAB>key-tag<TAB>keystore<TAB>backed-up<TAB>location
 *     test.<TAB>0578b3fa...<TAB>23112<TAB>hsm<TAB>2026-12-05T12:16:32Z<TAB>/var/backups/knot-keys/20261205T121632Z
 *
 * The first line names the format; '#' lines and empty lines are comments.
 * Zone names are lowercase with the final dot, key ids lowercase hex (Knot's
 * key id: the PKCS #11 CKA_ID or the key's SHA-1), times UTC (ISO 8601, 'Z').
 * The location is free text without tabs (a directory for zg-keys backup, a
 * vault or tape label for a backup made with an HSM vendor's tool). A key
 * may appear once per backup; the register knows nothing about signers, so
 * several signers can share it.
 */
#ifndef ZONEGATE_KEYS_REGISTER_H
#define ZONEGATE_KEYS_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*! First line of a register file. */
#define ZG_REG_MAGIC "zonegate-keys-register 1"

#define ZG_REG_ZONE_MAX     256
#define ZG_REG_ID_MAX       129   /*!< Up to 128 hex digits (64-byte CKA_ID) and NUL. */
#define ZG_REG_KEYSTORE_MAX 64
#define ZG_REG_LOCATION_MAX 512

/*! One key in one backup. */
typedef struct {
	char zone[ZG_REG_ZONE_MAX];         /*!< "test.", lowercase. */
	char id[ZG_REG_ID_MAX];             /*!< Lowercase hex. */
	uint16_t tag;
	char keystore[ZG_REG_KEYSTORE_MAX]; /*!< Knot's keystore id, or the HSM's name. */
	int64_t time;                       /*!< When the backup was made (UTC seconds). */
	char location[ZG_REG_LOCATION_MAX];
} zg_reg_entry_t;

/*! A register in memory; zg_reg_init() it, zg_reg_deinit() it. */
typedef struct {
	zg_reg_entry_t *e;   /*!< Entries in file order (owned). */
	size_t count;
	size_t cap;
} zg_reg_t;

/*! Initialises an empty register (no allocation). */
void zg_reg_init(zg_reg_t *reg);

/*! Frees the entries. */
void zg_reg_deinit(zg_reg_t *reg);

/*!
 * Checks one entry's fields (zone name, hex id, keystore name, time,
 * location without tabs or control characters).
 *
 * \param why  Receives the problem, e.g. "key id 'xyz' is not hexadecimal".
 *
 * \return 0 or ZG_EINPUT.
 */
int zg_reg_entry_check(const zg_reg_entry_t *e, char *why, size_t whylen);

/*!
 * Parses a register's text (the whole file). On error the register is left
 * empty and \a err names the line and the problem ("line 4: 5 fields, 6
 * expected").
 *
 * \return 0, ZG_ESYNTAX (bad magic, bad line), -ENOMEM.
 */
int zg_reg_parse(zg_reg_t *reg, const char *text, size_t len, char *err, size_t errlen);

/*!
 * Reads the register at \a path into \a reg (cleared first). A file that
 * does not exist is an empty register (returns -ENOENT with \a reg empty, so
 * callers can tell); every other failure names the file in \a err.
 *
 * \return 0, -ENOENT, ZG_ESYNTAX, -errno.
 */
int zg_reg_load(zg_reg_t *reg, const char *path, char *err, size_t errlen);

/*!
 * Adds entries to the register at \a path: takes PATH.lock (flock, waits at
 * most 10 s), reads the current file, checks every new entry, skips exact
 * duplicates (same zone, key id and location), writes PATH.tmp.PID, fsyncs,
 * renames it over PATH and fsyncs the directory. A failure leaves the file as
 * it was.
 *
 * \param added  Receives the number of entries actually added (may be NULL).
 *
 * \return 0, ZG_EINPUT (an entry failed its check; nothing written),
 *         ZG_ESYNTAX (the current file is corrupt; nothing written),
 *         ZG_ETIMEOUT (lock), -errno.
 */
int zg_reg_append(const char *path, const zg_reg_entry_t *entries, size_t n, size_t *added,
                  char *err, size_t errlen);

/*!
 * Writes the register text (magic, header comment, one line per entry) to a
 * malloc'd, NUL-terminated buffer the caller frees.
 *
 * \return 0, -ENOMEM.
 */
int zg_reg_format(const zg_reg_t *reg, char **text, size_t *len);

/*!
 * The most recent backup of key \a id of \a zone (case-insensitive), or NULL.
 * The pointer stays valid until the register changes.
 */
const zg_reg_entry_t *zg_reg_latest(const zg_reg_t *reg, const char *zone, const char *id);

/*! Formats a UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf; returns buf. */
char *zg_keys_time_str(int64_t t, char *buf, size_t len);

/*! Parses "YYYY-MM-DDTHH:MM:SSZ" (UTC). \return 0 or ZG_ESYNTAX. */
int zg_keys_time_parse(const char *s, int64_t *t);

/*!
 * Parses a duration: a number with an optional unit s, m (minutes), h, d, w
 * ("7d", "90m", "3600").
 *
 * \return 0 or ZG_ESYNTAX.
 */
int zg_keys_duration_parse(const char *s, int64_t *secs);

/*! Formats a duration as "7d", "1d2h", "45s" (largest units first); returns buf. */
char *zg_keys_duration_str(int64_t secs, char *buf, size_t len);

#endif /* ZONEGATE_KEYS_REGISTER_H */
