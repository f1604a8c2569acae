/* reco: recommendations (shop-reco(1)). Item-to-item, as in Amazon's
 * collaborative filtering (Linden, Smith and York 2003): a batch job
 * (reco_build) counts co-purchases in memory, turns them into damped cosine
 * similarities and keeps the best neighbours of each item in the store, so
 * that a recommendation at request time is a lookup whose cost does not
 * grow with the number of customers. Content similarity (title, brand and
 * category terms, tf-idf cosine) is built beside it.
 *
 * Owns the reco_nb, reco_pop and reco_build tables; reads orders, product
 * and stock. Every output record is of kind "recommendation" (sku, title,
 * score, reason, because) but for build's summary ("reco_build") and
 * eval's ("reco_eval"). */
#ifndef SHOP_RECO_H
#define SHOP_RECO_H

#include <stdint.h>
#include "shop.h"

typedef struct reco_build_opts {
	const char *since; /* RFC 3339: only orders created at or after; NULL: all */
	long long top;     /* neighbours kept per item (0: the default, 30) */
} reco_build_opts;

typedef struct reco_req {
	long long limit;      /* records (0: the default, 10) */
	int in_stock;         /* also-bought, similar: only products in stock */
	int64_t half_life_ms; /* for, eval: the recency weight's half-life (0: 60 days) */
} reco_req;

/* The batch job: replaces the tables whole, in one transaction, and
 * emits one "reco_build" record. */
int reco_build(shop *s, const reco_build_opts *o, shop_emit emit, void *arg);
/* The neighbours of sku (66 when the catalog has no such sku): bought
 * together, or similar by content. Archived and draft products never
 * appear; out-of-stock ones only without r->in_stock. */
int reco_also_bought(shop *s, const char *sku, const reco_req *r, shop_emit emit, void *arg);
int reco_similar(shop *s, const char *sku, const reco_req *r, shop_emit emit, void *arg);
/* For a customer (66 when no order or address names them): the
 * neighbours of what they bought, weighted by recency, without what they
 * own and without products that are not active or not in stock; popular
 * items fill the rest. */
int reco_for(shop *s, const char *customer, const reco_req *r, shop_emit emit, void *arg);
/* Hold out each customer's last order (customers with two or more), build
 * on the rest, and measure hit rate and recall at r->limit of `for`
 * against the held-out items, beside the most-popular baseline: two
 * "reco_eval" records. */
int reco_eval(shop *s, const reco_build_opts *o, const reco_req *r, shop_emit emit, void *arg);

#endif
