/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-checkds: does every parent server serve a DS set that matches the
 * child's keys and CDS/CDNSKEY? (see zg-checkds(1) and doc/contracts.md)
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libdnssec/crypto.h>
#include <libknot/libknot.h>

#include "dsync/checkds.h"
#include "dsync/ds.h"
#include "core/error.h"
#include "core/format.h"
#include "dns/resolver.h"

#define EXIT_UNKNOWN	3
#define MAX_ARGS	32

enum { OPT_PARENT = 256, OPT_CHILD, OPT_RESOLVER, OPT_TA, OPT_FORMAT, OPT_TIMEOUT, OPT_TIME };

static zg_format_t g_format = ZG_FORMAT_TEXT;
static const char *g_zone_str = "";

static void usage(FILE *out)
{
	fprintf(out,
	"Usage: zg-checkds [--parent ADDR[@PORT]]... [--child ADDR[@PORT]]... [--resolver ADDR[@PORT]]\n"
	"                  [--trust-anchor FILE] [--format text|json|nagios] [--timeout MS]\n"
	"                  [--time UNIXTIME] ZONE\n"
	"\n"
	"Check that every server of the parent zone serves a DS set for ZONE that\n"
	"authenticates the child's DNSKEY RRset and matches its CDS/CDNSKEY.\n"
	"\n"
	"Options:\n"
	"      --parent ADDR[@PORT]   a parent server (repeat for each); default: the NS\n"
	"                             set of the parent zone, found through the resolver\n"
	"      --child ADDR[@PORT]    a child server (repeat for each); default: the NS set\n"
	"                             of ZONE, found through the resolver\n"
	"      --resolver ADDR[@PORT] recursive resolver for discovery (default: the first\n"
	"                             nameserver of /etc/resolv.conf)\n"
	"      --trust-anchor FILE    DS and/or DNSKEY records of the parent zone; without\n"
	"                             it the parent's DNSKEY RRset only has to be self-signed\n"
	"      --format FORMAT        text (default), json or nagios\n"
	"      --timeout MS           per-query timeout in milliseconds (default 2000,\n"
	"                             3 tries over UDP, TCP on truncation)\n"
	"      --time UNIXTIME        validate signatures as of this time (default: now)\n"
	"  -h, --help                 this help\n"
	"\n"
	"States and exit status: 0 in-sync, 1 pending (the child announces a DS change\n"
	"not yet served by every parent server), 2 broken (a parent server's DS set\n"
	"authenticates no DNSKEY of the child, or not every algorithm; bad signatures)\n"
	"or inconsistent (child servers or parent servers disagree), 3 usage or network\n"
	"error. With --format nagios: OK, WARNING, CRITICAL, UNKNOWN.\n");
}

/* Exit 3 with a message in the selected format. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == ZG_FORMAT_NAGIOS) {
		printf("ZONEGATE CHECKDS UNKNOWN - %s %s\n", g_zone_str, msg);
	} else if (g_format == ZG_FORMAT_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "zone", g_zone_str, "state", "unknown",
		                      "exit", EXIT_UNKNOWN, "error", msg);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else {
		fprintf(stderr, "zg-checkds: %s\n", msg);
	}
	return EXIT_UNKNOWN;
}

static json_t *tags_json(const char *tags)
{
	json_t *a = json_array();
	if (strcmp(tags, "-") == 0) {
		return a;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", tags);
	char *save = NULL;
	for (char *t = strtok_r(buf, " ", &save); t != NULL; t = strtok_r(NULL, " ", &save)) {
		json_array_append_new(a, json_string(t));
	}
	return a;
}

static void print_report(const zg_checkds_report_t *rep, const zg_parent_view_t *parents, size_t np,
                         const zg_child_view_t *children, size_t nc)
{
	const char *state = zg_checkds_state_str(rep->state);
	char t1[256], t2[256], t3[256];
	if (g_format == ZG_FORMAT_JSON) {
		json_t *o = json_object();
		json_object_set_new(o, "zone", json_string(g_zone_str));
		json_object_set_new(o, "state", json_string(state));
		json_object_set_new(o, "exit", json_integer(zg_checkds_exit_code(rep->state)));
		json_object_set_new(o, "anchored", json_boolean(rep->anchored));
		json_t *pa = json_array();
		for (size_t i = 0; i < np; i++) {
			char pname[KNOT_DNAME_TXT_MAXLEN + 1] = "";
			if (parents[i].parent != NULL) {
				knot_dname_to_str(pname, parents[i].parent, sizeof(pname));
			}
			json_t *p = json_object();
			json_object_set_new(p, "server", json_string(parents[i].server));
			json_object_set_new(p, "parent", json_string(pname));
			zg_tags_str(&parents[i].ds.rr.rrs, false, t1, sizeof(t1));
			json_object_set_new(p, "ds", tags_json(t1));
			json_object_set_new(p, "ds_ttl", json_integer(parents[i].ds.rr.ttl));
			json_array_append_new(pa, p);
		}
		json_object_set_new(o, "parents", pa);
		json_t *ca = json_array();
		for (size_t i = 0; i < nc; i++) {
			json_t *c = json_object();
			json_object_set_new(c, "server", json_string(children[i].server));
			zg_tags_str(&children[i].dnskey.rr.rrs, true, t1, sizeof(t1));
			zg_tags_str(&children[i].cds.rr.rrs, false, t2, sizeof(t2));
			zg_tags_str(&children[i].cdnskey.rr.rrs, true, t3, sizeof(t3));
			json_object_set_new(c, "dnskey", tags_json(t1));
			json_object_set_new(c, "cds", tags_json(t2));
			json_object_set_new(c, "cdnskey", tags_json(t3));
			json_array_append_new(ca, c);
		}
		json_object_set_new(o, "children", ca);
		json_t *fa = json_array();
		for (size_t i = 0; i < rep->nfindings; i++) {
			json_array_append_new(fa, json_pack("{s:s, s:s}",
			                      "state", zg_checkds_state_str(rep->findings[i].state),
			                      "text", rep->findings[i].text));
		}
		json_object_set_new(o, "findings", fa);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
		return;
	}
	/* The first finding of the worst state explains the verdict. */
	const char *first = NULL;
	for (size_t i = 0; i < rep->nfindings && first == NULL; i++) {
		if (rep->findings[i].state == rep->state && rep->state != ZG_CHECKDS_IN_SYNC) {
			first = rep->findings[i].text;
		}
	}
	if (g_format == ZG_FORMAT_NAGIOS) {
		static const char *words[] = { "OK", "WARNING", "CRITICAL", "CRITICAL" };
		printf("ZONEGATE CHECKDS %s - %s %s%s%s | parents=%zu children=%zu\n",
		       words[rep->state], g_zone_str, state, first ? ": " : "", first ? first : "",
		       np, nc);
	}
	/* Problems first, then the informational lines, then the summary. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < rep->nfindings; i++) {
			const zg_checkds_finding_t *f = &rep->findings[i];
			if ((pass == 0) == (f->state != ZG_CHECKDS_IN_SYNC)) {
				printf("%s %s: %s\n", g_zone_str, pass == 0 ? zg_checkds_state_str(f->state) : "info",
				       f->text);
			}
		}
	}
	printf("%s %s (%zu parent server%s, %zu child server%s, dnskey %s, cds %s, cdnskey %s%s)\n",
	       g_zone_str, state, np, np == 1 ? "" : "s", nc, nc == 1 ? "" : "s",
	       rep->child_keys, rep->child_cds, rep->child_cdnskey,
	       rep->anchored ? "" : ", parent keys not anchored");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parent",       required_argument, NULL, OPT_PARENT },
		{ "child",        required_argument, NULL, OPT_CHILD },
		{ "resolver",     required_argument, NULL, OPT_RESOLVER },
		{ "trust-anchor", required_argument, NULL, OPT_TA },
		{ "format",       required_argument, NULL, OPT_FORMAT },
		{ "timeout",      required_argument, NULL, OPT_TIMEOUT },
		{ "time",         required_argument, NULL, OPT_TIME },
		{ "help",         no_argument,       NULL, 'h' },
		{ NULL }
	};
	const char *parent_args[MAX_ARGS], *child_args[MAX_ARGS];
	size_t nparent_args = 0, nchild_args = 0;
	const char *resolver_arg = NULL, *ta_path = NULL;
	zg_stub_opts_t sopts = { 0 };
	uint32_t now = (uint32_t)time(NULL);
	int c;
	/* Pre-scan for --format so that usage errors use it. */
	g_format = zg_format_prescan(argc, argv);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_PARENT:
		case OPT_CHILD:
			if ((c == OPT_PARENT ? nparent_args : nchild_args) >= MAX_ARGS) {
				return fail("too many --%s options (at most %d)",
				            c == OPT_PARENT ? "parent" : "child", MAX_ARGS);
			}
			if (c == OPT_PARENT) {
				parent_args[nparent_args++] = optarg;
			} else {
				child_args[nchild_args++] = optarg;
			}
			break;
		case OPT_RESOLVER:
			resolver_arg = optarg;
			break;
		case OPT_TA:
			ta_path = optarg;
			break;
		case OPT_FORMAT:
			if (zg_format_parse(optarg, &g_format) != 0) {
				return fail("unknown format '%s' (" ZG_FORMAT_NAMES ")", optarg);
			}
			break;
		case OPT_TIMEOUT: {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 1 || v > 60000) {
				return fail("invalid --timeout '%s' (milliseconds, 1 to 60000)", optarg);
			}
			sopts.timeout_ms = (int)v;
			break;
		}
		case OPT_TIME: {
			char *end = NULL;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (end == optarg || *end != '\0') {
				return fail("invalid --time '%s' (UNIX seconds)", optarg);
			}
			now = (uint32_t)v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_UNKNOWN;
		}
	}
	if (optind != argc - 1) {
		if (g_format == ZG_FORMAT_TEXT) {
			usage(stderr);
		}
		return fail(optind >= argc ? "missing ZONE" : "more than one ZONE");
	}
	g_zone_str = argv[optind];
	knot_dname_t *zone = knot_dname_from_str_alloc(g_zone_str);
	if (zone == NULL) {
		return fail("invalid zone name '%s'", g_zone_str);
	}
	knot_dname_to_lower(zone);
	char zone_txt[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(zone_txt, zone, sizeof(zone_txt));
	g_zone_str = zone_txt;
	if (*zone == 0) {
		knot_dname_free(zone, NULL);
		return fail("the root zone has no parent");
	}
	dnssec_crypto_init();

	int exit_code = EXIT_UNKNOWN;
	zg_server_t *parents = NULL, *children = NULL;
	size_t np = 0, nc = 0;
	zg_parent_view_t *pviews = NULL;
	zg_child_view_t *cviews = NULL;
	knot_rdataset_t ta_ds, ta_dnskey, chain;
	knot_rdataset_init(&ta_ds);
	knot_rdataset_init(&ta_dnskey);
	knot_rdataset_init(&chain);
	knot_dname_t *ta_owner = NULL;

	if (ta_path != NULL) {
		char err[512];
		int ret = zg_trust_anchor_load(ta_path, &ta_ds, &ta_dnskey, &ta_owner, err, sizeof(err));
		if (ret != 0) {
			exit_code = fail("%s", err);
			goto done;
		}
	}

	/* Servers: given, or discovered through the resolver. */
	zg_server_t resolver;
	bool have_resolver = false;
	if (nparent_args == 0 || nchild_args == 0) {
		int ret = resolver_arg != NULL ? zg_server_parse(&resolver, resolver_arg, 53)
		                               : zg_resolv_conf(&resolver);
		if (ret != 0) {
			exit_code = fail(resolver_arg != NULL ? "invalid --resolver address '%s'"
			                 : "no resolver (%s): give --parent and --child, or --resolver",
			                 resolver_arg != NULL ? resolver_arg : "no nameserver in /etc/resolv.conf");
			goto done;
		}
		have_resolver = true;
	}
	const char *const *args[2] = { parent_args, child_args };
	size_t nargs[2] = { nparent_args, nchild_args };
	zg_server_t **lists[2] = { &parents, &children };
	size_t *counts[2] = { &np, &nc };
	for (int side = 0; side < 2; side++) {
		if (nargs[side] > 0) {
			*lists[side] = calloc(nargs[side], sizeof(zg_server_t));
			if (*lists[side] == NULL) {
				exit_code = fail("out of memory");
				goto done;
			}
			for (size_t i = 0; i < nargs[side]; i++) {
				if (zg_server_parse(&(*lists[side])[i], args[side][i], 53) != 0) {
					exit_code = fail("invalid --%s address '%s' (ADDR[@PORT])",
					                 side == 0 ? "parent" : "child", args[side][i]);
					goto done;
				}
			}
			*counts[side] = nargs[side];
		} else if (have_resolver) {
			int ret = zg_stub_discover(&resolver, zone, side == 0, &sopts, lists[side], counts[side]);
			if (ret != 0) {
				exit_code = fail("cannot find the %s servers through resolver %s (%s)",
				                 side == 0 ? "parent" : "child", resolver.name, zg_strerror(ret));
				goto done;
			}
		}
	}

	/* Ask every server. */
	pviews = calloc(np, sizeof(*pviews));
	cviews = calloc(nc, sizeof(*cviews));
	if (pviews == NULL || cviews == NULL) {
		exit_code = fail("out of memory");
		goto done;
	}
	for (size_t i = 0; i < np; i++) {
		char err[256];
		int ret = zg_parent_view_fetch(&pviews[i], &parents[i], zone, &sopts, err, sizeof(err));
		if (ret != 0) {
			exit_code = fail("parent server %s: %s", parents[i].name, err);
			goto done;
		}
		if (ta_owner != NULL && !knot_dname_is_case_equal(ta_owner, pviews[i].parent) &&
		    knot_dname_in_bailiwick(pviews[i].parent, ta_owner) <= 0) {
			char o[KNOT_DNAME_TXT_MAXLEN + 1], p[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(o, ta_owner, sizeof(o));
			knot_dname_to_str(p, pviews[i].parent, sizeof(p));
			exit_code = fail("trust anchor is for %s, the parent zone served by %s is %s "
			                 "(neither it nor an ancestor)", o, parents[i].name, p);
			goto done;
		}
	}
	/* An anchor above the parent: the chain down to it, through the resolver. */
	char chain_err[256] = "";
	bool use_chain = ta_owner != NULL && np > 0 &&
	                 !knot_dname_is_case_equal(ta_owner, pviews[0].parent);
	if (use_chain) {
		if (!have_resolver) {
			int ret = resolver_arg != NULL ? zg_server_parse(&resolver, resolver_arg, 53)
			                               : zg_resolv_conf(&resolver);
			if (ret != 0) {
				exit_code = fail("no resolver for the trust chain from %s (give --resolver)",
				                 ta_path);
				goto done;
			}
			have_resolver = true;
		}
		if (zg_anchor_chain(&resolver, &sopts, ta_owner, &ta_ds, &ta_dnskey, pviews[0].parent,
		                    now, &chain, chain_err, sizeof(chain_err)) != 0 &&
		    chain_err[0] == '\0') {
			snprintf(chain_err, sizeof(chain_err), "trust chain failed");
		}
	}
	for (size_t i = 0; i < nc; i++) {
		char err[256];
		int ret = zg_child_view_fetch(&cviews[i], &children[i], zone, &sopts, err, sizeof(err));
		if (ret != 0) {
			exit_code = fail("child server %s: %s", children[i].name, err);
			goto done;
		}
	}

	zg_checkds_input_t in = {
		.zone = zone, .parents = pviews, .nparents = np, .children = cviews, .nchildren = nc,
		.ta_ds = use_chain ? NULL : &ta_ds,
		.ta_dnskey = use_chain ? (chain_err[0] == '\0' ? &chain : NULL) : &ta_dnskey,
		.anchor_error = chain_err[0] != '\0' ? chain_err : NULL,
		.now = now,
	};
	zg_checkds_report_t *rep = calloc(1, sizeof(*rep));
	if (rep == NULL || zg_checkds_evaluate(&in, rep) != 0) {
		free(rep);
		exit_code = fail("evaluation failed");
		goto done;
	}
	print_report(rep, pviews, np, cviews, nc);
	exit_code = zg_checkds_exit_code(rep->state);
	free(rep);
done:
	for (size_t i = 0; pviews != NULL && i < np; i++) {
		zg_parent_view_deinit(&pviews[i]);
	}
	for (size_t i = 0; cviews != NULL && i < nc; i++) {
		zg_child_view_deinit(&cviews[i]);
	}
	free(pviews);
	free(cviews);
	free(parents);
	free(children);
	knot_rdataset_clear(&ta_ds, NULL);
	knot_rdataset_clear(&ta_dnskey, NULL);
	knot_rdataset_clear(&chain, NULL);
	knot_dname_free(ta_owner, NULL);
	knot_dname_free(zone, NULL);
	dnssec_crypto_cleanup();
	return exit_code;
}
