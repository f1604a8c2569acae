/* store: see store.h. */
#include "store.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern const char shop_schema_sql[];

#define STMT_SLOTS 64
#define WAIT_SLOTS 64
/* How long a writer keeps the lock across transactions while others wait. */
#define TURN_MS 20

/* The writers' board, shared by every process of a store through a small
 * mapped file beside it (PATH-writers): who waits for the write lock, and
 * how many times a waiter got it. SQLite's lock is not fair: a process that
 * commits and begins again at once keeps winning over waiters asleep in
 * their busy handlers. So a writer that sees waiters on the board lets one
 * of them in first (a grant), for a few milliseconds at most. Slots carry a
 * pid and a time seen, so a waiter killed mid-wait stops counting after a
 * moment: the board heals itself. */
typedef struct board {
	uint32_t grants;   /* a waiter got the lock: a yielding writer wakes */
	uint32_t released; /* a writer committed: waiters wake */
	struct {
		int32_t pid;
		uint32_t seen_ms;
	} slot[WAIT_SLOTS];
} board;

struct store {
	sqlite3 *db;
	char *path;
	char *data_dir;
	board *board;  /* NULL until the first write, or when it cannot be mapped */
	int board_tried;
	int slot;      /* our slot on the board while waiting, else -1 */
	uint32_t turn_ms; /* when our current run of write transactions began */
	int in_begin;
	store_hook before_commit;
	void *before_commit_arg;
	long busy_timeout_ms;
	struct timespec busy_start;
	unsigned rnd;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} stmts[STMT_SLOTS];
};

static uint32_t mono_ms(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint32_t)((uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000);
}

static void board_map(store *s)
{
	s->board_tried = 1;
	char *path = xasprintf("%s-writers", s->path);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return;
	struct stat sb;
	if (fstat(fd, &sb) == 0 && (sb.st_size >= (off_t)sizeof(board) || ftruncate(fd, sizeof(board)) == 0)) {
		void *m = mmap(NULL, sizeof(board), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED)
			s->board = m;
	}
	close(fd);
}

/* Waiters other than us seen in the last 20 ms. */
/* Process-shared futexes on the mapped board: a waiter sleeps until the
 * lock is released, not for a guessed time, so handing the lock over costs
 * microseconds. Linux only, like the rest of the board. */
static void futex_wait(uint32_t *word, uint32_t val, long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int board_waiters(store *s)
{
	uint32_t now = mono_ms();
	int n = 0;
	for (int i = 0; i < WAIT_SLOTS; i++) {
		int32_t pid = __atomic_load_n(&s->board->slot[i].pid, __ATOMIC_ACQUIRE);
		uint32_t seen = __atomic_load_n(&s->board->slot[i].seen_ms, __ATOMIC_RELAXED);
		if (pid && pid != getpid() && now - seen < 20)
			n++;
	}
	return n;
}

/* Called from the busy handler: take a slot (a free one, or one whose
 * waiter has not been seen for a second), or refresh ours. */
static void board_wait(store *s)
{
	uint32_t now = mono_ms();
	if (s->slot >= 0) {
		__atomic_store_n(&s->board->slot[s->slot].seen_ms, now, __ATOMIC_RELAXED);
		return;
	}
	for (int i = 0; i < WAIT_SLOTS; i++) {
		int32_t pid = __atomic_load_n(&s->board->slot[i].pid, __ATOMIC_ACQUIRE);
		uint32_t seen = __atomic_load_n(&s->board->slot[i].seen_ms, __ATOMIC_RELAXED);
		if ((pid == 0 || now - seen > 1000) &&
		    __atomic_compare_exchange_n(&s->board->slot[i].pid, &pid, (int32_t)getpid(), 0, __ATOMIC_ACQ_REL,
		                                __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&s->board->slot[i].seen_ms, now, __ATOMIC_RELAXED);
			s->slot = i;
			return;
		}
	}
}

static void board_done(store *s, int got_lock)
{
	if (s->slot < 0)
		return;
	__atomic_store_n(&s->board->slot[s->slot].pid, 0, __ATOMIC_RELEASE);
	s->slot = -1;
	if (got_lock) {
		__atomic_add_fetch(&s->board->grants, 1, __ATOMIC_ACQ_REL);
		futex_wake(&s->board->grants);
	}
}

/* After a write transaction ends: wake the waiters, if any, when our turn
 * is over (the next begin steps aside) or we are done (force). Waking them
 * at every commit would only have them fight over a lock we take again. */
static void board_released(store *s, int force)
{
	if (!s->board || (!force && mono_ms() - s->turn_ms < TURN_MS) || !board_waiters(s))
		return;
	__atomic_add_fetch(&s->board->released, 1, __ATOMIC_ACQ_REL);
	futex_wake(&s->board->released);
}

/* Before taking the lock: when others wait and our turn has lasted
 * TURN_MS, let one of them in first. Handing over at every transaction
 * would be fairer still but slow: SQLite drops a connection's whole page
 * cache when another one wrote since, so every handover starts cold; turns
 * of several transactions keep the caches warm and the shares even. */
static void board_yield(store *s)
{
	if (mono_ms() - s->turn_ms < TURN_MS || !board_waiters(s))
		return;
	uint32_t g0 = __atomic_load_n(&s->board->grants, __ATOMIC_ACQUIRE);
	uint32_t start = mono_ms();
	while (mono_ms() - start < 5 && __atomic_load_n(&s->board->grants, __ATOMIC_ACQUIRE) == g0 &&
	       board_waiters(s))
		futex_wait(&s->board->grants, g0, 1000);
}

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
	long us = 100 + (long)((s->rnd >> 8) % 1900u);
	if (s->in_begin && s->board) {
		/* On the board: sleep until a writer releases the lock (or a
		 * short while, in case it died holding it). */
		board_wait(s);
		uint32_t v = __atomic_load_n(&s->board->released, __ATOMIC_ACQUIRE);
		futex_wait(&s->board->released, v, us);
		return 1;
	}
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
	s->slot = -1;
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
	/* 8 KiB pages for a new store (the pragma does nothing to an existing
	 * one): a product or order document of a kilobyte or two then fits in
	 * its b-tree cell, where 4 KiB pages spill every row over about 1000
	 * bytes into an overflow page of its own. */
	if (exec_pragma(s, "PRAGMA page_size = 8192", e) || exec_pragma(s, "PRAGMA foreign_keys = ON", e) ||
	    exec_pragma(s, "PRAGMA synchronous = FULL", e) ||
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
	if (s->board) {
		board_released(s, 1);
		munmap(s->board, sizeof(board));
	}
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
	if (!s->board_tried)
		board_map(s);
	if (s->board)
		board_yield(s);
	for (;;) {
		s->in_begin = 1;
		int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		s->in_begin = 0;
		if (s->board) {
			/* A new turn starts when we had to wait or stepped aside. */
			if (rc == SQLITE_OK && (s->slot >= 0 || mono_ms() - s->turn_ms >= TURN_MS))
				s->turn_ms = mono_ms();
			board_done(s, rc == SQLITE_OK);
		}
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY || elapsed_ms(&start) >= s->busy_timeout_ms)
			return store_fail_rc(s, rc, e, "begin");
		jitter_sleep(s);
	}
}

void *store_rows(store *s, sqlite3_stmt *q, size_t size, void (*read)(sqlite3_stmt *, void *), size_t *n,
                 shop_err *e, const char *what)
{
	char *rows = NULL;
	size_t cap = 0;
	int step;
	*n = 0;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == cap)
			rows = xrealloc(rows, (cap = cap ? cap * 2 : 16) * size);
		read(q, rows + (*n)++ * size);
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		store_fail_rc(s, step, e, what);
	return rows;
}

int store_row(store *s, sqlite3_stmt *q, void (*read)(sqlite3_stmt *, void *), void *row, shop_err *e,
              const char *what)
{
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		read(q, row);
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_fail_rc(s, step, e, what);
		return -1;
	}
	return step == SQLITE_ROW;
}

int store_read(store *s, shop_err *e)
{
	int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : store_fail_rc(s, rc, e, "begin");
}

void store_read_end(store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
}

void store_before_commit(store *s, store_hook fn, void *arg)
{
	s->before_commit = fn;
	s->before_commit_arg = arg;
}

int store_commit(store *s, shop_err *e)
{
	if (s->before_commit && s->before_commit(s, s->before_commit_arg, e)) {
		store_rollback(s);
		return e->code;
	}
	int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		store_fail_rc(s, rc, e, "commit");
		store_rollback(s);
		return e->code;
	}
	board_released(s, 0);
	return 0;
}

void store_rollback(store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		board_released(s, 0);
	}
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

int store_done(store *s, sqlite3_stmt *st, shop_err *e, const char *what)
{
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	return step == SQLITE_DONE ? 0 : store_fail_rc(s, step, e, what);
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
