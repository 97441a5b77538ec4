/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknot/codes.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/rrtype/opt.h>
#include <libknot/rrtype/tsig.h>
#include <libknot/tsig-op.h>
#include <libknot/wire.h>

#include "dns/dnsclient.h"
#include "core/clock.h"
#include "core/error.h"

/* Received bytes are read in big chunks and handed out from rbuf: pipelined
 * answers then cost one system call per chunk, not two per answer. */
#define RBUF_SIZE	(64 * 1024)

struct zg_dnsconn {
	int fd;
	int timeout_ms;
	size_t rpos;		/* Next unread byte in rbuf. */
	size_t rlen;		/* Bytes in rbuf. */
	uint8_t rbuf[RBUF_SIZE];
};

int zg_dns_addr_parse(const char *text, uint16_t default_port,
                      struct sockaddr_storage *out)
{
	char buf[128];
	if (text == NULL || strlen(text) >= sizeof(buf)) {
		return ZG_EINPUT;
	}
	strcpy(buf, text);
	uint16_t port = default_port;
	char *sep = strchr(buf, '@');
	if (sep == NULL) {
		sep = strchr(buf, '#');
	}
	if (sep != NULL) {
		*sep = '\0';
		char *end = NULL;
		errno = 0;
		long p = strtol(sep + 1, &end, 10);
		if (errno != 0 || end == sep + 1 || *end != '\0' || p < 1 || p > 65535) {
			return ZG_EINPUT;
		}
		port = (uint16_t)p;
	}
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *in4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
	if (inet_pton(AF_INET, buf, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return 0;
	}
	return ZG_EINPUT;
}

bool zg_dns_id_like(const char *text)
{
	bool letter = false;
	for (const char *p = text; *p != '\0'; p++) {
		if (isalpha((unsigned char)*p) || *p == '-' || *p == '_') {
			letter = true;
		} else if (!isdigit((unsigned char)*p) && *p != '.') {
			return false;
		}
	}
	return letter;
}

int zg_dns_addr_local(struct sockaddr_storage *addr)
{
	if (addr->ss_family == AF_INET) {
		struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
		if (in4->sin_addr.s_addr == htonl(INADDR_ANY)) {
			in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		}
		return 0;
	}
	if (addr->ss_family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
		if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr)) {
			in6->sin6_addr = in6addr_loopback;
		}
		return 0;
	}
	return ZG_EINPUT;
}

char *zg_dns_addr_str(const struct sockaddr_storage *addr, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	if (addr->ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)addr;
		inet_ntop(AF_INET, &in4->sin_addr, a, sizeof(a));
		port = ntohs(in4->sin_port);
	} else if (addr->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)addr;
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		port = ntohs(in6->sin6_port);
	}
	snprintf(buf, len, "%s@%u", a, port);
	return buf;
}

int zg_dns_wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - zg_clock_ms();
		if (left <= 0) {
			return ZG_ETIMEOUT;
		}
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, (int)left);
		if (r > 0) {
			return 0;
		}
		if (r == 0) {
			return ZG_ETIMEOUT;
		}
		if (errno != EINTR) {
			return -errno;
		}
	}
}

static socklen_t addr_len(const struct sockaddr_storage *addr)
{
	return addr->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
	                                     sizeof(struct sockaddr_in);
}

int zg_dnsconn_open(const struct sockaddr_storage *addr, int timeout_ms,
                    zg_dnsconn_t **out)
{
	return zg_dnsconn_open_from(addr, NULL, timeout_ms, out);
}

static in_port_t local_port(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port :
	       ((const struct sockaddr_in *)ss)->sin_port;
}

int zg_dnsconn_open_from(const struct sockaddr_storage *addr,
                         const struct sockaddr_storage *local, int timeout_ms,
                         zg_dnsconn_t **out)
{
	if (local != NULL && local->ss_family != addr->ss_family) {
		return KNOT_EINVAL;
	}
	if (timeout_ms <= 0) {
		timeout_ms = ZG_DNS_TIMEOUT_DEFAULT_MS;
	}
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int ret = 0;
	if (local != NULL && local_port(local) == 0) {
		/* Only the address: the port is picked at connect() as without a
		 * bind (4-tuple unique, even ports first). A bind() to port 0
		 * would take an odd port exclusively, the kind bind(0) hands to
		 * servers: a server restarting on its port could find it taken. */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	}
	if (local != NULL && bind(fd, (const struct sockaddr *)local, addr_len(local)) != 0) {
		ret = -errno;
		goto fail;
	}
	if (connect(fd, (const struct sockaddr *)addr, addr_len(addr)) != 0) {
		if (errno != EINPROGRESS) {
			ret = ZG_ECONNECT;
			goto fail;
		}
		ret = zg_dns_wait_fd(fd, POLLOUT, zg_clock_ms() + timeout_ms);
		if (ret != 0) {
			goto fail;
		}
		int err = 0;
		socklen_t elen = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0) {
			ret = ZG_ECONNECT;
			goto fail;
		}
	}
	zg_dnsconn_t *c = malloc(sizeof(*c));
	if (c == NULL) {
		ret = -ENOMEM;
		goto fail;
	}
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->rpos = 0;
	c->rlen = 0;
	*out = c;
	return 0;
fail:
	close(fd);
	return ret;
}

int zg_dnsconn_local_addr(const zg_dnsconn_t *conn, struct sockaddr_storage *out)
{
	socklen_t len = sizeof(*out);
	memset(out, 0, sizeof(*out));
	return getsockname(conn->fd, (struct sockaddr *)out, &len) == 0 ? 0 : -errno;
}

void zg_dnsconn_free(zg_dnsconn_t *conn)
{
	if (conn != NULL) {
		close(conn->fd);
		free(conn);
	}
}

/* Writes the iovecs (modified) completely. */
static int write_all(zg_dnsconn_t *c, struct iovec *iov, int iovcnt, int64_t deadline)
{
	while (iovcnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)iovcnt };
		ssize_t n = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (n >= 0) {
			size_t left = (size_t)n;
			while (iovcnt > 0 && left >= iov->iov_len) {
				left -= iov->iov_len;
				iov++;
				iovcnt--;
			}
			if (iovcnt > 0) {
				iov->iov_base = (uint8_t *)iov->iov_base + left;
				iov->iov_len -= left;
			}
			if (n > 0) {
				continue;
			}
		} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return errno == EPIPE || errno == ECONNRESET ? ZG_ECONNECT : -errno;
		}
		int ret = zg_dns_wait_fd(c->fd, POLLOUT, deadline);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

static int read_all(zg_dnsconn_t *c, uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		if (c->rpos < c->rlen) {
			size_t n = c->rlen - c->rpos < len ? c->rlen - c->rpos : len;
			memcpy(p, c->rbuf + c->rpos, n);
			c->rpos += n;
			p += n;
			len -= n;
			continue;
		}
		c->rpos = c->rlen = 0;
		ssize_t n = recv(c->fd, c->rbuf, sizeof(c->rbuf), 0);
		if (n > 0) {
			c->rlen = (size_t)n;
			continue;
		}
		if (n == 0) {
			return ZG_ECONNECT; /* Closed by the server. */
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			return errno == ECONNRESET ? ZG_ECONNECT : -errno;
		}
		int ret = zg_dns_wait_fd(c->fd, POLLIN, deadline);
		if (ret != 0) {
			return ret;
		}
	}
	return 0;
}

int zg_dns_query_make(knot_pkt_t *q, uint16_t id, const knot_dname_t *qname, uint16_t qtype,
                      const zg_dns_edns_t *edns)
{
	knot_pkt_clear(q);
	knot_wire_set_id(q->wire, id);
	int ret = knot_pkt_put_question(q, qname, KNOT_CLASS_IN, qtype);
	if (ret != KNOT_EOK || edns == NULL) {
		return ret;
	}
	knot_rrset_t opt;
	if ((ret = knot_pkt_begin(q, KNOT_ADDITIONAL)) != KNOT_EOK ||
	    (ret = knot_edns_init(&opt, edns->payload, 0, KNOT_EDNS_VERSION, &q->mm)) != KNOT_EOK) {
		return ret;
	}
	if (edns->dnssec_ok) {
		knot_edns_set_do(&opt);
	}
	if (edns->opt_code != 0) {
		ret = knot_edns_add_option(&opt, edns->opt_code, edns->opt_len, edns->opt_data,
		                           &q->mm);
	}
	if (ret == KNOT_EOK) {
		ret = knot_pkt_put(q, KNOT_COMPR_HINT_NONE, &opt, KNOT_PF_FREE);
	}
	if (ret != KNOT_EOK) {
		knot_rrset_clear(&opt, &q->mm);
	}
	return ret;
}

size_t zg_dns_frame(uint8_t *buf, size_t space, const knot_pkt_t *q)
{
	if (q->size > 65535 || q->size + 2 > space) {
		return 0;
	}
	knot_wire_write_u16(buf, (uint16_t)q->size);
	memcpy(buf + 2, q->wire, q->size);
	return q->size + 2;
}

int zg_dnsconn_send(zg_dnsconn_t *conn, const uint8_t *wire, size_t len)
{
	if (len > 65535) {
		return ZG_ETOOBIG;
	}
	uint8_t pfx[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	struct iovec iov[2] = {
		{ .iov_base = pfx, .iov_len = 2 },
		{ .iov_base = (void *)wire, .iov_len = len },
	};
	return write_all(conn, iov, 2, zg_clock_ms() + conn->timeout_ms);
}

int zg_dnsconn_write(zg_dnsconn_t *conn, const uint8_t *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	return write_all(conn, &iov, 1, zg_clock_ms() + conn->timeout_ms);
}

int zg_dnsconn_recv(zg_dnsconn_t *conn, uint8_t *buf, size_t max, size_t *len)
{
	int64_t deadline = zg_clock_ms() + conn->timeout_ms;
	uint8_t pfx[2];
	int ret = read_all(conn, pfx, 2, deadline);
	if (ret != 0) {
		return ret;
	}
	size_t n = ((size_t)pfx[0] << 8) | pfx[1];
	if (n > max || n < KNOT_WIRE_HEADER_SIZE) {
		return ZG_EPROTO;
	}
	ret = read_all(conn, buf, n, deadline);
	if (ret == 0) {
		*len = n;
	}
	return ret;
}

int zg_dns_tsig_sign(knot_pkt_t *query, const knot_tsig_key_t *key, uint8_t *mac,
                     size_t *mac_len)
{
	*mac_len = 0;
	if (key == NULL) {
		return 0;
	}
	size_t len = ZG_DNS_MAC_MAX;
	int ret = knot_tsig_sign(query->wire, &query->size, query->max_size, NULL, 0, mac, &len,
	                         key, 0, 0);
	if (ret != KNOT_EOK) {
		return ret;
	}
	*mac_len = len;
	return 0;
}

bool zg_dns_tsig_check(const knot_pkt_t *answer, const knot_tsig_key_t *key,
                       const uint8_t *mac, size_t mac_len)
{
	return key == NULL ||
	       (answer->tsig_rr != NULL &&
	        knot_tsig_client_check(answer->tsig_rr, answer->wire, answer->size, mac, mac_len,
	                               key, 0) == KNOT_EOK);
}

int zg_dns_request(zg_dnsconn_t *conn, knot_pkt_t *query,
                   const knot_tsig_key_t *key, knot_pkt_t *answer)
{
	uint8_t mac[64];
	size_t mac_len = 0;
	int ret = zg_dns_tsig_sign(query, key, mac, &mac_len);
	if (ret != 0) {
		return ret;
	}
	ret = zg_dnsconn_send(conn, query->wire, query->size);
	if (ret != 0) {
		return ret;
	}
	uint16_t id = knot_wire_get_id(query->wire);
	/* Skip stale answers (earlier timed-out requests on this connection), bounded. */
	for (int tries = 0; tries < 16; tries++) {
		knot_pkt_clear(answer);
		size_t len = 0;
		ret = zg_dnsconn_recv(conn, answer->wire, answer->max_size, &len);
		if (ret != 0) {
			return ret;
		}
		answer->size = len;
		if (knot_wire_get_id(answer->wire) != id) {
			continue;
		}
		if (knot_pkt_parse(answer, 0) != KNOT_EOK) {
			return ZG_EPROTO;
		}
		if (!zg_dns_tsig_check(answer, key, mac, mac_len)) {
			/* An error answer is not signed when the server could not
			 * check the request (RFC 8945 5.3.2): a refusal, never data. */
			bool error = knot_wire_get_rcode(answer->wire) != KNOT_RCODE_NOERROR ||
			             (answer->tsig_rr != NULL &&
			              knot_tsig_rdata_error(answer->tsig_rr) != KNOT_RCODE_NOERROR);
			return error ? ZG_EREFUSED : ZG_EPROTO;
		}
		return 0;
	}
	return ZG_EPROTO;
}

char *zg_dns_answer_error(const knot_pkt_t *answer, char *buf, size_t len)
{
	uint8_t rcode = knot_wire_get_rcode(answer->wire);
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	int n = l != NULL ? snprintf(buf, len, "%s", l->name) : snprintf(buf, len, "RCODE %u", rcode);
	uint16_t terr = answer->tsig_rr != NULL ? knot_tsig_rdata_error(answer->tsig_rr) : 0;
	if (terr != KNOT_RCODE_NOERROR && n >= 0 && (size_t)n < len) {
		const knot_lookup_t *t = knot_lookup_by_id(knot_tsig_rcode_names, terr);
		if (t == NULL) {
			t = knot_lookup_by_id(knot_rcode_names, terr);
		}
		if (t != NULL) {
			snprintf(buf + n, len - (size_t)n, ", TSIG error %s", t->name);
		} else {
			snprintf(buf + n, len - (size_t)n, ", TSIG error %u", terr);
		}
	}
	return buf;
}

int zg_dns_send_query(zg_dnsconn_t *conn, knot_pkt_t *query, const knot_tsig_key_t *key,
                      uint8_t *mac, size_t *mac_len)
{
	size_t size = query->size;
	uint16_t arcount = knot_wire_get_arcount(query->wire);
	int ret = zg_dns_tsig_sign(query, key, mac, mac_len);
	if (ret != 0) {
		return ret;
	}
	ret = zg_dnsconn_send(conn, query->wire, query->size);
	query->size = size;
	knot_wire_set_arcount(query->wire, arcount);
	return ret;
}

int zg_dns_recv_answer(zg_dnsconn_t *conn, knot_pkt_t *answer, const knot_tsig_key_t *key,
                       bool (*find_mac)(void *ctx, uint16_t id, const uint8_t **mac,
                                        size_t *mac_len),
                       void *ctx)
{
	knot_pkt_clear(answer);
	size_t len = 0;
	int ret = zg_dnsconn_recv(conn, answer->wire, answer->max_size, &len);
	if (ret != 0) {
		return ret;
	}
	answer->size = len;
	const uint8_t *mac = NULL;
	size_t mac_len = 0;
	if (!find_mac(ctx, knot_wire_get_id(answer->wire), &mac, &mac_len)) {
		return ZG_EPROTO;
	}
	if (knot_pkt_parse(answer, 0) != KNOT_EOK) {
		return ZG_EPROTO;
	}
	return zg_dns_tsig_check(answer, key, mac, mac_len) ? 0 : ZG_EPROTO;
}

/* ---- one question over UDP, TCP when truncated ---- */

/* What a failed connect/send/recv on a datagram socket means. */
static int udp_error(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case ENETUNREACH:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
		return ZG_ECONNECT;
	default:
		return -err;
	}
}

/* Sends q up to tries times, each time waiting timeout_ms for the answer with
 * its id (stray datagrams are ignored). */
static int udp_exchange(const struct sockaddr_storage *addr, const uint8_t *q, size_t qlen,
                        uint8_t *buf, size_t max, size_t *len, int timeout_ms, int tries)
{
	int fd = socket(addr->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	int ret = ZG_ETIMEOUT;
	if (connect(fd, (const struct sockaddr *)addr, addr_len(addr)) != 0) {
		ret = udp_error(errno);
		goto done;
	}
	uint16_t id = knot_wire_get_id(q);
	for (int t = 0; t < tries; t++) {
		if (send(fd, q, qlen, 0) < 0) {
			ret = udp_error(errno);
			goto done;
		}
		int64_t deadline = zg_clock_ms() + timeout_ms;
		for (;;) {
			int w = zg_dns_wait_fd(fd, POLLIN, deadline);
			if (w == ZG_ETIMEOUT) {
				ret = ZG_ETIMEOUT;
				break;
			} else if (w != 0) {
				ret = w;
				goto done;
			}
			ssize_t n = recv(fd, buf, max, 0);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN) {
					continue;
				}
				ret = udp_error(errno);
				goto done;
			}
			/* Ignore stray datagrams (wrong id, not a response). */
			if (n >= KNOT_WIRE_HEADER_SIZE && knot_wire_get_id(buf) == id &&
			    knot_wire_get_qr(buf)) {
				*len = (size_t)n;
				ret = 0;
				goto done;
			}
		}
	}
done:
	close(fd);
	return ret;
}

/* One request on a new TCP connection; the answer must carry the query's id. */
static int tcp_exchange(const struct sockaddr_storage *addr, const uint8_t *q, size_t qlen,
                        uint8_t *buf, size_t max, size_t *len, int timeout_ms)
{
	zg_dnsconn_t *conn = NULL;
	int ret = zg_dnsconn_open(addr, timeout_ms, &conn);
	if (ret == 0) {
		ret = zg_dnsconn_send(conn, q, qlen);
	}
	if (ret == 0) {
		ret = zg_dnsconn_recv(conn, buf, max, len);
	}
	zg_dnsconn_free(conn);
	if (ret == 0 && (knot_wire_get_id(buf) != knot_wire_get_id(q) || !knot_wire_get_qr(buf))) {
		ret = ZG_EPROTO;
	}
	return ret;
}

int zg_dns_query(const struct sockaddr_storage *addr, knot_pkt_t *query,
                 const knot_tsig_key_t *key, int timeout_ms, int udp_tries,
                 knot_pkt_t *answer, bool *signed_ok)
{
	if (timeout_ms <= 0 || udp_tries <= 0) {
		return KNOT_EINVAL;
	}
	uint8_t mac[ZG_DNS_MAC_MAX];
	size_t mac_len = 0;
	int ret = zg_dns_tsig_sign(query, key, mac, &mac_len);
	if (ret != 0) {
		return ret;
	}
	knot_pkt_clear(answer);
	size_t len = 0;
	ret = udp_exchange(addr, query->wire, query->size, answer->wire, answer->max_size, &len,
	                   timeout_ms, udp_tries);
	if (ret == 0 && knot_wire_get_tc(answer->wire)) {
		ret = tcp_exchange(addr, query->wire, query->size, answer->wire, answer->max_size,
		                   &len, timeout_ms);
	}
	if (ret != 0) {
		return ret;
	}
	answer->size = len;
	if (knot_pkt_parse(answer, 0) != KNOT_EOK) {
		return ZG_EPROTO;
	}
	*signed_ok = zg_dns_tsig_check(answer, key, mac, mac_len);
	return 0;
}
