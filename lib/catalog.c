/* catalog: see catalog.h. */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/http.h"
#include "base/json.h"
#include "base/jqx.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/sha256.h"
#include "base/store.h"
#include "fields.h"

#define TITLE_MAX 1000
#define NAME_MAX_ 200
#define DESC_MAX 65536

/* A product as validated, ready to be written. Strings are owned. */
typedef struct product {
	char *sku, *title, *description, *brand, *category, *currency, *tax_class, *family, *status;
	int64_t price;
	/* Borrowed from the record's tree; NULL when absent (written as empty). */
	const jnode *options, *attributes, *images;
} product;

static void product_free(product *p)
{
	free(p->sku);
	free(p->title);
	free(p->description);
	free(p->brand);
	free(p->category);
	free(p->currency);
	free(p->tax_class);
	free(p->family);
	free(p->status);
	memset(p, 0, sizeof *p);
}

static const char *const product_fields[] = {
	"kind", "sku", "title", "description", "brand", "category", "price", "currency", "tax_class", "family",
	"options", "attributes", "images", "status", "version", "created_at", "updated_at", NULL,
};

/* A text field of rec by its key (fields.h): absent or null gives def
 * (NULL def: required, an error). *out is owned. */
static int text_field(const jnode *rec, const char *key, const char *def, size_t max, int flags, char **out,
                      shop_err *e)
{
	const jnode *v = jnode_get(rec, key);
	if (def && field_absent(v)) {
		*out = xstrdup(def);
		return 0;
	}
	return field_text(v, key, max, flags, out, e);
}

/* An object (type JN_OBJ) or array (JN_ARR) field, NULL when absent; with
 * strings, every member must be a string (options, images). The line limit
 * bounds its size. */
static int nested_field(const jnode *rec, const char *key, uint8_t type, int strings, const jnode **out,
                        shop_err *e)
{
	const jnode *v = jnode_get(rec, key);
	*out = NULL;
	if (field_absent(v))
		return 0;
	if (v->type != type)
		return err_set(e, SHOP_DATAERR, "field '%s': expected %s, got %s", key,
		               type == JN_OBJ ? "an object" : "an array", jnode_kind_text(v));
	for (uint32_t i = 0; strings && i < v->len; i++) {
		const jnode *m = &v->kids[i];
		if (m->type != JN_STR || (type == JN_ARR && m->len == 0))
			return type == JN_OBJ ? err_set(e, SHOP_DATAERR, "field '%s.%.*s': expected a string, got %s",
			                                key, (int)m->keylen, m->key, jnode_kind_text(m))
			                      : err_set(e, SHOP_DATAERR, "field '%s[%u]': expected an image name (a string)",
			                                key, i);
	}
	*out = v;
	return 0;
}

/* Validate a whole product record into p. Strings are copied; options,
 * attributes and images stay in rec's tree, which must outlive p's use.
 * The read-only fields kind, version, created_at and updated_at are
 * accepted and ignored here. */
static int catalog_check(shop *s, const jnode *rec, product *p, shop_err *e)
{
	memset(p, 0, sizeof *p);
	if (rec->type != JN_OBJ)
		return err_set(e, SHOP_DATAERR, "expected a product record (an object), got %s", jnode_kind_text(rec));
	for (uint32_t i = 0; i < rec->len; i++) {
		const jnode *m = &rec->kids[i];
		const char *const *f = product_fields;
		while (*f && !(strlen(*f) == m->keylen && !memcmp(*f, m->key, m->keylen)))
			f++;
		if (!*f)
			return err_set(e, SHOP_DATAERR, "unknown field '%.*s'", (int)m->keylen, m->key);
	}
	const jnode *kind = jnode_get(rec, "kind");
	if (!field_absent(kind) && !jnode_is(kind, "product"))
		return err_set(e, SHOP_DATAERR, "field 'kind': expected \"product\"");
	const jnode *sku = jnode_get(rec, "sku");
	if (field_sku(sku, "sku", e))
		goto fail;
	p->sku = jnode_strdup(sku);
	if (text_field(rec, "title", NULL, TITLE_MAX, FIELD_NONEMPTY, &p->title, e) ||
	    text_field(rec, "description", "", DESC_MAX, FIELD_MULTILINE, &p->description, e) ||
	    text_field(rec, "brand", "", NAME_MAX_, 0, &p->brand, e) ||
	    text_field(rec, "category", "", NAME_MAX_, 0, &p->category, e) ||
	    text_field(rec, "currency", s->currency, 3, 0, &p->currency, e) ||
	    text_field(rec, "tax_class", "standard", 32, 0, &p->tax_class, e) ||
	    text_field(rec, "status", "active", 16, 0, &p->status, e))
		goto fail;
	const currency *cur = currency_find(p->currency);
	if (!cur) {
		err_set(e, SHOP_DATAERR, "field 'currency': '%s' is not an ISO 4217 code", p->currency);
		goto fail;
	}
	if (field_money(jnode_get(rec, "price"), "price", cur, &p->price, e))
		goto fail;
	if (strcmp(p->status, "active") && strcmp(p->status, "draft") && strcmp(p->status, "archived")) {
		err_set(e, SHOP_DATAERR, "field 'status': '%s' is not one of active, draft, archived", p->status);
		goto fail;
	}
	for (const char *c = p->tax_class; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) {
			err_set(e, SHOP_DATAERR, "field 'tax_class': '%s' is not a name of [a-z0-9_-]", p->tax_class);
			goto fail;
		}
	if (!p->tax_class[0]) {
		err_set(e, SHOP_DATAERR, "field 'tax_class': empty");
		goto fail;
	}
	if (!field_absent(jnode_get(rec, "family"))) {
		if (text_field(rec, "family", NULL, FIELD_SKU_MAX, 0, &p->family, e))
			goto fail;
		if (!p->family[0]) {
			err_set(e, SHOP_DATAERR, "field 'family': empty (use null for none)");
			goto fail;
		}
	}
	if (nested_field(rec, "options", JN_OBJ, 1, &p->options, e) ||
	    nested_field(rec, "attributes", JN_OBJ, 0, &p->attributes, e) ||
	    nested_field(rec, "images", JN_ARR, 1, &p->images, e))
		goto fail;
	return 0;
fail:
	product_free(p);
	return e->code;
}

/* The export form: content fields in a fixed order, written directly. */
static void field(buf *b, const char *name, const char *val)
{
	buf_addc(b, ',');
	json_dump_str(name, strlen(name), b);
	buf_addc(b, ':');
	if (val)
		json_dump_str(val, strlen(val), b);
	else
		buf_add(b, "null", 4);
}

static void nested(buf *b, const char *name, const jnode *v, const char *empty, int sorted)
{
	if (name) {
		buf_addc(b, ',');
		json_dump_str(name, strlen(name), b);
		buf_addc(b, ':');
	}
	if (v)
		jnode_dump(v, sorted, b);
	else
		buf_adds(b, empty);
}

static void product_write(const product *p, buf *b)
{
	buf_adds(b, "{\"kind\":\"product\"");
	field(b, "sku", p->sku);
	field(b, "title", p->title);
	field(b, "description", p->description);
	field(b, "brand", p->brand);
	field(b, "category", p->category);
	buf_adds(b, ",\"price\":");
	json_dump_int(p->price, b);
	field(b, "currency", p->currency);
	field(b, "tax_class", p->tax_class);
	field(b, "family", p->family);
	nested(b, "options", p->options, "{}", 0);
	nested(b, "attributes", p->attributes, "{}", 0);
	nested(b, "images", p->images, "[]", 0);
	field(b, "status", p->status);
	buf_addc(b, '}');
}

static const char SQL_CUR[] = "SELECT version, created_at, doc FROM product WHERE sku = ?1";

/* The content (export form) of a stored doc is the doc without its last
 * three fields: everything before the last ',"version":' plus '}'. That
 * text cannot occur after it: version and the times are written last. */
static size_t content_prefix(const char *doc, size_t len)
{
	static const char mark[] = ",\"version\":";
	for (size_t i = len; i-- > 0;)
		if (doc[i] == ',' && len - i >= sizeof mark - 1 && !memcmp(doc + i, mark, sizeof mark - 1))
			return i;
	return len ? len - 1 : 0;
}
static const char SQL_VARIANT[] =
	"SELECT sku FROM product WHERE family = ?1 AND options_key = ?2 AND sku <> ?3 LIMIT 1";
static const char SQL_INSERT[] =
	"INSERT INTO product (sku, title, brand, category, price, currency, tax_class, family, options_key, "
	"status, version, created_at, updated_at, doc) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (sku) DO NOTHING";
static const char SQL_UPDATE[] =
	"UPDATE product SET title = ?2, brand = ?3, category = ?4, price = ?5, currency = ?6, tax_class = ?7, "
	"family = ?8, options_key = ?9, status = ?10, version = ?11, created_at = ?12, updated_at = ?13, "
	"doc = ?14 WHERE sku = ?1";

/* The printed record: the content with version and times after it. */
static void make_doc(buf *d, const char *cs, size_t clen, int64_t version, const char *created, const char *now)
{
	buf_reset(d);
	buf_add(d, cs, clen - 1);
	buf_addf(d, ",\"version\":%lld,\"created_at\":\"%s\",\"updated_at\":\"%s\"}", (long long)version, created,
	         now);
}

static void bind_product(sqlite3_stmt *w, const product *p, const char *okey, int64_t version, const char *created,
                         const char *now, const buf *d)
{
	store_bind_text(w, 1, p->sku);
	store_bind_text(w, 2, p->title);
	store_bind_text(w, 3, p->brand);
	store_bind_text(w, 4, p->category);
	sqlite3_bind_int64(w, 5, p->price);
	store_bind_text(w, 6, p->currency);
	store_bind_text(w, 7, p->tax_class);
	store_bind_text(w, 8, p->family);
	store_bind_text(w, 9, okey);
	store_bind_text(w, 10, p->status);
	sqlite3_bind_int64(w, 11, version);
	store_bind_text(w, 12, created);
	store_bind_text(w, 13, now);
	sqlite3_bind_text(w, 14, d->p, (int)d->len, SQLITE_STATIC);
}

/* Write p: insert, update, or leave alone when its content is the same.
 * *changed: 0 unchanged, 1 created, 2 updated. doc (optional) gets the
 * printed record. Most imports bring new products, so the insert is tried
 * first and only an existing sku pays for reading and comparing. */
/* The two texts a write needs from a product's tree: its content (the
 * export form) and its options as sorted JSON (the variant key). After
 * this the tree is no longer needed. */
static void product_prepare(const product *p, buf *cj, buf *okey)
{
	product_write(p, cj);
	nested(okey, NULL, p->options, "{}", 1);
}

static int product_put(shop *s, const product *p, const buf *cj_, const buf *okey_, int *changed, buf *doc,
                       shop_err *e)
{
	store *st = s->st;
	*changed = 0;
	const buf cj = *cj_, okey = *okey_;
	buf d = {0};
	char now[32];
	clock_now_text(now);
	if (p->family) {
		sqlite3_stmt *vq = store_stmt(st, SQL_VARIANT, e);
		if (!vq)
			goto out;
		store_bind_text(vq, 1, p->family);
		store_bind_text(vq, 2, okey.p);
		store_bind_text(vq, 3, p->sku);
		if (sqlite3_step(vq) == SQLITE_ROW)
			err_set(e, SHOP_DATAERR, "sku '%s': family '%s' already has a variant with options %s (sku '%s')",
			        p->sku, p->family, okey.p, store_col_text(vq, 0));
		sqlite3_reset(vq);
		if (e->code)
			goto out;
	}
	make_doc(&d, cj.p, cj.len, 1, now, now);
	sqlite3_stmt *w = store_stmt(st, SQL_INSERT, e);
	if (!w)
		goto out;
	bind_product(w, p, okey.p, 1, now, now, &d);
	if (store_done(st, w, e, p->sku))
		goto out;
	if (sqlite3_changes(store_db(st)) == 1) {
		*changed = 1;
		goto done;
	}
	sqlite3_stmt *q = store_stmt(st, SQL_CUR, e);
	if (!q)
		goto out;
	store_bind_text(q, 1, p->sku);
	int step = sqlite3_step(q);
	if (step != SQLITE_ROW) {
		sqlite3_reset(q);
		store_fail_rc(st, step == SQLITE_DONE ? SQLITE_CORRUPT : step, e, p->sku);
		goto out;
	}
	int64_t version = sqlite3_column_int64(q, 0);
	char created[32];
	snprintf(created, sizeof created, "%s", store_col_text(q, 1));
	const char *old = store_col_text(q, 2);
	size_t oldlen = (size_t)sqlite3_column_bytes(q, 2);
	size_t k = content_prefix(old, oldlen);
	if (k == cj.len - 1 && !memcmp(old, cj.p, k)) {
		if (doc)
			buf_add(doc, old, oldlen);
		sqlite3_reset(q);
		goto out;
	}
	sqlite3_reset(q);
	make_doc(&d, cj.p, cj.len, version + 1, created, now);
	w = store_stmt(st, SQL_UPDATE, e);
	if (!w)
		goto out;
	bind_product(w, p, okey.p, version + 1, created, now, &d);
	if (store_done(st, w, e, p->sku))
		goto out;
	*changed = 2;
done:
	if (doc)
		buf_add(doc, d.p, d.len);
out:
	buf_free(&d);
	return e->code;
}

/* ---- import ---- */

/* A checked record of an import waiting for its write. */
typedef struct pending {
	product p;
	buf cj, okey;
	size_t line;
	char *raw; /* the input line, kept for --rejects */
	size_t rawlen;
} pending;

static int pending_cmp(const void *x, const void *y)
{
	const pending *a = x, *b = y;
	int c = strcmp(a->p.sku, b->p.sku);
	return c ? c : (a->line > b->line) - (a->line < b->line);
}

/* Write a batch of checked records in sku order: B-tree inserts in key
 * order touch each index page once, where input order scatters them (an
 * import of the icecat catalog runs about a tenth faster so). Records of
 * one sku keep their input order, so the last one still wins. */
static void import_flush(shop *s, pending *b, size_t n, const char *name, FILE *rejects, shop_counts *c)
{
	qsort(b, n, sizeof *b, pending_cmp);
	for (size_t i = 0; i < n; i++) {
		shop_err le = {0};
		int changed = 0;
		if (!s->err.code && product_put(s, &b[i].p, &b[i].cj, &b[i].okey, &changed, NULL, &le)) {
			if (le.code != SHOP_DATAERR || !rejects) {
				/* The store failed, or all or nothing: stop. */
				err_set(&s->err, le.code, "%s:%zu: %s", name, b[i].line, le.msg);
			} else {
				err_prefix(&le, "%s:%zu: ", name, b[i].line);
				shop_reject(rejects, name, b[i].line, le.msg, b[i].raw, b[i].rawlen);
				c->rejected++;
			}
		} else if (!s->err.code) {
			if (changed == 1)
				c->created++;
			else if (changed == 2)
				c->updated++;
			else
				c->unchanged++;
		}
		product_free(&b[i].p);
		buf_free(&b[i].cj);
		buf_free(&b[i].okey);
		free(b[i].raw);
	}
}

#define IMPORT_BATCH 65536

typedef struct cat_import {
	pending *batch;
	size_t n;
	const char *name;
	FILE *rejects;
} cat_import;

/* Check a record into the batch; a full batch is written. */
static int cat_record(shop *s, void *ctx, const jnode *rec, jsonl_reader *r, shop_counts *c, shop_err *le)
{
	cat_import *x = ctx;
	if (catalog_check(s, rec, &x->batch[x->n].p, le))
		return le->code;
	pending *pe = &x->batch[x->n++];
	pe->line = jsonl_lineno(r);
	product_prepare(&pe->p, &pe->cj, &pe->okey);
	if (x->rejects) {
		const char *text = jsonl_line(r, &pe->rawlen);
		pe->raw = xstrndup(text, pe->rawlen);
	}
	if (x->n == IMPORT_BATCH) {
		import_flush(s, x->batch, x->n, x->name, x->rejects, c);
		x->n = 0;
	}
	return 0;
}

static void cat_finish(shop *s, void *ctx, shop_counts *c)
{
	cat_import *x = ctx;
	import_flush(s, x->batch, x->n, x->name, x->rejects, c);
	free(x->batch);
}

int catalog_import(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c)
{
	cat_import x = {xcalloc(IMPORT_BATCH, sizeof(pending)), 0, name, rejects};
	shop_importer im = {cat_record, cat_finish, &x};
	return shop_import_run(s, in, name, rejects, c, &im);
}

/* ---- reads ---- */

int catalog_status(shop *s, const char *sku, char status[16], shop_err *e)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT status FROM product WHERE sku = ?1", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, sku);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		snprintf(status, 16, "%s", store_col_text(q, 0));
	sqlite3_reset(q);
	if (step == SQLITE_ROW)
		return 0;
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, e, sku);
	return err_set(e, SHOP_NOTFOUND, "sku '%s': no such product", sku);
}

int catalog_get(shop *s, const char *sku, catalog_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM product WHERE sku = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	int step = sqlite3_step(q);
	if (step == SQLITE_ROW) {
		emit(arg, (const char *)sqlite3_column_text(q, 0), (size_t)sqlite3_column_bytes(q, 0));
		sqlite3_reset(q);
		return 0;
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		return store_fail_rc(s->st, step, &s->err, sku);
	return SHOP_NOTFOUND;
}

int catalog_list(shop *s, const catalog_filter *f, catalog_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	buf sql = {0};
	buf_adds(&sql, "SELECT sku, doc FROM product WHERE 1");
	int n = 0;
	const char *binds[8];
	if (!f->status)
		buf_adds(&sql, " AND status <> 'archived'");
	else if (strcmp(f->status, "any"))
		buf_addf(&sql, " AND status = ?%d", (binds[n] = f->status, ++n));
	if (f->brand)
		buf_addf(&sql, " AND brand = ?%d", (binds[n] = f->brand, ++n));
	if (f->category)
		buf_addf(&sql, " AND category = ?%d", (binds[n] = f->category, ++n));
	if (f->family)
		buf_addf(&sql, " AND family = ?%d", (binds[n] = f->family, ++n));
	if (f->after)
		buf_addf(&sql, " AND sku > ?%d", (binds[n] = f->after, ++n));
	buf_adds(&sql, " ORDER BY sku");
	if (f->limit > 0 && !f->where)
		buf_addf(&sql, " LIMIT %lld", f->limit);
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(store_db(s->st), sql.p, -1, &q, NULL) != SQLITE_OK) {
		buf_free(&sql);
		return store_fail(s->st, &s->err, "list");
	}
	buf_free(&sql);
	for (int i = 0; i < n; i++)
		store_bind_text(q, i + 1, binds[i]);
	long long shown = 0;
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(q, 1);
		size_t len = (size_t)sqlite3_column_bytes(q, 1);
		if (f->where) {
			jv rec = jv_null();
			json_parse(doc, len, &rec, NULL, 0);
			int truth = 0;
			shop_err we = {0};
			int rc = jqx_test(f->where, rec, &truth, &we);
			jv_free(rec);
			if (rc) {
				err_set(&s->err, we.code, "sku '%s': %s", store_col_text(q, 0), we.msg);
				break;
			}
			if (!truth)
				continue;
		}
		if (emit(arg, doc, len))
			break;
		if (f->limit > 0 && ++shown >= f->limit)
			break;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		store_fail_rc(s->st, step, &s->err, "list");
	sqlite3_finalize(q);
	return s->err.code;
}

int catalog_export(shop *s, catalog_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT doc FROM product ORDER BY sku", &s->err);
	if (!q)
		return s->err.code;
	int step;
	buf c = {0};
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *doc = (const char *)sqlite3_column_text(q, 0);
		buf_reset(&c);
		buf_add(&c, doc, content_prefix(doc, (size_t)sqlite3_column_bytes(q, 0)));
		buf_addc(&c, '}');
		if (emit(arg, c.p, c.len))
			break;
	}
	buf_free(&c);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		store_fail_rc(s->st, step, &s->err, "export");
	sqlite3_reset(q);
	return s->err.code;
}

/* ---- patch, set, rm ---- */

/* Deep merge of patch into target (both consumed). With remove, a null in
 * the patch removes the key: RFC 7386 merge patch. Without, nulls are kept
 * as values: for combining two patches into one. Where the patch is not an
 * object it wins; an RFC 7386 patch object over a non-object applies to {}. */
static jv merge(jv target, jv patch, int remove)
{
	if (jv_get_kind(patch) != JV_KIND_OBJECT || (!remove && jv_get_kind(target) != JV_KIND_OBJECT)) {
		jv_free(target);
		return patch;
	}
	if (jv_get_kind(target) != JV_KIND_OBJECT) {
		jv_free(target);
		target = jv_object();
	}
	jv_object_foreach(patch, key, val)
	{
		if (remove && jv_get_kind(val) == JV_KIND_NULL) {
			target = jv_object_delete(target, key);
			jv_free(val);
			continue;
		}
		jv cur = jv_object_get(jv_copy(target), jv_copy(key));
		if (!jv_is_valid(cur)) {
			jv_free(cur);
			cur = jv_null();
		}
		target = jv_object_set(target, key, merge(cur, val, remove));
	}
	jv_free(patch);
	return target;
}

static int current_content(shop *s, const char *sku, jv *out, int64_t *version, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(s->st, SQL_CUR, e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, sku);
	int step = sqlite3_step(q);
	if (step != SQLITE_ROW) {
		sqlite3_reset(q);
		if (step == SQLITE_DONE)
			return err_set(e, SHOP_NOTFOUND, "sku '%s': no such product", sku);
		return store_fail_rc(s->st, step, e, sku);
	}
	*version = sqlite3_column_int64(q, 0);
	/* The doc parses to the content plus three fields to drop. */
	*out = jv_null();
	json_parse((const char *)sqlite3_column_text(q, 2), (size_t)sqlite3_column_bytes(q, 2), out, NULL, 0);
	*out = jv_object_delete(*out, jv_string("version"));
	*out = jv_object_delete(*out, jv_string("created_at"));
	*out = jv_object_delete(*out, jv_string("updated_at"));
	sqlite3_reset(q);
	return 0;
}

/* Apply one merge patch (consumed) inside the caller's transaction; the
 * printed record is appended to docs (may be NULL) with a newline. */
static int apply_patch(shop *s, jv patch, buf *docs, shop_err *pe)
{
	const char *sku = rec_str(patch, "sku", pe);
	int64_t expect = 0, version = 0;
	jv cur = jv_null();
	if (jv_get_kind(patch) != JV_KIND_OBJECT)
		err_set(pe, SHOP_DATAERR, "expected a partial product record (an object), got %s", jv_kind_text(patch));
	else if (!sku && !pe->code)
		err_set(pe, SHOP_DATAERR, "field 'sku': missing");
	int has_ver = 0;
	if (!pe->code && (has_ver = rec_int(patch, "version", &expect, pe)) >= 0 && !pe->code)
		current_content(s, sku, &cur, &version, pe);
	if (!pe->code && has_ver > 0 && expect != version)
		err_set(pe, SHOP_TEMPFAIL, "sku '%s': changed since version %lld (now %lld); read it again", sku,
		        (long long)expect, (long long)version);
	if (!pe->code) {
		char *sku_copy = xstrdup(sku);
		jv merged = merge(cur, jv_copy(patch), 1);
		cur = jv_null();
		/* The sku is the key, not a field to change. */
		merged = jv_object_set(merged, jv_string("sku"), jv_string(sku_copy));
		/* Checked as text, like an imported line: one validation for all. */
		buf text = {0};
		json_dump(merged, &text);
		jv_free(merged);
		jtree *t = jtree_new();
		const jnode *rec = jtree_parse(t, text.p, text.len, NULL, 0);
		product p;
		if (!rec)
			err_set(pe, SHOP_SOFTWARE, "sku '%s': the patched record does not read back", sku_copy);
		else if (!catalog_check(s, rec, &p, pe)) {
			int changed;
			size_t before = docs ? docs->len : 0;
			buf cj = {0}, okey = {0};
			product_prepare(&p, &cj, &okey);
			if (!product_put(s, &p, &cj, &okey, &changed, docs, pe) && docs && docs->len > before)
				buf_addc(docs, '\n');
			buf_free(&cj);
			buf_free(&okey);
			product_free(&p);
		}
		jtree_free(t);
		buf_free(&text);
		free(sku_copy);
	}
	jv_free(cur);
	jv_free(patch);
	return pe->code;
}

int catalog_patch(shop *s, jv patches, const char *(*label)(void *, size_t), void *larg, catalog_emit emit,
                  void *arg)
{
	if (!shop_store(s)) {
		jv_free(patches);
		return s->err.code;
	}
	if (store_begin(s->st, &s->err)) {
		jv_free(patches);
		return s->err.code;
	}
	buf docs = {0};
	int n = jv_array_length(jv_copy(patches));
	for (int i = 0; i < n && !s->err.code; i++) {
		shop_err pe = {0};
		if (apply_patch(s, jv_array_get(jv_copy(patches), i), &docs, &pe)) {
			const char *where = label ? label(larg, (size_t)i) : NULL;
			if (where)
				err_set(&s->err, pe.code, "%s: %s", where, pe.msg);
			else
				err_set(&s->err, pe.code, "%s", pe.msg);
		}
	}
	jv_free(patches);
	if (s->err.code || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		buf_free(&docs);
		return s->err.code;
	}
	for (char *p = docs.p, *nl; p && (nl = strchr(p, '\n')); p = nl + 1)
		if (emit(arg, p, (size_t)(nl - p)))
			break;
	buf_free(&docs);
	return 0;
}

int catalog_assignments(shop *s, const char *sku, char **args, int n, jv *patch)
{
	jv p = jv_object();
	p = jv_object_set(p, jv_string("sku"), jv_string(sku));
	for (int i = 0; i < n; i++) {
		const char *a = args[i];
		const char *eq = strchr(a, '=');
		if (!eq || eq == a || (eq == a + 1 && a[0] == ':')) {
			jv_free(p);
			return err_set(&s->err, SHOP_USAGE, "'%s': expected FIELD=VALUE or FIELD:=JSON", a);
		}
		int raw = eq[-1] == ':';
		char *field = xstrndup(a, (size_t)(eq - a - raw));
		if (!strcmp(field, "sku") || !strncmp(field, "sku.", 4)) {
			/* The sku names the product; changing it would edit another. */
			err_set(&s->err, SHOP_USAGE, "'%s': the sku is the product's key and cannot be set", a);
			free(field);
			jv_free(p);
			return s->err.code;
		}
		jv val;
		if (raw) {
			val = jv_parse(eq + 1);
			if (!jv_is_valid(val)) {
				jv_free(val);
				err_set(&s->err, SHOP_USAGE, "'%s': the value after := is not JSON", field);
				free(field);
				jv_free(p);
				return s->err.code;
			}
		} else {
			size_t bad;
			if (!utf8_valid(eq + 1, strlen(eq + 1), &bad)) {
				err_set(&s->err, SHOP_DATAERR, "'%s': invalid UTF-8", field);
				free(field);
				jv_free(p);
				return s->err.code;
			}
			val = jv_string(eq + 1);
		}
		/* A dotted field goes into options or attributes: a path of objects. */
		jv path = jv_array();
		for (char *part = field, *dot;; part = dot + 1) {
			dot = strchr(part, '.');
			if (dot)
				*dot = 0;
			if (!*part) {
				jv_free(path);
				jv_free(val);
				jv_free(p);
				err_set(&s->err, SHOP_USAGE, "'%s': empty field name", a);
				free(field);
				return s->err.code;
			}
			path = jv_array_append(path, jv_string(part));
			if (!dot)
				break;
		}
		free(field);
		int depth = jv_array_length(jv_copy(path));
		for (int k = depth - 1; k >= 1; k--) {
			jv o = jv_object();
			val = jv_object_set(o, jv_array_get(jv_copy(path), k), val);
		}
		jv top = jv_array_get(path, 0);
		jv cur = jv_object_get(jv_copy(p), jv_copy(top));
		if (!jv_is_valid(cur)) {
			jv_free(cur);
			cur = jv_null();
		}
		/* Two assignments into one object merge, keeping their nulls (they
		 * are removals for the patch); otherwise the last wins. */
		val = merge(cur, val, 0);
		p = jv_object_set(p, top, val);
	}
	*patch = p;
	return 0;
}

/* ---- images ---- */

static const struct img_type {
	const char *mime, *ext;
} img_png = {"image/png", "png"}, img_jpeg = {"image/jpeg", "jpg"}, img_gif = {"image/gif", "gif"},
  img_webp = {"image/webp", "webp"}, img_avif = {"image/avif", "avif"};

static const struct img_type *sniff(const unsigned char *p, size_t n)
{
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return &img_png;
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return &img_jpeg;
	if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
		return &img_gif;
	if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return &img_webp;
	if (n >= 12 && !memcmp(p + 4, "ftypavif", 8))
		return &img_avif;
	return NULL;
}

static int read_file(const char *path, size_t max, buf *out, shop_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return err_set(e, SHOP_DATAERR, "%s: not a regular file", path);
	}
	if ((size_t)sb.st_size > max) {
		close(fd);
		return err_set(e, SHOP_DATAERR, "%s: larger than %zu bytes (limits.image_bytes)", path, max);
	}
	char chunk[65536];
	ssize_t r;
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		buf_add(out, chunk, (size_t)r);
		if (out->len > max) {
			close(fd);
			return err_set(e, SHOP_DATAERR, "%s: larger than %zu bytes", path, max);
		}
	}
	int err = r < 0 ? errno : 0;
	close(fd);
	if (err)
		return err_set(e, SHOP_IOERR, "%s: read: %s", path, strerror(err));
	return 0;
}

/* Write bytes to path atomically (a temporary file, rename), with mode;
 * unless replace, an existing file is left alone: names are content
 * hashes, so it holds these bytes already. durable adds an fsync of the
 * file and of its directory; a published site, derived data that publish
 * writes again, goes without (19k fsyncs cost a minute) and is synced
 * once before its index. */
static int write_file(const char *path, const void *p, size_t n, mode_t mode, int replace, int durable,
                      shop_err *e)
{
	if (!replace && access(path, F_OK) == 0)
		return 0;
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		err_set(e, SHOP_IOERR, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return e->code;
	}
	/* Private files are forced to their mode; public ones keep the umask. */
	if ((mode == 0600 && fchmod(fd, mode)) || write_all(fd, p, n) || (durable && fsync(fd))) {
		err_set(e, SHOP_IOERR, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		free(tmp);
		return e->code;
	}
	close(fd);
	if (rename(tmp, path)) {
		err_set(e, SHOP_IOERR, "%s: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return e->code;
	}
	free(tmp);
	if (!durable)
		return 0;
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	return 0;
}

static int mkdir_p(const char *d, mode_t mode, shop_err *e)
{
	char *p = xstrdup(d);
	for (char *c = p + 1;; c++) {
		if (*c == '/' || !*c) {
			char save = *c;
			*c = 0;
			if (mkdir(p, mode) && errno != EEXIST) {
				err_set(e, SHOP_IOERR, "mkdir %s: %s", p, strerror(errno));
				free(p);
				return e->code;
			}
			*c = save;
			if (!save)
				break;
		}
	}
	free(p);
	return 0;
}

static char *image_path(shop *s, const char *name, int mk, shop_err *e)
{
	char *dir = store_subdir(s->st, "images", mk, e);
	if (!dir)
		return NULL;
	char sub[3] = {name[0], name[1], 0};
	char *d2 = xasprintf("%s/%s", dir, sub);
	free(dir);
	if (mk && mkdir(d2, 0700) && errno != EEXIST) {
		err_set(e, SHOP_IOERR, "mkdir %s: %s", d2, strerror(errno));
		free(d2);
		return NULL;
	}
	char *path = xasprintf("%s/%s", d2, name);
	free(d2);
	return path;
}

static int image_record(shop *s, const char *sku, const char *name, jv *rec, shop_err *e)
{
	sqlite3_stmt *q =
		store_stmt(s->st, "SELECT sha256, type, bytes, source, created_at FROM image WHERE name = ?1", e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, name);
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("image"));
	r = jv_object_set(r, jv_string("sku"), jv_string(sku));
	r = jv_object_set(r, jv_string("name"), jv_string(name));
	if (sqlite3_step(q) == SQLITE_ROW) {
		r = jv_object_set(r, jv_string("sha256"), jv_string(store_col_text(q, 0)));
		r = jv_object_set(r, jv_string("type"), jv_string(store_col_text(q, 1)));
		r = jv_object_set(r, jv_string("bytes"), jv_number((double)sqlite3_column_int64(q, 2)));
		r = jv_object_set(r, jv_string("source"), jv_string(store_col_text(q, 3)));
		r = jv_object_set(r, jv_string("created_at"), jv_string(store_col_text(q, 4)));
		char *path = image_path(s, name, 0, e);
		r = jv_object_set(r, jv_string("stored"), jv_bool(path && access(path, R_OK) == 0));
		free(path);
	} else {
		/* A name from an import whose file this store does not hold. */
		r = jv_object_set(r, jv_string("stored"), jv_false());
	}
	sqlite3_reset(q);
	*rec = r;
	return 0;
}

/* The images[] of a product (owned), opening the store first; 66 when no
 * such product. */
static int product_images(shop *s, const char *sku, jv *imgs)
{
	jv cur;
	int64_t version;
	if (!shop_store(s) || current_content(s, sku, &cur, &version, &s->err))
		return s->err.code;
	*imgs = jv_object_get(cur, jv_string("images"));
	return 0;
}

int catalog_image_add(shop *s, const char *sku, const char *src, jv *rec)
{
	shop_err *e = &s->err;
	jv cur;
	if (product_images(s, sku, &cur))
		return e->code;
	jv_free(cur);
	buf data = {0};
	int is_url = !strncmp(src, "https://", 8) || !strncmp(src, "http://", 7);
	if (is_url) {
		http_opts o = s->http;
		o.max_body = s->max_image;
		http_client *h = http_new(&o);
		if (!h) {
			buf_free(&data);
			return err_set(e, SHOP_SOFTWARE, "%s: cannot load libcurl (libcurl4 is not installed?)", src);
		}
		http_get(h, src, &data, e);
		http_free(h);
	} else {
		read_file(src, s->max_image, &data, e);
	}
	if (e->code) {
		buf_free(&data);
		return e->code;
	}
	const struct img_type *t = sniff((const unsigned char *)data.p, data.len);
	if (!t) {
		buf_free(&data);
		return err_set(e, SHOP_DATAERR, "%s: not an image shop takes (PNG, JPEG, GIF, WebP or AVIF)", src);
	}
	char hex[65];
	sha256_hex(data.p, data.len, hex);
	char *name = xasprintf("%s.%s", hex, t->ext);
	char *path = image_path(s, name, 1, e);
	if (!path || write_file(path, data.p, data.len, 0600, 0, 1, e)) {
		free(path);
		free(name);
		buf_free(&data);
		return e->code;
	}
	free(path);
	size_t bytes = data.len;
	buf_free(&data);

	if (store_begin(s->st, e)) {
		free(name);
		return e->code;
	}
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *ins = store_stmt(s->st,
	                               "INSERT OR IGNORE INTO image (sha256, name, type, bytes, source, created_at) "
	                               "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	                               e);
	if (ins) {
		store_bind_text(ins, 1, hex);
		store_bind_text(ins, 2, name);
		store_bind_text(ins, 3, t->mime);
		sqlite3_bind_int64(ins, 4, (sqlite3_int64)bytes);
		store_bind_text(ins, 5, src);
		store_bind_text(ins, 6, now);
		store_done(s->st, ins, e, "image");
	}
	/* Add the name to the product's images unless it is there already. */
	jv imgs;
	if (!e->code && !product_images(s, sku, &imgs)) {
		int have = 0;
		jv_array_foreach(imgs, i, it)
		{
			if (!strcmp(jv_string_value(it), name))
				have = 1;
			jv_free(it);
		}
		jv patch = jv_object();
		patch = jv_object_set(patch, jv_string("sku"), jv_string(sku));
		patch = jv_object_set(patch, jv_string("images"), jv_array_append(imgs, jv_string(name)));
		if (!have)
			apply_patch(s, patch, NULL, e);
		else
			jv_free(patch);
	}
	if (e->code || store_commit(s->st, e)) {
		store_rollback(s->st);
		free(name);
		return e->code;
	}
	image_record(s, sku, name, rec, e);
	free(name);
	return e->code;
}

int catalog_image_ls(shop *s, const char *sku, catalog_emit emit, void *arg)
{
	shop_err *e = &s->err;
	jv imgs;
	if (product_images(s, sku, &imgs))
		return e->code;
	jv_array_foreach(imgs, i, it)
	{
		jv rec;
		if (!e->code && !image_record(s, sku, jv_string_value(it), &rec, e)) {
			buf line = {0};
			json_dump(rec, &line);
			jv_free(rec);
			emit(arg, line.p, line.len);
			buf_free(&line);
		}
		jv_free(it);
	}
	jv_free(imgs);
	return e->code;
}

/* ---- publish ---- */

int catalog_publish(shop *s, const char *dir, jv *summary)
{
	shop_err *e = &s->err;
	if (!shop_store(s))
		return e->code;
	char *pdir = xasprintf("%s/p", dir), *idir = xasprintf("%s/img", dir);
	/* Published files are for a web server to read: 0755/0644 less the
	 * umask, where everything of the store itself is private (0600). */
	if (mkdir_p(pdir, 0755, e) || mkdir_p(idir, 0755, e))
		goto out;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT sku, doc FROM product WHERE status = 'active' ORDER BY sku", e);
	if (!q)
		goto out;
	jv index = jv_object();
	size_t products = 0, images = 0, written = 0;
	int step;
	while (!e->code && (step = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sku = store_col_text(q, 0);
		const char *doc = store_col_text(q, 1);
		size_t len = content_prefix(doc, (size_t)sqlite3_column_bytes(q, 1));
		buf cbuf = {0};
		buf_add(&cbuf, doc, len);
		buf_addc(&cbuf, '}');
		len++;
		const char *content = cbuf.p;
		char hex[65];
		sha256_hex(content, len, hex);
		char *rel = xasprintf("p/%s.json", hex);
		char *path = xasprintf("%s/%s", dir, rel);
		int existed = access(path, F_OK) == 0;
		buf body = {0};
		buf_add(&body, content, len);
		buf_addc(&body, '\n');
		if (!write_file(path, body.p, body.len, 0644, 0, 0, e) && !existed)
			written++;
		buf_free(&body);
		free(path);
		index = jv_object_set(index, jv_string(sku), jv_string(rel));
		free(rel);
		products++;
		jv rec = jv_null();
		json_parse(content, len, &rec, NULL, 0);
		jv imgs = jv_object_get(rec, jv_string("images"));
		jv_array_foreach(imgs, i, it)
		{
			const char *name = jv_string_value(it);
			char *src = NULL, *dst = xasprintf("%s/%s", idir, name);
			if (!e->code && access(dst, F_OK) != 0) {
				src = strlen(name) > 2 && !strchr(name, '/') ? image_path(s, name, 0, e) : NULL;
				buf data = {0};
				if (!src || access(src, R_OK) != 0)
					err_set(e, SHOP_NOTFOUND, "sku '%s': image %s is not in the store (image add it)", sku,
					        name);
				else if (!read_file(src, SIZE_MAX / 2, &data, e) &&
				         !write_file(dst, data.p, data.len, 0644, 0, 0, e))
					written++;
				buf_free(&data);
			}
			if (!e->code)
				images++;
			free(src);
			free(dst);
			jv_free(it);
		}
		jv_free(imgs);
		buf_free(&cbuf);
	}
	sqlite3_reset(q);
	if (e->code) {
		jv_free(index);
		goto out;
	}
	char now[32];
	clock_now_text(now);
	jv idx = jv_object();
	idx = jv_object_set(idx, jv_string("generated_at"), jv_string(now));
	idx = jv_object_set(idx, jv_string("count"), jv_number((double)products));
	idx = jv_object_set(idx, jv_string("products"), index);
	jv text = jv_dump_string(idx, JV_PRINT_SORTED);
	buf body = {0};
	buf_adds(&body, jv_string_value(text));
	buf_addc(&body, '\n');
	jv_free(text);
	/* The product and image files reach the disk before the index that
	 * names them: one syncfs instead of an fsync per file. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		syncfs(dfd);
		close(dfd);
	}
	char *ipath = xasprintf("%s/index.json", dir);
	/* The index is the one file that changes: written last, atomically, so
	 * a reader sees the old catalog or the new one, never a mix. */
	write_file(ipath, body.p, body.len, 0644, 1, 1, e);
	free(ipath);
	buf_free(&body);
	if (!e->code) {
		jv r = jv_object();
		r = jv_object_set(r, jv_string("kind"), jv_string("publish"));
		r = jv_object_set(r, jv_string("dir"), jv_string(dir));
		r = jv_object_set(r, jv_string("products"), jv_number((double)products));
		r = jv_object_set(r, jv_string("images"), jv_number((double)images));
		r = jv_object_set(r, jv_string("written"), jv_number((double)written));
		r = jv_object_set(r, jv_string("index"), jv_string("index.json"));
		r = jv_object_set(r, jv_string("generated_at"), jv_string(now));
		*summary = r;
	}
out:
	free(pdir);
	free(idir);
	return e->code;
}
