/* shop: the context every program and domain module shares: the config,
 * the store (opened on first use), the flags every tool takes, and the
 * error that sticks. shop_main runs a tool: it parses the command line with
 * the global flags of SPEC §2, runs the command, flushes the output and
 * reports the error, returning the exit code. */
#ifndef SHOP_SHOP_H
#define SHOP_SHOP_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/cli.h"
#include "base/http.h"
#include "base/util.h"

struct store;
struct cfg;
struct sqlite3_stmt;

/* A warehouse of the config (shop.yaml(5) warehouses). */
typedef struct warehouse {
	const char *id, *name, *region; /* borrowed from the config */
	int64_t priority;               /* lower is preferred */
} warehouse;

typedef struct shop {
	shop_err err;
	struct cfg *cfg;
	struct store *st; /* NULL until shop_store() */
	const char *db_path;
	const char *cfg_path; /* NULL: built-in defaults */
	int quiet;
	int table;
	/* Settings from the config (or the built-in defaults). */
	const char *currency;  /* default currency, e.g. "USD" */
	size_t max_line;       /* JSON-lines input limit */
	size_t max_image;      /* largest image accepted */
	long busy_timeout_ms;  /* 0: do not wait for the write lock */
	http_opts http;        /* timeouts and retries for outside services */
	warehouse *warehouses; /* by priority, then id; at least one */
	size_t nwarehouses;
	int64_t reservation_ttl_ms;
	int64_t shipping_flat, free_over; /* minor units; free_over 0: never free */
	int64_t max_qty;                  /* most units of one sku in a cart */
	const char *gateway;              /* payments.gateway: "sandbox", "stripe" */
	int64_t hold_ms;                  /* payments.hold: how long an authorization lasts */
	const char *stripe_base, *stripe_key_env;
	struct gateway *gw;               /* opened by lib/pay.c on first use */
	const char *carrier;              /* shipping.carrier: "sandbox", "http" */
	const char *carrier_service;      /* shipping.service: NULL = the cheapest */
	const char *carrier_base, *carrier_key_env;
	struct carrier *carrier_conn;     /* opened by lib/ship.c on first use */
} shop;

/* Where a domain function hands its output records: rec is consumed;
 * return nonzero to stop early. */
typedef int (*shop_emit)(void *arg, jv rec);

/* The two emits every program needs: print the record as a line of
 * output (stops when stdout is gone), and throw it away (for the records
 * of a module called for its effect, such as order_set_status's order). */
int shop_out(void *arg, jv rec);
int shop_drop(void *arg, jv rec);

/* A filter between a listing and its emit: records for which where (may
 * be NULL) is not true are dropped, and after limit records (0: none) the
 * listing stops. A runtime error of where stops it too, recorded in s->err
 * as "WHAT KEY-VALUE: message" (what and key name the record, e.g. "order"
 * and "id"). Pass shop_filter_emit as the emit and the filter as its arg. */
typedef struct shop_filter {
	shop *s;
	struct jqx *where;
	long long limit, shown;
	const char *what, *key;
	shop_emit emit;
	void *arg;
} shop_filter;
int shop_filter_emit(void *arg, jv rec);

/* The --limit N and --where JQ of a listing, once for every program:
 * *limit (0: none) and *where (compiled; NULL when not given; free it with
 * jqx_free). 0, or the usage error in s->err. */
int shop_list_args(shop *s, cli_args *a, long long *limit, struct jqx **where);

/* Report a failure of one of many ids as it happens (one line, and the
 * error cleared so the next id starts clean); returns rc. */
int shop_report(shop *s, int rc);

/* The stdin-or-operands rule of SPEC §2, once for every program: run fn
 * for each id given as operands a->argv[first..end), or, when there are
 * none (or just "-"), for the field key (else alt, when not NULL) of each
 * record on stdin, a run of records with the same id counting once (the
 * reservations of one order, say). A failure of 1 or 66 is reported and
 * the next id goes on; any other stops. Returns the first failure's code. */
int shop_each_id(shop *s, cli_args *a, int first, int end, const char *what, const char *key, const char *alt,
                 int (*fn)(shop *, const char *, void *), void *arg);

/* Read every record on stdin before any is applied (all or nothing):
 * *all gets them (owned), *lines their line numbers (heap, *n of them).
 * 0, or the reader's error in s->err. */
int shop_read_all(shop *s, jv *all, size_t **lines, size_t *n);
/* "stdin:LINE" of record i, for the label argument of batch functions;
 * arg is the lines array of shop_read_all. A static buffer. */
const char *shop_line_label(void *lines, size_t i);

/* ---- batch imports (SPEC §2: all or nothing, or --keep-going with
 * --rejects FILE), once for every program that imports ---- */

/* What an import did with the records it read; printed as its summary. */
typedef struct shop_counts {
	size_t read, created, updated, unchanged, rejected;
} shop_counts;

/* The files of an import command. */
typedef struct shop_import {
	FILE *in;                 /* the FILE operand, else stdin */
	const char *name;         /* its name in messages: the file's, or "stdin" */
	FILE *rejects;            /* --rejects FILE; NULL without --keep-going */
	const char *rejects_path;
} shop_import;

/* Open the files of an import command: its operand a->argv[0] when given
 * and not "-" (else stdin), and with --keep-going the --rejects FILE,
 * created or emptied with mode 0600 whatever the umask (rejects hold the
 * input's data). --keep-going and --rejects go together (SHOP_USAGE). A
 * missing input file is SHOP_NOTFOUND, another open error SHOP_IOERR.
 * 0, or the error in s->err with nothing left open. */
int shop_import_open(shop *s, cli_args *a, shop_import *im);

/* Finish an import command: close im's files, and when the import (its
 * result rc) succeeded, print the summary record {"kind":"import", read,
 * created, updated, unchanged, rejected}; records rejected make it fail
 * with SHOP_DATAERR naming the rejects file. Returns the exit code. */
int shop_import_close(shop *s, shop_import *im, int rc, const shop_counts *c);

/* Copy bad input line LINE (text, len bytes) of source name to the
 * rejects file f as a "reject" record {kind, source, line, error, input}. */
void shop_reject(FILE *f, const char *name, size_t line, const char *err, const char *text, size_t len);

struct jsonl_reader;
struct jnode;
/* What an import does with each record, for shop_import_run: record
 * takes rec (read on the line r is on: jsonl_line gives its text), counts
 * what it did in c, or fails with le (SHOP_DATAERR: the record's fault,
 * else the store's, which stops the import) and returns le->code; an
 * error it records in s->err stops the import too. finish runs after the
 * last record, errors or not (it frees what ctx holds; it writes only
 * when s->err is clear). */
typedef struct shop_importer {
	int (*record)(shop *s, void *ctx, const struct jnode *rec, struct jsonl_reader *r, shop_counts *c,
	              shop_err *le);
	void (*finish)(shop *s, void *ctx, shop_counts *c);
	void *ctx;
} shop_importer;

/* A batch import (SPEC §2), once for every program: the records of in
 * (named name in messages) through im in one write transaction; a bad
 * record is an error "name:LINE: ..." that rolls all back, or with
 * rejects, a line of rejects (shop_reject) and the import goes on. 0 when
 * committed, or the error in s->err; im->finish runs in every case. */
int shop_import_run(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c, const shop_importer *im);

/* The import command of a program (FILE operand or stdin, --keep-going,
 * --rejects FILE, the summary record): run(s, in, name, rejects, counts)
 * is the program's import. Returns the exit code. */
int shop_import_cmd(shop *s, cli_args *a,
                    int (*run)(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c));

/* Hand rec, a record just built, to emit, unless building it failed
 * (s->err set: rec is freed). Nonzero when the caller should stop: the
 * error's code, or emit's answer; the caller's result is s->err.code. */
int shop_emit_built(shop *s, jv rec, shop_emit emit, void *arg);

/* The rows of q (bound, not yet stepped) as an array of objects keyed by
 * the columns' names: an integer or real column is a number, NULL is
 * null, anything else a string. q is reset. A step error is recorded in
 * e as "what: ..." and the rows read so far are returned. */
jv shop_rows(shop *s, struct sqlite3_stmt *q, const char *what, shop_err *e);

/* The warehouse with this id, or NULL. */
const warehouse *shop_warehouse(const shop *s, const char *id);

/* Run a tool: t->global must be shop_global_opts. Returns the exit code. */
int shop_main(const cli_tool *t, int argc, char **argv);
extern const cli_opt shop_global_opts[];

/* The main of a program: its name, one line about it, its commands. */
#define SHOP_MAIN(name, summary, commands)                                          \
	static const cli_tool shop_tool_ = {name, summary, shop_global_opts, commands, NULL}; \
	int main(int argc, char **argv)                                                 \
	{                                                                               \
		return shop_main(&shop_tool_, argc, argv);                                  \
	}

/* The store, opened (and created or migrated) on first use; NULL with
 * s->err set. */
struct store *shop_store(shop *s);

/* Print "prog: msg" unless --quiet. */
void shop_note(shop *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The schema of shop.yaml (shop.yaml(5)), for a caller that loads a
 * config itself: the fuzz target of fuzz/cfg.c. */
struct cfg_schema;
const struct cfg_schema *shop_cfg_schema(void);

#endif
