/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The queue URI, read in one place for every producer and consumer
 * (mod-ingest's and zg-ingest's source, mod-dsync's parent-mode queue):
 * spool:/ABSOLUTE/DIR (ingest/spool.h) or a libpq connection URI,
 * postgresql://... or postgres://... (ingest/pgqueue.h).
 */
#ifndef ZONEGATE_QUEUE_H
#define ZONEGATE_QUEUE_H

/*! The forms, for error messages. */
#define ZG_QUEUE_URI_FORMS "spool:/ABSOLUTE/PATH or postgresql://..."

/*! What a queue URI names. */
typedef enum {
	ZG_QUEUE_INVALID = 0, /*!< Neither form (or NULL). */
	ZG_QUEUE_SPOOL,       /*!< A spool directory. */
	ZG_QUEUE_PG,          /*!< A PostgreSQL database. */
} zg_queue_kind_t;

/*!
 * Reads a queue URI.
 *
 * \param uri        The URI (NULL: invalid).
 * \param spool_dir  Out, optional: for a spool, its absolute directory (a
 *                   pointer into uri); else NULL.
 * \return What it names; a spool needs an absolute path other than "/".
 */
zg_queue_kind_t zg_queue_uri(const char *uri, const char **spool_dir);

#endif /* ZONEGATE_QUEUE_H */
