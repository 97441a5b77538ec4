/* SPDX-License-Identifier: GPL-3.0-or-later */
/*!
 * \file
 * mod-dsync's child mode without knotd: the CDS/CDNSKEY guard (guard.h) and
 * the DS interlock (interlock.h) of one zone, with their configuration
 * (parent servers and keys, trust anchor, resolver) and one round of the
 * worker: poll what the zone publishes, step the guard, and while the safe
 * set announces a DS change step the interlock, check the parent servers
 * (parents.h) and confirm the submission. The module gives the effects
 * (log, counters, alarm, zone-ksk-submitted) as callbacks, and may give the
 * clocks (a fake clock in tests).
 *
 * Threads: one worker runs the rounds; the hooks call only
 * zg_childsync_own_query() and zg_childsync_served(), which read what the
 * worker published (atomics).
 */
#ifndef ZONEGATE_CHILDSYNC_H
#define ZONEGATE_CHILDSYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <libknot/libknot.h>

#include "dns/resolver.h"
#include "dsync/guard.h"
#include "dsync/interlock.h"

#define ZG_CHILDSYNC_MAX_PARENTS 16
/*! EDNS option (local/experimental range) marking the worker's own polls. */
#define ZG_CHILDSYNC_OPT_CODE 65433
#define ZG_CHILDSYNC_TOKEN_LEN 16

/*! The counters a round increments. */
typedef enum {
	ZG_CHILDSYNC_DS_OK = 0,  /*!< parent-ds-checks-ok */
	ZG_CHILDSYNC_DS_FAILED,  /*!< parent-ds-checks-failed */
	ZG_CHILDSYNC_DS_UNAUTH,  /*!< parent-ds-unauthenticated */
	ZG_CHILDSYNC_OVERDUE,    /*!< syncs-overdue */
	ZG_CHILDSYNC_CDS_UNSAFE, /*!< cds-unsafe */
} zg_childsync_ctr_t;

/*! The effects of a round, done by the caller (any may be NULL but submit). */
typedef struct {
	void (*log)(void *arg, int level, const char *text);   /*!< One line (syslog level). */
	void (*count)(void *arg, zg_childsync_ctr_t ctr, uint64_t n);
	void (*alarm)(void *arg, uint16_t keytag, const char *reason);
	/*! zone-ksk-submitted: 0, or the error (err: knotd's reply or its text). */
	int (*submit)(void *arg, char *err, size_t errlen);
	bool (*stopping)(void *arg);   /*!< True stops the parent check (unloading). */
	int64_t (*now)(void *arg);     /*!< Wall clock, s (NULL: time()). */
	int64_t (*mono_ms)(void *arg); /*!< Monotonic clock, ms, never 0 (NULL: the real one). */
	void *arg;
} zg_childsync_ops_t;

/*! A zone's child side (zg_childsync_init() ... zg_childsync_deinit()). */
typedef struct {
	knot_dname_t *zone;                    /*!< Lowercase copy. */
	char zone_str[KNOT_DNAME_TXT_MAXLEN + 1];
	zg_server_t server;                    /*!< Polled for what the zone publishes. */
	bool allow_delete;
	unsigned interval;                     /*!< Between rounds, s. */
	uint8_t token[ZG_CHILDSYNC_TOKEN_LEN]; /*!< In the EDNS option of the polls. */

	zg_server_t parents[ZG_CHILDSYNC_MAX_PARENTS];
	knot_tsig_key_t parent_keys[ZG_CHILDSYNC_MAX_PARENTS]; /*!< name NULL: unsigned. */
	size_t nparents;
	knot_rdataset_t ta_ds, ta_dnskey;
	knot_dname_t *ta_owner;                /*!< NULL: no trust anchor. */
	char ta_path[512];
	zg_server_t resolver;                  /*!< For the chain from the anchor down. */
	bool have_resolver;
	uint32_t overdue;

	zg_guard_t guard;                      /*!< The worker's. */
	zg_interlock_t sync;                   /*!< The worker's. */
	atomic_int state;                      /*!< guard.state, published for the hooks ... */
	_Atomic uint64_t checked;              /*!< ... and guard.checked. */
} zg_childsync_t;

/*!
 * Starts a child side with nothing checked (CDS/CDNSKEY withheld) and no
 * parent; draws the poll token.
 *
 * \return 0, -ENOMEM or ZG_EINPUT (zone not printable, token not drawn).
 */
int zg_childsync_init(zg_childsync_t *c, const knot_dname_t *zone, const zg_server_t *server,
                      bool allow_delete, unsigned interval);

/*! Frees what c holds (not c); a zeroed c is fine. */
void zg_childsync_deinit(zg_childsync_t *c);

/*!
 * Adds a parent server; key: its TSIG key (copied) or NULL.
 *
 * \return 0, ZG_ETOOBIG (already ZG_CHILDSYNC_MAX_PARENTS: not added) or
 *         ZG_EINPUT (the key cannot be copied: added, queries unsigned).
 */
int zg_childsync_add_parent(zg_childsync_t *c, const struct sockaddr *addr,
                            const knot_tsig_key_t *key);

/*! A remote of the server's configuration, as the module reads it. */
typedef struct {
	/*! Its addresses (one more than a zone takes, to be warned of) ... */
	struct sockaddr_storage addr[ZG_CHILDSYNC_MAX_PARENTS + 1];
	size_t n;              /*!< ... collected (zg_childsync_remote_addr()), */
	size_t naddr;          /*!< ... it has (0: no remote with an address by that id). */
	knot_tsig_key_t key;   /*!< Its key (name NULL: none). */
} zg_childsync_remote_t;

/*!
 * Reads the remote id into r (zeroed): 0, or an error when its key is not
 * usable (its addresses still read, key left empty).
 */
typedef int (*zg_childsync_remote_fn)(void *arg, const char *id, zg_childsync_remote_t *r);

/*! Collects an address of a remote (arg: its zg_childsync_remote_t; via unused). */
void zg_childsync_remote_addr(void *arg, const struct sockaddr_storage *addr,
                              const struct sockaddr_storage *via);

/*!
 * Adds the parent servers of one 'parent' value: an address (ADDR[@PORT],
 * port 53 by default: queries unsigned), else the id of a remote (each of
 * its addresses, every query signed with its key, every answer checked).
 * Logs (ops->log) an unusable value and the parents left out.
 *
 * eturn 0, or ZG_EINPUT (the remote's key is not usable, or the value is
 *         neither an address nor a remote with an address).
 */
int zg_childsync_add_parents(zg_childsync_t *c, const char *value, zg_childsync_remote_fn remote,
                             void *arg, const zg_childsync_ops_t *ops);

/*!
 * The rest of the configuration, after the parents: the trust anchor read
 * from ta_path (NULL: the root's from dns-root-data when installed, else
 * none), the resolver (NULL: the first of /etc/resolv.conf, if any) and the
 * overdue interval; starts the interlock.
 *
 * \return 0, or the error reading the trust anchor (err says why).
 */
int zg_childsync_conf(zg_childsync_t *c, const char *ta_path, const zg_server_t *resolver,
                      uint32_t overdue, char *err, size_t errlen);

/*!
 * Logs what is active (notice), and warns when no parent answer can be
 * authenticated; ctl_path names the control socket in the line.
 */
void zg_childsync_log_conf(const zg_childsync_t *c, const char *ctl_path,
                           const zg_childsync_ops_t *ops);

/*!
 * The input of the interlock's ZG_INTERLOCK_ZONE step for what the zone
 * publishes (a safe set): the CDS set, else the CDNSKEY set, unless empty or
 * the delete form. tags (for in->tags) receives the key tags.
 */
void zg_childsync_zone_in(const zg_child_view_t *v, int64_t now, zg_interlock_in_t *in,
                          char *tags, size_t tagslen);

/*! One round of the worker (see the file comment). */
void zg_childsync_round(zg_childsync_t *c, const zg_childsync_ops_t *ops);

/*! Seconds until the next round: 1 while nothing was checked, else the interval. */
unsigned zg_childsync_wait(const zg_childsync_t *c);

/*! The query (its OPT RR, or NULL) is the worker's own poll. */
bool zg_childsync_own_query(const zg_childsync_t *c, const knot_rrset_t *opt_rr);

/*!
 * The guard looks at this query: an outgoing transfer of the zone (xfr), or
 * a normal query for CDS/CDNSKEY at the apex that is not the worker's own
 * poll.
 */
bool zg_childsync_guarded(const zg_childsync_t *c, bool xfr, bool normal, uint16_t qtype,
                          const knot_dname_t *qname, const knot_rrset_t *opt_rr);

/*! The hooks' question (zg_guard_served()) on what the worker published. */
zg_guard_verdict_t zg_childsync_served(zg_childsync_t *c, const knot_rdataset_t *dnskey,
                                       const knot_rdataset_t *cds, const knot_rdataset_t *cdnskey);

/*! Reads an RRset of the zone's apex as the zone serves it now (the hook's). */
typedef knot_rdataset_t (*zg_childsync_apex_fn)(void *arg, uint16_t type);

/*!
 * The hook's decision on a query (the arguments of zg_childsync_guarded()):
 * for a guarded one, zg_guard_decide() on zg_childsync_served() of the
 * DNSKEY, CDS and CDNSKEY apex(arg, type) reads; apex is called for guarded
 * queries only.
 */
zg_guard_action_t zg_childsync_decide(zg_childsync_t *c, bool xfr, bool normal, uint16_t qtype,
                                      const knot_dname_t *qname, const knot_rrset_t *opt_rr,
                                      zg_childsync_apex_fn apex, void *arg);

#endif /* ZONEGATE_CHILDSYNC_H */
