/* shop: the context every program and domain module shares: the config,
 * the store (opened on first use), the flags every tool takes, and the
 * error that sticks. shop_main runs a tool: it parses the command line with
 * the global flags of SPEC §2, runs the command, flushes the output and
 * reports the error, returning the exit code. */
#ifndef SHOP_SHOP_H
#define SHOP_SHOP_H

#include <stddef.h>
#include <stdint.h>
#include "base/cli.h"
#include "base/http.h"
#include "base/util.h"

struct store;
struct cfg;

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
} shop;

/* Run a tool: t->global must be shop_global_opts. Returns the exit code. */
int shop_main(const cli_tool *t, int argc, char **argv);
extern const cli_opt shop_global_opts[];

/* The store, opened (and created or migrated) on first use; NULL with
 * s->err set. */
struct store *shop_store(shop *s);

/* Print "prog: msg" unless --quiet. */
void shop_note(shop *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
