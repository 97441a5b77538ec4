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
 *
 * done/ is also the record of the message ids applied to each zone: the
 * consumer refuses a message whose id done/ already holds for its zone
 * (zg_spool_applied()). The record is read from done/ on the first look-up
 * and kept up to date by zg_spool_done(); a message removed from done/ no
 * longer counts.
 */
#ifndef ZONEGATE_SPOOL_H
#define ZONEGATE_SPOOL_H

#include <stddef.h>
#include <time.h>

#define ZG_SPOOL_NAME_MAX	255
#define ZG_SPOOL_LOCK		".consumer.lock"	/*!< Lock file in the spool directory. */

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
 * The outcomes recorded in the spool, for monitoring: the number of
 * messages in failed/ and the message of done/ moved there last (by the
 * time of the move, the status change time of done/NAME).
 *
 * \param last          Buffer of ZG_SPOOL_NAME_MAX + 1 bytes: the last applied
 *                      message's file name, "" if done/ has none.
 * \param last_enqueued Set to its modification time (kept by the moves).
 * \param last_applied  Set to the time it was moved to done/.
 *
 * \return 0 or -errno.
 */
int zg_spool_outcomes(zg_spool_t *spool, size_t *refused, char *last, time_t *last_enqueued,
                      time_t *last_applied);

/*!
 * Takes the consumer lock of the spool (an exclusive flock(2) on
 * DIR/.consumer.lock, held until zg_spool_free()), so that two consumers
 * never take messages from one spool at once. Producers do not lock.
 *
 * \param holder  Set to the holder's "HOST pid PID" when the lock is taken
 *                (printable ASCII only), else "".
 *
 * \return 0, -EWOULDBLOCK (another consumer holds it) or -errno.
 */
int zg_spool_lock(zg_spool_t *spool, char *holder, size_t holder_len);

/*!
 * Reads incoming/NAME whole. Only a regular file is opened, never through a
 * symbolic link and never blocking (a FIFO or a device is not opened).
 *
 * \param max   Refuse files bigger than this (-EFBIG, *len set to the size).
 * \param data  Set to a malloc'd buffer the caller frees (NUL-terminated).
 * \param why   On ZG_EINPUT, why the entry is no message ("a FIFO, not a
 *              message", "not readable (permission denied)").
 *
 * \return 0; ZG_EINPUT the entry can never be read as a message (move it to
 *         failed/); -ENOENT it is gone; other -errno (try again later).
 */
int zg_spool_read(zg_spool_t *spool, const char *name, size_t max,
                  char **data, size_t *len, char *why, size_t why_len);

/*!
 * Moves incoming/NAME to done/NAME (durably) and, once the record of
 * applied ids is loaded, adds the message's id to it.
 *
 * \param zone  The message's zone (any case, final dot optional), or NULL.
 * \param id    The message's id, or NULL (then nothing is recorded).
 *
 * \return 0 or -errno.
 */
int zg_spool_done(zg_spool_t *spool, const char *name, const char *zone, const char *id);

/*!
 * Whether a message with this id was applied to the zone: whether done/
 * holds a message of that zone and id. The first call reads every
 * done/NAME.json once (entries that are no readable JSON object with string
 * "zone" and "id" are left out); later calls look in memory.
 *
 * \param zone  The zone (any case, final dot optional).
 * \param name  Set to the name of the file in done/ (ZG_SPOOL_NAME_MAX + 1
 *              bytes) when found.
 *
 * \retval 1 applied, 0 not, -errno done/ cannot be read (try again later).
 */
int zg_spool_applied(zg_spool_t *spool, const char *zone, const char *id, char *name);

/*!
 * Writes failed/NAME.error (mode 0640) with reason (one line: control
 * characters, backslashes and bytes outside ASCII escaped, see
 * zg_msg_escape()) and moves incoming/NAME to failed/NAME (durably, in that
 * order). NAME may be any entry (a directory, a FIFO, a link: the entry
 * itself moves).
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
