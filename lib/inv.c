/* inv: see inv.h. */
#include "inv.h"

#include <string.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/store.h"
#include "catalog.h"
#include "order.h"
#include "outbox.h"

#define QTY_MAX 1000000000LL

/* ---- records ---- */

static jv stock_record(sqlite3_stmt *q)
{
	/* columns: sku, warehouse, on_hand, reserved, version, updated_at */
	int64_t on_hand = sqlite3_column_int64(q, 2), reserved = sqlite3_column_int64(q, 3);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("stock"));
	r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 0)));
	r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 1)));
	r = jv_object_set(r, jv_string("on_hand"), jv_number((double)on_hand));
	r = jv_object_set(r, jv_string("reserved"), jv_number((double)reserved));
	r = jv_object_set(r, jv_string("available"), jv_number((double)(on_hand - reserved)));
	r = jv_object_set(r, jv_string("version"), jv_number((double)sqlite3_column_int64(q, 4)));
	r = jv_object_set(r, jv_string("updated_at"), jv_string(store_col_text(q, 5)));
	return r;
}

#define STOCK_COLS "sku, warehouse, on_hand, reserved, version, updated_at"
#define RES_COLS "id, order_id, sku, warehouse, qty, state, expires_at, created_at, updated_at"

static jv reservation_record(sqlite3_stmt *q)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("reservation"));
	r = jv_object_set(r, jv_string("id"), jv_string(store_col_text(q, 0)));
	r = jv_object_set(r, jv_string("order_id"), jv_string(store_col_text(q, 1)));
	r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 2)));
	r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 3)));
	r = jv_object_set(r, jv_string("qty"), jv_number((double)sqlite3_column_int64(q, 4)));
	r = jv_object_set(r, jv_string("state"), jv_string(store_col_text(q, 5)));
	r = jv_object_set(r, jv_string("expires_at"), jv_string(store_col_text(q, 6)));
	r = jv_object_set(r, jv_string("created_at"), jv_string(store_col_text(q, 7)));
	r = jv_object_set(r, jv_string("updated_at"), jv_string(store_col_text(q, 8)));
	return r;
}

/* Run a prepared query with text parameters (NULL-terminated) and emit or
 * collect one record per row through make. */
static int each_row(shop *s, sqlite3_stmt *q, jv (*make)(sqlite3_stmt *), shop_emit emit, void *arg, jv *all)
{
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv r = make(q);
		if (all)
			*all = jv_array_append(*all, jv_copy(r));
		if (emit) {
			if (emit(arg, r))
				break;
		} else {
			jv_free(r);
		}
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "read");
	return 0;
}

static int product_exists(shop *s, const char *sku, shop_err *e)
{
	char status[16];
	return catalog_status(s, sku, status, e);
}

static int known_warehouse(shop *s, const char *wh, shop_err *e)
{
	if (shop_warehouse(s, wh))
		return 0;
	return err_set(e, SHOP_NOTFOUND, "warehouse '%s': not in the config (warehouses)", wh);
}

/* ---- the one way stock changes ---- */

/* Move stock of (sku, wh) by the two deltas, in the caller's transaction:
 * refused (SHOP_REFUSED) when the invariant 0 <= reserved <= on_hand would
 * break; the row is updated by compare-and-swap on its version; the ledger
 * row is written. */
static int stock_move(shop *s, const char *sku, const char *wh, int64_t d_on_hand, int64_t d_reserved,
                      const char *reason, const char *actor, const char *ref, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st, "SELECT on_hand, reserved, version FROM stock WHERE sku = ?1 AND warehouse = ?2", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, sku);
	store_bind_text(q, 2, wh);
	int step = sqlite3_step(q);
	int64_t on_hand = 0, reserved = 0, version = 0;
	if (step == SQLITE_ROW) {
		on_hand = sqlite3_column_int64(q, 0);
		reserved = sqlite3_column_int64(q, 1);
		version = sqlite3_column_int64(q, 2);
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, e, sku);
	int64_t oh = on_hand + d_on_hand, rs = reserved + d_reserved;
	if (oh < 0)
		return err_set(e, SHOP_REFUSED, "%s in %s (%s): on hand would be %lld (have %lld)", sku, wh, reason,
		               (long long)oh, (long long)on_hand);
	if (rs < 0)
		return err_set(e, SHOP_SOFTWARE, "%s in %s (%s): reserved would be %lld", sku, wh, reason, (long long)rs);
	if (rs > oh)
		return err_set(e, SHOP_REFUSED, "%s in %s (%s): on hand %lld would be below the %lld reserved", sku, wh,
		               reason, (long long)oh, (long long)rs);
	if (oh > QTY_MAX)
		return err_set(e, SHOP_REFUSED, "%s in %s (%s): on hand would be over %lld", sku, wh, reason, QTY_MAX);
	sqlite3_stmt *w;
	if (version == 0) {
		w = store_stmt(s->st,
		               "INSERT INTO stock (sku, warehouse, on_hand, reserved, version, updated_at) "
		               "VALUES (?1, ?2, ?3, ?4, 1, ?5)",
		               e);
	} else {
		/* Compare-and-swap: inside BEGIN IMMEDIATE nobody else writes, so a
		 * miss means a bug, not a race; it is refused, never applied. */
		w = store_stmt(s->st,
		               "UPDATE stock SET on_hand = ?3, reserved = ?4, version = version + 1, updated_at = ?5 "
		               "WHERE sku = ?1 AND warehouse = ?2 AND version = ?6",
		               e);
	}
	if (!w)
		return e->code;
	store_bind_text(w, 1, sku);
	store_bind_text(w, 2, wh);
	sqlite3_bind_int64(w, 3, oh);
	sqlite3_bind_int64(w, 4, rs);
	store_bind_text(w, 5, now);
	if (version)
		sqlite3_bind_int64(w, 6, version);
	if (store_done(s->st, w, e, sku))
		return e->code;
	if (sqlite3_changes(store_db(s->st)) != 1)
		return err_set(e, SHOP_TEMPFAIL, "%s in %s (%s): changed concurrently (version %lld); try again", sku,
		               wh, reason, (long long)version);
	sqlite3_stmt *l = store_stmt(s->st,
	                             "INSERT INTO ledger (at, sku, warehouse, on_hand_delta, reserved_delta, reason, actor, ref) "
	                             "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	                             e);
	if (!l)
		return e->code;
	store_bind_text(l, 1, now);
	store_bind_text(l, 2, sku);
	store_bind_text(l, 3, wh);
	sqlite3_bind_int64(l, 4, d_on_hand);
	sqlite3_bind_int64(l, 5, d_reserved);
	store_bind_text(l, 6, reason);
	store_bind_text(l, 7, actor);
	store_bind_text(l, 8, ref);
	return store_done(s->st, l, e, "ledger");
}

static int adjusted_event(shop *s, const inv_adjust *a, shop_err *e)
{
	jv d = jv_object();
	d = jv_object_set(d, jv_string("sku"), jv_string(a->sku));
	d = jv_object_set(d, jv_string("warehouse"), jv_string(a->warehouse));
	d = jv_object_set(d, jv_string("delta"), jv_number((double)a->delta));
	d = jv_object_set(d, jv_string("reason"), jv_string(a->reason));
	d = jv_object_set(d, jv_string("actor"), jv_string(a->actor));
	return outbox_emit(s, "inventory.adjusted", a->sku, d, e);
}

static int adjust_one(shop *s, const inv_adjust *a, shop_err *e)
{
	if (known_warehouse(s, a->warehouse, e) || product_exists(s, a->sku, e))
		return e->code;
	if (a->delta == 0)
		return 0;
	if (stock_move(s, a->sku, a->warehouse, a->delta, 0, a->reason, a->actor, NULL, e))
		return e->code;
	return adjusted_event(s, a, e);
}

/* Collected output of a transaction, emitted after its commit. */
static int emit_all(jv all, shop_emit emit, void *arg)
{
	jv_array_foreach(all, i, r)
	{
		if (emit(arg, r))
			break;
	}
	jv_free(all);
	return 0;
}

static int stock_collect(shop *s, const char *sku, const char *wh, jv *all)
{
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT " STOCK_COLS " FROM stock WHERE sku = ?1 AND warehouse = ?2", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	store_bind_text(q, 2, wh);
	return each_row(s, q, stock_record, NULL, NULL, all);
}

int inv_adjust_all(shop *s, const inv_adjust *adj, size_t n, const char *(*label)(void *, size_t), void *larg,
                   shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	jv all = jv_array();
	for (size_t i = 0; i < n && !s->err.code; i++) {
		shop_err ae = {0};
		if (adjust_one(s, &adj[i], &ae) == 0 && stock_collect(s, adj[i].sku, adj[i].warehouse, &all) == 0)
			continue;
		const char *where = label ? label(larg, i) : NULL;
		if (ae.code) {
			if (where)
				err_set(&s->err, ae.code, "%s: %s", where, ae.msg);
			else
				err_set(&s->err, ae.code, "%s", ae.msg);
		}
	}
	if (s->err.code || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(all);
		return s->err.code;
	}
	return emit_all(all, emit, arg);
}

int inv_set(shop *s, const char *sku, const char *wh, int64_t qty, const char *actor, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	if (known_warehouse(s, wh, &s->err) || product_exists(s, sku, &s->err))
		goto fail;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT on_hand FROM stock WHERE sku = ?1 AND warehouse = ?2", &s->err);
	if (!q)
		goto fail;
	store_bind_text(q, 1, sku);
	store_bind_text(q, 2, wh);
	int exists = sqlite3_step(q) == SQLITE_ROW;
	int64_t have = exists ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	inv_adjust a = {sku, wh, "set", actor, qty - have};
	if (a.delta && (stock_move(s, sku, wh, a.delta, 0, "set", actor, NULL, &s->err) || adjusted_event(s, &a, &s->err)))
		goto fail;
	if (!exists && !a.delta &&
	    stock_move(s, sku, wh, 0, 0, "set", actor, NULL, &s->err)) /* a row at 0: known, not missing */
		goto fail;
	jv all = jv_array();
	if (stock_collect(s, sku, wh, &all) || store_commit(s->st, &s->err)) {
		jv_free(all);
		goto fail;
	}
	return emit_all(all, emit, arg);
fail:
	store_rollback(s->st);
	return s->err.code;
}

int inv_show(shop *s, const char *sku, shop_emit emit, void *arg)
{
	if (!shop_store(s) || product_exists(s, sku, &s->err))
		return s->err.code;
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT " STOCK_COLS " FROM stock WHERE sku = ?1 ORDER BY warehouse", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	return each_row(s, q, stock_record, emit, arg, NULL);
}

int inv_list(shop *s, int64_t low, const char *wh, struct jqx *where, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT " STOCK_COLS " FROM stock WHERE (?1 < 0 OR on_hand - reserved <= ?1) "
	                             "AND (?2 IS NULL OR warehouse = ?2) ORDER BY sku, warehouse",
	                             &s->err);
	if (!q)
		return s->err.code;
	sqlite3_bind_int64(q, 1, low);
	store_bind_text(q, 2, wh);
	shop_filter f = {s, where, 0, 0, "stock of", "sku", emit, arg};
	int rc = each_row(s, q, stock_record, shop_filter_emit, &f, NULL);
	return s->err.code ? s->err.code : rc;
}

/* ---- reservations ---- */

static int order_reservations(shop *s, const char *order, jv *all)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT " RES_COLS " FROM reservation WHERE order_id = ?1 "
	                             "ORDER BY created_at, sku, warehouse, id",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order);
	return each_row(s, q, reservation_record, NULL, NULL, all);
}

/* The reservations of an order that hold or took stock: what reserve
 * answers, and what makes a second reserve a no-op. */
static int active_reservations(shop *s, const char *order, jv *all)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT " RES_COLS " FROM reservation WHERE order_id = ?1 "
	                             "AND state IN ('held', 'committed') ORDER BY created_at, sku, warehouse, id",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order);
	return each_row(s, q, reservation_record, NULL, NULL, all);
}

/* The event of an order-level operation: its reservations, as they are. */
static int order_event(shop *s, const char *type, const char *order, jv reservations, shop_err *e)
{
	jv d = jv_object();
	d = jv_object_set(d, jv_string("order_id"), jv_string(order));
	d = jv_object_set(d, jv_string("reservations"), reservations);
	return outbox_emit(s, type, order, d, e);
}

/* The available quantity of sku in warehouse wh. */
static int available(shop *s, const char *sku, const char *wh, int64_t *out)
{
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT on_hand - reserved FROM stock WHERE sku = ?1 AND warehouse = ?2", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	store_bind_text(q, 2, wh);
	int step = sqlite3_step(q);
	*out = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, sku);
	return 0;
}

/* Allocation: take[l * nw + w] units of line l from warehouse w, where
 * the warehouses are in preference order (the order's region first, then
 * priority). One warehouse that serves the whole order if any; else
 * greedily the warehouse that can serve the most remaining lines whole;
 * lines no single warehouse can serve are split in preference order. */
static void allocate(size_t nl, size_t nw, const int64_t *want, int64_t *avail, int64_t *take)
{
	memset(take, 0, nl * nw * sizeof *take);
	for (size_t w = 0; w < nw; w++) {
		size_t l = 0;
		while (l < nl && avail[l * nw + w] >= want[l])
			l++;
		if (l == nl) {
			for (l = 0; l < nl; l++)
				take[l * nw + w] = want[l];
			return;
		}
	}
	int64_t *rem = xmalloc(nl * sizeof *rem);
	memcpy(rem, want, nl * sizeof *rem);
	for (;;) {
		size_t best = nw, best_n = 0;
		for (size_t w = 0; w < nw; w++) {
			size_t n = 0;
			for (size_t l = 0; l < nl; l++)
				if (rem[l] > 0 && avail[l * nw + w] >= rem[l])
					n++;
			if (n > best_n)
				best = w, best_n = n;
		}
		if (best == nw)
			break;
		for (size_t l = 0; l < nl; l++)
			if (rem[l] > 0 && avail[l * nw + best] >= rem[l]) {
				take[l * nw + best] += rem[l];
				avail[l * nw + best] -= rem[l];
				rem[l] = 0;
			}
	}
	for (size_t l = 0; l < nl; l++)
		for (size_t w = 0; w < nw && rem[l] > 0; w++) {
			int64_t t = avail[l * nw + w] < rem[l] ? avail[l * nw + w] : rem[l];
			take[l * nw + w] += t;
			avail[l * nw + w] -= t;
			rem[l] -= t;
		}
	free(rem);
}

/* The warehouses in preference order for a region. */
static const warehouse **preference(shop *s, const char *region)
{
	const warehouse **ws = xmalloc(s->nwarehouses * sizeof *ws);
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < s->nwarehouses; i++) {
			int match = region && *region && !strcmp(s->warehouses[i].region, region);
			if (match == (pass == 0))
				ws[n++] = &s->warehouses[i];
		}
	return ws;
}

static int reserve_in_txn(shop *s, const inv_order *o, jv *out)
{
	shop_err *e = &s->err;
	if (active_reservations(s, o->id, out))
		return e->code;
	if (jv_array_length(jv_copy(*out)) > 0)
		return 0; /* idempotent: this order holds (or took) its stock */
	/* An order whose holds were all released or expired reserves anew. */
	size_t nl = o->nlines, nw = s->nwarehouses;
	if (nl == 0)
		return err_set(e, SHOP_DATAERR, "order %s: no lines", o->id);
	/* Merge lines of one sku: they are one demand. */
	const char **sku = xcalloc(nl, sizeof *sku);
	int64_t *want = xcalloc(nl, sizeof *want);
	size_t n = 0;
	for (size_t i = 0; i < o->nlines; i++) {
		size_t j = 0;
		while (j < n && strcmp(sku[j], o->lines[i].sku))
			j++;
		if (j == n)
			sku[n++] = o->lines[i].sku;
		want[j] += o->lines[i].qty;
		if (want[j] > QTY_MAX) {
			err_set(e, SHOP_DATAERR, "order %s: %s: quantity over %lld", o->id, sku[j], QTY_MAX);
			break;
		}
	}
	nl = n;
	const warehouse **ws = preference(s, o->region);
	int64_t *avail = xcalloc(nl * nw, sizeof *avail);
	int64_t *take = xcalloc(nl * nw, sizeof *take);
	buf short_list = {0};
	for (size_t l = 0; l < nl && !e->code; l++) {
		char status[16];
		if (catalog_status(s, sku[l], status, e)) {
			err_prefix(e, "reserve %s: ", o->id);
			break;
		}
		if (!strcmp(status, "archived")) {
			err_set(e, SHOP_REFUSED, "reserve %s: %s is archived (not for sale)", o->id, sku[l]);
			break;
		}
		int64_t total = 0;
		for (size_t w = 0; w < nw && !e->code; w++) {
			available(s, sku[l], ws[w]->id, &avail[l * nw + w]);
			total += avail[l * nw + w];
		}
		if (total < want[l])
			buf_addf(&short_list, "%s%s (want %lld, available %lld)", short_list.len ? ", " : "", sku[l],
			         (long long)want[l], (long long)total);
	}
	if (!e->code && short_list.len)
		err_set(e, SHOP_REFUSED, "reserve %s: insufficient stock for %s", o->id, short_list.p);
	if (!e->code) {
		allocate(nl, nw, want, avail, take);
		char now[32], exp[32];
		int64_t t = clock_now_ms();
		clock_format(t, now);
		clock_format(t + s->reservation_ttl_ms, exp);
		sqlite3_stmt *ins = store_stmt(s->st,
		                               "INSERT INTO reservation (" RES_COLS ") "
		                               "VALUES (?1, ?2, ?3, ?4, ?5, 'held', ?6, ?7, ?7)",
		                               e);
		for (size_t l = 0; ins && l < nl && !e->code; l++)
			for (size_t w = 0; w < nw && !e->code; w++) {
				if (!take[l * nw + w])
					continue;
				char id[ID_MAX];
				id_new("res", id);
				store_bind_text(ins, 1, id);
				store_bind_text(ins, 2, o->id);
				store_bind_text(ins, 3, sku[l]);
				store_bind_text(ins, 4, ws[w]->id);
				sqlite3_bind_int64(ins, 5, take[l * nw + w]);
				store_bind_text(ins, 6, exp);
				store_bind_text(ins, 7, now);
				if (!store_done(s->st, ins, e, "reservation"))
					stock_move(s, sku[l], ws[w]->id, 0, take[l * nw + w], "reserve", o->id, id, e);
			}
	}
	if (!e->code && !active_reservations(s, o->id, out))
		order_event(s, "inventory.reserved", o->id, jv_copy(*out), e);
	buf_free(&short_list);
	free(take);
	free(avail);
	free(ws);
	free(want);
	free(sku);
	return e->code;
}

int inv_reserve(shop *s, const inv_order *o, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	jv all = jv_array();
	if (reserve_in_txn(s, o, &all) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(all);
		return s->err.code;
	}
	return emit_all(all, emit, arg);
}

int inv_reserve_order(shop *s, const char *order, shop_emit emit, void *arg)
{
	jv rec;
	if (!shop_store(s) || order_get(s, order, &rec, &s->err))
		return s->err.code;
	/* Only an order still to be filled holds stock: a cancelled one (say
	 * by a saga's compensation) must not get a new hold by a late rerun. */
	const char *st = rec_str(rec, "status", &s->err);
	if (st && strcmp(st, "pending") && strcmp(st, "confirmed")) {
		err_set(&s->err, SHOP_REFUSED, "order %s is %s: no stock is held for it", order, st);
		jv_free(rec);
		return s->err.code;
	}
	/* The order record has what reserve needs: its lines' skus and
	 * quantities, and the region of the address it ships to. */
	jv lines = jv_object_get(jv_copy(rec), jv_string("lines"));
	jv addr = jv_object_get(jv_copy(rec), jv_string("address"));
	inv_order o = {order, NULL, NULL, 0};
	if (jv_get_kind(addr) == JV_KIND_OBJECT)
		o.region = rec_str(addr, "region", &s->err);
	int n = jv_get_kind(lines) == JV_KIND_ARRAY ? jv_array_length(jv_copy(lines)) : 0;
	o.lines = xcalloc((size_t)(n ? n : 1), sizeof *o.lines);
	for (int i = 0; i < n && !s->err.code; i++) {
		jv l = jv_array_get(jv_copy(lines), i);
		int64_t q = 0;
		o.lines[i].sku = rec_str(l, "sku", &s->err);
		if (rec_int(l, "qty", &q, &s->err) <= 0 || !o.lines[i].sku)
			err_set(&s->err, SHOP_DATAERR, "order %s: lines[%d]: no sku and qty", order, i);
		o.lines[i].qty = q;
		o.nlines = (size_t)i + 1;
		jv_free(l); /* lines still holds it: the sku stays valid */
	}
	int rc = s->err.code ? s->err.code : inv_reserve(s, &o, emit, arg);
	free(o.lines);
	jv_free(lines);
	jv_free(addr);
	jv_free(rec);
	return rc;
}

int inv_reservations(shop *s, const char *order, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	jv all = jv_array();
	if (order_reservations(s, order, &all)) {
		jv_free(all);
		return s->err.code;
	}
	if (jv_array_length(jv_copy(all)) == 0) {
		jv_free(all);
		return err_set(&s->err, SHOP_NOTFOUND, "order %s: no reservations", order);
	}
	return emit_all(all, emit, arg);
}

static int set_state(shop *s, const char *id, const char *state, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *u = store_stmt(s->st, "UPDATE reservation SET state = ?2, updated_at = ?3 WHERE id = ?1", e);
	if (!u)
		return e->code;
	store_bind_text(u, 1, id);
	store_bind_text(u, 2, state);
	store_bind_text(u, 3, now);
	return store_done(s->st, u, e, "reservation");
}

/* A field of a reservation record (borrowed from r). */
static const char *rf(jv r, const char *k)
{
	jv v = jv_object_get(jv_copy(r), jv_string(k));
	const char *t = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
	jv_free(v);
	return t;
}

static int64_t rq(jv r)
{
	jv v = jv_object_get(jv_copy(r), jv_string("qty"));
	int64_t q = (int64_t)jv_number_value(v);
	jv_free(v);
	return q;
}

typedef enum { OP_RELEASE, OP_COMMIT } order_op;

/* release or commit of an order, inside the transaction. */
static int order_op_in_txn(shop *s, const char *order, order_op op, jv *out)
{
	shop_err *e = &s->err;
	jv rs = jv_array();
	if (order_reservations(s, order, &rs))
		goto out;
	int n = jv_array_length(jv_copy(rs)), held = 0, committed = 0, changed = 0;
	char now[32];
	clock_now_text(now);
	jv_array_foreach(rs, i, r)
	{
		if (!strcmp(rf(r, "state"), "held")) {
			held++;
			if (op == OP_COMMIT && strcmp(rf(r, "expires_at"), now) <= 0 && !e->code)
				err_set(e, SHOP_REFUSED,
				        "commit %s: the hold on %s in %s expired at %s; reserve again (after expire)", order,
				        rf(r, "sku"), rf(r, "warehouse"), rf(r, "expires_at"));
		}
		if (!strcmp(rf(r, "state"), "committed"))
			committed++;
		jv_free(r);
	}
	if (e->code)
		goto out;
	if (op == OP_COMMIT && n == 0) {
		err_set(e, SHOP_NOTFOUND, "commit %s: the order has no reservations", order);
		goto out;
	}
	if (op == OP_COMMIT && held == 0 && committed == 0) {
		err_set(e, SHOP_REFUSED, "commit %s: nothing is held (released or expired); reserve again", order);
		goto out;
	}
	jv_array_foreach(rs, i, r)
	{
		const char *st = rf(r, "state");
		const char *sku = rf(r, "sku"), *wh = rf(r, "warehouse"), *id = rf(r, "id");
		int64_t q = rq(r);
		if (!e->code && op == OP_COMMIT && !strcmp(st, "held")) {
			if (!stock_move(s, sku, wh, -q, -q, "commit", order, id, e))
				set_state(s, id, "committed", e);
			changed = 1;
		} else if (!e->code && op == OP_RELEASE && !strcmp(st, "held")) {
			if (!stock_move(s, sku, wh, 0, -q, "release", order, id, e))
				set_state(s, id, "released", e);
			changed = 1;
		} else if (!e->code && op == OP_RELEASE && !strcmp(st, "committed")) {
			/* The saga's compensation after commit: the stock comes back. */
			if (!stock_move(s, sku, wh, q, 0, "release", order, id, e))
				set_state(s, id, "released", e);
			changed = 1;
		}
		jv_free(r);
	}
	if (!e->code && !order_reservations(s, order, out) && changed)
		order_event(s, op == OP_COMMIT ? "inventory.committed" : "inventory.released", order, jv_copy(*out), e);
out:
	jv_free(rs);
	return e->code;
}

static int order_op_run(shop *s, const char *order, order_op op, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	jv all = jv_array();
	if (order_op_in_txn(s, order, op, &all) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(all);
		return s->err.code;
	}
	return emit_all(all, emit, arg);
}

int inv_release(shop *s, const char *order, shop_emit emit, void *arg)
{
	/* Stock handed to the warehouse in a shipment is not ours to let go
	 * of, and what left in a parcel comes back through a return
	 * (shop-rma). */
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT id, status FROM shipment WHERE order_id = ?1 LIMIT 1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		err_set(&s->err, SHOP_REFUSED, "order %s: shipment %s is %s: its stock is the warehouse's to send", order,
		        store_col_text(q, 0), store_col_text(q, 1));
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "shipment");
	if (s->err.code)
		return s->err.code;
	return order_op_run(s, order, OP_RELEASE, emit, arg);
}

int inv_commit(shop *s, const char *order, shop_emit emit, void *arg)
{
	return order_op_run(s, order, OP_COMMIT, emit, arg);
}

int inv_expire(shop *s, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	shop_err *e = &s->err;
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT " RES_COLS " FROM reservation WHERE state = 'held' AND expires_at <= ?1 "
	                             "ORDER BY order_id, sku, warehouse",
	                             e);
	jv due = jv_array(), all = jv_array();
	if (q) {
		store_bind_text(q, 1, now);
		each_row(s, q, reservation_record, NULL, NULL, &due);
	}
	jv orders = jv_object();
	jv_array_foreach(due, i, r)
	{
		const char *id = rf(r, "id"), *order = rf(r, "order_id");
		if (!e->code && !stock_move(s, rf(r, "sku"), rf(r, "warehouse"), 0, -rq(r), "expire", order, id, e) &&
		    !set_state(s, id, "expired", e)) {
			r = jv_object_set(r, jv_string("state"), jv_string("expired"));
			r = jv_object_set(r, jv_string("updated_at"), jv_string(now));
			jv list = jv_object_get(jv_copy(orders), jv_string(order));
			if (!jv_is_valid(list)) {
				jv_free(list);
				list = jv_array();
			}
			orders = jv_object_set(orders, jv_string(order), jv_array_append(list, jv_copy(r)));
			all = jv_array_append(all, jv_copy(r));
		}
		jv_free(r);
	}
	jv_free(due);
	jv_object_foreach(orders, order, list)
	{
		if (!e->code)
			order_event(s, "inventory.expired", jv_string_value(order), jv_copy(list), e);
		jv_free(order);
		jv_free(list);
	}
	jv_free(orders);
	if (e->code || store_commit(s->st, e)) {
		store_rollback(s->st);
		jv_free(all);
		return e->code;
	}
	return emit_all(all, emit, arg);
}

static jv movement_record(sqlite3_stmt *q)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("movement"));
	r = jv_object_set(r, jv_string("seq"), jv_number((double)sqlite3_column_int64(q, 0)));
	r = jv_object_set(r, jv_string("at"), jv_string(store_col_text(q, 1)));
	r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 2)));
	r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 3)));
	r = jv_object_set(r, jv_string("on_hand_delta"), jv_number((double)sqlite3_column_int64(q, 4)));
	r = jv_object_set(r, jv_string("reserved_delta"), jv_number((double)sqlite3_column_int64(q, 5)));
	r = jv_object_set(r, jv_string("reason"), jv_string(store_col_text(q, 6)));
	r = jv_object_set(r, jv_string("actor"), jv_string(store_col_text(q, 7)));
	r = jv_object_set(r, jv_string("ref"),
	                  sqlite3_column_type(q, 8) == SQLITE_NULL ? jv_null() : jv_string(store_col_text(q, 8)));
	return r;
}

int inv_ledger(shop *s, const char *sku, const char *wh, shop_emit emit, void *arg)
{
	if ((wh && known_warehouse(s, wh, &s->err)) || !shop_store(s) || product_exists(s, sku, &s->err))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT seq, at, sku, warehouse, on_hand_delta, reserved_delta, reason, actor, ref "
	                             "FROM ledger WHERE sku = ?1 AND (?2 IS NULL OR warehouse = ?2) ORDER BY seq",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	store_bind_text(q, 2, wh);
	return each_row(s, q, movement_record, emit, arg, NULL);
}

static jv discrepancy_record(sqlite3_stmt *q)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("discrepancy"));
	r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 0)));
	r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 1)));
	r = jv_object_set(r, jv_string("field"), jv_string(store_col_text(q, 2)));
	r = jv_object_set(r, jv_string("stored"), jv_number((double)sqlite3_column_int64(q, 3)));
	r = jv_object_set(r, jv_string("expected"), jv_number((double)sqlite3_column_int64(q, 4)));
	r = jv_object_set(r, jv_string("source"), jv_string(store_col_text(q, 5)));
	return r;
}

/* on_hand against the ledger's sum; reserved against both the held
 * reservations and the ledger's reserved sum; rows on either side only. */
static const char SQL_RECONCILE[] =
	"WITH led AS (SELECT sku, warehouse, sum(on_hand_delta) AS oh, sum(reserved_delta) AS rs "
	"             FROM ledger GROUP BY sku, warehouse), "
	"     held AS (SELECT sku, warehouse, sum(qty) AS rs FROM reservation WHERE state = 'held' "
	"             GROUP BY sku, warehouse), "
	"     keys AS (SELECT sku, warehouse FROM stock UNION SELECT sku, warehouse FROM led "
	"             UNION SELECT sku, warehouse FROM held), "
	"     cmp AS (SELECT k.sku, k.warehouse, coalesce(s.on_hand, 0) AS on_hand, "
	"                    coalesce(s.reserved, 0) AS reserved, coalesce(l.oh, 0) AS led_oh, "
	"                    coalesce(l.rs, 0) AS led_rs, coalesce(h.rs, 0) AS held_rs "
	"             FROM keys k LEFT JOIN stock s USING (sku, warehouse) LEFT JOIN led l USING (sku, warehouse) "
	"             LEFT JOIN held h USING (sku, warehouse)) "
	"SELECT sku, warehouse, 'on_hand', on_hand, led_oh, 'ledger' FROM cmp WHERE on_hand <> led_oh "
	"UNION ALL SELECT sku, warehouse, 'reserved', reserved, held_rs, 'reservations' FROM cmp "
	"          WHERE reserved <> held_rs "
	"UNION ALL SELECT sku, warehouse, 'reserved', reserved, led_rs, 'ledger' FROM cmp WHERE reserved <> led_rs "
	"ORDER BY 1, 2, 3, 6";

typedef struct count_ctx {
	size_t n;
	shop_emit emit;
	void *arg;
} count_ctx;

static int emit_count(void *arg, jv rec)
{
	count_ctx *c = arg;
	c->n++;
	return c->emit(c->arg, rec);
}

int inv_reconcile(shop *s, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, SQL_RECONCILE, &s->err);
	if (!q)
		return s->err.code;
	count_ctx c = {0, emit, arg};
	if (each_row(s, q, discrepancy_record, emit_count, &c, NULL))
		return s->err.code;
	if (c.n)
		return err_set(&s->err, SHOP_REFUSED, "reconcile: %zu discrepanc%s", c.n, c.n == 1 ? "y" : "ies");
	return 0;
}

/* ---- returns ---- */

int inv_committed(shop *s, const char *order, jv *out, shop_err *e)
{
	*out = jv_array();
	if (!shop_store(s))
		return err_set(e, s->err.code, "%s", s->err.msg);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT sku, warehouse, sum(qty) FROM reservation WHERE order_id = ?1 "
	                             "AND state = 'committed' GROUP BY sku, warehouse ORDER BY sku, warehouse",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, order);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv r = jv_object();
		r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 0)));
		r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 1)));
		r = jv_object_set(r, jv_string("qty"), jv_number((double)sqlite3_column_int64(q, 2)));
		*out = jv_array_append(*out, r);
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, e, "reservation");
	return 0;
}

int inv_return(shop *s, const char *sku, const char *wh, int64_t qty, int damaged, const char *actor,
               const char *ref, shop_err *e)
{
	if (known_warehouse(s, wh, e))
		return e->code;
	if (qty <= 0 || qty > QTY_MAX)
		return err_set(e, SHOP_SOFTWARE, "%s in %s: return of %lld units", sku, wh, (long long)qty);
	if (stock_move(s, sku, wh, qty, 0, "return", actor, ref, e) ||
	    (damaged && stock_move(s, sku, wh, -qty, 0, "write-off", actor, ref, e)))
		return e->code;
	jv d = jv_object();
	d = jv_object_set(d, jv_string("sku"), jv_string(sku));
	d = jv_object_set(d, jv_string("warehouse"), jv_string(wh));
	d = jv_object_set(d, jv_string("qty"), jv_number((double)qty));
	d = jv_object_set(d, jv_string("condition"), jv_string(damaged ? "damaged" : "resellable"));
	d = jv_object_set(d, jv_string("delta"), jv_number(damaged ? 0 : (double)qty));
	d = jv_object_set(d, jv_string("order_id"), jv_string(actor));
	d = jv_object_set(d, jv_string("rma_id"), ref ? jv_string(ref) : jv_null());
	return outbox_emit(s, "inventory.returned", sku, d, e);
}
