/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libdnssec/random.h>
#include <libknot/codes.h>
#include <libknot/descriptor.h>
#include <libknot/errcode.h>
#include <libknot/lookup.h>
#include <libknot/rrtype/opt.h>
#include <libknot/rrtype/rdname.h>
#include <libknot/rrtype/soa.h>
#include <libknot/tsig-op.h>
#include <libknot/wire.h>

#include "dns/dnsclient.h"
#include "core/error.h"
#include "ingest/gateway.h"
#include "ingest/update.h"
#include "dns/xfr.h"
#include "ingest/ctlload.h"

struct zg_gateway {
	zg_gateway_conf_t conf;
	zg_dnsconn_t *conn;
	knot_pkt_t *answer;
	zg_update_list_t updates;
	zg_arena_t state_pool;
	zg_owner_state_t *states;
	size_t states_alloc;
	zg_update_list_t *lists;	/* One per message of a batch. */
	size_t lists_alloc;
	int64_t delegations;		/* In the zone; -1 unknown (counted when needed). */
	bool last_servfail;		/* The last refusal was a persistent SERVFAIL. */
	uint64_t applied;		/* Messages applied so far. */
};

/* One pipelined UPDATE. */
typedef struct {
	uint16_t id;
	uint8_t rcode;
	bool answered;
	size_t item;
	uint8_t mac[ZG_DNS_MAC_MAX];
	size_t mac_len;
} request_t;

typedef struct {
	request_t *reqs;
	size_t count;
} req_table_t;

void zg_gateway_conf_default(zg_gateway_conf_t *conf)
{
	memset(conf, 0, sizeof(*conf));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&conf->server;
	in4->sin_family = AF_INET;
	in4->sin_port = htons(53);
	in4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	conf->timeout_ms = ZG_DNS_TIMEOUT_DEFAULT_MS;
	conf->servfail_retries = 3;
	conf->retry_delay_ms = 200;
	conf->batch_max = 16;
	conf->max_removal_pct = 10;
}

zg_gateway_t *zg_gateway_new(const zg_gateway_conf_t *conf)
{
	zg_gateway_t *gw = calloc(1, sizeof(*gw));
	if (gw == NULL) {
		return NULL;
	}
	gw->conf = *conf;
	if (gw->conf.timeout_ms <= 0) {
		gw->conf.timeout_ms = ZG_DNS_TIMEOUT_DEFAULT_MS;
	}
	gw->answer = knot_pkt_new(NULL, KNOT_WIRE_MAX_PKTSIZE, NULL);
	if (gw->answer == NULL) {
		free(gw);
		return NULL;
	}
	zg_update_list_init(&gw->updates);
	zg_arena_init(&gw->state_pool, 0);
	gw->delegations = -1;
	return gw;
}

void zg_gateway_free(zg_gateway_t *gw)
{
	if (gw == NULL) {
		return;
	}
	zg_dnsconn_free(gw->conn);
	knot_pkt_free(gw->answer);
	zg_update_list_deinit(&gw->updates);
	zg_arena_deinit(&gw->state_pool);
	free(gw->states);
	for (size_t i = 0; i < gw->lists_alloc; i++) {
		zg_update_list_deinit(&gw->lists[i]);
	}
	free(gw->lists);
	free(gw);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

static void disconnect(zg_gateway_t *gw)
{
	zg_dnsconn_free(gw->conn);
	gw->conn = NULL;
}

static int connect_gw(zg_gateway_t *gw)
{
	if (gw->conn != NULL) {
		return 0;
	}
	return zg_dnsconn_open(&gw->conf.server, gw->conf.timeout_ms, &gw->conn);
}

static const char *rcode_name(uint8_t rcode)
{
	const knot_lookup_t *l = knot_lookup_by_id(knot_rcode_names, rcode);
	return l != NULL ? l->name : "unknown RCODE";
}

int zg_gateway_serial(zg_gateway_t *gw, const knot_dname_t *zone, uint32_t *serial)
{
	int ret = connect_gw(gw);
	if (ret == 0) {
		ret = zg_xfr_soa_serial_on(gw->conn, NULL, zone, gw->answer, serial);
	}
	if (ret != 0) {
		disconnect(gw);
	}
	return ret;
}

typedef struct {
	const knot_dname_t *zone;
	knot_dname_storage_t last;
	int64_t n;
} count_t;

static int count_one(void *ctx, const uint8_t *owner, uint16_t type, uint32_t ttl,
                     const uint8_t *rdata, uint16_t rdlen)
{
	(void)ttl;
	(void)rdata;
	(void)rdlen;
	count_t *c = ctx;
	if (type == KNOT_RRTYPE_NS && !knot_dname_is_equal(owner, c->zone) &&
	    !knot_dname_is_equal(owner, c->last)) {
		c->n++;
		size_t stored = knot_dname_store(c->last, owner);
		(void)stored;
	}
	return 0;
}

/* Counts the zone's delegations (non-apex owners with NS) by AXFR, signed
 * with the gateway's key when it has one (every message of the transfer is
 * checked then), tried COUNT_TRIES times. */
#define COUNT_TRIES	3

static int count_delegations(zg_gateway_t *gw, const knot_dname_t *zone, int64_t *out,
                             char *why, size_t why_len)
{
	zg_xfr_peer_t peer = {
		.addr = &gw->conf.server, .key = gw->conf.key, .zone = zone,
		.timeout_ms = gw->conf.timeout_ms,
	};
	int ret = 0;
	unsigned delay = gw->conf.retry_delay_ms;
	for (unsigned i = 0; i < COUNT_TRIES; i++) {
		if (i > 0) {
			sleep_ms(delay);
			delay *= 2;
		}
		count_t c = { .zone = zone };
		ret = zg_xfr_axfr_each(&peer, count_one, &c, why, why_len);
		if (ret == 0) {
			*out = c.n;
			return 0;
		}
	}
	return ret;
}

static bool lists_ns(const zg_change_t *ch)
{
	for (uint16_t j = 0; j < ch->rrset_count; j++) {
		if (ch->rrsets[j].type == KNOT_RRTYPE_NS) {
			return true;
		}
	}
	return false;
}

/* Delegations the message removes (NS no longer listed at a cut) and adds. */
static void removal_stats(const zg_msg_t *msg, const zg_owner_state_t *states,
                          int64_t *removed, int64_t *added)
{
	*removed = *added = 0;
	for (size_t i = 0; i < msg->change_count; i++) {
		const zg_change_t *ch = &msg->changes[i];
		if (zg_update_removes_cut(ch, &states[i])) {
			(*removed)++;
		} else if (!states[i].at_cut && lists_ns(ch) && !ch->apex) {
			(*added)++;
		}
	}
}

/* The removal limit: ZG_EREFUSED (reason set) if msg removes too much. */
static int check_removals(zg_gateway_t *gw, const zg_msg_t *msg,
                          const zg_owner_state_t *states, char *reason, size_t reason_len)
{
	if (gw->conf.max_removal_pct == 0 || states == NULL) {
		return 0;
	}
	int64_t removed, added;
	removal_stats(msg, states, &removed, &added);
	if (removed == 0) {
		return 0;
	}
	if (gw->delegations < 0) {
		/* Unknown: count now. While it stays unknown the message waits (a
		 * limit that cannot be checked is not passed). */
		int64_t n = 0;
		char why[256] = "";
		int cret = count_delegations(gw, msg->zone, &n, why, sizeof(why));
		if (cret != 0) {
			char a[80];
			snprintf(reason, reason_len, "message %s: removes %lld delegations, and the "
			         "zone's delegations cannot be counted for the removal limit "
			         "(AXFR%s from %s: %s); message held", msg->id, (long long)removed,
			         gw->conf.key != NULL ? " with TSIG" : "",
			         zg_dns_addr_str(&gw->conf.server, a, sizeof(a)), why);
			return cret == ZG_EREFUSED || cret == ZG_EINPUT ? ZG_EPROTO : cret;
		}
		gw->delegations = n;
	}
	if (removed * 100 > (int64_t)gw->conf.max_removal_pct * gw->delegations) {
		snprintf(reason, reason_len, "message %s: removes %lld of %lld delegations, "
		         "more than the limit of %u%%", msg->id, (long long)removed,
		         (long long)gw->delegations, gw->conf.max_removal_pct);
		return ZG_EREFUSED;
	}
	return 0;
}

/* Does the removal limit hold for msg in a batch after messages that
 * remove removed_before delegations? Their additions are not counted (any
 * of them may be refused), so the count used is never above the real one;
 * false also while the zone's count is unknown: such a message is applied
 * alone, where check_removals() decides exactly. */
static bool removals_clear(const zg_gateway_t *gw, const zg_msg_t *msg,
                           const zg_owner_state_t *states, int64_t removed_before)
{
	int64_t removed, added;
	if (gw->conf.max_removal_pct == 0 || states == NULL) {
		return true;
	}
	removal_stats(msg, states, &removed, &added);
	return removed == 0 || (gw->delegations >= 0 && removed * 100 <=
	       (int64_t)gw->conf.max_removal_pct * (gw->delegations - removed_before));
}

/* After applying: keep the delegation count current. */
static void count_applied(zg_gateway_t *gw, const zg_msg_t *msg, const zg_owner_state_t *states)
{
	if (gw->delegations < 0 || states == NULL) {
		return;
	}
	int64_t removed, added;
	removal_stats(msg, states, &removed, &added);
	gw->delegations += added - removed;
	if (gw->delegations < 0) {
		gw->delegations = 0;
	}
}

/* Orders owner names (for bsearch). */
static int owner_cmp(const void *a, const void *b)
{
	return knot_dname_cmp(*(const knot_dname_t *const *)a, *(const knot_dname_t *const *)b);
}

/* ---- Glue below a removed delegation ---------------------------------- */

/* Does msg remove a delegation (NS no longer listed at a cut)? */
static bool removes_delegation(const zg_msg_t *msg, const zg_owner_state_t *states)
{
	int64_t removed = 0, added = 0;
	if (states != NULL) {
		removal_stats(msg, states, &removed, &added);
	}
	return removed > 0;
}

/* The glue of the delegations msg removes: the names the NS set served at
 * such a cut (states[i]) points to strictly below the cut, lower case, each
 * once, leaving out the owners msg lists (their full state is in msg).
 * Arrays from pool. */
static int find_glue(const zg_msg_t *msg, const zg_owner_state_t *states, zg_arena_t *pool,
                     knot_dname_t ***out, size_t *count)
{
	size_t n = msg->change_count, g = 0, cap = 0;
	const knot_dname_t **owners = NULL;
	knot_dname_t **glue = NULL;
	*out = NULL;
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		const zg_change_t *ch = &msg->changes[i];
		if (!zg_update_removes_cut(ch, &states[i])) {
			continue;
		}
		for (uint16_t r = 0; r < states[i].count; r++) {
			const knot_rrset_t *ns = &states[i].rrsets[r];
			if (ns->type != KNOT_RRTYPE_NS) {
				continue;
			}
			knot_rdata_t *rd = ns->rrs.rdata;
			for (uint16_t k = 0; k < ns->rrs.count; k++, rd = knot_rdataset_next(rd)) {
				knot_dname_storage_t t;
				if (knot_dname_store(t, knot_ns_name(rd)) == 0) {
					continue;
				}
				knot_dname_to_lower(t);
				if (knot_dname_in_bailiwick(t, ch->owner) <= 0) {
					continue;
				}
				if (owners == NULL) {
					owners = zg_arena_alloc(pool, n * sizeof(*owners));
					if (owners == NULL) {
						return -ENOMEM;
					}
					for (size_t j = 0; j < n; j++) {
						owners[j] = msg->changes[j].owner;
					}
					qsort(owners, n, sizeof(*owners), owner_cmp);
				}
				const knot_dname_t *key = t;
				bool seen = bsearch(&key, owners, n, sizeof(*owners), owner_cmp) != NULL;
				for (size_t j = 0; j < g && !seen; j++) {
					seen = knot_dname_is_equal(glue[j], t);
				}
				if (seen) {
					continue;
				}
				if (g == cap) {
					size_t nc = cap > 0 ? 2 * cap : 8;
					knot_dname_t **ng = zg_arena_alloc(pool, nc * sizeof(*ng));
					if (ng == NULL) {
						return -ENOMEM;
					}
					if (g > 0) {
						memcpy(ng, glue, g * sizeof(*ng));
					}
					glue = ng;
					cap = nc;
				}
				size_t len = knot_dname_size(t);
				glue[g] = zg_arena_alloc(pool, len);
				if (glue[g] == NULL) {
					return -ENOMEM;
				}
				memcpy(glue[g++], t, len);
			}
		}
	}
	*out = glue;
	*count = g;
	return 0;
}

/* A delegation's full state includes the glue below it: when msg removes
 * delegations, eff becomes msg with an empty change (removal) appended for
 * each glue name (find_glue()), and *states msg's states followed by the
 * glue owners' states, read over gw->conn. Without glue eff is left
 * alone. Everything from gw->state_pool; eff shares msg's data and must not
 * be deinitialised. */
static int with_glue(zg_gateway_t *gw, const zg_msg_t *msg, const zg_owner_state_t **states,
                     zg_msg_t *eff, bool *found, char *reason, size_t reason_len)
{
	*found = false;
	if (!removes_delegation(msg, *states)) {
		return 0;
	}
	knot_dname_t **glue = NULL;
	size_t g = 0, n = msg->change_count;
	int ret = find_glue(msg, *states, &gw->state_pool, &glue, &g);
	if (ret != 0 || g == 0) {
		return ret;
	}
	zg_change_t *ch = zg_arena_alloc(&gw->state_pool, (n + g) * sizeof(*ch));
	zg_owner_state_t *st = zg_arena_alloc(&gw->state_pool, (n + g) * sizeof(*st));
	if (ch == NULL || st == NULL) {
		return -ENOMEM;
	}
	memcpy(ch, msg->changes, n * sizeof(*ch));
	memcpy(st, *states, n * sizeof(*st));
	for (size_t j = 0; j < g; j++) {
		ch[n + j] = (zg_change_t){ .owner = glue[j] };
	}
	zg_msg_t gm = *msg;
	gm.changes = ch + n;
	gm.change_count = g;
	char why[ZG_MSG_REASON_MAX];
	ret = zg_update_read_state(gw->conn, &gm, st + n, &gw->state_pool, why, sizeof(why));
	if (ret != 0) {
		snprintf(reason, reason_len, "message %s: reading the glue of a removed "
		         "delegation failed: %s", msg->id, why);
		disconnect(gw);
		return ret == ZG_EREFUSED || ret == ZG_EINPUT ? ZG_EPROTO : ret;
	}
	*eff = *msg;
	eff->changes = ch;
	eff->change_count = n + g;
	*states = st;
	*found = true;
	return 0;
}

static int ensure_states(zg_gateway_t *gw, size_t n)
{
	if (n <= gw->states_alloc) {
		return 0;
	}
	zg_owner_state_t *s = realloc(gw->states, n * sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	gw->states = s;
	gw->states_alloc = n;
	return 0;
}

static bool find_req_mac(void *ctx, uint16_t id, const uint8_t **mac, size_t *mac_len)
{
	req_table_t *t = ctx;
	for (size_t i = 0; i < t->count; i++) {
		if (t->reqs[i].id == id && !t->reqs[i].answered) {
			*mac = t->reqs[i].mac;
			*mac_len = t->reqs[i].mac_len;
			return true;
		}
	}
	return false;
}

#define NO_ANSWER	0xff
/* REFUSED with the extended error "not ready": Knot refuses UPDATEs so while
 * the zone is frozen (3.2: every one; 3.4+: those beyond the eight it queues).
 * Nothing of such an UPDATE was applied: it is sent again later, and the
 * message waits in the queue meanwhile (never a verdict). */
#define NOT_READY	0xfe

/* The RCODE of the answer in pkt, NOT_READY for a REFUSED "not ready". */
static uint8_t answer_rcode(const knot_pkt_t *pkt)
{
	uint8_t rcode = knot_wire_get_rcode(pkt->wire);
	if (rcode != KNOT_RCODE_REFUSED || pkt->opt_rr == NULL) {
		return rcode;
	}
	uint8_t *ede = knot_edns_get_option(pkt->opt_rr, KNOT_EDNS_OPTION_EDE, NULL);
	if (ede != NULL && knot_edns_opt_get_length(ede) >= 2 &&
	    knot_wire_read_u16(knot_edns_opt_get_data(ede)) == KNOT_EDNS_EDE_NOT_READY) {
		return NOT_READY;
	}
	return rcode;
}

/* Sends the UPDATEs pkts[0..n) pipelined on gw->conn (Knot can then apply
 * them as one batch: one commit, one serial) and waits for every answer;
 * rcode[i] is the i-th one's RCODE, NO_ANSWER if none came. The packets
 * stay unsigned (re-sendable). Returns 0 or a transport error. */
static int pipeline(zg_gateway_t *gw, knot_pkt_t *const *pkts, size_t n, uint8_t *rcode)
{
	req_table_t t = { calloc(n > 0 ? n : 1, sizeof(request_t)), 0 };
	if (t.reqs == NULL) {
		return -ENOMEM;
	}
	int ret = 0;
	uint16_t base = dnssec_random_uint16_t();
	for (size_t i = 0; i < n; i++) {
		rcode[i] = NO_ANSWER;
	}
	for (size_t i = 0; i < n && ret == 0; i++) {
		request_t *r = &t.reqs[t.count];
		r->id = (uint16_t)(base + t.count);
		r->item = i;
		knot_wire_set_id(pkts[i]->wire, r->id);
		ret = zg_dns_send_query(gw->conn, pkts[i], gw->conf.key, r->mac, &r->mac_len);
		t.count++;
	}
	for (size_t i = 0; i < t.count && ret == 0; i++) {
		ret = zg_dns_recv_answer(gw->conn, gw->answer, gw->conf.key, find_req_mac, &t);
		if (ret != 0) {
			break;
		}
		uint16_t id = knot_wire_get_id(gw->answer->wire);
		for (size_t j = 0; j < t.count; j++) {
			if (t.reqs[j].id == id && !t.reqs[j].answered) {
				t.reqs[j].answered = true;
				rcode[t.reqs[j].item] = answer_rcode(gw->answer);
				break;
			}
		}
	}
	free(t.reqs);
	return ret;
}

/* Sends the built UPDATEs of msg pipelined; those answered SERVFAIL (their
 * Knot batch failed, nothing of it applied) are sent again, on a new
 * connection, up to servfail_retries times. */
static int send_updates(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                        char *reason, size_t reason_len)
{
	size_t n = gw->updates.count;
	if (n == 0) {
		return 0;
	}
	knot_pkt_t **pkts = calloc(n, sizeof(*pkts));
	size_t *which = calloc(n, sizeof(*which));
	uint8_t *rcode = calloc(n, sizeof(*rcode));
	int ret = pkts == NULL || which == NULL || rcode == NULL ? -ENOMEM : 0;
	if (ret != 0) {
		snprintf(reason, reason_len, "message %s: %s", msg->id, zg_strerror(ret));
	}
	size_t left = n;
	for (size_t k = 0; k < n && ret == 0; k++) {
		which[k] = k;
	}
	unsigned delay = gw->conf.retry_delay_ms;
	for (unsigned attempt = 0; ret == 0 && left > 0; attempt++) {
		if (attempt > 0) {
			sleep_ms(delay);
			delay *= 2;
			disconnect(gw);
			ret = connect_gw(gw);
			if (ret != 0) {
				char a[80];
				snprintf(reason, reason_len, "message %s: cannot connect to %s (%s)",
				         msg->id, zg_dns_addr_str(&gw->conf.server, a, sizeof(a)),
				         zg_strerror(ret));
				break;
			}
		}
		for (size_t i = 0; i < left; i++) {
			pkts[i] = gw->updates.items[which[i]].pkt;
		}
		ret = pipeline(gw, pkts, left, rcode);
		if (ret != 0) {
			size_t k = 0;
			while (k + 1 < left && rcode[k] != NO_ANSWER) {
				k++;
			}
			snprintf(reason, reason_len, "message %s: UPDATE %zu/%zu: %s", msg->id,
			         which[k] + 1, n, ret == ZG_EPROTO ?
			         "bad or unsigned answer (TSIG check failed?)" : zg_strerror(ret));
			disconnect(gw);
			break;
		}
		/* The first refusal other than SERVFAIL or "not ready" is the
		 * verdict; else retry what got SERVFAIL or "not ready". */
		size_t still = 0, bad = SIZE_MAX, not_ready = SIZE_MAX;
		for (size_t i = 0; i < left; i++) {
			if (rcode[i] == KNOT_RCODE_NOERROR) {
				res->updates++;
				continue;
			}
			if (rcode[i] == NOT_READY && not_ready == SIZE_MAX) {
				not_ready = still;
			} else if (rcode[i] != KNOT_RCODE_SERVFAIL && rcode[i] != NOT_READY &&
			           bad == SIZE_MAX) {
				bad = still;
			}
			which[still] = which[i];
			rcode[still++] = rcode[i];
		}
		left = still;
		if (left == 0) {
			break;
		}
		if (bad == SIZE_MAX) {
			if (attempt < gw->conf.servfail_retries) {
				continue;
			}
			if (not_ready != SIZE_MAX) {
				snprintf(reason, reason_len, "message %s: UPDATE %zu/%zu refused, zone "
				         "not ready (frozen?), kept for later", msg->id,
				         which[not_ready] + 1, n);
				ret = ZG_ENOTREADY;
				break;
			}
			bad = 0;
		}
		const zg_update_t *u = &gw->updates.items[which[bad]];
		char first[KNOT_DNAME_TXT_MAXLEN + 1], last[KNOT_DNAME_TXT_MAXLEN + 1];
		knot_dname_to_str(first, msg->changes[u->first_change].owner, sizeof(first));
		knot_dname_to_str(last, msg->changes[u->last_change].owner, sizeof(last));
		snprintf(reason, reason_len, "message %s: server answered %s to UPDATE "
		         "%zu/%zu (owners %s .. %s)%s", msg->id, rcode_name(rcode[bad]),
		         which[bad] + 1, n, first, last,
		         rcode[bad] == KNOT_RCODE_SERVFAIL ? " every time" : "");
		gw->last_servfail = rcode[bad] == KNOT_RCODE_SERVFAIL;
		ret = ZG_EREFUSED;
	}
	free(pkts);
	free(which);
	free(rcode);
	return ret;
}

/* ---- A message too big for one UPDATE: one control transaction -------- */

typedef struct {
	zg_ctlload_t *load;
	const zg_msg_t *msg;
	bool adds;              /* This pass: additions (else deletions). */
} txn_t;

static int txn_op(void *ctx, size_t change, zg_update_op_t op, uint16_t type,
                  const knot_rrset_t *rr)
{
	txn_t *x = ctx;
	if ((op == ZG_UPDATE_ADD) != x->adds) {
		return 0;
	}
	return op == ZG_UPDATE_ADD ? zg_ctlload_add(x->load, rr) :
	       zg_ctlload_unset(x->load, x->msg->changes[change].owner, type);
}

/* Applies msg whole in one zone transaction on knotd's control socket
 * (zone-begin, every deletion, every addition, zone-commit; zone-abort on
 * any refusal): one serial, and a refused part leaves nothing applied. */
static int apply_txn(zg_gateway_t *gw, const zg_msg_t *msg, const zg_owner_state_t *states,
                     zg_apply_result_t *res, char *reason, size_t reason_len)
{
	char err[512] = "";
	int timeout = gw->conf.ctl_timeout_ms > 0 ? gw->conf.ctl_timeout_ms :
	                                            10 * gw->conf.timeout_ms;
	zg_ctlload_t *load = NULL;
	int ret = zg_ctlload_begin(gw->conf.ctl_socket, msg->zone, timeout, &load, err,
	                           sizeof(err));
	if (ret != 0) {
		/* knotd busy (another transaction, Knot 3.4: a configuration
		 * transaction or a blocking command) or unreachable: not the
		 * message's fault. */
		snprintf(reason, reason_len, "message %s: cannot open a zone transaction on %s "
		         "(%s); message held", msg->id, gw->conf.ctl_socket, err);
		return ret == ZG_EREFUSED ? ZG_EPROTO : ret == 0 ? ZG_EPROTO : ret;
	}
	txn_t x = { .load = load, .msg = msg };
	size_t failed = 0;
	ret = zg_update_plan(msg, states, txn_op, &x);
	if (ret == 0) {
		ret = zg_ctlload_flush(load, &failed, err, sizeof(err));
	}
	if (ret == 0 && failed == 0) {
		x.adds = true;
		ret = zg_update_plan(msg, states, txn_op, &x);
	}
	size_t added = 0;
	if (ret == 0 && failed == 0) {
		ret = zg_ctlload_commit(load, &added, &failed, err, sizeof(err));
	} else if (ret == ZG_EREFUSED || failed > 0) {
		ret = ZG_EREFUSED;
	}
	zg_ctlload_free(load); /* Aborts what is still open. */
	if (ret == ZG_EREFUSED) {
		snprintf(reason, reason_len, "message %s: knotd refused the zone transaction "
		         "(%s); nothing of it applied", msg->id, err);
		return ZG_EREFUSED;
	}
	if (ret != 0) {
		snprintf(reason, reason_len, "message %s: zone transaction on %s failed (%s%s%s)",
		         msg->id, gw->conf.ctl_socket, zg_strerror(ret), err[0] ? ": " : "", err);
		return ret == -ENOMEM ? ret : ZG_ECONNECT;
	}
	res->transaction = true;
	return 0;
}

static int apply_once(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                      char *reason, size_t reason_len, bool *fresh_conn)
{
	/* Knot may close a TCP connection once it has answered an UPDATE on it,
	 * so every message starts on a fresh connection. */
	disconnect(gw);
	*fresh_conn = true;
	int ret = connect_gw(gw);
	if (ret != 0) {
		char a[80];
		snprintf(reason, reason_len, "message %s: cannot connect to %s (%s)", msg->id,
		         zg_dns_addr_str(&gw->conf.server, a, sizeof(a)), zg_strerror(ret));
		return ret;
	}

	const zg_owner_state_t *states = NULL;
	if (!gw->conf.blind && msg->change_count > 0) {
		ret = ensure_states(gw, msg->change_count);
		if (ret != 0) {
			return ret;
		}
		zg_arena_reset(&gw->state_pool);
		char why[ZG_MSG_REASON_MAX];
		ret = zg_update_read_state(gw->conn, msg, gw->states, &gw->state_pool,
		                           why, sizeof(why));
		if (ret != 0) {
			snprintf(reason, reason_len, ret == ZG_EINPUT ? "message %s: %s" :
			         "message %s: reading current data failed: %s", msg->id, why);
			disconnect(gw);
			/* ZG_EINPUT: refused by its own data (an owner below a
			 * DNAME), for good; an error answer to a read: try again. */
			return ret == ZG_EINPUT ? ZG_EREFUSED :
			       ret == ZG_EREFUSED ? ZG_EPROTO : ret;
		}
		states = gw->states;
	}
	ret = check_removals(gw, msg, states, reason, reason_len);
	if (ret != 0) {
		return ret;
	}
	zg_msg_t with;
	bool glue = false;
	ret = with_glue(gw, msg, &states, &with, &glue, reason, reason_len);
	if (ret != 0) {
		if (reason[0] == '\0') {
			snprintf(reason, reason_len, "message %s: %s", msg->id, zg_strerror(ret));
		}
		return ret;
	}
	if (glue) {
		msg = &with; /* The same id and zone, more owners. */
	}

	size_t tsig = gw->conf.key != NULL ? knot_tsig_wire_size(gw->conf.key) : 0;
	ret = zg_update_build(&gw->updates, msg, states, ZG_UPDATE_MAX_SIZE, tsig);
	if (ret != 0) {
		snprintf(reason, reason_len, "message %s: cannot build UPDATE (%s)", msg->id,
		         zg_strerror(ret));
		return ret == ZG_ETOOBIG ? ZG_EREFUSED : ret;
	}
	res->owners_changed = gw->updates.owners_changed;
	res->ops = gw->updates.ops;

	if (gw->updates.count > 1) {
		/* Several UPDATEs could be published as several serials, and a
		 * refusal of a later one would leave the earlier ones applied. */
		if (gw->conf.ctl_socket == NULL) {
			snprintf(reason, reason_len, "message %s: needs %zu UPDATEs; a message is "
			         "applied whole only through knotd's control socket, none is "
			         "configured; message held", msg->id, gw->updates.count);
			return ZG_EINACTIVE;
		}
		ret = apply_txn(gw, msg, states, res, reason, reason_len);
	} else {
		ret = send_updates(gw, msg, res, reason, reason_len);
	}
	if (ret != 0) {
		return ret;
	}
	count_applied(gw, msg, states);
	gw->applied++;
	uint32_t serial = 0;
	if (res->updates > 0 || res->transaction) {
		disconnect(gw);
	}
	if (zg_gateway_serial(gw, msg->zone, &serial) == 0) {
		res->serial = serial;
		res->serial_known = true;
	}
	return 0;
}

/* One message; a lone persistent SERVFAIL is a refusal here, with
 * gw->last_servfail set (the callers decide what it means). */
static int apply_msg(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                     char *reason, size_t reason_len)
{
	zg_apply_result_t dummy;
	if (res == NULL) {
		res = &dummy;
	}
	memset(res, 0, sizeof(*res));
	reason[0] = '\0';
	gw->last_servfail = false;
	bool fresh = false;
	int ret = apply_once(gw, msg, res, reason, reason_len, &fresh);
	if ((ret == ZG_ECONNECT || ret == ZG_ETIMEOUT) && !fresh) {
		/* A kept connection may have been closed by the server while idle. */
		memset(res, 0, sizeof(*res));
		ret = apply_once(gw, msg, res, reason, reason_len, &fresh);
	}
	return ret;
}

/* The server answered SERVFAIL to a message alone every time, and nothing
 * shows that it is the message's fault: a failing server (journal,
 * keystore), so try again later. */
static int servfail_transient(char *reason, size_t reason_len)
{
	size_t n = strlen(reason);
	snprintf(reason + n, reason_len - n, "; nothing else applies either, server failing?");
	return ZG_EPROTO;
}

int zg_gateway_apply(zg_gateway_t *gw, const zg_msg_t *msg, zg_apply_result_t *res,
                     char *reason, size_t reason_len)
{
	int ret = apply_msg(gw, msg, res, reason, reason_len);
	if (ret == ZG_EREFUSED && gw->last_servfail) {
		ret = servfail_transient(reason, reason_len);
	}
	return ret;
}

/* ---- Batches ------------------------------------------------------------ */

static int ensure_lists(zg_gateway_t *gw, size_t n)
{
	if (n <= gw->lists_alloc) {
		return 0;
	}
	zg_update_list_t *l = realloc(gw->lists, n * sizeof(*l));
	if (l == NULL) {
		return -ENOMEM;
	}
	for (size_t i = gw->lists_alloc; i < n; i++) {
		zg_update_list_init(&l[i]);
	}
	gw->lists = l;
	gw->lists_alloc = n;
	return 0;
}

/* Marks the k-th message of a batch as not sent: it gets its verdict alone. */
static void not_sent(zg_gateway_t *gw, size_t k, uint8_t *rcode_out)
{
	gw->lists[k].count = 0;
	gw->lists[k].owners_changed = 0;
	gw->lists[k].ops = 0;
	rcode_out[k] = 0xff;
}

/* Sends the UPDATEs of items idx[0..m) pipelined; ok[k] tells whether every
 * UPDATE of the k-th got NOERROR. A message that removes a delegation goes
 * in the batch with its glue (with_glue()) unless it and an earlier message
 * of the batch may not share a serial (zg_update_cut_conflict(): one lists
 * a name at or below a cut the other removes) or the removal limit is not
 * shown to hold for it (removals_clear()): then the batch ends before it
 * (*m_io set to its index), or, when it is the first, it is alone, not
 * sent, with whole set. Returns a transient code or 0. */
static int batch_send(zg_gateway_t *gw, zg_apply_item_t *items, const size_t *idx,
                      size_t *m_io, bool *ok_out, uint8_t *rcode_out)
{
	size_t m = *m_io;
	disconnect(gw);
	int ret = connect_gw(gw);
	if (ret != 0) {
		return ret;
	}
	ret = ensure_lists(gw, m);
	if (ret != 0) {
		return ret;
	}
	zg_arena_reset(&gw->state_pool);
	size_t tsig = gw->conf.key != NULL ? knot_tsig_wire_size(gw->conf.key) : 0;
	size_t total = 0;
	int64_t removed_before = 0;	/* Delegations the batch removes so far. */
	for (size_t k = 0; k < m; k++) {
		zg_apply_item_t *it = &items[idx[k]];
		const zg_msg_t *msg = it->msg;
		zg_owner_state_t *states = NULL;
		if (!gw->conf.blind && msg->change_count > 0) {
			states = zg_arena_alloc(&gw->state_pool, msg->change_count * sizeof(*states));
			if (states == NULL) {
				return -ENOMEM;
			}
			char why[256];
			ret = zg_update_read_state(gw->conn, msg, states, &gw->state_pool,
			                           why, sizeof(why));
			if (ret == ZG_EINPUT) {
				/* Refused by its data: not sent, it gets its verdict
				 * alone (the connection is in sync: answers all read). */
				not_sent(gw, k, rcode_out);
				it->states = NULL;
				continue;
			}
			if (ret != 0) {
				snprintf(it->reason, sizeof(it->reason), "message %s: reading current "
				         "data failed: %s", msg->id, why);
				disconnect(gw);
				return ret == ZG_EREFUSED ? ZG_EPROTO : ret;
			}
		}
		it->states = states;
		bool joins = removals_clear(gw, msg, states, removed_before);
		for (size_t j = 0; j < k && joins; j++) {
			const zg_apply_item_t *o = &items[idx[j]];
			joins = !zg_update_cut_conflict(o->msg, o->states, msg, states);
		}
		if (!joins) {
			if (k > 0) {
				m = *m_io = k;
				break;
			}
			it->whole = true;
			not_sent(gw, k, rcode_out);
			m = *m_io = 1;
			break;
		}
		int64_t removed = 0, added = 0;
		if (states != NULL) {
			removal_stats(msg, states, &removed, &added);
		}
		removed_before += removed;
		/* The glue goes with its delegation, in the same UPDATE. */
		const zg_owner_state_t *eff_states = states;
		zg_msg_t *eff = zg_arena_alloc(&gw->state_pool, sizeof(*eff));
		bool glue = false;
		if (eff == NULL) {
			return -ENOMEM;
		}
		ret = with_glue(gw, msg, &eff_states, eff, &glue, it->reason, sizeof(it->reason));
		if (ret != 0) {
			return ret;
		}
		ret = zg_update_build(&gw->lists[k], glue ? eff : msg, eff_states,
		                      ZG_UPDATE_MAX_SIZE, tsig);
		if (ret != 0) {
			return ret;
		}
		it->whole = gw->lists[k].count > 1;
		if (it->whole) {
			/* Not sent: it fails here and gets its verdict alone. */
			gw->lists[k].count = 0;
			rcode_out[k] = 0xff;
		}
		total += gw->lists[k].count;
	}
	knot_pkt_t **pkts = calloc(total > 0 ? total : 1, sizeof(*pkts));
	size_t *owner = calloc(total > 0 ? total : 1, sizeof(*owner));
	uint8_t *rc = calloc(total > 0 ? total : 1, sizeof(*rc));
	if (pkts == NULL || owner == NULL || rc == NULL) {
		free(pkts);
		free(owner);
		free(rc);
		return -ENOMEM;
	}
	size_t np = 0;
	for (size_t k = 0; k < m; k++) {
		for (size_t u = 0; u < gw->lists[k].count; u++) {
			owner[np] = k;
			pkts[np++] = gw->lists[k].items[u].pkt;
		}
	}
	ret = pipeline(gw, pkts, np, rc);
	disconnect(gw);
	for (size_t k = 0; k < m; k++) {
		ok_out[k] = ret == 0 && rcode_out[k] != 0xff;
		rcode_out[k] = KNOT_RCODE_NOERROR;
		items[idx[k]].res.owners_changed = gw->lists[k].owners_changed;
		items[idx[k]].res.ops = gw->lists[k].ops;
		items[idx[k]].res.updates = gw->lists[k].count;
	}
	for (size_t j = 0; j < np && ret == 0; j++) {
		if (rc[j] == NOT_READY) {
			/* A frozen zone: no verdict for any message of the batch;
			 * all of it again later (re-read, so nothing twice). */
			ret = ZG_ENOTREADY;
		} else if (rc[j] != KNOT_RCODE_NOERROR) {
			ok_out[owner[j]] = false;
			rcode_out[owner[j]] = rc[j];
		}
	}
	free(pkts);
	free(owner);
	free(rc);
	return ret;
}

static int batch_apply(zg_gateway_t *gw, zg_apply_item_t *items, const size_t *idx,
                       size_t m, uint64_t applied_before)
{
	if (m == 1) {
		zg_apply_item_t *it = &items[idx[0]];
		it->ret = apply_msg(gw, it->msg, &it->res, it->reason, sizeof(it->reason));
		if (it->ret == ZG_EREFUSED && gw->last_servfail && gw->applied == applied_before) {
			/* SERVFAIL alone, and nothing else went through either: the
			 * server may be failing, not the message. */
			it->ret = servfail_transient(it->reason, sizeof(it->reason));
		}
		/* A verdict (applied, refused by the server or by its data) lets
		 * the batch go on; anything else is transient. */
		return (it->ret == 0 || it->ret == ZG_EREFUSED || it->ret == ZG_EINPUT) ? 0 : it->ret;
	}
	bool *ok = calloc(m, sizeof(*ok));
	uint8_t *rcode = calloc(m, sizeof(*rcode));
	size_t *failed = calloc(m, sizeof(*failed));
	int ret = 0;
	if (ok == NULL || rcode == NULL || failed == NULL) {
		ret = -ENOMEM;
		goto done;
	}
	size_t sent = m;
	ret = batch_send(gw, items, idx, &sent, ok, rcode);
	if (ret != 0) {
		goto done;
	}
	uint32_t serial = 0;
	bool serial_known = zg_gateway_serial(gw, items[idx[0]].msg->zone, &serial) == 0;
	size_t nf = 0;
	for (size_t k = 0; k < sent; k++) {
		zg_apply_item_t *it = &items[idx[k]];
		if (ok[k]) {
			count_applied(gw, it->msg, it->states);
			gw->applied++;
			it->ret = 0;
			it->reason[0] = '\0';
			it->res.serial = serial;
			it->res.serial_known = serial_known;
		} else if (it->whole) {
			/* Too big for one UPDATE (a transaction) or removing
			 * delegations beyond what the batch could check: applied
			 * alone, not read again with a smaller group first (it
			 * touches nothing at or below a cut another message of the
			 * batch removes, so its place among them does not matter). */
			ret = batch_apply(gw, items, &idx[k], 1, applied_before);
			if (ret != 0) {
				goto done;
			}
		} else {
			failed[nf++] = idx[k];
		}
	}
	if (nf > 0 && (nf < sent || nf == 1)) {
		/* Retry the failed ones as a smaller group (they are re-read, so
		 * whatever of them got applied is not sent again). */
		ret = batch_apply(gw, items, failed, nf, applied_before);
	} else if (nf > 0) {
		/* Everything failed: bisect until the culprit is alone. */
		ret = batch_apply(gw, items, idx, sent / 2, applied_before);
		if (ret == 0) {
			ret = batch_apply(gw, items, idx + sent / 2, sent - sent / 2, applied_before);
		}
	}
	if (ret == 0 && sent < m) {
		/* The rest, from the message that could not join. */
		ret = batch_apply(gw, items, idx + sent, m - sent, applied_before);
	}
done:
	free(ok);
	free(rcode);
	free(failed);
	return ret;
}

int zg_gateway_apply_batch(zg_gateway_t *gw, zg_apply_item_t *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		items[i].ret = ZG_EINACTIVE;
		items[i].whole = false;
		items[i].reason[0] = '\0';
		memset(&items[i].res, 0, sizeof(items[i].res));
	}
	size_t max = gw->conf.batch_max > 0 ? gw->conf.batch_max : 1;
	size_t *idx = calloc(n > 0 ? n : 1, sizeof(*idx));
	size_t owners_alloc = 0, owners_n = 0;
	const knot_dname_t **owners = NULL;
	int ret = idx == NULL ? -ENOMEM : 0;
	size_t start = 0;
	while (ret == 0 && start < n) {
		/* The longest run from start with disjoint owners, at most max. */
		size_t end = start;
		owners_n = 0;
		while (end < n && end - start < max) {
			const zg_msg_t *msg = items[end].msg;
			bool overlap = false;
			for (size_t c = 0; c < msg->change_count && !overlap && owners_n > 0; c++) {
				overlap = bsearch(&msg->changes[c].owner, owners, owners_n,
				                  sizeof(*owners), owner_cmp) != NULL;
			}
			if (overlap) {
				break;
			}
			if (owners_n + msg->change_count > owners_alloc) {
				size_t na = (owners_n + msg->change_count) * 2;
				const knot_dname_t **no = realloc(owners, na * sizeof(*no));
				if (no == NULL) {
					ret = -ENOMEM;
					break;
				}
				owners = no;
				owners_alloc = na;
			}
			for (size_t c = 0; c < msg->change_count; c++) {
				owners[owners_n++] = msg->changes[c].owner;
			}
			qsort(owners, owners_n, sizeof(*owners), owner_cmp);
			end++;
		}
		if (ret != 0) {
			break;
		}
		if (end == start) {
			end = start + 1;
		}
		for (size_t i = start; i < end; i++) {
			idx[i - start] = i;
		}
		ret = batch_apply(gw, items, idx, end - start, gw->applied);
		start = end;
	}
	if (ret != 0) {
		for (size_t i = 0; i < n; i++) {
			if (items[i].ret == ZG_EINACTIVE) {
				items[i].ret = ret;
				if (items[i].reason[0] == '\0') {
					snprintf(items[i].reason, sizeof(items[i].reason),
					         "message %s: not applied (%s)", items[i].msg->id,
					         zg_strerror(ret));
				}
			}
		}
	}
	free(owners);
	free(idx);
	return ret;
}
