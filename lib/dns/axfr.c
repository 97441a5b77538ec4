/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libdnssec/tsig.h>
#include <libknot/codes.h>
#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/packet/pkt.h>
#include <libknot/packet/wire.h>
#include <libknot/rrset.h>
#include <libknot/tsig-op.h>
#include <libknot/tsig.h>

#include "core/arena.h"
#include "dns/axfr.h"
#include "core/error.h"

static int fail(char *reason, size_t len, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *reason, size_t len, int ret, const char *fmt, ...)
{
	if (reason != NULL && len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(reason, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int parse_server(const char *server, struct sockaddr_storage *ss, socklen_t *sslen)
{
	char host[256];
	unsigned port = 53;
	snprintf(host, sizeof(host), "%s", server);
	char *at = strchr(host, '@');
	if (at != NULL) {
		*at = '\0';
		char *end;
		unsigned long p = strtoul(at + 1, &end, 10);
		if (at[1] == '\0' || *end != '\0' || p == 0 || p > 65535) {
			return -1;
		}
		port = (unsigned)p;
	}
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*sslen = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof(*in6);
		return 0;
	}
	return -1;
}

static int io_all(int fd, void *buf, size_t len, bool wr)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? ZG_ETIMEOUT : -errno;
		}
		if (n == 0) {
			return ZG_EPROTO; /* connection closed early */
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Adds the answer RRs of one message; counts SOA records seen. */
static int add_answers(zg_zone_t **zone, const uint8_t *qname, const knot_pkt_t *pkt,
                       unsigned *soa_seen, bool *done, char *reason, size_t rlen)
{
	const knot_pktsection_t *an = knot_pkt_section(pkt, KNOT_ANSWER);
	for (uint16_t i = 0; i < an->count && !*done; i++) {
		const knot_rrset_t *rr = knot_pkt_rr(an, i);
		if (rr->type == KNOT_RRTYPE_SOA) {
			if (!knot_dname_is_equal(rr->owner, qname)) {
				return fail(reason, rlen, ZG_EPROTO, "SOA for a different owner in the transfer");
			}
			if (++*soa_seen == 2) {
				*done = true;
				break;
			}
		} else if (*soa_seen == 0) {
			return fail(reason, rlen, ZG_EPROTO, "transfer does not start with SOA");
		}
		if (rr->rclass != KNOT_CLASS_IN) {
			continue;
		}
		for (uint16_t k = 0; k < rr->rrs.count; k++) {
			const knot_rdata_t *rd = knot_rdataset_at(&rr->rrs, k);
			int ret = zg_zone_add(*zone, rr->owner, rr->type, rr->ttl, rd->data, rd->len);
			if (ret == ZG_EOUTOFZONE) {
				continue; /* not ours (e.g. stray data); ignore like a secondary would */
			}
			if (ret != 0) {
				return fail(reason, rlen, ret, "cannot store a record (%s)", zg_strerror(ret));
			}
		}
	}
	return 0;
}

int zg_axfr_load(zg_zone_t **out, const char *server, const char *tsig, const char *zone_str,
                 char *reason, size_t rlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (parse_server(server, &ss, &sslen) != 0) {
		return fail(reason, rlen, ZG_EINPUT, "bad server address '%s' (ADDR[@PORT])", server);
	}
	uint8_t qname[KNOT_DNAME_MAXLEN];
	if (knot_dname_from_str(qname, zone_str, sizeof(qname)) == NULL) {
		return fail(reason, rlen, ZG_EINPUT, "bad zone name '%s'", zone_str);
	}
	knot_dname_to_lower(qname);
	knot_tsig_key_t key = { 0 };
	bool use_tsig = tsig != NULL;
	if (use_tsig && knot_tsig_key_init_str(&key, tsig) != KNOT_EOK) {
		return fail(reason, rlen, ZG_EINPUT, "bad TSIG key (ALG:NAME:SECRET)");
	}

	int ret = 0;
	int fd = -1;
	knot_pkt_t *q = NULL;
	uint8_t *msg = malloc(65535);
	zg_buf_t tsig_buf;
	zg_buf_init(&tsig_buf);
	zg_zone_t *zone = NULL;
	uint8_t digest[64];
	size_t digest_len = sizeof(digest);
	uint64_t prev_time = 0;
	if (msg == NULL || zg_zone_new(&zone, qname) != 0) {
		ret = fail(reason, rlen, -ENOMEM, "out of memory");
		goto done;
	}

	q = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (q == NULL) {
		ret = fail(reason, rlen, -ENOMEM, "out of memory");
		goto done;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint16_t id = (uint16_t)(now.tv_nsec ^ getpid());
	knot_wire_set_id(q->wire, id);
	ret = knot_pkt_put_question(q, qname, KNOT_CLASS_IN, KNOT_RRTYPE_AXFR);
	if (ret == KNOT_EOK && use_tsig) {
		digest_len = dnssec_tsig_algorithm_size(key.algorithm);
		ret = knot_tsig_sign(q->wire, &q->size, q->max_size, NULL, 0, digest, &digest_len,
		                     &key, 0, 0);
	}
	if (ret != KNOT_EOK) {
		ret = fail(reason, rlen, ZG_EINPUT, "cannot build the query (%s)", zg_strerror(ret));
		goto done;
	}

	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = fail(reason, rlen, -errno, "socket: %s", strerror(errno));
		goto done;
	}
	struct timeval tv = { .tv_sec = ZG_AXFR_TIMEOUT };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, sslen) != 0) {
		ret = fail(reason, rlen, ZG_ECONNECT, "connect: %s", strerror(errno));
		goto done;
	}
	uint8_t lenb[2] = { (uint8_t)(q->size >> 8), (uint8_t)q->size };
	if ((ret = io_all(fd, lenb, 2, true)) != 0 || (ret = io_all(fd, q->wire, q->size, true)) != 0) {
		ret = fail(reason, rlen, ret, "send: %s", zg_strerror(ret));
		goto done;
	}

	unsigned soa_seen = 0;
	bool finished = false;
	while (!finished) {
		ret = io_all(fd, lenb, 2, false);
		if (ret == 0) {
			size_t mlen = (size_t)lenb[0] << 8 | lenb[1];
			ret = mlen < KNOT_WIRE_HEADER_SIZE ? ZG_EPROTO : io_all(fd, msg, mlen, false);
			if (ret == 0) {
				knot_pkt_t *p = knot_pkt_new(msg, (uint16_t)mlen, NULL);
				if (p == NULL) {
					ret = fail(reason, rlen, -ENOMEM, "out of memory");
					goto done;
				}
				int pr = knot_pkt_parse(p, 0);
				if (pr != KNOT_EOK) {
					knot_pkt_free(p);
					ret = fail(reason, rlen, ZG_EPROTO, "malformed answer (%s)", zg_strerror(pr));
					goto done;
				}
				if (knot_wire_get_id(p->wire) != id) {
					knot_pkt_free(p);
					ret = fail(reason, rlen, ZG_EPROTO, "answer with a wrong message id");
					goto done;
				}
				uint8_t rcode = knot_wire_get_rcode(p->wire);
				if (rcode != KNOT_RCODE_NOERROR) {
					const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
					knot_pkt_free(p);
					ret = fail(reason, rlen, ZG_EREFUSED, "server answered %s",
					           l ? l->name : "an error");
					goto done;
				}
				if (use_tsig) {
					if (zg_buf_append(&tsig_buf, p->wire, p->size) != 0) {
						knot_pkt_free(p);
						ret = fail(reason, rlen, -ENOMEM, "out of memory");
						goto done;
					}
					if (p->tsig_rr == NULL) {
						if (prev_time == 0 || tsig_buf.len > 100 * 65535) {
							knot_pkt_free(p);
							ret = fail(reason, rlen, ZG_EPROTO, "answer not signed with TSIG");
							goto done;
						}
					} else {
						int tr = prev_time == 0
							? knot_tsig_client_check(p->tsig_rr, tsig_buf.data, tsig_buf.len,
							                         digest, digest_len, &key, 0)
							: knot_tsig_client_check_next(p->tsig_rr, tsig_buf.data,
							                              tsig_buf.len, digest, digest_len,
							                              &key, prev_time);
						if (tr != KNOT_EOK || knot_tsig_rdata_mac_length(p->tsig_rr) != digest_len) {
							knot_pkt_free(p);
							ret = fail(reason, rlen, ZG_EPROTO, "TSIG check failed (%s)",
							           zg_strerror(tr));
							goto done;
						}
						memcpy(digest, knot_tsig_rdata_mac(p->tsig_rr), digest_len);
						prev_time = knot_tsig_rdata_time_signed(p->tsig_rr);
						tsig_buf.len = 0;
					}
				}
				ret = add_answers(&zone, qname, p, &soa_seen, &finished, reason, rlen);
				knot_pkt_free(p);
				if (ret != 0) {
					goto done;
				}
				continue;
			}
		}
		ret = fail(reason, rlen, ret, "receive: %s", ret == ZG_EPROTO ?
		           "connection closed before the end of the transfer" : zg_strerror(ret));
		goto done;
	}
	if (use_tsig && tsig_buf.len > 0) {
		ret = fail(reason, rlen, ZG_EPROTO, "last answer not signed with TSIG");
		goto done;
	}
	ret = zg_zone_finalize(zone);
	if (ret != 0) {
		fail(reason, rlen, ret, "%s", zg_strerror(ret));
	}
done:
	if (fd >= 0) {
		close(fd);
	}
	knot_pkt_free(q);
	free(msg);
	zg_buf_deinit(&tsig_buf);
	if (use_tsig) {
		knot_tsig_key_deinit(&key);
	}
	if (ret != 0) {
		zg_zone_free(zone);
		return ret;
	}
	*out = zone;
	return 0;
}
