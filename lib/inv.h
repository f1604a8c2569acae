/* inv: stock per SKU per warehouse, soft reservations with expiry, the
 * movement ledger, and the check that they agree. Owns the stock,
 * reservation and ledger tables.
 *
 * Every change of stock goes through one function that checks
 * 0 <= reserved <= on_hand, updates the row by compare-and-swap on its
 * version and writes the ledger row, all in the caller's BEGIN IMMEDIATE
 * transaction together with the outbox event. */
#ifndef SHOP_INV_H
#define SHOP_INV_H

#include <jv.h>
#include "shop.h"

struct jqx;

/* An order as reserve needs it. */
typedef struct inv_line {
	const char *sku;
	int64_t qty;
} inv_line;

typedef struct inv_order {
	const char *id;
	const char *region; /* preferred warehouse region, may be NULL */
	inv_line *lines;
	size_t nlines;
} inv_order;

/* An adjustment: delta added to on_hand. */
typedef struct inv_adjust {
	const char *sku, *warehouse, *reason, *actor;
	int64_t delta;
} inv_adjust;

/* Set on_hand of sku in warehouse to qty (refused below what is reserved).
 * Emits the stock record. */
int inv_set(shop *s, const char *sku, const char *wh, int64_t qty, const char *actor, shop_emit emit, void *arg);
/* Apply adjustments in one transaction: all or nothing. label(i) names
 * adjustment i in messages (may be NULL). Emits the stock records. */
int inv_adjust_all(shop *s, const inv_adjust *adj, size_t n, const char *(*label)(void *, size_t), void *larg,
                   shop_emit emit, void *arg);
/* Stock records of a sku (every warehouse that has a row). 66 if the sku
 * is not in the catalog. */
int inv_show(shop *s, const char *sku, shop_emit emit, void *arg);
/* Every stock row; low >= 0: only rows with available <= low. */
int inv_list(shop *s, int64_t low, const char *wh, struct jqx *where, shop_emit emit, void *arg);

/* Hold stock for every line of the order, or for none (exit 1 naming each
 * short sku). Idempotent: an order that has reservations gets them back
 * and nothing changes. Emits the reservation records. */
int inv_reserve(shop *s, const inv_order *o, shop_emit emit, void *arg);
/* Print the reservations of an order (66 when it has none). */
int inv_reservations(shop *s, const char *order, shop_emit emit, void *arg);
/* Reserve for an order of the orders table, from its lines and the region
 * of its address (as inv_reserve; 66 when there is no such order). */
int inv_reserve_order(shop *s, const char *order, shop_emit emit, void *arg);
/* Held -> released; committed -> released with its stock put back.
 * Idempotent; an order without reservations is not an error. */
int inv_release(shop *s, const char *order, shop_emit emit, void *arg);
/* Held -> committed: on_hand and reserved both go down. Refused (1) when a
 * hold has expired; 66 when the order has no reservations. Idempotent. */
int inv_commit(shop *s, const char *order, shop_emit emit, void *arg);
/* Held and past expires_at -> expired. Emits what it expired. */
int inv_expire(shop *s, shop_emit emit, void *arg);
/* The movements of a sku (wh NULL: every warehouse), oldest first. */
int inv_ledger(shop *s, const char *sku, const char *wh, shop_emit emit, void *arg);
/* Recompute on_hand from the ledger and reserved from the held
 * reservations; emit a discrepancy record for each difference. Returns 1
 * (with e set) when there is any. */
int inv_reconcile(shop *s, shop_emit emit, void *arg);

/* ---- returns (for lib/rma.c) ---- */

/* The stock an order took: its committed reservations, summed per sku and
 * warehouse, as an array (owned, in *out) of {sku, warehouse, qty} ordered
 * by sku, then warehouse. Inside the caller's transaction or not; an order
 * without any is an empty array. */
int inv_committed(shop *s, const char *order, jv *out, shop_err *e);

/* qty returned units of sku come back to warehouse wh, inside the caller's
 * write transaction: on hand goes up by qty (ledger reason "return"); when
 * damaged, it goes down by as much again (ledger reason "write-off"), so
 * that damaged units are on the books but never available. actor is the
 * order, ref the return (rma id). Writes inventory.returned (subject: the
 * sku). 66 when wh is not a warehouse of the config. */
int inv_return(shop *s, const char *sku, const char *wh, int64_t qty, int damaged, const char *actor,
               const char *ref, shop_err *e);

#endif
