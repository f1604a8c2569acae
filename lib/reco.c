/* reco: see reco.h and shop-reco(1).
 *
 * The batch job reads the bought lines of orders once, in customer order,
 * into an array of purchases (item, order, time). From it, cooc() builds
 * each customer's set of items and its transpose (each item's customers),
 * and for each item i counts, in one dense array, the customers it shares
 * with every other item: the walk over i's customers' items. That is the
 * in-memory count that replaces a SQL self-join; its cost is the sum over
 * customers of the square of their item counts. A damped cosine of the
 * two customer sets (BOUGHT_ALPHA, BOUGHT_SHRINK below) ranks the
 * neighbours; a bounded heap keeps the best top. content_build() does the
 * same walk over the terms of the catalog's active products, and
 * popular() the trend of every item.
 *
 * Ties are broken by sku everywhere, and every sum is taken in the same
 * order, so two builds over the same store write the same table. */
#include "reco.h"

#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/clock.h"
#include "base/json.h"
#include "base/store.h"
#include "base/strtab.h"

#define TOP_DEFAULT 30
#define TOP_MAX 1000 /* the most neighbours kept (shop-reco --top) */
#define LIMIT_DEFAULT 10
#define HALF_LIFE_DEFAULT (60LL * 86400 * 1000)
#define TERMS_SHOWN 3

/* The constants below were chosen on the UCI data with `shop-reco eval`
 * (hit rate at 10 on each customer's last order held out; the plain
 * cosine with none of them: 0.338, all-time most popular: 0.234); each
 * is the best of the values tried, the figures are in shop-reco(1).
 *
 * Bought together: common / (n_i^(1 - ALPHA) * n_j^ALPHA) damped by
 * common / (common + SHRINK): a neighbour bought by few customers needs
 * more than one or two of them in common to rank. */
#define BOUGHT_ALPHA 0.7
#define BOUGHT_SHRINK 20.0
/* The trend of an item: its customers, each weighted 2^(-age / 14 days),
 * the age counted from the newest order of the window. */
#define TREND_HALF_LIFE_DAYS 14.0
/* For a customer: the best CANDIDATES by neighbour score (normalized to
 * the best one) are multiplied by (trend / best trend + 0.01)^FRESHNESS,
 * so that items nobody buys any more sink, and the TRENDING items of the
 * highest trend get TREND_WEIGHT * trend / best trend added. */
#define CANDIDATES 200
/* A customer's most recent HISTORY items make their candidates. */
#define HISTORY 100
#define FRESHNESS 0.6
#define TRENDING 100
#define TREND_WEIGHT 0.3

/* ---- purchases ---- */

typedef struct buy {
	uint32_t item, order;
	int64_t t; /* seconds */
} buy;

typedef struct data {
	strtab items;
	size_t ncust;
	size_t *cust; /* customer c's purchases: b[cust[c] .. cust[c + 1]) */
	buy *b;
	size_t nb, capb, capc;
	size_t norders;
} data;

static void data_free(data *d)
{
	strtab_free(&d->items);
	free(d->cust);
	free(d->b);
	memset(d, 0, sizeof *d);
}

/* Orders that count as bought: confirmed and on (a whole return undoes one). */
static const char load_sql[] =
	"SELECT customer, rowid, unixepoch(created_at), doc FROM orders "
	"WHERE status IN ('confirmed', 'fulfilling', 'shipped', 'delivered', 'partially_returned') "
	"AND created_at >= ?1 ORDER BY customer, created_at, rowid";

static int progress(const shop *s)
{
	return !s->quiet && cli_progress_ok();
}

/* The lines of an order's document (the column doc of q), or NULL. The
 * store wrote the document, so a document that does not parse is a bug. */
static const jnode *doc_lines(shop *s, jtree *t, sqlite3_stmt *q, int col)
{
	char err[128];
	const jnode *root = jtree_parse(t, (const char *)sqlite3_column_blob(q, col),
	                                (size_t)sqlite3_column_bytes(q, col), err, sizeof err);
	if (!root) {
		err_set(&s->err, SHOP_SOFTWARE, "an order's document: %s", err);
		return NULL;
	}
	const jnode *lines = jnode_get(root, "lines");
	return lines && lines->type == JN_ARR ? lines : NULL;
}

/* The sku of line k, or NULL. */
static const jnode *line_sku(const jnode *lines, uint32_t k)
{
	const jnode *sku = jnode_get(&lines->kids[k], "sku");
	return sku && sku->type == JN_STR ? sku : NULL;
}

static int load(shop *s, const char *since, data *d)
{
	sqlite3_stmt *q = store_stmt(s->st, load_sql, &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, since ? since : "");
	jtree *t = jtree_new();
	char *prev = NULL;
	int rc = SQLITE_DONE;
	while (!s->err.code && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *c = store_col_text(q, 0);
		if (!prev || strcmp(prev, c)) {
			if (d->ncust + 2 > d->capc) {
				d->capc = d->capc ? 2 * d->capc : 1024;
				d->cust = xrealloc(d->cust, d->capc * sizeof *d->cust);
			}
			d->cust[d->ncust++] = d->nb;
			free(prev);
			prev = xstrdup(c);
		}
		int64_t when = sqlite3_column_int64(q, 2);
		const jnode *lines = doc_lines(s, t, q, 3);
		for (uint32_t k = 0; lines && k < lines->len; k++) {
			const jnode *sku = line_sku(lines, k);
			if (!sku)
				continue;
			if (d->nb == d->capb) {
				d->capb = d->capb ? 2 * d->capb : 4096;
				d->b = xrealloc(d->b, d->capb * sizeof *d->b);
			}
			buy *b = &d->b[d->nb++];
			b->item = (uint32_t)strtab_add(&d->items, sku->str, sku->len, NULL);
			b->order = (uint32_t)d->norders;
			b->t = when;
		}
		d->norders++;
		if (progress(s) && !(d->norders % 4096))
			cli_progress("reading orders", d->norders, 0, 0);
	}
	sqlite3_reset(q);
	jtree_free(t);
	free(prev);
	if (!d->cust)
		d->cust = xmalloc(sizeof *d->cust);
	d->cust[d->ncust] = d->nb;
	if (progress(s))
		cli_progress("reading orders", d->norders, 0, 1);
	if (s->err.code)
		return s->err.code;
	if (rc != SQLITE_DONE)
		return store_fail_rc(s->st, rc, &s->err, "reading orders");
	return 0;
}

/* ---- neighbours ---- */

typedef struct nb {
	uint32_t item, common; /* common: customers (or terms) shared */
	double score;
} nb;

/* Neighbours of n items (CSR: item i's are nb[off[i] .. off[i + 1]),
 * best first), and for co-purchases the customers of each item and the
 * items by popularity. */
typedef struct model {
	size_t n;
	size_t *off;
	nb *nb;
	uint32_t *ncust;
	uint32_t *pop;
	size_t npop, customers, pairs;
	double *trend;   /* customers who bought each item, each weighted by recency */
	uint32_t *tpop;  /* items by trend */
} model;

static void model_free(model *m)
{
	free(m->off);
	free(m->nb);
	free(m->ncust);
	free(m->pop);
	free(m->trend);
	free(m->tpop);
	memset(m, 0, sizeof *m);
}

/* Better: higher score, then the smaller sku. */
static int nb_better(const nb *a, const nb *b, char *const *names)
{
	if (a->score != b->score)
		return a->score > b->score;
	return strcmp(names[a->item], names[b->item]) < 0;
}

/* The best k of a stream: a heap whose root is the worst kept. */
typedef struct topk {
	nb *h;
	size_t n, k;
	char *const *names;
} topk;

static void sift_down(topk *t, size_t i, size_t n)
{
	for (;;) {
		size_t w = i, l = 2 * i + 1, r = l + 1;
		if (l < n && nb_better(&t->h[w], &t->h[l], t->names))
			w = l;
		if (r < n && nb_better(&t->h[w], &t->h[r], t->names))
			w = r;
		if (w == i)
			return;
		nb x = t->h[i];
		t->h[i] = t->h[w];
		t->h[w] = x;
		i = w;
	}
}

static void topk_push(topk *t, nb x)
{
	if (t->n < t->k) {
		size_t i = t->n++;
		t->h[i] = x;
		while (i && nb_better(&t->h[(i - 1) / 2], &t->h[i], t->names)) {
			nb y = t->h[i];
			t->h[i] = t->h[(i - 1) / 2];
			t->h[(i - 1) / 2] = y;
			i = (i - 1) / 2;
		}
	} else if (t->k && nb_better(&x, &t->h[0], t->names)) {
		t->h[0] = x;
		sift_down(t, 0, t->n);
	}
}

/* Empty the heap into out, best first; returns how many. */
static size_t topk_take(topk *t, nb *out)
{
	size_t n = t->n;
	for (size_t i = n; i > 1; i--) {
		nb x = t->h[0];
		t->h[0] = t->h[i - 1];
		t->h[i - 1] = x;
		sift_down(t, 0, i - 1);
	}
	memcpy(out, t->h, n * sizeof *out);
	t->n = 0;
	return n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Sorted unique u32 in place; returns the new count. */
static size_t uniq_u32(uint32_t *v, size_t n)
{
	if (n)
		qsort(v, n, sizeof *v, cmp_u32);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!k || v[k - 1] != v[i])
			v[k++] = v[i];
	return k;
}

/* Sort items best first by a key per item, then by name: a comparator
 * needs them both. */
static const double *by_key;
static char *const *by_name;

static int cmp_by_key(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (by_key[x] != by_key[y])
		return by_key[x] > by_key[y] ? -1 : 1;
	return strcmp(by_name[x], by_name[y]);
}

static void sort_by(uint32_t *v, size_t n, const double *key, char *const *names)
{
	by_key = key;
	by_name = names;
	if (n)
		qsort(v, n, sizeof *v, cmp_by_key);
}

/* An inverted list: list r's members are v[off[r] .. off[r + 1]), from
 * sets (CSR) of ncol-valued members. */
static void transpose(const size_t *off, const uint32_t *v, size_t nrows, size_t ncol, size_t **toff,
                      uint32_t **tv)
{
	size_t *o = xcalloc(ncol + 1, sizeof *o);
	for (size_t x = 0; x < off[nrows]; x++)
		o[v[x] + 1]++;
	for (size_t c = 0; c < ncol; c++)
		o[c + 1] += o[c];
	uint32_t *t = xmalloc((off[nrows] ? off[nrows] : 1) * sizeof *t);
	size_t *fill = xmalloc((ncol ? ncol : 1) * sizeof *fill);
	memcpy(fill, o, ncol * sizeof *fill);
	for (size_t r = 0; r < nrows; r++)
		for (size_t x = off[r]; x < off[r + 1]; x++)
			t[fill[v[x]]++] = (uint32_t)r;
	free(fill);
	*toff = o;
	*tv = t;
}

/* The score of i and j from what they share (common) and their weights. */
typedef double (*pair_score)(const void *ctx, uint32_t i, uint32_t j, double shared);

/* For each of n items, its best top neighbours through the sets that hold
 * it: rows (sets) of members, and the transpose (members' sets). shared
 * accumulates w[row] (1 when w is NULL) per common set; score turns the
 * sum into the similarity; skip (may be NULL) vetoes a pair. */
typedef struct walk {
	size_t n, top;
	const size_t *roff, *moff; /* row -> members; member -> rows */
	const uint32_t *rv, *mv;
	const double *w;
	pair_score score;
	int (*skip)(const void *ctx, uint32_t i, uint32_t j);
	const void *ctx;
	char *const *names;
	const char *what; /* progress */
} walk;

static void neighbours(shop *s, const walk *k, model *m)
{
	double *acc = xcalloc(k->n ? k->n : 1, sizeof *acc);
	uint32_t *common = xcalloc(k->n ? k->n : 1, sizeof *common);
	uint32_t *touched = xmalloc((k->n ? k->n : 1) * sizeof *touched);
	topk t = {xmalloc((k->top ? k->top : 1) * sizeof(nb)), 0, k->top, k->names};
	m->off = xmalloc((k->n + 1) * sizeof *m->off);
	m->nb = xmalloc((k->n && k->top ? k->n * k->top : 1) * sizeof *m->nb);
	size_t total = 0;
	for (size_t i = 0; i < k->n; i++) {
		m->off[i] = total;
		size_t nt = 0;
		for (size_t p = k->moff[i]; p < k->moff[i + 1]; p++) {
			uint32_t r = k->mv[p];
			double w = k->w ? k->w[r] : 1;
			if (w == 0)
				continue;
			for (size_t q = k->roff[r]; q < k->roff[r + 1]; q++) {
				uint32_t j = k->rv[q];
				if (j == i)
					continue;
				if (!common[j]++)
					touched[nt++] = j;
				acc[j] += w;
			}
		}
		m->pairs += nt;
		for (size_t x = 0; x < nt; x++) {
			uint32_t j = touched[x];
			if (!k->skip || !k->skip(k->ctx, (uint32_t)i, j)) {
				nb e = {j, common[j], k->score(k->ctx, (uint32_t)i, j, acc[j])};
				if (e.score > 0)
					topk_push(&t, e);
			}
			acc[j] = 0;
			common[j] = 0;
		}
		total += topk_take(&t, m->nb + total);
		if (progress(s) && !(i % 256))
			cli_progress(k->what, i, k->n, 0);
	}
	m->off[k->n] = total;
	m->pairs /= 2;
	if (progress(s))
		cli_progress(k->what, k->n, k->n, 1);
	free(acc);
	free(common);
	free(touched);
	free(t.h);
}

/* The powers of each item's customer count, computed once. */
typedef struct powers {
	double *own, *other; /* n^(1 - ALPHA), n^ALPHA */
} powers;

static double cosine_customers(const void *ctx, uint32_t i, uint32_t j, double shared)
{
	const powers *p = ctx;
	return shared / (p->own[i] * p->other[j]) * shared / (shared + BOUGHT_SHRINK);
}

/* The trend of each item, and the items by trend (m->tpop) and by
 * customers (m->pop), from d's purchases but the held-out orders. */
static void popular(const data *d, const uint8_t *held, model *m)
{
	size_t n = d->items.n ? d->items.n : 1;
	int64_t end = INT64_MIN;
	for (size_t x = 0; x < d->nb; x++)
		if ((!held || !held[d->b[x].order]) && d->b[x].t > end)
			end = d->b[x].t;
	double half = TREND_HALF_LIFE_DAYS * 86400.0;
	int64_t *last = xmalloc(n * sizeof *last);
	uint32_t *touched = xmalloc(n * sizeof *touched);
	for (size_t i = 0; i < n; i++)
		last[i] = INT64_MIN;
	m->trend = xcalloc(n, sizeof *m->trend);
	for (size_t c = 0; c < d->ncust; c++) {
		size_t nt = 0;
		for (size_t x = d->cust[c]; x < d->cust[c + 1]; x++) {
			const buy *b = &d->b[x];
			if (held && held[b->order])
				continue;
			if (last[b->item] == INT64_MIN)
				touched[nt++] = b->item;
			if (b->t > last[b->item])
				last[b->item] = b->t;
		}
		for (size_t x = 0; x < nt; x++) {
			m->trend[touched[x]] += exp2(-(double)(end - last[touched[x]]) / half);
			last[touched[x]] = INT64_MIN;
		}
	}
	m->pop = xmalloc(n * sizeof *m->pop);
	double *count = xmalloc(n * sizeof *count);
	for (size_t i = 0; i < d->items.n; i++) {
		count[i] = m->ncust[i];
		if (m->ncust[i])
			m->pop[m->npop++] = (uint32_t)i;
	}
	m->tpop = xmalloc(n * sizeof *m->tpop);
	memcpy(m->tpop, m->pop, m->npop * sizeof *m->tpop);
	sort_by(m->pop, m->npop, count, d->items.s);
	sort_by(m->tpop, m->npop, m->trend, d->items.s);
	free(count);
	free(last);
	free(touched);
}

/* Co-purchases of d's purchases but those of held-out orders. */
static void cooc(shop *s, const data *d, const uint8_t *held, size_t top, model *m)
{
	size_t n = d->items.n, nc = d->ncust;
	size_t *uoff = xmalloc((nc + 1) * sizeof *uoff);
	uint32_t *uit = xmalloc((d->nb ? d->nb : 1) * sizeof *uit);
	size_t k = 0;
	for (size_t c = 0; c < nc; c++) {
		size_t start = k;
		uoff[c] = k;
		for (size_t x = d->cust[c]; x < d->cust[c + 1]; x++)
			if (!held || !held[d->b[x].order])
				uit[k++] = d->b[x].item;
		k = start + uniq_u32(uit + start, k - start);
		if (k > start)
			m->customers++;
	}
	uoff[nc] = k;
	m->n = n;
	m->ncust = xcalloc(n ? n : 1, sizeof *m->ncust);
	for (size_t x = 0; x < k; x++)
		m->ncust[uit[x]]++;
	size_t *ioff;
	uint32_t *iu;
	transpose(uoff, uit, nc, n, &ioff, &iu);
	powers pw = {xmalloc((n ? n : 1) * sizeof(double)), xmalloc((n ? n : 1) * sizeof(double))};
	for (size_t i = 0; i < n; i++) {
		pw.own[i] = pow((double)m->ncust[i], 1 - BOUGHT_ALPHA);
		pw.other[i] = pow((double)m->ncust[i], BOUGHT_ALPHA);
	}
	walk w = {n, top, uoff, ioff, uit, iu, NULL, cosine_customers, NULL, &pw, d->items.s, "co-purchases"};
	neighbours(s, &w, m);
	free(pw.own);
	free(pw.other);
	popular(d, held, m);
	free(uoff);
	free(uit);
	free(ioff);
	free(iu);
}

/* ---- content ---- */

typedef struct content {
	strtab skus, terms, families;
	char **shown;     /* per term: how a reason names it */
	size_t capshown;
	uint32_t *family; /* per product: its family + 1, 0 for none */
	size_t *toff;     /* product -> terms (sorted) */
	uint32_t *tv;
	double *idf, *norm;
	model m;
} content;

static void content_free(content *c)
{
	for (size_t t = 0; t < c->terms.n; t++)
		free(c->shown[t]);
	free(c->shown);
	strtab_free(&c->skus);
	strtab_free(&c->terms);
	strtab_free(&c->families);
	free(c->family);
	free(c->toff);
	free(c->tv);
	free(c->idf);
	free(c->norm);
	model_free(&c->m);
}

static int stopword(const char *w, size_t n)
{
	static const char *const words[] = {"an", "and", "the", "of", "for", "with", "in", "on", "to", "by", "or",
	                                    "at", "from", NULL};
	for (size_t i = 0; words[i]; i++)
		if (strlen(words[i]) == n && !memcmp(words[i], w, n))
			return 1;
	return 0;
}

/* Term key: a one-letter field and the lowercased text; shown as text. */
static uint32_t add_term(content *c, char field, const char *text, size_t n, const char *shown)
{
	buf k = {0};
	buf_addc(&k, field);
	buf_addc(&k, ':');
	for (size_t i = 0; i < n; i++) {
		char ch = text[i];
		buf_addc(&k, ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch);
	}
	int added;
	size_t t = strtab_add(&c->terms, k.p, k.len, &added);
	if (added) {
		if (t >= c->capshown) {
			c->capshown = c->capshown ? 2 * c->capshown : 1024;
			c->shown = xrealloc(c->shown, c->capshown * sizeof *c->shown);
		}
		c->shown[t] = xstrdup(shown ? shown : k.p + 2);
	}
	buf_free(&k);
	return (uint32_t)t;
}

static int word_byte(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

static double cosine_terms(const void *ctx, uint32_t i, uint32_t j, double shared)
{
	const content *c = ctx;
	return shared / (c->norm[i] * c->norm[j]);
}

static int same_family(const void *ctx, uint32_t i, uint32_t j)
{
	const content *c = ctx;
	return c->family[i] && c->family[i] == c->family[j];
}

static const char content_sql[] =
	"SELECT sku, title, brand, category, family FROM product WHERE status = 'active' ORDER BY sku";

/* Terms in more than a TERM_DF_SHARE-th of the products, and in more than
 * TERM_DF_MIN, make no candidates: the walk's cost is the sum of the
 * squares of the terms' product counts, and such terms weigh little. */
#define TERM_DF_SHARE 4
#define TERM_DF_MIN 1000

static int content_build(shop *s, size_t top, content *c)
{
	sqlite3_stmt *q = store_stmt(s->st, content_sql, &s->err);
	if (!q)
		return s->err.code;
	size_t cap = 0, nt = 0, captv = 0;
	uint32_t tmp[256];
	int rc = SQLITE_DONE;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sku = store_col_text(q, 0), *title = store_col_text(q, 1);
		const char *brand = store_col_text(q, 2), *category = store_col_text(q, 3);
		size_t p = strtab_add(&c->skus, sku, strlen(sku), NULL);
		if (p + 1 >= cap) {
			cap = cap ? 2 * cap : 1024;
			c->toff = xrealloc(c->toff, (cap + 1) * sizeof *c->toff);
			c->family = xrealloc(c->family, cap * sizeof *c->family);
		}
		c->toff[p] = nt;
		c->family[p] = 0;
		if (sqlite3_column_type(q, 4) != SQLITE_NULL) {
			const char *f = store_col_text(q, 4);
			c->family[p] = (uint32_t)strtab_add(&c->families, f, strlen(f), NULL) + 1;
		}
		size_t k = 0;
		for (const char *w = title; *w && k < 254;) {
			if (!word_byte((unsigned char)*w)) {
				w++;
				continue;
			}
			const char *e = w;
			while (word_byte((unsigned char)*e))
				e++;
			if (e - w >= 2 && !stopword(w, (size_t)(e - w)))
				tmp[k++] = add_term(c, 'w', w, (size_t)(e - w), NULL);
			w = e;
		}
		char shown[600];
		if (*brand) {
			snprintf(shown, sizeof shown, "brand %s", brand);
			tmp[k++] = add_term(c, 'b', brand, strlen(brand), shown);
		}
		if (*category) {
			snprintf(shown, sizeof shown, "category %s", category);
			tmp[k++] = add_term(c, 'c', category, strlen(category), shown);
		}
		k = uniq_u32(tmp, k);
		if (nt + k > captv) {
			captv = 2 * (nt + k) + 4096;
			c->tv = xrealloc(c->tv, captv * sizeof *c->tv);
		}
		if (k)
			memcpy(c->tv + nt, tmp, k * sizeof *tmp);
		nt += k;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_fail_rc(s->st, rc, &s->err, "reading products");
	size_t n = c->skus.n, nterms = c->terms.n;
	if (!c->toff)
		c->toff = xmalloc(sizeof *c->toff);
	c->toff[n] = nt;
	/* idf, and the norm of each product's vector (a term counts once). */
	size_t *df = xcalloc(nterms + 1, sizeof *df);
	for (size_t x = 0; x < nt; x++)
		df[c->tv[x]]++;
	c->idf = xmalloc((nterms ? nterms : 1) * sizeof *c->idf);
	for (size_t t = 0; t < nterms; t++)
		c->idf[t] = log((double)n / (double)df[t]);
	c->norm = xmalloc((n ? n : 1) * sizeof *c->norm);
	for (size_t p = 0; p < n; p++) {
		double sum = 0;
		for (size_t x = c->toff[p]; x < c->toff[p + 1]; x++)
			sum += c->idf[c->tv[x]] * c->idf[c->tv[x]];
		c->norm[p] = sqrt(sum);
	}
	/* Candidates come through the terms: the walk's rows are terms,
	 * weighted idf squared, with their products; a term too common weighs
	 * 0 there and is not walked. */
	size_t *poff;
	uint32_t *pv;
	transpose(c->toff, c->tv, n, nterms, &poff, &pv);
	double *w = xmalloc((nterms ? nterms : 1) * sizeof *w);
	for (size_t t = 0; t < nterms; t++)
		w[t] = df[t] * TERM_DF_SHARE > n && df[t] > TERM_DF_MIN ? 0 : c->idf[t] * c->idf[t];
	walk wk = {n, top, poff, c->toff, pv, c->tv, w, cosine_terms, same_family, c, c->skus.s, "similar items"};
	c->m.n = n;
	neighbours(s, &wk, &c->m);
	free(df);
	free(poff);
	free(pv);
	free(w);
	return 0;
}

/* The terms i and j share, rarest first (at most TERMS_SHOWN), as text. */
static void shared_terms(const content *c, uint32_t i, uint32_t j, buf *out)
{
	uint32_t best[TERMS_SHOWN];
	size_t nbest = 0;
	size_t x = c->toff[i], y = c->toff[j];
	while (x < c->toff[i + 1] && y < c->toff[j + 1]) {
		uint32_t a = c->tv[x], b = c->tv[y];
		if (a != b) {
			a < b ? x++ : y++;
			continue;
		}
		/* Insert a into best, kept by idf (then by text), dropping the last. */
		size_t k = nbest < TERMS_SHOWN ? nbest++ : TERMS_SHOWN;
		while (k > 0 && (c->idf[best[k - 1]] < c->idf[a] ||
		                 (c->idf[best[k - 1]] == c->idf[a] && strcmp(c->shown[best[k - 1]], c->shown[a]) > 0))) {
			if (k < TERMS_SHOWN)
				best[k] = best[k - 1];
			k--;
		}
		if (k < TERMS_SHOWN)
			best[k] = a;
		x++;
		y++;
	}
	buf_reset(out);
	for (size_t k = 0; k < nbest; k++) {
		if (k)
			buf_adds(out, ", ");
		buf_adds(out, c->shown[best[k]]);
	}
	buf_str(out);
}

/* ---- build ---- */

static int since_arg(shop *s, const char *since, char out[32])
{
	*out = 0;
	int64_t ms;
	if (!since)
		return 0;
	if (clock_parse_rfc3339(since, &ms))
		return err_set(&s->err, SHOP_USAGE, "--since: '%s' is not an RFC 3339 time", since);
	clock_format(ms, out);
	return 0;
}

/* Write item sku's neighbours v[0..n) of kind, with the names of
 * names, the trends of trend (NULL: none), and for 'similar' the content c
 * to name the terms shared by (from, other). */
static int put_nbs(shop *s, const char *kind, const char *sku, const nb *v, size_t n, char *const *names,
                   const double *trend, const content *c, uint32_t from, buf *out)
{
	buf_reset(out);
	buf_addc(out, '[');
	buf terms = {0};
	for (size_t x = 0; x < n; x++) {
		const char *other = names[v[x].item];
		buf_adds(out, x ? ",[" : "[");
		json_dump_str(other, strlen(other), out);
		buf_addf(out, ",%.9g,%.9g,%u", v[x].score, trend ? trend[x] : 0.0, v[x].common);
		if (c) {
			shared_terms(c, from, v[x].item, &terms);
			buf_addc(out, ',');
			json_dump_str(terms.p ? terms.p : "", terms.len, out);
		}
		buf_addc(out, ']');
	}
	buf_addc(out, ']');
	buf_free(&terms);
	sqlite3_stmt *q = store_stmt(s->st, "INSERT INTO reco_nb (kind, sku, nbs) VALUES (?1, ?2, ?3)", &s->err);
	if (!q)
		return s->err.code;
	sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, sku, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, out->p, (int)out->len, SQLITE_STATIC);
	return store_done(s->st, q, &s->err, "reco_nb");
}

typedef struct built {
	char at[32];
	const char *since;
	size_t orders, customers, items, products, pairs, bought, similar;
} built;

static int write_tables(shop *s, const data *d, const model *m, const content *c, built *b)
{
	sqlite3_stmt *q = store_stmt(s->st, "DELETE FROM reco_nb", &s->err);
	if (!q || store_done(s->st, q, &s->err, "reco_nb"))
		return s->err.code;
	q = store_stmt(s->st, "DELETE FROM reco_pop", &s->err);
	if (!q || store_done(s->st, q, &s->err, "reco_pop"))
		return s->err.code;
	buf list = {0};
	double *tr = xmalloc((TOP_MAX + 1) * sizeof *tr);
	int rc = 0;
	for (size_t i = 0; !rc && i < m->n; i++) {
		size_t k = m->off[i + 1] - m->off[i];
		for (size_t x = 0; x < k; x++)
			tr[x] = m->trend[m->nb[m->off[i] + x].item];
		if (k)
			rc = put_nbs(s, "bought", d->items.s[i], m->nb + m->off[i], k, d->items.s, tr, NULL, 0, &list);
	}
	b->bought = m->n ? m->off[m->n] : 0;
	for (size_t i = 0; !rc && i < c->m.n; i++) {
		size_t k = c->m.off[i + 1] - c->m.off[i];
		for (size_t x = 0; x < k; x++) {
			const char *other = c->skus.s[c->m.nb[c->m.off[i] + x].item];
			size_t j = strtab_find(&d->items, other, strlen(other));
			tr[x] = j == STRTAB_NONE ? 0 : m->trend[j];
		}
		if (k)
			rc = put_nbs(s, "similar", c->skus.s[i], c->m.nb + c->m.off[i], k, c->skus.s, tr, c, (uint32_t)i,
			             &list);
	}
	buf_free(&list);
	free(tr);
	if (rc)
		return rc;
	b->similar = c->m.n ? c->m.off[c->m.n] : 0;
	for (size_t r = 0; r < m->npop; r++) {
		q = store_stmt(s->st, "INSERT INTO reco_pop (rank, sku, customers, trend) VALUES (?1, ?2, ?3, ?4)",
		               &s->err);
		if (!q)
			return s->err.code;
		uint32_t i = m->tpop[r];
		sqlite3_bind_int64(q, 1, (sqlite3_int64)r + 1);
		sqlite3_bind_text(q, 2, d->items.s[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, m->ncust[i]);
		sqlite3_bind_double(q, 4, m->trend[i]);
		if (store_done(s->st, q, &s->err, "reco_pop"))
			return s->err.code;
	}
	q = store_stmt(s->st,
	               "INSERT OR REPLACE INTO reco_build (id, built_at, since, orders, customers, items, products, "
	               "pairs, bought, similar) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	               &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, b->at);
	store_bind_text(q, 2, b->since);
	size_t v[] = {b->orders, b->customers, b->items, b->products, b->pairs, b->bought, b->similar};
	for (int k = 0; k < 7; k++)
		sqlite3_bind_int64(q, 3 + k, (sqlite3_int64)v[k]);
	return store_done(s->st, q, &s->err, "reco_build");
}

int reco_build(shop *s, const reco_build_opts *o, shop_emit emit, void *arg)
{
	char since[32];
	size_t top = o->top ? (size_t)o->top : TOP_DEFAULT;
	if (since_arg(s, o->since, since) || !shop_store(s))
		return s->err.code;
	data d = {0};
	model m = {0};
	content c = {0};
	built b = {{0}, *since ? since : NULL, 0, 0, 0, 0, 0, 0, 0};
	/* One snapshot for the orders and the catalog. */
	int rc = store_read(s->st, &s->err) || load(s, b.since, &d) || content_build(s, top, &c);
	store_read_end(s->st);
	if (!rc) {
		cooc(s, &d, NULL, top, &m);
		clock_now_text(b.at);
		b.orders = d.norders;
		b.customers = m.customers;
		b.items = m.npop;
		b.products = c.skus.n;
		b.pairs = m.pairs;
		if (progress(s))
			cli_progress("writing neighbours", 0, 0, 1);
		rc = store_begin(s->st, &s->err) || write_tables(s, &d, &m, &c, &b) || store_commit(s->st, &s->err);
		if (rc)
			store_rollback(s->st);
	}
	data_free(&d);
	model_free(&m);
	content_free(&c);
	if (rc)
		return s->err.code;
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("reco_build"));
	r = jv_object_set(r, jv_string("built_at"), jv_string(b.at));
	r = jv_object_set(r, jv_string("since"), b.since ? jv_string(b.since) : jv_null());
	const char *names[] = {"orders", "customers", "items", "products", "pairs", "bought", "similar"};
	size_t v[] = {b.orders, b.customers, b.items, b.products, b.pairs, b.bought, b.similar};
	for (int k = 0; k < 7; k++)
		r = jv_object_set(r, jv_string(names[k]), jv_number((double)v[k]));
	emit(arg, r);
	return 0;
}

/* ---- requests ---- */

static jv rec_make(const char *sku, const char *title, double score, const char *reason, const char *because)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("recommendation"));
	r = jv_object_set(r, jv_string("sku"), jv_string(sku));
	r = jv_object_set(r, jv_string("title"), jv_string(title));
	r = jv_object_set(r, jv_string("score"), jv_number(round(score * 1e6) / 1e6));
	r = jv_object_set(r, jv_string("reason"), jv_string(reason));
	r = jv_object_set(r, jv_string("because"), because ? jv_string(because) : jv_null());
	return r;
}

/* A note when nothing was ever built: empty answers are not an error. */
static int built_yet(shop *s)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT count(*) FROM reco_build", &s->err);
	if (!q)
		return -1;
	int rc = sqlite3_step(q);
	int n = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return store_fail_rc(s->st, rc, &s->err, "reco_build"), -1;
	if (!n)
		shop_note(s, "no recommendations built yet: run 'shop-reco build'");
	return 0;
}

static long long limit_of(const reco_req *r)
{
	return r->limit ? r->limit : LIMIT_DEFAULT;
}

/* One stored neighbour, borrowed from the tree of its list. */
typedef struct nbrow {
	const jnode *sku, *terms; /* terms: NULL for 'bought' */
	double score, trend;
	long long common;
} nbrow;

/* The stored lists of sku (of kind, or of both kinds when kind is NULL):
 * fn(ctx, row) for each neighbour, best first, until it returns nonzero.
 * t is the caller's tree, reused. */
static int read_nbs(shop *s, jtree *t, const char *kind, const char *sku, size_t len,
                    int (*fn)(void *ctx, const nbrow *r), void *ctx)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT nbs FROM reco_nb WHERE kind IN ('bought', 'similar') AND sku = ?2 "
	                             "AND (?1 IS NULL OR kind = ?1)",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, kind);
	sqlite3_bind_text(q, 2, sku, (int)len, SQLITE_TRANSIENT);
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		char err[128];
		const jnode *list = jtree_parse(t, (const char *)sqlite3_column_blob(q, 0),
		                                (size_t)sqlite3_column_bytes(q, 0), err, sizeof err);
		for (uint32_t k = 0; !stop && list && list->type == JN_ARR && k < list->len; k++) {
			const jnode *e = &list->kids[k];
			if (e->type != JN_ARR || e->len < 4 || e->kids[0].type != JN_STR) {
				list = NULL;
				break;
			}
			nbrow r = {&e->kids[0], e->len > 4 ? &e->kids[4] : NULL, e->kids[1].num, e->kids[2].num,
			           (long long)e->kids[3].num};
			stop = fn(ctx, &r);
		}
		if (!list || list->type != JN_ARR)
			stop = err_set(&s->err, SHOP_SOFTWARE, "reco_nb: the list of '%s' does not parse", sku);
	}
	sqlite3_reset(q);
	if (!stop && rc != SQLITE_DONE)
		return store_fail_rc(s->st, rc, &s->err, "reco_nb");
	return s->err.code;
}

/* The product's title when it may be recommended: active, and with
 * in_stock, on hand above reserved in some warehouse. 1, 0, or -1 with
 * the error in s->err. */
static int pickable(shop *s, const char *sku, size_t len, int in_stock, buf *title)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT title FROM product WHERE sku = ?1 AND status = 'active' AND (?2 = 0 OR "
	                             "EXISTS (SELECT 1 FROM stock k WHERE k.sku = ?1 AND k.on_hand > k.reserved))",
	                             &s->err);
	if (!q)
		return -1;
	sqlite3_bind_text(q, 1, sku, (int)len, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 2, in_stock);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		buf_reset(title);
		buf_adds(title, store_col_text(q, 0));
		buf_str(title);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail_rc(s->st, rc, &s->err, "product"), -1;
	return rc == SQLITE_ROW;
}

/* also-bought and similar: the neighbours that may be shown, as records. */
typedef struct listing {
	shop *s;
	const char *sku;
	const reco_req *r;
	long long n;
	buf title, why, other;
	shop_emit emit;
	void *arg;
} listing;

static int show_nb(void *ctx, const nbrow *row)
{
	listing *w = ctx;
	int ok = pickable(w->s, row->sku->str, row->sku->len, w->r->in_stock, &w->title);
	if (ok <= 0)
		return ok < 0;
	buf_reset(&w->why);
	if (row->terms)
		buf_add(&w->why, "shares ", 7), buf_add(&w->why, row->terms->str, row->terms->len);
	else
		buf_addf(&w->why, "%lld customer%s bought both", row->common, row->common == 1 ? "" : "s");
	buf_reset(&w->other);
	buf_add(&w->other, row->sku->str, row->sku->len);
	if (w->emit(w->arg, rec_make(buf_str(&w->other), buf_str(&w->title), row->score, buf_str(&w->why), w->sku)))
		return 1;
	return ++w->n >= limit_of(w->r);
}

static int item_neighbours(shop *s, const char *kind, const char *sku, const reco_req *r, shop_emit emit, void *arg)
{
	sqlite3_stmt *q = store_stmt(s->st, "SELECT 1 FROM product WHERE sku = ?1", &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, sku);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_fail_rc(s->st, rc, &s->err, "product");
	if (rc == SQLITE_DONE)
		return err_set(&s->err, SHOP_NOTFOUND, "sku '%s': no such product", sku);
	if (built_yet(s))
		return s->err.code;
	listing w = {s, sku, r, 0, {0}, {0}, {0}, emit, arg};
	jtree *t = jtree_new();
	rc = read_nbs(s, t, kind, sku, strlen(sku), show_nb, &w);
	jtree_free(t);
	buf_free(&w.title);
	buf_free(&w.why);
	buf_free(&w.other);
	return rc;
}

static int in_read(shop *s, const char *kind, const char *sku, const reco_req *r, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_read(s->st, &s->err))
		return s->err.code;
	int rc = item_neighbours(s, kind, sku, r, emit, arg);
	store_read_end(s->st);
	return rc;
}

int reco_also_bought(shop *s, const char *sku, const reco_req *r, shop_emit emit, void *arg)
{
	return in_read(s, "bought", sku, r, emit, arg);
}

int reco_similar(shop *s, const char *sku, const reco_req *r, shop_emit emit, void *arg)
{
	return in_read(s, "similar", sku, r, emit, arg);
}

/* ---- personalized: the same scoring for `for` and eval ---- */

#define WHY_NONE UINT32_MAX

/* Candidates: per item the summed score, its largest single share and
 * the bought item it came from (WHY_NONE: the trend alone); touched lists
 * the items with a score. */
typedef struct acc {
	double *score, *best;
	uint32_t *why, *touched;
	uint8_t *seen;
	size_t nt, cap;
} acc;

static void acc_free(acc *a)
{
	free(a->score);
	free(a->best);
	free(a->why);
	free(a->touched);
	free(a->seen);
}

static int acc_seen(const acc *a, size_t item)
{
	return item < a->cap && a->seen[item];
}

/* Add v to item's score; a share larger than its best names why. */
static void acc_add(acc *a, uint32_t item, double v, uint32_t why)
{
	if (item >= a->cap) {
		size_t cap = a->cap ? a->cap : 256;
		while (cap <= item)
			cap *= 2;
		a->score = xrealloc(a->score, cap * sizeof *a->score);
		a->best = xrealloc(a->best, cap * sizeof *a->best);
		a->why = xrealloc(a->why, cap * sizeof *a->why);
		a->touched = xrealloc(a->touched, cap * sizeof *a->touched);
		a->seen = xrealloc(a->seen, cap);
		for (size_t i = a->cap; i < cap; i++) {
			a->score[i] = a->best[i] = 0;
			a->why[i] = WHY_NONE;
			a->seen[i] = 0;
		}
		a->cap = cap;
	}
	if (!a->seen[item]) {
		a->seen[item] = 1;
		a->touched[a->nt++] = item;
	}
	a->score[item] += v;
	if (why != WHY_NONE && v > a->best[item]) {
		a->best[item] = v;
		a->why[item] = why;
	}
}

/* Forget the candidates from the from-th on (all of them: 0). */
static void acc_cut(acc *a, size_t from)
{
	for (size_t x = from; x < a->nt; x++) {
		uint32_t i = a->touched[x];
		a->score[i] = a->best[i] = 0;
		a->why[i] = WHY_NONE;
		a->seen[i] = 0;
	}
	if (from < a->nt)
		a->nt = from;
}

static int cmp_i64_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x < y) - (x > y);
}

/* Where the scoring reads the model: the neighbours of both kinds of a
 * bought item, an item's trend, and the items of the highest trend. */
typedef struct source {
	size_t (*nbs)(void *ctx, uint32_t item, const nb **out);
	double (*trend)(void *ctx, uint32_t item);
	size_t (*trending)(void *ctx, size_t k, const uint32_t **out);
	void *ctx;
	char *const *(*names)(void *ctx);
} source;

/* Score a customer's candidates: over their bought items h (last bought
 * at t, seconds), the neighbours' scores weighted 2^(-age / half-life),
 * the age counted from the customer's last purchase; then the freshness
 * and trend of the constants above; ranked best first (by sku on a tie).
 * The owned items are among the candidates: the caller skips them. */
static void score_customer(acc *a, const uint32_t *h, const int64_t *t, size_t nh, int64_t half_life_ms,
                           const source *src)
{
	/* The HISTORY most recent items only (at the oldest time kept, the
	 * first in h): their weights leave little to the others, and the
	 * lookups stay bounded. */
	int64_t last = INT64_MIN, oldest = INT64_MIN;
	for (size_t x = 0; x < nh; x++)
		if (t[x] > last)
			last = t[x];
	if (nh > HISTORY) {
		int64_t *by = xmalloc(nh * sizeof *by);
		memcpy(by, t, nh * sizeof *by);
		qsort(by, nh, sizeof *by, cmp_i64_desc);
		oldest = by[HISTORY - 1];
		free(by);
	}
	size_t at_oldest = 0;
	for (size_t x = 0; x < nh; x++)
		if (t[x] > oldest)
			at_oldest++;
	double half = (double)(half_life_ms ? half_life_ms : HALF_LIFE_DEFAULT) / 1000.0;
	for (size_t x = 0; x < nh; x++) {
		if (t[x] < oldest || (t[x] == oldest && at_oldest++ >= HISTORY))
			continue;
		double w = exp2(-(double)(last - t[x]) / half);
		const nb *v;
		size_t k = src->nbs(src->ctx, h[x], &v);
		for (size_t y = 0; y < k; y++)
			acc_add(a, v[y].item, w * v[y].score, h[x]);
	}
	const uint32_t *top;
	size_t ntop = src->trending(src->ctx, TRENDING, &top);
	double tmax = ntop ? src->trend(src->ctx, top[0]) : 0;
	sort_by(a->touched, a->nt, a->score, src->names(src->ctx));
	acc_cut(a, CANDIDATES);
	double mx = a->nt ? a->score[a->touched[0]] : 1;
	for (size_t x = 0; x < a->nt; x++) {
		uint32_t i = a->touched[x];
		double f = tmax > 0 ? src->trend(src->ctx, i) / tmax : 0;
		a->score[i] = a->score[i] / mx * pow(f + 0.01, FRESHNESS);
	}
	for (size_t x = 0; x < ntop; x++)
		acc_add(a, top[x], TREND_WEIGHT * src->trend(src->ctx, top[x]) / tmax, WHY_NONE);
	sort_by(a->touched, a->nt, a->score, src->names(src->ctx));
}

/* The store as a source: neighbours and trends read as they are needed,
 * their skus interned into names (the customer's items come first). */
typedef struct stored {
	shop *s;
	strtab *names;
	jtree *tree;
	nb *v;
	size_t n, cap;
	uint32_t *top;
	size_t ntop;
	double *trend; /* per name, as read with it (0 until then) */
	size_t ntrend;
} stored;

/* Intern sku, noting its trend. */
static uint32_t stored_item(stored *g, const char *sku, size_t len, double trend)
{
	size_t i = strtab_add(g->names, sku, len, NULL);
	if (i >= g->ntrend) {
		size_t n = g->ntrend ? g->ntrend : 256;
		while (n <= i)
			n *= 2;
		g->trend = xrealloc(g->trend, n * sizeof *g->trend);
		memset(g->trend + g->ntrend, 0, (n - g->ntrend) * sizeof *g->trend);
		g->ntrend = n;
	}
	g->trend[i] = trend;
	return (uint32_t)i;
}

static int stored_row(void *ctx, const nbrow *row)
{
	stored *g = ctx;
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->v = xrealloc(g->v, g->cap * sizeof *g->v);
	}
	g->v[g->n].item = stored_item(g, row->sku->str, row->sku->len, row->trend);
	g->v[g->n].common = 0;
	g->v[g->n++].score = row->score;
	return 0;
}

static size_t stored_nbs(void *ctx, uint32_t item, const nb **out)
{
	stored *g = ctx;
	g->n = 0;
	if (!g->s->err.code)
		read_nbs(g->s, g->tree, NULL, g->names->s[item], strlen(g->names->s[item]), stored_row, g);
	*out = g->v;
	return g->n;
}

static double stored_trend(void *ctx, uint32_t item)
{
	stored *g = ctx;
	return item < g->ntrend ? g->trend[item] : 0;
}

static size_t stored_trending(void *ctx, size_t k, const uint32_t **out)
{
	stored *g = ctx;
	sqlite3_stmt *q = g->s->err.code ? NULL
	                                 : store_stmt(g->s->st,
	                                              "SELECT sku, trend FROM reco_pop ORDER BY rank LIMIT ?1",
	                                              &g->s->err);
	*out = g->top;
	if (!q)
		return 0;
	sqlite3_bind_int64(q, 1, (sqlite3_int64)k);
	g->top = xrealloc(g->top, (k ? k : 1) * sizeof *g->top);
	g->ntop = 0;
	int rc = SQLITE_DONE;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sku = store_col_text(q, 0);
		g->top[g->ntop++] = stored_item(g, sku, strlen(sku), sqlite3_column_double(q, 1));
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		store_fail_rc(g->s->st, rc, &g->s->err, "reco_pop");
	*out = g->top;
	return g->ntop;
}

static char *const *stored_names(void *ctx)
{
	return ((stored *)ctx)->names->s;
}

/* Emit item i of names as a recommendation for the customer if it may be
 * sold: 1 shown, 0 not, -1 stop (emit's answer, or an error). */
static int offer(shop *s, const acc *a, char *const *names, uint32_t i, buf *title, buf *why, shop_emit emit,
                 void *arg)
{
	int ok = pickable(s, names[i], strlen(names[i]), 1, title);
	if (ok <= 0)
		return ok;
	uint32_t w = acc_seen(a, i) ? a->why[i] : WHY_NONE;
	buf_reset(why);
	if (w == WHY_NONE)
		buf_adds(why, "popular now");
	else
		buf_addf(why, "you bought %s", names[w]);
	double score = acc_seen(a, i) ? a->score[i] : 0;
	return emit(arg, rec_make(names[i], buf_str(title), score, buf_str(why), w == WHY_NONE ? NULL : names[w]))
	               ? -1
	               : 1;
}

static int for_customer(shop *s, const char *customer, const reco_req *r, shop_emit emit, void *arg)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT EXISTS (SELECT 1 FROM orders WHERE customer = ?1) "
	                             "OR EXISTS (SELECT 1 FROM address WHERE customer = ?1)",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, customer);
	int rc = sqlite3_step(q), known = rc == SQLITE_ROW && sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return store_fail_rc(s->st, rc, &s->err, "orders");
	if (!known)
		return err_set(&s->err, SHOP_NOTFOUND, "customer '%s': no orders and no addresses", customer);
	if (built_yet(s))
		return s->err.code;
	/* What they own: every line of their orders but cancelled and
	 * returned ones, with the last time they bought it; interned first,
	 * so that an item is owned when its index is below nh. */
	q = store_stmt(s->st,
	               "SELECT unixepoch(created_at), doc FROM orders "
	               "WHERE customer = ?1 AND status NOT IN ('cancelled', 'returned')",
	               &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, customer);
	strtab names = {0};
	int64_t *t = NULL;
	size_t nh = 0, cap = 0;
	jtree *tree = jtree_new();
	while (!s->err.code && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t when = sqlite3_column_int64(q, 0);
		const jnode *lines = doc_lines(s, tree, q, 1);
		for (uint32_t k = 0; lines && k < lines->len; k++) {
			const jnode *sku = line_sku(lines, k);
			if (!sku)
				continue;
			size_t i = strtab_add(&names, sku->str, sku->len, NULL);
			if (i == nh) {
				if (nh == cap) {
					cap = cap ? 2 * cap : 64;
					t = xrealloc(t, cap * sizeof *t);
				}
				t[nh++] = when;
			} else if (when > t[i])
				t[i] = when;
		}
	}
	sqlite3_reset(q);
	jtree_free(tree);
	if (!s->err.code && rc != SQLITE_DONE)
		store_fail_rc(s->st, rc, &s->err, "orders");
	uint32_t *h = xmalloc((nh ? nh : 1) * sizeof *h);
	for (size_t i = 0; i < nh; i++)
		h[i] = (uint32_t)i;
	acc a = {0};
	stored g = {s, &names, jtree_new(), NULL, 0, 0, NULL, 0, NULL, 0};
	source src = {stored_nbs, stored_trend, stored_trending, &g, stored_names};
	if (!s->err.code)
		score_customer(&a, h, t, nh, r->half_life_ms, &src);
	long long shown = 0, limit = limit_of(r);
	buf title = {0}, why = {0};
	int ok = 0;
	for (size_t x = 0; !s->err.code && ok >= 0 && shown < limit && x < a.nt; x++)
		if (a.touched[x] >= nh && (ok = offer(s, &a, names.s, a.touched[x], &title, &why, emit, arg)) > 0)
			shown++;
	/* Items of the highest trend fill the rest: all of it for a customer
	 * who bought nothing yet. */
	q = !s->err.code && ok >= 0 && shown < limit
		    ? store_stmt(s->st, "SELECT sku FROM reco_pop ORDER BY rank", &s->err)
		    : NULL;
	while (q && shown < limit && ok >= 0 && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *sku = store_col_text(q, 0);
		size_t i = strtab_add(&names, sku, strlen(sku), NULL);
		if (i >= nh && !acc_seen(&a, i) && (ok = offer(s, &a, names.s, (uint32_t)i, &title, &why, emit, arg)) > 0)
			shown++;
	}
	if (q) {
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			store_fail_rc(s->st, rc, &s->err, "reco_pop");
		sqlite3_reset(q);
	}
	buf_free(&title);
	buf_free(&why);
	acc_free(&a);
	free(g.v);
	free(g.top);
	free(g.trend);
	jtree_free(g.tree);
	free(h);
	free(t);
	strtab_free(&names);
	return s->err.code;
}

int reco_for(shop *s, const char *customer, const reco_req *r, shop_emit emit, void *arg)
{
	if (!shop_store(s) || store_read(s->st, &s->err))
		return s->err.code;
	int rc = for_customer(s, customer, r, emit, arg);
	store_read_end(s->st);
	return rc;
}

/* ---- eval ---- */

/* A model in memory as a source: the co-purchase neighbours and the
 * content ones (content index -> item through c2i, NONE when the product
 * was never bought). */
typedef struct held_model {
	const model *m;
	const content *c;
	const size_t *c2i, *i2c;
	char *const *names;
	nb *v;
	size_t cap;
} held_model;

static size_t model_nbs(void *ctx, uint32_t item, const nb **out)
{
	held_model *g = ctx;
	const model *m = g->m;
	size_t n = 0, k = m->off[item + 1] - m->off[item], ci = g->i2c[item];
	size_t kc = ci == STRTAB_NONE ? 0 : g->c->m.off[ci + 1] - g->c->m.off[ci];
	if (k + kc > g->cap) {
		g->cap = 2 * (k + kc);
		g->v = xrealloc(g->v, g->cap * sizeof *g->v);
	}
	if (k)
		memcpy(g->v, m->nb + m->off[item], k * sizeof *g->v);
	n = k;
	for (size_t y = 0; y < kc; y++) {
		const nb *e = &g->c->m.nb[g->c->m.off[ci] + y];
		if (g->c2i[e->item] != STRTAB_NONE) {
			g->v[n] = *e;
			g->v[n++].item = (uint32_t)g->c2i[e->item];
		}
	}
	*out = g->v;
	return n;
}

static double model_trend(void *ctx, uint32_t item)
{
	return ((held_model *)ctx)->m->trend[item];
}

static size_t model_trending(void *ctx, size_t k, const uint32_t **out)
{
	const model *m = ((held_model *)ctx)->m;
	*out = m->tpop;
	return k < m->npop ? k : m->npop;
}

static char *const *model_names(void *ctx)
{
	return ((held_model *)ctx)->names;
}

typedef struct score {
	size_t customers, hit;
	double recall;
} score;

/* One list of limit items: the candidates of a (when not NULL), then the
 * items of order; none owned (pos set), none twice. Counts the hits. */
static void measure(const acc *a, const uint32_t *order, size_t norder, const uint32_t *pos, const uint8_t *target,
                    size_t ntarget, long long limit, score *sc)
{
	long long k = 0, hits = 0;
	for (size_t x = 0; a && k < limit && x < a->nt; x++) {
		uint32_t i = a->touched[x];
		if (pos[i] != UINT32_MAX)
			continue;
		hits += target[i];
		k++;
	}
	for (size_t p = 0; k < limit && p < norder; p++) {
		uint32_t i = order[p];
		if (pos[i] != UINT32_MAX || (a && acc_seen(a, i)))
			continue;
		hits += target[i];
		k++;
	}
	sc->customers++;
	sc->hit += hits > 0;
	sc->recall += (double)hits / (double)ntarget;
}

static jv eval_rec(const char *method, long long at, const score *sc, size_t skipped)
{
	double n = sc->customers ? (double)sc->customers : 1;
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("reco_eval"));
	r = jv_object_set(r, jv_string("method"), jv_string(method));
	r = jv_object_set(r, jv_string("at"), jv_number((double)at));
	r = jv_object_set(r, jv_string("customers"), jv_number((double)sc->customers));
	r = jv_object_set(r, jv_string("skipped"), jv_number((double)skipped));
	r = jv_object_set(r, jv_string("hits"), jv_number((double)sc->hit));
	r = jv_object_set(r, jv_string("hit_rate"), jv_number(round((double)sc->hit / n * 1e4) / 1e4));
	r = jv_object_set(r, jv_string("recall"), jv_number(round(sc->recall / n * 1e4) / 1e4));
	return r;
}

int reco_eval(shop *s, const reco_build_opts *o, const reco_req *r, shop_emit emit, void *arg)
{
	char since[32];
	size_t top = o->top ? (size_t)o->top : TOP_DEFAULT;
	if (since_arg(s, o->since, since) || !shop_store(s) || store_read(s->st, &s->err))
		return s->err.code;
	data d = {0};
	content cn = {0};
	int rc = load(s, *since ? since : NULL, &d) || content_build(s, top, &cn);
	store_read_end(s->st);
	if (rc) {
		data_free(&d);
		content_free(&cn);
		return rc;
	}
	/* Every active product is an item, bought or not, as it is for `for`:
	 * which items exist must not depend on the orders held out. */
	for (size_t x = 0; x < cn.skus.n; x++)
		strtab_add(&d.items, cn.skus.s[x], strlen(cn.skus.s[x]), NULL);
	/* Each customer's last order is held out when they have two or more. */
	uint8_t *held = xcalloc(d.norders + 1, 1);
	for (size_t c = 0; c < d.ncust; c++)
		if (d.cust[c] < d.cust[c + 1] && d.b[d.cust[c]].order != d.b[d.cust[c + 1] - 1].order)
			held[d.b[d.cust[c + 1] - 1].order] = 1;
	model m = {0};
	cooc(s, &d, held, top, &m);
	size_t n = d.items.n ? d.items.n : 1;
	held_model g = {&m, &cn, xmalloc((cn.skus.n + 1) * sizeof(size_t)), xmalloc(n * sizeof(size_t)), d.items.s,
	                NULL, 0};
	size_t *c2i = (size_t *)g.c2i, *i2c = (size_t *)g.i2c;
	for (size_t x = 0; x < d.items.n; x++)
		i2c[x] = STRTAB_NONE;
	for (size_t x = 0; x < cn.skus.n; x++)
		if ((c2i[x] = strtab_find(&d.items, cn.skus.s[x], strlen(cn.skus.s[x]))) != STRTAB_NONE)
			i2c[c2i[x]] = x;
	source src = {model_nbs, model_trend, model_trending, &g, model_names};
	uint32_t *pos = xmalloc(n * sizeof *pos), *h = xmalloc(n * sizeof *h), *tl = xmalloc(n * sizeof *tl);
	int64_t *t = xmalloc(n * sizeof *t);
	uint8_t *target = xcalloc(n, 1);
	memset(pos, 0xff, n * sizeof *pos);
	acc a = {0};
	score mine = {0}, pop = {0};
	size_t skipped = 0;
	long long limit = limit_of(r);
	for (size_t c = 0; c < d.ncust; c++) {
		if (d.cust[c] == d.cust[c + 1] || !held[d.b[d.cust[c + 1] - 1].order])
			continue;
		size_t nh = 0, nt = 0;
		for (size_t x = d.cust[c]; x < d.cust[c + 1]; x++) {
			const buy *b = &d.b[x];
			if (held[b->order])
				continue;
			if (pos[b->item] == UINT32_MAX) {
				pos[b->item] = (uint32_t)nh;
				h[nh] = b->item;
				t[nh++] = b->t;
			} else if (b->t > t[pos[b->item]])
				t[pos[b->item]] = b->t;
		}
		for (size_t x = d.cust[c]; x < d.cust[c + 1]; x++) {
			const buy *b = &d.b[x];
			if (held[b->order] && pos[b->item] == UINT32_MAX && !target[b->item]) {
				target[b->item] = 1;
				tl[nt++] = b->item;
			}
		}
		if (!nt)
			skipped++;
		else {
			score_customer(&a, h, t, nh, r->half_life_ms, &src);
			measure(&a, m.tpop, m.npop, pos, target, nt, limit, &mine);
			measure(NULL, m.pop, m.npop, pos, target, nt, limit, &pop);
			acc_cut(&a, 0);
		}
		for (size_t x = 0; x < nh; x++)
			pos[h[x]] = UINT32_MAX;
		for (size_t x = 0; x < nt; x++)
			target[tl[x]] = 0;
		if (progress(s) && !(c % 64))
			cli_progress("evaluating customers", c, d.ncust, 0);
	}
	if (progress(s))
		cli_progress("evaluating customers", d.ncust, d.ncust, 1);
	acc_free(&a);
	free(pos);
	free(h);
	free(tl);
	free(t);
	free(target);
	free(held);
	free(c2i);
	free(i2c);
	free(g.v);
	model_free(&m);
	content_free(&cn);
	data_free(&d);
	if (!emit(arg, eval_rec("for", limit, &mine, skipped)))
		emit(arg, eval_rec("popular", limit, &pop, skipped));
	return 0;
}
