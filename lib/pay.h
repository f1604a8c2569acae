/* pay: payments, one per order, through the gateway of the config
 * (drivers/gateway.h). Owns the payment and refund tables.
 *
 * States: authorized -> captured | voided; captured -> partially_refunded
 * -> refunded; failed (declined, or the gateway never acted on the first
 * authorization); unknown (a call whose outcome is not known).
 *
 * Never twice: every gateway call carries an idempotency key made from the
 * order and the operation ("shop:ORDER:capture:AMOUNT", ...), and is
 * written ahead into the payment row (status unknown, pending = the call)
 * in a transaction of its own before it is sent. A payment left unknown
 * (a timeout, a dropped connection, a crash) is settled by the next call
 * on it, which first repeats the pending call with the same key, or by
 * reconcile; it is never taken as failed. Every settled change writes its
 * event (payment.authorized, .captured, .voided, .refunded, .failed,
 * .refused, .unknown) about the order in the same transaction.
 *
 * Amounts (amount strings below): minor units ("500") or a decimal in the
 * payment's currency ("5.00"). */
#ifndef SHOP_PAY_H
#define SHOP_PAY_H

#include <jv.h>
#include <stdio.h>
#include "shop.h"

struct jqx;

/* Hold the order's total (method NULL: the order's payment_method). */
int pay_authorize(shop *s, const char *order_id, const char *method, shop_emit emit, void *arg);
/* Take amount (NULL: all that is held); the rest of the hold is released. */
int pay_capture(shop *s, const char *order_id, const char *amount, shop_emit emit, void *arg);
int pay_void(shop *s, const char *order_id, shop_emit emit, void *arg);
/* Give back amount of what was captured; rma (may be NULL) makes the
 * refund idempotent per return. */
int pay_refund(shop *s, const char *order_id, const char *amount, const char *rma, shop_emit emit, void *arg);
int pay_show(shop *s, const char *order_id, shop_emit emit, void *arg);

typedef struct pay_filter {
	const char *status;
	int64_t expiring_ms; /* > 0: authorizations lapsing within this long */
	long long limit;
	struct jqx *where;
} pay_filter;
int pay_list(shop *s, const pay_filter *f, shop_emit emit, void *arg);

/* The sandbox gateway's settlement report (one UTC day, or all). */
int pay_settlement(shop *s, const char *date, shop_emit emit, void *arg);
/* Match a settlement report (the sandbox's JSON lines, or a CSV of
 * Stripe's itemized balance report) against the payments of the period it
 * covers (date: that day instead); unknown payments the report settles are
 * settled. Emits a discrepancy record for each payment missing on either
 * side or differing in currency, amount or state, and returns SHOP_REFUSED
 * when there is any. name is used in messages ("FILE:LINE: ..."). */
int pay_reconcile(shop *s, FILE *report, const char *name, const char *date, shop_emit emit, void *arg);

/* The trace source for shop-order trace: a payment whose outcome is not
 * known yet (the events tell the rest). */
int pay_trace(shop *s, const char *source, const char *order_id, jv *recs);

#endif
