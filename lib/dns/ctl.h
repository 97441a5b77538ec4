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
