/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * Files replaced atomically and durably: written to PATH.tmp.XXXXXX next to
 * PATH, flushed to disk, renamed over PATH, and the rename itself made durable
 * (the directory synced). A crash leaves the old file or the new one, never a
 * mixture; a stale PATH.tmp.* may remain and is never read as PATH.
 */
#ifndef ZONEGATE_FILE_H
#define ZONEGATE_FILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/*!
 * Creates the temporary file that will replace path (PATH.tmp.XXXXXX, unique).
 *
 * \param path    The file to replace.
 * \param mode    Its permissions (e.g. 0640).
 * \param tmp     Receives the temporary file's name.
 * \param tmplen  Size of tmp.
 * \param out     The stream to write, to end with zg_file_commit() or
 *                zg_file_abort().
 * \return 0, or a negative errno (-ENAMETOOLONG, or from mkstemp()).
 */
int zg_file_begin(const char *path, mode_t mode, char *tmp, size_t tmplen, FILE **out);

/*!
 * Flushes, syncs and closes the stream, renames tmp over path and syncs the
 * directory. On any failure tmp is removed and path is left as it was.
 *
 * \param f     The stream from zg_file_begin() (closed in every case).
 * \param tmp   Its name.
 * \param path  The file to replace.
 * \return 0, or a negative errno (-EIO for a write error without errno).
 */
int zg_file_commit(FILE *f, const char *tmp, const char *path);

/*!
 * Closes the stream and removes tmp: path is left as it was.
 *
 * \param f    The stream from zg_file_begin().
 * \param tmp  Its name.
 */
void zg_file_abort(FILE *f, const char *tmp);

#endif /* ZONEGATE_FILE_H */
