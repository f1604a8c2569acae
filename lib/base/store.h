/* store: the one SQLite file of a shop. Opens or creates it (mode 0600),
 * applies the embedded schema (shop.db.sql) as numbered migrations under
 * PRAGMA user_version, sets WAL, synchronous=FULL and foreign keys, and
 * installs our own busy handler: short jittered sleeps until a deadline, so
 * that one writer cannot starve another the way SQLite's default handler
 * lets it. Every write transaction is BEGIN IMMEDIATE: a read that later
 * writes would fail with SQLITE_BUSY_SNAPSHOT instead of waiting.
 *
 * This module knows nothing of products or orders: the domain modules own
 * their SQL and use the statement helpers here. */
#ifndef SHOP_STORE_H
#define SHOP_STORE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdint.h>
#include "util.h"

typedef struct store store;

typedef struct store_opts {
	long busy_timeout_ms; /* how long to wait for the write lock (0: not at all) */
	const char *data_dir; /* where files beside the store live; default "PATH.d" */
} store_opts;

/* Open path (opts NULL: wait 10 s for the lock, data dir "PATH.d"), creating it with mode 0600 when missing. Errors: SHOP_IOERR
 * (74) when the directory does not exist, the file cannot be opened or is
 * not a shop store, or its schema is newer than this build; SHOP_TEMPFAIL
 * (75) when a migration cannot get the write lock. */
int store_open(const char *path, const store_opts *opts, store **out, shop_err *e);
void store_close(store *s);
sqlite3 *store_db(store *s);
const char *store_path(store *s);

/* BEGIN IMMEDIATE (waits through the busy handler), COMMIT, ROLLBACK.
 * begin/commit return 0 or an exit code with e set. rollback is silent and
 * safe to call when no transaction is open. */
int store_begin(store *s, shop_err *e);
int store_commit(store *s, shop_err *e);
void store_rollback(store *s);

/* A read transaction (BEGIN, deferred): one snapshot for several
 * statements, and one lock instead of one per statement. 0, or the error
 * in e. store_read_end ends it (safe when none is open). */
int store_read(store *s, shop_err *e);
void store_read_end(store *s);

/* A function that store_commit runs inside the transaction just before
 * COMMIT (one per store; NULL removes it): a failure (nonzero, e set)
 * rolls the transaction back and store_commit returns it. Lets a module
 * finish work its triggers queued (lib/search.c) in the writer's own
 * transaction, whoever the writer is. */
typedef int (*store_hook)(store *s, void *arg, shop_err *e);
void store_before_commit(store *s, store_hook fn, void *arg);

/* A prepared statement cached for the life of the store, keyed by the SQL
 * text's address (pass string literals). Reset and with bindings cleared on
 * return. NULL with e set on a prepare error (a bug: SHOP_SOFTWARE). */
sqlite3_stmt *store_stmt(store *s, const char *sql, shop_err *e);

/* Map the last SQLite error of s to an exit code and record it in e as
 * "what: sqlite message". BUSY/LOCKED -> 75; IOERR, FULL, CANTOPEN,
 * READONLY, CORRUPT, NOTADB -> 74; anything else -> 70. Returns the code. */
int store_fail(store *s, shop_err *e, const char *what);
/* The same for an explicit SQLite result code rc. */
int store_fail_rc(store *s, int rc, shop_err *e, const char *what);

/* Run a statement that returns no rows (INSERT, UPDATE) to completion and
 * reset it; 0, or the mapped error recorded in e as "what: ...". */
int store_done(store *s, sqlite3_stmt *st, shop_err *e, const char *what);

/* Step q (bound, not yet stepped) to its end, reading each row with
 * read(q, row) into an array of size-byte rows: heap, *n of them (NULL
 * when none). q is reset. A step error is recorded in e as "what: ..."
 * and the rows read so far are returned. */
void *store_rows(store *s, sqlite3_stmt *q, size_t size, void (*read)(sqlite3_stmt *, void *), size_t *n,
                 shop_err *e, const char *what);
/* Step q (bound) once and reset it: 1 with the row read into row, 0 when
 * there is none, -1 with the error recorded in e as "what: ...". */
int store_row(store *s, sqlite3_stmt *q, void (*read)(sqlite3_stmt *, void *), void *row, shop_err *e,
              const char *what);

/* Bind helpers: text NULL binds SQL NULL. Copies the text (SQLITE_TRANSIENT). */
void store_bind_text(sqlite3_stmt *st, int i, const char *v);
/* Column text as a C string, "" for NULL. Borrowed until the next step. */
const char *store_col_text(sqlite3_stmt *st, int i);
/* Column i of a row into the char array dst (cut to fit, "" for NULL). */
#define STORE_COPY(dst, st, i) snprintf((dst), sizeof(dst), "%s", store_col_text((st), (i)))

/* The directory for files that belong to this store (images, journals,
 * maildir): opts->data_dir or "PATH.d". sub (may be NULL) is created with
 * mode 0700 (and the data dir itself) when mkdirs is 1. Returns a heap
 * string, or NULL with e set (74). */
char *store_subdir(store *s, const char *sub, int mkdirs, shop_err *e);

/* The schema version this build writes (the highest "-- migrate: N"). */
int store_schema_version(void);

#endif
