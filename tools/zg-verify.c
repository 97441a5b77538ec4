/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-verify: whole-zone DNSSEC validation (see zg-verify(1) and doc/contracts.md),
 * and --follow: mod-validate's loop without knotd (SOA polling, AXFR then
 * IXFR into a shadow zone, incremental validation, one verdict per serial).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libknot/dname.h>
#include <libknot/errcode.h>
#include <libknot/tsig.h>

#include "dns/axfr.h"
#include "dns/dnsclient.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/format.h"
#include "validate/crypto.h"
#include "validate/follow.h"
#include "validate/incr.h"
#include "validate/p256.h"
#include "validate/report.h"
#include "validate/verify.h"
#include "dns/xfr.h"
#include "validate/zone.h"

enum { OPT_HORIZON = 256, OPT_FORMAT, OPT_DS, OPT_AXFR, OPT_FOLLOW, OPT_POLL, OPT_COUNT,
       OPT_MAX_RECORDS, OPT_MAX_SIZE, OPT_MAX_TIME, OPT_P256_OPENSSL, OPT_P256_CACHE };

/*! Default seconds between two SOA queries of --follow. */
#define FOLLOW_POLL_DEFAULT 5

static zg_format_t g_format = ZG_FORMAT_TEXT;
/*! P-256 engine in use, for the JSON stats. */
static const char *g_p256 = "native";

static void usage(FILE *out)
{
	fprintf(out,
	"Usage: zg-verify [options] ZONEFILE\n"
	"       zg-verify --axfr ADDR[@PORT] [-y ALG:NAME:SECRET] [options] ZONE\n"
	"       zg-verify --follow ADDR[@PORT] [-y ALG:NAME:SECRET] [--poll SECONDS]\n"
	"                 [--count N] [--format text|json] [options] ZONE\n"
	"\n"
	"Validate the DNSSEC signatures, NSEC/NSEC3 chains, delegations and ZONEMD of a zone.\n"
	"With --follow, follow ZONE at a primary (AXFR, then IXFR) and print one verdict\n"
	"per serial, validating only what each change can affect.\n"
	"\n"
	"Options:\n"
	"  -o, --origin ORIGIN      zone origin (default: owner of the first SOA record)\n"
	"  -j, --threads N          verification threads (default: online CPUs); large\n"
	"                           files also load in parallel parts unless -j 1\n"
	"  -t, --time UNIXTIME      validate as of this time (default: now)\n"
	"      --horizon DURATION   warn about signatures expiring within DURATION\n"
	"                           (number with unit s, m, h, d or w; default: off)\n"
	"      --format FORMAT      text (default), json or nagios\n"
	"      --ds FILE            trust anchor: DNSKEY RRset must be signed by a key\n"
	"                           matching a DS in FILE (instead of a SEP key)\n"
	"      --axfr ADDR[@PORT]   transfer ZONE by AXFR over TCP instead of reading a file\n"
	"      --follow ADDR[@PORT] follow ZONE at this primary until SIGINT or SIGTERM:\n"
	"                           one verdict line per serial (text: the summary line\n"
	"                           plus \"(incremental|whole zone, N names, T ms)\";\n"
	"                           json: one object per line), problems before it\n"
	"      --poll SECONDS       --follow: seconds between SOA queries (1-86400, default %d)\n"
	"      --count N            --follow: exit after N verdicts\n"
	"  -y, --tsig ALG:NAME:SECRET  TSIG key for --axfr and --follow\n"
	"                           (e.g. hmac-sha256:key.:BASE64)\n"
	"      --max-records N      --axfr, --follow: stop a transfer after N records\n"
	"      --max-size BYTES     ... after BYTES of messages (suffix k, M or G)\n"
	"      --max-time DURATION  ... after DURATION (default for all three: automatic,\n"
	"                           scaled to the zone, see zg-verify(1)); a transfer\n"
	"                           stopped by a limit fails the serial\n"
	"      --p256-openssl       verify ECDSAP256SHA256 (13) with OpenSSL instead of the\n"
	"                           native verifier (so does ZG_P256=openssl)\n"
	"      --p256-cache N       per-key P-256 tables kept (0-%d, 256 KiB each;\n"
	"                           default %d; 0: OpenSSL for algorithm 13)\n"
	"  -h, --help               this help\n"
	"\n"
	"Exit status: 0 valid (warnings allowed), 1 validation errors, 2 usage, I/O or\n"
	"syntax error. With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n"
	"With --follow: 0 if the last verdict was valid, 1 if it was not, 2 on usage\n"
	"errors, when the first SOA query or AXFR fails, or without any verdict.\n",
	FOLLOW_POLL_DEFAULT, ZG_P256_CACHE_MAX, ZG_P256_CACHE_DEFAULT);
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == ZG_FORMAT_NAGIOS) {
		printf("ZONEGATE UNKNOWN - %s\n", msg);
		return 3;
	}
	fprintf(stderr, "zg-verify: %s\n", msg);
	return 2;
}

static int parse_duration(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0) {
		return -1;
	}
	long long mul = 1;
	if (*end != '\0') {
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 604800; break;
		default: return -1;
		}
		if (end[1] != '\0') {
			return -1;
		}
	}
	if (v > INT64_MAX / mul) {
		return -1;
	}
	*out = v * mul;
	return 0;
}

/* A byte count with an optional suffix k, M or G (powers of 1024), at least 1. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-' || v == 0) {
		return -1;
	}
	unsigned long long mul = 1;
	if (*end != '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1ULL << 10; break;
		case 'm': case 'M': mul = 1ULL << 20; break;
		case 'g': case 'G': mul = 1ULL << 30; break;
		default: return -1;
		}
		if (end[1] != '\0') {
			return -1;
		}
	}
	if (v > UINT64_MAX / mul) {
		return -1;
	}
	*out = v * mul;
	return 0;
}

/*
 * A transfer stopped by a limit: the serial it was bringing fails, with the
 * limit as its one error (owner the zone, type SOA), printed like any other
 * verdict. Returns the exit status of that verdict.
 */
static int print_limit_verdict(const uint8_t *zone, const char *zname, uint32_t serial,
                               const char *reason, const char *mode)
{
	zg_report_t report;
	zg_report_init(&report);
	zg_report_add(&report, ZG_SEV_ERROR, zone, KNOT_RRTYPE_SOA, "%s", reason);
	report.stats.earliest_expiry = INT64_MAX;
	zg_report_info_t info = { .zone = zname, .serial = serial, .now = (int64_t)time(NULL) };
	int code = 1;
	switch (g_format) {
	case ZG_FORMAT_JSON:
		if (mode == NULL) {
			zg_report_print_json(stdout, &report, &info);
			break;
		}
		/* --follow: one object per line, with the mode. */
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		if (mem != NULL) {
			zg_report_print_json(mem, &report, &info);
			fclose(mem);
			json_error_t jerr;
			json_t *root = json_loadb(buf, len, 0, &jerr);
			if (root != NULL) {
				json_object_set_new(root, "mode", json_string(mode));
				json_dumpf(root, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
				fputc('\n', stdout);
				json_decref(root);
			}
			free(buf);
		}
		break;
	case ZG_FORMAT_NAGIOS:
		code = zg_report_print_nagios(stdout, &report, &info);
		break;
	default:
		if (mode == NULL) {
			zg_report_print_text(stdout, &report, &info);
			break;
		}
		char *tbuf = NULL;
		size_t tlen = 0;
		FILE *tmem = open_memstream(&tbuf, &tlen);
		if (tmem != NULL) {
			zg_report_print_text(tmem, &report, &info);
			fclose(tmem);
			while (tlen > 0 && tbuf[tlen - 1] == '\n') {
				tlen--;
			}
			fwrite(tbuf, 1, tlen, stdout);
			printf(" (%s)\n", mode);
			free(tbuf);
		}
		break;
	}
	fflush(stdout);
	zg_report_deinit(&report);
	return code;
}

/* ---- --follow ---- */

/* The follower's cancel flag: set by SIGINT/SIGTERM, it ends a transfer or a
 * validation under way and the loop. */
static atomic_bool *g_cancel;

/* SIGINT/SIGTERM: stop following (a second signal kills: SA_RESETHAND). */
static void on_signal(int sig)
{
	(void)sig;
	atomic_store(g_cancel, true);
}

typedef struct {
	const char *server;     /*!< ADDR[@PORT]. */
	const char *zone_str;   /*!< ZONE as given. */
	unsigned poll;          /*!< Seconds between SOA queries. */
	unsigned long count;    /*!< Exit after this many verdicts; 0: never. */
	zg_xfr_limits_t limits; /*!< --max-*: 0 fields automatic. */
} follow_args_t;

/* What the tool keeps beside the library's follower (zg_follow_t). */
typedef struct {
	const follow_args_t *fa;
	unsigned threads;       /*!< -j (0: online CPUs). */
	const uint8_t *zone;
	char zname[1024];
	char last_msg[512];     /*!< Last problem written to stderr (not repeated). */
	int code;               /*!< Exit status of the last verdict. */
	int err;                /*!< Writing a verdict failed. */
} follow_t;

/* Writes a problem of the follow loop to stderr unless it repeats the last one. */
static void follow_warn(follow_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void follow_warn(follow_t *f, const char *fmt, ...)
{
	char msg[sizeof(f->last_msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (strcmp(msg, f->last_msg) != 0) {
		fprintf(stderr, "zg-verify: %s\n", msg);
		snprintf(f->last_msg, sizeof(f->last_msg), "%s", msg);
	}
}

/* Sleeps up to \a sec seconds in 100 ms steps, less once canceled. */
static void follow_sleep(unsigned sec)
{
	for (unsigned i = 0; i < sec * 10 && !atomic_load(g_cancel); i++) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100000000 };
		nanosleep(&ts, NULL);  /* EINTR: the loop checks the flag. */
	}
}

/* What a transfer did to the shadow zone: only a diff that does not apply is told. */
static void follow_note(void *arg, zg_shadow_event_t ev, const zg_diff_t *diff, uint32_t from,
                        uint32_t serial, int err)
{
	(void)from;
	(void)serial;
	follow_t *f = arg;
	if (ev == ZG_SHADOW_IXFR_NOAPPLY) {
		follow_warn(f, "IXFR of %s from %s, serial %u -> %u, does not apply to the "
		            "shadow zone (%s), falling back to AXFR", f->fa->zone_str, f->fa->server,
		            diff->serial_from, diff->serial_to, zg_strerror(err));
	}
}

/* Prints the findings and the verdict line of one serial (flushed). */
static int follow_print(const zg_report_t *report, const zg_report_info_t *info,
                        bool full, size_t checked, double ms)
{
	const char *mode = full ? "whole zone" : "incremental";
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (mem == NULL) {
		return -errno;
	}
	int ret = 0;
	if (g_format == ZG_FORMAT_JSON) {
		ret = zg_report_print_json(mem, report, info);
	} else {
		zg_report_print_text(mem, report, info);
	}
	if (fclose(mem) != 0 && ret == 0) {
		ret = -ENOMEM;
	}
	if (ret != 0) {
		free(buf);
		return ret;
	}
	if (g_format == ZG_FORMAT_JSON) {
		json_error_t jerr;
		json_t *root = json_loadb(buf, len, 0, &jerr);
		if (root == NULL) {
			free(buf);
			return -ENOMEM;
		}
		json_object_set_new(root, "mode", json_string(mode));
		json_object_set_new(root, "names_checked", json_integer((json_int_t)checked));
		json_object_set_new(root, "validation_ms", json_integer((json_int_t)ms));
		ret = json_dumpf(root, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 ? 0 : -EIO;
		fputc('\n', stdout);
		json_decref(root);
	} else {
		/* The summary line is the last one: append the mode to it. */
		while (len > 0 && buf[len - 1] == '\n') {
			len--;
		}
		fwrite(buf, 1, len, stdout);
		printf(" (%s, %zu names, %.0f ms)\n", mode, checked, ms);
	}
	free(buf);
	if (fflush(stdout) != 0 && ret == 0) {
		ret = -errno;
	}
	return ret;
}

/* A verdict of the follower: printed (a failure to print ends the loop). */
static void follow_verdict(void *arg, const zg_follow_verdict_t *v)
{
	follow_t *f = arg;
	if (v->report == NULL) {
		/* A limit stopped the transfer: that serial fails, and is not
		 * transferred again until the primary announces another one. */
		f->code = print_limit_verdict(f->zone, f->zname, v->serial, v->limit, "transfer");
		return;
	}
	zg_report_info_t info = {
		.zone = f->zname,
		.serial = v->serial,
		.now = v->now,
		.threads = v->full ? (f->threads ? f->threads
		                                 : (unsigned)sysconf(_SC_NPROCESSORS_ONLN)) : 1,
		.elapsed = v->elapsed,
		.p256 = g_p256,
	};
	/* The earliest expiry of the whole zone, not only of what was checked. */
	v->report->stats.earliest_expiry = v->earliest_expiry;
	int ret = follow_print(v->report, &info, v->full, v->checked, v->elapsed * 1000.0);
	f->code = v->valid ? 0 : 1;
	if (ret != 0) {
		f->err = ret;
	}
}

/*
 * The follow loop: the library's (zg_follow_round()), with the tool's rules
 * on what each round did. Returns the exit status: 0 the last verdict was
 * valid, 1 it was not, 2 usage or I/O errors at start, or no verdict at all.
 */
static int follow(const follow_args_t *fa, const zg_verify_opts_t *vo, const char *tsig,
                  const char *ds_file)
{
	zg_xfr_source_t src;
	char why[256];
	if (zg_xfr_source_parse(&src, fa->server, tsig, fa->zone_str, why, sizeof(why)) != 0) {
		return fail_usage("--follow: %s", why);
	}
	zg_follow_t *fl = calloc(1, sizeof(*fl));
	if (fl == NULL) {
		zg_xfr_source_deinit(&src);
		return fail_usage("--follow: %s", zg_strerror(-ENOMEM));
	}
	follow_t t = { .fa = fa, .threads = vo->threads, .zone = fl->zone };
	fl->ops = (zg_follow_ops_t){ .arg = &t, .verdict = follow_verdict, .note = follow_note };
	zg_follow_init(fl);
	memcpy(fl->zone, src.zone, sizeof(fl->zone));
	zg_dname_str(fl->zone, t.zname, sizeof(t.zname));
	zg_dname_str(fl->zone, fl->zone_str, sizeof(fl->zone_str));  /* Its logs (none). */
	struct sockaddr_storage any = { .ss_family = AF_UNSPEC };
	zg_follow_source_add(fl, &src.addr, &any);
	zg_follow_source_describe(fl, fa->server);
	if (src.has_key) {
		fl->source_key = src.key;   /* Freed with the follower. */
		memset(&src.key, 0, sizeof(src.key));
	}
	zg_xfr_source_deinit(&src);
	fl->horizon = vo->horizon;
	fl->poll_sec = fa->poll;
	fl->limits = fa->limits;
	fl->p256_openssl = vo->p256_openssl;
	fl->verify = *vo;

	int code = 2;                /* No verdict yet. */
	zg_buf_t ds;
	zg_buf_init(&ds);
	if (ds_file != NULL) {
		zg_load_error_t lerr;
		if (zg_ds_load_file(ds_file, fl->zone, &ds, &fl->verify.ds_count, &lerr) != 0) {
			code = lerr.line > 0 ?
			       fail_usage("%s:%llu: %s", lerr.file, (unsigned long long)lerr.line,
			                  lerr.reason) :
			       fail_usage("%s: %s", ds_file, lerr.reason);
			goto out;
		}
		fl->verify.ds = ds.data;
		fl->verify.ds_size = ds.len;
	}

	g_cancel = &fl->cancel;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	bool started = false;        /* The first SOA query and AXFR worked. */
	unsigned long verdicts = 0;
	while (!atomic_load(&fl->cancel)) {
		zg_follow_result_t res;
		zg_follow_round(fl, &res);
		if (atomic_load(&fl->cancel)) {
			break;
		}
		if (t.err != 0) {
			fprintf(stderr, "zg-verify: cannot write the verdict (%s)\n", zg_strerror(t.err));
			code = 2;
			break;
		}
		bool again = false;
		switch (res.outcome) {
		case ZG_FOLLOW_SOA_FAILED:
		case ZG_FOLLOW_XFR_FAILED: {
			/* Fatal at first contact, later retried. */
			bool soa = res.outcome == ZG_FOLLOW_SOA_FAILED;
			const char *what = soa ? "SOA query for" : "transfer of";
			const char *at = soa ? "at" : "from";
			if (!started) {
				code = fail_usage("%s %s %s %s failed: %s", what, t.zname, at, fa->server,
				                  res.reason);
				goto out;
			}
			follow_warn(&t, "%s %s %s %s failed (%s), retrying every %u s", what, t.zname,
			            at, fa->server, res.reason, fa->poll);
			break;
		}
		case ZG_FOLLOW_ABORTED:
			/* The shadow is dropped: the next round starts over with AXFR. */
			started = true;
			follow_warn(&t, "validation of %s serial %u aborted (%s)", t.zname, res.serial,
			            zg_strerror(res.err));
			break;
		case ZG_FOLLOW_VERDICT:
			started = true;
			code = t.code;
			if (!res.limit) {
				t.last_msg[0] = '\0';
			}
			if (fa->count > 0 && ++verdicts >= fa->count) {
				goto out;
			}
			/* Changed meanwhile: ask again at once. */
			again = !res.limit && res.serial != res.soa;
			break;
		case ZG_FOLLOW_UNCHANGED:
			t.last_msg[0] = '\0';
			break;
		default:
			/* The primary announced a serial it does not transfer (yet). */
			started = true;
			break;
		}
		if (!again) {
			follow_sleep(fa->poll);
		}
	}
out:
	/* Freeing a large zone takes time and changes nothing at exit. */
	if (getenv("ZG_VERIFY_FREE") == NULL) {
		fl->sh.shadow = NULL;
	}
	zg_follow_deinit(fl);
	free(fl);
	zg_buf_deinit(&ds);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "origin",  required_argument, NULL, 'o' },
		{ "threads", required_argument, NULL, 'j' },
		{ "time",    required_argument, NULL, 't' },
		{ "horizon", required_argument, NULL, OPT_HORIZON },
		{ "format",  required_argument, NULL, OPT_FORMAT },
		{ "ds",      required_argument, NULL, OPT_DS },
		{ "axfr",    required_argument, NULL, OPT_AXFR },
		{ "tsig",    required_argument, NULL, 'y' },
		{ "follow",  required_argument, NULL, OPT_FOLLOW },
		{ "poll",    required_argument, NULL, OPT_POLL },
		{ "count",   required_argument, NULL, OPT_COUNT },
		{ "max-records", required_argument, NULL, OPT_MAX_RECORDS },
		{ "max-size",    required_argument, NULL, OPT_MAX_SIZE },
		{ "max-time",    required_argument, NULL, OPT_MAX_TIME },
		{ "p256-openssl", no_argument,  NULL, OPT_P256_OPENSSL },
		{ "p256-cache", required_argument, NULL, OPT_P256_CACHE },
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *origin = NULL, *ds_file = NULL, *axfr = NULL, *tsig = NULL;
	follow_args_t fa = { .poll = FOLLOW_POLL_DEFAULT };
	bool time_set = false, poll_set = false, count_set = false, limit_set = false;
	zg_verify_opts_t vo = { .now = (int64_t)time(NULL) };
	/* Find --format first so usage errors use the right output. */
	if (zg_format_prescan(argc, argv) == ZG_FORMAT_NAGIOS) {
		g_format = ZG_FORMAT_NAGIOS;
	}
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:j:t:y:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'o':
			origin = optarg;
			break;
		case 'j': {
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 256) {
				return fail_usage("bad thread count '%s' (1-256)", optarg);
			}
			vo.threads = (unsigned)v;
			break;
		}
		case 't': {
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || v < 0) {
				return fail_usage("bad time '%s' (unix seconds)", optarg);
			}
			vo.now = v;
			time_set = true;
			break;
		}
		case OPT_HORIZON:
			if (parse_duration(optarg, &vo.horizon) != 0) {
				return fail_usage("bad duration '%s' (e.g. 2d; units s m h d w)", optarg);
			}
			break;
		case OPT_FORMAT:
			if (zg_format_parse(optarg, &g_format) != 0) {
				return fail_usage("bad format '%s' (" ZG_FORMAT_NAMES ")", optarg);
			}
			break;
		case OPT_DS:
			ds_file = optarg;
			break;
		case OPT_AXFR:
			axfr = optarg;
			break;
		case 'y':
			tsig = optarg;
			break;
		case OPT_FOLLOW:
			fa.server = optarg;
			break;
		case OPT_POLL: {
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 1 || v > 86400) {
				return fail_usage("bad poll interval '%s' (1-86400 seconds)", optarg);
			}
			fa.poll = (unsigned)v;
			poll_set = true;
			break;
		}
		case OPT_COUNT: {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || v < 1 || optarg[0] == '-') {
				return fail_usage("bad verdict count '%s' (a positive number)", optarg);
			}
			fa.count = v;
			count_set = true;
			break;
		}
		case OPT_MAX_RECORDS: {
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 || v < 1 || optarg[0] == '-') {
				return fail_usage("bad record limit '%s' (a positive number)", optarg);
			}
			fa.limits.records = v;
			limit_set = true;
			break;
		}
		case OPT_MAX_SIZE:
			if (parse_size(optarg, &fa.limits.bytes) != 0) {
				return fail_usage("bad size limit '%s' (bytes, suffix k, M or G)", optarg);
			}
			limit_set = true;
			break;
		case OPT_MAX_TIME: {
			int64_t sec = 0;
			if (parse_duration(optarg, &sec) != 0 || sec < 1 || sec > UINT32_MAX / 1000) {
				return fail_usage("bad time limit '%s' (e.g. 30m; units s m h d w)", optarg);
			}
			fa.limits.time_ms = (uint32_t)(sec * 1000);
			limit_set = true;
			break;
		}
		case OPT_P256_OPENSSL:
			vo.p256_openssl = true;
			break;
		case OPT_P256_CACHE: {
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0 || v > ZG_P256_CACHE_MAX) {
				return fail_usage("bad P-256 table cache size '%s' (0-%d keys)", optarg,
				                  ZG_P256_CACHE_MAX);
			}
			zg_p256_cache_set_size((unsigned)v);
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return fail_usage("option '%s' needs an argument (see --help)", argv[optind - 1]);
		default:
			return fail_usage("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc) {
		if (g_format != ZG_FORMAT_NAGIOS) {
			usage(stderr);
		}
		return fail_usage(optind >= argc ? "missing %s" : "too many arguments, expected one %s",
		                  axfr || fa.server ? "ZONE" : "ZONEFILE");
	}
	const char *env = getenv(ZG_P256_ENV);
	if (env != NULL && strcmp(env, "openssl") != 0 && strcmp(env, "native") != 0) {
		return fail_usage("bad %s value '%s' (native or openssl)", ZG_P256_ENV, env);
	}
	g_p256 = vo.p256_openssl || !zg_crypto_p256_native() ? "openssl" : "native";
	if (tsig != NULL && axfr == NULL && fa.server == NULL) {
		return fail_usage("-y needs --axfr or --follow");
	}
	if (limit_set && axfr == NULL && fa.server == NULL) {
		return fail_usage("--max-records, --max-size and --max-time need --axfr or --follow");
	}
	if ((poll_set || count_set) && fa.server == NULL) {
		return fail_usage("%s needs --follow", poll_set ? "--poll" : "--count");
	}
	const char *input = argv[optind];
	if (fa.server != NULL) {
		if (g_format == ZG_FORMAT_NAGIOS) {
			g_format = ZG_FORMAT_TEXT;
			return fail_usage("--follow prints text or json, not nagios");
		}
		if (axfr != NULL) {
			return fail_usage("--follow and --axfr exclude each other");
		}
		if (origin != NULL || time_set) {
			return fail_usage("%s does not apply to --follow (ZONE is the origin, each serial "
			                  "is validated as of its arrival)", origin != NULL ? "-o" : "-t");
		}
		fa.zone_str = input;
		return follow(&fa, &vo, tsig, ds_file);
	}

	zg_zone_t *zone = NULL;
	zg_load_error_t lerr;
	int ret;
	if (axfr != NULL) {
		char reason[512];
		zg_xfr_stats_t xs = { 0 };
		ret = zg_axfr_load(&zone, axfr, tsig, input, &fa.limits, &xs, reason, sizeof(reason));
		if (ret == ZG_ETOOBIG && xs.have_serial) {
			/* The serial being transferred fails (exit 1, CRITICAL). */
			uint8_t qname[KNOT_DNAME_MAXLEN];
			char zname[1024];
			if (knot_dname_from_str(qname, input, sizeof(qname)) != NULL) {
				knot_dname_to_lower(qname);
				return print_limit_verdict(qname, zg_dname_str(qname, zname, sizeof(zname)),
				                           xs.serial, reason, NULL);
			}
		}
		if (ret != 0) {
			return fail_usage("AXFR of %s from %s failed: %s", input, axfr, reason);
		}
	} else {
		/* -j1 stays single-threaded; otherwise large files load in parallel parts. */
		zg_load_opts_t lo = { .threads = (vo.threads == 1) ? 1 : 0 };
		ret = zg_zone_load_file_opts(&zone, input, origin, &lo, &lerr);
		if (ret != 0) {
			if (lerr.line > 0) {
				return fail_usage("%s:%llu: %s", lerr.file, (unsigned long long)lerr.line,
				                  lerr.reason);
			}
			return fail_usage("%s: %s", lerr.file[0] ? lerr.file : input, lerr.reason);
		}
	}

	zg_buf_t ds;
	zg_buf_init(&ds);
	if (ds_file != NULL) {
		ret = zg_ds_load_file(ds_file, zg_zone_origin(zone), &ds, &vo.ds_count, &lerr);
		if (ret != 0) {
			zg_zone_free(zone);
			zg_buf_deinit(&ds);
			if (lerr.line > 0) {
				return fail_usage("%s:%llu: %s", lerr.file, (unsigned long long)lerr.line,
				                  lerr.reason);
			}
			return fail_usage("%s: %s", ds_file, lerr.reason);
		}
		vo.ds = ds.data;
		vo.ds_size = ds.len;
	}

	double t0 = zg_clock_s();
	zg_report_t report;
	zg_report_init(&report);
	zg_verifier_t *v = NULL;
	ret = zg_verifier_new(&v, zone, &vo, &report);
	if (ret == 0) {
		ret = zg_verify_zone(v, &report);
	}
	double t1 = zg_clock_s();
	if (ret != 0) {
		zg_verifier_free(v);
		zg_report_deinit(&report);
		zg_zone_free(zone);
		zg_buf_deinit(&ds);
		return fail_usage("validation aborted: %s", zg_strerror(ret));
	}

	char zname[1024];
	zg_report_info_t info = {
		.zone = zg_dname_str(zg_zone_origin(zone), zname, sizeof(zname)),
		.serial = zg_zone_serial(zone, NULL),
		.now = vo.now,
		.threads = vo.threads ? vo.threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
		.elapsed = t1 - t0,
		.p256 = g_p256,
	};
	int code = report.errors ? 1 : 0;
	switch (g_format) {
	case ZG_FORMAT_JSON:
		zg_report_print_json(stdout, &report, &info);
		break;
	case ZG_FORMAT_NAGIOS:
		code = zg_report_print_nagios(stdout, &report, &info);
		break;
	default:
		zg_report_print_text(stdout, &report, &info);
		break;
	}
	fflush(stdout);
	zg_verifier_free(v);
	zg_report_deinit(&report);
	/* Freeing a large zone takes time and changes nothing at exit. */
	if (getenv("ZG_VERIFY_FREE") != NULL) {
		zg_zone_free(zone);
	}
	zg_buf_deinit(&ds);
	return code;
}
