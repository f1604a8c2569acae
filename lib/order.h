/* order: orders, their status machine, the outbox readers, and the trace.
 * Owns the orders, consumer and promotion_use tables (promotion uses are
 * counted when an order is confirmed).
 *
 * Statuses (SPEC §3 shop-order): pending -> confirmed -> fulfilling ->
 * shipped -> delivered; pending|confirmed -> cancelled; delivered ->
 * returned | partially_returned. Any other change is refused with
 * SHOP_REFUSED naming from and to. Every change writes its outbox event
 * (order.created, order.confirmed, order.fulfilling, order.shipped,
 * order.delivered, order.cancelled, order.returned,
 * order.partially_returned) in its transaction; an import writes
 * order.imported. */
#ifndef SHOP_ORDER_H
#define SHOP_ORDER_H

#include <jv.h>
#include <stdio.h>
#include "shop.h"

struct jqx;

/* Insert a new pending order, inside the caller's write transaction.
 * rec (consumed) is the frozen quote as checkout builds it: an object with
 * customer, cart_id (may be null), currency, address, payment_method,
 * lines[], promotions[], subtotal, discount, shipping, tax, total (see
 * shop-records(5) "order"). This function adds kind, id (a new ord_ id),
 * status "pending", reason null, created_at, updated_at, stores it, writes
 * order.created, and returns the complete record in *out (owned). */
int order_create(shop *s, jv rec, jv *out, shop_err *e);

/* Import the order history of another shop (SPEC §3 shop-order import):
 * the records of in (JSON lines; name for messages: "stdin", a file) in one
 * write transaction. Each record (customer, created_at, currency,
 * lines[{sku, qty, unit_price}], optional id and status, default
 * "delivered") becomes an order record (shop-records(5) "order", with
 * "imported": true) and one order.imported event; no saga, reservation or
 * stock movement. Idempotent by id: a record whose id is in the store
 * already is unchanged when it is the same order (customer, currency,
 * created_at and lines), else a data error; an id given twice in one
 * input is a data error. All or nothing unless rejects is set: then good
 * records are written and each bad line goes to rejects (shop_reject).
 * Errors name the line: "NAME:LINE: field 'X': ...". *c: the counts. */
int order_import(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c);

/* The order record, from inside a transaction or not. 66 when unknown. */
int order_get(shop *s, const char *id, jv *out, shop_err *e);

typedef struct order_filter {
	const char *status, *customer;
	const char *since;   /* RFC 3339: created at or after */
	int64_t older_ms;    /* > 0: not updated for this long (stuck orders) */
	long long limit;
	struct jqx *where;
} order_filter;

int order_show(shop *s, const char *id, shop_emit emit, void *arg);
int order_list(shop *s, const order_filter *f, shop_emit emit, void *arg);
/* pending -> confirmed, counting each applied promotion's use atomically:
 * a promotion used up by a concurrent confirm refuses this one (1). */
int order_confirm(shop *s, const char *id, shop_emit emit, void *arg);
int order_cancel(shop *s, const char *id, const char *reason, shop_emit emit, void *arg);
/* Any status change by name (the ones above, and fulfilling, shipped,
 * delivered, returned, partially_returned for the programs to come).
 * Idempotent: a change to the status the order already has is a no-op. */
int order_set_status(shop *s, const char *id, const char *to, const char *reason, shop_emit emit, void *arg);

/* Outbox events after seq (or after consumer's position when after < 0
 * and consumer is set); follow: keep polling for new ones. */
int order_events(shop *s, int64_t after, const char *consumer, int follow, shop_emit emit, void *arg);
/* The last seq consumer acknowledged (0 when none). */
int order_consumer_pos(shop *s, const char *name, int64_t *pos);
/* Store consumer's position (it never moves back). */
int order_ack(shop *s, const char *consumer, int64_t seq, shop_emit emit, void *arg);
/* One timeline of everything that happened to an order, oldest first. */
int order_trace(shop *s, const char *id, shop_emit emit, void *arg);
/* A trace record with its fixed head (kind, at, source, what), for the
 * trace sources of other modules (pay_trace). */
jv trace_rec(const char *at, const char *source, const char *what);

#endif
