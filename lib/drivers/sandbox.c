/* sandbox: the built-in gateway. Offline and deterministic, it behaves as
 * a remote gateway would, from its own books in the store (sandbox_intent,
 * sandbox_txn, sandbox_key), written in transactions of its own, never in
 * shop's: so idempotency and reconciliation have a real other side.
 *
 * Its payment methods are Stripe's test methods, plus two of its own for
 * the failures a real gateway has (shop-pay(1) lists them):
 * pm_sandbox_unavailable, with which every call fails before the gateway
 * acts, and pm_sandbox_timeout, with which each new request is carried out
 * and then answered by a timeout, as if the connection dropped after the
 * gateway committed; its retry with the same key gets the stored answer. */
#include "gateway.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/ids.h"
#include "../base/store.h"

enum { M_OK, M_DECLINE, M_UNAVAILABLE, M_TIMEOUT };

static const struct method {
	const char *name;
	int kind;
	const char *code, *msg;
} methods[] = {
	{"pm_card_visa", M_OK, NULL, NULL},
	{"pm_card_mastercard", M_OK, NULL, NULL},
	{"pm_card_amex", M_OK, NULL, NULL},
	{"pm_card_chargeDeclined", M_DECLINE, "generic_decline", "Your card was declined."},
	{"pm_card_chargeDeclinedInsufficientFunds", M_DECLINE, "insufficient_funds", "Your card has insufficient funds."},
	{"pm_card_insufficient_funds", M_DECLINE, "insufficient_funds", "Your card has insufficient funds."},
	{"pm_card_chargeDeclinedExpiredCard", M_DECLINE, "expired_card", "Your card has expired."},
	{"pm_card_chargeDeclinedProcessingError", M_DECLINE, "processing_error",
	 "An error occurred while processing your card."},
	{"pm_sandbox_unavailable", M_UNAVAILABLE, NULL, NULL},
	{"pm_sandbox_timeout", M_TIMEOUT, NULL, NULL},
};

static const struct method *method_find(const char *name)
{
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (name && !strcmp(methods[i].name, name))
			return &methods[i];
	return NULL;
}

typedef struct sandbox {
	store *st;
	int64_t hold_ms;
} sandbox;

static void *sb_open(const gw_conf *c, shop_err *e)
{
	if (!c->st) {
		err_set(e, SHOP_SOFTWARE, "sandbox gateway: no store");
		return NULL;
	}
	sandbox *sb = xmalloc(sizeof *sb);
	sb->st = c->st;
	sb->hold_ms = c->hold_ms > 0 ? c->hold_ms : 7LL * 24 * 3600 * 1000;
	return sb;
}

static void sb_close(void *impl)
{
	free(impl);
}

/* The gateway's failure to keep its books: to the caller it is a gateway
 * that did not answer sensibly, which may have acted. */
static void books_failed(gw_res *res, shop_err *e)
{
	gw_set(res, e->code == SHOP_TEMPFAIL ? GW_NOT_SENT : GW_UNKNOWN, "sandbox books: %s", e->msg);
}

static int txn(sandbox *sb, const char *type, const char *ref, const char *order, int64_t amount,
               const char *currency, const char *now, shop_err *e)
{
	char id[ID_MAX];
	id_new("txn", id);
	sqlite3_stmt *q = store_stmt(sb->st,
	                             "INSERT INTO sandbox_txn (id, type, ref, order_id, amount, currency, at) "
	                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, id);
	store_bind_text(q, 2, type);
	store_bind_text(q, 3, ref);
	store_bind_text(q, 4, order);
	sqlite3_bind_int64(q, 5, amount);
	store_bind_text(q, 6, currency);
	store_bind_text(q, 7, now);
	return store_done(sb->st, q, e, "sandbox_txn");
}

typedef struct intent {
	char method[128], currency[8], status[24], expires_at[32];
	int64_t amount, received, refunded;
} intent;

/* 1 found, 0 not, -1 error. */
static int intent_load(sandbox *sb, const char *ref, intent *in, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(sb->st,
	                             "SELECT method, currency, status, expires_at, amount, received, refunded "
	                             "FROM sandbox_intent WHERE ref = ?1",
	                             e);
	if (!q)
		return -1;
	store_bind_text(q, 1, ref);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		snprintf(in->method, sizeof in->method, "%s", store_col_text(q, 0));
		snprintf(in->currency, sizeof in->currency, "%s", store_col_text(q, 1));
		snprintf(in->status, sizeof in->status, "%s", store_col_text(q, 2));
		snprintf(in->expires_at, sizeof in->expires_at, "%s", store_col_text(q, 3));
		in->amount = sqlite3_column_int64(q, 4);
		in->received = sqlite3_column_int64(q, 5);
		in->refunded = sqlite3_column_int64(q, 6);
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_fail_rc(sb->st, step, e, "sandbox_intent");
		return -1;
	}
	return step == SQLITE_ROW;
}

static int intent_update(sandbox *sb, const char *ref, const char *status, int64_t received, int64_t refunded,
                         shop_err *e)
{
	sqlite3_stmt *q = store_stmt(
		sb->st, "UPDATE sandbox_intent SET status = ?2, received = ?3, refunded = ?4 WHERE ref = ?1", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, ref);
	store_bind_text(q, 2, status);
	sqlite3_bind_int64(q, 3, received);
	sqlite3_bind_int64(q, 4, refunded);
	return store_done(sb->st, q, e, "sandbox_intent");
}

/* Carry out r (inside the sandbox's transaction). *m gets the method the
 * payment was made with. Returns nonzero on a books error (e set). */
static int execute(sandbox *sb, const gw_req *r, gw_res *res, const struct method **m, shop_err *e)
{
	char now[32];
	int64_t now_ms = clock_now_ms();
	clock_format(now_ms, now);
	if (!strcmp(r->op, "authorize")) {
		*m = method_find(r->method);
		if (!*m) {
			gw_set(res, GW_ERROR, "No such PaymentMethod: '%s' (resource_missing)", r->method ? r->method : "");
			res->code = SHOP_DATAERR;
			return 0;
		}
		if ((*m)->kind == M_UNAVAILABLE)
			return 0;
		if ((*m)->kind == M_DECLINE) {
			gw_set(res, GW_DECLINED, "card declined: %s (%s)", (*m)->code, (*m)->msg);
			return 0;
		}
		char ref[ID_MAX], exp[32];
		id_new("pi", ref);
		clock_format(now_ms + sb->hold_ms, exp);
		sqlite3_stmt *q = store_stmt(sb->st,
		                             "INSERT INTO sandbox_intent (ref, order_id, method, currency, amount, "
		                             "status, created_at, expires_at) "
		                             "VALUES (?1, ?2, ?3, ?4, ?5, 'requires_capture', ?6, ?7)",
		                             e);
		if (!q)
			return e->code;
		store_bind_text(q, 1, ref);
		store_bind_text(q, 2, r->order_id);
		store_bind_text(q, 3, r->method);
		store_bind_text(q, 4, r->currency);
		sqlite3_bind_int64(q, 5, r->amount);
		store_bind_text(q, 6, now);
		store_bind_text(q, 7, exp);
		if (store_done(sb->st, q, e, "sandbox_intent") ||
		    txn(sb, "authorization", ref, r->order_id, r->amount, r->currency, now, e))
			return e->code;
		snprintf(res->ref, sizeof res->ref, "%s", ref);
		res->amount = r->amount;
		res->outcome = GW_OK;
		return 0;
	}
	intent in;
	int found = intent_load(sb, r->ref ? r->ref : "", &in, e);
	if (found < 0)
		return e->code;
	if (!found) {
		gw_set(res, GW_ERROR, "No such payment_intent: '%s' (resource_missing)", r->ref ? r->ref : "");
		res->code = SHOP_SOFTWARE;
		return 0;
	}
	*m = method_find(in.method);
	if ((*m)->kind == M_UNAVAILABLE)
		return 0;
	/* An authorization lapses after the hold, as a card's does. */
	int64_t exp_ms;
	if (!strcmp(in.status, "requires_capture") && !clock_parse_rfc3339(in.expires_at, &exp_ms) &&
	    now_ms >= exp_ms) {
		/* In the books as a void, so that the settlement report shows it. */
		if (intent_update(sb, r->ref, "canceled", 0, 0, e) ||
		    txn(sb, "void", r->ref, r->order_id, in.amount, in.currency, now, e))
			return e->code;
		snprintf(in.status, sizeof in.status, "canceled");
	}
	if (!strcmp(r->op, "capture")) {
		if (strcmp(in.status, "requires_capture")) {
			gw_set(res, GW_DECLINED, "payment_intent_unexpected_state: the payment is %s, not requires_capture",
			       in.status);
			res->canceled = !strcmp(in.status, "canceled");
			return 0;
		}
		if (r->amount <= 0 || r->amount > in.amount) {
			gw_set(res, GW_DECLINED, "amount_too_large: %" PRId64 " is more than the %" PRId64 " held", r->amount,
			       in.amount);
			return 0;
		}
		if (intent_update(sb, r->ref, "succeeded", r->amount, 0, e) ||
		    txn(sb, "capture", r->ref, r->order_id, r->amount, in.currency, now, e))
			return e->code;
		res->amount = r->amount;
	} else if (!strcmp(r->op, "void")) {
		if (strcmp(in.status, "requires_capture")) {
			gw_set(res, GW_DECLINED, "payment_intent_unexpected_state: the payment is %s and cannot be canceled",
			       in.status);
			res->canceled = !strcmp(in.status, "canceled");
			return 0;
		}
		if (intent_update(sb, r->ref, "canceled", 0, 0, e) ||
		    txn(sb, "void", r->ref, r->order_id, in.amount, in.currency, now, e))
			return e->code;
		res->amount = in.amount;
	} else if (!strcmp(r->op, "refund")) {
		if (strcmp(in.status, "succeeded")) {
			gw_set(res, GW_DECLINED, "charge_not_captured: the payment is %s; nothing to refund", in.status);
			return 0;
		}
		if (r->amount <= 0 || r->amount > in.received - in.refunded) {
			gw_set(res, GW_DECLINED, "amount_too_large: %" PRId64 " is more than the %" PRId64 " left to refund",
			       r->amount, in.received - in.refunded);
			return 0;
		}
		char ref[ID_MAX];
		id_new("re", ref);
		if (intent_update(sb, r->ref, "succeeded", in.received, in.refunded + r->amount, e) ||
		    txn(sb, "refund", r->ref, r->order_id, r->amount, in.currency, now, e))
			return e->code;
		snprintf(res->ref, sizeof res->ref, "%s", ref);
		res->amount = r->amount;
	} else {
		gw_set(res, GW_ERROR, "unknown operation '%s'", r->op);
		res->code = SHOP_SOFTWARE;
		return 0;
	}
	if (!res->ref[0])
		snprintf(res->ref, sizeof res->ref, "%s", r->ref);
	res->outcome = GW_OK;
	return 0;
}

/* The stored answer: "OUTCOME CANCELED AMOUNT REF\tREASON". */
static void answer_text(const gw_res *res, buf *b)
{
	buf_addf(b, "%d %d %" PRId64 " %s\t%s", (int)res->outcome, res->canceled, res->amount,
	         res->ref[0] ? res->ref : "-", res->reason);
}

static int answer_parse(const char *t, gw_res *res)
{
	int o, canceled, n = 0;
	long long amount;
	char ref[128];
	if (sscanf(t, "%d %d %lld %127s%n", &o, &canceled, &amount, ref, &n) != 4 || t[n] != '\t')
		return -1;
	res->outcome = (enum gw_outcome)o;
	res->canceled = canceled;
	res->amount = amount;
	snprintf(res->ref, sizeof res->ref, "%s", strcmp(ref, "-") ? ref : "");
	snprintf(res->reason, sizeof res->reason, "%s", t + n + 1);
	return 0;
}

static void sb_call(void *impl, const gw_req *r, gw_res *res)
{
	sandbox *sb = impl;
	shop_err e = {0};
	buf req = {0};
	buf_addf(&req, "%s|%s|%s|%" PRId64 "|%s|%s|%s", r->op, r->order_id ? r->order_id : "",
	           r->method ? r->method : "", r->amount, r->currency ? r->currency : "", r->ref ? r->ref : "",
	           r->rma_id ? r->rma_id : "");
	const struct method *m = NULL;
	int replayed = 0;
	if (store_begin(sb->st, &e)) {
		books_failed(res, &e);
		goto out;
	}
	sqlite3_stmt *q = store_stmt(sb->st, "SELECT request, response FROM sandbox_key WHERE key = ?1", &e);
	if (!q)
		goto fail;
	store_bind_text(q, 1, r->key);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		replayed = 1;
		if (strcmp(store_col_text(q, 0), buf_str(&req))) {
			gw_set(res, GW_ERROR, "idempotency_error: key '%s' was used with other parameters", r->key);
			res->code = SHOP_SOFTWARE;
		} else if (answer_parse(store_col_text(q, 1), res)) {
			err_set(&e, SHOP_SOFTWARE, "stored answer for key '%s' is garbled", r->key);
		}
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		store_fail_rc(sb->st, step, &e, "sandbox_key");
		goto fail;
	}
	if (e.code)
		goto fail;
	if (!replayed) {
		if (execute(sb, r, res, &m, &e))
			goto fail;
		if (m && m->kind == M_UNAVAILABLE) {
			store_rollback(sb->st);
			gw_set(res, GW_NOT_SENT, "sandbox gateway unavailable (%s)", m->name);
			goto out;
		}
		/* As Stripe does: answers of requests that reached the books are
		 * kept under the key; errors in the request are not. */
		if (res->outcome == GW_OK || res->outcome == GW_DECLINED) {
			buf ans = {0};
			answer_text(res, &ans);
			char now[32];
			clock_now_text(now);
			q = store_stmt(sb->st, "INSERT INTO sandbox_key (key, request, response, at) VALUES (?1, ?2, ?3, ?4)",
			               &e);
			if (q) {
				store_bind_text(q, 1, r->key);
				store_bind_text(q, 2, buf_str(&req));
				store_bind_text(q, 3, buf_str(&ans));
				store_bind_text(q, 4, now);
				store_done(sb->st, q, &e, "sandbox_key");
			}
			buf_free(&ans);
			if (e.code)
				goto fail;
		}
	}
	if (store_commit(sb->st, &e))
		goto fail;
	if (!replayed && m && m->kind == M_TIMEOUT && res->outcome == GW_OK) {
		memset(res, 0, sizeof *res);
		gw_set(res, GW_UNKNOWN, "sandbox gateway timed out after it acted (%s)", m->name);
	}
	goto out;
fail:
	store_rollback(sb->st);
	books_failed(res, &e);
out:
	buf_free(&req);
}

const gw_driver gw_sandbox = {"sandbox", sb_open, sb_call, sb_close};

int sandbox_settlement(store *st, const char *date, gw_txn_fn fn, void *arg, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(st,
	                             "SELECT id, type, ref, order_id, amount, currency, at FROM sandbox_txn "
	                             "WHERE ?1 IS NULL OR substr(at, 1, 10) = ?1 ORDER BY seq",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, date);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		if (fn(arg, store_col_text(q, 0), store_col_text(q, 1), store_col_text(q, 2), store_col_text(q, 3),
		       sqlite3_column_int64(q, 4), store_col_text(q, 5), store_col_text(q, 6)))
			break;
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(st, step, e, "sandbox_txn");
	return 0;
}
