/* search: finding products. A query's words are looked up in an FTS5
 * index of the active products (search_fts, kept by triggers through
 * search_pending: see shop.db.sql), a bounded set of candidates is scored
 * in C (BM25F over title, brand, category and body), and the best are
 * re-ranked by a linear model that `train` fits to graded judgments.
 * Typo correction against the index vocabulary, the last word as a prefix,
 * facets, suggestions from a table keyed by prefix, and the evaluation
 * (nDCG@10, MRR) live here too. See shop-search(1). */
#ifndef SHOP_SEARCH_H
#define SHOP_SEARCH_H

#include <stdint.h>
#include <stdio.h>
#include "shop.h"

struct store;

/* A query: text is any user text (words; never syntax). */
typedef struct search_req {
	const char *text;
	const char *category, *brand; /* exact, case-insensitive; NULL: any */
	int64_t price_min, price_max; /* minor units; -1: no bound */
	int in_stock;                 /* only products with units available */
	long long limit, offset;      /* limit 0: the default (10) */
	int facets;                   /* also print the two facets records */
	int explain;                  /* add each result's features */
	int log;                      /* log the query for suggest when it finds something */
	int untrained;                /* rank with the built-in weights */
} search_req;

/* Run r: product records with "score" (best first) to emit, then the facets
 * records when asked. A query of no words prints nothing. 0, or an exit
 * code with s->err set. */
int search_query(shop *s, const search_req *r, shop_emit emit, void *arg);

/* Completions of prefix, best first: records of kind suggestion. */
int search_suggest(shop *s, const char *prefix, long long limit, shop_emit emit, void *arg);

/* Rebuild search_fts and the title phrases of search_suggest from the
 * catalog; one record of kind index. */
int search_reindex(shop *s, shop_emit emit, void *arg);

/* Fit the re-ranker to the judgments in path ({query, sku, label} lines)
 * and store it; one record of kind model. */
int search_train(shop *s, const char *path, shop_emit emit, void *arg);

/* nDCG@10, MRR and the zero-result rate over the judgments in path; with
 * verbose one eval_query record per query before the eval record. */
int search_eval(shop *s, const char *path, int verbose, int untrained, shop_emit emit, void *arg);

/* Time the queries of f (one per line) in this process (suggest: as
 * prefixes); one record of kind timing. Nothing is logged. */
int search_time(shop *s, FILE *f, const char *name, int suggest, shop_emit emit, void *arg);

/* The store_before_commit hook: move what the triggers queued in
 * search_pending into search_fts, in the caller's transaction. */
int search_sync(struct store *st, void *arg, shop_err *e);
/* Count qty more units of sku as sold (popularity), inside the caller's
 * write transaction: what the orders' insert trigger does for each order,
 * done once a sku by shop-order import, whose orders the trigger skips. */
int search_sold(shop *s, const char *sku, int64_t qty, shop_err *e);

#endif
