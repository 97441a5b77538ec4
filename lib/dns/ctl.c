/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>

#include <libknot/control/control.h>
#include <libknot/errcode.h>

#include "dns/ctl.h"
#include "core/error.h"

int zg_ctl_query(const char *path, int timeout_ms, const zg_ctl_request_t *req,
                 size_t max_replies, zg_ctl_reply_cb_t cb, void *arg, char *err, size_t errlen)
{
	err[0] = '\0';
	knot_ctl_t *ctl = knot_ctl_alloc();
	if (ctl == NULL) {
		snprintf(err, errlen, "control socket %.160s, %s", path, zg_strerror(KNOT_ENOMEM));
		return KNOT_ENOMEM;
	}
	knot_ctl_set_timeout(ctl, timeout_ms);
	int ret = knot_ctl_connect(ctl, path);
	if (ret == KNOT_EOK) {
		knot_ctl_data_t data = {
			[KNOT_CTL_IDX_CMD] = req->cmd,
			[KNOT_CTL_IDX_FLAGS] = req->flags,
			[KNOT_CTL_IDX_ZONE] = req->zone,
			[KNOT_CTL_IDX_SECTION] = req->section,
		};
		ret = knot_ctl_send(ctl, KNOT_CTL_TYPE_DATA, &data);
		if (ret == KNOT_EOK) {
			ret = knot_ctl_send(ctl, KNOT_CTL_TYPE_BLOCK, NULL);
		}
		for (size_t i = 0; ret == KNOT_EOK && i < max_replies; i++) {
			knot_ctl_type_t type;
			knot_ctl_data_t reply = { NULL };
			ret = knot_ctl_receive(ctl, &type, &reply);
			if (ret != KNOT_EOK || type == KNOT_CTL_TYPE_BLOCK || type == KNOT_CTL_TYPE_END) {
				break;
			}
			if (reply[KNOT_CTL_IDX_ERROR] != NULL) {
				if (err[0] == '\0') {
					snprintf(err, errlen, "%s", reply[KNOT_CTL_IDX_ERROR]);
				}
			} else if (cb != NULL) {
				zg_ctl_reply_t r = {
					.zone = reply[KNOT_CTL_IDX_ZONE],
					.section = reply[KNOT_CTL_IDX_SECTION],
					.item = reply[KNOT_CTL_IDX_ITEM],
					.id = reply[KNOT_CTL_IDX_ID],
					.type = reply[KNOT_CTL_IDX_TYPE],
					.data = reply[KNOT_CTL_IDX_DATA],
				};
				cb(&r, arg);
			}
		}
		knot_ctl_send(ctl, KNOT_CTL_TYPE_END, NULL);
		knot_ctl_close(ctl);
	}
	knot_ctl_free(ctl);
	if (ret == KNOT_EOK && err[0] != '\0') {
		ret = KNOT_ERROR;
	} else if (ret != KNOT_EOK) {
		snprintf(err, errlen, "control socket %.160s, %s", path, zg_strerror(ret));
	}
	return ret;
}

int zg_ctl_zone_command(const char *path, int timeout_ms, const char *cmd, const char *zone,
                        char *err, size_t errlen)
{
	zg_ctl_request_t req = { .cmd = cmd, .zone = zone };
	return zg_ctl_query(path, timeout_ms, &req, 64, NULL, NULL, err, errlen);
}
