/* cart: see cart.h. */
#include "cart.h"

#include <string.h>

#include "base/clock.h"
#include "base/cfg.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "catalog.h"
#include "order.h"
#include "outbox.h"
#include "pricing.h"


/* Run fn inside BEGIN IMMEDIATE; collected records are emitted after the
 * commit, so nothing is printed for a change that did not happen. */
static int in_txn(shop *s, int (*fn)(shop *, void *, jv *), void *ctx, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	jv all = jv_array();
	if (fn(s, ctx, &all) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(all);
		return s->err.code;
	}
	jv_array_foreach(all, i, r)
	{
		if (emit(arg, r))
			break;
	}
	jv_free(all);
	return 0;
}

/* ---- carts ---- */

static int cart_order(shop *s, const char *cart, int *exists, char **order)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT order_id FROM cart WHERE id = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, cart);
	int step = sqlite3_step(q);
	*exists = step == SQLITE_ROW;
	*order = *exists && sqlite3_column_type(q, 0) != SQLITE_NULL ? xstrdup(store_col_text(q, 0)) : NULL;
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, cart);
	return 0;
}

/* The cart must be open (not checked out); created when create is set. */
static int cart_open(shop *s, const char *cart, int create)
{
	if (!*cart || strlen(cart) > 128)
		return err_set(&s->err, SHOP_DATAERR, "cart id: 1 to 128 bytes");
	int exists;
	char *order;
	if (cart_order(s, cart, &exists, &order))
		return s->err.code;
	if (order) {
		err_set(&s->err, SHOP_REFUSED, "cart %s was checked out as order %s (clear it to start over)", cart, order);
		free(order);
		return s->err.code;
	}
	char now[32];
	clock_now_text(now);
	if (!exists && !create)
		return err_set(&s->err, SHOP_NOTFOUND, "cart %s: no such cart", cart);
	sqlite3_stmt *w = store_stmt(s->st,
	                             "INSERT INTO cart (id, created_at, updated_at) VALUES (?1, ?2, ?2) "
	                             "ON CONFLICT (id) DO UPDATE SET updated_at = ?2",
	                             &s->err);
	if (!w)
		return s->err.code;
	store_bind_text(w, 1, cart);
	store_bind_text(w, 2, now);
	return store_done(s->st, w, &s->err, cart);
}

/* The cart record: its lines with the catalog's current title and price. */
static int cart_record(shop *s, const char *cart, jv *out)
{
	int exists;
	char *order;
	if (cart_order(s, cart, &exists, &order))
		return s->err.code;
	if (!exists)
		return err_set(&s->err, SHOP_NOTFOUND, "cart %s: no such cart", cart);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT l.sku, l.qty, p.title, p.price, p.currency, l.added_at FROM cart_line l "
	                             "JOIN product p ON p.sku = l.sku WHERE l.cart_id = ?1 ORDER BY l.added_at, l.sku",
	                             &s->err);
	if (!q) {
		free(order);
		return s->err.code;
	}
	store_bind_text(q, 1, cart);
	jv lines = jv_array();
	int64_t items = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		jv l = jv_object();
		l = jv_object_set(l, jv_string("sku"), jv_string(store_col_text(q, 0)));
		l = jv_object_set(l, jv_string("qty"), jv_number((double)sqlite3_column_int64(q, 1)));
		l = jv_object_set(l, jv_string("title"), jv_string(store_col_text(q, 2)));
		l = jv_object_set(l, jv_string("unit_price"), jv_number((double)sqlite3_column_int64(q, 3)));
		l = jv_object_set(l, jv_string("currency"), jv_string(store_col_text(q, 4)));
		l = jv_object_set(l, jv_string("added_at"), jv_string(store_col_text(q, 5)));
		items += sqlite3_column_int64(q, 1);
		lines = jv_array_append(lines, l);
	}
	sqlite3_reset(q);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("cart"));
	r = jv_object_set(r, jv_string("id"), jv_string(cart));
	r = jv_object_set(r, jv_string("order_id"), order ? jv_string(order) : jv_null());
	r = jv_object_set(r, jv_string("items"), jv_number((double)items));
	r = jv_object_set(r, jv_string("lines"), lines);
	free(order);
	*out = r;
	return 0;
}

typedef struct line_op {
	const char *cart, *sku;
	int64_t qty;
	int mode; /* 0 add, 1 set, 2 rm */
} line_op;

static int sellable(shop *s, const char *sku)
{
	char status[16];
	if (catalog_status(s, sku, status, &s->err))
		return s->err.code;
	if (strcmp(status, "active"))
		return err_set(&s->err, SHOP_REFUSED, "sku '%s' is %s: not for sale", sku, status);
	return 0;
}

static int line_change(shop *s, void *ctx, jv *all)
{
	line_op *op = ctx;
	if (op->mode != 2 && (op->qty <= 0 || op->qty > s->max_qty))
		return err_set(&s->err, SHOP_DATAERR, "quantity %lld: must be 1 to %lld", (long long)op->qty,
		               (long long)s->max_qty);
	if (cart_open(s, op->cart, op->mode != 2))
		return s->err.code;
	char now[32];
	clock_now_text(now);
	if (op->mode == 2) {
		sqlite3_stmt *d = store_stmt(s->st, "DELETE FROM cart_line WHERE cart_id = ?1 AND sku = ?2", &s->err);
		if (!d)
			return s->err.code;
		store_bind_text(d, 1, op->cart);
		store_bind_text(d, 2, op->sku);
		if (store_done(s->st, d, &s->err, op->cart))
			return s->err.code;
		if (sqlite3_changes(store_db(s->st)) == 0)
			return err_set(&s->err, SHOP_NOTFOUND, "cart %s has no %s", op->cart, op->sku);
	} else {
		if (sellable(s, op->sku))
			return s->err.code;
		sqlite3_stmt *q = store_stmt(s->st, "SELECT qty FROM cart_line WHERE cart_id = ?1 AND sku = ?2", &s->err);
		if (!q)
			return s->err.code;
		store_bind_text(q, 1, op->cart);
		store_bind_text(q, 2, op->sku);
		int64_t have = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
		sqlite3_reset(q);
		int64_t qty = op->mode == 0 ? have + op->qty : op->qty;
		if (qty > s->max_qty)
			return err_set(&s->err, SHOP_REFUSED, "cart %s: %lld of %s is over the limit of %lld (cart.max_qty)",
			               op->cart, (long long)qty, op->sku, (long long)s->max_qty);
		sqlite3_stmt *w = store_stmt(s->st,
		                             "INSERT INTO cart_line (cart_id, sku, qty, added_at) VALUES (?1, ?2, ?3, ?4) "
		                             "ON CONFLICT (cart_id, sku) DO UPDATE SET qty = ?3",
		                             &s->err);
		if (!w)
			return s->err.code;
		store_bind_text(w, 1, op->cart);
		store_bind_text(w, 2, op->sku);
		sqlite3_bind_int64(w, 3, qty);
		store_bind_text(w, 4, now);
		if (store_done(s->st, w, &s->err, op->cart))
			return s->err.code;
	}
	jv r;
	if (cart_record(s, op->cart, &r))
		return s->err.code;
	*all = jv_array_append(*all, r);
	return 0;
}

int cart_add(shop *s, const char *cart, const char *sku, int64_t qty, shop_emit emit, void *arg)
{
	line_op op = {cart, sku, qty, 0};
	return in_txn(s, line_change, &op, emit, arg);
}

typedef struct many_op {
	line_op *ops;
	size_t n;
	const char *(*label)(void *, size_t);
	void *larg;
} many_op;

static int add_many_in(shop *s, void *ctx, jv *all)
{
	many_op *m = ctx;
	for (size_t i = 0; i < m->n; i++) {
		jv one = jv_array();
		int rc = line_change(s, &m->ops[i], &one);
		if (rc) {
			jv_free(one);
			if (m->label)
				err_prefix(&s->err, "%s: ", m->label(m->larg, i));
			return rc;
		}
		/* Only the cart as it ends up is printed. */
		jv_free(*all);
		*all = one;
	}
	return 0;
}

int cart_add_many(shop *s, const char *cart, const char *const *skus, const int64_t *qtys, size_t n,
                  const char *(*label)(void *, size_t), void *larg, shop_emit emit, void *arg)
{
	line_op *ops = xcalloc(n ? n : 1, sizeof *ops);
	for (size_t i = 0; i < n; i++)
		ops[i] = (line_op){cart, skus[i], qtys[i], 0};
	many_op m = {ops, n, label, larg};
	int rc = in_txn(s, add_many_in, &m, emit, arg);
	free(ops);
	return rc;
}

int cart_set(shop *s, const char *cart, const char *sku, int64_t qty, shop_emit emit, void *arg)
{
	line_op op = {cart, sku, qty, 1};
	return in_txn(s, line_change, &op, emit, arg);
}

int cart_rm(shop *s, const char *cart, const char *sku, shop_emit emit, void *arg)
{
	line_op op = {cart, sku, 0, 2};
	return in_txn(s, line_change, &op, emit, arg);
}

int cart_show(shop *s, const char *cart, shop_emit emit, void *arg)
{
	jv r;
	if (!shop_store(s) || cart_record(s, cart, &r))
		return s->err.code;
	emit(arg, r);
	return 0;
}

static int clear_one(shop *s, void *ctx, jv *all)
{
	const char *cart = ctx;
	jv r;
	if (cart_record(s, cart, &r))
		return s->err.code;
	sqlite3_stmt *d = store_stmt(s->st, "DELETE FROM cart WHERE id = ?1", &s->err);
	if (!d) {
		jv_free(r);
		return s->err.code;
	}
	store_bind_text(d, 1, cart);
	if (store_done(s->st, d, &s->err, cart)) {
		jv_free(r);
		return s->err.code;
	}
	r = jv_object_set(r, jv_string("cleared"), jv_true());
	*all = jv_array_append(*all, r);
	return 0;
}

int cart_clear(shop *s, const char *cart, shop_emit emit, void *arg)
{
	return in_txn(s, clear_one, (void *)cart, emit, arg);
}

typedef struct merge_op {
	const char *from, *to;
} merge_op;

static int merge_in(shop *s, void *ctx, jv *all)
{
	merge_op *m = ctx;
	if (!strcmp(m->from, m->to))
		return err_set(&s->err, SHOP_USAGE, "merge: FROM and TO are the same cart");
	jv from;
	if (cart_record(s, m->from, &from))
		return s->err.code;
	if (cart_open(s, m->from, 0) || cart_open(s, m->to, 1)) {
		jv_free(from);
		return s->err.code;
	}
	jv lines = jv_object_get(from, jv_string("lines"));
	jv_array_foreach(lines, i, l)
	{
		jv sku = jv_object_get(jv_copy(l), jv_string("sku"));
		jv qty = jv_object_get(l, jv_string("qty"));
		line_op op = {m->to, jv_string_value(sku), (int64_t)jv_number_value(qty), 0};
		jv ignored = jv_array();
		if (!s->err.code)
			line_change(s, &op, &ignored);
		jv_free(ignored);
		jv_free(sku);
		jv_free(qty);
	}
	jv_free(lines);
	if (s->err.code)
		return s->err.code;
	jv gone = jv_array();
	if (clear_one(s, (void *)m->from, &gone)) {
		jv_free(gone);
		return s->err.code;
	}
	jv_free(gone);
	jv r;
	if (cart_record(s, m->to, &r))
		return s->err.code;
	*all = jv_array_append(*all, r);
	return 0;
}

int cart_merge(shop *s, const char *from, const char *to, shop_emit emit, void *arg)
{
	merge_op m = {from, to};
	return in_txn(s, merge_in, &m, emit, arg);
}

static int expire_in(shop *s, void *ctx, jv *all)
{
	int64_t older = *(int64_t *)ctx;
	char cutoff[32];
	clock_format(clock_now_ms() - older, cutoff);
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT id FROM cart WHERE order_id IS NULL AND updated_at < ?1 ORDER BY id", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, cutoff);
	jv ids = jv_array();
	while (sqlite3_step(q) == SQLITE_ROW)
		ids = jv_array_append(ids, jv_string(store_col_text(q, 0)));
	sqlite3_reset(q);
	jv_array_foreach(ids, i, id)
	{
		if (!s->err.code)
			clear_one(s, (void *)jv_string_value(id), all);
		jv_free(id);
	}
	jv_free(ids);
	return s->err.code;
}

int cart_expire(shop *s, int64_t older_ms, shop_emit emit, void *arg)
{
	return in_txn(s, expire_in, &older_ms, emit, arg);
}

/* ---- addresses ---- */

static int addr_field(shop *s, const char *name, const char *v, int required, size_t max, jv *rec)
{
	if (!v || !*v) {
		if (required)
			return err_set(&s->err, SHOP_USAGE, "address: --%s is required", name);
		*rec = jv_object_set(*rec, jv_string(name), jv_null());
		return 0;
	}
	size_t bad;
	if (strlen(v) > max || !utf8_valid(v, strlen(v), &bad))
		return err_set(&s->err, SHOP_DATAERR, "address: --%s: at most %zu bytes of UTF-8", name, max);
	for (const char *c = v; *c; c++)
		if ((unsigned char)*c < 0x20)
			return err_set(&s->err, SHOP_DATAERR, "address: --%s: holds a control character", name);
	*rec = jv_object_set(*rec, jv_string(name), jv_string(v));
	return 0;
}

typedef struct addr_op {
	const char *customer;
	const address_in *a;
} addr_op;

static int address_in_txn(shop *s, void *ctx, jv *all)
{
	addr_op *op = ctx;
	const address_in *a = op->a;
	if (!op->customer[0] || strlen(op->customer) > 128)
		return err_set(&s->err, SHOP_USAGE, "address: CUSTOMER: 1 to 128 bytes");
	if (a->country && !(strlen(a->country) == 2 && a->country[0] >= 'A' && a->country[0] <= 'Z' &&
	                    a->country[1] >= 'A' && a->country[1] <= 'Z'))
		return err_set(&s->err, SHOP_DATAERR, "address: --country '%s': an ISO 3166 code in capitals, such as DE",
		               a->country);
	if (a->email && (!strchr(a->email, '@') || strchr(a->email, ' ')))
		return err_set(&s->err, SHOP_DATAERR, "address: --email '%s' is not an address", a->email);
	char id[ID_MAX], now[32];
	id_new("adr", id);
	clock_now_text(now);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("address"));
	r = jv_object_set(r, jv_string("id"), jv_string(id));
	r = jv_object_set(r, jv_string("customer"), jv_string(op->customer));
	if (addr_field(s, "name", a->name, 1, 200, &r) || addr_field(s, "line1", a->line1, 1, 200, &r) ||
	    addr_field(s, "line2", a->line2, 0, 200, &r) || addr_field(s, "city", a->city, 1, 200, &r) ||
	    addr_field(s, "region", a->region, 0, 100, &r) || addr_field(s, "postal", a->postal, 1, 32, &r) ||
	    addr_field(s, "country", a->country, 1, 2, &r) || addr_field(s, "email", a->email, 0, 254, &r) ||
	    addr_field(s, "phone", a->phone, 0, 32, &r)) {
		jv_free(r);
		return s->err.code;
	}
	r = jv_object_set(r, jv_string("created_at"), jv_string(now));
	buf doc = {0};
	json_dump(r, &doc);
	sqlite3_stmt *w = store_stmt(s->st,
	                             "INSERT INTO address (id, customer, doc, created_at) VALUES (?1, ?2, ?3, ?4)",
	                             &s->err);
	if (w) {
		store_bind_text(w, 1, id);
		store_bind_text(w, 2, op->customer);
		store_bind_text(w, 3, doc.p);
		store_bind_text(w, 4, now);
		store_done(s->st, w, &s->err, "address");
	}
	buf_free(&doc);
	if (s->err.code) {
		jv_free(r);
		return s->err.code;
	}
	*all = jv_array_append(*all, r);
	return 0;
}

int address_add(shop *s, const char *customer, const address_in *a, shop_emit emit, void *arg)
{
	addr_op op = {customer, a};
	return in_txn(s, address_in_txn, &op, emit, arg);
}

int address_ls(shop *s, const char *customer, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM address WHERE customer = ?1 ORDER BY id", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, customer);
	while (sqlite3_step(q) == SQLITE_ROW) {
		jv r;
		if (!json_parse(store_col_text(q, 0), (size_t)sqlite3_column_bytes(q, 0), &r, NULL, 0) && emit(arg, r))
			break;
	}
	sqlite3_reset(q);
	return 0;
}

static int address_get(shop *s, const char *id, jv *out)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM address WHERE id = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, id);
	int step = sqlite3_step(q);
	int rc = 0;
	if (step == SQLITE_ROW)
		json_parse(store_col_text(q, 0), (size_t)sqlite3_column_bytes(q, 0), out, NULL, 0);
	else if (step == SQLITE_DONE)
		rc = err_set(&s->err, SHOP_NOTFOUND, "address %s: no such address", id);
	else
		rc = store_fail_rc(s->st, step, &s->err, id);
	sqlite3_reset(q);
	return rc;
}

/* ---- promotions ---- */

static const char *const promo_fields[] = {
	"kind", "code", "type", "value", "buy", "get", "skus", "min_subtotal", "condition", "starts_at", "ends_at",
	"max_uses", "max_uses_per_customer", "lane", "uses", "created_at", NULL,
};

/* A money field of a promotion: minor units or a decimal string. */
static int promo_money(shop *s, jv def, const char *key, int64_t *out, shop_err *e)
{
	jv v = jv_object_get(jv_copy(def), jv_string(key));
	jv_kind k = jv_get_kind(v);
	int rc = 0;
	*out = 0;
	if (k == JV_KIND_STRING) {
		shop_err me = {0};
		if (money_parse_decimal(jv_string_value(v), currency_find(s->currency), out, &me))
			rc = err_set(e, SHOP_DATAERR, "field '%s': %s", key, me.msg);
	} else if (k == JV_KIND_NUMBER) {
		jv_free(v);
		v = jv_null();
		if (rec_int(def, key, out, e) < 0)
			rc = e->code;
	} else if (k != JV_KIND_NULL && k != JV_KIND_INVALID) {
		rc = err_set(e, SHOP_DATAERR, "field '%s': expected minor units or a decimal string", key);
	}
	jv_free(v);
	if (!rc && *out < 0)
		rc = err_set(e, SHOP_DATAERR, "field '%s': negative", key);
	return rc;
}

static int promo_count(jv def, const char *key, int64_t min, int64_t *out, shop_err *e)
{
	*out = 0;
	int has = rec_int(def, key, out, e);
	if (has < 0)
		return e->code;
	if (has && *out < min)
		return err_set(e, SHOP_DATAERR, "field '%s': at least %lld", key, (long long)min);
	return 0;
}

/* Check a definition (borrowed; strings in p point into it) and compile
 * its condition. */
static int promo_check(shop *s, jv def, promo *p, shop_err *e)
{
	memset(p, 0, sizeof *p);
	p->skus = jv_null();
	p->known = 1;
	if (jv_get_kind(def) != JV_KIND_OBJECT)
		return err_set(e, SHOP_DATAERR, "expected a promotion record (an object), got %s", jv_kind_text(def));
	jv_object_foreach(def, key, val)
	{
		const char *const *f = promo_fields;
		while (*f && strcmp(*f, jv_string_value(key)))
			f++;
		if (!*f)
			err_set(e, SHOP_DATAERR, "unknown field '%s'", jv_string_value(key));
		jv_free(key);
		jv_free(val);
	}
	if (e->code)
		return e->code;
	p->code = rec_str(def, "code", e);
	p->type = rec_str(def, "type", e);
	p->starts_at = rec_str(def, "starts_at", e);
	p->ends_at = rec_str(def, "ends_at", e);
	const char *cond = rec_str(def, "condition", e);
	if (e->code)
		return e->code;
	if (!p->code || !*p->code || strlen(p->code) > 32)
		return err_set(e, SHOP_DATAERR, "field 'code': 1 to 32 characters of [A-Za-z0-9_-]");
	for (const char *c = p->code; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
		      *c == '-'))
			return err_set(e, SHOP_DATAERR, "field 'code': '%s' is not made of [A-Za-z0-9_-]", p->code);
	if (!p->type || (strcmp(p->type, "percent") && strcmp(p->type, "fixed") && strcmp(p->type, "buy_x_get_y") &&
	                 strcmp(p->type, "free_shipping")))
		return err_set(e, SHOP_DATAERR, "promotion %s: field 'type': one of percent, fixed, buy_x_get_y, free_shipping",
		               p->code);
	if ((p->starts_at && clock_parse_rfc3339(p->starts_at, &p->starts_ms)) ||
	    (p->ends_at && clock_parse_rfc3339(p->ends_at, &p->ends_ms)))
		return err_set(e, SHOP_DATAERR, "promotion %s: starts_at and ends_at are RFC 3339 times", p->code);
	/* Instants, not texts: "13:00+02:00" is before "12:00Z". */
	if (p->starts_at && p->ends_at && p->starts_ms >= p->ends_ms)
		return err_set(e, SHOP_DATAERR, "promotion %s: ends_at is not after starts_at", p->code);
	if (!strcmp(p->type, "percent")) {
		jv v = jv_object_get(jv_copy(def), jv_string("value"));
		char text[64] = "";
		if (jv_get_kind(v) == JV_KIND_STRING)
			snprintf(text, sizeof text, "%s", jv_string_value(v));
		else if (jv_get_kind(v) == JV_KIND_NUMBER)
			snprintf(text, sizeof text, "%.6g", jv_number_value(v));
		jv_free(v);
		if (pct_parse(text, &p->pct_num, &p->pct_den) || p->pct_num == 0)
			return err_set(e, SHOP_DATAERR, "promotion %s: field 'value': a percentage above 0, at most 100", p->code);
	} else if (!strcmp(p->type, "fixed")) {
		if (promo_money(s, def, "value", &p->amount, e))
			return e->code;
		if (p->amount <= 0)
			return err_set(e, SHOP_DATAERR, "promotion %s: field 'value': an amount above 0", p->code);
	} else if (!strcmp(p->type, "buy_x_get_y")) {
		if (promo_count(def, "buy", 1, &p->buy, e) || promo_count(def, "get", 1, &p->get, e))
			return e->code;
		if (!p->buy || !p->get)
			return err_set(e, SHOP_DATAERR, "promotion %s: buy_x_get_y needs 'buy' and 'get'", p->code);
	}
	jv skus = jv_object_get(jv_copy(def), jv_string("skus"));
	if (jv_get_kind(skus) == JV_KIND_ARRAY) {
		jv_array_foreach(skus, i, v)
		{
			if (jv_get_kind(v) != JV_KIND_STRING && !e->code)
				err_set(e, SHOP_DATAERR, "promotion %s: field 'skus': an array of skus", p->code);
			jv_free(v);
		}
		p->skus = skus;
	} else {
		if (jv_get_kind(skus) != JV_KIND_INVALID && jv_get_kind(skus) != JV_KIND_NULL)
			err_set(e, SHOP_DATAERR, "promotion %s: field 'skus': an array of skus", p->code);
		jv_free(skus);
	}
	if (e->code || promo_money(s, def, "min_subtotal", &p->min_subtotal, e) ||
	    promo_count(def, "max_uses", 1, &p->max_uses, e) ||
	    promo_count(def, "max_uses_per_customer", 1, &p->max_per_customer, e) ||
	    promo_count(def, "lane", 0, &p->lane, e)) {
		if (!strstr(e->msg, "promotion "))
			err_prefix(e, "promotion %s: ", p->code);
		return e->code;
	}
	if (cond && *cond) {
		shop_err ce = {0};
		p->condition = jqx_compile(cond, "condition", &ce);
		if (!p->condition)
			return err_set(e, SHOP_DATAERR, "promotion %s: %s", p->code, ce.msg);
	}
	return 0;
}

static void promo_free(promo *p)
{
	jv_free(p->skus);
	p->skus = jv_null();
	jqx_free(p->condition);
	p->condition = NULL;
}

typedef struct promo_batch {
	jv defs;
	const char *(*label)(void *, size_t);
	void *larg;
} promo_batch;

static int promo_put(shop *s, void *ctx, jv *all)
{
	promo_batch *b = ctx;
	jv defs = b->defs;
	char now[32];
	clock_now_text(now);
	jv_array_foreach(defs, i, def)
	{
		promo p;
		shop_err pe = {0};
		if (!s->err.code && !promo_check(s, def, &p, &pe)) {
			/* The definition as given, without the fields we keep ourselves. */
			jv d = jv_copy(def);
			d = jv_object_delete(d, jv_string("kind"));
			d = jv_object_delete(d, jv_string("uses"));
			d = jv_object_delete(d, jv_string("created_at"));
			buf text = {0};
			json_dump(d, &text);
			jv_free(d);
			sqlite3_stmt *w = store_stmt(s->st,
			                             "INSERT INTO promotion (code, doc, max_uses, created_at) VALUES (?1, ?2, ?3, ?4) "
			                             "ON CONFLICT (code) DO UPDATE SET doc = ?2, max_uses = ?3",
			                             &pe);
			if (w) {
				store_bind_text(w, 1, p.code);
				store_bind_text(w, 2, text.p);
				if (p.max_uses)
					sqlite3_bind_int64(w, 3, p.max_uses);
				else
					sqlite3_bind_null(w, 3);
				store_bind_text(w, 4, now);
				store_done(s->st, w, &pe, p.code);
			}
			buf_free(&text);
			if (!pe.code)
				*all = jv_array_append(*all, jv_string(p.code));
		}
		promo_free(&p);
		if (pe.code) {
			char where[32];
			snprintf(where, sizeof where, "record %d", i + 1);
			err_set(&s->err, pe.code, "%s: %s", b->label ? b->label(b->larg, (size_t)i) : where, pe.msg);
		}
		jv_free(def);
	}
	return s->err.code;
}

static int promo_record(shop *s, const char *code, jv *out, int64_t *uses)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc, uses, created_at FROM promotion WHERE code = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, code);
	int step = sqlite3_step(q);
	if (step != SQLITE_ROW) {
		sqlite3_reset(q);
		if (step == SQLITE_DONE)
			return SHOP_NOTFOUND;
		return store_fail_rc(s->st, step, &s->err, code);
	}
	jv d = jv_null();
	json_parse(store_col_text(q, 0), (size_t)sqlite3_column_bytes(q, 0), &d, NULL, 0);
	if (uses)
		*uses = sqlite3_column_int64(q, 1);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("promotion"));
	jv_object_foreach(d, k, v) r = jv_object_set(r, k, v);
	jv_free(d);
	r = jv_object_set(r, jv_string("uses"), jv_number((double)sqlite3_column_int64(q, 1)));
	r = jv_object_set(r, jv_string("created_at"), jv_string(store_col_text(q, 2)));
	sqlite3_reset(q);
	*out = r;
	return 0;
}

int promo_add_all(shop *s, jv defs, const char *(*label)(void *, size_t), void *larg, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_begin(s->st, &s->err)) {
		jv_free(defs);
		return s->err.code;
	}
	jv codes = jv_array();
	promo_batch b = {defs, label, larg};
	if (promo_put(s, &b, &codes) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(codes);
		jv_free(defs);
		return s->err.code;
	}
	jv_free(defs);
	jv_array_foreach(codes, i, c)
	{
		jv r;
		if (!promo_record(s, jv_string_value(c), &r, NULL))
			emit(arg, r);
		jv_free(c);
	}
	jv_free(codes);
	return 0;
}

int promo_ls(shop *s, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT code FROM promotion ORDER BY code", &s->err);
	if (!q)
		return s->err.code;
	jv codes = jv_array();
	while (sqlite3_step(q) == SQLITE_ROW)
		codes = jv_array_append(codes, jv_string(store_col_text(q, 0)));
	sqlite3_reset(q);
	jv_array_foreach(codes, i, c)
	{
		jv r;
		if (!promo_record(s, jv_string_value(c), &r, NULL))
			emit(arg, r);
		jv_free(c);
	}
	jv_free(codes);
	return s->err.code;
}

static int promo_del(shop *s, void *ctx, jv *all)
{
	const char *code = ctx;
	jv r;
	int rc = promo_record(s, code, &r, NULL);
	if (rc == SHOP_NOTFOUND)
		return err_set(&s->err, SHOP_NOTFOUND, "promotion %s: no such code", code);
	if (rc)
		return rc;
	sqlite3_stmt *d = store_stmt(s->st, "DELETE FROM promotion WHERE code = ?1", &s->err);
	if (!d || (store_bind_text(d, 1, code), store_done(s->st, d, &s->err, code))) {
		jv_free(r);
		return s->err.code;
	}
	r = jv_object_set(r, jv_string("removed"), jv_true());
	*all = jv_array_append(*all, r);
	return 0;
}

int promo_rm(shop *s, const char *code, shop_emit emit, void *arg)
{
	return in_txn(s, promo_del, (void *)code, emit, arg);
}

/* ---- quote and checkout ---- */

/* The tax rate for a class at an address: the most specific rule of the
 * config whose country, region and class (each when given) match. */
static tax_rate rate_for(shop *s, const char *country, const char *region, const char *cls)
{
	tax_rate r = {0, 1, 0};
	const cfg_node *rules = cfg_get(s->cfg, NULL, "tax.rules");
	int best = -1;
	for (size_t i = 0; country && rules && i < cfg_len(rules); i++) {
		const cfg_node *rule = cfg_at(rules, i);
		const char *rc = cfg_str(s->cfg, rule, "country", NULL), *rr = cfg_str(s->cfg, rule, "region", NULL),
		           *rk = cfg_str(s->cfg, rule, "class", NULL);
		if ((rc && strcmp(rc, country)) || (rr && (!region || strcmp(rr, region))) || (rk && strcmp(rk, cls)))
			continue;
		int score = (rc ? 4 : 0) + (rr ? 2 : 0) + (rk ? 1 : 0);
		if (score <= best)
			continue;
		int64_t num, den;
		if (pct_parse(cfg_str(s->cfg, rule, "rate", "0"), &num, &den))
			continue; /* cannot happen: checked when the config is read */
		best = score;
		r = (tax_rate){num, den, cfg_bool(s->cfg, rule, "inclusive", 0)};
	}
	return r;
}

typedef struct quoted {
	jv quote;   /* the quote record */
	jv address; /* the address record or null */
	int lines;
	char *currency_mix; /* "USD and EUR" when the cart mixes currencies */
	char *not_for_sale; /* "SKU is archived" when a line can no longer be sold */
} quoted;

static int build_quote(shop *s, const quote_opts *o, quoted *out)
{
	memset(out, 0, sizeof *out);
	out->address = jv_null();
	out->quote = jv_null();
	int exists;
	char *order;
	if (cart_order(s, o->cart, &exists, &order))
		return s->err.code;
	free(order);
	if (!exists)
		return err_set(&s->err, SHOP_NOTFOUND, "cart %s: no such cart", o->cart);
	const char *country = NULL, *region = NULL;
	if (o->address && address_get(s, o->address, &out->address))
		return s->err.code;
	const char *customer = o->customer;
	if (!customer && jv_get_kind(out->address) == JV_KIND_OBJECT)
		customer = rec_str(out->address, "customer", &s->err);
	if (!customer)
		customer = o->cart;
	if (jv_get_kind(out->address) == JV_KIND_OBJECT) {
		country = rec_str(out->address, "country", &s->err);
		region = rec_str(out->address, "region", &s->err);
	}
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT l.sku, p.title, p.tax_class, l.qty, p.price, p.currency, p.brand, p.category, "
	                             "p.status FROM cart_line l JOIN product p ON p.sku = l.sku WHERE l.cart_id = ?1 "
	                             "ORDER BY l.added_at, l.sku",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, o->cart);
	size_t n = 0, cap = 8;
	price_line *lines = xcalloc(cap, sizeof *lines);
	tax_rate *rates = xcalloc(cap, sizeof *rates);
	jv strings = jv_array(); /* keeps the texts the lines point to alive */
	jv cart_lines = jv_array();
	char *cur_code = NULL;
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			lines = xrealloc(lines, cap * sizeof *lines);
			rates = xrealloc(rates, cap * sizeof *rates);
		}
		jv sku = jv_string(store_col_text(q, 0)), title = jv_string(store_col_text(q, 1)),
		   cls = jv_string(store_col_text(q, 2));
		const char *cur = store_col_text(q, 5);
		if (strcmp(store_col_text(q, 8), "active") && !out->not_for_sale)
			out->not_for_sale = xasprintf("%s is %s", store_col_text(q, 0), store_col_text(q, 8));
		if (!cur_code)
			cur_code = xstrdup(cur);
		else if (strcmp(cur_code, cur) && !out->currency_mix)
			out->currency_mix = xasprintf("%s and %s", cur_code, cur);
		lines[n] = (price_line){jv_string_value(sku), jv_string_value(title), jv_string_value(cls),
		                        sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4)};
		rates[n] = rate_for(s, country, region, lines[n].tax_class);
		jv cl = jv_object();
		cl = jv_object_set(cl, jv_string("sku"), jv_copy(sku));
		cl = jv_object_set(cl, jv_string("qty"), jv_number((double)lines[n].qty));
		cl = jv_object_set(cl, jv_string("unit_price"), jv_number((double)lines[n].unit_price));
		cl = jv_object_set(cl, jv_string("brand"), jv_string(store_col_text(q, 6)));
		cl = jv_object_set(cl, jv_string("category"), jv_string(store_col_text(q, 7)));
		cl = jv_object_set(cl, jv_string("tax_class"), jv_copy(cls));
		cart_lines = jv_array_append(cart_lines, cl);
		strings = jv_array_append(strings, sku);
		strings = jv_array_append(strings, title);
		strings = jv_array_append(strings, cls);
		n++;
	}
	sqlite3_reset(q);
	out->lines = (int)n;
	if (!cur_code)
		cur_code = xstrdup(s->currency);
	/* What a jq condition sees: the cart, its customer and where it goes. */
	int64_t subtotal = 0, amount;
	for (size_t i = 0; i < n && !s->err.code; i++)
		if (money_mul(lines[i].unit_price, lines[i].qty, &amount) || money_add(subtotal, amount, &subtotal))
			err_set(&s->err, SHOP_DATAERR, "cart %s: %s: amount out of range", o->cart, lines[i].sku);
	jv ccart = jv_object();
	ccart = jv_object_set(ccart, jv_string("kind"), jv_string("cart"));
	ccart = jv_object_set(ccart, jv_string("id"), jv_string(o->cart));
	ccart = jv_object_set(ccart, jv_string("customer"), jv_string(customer));
	ccart = jv_object_set(ccart, jv_string("currency"), jv_string(cur_code));
	ccart = jv_object_set(ccart, jv_string("lines"), cart_lines);
	int64_t items = 0;
	for (size_t i = 0; i < n; i++)
		items += lines[i].qty;
	ccart = jv_object_set(ccart, jv_string("items"), jv_number((double)items));
	ccart = jv_object_set(ccart, jv_string("subtotal"), jv_number((double)subtotal));
	ccart = jv_object_set(ccart, jv_string("address"), jv_copy(out->address));

	promo *promos = xcalloc(o->ncodes ? o->ncodes : 1, sizeof *promos);
	jv defs = jv_array();
	for (size_t k = 0; k < o->ncodes && !s->err.code; k++) {
		jv r;
		int64_t uses = 0;
		int rc = promo_record(s, o->codes[k], &r, &uses);
		promos[k].code = o->codes[k];
		promos[k].skus = jv_null();
		if (rc == SHOP_NOTFOUND)
			continue; /* known = 0: listed as rejected, "unknown code" */
		if (rc)
			break;
		shop_err pe = {0};
		if (promo_check(s, r, &promos[k], &pe)) {
			err_set(&s->err, SHOP_SOFTWARE, "stored promotion %s: %s", o->codes[k], pe.msg);
			jv_free(r);
			break;
		}
		promos[k].uses = uses;
		if (promos[k].max_per_customer) {
			sqlite3_stmt *u = store_stmt(s->st, "SELECT count(*) FROM promotion_use WHERE code = ?1 AND customer = ?2",
			                             &s->err);
			if (u) {
				store_bind_text(u, 1, o->codes[k]);
				store_bind_text(u, 2, customer);
				if (sqlite3_step(u) == SQLITE_ROW)
					promos[k].customer_uses = sqlite3_column_int64(u, 0);
				sqlite3_reset(u);
			}
		}
		defs = jv_array_append(defs, r); /* promos[k] points into it */
	}
	if (!s->err.code) {
		price_input in = {cur_code, lines, n, rates, promos, o->ncodes, s->shipping_flat, s->free_over,
		                  clock_now_ms(), ccart, o->explain};
		jv body;
		if (!price_quote(&in, &body, &s->err)) {
			jv qr = jv_object();
			qr = jv_object_set(qr, jv_string("kind"), jv_string("quote"));
			qr = jv_object_set(qr, jv_string("cart_id"), jv_string(o->cart));
			qr = jv_object_set(qr, jv_string("customer"), jv_string(customer));
			qr = jv_object_set(qr, jv_string("address_id"), o->address ? jv_string(o->address) : jv_null());
			jv_object_foreach(body, k, v) qr = jv_object_set(qr, k, v);
			jv_free(body);
			out->quote = qr;
		}
	}
	for (size_t k = 0; k < o->ncodes; k++)
		promo_free(&promos[k]);
	free(promos);
	jv_free(defs);
	jv_free(ccart);
	jv_free(strings);
	free(lines);
	free(rates);
	free(cur_code);
	return s->err.code;
}

static void quoted_free(quoted *q)
{
	jv_free(q->quote);
	jv_free(q->address);
	free(q->currency_mix);
	free(q->not_for_sale);
}

int cart_quote(shop *s, const quote_opts *o, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	quoted q;
	if (build_quote(s, o, &q)) {
		quoted_free(&q);
		return s->err.code;
	}
	if (q.currency_mix) {
		err_set(&s->err, SHOP_REFUSED, "cart %s: a currency mix (%s) cannot be priced", o->cart, q.currency_mix);
		quoted_free(&q);
		return s->err.code;
	}
	emit(arg, jv_copy(q.quote));
	quoted_free(&q);
	return 0;
}

static int checkout_in(shop *s, void *ctx, jv *all)
{
	const quote_opts *o = ctx;
	int exists;
	char *order;
	if (cart_order(s, o->cart, &exists, &order))
		return s->err.code;
	if (!exists)
		return err_set(&s->err, SHOP_NOTFOUND, "cart %s: no such cart", o->cart);
	if (order) {
		/* Idempotent: the cart was checked out; that is the answer, for
		 * the customer it was checked out for. */
		jv r;
		int rc = order_get(s, order, &r, &s->err);
		if (!rc) {
			const char *who = rec_str(r, "customer", &s->err);
			if (who && strcmp(who, o->customer))
				rc = err_set(&s->err, SHOP_REFUSED,
				             "checkout %s: the cart was checked out as order %s by another customer", o->cart,
				             order);
			if (rc)
				jv_free(r);
			else
				*all = jv_array_append(*all, r);
		}
		free(order);
		return rc;
	}
	quoted q;
	if (build_quote(s, o, &q)) {
		quoted_free(&q);
		return s->err.code;
	}
	const char *owner = rec_str(q.address, "customer", &s->err);
	if (q.lines == 0)
		err_set(&s->err, SHOP_REFUSED, "checkout %s: the cart is empty", o->cart);
	else if (q.currency_mix)
		err_set(&s->err, SHOP_REFUSED, "checkout %s: a currency mix (%s)", o->cart, q.currency_mix);
	else if (q.not_for_sale)
		err_set(&s->err, SHOP_REFUSED, "checkout %s: %s, not for sale (remove it from the cart)", o->cart,
		        q.not_for_sale);
	else if (owner && strcmp(owner, o->customer))
		err_set(&s->err, SHOP_REFUSED, "checkout %s: address %s belongs to another customer", o->cart, o->address);
	if (!s->err.code) {
		/* A code asked for and not applied refuses the checkout: the
		 * customer should not pay a price they did not expect. */
		jv rej = jv_object_get(jv_copy(q.quote), jv_string("rejected"));
		if (jv_array_length(jv_copy(rej)) > 0) {
			jv first = jv_array_get(jv_copy(rej), 0);
			err_set(&s->err, SHOP_REFUSED, "checkout %s: promotion %s does not apply: %s", o->cart,
			        rec_str(first, "code", &s->err), rec_str(first, "reason", &s->err));
			jv_free(first);
		}
		jv_free(rej);
	}
	if (s->err.code) {
		quoted_free(&q);
		return s->err.code;
	}
	jv rec = jv_object();
	rec = jv_object_set(rec, jv_string("customer"), jv_string(o->customer));
	rec = jv_object_set(rec, jv_string("cart_id"), jv_string(o->cart));
	rec = jv_object_set(rec, jv_string("currency"), jv_object_get(jv_copy(q.quote), jv_string("currency")));
	rec = jv_object_set(rec, jv_string("address"), jv_copy(q.address));
	rec = jv_object_set(rec, jv_string("payment_method"), jv_string(o->payment));
	static const char *const keep[] = {"lines", "promotions", "subtotal", "discount", "shipping", "tax", "total", NULL};
	for (const char *const *k = keep; *k; k++)
		rec = jv_object_set(rec, jv_string(*k), jv_object_get(jv_copy(q.quote), jv_string(*k)));
	quoted_free(&q);
	jv ord;
	if (order_create(s, rec, &ord, &s->err))
		return s->err.code;
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *w = store_stmt(s->st, "UPDATE cart SET order_id = ?2, updated_at = ?3 WHERE id = ?1", &s->err);
	if (w) {
		store_bind_text(w, 1, o->cart);
		store_bind_text(w, 2, rec_str(ord, "id", &s->err));
		store_bind_text(w, 3, now);
		store_done(s->st, w, &s->err, o->cart);
	}
	if (s->err.code) {
		jv_free(ord);
		return s->err.code;
	}
	*all = jv_array_append(*all, ord);
	return 0;
}

int cart_checkout(shop *s, const quote_opts *o, shop_emit emit, void *arg)
{
	return in_txn(s, checkout_in, (void *)o, emit, arg);
}
