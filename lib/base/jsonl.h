/* jsonl: JSON lines in and out.
 *
 * Reading: one line, one parse, one line number. A line is checked before
 * it is parsed: at most max_line bytes (default JSONL_MAX_LINE), strict
 * UTF-8. Lines holding only whitespace are skipped. A line must hold
 * exactly one JSON value. Every error names the source and the line:
 * "stdin:12: malformed JSON: ..." (SHOP_DATAERR), and reading stops there.
 *
 * Writing: records go to stdout as one compact line each; with table mode
 * they are collected and printed at jsonl_out_end as an aligned table for a
 * person (columns in order of first appearance; nested values as compact
 * JSON; cells cut at 40 columns). */
#ifndef SHOP_JSONL_H
#define SHOP_JSONL_H

#include <jv.h>
#include <stdint.h>
#include <stdio.h>
#include "json.h"
#include "util.h"

#define JSONL_MAX_LINE (1024 * 1024)

typedef struct jsonl_reader jsonl_reader;

/* name is used in messages ("stdin", a file name); borrowed. max_line 0 = default. */
jsonl_reader *jsonl_reader_new(FILE *f, const char *name, size_t max_line);
void jsonl_reader_free(jsonl_reader *r);
/* Next record into *out (owned by the caller). 1 = a record, 0 = end of
 * input, -1 = error (e set: 65 for bad data, 74 for a read error). */
int jsonl_next(jsonl_reader *r, jv *out, shop_err *e);
/* The same, as a tree (see json.h) that stays valid until the next call:
 * for readers that want no jv at all. */
int jsonl_next_tree(jsonl_reader *r, const jnode **out, shop_err *e);
/* Line number of the record last returned (1-based). */
size_t jsonl_lineno(const jsonl_reader *r);
/* The raw text of the line last read (valid until the next call). */
const char *jsonl_line(const jsonl_reader *r, size_t *len);

/* Output. */
void jsonl_out_init(int table);
/* The columns a table shows, in order (NULL-terminated; borrowed for the
 * life of the program). Unset: every top-level field but kind, in order of
 * first appearance. */
void jsonl_out_columns(const char *const *cols);
/* Print a record (consumed). */
void jsonl_out(jv rec);
/* Print a record that is already one line of compact JSON (no newline),
 * as the catalog cache stores it: no parse unless in table mode. */
void jsonl_out_raw(const char *json, size_t len);
/* Flush; in table mode print the table. Returns 0, or SHOP_IOERR when
 * stdout could not be written (a closed pipe is not an error). */
int jsonl_out_end(void);
/* 1 when the last write to stdout failed with EPIPE: stop producing. */
int jsonl_out_closed(void);
/* 1 when stdout is a pipe whose reader has gone, found without writing:
 * for a follower that waits between records (`events --follow | head`). */
int jsonl_out_gone(void);

/* Record helpers. Each reads field key of object rec (borrowed) and on a
 * wrong value records a SHOP_DATAERR in e naming the field. */
/* A string field; NULL when absent or null. Borrowed from rec. */
const char *rec_str(jv rec, const char *key, shop_err *e);
/* An integer field: a JSON number without fraction, |n| < 2^53 (a safe integer).
 * Returns 1 when present, 0 when absent/null, -1 on error. */
int rec_int(jv rec, const char *key, int64_t *out, shop_err *e);
/* A string, or null for NULL or "" (the empty columns of a row). */
jv jv_text_or_null(const char *t);
/* A member of object o (borrowed) as a new value; null when absent. */
jv rec_field(jv o, const char *key);
/* A short description of a jv's kind for messages: "a string", "an object". */
const char *jv_kind_text(jv v);

#endif
