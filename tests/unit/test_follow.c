/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * The follower's verdicts read back at start (lib/validate/follow.c,
 * zg_follow_restore()), without knotd: what the gate then sees per serial
 * (valid, failed, none), a valid verdict whose signatures expired restored
 * as failed, a verdict without the digest of its content not opening the
 * gate, and a truncated or corrupt state file refused whole (fail closed)
 * with a warning naming the file, the line and the reason; one round
 * (zg_follow_round()) as zg-verify --follow runs it, its result when the
 * source cannot be asked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "dns/dnsclient.h"
#include "validate/follow.h"
#include "tap.h"

typedef struct {
	char log[4096];             /* Every line, '\n'-separated. */
	int worst;                  /* Lowest (most severe) level logged. */
	uint64_t last_serial;       /* ZG_FOLLOW_CTR_LAST_SERIAL as stored. */
	unsigned alarms;
	unsigned verdicts;
} host_t;

static void h_log(void *arg, int level, const char *msg)
{
	host_t *h = arg;
	size_t n = strlen(h->log);
	snprintf(h->log + n, sizeof(h->log) - n, "%s\n", msg);
	if (level < h->worst) {
		h->worst = level;
	}
}

static void h_count(void *arg, zg_follow_ctr_t ctr, bool store, uint64_t value)
{
	host_t *h = arg;
	if (ctr == ZG_FOLLOW_CTR_LAST_SERIAL && store) {
		h->last_serial = value;
	}
}

static void h_alarm(void *arg, uint32_t serial, const char *reason)
{
	(void)serial;
	(void)reason;
	((host_t *)arg)->alarms++;
}

/* A follower of zone test. with its state file at path, restored. */
static zg_follow_t *restored(host_t *h, const char *path)
{
	memset(h, 0, sizeof(*h));
	h->worst = LOG_DEBUG + 1;
	zg_follow_t *f = calloc(1, sizeof(*f));
	f->ops = (zg_follow_ops_t){ .arg = h, .log = h_log, .count = h_count, .alarm = h_alarm };
	zg_follow_init(f);
	snprintf(f->zone_str, sizeof(f->zone_str), "test.");
	snprintf(f->state_path, sizeof(f->state_path), "%s", path);
	zg_digest_key_new(f->vs.key);
	ok(zg_follow_restore(f) == 0, "restore returns (digest context made)");
	return f;
}

static void release(zg_follow_t *f)
{
	zg_follow_deinit(f);
	free(f);
}

static zg_digest_t dg(uint8_t b)
{
	zg_digest_t d;
	memset(&d, b, sizeof(d));
	return d;
}

static struct sockaddr_storage sa(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	zg_dns_addr_parse(text, 53, &ss);
	return ss;
}

/* The source and signer configuration as mod-validate sets it. */
static void test_config(void)
{
	zg_follow_t *f = calloc(1, sizeof(*f));
	zg_follow_init(f);
	struct sockaddr_storage any = { 0 }, via = sa("127.0.0.9");
	for (int i = 0; i < ZG_FOLLOW_SOURCES + 2; i++) {
		struct sockaddr_storage a = sa(i == 0 ? "192.0.2.1@5301" : "2001:db8::2");
		zg_follow_source_add(f, &a, i == 0 ? &via : &any);
	}
	is_int(f->source_count, ZG_FOLLOW_SOURCES, "source addresses beyond the limit dropped");
	ok(f->sources[0].via.ss_family == AF_INET && f->sources[1].via.ss_family == AF_UNSPEC,
	   "each address keeps its via");
	f->source_count = 2;
	zg_follow_source_describe(f, "signers");
	is_str(f->source_name, "signers (192.0.2.1@5301, 2001:db8::2@53)",
	       "a remote: its id and its addresses");
	is_str(f->source_str, "192.0.2.1@5301", "the first address used first");

	f->source_count = 0;
	zg_follow_source_describe(f, "192.0.2.7@5300");
	ok(f->source_count == 1 && strcmp(f->source_name, "192.0.2.7@5300") == 0 &&
	   strcmp(f->source_str, "192.0.2.7@5300") == 0, "an address: the one source");
	f->source_count = 0;
	zg_follow_source_describe(f, "no-such-remote");
	ok(f->source_count == 0 && strcmp(f->source_name, "no-such-remote") == 0,
	   "neither a remote nor an address: named as written, no source (fail closed)");

	for (int i = 0; i < ZG_FOLLOW_NOTIFY + 1; i++) {
		struct sockaddr_storage a = sa("192.0.2.53");
		zg_follow_notify_add(f, &a, &any);
	}
	ok(f->notify_count == ZG_FOLLOW_NOTIFY && f->notify[0].key.name == NULL,
	   "notify targets beyond the limit dropped, unsigned");

	const char *items[ZG_FOLLOW_SIGNERS + 1];
	for (int i = 0; i <= ZG_FOLLOW_SIGNERS; i++) {
		items[i] = i == 0 ? "a@192.0.2.1" : "b@192.0.2.2";
	}
	is_int(zg_follow_signers_set(f, items, 2), 0, "signer map set");
	ok(f->signer_count == 2 && strcmp(f->signer_map[0], "a@192.0.2.1") == 0 &&
	   strcmp(f->signer_map[1], "b@192.0.2.2") == 0, "its items copied in order");
	is_int(zg_follow_signers_set(f, items, ZG_FOLLOW_SIGNERS + 1), 0, "set again");
	is_int((int)f->signer_count, ZG_FOLLOW_SIGNERS, "the first ZG_FOLLOW_SIGNERS kept");
	is_int(zg_follow_signers_set(f, NULL, 0), 0, "an empty map");
	ok(f->signer_count == 0 && f->signer_map != NULL, "no item, a map all the same");
	zg_follow_deinit(f);
	free(f);
}

static void h_verdict(void *arg, const zg_follow_verdict_t *v)
{
	(void)v;
	((host_t *)arg)->verdicts++;
}

/* A port of 127.0.0.1 nobody listens on (UDP and TCP) right now. */
static struct sockaddr_storage closed_port(void)
{
	struct sockaddr_storage ss = sa("127.0.0.1@1");
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	in->sin_port = 0;
	socklen_t len = sizeof(*in);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)in, len) == 0) {
		getsockname(fd, (struct sockaddr *)in, &len);
	}
	if (fd >= 0) {
		close(fd);
	}
	return ss;
}

/* One round as `zg-verify --follow` runs it: no log, counters, alarm, state
 * file, NOTIFY or lease configured; what the round did comes back in the
 * result (the tool's rules use it), no verdict without a transfer. */
static void test_round(void)
{
	host_t h;
	memset(&h, 0, sizeof(h));
	zg_follow_t *f = calloc(1, sizeof(*f));
	f->ops = (zg_follow_ops_t){ .arg = &h, .verdict = h_verdict };
	zg_follow_init(f);
	f->burst = 0;
	f->poll_sec = 7;
	knot_dname_from_str(f->zone, "test.", sizeof(f->zone));
	snprintf(f->zone_str, sizeof(f->zone_str), "test.");

	zg_follow_source_describe(f, "no-such-remote");
	zg_follow_result_t res;
	memset(&res, 0xff, sizeof(res));
	int64_t ms = zg_follow_round(f, &res);
	ok(res.outcome == ZG_FOLLOW_SOA_FAILED && res.err == ZG_EINPUT &&
	   strstr(res.reason, "no remote of that id") != NULL,
	   "no source: the round says the SOA query failed, and why");
	ok(res.soa == 0 && res.serial == 0 && !res.limit, "no source: no serial in the result");
	is_int((int)ms, 7000, "no source: the poll interval to wait (no burst)");

	struct sockaddr_storage closed = closed_port(), any = { .ss_family = AF_UNSPEC };
	f->source_count = 0;
	zg_follow_source_add(f, &closed, &any);
	zg_follow_source_describe(f, "127.0.0.1");
	ms = zg_follow_round(f, &res);
	ok(res.outcome == ZG_FOLLOW_SOA_FAILED && res.err != 0 &&
	   strcmp(res.reason, zg_strerror(res.err)) == 0,
	   "nobody at the source: SOA query failed, the reason is the error (%s)", res.reason);
	is_int((int)ms, 7000, "then the poll interval");
	is_int((int)h.verdicts, 0, "no verdict without a transfer");
	ok(f->sh.shadow == NULL && !f->have_serial, "no shadow zone, no serial taken");
	ok(zg_follow_round(f, NULL) == 7000, "a round without a result (mod-validate) works alike");
	zg_follow_deinit(f);
	free(f);
}

int main(void)
{
	plan_lazy();
	test_config();
	test_round();
	char dir[] = "/tmp/zg-test-follow.XXXXXX";
	ok(mkdtemp(dir) != NULL, "temp dir");
	char path[256];
	snprintf(path, sizeof(path), "%s/test.mod-validate", dir);
	host_t h;

	/* No file: no verdict, nothing worse than a debug line. */
	zg_follow_t *f = restored(&h, path);
	ok(zg_follow_verdict(f, 1) == -1 && h.worst == LOG_DEBUG && strstr(h.log, "does not exist"),
	   "no state file: no verdict, logged at debug level");
	release(f);

	/* A good file. */
	int64_t now = time(NULL);
	zg_verdicts_t *s = calloc(1, sizeof(*s));
	zg_digest_key_new(s->key);
	zg_digest_t d1 = dg(1), d2 = dg(2), d4 = dg(4);
	zg_verdicts_record(s, 1, true, now - 100, now - 10, &d1);     /* Expired since. */
	zg_verdicts_record(s, 2, false, now - 90, 0, &d2);
	zg_verdicts_record(s, 3, true, now - 80, now + 3600, NULL);   /* No digest (format 1). */
	zg_verdicts_record(s, 4, true, now - 70, now + 3600, &d4);
	is_int(zg_verdicts_write(s, "test.", path), 0, "state file written");
	f = restored(&h, path);
	is_int(zg_follow_verdict(f, 4), 1, "serial 4 restored valid: the gate opens");
	zg_digest_t out;
	ok(zg_follow_digest(f, 4, true, &out) && zg_digest_equal(&out, &d4),
	   "serial 4: the digest of its content restored");
	is_int(zg_follow_verdict(f, 2), 0, "serial 2 restored failed");
	is_int(zg_follow_verdict(f, 1), 0, "serial 1: signatures expired since, restored as failed");
	ok(strstr(h.log, "serial 1, signatures expired at") && strstr(h.log, "restored as failed"),
	   "the expired verdict is logged");
	is_int(zg_follow_verdict(f, 3), -1, "serial 3: valid without a digest does not open the gate");
	ok(strstr(h.log, "1 valid verdicts restored without the digest") != NULL,
	   "the verdict without a digest is logged");
	ok(strstr(h.log, "serial 4 validated") && strstr(h.log, path), "the restore names the file and serial 4");
	is_int((int)h.last_serial, 4, "last-validated-serial restored (4)");
	ok(memcmp(f->vs.key, s->key, sizeof(s->key)) == 0, "the digest key of the file is kept");
	is_int((int)h.alarms, 0, "no alarm at restore");
	release(f);

	/* Truncated (no end line): refused whole, fail closed. */
	FILE *fp = fopen(path, "r");
	char text[4096];
	size_t len = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[len] = '\0';
	char *end = strstr(text, "end ");
	ok(end != NULL, "the file has its end line");
	fp = fopen(path, "w");
	fwrite(text, 1, (size_t)(end - text), fp);
	fclose(fp);
	f = restored(&h, path);
	ok(zg_follow_verdict(f, 4) == -1 && zg_follow_verdict(f, 2) == -1,
	   "truncated file: no verdict restored (transfers refused)");
	ok(h.worst == LOG_WARNING && strstr(h.log, path) &&
	   strstr(h.log, "end line missing (file truncated)") && strstr(h.log, "file ignored"),
	   "truncated file: one warning with the file and the reason");
	ok(memcmp(f->vs.key, s->key, sizeof(s->key)) != 0, "truncated file: its key not taken");
	release(f);

	/* Corrupt line. */
	fp = fopen(path, "w");
	fprintf(fp, "zonegate-mod-validate 2\nzone test.\nverdict 4 valid x - -\nend 1\n");
	fclose(fp);
	f = restored(&h, path);
	ok(zg_follow_verdict(f, 4) == -1, "corrupt file: no verdict restored");
	ok(strstr(h.log, " line 3: ") != NULL, "corrupt file: the warning names line 3");
	release(f);

	/* Another zone's file. */
	zg_verdicts_write(s, "other.", path);
	f = restored(&h, path);
	ok(zg_follow_verdict(f, 4) == -1 && h.worst == LOG_WARNING,
	   "another zone's file: nothing restored, a warning");
	release(f);

	free(s);
	unlink(path);
	rmdir(dir);
	return done_testing();
}
