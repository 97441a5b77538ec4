/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * A loopback DNS server for the fuzz harnesses of network parsers (IXFR
 * stream, stub resolver answers): it answers with messages taken from the
 * fuzz input, so the library's own client code (sockets, framing, parsing)
 * runs unchanged.
 *
 * Input: chunks of [u16 length, big-endian][message]; a last chunk shorter
 * than its length takes what is left. Each message gets the query's ID and
 * the QR bit, so that the input need not guess them. Over TCP (one
 * connection) the chunks are sent in order, framed, then the connection is
 * closed (tcp_stream, a transfer), or one per query; over UDP each query
 * gets the next chunk, and once they are used up
 * a REFUSED answer (the client then stops at once instead of timing out;
 * a chunk shorter than a DNS header is sent followed by the next one). A
 * TCP listener on the same port serves the rest of the chunks to a TCP
 * retry (truncated UDP answers).
 */
#ifndef ZONEGATE_FUZZ_NET_H
#define ZONEGATE_FUZZ_NET_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
	int tcp, udp;                  /* listening sockets, 127.0.0.1, one port */
	int wake[2];                   /* pipe: fz_server_stop() wakes the thread */
	struct sockaddr_storage addr;  /* their address */
	const uint8_t *data;
	size_t size, pos;
	bool tcp_stream;               /* TCP: every chunk after the one query (transfers) */
	atomic_bool stop;
	pthread_t tid;
} fz_server_t;

/* The next chunk of the input; false when there is none left. */
static inline bool fz_next(fz_server_t *s, const uint8_t **msg, size_t *len)
{
	if (s->pos + 2 > s->size) {
		return false;
	}
	size_t l = (size_t)s->data[s->pos] << 8 | s->data[s->pos + 1];
	s->pos += 2;
	if (l > s->size - s->pos) {
		l = s->size - s->pos;
	}
	*msg = s->data + s->pos;
	*len = l;
	s->pos += l;
	return true;
}

/* A copy of msg with the query's ID and the QR bit (in buf, 65535 bytes). */
static inline size_t fz_answer(const uint8_t *q, size_t qlen, const uint8_t *msg, size_t len,
                               uint8_t *buf)
{
	memcpy(buf, msg, len);
	if (len >= 2 && qlen >= 2) {
		buf[0] = q[0];
		buf[1] = q[1];
	}
	if (len >= 3) {
		buf[2] |= 0x80;
	}
	return len;
}

static inline bool fz_send_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static inline bool fz_recv_all(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 2000) <= 0) {
			return false;
		}
		ssize_t n = recv(fd, p, len, 0);
		if (n <= 0) {
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static inline void fz_serve_tcp(fz_server_t *s, int fd)
{
	static uint8_t q[65535], buf[65535];
	uint8_t hdr[2];
	if (!fz_recv_all(fd, hdr, 2)) {
		return;
	}
	size_t qlen = (size_t)hdr[0] << 8 | hdr[1];
	if (!fz_recv_all(fd, q, qlen)) {
		return;
	}
	const uint8_t *msg;
	size_t len;
	while (fz_next(s, &msg, &len)) {
		size_t n = fz_answer(q, qlen, msg, len, buf);
		uint8_t h[2] = { (uint8_t)(n >> 8), (uint8_t)n };
		if (!fz_send_all(fd, h, 2) || !fz_send_all(fd, buf, n)) {
			return;
		}
		if (!s->tcp_stream) {
			/* One answer per query: wait for the next query (or EOF). */
			if (!fz_recv_all(fd, hdr, 2)) {
				return;
			}
			qlen = (size_t)hdr[0] << 8 | hdr[1];
			if (!fz_recv_all(fd, q, qlen)) {
				return;
			}
		}
	}
}

static inline void *fz_server_run(void *arg)
{
	fz_server_t *s = arg;
	static uint8_t q[65535], buf[65535];
	while (!atomic_load(&s->stop)) {
		struct pollfd pfd[3] = { { .fd = s->tcp, .events = POLLIN },
		                         { .fd = s->udp, .events = POLLIN },
		                         { .fd = s->wake[0], .events = POLLIN } };
		if (poll(pfd, 3, 1000) <= 0 || (pfd[2].revents & POLLIN)) {
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept(s->tcp, NULL, NULL);
			if (fd >= 0) {
				fz_serve_tcp(s, fd);
				close(fd);
			}
		}
		if (pfd[1].revents & POLLIN) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n = recvfrom(s->udp, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
			if (n < 12) {
				continue;
			}
			const uint8_t *msg;
			size_t len;
			size_t out;
			bool more = fz_next(s, &msg, &len);
			while (more && len < 12) {
				/* Shorter than a header: the client drops it and keeps
				 * waiting; send it, and the next chunk too. */
				sendto(s->udp, msg, len, 0, (struct sockaddr *)&from, fl);
				more = fz_next(s, &msg, &len);
			}
			if (more) {
				out = fz_answer(q, (size_t)n, msg, len, buf);
			} else {
				out = (size_t)n;  /* the query itself, answered REFUSED */
				memcpy(buf, q, out);
				buf[2] |= 0x80;
				buf[3] = (uint8_t)((buf[3] & 0xf0) | 5);
			}
			sendto(s->udp, buf, out, 0, (struct sockaddr *)&from, fl);
		}
	}
	return NULL;
}

/* Opens the sockets once per process (127.0.0.1, a free port). */
static inline int fz_server_init(fz_server_t *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	s->tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (s->tcp < 0 || setsockopt(s->tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s->tcp, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->tcp, 8) != 0 ||
	    getsockname(s->tcp, (struct sockaddr *)&a, &al) != 0) {
		return -1;
	}
	s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->udp < 0 || bind(s->udp, (struct sockaddr *)&a, sizeof(a)) != 0) {
		return -1;
	}
	memset(&s->addr, 0, sizeof(s->addr));
	memcpy(&s->addr, &a, sizeof(a));
	if (pipe(s->wake) != 0) {
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		fcntl(s->wake[i], F_SETFL, O_NONBLOCK);
		fcntl(s->wake[i], F_SETFD, FD_CLOEXEC);
	}
	return 0;
}

/* Serves \a data until fz_server_stop(). */
static inline int fz_server_start(fz_server_t *s, const uint8_t *data, size_t size, bool stream)
{
	s->tcp_stream = stream;
	s->data = data;
	s->size = size;
	s->pos = 0;
	atomic_store(&s->stop, false);
	return pthread_create(&s->tid, NULL, fz_server_run, s) == 0 ? 0 : -1;
}

static inline void fz_server_stop(fz_server_t *s)
{
	atomic_store(&s->stop, true);
	uint8_t b = 1;
	if (write(s->wake[1], &b, 1) != 1) {
		abort();
	}
	pthread_join(s->tid, NULL);
	while (read(s->wake[0], &b, 1) == 1) {
	}
	/* Drop datagrams a timed-out client left behind. */
	uint8_t junk[512];
	while (recv(s->udp, junk, sizeof(junk), MSG_DONTWAIT) > 0) {
	}
}

#endif /* ZONEGATE_FUZZ_NET_H */
