/* rma: see rma.h. */
#include "rma.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "inv.h"
#include "order.h"
#include "outbox.h"
#include "pay.h"

#define QTY_MAX 1000000000LL

static const char *const statuses[] = {"open", "approved", "rejected", "received", "refunded", "closed", NULL};



/* An emit that keeps nothing: for the records of the modules we call
 * (order_set_status prints the order; we print the RMA). */
/* ---- the row ---- */

typedef struct rma_row {
	char id[ID_MAX], status[16], currency[8], condition[16];
	char *order_id, *reason, *reject_reason; /* heap; reject_reason NULL until rejected */
	int64_t amount, shipping, refunded;
	int refunding;
	char received_at[32], refunded_at[32], created_at[32], updated_at[32];
} rma_row;

static void row_free(rma_row *r)
{
	free(r->order_id);
	free(r->reason);
	free(r->reject_reason);
	memset(r, 0, sizeof *r);
}

/* What the status forgets: was it received, rejected, refunded? */
static int was_received(const rma_row *r)
{
	return r->condition[0] != 0;
}
static int was_rejected(const rma_row *r)
{
	return r->reject_reason != NULL;
}
static int was_refunded(const rma_row *r)
{
	return r->refunded_at[0] != 0;
}

#define ROW_COLS                                                                                               \
	"id, order_id, status, reason, reject_reason, condition, currency, amount, shipping, refunded, refunding, " \
	"received_at, refunded_at, created_at, updated_at"

static void row_read(sqlite3_stmt *q, void *row)
{
	rma_row *r = row;
	memset(r, 0, sizeof *r);
	STORE_COPY(r->id, q, 0);
	r->order_id = xstrdup(store_col_text(q, 1));
	STORE_COPY(r->status, q, 2);
	r->reason = xstrdup(store_col_text(q, 3));
	r->reject_reason = sqlite3_column_type(q, 4) == SQLITE_NULL ? NULL : xstrdup(store_col_text(q, 4));
	STORE_COPY(r->condition, q, 5);
	STORE_COPY(r->currency, q, 6);
	r->amount = sqlite3_column_int64(q, 7);
	r->shipping = sqlite3_column_int64(q, 8);
	r->refunded = sqlite3_column_int64(q, 9);
	r->refunding = sqlite3_column_int(q, 10);
	STORE_COPY(r->received_at, q, 11);
	STORE_COPY(r->refunded_at, q, 12);
	STORE_COPY(r->created_at, q, 13);
	STORE_COPY(r->updated_at, q, 14);
}

/* The row of RMA id: 66 when unknown. */
static int row_load(shop *s, const char *id, rma_row *r, shop_err *e)
{
	memset(r, 0, sizeof *r);
	sqlite3_stmt *q = store_stmt(s->st, "SELECT " ROW_COLS " FROM rma WHERE id = ?1", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, id);
	int got = store_row(s->st, q, row_read, r, e, id);
	if (got < 0)
		return e->code;
	if (!got)
		return err_set(e, SHOP_NOTFOUND, "rma %s: no such return", id);
	return 0;
}

/* The lines of an RMA as records, in key order. */
static jv lines_of(shop *s, const char *id, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT sku, qty, warehouse, subtotal, discount, tax, amount FROM rma_line "
	                             "WHERE rma_id = ?1 ORDER BY sku, warehouse",
	                             e);
	if (!q)
		return jv_array();
	store_bind_text(q, 1, id);
	return shop_rows(s, q, "rma_line", e);
}

/* The rma record of shop-records(5). */
static jv row_record(shop *s, const rma_row *r, shop_err *e)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("kind"), jv_string("rma"));
	o = jv_object_set(o, jv_string("id"), jv_string(r->id));
	o = jv_object_set(o, jv_string("order_id"), jv_string(r->order_id));
	o = jv_object_set(o, jv_string("status"), jv_string(r->status));
	o = jv_object_set(o, jv_string("reason"), jv_string(r->reason));
	o = jv_object_set(o, jv_string("reject_reason"), jv_text_or_null(r->reject_reason));
	o = jv_object_set(o, jv_string("condition"), r->condition[0] ? jv_string(r->condition) : jv_null());
	o = jv_object_set(o, jv_string("currency"), jv_string(r->currency));
	o = jv_object_set(o, jv_string("amount"), jv_number((double)r->amount));
	o = jv_object_set(o, jv_string("shipping"), jv_number((double)r->shipping));
	o = jv_object_set(o, jv_string("refunded"), jv_number((double)r->refunded));
	o = jv_object_set(o, jv_string("lines"), lines_of(s, r->id, e));
	o = jv_object_set(o, jv_string("created_at"), jv_string(r->created_at));
	o = jv_object_set(o, jv_string("updated_at"), jv_string(r->updated_at));
	return o;
}

/* Reload the RMA after a commit and emit it. */
static int emit_row(shop *s, const char *id, shop_emit emit, void *arg)
{
	rma_row r;
	if (row_load(s, id, &r, &s->err)) {
		row_free(&r);
		return s->err.code;
	}
	jv rec = row_record(s, &r, &s->err);
	row_free(&r);
	shop_emit_built(s, rec, emit, arg);
	return s->err.code;
}

/* An event about the RMA, whose subject is its order: data (consumed) gets
 * rma_id and order_id first. */
static int event(shop *s, const char *type, const rma_row *r, jv data, shop_err *e)
{
	jv d = jv_object();
	d = jv_object_set(d, jv_string("rma_id"), jv_string(r->id));
	d = jv_object_set(d, jv_string("order_id"), jv_string(r->order_id));
	jv_object_foreach(data, k, v) d = jv_object_set(d, k, v);
	jv_free(data);
	return outbox_emit(s, type, r->order_id, d, e);
}

static int moved(shop *s, const rma_row *r, const char *to, jv data, shop_err *e);

/* A status change with its event, inside the transaction: guarded by the
 * status it was read with (inside BEGIN IMMEDIATE a miss is a bug). */
static int move(shop *s, const rma_row *r, const char *to, jv data, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE rma SET status = ?2, updated_at = ?3 WHERE id = ?1 AND status = ?4", e);
	if (!u) {
		jv_free(data);
		return e->code;
	}
	store_bind_text(u, 1, r->id);
	store_bind_text(u, 2, to);
	store_bind_text(u, 3, now);
	store_bind_text(u, 4, r->status);
	if (store_done(s->st, u, e, r->id)) {
		jv_free(data);
		return e->code;
	}
	return moved(s, r, to, data, e);
}

/* The event of a status change made by the UPDATE just run. */
static int moved(shop *s, const rma_row *r, const char *to, jv data, shop_err *e)
{
	if (sqlite3_changes(store_db(s->st)) != 1) {
		jv_free(data);
		return err_set(e, SHOP_TEMPFAIL, "rma %s: changed concurrently; try again", r->id);
	}
	char type[32];
	snprintf(type, sizeof type, "rma.%s", to);
	data = jv_object_set(data, jv_string("from"), jv_string(r->status));
	data = jv_object_set(data, jv_string("to"), jv_string(to));
	return event(s, type, r, data, e);
}

/* One command on one RMA: load it in a write transaction, let fn decide
 * and change (0 with nothing done is fine), commit, emit the record. */
typedef int (*step_fn)(shop *s, const rma_row *r, const void *arg, shop_err *e);

static int run(shop *s, const char *id, step_fn fn, const void *farg, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	rma_row r;
	if (row_load(s, id, &r, &s->err) || fn(s, &r, farg, &s->err) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		row_free(&r);
		return s->err.code;
	}
	row_free(&r);
	return emit_row(s, id, emit, arg);
}

/* ---- open ---- */

/* One sku of the order: its figures (lines of one sku added up), what is
 * claimed of it by live returns, and what this RMA asks. */
typedef struct oline {
	const char *sku; /* borrowed from the order record */
	int64_t qty, subtotal, discount, tax;
	int inclusive;
	int64_t c_units, c_sub, c_disc, c_tax; /* claimed */
	int64_t want;
} oline;

/* A piece of the new RMA: units of a sku from one warehouse. */
typedef struct piece {
	size_t line;
	char *warehouse;
	int64_t qty, subtotal, discount, tax, amount;
} piece;

/* An amount of an order line, absent or null being def. */
static int line_amount(jv l, const char *key, int64_t def, int64_t *out, shop_err *e)
{
	int has = rec_int(l, key, out, e);
	if (has < 0)
		return e->code;
	if (!has)
		*out = def;
	return 0;
}

/* The order's lines, merged by sku, into *ol (heap, *n of them). */
static int order_lines(jv order, const char *order_id, oline **ol, size_t *n, shop_err *e)
{
	*ol = NULL;
	*n = 0;
	jv lines = rec_field(order, "lines");
	if (jv_get_kind(lines) != JV_KIND_ARRAY) {
		jv_free(lines);
		return err_set(e, SHOP_SOFTWARE, "order %s: its record has no lines", order_id);
	}
	int nl = jv_array_length(jv_copy(lines));
	*ol = xcalloc((size_t)(nl ? nl : 1), sizeof **ol);
	for (int i = 0; i < nl && !e->code; i++) {
		jv l = jv_array_get(jv_copy(lines), i);
		shop_err le = {0};
		oline x = {0};
		int64_t unit = 0, qty = 0;
		x.sku = jv_get_kind(l) == JV_KIND_OBJECT ? rec_str(l, "sku", &le) : NULL;
		if (x.sku && rec_int(l, "qty", &qty, &le) > 0 && qty > 0 && qty <= QTY_MAX &&
		    !line_amount(l, "unit_price", 0, &unit, &le)) {
			int64_t sub;
			if (money_mul(unit, qty, &sub))
				err_set(&le, SHOP_DATAERR, "amount out of range");
			x.qty = qty;
			line_amount(l, "subtotal", sub, &x.subtotal, &le);
			line_amount(l, "discount", 0, &x.discount, &le);
			line_amount(l, "tax", 0, &x.tax, &le);
			jv inc = rec_field(l, "tax_inclusive");
			x.inclusive = jv_get_kind(inc) == JV_KIND_TRUE;
			jv_free(inc);
		} else if (!le.code) {
			err_set(&le, SHOP_DATAERR, "no sku and qty");
		}
		if (le.code) {
			err_set(e, SHOP_SOFTWARE, "order %s: lines[%d]: %s", order_id, i, le.msg);
			jv_free(l);
			break;
		}
		size_t j = 0;
		while (j < *n && strcmp((*ol)[j].sku, x.sku))
			j++;
		if (j == *n) {
			(*ol)[(*n)++] = x;
		} else if ((*ol)[j].inclusive != x.inclusive) {
			err_set(e, SHOP_SOFTWARE, "order %s: lines of %s differ in tax_inclusive", order_id, x.sku);
		} else {
			oline *y = &(*ol)[j];
			if (money_add(y->qty, x.qty, &y->qty) || money_add(y->subtotal, x.subtotal, &y->subtotal) ||
			    money_add(y->discount, x.discount, &y->discount) || money_add(y->tax, x.tax, &y->tax))
				err_set(e, SHOP_SOFTWARE, "order %s: %s: amount out of range", order_id, x.sku);
		}
		jv_free(l); /* lines still holds it: the sku stays valid */
	}
	jv_free(lines); /* order still holds them */
	return e->code;
}

/* The share of component c (the line's figure, for all its n units) of
 * the units k+1..k+m, given that the units 1..k have taken sum already:
 * round(c*(k+m)/n) less what was taken; the last units take what is left,
 * so that the shares add up to c exactly. Taken is normally round(c*k/n);
 * it differs when a return in the middle was rejected, and then the next
 * shares even it out, never below 0 nor past c. */
static int share(int64_t c, int64_t n, int64_t k, int64_t m, int64_t taken, int64_t *out)
{
	int64_t left;
	if (money_sub(c, taken, &left))
		return -1;
	if (k + m >= n) {
		*out = left;
		return 0;
	}
	int64_t upto, v;
	if (money_muldiv(c, k + m, n, &upto) || money_sub(upto, taken, &v))
		return -1;
	int64_t lo = left < 0 ? left : 0, hi = left > 0 ? left : 0;
	*out = v < lo ? lo : v > hi ? hi : v;
	return 0;
}

/* Units of a live return count against what can be returned: open and
 * approved ones, and any whose goods came back (refunded, closed, or
 * rejected after they were received). */
#define LIVE "(r.status IN ('open', 'approved') OR r.condition IS NOT NULL)"

/* What the live returns of the order claim: per sku into ol, per sku and
 * warehouse into *by_wh ({sku, warehouse, qty}), and their shipping. */
static int claimed(shop *s, const char *order_id, oline *ol, size_t n, jv *by_wh, int64_t *shipping, shop_err *e)
{
	*by_wh = jv_array();
	*shipping = 0;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT l.sku, l.warehouse, sum(l.qty), sum(l.subtotal), sum(l.discount), "
	                             "sum(l.tax) FROM rma_line l JOIN rma r ON r.id = l.rma_id "
	                             "WHERE r.order_id = ?1 AND " LIVE " GROUP BY l.sku, l.warehouse",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, order_id);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sku = store_col_text(q, 0);
		int64_t units = sqlite3_column_int64(q, 2);
		jv w = jv_object();
		w = jv_object_set(w, jv_string("sku"), jv_string(sku));
		w = jv_object_set(w, jv_string("warehouse"), jv_string(store_col_text(q, 1)));
		w = jv_object_set(w, jv_string("qty"), jv_number((double)units));
		*by_wh = jv_array_append(*by_wh, w);
		for (size_t i = 0; i < n; i++)
			if (!strcmp(ol[i].sku, sku)) {
				ol[i].c_units += units;
				ol[i].c_sub += sqlite3_column_int64(q, 3);
				ol[i].c_disc += sqlite3_column_int64(q, 4);
				ol[i].c_tax += sqlite3_column_int64(q, 5);
			}
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, e, "rma_line");
	q = store_stmt(s->st, "SELECT coalesce(sum(r.shipping), 0) FROM rma r WHERE r.order_id = ?1 AND " LIVE, e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, order_id);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		*shipping = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (step != SQLITE_ROW)
		return store_fail_rc(s->st, step, e, "rma");
	return 0;
}

/* qty of (sku, warehouse) in a list of {sku, warehouse, qty}. */
static int64_t qty_in(jv list, const char *sku, const char *wh)
{
	int64_t q = 0;
	jv_array_foreach(list, i, x)
	{
		shop_err fe = {0};
		const char *a = rec_str(x, "sku", &fe), *b = rec_str(x, "warehouse", &fe);
		int64_t v = 0;
		if (a && b && !strcmp(a, sku) && !strcmp(b, wh) && rec_int(x, "qty", &v, &fe) > 0)
			q += v;
		jv_free(x);
	}
	return q;
}

/* Add m units of line li from warehouse wh to the pieces. */
static void add_piece(piece **p, size_t *np, size_t li, const char *wh, int64_t m)
{
	for (size_t i = 0; i < *np; i++)
		if ((*p)[i].line == li && !strcmp((*p)[i].warehouse, wh)) {
			(*p)[i].qty += m;
			return;
		}
	*p = xrealloc(*p, (*np + 1) * sizeof **p);
	(*p)[(*np)++] = (piece){li, xstrdup(wh), m, 0, 0, 0, 0};
}

/* Take up to *rem units of line li from warehouse wh: what the order's
 * committed reservations took from there, less what live returns and the
 * pieces so far send back there. */
static void take_from(oline *ol, size_t li, const char *wh, jv committed, jv claimed_wh, piece **p, size_t *np,
                      int64_t *rem)
{
	int64_t avail = qty_in(committed, ol[li].sku, wh) - qty_in(claimed_wh, ol[li].sku, wh);
	for (size_t k = 0; k < *np; k++)
		if ((*p)[k].line == li && !strcmp((*p)[k].warehouse, wh))
			avail -= (*p)[k].qty;
	int64_t m = avail < *rem ? avail : *rem;
	if (m > 0) {
		add_piece(p, np, li, wh, m);
		*rem -= m;
	}
}

/* Where the units come back to: the warehouses the order's committed
 * reservations took them from, in the config's order of preference, then
 * any the config no longer names (inv_return refuses those, saying so);
 * units no reservation accounts for (an order imported without stock
 * moves) go to the first warehouse. */
static void allocate(shop *s, oline *ol, size_t n, jv committed, jv claimed_wh, piece **p, size_t *np)
{
	for (size_t li = 0; li < n; li++) {
		int64_t rem = ol[li].want;
		for (size_t w = 0; w < s->nwarehouses && rem > 0; w++)
			take_from(ol, li, s->warehouses[w].id, committed, claimed_wh, p, np, &rem);
		jv_array_foreach(committed, i, c)
		{
			shop_err fe = {0};
			const char *sku = rec_str(c, "sku", &fe), *wh = rec_str(c, "warehouse", &fe);
			if (rem > 0 && sku && wh && !strcmp(sku, ol[li].sku) && !shop_warehouse(s, wh))
				take_from(ol, li, wh, committed, claimed_wh, p, np, &rem);
			jv_free(c);
		}
		if (rem > 0)
			add_piece(p, np, li, s->warehouses[0].id, rem);
	}
}

/* The shares of each piece, in order, each after the units claimed
 * before it (the claimed sums grow as pieces are priced). */
static int price_pieces(oline *ol, piece *p, size_t np, shop_err *e)
{
	for (size_t i = 0; i < np; i++) {
		oline *l = &ol[p[i].line];
		int64_t t;
		if (share(l->subtotal, l->qty, l->c_units, p[i].qty, l->c_sub, &p[i].subtotal) ||
		    share(l->discount, l->qty, l->c_units, p[i].qty, l->c_disc, &p[i].discount) ||
		    share(l->tax, l->qty, l->c_units, p[i].qty, l->c_tax, &p[i].tax) ||
		    money_sub(p[i].subtotal, p[i].discount, &t) || money_add(t, l->inclusive ? 0 : p[i].tax, &p[i].amount))
			return err_set(e, SHOP_DATAERR, "%s: amount out of range", l->sku);
		l->c_units += p[i].qty;
		l->c_sub += p[i].subtotal;
		l->c_disc += p[i].discount;
		l->c_tax += p[i].tax;
	}
	return 0;
}

/* An open RMA of the order with this reason and exactly these items (by
 * sku, added up), into id; "" when there is none. */
static int same_open(shop *s, const char *order_id, const char *reason, const oline *ol, size_t n, char id[ID_MAX],
                     shop_err *e)
{
	id[0] = 0;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT r.id, l.sku, sum(l.qty) FROM rma r JOIN rma_line l ON l.rma_id = r.id "
	                             "WHERE r.order_id = ?1 AND r.status = 'open' AND r.reason = ?2 "
	                             "GROUP BY r.id, l.sku ORDER BY r.created_at, r.id, l.sku",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, order_id);
	store_bind_text(q, 2, reason);
	size_t wanted = 0;
	for (size_t i = 0; i < n; i++)
		wanted += ol[i].want > 0;
	char cur[ID_MAX] = "";
	size_t matched = 0;
	int ok = 1, step = SQLITE_DONE;
	while (!id[0] && (step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *rid = store_col_text(q, 0), *sku = store_col_text(q, 1);
		if (strcmp(cur, rid)) {
			if (cur[0] && ok && matched == wanted)
				snprintf(id, ID_MAX, "%s", cur);
			snprintf(cur, sizeof cur, "%s", rid);
			matched = 0;
			ok = 1;
		}
		size_t i = 0;
		while (i < n && strcmp(ol[i].sku, sku))
			i++;
		if (i < n && ol[i].want == sqlite3_column_int64(q, 2))
			matched++;
		else
			ok = 0;
	}
	if (!id[0] && step == SQLITE_DONE && cur[0] && ok && matched == wanted)
		snprintf(id, ID_MAX, "%s", cur);
	sqlite3_reset(q);
	if (!id[0] && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, e, "rma");
	return 0;
}

static int open_in_txn(shop *s, const char *order_id, const rma_item *items, size_t ni, const char *reason,
                       char id[ID_MAX], shop_err *e)
{
	jv order = jv_invalid(), by_wh = jv_null(), committed = jv_null();
	oline *ol = NULL;
	size_t n = 0, np = 0;
	piece *p = NULL;
	buf problems = {0};
	if (order_get(s, order_id, &order, e))
		goto out;
	shop_err fe = {0};
	const char *status = rec_str(order, "status", &fe), *cur = rec_str(order, "currency", &fe);
	if (!status || !cur || !currency_find(cur)) {
		err_set(e, SHOP_SOFTWARE, "order %s: its record has no status or currency", order_id);
		goto out;
	}
	if (strcmp(status, "delivered") && strcmp(status, "partially_returned")) {
		err_set(e, SHOP_REFUSED, "order %s is %s: only a delivered order can be returned", order_id, status);
		goto out;
	}
	if (order_lines(order, order_id, &ol, &n, e))
		goto out;
	for (size_t i = 0; i < ni; i++) {
		size_t j = 0;
		while (j < n && strcmp(ol[j].sku, items[i].sku))
			j++;
		if (j == n) {
			buf_addf(&problems, "%s%s is not in the order", problems.len ? ", " : "", items[i].sku);
			continue;
		}
		if (money_add(ol[j].want, items[i].qty, &ol[j].want) || ol[j].want > QTY_MAX) {
			err_set(e, SHOP_DATAERR, "%s: quantity over %lld", items[i].sku, QTY_MAX);
			goto out;
		}
	}
	if (problems.len) {
		err_set(e, SHOP_REFUSED, "order %s: %s", order_id, problems.p);
		goto out;
	}
	if (same_open(s, order_id, reason, ol, n, id, e) || id[0])
		goto out; /* asked again: that RMA */
	int64_t c_ship;
	if (claimed(s, order_id, ol, n, &by_wh, &c_ship, e))
		goto out;
	int64_t units = 0, after = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t left = ol[i].qty - ol[i].c_units;
		if (ol[i].want > left)
			buf_addf(&problems, "%s%s (want %lld, returnable %lld of %lld bought)", problems.len ? ", " : "",
			         ol[i].sku, (long long)ol[i].want, (long long)(left > 0 ? left : 0), (long long)ol[i].qty);
		units += ol[i].qty;
		after += ol[i].c_units + ol[i].want;
	}
	if (problems.len) {
		err_set(e, SHOP_REFUSED, "order %s: too many units: %s", order_id, problems.p);
		goto out;
	}
	if (inv_committed(s, order_id, &committed, e))
		goto out;
	allocate(s, ol, n, committed, by_wh, &p, &np);
	if (price_pieces(ol, p, np, e))
		goto out;
	/* The whole order back: its shipping too, as it was charged. */
	int64_t ship = 0, amount = 0;
	if (after >= units) {
		int64_t charged = 0, stax = 0;
		if (line_amount(order, "shipping", 0, &charged, e) || line_amount(order, "shipping_tax", 0, &stax, e) ||
		    money_add(charged, stax, &charged)) {
			err_set(e, SHOP_SOFTWARE, "order %s: its shipping is not an amount", order_id);
			goto out;
		}
		ship = charged - c_ship > 0 ? charged - c_ship : 0;
	}
	amount = ship;
	for (size_t i = 0; i < np; i++)
		if (money_add(amount, p[i].amount, &amount)) {
			err_set(e, SHOP_DATAERR, "order %s: the amount is out of range", order_id);
			goto out;
		}
	if (amount < 0) {
		err_set(e, SHOP_SOFTWARE, "order %s: the return's amount would be %" PRId64, order_id, amount);
		goto out;
	}
	char now[32];
	clock_now_text(now);
	id_new("rma", id);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "INSERT INTO rma (id, order_id, status, reason, currency, amount, shipping, "
	                             "created_at, updated_at) VALUES (?1, ?2, 'open', ?3, ?4, ?5, ?6, ?7, ?7)",
	                             e);
	if (!q)
		goto out;
	store_bind_text(q, 1, id);
	store_bind_text(q, 2, order_id);
	store_bind_text(q, 3, reason);
	store_bind_text(q, 4, cur);
	sqlite3_bind_int64(q, 5, amount);
	sqlite3_bind_int64(q, 6, ship);
	store_bind_text(q, 7, now);
	if (store_done(s->st, q, e, "rma"))
		goto out;
	jv lines = jv_array();
	q = store_stmt(s->st,
	               "INSERT INTO rma_line (rma_id, sku, warehouse, qty, subtotal, discount, tax, amount) "
	               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	               e);
	for (size_t i = 0; q && i < np && !e->code; i++) {
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, ol[p[i].line].sku);
		store_bind_text(q, 3, p[i].warehouse);
		sqlite3_bind_int64(q, 4, p[i].qty);
		sqlite3_bind_int64(q, 5, p[i].subtotal);
		sqlite3_bind_int64(q, 6, p[i].discount);
		sqlite3_bind_int64(q, 7, p[i].tax);
		sqlite3_bind_int64(q, 8, p[i].amount);
		store_done(s->st, q, e, "rma_line");
		jv l = jv_object();
		l = jv_object_set(l, jv_string("sku"), jv_string(ol[p[i].line].sku));
		l = jv_object_set(l, jv_string("qty"), jv_number((double)p[i].qty));
		l = jv_object_set(l, jv_string("warehouse"), jv_string(p[i].warehouse));
		l = jv_object_set(l, jv_string("amount"), jv_number((double)p[i].amount));
		lines = jv_array_append(lines, l);
	}
	if (e->code) {
		jv_free(lines);
		goto out;
	}
	rma_row r = {0};
	snprintf(r.id, sizeof r.id, "%s", id);
	r.order_id = (char *)order_id;
	jv d = jv_object();
	d = jv_object_set(d, jv_string("reason"), jv_string(reason));
	d = jv_object_set(d, jv_string("currency"), jv_string(cur));
	d = jv_object_set(d, jv_string("amount"), jv_number((double)amount));
	d = jv_object_set(d, jv_string("shipping"), jv_number((double)ship));
	d = jv_object_set(d, jv_string("lines"), lines);
	event(s, "rma.opened", &r, d, e);
out:
	for (size_t i = 0; i < np; i++)
		free(p[i].warehouse);
	free(p);
	free(ol);
	buf_free(&problems);
	jv_free(committed);
	jv_free(by_wh);
	jv_free(order); /* last: the skus of ol point into it */
	return e->code;
}

int rma_open(shop *s, const char *order_id, const rma_item *items, size_t n, const char *reason, shop_emit emit,
             void *arg)
{
	if (!reason || !*reason)
		return err_set(&s->err, SHOP_USAGE, "open: --reason R is required");
	if (n == 0)
		return err_set(&s->err, SHOP_USAGE, "open: give at least one --item SKU:QTY");
	for (size_t i = 0; i < n; i++)
		if (!items[i].sku || !*items[i].sku || items[i].qty <= 0 || items[i].qty > QTY_MAX)
			return err_set(&s->err, SHOP_DATAERR, "item %zu: a sku and a quantity of 1 to %lld are required",
			               i + 1, QTY_MAX);
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	char id[ID_MAX] = "";
	if (open_in_txn(s, order_id, items, n, reason, id, &s->err) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		return s->err.code;
	}
	return emit_row(s, id, emit, arg);
}

/* ---- the status changes ---- */

static int approve_step(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	(void)arg;
	if (!strcmp(r->status, "open"))
		return move(s, r, "approved", jv_object(), e);
	if (was_rejected(r))
		return err_set(e, SHOP_REFUSED, "rma %s is %s (rejected): it cannot be approved", r->id, r->status);
	return 0; /* approved, or past it */
}

int rma_approve(shop *s, const char *id, shop_emit emit, void *arg)
{
	return run(s, id, approve_step, NULL, emit, arg);
}

static int reject_step(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	const char *reason = arg;
	if (was_rejected(r))
		return 0;
	if (was_refunded(r))
		return err_set(e, SHOP_REFUSED, "rma %s is %s: it was refunded, it cannot be rejected", r->id, r->status);
	if (r->refunding)
		return err_set(e, SHOP_REFUSED,
		               "rma %s: its refund was asked for and may have been made: settle it first (shop-rma refund %s)",
		               r->id, r->id);
	if (strcmp(r->status, "open") && strcmp(r->status, "approved") && strcmp(r->status, "received"))
		return err_set(e, SHOP_SOFTWARE, "rma %s is %s", r->id, r->status);
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE rma SET reject_reason = ?2 WHERE id = ?1", e);
	if (!u)
		return e->code;
	store_bind_text(u, 1, r->id);
	store_bind_text(u, 2, reason);
	if (store_done(s->st, u, e, r->id))
		return e->code;
	jv d = jv_object();
	d = jv_object_set(d, jv_string("reason"), jv_string(reason));
	d = jv_object_set(d, jv_string("received"), jv_bool(was_received(r)));
	return move(s, r, "rejected", d, e);
}

int rma_reject(shop *s, const char *id, const char *reason, shop_emit emit, void *arg)
{
	if (!reason || !*reason)
		return err_set(&s->err, SHOP_USAGE, "reject: --reason R is required");
	return run(s, id, reject_step, reason, emit, arg);
}

static int receive_step(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	const char *cond = arg;
	if (was_received(r)) {
		if (strcmp(r->condition, cond))
			return err_set(e, SHOP_REFUSED, "rma %s was received already, as %s", r->id, r->condition);
		return 0;
	}
	if (strcmp(r->status, "approved"))
		return err_set(e, SHOP_REFUSED, "rma %s is %s: only an approved return is received%s", r->id, r->status,
		               !strcmp(r->status, "open") ? " (approve it first)" : "");
	int damaged = !strcmp(cond, "damaged");
	sqlite3_stmt *q = store_stmt(s->st, "SELECT sku, warehouse, qty FROM rma_line WHERE rma_id = ?1 ORDER BY sku, warehouse", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, r->id);
	/* Rows first: inv_return runs statements of its own. */
	jv lines = shop_rows(s, q, "rma_line", e);
	if (e->code) {
		jv_free(lines);
		return e->code;
	}
	jv_array_foreach(lines, i, l)
	{
		shop_err fe = {0};
		int64_t qty = 0;
		const char *sku = rec_str(l, "sku", &fe), *wh = rec_str(l, "warehouse", &fe);
		rec_int(l, "qty", &qty, &fe);
		if (!e->code && inv_return(s, sku, wh, qty, damaged, r->order_id, r->id, e))
			err_prefix(e, "rma %s: ", r->id);
		jv_free(l);
	}
	if (e->code) {
		jv_free(lines);
		return e->code;
	}
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE rma SET condition = ?2, received_at = ?3 WHERE id = ?1", e);
	if (!u) {
		jv_free(lines);
		return e->code;
	}
	store_bind_text(u, 1, r->id);
	store_bind_text(u, 2, cond);
	store_bind_text(u, 3, now);
	if (store_done(s->st, u, e, r->id)) {
		jv_free(lines);
		return e->code;
	}
	jv d = jv_object();
	d = jv_object_set(d, jv_string("condition"), jv_string(cond));
	d = jv_object_set(d, jv_string("lines"), lines);
	return move(s, r, "received", d, e);
}

int rma_receive(shop *s, const char *id, const char *condition, shop_emit emit, void *arg)
{
	if (!condition || (strcmp(condition, "resellable") && strcmp(condition, "damaged")))
		return err_set(&s->err, SHOP_USAGE, "receive: --condition must be resellable or damaged%s%s%s",
		               condition ? " (not '" : "", condition ? condition : "", condition ? "')" : "");
	return run(s, id, receive_step, condition, emit, arg);
}

static int close_step(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	(void)arg;
	if (!strcmp(r->status, "closed"))
		return 0;
	if (strcmp(r->status, "refunded") && strcmp(r->status, "rejected"))
		return err_set(e, SHOP_REFUSED, "rma %s is %s: only a refunded or rejected return is closed", r->id,
		               r->status);
	return move(s, r, "closed", jv_object(), e);
}

int rma_close(shop *s, const char *id, shop_emit emit, void *arg)
{
	return run(s, id, close_step, NULL, emit, arg);
}

/* ---- refund ---- */

/* Step 1: a received RMA is marked refunding (so that a reject cannot
 * race the money); one refunded already needs no money. */
static int refund_intent(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	(void)arg;
	if (was_refunded(r))
		return 0;
	if (strcmp(r->status, "received"))
		return err_set(e, SHOP_REFUSED, "rma %s is %s: only a received return is refunded%s", r->id, r->status,
		               !strcmp(r->status, "open") || !strcmp(r->status, "approved") ? " (receive it first)" : "");
	if (r->refunding)
		return 0;
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE rma SET refunding = 1 WHERE id = ?1", e);
	if (!u)
		return e->code;
	store_bind_text(u, 1, r->id);
	return store_done(s->st, u, e, r->id);
}

/* What the payment shows of the refunds for one RMA. */
typedef struct pay_seen {
	const char *rma;
	int64_t amount;
	char refund_id[ID_MAX];
	int found;   /* a succeeded refund of the amount */
	int pending; /* one succeeded, or whose outcome is not known */
} pay_seen;

static int see_payment(void *arg, jv rec)
{
	pay_seen *ps = arg;
	jv refunds = rec_field(rec, "refunds");
	if (jv_get_kind(refunds) == JV_KIND_ARRAY) {
		jv_array_foreach(refunds, i, f)
		{
			shop_err fe = {0};
			const char *rma = rec_str(f, "rma_id", &fe), *st = rec_str(f, "status", &fe), *id = rec_str(f, "id", &fe);
			int64_t amount = 0;
			if (rma && st && !strcmp(rma, ps->rma)) {
				if (strcmp(st, "failed"))
					ps->pending = 1;
				if (!strcmp(st, "succeeded") && rec_int(f, "amount", &amount, &fe) > 0 && amount == ps->amount) {
					ps->found = 1;
					snprintf(ps->refund_id, sizeof ps->refund_id, "%s", id ? id : "");
				}
			}
			jv_free(f);
		}
	}
	jv_free(refunds);
	jv_free(rec);
	return 0;
}

/* After a failed refund: when the payment shows no refund for the RMA
 * that succeeded or may have (none asked, or all failed), nothing went
 * out and the intent goes, so that a reject may follow. Read in the
 * transaction that clears it. */
static int refund_failed(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	(void)arg;
	if (!r->refunding || was_refunded(r))
		return 0;
	pay_seen ps = {r->id, r->amount, "", 0, 0};
	int rc = pay_show(s, r->order_id, see_payment, &ps);
	if (rc == SHOP_NOTFOUND)
		err_clear(e); /* no payment: no refund */
	else if (rc)
		return rc;
	if (ps.pending)
		return 0;
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE rma SET refunding = 0 WHERE id = ?1", e);
	if (!u)
		return e->code;
	store_bind_text(u, 1, r->id);
	return store_done(s->st, u, e, r->id);
}

/* Step 3: the money went back: received -> refunded. */
static int refund_done(shop *s, const rma_row *r, const void *arg, shop_err *e)
{
	const char *refund_id = arg;
	if (was_refunded(r))
		return 0;
	if (strcmp(r->status, "received"))
		return err_set(e, SHOP_SOFTWARE, "rma %s is %s after its refund", r->id, r->status);
	char now[32];
	clock_now_text(now);
	/* One statement: the table's CHECK ties refunded_at to the status. */
	sqlite3_stmt *u = store_stmt(s->st,
	                             "UPDATE rma SET status = 'refunded', refunded = amount, refunded_at = ?2, "
	                             "refunding = 0, updated_at = ?2 WHERE id = ?1 AND status = 'received'",
	                             e);
	if (!u)
		return e->code;
	store_bind_text(u, 1, r->id);
	store_bind_text(u, 2, now);
	if (store_done(s->st, u, e, "rma"))
		return e->code;
	jv d = jv_object();
	d = jv_object_set(d, jv_string("currency"), jv_string(r->currency));
	d = jv_object_set(d, jv_string("amount"), jv_number((double)r->amount));
	d = jv_object_set(d, jv_string("refund_id"), jv_text_or_null(refund_id && *refund_id ? refund_id : NULL));
	return moved(s, r, "refunded", d, e);
}

/* The order's status after a refund: returned once every unit of it was
 * refunded by returns, else partially_returned. */
static int order_after_refund(shop *s, const char *order_id)
{
	jv order;
	if (order_get(s, order_id, &order, &s->err))
		return s->err.code;
	oline *ol;
	size_t n;
	int64_t units = 0, back = 0;
	if (order_lines(order, order_id, &ol, &n, &s->err)) {
		jv_free(order);
		return s->err.code;
	}
	for (size_t i = 0; i < n; i++)
		units += ol[i].qty;
	free(ol);
	jv_free(order);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT coalesce(sum(l.qty), 0) FROM rma_line l JOIN rma r ON r.id = l.rma_id "
	                             "WHERE r.order_id = ?1 AND r.refunded_at IS NOT NULL",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order_id);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		back = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (step != SQLITE_ROW)
		return store_fail_rc(s->st, step, &s->err, "rma_line");
	const char *to = back >= units ? "returned" : "partially_returned";
	int rc = order_set_status(s, order_id, to, NULL, shop_drop, NULL);
	if (rc == SHOP_REFUSED) {
		/* The money went back and the RMA says so: that is done. The order
		 * is somewhere returns do not lead (someone moved it): say so. */
		shop_err oe = s->err;
		err_clear(&s->err);
		shop_note(s, "%s (it stays as it is)", oe.msg);
		return 0;
	}
	return rc;
}

int rma_refund(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	rma_row r;
	/* 1: the intent, in its own transaction. */
	if (store_begin(s->st, &s->err))
		return s->err.code;
	if (row_load(s, id, &r, &s->err) || refund_intent(s, &r, NULL, &s->err) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		row_free(&r);
		return s->err.code;
	}
	/* 2: the money, through shop-pay's idempotent refund for this RMA. */
	pay_seen ps = {id, r.amount, "", 0, 0};
	if (!was_refunded(&r) && r.amount > 0) {
		char amount[32];
		snprintf(amount, sizeof amount, "%" PRId64, r.amount);
		int rc = pay_refund(s, r.order_id, amount, id, see_payment, &ps);
		if (rc) {
			err_prefix(&s->err, "rma %s: ", id);
			shop_err keep = s->err;
			err_clear(&s->err);
			if (run(s, id, refund_failed, NULL, shop_drop, NULL))
				shop_note(s, "rma %s: %s", id, s->err.msg); /* the refund's error is the one to report */
			s->err = keep;
			row_free(&r);
			return s->err.code;
		}
		if (!ps.found) {
			err_set(&s->err, SHOP_SOFTWARE, "rma %s: the payment of order %s shows no refund of %" PRId64 " for it",
			        id, r.order_id, r.amount);
			row_free(&r);
			return s->err.code;
		}
	}
	/* 3: the RMA refunded; 4: the order's status. */
	char *order_id = xstrdup(r.order_id);
	row_free(&r);
	int rc = run(s, id, refund_done, ps.refund_id, shop_drop, NULL);
	if (!rc)
		rc = order_after_refund(s, order_id);
	if (rc)
		err_prefix(&s->err, "rma %s: ", id);
	free(order_id);
	return rc ? rc : emit_row(s, id, emit, arg);
}

/* ---- reading ---- */

int rma_show(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	return emit_row(s, id, emit, arg);
}

int rma_list(shop *s, const rma_filter *f, shop_emit emit, void *arg)
{
	if (f->status) {
		size_t k = 0;
		while (statuses[k] && strcmp(statuses[k], f->status))
			k++;
		if (!statuses[k])
			return err_set(&s->err, SHOP_USAGE,
			               "status '%s' is not one of open, approved, rejected, received, refunded, closed",
			               f->status);
	}
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT " ROW_COLS " FROM rma WHERE (?1 IS NULL OR status = ?1) AND "
	                             "(?2 IS NULL OR order_id = ?2) ORDER BY created_at DESC, id DESC",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, f->status);
	store_bind_text(q, 2, f->order);
	/* Rows first: the lines are read with another statement. */
	size_t n;
	rma_row *rows = store_rows(s->st, q, sizeof *rows, row_read, &n, &s->err, "rma");
	shop_filter flt = {s, f->where, f->limit, 0, "rma", "id", emit, arg};
	size_t i = 0;
	for (; i < n && !s->err.code; i++) {
		if (shop_emit_built(s, row_record(s, &rows[i], &s->err), shop_filter_emit, &flt))
			break;
	}
	for (i = 0; i < n; i++)
		row_free(&rows[i]);
	free(rows);
	return s->err.code;
}
