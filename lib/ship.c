/* ship: see ship.h. */
#include "ship.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/store.h"
#include "drivers/carrier.h"
#include "order.h"
#include "outbox.h"

typedef struct ship_row {
	int exists;
	char id[ID_MAX], order_id[ID_MAX], warehouse[64], status[24];
	char carrier[32], service[48], currency[8], tracking[64], label_url[256], ref[96], tracker_ref[96];
	char pending_key[128], detail[256];
	char created_at[32], updated_at[32], shipped_at[32], delivered_at[32];
	int64_t weight_g, rate;
} ship_row;

static const char row_sql[] = "SELECT id, order_id, warehouse, status, carrier, service, currency, tracking, "
                              "label_url, carrier_ref, tracker_ref, pending_key, detail, created_at, updated_at, "
                              "shipped_at, delivered_at, coalesce(weight_g, 0), coalesce(rate, 0) FROM shipment ";

static void row_read(sqlite3_stmt *q, void *row)
{
	ship_row *r = row;
	r->exists = 1;
	STORE_COPY(r->id, q, 0);
	STORE_COPY(r->order_id, q, 1);
	STORE_COPY(r->warehouse, q, 2);
	STORE_COPY(r->status, q, 3);
	STORE_COPY(r->carrier, q, 4);
	STORE_COPY(r->service, q, 5);
	STORE_COPY(r->currency, q, 6);
	STORE_COPY(r->tracking, q, 7);
	STORE_COPY(r->label_url, q, 8);
	STORE_COPY(r->ref, q, 9);
	STORE_COPY(r->tracker_ref, q, 10);
	STORE_COPY(r->pending_key, q, 11);
	STORE_COPY(r->detail, q, 12);
	STORE_COPY(r->created_at, q, 13);
	STORE_COPY(r->updated_at, q, 14);
	STORE_COPY(r->shipped_at, q, 15);
	STORE_COPY(r->delivered_at, q, 16);
	r->weight_g = sqlite3_column_int64(q, 17);
	r->rate = sqlite3_column_int64(q, 18);
}

static int row_load(shop *s, const char *id, ship_row *r, shop_err *e)
{
	static char sql[sizeof row_sql + 32];
	if (!sql[0])
		snprintf(sql, sizeof sql, "%sWHERE id = ?1", row_sql);
	memset(r, 0, sizeof *r);
	sqlite3_stmt *q = store_stmt(s->st, sql, e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, id);
	int got = store_row(s->st, q, row_read, r, e, "shipment");
	if (got < 0)
		return e->code;
	if (!got)
		return err_set(e, SHOP_NOTFOUND, "shipment %s: no such shipment", id);
	return 0;
}

static jv lines_of(shop *s, const char *id, shop_err *e)
{
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT sku, qty FROM shipment_line WHERE shipment_id = ?1 ORDER BY sku", e);
	if (!q)
		return jv_array();
	store_bind_text(q, 1, id);
	return shop_rows(s, q, "shipment_line", e);
}

static jv row_record(shop *s, const ship_row *r, shop_err *e)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("kind"), jv_string("shipment"));
	o = jv_object_set(o, jv_string("id"), jv_string(r->id));
	o = jv_object_set(o, jv_string("order_id"), jv_string(r->order_id));
	o = jv_object_set(o, jv_string("warehouse"), jv_string(r->warehouse));
	o = jv_object_set(o, jv_string("status"), jv_string(r->status));
	o = jv_object_set(o, jv_string("lines"), lines_of(s, r->id, e));
	o = jv_object_set(o, jv_string("weight_g"), r->weight_g ? jv_number((double)r->weight_g) : jv_null());
	o = jv_object_set(o, jv_string("carrier"), jv_text_or_null(r->carrier));
	o = jv_object_set(o, jv_string("service"), jv_text_or_null(r->service));
	o = jv_object_set(o, jv_string("rate"), r->carrier[0] ? jv_number((double)r->rate) : jv_null());
	o = jv_object_set(o, jv_string("currency"), jv_text_or_null(r->currency));
	o = jv_object_set(o, jv_string("tracking"), jv_text_or_null(r->tracking));
	o = jv_object_set(o, jv_string("label_url"), jv_text_or_null(r->label_url));
	o = jv_object_set(o, jv_string("detail"), jv_text_or_null(r->detail));
	o = jv_object_set(o, jv_string("created_at"), jv_string(r->created_at));
	o = jv_object_set(o, jv_string("updated_at"), jv_string(r->updated_at));
	o = jv_object_set(o, jv_string("shipped_at"), jv_text_or_null(r->shipped_at));
	o = jv_object_set(o, jv_string("delivered_at"), jv_text_or_null(r->delivered_at));
	return o;
}

static int emit_row(shop *s, const char *id, shop_emit emit, void *arg)
{
	ship_row r;
	if (row_load(s, id, &r, &s->err))
		return s->err.code;
	shop_emit_built(s, row_record(s, &r, &s->err), emit, arg);
	return s->err.code;
}

static int event(shop *s, const ship_row *r, const char *what, jv extra, shop_err *e)
{
	char type[48];
	snprintf(type, sizeof type, "shipment.%s", what);
	jv d = jv_object();
	d = jv_object_set(d, jv_string("shipment_id"), jv_string(r->id));
	d = jv_object_set(d, jv_string("order_id"), jv_string(r->order_id));
	d = jv_object_set(d, jv_string("warehouse"), jv_string(r->warehouse));
	jv_object_foreach(extra, k, v) d = jv_object_set(d, k, v);
	jv_free(extra);
	return outbox_emit(s, type, r->order_id, d, e);
}

/* Set a shipment's status (and updated_at), with its event. */
static int set_status(shop *s, ship_row *r, const char *to, jv extra, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st, "UPDATE shipment SET status = ?2, updated_at = ?3 WHERE id = ?1", e);
	if (!q) {
		jv_free(extra);
		return e->code;
	}
	store_bind_text(q, 1, r->id);
	store_bind_text(q, 2, to);
	store_bind_text(q, 3, now);
	if (store_done(s->st, q, e, "shipment")) {
		jv_free(extra);
		return e->code;
	}
	extra = jv_object_set(extra, jv_string("from"), jv_string(r->status));
	snprintf(r->status, sizeof r->status, "%s", to);
	return event(s, r, to, extra, e);
}

/* ---- the order follows its shipments ---- */

static int rank(const char *st)
{
	static const char *const order[] = {"created", "packed", "labelled", "shipped", "pre_transit",
	                                    "in_transit", "out_for_delivery", "exception", "delivered", NULL};
	for (int i = 0; order[i]; i++)
		if (!strcmp(order[i], st))
			return i;
	return !strcmp(st, "returned") ? 3 : -1;
}

/* After a change: shipped when every shipment of the order left, then
 * delivered when every one arrived. Each its own transaction (lib/order). */
static int order_follows(shop *s, const char *order_id)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT status FROM shipment WHERE order_id = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order_id);
	int n = 0, left = 0, arrived = 0, step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *st = store_col_text(q, 0);
		n++;
		left += rank(st) >= rank("shipped");
		arrived += !strcmp(st, "delivered");
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "shipment");
	if (!n || left < n)
		return 0;
	jv o;
	if (order_get(s, order_id, &o, &s->err))
		return s->err.code;
	shop_err fe = {0};
	const char *st = rec_str(o, "status", &fe);
	char cur[32];
	snprintf(cur, sizeof cur, "%s", st ? st : "");
	jv_free(o);
	/* confirmed -> fulfilling -> shipped -> delivered, as far as the
	 * shipments have gone; an order elsewhere (cancelled, returned) stays. */
	static const char *const walk[][2] = {{"confirmed", "fulfilling"}, {"fulfilling", "shipped"},
	                                      {"shipped", "delivered"}};
	size_t upto = arrived == n ? 3 : 2;
	for (size_t i = 0; i < upto; i++) {
		if (strcmp(cur, walk[i][0]))
			continue;
		if (order_set_status(s, order_id, walk[i][1], NULL, shop_drop, NULL))
			return s->err.code;
		snprintf(cur, sizeof cur, "%s", walk[i][1]);
	}
	return 0;
}

/* ---- create ---- */

int ship_create(shop *s, const char *order_id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	jv o;
	if (order_get(s, order_id, &o, &s->err))
		return s->err.code;
	shop_err fe = {0};
	const char *ost = rec_str(o, "status", &fe);
	const char *cur = rec_str(o, "currency", &fe);
	char status[32], currency[8];
	snprintf(status, sizeof status, "%s", ost ? ost : "");
	snprintf(currency, sizeof currency, "%s", cur ? cur : "");
	jv_free(o);
	if (store_begin(s->st, &s->err))
		return s->err.code;
	/* Made already: the same shipments (a retried hand-off). */
	sqlite3_stmt *q = store_stmt(s->st, "SELECT count(*) FROM shipment WHERE order_id = ?1", &s->err);
	if (!q)
		goto fail;
	store_bind_text(q, 1, order_id);
	int64_t have = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	if (!have) {
		if (strcmp(status, "confirmed") && strcmp(status, "fulfilling")) {
			err_set(&s->err, SHOP_REFUSED, "order %s is %s: only a confirmed order is shipped", order_id, status);
			goto fail;
		}
		/* One shipment per warehouse of the committed reservations. */
		q = store_stmt(s->st,
		               "SELECT warehouse, sku, sum(qty) FROM reservation WHERE order_id = ?1 AND state = "
		               "'committed' GROUP BY warehouse, sku ORDER BY warehouse, sku",
		               &s->err);
		if (!q)
			goto fail;
		store_bind_text(q, 1, order_id);
		char wh[64] = "", sid[ID_MAX] = "", now[32];
		clock_now_text(now);
		int step, made = 0;
		/* Rows first: inserting while stepping the same tables is fine in
		 * SQLite, but keep it plain. */
		typedef struct {
			char wh[64], sku[128];
			int64_t qty;
		} pick;
		pick *rows = NULL;
		size_t n = 0, cap = 0;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			if (n == cap)
				rows = xrealloc(rows, (cap = cap ? cap * 2 : 16) * sizeof *rows);
			snprintf(rows[n].wh, sizeof rows[n].wh, "%s", store_col_text(q, 0));
			snprintf(rows[n].sku, sizeof rows[n].sku, "%s", store_col_text(q, 1));
			rows[n++].qty = sqlite3_column_int64(q, 2);
		}
		sqlite3_reset(q);
		if (step != SQLITE_DONE) {
			free(rows);
			store_fail_rc(s->st, step, &s->err, "reservation");
			goto fail;
		}
		if (!n) {
			free(rows);
			err_set(&s->err, SHOP_REFUSED, "order %s has no committed stock to ship (shop-inv commit first)",
			        order_id);
			goto fail;
		}
		for (size_t i = 0; i < n && !s->err.code; i++) {
			if (strcmp(wh, rows[i].wh)) {
				snprintf(wh, sizeof wh, "%s", rows[i].wh);
				id_new("shp", sid);
				sqlite3_stmt *ins = store_stmt(s->st,
				                               "INSERT INTO shipment (id, order_id, warehouse, status, currency, "
				                               "created_at, updated_at) VALUES (?1, ?2, ?3, 'created', ?4, ?5, ?5)",
				                               &s->err);
				if (!ins)
					break;
				store_bind_text(ins, 1, sid);
				store_bind_text(ins, 2, order_id);
				store_bind_text(ins, 3, wh);
				store_bind_text(ins, 4, currency);
				store_bind_text(ins, 5, now);
				if (store_done(s->st, ins, &s->err, "shipment"))
					break;
				ship_row r = {0};
				snprintf(r.id, sizeof r.id, "%s", sid);
				snprintf(r.order_id, sizeof r.order_id, "%s", order_id);
				snprintf(r.warehouse, sizeof r.warehouse, "%s", wh);
				if (event(s, &r, "created", jv_object(), &s->err))
					break;
				made++;
			}
			sqlite3_stmt *ins =
				store_stmt(s->st, "INSERT INTO shipment_line (shipment_id, sku, qty) VALUES (?1, ?2, ?3)", &s->err);
			if (!ins)
				break;
			store_bind_text(ins, 1, sid);
			store_bind_text(ins, 2, rows[i].sku);
			sqlite3_bind_int64(ins, 3, rows[i].qty);
			store_done(s->st, ins, &s->err, "shipment_line");
		}
		free(rows);
		if (s->err.code)
			goto fail;
	}
	if (store_commit(s->st, &s->err))
		goto fail;
	/* The order is being fulfilled (its own transaction, idempotent). */
	if (!strcmp(status, "confirmed") &&
	    order_set_status(s, order_id, "fulfilling", NULL, shop_drop, NULL))
		return s->err.code;
	ship_filter f = {0};
	f.order = order_id;
	return ship_list(s, &f, emit, arg);
fail:
	store_rollback(s->st);
	return s->err.code;
}

/* ---- the warehouse's work ---- */

int ship_picklist(shop *s, const char *wh, shop_emit emit, void *arg)
{
	if (!shop_warehouse(s, wh))
		return err_set(&s->err, SHOP_NOTFOUND, "warehouse '%s': not in the config", wh);
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT l.sku, sum(l.qty), json_group_array(json_object('shipment_id', h.id, "
	                             "'order_id', h.order_id, 'qty', l.qty)), "
	                             "(SELECT json_extract(doc, '$.title') FROM product WHERE sku = l.sku) "
	                             "FROM shipment_line l JOIN shipment h ON h.id = l.shipment_id "
	                             "WHERE h.warehouse = ?1 AND h.status = 'created' GROUP BY l.sku ORDER BY l.sku",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, wh);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv r = jv_object();
		r = jv_object_set(r, jv_string("kind"), jv_string("pick"));
		r = jv_object_set(r, jv_string("warehouse"), jv_string(wh));
		r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 0)));
		r = jv_object_set(r, jv_string("title"), jv_text_or_null(store_col_text(q, 3)));
		r = jv_object_set(r, jv_string("qty"), jv_number((double)sqlite3_column_int64(q, 1)));
		jv list;
		char perr[64];
		const char *t = store_col_text(q, 2);
		if (json_parse(t, strlen(t), &list, perr, sizeof perr))
			list = jv_array();
		r = jv_object_set(r, jv_string("shipments"), list);
		if (emit(arg, r))
			break;
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "picklist");
	return 0;
}

int ship_pack(shop *s, const char *id, int64_t weight_g, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	ship_row r;
	if (row_load(s, id, &r, &s->err))
		goto fail;
	if (strcmp(r.status, "created") && strcmp(r.status, "packed")) {
		if (r.weight_g == weight_g) /* packed so already: nothing to do */
			goto done;
		err_set(&s->err, SHOP_REFUSED, "shipment %s is %s: too late to pack it again", id, r.status);
		goto fail;
	}
	if (!strcmp(r.status, "packed") && r.weight_g == weight_g)
		goto done;
	if (r.pending_key[0]) {
		err_set(&s->err, SHOP_REFUSED, "shipment %s: a label purchase is in doubt; run label first", id);
		goto fail;
	}
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st, "UPDATE shipment SET weight_g = ?2, updated_at = ?3 WHERE id = ?1", &s->err);
	if (!q)
		goto fail;
	store_bind_text(q, 1, id);
	sqlite3_bind_int64(q, 2, weight_g);
	store_bind_text(q, 3, now);
	if (store_done(s->st, q, &s->err, "shipment") ||
	    set_status(s, &r, "packed", jv_object_set(jv_object(), jv_string("weight_g"), jv_number((double)weight_g)),
	               &s->err))
		goto fail;
done:
	if (store_commit(s->st, &s->err))
		goto fail;
	return emit_row(s, id, emit, arg);
fail:
	store_rollback(s->st);
	return s->err.code;
}

/* ---- the carrier ---- */

static carrier *conn(shop *s)
{
	if (!s->carrier_conn) {
		carrier_conf c = {s->carrier, s->http, s->carrier_base, s->carrier_key_env};
		s->carrier_conn = carrier_open(&c, &s->err);
	}
	return s->carrier_conn;
}

/* The label: written ahead (pending_key), bought, recorded. A purchase
 * whose outcome is unknown keeps its key, and the next label command
 * repeats it with that key: one label, however often it is run. */
int ship_label(shop *s, const char *id, const char *want, shop_emit emit, void *arg)
{
	if (!shop_store(s) || !conn(s))
		return s->err.code;
	if (!want)
		want = s->carrier_service;
	if (store_begin(s->st, &s->err))
		return s->err.code;
	ship_row r;
	if (row_load(s, id, &r, &s->err))
		goto fail;
	if (rank(r.status) >= rank("labelled")) {
		store_rollback(s->st);
		return emit_row(s, id, emit, arg);
	}
	if (strcmp(r.status, "packed")) {
		err_set(&s->err, SHOP_REFUSED, "shipment %s is %s: pack it first (its weight)", id, r.status);
		goto fail;
	}
	/* The key names what is bought: the shipment, its weight and the
	 * carrier or service asked for; a purchase in doubt is repeated as it
	 * was asked, whatever this run asks. */
	char key[128];
	if (r.pending_key[0]) {
		snprintf(key, sizeof key, "%s", r.pending_key);
		const char *w = strrchr(key, ':');
		want = w && w[1] ? w + 1 : NULL;
	} else {
		snprintf(key, sizeof key, "shop:%s:label:%" PRId64 ":%s", id, r.weight_g, want ? want : "");
	}
	if (!r.pending_key[0]) {
		sqlite3_stmt *q = store_stmt(s->st, "UPDATE shipment SET pending_key = ?2 WHERE id = ?1", &s->err);
		if (!q)
			goto fail;
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, key);
		if (store_done(s->st, q, &s->err, "shipment"))
			goto fail;
	}
	if (store_commit(s->st, &s->err))
		goto fail;
	/* Where it goes: the order's address. */
	jv o;
	if (order_get(s, r.order_id, &o, &s->err))
		return s->err.code;
	jv addr = jv_object_get(jv_copy(o), jv_string("address"));
	jv_free(o);
	shop_err ae = {0};
	const warehouse *w = shop_warehouse(s, r.warehouse);
	carrier_parcel p = {r.id, r.order_id, w ? w->region : "", r.warehouse, NULL, NULL, NULL, NULL, NULL, NULL,
	                    r.weight_g, r.currency};
	if (jv_get_kind(addr) == JV_KIND_OBJECT) {
		p.name = rec_str(addr, "name", &ae);
		p.line1 = rec_str(addr, "line1", &ae);
		p.city = rec_str(addr, "city", &ae);
		p.region = rec_str(addr, "region", &ae);
		p.postal = rec_str(addr, "postal", &ae);
		p.country = rec_str(addr, "country", &ae);
	}
	carrier_label l;
	carrier_buy(s->carrier_conn, &p, want, key, &l);
	jv_free(addr);
	if (store_begin(s->st, &s->err))
		return s->err.code;
	if (row_load(s, id, &r, &s->err))
		goto fail;
	if (strcmp(r.status, "packed")) { /* labelled meanwhile, by another run */
		store_rollback(s->st);
		return emit_row(s, id, emit, arg);
	}
	char now[32];
	clock_now_text(now);
	if (l.outcome == CR_OK) {
		sqlite3_stmt *q = store_stmt(s->st,
		                             "UPDATE shipment SET carrier = ?2, service = ?3, rate = ?4, tracking = ?5, "
		                             "label_url = ?6, carrier_ref = ?7, tracker_ref = ?8, pending_key = NULL, "
		                             "detail = NULL, updated_at = ?9 WHERE id = ?1",
		                             &s->err);
		if (!q)
			goto fail;
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, l.carrier);
		store_bind_text(q, 3, l.service);
		sqlite3_bind_int64(q, 4, l.rate);
		store_bind_text(q, 5, l.tracking);
		store_bind_text(q, 6, l.label_url);
		store_bind_text(q, 7, l.ref);
		store_bind_text(q, 8, l.tracker_ref);
		store_bind_text(q, 9, now);
		jv ex = jv_object();
		ex = jv_object_set(ex, jv_string("carrier"), jv_string(l.carrier));
		ex = jv_object_set(ex, jv_string("service"), jv_string(l.service));
		ex = jv_object_set(ex, jv_string("tracking"), jv_string(l.tracking));
		ex = jv_object_set(ex, jv_string("rate"), jv_number((double)l.rate));
		if (store_done(s->st, q, &s->err, "shipment")) {
			jv_free(ex);
			goto fail;
		}
		if (set_status(s, &r, "labelled", ex, &s->err) || store_commit(s->st, &s->err))
			goto fail;
		return emit_row(s, id, emit, arg);
	}
	/* Nothing bought for sure (refused, unreachable, our error): the key
	 * goes; unknown: it stays for the retry. */
	sqlite3_stmt *q = store_stmt(s->st, "UPDATE shipment SET pending_key = ?2, detail = ?3 WHERE id = ?1", &s->err);
	if (!q)
		goto fail;
	store_bind_text(q, 1, id);
	store_bind_text(q, 2, l.outcome == CR_UNKNOWN ? key : NULL);
	store_bind_text(q, 3, l.reason);
	if (store_done(s->st, q, &s->err, "shipment") || store_commit(s->st, &s->err))
		goto fail;
	switch (l.outcome) {
	case CR_REFUSED:
		return err_set(&s->err, SHOP_REFUSED, "shipment %s: label refused: %s", id, l.reason);
	case CR_NOT_SENT:
		return err_set(&s->err, SHOP_UNAVAILABLE, "shipment %s: carrier unavailable, no label: %s", id, l.reason);
	case CR_UNKNOWN:
		return err_set(&s->err, SHOP_UNAVAILABLE,
		               "shipment %s: label outcome unknown (%s); run label again: the same key buys one label", id,
		               l.reason);
	default:
		return err_set(&s->err, l.code ? l.code : SHOP_SOFTWARE, "shipment %s: label: %s", id, l.reason);
	}
fail:
	store_rollback(s->st);
	return s->err.code;
}

int ship_ship(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	ship_row r;
	if (row_load(s, id, &r, &s->err))
		goto fail;
	if (rank(r.status) < rank("labelled")) {
		err_set(&s->err, SHOP_REFUSED, "shipment %s is %s: it needs a label before it ships", id, r.status);
		goto fail;
	}
	if (!strcmp(r.status, "labelled")) {
		char now[32];
		clock_now_text(now);
		sqlite3_stmt *q = store_stmt(s->st, "UPDATE shipment SET shipped_at = ?2 WHERE id = ?1", &s->err);
		if (!q)
			goto fail;
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, now);
		if (store_done(s->st, q, &s->err, "shipment") ||
		    set_status(s, &r, "shipped", jv_object_set(jv_object(), jv_string("tracking"), jv_string(r.tracking)),
		               &s->err))
			goto fail;
	}
	if (store_commit(s->st, &s->err))
		goto fail;
	if (order_follows(s, r.order_id))
		return s->err.code;
	return emit_row(s, id, emit, arg);
fail:
	store_rollback(s->st);
	return s->err.code;
}

/* ---- tracking ---- */

/* Poll one shipment: store the carrier's events (each once), move the
 * shipment to the status of its newest event (an older one arriving late
 * moves nothing back), and the order with it. */
static int track_one(shop *s, const char *id, shop_emit emit, void *arg)
{
	ship_row r;
	if (row_load(s, id, &r, &s->err))
		return s->err.code;
	if (rank(r.status) < rank("shipped"))
		return err_set(&s->err, SHOP_REFUSED, "shipment %s is %s: nothing to track before it ships", id, r.status);
	if (!conn(s))
		return s->err.code;
	jv o;
	const char *postal = NULL;
	jv addr = jv_null();
	if (!order_get(s, r.order_id, &o, &s->err)) {
		addr = jv_object_get(o, jv_string("address"));
		shop_err ae = {0};
		if (jv_get_kind(addr) == JV_KIND_OBJECT)
			postal = rec_str(addr, "postal", &ae);
	}
	err_clear(&s->err);
	carrier_track t;
	carrier_track_get(s->carrier_conn, r.tracking, r.tracker_ref, r.shipped_at, r.weight_g, postal, &t);
	jv_free(addr);
	if (t.outcome != CR_OK) {
		int code = t.outcome == CR_NOT_SENT || t.outcome == CR_UNKNOWN ? SHOP_UNAVAILABLE
		           : t.outcome == CR_REFUSED                          ? SHOP_REFUSED
		                                                              : (t.code ? t.code : SHOP_SOFTWARE);
		err_set(&s->err, code, "shipment %s: tracking: %s", id, t.reason);
		carrier_track_free(&t);
		return s->err.code;
	}
	if (store_begin(s->st, &s->err)) {
		carrier_track_free(&t);
		return s->err.code;
	}
	char now[32];
	clock_now_text(now);
	int fresh = 0;
	for (size_t i = 0; i < t.n && !s->err.code; i++) {
		int64_t ms;
		char at[32];
		if (clock_parse_rfc3339(t.events[i].at, &ms))
			continue; /* a time we cannot read orders nothing */
		clock_format(ms, at);
		sqlite3_stmt *q = store_stmt(s->st,
		                             "INSERT OR IGNORE INTO tracking_event (shipment_id, at, status, carrier_status, "
		                             "message, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
		                             &s->err);
		if (!q)
			break;
		store_bind_text(q, 1, id);
		store_bind_text(q, 2, at);
		store_bind_text(q, 3, t.events[i].status);
		store_bind_text(q, 4, t.events[i].carrier_status);
		store_bind_text(q, 5, t.events[i].message);
		store_bind_text(q, 6, now);
		if (!store_done(s->st, q, &s->err, "tracking_event"))
			fresh += sqlite3_changes(store_db(s->st));
	}
	carrier_track_free(&t);
	/* The newest event that says something decides. */
	sqlite3_stmt *q = s->err.code ? NULL
	                              : store_stmt(s->st,
	                                           "SELECT status, at, message FROM tracking_event WHERE shipment_id = ?1 "
	                                           "AND status != 'unknown' ORDER BY at DESC, seen_at DESC LIMIT 1",
	                                           &s->err);
	if (q) {
		store_bind_text(q, 1, id);
		char st[24] = "", at[32] = "", msg[160] = "";
		if (sqlite3_step(q) == SQLITE_ROW) {
			STORE_COPY(st, q, 0);
			STORE_COPY(at, q, 1);
			STORE_COPY(msg, q, 2);
		}
		sqlite3_reset(q);
		if (st[0] && strcmp(st, r.status)) {
			sqlite3_stmt *u = store_stmt(s->st,
			                             "UPDATE shipment SET detail = ?2, delivered_at = CASE WHEN ?3 = 'delivered' "
			                             "THEN ?4 ELSE delivered_at END WHERE id = ?1",
			                             &s->err);
			if (u) {
				store_bind_text(u, 1, id);
				store_bind_text(u, 2, msg);
				store_bind_text(u, 3, st);
				store_bind_text(u, 4, at);
				jv ex = jv_object();
				ex = jv_object_set(ex, jv_string("at"), jv_string(at));
				ex = jv_object_set(ex, jv_string("message"), jv_string(msg));
				if (!store_done(s->st, u, &s->err, "shipment"))
					set_status(s, &r, st, ex, &s->err);
				else
					jv_free(ex);
			}
		}
	}
	if (s->err.code || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		return s->err.code;
	}
	(void)fresh;
	if (order_follows(s, r.order_id))
		return s->err.code;
	return emit_row(s, id, emit, arg);
}

int ship_track(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	if (id)
		return track_one(s, id, emit, arg);
	/* Every shipment under way. */
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT id FROM shipment WHERE status IN ('shipped', 'pre_transit', 'in_transit', "
	                             "'out_for_delivery', 'exception') ORDER BY id",
	                             &s->err);
	if (!q)
		return s->err.code;
	jv ids = jv_array();
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		ids = jv_array_append(ids, jv_string(store_col_text(q, 0)));
	sqlite3_reset(q);
	int rc = 0;
	for (int i = 0; i < jv_array_length(jv_copy(ids)); i++) {
		jv one = jv_array_get(jv_copy(ids), i);
		int x = shop_report(s, track_one(s, jv_string_value(one), emit, arg));
		jv_free(one);
		if (x && !rc)
			rc = x;
	}
	jv_free(ids);
	return rc;
}

int ship_show(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	return emit_row(s, id, emit, arg);
}

int ship_list(shop *s, const ship_filter *f, shop_emit emit, void *arg)
{
	if (f->status && rank(f->status) < 0)
		return err_set(&s->err, SHOP_USAGE,
		               "--status: '%s' is not a shipment status (created, packed, labelled, shipped, pre_transit, "
		               "in_transit, out_for_delivery, delivered, exception, returned)",
		               f->status);
	if (!shop_store(s))
		return s->err.code;
	static char sql[sizeof row_sql + 200];
	if (!sql[0])
		snprintf(sql, sizeof sql,
		         "%sWHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR warehouse = ?2) AND "
		         "(?3 IS NULL OR order_id = ?3) ORDER BY id",
		         row_sql);
	sqlite3_stmt *q = store_stmt(s->st, sql, &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, f->status);
	store_bind_text(q, 2, f->warehouse);
	store_bind_text(q, 3, f->order);
	size_t n;
	ship_row *rows = store_rows(s->st, q, sizeof *rows, row_read, &n, &s->err, "shipment");
	shop_filter sf = {s, f->where, f->limit, 0, "shipment", "id", emit, arg};
	for (size_t i = 0; i < n && !s->err.code; i++) {
		if (shop_emit_built(s, row_record(s, &rows[i], &s->err), shop_filter_emit, &sf))
			break;
	}
	free(rows);
	return s->err.code;
}

int ship_trace(shop *s, const char *source, const char *order_id, jv *recs)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT t.at, t.status, t.carrier_status, t.message, h.id, h.tracking FROM "
	                             "tracking_event t JOIN shipment h ON h.id = t.shipment_id WHERE h.order_id = ?1 "
	                             "ORDER BY t.at",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, order_id);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		char what[48];
		snprintf(what, sizeof what, "tracking.%s", store_col_text(q, 1));
		jv t = trace_rec(store_col_text(q, 0), source, what);
		t = jv_object_set(t, jv_string("shipment_id"), jv_string(store_col_text(q, 4)));
		t = jv_object_set(t, jv_string("tracking"), jv_string(store_col_text(q, 5)));
		t = jv_object_set(t, jv_string("carrier_status"), jv_string(store_col_text(q, 2)));
		t = jv_object_set(t, jv_string("message"), jv_string(store_col_text(q, 3)));
		*recs = jv_array_append(*recs, t);
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "tracking_event");
	return 0;
}
