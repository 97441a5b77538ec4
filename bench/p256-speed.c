/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * P-256 verification rate: the native verifier (in batches, and one
 * signature at a time) and OpenSSL (EVP_PKEY_verify over the digest, as
 * lib/validate/crypto.c calls it), on the same signatures, in threads.
 *
 *   p256-speed [-t THREADS] [-s SECONDS] [-k KEYS]
 *
 * Prints one line per engine: "ENGINE SIGS_PER_S" (all threads together).
 * Signatures are made beforehand (4,096 per key) and verified round and round;
 * every verdict must be "valid" (exit 1 otherwise).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "validate/p256.h"
#include "p256_ref.h"

#define PER_KEY 4096
#define CHUNK 512

static unsigned g_keys = 1;
static double g_seconds = 5;
static zg_p256_key_t g_key[16];
static uint8_t g_pub[16][64];
static uint8_t (*g_digest)[32], (*g_sig)[64];
static int g_engine;   /* 0 batch, 1 single, 2 openssl */

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct {
	unsigned id;
	unsigned long done, bad;
} worker_t;

static void *run(void *arg)
{
	worker_t *w = arg;
	p256_ref_t ref;
	if (g_engine == 2 && p256_ref_init(&ref) != 0) {
		w->bad++;
		return NULL;
	}
	zg_p256_job_t jobs[CHUNK];
	size_t total = (size_t)g_keys * PER_KEY, pos = (w->id * 977u) % total;
	double end = mono() + g_seconds;
	while (mono() < end) {
		for (size_t i = 0; i < CHUNK; i++, pos = (pos + 1) % total) {
			/* keys interleaved: signature pos is by key pos % g_keys */
			jobs[i] = (zg_p256_job_t){ .key = &g_key[pos % g_keys], .digest = g_digest[pos],
			                           .sig = g_sig[pos] };
			if (g_engine == 1) {
				w->bad += zg_p256_verify(jobs[i].key, jobs[i].digest, jobs[i].sig) != 0;
			} else if (g_engine == 2) {
				w->bad += p256_ref_verify(&ref, g_pub[pos % g_keys], g_digest[pos],
				                          g_sig[pos]) != 1;
			}
		}
		if (g_engine == 0) {
			zg_p256_verify_batch(jobs, CHUNK);
			for (size_t i = 0; i < CHUNK; i++) {
				w->bad += jobs[i].ret != 0;
			}
		}
		w->done += CHUNK;
	}
	if (g_engine == 2) {
		p256_ref_deinit(&ref);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned threads = 2;
	int c;
	while ((c = getopt(argc, argv, "t:s:k:")) != -1) {
		switch (c) {
		case 't': threads = (unsigned)atoi(optarg); break;
		case 's': g_seconds = atof(optarg); break;
		case 'k': g_keys = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: p256-speed [-t THREADS] [-s SECONDS] [-k KEYS]\n");
			return 2;
		}
	}
	if (threads < 1 || threads > 64 || g_keys < 1 || g_keys > 16 || g_seconds <= 0) {
		fprintf(stderr, "p256-speed: threads 1-64, keys 1-16, seconds > 0\n");
		return 2;
	}
	p256_ref_t ref;
	if (p256_ref_init(&ref) != 0) {
		return 2;
	}
	size_t total = (size_t)g_keys * PER_KEY;
	g_digest = calloc(total, 32);
	g_sig = calloc(total, 64);
	uint64_t rng = 0x5065656432353621ull;
	BIGNUM *d[16];
	for (unsigned k = 0; k < g_keys; k++) {
		d[k] = p256_ref_rand_key(&ref, &rng, g_pub[k]);
		zg_p256_key_parse(&g_key[k], g_pub[k]);
	}
	for (size_t i = 0; i < total; i++) {
		p256_ref_fill(&rng, g_digest[i], 32);
		BIGNUM *k = p256_ref_rand_scalar(&ref, &rng);
		if (BN_is_zero(k) || p256_ref_sign(&ref, d[i % g_keys], k, g_digest[i], g_sig[i]) != 0) {
			BN_free(k);
			return 2;
		}
		BN_free(k);
	}
	/* Tables built before timing (as after a zone's first signatures). */
	for (unsigned k = 0; k < g_keys; k++) {
		zg_p256_verify(&g_key[k], g_digest[k], g_sig[k]);
	}
	static const char *names[] = { "native-batch", "native-single", "openssl" };
	int status = 0;
	for (g_engine = 0; g_engine < 3; g_engine++) {
		worker_t w[64];
		pthread_t t[64];
		memset(w, 0, sizeof(w));
		double t0 = mono();
		for (unsigned i = 0; i < threads; i++) {
			w[i].id = i;
			pthread_create(&t[i], NULL, run, &w[i]);
		}
		unsigned long done = 0, bad = 0;
		for (unsigned i = 0; i < threads; i++) {
			pthread_join(t[i], NULL);
			done += w[i].done;
			bad += w[i].bad;
		}
		double el = mono() - t0;
		printf("%s %.0f\n", names[g_engine], (double)done / el);
		if (bad != 0) {
			fprintf(stderr, "p256-speed: %s: %lu signatures not valid\n", names[g_engine], bad);
			status = 1;
		}
	}
	for (unsigned k = 0; k < g_keys; k++) {
		BN_free(d[k]);
	}
	p256_ref_deinit(&ref);
	free(g_digest);
	free(g_sig);
	return status;
}
