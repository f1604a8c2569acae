/* rma: returns of delivered orders (SPEC §3 shop-rma). Owns the rma and
 * rma_line tables; moves stock through inv_return, money through
 * pay_refund, and the order's status through order_set_status.
 *
 * Statuses: open -> approved | rejected; approved -> received | rejected;
 * received -> refunded | rejected; refunded | rejected -> closed. A change
 * the machine does not allow is SHOP_REFUSED naming where the RMA is. A
 * command that finds the RMA where it leads already (or past it on the
 * same road) changes nothing and succeeds, so every command may be run
 * again, as a saga's retried step is. Every change writes its event
 * (rma.opened, rma.approved, rma.rejected, rma.received, rma.refunded,
 * rma.closed) about the ORDER, in its transaction, so that shop-order
 * trace shows the returns of an order.
 *
 * Amounts are fixed when the RMA is opened, per order line, by cumulative
 * shares: of a line of N units whose subtotal, discount and tax are S, D
 * and T, the first j units are worth round(S*j/N), round(D*j/N) and
 * round(T*j/N) (money_muldiv: half away from zero); units k+1..k+m get the
 * differences, so however a line comes back, in one RMA or many, the
 * shares add up exactly to the line's figures. An RMA line refunds its
 * subtotal less its discount plus its tax (not the tax again when the
 * line's prices include it). The RMA that completes the return of the
 * whole order adds the order's shipping (as charged: after a free-shipping
 * promotion, plus shipping_tax when the order has one). */
#ifndef SHOP_RMA_H
#define SHOP_RMA_H

#include <jv.h>
#include "shop.h"

struct jqx;

/* Units of a sku to return. */
typedef struct rma_item {
	const char *sku;
	int64_t qty; /* > 0 */
} rma_item;

/* Open an RMA for items of order_id (which must be delivered or
 * partially_returned; 66 when unknown): every sku must be a line of the
 * order and its qty at most what was bought less what is returned or in a
 * live return already (else SHOP_REFUSED, naming each). Items of one sku
 * add up. An RMA still open with the same reason and the same items is
 * that RMA (idempotent). Emits the rma record. */
int rma_open(shop *s, const char *order_id, const rma_item *items, size_t n, const char *reason, shop_emit emit,
             void *arg);
/* open -> approved. */
int rma_approve(shop *s, const char *id, shop_emit emit, void *arg);
/* open | approved | received -> rejected with reason (goods received stay
 * where receive put them, and their units stay returned). Refused once a
 * refund of it was asked for and not refused. */
int rma_reject(shop *s, const char *id, const char *reason, shop_emit emit, void *arg);
/* approved -> received: condition "resellable" puts the units back on hand
 * in the warehouses they were shipped from, "damaged" writes them off
 * (both through the ledger). SHOP_USAGE for another condition. */
int rma_receive(shop *s, const char *id, const char *condition, shop_emit emit, void *arg);
/* received -> refunded: the amount through pay_refund with the RMA as its
 * key (one refund per RMA, never more than is left of the capture: else
 * SHOP_REFUSED and nothing changes), then the order partially_returned, or
 * returned once every unit of it has been refunded. Three transactions,
 * each idempotent: a rerun finishes what a failed run began. */
int rma_refund(shop *s, const char *id, shop_emit emit, void *arg);
/* refunded | rejected -> closed. */
int rma_close(shop *s, const char *id, shop_emit emit, void *arg);
/* The rma record; 66 when unknown. */
int rma_show(shop *s, const char *id, shop_emit emit, void *arg);

typedef struct rma_filter {
	const char *status, *order;
	long long limit;
	struct jqx *where;
} rma_filter;
/* RMAs, newest first. SHOP_USAGE for an unknown status. */
int rma_list(shop *s, const rma_filter *f, shop_emit emit, void *arg);

#endif
