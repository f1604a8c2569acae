/* pay: see pay.h. */
#include "pay.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "drivers/gateway.h"
#include "order.h"
#include "outbox.h"

/* ---- the payment row ---- */

typedef struct pay_row {
	int exists;
	char id[ID_MAX], order_id[ID_MAX], gateway[16], method[128], currency[8], status[24];
	char ref[128], pending[16], pending_key[256], reason[512];
	char authorized_at[32], expires_at[32], captured_at[32], voided_at[32], created_at[32], updated_at[32];
	int64_t amount, captured, refunded, attempt, pending_amount;
} pay_row;

static const char row_sql[] =
	"SELECT id, order_id, gateway, method, currency, status, gateway_ref, pending, pending_key, reason, "
	"authorized_at, expires_at, captured_at, voided_at, created_at, updated_at, amount, captured, refunded, "
	"attempt, pending_amount FROM payment ";

static void row_read(sqlite3_stmt *q, void *row)
{
	pay_row *r = row;
	r->exists = 1;
	STORE_COPY(r->id, q, 0);
	STORE_COPY(r->order_id, q, 1);
	STORE_COPY(r->gateway, q, 2);
	STORE_COPY(r->method, q, 3);
	STORE_COPY(r->currency, q, 4);
	STORE_COPY(r->status, q, 5);
	STORE_COPY(r->ref, q, 6);
	STORE_COPY(r->pending, q, 7);
	STORE_COPY(r->pending_key, q, 8);
	STORE_COPY(r->reason, q, 9);
	STORE_COPY(r->authorized_at, q, 10);
	STORE_COPY(r->expires_at, q, 11);
	STORE_COPY(r->captured_at, q, 12);
	STORE_COPY(r->voided_at, q, 13);
	STORE_COPY(r->created_at, q, 14);
	STORE_COPY(r->updated_at, q, 15);
	r->amount = sqlite3_column_int64(q, 16);
	r->captured = sqlite3_column_int64(q, 17);
	r->refunded = sqlite3_column_int64(q, 18);
	r->attempt = sqlite3_column_int64(q, 19);
	r->pending_amount = sqlite3_column_int64(q, 20);
}

/* Every row a query on payment gives (heap, *n of them); read whole before
 * anything else runs on the connection. A failure is recorded in s->err. */
static pay_row *rows_all(shop *s, sqlite3_stmt *q, size_t *n)
{
	return store_rows(s->st, q, sizeof(pay_row), row_read, n, &s->err, "payment");
}

/* The payment of an order; r->exists 0 when it has none. */
static int row_load(shop *s, const char *order_id, pay_row *r, shop_err *e)
{
	static char sql[sizeof row_sql + 32];
	if (!sql[0])
		snprintf(sql, sizeof sql, "%sWHERE order_id = ?1", row_sql);
	memset(r, 0, sizeof *r);
	sqlite3_stmt *q = store_stmt(s->st, sql, e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, order_id);
	return store_row(s->st, q, row_read, r, e, "payment") < 0 ? e->code : 0;
}

static jv refunds_of(shop *s, const char *payment_id, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT id, amount, NULLIF(rma_id, '') AS rma_id, status, "
	                             "NULLIF(gateway_ref, '') AS gateway_ref, NULLIF(reason, '') AS reason, created_at, "
	                             "updated_at FROM refund WHERE payment_id = ?1 ORDER BY n",
	                             e);
	if (!q)
		return jv_array();
	store_bind_text(q, 1, payment_id);
	return shop_rows(s, q, "refund", e);
}

/* The payment record of shop-records(5). */
static jv row_record(shop *s, const pay_row *r, shop_err *e)
{
	jv p = jv_object();
	p = jv_object_set(p, jv_string("kind"), jv_string("payment"));
	p = jv_object_set(p, jv_string("id"), jv_string(r->id));
	p = jv_object_set(p, jv_string("order_id"), jv_string(r->order_id));
	p = jv_object_set(p, jv_string("status"), jv_string(r->status));
	p = jv_object_set(p, jv_string("gateway"), jv_string(r->gateway));
	p = jv_object_set(p, jv_string("method"), jv_string(r->method));
	p = jv_object_set(p, jv_string("currency"), jv_string(r->currency));
	p = jv_object_set(p, jv_string("amount"), jv_number((double)r->amount));
	p = jv_object_set(p, jv_string("captured"), jv_number((double)r->captured));
	p = jv_object_set(p, jv_string("refunded"), jv_number((double)r->refunded));
	p = jv_object_set(p, jv_string("gateway_ref"), jv_text_or_null(r->ref));
	p = jv_object_set(p, jv_string("pending"), jv_text_or_null(r->pending));
	p = jv_object_set(p, jv_string("reason"), jv_text_or_null(r->reason));
	p = jv_object_set(p, jv_string("authorized_at"), jv_text_or_null(r->authorized_at));
	p = jv_object_set(p, jv_string("expires_at"), jv_text_or_null(r->expires_at));
	p = jv_object_set(p, jv_string("captured_at"), jv_text_or_null(r->captured_at));
	p = jv_object_set(p, jv_string("voided_at"), jv_text_or_null(r->voided_at));
	p = jv_object_set(p, jv_string("created_at"), jv_string(r->created_at));
	p = jv_object_set(p, jv_string("updated_at"), jv_string(r->updated_at));
	p = jv_object_set(p, jv_string("refunds"), refunds_of(s, r->id, e));
	return p;
}

/* ---- the gateway ---- */

static gateway *gw(shop *s)
{
	if (!s->gw) {
		gw_conf c = {s->gateway, s->st, s->http, s->stripe_base, s->stripe_key_env, s->hold_ms};
		s->gw = gw_open(&c, &s->err);
	}
	return s->gw;
}

/* "500" (minor units) or "5.00" (a decimal in the currency). */
static int parse_amount(const char *t, const char *cur, int64_t *out, shop_err *e)
{
	shop_err me = {0};
	if (strchr(t, '.') ? money_parse_decimal(t, currency_find(cur), out, &me) : parse_i64(t, out))
		return err_set(e, SHOP_DATAERR, "--amount: '%s' is not an amount in %s (minor units such as 500, or 5.00)",
		               t, cur);
	if (*out <= 0)
		return err_set(e, SHOP_DATAERR, "--amount: %s is not above 0", t);
	return 0;
}


/* ---- the calls ----
 *
 * A call is three steps: (1) in one transaction, decide and write the call
 * ahead into the payment row (status unknown, pending, key); (2) send it,
 * outside any transaction; (3) in another, write what came of it, guarded
 * by the key, so that of two processes settling the same call the second
 * finds it settled and changes nothing. */

typedef struct call {
	gw_req req;
	char key[256], ref[128], rma[128], method[128], currency[8], order[ID_MAX], payment[ID_MAX];
	char refund_id[ID_MAX];
	const char *prior; /* the status to go back to when the call did nothing */
} call;

/* The call a row is waiting on (status unknown). */
static int pending_call(shop *s, const pay_row *r, call *c, shop_err *e)
{
	memset(c, 0, sizeof *c);
	snprintf(c->key, sizeof c->key, "%s", r->pending_key);
	snprintf(c->ref, sizeof c->ref, "%s", r->ref);
	snprintf(c->method, sizeof c->method, "%s", r->method);
	snprintf(c->currency, sizeof c->currency, "%s", r->currency);
	snprintf(c->order, sizeof c->order, "%s", r->order_id);
	snprintf(c->payment, sizeof c->payment, "%s", r->id);
	c->req = (gw_req){r->pending, c->key, c->order, c->payment, NULL, NULL, c->currency, r->pending_amount, c->ref};
	if (!strcmp(r->pending, "authorize"))
		c->req.method = c->method;
	if (!strcmp(r->pending, "refund")) {
		sqlite3_stmt *q = store_stmt(s->st, "SELECT id, rma_id FROM refund WHERE payment_id = ?1 AND idem_key = ?2", e);
		if (!q)
			return e->code;
		store_bind_text(q, 1, r->id);
		store_bind_text(q, 2, r->pending_key);
		int step = sqlite3_step(q);
		if (step == SQLITE_ROW) {
			STORE_COPY(c->refund_id, q, 0);
			STORE_COPY(c->rma, q, 1);
		}
		sqlite3_reset(q);
		if (step != SQLITE_ROW)
			return step == SQLITE_DONE ? err_set(e, SHOP_SOFTWARE, "payment %s: pending refund without its row", r->id)
			                           : store_fail_rc(s->st, step, e, "refund");
		if (c->rma[0])
			c->req.rma_id = c->rma;
	}
	c->prior = !strcmp(r->pending, "refund") ? (r->refunded ? "partially_refunded" : "captured")
	           : !strcmp(r->pending, "authorize") ? "failed"
	                                              : "authorized";
	return 0;
}

static int event(shop *s, const char *type, const pay_row *r, jv extra, shop_err *e)
{
	jv d = jv_object();
	d = jv_object_set(d, jv_string("payment_id"), jv_string(r->id));
	d = jv_object_set(d, jv_string("order_id"), jv_string(r->order_id));
	d = jv_object_set(d, jv_string("currency"), jv_string(r->currency));
	jv_object_foreach(extra, k, v) d = jv_object_set(d, k, v);
	jv_free(extra);
	return outbox_emit(s, type, r->order_id, d, e);
}

/* Step 1 for a call that changes the payment: status unknown, pending. */
static int write_ahead(shop *s, const pay_row *r, const char *op, const char *key, int64_t amount, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "UPDATE payment SET status = 'unknown', pending = ?2, pending_key = ?3, "
	                             "pending_amount = ?4, reason = NULL, updated_at = ?5 WHERE id = ?1",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, r->id);
	store_bind_text(q, 2, op);
	store_bind_text(q, 3, key);
	sqlite3_bind_int64(q, 4, amount);
	store_bind_text(q, 5, now);
	return store_done(s->st, q, e, "payment");
}

/* Step 3: what came of call c. first: c was sent for the first time (so a
 * gateway that did not act means the call never happened); else it is the
 * repeat of a call that may have happened before, which only an answer of
 * the gateway settles. Returns 0 when written (or settled by another
 * process already). */
static int record(shop *s, const call *c, const gw_res *res, int first, shop_err *e)
{
	if (store_begin(s->st, e))
		return e->code;
	pay_row r;
	if (row_load(s, c->order, &r, e))
		goto fail_ev; /* ev is not made yet */
	if (!r.exists || strcmp(r.pending_key, c->key)) /* settled meanwhile */
		return store_commit(s->st, e);
	char now[32], when[32];
	clock_now_text(now);
	/* When it happened: the gateway's time when its report told us. */
	snprintf(when, sizeof when, "%s", res->outcome == GW_OK && res->at[0] ? res->at : now);
	const char *op = r.pending;
	const char *status = "unknown", *refund_status = NULL;
	const char *reason = res->outcome == GW_OK ? NULL : res->reason;
	int settled = res->outcome == GW_OK || res->outcome == GW_DECLINED || (first && res->outcome != GW_UNKNOWN);
	int64_t captured = r.captured, refunded = r.refunded;
	char ref[128], auth_at[32], exp_at[32], cap_at[32], void_at[32];
	snprintf(ref, sizeof ref, "%s", r.ref);
	snprintf(auth_at, sizeof auth_at, "%s", r.authorized_at);
	snprintf(exp_at, sizeof exp_at, "%s", r.expires_at);
	snprintf(cap_at, sizeof cap_at, "%s", r.captured_at);
	snprintf(void_at, sizeof void_at, "%s", r.voided_at);
	jv ev = jv_object();
	const char *type = NULL;
	if (res->outcome == GW_OK) {
		if (!strcmp(op, "authorize")) {
			status = "authorized";
			snprintf(ref, sizeof ref, "%s", res->ref);
			snprintf(auth_at, sizeof auth_at, "%s", when);
			int64_t when_ms;
			clock_format((clock_parse_rfc3339(when, &when_ms) ? clock_now_ms() : when_ms) + s->hold_ms, exp_at);
			type = "payment.authorized";
			ev = jv_object_set(ev, jv_string("amount"), jv_number((double)r.amount));
			ev = jv_object_set(ev, jv_string("method"), jv_string(r.method));
			ev = jv_object_set(ev, jv_string("gateway_ref"), jv_string(ref));
		} else if (!strcmp(op, "capture")) {
			status = "captured";
			captured = res->amount > 0 && res->amount <= r.amount ? res->amount : r.pending_amount;
			snprintf(cap_at, sizeof cap_at, "%s", when);
			type = "payment.captured";
			ev = jv_object_set(ev, jv_string("amount"), jv_number((double)captured));
			ev = jv_object_set(ev, jv_string("released"), jv_number((double)(r.amount - captured)));
		} else if (!strcmp(op, "void")) {
			status = "voided";
			snprintf(void_at, sizeof void_at, "%s", when);
			type = "payment.voided";
			ev = jv_object_set(ev, jv_string("released"), jv_number((double)r.amount));
		} else {
			refunded += r.pending_amount;
			status = refunded >= captured ? "refunded" : "partially_refunded";
			refund_status = "succeeded";
			type = "payment.refunded";
			ev = jv_object_set(ev, jv_string("refund_id"), jv_string(c->refund_id));
			ev = jv_object_set(ev, jv_string("amount"), jv_number((double)r.pending_amount));
			ev = jv_object_set(ev, jv_string("refunded"), jv_number((double)refunded));
			ev = jv_object_set(ev, jv_string("rma_id"), jv_text_or_null(c->rma));
		}
	} else if (res->outcome == GW_DECLINED && res->canceled && (!strcmp(op, "capture") || !strcmp(op, "void"))) {
		/* The gateway's payment was canceled (its hold lapsed, or someone
		 * voided it there): nothing is held any more. */
		status = "voided";
		snprintf(void_at, sizeof void_at, "%s", now);
		type = "payment.voided";
		ev = jv_object_set(ev, jv_string("released"), jv_number((double)r.amount));
		ev = jv_object_set(ev, jv_string("reason"), jv_string(res->reason));
		if (!strcmp(op, "void"))
			reason = NULL;
	} else if (settled) {
		/* Refused, or (first time) never acted on: as before the call. */
		status = c->prior;
		refund_status = "failed";
		type = !strcmp(op, "authorize") ? "payment.failed" : "payment.refused";
		ev = jv_object_set(ev, jv_string("operation"), jv_string(op));
		ev = jv_object_set(ev, jv_string("reason"), jv_string(res->reason));
	} else if (first) {
		type = "payment.unknown";
		ev = jv_object_set(ev, jv_string("operation"), jv_string(op));
		ev = jv_object_set(ev, jv_string("reason"), jv_string(res->reason));
	}
	sqlite3_stmt *q = store_stmt(s->st,
	                             "UPDATE payment SET status = ?2, captured = ?3, refunded = ?4, gateway_ref = ?5, "
	                             "authorized_at = ?6, expires_at = ?7, captured_at = ?8, voided_at = ?9, "
	                             "reason = ?10, updated_at = ?11, pending = CASE WHEN ?2 = 'unknown' THEN pending END, "
	                             "pending_key = CASE WHEN ?2 = 'unknown' THEN pending_key END, "
	                             "pending_amount = CASE WHEN ?2 = 'unknown' THEN pending_amount END WHERE id = ?1",
	                             e);
	if (!q)
		goto fail;
	store_bind_text(q, 1, r.id);
	store_bind_text(q, 2, status);
	sqlite3_bind_int64(q, 3, captured);
	sqlite3_bind_int64(q, 4, refunded);
	store_bind_text(q, 5, ref[0] ? ref : NULL);
	store_bind_text(q, 6, auth_at[0] ? auth_at : NULL);
	store_bind_text(q, 7, exp_at[0] ? exp_at : NULL);
	store_bind_text(q, 8, cap_at[0] ? cap_at : NULL);
	store_bind_text(q, 9, void_at[0] ? void_at : NULL);
	store_bind_text(q, 10, reason);
	store_bind_text(q, 11, now);
	if (store_done(s->st, q, e, "payment"))
		goto fail;
	if (refund_status && c->refund_id[0]) {
		q = store_stmt(s->st,
		               "UPDATE refund SET status = ?2, gateway_ref = ?3, reason = ?4, updated_at = ?5 WHERE id = ?1",
		               e);
		if (!q)
			goto fail;
		store_bind_text(q, 1, c->refund_id);
		store_bind_text(q, 2, refund_status);
		store_bind_text(q, 3, res->outcome == GW_OK && res->ref[0] ? res->ref : NULL);
		store_bind_text(q, 4, reason);
		store_bind_text(q, 5, when);
		if (store_done(s->st, q, e, "refund"))
			goto fail;
	}
	if (type && event(s, type, &r, ev, e))
		goto fail_ev;
	if (!type)
		jv_free(ev);
	return store_commit(s->st, e) ? (store_rollback(s->st), e->code) : 0;
fail:
	jv_free(ev);
fail_ev:
	store_rollback(s->st);
	return e->code;
}

/* The exit code and message for what came of a call. */
static int outcome_error(shop *s, const call *c, const gw_res *res)
{
	const char *op = c->req.op;
	switch (res->outcome) {
	case GW_OK:
		return 0;
	case GW_DECLINED:
		return err_set(&s->err, SHOP_REFUSED, "%s %s: %s refused: %s", "order", c->order, op, res->reason);
	case GW_NOT_SENT:
		return err_set(&s->err, SHOP_UNAVAILABLE, "order %s: %s: gateway unavailable, nothing done: %s", c->order,
		               op, res->reason);
	case GW_UNKNOWN:
		return err_set(&s->err, SHOP_UNAVAILABLE,
		               "order %s: %s: outcome unknown (%s); payment %s stays unknown until a retry, void or "
		               "reconcile settles it",
		               c->order, op, res->reason, c->payment);
	case GW_ERROR:
		return err_set(&s->err, res->code ? res->code : SHOP_SOFTWARE, "order %s: %s: %s", c->order, op,
		               res->reason);
	}
	return SHOP_SOFTWARE;
}

/* Send c and record it. */
static int send(shop *s, const call *c, int first, gw_res *res)
{
	gateway *g = gw(s);
	if (!g)
		return s->err.code;
	gw_call(g, &c->req, res);
	if (record(s, c, res, first, &s->err))
		return s->err.code;
	return 0;
}

/* What a command asks of a payment. */
typedef struct want {
	const char *op;
	const char *method;  /* authorize */
	const char *amount;  /* capture, refund: as given */
	const char *rma;     /* refund */
} want;

/* Step 1 for want w, inside the transaction: 0 with c->req.op set when a
 * call is to be sent, 0 with c->req.op NULL when there is nothing to do
 * (the payment is already where w leads), or an error. */
static int decide(shop *s, const want *w, const char *order_id, pay_row *r, call *c, shop_err *e)
{
	memset(c, 0, sizeof *c);
	char now[32];
	clock_now_text(now);
	jv order;
	if (order_get(s, order_id, &order, e))
		return e->code;
	int64_t amount = 0;
	const char *op = w->op;
	if (!strcmp(op, "authorize")) {
		const char *ost = rec_str(order, "status", e);
		const char *cur = rec_str(order, "currency", e);
		const char *pm = w->method ? w->method : rec_str(order, "payment_method", e);
		int64_t total = 0;
		rec_int(order, "total", &total, e);
		if (e->code)
			goto out;
		if (r->exists && strcmp(r->status, "failed")) {
			if (w->method && strcmp(w->method, r->method))
				err_set(e, SHOP_REFUSED, "order %s: payment %s is %s with %s, not %s", order_id, r->id, r->status,
				        r->method, w->method);
			else if (!strcmp(r->status, "voided"))
				err_set(e, SHOP_REFUSED, "order %s: payment %s was voided; it cannot be authorized again",
				        order_id, r->id);
			goto out; /* authorized already: nothing to do */
		}
		if (ost && strcmp(ost, "pending") && strcmp(ost, "confirmed")) {
			err_set(e, SHOP_REFUSED, "order %s is %s: only a pending or confirmed order is paid for", order_id, ost);
			goto out;
		}
		if (!pm || !*pm || strlen(pm) >= sizeof c->method) {
			err_set(e, SHOP_DATAERR, "order %s: no usable payment method (give --method)", order_id);
			goto out;
		}
		if (total <= 0) {
			err_set(e, SHOP_REFUSED, "order %s: its total is 0: nothing to authorize", order_id);
			goto out;
		}
		if (!r->exists) {
			char id[ID_MAX];
			id_new("pay", id);
			sqlite3_stmt *q = store_stmt(s->st,
			                             "INSERT INTO payment (id, order_id, gateway, method, currency, amount, "
			                             "status, attempt, pending, pending_key, pending_amount, created_at, "
			                             "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'unknown', 0, 'authorize', "
			                             "'', ?6, ?7, ?7)",
			                             e);
			if (!q)
				goto out;
			store_bind_text(q, 1, id);
			store_bind_text(q, 2, order_id);
			store_bind_text(q, 3, s->gateway);
			store_bind_text(q, 4, pm);
			store_bind_text(q, 5, cur);
			sqlite3_bind_int64(q, 6, total);
			store_bind_text(q, 7, now);
			if (store_done(s->st, q, e, "payment") || row_load(s, order_id, r, e))
				goto out;
		}
		/* A new attempt after a failed one: a new key, maybe a new method. */
		char key[256];
		snprintf(key, sizeof key, "shop:%s:authorize:%" PRId64, order_id, r->attempt + 1);
		sqlite3_stmt *q = store_stmt(s->st,
		                             "UPDATE payment SET attempt = attempt + 1, method = ?2, amount = ?3, "
		                             "currency = ?4, gateway = ?5 WHERE id = ?1",
		                             e);
		if (!q)
			goto out;
		store_bind_text(q, 1, r->id);
		store_bind_text(q, 2, pm);
		sqlite3_bind_int64(q, 3, total);
		store_bind_text(q, 4, cur);
		store_bind_text(q, 5, s->gateway);
		if (store_done(s->st, q, e, "payment") || write_ahead(s, r, "authorize", key, total, e) ||
		    row_load(s, order_id, r, e))
			goto out;
		pending_call(s, r, c, e);
		goto out;
	}
	if (!r->exists) {
		/* Nothing held: a void (a compensation) has nothing to undo. */
		if (strcmp(op, "void"))
			err_set(e, SHOP_NOTFOUND, "order %s has no payment (authorize it first)", order_id);
		goto out;
	}
	if (w->amount && parse_amount(w->amount, r->currency, &amount, e))
		goto out;
	const char *st = r->status;
	char key[256];
	if (!strcmp(op, "capture")) {
		if (!w->amount)
			amount = r->amount;
		if (!strcmp(st, "authorized")) {
			if (amount > r->amount) {
				err_set(e, SHOP_REFUSED, "order %s: capture of %" PRId64 " is more than the %" PRId64 " authorized",
				        order_id, amount, r->amount);
				goto out;
			}
			snprintf(key, sizeof key, "shop:%s:capture:%" PRId64, order_id, amount);
		} else if (!strcmp(st, "captured") || !strcmp(st, "partially_refunded") || !strcmp(st, "refunded")) {
			if (w->amount && amount != r->captured)
				err_set(e, SHOP_REFUSED, "order %s: payment %s was captured already (%" PRId64 ")", order_id, r->id,
				        r->captured);
			goto out;
		} else {
			err_set(e, SHOP_REFUSED, "order %s: payment %s is %s: nothing to capture", order_id, r->id, st);
			goto out;
		}
	} else if (!strcmp(op, "void")) {
		if (!strcmp(st, "voided") || !strcmp(st, "failed"))
			goto out;
		if (strcmp(st, "authorized")) {
			err_set(e, SHOP_REFUSED, "order %s: payment %s is %s: it cannot be voided (refund it instead)",
			        order_id, r->id, st);
			goto out;
		}
		snprintf(key, sizeof key, "shop:%s:void", order_id);
	} else {
		if (w->rma) {
			sqlite3_stmt *q = store_stmt(
				s->st, "SELECT amount FROM refund WHERE payment_id = ?1 AND rma_id = ?2 AND status = 'succeeded'", e);
			if (!q)
				goto out;
			store_bind_text(q, 1, r->id);
			store_bind_text(q, 2, w->rma);
			int step = sqlite3_step(q);
			int64_t done = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
			sqlite3_reset(q);
			if (step == SQLITE_ROW) {
				if (done != amount)
					err_set(e, SHOP_REFUSED, "order %s: return %s was refunded already (%" PRId64 ")", order_id,
					        w->rma, done);
				goto out;
			}
			if (step != SQLITE_DONE) {
				store_fail_rc(s->st, step, e, "refund");
				goto out;
			}
		}
		if (strcmp(st, "captured") && strcmp(st, "partially_refunded")) {
			err_set(e, SHOP_REFUSED, "order %s: payment %s is %s: nothing to refund", order_id, r->id, st);
			goto out;
		}
		if (amount > r->captured - r->refunded) {
			err_set(e, SHOP_REFUSED, "order %s: refund of %" PRId64 " is more than the %" PRId64 " left of the capture",
			        order_id, amount, r->captured - r->refunded);
			goto out;
		}
		sqlite3_stmt *q = store_stmt(s->st, "SELECT count(*) FROM refund WHERE payment_id = ?1", e);
		if (!q)
			goto out;
		store_bind_text(q, 1, r->id);
		int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) + 1 : 1;
		sqlite3_reset(q);
		if (w->rma)
			snprintf(key, sizeof key, "shop:%s:refund:%s", order_id, w->rma);
		else
			snprintf(key, sizeof key, "shop:%s:refund:%" PRId64, order_id, n);
		char id[ID_MAX];
		id_new("rfd", id);
		q = store_stmt(s->st,
		               "INSERT INTO refund (id, payment_id, n, amount, rma_id, status, idem_key, created_at, "
		               "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'unknown', ?6, ?7, ?7)",
		               e);
		if (!q)
			goto out;
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, r->id);
		sqlite3_bind_int64(q, 3, n);
		sqlite3_bind_int64(q, 4, amount);
		store_bind_text(q, 5, w->rma);
		store_bind_text(q, 6, key);
		store_bind_text(q, 7, now);
		if (store_done(s->st, q, e, "refund"))
			goto out;
	}
	if (write_ahead(s, r, op, key, amount, e) || row_load(s, order_id, r, e))
		goto out;
	pending_call(s, r, c, e);
out:
	jv_free(order);
	return e->code;
}

/* 1 when the amount text given means minor units n. */
static int same_amount(const char *t, const char *cur, int64_t n)
{
	int64_t v;
	shop_err e = {0};
	return t && !parse_amount(t, cur, &v, &e) && v == n;
}

/* A command on one order's payment: settle what it waits on, then decide,
 * send and record; emit the payment as it is at the end. */
static int run(shop *s, const want *w, const char *order_id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	if (strlen(order_id) >= ID_MAX)
		return err_set(&s->err, SHOP_NOTFOUND, "order '%.60s...': no such order", order_id);
	/* The gateway first: a missing key must stop us before anything is
	 * written ahead, not leave a payment unknown with nothing sent. */
	if (!gw(s))
		return s->err.code;
	pay_row r;
	call c;
	gw_res res;
	int done = 0;
	for (int round = 0;; round++) {
		if (store_begin(s->st, &s->err))
			return s->err.code;
		if (row_load(s, order_id, &r, &s->err)) {
			store_rollback(s->st);
			return s->err.code;
		}
		/* A payment made through another gateway is settled and moved on
		 * there only (a new authorization after a failed one may switch). */
		if (r.exists && strcmp(r.gateway, s->gateway) &&
		    (strcmp(r.status, "failed") || strcmp(w->op, "authorize"))) {
			store_rollback(s->st);
			return err_set(&s->err, SHOP_CONFIG,
			               "order %s: payment %s is at the %s gateway, but the config's gateway is %s", order_id,
			               r.id, r.gateway, s->gateway);
		}
		if (done) {
			store_rollback(s->st);
			c.req.op = NULL;
			break;
		}
		if (r.exists && !strcmp(r.status, "unknown")) {
			/* Settle the call this payment waits on: the same call, the
			 * same key. A fresh authorize row has no key yet (a crash
			 * between its insert and its write-ahead cannot happen: both
			 * are in one transaction). */
			int rc = pending_call(s, &r, &c, &s->err);
			store_rollback(s->st);
			if (rc)
				return rc;
			if (round > 2)
				return err_set(&s->err, SHOP_TEMPFAIL, "order %s: payment %s keeps changing; try again", order_id,
				               r.id);
			if (send(s, &c, 0, &res))
				return s->err.code;
			if (res.outcome != GW_OK && res.outcome != GW_DECLINED)
				return outcome_error(s, &c, &res);
			/* The refund this command asks for is the one that was pending
			 * (a rerun after "outcome unknown"): settled, it is done. A
			 * capture or authorization needs no such care: state says. */
			if (res.outcome == GW_OK && !strcmp(c.req.op, "refund") && !strcmp(w->op, "refund") &&
			    same_amount(w->amount, r.currency, r.pending_amount) &&
			    !strcmp(w->rma ? w->rma : "", c.rma))
				done = 1;
			continue;
		}
		if (decide(s, w, order_id, &r, &c, &s->err) || store_commit(s->st, &s->err)) {
			store_rollback(s->st);
			return s->err.code;
		}
		break;
	}
	if (c.req.op) {
		if (send(s, &c, 1, &res))
			return s->err.code;
		/* A void the gateway had done already (canceled there) is done. */
		if (res.outcome != GW_OK && !(res.canceled && !strcmp(c.req.op, "void")))
			return outcome_error(s, &c, &res);
	}
	if (row_load(s, order_id, &r, &s->err))
		return s->err.code;
	if (!r.exists) {
		shop_note(s, "order %s has no payment: nothing to %s", order_id, w->op);
		return 0;
	}
	shop_emit_built(s, row_record(s, &r, &s->err), emit, arg);
	return s->err.code;
}

int pay_authorize(shop *s, const char *order_id, const char *method, shop_emit emit, void *arg)
{
	want w = {"authorize", method, NULL, NULL};
	return run(s, &w, order_id, emit, arg);
}

int pay_capture(shop *s, const char *order_id, const char *amount, shop_emit emit, void *arg)
{
	want w = {"capture", NULL, amount, NULL};
	return run(s, &w, order_id, emit, arg);
}

int pay_void(shop *s, const char *order_id, shop_emit emit, void *arg)
{
	want w = {"void", NULL, NULL, NULL};
	return run(s, &w, order_id, emit, arg);
}

int pay_refund(shop *s, const char *order_id, const char *amount, const char *rma, shop_emit emit, void *arg)
{
	want w = {"refund", NULL, amount, rma};
	return run(s, &w, order_id, emit, arg);
}

/* ---- reading ---- */

int pay_show(shop *s, const char *order_id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	pay_row r;
	if (row_load(s, order_id, &r, &s->err))
		return s->err.code;
	if (!r.exists) {
		jv o;
		if (order_get(s, order_id, &o, &s->err))
			return s->err.code;
		jv_free(o);
		return err_set(&s->err, SHOP_NOTFOUND, "order %s has no payment", order_id);
	}
	shop_emit_built(s, row_record(s, &r, &s->err), emit, arg);
	return s->err.code;
}

static const char *const statuses[] = {"authorized", "captured", "voided", "partially_refunded",
                                       "refunded",   "failed",   "unknown", NULL};

int pay_list(shop *s, const pay_filter *f, shop_emit emit, void *arg)
{
	if (f->status) {
		size_t i = 0;
		while (statuses[i] && strcmp(statuses[i], f->status))
			i++;
		if (!statuses[i])
			return err_set(&s->err, SHOP_USAGE,
			               "--status: '%s' is not a payment status (authorized, captured, voided, "
			               "partially_refunded, refunded, failed, unknown)",
			               f->status);
	}
	if (!shop_store(s))
		return s->err.code;
	static char sql[sizeof row_sql + 160];
	if (!sql[0])
		snprintf(sql, sizeof sql,
		         "%sWHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR (status = 'authorized' AND "
		         "expires_at <= ?2)) ORDER BY id DESC",
		         row_sql);
	sqlite3_stmt *q = store_stmt(s->st, sql, &s->err);
	if (!q)
		return s->err.code;
	char until[32];
	if (f->expiring_ms > 0)
		clock_format(clock_now_ms() + f->expiring_ms, until);
	store_bind_text(q, 1, f->status);
	store_bind_text(q, 2, f->expiring_ms > 0 ? until : NULL);
	shop_filter sf = {s, f->where, f->limit, 0, "payment", "id", emit, arg};
	/* Rows first, records after: refunds_of reads with another statement. */
	size_t n;
	pay_row *rows = rows_all(s, q, &n);
	for (size_t i = 0; i < n && !s->err.code; i++) {
		if (shop_emit_built(s, row_record(s, &rows[i], &s->err), shop_filter_emit, &sf))
			break;
	}
	free(rows);
	return s->err.code;
}

typedef struct emit_to {
	shop_emit emit;
	void *arg;
} emit_to;

static int settlement_row(void *arg, const char *id, const char *type, const char *ref, const char *order_id,
                          int64_t amount, const char *cur, const char *at)
{
	emit_to *t = arg;
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("settlement"));
	r = jv_object_set(r, jv_string("id"), jv_string(id));
	r = jv_object_set(r, jv_string("type"), jv_string(type));
	r = jv_object_set(r, jv_string("payment_ref"), jv_string(ref));
	r = jv_object_set(r, jv_string("order_id"), jv_string(order_id));
	r = jv_object_set(r, jv_string("amount"), jv_number((double)amount));
	r = jv_object_set(r, jv_string("currency"), jv_string(cur));
	r = jv_object_set(r, jv_string("at"), jv_string(at));
	return t->emit(t->arg, r);
}

static int valid_date(const char *d)
{
	int64_t ms;
	char t[40];
	snprintf(t, sizeof t, "%.10sT00:00:00Z", d);
	return strlen(d) == 10 && !clock_parse_rfc3339(t, &ms);
}

int pay_settlement(shop *s, const char *date, shop_emit emit, void *arg)
{
	if (date && !valid_date(date))
		return err_set(&s->err, SHOP_USAGE, "--date: '%s' is not a date (YYYY-MM-DD)", date);
	if (strcmp(s->gateway, "sandbox"))
		return err_set(&s->err, SHOP_USAGE,
		               "settlement: the %s gateway's report comes from the gateway itself; only the sandbox has "
		               "one here",
		               s->gateway);
	if (!shop_store(s))
		return s->err.code;
	emit_to t = {emit, arg};
	return sandbox_settlement(s->st, date, settlement_row, &t, &s->err);
}

/* ---- the trace ---- */

int pay_trace(shop *s, const char *source, const char *order_id, jv *recs)
{
	pay_row r;
	if (row_load(s, order_id, &r, &s->err))
		return s->err.code;
	if (!r.exists || strcmp(r.status, "unknown"))
		return 0;
	jv t = trace_rec(r.updated_at, source, "payment.pending");
	t = jv_object_set(t, jv_string("payment_id"), jv_string(r.id));
	t = jv_object_set(t, jv_string("operation"), jv_string(r.pending));
	t = jv_object_set(t, jv_string("reason"), jv_text_or_null(r.reason));
	*recs = jv_array_append(*recs, t);
	return 0;
}

/* ---- reconcile ----
 *
 * Both sides are brought to one shape: per gateway payment (its ref), the
 * movements of the period summed: authorized, captured (net of partial
 * capture reversals), refunded, voided. The sandbox's report has all four;
 * Stripe's balance report has only money (charges, refunds, reversals), so
 * for it only captured and refunded are compared. */

typedef struct side {
	char ref[128], order[ID_MAX], currency[8], payment[ID_MAX];
	int64_t authorized, captured, refunded;
	int voided;
	size_t line; /* gateway: the report line of its first movement */
	char auth_at[32], cap_at[32], void_at[32], refund_at[32]; /* gateway: the last of each */
} side;

typedef struct report {
	side *g;
	size_t n, cap;
	char from[11], to[11];
	const char *date; /* --date: movements of other days are left out */
	int money_only;   /* Stripe's CSV */
	const char *gateway;
} report;

static side *side_for(report *rp, const char *ref, size_t line)
{
	for (size_t i = rp->n; i-- > 0;) /* movements of one payment come close together */
		if (!strcmp(rp->g[i].ref, ref))
			return &rp->g[i];
	if (rp->n == rp->cap)
		rp->g = xrealloc(rp->g, (rp->cap = rp->cap ? rp->cap * 2 : 64) * sizeof *rp->g);
	side *sd = &rp->g[rp->n++];
	memset(sd, 0, sizeof *sd);
	snprintf(sd->ref, sizeof sd->ref, "%s", ref);
	sd->line = line;
	return sd;
}

static void period_add(report *rp, const char *at)
{
	char d[11];
	snprintf(d, sizeof d, "%.10s", at);
	if (!rp->from[0] || strcmp(d, rp->from) < 0)
		memcpy(rp->from, d, sizeof d);
	if (!rp->to[0] || strcmp(d, rp->to) > 0)
		memcpy(rp->to, d, sizeof d);
}

/* One movement of either format. */
static int movement(report *rp, const char *where, const char *type, const char *ref, const char *order,
                    int64_t amount, const char *cur, const char *at, size_t line, shop_err *e)
{
	if (!*ref)
		return err_set(e, SHOP_DATAERR, "%s: no payment reference", where);
	if (!currency_find(cur))
		return err_set(e, SHOP_DATAERR, "%s: '%s' is not a currency", where, cur);
	int64_t ms;
	char t[40];
	snprintf(t, sizeof t, "%.10sT00:00:00Z", at);
	if (strlen(at) < 10 || clock_parse_rfc3339(t, &ms))
		return err_set(e, SHOP_DATAERR, "%s: '%s' is not a time", where, at);
	if (strcmp(type, "authorization") && strcmp(type, "capture") && strcmp(type, "refund") && strcmp(type, "void"))
		return err_set(e, SHOP_DATAERR, "%s: type '%s' is not authorization, capture, void or refund", where, type);
	if (rp->date && strncmp(at, rp->date, 10))
		return 0;
	side *sd = side_for(rp, ref, line);
	if (!sd->currency[0])
		snprintf(sd->currency, sizeof sd->currency, "%s", cur);
	else if (strcmp(sd->currency, cur))
		snprintf(sd->currency, sizeof sd->currency, "mixed");
	if (*order && !sd->order[0])
		snprintf(sd->order, sizeof sd->order, "%s", order);
	int bad;
	char *last;
	if (!strcmp(type, "authorization"))
		bad = money_add(sd->authorized, amount, &sd->authorized), last = sd->auth_at;
	else if (!strcmp(type, "capture"))
		bad = money_add(sd->captured, amount, &sd->captured), last = sd->cap_at;
	else if (!strcmp(type, "refund"))
		bad = money_add(sd->refunded, amount, &sd->refunded), last = sd->refund_at;
	else
		bad = (sd->voided = 1, 0), last = sd->void_at;
	/* As RFC 3339 UTC, whichever way the report wrote it (Stripe's
	 * created_utc is "2026-11-29 12:00:00", UTC without a zone). */
	int64_t at_ms;
	snprintf(t, sizeof t, "%.19sZ", at);
	if (!clock_parse_rfc3339(at, &at_ms) || (strlen(at) == 19 && !clock_parse_rfc3339(t, &at_ms)))
		clock_format(at_ms, last);
	if (bad)
		return err_set(e, SHOP_DATAERR, "%s: amounts out of range", where);
	period_add(rp, at);
	return 0;
}

/* The sandbox's settlement record. */
static int json_line(report *rp, const char *where, const char *text, size_t len, size_t line, shop_err *e)
{
	jv rec;
	char perr[160];
	if (json_parse(text, len, &rec, perr, sizeof perr))
		return err_set(e, SHOP_DATAERR, "%s: %s", where, perr);
	shop_err fe = {0};
	int64_t amount = 0;
	const char *kind = NULL, *type = NULL, *ref = NULL, *order = NULL, *cur = NULL, *at = NULL;
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		err_set(&fe, SHOP_DATAERR, "expected a settlement record (an object), got %s", jv_kind_text(rec));
	} else {
		kind = rec_str(rec, "kind", &fe);
		type = rec_str(rec, "type", &fe);
		ref = rec_str(rec, "payment_ref", &fe);
		order = rec_str(rec, "order_id", &fe);
		cur = rec_str(rec, "currency", &fe);
		at = rec_str(rec, "at", &fe);
		int has = fe.code ? 0 : rec_int(rec, "amount", &amount, &fe);
		if (!fe.code && (!kind || strcmp(kind, "settlement")))
			err_set(&fe, SHOP_DATAERR, "field 'kind': expected \"settlement\"");
		else if (!fe.code && (!type || !ref || !cur || !at || !has))
			err_set(&fe, SHOP_DATAERR, "a settlement record needs type, payment_ref, amount, currency and at");
		else if (!fe.code && amount < 0)
			err_set(&fe, SHOP_DATAERR, "field 'amount': negative");
	}
	if (!fe.code)
		movement(rp, where, type, ref, order ? order : "", amount, cur, at, line, &fe);
	else
		err_prefix(&fe, "%s: ", where);
	jv_free(rec);
	if (fe.code)
		return err_set(e, fe.code, "%s", fe.msg);
	return 0;
}

/* Split one CSV line (RFC 4180 quoting, no line breaks inside fields) into
 * fields, in place; returns the count, or -1 when the quoting is broken. */
static int csv_split(char *p, char **f, int max)
{
	int n = 0;
	for (;;) {
		if (n == max)
			return -1;
		if (*p == '"') {
			char *w = ++p;
			f[n++] = w;
			for (;;) {
				if (!*p)
					return -1;
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			*w = 0;
			if (*p && *p != ',')
				return -1;
		} else {
			f[n++] = p;
			while (*p && *p != ',')
				p++;
			if (*p == '"')
				return -1;
		}
		if (!*p)
			return n;
		*p++ = 0;
	}
}

enum { C_TXN, C_CREATED, C_CURRENCY, C_GROSS, C_CATEGORY, C_PI, C_ORDER, C_N };
static const char *const csv_cols[C_N] = {"balance_transaction_id", "created_utc", "currency", "gross",
                                          "reporting_category", "payment_intent_id", "payment_metadata[order_id]"};

typedef struct csv {
	int col[C_N]; /* column of each, -1 when absent */
	int ncols;
} csv;

#define CSV_MAX_COLS 256

static int csv_header(csv *c, char *line, const char *where, shop_err *e)
{
	char *f[CSV_MAX_COLS];
	int n = csv_split(line, f, CSV_MAX_COLS);
	if (n < 0)
		return err_set(e, SHOP_DATAERR, "%s: not a CSV header line", where);
	for (int k = 0; k < C_N; k++) {
		c->col[k] = -1;
		for (int i = 0; i < n; i++)
			if (!strcmp(f[i], csv_cols[k]))
				c->col[k] = i;
		if (c->col[k] < 0 && k != C_ORDER)
			return err_set(e, SHOP_DATAERR,
			               "%s: the report has no column '%s' (expected a JSON-lines settlement report, or a CSV "
			               "of Stripe's itemized balance report)",
			               where, csv_cols[k]);
	}
	c->ncols = n;
	return 0;
}

static int csv_line(report *rp, csv *c, char *line, const char *where, size_t lineno, shop_err *e)
{
	char *f[CSV_MAX_COLS];
	int n = csv_split(line, f, CSV_MAX_COLS);
	if (n != c->ncols)
		return err_set(e, SHOP_DATAERR, "%s: %d fields where the header has %d", where, n < 0 ? 0 : n, c->ncols);
	const char *cat = f[c->col[C_CATEGORY]];
	const char *type = !strcmp(cat, "charge") || !strcmp(cat, "partial_capture_reversal") ? "capture"
	                   : !strcmp(cat, "refund")                                           ? "refund"
	                                                                                       : NULL;
	if (!type) /* fees, payouts, transfers: not a payment's */
		return 0;
	char cur[8] = {0};
	const char *raw = f[c->col[C_CURRENCY]];
	for (size_t i = 0; raw[i] && i < sizeof cur - 1; i++)
		cur[i] = (char)(raw[i] >= 'a' && raw[i] <= 'z' ? raw[i] - 32 : raw[i]);
	const currency *cy = currency_find(cur);
	if (!cy)
		return err_set(e, SHOP_DATAERR, "%s: currency: '%s' is not a currency", where, raw);
	int64_t gross;
	shop_err me = {0};
	if (money_parse_decimal(f[c->col[C_GROSS]], cy, &gross, &me))
		return err_set(e, SHOP_DATAERR, "%s: gross: %s", where, me.msg);
	/* A refund is money going out: gross is negative; so is a reversal. */
	int64_t amount = !strcmp(cat, "refund") ? -gross : gross;
	if (!strcmp(cat, "charge") && gross < 0)
		return err_set(e, SHOP_DATAERR, "%s: gross: a negative charge", where);
	return movement(rp, where, type, f[c->col[C_PI]], c->col[C_ORDER] >= 0 ? f[c->col[C_ORDER]] : "", amount, cur,
	                f[c->col[C_CREATED]], lineno, e);
}

static int read_report(shop *s, FILE *in, const char *name, report *rp)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int format = 0; /* 1 JSON lines, 2 CSV */
	csv c = {{0}, 0};
	char where[300];
	while (!s->err.code && (len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		snprintf(where, sizeof where, "%s:%zu", name, lineno);
		if ((size_t)len > s->max_line) {
			err_set(&s->err, SHOP_DATAERR, "%s: line longer than %zu bytes", where, s->max_line);
			break;
		}
		if (memchr(line, 0, (size_t)len)) {
			err_set(&s->err, SHOP_DATAERR, "%s: a NUL byte", where);
			break;
		}
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		size_t bad;
		if (!utf8_valid(line, (size_t)len, &bad)) {
			err_set(&s->err, SHOP_DATAERR, "%s: not UTF-8 (byte %zu)", where, bad + 1);
			break;
		}
		if (!len)
			continue;
		if (!format) {
			format = line[0] == '{' ? 1 : 2;
			rp->money_only = format == 2;
			rp->gateway = format == 2 ? "stripe" : "sandbox";
			if (format == 2) {
				csv_header(&c, line, where, &s->err);
				continue;
			}
		}
		if (format == 1)
			json_line(rp, where, line, (size_t)len, lineno, &s->err);
		else
			csv_line(rp, &c, line, where, lineno, &s->err);
	}
	if (!s->err.code && ferror(in))
		err_set(&s->err, SHOP_IOERR, "%s: read error", name);
	free(line);
	if (!format)
		rp->gateway = s->gateway;
	return s->err.code;
}

static int side_cmp(const void *a, const void *b)
{
	return strcmp(((const side *)a)->ref, ((const side *)b)->ref);
}

/* What shop has refunded of a payment in the report's period. */
static int64_t refunded_in(shop *s, const report *rp, const char *payment_id)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT coalesce(sum(amount), 0) FROM refund WHERE payment_id = ?1 AND "
	                             "status = 'succeeded' AND substr(updated_at, 1, 10) BETWEEN ?2 AND ?3",
	                             &s->err);
	if (!q)
		return INT64_MAX;
	store_bind_text(q, 1, payment_id);
	store_bind_text(q, 2, rp->from);
	store_bind_text(q, 3, rp->to);
	int step = sqlite3_step(q);
	int64_t v = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : INT64_MAX;
	sqlite3_reset(q);
	if (step != SQLITE_ROW)
		store_fail_rc(s->st, step, &s->err, "refund");
	return v;
}

/* 0 when the report shows more refunded for the payment than shop has
 * in the period, by at least the pending refund: that refund happened. */
static int refund_shown(shop *s, const report *rp, const side *sd, const pay_row *r)
{
	int64_t known = refunded_in(s, rp, r->id), extra;
	if (s->err.code || money_sub(sd->refunded, known, &extra))
		return -1;
	return extra >= r->pending_amount ? 0 : -1;
}

/* An unknown payment the report tells the outcome of: settled as the
 * gateway's answer would have settled it. 1 when settled. */
static int settle_from(shop *s, report *rp, const pay_row *r)
{
	side *sd = NULL;
	for (size_t i = 0; i < rp->n && !sd; i++)
		if (r->ref[0] ? !strcmp(rp->g[i].ref, r->ref) : !strcmp(rp->g[i].order, r->order_id))
			sd = &rp->g[i];
	if (!sd)
		return 0;
	gw_res res = {0};
	res.outcome = GW_OK;
	const char *op = r->pending, *at;
	if (!strcmp(op, "authorize") && sd->authorized > 0) {
		snprintf(res.ref, sizeof res.ref, "%s", sd->ref);
		res.amount = sd->authorized;
		at = sd->auth_at;
	} else if (!strcmp(op, "capture") && sd->captured > 0) {
		res.amount = sd->captured;
		at = sd->cap_at;
	} else if (!strcmp(op, "void") && sd->voided) {
		res.amount = r->amount;
		at = sd->void_at;
	} else if (!strcmp(op, "refund") && !refund_shown(s, rp, sd, r)) {
		/* More refunded in the report than shop knows of: this one. */
		res.amount = r->pending_amount;
		at = sd->refund_at;
	} else {
		return s->err.code ? -1 : 0;
	}
	snprintf(res.at, sizeof res.at, "%s", at);
	call c;
	if (pending_call(s, r, &c, &s->err) || record(s, &c, &res, 0, &s->err))
		return -1;
	shop_note(s, "reconcile: payment %s of order %s: its %s settled by the report", r->id, r->order_id, op);
	return 1;
}

static jv side_json(const side *sd, int money_only)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("currency"), jv_string(sd->currency));
	if (!money_only)
		o = jv_object_set(o, jv_string("authorized"), jv_number((double)sd->authorized));
	o = jv_object_set(o, jv_string("captured"), jv_number((double)sd->captured));
	o = jv_object_set(o, jv_string("refunded"), jv_number((double)sd->refunded));
	if (!money_only)
		o = jv_object_set(o, jv_string("voided"), jv_bool(sd->voided));
	return o;
}

static int discrepancy(report *rp, const char *problem, const side *shop_sd, const side *gw_sd, const char *detail,
                       shop_emit emit, void *arg)
{
	const side *any = shop_sd ? shop_sd : gw_sd;
	jv d = jv_object();
	d = jv_object_set(d, jv_string("kind"), jv_string("discrepancy"));
	d = jv_object_set(d, jv_string("problem"), jv_string(problem));
	d = jv_object_set(d, jv_string("payment_id"), shop_sd ? jv_text_or_null(shop_sd->payment) : jv_null());
	d = jv_object_set(d, jv_string("order_id"), jv_text_or_null(any->order));
	d = jv_object_set(d, jv_string("gateway_ref"), jv_text_or_null(any->ref));
	d = jv_object_set(d, jv_string("detail"), jv_string(detail));
	d = jv_object_set(d, jv_string("shop"), shop_sd ? side_json(shop_sd, rp->money_only) : jv_null());
	d = jv_object_set(d, jv_string("gateway"), gw_sd ? side_json(gw_sd, rp->money_only) : jv_null());
	d = jv_object_set(d, jv_string("from"), jv_string(rp->from));
	d = jv_object_set(d, jv_string("to"), jv_string(rp->to));
	return emit(arg, d);
}

/* shop's side: the payments of the gateway with a movement in the period. */
static int shop_side(shop *s, report *rp, side **out, size_t *n)
{
	sqlite3_stmt *q = store_stmt(
		s->st,
		"SELECT id, order_id, currency, gateway_ref, amount, captured, "
		"substr(authorized_at, 1, 10) BETWEEN ?2 AND ?3, substr(captured_at, 1, 10) BETWEEN ?2 AND ?3, "
		"substr(voided_at, 1, 10) BETWEEN ?2 AND ?3, "
		"(SELECT coalesce(sum(amount), 0) FROM refund WHERE payment_id = payment.id AND status = 'succeeded' "
		"AND substr(updated_at, 1, 10) BETWEEN ?2 AND ?3) "
		"FROM payment WHERE gateway = ?1 AND gateway_ref IS NOT NULL ORDER BY gateway_ref",
		&s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, rp->gateway);
	store_bind_text(q, 2, rp->from);
	store_bind_text(q, 3, rp->to);
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		side sd = {0};
		STORE_COPY(sd.payment, q, 0);
		STORE_COPY(sd.order, q, 1);
		STORE_COPY(sd.currency, q, 2);
		STORE_COPY(sd.ref, q, 3);
		int auth = sqlite3_column_int(q, 6), cap_in = sqlite3_column_int(q, 7);
		sd.authorized = auth ? sqlite3_column_int64(q, 4) : 0;
		sd.captured = cap_in ? sqlite3_column_int64(q, 5) : 0;
		sd.voided = sqlite3_column_int(q, 8);
		sd.refunded = sqlite3_column_int64(q, 9);
		int moved = rp->money_only ? (sd.captured || sd.refunded) : (auth || cap_in || sd.voided || sd.refunded);
		if (!moved)
			continue;
		if (*n == cap)
			*out = xrealloc(*out, (cap = cap ? cap * 2 : 64) * sizeof **out);
		(*out)[(*n)++] = sd;
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "payment");
	return 0;
}

int pay_reconcile(shop *s, FILE *in, const char *name, const char *date, shop_emit emit, void *arg)
{
	if (date && !valid_date(date))
		return err_set(&s->err, SHOP_USAGE, "--date: '%s' is not a date (YYYY-MM-DD)", date);
	report rp = {0};
	side *mine = NULL;
	size_t nmine = 0, found = 0, settled = 0;
	rp.date = date;
	if (read_report(s, in, name, &rp) || !shop_store(s))
		goto out;
	if (date) {
		snprintf(rp.from, sizeof rp.from, "%s", date);
		snprintf(rp.to, sizeof rp.to, "%s", date);
	}
	if (!rp.from[0]) {
		shop_note(s, "reconcile: %s: no movements and no --date: nothing to compare", name);
		goto out;
	}
	if (rp.n)
		qsort(rp.g, rp.n, sizeof *rp.g, side_cmp);
	/* Unknown payments first: the report may tell what became of them. */
	static char sql[sizeof row_sql + 64];
	if (!sql[0])
		snprintf(sql, sizeof sql, "%sWHERE status = 'unknown' AND gateway = ?1 ORDER BY id", row_sql);
	sqlite3_stmt *q = store_stmt(s->st, sql, &s->err);
	if (!q)
		goto out;
	store_bind_text(q, 1, rp.gateway);
	size_t nunk;
	pay_row *unk = rows_all(s, q, &nunk);
	for (size_t i = 0; i < nunk && !s->err.code; i++) {
		int k = settle_from(s, &rp, &unk[i]);
		if (k > 0)
			settled++;
		else if (!k) {
			side sd = {0};
			snprintf(sd.payment, sizeof sd.payment, "%s", unk[i].id);
			snprintf(sd.order, sizeof sd.order, "%s", unk[i].order_id);
			snprintf(sd.ref, sizeof sd.ref, "%s", unk[i].ref);
			snprintf(sd.currency, sizeof sd.currency, "%s", unk[i].currency);
			char detail[200];
			snprintf(detail, sizeof detail, "the outcome of its %s is unknown and not in the report", unk[i].pending);
			found++;
			if (discrepancy(&rp, "unknown", &sd, NULL, detail, emit, arg))
				break;
		}
	}
	free(unk);
	if (s->err.code || shop_side(s, &rp, &mine, &nmine))
		goto out;
	/* Both sorted by ref: one merge. */
	size_t i = 0, j = 0;
	while (i < nmine || j < rp.n) {
		int c = i == nmine ? 1 : j == rp.n ? -1 : strcmp(mine[i].ref, rp.g[j].ref);
		const side *a = c <= 0 ? &mine[i] : NULL, *b = c >= 0 ? &rp.g[j] : NULL;
		char detail[300] = "";
		const char *problem = NULL;
		if (!b) {
			problem = "missing_at_gateway";
			snprintf(detail, sizeof detail, "payment %s moved money in %s..%s that the report does not show",
			         a->payment, rp.from, rp.to);
		} else if (!a) {
			problem = "missing_in_shop";
			snprintf(detail, sizeof detail, "report line %zu: %s moved money that shop has no payment for", b->line,
			         b->ref);
		} else if (strcmp(a->currency, b->currency)) {
			problem = "currency";
			snprintf(detail, sizeof detail, "shop has %s, the report %s", a->currency, b->currency);
		} else if (a->captured != b->captured || a->refunded != b->refunded ||
		           (!rp.money_only && a->authorized != b->authorized)) {
			problem = "amount";
			const char *f = a->captured != b->captured ? "captured" : a->refunded != b->refunded ? "refunded"
			                                                                                      : "authorized";
			int64_t x = !strcmp(f, "captured") ? a->captured : !strcmp(f, "refunded") ? a->refunded : a->authorized;
			int64_t y = !strcmp(f, "captured") ? b->captured : !strcmp(f, "refunded") ? b->refunded : b->authorized;
			snprintf(detail, sizeof detail, "%s: shop %" PRId64 ", the report %" PRId64, f, x, y);
		} else if (!rp.money_only && a->voided != b->voided) {
			problem = "state";
			snprintf(detail, sizeof detail, "voided: shop %s, the report %s", a->voided ? "yes" : "no",
			         b->voided ? "yes" : "no");
		}
		if (problem) {
			found++;
			if (discrepancy(&rp, problem, a, b, detail, emit, arg))
				break;
		}
		i += c <= 0;
		j += c >= 0;
	}
	if (found && !s->err.code)
		err_set(&s->err, SHOP_REFUSED,
		        "reconcile: %s..%s: %zu discrepancies (%zu payments in the report, %zu in shop, %zu settled)",
		        rp.from, rp.to, found, rp.n, nmine, settled);
	else if (!s->err.code)
		shop_note(s, "reconcile: %s..%s: clean (%zu payments in the report, %zu in shop, %zu settled)", rp.from,
		          rp.to, rp.n, nmine, settled);
out:
	free(rp.g);
	free(mine);
	return s->err.code;
}
