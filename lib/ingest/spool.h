/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The spool queue: a directory with incoming/, done/ and failed/.
 *
 * Producers write NAME.json.tmp and rename it to incoming/NAME.json.
 * Messages are taken in file-name order (byte order). An applied message
 * moves to done/; a refused one to failed/ next to failed/NAME.error (one
 * line, the reason). A message leaves incoming/ only after its outcome is
 * final, so a crash can at worst apply it again, which full-state
 * replacement makes invisible. Renames are followed by fsync of the
 * directories.
 */
#ifndef ZONEGATE_SPOOL_H
#define ZONEGATE_SPOOL_H

#include <stddef.h>
#include <time.h>

#define ZG_SPOOL_NAME_MAX	255

typedef struct zg_spool zg_spool_t;

/*!
 * Opens a spool directory, creating incoming/, done/ and failed/ if missing.
 *
 * \param dir  The spool directory (must exist).
 * \param out  The spool, to release with zg_spool_free().
 *
 * \return 0 or -errno.
 */
int zg_spool_open(const char *dir, zg_spool_t **out);

/*!
 * Releases a spool (NULL is fine).
 */
void zg_spool_free(zg_spool_t *spool);

/*!
 * Name of the first message waiting in incoming/ (file-name order; only
 * names ending in ".json", no hidden files).
 *
 * \param name      Buffer for the file name (ZG_SPOOL_NAME_MAX + 1 bytes).
 * \param enqueued  If not NULL, set to the file's modification time.
 *
 * \retval 0 a message is waiting, -ENOENT none, other -errno.
 */
int zg_spool_next(zg_spool_t *spool, char *name, time_t *enqueued);

/*!
 * Names of the first messages waiting in incoming/ (file-name order).
 *
 * \param names  Array of max buffers of ZG_SPOOL_NAME_MAX + 1 bytes.
 * \param count  Set to the number of names written (0 if none waits).
 *
 * \return 0 or -errno.
 */
int zg_spool_list(zg_spool_t *spool, char (*names)[ZG_SPOOL_NAME_MAX + 1], size_t max,
                  size_t *count);

/*!
 * Waits until a message may have arrived in incoming/ (a file renamed into
 * it or written there; inotify) or timeout_ms passes; without inotify it
 * just sleeps. Events that came since the last call end the wait at once, so
 * a message that arrives between a listing and the wait is not missed.
 *
 * \retval 1 woken by an arrival, 0 timed out.
 */
int zg_spool_wait(zg_spool_t *spool, int timeout_ms);

/*!
 * Number of messages waiting and the modification time of the oldest one.
 */
int zg_spool_pending(zg_spool_t *spool, size_t *count, time_t *oldest);

/*!
 * Reads incoming/NAME whole.
 *
 * \param max   Refuse files bigger than this (-EFBIG, *len set to the size).
 * \param data  Set to a malloc'd buffer the caller frees (NUL-terminated).
 *
 * \return 0 or -errno.
 */
int zg_spool_read(zg_spool_t *spool, const char *name, size_t max,
                  char **data, size_t *len);

/*!
 * Moves incoming/NAME to done/NAME (durably).
 *
 * \return 0 or -errno.
 */
int zg_spool_done(zg_spool_t *spool, const char *name);

/*!
 * Writes failed/NAME.error with reason (one line) and moves incoming/NAME
 * to failed/NAME (durably, in that order).
 *
 * \return 0 or -errno.
 */
int zg_spool_fail(zg_spool_t *spool, const char *name, const char *reason);

/*!
 * Producer side: writes a message as incoming/.NAME.tmp, syncs it and
 * renames it to incoming/NAME (then syncs the directory), so a consumer
 * never sees a partial message.
 *
 * \param name  File name ending in ".json", no '/', at most ZG_SPOOL_NAME_MAX.
 *
 * \return 0, -EINVAL (bad name), -EEXIST (a message of that name is
 *         waiting already; it is not replaced) or -errno.
 */
int zg_spool_put(zg_spool_t *spool, const char *name, const char *data, size_t len);

#endif /* ZONEGATE_SPOOL_H */
