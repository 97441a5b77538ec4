/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * The records of a zone-transfer answer (RFC 1995 section 4, RFC 5936) as a
 * state machine without I/O: fed record by record, it checks the SOA
 * framing and hands whole-zone records or changes to a sink. The transfer
 * client (dns/xfr.h) and the content digests (validate/digest.h) use it.
 */
#ifndef ZONEGATE_XFRSTREAM_H
#define ZONEGATE_XFRSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*!
 * Where the records of a transfer answer go, in order (see zg_xfr_stream_t).
 * Each callback returns 0 or a negative code (with a reason) that stops the
 * stream.
 */
typedef struct {
	/*! A record of a whole zone (an AXFR, or an IXFR answered with the
	 *  whole zone): the SOA first, then every record up to the closing SOA
	 *  (not repeated). */
	int (*full_rr)(void *arg, const uint8_t *owner, uint16_t type, uint32_t ttl,
	               const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen);
	/*! A change of an incremental answer, the SOA of each delta included:
	 *  removals (add false) then additions of each delta. */
	int (*change)(void *arg, bool add, const uint8_t *owner, uint16_t type, uint32_t ttl,
	              const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen);
} zg_xfr_sink_t;

/*!
 * The records of one AXFR or IXFR answer (RFC 5936, RFC 1995 section 4) as a
 * stream, whichever side reads it: the transfer client (dns/xfr.h), or a server
 * module checking what it sends. Embed, zg_xfr_stream_init(), then
 * zg_xfr_stream_rr() for every answer record (class IN) until
 * zg_xfr_stream_done(). Fields are private.
 */
typedef struct {
	const uint8_t *zone;
	bool axfr_query;
	bool full;               /*!< The answer is a whole zone. */
	uint32_t from;           /*!< The serial of the IXFR request. */
	uint32_t to;             /*!< The serial of the first SOA: what is transferred. */
	uint32_t cur_new;
	size_t rrs;
	int st;
	uint8_t soa[512];
	uint16_t soa_len;
	uint32_t soa_ttl;
	const zg_xfr_sink_t *sink;
	void *arg;
} zg_xfr_stream_t;

/*!
 * Starts a stream: the answer to an AXFR (\a axfr) or to an IXFR from
 * \a serial, of \a zone (wire, lowercase; kept by reference).
 */
void zg_xfr_stream_init(zg_xfr_stream_t *s, const uint8_t *zone, bool axfr, uint32_t serial,
                        const zg_xfr_sink_t *sink, void *arg);

/*!
 * Takes the next answer record (owner in wire format, uncompressed rdata).
 *
 * \return 0; ZG_EPROTO (with the reason) when the record breaks the rules of
 *         the stream; or what a sink callback returned.
 */
int zg_xfr_stream_rr(zg_xfr_stream_t *s, const uint8_t *owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, uint16_t rdlen, char *reason, size_t rlen);

/*! The closing SOA has been seen. */
bool zg_xfr_stream_done(const zg_xfr_stream_t *s);

/*! The first SOA has been seen (s->to is the serial transferred). */
bool zg_xfr_stream_started(const zg_xfr_stream_t *s);

/*!
 * An IXFR answer that is so far only one SOA, not newer than the requested
 * serial: when the message ends there, the zone is up to date.
 */
bool zg_xfr_stream_uptodate(const zg_xfr_stream_t *s);

#endif
