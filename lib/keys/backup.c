/* SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE /* getdelim */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "core/file.h"
#include "keys/backup.h"
#include "keys/register.h"

#define PATH_MAX_LEN 4096

/* out = a/b; false when it does not fit. */
static bool join(char *out, size_t outlen, const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la + 1 + lb >= outlen) {
		return false;
	}
	memcpy(out, a, la);
	out[la] = '/';
	memcpy(out + la + 1, b, lb + 1);
	return true;
}

void zg_backup_manifest_deinit(zg_backup_manifest_t *m)
{
	free(m->zones);
	free(m->keys);
	free(m->files);
	memset(m, 0, sizeof(*m));
}

static void *grow(void *arr, size_t count, size_t size)
{
	/* Grows to the next power of two when count reaches one. */
	if (count == 0 || (count & (count - 1)) == 0) {
		return realloc(arr, (count ? count * 2 : 4) * size);
	}
	return arr;
}

int zg_backup_manifest_add_zone(zg_backup_manifest_t *m, const char *zone)
{
	char (*z)[256] = grow(m->zones, m->nzones, sizeof(*m->zones));
	if (z == NULL) {
		return -ENOMEM;
	}
	m->zones = z;
	snprintf(m->zones[m->nzones++], sizeof(*m->zones), "%s", zone);
	return 0;
}

int zg_backup_manifest_add_key(zg_backup_manifest_t *m, const char *zone, const zg_key_t *key)
{
	zg_backup_key_t *k = grow(m->keys, m->nkeys, sizeof(*m->keys));
	if (k == NULL) {
		return -ENOMEM;
	}
	m->keys = k;
	zg_backup_key_t *e = &m->keys[m->nkeys++];
	memset(e, 0, sizeof(*e));
	snprintf(e->zone, sizeof(e->zone), "%s", zone);
	memcpy(e->key.id, key->id, sizeof(e->key.id));
	e->key.tag = key->tag;
	e->key.algorithm = key->algorithm;
	e->key.ksk = key->ksk;
	e->key.zsk = key->zsk;
	return 0;
}

static int add_file(zg_backup_manifest_t *m, const char *path, const char *sha)
{
	zg_backup_file_t *f = grow(m->files, m->nfiles, sizeof(*m->files));
	if (f == NULL) {
		return -ENOMEM;
	}
	m->files = f;
	zg_backup_file_t *e = &m->files[m->nfiles++];
	snprintf(e->path, sizeof(e->path), "%s", path);
	snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
	return 0;
}

static bool is_hex(const char *s, size_t len)
{
	if (strlen(s) != len) {
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]) && !(s[i] >= 'a' && s[i] <= 'f')) {
			return false;
		}
	}
	return true;
}

/* A relative path inside the backup: no "..", no leading "/". */
static bool safe_rel(const char *p)
{
	if (p[0] == '\0' || p[0] == '/') {
		return false;
	}
	for (const char *s = p; s != NULL; s = strchr(s, '/')) {
		if (*s == '/') {
			s++;
		}
		if (strncmp(s, "..", 2) == 0 && (s[2] == '/' || s[2] == '\0')) {
			return false;
		}
	}
	return true;
}

static int parse_record(zg_backup_manifest_t *m, char **f, size_t nf, char *why, size_t whylen)
{
	const char *kind = f[0];
	if (strcmp(kind, "created") == 0 && nf == 2) {
		if (zg_keys_time_parse(f[1], &m->created) != 0) {
			snprintf(why, whylen, "bad time '%s'", f[1]);
			return ZG_ESYNTAX;
		}
		return 0;
	}
	if (strcmp(kind, "keystore") == 0 && nf == 4) {
		snprintf(m->keystore, sizeof(m->keystore), "%s", f[1]);
		snprintf(m->backend, sizeof(m->backend), "%s", f[2]);
		snprintf(m->config, sizeof(m->config), "%s", f[3]);
		return 0;
	}
	if (strcmp(kind, "zone") == 0 && nf == 2) {
		return zg_backup_manifest_add_zone(m, f[1]);
	}
	if (strcmp(kind, "key") == 0 && nf == 6) {
		zg_key_t k;
		memset(&k, 0, sizeof(k));
		char *end;
		unsigned long tag = strtoul(f[3], &end, 10);
		unsigned long alg = strtoul(f[4], &end, 10);
		if (strlen(f[2]) >= sizeof(k.id) || strlen(f[2]) < 2 || !is_hex(f[2], strlen(f[2])) ||
		    tag > 65535 || alg > 255) {
			snprintf(why, whylen, "bad key record for key '%s'", f[2]);
			return ZG_ESYNTAX;
		}
		snprintf(k.id, sizeof(k.id), "%s", f[2]);
		k.tag = (uint16_t)tag;
		k.algorithm = (uint8_t)alg;
		k.ksk = strcmp(f[5], "KSK") == 0 || strcmp(f[5], "CSK") == 0;
		k.zsk = strcmp(f[5], "ZSK") == 0 || strcmp(f[5], "CSK") == 0;
		if (!k.ksk && !k.zsk) {
			snprintf(why, whylen, "key role '%s' is not KSK, ZSK or CSK", f[5]);
			return ZG_ESYNTAX;
		}
		return zg_backup_manifest_add_key(m, f[1], &k);
	}
	if (strcmp(kind, "file") == 0 && nf == 3) {
		if (!is_hex(f[1], 64) || !safe_rel(f[2])) {
			snprintf(why, whylen, "bad file record for '%s'", f[2]);
			return ZG_ESYNTAX;
		}
		return add_file(m, f[2], f[1]);
	}
	snprintf(why, whylen, "unknown record '%s' with %zu fields", kind, nf);
	return ZG_ESYNTAX;
}

int zg_backup_manifest_parse(zg_backup_manifest_t *m, const char *text, size_t len, char *err,
                             size_t errlen)
{
	memset(m, 0, sizeof(*m));
	err[0] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "not a text file");
		return ZG_ESYNTAX;
	}
	char *buf = strndup(text, len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	int ret = 0;
	size_t lineno = 0;
	char *save = NULL;
	for (char *line = strtok_r(buf, "\n", &save); line != NULL && ret == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		if (lineno == 1) {
			if (strcmp(line, ZG_BACKUP_MAGIC) != 0) {
				snprintf(err, errlen, "line 1: not a zonegate key backup manifest");
				ret = ZG_ESYNTAX;
			}
			continue;
		}
		char *f[8];
		size_t nf = 0;
		for (char *p = line; nf < 8; ) {
			f[nf++] = p;
			char *tab = strchr(p, '\t');
			if (tab == NULL) {
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		char why[256] = "";
		ret = parse_record(m, f, nf, why, sizeof(why));
		if (ret == ZG_ESYNTAX) {
			snprintf(err, errlen, "line %zu: %s", lineno, why);
		}
	}
	free(buf);
	if (ret == 0 && lineno == 0) {
		snprintf(err, errlen, "empty manifest");
		ret = ZG_ESYNTAX;
	}
	if (ret == 0 && (m->created == 0 || m->nzones == 0 || m->backend[0] == '\0')) {
		snprintf(err, errlen, "incomplete manifest (no created, zone or keystore record)");
		ret = ZG_ESYNTAX;
	}
	if (ret != 0) {
		zg_backup_manifest_deinit(m);
	}
	return ret;
}

static int slurp(const char *path, char **text, size_t *len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		return -errno;
	}
	char *buf = NULL;
	size_t size = 0;
	ssize_t r = getdelim(&buf, &size, '\0', f);
	int e = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0) {
		free(buf);
		if (e != 0) {
			return e;
		}
		buf = strdup("");
		r = 0;
		if (buf == NULL) {
			return -ENOMEM;
		}
	}
	*text = buf;
	*len = (size_t)r;
	return 0;
}

int zg_backup_manifest_load(zg_backup_manifest_t *m, const char *dir, char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	char path[PATH_MAX_LEN];
	(void)join(path, sizeof(path), dir, "MANIFEST");
	char *text = NULL;
	size_t len = 0;
	int ret = slurp(path, &text, &len);
	if (ret != 0) {
		snprintf(err, errlen, "cannot read %s (%s)%s", path, zg_strerror(ret),
		         ret == -ENOENT ? ": not a complete zg-keys backup" : "");
		return ret;
	}
	char why[384];
	ret = zg_backup_manifest_parse(m, text, len, why, sizeof(why));
	free(text);
	if (ret != 0) {
		snprintf(err, errlen, "%s is corrupt, %s", path, why);
	}
	return ret;
}

/* SHA-256 of a file from byte offset skip on. */
static int sha256_file_from(const char *path, off_t skip, char out[65])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	if (skip > 0 && lseek(fd, skip, SEEK_SET) != skip) {
		int r = -errno;
		close(fd);
		return r;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		close(fd);
		return -ENOMEM;
	}
	unsigned char buf[65536];
	int ret = 0;
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0) {
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	close(fd);
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (ret == 0 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1) {
		for (unsigned i = 0; i < mdlen; i++) {
			snprintf(out + 2 * i, 3, "%02x", md[i]);
		}
	} else if (ret == 0) {
		ret = -EIO;
	}
	EVP_MD_CTX_free(ctx);
	return ret;
}

static int sha256_file(const char *path, char out[65])
{
	return sha256_file_from(path, 0, out);
}

static bool skipped(const char *name)
{
	return strcmp(name, "lock.mdb") == 0 || strcmp(name, "MANIFEST") == 0 ||
	       strncmp(name, "MANIFEST.tmp", 12) == 0;
}

/* Walks dir/rel, adding every regular file (relative path) to m. */
static int walk(zg_backup_manifest_t *m, const char *dir, const char *rel, bool hash, char *err,
                size_t errlen)
{
	char path[PATH_MAX_LEN];
	if (rel[0] == '\0') {
		snprintf(path, sizeof(path), "%s", dir);
	} else {
		(void)join(path, sizeof(path), dir, rel);
	}
	DIR *d = opendir(path);
	if (d == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot read %s (%s)", path, zg_strerror(r));
		return r;
	}
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    (rel[0] == '\0' && skipped(de->d_name)) || strcmp(de->d_name, "lock.mdb") == 0) {
			continue;
		}
		char sub[PATH_MAX_LEN], full[PATH_MAX_LEN];
		if (!(rel[0] ? join(sub, sizeof(sub), rel, de->d_name) :
		      join(sub, sizeof(sub), ".", de->d_name) && memmove(sub, sub + 2, strlen(sub) - 1)) ||
		    !join(full, sizeof(full), dir, sub)) {
			snprintf(err, errlen, "path too long under %s", dir);
			ret = -ENAMETOOLONG;
			break;
		}
		struct stat st;
		if (lstat(full, &st) != 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot stat %s (%s)", full, zg_strerror(ret));
		} else if (S_ISDIR(st.st_mode)) {
			ret = walk(m, dir, sub, hash, err, errlen);
		} else if (S_ISREG(st.st_mode)) {
			char sha[65] = "";
			if (hash && (ret = sha256_file(full, sha)) != 0) {
				snprintf(err, errlen, "cannot read %s (%s)", full, zg_strerror(ret));
			} else {
				ret = add_file(m, sub, sha);
			}
		} else {
			snprintf(err, errlen, "%s is not a regular file or directory", full);
			ret = ZG_EINPUT;
		}
	}
	closedir(d);
	return ret;
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp(((const zg_backup_file_t *)a)->path, ((const zg_backup_file_t *)b)->path);
}

int zg_backup_hash_files(zg_backup_manifest_t *m, const char *dir, char *err, size_t errlen)
{
	free(m->files);
	m->files = NULL;
	m->nfiles = 0;
	int ret = walk(m, dir, "", true, err, errlen);
	if (ret == 0 && m->nfiles > 0) {
		qsort(m->files, m->nfiles, sizeof(*m->files), file_cmp);
	}
	return ret;
}

int zg_backup_manifest_write(const zg_backup_manifest_t *m, const char *dir, char *err,
                             size_t errlen)
{
	char tmp[PATH_MAX_LEN], path[PATH_MAX_LEN];
	(void)join(path, sizeof(path), dir, "MANIFEST");
	FILE *f = NULL;
	int ret = zg_file_begin(path, 0644, tmp, sizeof(tmp), &f);
	if (ret != 0) {
		snprintf(err, errlen, "cannot create a temporary file for %s (%s)", path,
		         zg_strerror(ret));
		return ret;
	}
	char t[32];
	fprintf(f, "%s\ncreated\t%s\nkeystore\t%s\t%s\t%s\n", ZG_BACKUP_MAGIC,
	        zg_keys_time_str(m->created, t, sizeof(t)), m->keystore, m->backend, m->config);
	for (size_t i = 0; i < m->nzones; i++) {
		fprintf(f, "zone\t%s\n", m->zones[i]);
	}
	for (size_t i = 0; i < m->nkeys; i++) {
		const zg_backup_key_t *k = &m->keys[i];
		fprintf(f, "key\t%s\t%s\t%u\t%u\t%s\n", k->zone, k->key.id, (unsigned)k->key.tag,
		        (unsigned)k->key.algorithm, zg_key_role(&k->key));
	}
	for (size_t i = 0; i < m->nfiles; i++) {
		fprintf(f, "file\t%s\t%s\n", m->files[i].sha256, m->files[i].path);
	}
	ret = zg_file_commit(f, tmp, path);
	if (ret != 0) {
		snprintf(err, errlen, "cannot write %s (%s)", path, zg_strerror(ret));
	}
	return ret;
}

int zg_backup_verify_files(const zg_backup_manifest_t *m, const char *dir, char *err,
                           size_t errlen)
{
	zg_backup_manifest_t now;
	memset(&now, 0, sizeof(now));
	int ret = walk(&now, dir, "", false, err, errlen);
	if (ret != 0) {
		zg_backup_manifest_deinit(&now);
		return ret;
	}
	for (size_t i = 0; i < now.nfiles && ret == 0; i++) {
		bool listed = false;
		for (size_t j = 0; j < m->nfiles && !listed; j++) {
			listed = strcmp(now.files[i].path, m->files[j].path) == 0;
		}
		if (!listed) {
			snprintf(err, errlen, "%s: not in the manifest", now.files[i].path);
			ret = ZG_EINPUT;
		}
	}
	zg_backup_manifest_deinit(&now);
	for (size_t i = 0; i < m->nfiles && ret == 0; i++) {
		char path[PATH_MAX_LEN], sha[65];
		(void)join(path, sizeof(path), dir, m->files[i].path);
		int r = sha256_file(path, sha);
		if (r == -ENOENT) {
			snprintf(err, errlen, "%s: missing", m->files[i].path);
			ret = ZG_EINPUT;
		} else if (r != 0) {
			snprintf(err, errlen, "%s: %s", m->files[i].path, zg_strerror(r));
			ret = r;
		} else if (strcmp(sha, m->files[i].sha256) != 0) {
			snprintf(err, errlen, "%s: checksum mismatch", m->files[i].path);
			ret = ZG_EINPUT;
		}
	}
	return ret;
}

static bool zone_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 1 && a[la - 1] == '.') {
		la--;
	}
	if (lb > 1 && b[lb - 1] == '.') {
		lb--;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

const zg_backup_key_t *zg_backup_find_key(const zg_backup_manifest_t *m, const char *zone,
                                          const char *id)
{
	for (size_t i = 0; i < m->nkeys; i++) {
		if (zone_eq(m->keys[i].zone, zone) && strcasecmp(m->keys[i].key.id, id) == 0) {
			return &m->keys[i];
		}
	}
	return NULL;
}

bool zg_backup_has_zone(const zg_backup_manifest_t *m, const char *zone)
{
	for (size_t i = 0; i < m->nzones; i++) {
		if (zone_eq(m->zones[i], zone)) {
			return true;
		}
	}
	return false;
}

static int copy_file(const char *src, const char *dst, mode_t mode, char *err, size_t errlen)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot read %s (%s)", src, zg_strerror(r));
		return r;
	}
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		int r = -errno;
		close(in);
		snprintf(err, errlen, "cannot create %s (%s)", dst, zg_strerror(r));
		return r;
	}
	char buf[65536];
	int ret = 0;
	for (;;) {
		ssize_t r = read(in, buf, sizeof(buf));
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			ret = r < 0 ? -errno : 0;
			break;
		}
		for (ssize_t done = 0; done < r; ) {
			ssize_t w = write(out, buf + done, (size_t)(r - done));
			if (w < 0 && errno == EINTR) {
				continue;
			}
			if (w <= 0) {
				ret = w < 0 ? -errno : -EIO;
				break;
			}
			done += w;
		}
		if (ret != 0) {
			break;
		}
	}
	if (ret == 0 && fsync(out) != 0) {
		ret = -errno;
	}
	close(in);
	if (close(out) != 0 && ret == 0) {
		ret = -errno;
	}
	if (ret != 0) {
		snprintf(err, errlen, "cannot copy %s to %s (%s)", src, dst, zg_strerror(ret));
	}
	return ret;
}

int zg_copy_tree(const char *src, const char *dst, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(src, &st) != 0 || !S_ISDIR(st.st_mode)) {
		int r = errno != 0 ? -errno : -ENOTDIR;
		snprintf(err, errlen, "%s is not a directory", src);
		return r;
	}
	if (mkdir(dst, st.st_mode & 07777) != 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot create %s (%s)", dst, zg_strerror(r));
		return r;
	}
	DIR *d = opendir(src);
	if (d == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot read %s (%s)", src, zg_strerror(r));
		return r;
	}
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) {
			continue;
		}
		char s[PATH_MAX_LEN], t[PATH_MAX_LEN];
		(void)join(s, sizeof(s), src, de->d_name);
		(void)join(t, sizeof(t), dst, de->d_name);
		struct stat es;
		if (lstat(s, &es) != 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot stat %s (%s)", s, zg_strerror(ret));
		} else if (S_ISDIR(es.st_mode)) {
			ret = zg_copy_tree(s, t, err, errlen);
		} else if (S_ISREG(es.st_mode)) {
			ret = copy_file(s, t, es.st_mode, err, errlen);
		} else {
			snprintf(err, errlen, "%s is not a regular file or directory", s);
			ret = ZG_EINPUT;
		}
	}
	closedir(d);
	return ret;
}

int zg_softhsm_tokendir(const char *conf_path, char *out, size_t outlen, char *err,
                        size_t errlen)
{
	FILE *f = fopen(conf_path, "r");
	if (f == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot read SoftHSM configuration %s (%s)", conf_path,
		         zg_strerror(r));
		return r;
	}
	char line[4096];
	int ret = ZG_EINPUT;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *p = line + strspn(line, " \t");
		if (strncmp(p, "directories.tokendir", 20) != 0) {
			continue;
		}
		p += 20;
		p += strspn(p, " \t");
		if (*p != '=') {
			continue;
		}
		p++;
		p += strspn(p, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		size_t len = strlen(p);
		while (len > 1 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '/')) {
			p[--len] = '\0';
		}
		snprintf(out, outlen, "%s", p);
		ret = 0;
	}
	fclose(f);
	if (ret != 0) {
		snprintf(err, errlen, "SoftHSM configuration %s has no directories.tokendir", conf_path);
	}
	return ret;
}

int zg_softhsm_conf_write(const char *path, const char *tokendir, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot create %s (%s)", path, zg_strerror(r));
		return r;
	}
	fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
	        tokendir);
	if (fclose(f) != 0) {
		int r = -errno;
		snprintf(err, errlen, "cannot write %s (%s)", path, zg_strerror(r));
		return r;
	}
	return 0;
}

static bool dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		return true;
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)) != NULL) {
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	}
	closedir(d);
	return empty;
}

static void sum_add(char *summary, size_t sumlen, const char *clause)
{
	size_t used = strlen(summary);
	if (used + 2 < sumlen) {
		snprintf(summary + used, sumlen - used, "%s%s", used > 0 ? "; " : "", clause);
	}
}

/* One backed-up token directory against the live one of the same name. */
static int token_one(const char *bdir, const char *ldir, const char *name, bool apply,
                     char *summary, size_t sumlen, char *err, size_t errlen)
{
	char b[PATH_MAX_LEN], l[PATH_MAX_LEN];
	(void)join(b, sizeof(b), bdir, name);
	(void)join(l, sizeof(l), ldir, name);
	struct stat st;
	if (lstat(l, &st) != 0 || (S_ISDIR(st.st_mode) && dir_empty(l))) {
		if (apply) {
			char tmp[PATH_MAX_LEN];
			char tname[300];
			snprintf(tname, sizeof(tname), ".%.256s.zg-restore", name);
			(void)join(tmp, sizeof(tmp), ldir, tname);
			char cmd_err[512];
			if (lstat(tmp, &st) == 0) {
				snprintf(err, errlen, "%s exists (an interrupted restore?): remove it", tmp);
				return ZG_EINPUT;
			}
			int ret = zg_copy_tree(b, tmp, cmd_err, sizeof(cmd_err));
			if (ret == 0 && lstat(l, &st) == 0 && rmdir(l) != 0) {
				ret = -errno;
				snprintf(cmd_err, sizeof(cmd_err), "cannot replace the empty %.400s (%s)", l,
				         zg_strerror(ret));
			}
			if (ret == 0 && rename(tmp, l) != 0) {
				ret = -errno;
				snprintf(cmd_err, sizeof(cmd_err), "cannot rename %.200s to %.200s (%s)", tmp, l,
				         zg_strerror(ret));
			}
			if (ret != 0) {
				snprintf(err, errlen, "%s", cmd_err);
				return ret;
			}
		}
		char clause[PATH_MAX_LEN];
		snprintf(clause, sizeof(clause), "token directory %s restored", name);
		sum_add(summary, sumlen, clause);
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", l);
		return ZG_EINPUT;
	}
	/* Same token? Its token.object (label, serial, PINs, the token's wrapped key)
	 * must be identical but for SoftHSM's generation counter, the first 8 bytes,
	 * which every login and object change increments. */
	char sb[65], sl[65], p1[PATH_MAX_LEN], p2[PATH_MAX_LEN];
	(void)join(p1, sizeof(p1), b, "token.object");
	(void)join(p2, sizeof(p2), l, "token.object");
	if (sha256_file_from(p1, 8, sb) != 0 || sha256_file_from(p2, 8, sl) != 0 ||
	    strcmp(sb, sl) != 0) {
		snprintf(err, errlen, "token directory %s holds another token than the backup (it was "
		         "initialised anew): move it away, then restore", l);
		return ZG_EINPUT;
	}
	DIR *d = opendir(b);
	if (d == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot read %s (%s)", b, zg_strerror(r));
		return r;
	}
	size_t copied = 0;
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		char s[PATH_MAX_LEN], t[PATH_MAX_LEN];
		(void)join(s, sizeof(s), b, de->d_name);
		(void)join(t, sizeof(t), l, de->d_name);
		struct stat fs;
		if (lstat(s, &fs) != 0 || !S_ISREG(fs.st_mode) || lstat(t, &st) == 0) {
			continue;
		}
		if (apply) {
			ret = copy_file(s, t, fs.st_mode, err, errlen);
		}
		copied++;
	}
	closedir(d);
	if (ret == 0 && copied > 0) {
		char clause[PATH_MAX_LEN];
		snprintf(clause, sizeof(clause), "token %s: %zu missing file(s) restored", name, copied);
		sum_add(summary, sumlen, clause);
	}
	return ret;
}

int zg_token_restore(const char *backup_tokendir, const char *live_tokendir, bool apply,
                     char *summary, size_t sumlen, char *err, size_t errlen)
{
	summary[0] = '\0';
	err[0] = '\0';
	struct stat st;
	if (stat(live_tokendir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "SoftHSM token directory %s does not exist", live_tokendir);
		return ZG_EINPUT;
	}
	DIR *d = opendir(backup_tokendir);
	if (d == NULL) {
		int r = -errno;
		snprintf(err, errlen, "cannot read %s (%s)", backup_tokendir, zg_strerror(r));
		return r;
	}
	int ret = 0;
	struct dirent *de;
	while (ret == 0 && (de = readdir(d)) != NULL) {
		char s[PATH_MAX_LEN];
		(void)join(s, sizeof(s), backup_tokendir, de->d_name);
		if (de->d_name[0] == '.' || lstat(s, &st) != 0 || !S_ISDIR(st.st_mode)) {
			continue;
		}
		ret = token_one(backup_tokendir, live_tokendir, de->d_name, apply, summary, sumlen,
		                err, errlen);
	}
	closedir(d);
	if (ret == 0 && summary[0] == '\0') {
		snprintf(summary, sumlen, "keystore intact, nothing to restore");
	}
	return ret;
}
