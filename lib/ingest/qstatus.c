/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "ingest/pgqueue.h"
#include "ingest/qstatus.h"
#include "ingest/queue.h"
#include "ingest/spool.h"

static int spool_status(const char *dir, zg_queue_status_t *out, char *err, size_t errlen)
{
	/* zg_spool_open() creates what is missing: look first, change nothing. */
	char path[PATH_MAX];
	struct stat st;
	if (snprintf(path, sizeof(path), "%s/incoming", dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "spool %.200s: path too long", dir);
		return -ENAMETOOLONG;
	}
	if (stat(dir, &st) != 0) {
		int ret = -errno;
		snprintf(err, errlen, "spool %.200s: %s", dir, zg_strerror(ret));
		return ret;
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "spool %.200s: not a spool (no incoming/ directory)", dir);
		return ZG_EINPUT;
	}
	zg_spool_t *spool = NULL;
	int ret = zg_spool_open(dir, &spool);
	if (ret == 0) {
		ret = zg_spool_pending(spool, &out->pending, &out->oldest);
	}
	char last[ZG_SPOOL_NAME_MAX + 1];
	if (ret == 0) {
		ret = zg_spool_outcomes(spool, &out->refused, last, &out->last_enqueued,
		                        &out->last_applied);
	}
	zg_spool_free(spool);
	if (ret != 0) {
		snprintf(err, errlen, "spool %.200s: %s", dir, zg_strerror(ret));
		return ret;
	}
	out->have_last = last[0] != '\0';
	snprintf(out->last_id, sizeof(out->last_id), "%s", last);
	return 0;
}

int zg_queue_status_read(const char *source, const char *zone, int64_t served,
                         zg_queue_status_t *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->last_row = out->last_serial = -1;
	err[0] = '\0';
	const char *dir = NULL;
	switch (zg_queue_uri(source, &dir)) {
	case ZG_QUEUE_SPOOL:
		return spool_status(dir, out, err, errlen);
	case ZG_QUEUE_PG:
		return zg_pgqueue_status(source, zone, served, out, err, errlen);
	default:
		break;
	}
	snprintf(err, errlen, "queue '%.200s': not a queue URI (" ZG_QUEUE_URI_FORMS ")", source);
	return ZG_EINPUT;
}
