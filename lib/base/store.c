/* store: see store.h. */
#include "store.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char shop_schema_sql[];

#define STMT_SLOTS 64

struct store {
	sqlite3 *db;
	char *path;
	char *data_dir;
	long busy_timeout_ms;
	struct timespec busy_start;
	unsigned rnd;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STMT_SLOTS];
};

static long elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* SQLite's default handler sleeps in growing steps and can let one writer
 * win again and again; short random sleeps give every waiter a fair chance
 * at the lock when it frees. n restarts at 0 for every new wait. */
static int busy_handler(void *arg, int n)
{
	store *s = arg;
	if (n == 0)
		clock_gettime(CLOCK_MONOTONIC, &s->busy_start);
	if (elapsed_ms(&s->busy_start) >= s->busy_timeout_ms)
		return 0;
	s->rnd = s->rnd * 1103515245u + 12345u;
	long cap = n < 4 ? 2 : n < 16 ? 8 : 20;
	long us = 200 + (long)((s->rnd >> 8) % (unsigned)(cap * 1000));
	struct timespec ts = {0, us * 1000};
	nanosleep(&ts, NULL);
	return 1;
}

int store_fail_rc(store *s, int rc, shop_err *e, const char *what)
{
	int code;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = SHOP_TEMPFAIL;
		break;
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_CANTOPEN:
	case SQLITE_READONLY:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_PERM:
		code = SHOP_IOERR;
		break;
	default:
		code = SHOP_SOFTWARE;
	}
	const char *msg = s && s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	if (code == SHOP_TEMPFAIL)
		return err_set(e, code, "%s: store busy (%s); try again", what, msg);
	return err_set(e, code, "%s: %s", what, msg);
}

int store_fail(store *s, shop_err *e, const char *what)
{
	return store_fail_rc(s, sqlite3_extended_errcode(s->db), e, what);
}

/* The embedded schema is a sequence of chunks, each introduced by a line
 * "-- migrate: N". A new store runs them all; an old one those above its
 * user_version. Returns the highest N, and the chunk for N when wanted. */
static int schema_chunk(int want, const char **start, size_t *len)
{
	const char *p = shop_schema_sql;
	int max = 0;
	const char *cur = NULL;
	int curn = 0;
	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		if (n > 12 && !strncmp(p, "-- migrate: ", 12)) {
			if (cur && curn == want) {
				*start = cur;
				*len = (size_t)(p - cur);
			}
			curn = 0;
			for (const char *d = p + 12; d < p + n && *d >= '0' && *d <= '9'; d++)
				curn = curn * 10 + (*d - '0');
			cur = p;
			if (curn > max)
				max = curn;
		}
		p += n + (eol ? 1 : 0);
	}
	if (cur && curn == want) {
		*start = cur;
		*len = (size_t)(p - cur);
	}
	return max;
}

int store_schema_version(void)
{
	const char *c;
	size_t n;
	return schema_chunk(-1, &c, &n);
}

static int user_version(store *s, int *v, shop_err *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return store_fail(s, e, "read schema version");
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_fail_rc(s, rc, e, "read schema version");
	}
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return 0;
}

static int migrate(store *s, shop_err *e)
{
	int have, want = store_schema_version();
	if (user_version(s, &have, e))
		return e->code;
	if (have == want)
		return 0;
	if (have > want)
		return err_set(e, SHOP_IOERR, "%s: store schema version %d is newer than this shop's (%d)", s->path,
		               have, want);
	if (store_begin(s, e))
		return e->code;
	/* Another process may have migrated while we waited for the lock. */
	if (user_version(s, &have, e))
		goto fail;
	for (int v = have + 1; v <= want; v++) {
		const char *chunk = NULL;
		size_t len = 0;
		schema_chunk(v, &chunk, &len);
		if (!chunk)
			continue;
		char *sql = xstrndup(chunk, len);
		char *msg = NULL;
		int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
		free(sql);
		if (rc != SQLITE_OK) {
			err_set(e, rc == SQLITE_BUSY ? SHOP_TEMPFAIL : SHOP_SOFTWARE, "%s: schema migration %d: %s",
			        s->path, v, msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
			goto fail;
		}
	}
	char pragma[48];
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", want);
	if (sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK) {
		store_fail(s, e, "set schema version");
		goto fail;
	}
	return store_commit(s, e);
fail:
	store_rollback(s);
	return e->code;
}

static int exec_pragma(store *s, const char *sql, shop_err *e)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail_rc(s, rc, e, s->path);
	return 0;
}

static void jitter_sleep(store *s)
{
	s->rnd = s->rnd * 1103515245u + 12345u;
	struct timespec ts = {0, (long)(500 + (s->rnd >> 8) % 4500) * 1000};
	nanosleep(&ts, NULL);
}

/* WAL (persistent: only a new store switches; checking first avoids a
 * lock on every open), then the schema. */
static int setup(store *s, shop_err *e)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail_rc(s, rc, e, s->path);
	rc = sqlite3_step(st);
	int is_wal = rc == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		if ((rc & 0xff) == SQLITE_NOTADB)
			return err_set(e, SHOP_IOERR, "store %s: not a shop store (not an SQLite database)", s->path);
		return store_fail_rc(s, rc, e, s->path);
	}
	if (!is_wal && exec_pragma(s, "PRAGMA journal_mode = WAL", e))
		return e->code;
	return migrate(s, e);
}

int store_open(const char *path, const store_opts *opts, store **out, shop_err *e)
{
	*out = NULL;
	/* SQLite would report a missing directory as "unable to open database
	 * file"; say what is wrong instead. */
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		if (slash == dir)
			slash[1] = 0;
		else
			*slash = 0;
		struct stat sb;
		if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			err_set(e, SHOP_IOERR, "store %s: directory %s does not exist", path, dir);
			free(dir);
			return e->code;
		}
	}
	free(dir);

	/* Create the file ourselves so that it is 0600 whatever the umask;
	 * SQLite gives its -wal and -shm files the same mode. */
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(e, SHOP_IOERR, "store %s: %s", path, strerror(errno));
	close(fd);

	store *s = xcalloc(1, sizeof *s);
	s->path = xstrdup(path);
	s->busy_timeout_ms = opts ? opts->busy_timeout_ms : 10000;
	s->data_dir = opts && opts->data_dir ? xstrdup(opts->data_dir) : xasprintf("%s.d", path);
	if (getrandom(&s->rnd, sizeof s->rnd, 0) != (ssize_t)sizeof s->rnd)
		s->rnd = (unsigned)getpid();

	int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		store_fail_rc(s, rc, e, path);
		store_close(s);
		return e->code;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, busy_handler, s);
	/* A page cache of up to 64 MiB: it only grows as a command touches
	 * pages, so a lookup pays nothing, while a bulk import stops
	 * re-reading index pages it evicted (a third of its time at 2 MiB). */
	if (exec_pragma(s, "PRAGMA foreign_keys = ON", e) || exec_pragma(s, "PRAGMA synchronous = FULL", e) ||
	    exec_pragma(s, "PRAGMA cache_size = -65536", e))
		goto fail;
	/* Several processes may meet a new store at once: switching it to WAL
	 * and migrating take locks that can answer BUSY without waiting in the
	 * busy handler, so the setup is tried again until the deadline. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (setup(s, e)) {
		if (e->code != SHOP_TEMPFAIL || elapsed_ms(&start) >= s->busy_timeout_ms)
			goto fail;
		err_clear(e);
		jitter_sleep(s);
	}
	*out = s;
	return 0;
fail:
	store_close(s);
	return e->code;
}

void store_close(store *s)
{
	if (!s)
		return;
	for (int i = 0; i < STMT_SLOTS; i++)
		sqlite3_finalize(s->stmts[i].st);
	sqlite3_close(s->db);
	free(s->path);
	free(s->data_dir);
	free(s);
}

sqlite3 *store_db(store *s)
{
	return s->db;
}

const char *store_path(store *s)
{
	return s->path;
}

int store_begin(store *s, shop_err *e)
{
	/* The busy handler waits out another writer; some BUSY results skip it
	 * (another connection recovering the WAL index), so those are tried
	 * again here, within the same deadline. */
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || elapsed_ms(&start) >= s->busy_timeout_ms)
			return store_fail_rc(s, rc, e, "begin");
		jitter_sleep(s);
	}
}

int store_commit(store *s, shop_err *e)
{
	int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_fail_rc(s, rc, e, "commit");
		store_rollback(s);
		return e->code;
	}
	return 0;
}

void store_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3_stmt *store_stmt(store *s, const char *sql, shop_err *e)
{
	size_t h = ((uintptr_t)sql >> 3) % STMT_SLOTS;
	for (size_t k = 0; k < STMT_SLOTS; k++) {
		size_t i = (h + k) % STMT_SLOTS;
		if (s->stmts[i].sql == sql) {
			sqlite3_reset(s->stmts[i].st);
			sqlite3_clear_bindings(s->stmts[i].st);
			return s->stmts[i].st;
		}
		if (!s->stmts[i].sql) {
			sqlite3_stmt *st;
			int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
			if (rc != SQLITE_OK) {
				err_set(e, SHOP_SOFTWARE, "prepare: %s: %s", sqlite3_errmsg(s->db), sql);
				return NULL;
			}
			s->stmts[i].sql = sql;
			s->stmts[i].st = st;
			return st;
		}
	}
	err_set(e, SHOP_SOFTWARE, "statement cache full");
	return NULL;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

const char *store_col_text(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

static int mkdir_0700(const char *d, shop_err *e)
{
	if (mkdir(d, 0700) == 0 || errno == EEXIST) {
		struct stat sb;
		if (stat(d, &sb) == 0 && S_ISDIR(sb.st_mode))
			return 0;
		return err_set(e, SHOP_IOERR, "%s: not a directory", d);
	}
	return err_set(e, SHOP_IOERR, "mkdir %s: %s", d, strerror(errno));
}

char *store_subdir(store *s, const char *sub, int mkdirs, shop_err *e)
{
	if (mkdirs && mkdir_0700(s->data_dir, e))
		return NULL;
	if (!sub)
		return xstrdup(s->data_dir);
	char *d = xasprintf("%s/%s", s->data_dir, sub);
	if (mkdirs && mkdir_0700(d, e)) {
		free(d);
		return NULL;
	}
	return d;
}
