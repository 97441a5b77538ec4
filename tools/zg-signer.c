/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * zg-signer: the role controller of a redundant signer pair. It holds or
 * watches the zone's signer lease (signer/lease.h) and runs the operator's
 * commands that make this signer active or standby; one-shot commands read,
 * take, renew and release the lease.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/alarm.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "signer/lease.h"

enum { EXIT_HELD = 1, EXIT_USAGE = 2, EXIT_STORE = 3 };

typedef struct {
	const char *db, *zone, *name, *format;
	const char *on_active, *on_standby, *alarm, *state;
	unsigned period_ms;
	int64_t token;
	unsigned timeout_s;
} options_t;

static void usage(FILE *f)
{
	fprintf(f,
	"usage: zg-signer [options] status|take|renew|release|run|switchover\n"
	"  -d, --db URI           lease store (postgresql://...; $ZG_SIGNER_DB)\n"
	"  -z, --zone ZONE        the zone\n"
	"  -n, --name NAME        this signer's name in the lease (default host name)\n"
	"  -l, --lease SEC        lease period, e.g. 30 or 2.5 (default 30)\n"
	"  -t, --token N          the token held (renew, release)\n"
	"      --on-active CMD    run: command that makes this signer active\n"
	"      --on-standby CMD   run: command that makes this signer standby\n"
	"      --alarm PATH       run: alarm, run as PATH ZONE TOKEN REASON on every takeover\n"
	"      --state FILE       run: state file (JSON) kept up to date; switchover: read\n"
	"      --timeout SEC      run: limit of the active command; switchover: wait (default 60)\n"
	"      --format FMT       status: text, json or nagios (default text)\n"
	"  -h, --help\n"
	"exit: 0 done (status: held), 1 held by another signer or fenced (status: free),\n"
	"2 usage, 3 lease store unreachable; --format nagios: 0 OK, 2 CRITICAL, 3 UNKNOWN\n");
}

static volatile sig_atomic_t g_stop, g_switch;

static void on_signal(int sig)
{
	if (sig == SIGUSR1) {
		g_switch = 1;
	} else {
		g_stop = 1;
	}
}

static void sleep_ms(int64_t ms)
{
	if (ms <= 0) {
		return;
	}
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Log lines in Knot's style, on stderr (journald). */
static void logf_(const char *zone, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const char *zone, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "zg-signer: [%s] %s\n", zone, msg);
	fflush(stderr);
}

typedef enum { ROLE_STANDBY, ROLE_ACTIVE } role_t;

typedef struct {
	const options_t *o;
	zg_lease_store_t *store;
	zg_alarm_t alarm;
	_Atomic int role;       /* role_t; the watchdog thread may change it to standby. */
	int64_t token;
	_Atomic int64_t renewed_at; /* Monotonic ms at the start of the last successful take/renew. */
	_Atomic bool watchdog_fired; /* The watchdog stepped down: the main loop records it. */
	_Atomic bool quit;
	/* The last standby command failed or was killed: the signer may still
	 * sign or consume; the main loop runs it again while standby. */
	_Atomic bool standby_undone;
	int64_t hold_off_until; /* After a switchover or failed promotion: do not take. */
	unsigned takeovers, failovers, fenced;
	time_t last_takeover;
	char previous[256];
} ctl_t;

static void write_state(ctl_t *c)
{
	if (c->o->state == NULL) {
		return;
	}
	char tmp[4096];
	FILE *f = NULL;
	if (zg_file_begin(c->o->state, 0644, tmp, sizeof(tmp), &f) != 0) {
		logf_(c->o->zone, "cannot write the state file %s", c->o->state);
		return;
	}
	int64_t age = c->role == ROLE_ACTIVE ? zg_clock_ms() - c->renewed_at : -1;
	fprintf(f, "{\"zone\": \"%s\", \"name\": \"%s\", \"pid\": %d, \"role\": \"%s\", "
	        "\"token\": %lld, \"lease_age_ms\": %lld, \"lease_ms\": %u, \"takeovers\": %u, "
	        "\"failovers\": %u, \"fenced\": %u, \"last_takeover\": %lld}\n",
	        c->o->zone, c->o->name, (int)getpid(),
	        c->role == ROLE_ACTIVE ? "active" : "standby", (long long)c->token,
	        (long long)age, c->o->period_ms, c->takeovers, c->failovers, c->fenced,
	        (long long)c->last_takeover);
	if (zg_file_commit(f, tmp, c->o->state) != 0) {
		logf_(c->o->zone, "cannot write the state file %s", c->o->state);
	}
}

/* The self-fencing deadline: the store's expiry is at least renewed_at +
 * period (the renewal started then); stop a quarter of the period earlier. */
static bool past_deadline(ctl_t *c)
{
	unsigned period = c->o->period_ms;
	return zg_clock_ms() >= atomic_load(&c->renewed_at) + period - period / 4;
}

/* Renews when due; returns false when the lease is lost or must be
 * considered lost (self-fencing deadline reached). */
static bool keep_lease(ctl_t *c)
{
	unsigned period = c->o->period_ms;
	int64_t t = zg_clock_ms();
	if (t - c->renewed_at >= period / 3) {
		char err[512] = "";
		int ret = zg_lease_renew(c->store, c->o->zone, c->o->name, c->token, period,
		                         err, sizeof(err));
		if (ret == 0) {
			c->renewed_at = t;
		} else if (ret == ZG_EFENCED) {
			logf_(c->o->zone, "lease lost (token %lld)", (long long)c->token);
			return false;
		} else {
			logf_(c->o->zone, "cannot renew the lease, retrying (%s)", err);
		}
	}
	/* Self-fencing: stop before the store can give the lease away. */
	if (past_deadline(c)) {
		logf_(c->o->zone, "lease not renewed in time, stepping down (token %lld)",
		      (long long)c->token);
		return false;
	}
	return true;
}

/* Runs CMD through /bin/sh with the role in its environment. While it runs,
 * an active signer keeps its lease (keep is true). Bounded by limit_ms: the
 * command is killed past it. Returns its exit status, or -1. */
static int run_hook(ctl_t *c, const char *cmd, const char *role, bool keep, int64_t limit_ms,
                    bool *lost)
{
	if (cmd == NULL) {
		return 0;
	}
	char tok[24];
	snprintf(tok, sizeof(tok), "%lld", (long long)c->token);
	pid_t pid = fork();
	if (pid < 0) {
		return -1;
	}
	if (pid == 0) {
		/* Its own process group: a command past its limit is killed with
		 * everything it started (a knotc, a transfer wait). */
		setpgid(0, 0);
		setenv("ZG_SIGNER_ZONE", c->o->zone, 1);
		setenv("ZG_SIGNER_NAME", c->o->name, 1);
		setenv("ZG_SIGNER_ROLE", role, 1);
		setenv("ZG_SIGNER_TOKEN", tok, 1);
		setenv("ZG_SIGNER_PREVIOUS", c->previous, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	int64_t start = zg_clock_ms();
	int status = 0;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			break;
		}
		if (keep && lost != NULL && !*lost && !keep_lease(c)) {
			*lost = true;
		}
		if (zg_clock_ms() - start > limit_ms || (lost != NULL && *lost)) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			logf_(c->o->zone, "%s command killed (%s)", role,
			      zg_clock_ms() - start > limit_ms ? "timed out" : "lease lost");
			return -1;
		}
		sleep_ms(50);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		logf_(c->o->zone, "%s command failed (exit %d)", role,
		      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	return 0;
}

/* The limit of a standby command that cannot wait longer: a quarter of the
 * period, at least 1 s. */
static int64_t standby_limit(const options_t *o)
{
	return o->period_ms / 4 > 1000 ? o->period_ms / 4 : 1000;
}

/* Runs the standby command and remembers whether it has to run again. */
static int run_standby(ctl_t *c, int64_t limit_ms)
{
	int ret = run_hook(c, c->o->on_standby, "standby", false, limit_ms, NULL);
	atomic_store(&c->standby_undone, ret != 0);
	return ret;
}

static void alarm_report(void *ctx, const char *text)
{
	logf_((const char *)ctx, "alarm %s", text);
}

/* Makes this signer standby and says so; false when the watchdog had done
 * it already (it says so itself). */
static bool step_down(ctl_t *c, const char *why, bool release)
{
	/* The standby command must finish before the lease can pass on. A
	 * signer that gives the lease up on purpose (switchover, stopping)
	 * still holds it: renewed now, the command may take until the
	 * self-fencing deadline; one that failed or was killed keeps the
	 * lease until it expires, so the other signer cannot take over while
	 * this one may still sign. */
	unsigned period = c->o->period_ms;
	int64_t limit = standby_limit(c->o);
	int expected = ROLE_ACTIVE;
	bool mine = atomic_compare_exchange_strong(&c->role, &expected, ROLE_STANDBY);
	if (mine && release) {
		char err[512] = "";
		int64_t t = zg_clock_ms();
		if (zg_lease_renew(c->store, c->o->zone, c->o->name, c->token, period, err,
		                   sizeof(err)) == 0) {
			atomic_store(&c->renewed_at, t);
		}
		int64_t left = atomic_load(&c->renewed_at) + period - period / 4 - zg_clock_ms();
		limit = left > limit ? left : limit;
	}
	if (mine && run_standby(c, limit) != 0 && release) {
		logf_(c->o->zone, "the standby command failed, keeping the lease until it expires "
		      "(token %lld)", (long long)c->token);
		release = false;
	}
	if (release) {
		char err[512] = "";
		if (zg_lease_release(c->store, c->o->zone, c->o->name, c->token, err,
		                     sizeof(err)) != 0) {
			logf_(c->o->zone, "cannot release the lease (%s)", err);
		}
	}
	if (mine) {
		logf_(c->o->zone, "role standby (token %lld, %s)", (long long)c->token, why);
		write_state(c);
	}
	return mine;
}

/* Self-fencing that does not wait for the store: the main loop may be
 * blocked in a call to a store that does not answer (a hung database, a
 * lost network). At the deadline the watchdog runs the standby command. */
static void *watchdog(void *arg)
{
	ctl_t *c = arg;
	while (!atomic_load(&c->quit)) {
		int expected = ROLE_ACTIVE;
		if (atomic_load(&c->role) == ROLE_ACTIVE && past_deadline(c) &&
		    atomic_compare_exchange_strong(&c->role, &expected, ROLE_STANDBY)) {
			logf_(c->o->zone, "lease not renewed in time, stepping down (token %lld, "
			      "the lease store does not answer)", (long long)c->token);
			run_standby(c, standby_limit(c->o));
			atomic_store(&c->watchdog_fired, true);
		}
		sleep_ms(20);
	}
	return NULL;
}

static void try_take(ctl_t *c)
{
	zg_lease_info_t before;
	char err[512] = "";
	if (zg_lease_read(c->store, c->o->zone, &before, err, sizeof(err)) != 0) {
		logf_(c->o->zone, "cannot read the lease (%s)", err);
		return;
	}
	if (before.exists && before.remaining_ms > 0 && strcmp(before.holder, c->o->name) != 0) {
		return;
	}
	int64_t start = zg_clock_ms();
	int64_t token = 0;
	int ret = zg_lease_take(c->store, c->o->zone, c->o->name, c->o->period_ms, &token,
	                        err, sizeof(err));
	if (ret == ZG_EFENCED) {
		return;
	}
	if (ret != 0) {
		logf_(c->o->zone, "cannot take the lease (%s)", err);
		return;
	}
	c->token = token;
	c->renewed_at = start;
	snprintf(c->previous, sizeof(c->previous), "%s", before.exists ? before.holder : "");
	bool failover = before.exists && strcmp(before.holder, c->o->name) != 0;
	logf_(c->o->zone, "lease taken (token %lld, previous holder %s)", (long long)token,
	      before.exists ? before.holder : "none");
	bool lost = false;
	int hret = run_hook(c, c->o->on_active, "active", true, c->o->timeout_s * 1000LL, &lost);
	if (hret != 0 || lost || !keep_lease(c)) {
		c->role = ROLE_ACTIVE;
		step_down(c, "the active command failed", !lost);
		c->hold_off_until = zg_clock_ms() + 2 * (int64_t)c->o->period_ms;
		return;
	}
	c->role = ROLE_ACTIVE;
	c->takeovers++;
	c->failovers += failover ? 1 : 0;
	c->last_takeover = time(NULL);
	logf_(c->o->zone, "role active (token %lld, previous holder %s)", (long long)token,
	      before.exists ? before.holder : "none");
	write_state(c);
	if (zg_alarm_enabled(&c->alarm)) {
		char tok[24];
		snprintf(tok, sizeof(tok), "%lld", (long long)token);
		const char *args[] = { c->o->zone, tok, failover ? "takeover" : "active" };
		zg_alarm_run(&c->alarm, args, 3, alarm_report, (void *)c->o->zone);
	}
}

static int cmd_run(const options_t *o, zg_lease_store_t *store)
{
	ctl_t c = { .o = o, .store = store, .role = ROLE_STANDBY };
	if (zg_alarm_init(&c.alarm, o->alarm, 30) != 0) {
		return EXIT_STORE;
	}
	pthread_t wd;
	if (pthread_create(&wd, NULL, watchdog, &c) != 0) {
		logf_(o->zone, "cannot start the watchdog thread");
		zg_alarm_deinit(&c.alarm);
		return EXIT_STORE;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	logf_(o->zone, "started (name %s, lease %u ms)", o->name, o->period_ms);
	/* Start as standby: whatever the signer was doing is undone first. */
	run_standby(&c, o->timeout_s * 1000LL);
	write_state(&c);
	int64_t tick = o->period_ms / 6 > 50 ? o->period_ms / 6 : 50;
	while (!g_stop) {
		if (atomic_exchange(&c.watchdog_fired, false)) {
			c.fenced++;
			c.hold_off_until = zg_clock_ms() + (int64_t)o->period_ms;
			logf_(o->zone, "role standby (token %lld, fenced)", (long long)c.token);
			write_state(&c);
		}
		if (c.role == ROLE_ACTIVE) {
			if (g_switch) {
				g_switch = 0;
				step_down(&c, "switchover", true);
				c.hold_off_until = zg_clock_ms() + 2 * (int64_t)o->period_ms;
			} else if (!keep_lease(&c)) {
				c.fenced += step_down(&c, "fenced", false) ? 1 : 0;
				c.hold_off_until = zg_clock_ms() + (int64_t)o->period_ms;
			} else {
				write_state(&c);
			}
		} else {
			if (g_switch) {
				g_switch = 0;
				logf_(o->zone, "switchover asked while standby, nothing to do");
			}
			if (atomic_load(&c.standby_undone)) {
				/* Fail closed: a standby command that did not finish is
				 * run again until it does, before any new take. */
				if (run_standby(&c, standby_limit(o)) == 0) {
					logf_(o->zone, "standby command done on a retry (token %lld)",
					      (long long)c.token);
				}
			} else if (zg_clock_ms() >= c.hold_off_until) {
				try_take(&c);
			}
		}
		zg_alarm_reap(&c.alarm, false, alarm_report, (void *)o->zone);
		sleep_ms(tick);
	}
	if (c.role == ROLE_ACTIVE) {
		step_down(&c, "stopping", true);
	}
	atomic_store(&c.quit, true);
	pthread_join(wd, NULL);
	logf_(o->zone, "stopped");
	zg_alarm_deinit(&c.alarm);
	return 0;
}

/* switchover: SIGUSR1 to the controller named in the state file, then wait
 * until another signer holds the lease. */
static int cmd_switchover(const options_t *o, zg_lease_store_t *store)
{
	if (o->state == NULL) {
		fprintf(stderr, "zg-signer: switchover needs --state FILE of the active controller\n");
		return EXIT_USAGE;
	}
	FILE *f = fopen(o->state, "r");
	char buf[2048] = "";
	size_t n = f != NULL ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f != NULL) {
		fclose(f);
	}
	buf[n] = '\0';
	const char *p = strstr(buf, "\"pid\": ");
	const char *r = strstr(buf, "\"role\": \"active\"");
	if (p == NULL) {
		fprintf(stderr, "zg-signer: cannot read the controller's pid from %s\n", o->state);
		return EXIT_USAGE;
	}
	if (r == NULL) {
		fprintf(stderr, "zg-signer: the controller of %s is not active\n", o->state);
		return EXIT_HELD;
	}
	pid_t pid = (pid_t)atoi(p + 7);
	char err[512] = "";
	zg_lease_info_t before;
	if (zg_lease_read(store, o->zone, &before, err, sizeof(err)) != 0) {
		fprintf(stderr, "zg-signer: %s\n", err);
		return EXIT_STORE;
	}
	if (pid <= 0 || kill(pid, SIGUSR1) != 0) {
		fprintf(stderr, "zg-signer: cannot signal the controller (pid %d): %s\n", (int)pid,
		        strerror(errno));
		return EXIT_USAGE;
	}
	int64_t end = zg_clock_ms() + o->timeout_s * 1000LL;
	while (zg_clock_ms() < end) {
		zg_lease_info_t now;
		if (zg_lease_read(store, o->zone, &now, err, sizeof(err)) == 0 &&
		    now.remaining_ms > 0 && now.token > before.token) {
			printf("%s %lld\n", now.holder, (long long)now.token);
			return 0;
		}
		sleep_ms(100);
	}
	fprintf(stderr, "zg-signer: no other signer took the lease within %u s\n", o->timeout_s);
	return EXIT_HELD;
}

static int cmd_status(const options_t *o, zg_lease_store_t *store)
{
	zg_lease_info_t i;
	char err[512] = "";
	bool nagios = strcmp(o->format, "nagios") == 0;
	if (zg_lease_read(store, o->zone, &i, err, sizeof(err)) != 0) {
		if (nagios) {
			printf("ZONEGATE UNKNOWN - signer lease of %s unreadable (%s)\n", o->zone, err);
		} else {
			fprintf(stderr, "zg-signer: %s\n", err);
		}
		return EXIT_STORE;
	}
	bool held = i.exists && i.remaining_ms > 0;
	if (strcmp(o->format, "json") == 0) {
		printf("{\"zone\": \"%s\", \"held\": %s, \"holder\": \"%s\", \"token\": %lld, "
		       "\"remaining_ms\": %lld}\n", o->zone, held ? "true" : "false",
		       i.exists ? i.holder : "", (long long)i.token, (long long)i.remaining_ms);
	} else if (nagios) {
		printf("ZONEGATE %s - signer lease of %s %s %s (token %lld) | remaining_ms=%lld\n",
		       held ? "OK" : "CRITICAL", o->zone, held ? "held by" : "free, last holder",
		       i.exists ? i.holder : "none", (long long)i.token,
		       (long long)i.remaining_ms);
		return held ? 0 : 2;
	} else if (i.exists) {
		printf("%s %s token %lld %s %lld ms\n", o->zone, i.holder, (long long)i.token,
		       held ? "expires in" : "expired", (long long)(held ? i.remaining_ms
		                                                         : -i.remaining_ms));
	} else {
		printf("%s no lease\n", o->zone);
	}
	return held ? 0 : EXIT_HELD;
}

static bool parse_seconds(const char *s, unsigned *ms)
{
	char *end = NULL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0.1 || v > 86400) {
		return false;
	}
	*ms = (unsigned)(v * 1000 + 0.5);
	return true;
}

int main(int argc, char **argv)
{
	options_t o = { .period_ms = 30000, .format = "text", .timeout_s = 60,
	                .db = getenv("ZG_SIGNER_DB") };
	static char host[256];
	enum { O_ACTIVE = 256, O_STANDBY, O_ALARM, O_STATE, O_TIMEOUT, O_FORMAT };
	static const struct option lopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "zone", required_argument, NULL, 'z' },
		{ "name", required_argument, NULL, 'n' },
		{ "lease", required_argument, NULL, 'l' },
		{ "token", required_argument, NULL, 't' },
		{ "on-active", required_argument, NULL, O_ACTIVE },
		{ "on-standby", required_argument, NULL, O_STANDBY },
		{ "alarm", required_argument, NULL, O_ALARM },
		{ "state", required_argument, NULL, O_STATE },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	bool have_token = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "d:z:n:l:t:h", lopts, NULL)) != -1) {
		char *end = NULL;
		switch (opt) {
		case 'd': o.db = optarg; break;
		case 'z': o.zone = optarg; break;
		case 'n': o.name = optarg; break;
		case 'l':
			if (!parse_seconds(optarg, &o.period_ms)) {
				fprintf(stderr, "zg-signer: bad --lease '%s' (0.1..86400 s)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			o.token = strtoll(optarg, &end, 10);
			if (end == optarg || *end != '\0' || o.token < 1) {
				fprintf(stderr, "zg-signer: bad --token '%s'\n", optarg);
				return EXIT_USAGE;
			}
			have_token = true;
			break;
		case O_ACTIVE: o.on_active = optarg; break;
		case O_STANDBY: o.on_standby = optarg; break;
		case O_ALARM: o.alarm = optarg; break;
		case O_STATE: o.state = optarg; break;
		case O_TIMEOUT: {
			long v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 1 || v > 86400) {
				fprintf(stderr, "zg-signer: bad --timeout '%s' (1..86400 s)\n", optarg);
				return EXIT_USAGE;
			}
			o.timeout_s = (unsigned)v;
			break;
		}
		case O_FORMAT:
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "nagios") != 0) {
				fprintf(stderr, "zg-signer: bad --format '%s' (text, json, nagios)\n",
				        optarg);
				return EXIT_USAGE;
			}
			o.format = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[optind];
	if (o.db == NULL || o.zone == NULL) {
		fprintf(stderr, "zg-signer: --db and --zone are required\n");
		return EXIT_USAGE;
	}
	if (o.name == NULL) {
		gethostname(host, sizeof(host) - 1);
		o.name = host;
	}
	if (o.name[0] == '\0' || strlen(o.name) >= 256 || strpbrk(o.name, "\"\\\n") != NULL) {
		fprintf(stderr, "zg-signer: bad --name (1..255 characters, no quotes, "
		        "backslashes or newlines)\n");
		return EXIT_USAGE;
	}
	char key[300];
	if (zg_lease_key(o.zone, key, sizeof(key)) != 0 || strpbrk(o.zone, "\"\\\n") != NULL) {
		fprintf(stderr, "zg-signer: bad --zone '%s'\n", o.zone);
		return EXIT_USAGE;
	}
	bool needs_token = strcmp(cmd, "renew") == 0 || strcmp(cmd, "release") == 0;
	if (needs_token && !have_token) {
		fprintf(stderr, "zg-signer: %s needs --token\n", cmd);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "take") != 0 && !needs_token &&
	    strcmp(cmd, "run") != 0 && strcmp(cmd, "switchover") != 0) {
		fprintf(stderr, "zg-signer: unknown command '%s'\n", cmd);
		return EXIT_USAGE;
	}
	if (o.alarm != NULL && o.alarm[0] != '/') {
		fprintf(stderr, "zg-signer: --alarm needs an absolute path\n");
		return EXIT_USAGE;
	}
	char err[512] = "";
	zg_lease_store_t *store = NULL;
	int ret = zg_lease_open(o.db, &store, err, sizeof(err));
	if (ret != 0) {
		fprintf(stderr, "zg-signer: %s\n", err[0] != '\0' ? err : zg_strerror(ret));
		return EXIT_USAGE;
	}
	int rc = 0;
	if (strcmp(cmd, "status") == 0) {
		rc = cmd_status(&o, store);
	} else if (strcmp(cmd, "run") == 0) {
		rc = cmd_run(&o, store);
	} else if (strcmp(cmd, "switchover") == 0) {
		rc = cmd_switchover(&o, store);
	} else {
		int64_t token = o.token;
		if (strcmp(cmd, "take") == 0) {
			ret = zg_lease_take(store, o.zone, o.name, o.period_ms, &token, err, sizeof(err));
		} else if (strcmp(cmd, "renew") == 0) {
			ret = zg_lease_renew(store, o.zone, o.name, token, o.period_ms, err, sizeof(err));
		} else {
			ret = zg_lease_release(store, o.zone, o.name, token, err, sizeof(err));
		}
		if (ret == 0) {
			printf("%lld\n", (long long)token);
		} else if (ret == ZG_EFENCED) {
			fprintf(stderr, "zg-signer: lease of %s held by another signer or expired\n",
			        o.zone);
			rc = EXIT_HELD;
		} else {
			fprintf(stderr, "zg-signer: %s\n", err);
			rc = EXIT_STORE;
		}
	}
	zg_lease_free(store);
	return rc;
}
