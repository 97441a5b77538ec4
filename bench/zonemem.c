/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Memory of the zone store under a stream of diffs (issue 20): loads a signed
 * zone file as `zg-verify --follow` does, then applies diffs through the
 * follower's path (zg_incr_apply_diff(), optionally zg_incr_verify()) and
 * prints the process's memory as it goes.
 *
 *   zonemem [-n DIFFS] [-o MIN-MAX] [-e EVERY] [-s SEED] [-v] ZONEFILE [ORIGIN]
 *
 * Each diff picks MIN..MAX owners at random (both trees) and, for each,
 * removes every RR of the owner and adds them back (its node shrinks to
 * nothing and grows again, one RR at a time, as in an IXFR that removes and
 * re-adds a delegation), so the zone's content is the same after every diff
 * and, with -v, every incremental validation must stay valid (exit 1
 * otherwise). Every EVERY diffs (and at 0) one line:
 *   diffs D rss_anon_kb R heap_inuse_kb H zone_kb Z zone_free_kb F apply_ms A verify_ms V
 * RssAnon from /proc/self/status, heap in use from mallinfo2(), the zone
 * store's own figures (zg_zone_mem()), and the mean CPU time per diff since
 * the line before of zg_incr_apply_diff() and of zg_incr_verify().
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libknot/consts.h>

#include "core/arena.h"
#include "dns/diff.h"
#include "validate/incr.h"
#include "validate/zone.h"

static long rss_anon_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	if (f == NULL) {
		return -1;
	}
	char line[256];
	long kb = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "RssAnon: %ld", &kb) == 1) {
			break;
		}
	}
	fclose(f);
	return kb;
}

static uint64_t g_rng;

static uint64_t rnd(void)
{
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 2685821657736338717ULL;
}

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of applying and of validating since the last line. */
static double g_apply, g_verify;

static void print_mem(size_t diffs, size_t n, const zg_zone_t *zone)
{
	struct mallinfo2 mi = mallinfo2();
	size_t total = 0, nfree = 0;
	zg_zone_mem(zone, &total, &nfree);
	printf("diffs %zu rss_anon_kb %ld heap_inuse_kb %zu zone_kb %zu zone_free_kb %zu "
	       "apply_ms %.2f verify_ms %.2f\n", diffs, rss_anon_kb(), mi.uordblks >> 10,
	       total >> 10, nfree >> 10, n ? g_apply * 1e3 / n : 0.0, n ? g_verify * 1e3 / n : 0.0);
	fflush(stdout);
	g_apply = g_verify = 0;
}

int main(int argc, char **argv)
{
	size_t ndiffs = 2000, omin = 100, omax = 1000, every = 100;
	bool verify = false;
	g_rng = 20;
	int opt;
	while ((opt = getopt(argc, argv, "n:o:e:s:v")) != -1) {
		switch (opt) {
		case 'n': ndiffs = strtoul(optarg, NULL, 10); break;
		case 'o':
			if (sscanf(optarg, "%zu-%zu", &omin, &omax) != 2 || omin == 0 || omax < omin) {
				fprintf(stderr, "zonemem: -o wants MIN-MAX owners\n");
				return 2;
			}
			break;
		case 'e': every = strtoul(optarg, NULL, 10); break;
		case 's': g_rng = strtoull(optarg, NULL, 10) | 1; break;
		case 'v': verify = true; break;
		default:
			fprintf(stderr, "usage: zonemem [-n DIFFS] [-o MIN-MAX] [-e EVERY] [-s SEED] "
			                "[-v] ZONEFILE [ORIGIN]\n");
			return 2;
		}
	}
	if (optind >= argc || every == 0) {
		fprintf(stderr, "zonemem: no zone file\n");
		return 2;
	}
	zg_zone_t *zone = NULL;
	zg_load_error_t lerr;
	int ret = zg_zone_load_file(&zone, argv[optind], optind + 1 < argc ? argv[optind + 1] : NULL,
	                            &lerr);
	if (ret != 0) {
		fprintf(stderr, "zonemem: %s:%llu: %s\n", lerr.file, (unsigned long long)lerr.line,
		        lerr.reason);
		return 1;
	}
	zg_incr_t *incr = NULL;
	if (zg_incr_new(&incr, zone) != 0) {
		return 1;
	}
	/* Owners to pick from, taken once (their node pointers change with every
	 * change; the names do not): u8 tree, u8 length, name. */
	zg_buf_t owners;
	zg_buf_init(&owners);
	size_t nowners = 0;
	zg_node_t *firsts[2] = { zg_zone_first(zone), zg_zone_nsec3_first(zone) };
	for (int t = 0; t < 2; t++) {
		for (zg_node_t *n = firsts[t]; n != NULL; n = zg_node_next(n)) {
			uint8_t name[ZG_DNAME_MAXLEN];
			uint8_t hdr[2] = { (uint8_t)t, (uint8_t)zg_node_owner(n, name) };
			if ((zg_node_flags(n) & ZG_NODE_APEX) ||
			    zg_buf_append(&owners, hdr, 2) != 0 ||
			    zg_buf_append(&owners, name, hdr[1]) != 0) {
				continue;
			}
			nowners++;
		}
	}
	size_t *index = malloc((nowners > 0 ? nowners : 1) * sizeof(*index));
	if (index == NULL || nowners == 0) {
		return 1;
	}
	for (size_t p = 0, i = 0; i < nowners; i++) {
		index[i] = p;
		p += 2 + owners.data[p + 1];
	}
	zg_verify_opts_t vopts = { .now = time(NULL), .threads = 1 };
	if (verify) {
		zg_report_t rep;
		zg_report_init(&rep);
		ret = zg_incr_verify(incr, &vopts, &rep, NULL);
		if (ret != 0 || rep.errors > 0) {
			fprintf(stderr, "zonemem: the zone is not valid (%zu errors)\n", rep.errors);
			return 1;
		}
		zg_report_deinit(&rep);
	}
	zg_diff_t diff;
	zg_diff_init(&diff);
	print_mem(0, 0, zone);
	for (size_t d = 1; d <= ndiffs; d++) {
		zg_diff_clear(&diff);
		size_t k = omin + (size_t)(rnd() % (omax - omin + 1));
		for (size_t i = 0; i < k; i++) {
			const uint8_t *e = owners.data + index[rnd() % nowners];
			const zg_node_t *n = NULL;
			if (e[0] == 0) {
				n = zg_zone_find(zone, e + 2);
			} else {
				uint8_t hash[64];
				int hl = zg_base32hex_decode(e + 3, e[2], hash, sizeof(hash));
				n = hl > 0 ? zg_zone_find_nsec3(zone, hash, (size_t)hl) : NULL;
			}
			if (n == NULL || zg_zone_node_to_diff(n, false, &diff) != 0 ||
			    zg_zone_node_to_diff(n, true, &diff) != 0) {
				fprintf(stderr, "zonemem: owner lost or no memory\n");
				return 1;
			}
		}
		double t0 = cpu_s();
		ret = zg_incr_apply_diff(incr, &diff);
		double t1 = cpu_s();
		g_apply += t1 - t0;
		if (ret != 0) {
			fprintf(stderr, "zonemem: diff %zu: %s\n", d, strerror(ret < 0 ? -ret : EINVAL));
			return 1;
		}
		if (verify) {
			zg_report_t rep;
			zg_report_init(&rep);
			ret = zg_incr_verify(incr, &vopts, &rep, NULL);
			g_verify += cpu_s() - t1;
			if (ret != 0 || rep.errors > 0) {
				fprintf(stderr, "zonemem: diff %zu: not valid (%zu errors)\n", d, rep.errors);
				return 1;
			}
			zg_report_deinit(&rep);
		}
		if (d % every == 0) {
			print_mem(d, every, zone);
		}
	}
	zg_diff_deinit(&diff);
	zg_buf_deinit(&owners);
	free(index);
	zg_incr_free(incr);
	return 0;
}
