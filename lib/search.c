/* search: see search.h. The index is FTS5; the ranking is ours.
 *
 * FTS5's own ranked query (ORDER BY bm25) scores every match, so its time
 * grows with the matches: 9 ms for "cable" (3,770 matches) in the icecat
 * catalog. Here the index only finds candidates, in rowid order and at
 * most CAND_MAX of them, and an auxiliary function of ours (shop_feat)
 * reads each candidate's term counts per field as FTS5 walks it, so that
 * the scoring is a loop in C. When a query has more matches than that,
 * the products that have every word in their title are read too, the
 * first CAND_MAX of them: a generic query ("cable") then ranks those. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "base/strtab.h"
#include "search.h"

#define NCOL 4            /* title, brand, category, body */
#define MAX_TERMS 12      /* words of a query past this are ignored */
#define CAND_MAX 500L      /* candidates read from the index per pass */
#define FALLBACK_MAX 250L  /* candidates of the looser passes, when every word finds too few */
#define RERANK ((size_t)30) /* the best this many are re-ranked by the model */
#define KEY_MAX 20        /* bytes of a suggestion prefix key */
#define KEEP_PER_KEY 16   /* title phrases kept per prefix by reindex */
#define DEFAULT_LIMIT 10

enum { C_TITLE, C_BRAND, C_CATEGORY, C_BODY };

/* The features of a candidate, in the model's order. */
enum {
	F_BM25F, F_TITLE, F_BRAND, F_CATEGORY, F_BODY, F_TITLE_COVER, F_COVER, F_PHRASE, F_EXACT, F_BRAND_MATCH,
	F_CATEGORY_MATCH, F_POP, F_IN_STOCK, F_PRICE, F_TITLE_LEN, F_WHOLE_LAST, NFEAT
};
static const char *const feat_names[NFEAT] = {
	"bm25f", "bm25_title", "bm25_brand", "bm25_category", "bm25_body", "title_coverage", "coverage",
	"title_phrase", "title_exact", "brand_match", "category_match", "popularity", "in_stock",
	"price_position", "title_length", "whole_last_word",
};
/* The built-in weights: BM25F, and every word over some words. */
static const double default_w[NFEAT] = {
	[F_BM25F] = 1.0, [F_TITLE_COVER] = 0.5, [F_COVER] = 3.0, [F_PHRASE] = 0.3, [F_EXACT] = 0.3,
	[F_POP] = 0.05, [F_IN_STOCK] = 0.1, [F_WHOLE_LAST] = 0.2,
};
/* BM25F: per-field weights and length normalisation. */
static const double fw[NCOL] = {2.5, 1.5, 1.5, 0.6};
static const double fb[NCOL] = {0.75, 0.3, 0.3, 0.75};
#define K1 1.2

typedef struct model {
	double w[NFEAT], mean[NFEAT], sd[NFEAT];
	int trained;
} model;

/* A word of the query. */
typedef struct term {
	char *raw;       /* the user's word as typed (searched as a word) */
	char *stem;      /* as the index holds it */
	char *fixed;     /* the correction (a stem), or NULL */
	int prefix;      /* also matched as a prefix (the last word) */
	int64_t df;      /* products that have it (0: a prefix or unknown) */
	double idf;
} term;

typedef struct cand {
	int64_t id;
	unsigned short tf[MAX_TERMS][NCOL];
	int len[NCOL];
	unsigned char phrase, whole_last;
	double f[NFEAT];
	double base, score;
} cand;

/* One query being run. */
typedef struct query {
	term t[MAX_TERMS];
	int n;
	int ph_term[2 * MAX_TERMS + 2]; /* the expression's phrase i -> term, or -1 - term for a whole-word twin */
	int nph;
	cand *c;
	size_t nc, cap;
	int64_t *seen; /* open addressing set of candidate ids */
	size_t seen_cap;
	int64_t rows;
	double avg[NCOL];
	int have_stats;
	char *expr; /* the match expression the results came from (for facets) */
	int corrected;
} query;

/* The engine of this process: the store, FTS5's API and tokenizers, the
 * statements of a query, the model. */
typedef struct engine {
	store *st;
	sqlite3 *db;
	fts5_api *api;
	fts5_tokenizer porter_mod, plain_mod;
	Fts5Tokenizer *porter, *plain;
	query *cur; /* the query shop_feat is collecting for */
	model m;
	int model_loaded;
	sqlite3_stmt *cand_st[32]; /* by filter mask */
	shop_err *err;
} engine;

static engine eng;

/* ---- set-up ---- */

static void feat_fn(const Fts5ExtensionApi *x, Fts5Context *fc, sqlite3_context *ctx, int nv, sqlite3_value **v);

static void engine_close(void)
{
	for (size_t i = 0; i < sizeof eng.cand_st / sizeof *eng.cand_st; i++)
		if (eng.cand_st[i])
			sqlite3_finalize(eng.cand_st[i]);
	if (eng.porter)
		eng.porter_mod.xDelete(eng.porter);
	if (eng.plain)
		eng.plain_mod.xDelete(eng.plain);
	memset(&eng, 0, sizeof eng);
}

static int engine_open(shop *s)
{
	store *st = shop_store(s);
	if (!st)
		return s->err.code;
	if (eng.st == st)
		return 0;
	engine_close();
	eng.st = st;
	eng.db = store_db(st);
	eng.err = &s->err;
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(eng.db, "SELECT fts5(?1)", -1, &q, NULL) != SQLITE_OK)
		return store_fail(st, &s->err, "search: fts5");
	sqlite3_bind_pointer(q, 1, (void *)&eng.api, "fts5_api_ptr", NULL);
	sqlite3_step(q);
	sqlite3_finalize(q);
	if (!eng.api || eng.api->iVersion < 2)
		return err_set(&s->err, SHOP_SOFTWARE, "search: this SQLite has no FTS5");
	void *ud;
	const char *porter_args[] = {"unicode61", "remove_diacritics", "2"};
	const char *plain_args[] = {"remove_diacritics", "2"};
	if (eng.api->xFindTokenizer(eng.api, "porter", &ud, &eng.porter_mod) != SQLITE_OK ||
	    eng.porter_mod.xCreate(ud, porter_args, 3, &eng.porter) != SQLITE_OK ||
	    eng.api->xFindTokenizer(eng.api, "unicode61", &ud, &eng.plain_mod) != SQLITE_OK ||
	    eng.plain_mod.xCreate(ud, plain_args, 2, &eng.plain) != SQLITE_OK ||
	    eng.api->xCreateFunction(eng.api, "shop_feat", &eng, feat_fn, NULL) != SQLITE_OK) {
		engine_close();
		return err_set(&s->err, SHOP_SOFTWARE, "search: cannot set up the FTS5 tokenizers");
	}
	return 0;
}

/* ---- words ---- */

typedef struct toks {
	const char *text;
	char **raw, **norm;
	int n, max;
} toks;

static int tok_cb(void *arg, int flags, const char *t, int n, int start, int end)
{
	toks *k = arg;
	if ((flags & FTS5_TOKEN_COLOCATED) || k->n >= k->max || n <= 0)
		return SQLITE_OK;
	k->norm[k->n] = xstrndup(t, (size_t)n);
	if (k->raw)
		k->raw[k->n] = xstrndup(k->text + start, (size_t)(end - start));
	k->n++;
	return SQLITE_OK;
}

/* The words of text by tokenizer tk (stemmed or not): norm[i] as the index
 * holds them, raw[i] (when raw is not NULL) as typed. Invalid UTF-8 was
 * made spaces by the caller. Returns how many, at most max. */
static int tokenize(fts5_tokenizer *mod, Fts5Tokenizer *tk, int flags, const char *text, char **raw, char **norm,
                    int max)
{
	toks k = {text, raw, norm, 0, max};
	mod->xTokenize(tk, &k, flags, text, (int)strlen(text), tok_cb);
	return k.n;
}

static void free_words(char **w, int n)
{
	for (int i = 0; i < n; i++)
		free(w[i]);
}

/* A copy of text with every byte of invalid UTF-8 and every control
 * character made a space: any user text is words. */
static char *clean_text(const char *text)
{
	char *c = xstrdup(text);
	size_t n = strlen(c), at = 0, bad;
	while (at < n && !utf8_valid(c + at, n - at, &bad)) {
		c[at + bad] = ' ';
		at += bad + 1;
	}
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			c[i] = ' ';
	return c;
}

/* The words of text, lowercased, without diacritics, one space apart:
 * how queries are logged and suggestions are keyed. */
static char *normalize(const char *text, int keep_trailing_space)
{
	char *c = clean_text(text), *w[64];
	int n = tokenize(&eng.plain_mod, eng.plain, FTS5_TOKENIZE_DOCUMENT, c, NULL, w, 64);
	buf b = {0};
	for (int i = 0; i < n; i++) {
		if (i)
			buf_addc(&b, ' ');
		buf_adds(&b, w[i]);
	}
	size_t len = strlen(c);
	if (keep_trailing_space && n && len && isspace((unsigned char)c[len - 1]))
		buf_addc(&b, ' ');
	free_words(w, n);
	free(c);
	return b.len ? buf_detach(&b) : (buf_free(&b), NULL);
}

/* ---- the vocabulary and typo correction ---- */

/* The first column of the first row of sql with text parameters a and b
 * (either may be NULL), or 0 when there is no row. */
static int64_t int_of(const char *sql, const char *a, const char *b)
{
	sqlite3_stmt *q = store_stmt(eng.st, sql, eng.err);
	if (!q)
		return 0;
	store_bind_text(q, 1, a);
	store_bind_text(q, 2, b);
	int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	sqlite3_reset(q);
	return v;
}

/* The products that have stem in the index itself, where a count walks
 * the term's whole doclist. */
static int64_t live_docs(const char *stem)
{
	return int_of("SELECT doc FROM search_vocab WHERE term = ?1", stem, NULL);
}

/* The products that have stem: from the copy of the vocabulary, else (a
 * word newer than the copy, or none) from the index. */
static int64_t vocab_docs(const char *stem)
{
	int64_t d = int_of("SELECT docs FROM search_word WHERE term = ?1", stem, NULL);
	return d ? d : live_docs(stem);
}

/* The upper end of the range of terms that start with p: p with its last
 * byte raised (p is a complete UTF-8 sequence; 0xff never occurs in it). */
static char *range_end(const char *p, size_t n)
{
	char *e = xstrndup(p, n);
	e[n - 1] = (char)((unsigned char)e[n - 1] + 1);
	return e;
}

static int has_prefix_terms(const char *stem)
{
	char *end = range_end(stem, strlen(stem));
	int r = int_of("SELECT 1 FROM search_vocab WHERE term >= ?1 AND term < ?2 LIMIT 1", stem, end) != 0;
	free(end);
	return r;
}

/* Optimal string alignment distance of a and b, or max + 1 when it is
 * more than max. */
static int edit_distance(const char *a, size_t la, const char *b, size_t lb, int max)
{
	if ((la > lb ? la - lb : lb - la) > (size_t)max || la > 63 || lb > 63)
		return max + 1;
	int d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int row_min = max + 1;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
			if (v < row_min)
				row_min = v;
		}
		if (row_min > max)
			return max + 1;
	}
	return d[la][lb];
}

/* 1 when the stem is worth correcting: letters only, 3 bytes or more
 * (model numbers and sizes are left as they are). */
static int correctable(const char *stem)
{
	size_t n = strlen(stem);
	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (isdigit((unsigned char)stem[i]))
			return 0;
	return 1;
}

/* The vocabulary term nearest to stem that starts with the same letter
 * (from search_word, the copy of the vocabulary that reindex makes):
 * distance 1 for words of up to 4 bytes, else 2; ties to the term in the
 * most products. A term the stemmer would change again is passed over: it
 * is searched as typed. NULL when there is none. */
static char *nearest_term(const char *stem)
{
	size_t n = strlen(stem);
	int max = n <= 4 ? 1 : 2;
	size_t first = 1;
	while (first < n && ((unsigned char)stem[first] & 0xc0) == 0x80)
		first++;
	sqlite3_stmt *q = store_stmt(eng.st, "SELECT term, docs FROM search_word WHERE term >= ?1 AND term < ?2",
	                             eng.err);
	if (!q)
		return NULL;
	char *lo = xstrndup(stem, first), *hi = range_end(stem, first);
	store_bind_text(q, 1, lo);
	store_bind_text(q, 2, hi);
	char *best = NULL;
	int best_d = max + 1;
	int64_t best_docs = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(q, 0);
		size_t tl = (size_t)sqlite3_column_bytes(q, 0);
		int64_t docs = sqlite3_column_int64(q, 1);
		int d = edit_distance(stem, n, t, tl, max);
		if (d > max || (d == best_d && docs <= best_docs) || d > best_d)
			continue;
		char *one[1];
		int k = tokenize(&eng.porter_mod, eng.porter, FTS5_TOKENIZE_QUERY, t, NULL, one, 1);
		int same = k == 1 && !strcmp(one[0], t);
		free_words(one, k);
		if (!same)
			continue;
		free(best);
		best = xstrndup(t, tl);
		best_d = d;
		best_docs = docs;
	}
	sqlite3_reset(q);
	free(lo);
	free(hi);
	/* The copy may be older than the index: a term whose products are
	 * all gone since is no correction. */
	if (best && live_docs(best) <= 0) {
		free(best);
		best = NULL;
	}
	return best;
}

/* ---- the query ---- */

static void query_free(query *q)
{
	for (int i = 0; i < q->n; i++) {
		free(q->t[i].raw);
		free(q->t[i].stem);
		free(q->t[i].fixed);
	}
	free(q->c);
	free(q->seen);
	free(q->expr);
	memset(q, 0, sizeof *q);
}

/* Cut text into terms; the last is a prefix too unless it is one letter
 * or the text ends with a space. */
static void query_words(query *q, const char *text)
{
	char *c = clean_text(text), *raw[MAX_TERMS], *stem[MAX_TERMS];
	q->n = tokenize(&eng.porter_mod, eng.porter, FTS5_TOKENIZE_QUERY, c, raw, stem, MAX_TERMS);
	for (int i = 0; i < q->n; i++) {
		q->t[i].raw = raw[i];
		q->t[i].stem = stem[i];
	}
	size_t len = strlen(c);
	if (q->n && len && !isspace((unsigned char)c[len - 1]) && strlen(q->t[q->n - 1].raw) >= 2)
		q->t[q->n - 1].prefix = 1;
	free(c);
}

/* Correct the words the index does not have. */
static void query_vocab(query *q)
{
	for (int i = 0; i < q->n; i++) {
		term *t = &q->t[i];
		int64_t df = vocab_docs(t->stem);
		/* A last word that is a word of the index is taken as typed: a
		 * prefix query makes FTS5 merge the doclists of every term that
		 * starts with it, which is most of the cost of a query. */
		if (df && t->prefix)
			t->prefix = 0;
		if (!df && !(t->prefix && has_prefix_terms(t->stem)) && correctable(t->stem)) {
			t->fixed = nearest_term(t->stem);
			if (t->fixed) {
				t->prefix = 0;
				df = vocab_docs(t->fixed);
				q->corrected = 1;
			}
		}
		t->df = df;
	}
}

/* The IDF of every word, once the index's row count is known. */
static void query_idf(query *q)
{
	for (int i = 0; i < q->n; i++) {
		double df = q->t[i].df ? (double)q->t[i].df : (double)q->rows / 20 + 1; /* a prefix: common enough */
		q->t[i].idf = log(1.0 + ((double)q->rows - df + 0.5) / (df + 0.5));
	}
}

/* Append term i to the expression: its word quoted (the only syntax a
 * user's text ever reaches), and for a prefix word its whole-word twin
 * first so that shop_feat can tell the two apart. */
static void expr_term(query *q, buf *b, int i)
{
	term *t = &q->t[i];
	const char *w = t->fixed ? t->fixed : t->raw;
	int twin = t->prefix;
	if (twin) {
		buf_adds(b, "(");
		q->ph_term[q->nph++] = -1 - i;
	}
	for (int k = 0; k < 1 + twin; k++) {
		if (k)
			buf_adds(b, " OR ");
		buf_addc(b, '"');
		for (const char *p = w; *p; p++) {
			if (*p == '"')
				buf_addc(b, '"');
			buf_addc(b, *p);
		}
		buf_addc(b, '"');
		if (k) {
			buf_addc(b, '*');
			q->ph_term[q->nph++] = i;
		}
	}
	if (twin)
		buf_adds(b, ")");
	else
		q->ph_term[q->nph++] = i;
}

/* The expression of the terms whose bit is set in mask, joined by op
 * ("AND", "OR"), for the title only when title is 1. */
static char *build_expr(query *q, unsigned mask, const char *op, int title)
{
	buf b = {0};
	q->nph = 0;
	if (title)
		buf_adds(&b, "{title} : (");
	int k = 0;
	for (int i = 0; i < q->n; i++) {
		if (!(mask & (1u << i)))
			continue;
		if (k++)
			buf_addf(&b, " %s ", op);
		expr_term(q, &b, i);
	}
	if (title)
		buf_adds(&b, ")");
	return buf_detach(&b);
}

static int seen_add(query *q, int64_t id)
{
	if (q->nc * 2 + 2 >= q->seen_cap) {
		size_t cap = q->seen_cap ? q->seen_cap * 2 : 4096;
		int64_t *n = xmalloc(cap * sizeof *n);
		for (size_t i = 0; i < cap; i++)
			n[i] = -1;
		for (size_t i = 0; i < q->seen_cap; i++)
			if (q->seen[i] >= 0) {
				size_t h = (size_t)(q->seen[i] * 0x9E3779B97F4A7C15ull) & (cap - 1);
				while (n[h] >= 0)
					h = (h + 1) & (cap - 1);
				n[h] = q->seen[i];
			}
		free(q->seen);
		q->seen = n;
		q->seen_cap = cap;
	}
	size_t h = (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ull) & (q->seen_cap - 1);
	while (q->seen[h] >= 0) {
		if (q->seen[h] == id)
			return 0;
		h = (h + 1) & (q->seen_cap - 1);
	}
	q->seen[h] = id;
	return 1;
}

/* shop_feat(search_fts): called by FTS5 for each row of a candidate pass;
 * appends the row to the current query with its term counts per field. */
static void feat_fn(const Fts5ExtensionApi *x, Fts5Context *fc, sqlite3_context *ctx, int nv, sqlite3_value **v)
{
	(void)nv;
	(void)v;
	engine *e = x->xUserData(fc);
	query *q = e->cur;
	sqlite3_result_null(ctx);
	if (!q)
		return;
	if (!q->have_stats) {
		sqlite3_int64 rows = 0, tot;
		x->xRowCount(fc, &rows);
		q->rows = rows;
		for (int c = 0; c < NCOL; c++) {
			tot = 0;
			x->xColumnTotalSize(fc, c, &tot);
			q->avg[c] = rows ? (double)tot / (double)rows : 1.0;
			if (q->avg[c] <= 0)
				q->avg[c] = 1.0;
		}
		q->have_stats = 1;
	}
	int64_t id = x->xRowid(fc) & 0xffffffff; /* the product id (shop.db.sql) */
	if (!seen_add(q, id))
		return;
	if (q->nc == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 256;
		q->c = xrealloc(q->c, q->cap * sizeof *q->c);
	}
	cand *c = &q->c[q->nc++];
	memset(c, 0, sizeof *c);
	c->id = id;
	for (int col = 0; col < NCOL; col++)
		x->xColumnSize(fc, col, &c->len[col]);
	int ninst = 0;
	x->xInstCount(fc, &ninst);
	/* Title positions of each term, to find the words in a row. */
	enum { MAXPOS = 64 };
	int pos_term[MAXPOS], pos_off[MAXPOS], npos = 0;
	for (int i = 0; i < ninst; i++) {
		int ph, col, off;
		if (x->xInst(fc, i, &ph, &col, &off) != SQLITE_OK || ph < 0 || ph >= q->nph || col < 0 || col >= NCOL)
			continue;
		int t = q->ph_term[ph];
		if (t < 0) { /* the whole-word twin of a prefix */
			c->whole_last = 1;
			continue;
		}
		if (c->tf[t][col] < 65535)
			c->tf[t][col]++;
		if (col == C_TITLE && npos < MAXPOS) {
			pos_term[npos] = t;
			pos_off[npos++] = off;
		}
	}
	if (q->n >= 2)
		for (int i = 0; i < npos && !c->phrase; i++) {
			if (pos_term[i] != 0)
				continue;
			int k = 1;
			for (; k < q->n; k++) {
				int found = 0;
				for (int j = 0; j < npos && !found; j++)
					found = pos_term[j] == k && pos_off[j] == pos_off[i] + k;
				if (!found)
					break;
			}
			c->phrase = k == q->n;
		}
}

/* The filters of a request as a bit mask, and the statement for them. */
enum { FL_CATEGORY = 1, FL_BRAND = 2, FL_PMIN = 4, FL_PMAX = 8, FL_STOCK = 16 };

static unsigned filter_mask(const search_req *r)
{
	return (r->category ? FL_CATEGORY : 0) | (r->brand ? FL_BRAND : 0) | (r->price_min >= 0 ? FL_PMIN : 0) |
	       (r->price_max >= 0 ? FL_PMAX : 0) | (r->in_stock ? FL_STOCK : 0);
}

/* The WHERE of the filters, after "search_fts MATCH ?1" (parameters 3..6). */
static void filter_sql(buf *b, unsigned mask)
{
	if (mask & FL_CATEGORY)
		buf_adds(b, " AND p.category = ?3 COLLATE NOCASE");
	if (mask & FL_BRAND)
		buf_adds(b, " AND p.brand = ?4 COLLATE NOCASE");
	if (mask & FL_PMIN)
		buf_adds(b, " AND p.price >= ?5");
	if (mask & FL_PMAX)
		buf_adds(b, " AND p.price <= ?6");
	if (mask & FL_STOCK)
		buf_adds(b, " AND EXISTS (SELECT 1 FROM stock k WHERE k.sku = p.sku AND k.on_hand > k.reserved)");
}

static void filter_bind(sqlite3_stmt *st, const search_req *r, unsigned mask)
{
	if (mask & FL_CATEGORY)
		store_bind_text(st, 3, r->category);
	if (mask & FL_BRAND)
		store_bind_text(st, 4, r->brand);
	if (mask & FL_PMIN)
		sqlite3_bind_int64(st, 5, r->price_min);
	if (mask & FL_PMAX)
		sqlite3_bind_int64(st, 6, r->price_max);
}

static sqlite3_stmt *cand_stmt(unsigned mask)
{
	if (eng.cand_st[mask])
		return eng.cand_st[mask];
	buf b = {0};
	if (mask)
		buf_adds(&b, "SELECT shop_feat(search_fts) FROM search_fts CROSS JOIN product p ON p.id = (search_fts.rowid & 4294967295) "
		             "WHERE search_fts MATCH ?1");
	else
		buf_adds(&b, "SELECT shop_feat(search_fts) FROM search_fts WHERE search_fts MATCH ?1");
	filter_sql(&b, mask);
	buf_adds(&b, " LIMIT ?2");
	if (sqlite3_prepare_v2(eng.db, buf_str(&b), -1, &eng.cand_st[mask], NULL) != SQLITE_OK) {
		store_fail(eng.st, eng.err, "search: prepare");
		eng.cand_st[mask] = NULL;
	}
	buf_free(&b);
	return eng.cand_st[mask];
}

/* One pass: the candidates of expr (at most max), appended to q. Returns
 * how many rows the index gave, or -1 on an error (in eng.err). */
static long run_pass(query *q, const search_req *r, const char *expr, long max)
{
	unsigned mask = filter_mask(r);
	sqlite3_stmt *st = cand_stmt(mask);
	if (!st)
		return -1;
	store_bind_text(st, 1, expr);
	sqlite3_bind_int64(st, 2, max);
	filter_bind(st, r, mask);
	eng.cur = q;
	long n = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n++;
	eng.cur = NULL;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		store_fail_rc(eng.st, rc, eng.err, "search");
		return -1;
	}
	return n;
}

/* The candidates of q: every word (and, past CAND_MAX matches, every word
 * in the title); when that finds fewer than want, all words but one, then
 * any word. Leaves in q->expr the expression the result set is. */
static int gather(query *q, const search_req *r, long want)
{
	unsigned all = (1u << q->n) - 1;
	char *e = build_expr(q, all, "AND", 0);
	long n = run_pass(q, r, e, CAND_MAX + 1);
	q->expr = e;
	if (n < 0)
		return -1;
	if (n > CAND_MAX) {
		char *te = build_expr(q, all, "AND", 1);
		n = run_pass(q, r, te, CAND_MAX);
		free(te);
		return n < 0 ? -1 : 0;
	}
	if ((long)q->nc >= want || q->n < 2)
		return 0;
	long budget = (long)q->nc + FALLBACK_MAX;
	if (q->n >= 3)
		for (int skip = q->n - 1; skip >= 0 && (long)q->nc < budget; skip--) {
			char *se = build_expr(q, all & ~(1u << skip), "AND", 0);
			long k = run_pass(q, r, se, budget - (long)q->nc);
			free(se);
			if (k < 0)
				return -1;
		}
	char *oe = build_expr(q, all, "OR", 0);
	long k = (long)q->nc < budget ? run_pass(q, r, oe, budget - (long)q->nc) : 0;
	if (k < 0) {
		free(oe);
		return -1;
	}
	if (q->nc && !n) {
		free(q->expr);
		q->expr = oe;
	} else
		free(oe);
	return 0;
}

/* The text features of candidate c. */
static void text_features(const query *q, cand *c)
{
	double norm[NCOL];
	for (int col = 0; col < NCOL; col++)
		norm[col] = K1 * (1.0 - fb[col] + fb[col] * (double)c->len[col] / q->avg[col]);
	int in_title = 0, anywhere = 0, in_brand = 0, in_cat = 0;
	for (int i = 0; i < q->n; i++) {
		double tfw = 0;
		int any = 0;
		for (int col = 0; col < NCOL; col++) {
			double tf = c->tf[i][col];
			if (!tf)
				continue;
			any = 1;
			tfw += fw[col] * tf / (1.0 - fb[col] + fb[col] * (double)c->len[col] / q->avg[col]);
			c->f[F_TITLE + col] += q->t[i].idf * tf * (K1 + 1) / (tf + norm[col]);
		}
		c->f[F_BM25F] += q->t[i].idf * tfw / (K1 + tfw);
		anywhere += any;
		in_title += c->tf[i][C_TITLE] > 0;
		in_brand |= c->tf[i][C_BRAND] > 0;
		in_cat |= c->tf[i][C_CATEGORY] > 0;
	}
	double n = q->n ? q->n : 1;
	c->f[F_TITLE_COVER] = in_title / n;
	c->f[F_COVER] = anywhere / n;
	c->f[F_PHRASE] = c->phrase || (q->n == 1 && in_title);
	c->f[F_EXACT] = c->f[F_PHRASE] && c->len[C_TITLE] == q->n;
	c->f[F_BRAND_MATCH] = in_brand;
	c->f[F_CATEGORY_MATCH] = in_cat;
	c->f[F_TITLE_LEN] = log1p((double)c->len[C_TITLE]);
	int last = q->n - 1;
	c->f[F_WHOLE_LAST] = last < 0 || !q->t[last].prefix || c->whole_last;
}

static double model_score(const model *m, const double *f)
{
	double s = 0;
	for (int i = 0; i < NFEAT; i++)
		s += m->w[i] * (f[i] - m->mean[i]) / m->sd[i];
	return s;
}

static void model_default(model *m)
{
	memset(m, 0, sizeof *m);
	for (int i = 0; i < NFEAT; i++) {
		m->w[i] = default_w[i];
		m->sd[i] = 1.0;
	}
}

/* The stored model, else the default. A model that does not parse is a
 * bad store (74). */
static int model_load(shop *s, model *m)
{
	model_default(m);
	sqlite3_stmt *q = store_stmt(eng.st, "SELECT model FROM search_model WHERE id = 1", &s->err);
	if (!q)
		return s->err.code;
	int rc = 0;
	if (sqlite3_step(q) == SQLITE_ROW) {
		jv v;
		char msg[128];
		const char *t = store_col_text(q, 0);
		if (json_parse(t, strlen(t), &v, msg, sizeof msg)) {
			rc = err_set(&s->err, SHOP_IOERR, "search: the stored model is not JSON: %s", msg);
		} else {
			const char *keys[] = {"w", "mean", "sd"};
			double *dst[] = {m->w, m->mean, m->sd};
			jv names = jv_object_get(jv_copy(v), jv_string("features"));
			for (int k = 0; k < 3 && !rc; k++) {
				jv a = jv_object_get(jv_copy(v), jv_string(keys[k]));
				if (jv_get_kind(a) != JV_KIND_ARRAY || jv_get_kind(names) != JV_KIND_ARRAY) {
					rc = err_set(&s->err, SHOP_IOERR, "search: the stored model has no '%s'", keys[k]);
				} else {
					for (int i = 0; i < jv_array_length(jv_copy(a)); i++) {
						jv nm = jv_array_get(jv_copy(names), i), x = jv_array_get(jv_copy(a), i);
						for (int f = 0; f < NFEAT; f++)
							if (jv_get_kind(nm) == JV_KIND_STRING && jv_get_kind(x) == JV_KIND_NUMBER &&
							    !strcmp(jv_string_value(nm), feat_names[f]))
								dst[k][f] = jv_number_value(x);
						jv_free(nm);
						jv_free(x);
					}
				}
				jv_free(a);
			}
			jv_free(names);
			jv_free(v);
			for (int f = 0; f < NFEAT; f++)
				if (!(m->sd[f] > 0))
					m->sd[f] = 1.0;
			m->trained = !rc;
		}
	}
	sqlite3_reset(q);
	if (rc)
		model_default(m);
	return rc;
}

static int cmp_cand(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Rank q's candidates with model m: all by the text features, then the
 * best RERANK again with what the store knows of each product. */
static int rank(query *q, const model *m)
{
	if (!q->nc)
		return 0;
	query_idf(q);
	/* The first stage is always the built-in weights: the model was
	 * trained on the candidates they bring to the top. */
	model first;
	model_default(&first);
	for (size_t i = 0; i < q->nc; i++) {
		text_features(q, &q->c[i]);
		q->c[i].score = q->c[i].base = model_score(&first, q->c[i].f);
	}
	qsort(q->c, q->nc, sizeof *q->c, cmp_cand);
	size_t top = q->nc < RERANK ? q->nc : RERANK;
	sqlite3_stmt *st = store_stmt(eng.st,
	                              "SELECT p.price, coalesce(sp.sold, 0), "
	                              "EXISTS (SELECT 1 FROM stock k WHERE k.sku = p.sku AND k.on_hand > k.reserved) "
	                              "FROM product p LEFT JOIN search_pop sp ON sp.sku = p.sku WHERE p.id = ?1",
	                              eng.err);
	if (!st)
		return -1;
	double *price = xmalloc(top * sizeof *price), *sorted = xmalloc(top * sizeof *sorted);
	for (size_t i = 0; i < top; i++) {
		cand *c = &q->c[i];
		sqlite3_bind_int64(st, 1, c->id);
		price[i] = 1;
		if (sqlite3_step(st) == SQLITE_ROW) {
			price[i] = (double)sqlite3_column_int64(st, 0) + 1;
			c->f[F_POP] = log1p((double)sqlite3_column_int64(st, 1));
			c->f[F_IN_STOCK] = sqlite3_column_int(st, 2);
		}
		sqlite3_reset(st);
		sorted[i] = price[i];
	}
	qsort(sorted, top, sizeof *sorted, cmp_double);
	double median = sorted[top / 2];
	double low = INFINITY;
	for (size_t i = 0; i < top; i++) {
		cand *c = &q->c[i];
		c->f[F_PRICE] = log(price[i] / median);
		c->score = model_score(m, c->f);
		if (c->score < low)
			low = c->score;
	}
	free(price);
	free(sorted);
	qsort(q->c, top, sizeof *q->c, cmp_cand);
	/* The rest keep their order below the re-ranked ones. */
	if (top < q->nc) {
		double shift = q->c[top].base - low + 1e-6;
		for (size_t i = top; i < q->nc; i++)
			q->c[i].score = q->c[i].base - shift;
	}
	return 0;
}

static int build_suggest(shop *s, int64_t *products, size_t *phrases_n, int64_t *keys);

/* Rebuild search_word and the suggestions, in the caller's transaction. */
static int build_words(shop *s, int64_t *products, size_t *phrases_n, int64_t *keys)
{
	int rc = sqlite3_exec(eng.db,
	                      "DELETE FROM search_word;"
	                      "INSERT INTO search_word (term, docs) SELECT term, doc FROM search_vocab;"
	                      "DELETE FROM search_suggest;",
	                      NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return store_fail_rc(eng.st, rc, &s->err, "search: vocabulary");
	return build_suggest(s, products, phrases_n, keys);
}

/* Before queries: rows another program left in search_pending go into
 * the index, and the vocabulary copy and the title phrases are built on
 * the first use of a store that has products. */
static int prepare(shop *s)
{
	/* One statement on the path of every query: 1 when there is work. */
	static const char work[] = "SELECT EXISTS (SELECT 1 FROM search_pending) OR "
	                           "(NOT EXISTS (SELECT 1 FROM search_word) AND EXISTS (SELECT 1 FROM search_fts_docsize))";
	if (!int_of(work, NULL, NULL))
		return s->err.code;
	if (store_begin(eng.st, &s->err) || search_sync(eng.st, NULL, &s->err))
		return s->err.code;
	int64_t products = 0, keys = 0;
	size_t nph = 0;
	if (!int_of("SELECT EXISTS (SELECT 1 FROM search_word)", NULL, NULL) && build_words(s, &products, &nph, &keys)) {
		store_rollback(eng.st);
		return s->err.code;
	}
	return store_commit(eng.st, &s->err);
}


/* Run r's query into q, ranked; the caller frees q. */
static int run_query(shop *s, const search_req *r, const model *m, query *q, long want)
{
	memset(q, 0, sizeof *q);
	if (s->err.code) /* the read transaction around it did not begin */
		return s->err.code;
	query_words(q, r->text);
	if (!q->n)
		return 0;
	query_vocab(q);
	if (s->err.code)
		return s->err.code;
	if (gather(q, r, want) || rank(q, m))
		return s->err.code ? s->err.code : err_set(&s->err, SHOP_SOFTWARE, "search: failed");
	return 0;
}

/* ---- output ---- */

static jv corrections(const query *q)
{
	jv o = jv_object();
	for (int i = 0; i < q->n; i++)
		if (q->t[i].fixed)
			o = jv_object_set(o, jv_string(q->t[i].raw), jv_string(q->t[i].fixed));
	return o;
}

static jv explain(const model *m, const cand *c)
{
	jv a = jv_array();
	for (int i = 0; i < NFEAT; i++) {
		jv e = jv_object();
		e = jv_object_set(e, jv_string("feature"), jv_string(feat_names[i]));
		e = jv_object_set(e, jv_string("value"), jv_number(round(c->f[i] * 1e4) / 1e4));
		e = jv_object_set(e, jv_string("weight"), jv_number(round(m->w[i] / m->sd[i] * 1e4) / 1e4));
		a = jv_array_append(a, e);
	}
	return a;
}

/* The facets records: counts per brand and category of every match of
 * q->expr with the filters. */
static int facets(shop *s, const query *q, const search_req *r, shop_emit emit, void *arg)
{
	static const char *const cols[] = {"brand", "category"};
	unsigned mask = filter_mask(r);
	for (int k = 0; k < 2; k++) {
		buf b = {0};
		buf_addf(&b,
		         "SELECT p.%s, count(*) FROM search_fts CROSS JOIN product p ON p.id = (search_fts.rowid & 4294967295) "
		         "WHERE search_fts MATCH ?1",
		         cols[k]);
		filter_sql(&b, mask);
		buf_addf(&b, " GROUP BY p.%s ORDER BY 2 DESC, 1", cols[k]);
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(eng.db, buf_str(&b), -1, &st, NULL);
		buf_free(&b);
		if (rc != SQLITE_OK)
			return store_fail(eng.st, &s->err, "search: facets");
		store_bind_text(st, 1, q->expr);
		filter_bind(st, r, mask);
		jv vals = jv_array();
		int64_t total = 0;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t n = sqlite3_column_int64(st, 1);
			total += n;
			const char *v = store_col_text(st, 0);
			if (!*v)
				continue;
			jv e = jv_object_set(jv_object(), jv_string("value"), jv_string(v));
			vals = jv_array_append(vals, jv_object_set(e, jv_string("count"), jv_number((double)n)));
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			jv_free(vals);
			return store_fail_rc(eng.st, rc, &s->err, "search: facets");
		}
		jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("facets"));
		rec = jv_object_set(rec, jv_string("facet"), jv_string(cols[k]));
		rec = jv_object_set(rec, jv_string("total"), jv_number((double)total));
		rec = jv_object_set(rec, jv_string("values"), vals);
		if (emit(arg, rec))
			break;
	}
	return 0;
}

/* Log a query that found something: its count, and its prefixes in the
 * suggestion table. Not durable to the last query (synchronous=NORMAL in
 * WAL): a query log is not worth a disk flush per search. */
static int log_query(shop *s, const char *text)
{
	char *nq = normalize(text, 0);
	if (!nq)
		return 0;
	char now[32];
	clock_now_text(now);
	sqlite3_exec(eng.db, "PRAGMA synchronous = NORMAL", NULL, NULL, NULL);
	int rc = store_begin(eng.st, &s->err);
	sqlite3_stmt *up = rc ? NULL
	                      : store_stmt(eng.st,
	                                   "INSERT INTO search_query (q, n, last_at) VALUES (?1, 1, ?2) "
	                                   "ON CONFLICT (q) DO UPDATE SET n = n + 1, last_at = ?2 RETURNING n",
	                                   &s->err);
	int64_t n = 1;
	if (up) {
		store_bind_text(up, 1, nq);
		store_bind_text(up, 2, now);
		if (sqlite3_step(up) == SQLITE_ROW)
			n = sqlite3_column_int64(up, 0);
		rc = sqlite3_reset(up) != SQLITE_OK ? store_fail(eng.st, &s->err, "search: log") : 0;
	} else
		rc = s->err.code;
	sqlite3_stmt *sg = rc ? NULL
	                      : store_stmt(eng.st,
	                                   "INSERT INTO search_suggest (prefix, phrase, weight) "
	                                   "VALUES (?1, ?2, coalesce((SELECT weight FROM search_suggest "
	                                   "WHERE prefix = ?4 AND phrase = ?2 AND prefix <> ?1), ?3)) "
	                                   "ON CONFLICT (prefix, phrase) DO UPDATE SET weight = weight + 1",
	                                   &s->err);
	size_t len = strlen(nq), longest = len < KEY_MAX ? len : KEY_MAX;
	while (longest < len && longest > 0 && ((unsigned char)nq[longest] & 0xc0) == 0x80)
		longest--;
	for (size_t k = longest; sg && !rc && k >= 1; k--) {
		if (k < len && ((unsigned char)nq[k] & 0xc0) == 0x80)
			continue;
		sqlite3_bind_text(sg, 1, nq, (int)k, SQLITE_TRANSIENT);
		store_bind_text(sg, 2, nq);
		sqlite3_bind_int64(sg, 3, n);
		/* A new row under a prefix where reindex kept no row for the
		 * phrase takes the weight of its longest prefix, counted first. */
		sqlite3_bind_text(sg, 4, nq, (int)longest, SQLITE_TRANSIENT);
		rc = store_done(eng.st, sg, &s->err, "search: log");
	}
	if (!rc)
		rc = store_commit(eng.st, &s->err);
	else
		store_rollback(eng.st);
	sqlite3_exec(eng.db, "PRAGMA synchronous = FULL", NULL, NULL, NULL);
	free(nq);
	return rc;
}

int search_query(shop *s, const search_req *r, shop_emit emit, void *arg)
{
	if (engine_open(s) || prepare(s))
		return s->err.code;
	model m;
	if (r->untrained)
		model_default(&m);
	else if (model_load(s, &m))
		return s->err.code;
	long long limit = r->limit ? r->limit : DEFAULT_LIMIT;
	query q;
	store_read(eng.st, eng.err);
	int rc = run_query(s, r, &m, &q, (long)(limit + r->offset));
	if (!rc && q.corrected && q.nc) {
		buf b = {0};
		for (int i = 0; i < q.n; i++)
			buf_addf(&b, "%s%s", i ? " " : "", q.t[i].fixed ? q.t[i].fixed : q.t[i].raw);
		shop_note(s, "showing results for '%s'", buf_str(&b));
		buf_free(&b);
	}
	sqlite3_stmt *doc = rc ? NULL : store_stmt(eng.st, "SELECT doc FROM product WHERE id = ?1", &s->err);
	if (!rc && !doc)
		rc = s->err.code;
	int stop = 0;
	for (long long i = r->offset; !rc && !stop && i < (long long)q.nc && i < r->offset + limit; i++) {
		cand *c = &q.c[i];
		sqlite3_bind_int64(doc, 1, c->id);
		if (sqlite3_step(doc) != SQLITE_ROW) {
			sqlite3_reset(doc);
			continue;
		}
		jv rec;
		char msg[128];
		const char *t = store_col_text(doc, 0);
		int bad = json_parse(t, strlen(t), &rec, msg, sizeof msg);
		sqlite3_reset(doc);
		if (bad) {
			rc = err_set(&s->err, SHOP_IOERR, "search: product %lld: stored record: %s", (long long)c->id, msg);
			break;
		}
		rec = jv_object_set(rec, jv_string("score"), jv_number(round(c->score * 1e4) / 1e4));
		if (q.corrected)
			rec = jv_object_set(rec, jv_string("corrected"), corrections(&q));
		if (r->explain)
			rec = jv_object_set(rec, jv_string("explain"), explain(&m, c));
		stop = emit(arg, rec);
	}
	if (!rc && !stop && r->facets && q.n && q.expr)
		rc = facets(s, &q, r, emit, arg);
	store_read_end(eng.st);
	if (!rc && r->log && q.nc && !q.corrected)
		rc = log_query(s, r->text);
	query_free(&q);
	engine_close();
	return rc;
}

/* ---- suggest ---- */

/* Up to limit completions of the normalized prefix p into emit (NULL:
 * counted only). Returns how many, or -1 on an error. */
static long suggest_lookup(shop *s, const char *p, long long limit, shop_emit emit, void *arg)
{
	size_t len = strlen(p), key = len < KEY_MAX ? len : KEY_MAX;
	while (key < len && key > 0 && ((unsigned char)p[key] & 0xc0) == 0x80)
		key--;
	sqlite3_stmt *q = store_stmt(eng.st,
	                             "SELECT phrase, weight FROM search_suggest WHERE prefix = ?1 "
	                             "ORDER BY weight DESC, phrase LIMIT ?2",
	                             &s->err);
	if (!q)
		return -1;
	sqlite3_bind_text(q, 1, p, (int)key, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, key < len ? 1000 : limit);
	long n = 0;
	while (n < limit && sqlite3_step(q) == SQLITE_ROW) {
		const char *ph = store_col_text(q, 0);
		if (key < len && strncmp(ph, p, len))
			continue;
		n++;
		if (emit) {
			jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("suggestion"));
			rec = jv_object_set(rec, jv_string("text"), jv_string(ph));
			rec = jv_object_set(rec, jv_string("score"), jv_number((double)sqlite3_column_int64(q, 1)));
			if (emit(arg, rec))
				break;
		}
	}
	sqlite3_reset(q);
	return n;
}

int search_suggest(shop *s, const char *prefix, long long limit, shop_emit emit, void *arg)
{
	if (engine_open(s) || prepare(s))
		return s->err.code;
	char *p = normalize(prefix, 1);
	long n = p ? suggest_lookup(s, p, limit ? limit : DEFAULT_LIMIT, emit, arg) : 0;
	free(p);
	engine_close();
	return n < 0 ? s->err.code : 0;
}

/* ---- reindex ---- */

/* Phrases and their weights: text i of t weighs w[i]. */
typedef struct phrases {
	strtab t;
	int64_t *w;
	size_t cap;
} phrases;

static void phrases_add(phrases *ps, const char *text, int64_t w)
{
	size_t i = strtab_add(&ps->t, text, strlen(text), NULL);
	if (i >= ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 1 << 14;
		ps->w = xrealloc(ps->w, ps->cap * sizeof *ps->w);
		memset(ps->w + i, 0, (ps->cap - i) * sizeof *ps->w);
	}
	ps->w[i] += w;
}

typedef struct keyrow {
	const char *phrase;
	int64_t weight;
	unsigned short klen;
} keyrow;

static int cmp_keyrow(const void *a, const void *b)
{
	const keyrow *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->phrase, y->phrase, n);
	if (c)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->phrase, y->phrase);
}

/* The title phrases (first one, two and three words of each active
 * title, weighted by products and units sold) and the logged queries. */
static int collect_phrases(shop *s, phrases *ps, int64_t *products)
{
	sqlite3_stmt *q = store_stmt(eng.st,
	                             "SELECT p.title, coalesce(sp.sold, 0) FROM product p "
	                             "LEFT JOIN search_pop sp ON sp.sku = p.sku WHERE p.status = 'active'",
	                             &s->err);
	if (!q)
		return s->err.code;
	int rc;
	buf b = {0};
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		char *c = clean_text(store_col_text(q, 0)), *w[3];
		int n = tokenize(&eng.plain_mod, eng.plain, FTS5_TOKENIZE_DOCUMENT, c, NULL, w, 3);
		buf_reset(&b);
		for (int i = 0; i < n; i++) {
			if (i)
				buf_addc(&b, ' ');
			buf_adds(&b, w[i]);
			phrases_add(ps, buf_str(&b), 1 + sqlite3_column_int64(q, 1));
		}
		free_words(w, n);
		free(c);
		(*products)++;
		if (cli_progress_ok() && !(*products % 1000))
			cli_progress("reindex", (size_t)*products, 0, 0);
	}
	sqlite3_reset(q);
	buf_free(&b);
	if (rc != SQLITE_DONE)
		return store_fail_rc(eng.st, rc, &s->err, "reindex");
	q = store_stmt(eng.st, "SELECT q, n FROM search_query", &s->err);
	if (!q)
		return s->err.code;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		phrases_add(ps, store_col_text(q, 0), sqlite3_column_int64(q, 1));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_fail_rc(eng.st, rc, &s->err, "reindex");
	return 0;
}

/* Write the best KEEP_PER_KEY phrases of every prefix. */
static int write_suggest(shop *s, phrases *ps, int64_t *keys)
{
	keyrow *rows = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < ps->t.n; i++) {
		const char *t = ps->t.s[i];
		size_t len = strlen(t);
		for (size_t k = 1; k <= len && k <= KEY_MAX; k++) {
			if (k < len && ((unsigned char)t[k] & 0xc0) == 0x80)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 1 << 16;
				rows = xrealloc(rows, cap * sizeof *rows);
			}
			rows[n++] = (keyrow){t, ps->w[i], (unsigned short)k};
		}
	}
	if (n)
		qsort(rows, n, sizeof *rows, cmp_keyrow);
	sqlite3_stmt *ins = store_stmt(eng.st, "INSERT INTO search_suggest (prefix, phrase, weight) VALUES (?1, ?2, ?3)",
	                               &s->err);
	int rc = ins ? 0 : s->err.code;
	size_t kept = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		int same = i && rows[i].klen == rows[i - 1].klen && !memcmp(rows[i].phrase, rows[i - 1].phrase, rows[i].klen);
		kept = same ? kept + 1 : 0;
		if (kept >= KEEP_PER_KEY)
			continue;
		if (!same)
			(*keys)++;
		sqlite3_bind_text(ins, 1, rows[i].phrase, rows[i].klen, SQLITE_STATIC);
		sqlite3_bind_text(ins, 2, rows[i].phrase, -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 3, rows[i].weight);
		rc = store_done(eng.st, ins, &s->err, "reindex");
	}
	free(rows);
	return rc;
}

/* The suggestion table from the title phrases and the logged queries. */
static int build_suggest(shop *s, int64_t *products, size_t *phrases_n, int64_t *keys)
{
	phrases ps = {0};
	int rc = collect_phrases(s, &ps, products);
	if (!rc)
		rc = write_suggest(s, &ps, keys);
	*phrases_n = ps.t.n;
	strtab_free(&ps.t);
	free(ps.w);
	return rc;
}

int search_reindex(shop *s, shop_emit emit, void *arg)
{
	if (engine_open(s) || store_begin(eng.st, &s->err))
		return s->err.code;
	static const char rebuild[] =
		"DELETE FROM search_pending;"
		"INSERT INTO search_fts (search_fts) VALUES ('delete-all');"
		"INSERT INTO search_fts (rowid, title, brand, category, body) "
		"SELECT key, title, brand, category, body FROM search_source;"
		"INSERT INTO search_fts (search_fts) VALUES ('optimize');";
	int rc = sqlite3_exec(eng.db, rebuild, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		rc = store_fail_rc(eng.st, rc, &s->err, "reindex");
	int64_t products = 0, keys = 0;
	size_t nph = 0;
	if (!rc)
		rc = build_words(s, &products, &nph, &keys);
	if (!rc)
		rc = store_commit(eng.st, &s->err);
	else
		store_rollback(eng.st);
	if (cli_progress_ok())
		cli_progress("reindex", (size_t)products, 0, 1);
	if (!rc) {
		jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("index"));
		rec = jv_object_set(rec, jv_string("products"), jv_number((double)products));
		rec = jv_object_set(rec, jv_string("phrases"), jv_number((double)nph));
		rec = jv_object_set(rec, jv_string("prefixes"), jv_number((double)keys));
		emit(arg, rec);
	}
	engine_close();
	return rc;
}

int search_sync(store *st, void *arg, shop_err *e)
{
	(void)arg;
	sqlite3_stmt *q = store_stmt(st, "SELECT 1 FROM search_pending LIMIT 1", e);
	if (!q)
		return e->code;
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_fail_rc(st, rc, e, "search: sync");
	sqlite3_stmt *mv = store_stmt(st,
	                              "INSERT INTO search_fts (search_fts, rowid, title, brand, category, body) "
	                              "SELECT CASE WHEN del THEN 'delete' END, key, title, brand, category, body "
	                              "FROM search_pending ORDER BY seq",
	                              e);
	if (!mv || store_done(st, mv, e, "search: sync"))
		return e->code;
	sqlite3_stmt *rm = store_stmt(st, "DELETE FROM search_pending", e);
	if (!rm || store_done(st, rm, e, "search: sync"))
		return e->code;
	return 0;
}

/* ---- judgments: train and eval ---- */

typedef struct judged {
	int64_t id;
	int label;
} judged;

typedef struct jquery {
	char *text;
	judged *j;
	size_t n;
} jquery;

typedef struct judgments {
	jquery *q;
	size_t n;
	size_t unknown; /* lines whose sku is not in the catalog */
} judgments;

static void judgments_free(judgments *js)
{
	for (size_t i = 0; i < js->n; i++) {
		free(js->q[i].text);
		free(js->q[i].j);
	}
	free(js->q);
}

/* Read {query, sku, label} lines (label also as rating, 0..10), grouped
 * by query in the order of first appearance. */
static int judgments_read(shop *s, const char *path, judgments *js)
{
	memset(js, 0, sizeof *js);
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return err_set(&s->err, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	const char *name = strcmp(path, "-") ? path : "stdin";
	jsonl_reader *rd = jsonl_reader_new(f, name, s->max_line);
	sqlite3_stmt *id = store_stmt(eng.st, "SELECT id FROM product WHERE sku = ?1", &s->err);
	jv rec;
	int rc = id ? 0 : s->err.code, more;
	while (!rc && (more = jsonl_next(rd, &rec, &s->err)) > 0) {
		size_t line = jsonl_lineno(rd);
		if (jv_get_kind(rec) != JV_KIND_OBJECT) {
			err_set(&s->err, SHOP_DATAERR, "%s:%zu: expected an object, got %s", name, line, jv_kind_text(rec));
			jv_free(rec);
			rc = SHOP_DATAERR;
			break;
		}
		const char *qt = rec_str(rec, "query", &s->err), *sku = NULL;
		if (!qt && !s->err.code)
			err_set(&s->err, SHOP_DATAERR, "field 'query' is required");
		if (qt && !(sku = rec_str(rec, "sku", &s->err)) && !s->err.code)
			err_set(&s->err, SHOP_DATAERR, "field 'sku' is required");
		int64_t label = -1;
		jv lv = rec_field(rec, "label");
		const char *lk = jv_get_kind(lv) == JV_KIND_NULL ? "rating" : "label";
		jv_free(lv);
		int got = sku ? rec_int(rec, lk, &label, &s->err) : -1;
		if (got == 0)
			err_set(&s->err, SHOP_DATAERR, "field 'label' is required: a grade from 0 to 10");
		else if (got == 1 && (label < 0 || label > 10))
			err_set(&s->err, SHOP_DATAERR, "field '%s': %lld is not a grade from 0 to 10", lk, (long long)label);
		if (s->err.code) {
			err_prefix(&s->err, "%s:%zu: ", name, line);
			rc = SHOP_DATAERR;
			s->err.code = rc;
			jv_free(rec);
			break;
		}
		store_bind_text(id, 1, sku);
		int64_t pid = sqlite3_step(id) == SQLITE_ROW ? sqlite3_column_int64(id, 0) : -1;
		sqlite3_reset(id);
		if (pid < 0) {
			js->unknown++;
			jv_free(rec);
			continue;
		}
		size_t k = 0;
		while (k < js->n && strcmp(js->q[k].text, qt))
			k++;
		if (k == js->n) {
			js->q = xrealloc(js->q, (js->n + 1) * sizeof *js->q);
			js->q[js->n++] = (jquery){xstrdup(qt), NULL, 0};
		}
		jquery *jq = &js->q[k];
		jq->j = xrealloc(jq->j, (jq->n + 1) * sizeof *jq->j);
		jq->j[jq->n++] = (judged){pid, (int)label};
		jv_free(rec);
	}
	if (!rc && more < 0)
		rc = s->err.code;
	jsonl_reader_free(rd);
	if (f != stdin)
		fclose(f);
	if (rc)
		judgments_free(js);
	else if (js->unknown)
		shop_note(s, "%s: %zu judgments name skus that are not in the catalog: skipped", name, js->unknown);
	return rc;
}

static int label_of(const jquery *jq, int64_t id)
{
	for (size_t i = 0; i < jq->n; i++)
		if (jq->j[i].id == id)
			return jq->j[i].label;
	return -1;
}

static int cmp_int_desc(const void *a, const void *b)
{
	return *(const int *)b - *(const int *)a;
}

/* nDCG@10 and the reciprocal rank of q's ranking against its judgments;
 * *ideal 0 when the query has no label above 0. */
static void score_query(const jquery *jq, const query *q, double *ndcg, double *rr, double *ideal)
{
	double dcg = 0, idcg = 0;
	*rr = 0;
	for (size_t i = 0; i < q->nc && i < 10; i++) {
		int l = label_of(jq, q->c[i].id);
		if (l > 0)
			dcg += (pow(2, l) - 1) / log2((double)i + 2);
		if (l >= 2 && *rr == 0)
			*rr = 1.0 / ((double)i + 1);
	}
	int *labels = xmalloc(jq->n * sizeof *labels);
	for (size_t i = 0; i < jq->n; i++)
		labels[i] = jq->j[i].label;
	qsort(labels, jq->n, sizeof *labels, cmp_int_desc);
	for (size_t i = 0; i < jq->n && i < 10; i++)
		if (labels[i] > 0)
			idcg += (pow(2, labels[i]) - 1) / log2((double)i + 2);
	free(labels);
	*ideal = idcg;
	*ndcg = idcg > 0 ? dcg / idcg : 0;
}

static double round4(double x)
{
	return round(x * 1e4) / 1e4;
}

/* Mean nDCG@10, MRR and zero-result rate of model m over js; per query
 * records to emit when verbose. */
static int evaluate(shop *s, const judgments *js, const model *m, int verbose, shop_emit emit, void *arg,
                    double *ndcg, double *mrr, double *zero, size_t *counted)
{
	double sn = 0, sr = 0;
	size_t zeros = 0, n = 0;
	for (size_t i = 0; i < js->n; i++) {
		search_req r = {.text = js->q[i].text, .price_min = -1, .price_max = -1};
		query q;
		store_read(eng.st, eng.err);
		int bad = run_query(s, &r, m, &q, 10);
		store_read_end(eng.st);
		if (bad) {
			query_free(&q);
			return s->err.code;
		}
		double nd, rr, ideal;
		score_query(&js->q[i], &q, &nd, &rr, &ideal);
		zeros += q.nc == 0;
		if (ideal > 0) {
			sn += nd;
			sr += rr;
			n++;
		}
		if (verbose) {
			jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("eval_query"));
			rec = jv_object_set(rec, jv_string("query"), jv_string(js->q[i].text));
			rec = jv_object_set(rec, jv_string("ndcg10"), jv_number(round4(nd)));
			rec = jv_object_set(rec, jv_string("rr"), jv_number(round4(rr)));
			rec = jv_object_set(rec, jv_string("results"), jv_number((double)q.nc));
			rec = jv_object_set(rec, jv_string("judged"), jv_number((double)js->q[i].n));
			if (!(ideal > 0))
				rec = jv_object_set(rec, jv_string("skipped"), jv_true());
			emit(arg, rec);
		}
		query_free(&q);
	}
	*ndcg = n ? sn / (double)n : 0;
	*mrr = n ? sr / (double)n : 0;
	*zero = js->n ? (double)zeros / (double)js->n : 0;
	*counted = n;
	return 0;
}

int search_eval(shop *s, const char *path, int verbose, int untrained, shop_emit emit, void *arg)
{
	judgments js;
	model m;
	if (engine_open(s) || judgments_read(s, path, &js))
		return s->err.code;
	/* Only a good file may build what a first query builds. */
	if (prepare(s)) {
		judgments_free(&js);
		return s->err.code;
	}
	int rc = untrained ? (model_default(&m), 0) : model_load(s, &m);
	double nd = 0, mrr = 0, zero = 0;
	size_t n = 0;
	if (!rc)
		rc = evaluate(s, &js, &m, verbose, emit, arg, &nd, &mrr, &zero, &n);
	if (!rc) {
		jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("eval"));
		rec = jv_object_set(rec, jv_string("queries"), jv_number((double)n));
		rec = jv_object_set(rec, jv_string("ndcg10"), jv_number(round4(nd)));
		rec = jv_object_set(rec, jv_string("mrr"), jv_number(round4(mrr)));
		rec = jv_object_set(rec, jv_string("zero_result_rate"), jv_number(round4(zero)));
		rec = jv_object_set(rec, jv_string("model"), jv_string(m.trained ? "trained" : "default"));
		emit(arg, rec);
	}
	judgments_free(&js);
	engine_close();
	return rc;
}

/* Training examples: the re-ranked candidates of each judged query that
 * have a judgment, their features and labels. */
typedef struct example {
	double f[NFEAT];
	int label;
	size_t query;
} example;

int search_train(shop *s, const char *path, shop_emit emit, void *arg)
{
	judgments js;
	if (engine_open(s) || judgments_read(s, path, &js))
		return s->err.code;
	/* Only a good file may build what a first query builds. */
	if (prepare(s)) {
		judgments_free(&js);
		return s->err.code;
	}
	model base;
	model_default(&base);
	example *ex = NULL;
	size_t nex = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < js.n; i++) {
		search_req r = {.text = js.q[i].text, .price_min = -1, .price_max = -1};
		query q;
		store_read(eng.st, eng.err);
		rc = run_query(s, &r, &base, &q, RERANK);
		store_read_end(eng.st);
		for (size_t k = 0; !rc && k < q.nc && k < RERANK; k++) {
			/* A candidate nobody judged counts as not relevant, as
			 * eval counts it: the model must learn to keep it down. */
			int l = label_of(&js.q[i], q.c[k].id);
			if (l < 0)
				l = 0;
			if (nex == cap) {
				cap = cap ? cap * 2 : 1024;
				ex = xrealloc(ex, cap * sizeof *ex);
			}
			memcpy(ex[nex].f, q.c[k].f, sizeof ex[nex].f);
			ex[nex].label = l;
			ex[nex++].query = i;
		}
		query_free(&q);
	}
	/* Standardize; pairs of the same query with different labels. */
	model m;
	memset(&m, 0, sizeof m);
	for (int f = 0; f < NFEAT; f++) {
		double sum = 0, sq = 0;
		for (size_t i = 0; i < nex; i++)
			sum += ex[i].f[f];
		m.mean[f] = nex ? sum / (double)nex : 0;
		for (size_t i = 0; i < nex; i++)
			sq += (ex[i].f[f] - m.mean[f]) * (ex[i].f[f] - m.mean[f]);
		m.sd[f] = nex > 1 ? sqrt(sq / (double)(nex - 1)) : 1;
		if (!(m.sd[f] > 1e-9))
			m.sd[f] = 1;
	}
	size_t npairs = 0, pcap = 0, *qpairs = xcalloc(js.n ? js.n : 1, sizeof *qpairs);
	size_t(*pairs)[2] = NULL;
	for (size_t i = 0; !rc && i < nex; i++)
		for (size_t j = i + 1; j < nex && ex[j].query == ex[i].query; j++) {
			if (ex[i].label == ex[j].label)
				continue;
			if (npairs == pcap) {
				pcap = pcap ? pcap * 2 : 4096;
				pairs = xrealloc(pairs, pcap * sizeof *pairs);
			}
			int hi = ex[i].label > ex[j].label;
			pairs[npairs][0] = hi ? i : j;
			pairs[npairs++][1] = hi ? j : i;
			qpairs[ex[i].query]++;
		}
	if (!rc && !npairs)
		rc = err_set(&s->err, SHOP_DATAERR, "train: %s: no query has two found products with different labels",
		             path);
	/* Pairwise logistic loss (RankNet with a linear scorer), L2, plain
	 * gradient descent from the built-in weights. */
	if (!rc) {
		double *x = xmalloc(nex * NFEAT * sizeof *x), g[NFEAT];
		for (size_t i = 0; i < nex; i++)
			for (int f = 0; f < NFEAT; f++)
				x[i * NFEAT + f] = (ex[i].f[f] - m.mean[f]) / m.sd[f];
		for (int f = 0; f < NFEAT; f++)
			m.w[f] = default_w[f] * m.sd[f];
		/* Each pair weighs the difference of its gains (2^label - 1,
		 * as nDCG counts them), and each query the same in all. */
		double *pw = xmalloc(npairs * sizeof *pw), wsum = 0;
		for (size_t p = 0; p < npairs; p++) {
			const example *a = &ex[pairs[p][0]], *b = &ex[pairs[p][1]];
			pw[p] = (pow(2, a->label) - pow(2, b->label)) / (double)qpairs[a->query];
			wsum += pw[p];
		}
		/* L2 toward the built-in weights, not toward 0: with a few dozen
		 * queries the prior is worth more than a feature's noise. */
		double prior[NFEAT];
		for (int f = 0; f < NFEAT; f++)
			prior[f] = m.w[f];
		const double lambda = 0.2;
		const double lr = 1.0;
		for (int it = 0; it < 500; it++) {
			memset(g, 0, sizeof g);
			for (size_t p = 0; p < npairs; p++) {
				const double *a = x + pairs[p][0] * NFEAT, *b = x + pairs[p][1] * NFEAT;
				double d = 0;
				for (int f = 0; f < NFEAT; f++)
					d += m.w[f] * (a[f] - b[f]);
				double sig = pw[p] / (1.0 + exp(d)); /* -dloss/dd, weighted */
				for (int f = 0; f < NFEAT; f++)
					g[f] -= sig * (a[f] - b[f]);
			}
			for (int f = 0; f < NFEAT; f++)
				m.w[f] -= lr * (g[f] / wsum + lambda * (m.w[f] - prior[f]));
		}
		free(pw);
		free(x);
		m.trained = 1;
	}
	free(pairs);
	free(qpairs);
	free(ex);
	/* Training nDCG before and after, then store. */
	double before = 0, after = 0, mrr, zero;
	size_t n;
	if (!rc)
		rc = evaluate(s, &js, &base, 0, emit, arg, &before, &mrr, &zero, &n);
	if (!rc)
		rc = evaluate(s, &js, &m, 0, emit, arg, &after, &mrr, &zero, &n);
	jv mj = jv_object(), names = jv_array(), w = jv_array(), mean = jv_array(), sd = jv_array();
	for (int f = 0; f < NFEAT; f++) {
		names = jv_array_append(names, jv_string(feat_names[f]));
		w = jv_array_append(w, jv_number(m.w[f]));
		mean = jv_array_append(mean, jv_number(m.mean[f]));
		sd = jv_array_append(sd, jv_number(m.sd[f]));
	}
	mj = jv_object_set(mj, jv_string("features"), names);
	mj = jv_object_set(mj, jv_string("w"), w);
	mj = jv_object_set(mj, jv_string("mean"), mean);
	mj = jv_object_set(mj, jv_string("sd"), sd);
	if (!rc && !store_begin(eng.st, &s->err)) {
		buf b = {0};
		json_dump(mj, &b);
		char now[32];
		clock_now_text(now);
		sqlite3_stmt *up = store_stmt(eng.st,
		                              "INSERT INTO search_model (id, model, trained_at) VALUES (1, ?1, ?2) "
		                              "ON CONFLICT (id) DO UPDATE SET model = ?1, trained_at = ?2",
		                              &s->err);
		if (up) {
			store_bind_text(up, 1, buf_str(&b));
			store_bind_text(up, 2, now);
			rc = store_done(eng.st, up, &s->err, "train");
		} else
			rc = s->err.code;
		rc = rc ? (store_rollback(eng.st), rc) : store_commit(eng.st, &s->err);
		buf_free(&b);
	} else if (!rc)
		rc = s->err.code;
	if (!rc) {
		jv weights = jv_object();
		for (int f = 0; f < NFEAT; f++)
			weights = jv_object_set(weights, jv_string(feat_names[f]), jv_number(round4(m.w[f] / m.sd[f])));
		jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("model"));
		rec = jv_object_set(rec, jv_string("queries"), jv_number((double)js.n));
		rec = jv_object_set(rec, jv_string("pairs"), jv_number((double)npairs));
		rec = jv_object_set(rec, jv_string("ndcg10_default"), jv_number(round4(before)));
		rec = jv_object_set(rec, jv_string("ndcg10_trained"), jv_number(round4(after)));
		rec = jv_object_set(rec, jv_string("weights"), weights);
		emit(arg, rec);
	}
	jv_free(mj);
	judgments_free(&js);
	engine_close();
	return rc;
}

/* ---- timing ---- */

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int search_time(shop *s, FILE *f, const char *name, int suggest, shop_emit emit, void *arg)
{
	model m;
	if (engine_open(s) || prepare(s) || model_load(s, &m))
		return s->err.code;
	sqlite3_stmt *doc = store_stmt(eng.st, "SELECT doc FROM product WHERE id = ?1", &s->err);
	if (!doc)
		return s->err.code;
	double *ms = NULL;
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t lcap = 0;
	ssize_t len;
	int rc = 0;
	while (!rc && (len = getline(&line, &lcap, f)) >= 0) {
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (!len)
			continue;
		double t0 = now_ms();
		if (store_read(eng.st, eng.err)) {
			rc = s->err.code;
			break;
		}
		if (suggest) {
			char *p = normalize(line, 1);
			if (p && suggest_lookup(s, p, DEFAULT_LIMIT, NULL, NULL) < 0)
				rc = s->err.code;
			free(p);
		} else {
			search_req r = {.text = line, .price_min = -1, .price_max = -1};
			query q;
			rc = run_query(s, &r, &m, &q, DEFAULT_LIMIT);
			for (size_t i = 0; !rc && i < q.nc && i < DEFAULT_LIMIT; i++) {
				sqlite3_bind_int64(doc, 1, q.c[i].id);
				sqlite3_step(doc);
				sqlite3_reset(doc);
			}
			query_free(&q);
		}
		store_read_end(eng.st);
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ms = xrealloc(ms, cap * sizeof *ms);
		}
		ms[n++] = now_ms() - t0;
	}
	free(line);
	if (!rc && ferror(f))
		rc = err_set(&s->err, SHOP_IOERR, "%s: read error", name);
	if (!rc) {
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += ms[i];
		if (n)
			qsort(ms, n, sizeof *ms, cmp_double);
#define PCT(p) (n ? round4(ms[(size_t)ceil((p) * (double)n) - 1]) : 0)
		jv rec = jv_object_set(jv_object(), jv_string("kind"), jv_string("timing"));
		rec = jv_object_set(rec, jv_string("queries"), jv_number((double)n));
		rec = jv_object_set(rec, jv_string("p50_ms"), jv_number(PCT(0.50)));
		rec = jv_object_set(rec, jv_string("p95_ms"), jv_number(PCT(0.95)));
		rec = jv_object_set(rec, jv_string("p99_ms"), jv_number(PCT(0.99)));
		rec = jv_object_set(rec, jv_string("mean_ms"), jv_number(n ? round4(sum / (double)n) : 0));
#undef PCT
		emit(arg, rec);
	}
	free(ms);
	engine_close();
	return rc;
}

int search_sold(shop *s, const char *sku, int64_t qty, shop_err *e)
{
	sqlite3_stmt *q = store_stmt(s->st,
	                             "INSERT INTO search_pop (sku, sold) VALUES (?1, ?2) "
	                             "ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold",
	                             e);
	if (!q)
		return e->code;
	store_bind_text(q, 1, sku);
	sqlite3_bind_int64(q, 2, qty);
	return store_done(s->st, q, e, "search_pop");
}
