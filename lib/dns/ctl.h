/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * One command to knotd over its control socket (libknot/control), e.g.
 * `zone-sign` or `zone-ksk-submitted` for a zone. Bulk transactions are in
 * ctlload.h.
 */
#ifndef ZONEGATE_CTL_H
#define ZONEGATE_CTL_H

#include <stddef.h>

/*! One request: the command and its optional fields (NULL: not sent). */
typedef struct {
	const char *cmd;      /*!< E.g. "zone-status", "zone-stats". */
	const char *flags;    /*!< E.g. "F" (force: zone-stats shows zero counters). */
	const char *zone;
	const char *section;  /*!< E.g. a module id for zone-stats. */
} zg_ctl_request_t;

/*! One data reply of knotd (fields NULL when absent; valid during the callback only). */
typedef struct {
	const char *zone;
	const char *section;  /*!< zone-stats: the module ("mod-ingest"). */
	const char *item;     /*!< zone-stats: the counter ("messages-applied"). */
	const char *id;       /*!< zone-stats: the counter's index, if any. */
	const char *type;     /*!< zone-status: the field ("serial"). */
	const char *data;     /*!< The value. */
} zg_ctl_reply_t;

/*! Called for each data reply. */
typedef void (*zg_ctl_reply_cb_t)(const zg_ctl_reply_t *reply, void *arg);

/*!
 * Sends one request to the knotd control socket at PATH and hands each data
 * reply to cb (at most max_replies replies are read, each I/O step bounded
 * by timeout_ms).
 *
 * \param err  Receives Knot's first error text from the answer, or what
 *             failed ("control socket PATH, reason"); "" on success.
 *
 * \return KNOT_EOK, KNOT_ERROR when knotd answered with an error, or the
 *         libknot code of the failed connect/send/receive.
 */
int zg_ctl_query(const char *path, int timeout_ms, const zg_ctl_request_t *req,
                 size_t max_replies, zg_ctl_reply_cb_t cb, void *arg, char *err, size_t errlen);

/*!
 * Sends CMD for ZONE to the knotd control socket at PATH and reads the answer
 * (at most 64 replies, each I/O step bounded by timeout_ms).
 *
 * \param err     Receives Knot's error text from the answer, or what failed
 *                ("control socket PATH, reason"); "" on success.
 *
 * \return KNOT_EOK, KNOT_ERROR when knotd answered with an error, or the
 *         libknot code of the failed connect/send/receive.
 */
int zg_ctl_zone_command(const char *path, int timeout_ms, const char *cmd, const char *zone,
                        char *err, size_t errlen);

#endif /* ZONEGATE_CTL_H */
