/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libdnssec/crypto.h>
#include <libdnssec/error.h>
#include <libdnssec/key.h>
#include <libdnssec/keystore.h>

#include "core/clock.h"
#include "core/error.h"
#include "keys/keystore.h"

#define FLAGS_ZSK 256
#define FLAGS_KSK 257

/* Opens the keystore of the given backend; *store is NULL on failure. */
static int keystore_open(const char *backend, const char *config, dnssec_keystore_t **store,
                         char *err, size_t errlen)
{
	*store = NULL;
	int ret;
	if (strcmp(backend, "pkcs11") == 0) {
		ret = dnssec_keystore_init_pkcs11(store);
	} else if (strcmp(backend, "pem") == 0) {
		ret = dnssec_keystore_init_pkcs8(store);
	} else {
		snprintf(err, errlen, "unknown keystore backend '%s'", backend);
		return ZG_EINPUT;
	}
	if (ret != DNSSEC_EOK) {
		snprintf(err, errlen, "keystore not usable (%s)", dnssec_strerror(ret));
		*store = NULL;
		return ret;
	}
	ret = dnssec_keystore_open(*store, config);
	if (ret != DNSSEC_EOK) {
		snprintf(err, errlen, "keystore not available (%s)", dnssec_strerror(ret));
		dnssec_keystore_deinit(*store);
		*store = NULL;
	}
	return ret;
}

int zg_keystore_available(const char *backend, const char *config, char *err, size_t errlen)
{
	err[0] = '\0';
	dnssec_keystore_t *store;
	int ret = keystore_open(backend, config, &store, err, errlen);
	if (ret == DNSSEC_EOK) {
		dnssec_keystore_close(store);
		dnssec_keystore_deinit(store);
	}
	return ret;
}

int zg_keystore_check(const char *backend, const char *config, const zg_key_t *keys, size_t n,
                      bool *present, char *err, size_t errlen)
{
	err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		present[i] = false;
	}
	dnssec_keystore_t *store;
	int ret = keystore_open(backend, config, &store, err, errlen);
	if (ret != DNSSEC_EOK) {
		return ret;
	}
	for (size_t i = 0; i < n; i++) {
		dnssec_key_t *key = NULL;
		if (dnssec_key_new(&key) != DNSSEC_EOK) {
			ret = -ENOMEM;
			break;
		}
		dnssec_key_set_algorithm(key, keys[i].algorithm);
		dnssec_key_set_flags(key, keys[i].ksk ? FLAGS_KSK : FLAGS_ZSK);
		int r = dnssec_keystore_get_private(store, keys[i].id, key);
		present[i] = r == DNSSEC_EOK && dnssec_key_get_keytag(key) == keys[i].tag;
		dnssec_key_free(key);
	}
	dnssec_keystore_close(store);
	dnssec_keystore_deinit(store);
	if (ret == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	return ret == -ENOMEM ? ret : 0;
}

/* Child → parent: int ret, then n bytes of presence, then the error text. */
int zg_keystore_check_child(const char *softhsm_conf, const char *backend, const char *config,
                            const zg_key_t *keys, size_t n, bool *present, int timeout_ms,
                            char *err, size_t errlen)
{
	err[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		present[i] = false;
	}
	int pfd[2];
	if (pipe(pfd) != 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot check the keystore (%s)", zg_strerror(r));
		return r;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		snprintf(err, errlen, "cannot check the keystore (%s)", zg_strerror(r));
		return r;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (softhsm_conf != NULL) {
			setenv("SOFTHSM2_CONF", softhsm_conf, 1);
		}
		dnssec_crypto_init();
		bool *p = calloc(n + 1, sizeof(bool));
		char e[512];
		int r = p != NULL ? zg_keystore_check(backend, config, keys, n, p, e, sizeof(e)) : -ENOMEM;
		if (p == NULL) {
			snprintf(e, sizeof(e), "out of memory");
		}
		size_t elen = strlen(e);
		if (write(pfd[1], &r, sizeof(r)) != sizeof(r) ||
		    (p != NULL && n > 0 && write(pfd[1], p, n) != (ssize_t)n) ||
		    write(pfd[1], e, elen) != (ssize_t)elen) {
			_exit(2);
		}
		/* No cleanup of PKCS #11 state: _exit() leaves the module alone. */
		_exit(0);
	}
	close(pfd[1]);
	size_t want = sizeof(int) + n + errlen, have = 0;
	char *buf = malloc(want + 1);
	int ret = buf != NULL ? 0 : -ENOMEM;
	int64_t deadline = zg_clock_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
	while (ret == 0 && have < want) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		int64_t left = deadline - zg_clock_ms();
		if (left <= 0) {
			ret = ZG_ETIMEOUT;
			break;
		}
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno != EINTR) {
			ret = -errno;
		} else if (pr > 0) {
			ssize_t r = read(pfd[0], buf + have, want - have);
			if (r < 0 && errno != EINTR) {
				ret = -errno;
			} else if (r == 0) {
				break;
			} else if (r > 0) {
				have += (size_t)r;
			}
		}
	}
	close(pfd[0]);
	if (ret != 0) {
		kill(pid, SIGKILL);
	}
	int status = 0;
	(void)waitpid(pid, &status, 0);
	if (ret == 0 && have < sizeof(int) + n) {
		ret = -EIO;
	}
	if (ret != 0) {
		snprintf(err, errlen, "keystore check %s", ret == ZG_ETIMEOUT ? "timed out" :
		         "failed (the checking process died)");
		free(buf);
		return ret;
	}
	memcpy(&ret, buf, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		present[i] = buf[sizeof(int) + i] != 0;
	}
	size_t elen = have - sizeof(int) - n;
	snprintf(err, errlen, "%.*s", (int)elen, buf + sizeof(int) + n);
	free(buf);
	return ret;
}

void zg_keystore_config_public(const char *config, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s", config);
	char *pin = strstr(out, "pin-value=");
	if (pin == NULL) {
		return;
	}
	char *end = pin + strcspn(pin, "; ");
	if (pin > out && pin[-1] == ';' && (*end == ' ' || *end == '\0')) {
		pin--; /* ";pin-value=X" at the end of the URI's path part. */
	} else if (*end == ';') {
		end++;
	}
	memmove(pin, end, strlen(end) + 1);
}
