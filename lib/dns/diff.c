/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <string.h>

#include <libknot/dname.h>

#include "dns/diff.h"

void zg_diff_init(zg_diff_t *diff)
{
	memset(diff, 0, sizeof(*diff));
	zg_buf_init(&diff->buf);
}

void zg_diff_deinit(zg_diff_t *diff)
{
	if (diff != NULL) {
		zg_buf_deinit(&diff->buf);
		diff->count = 0;
	}
}

void zg_diff_clear(zg_diff_t *diff)
{
	diff->buf.len = 0;
	diff->count = 0;
}

/* Stored change: u8 add, u16 type, u32 ttl, u16 rdlen, u8 ownerlen, owner, rdata. */
#define CH_HDR 10

int zg_diff_put(zg_diff_t *diff, bool add, const uint8_t *owner, uint16_t type,
                uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	size_t olen = knot_dname_size(owner);
	if (zg_buf_reserve(&diff->buf, CH_HDR + olen + rdlen) != 0) {
		return -ENOMEM;
	}
	uint8_t *p = diff->buf.data + diff->buf.len;
	p[0] = add;
	memcpy(p + 1, &type, 2);
	memcpy(p + 3, &ttl, 4);
	memcpy(p + 7, &rdlen, 2);
	p[9] = (uint8_t)olen;
	memcpy(p + CH_HDR, owner, olen);
	memcpy(p + CH_HDR + olen, rdata, rdlen);
	diff->buf.len += CH_HDR + olen + rdlen;
	diff->count++;
	return 0;
}

bool zg_diff_next(const zg_diff_t *diff, size_t *pos, zg_diff_change_t *out)
{
	if (*pos + CH_HDR > diff->buf.len) {
		return false;
	}
	const uint8_t *p = diff->buf.data + *pos;
	out->add = p[0] != 0;
	memcpy(&out->type, p + 1, 2);
	memcpy(&out->ttl, p + 3, 4);
	memcpy(&out->rdlen, p + 7, 2);
	out->owner = p + CH_HDR;
	out->rdata = p + CH_HDR + p[9];
	*pos += CH_HDR + p[9] + out->rdlen;
	return true;
}
