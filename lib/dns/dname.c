/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdio.h>
#include <string.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>

#include "dns/dname.h"

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

size_t zg_dname_key(const uint8_t *name, uint8_t *key)
{
	const uint8_t *labels[128];
	int n = 0;
	for (const uint8_t *p = name; *p != 0 && n < 128; p += *p + 1) {
		labels[n++] = p;
	}
	size_t k = 0;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *l = labels[i];
		for (unsigned j = 1; j <= l[0]; j++) {
			uint8_t c = lower(l[j]);
			if (c <= 1) {
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				key[k++] = c;
			}
		}
		key[k++] = 0;
	}
	return k;
}

size_t zg_key_to_dname(const uint8_t *key, size_t keylen, uint8_t *name)
{
	/* Labels in the key run root-first; write them back to front. */
	uint8_t tmp[ZG_DNAME_MAXLEN];
	size_t total = 1; /* root */
	size_t pos = 0;
	/* First pass: total length. */
	while (pos < keylen) {
		size_t l = 0;
		while (pos < keylen && key[pos] != 0) {
			pos += (key[pos] == 1) ? 2 : 1;
			l++;
		}
		pos++;
		total += l + 1;
	}
	if (total > ZG_DNAME_MAXLEN) {
		name[0] = 0;
		return 1;
	}
	size_t end = total - 1;
	tmp[end] = 0;
	pos = 0;
	while (pos < keylen) {
		uint8_t lab[64];
		size_t l = 0;
		while (pos < keylen && key[pos] != 0) {
			if (key[pos] == 1) {
				lab[l++] = (uint8_t)(key[pos + 1] - 1);
				pos += 2;
			} else {
				lab[l++] = key[pos++];
			}
		}
		pos++;
		end -= l + 1;
		tmp[end] = (uint8_t)l;
		memcpy(tmp + end + 1, lab, l);
	}
	memcpy(name, tmp, total);
	return total;
}

unsigned zg_dname_labels(const uint8_t *name)
{
	unsigned n = 0;
	for (const uint8_t *p = name; *p != 0; p += *p + 1) {
		n++;
	}
	return n;
}

size_t zg_dname_len(const uint8_t *name, size_t maxlen)
{
	size_t pos = 0;
	while (pos < maxlen) {
		uint8_t l = name[pos];
		if (l == 0) {
			return (pos + 1 <= ZG_DNAME_MAXLEN) ? pos + 1 : 0;
		}
		if (l > 63) {
			return 0; /* compression pointers are not allowed here */
		}
		pos += (size_t)l + 1;
	}
	return 0;
}

void zg_dname_lower(uint8_t *name)
{
	for (uint8_t *p = name; *p != 0; p += *p + 1) {
		for (unsigned j = 1; j <= p[0]; j++) {
			p[j] = lower(p[j]);
		}
	}
}

char *zg_dname_str(const uint8_t *name, char *out, size_t outlen)
{
	if (knot_dname_to_str(out, name, outlen) == NULL) {
		snprintf(out, outlen, "(bad name)");
	}
	return out;
}

int zg_rdata_to_canonical(uint16_t type, uint8_t *rdata, size_t len)
{
	if (!knot_rrtype_should_be_lowercased(type)) {
		return 0;
	}
	const knot_rdata_descriptor_t *d = knot_get_rdata_descriptor(type);
	if (d->type_name == NULL) {
		d = knot_get_obsolete_rdata_descriptor(type);
	}
	size_t pos = 0;
	for (int i = 0; d->block_types[i] != KNOT_RDATA_WF_END; i++) {
		int b = d->block_types[i];
		if (b > 0) {
			pos += (size_t)b;
		} else if (b == KNOT_RDATA_WF_REMAINDER) {
			pos = len;
		} else if (b == KNOT_RDATA_WF_NAPTR_HEADER) {
			pos += 4;
			for (int s = 0; s < 3; s++) {
				if (pos >= len) {
					return KNOT_EMALF;
				}
				pos += 1 + (size_t)rdata[pos];
			}
		} else {
			if (pos >= len) {
				return KNOT_EMALF;
			}
			size_t nl = zg_dname_len(rdata + pos, len - pos);
			if (nl == 0) {
				return KNOT_EMALF;
			}
			zg_dname_lower(rdata + pos);
			pos += nl;
		}
		if (pos > len) {
			return KNOT_EMALF;
		}
	}
	return 0;
}

int zg_rdata_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t m = alen < blen ? alen : blen;
	int c = m > 0 ? memcmp(a, b, m) : 0;
	if (c != 0) {
		return c;
	}
	return (alen > blen) - (alen < blen);
}

size_t zg_base32hex_encode(const uint8_t *in, size_t len, char *out, size_t outlen, bool low)
{
	const char *alpha = low ? "0123456789abcdefghijklmnopqrstuv" : "0123456789ABCDEFGHIJKLMNOPQRSTUV";
	size_t need = (len * 8 + 4) / 5;
	if (outlen < need + 1) {
		return 0;
	}
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alpha[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0) {
		out[o++] = alpha[(acc << (5 - bits)) & 31];
	}
	out[o] = '\0';
	return o;
}

int zg_base32hex_decode(const uint8_t *in, size_t len, uint8_t *out, size_t outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		int v;
		if (c >= '0' && c <= '9') {
			v = c - '0';
		} else if (c >= 'a' && c <= 'v') {
			v = c - 'a' + 10;
		} else if (c >= 'A' && c <= 'V') {
			v = c - 'A' + 10;
		} else {
			return -1;
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= outlen) {
				return -1;
			}
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0) {
		return -1;
	}
	return (int)o;
}

bool zg_key_is_ancestor(const uint8_t *akey, size_t alen, const uint8_t *bkey, size_t blen)
{
	return alen <= blen && memcmp(akey, bkey, alen) == 0;
}
