/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-status: the pipeline of one zone (or of every zone of the servers) at a glance, from the queue to the
 * public secondaries (see zg-status(1) and doc/status.md). The logic is in
 * lib/status/status.c.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "keys/register.h"
#include "status/status.h"

enum { OPT_QUEUE = 256, OPT_SIGNER, OPT_GATE, OPT_SECONDARY, OPT_FORMAT, OPT_TIMEOUT,
       OPT_TIME, OPT_WARN_FRESH, OPT_CRIT_FRESH, OPT_WARN_RUNWAY, OPT_CRIT_RUNWAY, OPT_KEYSTATE };

static zg_status_format_t g_format = ZG_STATUS_TEXT;

static void usage(FILE *out)
{
	fprintf(out,
	"Usage: zg-status [--queue SOURCE] [--signer-ctl SOCKET] [--gate-ctl SOCKET]\n"
	"                 [--keystate DIR]\n"
	"                 [--secondary ADDR[@PORT]]... [--format text|json|nagios|prometheus]\n"
	"                 [--warn-freshness DURATION] [--crit-freshness DURATION]\n"
	"                 [--warn-runway DURATION] [--crit-runway DURATION]\n"
	"                 [--timeout MS] [--time UNIXTIME] [ZONE]\n"
	"\n"
	"Show where the changes of ZONE are in the pipeline: the queue, the signer,\n"
	"the validating hidden primary (the gate) and each public secondary, the\n"
	"signature runway, the DS sync state, and the freshness: the age of the\n"
	"oldest change not yet served, validated, by every secondary. Without ZONE:\n"
	"every zone that the --signer-ctl and --gate-ctl knotd list (at most %d),\n"
	"one report each (json: {\"status\", \"exit\", \"time\", \"zones\": [...]};\n"
	"nagios: one line), the exit status the worst of them.\n"
	"\n"
	"Options:\n"
	"      --queue SOURCE          spool:/DIR or postgresql://... (mod-ingest's source)\n"
	"      --signer-ctl SOCKET     control socket of the signer's knotd (mod-ingest)\n"
	"      --gate-ctl SOCKET       control socket of the hidden primary's knotd\n"
	"                              (mod-validate)\n"
	"      --keystate DIR          where zg-signer-knot's key-state watcher writes\n"
	"                              keystate-ZONE.json (/run/zonegate by default)\n"
	"      --secondary ADDR[@PORT] a public secondary, asked for the SOA (repeat, at\n"
	"                              most %d)\n"
	"      --format FORMAT         text (default), json, nagios or prometheus\n"
	"                              (textfile-collector metrics)\n"
	"      --warn-freshness D      freshness for WARNING (default 5m)\n"
	"      --crit-freshness D      freshness for CRITICAL (default 30m)\n"
	"      --warn-runway D         signature runway for WARNING (default 3d)\n"
	"      --crit-runway D         signature runway for CRITICAL (default 1d)\n"
	"      --timeout MS            per control-socket step and DNS query (default 2000)\n"
	"      --time UNIXTIME         the time of the report (default: now)\n"
	"  -h, --help                  this help\n"
	"\n"
	"Durations: a number with s, m, h, d or w. Exit status (every format): 0 OK,\n"
	"1 WARNING (freshness, runway, DS sync overdue), 2 CRITICAL (a failed\n"
	"validation, freshness, runway), 3 UNKNOWN (usage error, or a source could\n"
	"not be read and nothing is critical).\n", ZG_STATUS_ZONES, ZG_STATUS_SECONDARIES);
}

/* Exit 3 with a message in the selected format. */
static int fail(const char *zone, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char *zone, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (g_format == ZG_STATUS_NAGIOS) {
		printf("ZONEGATE STATUS UNKNOWN - %s%s%s\n", zone, zone[0] != '\0' ? " " : "", msg);
	} else if (g_format == ZG_STATUS_JSON) {
		json_t *o = json_pack("{s:s, s:s, s:i, s:s}", "zone", zone, "status", "UNKNOWN",
		                      "exit", ZG_STATUS_UNKNOWN, "error", msg);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
		json_decref(o);
	} else {
		fprintf(stderr, "zg-status: %s\n", msg);
	}
	return ZG_STATUS_UNKNOWN;
}

static int parse_format(const char *s, zg_status_format_t *f)
{
	static const char *const names[] = { "text", "json", "nagios", "prometheus" };
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*f = (zg_status_format_t)i;
			return 0;
		}
	}
	return -1;
}

/* Every zone the control sockets list, one report each; exit: the worst. */
static int all_zones(zg_status_conf_t *conf)
{
	char err[512], **zones = NULL;
	size_t n = 0;
	if (zg_status_zones(conf, &zones, &n, err, sizeof(err)) != 0) {
		return fail("", "%s", err);
	}
	zg_status_t *sts = calloc(n, sizeof(*sts));
	if (sts == NULL) {
		zg_status_zones_free(zones, n);
		return fail("", "out of memory");
	}
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		conf->zone = zones[i];
		if (zg_status_collect(conf, &sts[i]) != 0) {
			ret = fail(sts[i].zone[0] != '\0' ? sts[i].zone : zones[i], "%s",
			           sts[i].problems[0].text);
		}
	}
	if (ret == 0) {
		zg_status_print_all(sts, n, g_format, stdout);
		ret = zg_status_worst(sts, n);
	}
	free(sts);
	zg_status_zones_free(zones, n);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "queue",          required_argument, NULL, OPT_QUEUE },
		{ "signer-ctl",     required_argument, NULL, OPT_SIGNER },
		{ "gate-ctl",       required_argument, NULL, OPT_GATE },
		{ "secondary",      required_argument, NULL, OPT_SECONDARY },
		{ "format",         required_argument, NULL, OPT_FORMAT },
		{ "timeout",        required_argument, NULL, OPT_TIMEOUT },
		{ "time",           required_argument, NULL, OPT_TIME },
		{ "warn-freshness", required_argument, NULL, OPT_WARN_FRESH },
		{ "crit-freshness", required_argument, NULL, OPT_CRIT_FRESH },
		{ "warn-runway",    required_argument, NULL, OPT_WARN_RUNWAY },
		{ "crit-runway",    required_argument, NULL, OPT_CRIT_RUNWAY },
		{ "keystate",       required_argument, NULL, OPT_KEYSTATE },
		{ "help",           no_argument,       NULL, 'h' },
		{ NULL }
	};
	zg_status_conf_t conf = { .now = time(NULL) };
	const char *zone = "";
	/* Pre-scan for --format so that usage errors use it. */
	for (int i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "--format") == 0) {
			parse_format(argv[i + 1], &g_format);
		}
	}
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		int64_t *dst = NULL;
		switch (c) {
		case OPT_QUEUE:
			conf.queue = optarg;
			break;
		case OPT_SIGNER:
			conf.signer_ctl = optarg;
			break;
		case OPT_GATE:
			conf.gate_ctl = optarg;
			break;
		case OPT_KEYSTATE:
			conf.keystate_dir = optarg;
			break;
		case OPT_SECONDARY:
			if (conf.nsecondaries == ZG_STATUS_SECONDARIES) {
				return fail(zone, "too many --secondary options (at most %d)",
				            ZG_STATUS_SECONDARIES);
			}
			conf.secondaries[conf.nsecondaries++] = optarg;
			break;
		case OPT_FORMAT:
			if (parse_format(optarg, &g_format) != 0) {
				return fail(zone, "unknown format '%s' (text, json, nagios or prometheus)",
				            optarg);
			}
			break;
		case OPT_TIMEOUT: {
			char *end = NULL;
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 1 || v > 60000) {
				return fail(zone, "invalid --timeout '%s' (milliseconds, 1 to 60000)", optarg);
			}
			conf.timeout_ms = (int)v;
			break;
		}
		case OPT_TIME: {
			char *end = NULL;
			long long v = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 0) {
				return fail(zone, "invalid --time '%s' (UNIX seconds)", optarg);
			}
			conf.now = v;
			break;
		}
		case OPT_WARN_FRESH:
			dst = dst != NULL ? dst : &conf.warn_freshness;
			/* fall through */
		case OPT_CRIT_FRESH:
			dst = dst != NULL ? dst : &conf.crit_freshness;
			/* fall through */
		case OPT_WARN_RUNWAY:
			dst = dst != NULL ? dst : &conf.warn_runway;
			/* fall through */
		case OPT_CRIT_RUNWAY:
			dst = dst != NULL ? dst : &conf.crit_runway;
			if (zg_keys_duration_parse(optarg, dst) != 0 || *dst <= 0) {
				return fail(zone, "invalid duration '%s' for --%s (e.g. 90s, 5m, 2d)",
				            optarg, opts[c - OPT_QUEUE].name);
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			if (g_format == ZG_STATUS_TEXT) {
				usage(stderr);
			}
			return fail(zone, "invalid option (see --help)");
		}
	}
	if (optind < argc - 1) {
		return fail(zone, "more than one ZONE");
	}
	if (optind == argc - 1) {
		conf.zone = zone = argv[optind];
	}
	if (conf.queue == NULL && conf.signer_ctl == NULL && conf.gate_ctl == NULL &&
	    conf.nsecondaries == 0 && conf.keystate_dir == NULL) {
		return fail(zone, "nothing to read: give --queue, --signer-ctl, --gate-ctl, "
		            "--secondary or --keystate");
	}
	if (conf.warn_freshness > 0 && conf.crit_freshness > 0 &&
	    conf.warn_freshness > conf.crit_freshness) {
		return fail(zone, "--warn-freshness is above --crit-freshness");
	}
	if (conf.warn_runway > 0 && conf.crit_runway > 0 && conf.warn_runway < conf.crit_runway) {
		return fail(zone, "--warn-runway is below --crit-runway");
	}
	if (conf.zone == NULL) {
		return all_zones(&conf);
	}
	zg_status_t *st = calloc(1, sizeof(*st));
	if (st == NULL) {
		return fail(zone, "out of memory");
	}
	if (zg_status_collect(&conf, st) != 0) {
		int ret = fail(st->zone[0] != '\0' ? st->zone : zone, "%s", st->problems[0].text);
		free(st);
		return ret;
	}
	zg_status_print(st, g_format, stdout);
	int ret = st->level;
	free(st);
	return ret;
}
