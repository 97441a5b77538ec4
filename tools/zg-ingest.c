/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-ingest: applies registry JSON messages (doc/contracts.md, version 1) to a
 * primary server with RFC 2136 UPDATEs signed with TSIG.
 *
 *   zg-ingest send [OPTIONS] FILE.json
 *   zg-ingest run --source spool:/DIR [OPTIONS] [--once]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknot/descriptor.h>
#include <libknot/dname.h>
#include <libzscanner/scanner.h>
#include <libknot/errcode.h>
#include <libknot/tsig.h>

#include "ingest/ctlload.h"
#include "dns/dnsclient.h"
#include "core/error.h"
#include "ingest/gateway.h"
#include "ingest/ingest.h"
#include "ingest/msg.h"

enum {
	EXIT_APPLIED = 0,
	EXIT_REFUSED = 1,
	EXIT_USAGE = 2,
	EXIT_SERVER = 3,
};

#define INTERVAL_MAX	3600
#define ONCE_RETRIES	3

typedef struct {
	zg_gateway_conf_t gw;
	knot_tsig_key_t key;
	bool have_key;
	knot_dname_storage_t zone;
	bool have_zone;
	zg_msg_limits_t limits;
	const char *source;
	double interval;
	bool once;
	bool quiet;
	const char *consumer;
	unsigned lease_s;
	const char *socket;
	const char *format;
} options_t;

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
	"Usage: zg-ingest send [OPTIONS] FILE.json\n"
	"       zg-ingest run --source spool:/DIR [OPTIONS] [--once] [--interval SEC]\n"
	"       zg-ingest run --source postgresql://... -z ZONE [OPTIONS] [--once]\n"
	"       zg-ingest init -c SOCKET -z ZONE [--format zone|jsonl] FILE\n"
	"\n"
	"Applies registry change messages (JSON, version 1) to a primary server with\n"
	"RFC 2136 dynamic updates signed with TSIG, sending only what differs from the\n"
	"server's current data.\n"
	"\n"
	"Options:\n"
	"  -s, --server ADDR[@PORT]   UPDATE target (default 127.0.0.1@53)\n"
	"  -y, --tsig [ALG:]NAME:SECRET  TSIG key (default algorithm hmac-sha256)\n"
	"  -k, --keyfile FILE         TSIG key from a file holding ALG:NAME:SECRET\n"
	"  -z, --zone ZONE            refuse messages for any other zone\n"
	"  -t, --timeout SEC          bound of every network operation (default 10)\n"
	"      --max-size BYTES       refuse bigger messages (default 64 MiB)\n"
	"      --ttl-min SEC, --ttl-max SEC  accepted TTL range (default 0..2147483647)\n"
	"      --max-removal PCT      refuse a message removing more than PCT %% of the\n"
	"                             zone's delegations (default 10, 0: no limit)\n"
	"      --blind                do not read the owners first; replace each listed owner\n"
	"                             (makes the signer re-sign unchanged data; no removal\n"
	"                             limit)\n"
	"  -c, --socket PATH          knotd's control socket: a message too big for one UPDATE\n"
	"                             is applied there in one zone transaction (without it,\n"
	"                             such a message is held); init: where to load\n"
	"  run only:\n"
	"      --source spool:/DIR    the spool directory (incoming/, done/, failed/)\n"
	"      --source postgresql://...  the zonegate_queue table (needs -z ZONE)\n"
	"      --consumer NAME        this consumer's name in the lease (default host:pid)\n"
	"      --lease SEC            lease duration, renewed on every claim (default 30)\n"
	"      --interval SEC         poll interval when the queue is empty (default 1)\n"
	"      --once                 drain the queue and exit\n"
	"      --batch N              messages sent at once, pipelined (default 16)\n"
	"  init only (bulk load through knotd's control socket, one transaction):\n"
	"      --format zone|jsonl    a zone file, or JSON lines of messages (default:\n"
	"                             jsonl for *.jsonl, else zone)\n"
	"  -q, --quiet                print only refusals and errors\n"
	"  -h, --help                 this text\n"
	"\n"
	"Exit status: send: 0 applied, 1 refused, 2 usage or I/O error, 3 server or\n"
	"network error (not applied, try again). run: 0 (--once: queue drained), 2 usage,\n"
	"spool error or spool in use by another consumer (--once), 3 server unreachable\n"
	"or messages held (--once only; the daemon retries).\n");
}

static void say(const options_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const options_t *o, const char *fmt, ...)
{
	if (o->quiet) {
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-') {
		return -1;
	}
	*out = v;
	return 0;
}

static int key_from_str(options_t *o, const char *s)
{
	/* NAME:SECRET or ALG:NAME:SECRET; the default algorithm is hmac-sha256. */
	char buf[1024];
	const char *first = strchr(s, ':');
	if (first != NULL && strchr(first + 1, ':') == NULL) {
		snprintf(buf, sizeof(buf), "hmac-sha256:%s", s);
		s = buf;
	}
	return knot_tsig_key_init_str(&o->key, s);
}

static void print_result(const options_t *o, const char *what, const char *id,
                         const zg_apply_result_t *r)
{
	char how[64], serial[32] = "";
	if (r->transaction) {
		snprintf(how, sizeof(how), "1 zone transaction");
	} else {
		snprintf(how, sizeof(how), "%zu UPDATEs", r->updates);
	}
	if (r->serial_known) {
		snprintf(serial, sizeof(serial), ", serial %u", r->serial);
	}
	say(o, "applied %s (message %s): %zu owners changed, %s%s\n", what, id,
	    r->owners_changed, how, serial);
}

static int cmd_send(options_t *o, const char *file)
{
	FILE *f = fopen(file, "rb");
	if (f == NULL) {
		char efile[4 * 1024];
		fprintf(stderr, "zg-ingest: cannot open %s (%s)\n",
		        zg_msg_escape(file, efile, sizeof(efile)), strerror(errno));
		return EXIT_USAGE;
	}
	size_t cap = 1 << 16, len = 0;
	char *data = malloc(cap);
	while (data != NULL) {
		if (len == cap) {
			if (cap > o->limits.max_size) {
				break;
			}
			char *n = realloc(data, cap * 2);
			if (n == NULL) {
				free(data);
				data = NULL;
				break;
			}
			data = n;
			cap *= 2;
		}
		size_t r = fread(data + len, 1, cap - len, f);
		len += r;
		if (r == 0) {
			break;
		}
	}
	bool ioerr = ferror(f);
	fclose(f);
	if (data == NULL || ioerr) {
		char efile[4 * 1024];
		fprintf(stderr, "zg-ingest: cannot read %s\n", zg_msg_escape(file, efile, sizeof(efile)));
		free(data);
		return EXIT_USAGE;
	}

	zg_msg_parser_t *parser = zg_msg_parser_new(&o->limits);
	zg_gateway_t *gw = zg_gateway_new(&o->gw);
	zg_msg_t msg;
	zg_msg_init(&msg);
	char reason[ZG_MSG_REASON_MAX];
	int rc;
	int ret = zg_msg_parse(parser, data, len, o->have_zone ? o->zone : NULL, &msg,
	                       reason, sizeof(reason));
	/* The file name and the reason may hold anything: escaped. */
	char efile[4 * 1024], ereason[4 * ZG_MSG_REASON_MAX];
	zg_msg_escape(file, efile, sizeof(efile));
	if (ret != 0) {
		printf("refused %s: %s\n", efile, zg_msg_escape(reason, ereason, sizeof(ereason)));
		rc = ret == -ENOMEM ? EXIT_USAGE : EXIT_REFUSED;
	} else {
		zg_apply_result_t res;
		ret = zg_gateway_apply(gw, &msg, &res, reason, sizeof(reason));
		zg_msg_escape(reason, ereason, sizeof(ereason));
		if (ret == 0) {
			print_result(o, efile, msg.id, &res);
			rc = EXIT_APPLIED;
		} else if (ret == ZG_EREFUSED) {
			printf("refused %s: %s\n", efile, ereason);
			rc = EXIT_REFUSED;
		} else {
			fprintf(stderr, "zg-ingest: not applied, try again (%s)\n", ereason);
			rc = EXIT_SERVER;
		}
	}
	zg_msg_deinit(&msg);
	zg_gateway_free(gw);
	zg_msg_parser_free(parser);
	free(data);
	return rc;
}

static void on_outcome(void *ctx, const zg_ingest_outcome_t *oc)
{
	const options_t *o = ctx;
	char what[300];
	if (oc->name != NULL) {
		snprintf(what, sizeof(what), "%s", oc->name);
	} else {
		snprintf(what, sizeof(what), "row %lld", (long long)oc->row_id);
	}
	if (oc->applied) {
		print_result(o, what, oc->msg_id, oc->res);
	} else {
		printf("refused %s: %s\n", what, oc->reason);
		fflush(stdout);
	}
}

static void on_log(void *ctx, int level, const char *text)
{
	const options_t *o = ctx;
	if (level <= ZG_INGEST_LOG_WARNING) {
		fprintf(stderr, "zg-ingest: %s\n", text);
	} else {
		say(o, "%s\n", text);
	}
}

static int cmd_run(options_t *o)
{
	zg_ingest_conf_t c;
	zg_ingest_conf_default(&c);
	c.source = o->source;
	c.zone = o->have_zone ? o->zone : NULL;
	c.consumer = o->consumer;
	c.lease_s = o->lease_s;
	c.gw = o->gw;
	c.limits = o->limits;
	c.interval = o->interval;
	c.once = o->once;
	c.stop = &stop_requested;
	c.on_outcome = on_outcome;
	c.on_log = on_log;
	c.ctx = o;
	if (c.source == NULL) {
		fprintf(stderr, "zg-ingest: run needs --source spool:/ABSOLUTE/DIR or "
		        "postgresql://...\n");
		return EXIT_USAGE;
	}
	int ret = zg_ingest_run(&c);
	if (ret == 0) {
		return EXIT_APPLIED;
	}
	return ret == ZG_ECONNECT ? EXIT_SERVER : EXIT_USAGE;
}

/* Loads one record set unless the signer owns it. */
static int init_add(zg_ctlload_t *load, const options_t *o, const knot_rrset_t *rr,
                    size_t *skipped)
{
	/* Into a zone without contents the load is the whole zone: SOA and
	 * apex NS come from the input too. */
	bool apex = knot_dname_is_equal(rr->owner, o->zone);
	bool full = zg_ctlload_full(load);
	if ((!full && rr->type == KNOT_RRTYPE_SOA) || zg_msg_type_is_dnssec(rr->type) ||
	    (!full && apex && rr->type == KNOT_RRTYPE_NS)) {
		(*skipped)++;
		return 0;
	}
	return zg_ctlload_add(load, rr);
}

static int init_zonefile(zg_ctlload_t *load, const options_t *o, const char *file,
                         size_t *skipped, char *err, size_t err_len)
{
	zs_scanner_t *zs = malloc(sizeof(*zs));
	char origin[KNOT_DNAME_TXT_MAXLEN + 1];
	knot_dname_to_str(origin, o->zone, sizeof(origin));
	if (zs == NULL || zs_init(zs, origin, KNOT_CLASS_IN, 3600) != 0 ||
	    zs_set_input_file(zs, file) != 0) {
		snprintf(err, err_len, "cannot read zone file %s", file);
		if (zs != NULL) {
			zs_deinit(zs);
			free(zs);
		}
		return EXIT_USAGE;
	}
	int rc = 0;
	knot_rrset_t rr;
	uint8_t rdbuf[sizeof(knot_rdata_t) + 65536];
	while (zs_parse_record(zs) == 0 && zs->state == ZS_STATE_DATA) {
		if (knot_dname_in_bailiwick(zs->r_owner, o->zone) < 0) {
			char ow[KNOT_DNAME_TXT_MAXLEN + 1];
			knot_dname_to_str(ow, zs->r_owner, sizeof(ow));
			snprintf(err, err_len, "%s line %llu: owner %s outside zone %s", file,
			         (unsigned long long)zs->line_counter, ow, origin);
			rc = EXIT_REFUSED;
			break;
		}
		knot_rrset_init(&rr, zs->r_owner, zs->r_type, zs->r_class, zs->r_ttl);
		knot_rdata_t *rd = (knot_rdata_t *)rdbuf;
		knot_rdata_init(rd, (uint16_t)zs->r_data_length, zs->r_data);
		rr.rrs.count = 1;
		rr.rrs.size = knot_rdata_size(rd->len);
		rr.rrs.rdata = rd;
		if (init_add(load, o, &rr, skipped) != 0) {
			snprintf(err, err_len, "lost the control connection");
			rc = EXIT_SERVER;
			break;
		}
	}
	if (rc == 0 && zs->state == ZS_STATE_ERROR) {
		snprintf(err, err_len, "%s line %llu: %s", file,
		         (unsigned long long)zs->line_counter, zs_strerror(zs->error.code));
		rc = EXIT_REFUSED;
	}
	zs_deinit(zs);
	free(zs);
	return rc;
}

static int init_jsonl(zg_ctlload_t *load, const options_t *o, const char *file,
                      size_t *skipped, char *err, size_t err_len)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		snprintf(err, err_len, "cannot open %s (%s)", file, strerror(errno));
		return EXIT_USAGE;
	}
	zg_msg_parser_t *parser = zg_msg_parser_new(&o->limits);
	zg_msg_t msg;
	zg_msg_init(&msg);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (n == 1 && line[0] == '\n') {
			continue;
		}
		char reason[ZG_MSG_REASON_MAX];
		if (zg_msg_parse(parser, line, (size_t)n, o->zone, &msg, reason, sizeof(reason)) != 0) {
			snprintf(err, err_len, "%s line %lu: %s", file, lineno, reason);
			rc = EXIT_REFUSED;
			break;
		}
		for (size_t i = 0; i < msg.change_count && rc == 0; i++) {
			for (uint16_t j = 0; j < msg.changes[i].rrset_count; j++) {
				if (init_add(load, o, &msg.changes[i].rrsets[j], skipped) != 0) {
					snprintf(err, err_len, "lost the control connection");
					rc = EXIT_SERVER;
					break;
				}
			}
		}
	}
	free(line);
	fclose(f);
	zg_msg_deinit(&msg);
	zg_msg_parser_free(parser);
	return rc;
}

static int cmd_init(options_t *o, const char *file)
{
	if (o->socket == NULL || !o->have_zone) {
		fprintf(stderr, "zg-ingest: init needs -c SOCKET and -z ZONE\n");
		return EXIT_USAGE;
	}
	const char *fmt = o->format;
	if (fmt == NULL) {
		size_t n = strlen(file);
		fmt = (n > 6 && strcmp(file + n - 6, ".jsonl") == 0) ? "jsonl" : "zone";
	}
	if (strcmp(fmt, "zone") != 0 && strcmp(fmt, "jsonl") != 0) {
		fprintf(stderr, "zg-ingest: --format must be zone or jsonl\n");
		return EXIT_USAGE;
	}
	char err[3072] = "";
	zg_ctlload_t *load = NULL;
	int ret = zg_ctlload_begin(o->socket, o->zone, o->gw.timeout_ms * 6, &load, err,
	                           sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "zg-ingest: %s\n", err);
		return ret == ZG_EREFUSED ? EXIT_REFUSED : EXIT_SERVER;
	}
	size_t skipped = 0;
	int rc = strcmp(fmt, "zone") == 0 ? init_zonefile(load, o, file, &skipped, err, sizeof(err)) :
	                                    init_jsonl(load, o, file, &skipped, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "zg-ingest: %s (transaction aborted)\n", err);
		zg_ctlload_free(load);
		return rc;
	}
	size_t added = 0, failed = 0;
	bool full = zg_ctlload_full(load);
	ret = zg_ctlload_commit(load, &added, &failed, err, sizeof(err));
	zg_ctlload_free(load);
	if (ret != 0) {
		fprintf(stderr, "zg-ingest: %s; %zu of %zu records refused, transaction aborted\n",
		        err, failed, added);
		return ret == ZG_EREFUSED ? EXIT_REFUSED : EXIT_SERVER;
	}
	if (full) {
		say(o, "committed %zu records as the whole zone (%zu DNSSEC records left to "
		    "the signer)\n", added, skipped);
	} else {
		say(o, "committed %zu records (%zu left to the signer: SOA, apex NS, DNSSEC)\n",
		    added, skipped);
	}
	return EXIT_APPLIED;
}

int main(int argc, char **argv)
{
	options_t o = { .interval = 1.0, .lease_s = 30 };
	zg_gateway_conf_default(&o.gw);
	zg_msg_limits_default(&o.limits);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "send") != 0 && strcmp(cmd, "run") != 0 && strcmp(cmd, "init") != 0) {
		fprintf(stderr, "zg-ingest: unknown command '%s' (send, run or init)\n", cmd);
		usage(stderr);
		return EXIT_USAGE;
	}
	enum { O_MAXSIZE = 256, O_TTLMIN, O_TTLMAX, O_BLIND, O_SOURCE, O_INTERVAL, O_ONCE,
	       O_BATCH, O_CONSUMER, O_LEASE, O_FORMAT, O_MAXREMOVAL };
	static const struct option longopts[] = {
		{ "server",   required_argument, NULL, 's' },
		{ "tsig",     required_argument, NULL, 'y' },
		{ "keyfile",  required_argument, NULL, 'k' },
		{ "zone",     required_argument, NULL, 'z' },
		{ "timeout",  required_argument, NULL, 't' },
		{ "max-size", required_argument, NULL, O_MAXSIZE },
		{ "ttl-min",  required_argument, NULL, O_TTLMIN },
		{ "ttl-max",  required_argument, NULL, O_TTLMAX },
		{ "blind",    no_argument,       NULL, O_BLIND },
		{ "source",   required_argument, NULL, O_SOURCE },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "once",     no_argument,       NULL, O_ONCE },
		{ "batch",    required_argument, NULL, O_BATCH },
		{ "consumer", required_argument, NULL, O_CONSUMER },
		{ "lease",    required_argument, NULL, O_LEASE },
		{ "socket",   required_argument, NULL, 'c' },
		{ "format",   required_argument, NULL, O_FORMAT },
		{ "max-removal", required_argument, NULL, O_MAXREMOVAL },
		{ "quiet",    no_argument,       NULL, 'q' },
		{ "help",     no_argument,       NULL, 'h' },
		{ NULL }
	};
	int rc = EXIT_USAGE;
	optind = 2;
	int c;
	unsigned long v;
	while ((c = getopt_long(argc, argv, "s:y:k:z:t:c:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (zg_dns_addr_parse(optarg, 53, &o.gw.server) != 0) {
				fprintf(stderr, "zg-ingest: bad server '%s' (ADDR[@PORT])\n", optarg);
				goto done;
			}
			break;
		case 'y':
		case 'k':
			if (o.have_key) {
				fprintf(stderr, "zg-ingest: only one of -y and -k, once\n");
				goto done;
			}
			if ((c == 'y' ? key_from_str(&o, optarg) :
			     knot_tsig_key_init_file(&o.key, optarg)) != KNOT_EOK) {
				fprintf(stderr, "zg-ingest: bad TSIG key %s (want [ALG:]NAME:BASE64SECRET)\n",
				        c == 'y' ? "argument" : optarg);
				goto done;
			}
			o.have_key = true;
			break;
		case 'z':
			if (knot_dname_from_str(o.zone, optarg, sizeof(o.zone)) == NULL) {
				fprintf(stderr, "zg-ingest: bad zone '%s'\n", optarg);
				goto done;
			}
			knot_dname_to_lower(o.zone);
			o.have_zone = true;
			break;
		case 't':
			if (parse_uint(optarg, 3600, &v) != 0 || v == 0) {
				fprintf(stderr, "zg-ingest: bad timeout '%s' (1..3600 s)\n", optarg);
				goto done;
			}
			o.gw.timeout_ms = (int)v * 1000;
			break;
		case O_MAXSIZE:
			if (parse_uint(optarg, (unsigned long)1 << 30, &v) != 0 || v == 0) {
				fprintf(stderr, "zg-ingest: bad --max-size '%s'\n", optarg);
				goto done;
			}
			o.limits.max_size = v;
			break;
		case O_TTLMIN:
		case O_TTLMAX:
			if (parse_uint(optarg, ZG_MSG_TTL_MAX_DEFAULT, &v) != 0) {
				fprintf(stderr, "zg-ingest: bad TTL '%s'\n", optarg);
				goto done;
			}
			*(c == O_TTLMIN ? &o.limits.ttl_min : &o.limits.ttl_max) = (uint32_t)v;
			break;
		case O_BLIND:
			o.gw.blind = true;
			break;
		case O_SOURCE:
			o.source = optarg;
			break;
		case O_INTERVAL: {
			char *end = NULL;
			o.interval = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(o.interval >= 0.05) ||
			    o.interval > INTERVAL_MAX) {
				fprintf(stderr, "zg-ingest: bad --interval '%s' (0.05..%d s)\n",
				        optarg, INTERVAL_MAX);
				goto done;
			}
			break;
		}
		case O_ONCE:
			o.once = true;
			break;
		case 'c':
			o.socket = optarg;
			break;
		case O_MAXREMOVAL:
			if (parse_uint(optarg, 100, &v) != 0) {
				fprintf(stderr, "zg-ingest: bad --max-removal '%s' (0..100 %%)\n", optarg);
				goto done;
			}
			o.gw.max_removal_pct = (unsigned)v;
			break;
		case O_FORMAT:
			o.format = optarg;
			break;
		case O_CONSUMER:
			o.consumer = optarg;
			break;
		case O_LEASE:
			if (parse_uint(optarg, 86400, &v) != 0 || v == 0) {
				fprintf(stderr, "zg-ingest: bad --lease '%s' (1..86400 s)\n", optarg);
				goto done;
			}
			o.lease_s = (unsigned)v;
			break;
		case O_BATCH:
			if (parse_uint(optarg, 1024, &v) != 0 || v == 0) {
				fprintf(stderr, "zg-ingest: bad --batch '%s' (1..1024)\n", optarg);
				goto done;
			}
			o.gw.batch_max = (unsigned)v;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto done;
		default:
			usage(stderr);
			goto done;
		}
	}
	if (o.limits.ttl_min > o.limits.ttl_max) {
		fprintf(stderr, "zg-ingest: --ttl-min above --ttl-max\n");
		goto done;
	}
	if (o.have_key) {
		o.gw.key = &o.key;
	}
	o.gw.ctl_socket = o.socket;
	if (o.gw.blind && strcmp(cmd, "init") != 0) {
		/* An operator override: said every time it is used. */
		fprintf(stderr, "zg-ingest: --blind: owners are not read first, every listed owner "
		        "is replaced, the removal limit is not enforced\n");
	}
	if (strcmp(cmd, "init") == 0) {
		if (optind != argc - 1) {
			fprintf(stderr, "zg-ingest: init takes exactly one FILE\n");
			goto done;
		}
		rc = cmd_init(&o, argv[optind]);
	} else if (strcmp(cmd, "send") == 0) {
		if (optind != argc - 1) {
			fprintf(stderr, "zg-ingest: send takes exactly one FILE.json\n");
			goto done;
		}
		rc = cmd_send(&o, argv[optind]);
	} else {
		if (optind != argc) {
			fprintf(stderr, "zg-ingest: run takes no file arguments\n");
			goto done;
		}
		struct sigaction sa = { .sa_handler = on_signal };
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		rc = cmd_run(&o);
	}
done:
	if (o.have_key) {
		knot_tsig_key_deinit(&o.key);
	}
	return rc;
}
