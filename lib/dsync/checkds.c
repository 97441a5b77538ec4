/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-checkds: the state of a delegation from what each server serves.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/libknot.h>
#include <libzscanner/scanner.h>

#include "dsync/checkds.h"
#include "core/error.h"

const char *zg_checkds_state_str(zg_checkds_state_t state)
{
	switch (state) {
	case ZG_CHECKDS_IN_SYNC:      return "in-sync";
	case ZG_CHECKDS_PENDING:      return "pending";
	case ZG_CHECKDS_INCONSISTENT: return "inconsistent";
	case ZG_CHECKDS_BROKEN:       return "broken";
	default:                      return "unknown";
	}
}

int zg_checkds_exit_code(zg_checkds_state_t state)
{
	switch (state) {
	case ZG_CHECKDS_IN_SYNC: return 0;
	case ZG_CHECKDS_PENDING: return 1;
	default:                 return 2;
	}
}

static void add(zg_checkds_report_t *rep, zg_checkds_state_t state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void add(zg_checkds_report_t *rep, zg_checkds_state_t state, const char *fmt, ...)
{
	if (state > rep->state) {
		rep->state = state;
	}
	if (rep->nfindings >= ZG_CHECKDS_MAX_FINDINGS) {
		return;
	}
	zg_checkds_finding_t *f = &rep->findings[rep->nfindings++];
	f->state = state;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
}

enum announce {
	ANN_NONE,
	ANN_DELETE,
	ANN_CDS,
	ANN_CDNSKEY,
};

static enum announce announced(const zg_child_view_t *c)
{
	const knot_rdataset_t *cds = &c->cds.rr.rrs, *cdnskey = &c->cdnskey.rr.rrs;
	if (cds->count > 0) {
		return zg_cds_is_delete(cds->rdata) ? ANN_DELETE : ANN_CDS;
	}
	if (cdnskey->count > 0) {
		return zg_cdnskey_is_delete(cdnskey->rdata) ? ANN_DELETE : ANN_CDNSKEY;
	}
	return ANN_NONE;
}

/* The parent's DS set is what the child announces. */
static bool serves_announced(const zg_parent_view_t *p, const zg_child_view_t *c, enum announce a)
{
	const knot_rdataset_t *ds = &p->ds.rr.rrs;
	switch (a) {
	case ANN_DELETE:
		return ds->count == 0;
	case ANN_CDS:
		return knot_rdataset_eq(ds, &c->cds.rr.rrs);
	case ANN_CDNSKEY: {
		const knot_rdataset_t *keys = &c->cdnskey.rr.rrs;
		if (ds->count == 0) {
			return false;
		}
		knot_rdata_t *d = ds->rdata;
		for (uint16_t i = 0; i < ds->count; i++, d = knot_rdataset_next(d)) {
			bool m = false;
			knot_rdata_t *k = keys->rdata;
			for (uint16_t j = 0; j < keys->count && !m; j++, k = knot_rdataset_next(k)) {
				m = zg_ds_matches(c->dnskey.rr.owner, d, k);
			}
			if (!m) {
				return false;
			}
		}
		knot_rdata_t *k = keys->rdata;
		for (uint16_t j = 0; j < keys->count; j++, k = knot_rdataset_next(k)) {
			bool m = false;
			d = ds->rdata;
			for (uint16_t i = 0; i < ds->count && !m; i++, d = knot_rdataset_next(d)) {
				m = zg_ds_matches(c->dnskey.rr.owner, d, k);
			}
			if (!m) {
				return false;
			}
		}
		return true;
	}
	default:
		return true;
	}
}

bool zg_checkds_parent_serves(const zg_parent_view_t *p, const zg_child_view_t *c)
{
	if (p == NULL || c == NULL) {
		return false;
	}
	enum announce a = announced(c);
	const knot_rdataset_t *ds = &p->ds.rr.rrs;
	if (a == ANN_CDS) {
		knot_rdata_t *d = c->cds.rr.rrs.rdata;
		for (uint16_t i = 0; i < c->cds.rr.rrs.count; i++, d = knot_rdataset_next(d)) {
			if (!knot_rdataset_member(ds, d)) {
				return false;
			}
		}
		return true;
	}
	if (a == ANN_CDNSKEY) {
		knot_rdata_t *k = c->cdnskey.rr.rrs.rdata;
		for (uint16_t j = 0; j < c->cdnskey.rr.rrs.count; j++, k = knot_rdataset_next(k)) {
			bool m = false;
			knot_rdata_t *d = ds->rdata;
			for (uint16_t i = 0; i < ds->count && !m; i++, d = knot_rdataset_next(d)) {
				m = zg_ds_matches(c->dnskey.rr.owner, d, k);
			}
			if (!m) {
				return false;
			}
		}
		return true;
	}
	return false;
}

static bool parent_keys_ok(const zg_checkds_input_t *in, const zg_parent_view_t *p,
                           const char **how)
{
	if (p->dnskey.rr.owner == NULL || p->dnskey.rr.rrs.count == 0) {
		*how = "no dnskey served";
		return false;
	}
	if (in->ta_ds != NULL && in->ta_ds->count > 0) {
		*how = "not authenticated by the trust anchor ds";
		return zg_dnskey_authenticated(&p->dnskey, in->ta_ds, in->now, NULL, NULL) > 0;
	}
	if (in->ta_dnskey != NULL && in->ta_dnskey->count > 0) {
		*how = "not signed by a trust anchor key";
		return zg_rrset_verify(&p->dnskey.rr, &p->dnskey.sigs, p->dnskey.rr.owner,
		                       in->ta_dnskey, in->now, NULL) == 0;
	}
	*how = "not self-signed";
	return zg_rrset_verify(&p->dnskey.rr, &p->dnskey.sigs, p->dnskey.rr.owner,
	                       &p->dnskey.rr.rrs, in->now, NULL) == 0;
}

int zg_checkds_evaluate(const zg_checkds_input_t *in, zg_checkds_report_t *rep)
{
	if (rep == NULL) {
		return -EINVAL;
	}
	memset(rep, 0, sizeof(*rep));
	if (in == NULL || in->zone == NULL || in->parents == NULL || in->nparents == 0 ||
	    in->children == NULL || in->nchildren == 0) {
		return -EINVAL;
	}
	char t1[256], t2[256], t3[256];
	const zg_child_view_t *c0 = &in->children[0];
	rep->anchored = (in->ta_ds != NULL && in->ta_ds->count > 0) ||
	                (in->ta_dnskey != NULL && in->ta_dnskey->count > 0);
	zg_tags_str(&c0->dnskey.rr.rrs, true, rep->child_keys, sizeof(rep->child_keys));
	zg_tags_str(&c0->cds.rr.rrs, false, rep->child_cds, sizeof(rep->child_cds));
	zg_tags_str(&c0->cdnskey.rr.rrs, true, rep->child_cdnskey, sizeof(rep->child_cdnskey));

	/* Child servers agree, and what they publish is safe. */
	bool children_agree = true;
	for (size_t i = 0; i < in->nchildren; i++) {
		const zg_child_view_t *c = &in->children[i];
		if (i > 0 && !zg_child_view_equal(c0, c)) {
			children_agree = false;
			add(rep, ZG_CHECKDS_INCONSISTENT,
			    "child servers disagree (%s: dnskey %s, cds %s; %s: dnskey %s, cds %s)",
			    c0->server, rep->child_keys, rep->child_cds, c->server,
			    zg_tags_str(&c->dnskey.rr.rrs, true, t1, sizeof(t1)),
			    zg_tags_str(&c->cds.rr.rrs, false, t2, sizeof(t2)));
		}
		char why[256];
		if (c->dnskey.rr.rrs.count > 0 &&
		    zg_cds_check_published(c, in->now, true, why, sizeof(why)) == ZG_EVALIDATION) {
			add(rep, ZG_CHECKDS_BROKEN, "child server %s publishes an unsafe cds/cdnskey set (%s)",
			    c->server, why);
		}
	}

	/* Every parent server: keys, DS signature, DS authenticates the child's keys. */
	for (size_t i = 0; i < in->nparents; i++) {
		const zg_parent_view_t *p = &in->parents[i];
		const knot_rdataset_t *ds = &p->ds.rr.rrs;
		const char *how = NULL;
		char pname[KNOT_DNAME_TXT_MAXLEN + 1] = "?";
		if (p->parent != NULL) {
			knot_dname_to_str(pname, p->parent, sizeof(pname));
		}
		zg_tags_str(ds, false, t1, sizeof(t1));
		if (!parent_keys_ok(in, p, &how)) {
			add(rep, ZG_CHECKDS_BROKEN, "parent server %s: dnskey of %s %s", p->server, pname, how);
			continue;
		}
		if (ds->count == 0) {
			add(rep, ZG_CHECKDS_IN_SYNC, "parent server %s serves no ds (insecure delegation)",
			    p->server);
			continue;
		}
		if (zg_rrset_verify(&p->ds.rr, &p->ds.sigs, p->dnskey.rr.owner, &p->dnskey.rr.rrs,
		                    in->now, NULL) != 0) {
			add(rep, ZG_CHECKDS_BROKEN, "parent server %s serves ds %s without a valid signature "
			    "by the dnskey of %s", p->server, t1, pname);
			continue;
		}
		bool fine = true;
		for (size_t j = 0; j < in->nchildren; j++) {
			const zg_child_view_t *c = &in->children[j];
			bool algs = false;
			int n = zg_dnskey_authenticated(&c->dnskey, ds, in->now, NULL, &algs);
			if (n <= 0) {
				add(rep, ZG_CHECKDS_BROKEN, "parent server %s serves ds %s that authenticates "
				    "no dnskey of the child (child server %s dnskey %s)", p->server, t1,
				    c->server, zg_tags_str(&c->dnskey.rr.rrs, true, t2, sizeof(t2)));
				fine = false;
				break;
			} else if (!algs) {
				add(rep, ZG_CHECKDS_BROKEN, "parent server %s serves ds %s that authenticates "
				    "only some algorithms (child server %s dnskey %s)", p->server, t1,
				    c->server, zg_tags_str(&c->dnskey.rr.rrs, true, t2, sizeof(t2)));
				fine = false;
				break;
			}
		}
		if (fine) {
			add(rep, ZG_CHECKDS_IN_SYNC, "parent server %s serves ds %s, it authenticates the "
			    "child's dnskey %s", p->server, t1, rep->child_keys);
		}
	}

	/* Agreement among the parent servers and the announced change. */
	const zg_parent_view_t *p0 = &in->parents[0];
	enum announce ann = children_agree ? announced(c0) : ANN_NONE;
	if (ann == ANN_NONE) {
		for (size_t i = 1; i < in->nparents; i++) {
			const zg_parent_view_t *p = &in->parents[i];
			if (!knot_rdataset_eq(&p0->ds.rr.rrs, &p->ds.rr.rrs)) {
				add(rep, ZG_CHECKDS_INCONSISTENT, "parent servers disagree (%s: ds %s; %s: ds %s)",
				    p0->server, zg_tags_str(&p0->ds.rr.rrs, false, t1, sizeof(t1)),
				    p->server, zg_tags_str(&p->ds.rr.rrs, false, t2, sizeof(t2)));
			}
		}
		return 0;
	}
	const char *what = ann == ANN_CDNSKEY ? rep->child_cdnskey : rep->child_cds;
	const zg_parent_view_t *lag0 = NULL;
	for (size_t i = 0; i < in->nparents; i++) {
		const zg_parent_view_t *p = &in->parents[i];
		if (serves_announced(p, c0, ann)) {
			continue;
		}
		zg_tags_str(&p->ds.rr.rrs, false, t1, sizeof(t1));
		if (lag0 != NULL && !knot_rdataset_eq(&lag0->ds.rr.rrs, &p->ds.rr.rrs)) {
			add(rep, ZG_CHECKDS_INCONSISTENT, "parent servers disagree (%s: ds %s; %s: ds %s), "
			    "neither serves the announced %s %s", lag0->server,
			    zg_tags_str(&lag0->ds.rr.rrs, false, t3, sizeof(t3)), p->server, t1,
			    ann == ANN_CDNSKEY ? "cdnskey" : "cds", what);
			continue;
		}
		if (lag0 == NULL) {
			lag0 = p;
		}
		add(rep, ZG_CHECKDS_PENDING, "parent server %s serves ds %s, child announces %s %s",
		    p->server, t1, ann == ANN_CDNSKEY ? "cdnskey" : "cds", what);
	}
	return 0;
}

int zg_trust_anchor_load(const char *path, knot_rdataset_t *ds, knot_rdataset_t *dnskey,
                         knot_dname_t **owner, char *err, size_t errlen)
{
	zs_scanner_t *sc = calloc(1, sizeof(*sc));
	if (sc == NULL) {
		return -ENOMEM;
	}
	int ret = 0;
	knot_rdata_t *rd = NULL;
	*owner = NULL;
	if (zs_init(sc, ".", KNOT_CLASS_IN, 3600) != 0 || zs_set_input_file(sc, path) != 0) {
		snprintf(err, errlen, "cannot read trust anchor %s (%s)", path,
		         zs_strerror(sc->error.code));
		ret = -ENOENT;
		goto done;
	}
	while (zs_parse_record(sc) == 0 && sc->state == ZS_STATE_DATA) {
		if (sc->r_type != KNOT_RRTYPE_DS && sc->r_type != KNOT_RRTYPE_DNSKEY) {
			snprintf(err, errlen, "trust anchor %s line %" PRIu64 ": only DS and DNSKEY records "
			         "are allowed", path, sc->line_counter);
			ret = ZG_EINPUT;
			goto done;
		}
		knot_dname_to_lower(sc->r_owner);
		if (*owner == NULL) {
			*owner = knot_dname_copy(sc->r_owner, NULL);
		} else if (!knot_dname_is_case_equal(*owner, sc->r_owner)) {
			snprintf(err, errlen, "trust anchor %s line %" PRIu64 ": records of more than one "
			         "owner", path, sc->line_counter);
			ret = ZG_EINPUT;
			goto done;
		}
		free(rd);
		rd = malloc(knot_rdata_size(sc->r_data_length));
		if (rd == NULL || *owner == NULL) {
			ret = -ENOMEM;
			goto done;
		}
		knot_rdata_init(rd, sc->r_data_length, sc->r_data);
		ret = knot_rdataset_add(sc->r_type == KNOT_RRTYPE_DS ? ds : dnskey, rd, NULL);
		if (ret != 0) {
			goto done;
		}
	}
	if (sc->state == ZS_STATE_ERROR) {
		snprintf(err, errlen, "trust anchor %s line %" PRIu64 ": %s", path, sc->line_counter,
		         zs_strerror(sc->error.code));
		ret = ZG_ESYNTAX;
	} else if (*owner == NULL) {
		snprintf(err, errlen, "trust anchor %s has no DS or DNSKEY record", path);
		ret = ZG_EINPUT;
	}
done:
	free(rd);
	zs_deinit(sc);
	free(sc);
	if (ret != 0) {
		knot_dname_free(*owner, NULL);
		*owner = NULL;
	}
	return ret;
}
