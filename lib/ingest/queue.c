/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stddef.h>
#include <string.h>

#include "ingest/queue.h"

#define SPOOL_SCHEME "spool:"

zg_queue_kind_t zg_queue_uri(const char *uri, const char **spool_dir)
{
	if (spool_dir != NULL) {
		*spool_dir = NULL;
	}
	if (uri == NULL) {
		return ZG_QUEUE_INVALID;
	}
	size_t sl = strlen(SPOOL_SCHEME);
	if (strncmp(uri, SPOOL_SCHEME, sl) == 0) {
		const char *dir = uri + sl;
		if (dir[0] != '/' || dir[1] == '\0') {
			return ZG_QUEUE_INVALID;
		}
		if (spool_dir != NULL) {
			*spool_dir = dir;
		}
		return ZG_QUEUE_SPOOL;
	}
	if (strncmp(uri, "postgresql://", 13) == 0 || strncmp(uri, "postgres://", 11) == 0) {
		return ZG_QUEUE_PG;
	}
	return ZG_QUEUE_INVALID;
}
