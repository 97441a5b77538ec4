/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * Differential test of the native P-256 verifier against OpenSSL: random
 * valid signatures by a few keys (with high-s and digest + n twins) and
 * corrupted ones (a bit of r, s or the digest flipped; r or s at 0, 1, n-1,
 * n, n+1, 2^256-1; r + n, s + n; r and s swapped; another key; random
 * bytes), all from a fixed seed. Native verdicts (in batches, and one at a
 * time for every 16th) must equal OpenSSL's on every signature.
 *
 *   test_p256_diff [COUNT [SEED]]   default 1000000 signatures, 2 threads
 *   ZG_P256_DIFF_THREADS=N
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdnssec/error.h>

#include "validate/p256.h"
#include "p256_ref.h"
#include "tap.h"

#define KEYS 4
#define BLOCK 512

static uint64_t g_count, g_seed;
static unsigned g_threads;

typedef struct {
	unsigned id;
	uint64_t done, valid, invalid, mismatch, eagain, single, construct_bad;
	uint64_t kinds[16];
} worker_t;

typedef struct {
	uint8_t digest[32], sig[64];
	int key;          /* index into the thread's keys */
	int kind;
	int want;         /* 1 valid by construction, 0 not known */
} item_t;

enum {
	K_VALID, K_HIGH_S, K_DIGEST_N, K_FLIP_R, K_FLIP_S, K_FLIP_DIGEST, K_SPECIAL_R,
	K_SPECIAL_S, K_R_PLUS_N, K_S_PLUS_N, K_SWAP, K_OTHER_KEY, K_RANDOM, K_NKINDS
};
static const char *kind_names[] = {
	"valid", "high s", "digest + n", "r bit flipped", "s bit flipped", "digest bit flipped",
	"special r", "special s", "r + n", "s + n", "r and s swapped", "another key", "random",
};

static void *run(void *arg)
{
	worker_t *w = arg;
	p256_ref_t ref;
	if (p256_ref_init(&ref) != 0) {
		w->mismatch = UINT64_MAX;
		return NULL;
	}
	uint64_t rng = g_seed ^ ((uint64_t)w->id * 0xA24BAED4963EE407ull);
	uint64_t krng = g_seed;   /* the same keys in every thread */
	BIGNUM *d[KEYS];
	uint8_t pub[KEYS][64];
	zg_p256_key_t key[KEYS];
	for (int i = 0; i < KEYS; i++) {
		d[i] = p256_ref_rand_key(&ref, &krng, pub[i]);
		if (zg_p256_key_parse(&key[i], pub[i]) != 0) {
			w->mismatch++;
		}
	}
	BIGNUM *two256 = BN_new(), *v = BN_new();
	BN_set_bit(two256, 256);
	BIGNUM *special[6] = { BN_new(), BN_new(), BN_dup(ref.n), BN_dup(ref.n), BN_dup(ref.n),
	                       BN_dup(two256) };
	BN_set_word(special[0], 0);
	BN_set_word(special[1], 1);
	BN_sub_word(special[2], 1);
	BN_add_word(special[4], 1);
	BN_sub_word(special[5], 1);

	item_t *items = calloc(BLOCK, sizeof(*items));
	zg_p256_job_t *jobs = calloc(BLOCK, sizeof(*jobs));
	uint64_t mine = g_count / g_threads + (w->id < g_count % g_threads ? 1 : 0);
	while (w->done < mine) {
		size_t n = 0;
		while (n < BLOCK && w->done + n < mine) {
			/* One base signature, up to four items from it. */
			item_t base = { .key = (int)(p256_ref_rand(&rng) % KEYS) };
			p256_ref_fill(&rng, base.digest, 32);
			if (p256_ref_rand(&rng) % 8 == 0) {
				memset(base.digest, 0, 4);   /* so that digest + n fits */
			}
			uint8_t kb[32];
			p256_ref_fill(&rng, kb, 32);
			BIGNUM *k = p256_ref_bn(kb);
			BN_nnmod(k, k, ref.n, ref.bn);
			int sret = BN_is_zero(k) ? -1 : p256_ref_sign(&ref, d[base.key], k, base.digest,
			                                               base.sig);
			BN_free(k);
			if (sret != 0) {
				continue;
			}
			/* Four items per signature made: two valid (as is, high s or
			 * digest + n), two corrupted. */
			for (int twin = 0; twin < 4 && n < BLOCK && w->done + n < mine; twin++) {
				item_t *it = &items[n++];
				*it = base;
				uint64_t rv = p256_ref_rand(&rng);
				int kind = twin % 2 == 0 ? (int)(rv % 3) : 3 + (int)(rv % (K_NKINDS - 3));
				rv >>= 8;
				it->kind = kind;
				it->want = kind <= K_DIGEST_N;
				switch (kind) {
				case K_HIGH_S:
					BN_bin2bn(it->sig + 32, 32, v);
					BN_sub(v, ref.n, v);
					p256_ref_put(v, it->sig + 32);
					break;
				case K_DIGEST_N:
					BN_bin2bn(it->digest, 32, v);
					BN_add(v, v, ref.n);
					if (BN_cmp(v, two256) < 0) {
						p256_ref_put(v, it->digest);
					} else {
						it->kind = K_VALID;
					}
					break;
				case K_FLIP_R:
				case K_FLIP_S:
				case K_FLIP_DIGEST: {
					uint8_t *p = kind == K_FLIP_DIGEST ? it->digest :
					             it->sig + (kind == K_FLIP_S ? 32 : 0);
					p[rv % 32] ^= (uint8_t)(1u << ((rv >> 5) % 8));
					break;
				}
				case K_SPECIAL_R:
				case K_SPECIAL_S:
					p256_ref_put(special[rv % 6], it->sig + (kind == K_SPECIAL_S ? 32 : 0));
					break;
				case K_R_PLUS_N:
				case K_S_PLUS_N: {
					uint8_t *p = it->sig + (kind == K_S_PLUS_N ? 32 : 0);
					BN_bin2bn(p, 32, v);
					BN_add(v, v, ref.n);
					if (BN_cmp(v, two256) >= 0) {
						BN_sub(v, v, two256);   /* the low 256 bits of r + n */
					}
					p256_ref_put(v, p);
					break;
				}
				case K_SWAP: {
					uint8_t t[32];
					memcpy(t, it->sig, 32);
					memcpy(it->sig, it->sig + 32, 32);
					memcpy(it->sig + 32, t, 32);
					break;
				}
				case K_OTHER_KEY:
					it->key = (it->key + 1 + (int)(rv % (KEYS - 1))) % KEYS;
					break;
				case K_RANDOM:
					p256_ref_fill(&rng, it->sig, 64);
					if (rv % 2) {
						/* below n, to get past the range checks */
						it->sig[0] &= 0x7f;
						it->sig[32] &= 0x7f;
					}
					break;
				default:
					break;
				}
			}
		}
		for (size_t i = 0; i < n; i++) {
			jobs[i] = (zg_p256_job_t){ .key = &key[items[i].key], .digest = items[i].digest,
			                           .sig = items[i].sig };
		}
		zg_p256_verify_batch(jobs, n);
		for (size_t i = 0; i < n; i++) {
			item_t *it = &items[i];
			int ref_v = p256_ref_verify(&ref, pub[it->key], it->digest, it->sig);
			int nat = jobs[i].ret == 0 ? 1 : jobs[i].ret == DNSSEC_INVALID_SIGNATURE ? 0 : -2;
			if ((w->done + i) % 16 == 0) {
				int r = zg_p256_verify(&key[it->key], it->digest, it->sig);
				int single = r == 0 ? 1 : r == DNSSEC_INVALID_SIGNATURE ? 0 : -2;
				w->single++;
				if (single != nat) {
					nat = -3;
				}
			}
			w->eagain += jobs[i].ret == -EAGAIN;
			w->construct_bad += it->want == 1 && ref_v != 1;
			w->kinds[it->kind]++;
			if (ref_v == 1) {
				w->valid++;
			} else {
				w->invalid++;
			}
			if (nat != ref_v) {
				if (w->mismatch < 10) {
					char h[200];
					for (int b = 0; b < 32; b++) {
						snprintf(h + 2 * b, 3, "%02x", it->digest[b]);
					}
					for (int b = 0; b < 64; b++) {
						snprintf(h + 64 + 2 * b, 3, "%02x", it->sig[b]);
					}
					diag("mismatch (%s): native %d openssl %d key %d digest|sig %s",
					     kind_names[it->kind], nat, ref_v, it->key, h);
				}
				w->mismatch++;
			}
		}
		w->done += n;
	}
	free(items);
	free(jobs);
	for (int i = 0; i < 6; i++) {
		BN_free(special[i]);
	}
	for (int i = 0; i < KEYS; i++) {
		BN_free(d[i]);
	}
	BN_free(two256);
	BN_free(v);
	p256_ref_deinit(&ref);
	return NULL;
}

int main(int argc, char **argv)
{
	plan_lazy();
	g_count = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	g_seed = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x5eed2560d1ff0001ull;
	const char *th = getenv("ZG_P256_DIFF_THREADS");
	g_threads = th != NULL && atoi(th) > 0 ? (unsigned)atoi(th) : 2;
	if (g_threads > 64) {
		g_threads = 64;
	}
	worker_t w[64];
	pthread_t t[64];
	memset(w, 0, sizeof(w));
	for (unsigned i = 0; i < g_threads; i++) {
		w[i].id = i;
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	worker_t sum = { 0 };
	for (unsigned i = 0; i < g_threads; i++) {
		pthread_join(t[i], NULL);
		sum.done += w[i].done;
		sum.valid += w[i].valid;
		sum.invalid += w[i].invalid;
		sum.mismatch += w[i].mismatch;
		sum.eagain += w[i].eagain;
		sum.single += w[i].single;
		sum.construct_bad += w[i].construct_bad;
		for (int k = 0; k < K_NKINDS; k++) {
			sum.kinds[k] += w[i].kinds[k];
		}
	}
	diag("seed 0x%016" PRIx64 ", %u threads", g_seed, g_threads);
	for (int k = 0; k < K_NKINDS; k++) {
		diag("%-20s %" PRIu64, kind_names[k], sum.kinds[k]);
	}
	is_int(sum.done, g_count, "%" PRIu64 " signatures checked", g_count);
	is_int(sum.mismatch, 0, "native verdicts equal OpenSSL's on all of them "
	       "(%" PRIu64 " valid, %" PRIu64 " invalid, %" PRIu64 " also one at a time)",
	       sum.valid, sum.invalid, sum.single);
	is_int(sum.construct_bad, 0, "every signature valid by construction is valid for OpenSSL");
	is_int(sum.eagain, 0, "no signature left to the fallback");
	ok(sum.valid > g_count / 3 && sum.invalid > g_count / 3,
	   "both verdicts well represented");
	return done_testing();
}
