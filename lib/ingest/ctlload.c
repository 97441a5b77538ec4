/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/control/control.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/rrset-dump.h>

#include "ingest/ctlload.h"
#include "core/error.h"

#define RDATA_TXT_MAX	(256 * 1024)

struct zg_ctlload {
	knot_ctl_t *ctl;
	char zone[KNOT_DNAME_TXT_MAXLEN + 1];
	bool open;        /* Transaction begun, not committed/aborted. */
	bool first;       /* Next zone-set unit carries the command. */
	bool full;        /* The zone had no contents: the transaction builds it. */
	size_t added;
	char *rdata;      /* Reused presentation-format buffer. */
};

/* Sends one command block and reads the answer block; the first error text
 * (if any) goes to err. Returns 0, ZG_EREFUSED (error answered) or ZG_ECONNECT. */
static int command(zg_ctlload_t *l, const char *cmd, char *err, size_t err_len)
{
	knot_ctl_data_t data = { [KNOT_CTL_IDX_CMD] = cmd, [KNOT_CTL_IDX_ZONE] = l->zone };
	if (knot_ctl_send(l->ctl, KNOT_CTL_TYPE_DATA, &data) != KNOT_EOK ||
	    knot_ctl_send(l->ctl, KNOT_CTL_TYPE_BLOCK, NULL) != KNOT_EOK) {
		snprintf(err, err_len, "cannot send %s to knotd", cmd);
		return ZG_ECONNECT;
	}
	int ret = 0;
	for (int i = 0; i < 1000000; i++) {
		knot_ctl_type_t type;
		knot_ctl_data_t ans;
		if (knot_ctl_receive(l->ctl, &type, &ans) != KNOT_EOK) {
			snprintf(err, err_len, "no answer from knotd to %s", cmd);
			return ZG_ECONNECT;
		}
		if (type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END) {
			break;
		}
		if (ans[KNOT_CTL_IDX_ERROR] != NULL && ret == 0) {
			snprintf(err, err_len, "%s: %s", cmd, ans[KNOT_CTL_IDX_ERROR]);
			ret = ZG_EREFUSED;
		}
	}
	return ret;
}

int zg_ctlload_begin(const char *socket, const knot_dname_t *zone, int timeout_ms,
                     zg_ctlload_t **out, char *err, size_t err_len)
{
	zg_ctlload_t *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	l->rdata = malloc(RDATA_TXT_MAX);
	l->ctl = knot_ctl_alloc();
	if (l->rdata == NULL || l->ctl == NULL) {
		zg_ctlload_free(l);
		return -ENOMEM;
	}
	knot_dname_to_str(l->zone, zone, sizeof(l->zone));
	knot_ctl_set_timeout(l->ctl, timeout_ms > 0 ? timeout_ms : 60000);
	if (knot_ctl_connect(l->ctl, socket) != KNOT_EOK) {
		snprintf(err, err_len, "cannot connect to the control socket %s", socket);
		zg_ctlload_free(l);
		return ZG_ECONNECT;
	}
	/* zone-status tells whether the zone has contents (serial "-": none). */
	knot_ctl_data_t st = { [KNOT_CTL_IDX_CMD] = "zone-status", [KNOT_CTL_IDX_ZONE] = l->zone };
	if (knot_ctl_send(l->ctl, KNOT_CTL_TYPE_DATA, &st) != KNOT_EOK ||
	    knot_ctl_send(l->ctl, KNOT_CTL_TYPE_BLOCK, NULL) != KNOT_EOK) {
		snprintf(err, err_len, "cannot send zone-status to knotd");
		zg_ctlload_free(l);
		return ZG_ECONNECT;
	}
	for (int i = 0; i < 1000; i++) {
		knot_ctl_type_t type;
		knot_ctl_data_t ans;
		if (knot_ctl_receive(l->ctl, &type, &ans) != KNOT_EOK) {
			snprintf(err, err_len, "no answer from knotd to zone-status");
			zg_ctlload_free(l);
			return ZG_ECONNECT;
		}
		if (type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END) {
			break;
		}
		if (ans[KNOT_CTL_IDX_ERROR] != NULL) {
			snprintf(err, err_len, "zone-status: %s", ans[KNOT_CTL_IDX_ERROR]);
			zg_ctlload_free(l);
			return ZG_EREFUSED;
		}
		const char *t = ans[KNOT_CTL_IDX_TYPE], *v = ans[KNOT_CTL_IDX_DATA];
		if (t != NULL && v != NULL && strcmp(t, "serial") == 0) {
			l->full = strcmp(v, "-") == 0;
		}
	}
	int ret = command(l, "zone-begin", err, err_len);
	if (ret != 0) {
		zg_ctlload_free(l);
		return ret;
	}
	l->open = true;
	l->first = true;
	*out = l;
	return 0;
}

int zg_ctlload_add(zg_ctlload_t *l, const knot_rrset_t *rr)
{
	char owner[KNOT_DNAME_TXT_MAXLEN + 1], type[32], ttl[16];
	knot_dname_to_str(owner, rr->owner, sizeof(owner));
	knot_rrtype_to_string(rr->type, type, sizeof(type));
	snprintf(ttl, sizeof(ttl), "%u", rr->ttl);
	for (uint16_t i = 0; i < rr->rrs.count; i++) {
		if (knot_rrset_txt_dump_data(rr, i, l->rdata, RDATA_TXT_MAX,
		                             &KNOT_DUMP_STYLE_DEFAULT) < 0) {
			return ZG_EINPUT;
		}
		knot_ctl_data_t data = {
			[KNOT_CTL_IDX_CMD] = l->first ? "zone-set" : NULL,
			[KNOT_CTL_IDX_ZONE] = l->zone,
			[KNOT_CTL_IDX_OWNER] = owner,
			[KNOT_CTL_IDX_TTL] = ttl,
			[KNOT_CTL_IDX_TYPE] = type,
			[KNOT_CTL_IDX_DATA] = l->rdata,
		};
		if (knot_ctl_send(l->ctl, KNOT_CTL_TYPE_DATA, &data) != KNOT_EOK) {
			return ZG_ECONNECT;
		}
		l->first = false;
		l->added++;
	}
	return 0;
}

int zg_ctlload_commit(zg_ctlload_t *l, size_t *added, size_t *failed,
                      char *err, size_t err_len)
{
	*added = l->added;
	*failed = 0;
	err[0] = '\0';
	if (!l->first) {
		/* End the zone-set block and collect the per-record answers. */
		if (knot_ctl_send(l->ctl, KNOT_CTL_TYPE_BLOCK, NULL) != KNOT_EOK) {
			snprintf(err, err_len, "cannot send to knotd");
			return ZG_ECONNECT;
		}
		for (size_t i = 0; i <= l->added + 1; i++) {
			knot_ctl_type_t type;
			knot_ctl_data_t ans;
			if (knot_ctl_receive(l->ctl, &type, &ans) != KNOT_EOK) {
				snprintf(err, err_len, "no answer from knotd to zone-set");
				return ZG_ECONNECT;
			}
			if (type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END) {
				break;
			}
			if (ans[KNOT_CTL_IDX_ERROR] != NULL) {
				if (*failed == 0) {
					snprintf(err, err_len, "zone-set %s %s: %s",
					         ans[KNOT_CTL_IDX_OWNER] ? ans[KNOT_CTL_IDX_OWNER] : "",
					         ans[KNOT_CTL_IDX_TYPE] ? ans[KNOT_CTL_IDX_TYPE] : "",
					         ans[KNOT_CTL_IDX_ERROR]);
				}
				(*failed)++;
			}
		}
	}
	char why[512] = "";
	int ret;
	if (*failed > 0) {
		ret = command(l, "zone-abort", why, sizeof(why));
		l->open = false;
		return ret == ZG_ECONNECT ? ret : ZG_EREFUSED;
	}
	ret = command(l, "zone-commit", why, sizeof(why));
	if (ret != 0) {
		snprintf(err, err_len, "%s", why);
		if (ret == ZG_EREFUSED) {
			(void)command(l, "zone-abort", why, sizeof(why));
		}
	}
	l->open = false;
	return ret;
}

bool zg_ctlload_full(const zg_ctlload_t *l)
{
	return l->full;
}

void zg_ctlload_free(zg_ctlload_t *l)
{
	if (l == NULL) {
		return;
	}
	if (l->ctl != NULL) {
		if (l->open) {
			char why[256];
			if (!l->first) {
				(void)knot_ctl_send(l->ctl, KNOT_CTL_TYPE_BLOCK, NULL);
			}
			(void)command(l, "zone-abort", why, sizeof(why));
		}
		knot_ctl_send(l->ctl, KNOT_CTL_TYPE_END, NULL);
		knot_ctl_close(l->ctl);
		knot_ctl_free(l->ctl);
	}
	free(l->rdata);
	free(l);
}
