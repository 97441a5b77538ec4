/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-verify: whole-zone DNSSEC validation (see zg-verify(1) and CONTRACTS.md).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknot/dname.h>

#include "zonegate/axfr.h"
#include "zonegate/error.h"
#include "zonegate/report.h"
#include "zonegate/verify.h"
#include "zonegate/zone.h"

enum { FMT_TEXT, FMT_JSON, FMT_NAGIOS };
enum { OPT_HORIZON = 256, OPT_FORMAT, OPT_DS, OPT_AXFR };

static int g_format = FMT_TEXT;

static void usage(FILE *out)
{
	fprintf(out,
	"Usage: zg-verify [options] ZONEFILE\n"
	"       zg-verify --axfr ADDR[@PORT] [-y ALG:NAME:SECRET] [options] ZONE\n"
	"\n"
	"Validate the DNSSEC signatures, NSEC/NSEC3 chains, delegations and ZONEMD of a zone.\n"
	"\n"
	"Options:\n"
	"  -o, --origin ORIGIN      zone origin (default: owner of the first SOA record)\n"
	"  -j, --threads N          verification threads (default: online CPUs)\n"
	"  -t, --time UNIXTIME      validate as of this time (default: now)\n"
	"      --horizon DURATION   warn about signatures expiring within DURATION\n"
	"                           (number with unit s, m, h, d or w; default: off)\n"
	"      --format FORMAT      text (default), json or nagios\n"
	"      --ds FILE            trust anchor: DNSKEY RRset must be signed by a key\n"
	"                           matching a DS in FILE (instead of a SEP key)\n"
	"      --axfr ADDR[@PORT]   transfer ZONE by AXFR over TCP instead of reading a file\n"
	"  -y, --tsig ALG:NAME:SECRET  TSIG key for --axfr (e.g. hmac-sha256:key.:BASE64)\n"
	"  -h, --help               this help\n"
	"\n"
	"Exit status: 0 valid (warnings allowed), 1 validation errors, 2 usage, I/O or\n"
	"syntax error. With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n");
}

static int fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_usage(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == FMT_NAGIOS) {
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
		{ "help",    no_argument,       NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *origin = NULL, *ds_file = NULL, *axfr = NULL, *tsig = NULL;
	zg_verify_opts_t vo = { .now = (int64_t)time(NULL) };
	/* Find --format first so usage errors use the right output. */
	for (int i = 1; i < argc; i++) {
		const char *f = NULL;
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
			f = argv[i + 1];
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			f = argv[i] + 9;
		}
		if (f != NULL && strcmp(f, "nagios") == 0) {
			g_format = FMT_NAGIOS;
		}
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
			break;
		}
		case OPT_HORIZON:
			if (parse_duration(optarg, &vo.horizon) != 0) {
				return fail_usage("bad duration '%s' (e.g. 2d; units s m h d w)", optarg);
			}
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0) {
				g_format = FMT_TEXT;
			} else if (strcmp(optarg, "json") == 0) {
				g_format = FMT_JSON;
			} else if (strcmp(optarg, "nagios") == 0) {
				g_format = FMT_NAGIOS;
			} else {
				return fail_usage("bad format '%s' (text, json or nagios)", optarg);
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
		if (g_format != FMT_NAGIOS) {
			usage(stderr);
		}
		return fail_usage(optind >= argc ? "missing %s" : "too many arguments, expected one %s",
		                  axfr ? "ZONE" : "ZONEFILE");
	}
	if (tsig != NULL && axfr == NULL) {
		return fail_usage("-y needs --axfr");
	}
	const char *input = argv[optind];

	zg_zone_t *zone = NULL;
	zg_load_error_t lerr;
	int ret;
	if (axfr != NULL) {
		char reason[512];
		ret = zg_axfr_load(&zone, axfr, tsig, input, reason, sizeof(reason));
		if (ret != 0) {
			return fail_usage("AXFR of %s from %s failed: %s", input, axfr, reason);
		}
	} else {
		ret = zg_zone_load_file(&zone, input, origin, &lerr);
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

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	zg_report_t report;
	zg_report_init(&report);
	zg_verifier_t *v = NULL;
	ret = zg_verifier_new(&v, zone, &vo, &report);
	if (ret == 0) {
		ret = zg_verify_zone(v, &report);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
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
		.elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	};
	int code = report.errors ? 1 : 0;
	switch (g_format) {
	case FMT_JSON:
		zg_report_print_json(stdout, &report, &info);
		break;
	case FMT_NAGIOS:
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
