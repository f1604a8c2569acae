/* journal: an append-only file of JSON records, one per line, each with a
 * sequence number and a checksum, each made durable (fsync) before the
 * append returns; made for shop-saga's journals but knows nothing of sagas.
 *
 * A line is the record's compact JSON with two members added by the
 * journal: "seq" first (1, 2, 3, ...) and "sum" last, the first 16 hex
 * digits of the SHA-256 of the line as it would be without ',"sum":"..."'.
 *
 * Reading: a last line that is torn (no newline, or a checksum that does
 * not match, or not JSON) is what a crash in the middle of an append
 * leaves: it is ignored, and a writer cuts it off before appending. A bad
 * line with good lines after it is corruption: refused (SHOP_DATAERR,
 * naming the file and line), never skipped.
 *
 * Writers hold an exclusive lock (fcntl) on the file for as long as the
 * journal is open, so two writers never interleave; the second gets
 * SHOP_TEMPFAIL naming the process that holds it. */
#ifndef SHOP_JOURNAL_H
#define SHOP_JOURNAL_H

#include <jv.h>
#include "util.h"

typedef struct journal journal;

/* Create path (it must not exist; mode 0600) with first (consumed) as its
 * first record, locked: the file appears only with that record in it
 * (written beside, then linked into place, and the directory fsynced). */
int journal_create(const char *path, jv first, journal **out, shop_err *e);
/* Open path for appending: lock it, read its records into *recs (an array,
 * owned; each record without seq and sum, which are checked), cut a torn
 * last line off. 66 when it does not exist, 75 when another process holds
 * it, 65 when it is corrupt. */
int journal_open(const char *path, journal **out, jv *recs, shop_err *e);
/* Read path without locking it (for looking, not writing). *torn: 1 when
 * a torn last line was ignored. */
int journal_read(const char *path, jv *recs, int *torn, shop_err *e);
/* Append rec (consumed; an object) as the next record, durable on return.
 * *seq (may be NULL) gets its number. */
int journal_append(journal *j, jv rec, int64_t *seq, shop_err *e);
void journal_close(journal *j);

/* For crash tests: when $SHOP_TEST_CRASH is "before:N" or "after:N", the
 * process kills itself with SIGKILL just before, or just after, its Nth
 * append. Read once. */

#endif
