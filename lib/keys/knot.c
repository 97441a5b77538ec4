/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE /* pipe2 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alarm.h"
#include "core/clock.h"
#include "core/error.h"
#include "keys/knot.h"

extern char **environ;

#define EXEC_MAX_OUT	(64 * 1024 * 1024)
#define MAX_ARGS	64

typedef struct {
	char *buf;
	size_t len, cap;
} sink_t;

static int sink_read(int fd, sink_t *s)
{
	if (s->cap - s->len < 4096) {
		size_t cap = s->cap ? s->cap * 2 : 8192;
		if (cap > EXEC_MAX_OUT + 1) {
			cap = EXEC_MAX_OUT + 1;
		}
		if (cap <= s->len + 1) {
			char dummy[4096]; /* Over the limit: drain and drop. */
			ssize_t r = read(fd, dummy, sizeof(dummy));
			return r < 0 ? (errno == EINTR || errno == EAGAIN ? 1 : -errno) : (int)(r > 0);
		}
		char *n = realloc(s->buf, cap);
		if (n == NULL) {
			return -ENOMEM;
		}
		s->buf = n;
		s->cap = cap;
	}
	ssize_t r = read(fd, s->buf + s->len, s->cap - s->len - 1);
	if (r < 0) {
		return (errno == EINTR || errno == EAGAIN) ? 1 : -errno;
	}
	s->len += (size_t)r;
	return r > 0;
}

/* environ plus the given NAME=VALUE strings (replacing same names); the array is malloc'd. */
static char **merged_env(const char *const env[])
{
	size_t n = 0, m = 0;
	while (environ[n] != NULL) {
		n++;
	}
	while (env != NULL && env[m] != NULL) {
		m++;
	}
	char **out = calloc(n + m + 1, sizeof(char *));
	if (out == NULL) {
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < m && !replaced; j++) {
			size_t l = strcspn(env[j], "=");
			replaced = strncmp(environ[i], env[j], l + 1) == 0;
		}
		if (!replaced) {
			out[k++] = environ[i];
		}
	}
	for (size_t j = 0; j < m; j++) {
		out[k++] = (char *)env[j];
	}
	return out;
}

int zg_exec(const char *const argv[], const char *const env[], int timeout_ms,
            zg_exec_result_t *res)
{
	memset(res, 0, sizeof(*res));
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		int r = -errno;
		close(po[0]); close(po[1]);
		return r;
	}
	char **envp = env != NULL ? merged_env(env) : environ;
	if (envp == NULL) {
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -ENOMEM;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	posix_spawnattr_t attr;
	zg_spawnattr_init(&attr);
	pid_t pid;
	int ret = strchr(argv[0], '/') != NULL ?
	          posix_spawn(&pid, argv[0], &fa, &attr, (char *const *)argv, envp) :
	          posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (envp != environ) {
		free(envp);
	}
	close(po[1]);
	close(pe[1]);
	if (ret != 0) {
		close(po[0]);
		close(pe[0]);
		return -ret;
	}
	sink_t so = { 0 }, se = { 0 };
	struct pollfd pfd[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	int open_fds = 2;
	int64_t deadline = zg_clock_ms() + (timeout_ms > 0 ? timeout_ms : 30000);
	ret = 0;
	while (open_fds > 0 && ret == 0) {
		int64_t left = deadline - zg_clock_ms();
		if (left <= 0) {
			ret = ZG_ETIMEOUT;
			break;
		}
		int pr = poll(pfd, 2, (int)(left > 1000 ? 1000 : left));
		if (pr < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		for (int i = 0; i < 2 && pr > 0; i++) {
			if (pfd[i].fd < 0 || pfd[i].revents == 0) {
				continue;
			}
			int r = sink_read(pfd[i].fd, i == 0 ? &so : &se);
			if (r < 0 && r != -ENOMEM) {
				r = 0;
			}
			if (r == -ENOMEM) {
				ret = r;
			} else if (r == 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++) {
		if (pfd[i].fd >= 0) {
			close(pfd[i].fd);
		}
	}
	int status = 0;
	if (ret != 0) {
		kill(pid, SIGKILL);
	}
	/* The pipes are closed: wait for the exit, bounded (then kill). */
	int64_t wait_until = zg_clock_ms() + 5000;
	pid_t w;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		if (zg_clock_ms() > wait_until) {
			kill(pid, SIGKILL);
			wait_until = INT64_MAX;
			(void)waitpid(pid, &status, 0);
			ret = ret != 0 ? ret : ZG_ETIMEOUT;
			break;
		}
		usleep(10000);
	}
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) :
	              (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255);
	res->out = so.buf != NULL ? so.buf : strdup("");
	res->outlen = so.len;
	res->err = se.buf != NULL ? se.buf : strdup("");
	res->errlen = se.len;
	if (so.buf != NULL) {
		so.buf[so.len] = '\0';
	}
	if (se.buf != NULL) {
		se.buf[se.len] = '\0';
	}
	if (res->out == NULL || res->err == NULL) {
		zg_exec_result_free(res);
		return -ENOMEM;
	}
	if (ret != 0) {
		zg_exec_result_free(res);
	}
	return ret;
}

void zg_exec_result_free(zg_exec_result_t *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof(*res));
}

/* The last non-empty line of a tool's output, for error messages. */
static void last_line(const char *text, char *out, size_t outlen)
{
	const char *end = text + strlen(text);
	while (end > text && isspace((unsigned char)end[-1])) {
		end--;
	}
	const char *start = end;
	while (start > text && start[-1] != '\n') {
		start--;
	}
	snprintf(out, outlen, "%.*s", (int)(end - start), start);
}

/* Runs a tool; a non-zero exit is ZG_EINPUT with its message in err. */
static int run_tool(const char *const argv[], int timeout_ms, zg_exec_result_t *res, char *err,
                    size_t errlen)
{
	err[0] = '\0';
	int ret = zg_exec(argv, NULL, timeout_ms, res);
	if (ret != 0) {
		snprintf(err, errlen, "%s %s", argv[0],
		         ret == ZG_ETIMEOUT ? "timed out" : zg_strerror(ret));
		return ret;
	}
	if (res->status != 0) {
		char msg[384];
		last_line(res->err[0] != '\0' ? res->err : res->out, msg, sizeof(msg));
		snprintf(err, errlen, "%s failed (%s)", argv[0],
		         msg[0] != '\0' ? msg : "no message");
		zg_exec_result_free(res);
		return ZG_EINPUT;
	}
	return 0;
}

/* keymgr's configuration arguments; with_dir uses -D KASP-DIR when set. */
static size_t keymgr_args(const zg_knot_t *kt, bool with_dir, const char **argv)
{
	size_t n = 0;
	argv[n++] = kt->keymgr;
	if (with_dir && kt->kasp_dir != NULL) {
		argv[n++] = "-D";
		argv[n++] = kt->kasp_dir;
	} else if (kt->conf_opt != NULL) {
		argv[n++] = kt->conf_opt;
		argv[n++] = kt->conf_arg;
	}
	return n;
}

int zg_keymgr_list(const zg_knot_t *kt, const char *zone, zg_keyset_t *ks, char *err,
                   size_t errlen)
{
	const char *argv[MAX_ARGS];
	size_t n = keymgr_args(kt, true, argv);
	argv[n++] = "-j";
	argv[n++] = zone;
	argv[n++] = "list";
	argv[n] = NULL;
	zg_exec_result_t res;
	int ret = run_tool(argv, kt->timeout_ms, &res, err, errlen);
	if (ret != 0) {
		return ret;
	}
	ret = zg_keyset_parse_json(ks, res.out, res.outlen, err, errlen);
	zg_exec_result_free(&res);
	return ret;
}

int zg_keymgr_apply(const zg_knot_t *kt, const char *zone, const zg_keys_plan_t *plan,
                    size_t key, char *err, size_t errlen)
{
	const char *argv[MAX_ARGS];
	char vals[ZG_KT_COUNT][48];
	char idarg[160];
	size_t n = keymgr_args(kt, true, argv);
	argv[n++] = zone;
	argv[n++] = "set";
	snprintf(idarg, sizeof(idarg), "id=%s", plan->keys[key].key->id);
	argv[n++] = idarg;
	size_t nv = 0;
	for (size_t i = 0; i < plan->nchanges && nv < ZG_KT_COUNT; i++) {
		const zg_keys_change_t *c = &plan->changes[i];
		if (c->key != key) {
			continue;
		}
		snprintf(vals[nv], sizeof(vals[nv]), "%s=%lld", zg_key_timer_name(c->timer),
		         (long long)c->value);
		argv[n++] = vals[nv++];
	}
	argv[n] = NULL;
	if (nv == 0) {
		return 0;
	}
	zg_exec_result_t res;
	int ret = run_tool(argv, kt->timeout_ms, &res, err, errlen);
	if (ret == 0) {
		zg_exec_result_free(&res);
	}
	return ret;
}

int zg_keymgr_pregenerate(const zg_knot_t *kt, const char *zone, int64_t period, char *err,
                          size_t errlen)
{
	const char *argv[MAX_ARGS];
	char until[32];
	size_t n = keymgr_args(kt, false, argv);
	snprintf(until, sizeof(until), "+%lld", (long long)period);
	argv[n++] = zone;
	argv[n++] = "pregenerate";
	argv[n++] = until;
	argv[n] = NULL;
	zg_exec_result_t res;
	int ret = run_tool(argv, kt->timeout_ms, &res, err, errlen);
	if (ret == 0) {
		zg_exec_result_free(&res);
	}
	return ret;
}

int zg_knotc(const zg_knot_t *kt, const char *const args[], char *err, size_t errlen)
{
	const char *argv[MAX_ARGS];
	size_t n = 0;
	argv[n++] = kt->knotc;
	if (kt->conf_opt != NULL) {
		argv[n++] = kt->conf_opt;
		argv[n++] = kt->conf_arg;
	}
	argv[n++] = "-b";
	for (size_t i = 0; args[i] != NULL && n < MAX_ARGS - 1; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	zg_exec_result_t res;
	int ret = run_tool(argv, kt->timeout_ms, &res, err, errlen);
	if (ret == 0) {
		/* knotc reports zone errors on stdout/stderr with exit 0 in some series. */
		if (strncmp(res.err, "error:", 6) == 0 || strstr(res.err, "\nerror:") != NULL) {
			char msg[384];
			last_line(res.err, msg, sizeof(msg));
			snprintf(err, errlen, "%s failed (%s)", kt->knotc, msg);
			ret = ZG_EINPUT;
		}
		zg_exec_result_free(&res);
	}
	return ret;
}

/* ---- knotc conf-export ---- */

void zg_kconf_deinit(zg_kconf_t *conf)
{
	for (size_t i = 0; i < conf->count; i++) {
		zg_kconf_item_t *it = &conf->items[i];
		free(it->section);
		free(it->id);
		free(it->item);
		for (char **v = it->values; v != NULL && *v != NULL; v++) {
			free(*v);
		}
		free(it->values);
	}
	free(conf->items);
	memset(conf, 0, sizeof(*conf));
}

/* Unquotes one exported value ("..." with \" and \\ escapes, or bare). */
static char *unquote(const char *s, size_t len)
{
	char *out = malloc(len + 1);
	if (out == NULL) {
		return NULL;
	}
	size_t k = 0;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		for (size_t i = 1; i + 1 < len; i++) {
			if (s[i] == '\\' && i + 2 < len) {
				i++;
			}
			out[k++] = s[i];
		}
	} else {
		memcpy(out, s, len);
		k = len;
	}
	out[k] = '\0';
	return out;
}

/* Splits VALUE or [ V1, V2 ] into a NULL-terminated array. */
static char **split_values(const char *v)
{
	size_t cap = 4, n = 0;
	char **out = calloc(cap, sizeof(char *));
	if (out == NULL) {
		return NULL;
	}
	size_t len = strlen(v);
	if (len >= 2 && v[0] == '[' && v[len - 1] == ']') {
		const char *p = v + 1, *end = v + len - 1;
		while (p < end) {
			while (p < end && (isspace((unsigned char)*p) || *p == ',')) {
				p++;
			}
			if (p >= end) {
				break;
			}
			const char *q = p;
			if (*q == '"') {
				q++;
				while (q < end && *q != '"') {
					q += (*q == '\\' && q + 1 < end) ? 2 : 1;
				}
				q++;
			} else {
				while (q < end && *q != ',' && !isspace((unsigned char)*q)) {
					q++;
				}
			}
			if (n + 2 > cap) {
				char **m = realloc(out, (cap *= 2) * sizeof(char *));
				if (m == NULL) {
					goto fail;
				}
				out = m;
			}
			if ((out[n++] = unquote(p, (size_t)(q - p))) == NULL) {
				goto fail;
			}
			out[n] = NULL;
			p = q;
		}
	} else if ((out[n++] = unquote(v, len)) == NULL) {
		goto fail;
	}
	return out;
fail:
	for (size_t i = 0; i < n; i++) {
		free(out[i]);
	}
	free(out);
	return NULL;
}

static int kconf_add(zg_kconf_t *conf, const char *section, const char *id, const char *item,
                     const char *value)
{
	zg_kconf_item_t *n = realloc(conf->items, (conf->count + 1) * sizeof(*n));
	if (n == NULL) {
		return -ENOMEM;
	}
	conf->items = n;
	zg_kconf_item_t *it = &conf->items[conf->count];
	memset(it, 0, sizeof(*it));
	it->section = strdup(section);
	it->id = id != NULL ? strdup(id) : NULL;
	it->item = strdup(item);
	it->values = split_values(value);
	conf->count++;
	if (it->section == NULL || (id != NULL && it->id == NULL) || it->item == NULL ||
	    it->values == NULL) {
		return -ENOMEM;
	}
	return 0;
}

int zg_kconf_parse(zg_kconf_t *conf, const char *text, char *err, size_t errlen)
{
	memset(conf, 0, sizeof(*conf));
	err[0] = '\0';
	char section[64] = "", id[512] = "";
	bool has_id = false;
	size_t lineno = 0;
	int ret = 0;
	const char *p = text;
	while (*p != '\0' && ret == 0) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char line[4096];
		lineno++;
		if (len >= sizeof(line)) {
			snprintf(err, errlen, "conf-export line %zu too long", lineno);
			ret = ZG_ESYNTAX;
			break;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (nl != NULL);
		while (len > 0 && isspace((unsigned char)line[len - 1])) {
			line[--len] = '\0';
		}
		if (len == 0 || line[0] == '#') {
			continue;
		}
		size_t ind = strspn(line, " ");
		char *s = line + ind;
		bool item_start = strncmp(s, "- ", 2) == 0;
		if (item_start) {
			s += 2;
		}
		char *colon = strstr(s, ":");
		if (colon == NULL) {
			snprintf(err, errlen, "conf-export line %zu: no ':'", lineno);
			ret = ZG_ESYNTAX;
			break;
		}
		*colon = '\0';
		char *value = colon + 1;
		while (*value == ' ') {
			value++;
		}
		if (ind == 0 && !item_start) {
			if (*value != '\0') {
				snprintf(err, errlen, "conf-export line %zu: unexpected value", lineno);
				ret = ZG_ESYNTAX;
				break;
			}
			snprintf(section, sizeof(section), "%s", s);
			has_id = false;
			continue;
		}
		if (section[0] == '\0') {
			snprintf(err, errlen, "conf-export line %zu: item outside a section", lineno);
			ret = ZG_ESYNTAX;
			break;
		}
		if (item_start) {
			char *v = unquote(value, strlen(value));
			if (v == NULL) {
				ret = -ENOMEM;
				break;
			}
			snprintf(id, sizeof(id), "%s", v);
			free(v);
			has_id = true;
		}
		ret = kconf_add(conf, section, has_id ? id : NULL, s, value);
	}
	if (ret != 0) {
		zg_kconf_deinit(conf);
	}
	return ret;
}

int zg_kconf_load(zg_kconf_t *conf, const zg_knot_t *kt, char *err, size_t errlen)
{
	memset(conf, 0, sizeof(*conf));
	char path[] = "/tmp/zg-keys-conf-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot create a temporary file (%s)", zg_strerror(r));
		return r;
	}
	close(fd);
	unlink(path); /* knotc creates it. */
	const char *argv[8];
	size_t n = 0;
	argv[n++] = kt->knotc;
	if (kt->conf_opt != NULL) {
		argv[n++] = kt->conf_opt;
		argv[n++] = kt->conf_arg;
	}
	argv[n++] = "conf-export";
	argv[n++] = path;
	argv[n] = NULL;
	zg_exec_result_t res;
	int ret = run_tool(argv, kt->timeout_ms, &res, err, errlen);
	if (ret != 0) {
		unlink(path);
		return ret;
	}
	zg_exec_result_free(&res);
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t size = 0;
	if (f != NULL) {
		ssize_t r = getdelim(&text, &size, '\0', f);
		if (r < 0) {
			free(text);
			text = NULL;
		}
		fclose(f);
	}
	unlink(path);
	if (text == NULL) {
		snprintf(err, errlen, "knotc conf-export wrote nothing readable");
		return -EIO;
	}
	ret = zg_kconf_parse(conf, text, err, errlen);
	free(text);
	return ret;
}

static bool name_eq(const char *a, const char *b)
{
	/* Zone names with or without the final dot, case-insensitive. */
	size_t la = strlen(a), lb = strlen(b);
	if (la > 1 && a[la - 1] == '.') {
		la--;
	}
	if (lb > 1 && b[lb - 1] == '.') {
		lb--;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

const char *zg_kconf_get(const zg_kconf_t *conf, const char *section, const char *id,
                         const char *item)
{
	for (size_t i = 0; i < conf->count; i++) {
		const zg_kconf_item_t *it = &conf->items[i];
		if (strcmp(it->section, section) != 0 || strcmp(it->item, item) != 0) {
			continue;
		}
		if ((id == NULL) != (it->id == NULL)) {
			continue;
		}
		if (id != NULL && !(strcmp(section, "zone") == 0 ? name_eq(id, it->id) :
		                    strcmp(id, it->id) == 0)) {
			continue;
		}
		return it->values[0];
	}
	return NULL;
}

static bool zone_exists(const zg_kconf_t *conf, const char *zone)
{
	return zg_kconf_get(conf, "zone", zone, "domain") != NULL;
}

const char *zg_kconf_zone(const zg_kconf_t *conf, const char *zone, const char *item)
{
	const char *v = zg_kconf_get(conf, "zone", zone, item);
	if (v != NULL) {
		return v;
	}
	const char *tpl = zg_kconf_get(conf, "zone", zone, "template");
	return zg_kconf_get(conf, "template", tpl != NULL ? tpl : "default", item);
}

size_t zg_kconf_signed_zones(const zg_kconf_t *conf, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < conf->count; i++) {
		const zg_kconf_item_t *it = &conf->items[i];
		if (strcmp(it->section, "zone") != 0 || strcmp(it->item, "domain") != 0) {
			continue;
		}
		const char *s = zg_kconf_zone(conf, it->id, "dnssec-signing");
		if (s != NULL && (strcmp(s, "on") == 0 || strcmp(s, "true") == 0)) {
			if (n < max) {
				out[n] = it->id;
			}
			n++;
		}
	}
	return n;
}

/* An exported time value: seconds (conf-export prints plain numbers). */
static void policy_int(const zg_kconf_t *conf, const char *id, const char *item, int64_t *out)
{
	const char *v = zg_kconf_get(conf, "policy", id, item);
	if (v != NULL && isdigit((unsigned char)v[0])) {
		*out = strtoll(v, NULL, 10);
	}
}

int zg_kconf_zone_keys(const zg_kconf_t *conf, const char *zone, bool signed_only,
                       zg_kconf_zone_keys_t *out, zg_keys_policy_t *pol, char *err,
                       size_t errlen)
{
	memset(out, 0, sizeof(*out));
	zg_keys_policy_default(pol);
	if (!zone_exists(conf, zone)) {
		snprintf(err, errlen, "zone %s is not in knotd's configuration", zone);
		return ZG_EINPUT;
	}
	const char *sign = zg_kconf_zone(conf, zone, "dnssec-signing");
	if (signed_only && (sign == NULL || (strcmp(sign, "on") != 0 && strcmp(sign, "true") != 0))) {
		snprintf(err, errlen, "zone %s is not signed by knotd (dnssec-signing off)", zone);
		return ZG_EINPUT;
	}
	const char *p = zg_kconf_zone(conf, zone, "dnssec-policy");
	snprintf(out->policy, sizeof(out->policy), "%s", p != NULL ? p : "default");
	const char *ks = zg_kconf_get(conf, "policy", out->policy, "keystore");
	snprintf(out->keystore, sizeof(out->keystore), "%s", ks != NULL ? ks : "default");

	const char *storage = zg_kconf_get(conf, "database", NULL, "storage");
	const char *kasp = zg_kconf_get(conf, "database", NULL, "kasp-db");
	if (storage == NULL) {
		storage = "/var/lib/knot";
	}
	if (kasp == NULL) {
		kasp = "keys";
	}
	if (kasp[0] == '/') {
		snprintf(out->kasp_dir, sizeof(out->kasp_dir), "%s", kasp);
	} else {
		snprintf(out->kasp_dir, sizeof(out->kasp_dir), "%s/%s", storage, kasp);
	}
	const char *backend = zg_kconf_get(conf, "keystore", out->keystore, "backend");
	const char *config = zg_kconf_get(conf, "keystore", out->keystore, "config");
	snprintf(out->backend, sizeof(out->backend), "%s", backend != NULL ? backend : "pem");
	if (config == NULL || config[0] == '\0') {
		config = "keys";
	}
	if (strcmp(out->backend, "pem") == 0 && config[0] != '/') {
		snprintf(out->config, sizeof(out->config), "%.900s/%.100s", out->kasp_dir, config);
	} else {
		snprintf(out->config, sizeof(out->config), "%s", config);
	}

	const char *manual = zg_kconf_get(conf, "policy", out->policy, "manual");
	pol->manual = manual != NULL && (strcmp(manual, "on") == 0 || strcmp(manual, "true") == 0);
	policy_int(conf, out->policy, "propagation-delay", &pol->propagation_delay);
	policy_int(conf, out->policy, "dnskey-ttl", &pol->dnskey_ttl);
	policy_int(conf, out->policy, "zone-max-ttl", &pol->zone_max_ttl);
	policy_int(conf, out->policy, "zsk-lifetime", &pol->zsk_lifetime);
	policy_int(conf, out->policy, "ksk-lifetime", &pol->ksk_lifetime);
	policy_int(conf, out->policy, "rrsig-lifetime", &pol->rrsig_lifetime);
	policy_int(conf, out->policy, "rrsig-refresh", &pol->rrsig_refresh);
	policy_int(conf, out->policy, "rrsig-pre-refresh", &pol->rrsig_pre_refresh);
	return 0;
}
