/* order: see order.h. */
#include "order.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/ids.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "base/strtab.h"
#include "fields.h"
#include "inv.h"
#include "outbox.h"
#include "pay.h"
#include "saga.h"
#include "search.h"
#include "ship.h"

/* ---- the status machine ---- */

static const char *const statuses[] = {
	"pending", "confirmed", "fulfilling", "shipped", "delivered", "cancelled", "returned", "partially_returned",
	NULL,
};

/* Every legal change (order.h, SPEC §3 shop-order); anything else is
 * refused. One table, so the machine reads as the SPEC writes it. */
static const struct {
	const char *from, *to;
} transitions[] = {
	{"pending", "confirmed"},   {"confirmed", "fulfilling"}, {"fulfilling", "shipped"},
	{"shipped", "delivered"},   {"pending", "cancelled"},    {"confirmed", "cancelled"},
	{"delivered", "returned"},  {"delivered", "partially_returned"},
	/* The rest of a partly returned order may come back later. */
	{"partially_returned", "returned"},
};

static int status_known(const char *st)
{
	for (size_t i = 0; statuses[i]; i++)
		if (!strcmp(statuses[i], st))
			return 1;
	return 0;
}

static int legal(const char *from, const char *to)
{
	for (size_t i = 0; i < sizeof transitions / sizeof *transitions; i++)
		if (!strcmp(transitions[i].from, from) && !strcmp(transitions[i].to, to))
			return 1;
	return 0;
}

/* A status name from outside (an operand, --status): one of the list or
 * SHOP_USAGE, since the words are fixed like a command's. */
static int check_status(const char *st, shop_err *e)
{
	if (st && status_known(st))
		return 0;
	return err_set(e, SHOP_USAGE,
	               "status '%s' is not one of pending, confirmed, fulfilling, shipped, delivered, cancelled, "
	               "returned, partially_returned",
	               st ? st : "");
}

/* ---- helpers ---- */



/* The stored doc as a record (a bad doc is a bug or a broken store). */
static int parse_doc(sqlite3_stmt *q, int col, const char *id, jv *out, shop_err *e)
{
	char msg[128] = "";
	const char *doc = (const char *)sqlite3_column_text(q, col);
	*out = jv_invalid();
	jv v;
	if (doc && !json_parse(doc, (size_t)sqlite3_column_bytes(q, col), &v, msg, sizeof msg)) {
		if (jv_get_kind(v) == JV_KIND_OBJECT) {
			*out = v;
			return 0;
		}
		jv_free(v);
	}
	return err_set(e, SHOP_SOFTWARE, "order %s: the stored record is not a JSON object %s", id, msg);
}

/* Strings read from the orders row, valid until the caller frees them. */
typedef struct order_row {
	char *status, *customer;
	jv doc;
} order_row;

static void row_free(order_row *r)
{
	free(r->status);
	free(r->customer);
	jv_free(r->doc);
	memset(r, 0, sizeof *r);
	r->doc = jv_invalid();
}

/* The row of order id: 66 when unknown. */
static int row_load(shop *s, const char *id, order_row *r, shop_err *e)
{
	memset(r, 0, sizeof *r);
	r->doc = jv_invalid();
	sqlite3_stmt *q = store_stmt(s->st, "SELECT status, customer, doc FROM orders WHERE id = ?1", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, id);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		r->status = xstrdup(store_col_text(q, 0));
		r->customer = xstrdup(store_col_text(q, 1));
		parse_doc(q, 2, id, &r->doc, e);
	}
	sqlite3_reset(q);
	if (step == SQLITE_DONE)
		return err_set(e, SHOP_NOTFOUND, "order %s: no such order", id);
	if (step != SQLITE_ROW)
		return store_fail_rc(s->st, step, e, id);
	return e->code;
}

/* ---- the record and its row: one writer for checkout and import ---- */

/* An order as order_put writes it. The nested values are JSON texts,
 * written as they are; created_at is also the updated_at of a new order. */
typedef struct order_parts {
	const char *id, *customer, *cart_id, *status, *currency, *created_at;
	const char *address, *payment_method, *lines, *promotions;
	int64_t subtotal, discount, shipping, tax, total;
	int imported; /* adds "imported":true after the times */
} order_parts;

/* ,"key": before a member's value (keys are plain names). No printf: an
 * import writes some millions of these. */
static void put_key(buf *d, const char *key)
{
	buf_add(d, ",\"", 2);
	buf_adds(d, key);
	buf_add(d, "\":", 2);
}

static void put_str(buf *d, const char *key, const char *v)
{
	put_key(d, key);
	if (v)
		json_dump_str(v, strlen(v), d);
	else
		buf_add(d, "null", 4);
}

static void put_raw(buf *d, const char *key, const char *json)
{
	put_key(d, key);
	buf_adds(d, json);
}

static void put_int(buf *d, const char *key, int64_t v)
{
	put_key(d, key);
	json_dump_int(v, d);
}

/* The order record, in the key order of shop-records(5) "order". */
static void order_write(const order_parts *o, buf *d)
{
	buf_reset(d);
	buf_adds(d, "{\"kind\":\"order\"");
	put_str(d, "id", o->id);
	put_str(d, "customer", o->customer);
	put_str(d, "cart_id", o->cart_id);
	put_str(d, "status", o->status);
	put_str(d, "currency", o->currency);
	put_raw(d, "address", o->address);
	put_raw(d, "payment_method", o->payment_method);
	put_raw(d, "lines", o->lines);
	put_raw(d, "promotions", o->promotions);
	put_int(d, "subtotal", o->subtotal);
	put_int(d, "discount", o->discount);
	put_int(d, "shipping", o->shipping);
	put_int(d, "tax", o->tax);
	put_int(d, "total", o->total);
	buf_adds(d, ",\"reason\":null");
	put_str(d, "created_at", o->created_at);
	put_str(d, "updated_at", o->created_at);
	if (o->imported)
		buf_adds(d, ",\"imported\":true");
	buf_addc(d, '}');
}

/* Write the record of o into doc and insert the order's row, inside the
 * caller's write transaction (the AFTER INSERT trigger of the search
 * module counts its units). *inserted is 0 when an order with this id is
 * there already: then nothing is written. 0, or the store's error in e. */
static int order_put(shop *s, const order_parts *o, buf *doc, int *inserted, shop_err *e)
{
	*inserted = 0;
	order_write(o, doc);
	sqlite3_stmt *st = store_stmt(s->st,
	                              "INSERT INTO orders (id, customer, cart_id, status, currency, total, reason, "
	                              "created_at, updated_at, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?7, ?8) "
	                              "ON CONFLICT (id) DO NOTHING",
	                              e);
	if (!st)
		return e->code;
	store_bind_text(st, 1, o->id);
	store_bind_text(st, 2, o->customer);
	store_bind_text(st, 3, o->cart_id);
	store_bind_text(st, 4, o->status);
	store_bind_text(st, 5, o->currency);
	sqlite3_bind_int64(st, 6, o->total);
	store_bind_text(st, 7, o->created_at);
	sqlite3_bind_text(st, 8, doc->p, (int)doc->len, SQLITE_STATIC);
	if (store_done(s->st, st, e, o->id))
		return e->code;
	*inserted = sqlite3_changes(store_db(s->st)) == 1;
	return 0;
}

/* v (consumed) as JSON text (heap). */
static char *json_text(jv v)
{
	buf b = {0};
	json_dump(v, &b);
	jv_free(v);
	return buf_detach(&b);
}

/* ---- create ---- */

/* An integer amount of the quote: absent or null is 0. */
static int amount(jv rec, const char *key, int required, int64_t *out, shop_err *e)
{
	*out = 0;
	int has = rec_int(rec, key, out, e);
	if (has < 0)
		return e->code;
	if (!has && required)
		return err_set(e, SHOP_DATAERR, "field '%s': missing", key);
	return 0;
}

/* Only the fields of the order record are kept, in their fixed order
 * (shop-records(5) "order"); anything else the quote carries (its kind,
 * rejected promotions, explanations) is not part of the order. */
int order_create(shop *s, jv rec, jv *out, shop_err *e)
{
	*out = jv_invalid();
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		err_set(e, SHOP_DATAERR, "expected an order (an object), got %s", jv_kind_text(rec));
		jv_free(rec);
		return e->code;
	}
	if (!shop_store(s)) {
		jv_free(rec);
		return err_set(e, s->err.code, "%s", s->err.msg);
	}
	const char *customer = rec_str(rec, "customer", e);
	const char *cart = rec_str(rec, "cart_id", e);
	const char *cur = rec_str(rec, "currency", e);
	order_parts o = {0};
	if (!e->code && (!customer || !*customer))
		err_set(e, SHOP_DATAERR, "field 'customer': missing");
	if (!e->code && (!cur || !currency_find(cur)))
		err_set(e, SHOP_DATAERR, "field 'currency': %s%s%s", cur ? "'" : "missing", cur ? cur : "",
		        cur ? "' is not an ISO 4217 code" : "");
	if (!e->code) {
		amount(rec, "subtotal", 0, &o.subtotal, e);
		amount(rec, "discount", 0, &o.discount, e);
		amount(rec, "shipping", 0, &o.shipping, e);
		amount(rec, "tax", 0, &o.tax, e);
		amount(rec, "total", 1, &o.total, e);
	}
	jv lines = rec_field(rec, "lines"), promos = rec_field(rec, "promotions");
	if (!e->code && jv_get_kind(lines) != JV_KIND_ARRAY)
		err_set(e, SHOP_DATAERR, "field 'lines': expected an array, got %s", jv_kind_text(lines));
	if (!e->code && jv_get_kind(promos) == JV_KIND_NULL) {
		jv_free(promos);
		promos = jv_array();
	}
	if (!e->code && jv_get_kind(promos) != JV_KIND_ARRAY)
		err_set(e, SHOP_DATAERR, "field 'promotions': expected an array, got %s", jv_kind_text(promos));
	if (e->code) {
		jv_free(lines);
		jv_free(promos);
		jv_free(rec);
		return e->code;
	}
	char id[ID_MAX], now[32];
	id_new("ord", id);
	clock_now_text(now);
	o.id = id;
	o.customer = customer;
	o.cart_id = cart;
	o.status = "pending";
	o.currency = cur;
	o.created_at = now;
	char *address = json_text(rec_field(rec, "address"));
	char *method = json_text(rec_field(rec, "payment_method"));
	char *ltext = json_text(lines), *ptext = json_text(promos);
	o.address = address;
	o.payment_method = method;
	o.lines = ltext;
	o.promotions = ptext;
	buf doc = {0};
	int inserted = 0;
	if (!order_put(s, &o, &doc, &inserted, e) && !inserted)
		err_set(e, SHOP_SOFTWARE, "order %s: a new id is taken", id);
	if (!e->code) {
		jv ev = jv_object();
		ev = jv_object_set(ev, jv_string("order_id"), jv_string(id));
		ev = jv_object_set(ev, jv_string("customer"), jv_string(customer));
		ev = jv_object_set(ev, jv_string("total"), jv_number((double)o.total));
		ev = jv_object_set(ev, jv_string("currency"), jv_string(cur));
		outbox_emit(s, "order.created", id, ev, e);
	}
	/* The record printed is the one stored. */
	if (!e->code && json_parse(doc.p, doc.len, out, NULL, 0))
		err_set(e, SHOP_SOFTWARE, "order %s: its record does not read back", id);
	free(address);
	free(method);
	free(ltext);
	free(ptext);
	buf_free(&doc);
	jv_free(rec); /* last: customer, cart and cur point into it */
	return e->code;
}

/* ---- import ----
 *
 * Order history from elsewhere (SPEC §3 shop-order import): records read
 * as trees (json.h), checked, and written as order records with order_put,
 * one transaction for the whole input. No saga, reservation or stock
 * movement: only the order, and its order.imported event. */

#define IMPORT_ID_MAX 200
#define CUSTOMER_MAX 200
#define QTY_MAX 1000000000LL /* inventory's and returns' limit */

static const char *const import_fields[] = {"kind", "id", "customer", "created_at", "currency", "status", "lines",
                                            NULL};
static const char *const import_line_fields[] = {"sku", "qty", "unit_price", NULL};

/* One line of an import record; sku borrowed from the record's tree. */
typedef struct iline {
	const char *sku;
	uint32_t skulen;
	int64_t qty, unit;
} iline;

/* A checked import record. Strings are owned; the lines borrow from the
 * record's tree, valid until the next record is read. */
typedef struct irec {
	char *id; /* NULL: none given */
	char *customer;
	char created[32];
	char currency[4];
	const char *status; /* one of statuses[] */
	iline *lines;
	size_t n, cap;
	int64_t total;
	buf text; /* the lines as the order record holds them */
} irec;

static void irec_clear(irec *r)
{
	free(r->id);
	free(r->customer);
	r->id = r->customer = NULL;
	r->n = 0;
	r->total = 0;
	buf_reset(&r->text);
}

/* The name of field key of line idx ("lines[3].qty"; key "" for the line
 * itself), for messages. */
static const char *field_name(char out[80], long idx, const char *key)
{
	snprintf(out, 80, "lines[%ld]%s%s", idx, *key ? "." : "", key);
	return out;
}

/* Members of object o (the record, idx < 0, or line idx) not in the list
 * known. The unknown name goes into a one-line message: cut, and control
 * characters made '?'. */
static int known_fields(const jnode *o, const char *const *known, long idx, shop_err *e)
{
	for (uint32_t i = 0; i < o->len; i++) {
		const jnode *m = &o->kids[i];
		const char *const *f = known;
		while (*f && !(strlen(*f) == m->keylen && !memcmp(*f, m->key, m->keylen)))
			f++;
		if (*f)
			continue;
		char name[65];
		size_t n = m->keylen < sizeof name - 1 ? m->keylen : sizeof name - 1;
		for (size_t k = 0; k < n; k++)
			name[k] = (unsigned char)m->key[k] < 0x20 || m->key[k] == 0x7f ? '?' : m->key[k];
		name[n] = 0;
		if (idx < 0)
			return err_set(e, SHOP_DATAERR, "unknown field '%s'", name);
		return err_set(e, SHOP_DATAERR, "unknown field 'lines[%ld].%s'", idx, name);
	}
	return 0;
}

/* A whole number field key of line idx, min..max. */
static int count_field(const jnode *v, long idx, const char *key, int64_t min, int64_t max, int64_t *out,
                       shop_err *e)
{
	char f[80];
	if (field_absent(v))
		return err_set(e, SHOP_DATAERR, "field '%s': missing", field_name(f, idx, key));
	if (v->type != JN_NUM)
		return err_set(e, SHOP_DATAERR, "field '%s': expected a whole number, got %s", field_name(f, idx, key),
		               jnode_kind_text(v));
	if (v->num != floor(v->num))
		return err_set(e, SHOP_DATAERR, "field '%s': %g is not a whole number", field_name(f, idx, key), v->num);
	if (v->num < (double)min || v->num > (double)max)
		return err_set(e, SHOP_DATAERR, "field '%s': %.0f is not from %lld to %lld", field_name(f, idx, key),
		               v->num, (long long)min, (long long)max);
	*out = (int64_t)v->num;
	return 0;
}

/* The lines: each checked, priced (qty * unit_price, overflow checked),
 * and written into r->text as the order record holds them. */
static int import_lines(const jnode *rec, const currency *cur, irec *r, shop_err *e)
{
	const jnode *ls = jnode_get(rec, "lines");
	if (field_absent(ls))
		return err_set(e, SHOP_DATAERR, "field 'lines': missing");
	if (ls->type != JN_ARR)
		return err_set(e, SHOP_DATAERR, "field 'lines': expected an array, got %s", jnode_kind_text(ls));
	if (ls->len == 0)
		return err_set(e, SHOP_DATAERR, "field 'lines': empty (an order has at least one line)");
	if (r->cap < ls->len) {
		r->cap = ls->len;
		r->lines = xrealloc(r->lines, r->cap * sizeof *r->lines);
	}
	buf_addc(&r->text, '[');
	for (uint32_t i = 0; i < ls->len; i++) {
		const jnode *l = &ls->kids[i];
		char where[80];
		if (l->type != JN_OBJ)
			return err_set(e, SHOP_DATAERR, "field '%s': expected an object, got %s", field_name(where, i, ""),
			               jnode_kind_text(l));
		if (known_fields(l, import_line_fields, i, e))
			return e->code;
		iline *x = &r->lines[r->n];
		const jnode *sku = jnode_get(l, "sku");
		if (field_sku(sku, field_name(where, i, "sku"), e) ||
		    count_field(jnode_get(l, "qty"), i, "qty", 1, QTY_MAX, &x->qty, e) ||
		    field_money(jnode_get(l, "unit_price"), field_name(where, i, "unit_price"), cur, &x->unit, e))
			return e->code;
		int64_t sub;
		if (money_mul(x->qty, x->unit, &sub) || sub > FIELD_MONEY_MAX)
			return err_set(e, SHOP_DATAERR, "field '%s': qty times unit_price is out of range",
			               field_name(where, i, ""));
		if (money_add(r->total, sub, &r->total) || r->total > FIELD_MONEY_MAX)
			return err_set(e, SHOP_DATAERR, "field 'lines': the order's total is out of range");
		x->sku = sku->str;
		x->skulen = sku->len;
		r->n++;
		if (i)
			buf_addc(&r->text, ',');
		buf_adds(&r->text, "{\"sku\":");
		json_dump_str(sku->str, sku->len, &r->text);
		put_int(&r->text, "qty", x->qty);
		put_int(&r->text, "unit_price", x->unit);
		put_int(&r->text, "subtotal", sub);
		buf_adds(&r->text, ",\"discount\":0,\"tax\":0");
		put_int(&r->text, "total", sub);
		buf_addc(&r->text, '}');
	}
	buf_addc(&r->text, ']');
	return 0;
}

/* Check one import record into r (cleared first). */
static int import_check(const jnode *rec, irec *r, shop_err *e)
{
	irec_clear(r);
	if (rec->type != JN_OBJ)
		return err_set(e, SHOP_DATAERR, "expected an order record (an object), got %s", jnode_kind_text(rec));
	if (known_fields(rec, import_fields, -1, e))
		return e->code;
	const jnode *kind = jnode_get(rec, "kind");
	if (!field_absent(kind) && !jnode_is(kind, "order"))
		return err_set(e, SHOP_DATAERR, "field 'kind': expected \"order\"");
	if (!field_absent(jnode_get(rec, "id"))) {
		if (field_text(jnode_get(rec, "id"), "id", IMPORT_ID_MAX, FIELD_NONEMPTY, &r->id, e))
			return e->code;
		for (const char *c = r->id; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
				return err_set(e, SHOP_DATAERR,
				               "field 'id': has a character other than printable ASCII (no space)");
	}
	if (field_text(jnode_get(rec, "customer"), "customer", CUSTOMER_MAX, FIELD_NONEMPTY, &r->customer, e))
		return e->code;
	char text[64];
	const jnode *at = jnode_get(rec, "created_at");
	int64_t ms;
	if (field_absent(at))
		return err_set(e, SHOP_DATAERR, "field 'created_at': missing");
	if (at->type != JN_STR)
		return err_set(e, SHOP_DATAERR, "field 'created_at': expected a string, got %s", jnode_kind_text(at));
	jnode_text(rec, "created_at", text, sizeof text);
	if (at->len >= sizeof text || strlen(text) != at->len || clock_parse_rfc3339(text, &ms))
		return err_set(e, SHOP_DATAERR, "field 'created_at': '%s' is not an RFC 3339 time", text);
	clock_format(ms, r->created);
	const jnode *cy = jnode_get(rec, "currency");
	if (field_absent(cy))
		return err_set(e, SHOP_DATAERR, "field 'currency': missing");
	if (cy->type != JN_STR)
		return err_set(e, SHOP_DATAERR, "field 'currency': expected a string, got %s", jnode_kind_text(cy));
	jnode_text(rec, "currency", text, sizeof text);
	const currency *cur = cy->len == 3 ? currency_find(text) : NULL;
	if (!cur)
		return err_set(e, SHOP_DATAERR, "field 'currency': '%s' is not an ISO 4217 code", text);
	memcpy(r->currency, cur->code, 4);
	const jnode *st = jnode_get(rec, "status");
	r->status = "delivered";
	if (!field_absent(st)) {
		if (st->type != JN_STR)
			return err_set(e, SHOP_DATAERR, "field 'status': expected a string, got %s", jnode_kind_text(st));
		jnode_text(rec, "status", text, sizeof text);
		size_t k = 0;
		while (statuses[k] && !jnode_is(st, statuses[k]))
			k++;
		if (!statuses[k])
			return err_set(e, SHOP_DATAERR,
			               "field 'status': '%s' is not one of pending, confirmed, fulfilling, shipped, "
			               "delivered, cancelled, returned, partially_returned",
			               text);
		r->status = statuses[k];
	}
	return import_lines(rec, cur, r, e);
}

/* The ids of one input, with the line that brought each: open
 * addressing, for "given twice" without asking the store. */
typedef struct idset {
	char **ids;
	size_t *lines;
	size_t cap, n;
} idset;

static size_t id_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The slot of id: where it is, or the empty one where it would go. */
static size_t idset_slot(const idset *t, const char *id)
{
	size_t i = id_hash(id) & (t->cap - 1);
	while (t->ids[i] && strcmp(t->ids[i], id))
		i = (i + 1) & (t->cap - 1);
	return i;
}

/* The line that brought id already, or 0. */
static size_t idset_line(const idset *t, const char *id)
{
	if (!t->cap)
		return 0;
	size_t i = idset_slot(t, id);
	return t->ids[i] ? t->lines[i] : 0;
}

static void idset_add(idset *t, const char *id, size_t line)
{
	if (2 * (t->n + 1) > t->cap) {
		idset old = *t;
		t->cap = old.cap ? old.cap * 2 : 1024;
		t->ids = xcalloc(t->cap, sizeof *t->ids);
		t->lines = xcalloc(t->cap, sizeof *t->lines);
		for (size_t i = 0; i < old.cap; i++)
			if (old.ids[i]) {
				size_t j = idset_slot(t, old.ids[i]);
				t->ids[j] = old.ids[i];
				t->lines[j] = old.lines[i];
			}
		free(old.ids);
		free(old.lines);
	}
	size_t i = idset_slot(t, id);
	t->ids[i] = xstrdup(id);
	t->lines[i] = line;
	t->n++;
}

static void idset_free(idset *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->ids[i]);
	free(t->ids);
	free(t->lines);
}

/* What differs between the stored order id and record r: NULL when they
 * are the same order (its customer, currency, time and lines: sku, qty and
 * unit price of each, in order). Its status may have moved on since. */
static const char *import_differs(shop *s, jtree *t, const irec *r, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM orders WHERE id = ?1", e);
	if (!q)
		return NULL;
	store_bind_text(q, 1, r->id);
	int step = sqlite3_step(q);
	if (step != SQLITE_ROW) {
		sqlite3_reset(q);
		store_fail_rc(s->st, step == SQLITE_DONE ? SQLITE_CORRUPT : step, e, r->id);
		return NULL;
	}
	const char *why = NULL;
	char msg[128];
	const jnode *d = jtree_parse(t, (const char *)sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0),
	                             msg, sizeof msg);
	if (!d || d->type != JN_OBJ) {
		err_set(e, SHOP_SOFTWARE, "order %s: the stored record is not a JSON object %s", r->id, d ? "" : msg);
	} else if (!jnode_is(jnode_get(d, "customer"), r->customer)) {
		why = "customer";
	} else if (!jnode_is(jnode_get(d, "currency"), r->currency)) {
		why = "currency";
	} else if (!jnode_is(jnode_get(d, "created_at"), r->created)) {
		why = "created_at";
	} else {
		const jnode *ls = jnode_get(d, "lines");
		if (!ls || ls->type != JN_ARR || ls->len != r->n)
			why = "lines";
		for (size_t i = 0; !why && i < r->n; i++) {
			const jnode *l = &ls->kids[i], *sku = jnode_get(l, "sku"), *qty = jnode_get(l, "qty"),
			            *unit = jnode_get(l, "unit_price");
			if (!sku || sku->type != JN_STR || sku->len != r->lines[i].skulen ||
			    memcmp(sku->str, r->lines[i].sku, sku->len) || !qty || qty->type != JN_NUM ||
			    qty->num != (double)r->lines[i].qty || !unit || unit->type != JN_NUM ||
			    unit->num != (double)r->lines[i].unit)
				why = "lines";
		}
	}
	sqlite3_reset(q);
	return why;
}

typedef struct import_ctx {
	irec r;
	strtab sold_sku; /* the units of the orders created, by sku */
	int64_t *sold;
	size_t sold_cap;
	idset seen;
	jtree *stored; /* for the docs of orders already there */
	buf doc;
} import_ctx;

/* Import one record (its tree rec, from line): created (1), unchanged
 * (0), or the error in e (SHOP_DATAERR for the record's fault: then
 * nothing of it was written). */
static int import_one(shop *s, import_ctx *x, const jnode *rec, size_t line, int *created, shop_err *e)
{
	*created = 0;
	irec *r = &x->r;
	if (import_check(rec, r, e))
		return e->code;
	size_t first = r->id ? idset_line(&x->seen, r->id) : 0;
	if (first)
		return err_set(e, SHOP_DATAERR, "field 'id': '%s' is given twice (first on line %zu)", r->id, first);
	char id[ID_MAX];
	if (!r->id)
		id_new("ord", id);
	order_parts o = {
		.id = r->id ? r->id : id,
		.customer = r->customer,
		.status = r->status,
		.currency = r->currency,
		.created_at = r->created,
		.address = "null",
		.payment_method = "null",
		.lines = buf_str(&r->text),
		.promotions = "[]",
		.subtotal = r->total,
		.total = r->total,
		.imported = 1,
	};
	if (order_put(s, &o, &x->doc, created, e))
		return e->code;
	if (!*created) {
		if (!x->stored)
			x->stored = jtree_new();
		const char *why = import_differs(s, x->stored, r, e);
		if (e->code)
			return e->code;
		if (why)
			return err_set(e, SHOP_DATAERR, "field 'id': order '%s' is in the store already with another %s",
			               r->id, why);
	} else {
		for (size_t i = 0; i < r->n; i++) {
			size_t k = strtab_add(&x->sold_sku, r->lines[i].sku, r->lines[i].skulen, NULL);
			if (k >= x->sold_cap) {
				size_t cap = x->sold_cap ? 2 * x->sold_cap : 1024;
				x->sold = xrealloc(x->sold, cap * sizeof *x->sold);
				memset(x->sold + x->sold_cap, 0, (cap - x->sold_cap) * sizeof *x->sold);
				x->sold_cap = cap;
			}
			x->sold[k] += r->lines[i].qty;
		}
		jv ev = jv_object();
		ev = jv_object_set(ev, jv_string("order_id"), jv_string(o.id));
		ev = jv_object_set(ev, jv_string("customer"), jv_string(o.customer));
		ev = jv_object_set(ev, jv_string("status"), jv_string(o.status));
		ev = jv_object_set(ev, jv_string("total"), jv_number((double)o.total));
		ev = jv_object_set(ev, jv_string("currency"), jv_string(o.currency));
		if (outbox_emit(s, "order.imported", o.id, ev, e))
			return e->code;
	}
	if (r->id)
		idset_add(&x->seen, r->id, line);
	return 0;
}

static int import_record(shop *s, void *ctx, const jnode *rec, jsonl_reader *r, shop_counts *c, shop_err *le)
{
	int created = 0;
	if (import_one(s, ctx, rec, jsonl_lineno(r), &created, le))
		return le->code;
	if (created)
		c->created++;
	else
		c->unchanged++;
	return 0;
}

static void import_finish(shop *s, void *ctx, shop_counts *c)
{
	import_ctx *x = ctx;
	(void)c;
	/* The popularity of what was sold, as the orders' trigger counts it
	 * for the orders it sees (it skips imported ones). */
	for (size_t k = 0; !s->err.code && k < x->sold_sku.n; k++)
		search_sold(s, x->sold_sku.s[k], x->sold[k], &s->err);
	strtab_free(&x->sold_sku);
	free(x->sold);
	irec_clear(&x->r);
	free(x->r.lines);
	buf_free(&x->r.text);
	idset_free(&x->seen);
	if (x->stored)
		jtree_free(x->stored);
	buf_free(&x->doc);
}

int order_import(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c)
{
	import_ctx x = {0};
	shop_importer im = {import_record, import_finish, &x};
	return shop_import_run(s, in, name, rejects, c, &im);
}

/* ---- reading ---- */

int order_get(shop *s, const char *id, jv *out, shop_err *e)
{
	*out = jv_invalid();
	if (!shop_store(s))
		return err_set(e, s->err.code, "%s", s->err.msg);
	order_row r;
	if (row_load(s, id, &r, e)) {
		row_free(&r);
		return e->code;
	}
	*out = jv_copy(r.doc);
	row_free(&r);
	return 0;
}

int order_show(shop *s, const char *id, shop_emit emit, void *arg)
{
	jv rec;
	if (order_get(s, id, &rec, &s->err))
		return s->err.code;
	emit(arg, rec);
	return 0;
}

int order_list(shop *s, const order_filter *f, shop_emit emit, void *arg)
{
	if (f->status && check_status(f->status, &s->err))
		return s->err.code;
	char since[32], cutoff[32];
	if (f->since) {
		int64_t t;
		if (clock_parse_rfc3339(f->since, &t))
			return err_set(&s->err, SHOP_USAGE, "since: '%s' is not an RFC 3339 time", f->since);
		/* Stored times are clock_format's, so they compare as strings. */
		clock_format(t, since);
	}
	if (f->older_ms > 0)
		clock_format(clock_now_ms() - f->older_ms, cutoff);
	if (!shop_store(s))
		return s->err.code;
	/* Only the filters given go into the query, so that SQLite can use
	 * the status and customer indexes. */
	buf sql = {0};
	buf_adds(&sql, "SELECT id, doc FROM orders WHERE 1");
	const char *binds[4];
	int n = 0;
	if (f->status)
		buf_addf(&sql, " AND status = ?%d", (binds[n] = f->status, ++n));
	if (f->customer)
		buf_addf(&sql, " AND customer = ?%d", (binds[n] = f->customer, ++n));
	if (f->since)
		buf_addf(&sql, " AND created_at >= ?%d", (binds[n] = since, ++n));
	if (f->older_ms > 0)
		buf_addf(&sql, " AND updated_at <= ?%d", (binds[n] = cutoff, ++n));
	/* Newest first; ids sort by creation time within one second. */
	buf_adds(&sql, " ORDER BY created_at DESC, id DESC");
	int limit_at = 0;
	if (f->limit > 0 && !f->where)
		buf_addf(&sql, " LIMIT ?%d", limit_at = n + 1);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(store_db(s->st), buf_str(&sql), -1, &q, NULL) != SQLITE_OK) {
		buf_free(&sql);
		return store_fail(s->st, &s->err, "list");
	}
	buf_free(&sql);
	for (int i = 0; i < n; i++)
		store_bind_text(q, i + 1, binds[i]);
	if (limit_at)
		sqlite3_bind_int64(q, limit_at, f->limit);
	shop_filter flt = {s, f->where, f->limit, 0, "order", "id", emit, arg};
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv rec;
		if (parse_doc(q, 1, store_col_text(q, 0), &rec, &s->err) || shop_filter_emit(&flt, rec))
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		store_fail_rc(s->st, step, &s->err, "list");
	sqlite3_finalize(q);
	return s->err.code;
}

/* ---- status changes ---- */

/* Count each promotion the order applied, in the confirm's transaction:
 * the per-customer limit from the promotion's definition, then the total
 * limit by a conditional UPDATE, so that two confirms racing for the last
 * use cannot both get it (BEGIN IMMEDIATE puts them one after the other,
 * and the second finds uses = max_uses). A code listed twice counts once. */
static int count_promotions(shop *s, const char *id, const char *customer, jv doc, shop_err *e)
{
	jv promos = rec_field(doc, "promotions");
	if (jv_get_kind(promos) == JV_KIND_NULL) {
		jv_free(promos);
		return 0;
	}
	if (jv_get_kind(promos) != JV_KIND_ARRAY) {
		jv_free(promos);
		return err_set(e, SHOP_DATAERR, "order %s: field 'promotions': expected an array", id);
	}
	char now[32];
	clock_now_text(now);
	int np = jv_array_length(jv_copy(promos));
	for (int i = 0; i < np && !e->code; i++) {
		jv p = jv_array_get(jv_copy(promos), i);
		shop_err pe = {0};
		const char *code = rec_str(p, "code", &pe);
		if (!pe.code && (!code || !*code))
			err_set(&pe, SHOP_DATAERR, "expected {code, ...}");
		if (pe.code) {
			err_set(e, pe.code, "order %s: promotions[%d]: %s", id, i, pe.msg);
			jv_free(p);
			break;
		}
		int seen = 0;
		for (int j = 0; j < i && !seen; j++) {
			jv o = jv_array_get(jv_copy(promos), j);
			const char *c = rec_str(o, "code", &pe);
			seen = c && !strcmp(c, code);
			jv_free(o);
		}
		if (seen) {
			jv_free(p);
			continue;
		}
		/* The definition: is there one, and a per-customer limit? */
		sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM promotion WHERE code = ?1", e);
		int64_t per_customer = -1;
		int found = 0;
		if (q) {
			store_bind_text(q, 1, code);
			int step = sqlite3_step(q);
			if (step == SQLITE_ROW) {
				found = 1;
				jv def;
				const char *t = (const char *)sqlite3_column_text(q, 0);
				if (t && !json_parse(t, (size_t)sqlite3_column_bytes(q, 0), &def, NULL, 0)) {
					shop_err de = {0};
					if (rec_int(def, "max_uses_per_customer", &per_customer, &de) <= 0)
						per_customer = -1;
					jv_free(def);
				}
			} else if (step != SQLITE_DONE) {
				store_fail_rc(s->st, step, e, code);
			}
			sqlite3_reset(q);
		}
		if (!e->code && !found)
			err_set(e, SHOP_REFUSED, "order %s: promotion %s is no longer in the store (removed by promo rm?)", id, code);
		if (!e->code && per_customer >= 0) {
			q = store_stmt(s->st, "SELECT count(*) FROM promotion_use WHERE code = ?1 AND customer = ?2", e);
			if (q) {
				store_bind_text(q, 1, code);
				store_bind_text(q, 2, customer);
				int step = sqlite3_step(q);
				int64_t used = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
				sqlite3_reset(q);
				if (step != SQLITE_ROW)
					store_fail_rc(s->st, step, e, code);
				else if (used >= per_customer)
					err_set(e, SHOP_REFUSED,
					        "order %s: promotion %s is used up for customer %s (%lld of %lld uses each)", id,
					        code, customer, (long long)used, (long long)per_customer);
			}
		}
		if (!e->code) {
			sqlite3_stmt *u = store_stmt(s->st,
			                             "UPDATE promotion SET uses = uses + 1 "
			                             "WHERE code = ?1 AND (max_uses IS NULL OR uses < max_uses)",
			                             e);
			if (u) {
				store_bind_text(u, 1, code);
				if (!store_done(s->st, u, e, code) && sqlite3_changes(store_db(s->st)) == 0)
					err_set(e, SHOP_REFUSED, "order %s: promotion %s is used up", id, code);
			}
		}
		if (!e->code) {
			sqlite3_stmt *u = store_stmt(
				s->st, "INSERT INTO promotion_use (code, order_id, customer, at) VALUES (?1, ?2, ?3, ?4)", e);
			if (u) {
				store_bind_text(u, 1, code);
				store_bind_text(u, 2, id);
				store_bind_text(u, 3, customer);
				store_bind_text(u, 4, now);
				store_done(s->st, u, e, "promotion_use");
			}
		}
		jv_free(p);
	}
	jv_free(promos);
	return e->code;
}

/* The one way an order's status changes, inside the caller's write
 * transaction: the machine's check, the promotions on confirm, the row and
 * its doc, and the event, so that they commit or vanish together. A change
 * to the status the order has is a no-op (retried saga steps). *out: the
 * order record as it is now. */
static int transition(shop *s, const char *id, const char *to, const char *reason, jv *out, shop_err *e)
{
	*out = jv_invalid();
	order_row r;
	if (row_load(s, id, &r, e))
		goto out;
	if (!strcmp(r.status, to)) {
		*out = jv_copy(r.doc);
		goto out;
	}
	if (!legal(r.status, to)) {
		err_set(e, SHOP_REFUSED, "order %s: cannot go from %s to %s", id, r.status, to);
		goto out;
	}
	if (!strcmp(to, "confirmed") && count_promotions(s, id, r.customer, r.doc, e))
		goto out;
	char now[32];
	clock_now_text(now);
	jv doc = jv_copy(r.doc);
	doc = jv_object_set(doc, jv_string("status"), jv_string(to));
	doc = jv_object_set(doc, jv_string("reason"), reason ? jv_string(reason) : jv_null());
	doc = jv_object_set(doc, jv_string("updated_at"), jv_string(now));
	buf text = {0};
	json_dump(doc, &text);
	/* The status in the WHERE clause is a guard, not a retry loop: inside
	 * BEGIN IMMEDIATE nobody else writes, so a miss would be a bug. */
	sqlite3_stmt *u = store_stmt(s->st,
	                             "UPDATE orders SET status = ?2, reason = ?3, updated_at = ?4, doc = ?5 "
	                             "WHERE id = ?1 AND status = ?6",
	                             e);
	if (u) {
		store_bind_text(u, 1, id);
		store_bind_text(u, 2, to);
		store_bind_text(u, 3, reason);
		store_bind_text(u, 4, now);
		sqlite3_bind_text(u, 5, text.p, (int)text.len, SQLITE_STATIC);
		store_bind_text(u, 6, r.status);
		if (!store_done(s->st, u, e, id) && sqlite3_changes(store_db(s->st)) != 1)
			err_set(e, SHOP_TEMPFAIL, "order %s: changed concurrently; try again", id);
	}
	buf_free(&text);
	if (!e->code) {
		char type[48];
		snprintf(type, sizeof type, "order.%s", to);
		jv ev = jv_object();
		ev = jv_object_set(ev, jv_string("order_id"), jv_string(id));
		ev = jv_object_set(ev, jv_string("from"), jv_string(r.status));
		ev = jv_object_set(ev, jv_string("to"), jv_string(to));
		ev = jv_object_set(ev, jv_string("reason"), reason ? jv_string(reason) : jv_null());
		outbox_emit(s, type, id, ev, e);
	}
	if (e->code)
		jv_free(doc);
	else
		*out = doc;
out:
	row_free(&r);
	return e->code;
}

/* A status change as its own transaction; the record is emitted after the
 * commit, so nothing is printed that did not happen. */
static int change(shop *s, const char *id, const char *to, const char *reason, shop_emit emit, void *arg)
{
	if (check_status(to, &s->err))
		return s->err.code;
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	jv rec;
	if (transition(s, id, to, reason, &rec, &s->err) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		jv_free(rec);
		return s->err.code;
	}
	emit(arg, rec);
	return 0;
}

int order_confirm(shop *s, const char *id, shop_emit emit, void *arg)
{
	return change(s, id, "confirmed", NULL, emit, arg);
}

/* Cancelled, then the order's stock let go of, in a second transaction:
 * inventory is its own module with its own transaction, and both steps are
 * idempotent, so a cancel that fails between them is finished by running
 * it again (which is why the release also runs for an order that was
 * cancelled already). The compensating saga (shop-saga cancel) will do the
 * rest: void or refund the payment. */
int order_cancel(shop *s, const char *id, const char *reason, shop_emit emit, void *arg)
{
	if (change(s, id, "cancelled", reason, emit, arg))
		return s->err.code;
	if (inv_release(s, id, emit, arg)) {
		err_prefix(&s->err, "order %s: cancelled, but releasing its stock failed: ", id);
		return s->err.code;
	}
	return 0;
}

int order_set_status(shop *s, const char *id, const char *to, const char *reason, shop_emit emit, void *arg)
{
	return change(s, id, to, reason, emit, arg);
}

/* ---- the outbox readers ---- */

/* Rows read per query: a follower never holds one read transaction open
 * for long, so checkpoints of the WAL can go on. */
#define EVENT_BATCH 500
#define FOLLOW_POLL_MS 200

static int event_record(shop *s, sqlite3_stmt *q, jv *out)
{
	/* columns: seq, id, type, subject, at, data */
	jv data;
	const char *t = (const char *)sqlite3_column_text(q, 5);
	if (!t || json_parse(t, (size_t)sqlite3_column_bytes(q, 5), &data, NULL, 0))
		return err_set(&s->err, SHOP_SOFTWARE, "event %lld: stored data is not JSON",
		               (long long)sqlite3_column_int64(q, 0));
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("event"));
	r = jv_object_set(r, jv_string("seq"), jv_number((double)sqlite3_column_int64(q, 0)));
	r = jv_object_set(r, jv_string("id"), jv_string(store_col_text(q, 1)));
	r = jv_object_set(r, jv_string("type"), jv_string(store_col_text(q, 2)));
	r = jv_object_set(r, jv_string("subject"), jv_string(store_col_text(q, 3)));
	r = jv_object_set(r, jv_string("at"), jv_string(store_col_text(q, 4)));
	r = jv_object_set(r, jv_string("data"), data);
	*out = r;
	return 0;
}

/* The consumer's position; 0 for one that never acknowledged anything, so
 * that a new reader sees every event (at least once). */
int order_consumer_pos(shop *s, const char *name, int64_t *pos)
{
	*pos = 0;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT acked FROM consumer WHERE name = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, name);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		*pos = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, name);
	return 0;
}

int order_events(shop *s, int64_t after, const char *consumer, int follow, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	if (after < 0) {
		after = 0;
		if (consumer && order_consumer_pos(s, consumer, &after))
			return s->err.code;
	}
	for (;;) {
		sqlite3_stmt *q = store_stmt(s->st,
		                             "SELECT seq, id, type, subject, at, data FROM outbox WHERE seq > ?1 "
		                             "ORDER BY seq LIMIT ?2",
		                             &s->err);
		if (!q)
			return s->err.code;
		sqlite3_bind_int64(q, 1, after);
		sqlite3_bind_int(q, 2, EVENT_BATCH);
		int step, rows = 0, stop = 0;
		while ((step = sqlite3_step(q)) == SQLITE_ROW) {
			jv rec;
			if (event_record(s, q, &rec)) {
				stop = 1;
				break;
			}
			rows++;
			after = sqlite3_column_int64(q, 0);
			if (emit(arg, rec)) {
				stop = 1;
				break;
			}
		}
		/* The reset ends the read transaction: the next poll sees what
		 * was committed since. */
		sqlite3_reset(q);
		if (step != SQLITE_ROW && step != SQLITE_DONE)
			return store_fail_rc(s->st, step, &s->err, "events");
		if (stop)
			return s->err.code;
		if (rows == EVENT_BATCH)
			continue;
		if (!follow)
			return 0;
		/* A follower whose reader has gone stops now, not at the next
		 * event, which may be hours away. */
		if (jsonl_out_gone())
			return 0;
		struct timespec ts = {0, FOLLOW_POLL_MS * 1000000L};
		nanosleep(&ts, NULL);
	}
}

int order_ack(shop *s, const char *consumer, int64_t seq, shop_emit emit, void *arg)
{
	if (!consumer || !*consumer)
		return err_set(&s->err, SHOP_USAGE, "ack: a consumer name is required");
	if (seq < 0)
		return err_set(&s->err, SHOP_USAGE, "ack: %lld is not an event's seq", (long long)seq);
	if (!shop_store(s) || store_begin(s->st, &s->err))
		return s->err.code;
	shop_err *e = &s->err;
	char now[32];
	clock_now_text(now);
	jv rec = jv_invalid();
	sqlite3_stmt *q = store_stmt(s->st, "SELECT coalesce(max(seq), 0) FROM outbox", e);
	if (!q)
		goto fail;
	int step = sqlite3_step(q);
	int64_t last = step == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	if (step != SQLITE_ROW) {
		store_fail_rc(s->st, step, e, "ack");
		goto fail;
	}
	if (seq > last) {
		err_set(e, SHOP_NOTFOUND, "ack: no event %lld (the last is %lld)", (long long)seq, (long long)last);
		goto fail;
	}
	/* Never back: an older seq leaves the position (and its time) as is. */
	sqlite3_stmt *u = store_stmt(s->st,
	                             "INSERT INTO consumer (name, acked, updated_at) VALUES (?1, ?2, ?3) "
	                             "ON CONFLICT (name) DO UPDATE SET acked = excluded.acked, "
	                             "updated_at = excluded.updated_at WHERE excluded.acked > consumer.acked",
	                             e);
	if (!u)
		goto fail;
	store_bind_text(u, 1, consumer);
	sqlite3_bind_int64(u, 2, seq);
	store_bind_text(u, 3, now);
	if (store_done(s->st, u, e, consumer))
		goto fail;
	q = store_stmt(s->st, "SELECT name, acked, updated_at FROM consumer WHERE name = ?1", e);
	if (!q)
		goto fail;
	store_bind_text(q, 1, consumer);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		rec = jv_object();
		rec = jv_object_set(rec, jv_string("kind"), jv_string("consumer"));
		rec = jv_object_set(rec, jv_string("name"), jv_string(store_col_text(q, 0)));
		rec = jv_object_set(rec, jv_string("acked"), jv_number((double)sqlite3_column_int64(q, 1)));
		rec = jv_object_set(rec, jv_string("updated_at"), jv_string(store_col_text(q, 2)));
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW) {
		store_fail_rc(s->st, step, e, consumer);
		goto fail;
	}
	if (store_commit(s->st, e))
		goto fail;
	emit(arg, rec);
	return 0;
fail:
	store_rollback(s->st);
	jv_free(rec);
	return e->code;
}

/* ---- the trace ----
 *
 * The trace is a table of sources, each a function that appends the trace
 * records of one part of the business about one order. The records are
 * then put in time order, ties by the source's place in the table, then by
 * the order each source gave. A program that lands later (payments,
 * shipments, returns, saga journals) adds one function reading its own
 * table or file and one line to trace_sources[]; nothing else changes. */

typedef int (*trace_fn)(shop *s, const char *source, const char *id, jv *recs);

jv trace_rec(const char *at, const char *source, const char *what)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("trace"));
	r = jv_object_set(r, jv_string("at"), jv_string(at));
	r = jv_object_set(r, jv_string("source"), jv_string(source));
	r = jv_object_set(r, jv_string("what"), jv_string(what));
	return r;
}

/* The order's own row: when it was made. */
static int trace_order(shop *s, const char *source, const char *id, jv *recs)
{
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT created_at, customer, total, currency FROM orders WHERE id = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, id);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		jv r = trace_rec(store_col_text(q, 0), source, "created");
		r = jv_object_set(r, jv_string("order_id"), jv_string(id));
		r = jv_object_set(r, jv_string("customer"), jv_string(store_col_text(q, 1)));
		r = jv_object_set(r, jv_string("total"), jv_number((double)sqlite3_column_int64(q, 2)));
		r = jv_object_set(r, jv_string("currency"), jv_string(store_col_text(q, 3)));
		*recs = jv_array_append(*recs, r);
	}
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, id);
	return 0;
}

/* Every event about the order (its subject), from any program, through
 * the index outbox_subject. */
static int trace_events(shop *s, const char *source, const char *id, jv *recs)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT seq, id, type, subject, at, data FROM outbox WHERE subject = ?1 ORDER BY seq",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, id);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv ev;
		if (event_record(s, q, &ev))
			break;
		jv r = trace_rec(store_col_text(q, 4), source, store_col_text(q, 2));
		r = jv_object_set(r, jv_string("seq"), rec_field(ev, "seq"));
		r = jv_object_set(r, jv_string("event_id"), rec_field(ev, "id"));
		r = jv_object_set(r, jv_string("data"), rec_field(ev, "data"));
		jv_free(ev);
		*recs = jv_array_append(*recs, r);
	}
	sqlite3_reset(q);
	if (!s->err.code && step != SQLITE_ROW && step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "trace");
	return s->err.code;
}

/* Each reservation's creation, and its last state when it moved on. */
static int trace_reservations(shop *s, const char *source, const char *id, jv *recs)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT id, sku, warehouse, qty, state, expires_at, created_at, updated_at "
	                             "FROM reservation WHERE order_id = ?1 ORDER BY created_at, sku, warehouse, id",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, id);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		for (int last = 0; last < 2; last++) {
			const char *state = store_col_text(q, 4);
			if (last && !strcmp(state, "held"))
				break; /* still as it was made */
			jv r = trace_rec(store_col_text(q, last ? 7 : 6), source, last ? state : "reserved");
			r = jv_object_set(r, jv_string("reservation"), jv_string(store_col_text(q, 0)));
			r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 1)));
			r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 2)));
			r = jv_object_set(r, jv_string("qty"), jv_number((double)sqlite3_column_int64(q, 3)));
			if (!last)
				r = jv_object_set(r, jv_string("expires_at"), jv_string(store_col_text(q, 5)));
			*recs = jv_array_append(*recs, r);
		}
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "trace");
	return 0;
}

/* Stock movements the order caused (its id is their actor), through the
 * index ledger_actor. */
static int trace_ledger(shop *s, const char *source, const char *id, jv *recs)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT seq, at, sku, warehouse, on_hand_delta, reserved_delta, reason, ref "
	                             "FROM ledger WHERE actor = ?1 ORDER BY seq",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, id);
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv r = trace_rec(store_col_text(q, 1), source, store_col_text(q, 6));
		r = jv_object_set(r, jv_string("seq"), jv_number((double)sqlite3_column_int64(q, 0)));
		r = jv_object_set(r, jv_string("sku"), jv_string(store_col_text(q, 2)));
		r = jv_object_set(r, jv_string("warehouse"), jv_string(store_col_text(q, 3)));
		r = jv_object_set(r, jv_string("on_hand_delta"), jv_number((double)sqlite3_column_int64(q, 4)));
		r = jv_object_set(r, jv_string("reserved_delta"), jv_number((double)sqlite3_column_int64(q, 5)));
		r = jv_object_set(r, jv_string("ref"),
		                  sqlite3_column_type(q, 7) == SQLITE_NULL ? jv_null() : jv_string(store_col_text(q, 7)));
		*recs = jv_array_append(*recs, r);
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, "trace");
	return 0;
}

/* In this order on ties of time: what made the order comes first, then
 * what it announced, then what it moved. Add payment, shipment, rma and
 * saga sources here as those programs land. */
static const struct trace_source {
	const char *name;
	trace_fn fn;
} trace_sources[] = {
	{"order", trace_order},
	{"event", trace_events},
	{"inventory", trace_reservations},
	{"ledger", trace_ledger},
	{"payment", pay_trace},
	{"shipment", ship_trace},
	{"saga", saga_trace},
};

typedef struct trace_item {
	int64_t at_ms;
	size_t source, n;
	jv rec;
} trace_item;

static int trace_cmp(const void *a, const void *b)
{
	const trace_item *x = a, *y = b;
	if (x->at_ms != y->at_ms)
		return x->at_ms < y->at_ms ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

int order_trace(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	/* One read transaction, so that the sources agree with each other. */
	if (store_read(s->st, &s->err))
		return s->err.code;
	order_row r;
	int rc = row_load(s, id, &r, &s->err);
	row_free(&r);
	size_t ns = sizeof trace_sources / sizeof *trace_sources, n = 0, cap = 0;
	trace_item *items = NULL;
	for (size_t i = 0; i < ns && !rc; i++) {
		jv recs = jv_array();
		rc = trace_sources[i].fn(s, trace_sources[i].name, id, &recs);
		size_t k = 0;
		jv_array_foreach(recs, j, rec)
		{
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				items = xrealloc(items, cap * sizeof *items);
			}
			jv at = rec_field(rec, "at");
			int64_t ms = 0;
			if (jv_get_kind(at) != JV_KIND_STRING || clock_parse_rfc3339(jv_string_value(at), &ms))
				ms = INT64_MAX; /* a time that does not parse goes last */
			jv_free(at);
			items[n++] = (trace_item){ms, i, k++, rec};
			(void)j;
		}
		jv_free(recs);
	}
	store_read_end(s->st);
	if (!rc)
		qsort(items, n, sizeof *items, trace_cmp);
	size_t i = 0;
	for (; !rc && i < n; i++)
		if (emit(arg, items[i].rec)) {
			i++;
			break;
		}
	for (; i < n; i++)
		jv_free(items[i].rec);
	free(items);
	return s->err.code;
}
