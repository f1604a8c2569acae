/* shop-search: find products; suggest; reindex; train and evaluate the
 * ranker. Options and printing only; the search lives in lib/search.c.
 * `shop-search WORDS...` is `shop-search query WORDS...` (the default
 * command of cli.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jsonl.h"
#include "base/money.h"
#include "search.h"

static const char *const product_cols[] = {"sku", "title", "brand", "category", "price", "currency", "score",
                                           NULL};

/* --price-min/--price-max: minor units, or a decimal in the shop's
 * currency. */
static int price_arg(shop *s, cli_args *a, const char *opt, int64_t *out)
{
	const char *v = cli_get(a, opt);
	*out = -1;
	if (!v)
		return 0;
	shop_err me = {0};
	int bad = strchr(v, '.') ? money_parse_decimal(v, currency_find(s->currency), out, &me) : parse_i64(v, out);
	if (bad || *out < 0)
		return err_set(&s->err, SHOP_USAGE, "--%s '%s': expected minor units or a decimal amount, 0 or more", opt,
		               v);
	return 0;
}

static int cmd_query(void *ctx, cli_args *a)
{
	shop *s = ctx;
	if (!a->argc)
		return err_set(&s->err, SHOP_USAGE, "query: give the words to search for");
	if (s->table && cli_has(a, "facets"))
		return err_set(&s->err, SHOP_USAGE, "--facets prints records of their own: use it without --table");
	search_req r = {0};
	buf text = {0};
	for (int i = 0; i < a->argc; i++) {
		if (i)
			buf_addc(&text, ' ');
		buf_adds(&text, a->argv[i]);
	}
	r.text = buf_str(&text);
	r.category = cli_get(a, "category");
	r.brand = cli_get(a, "brand");
	r.in_stock = cli_has(a, "in-stock");
	r.facets = cli_has(a, "facets");
	r.explain = cli_has(a, "explain");
	r.log = !cli_has(a, "no-log");
	int rc = price_arg(s, a, "price-min", &r.price_min) || price_arg(s, a, "price-max", &r.price_max) ||
	         cli_get_count(a, "limit", 0, &r.limit, &s->err) || cli_get_count(a, "offset", 0, &r.offset, &s->err);
	if (!rc && (r.limit > 1000 || (cli_get(a, "limit") && r.limit == 0)))
		rc = err_set(&s->err, SHOP_USAGE, "--limit: 1 to 1000");
	if (!rc && r.offset > 1000000)
		rc = err_set(&s->err, SHOP_USAGE, "--offset: at most 1000000");
	if (!rc) {
		jsonl_out_columns(product_cols);
		rc = search_query(s, &r, shop_out, NULL);
	}
	buf_free(&text);
	return rc ? s->err.code : 0;
}

static int cmd_suggest(void *ctx, cli_args *a)
{
	shop *s = ctx;
	long long limit;
	if (cli_get_count(a, "limit", 10, &limit, &s->err))
		return s->err.code;
	if (limit < 1 || limit > 100)
		return err_set(&s->err, SHOP_USAGE, "--limit: 1 to 100");
	static const char *const cols[] = {"text", "score", NULL};
	jsonl_out_columns(cols);
	return search_suggest(s, a->argv[0], limit, shop_out, NULL);
}

static int cmd_reindex(void *ctx, cli_args *a)
{
	(void)a;
	return search_reindex(ctx, shop_out, NULL);
}

static const char *judgments_arg(shop *s, cli_args *a, const char *cmd)
{
	const char *p = cli_get(a, "judgments");
	if (!p)
		err_set(&s->err, SHOP_USAGE, "%s: --judgments FILE is required (- for stdin)", cmd);
	return p;
}

static int cmd_train(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *p = judgments_arg(s, a, "train");
	return p ? search_train(s, p, shop_out, NULL) : s->err.code;
}

static int cmd_eval(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *p = judgments_arg(s, a, "eval");
	return p ? search_eval(s, p, cli_has(a, "verbose"), cli_has(a, "untrained"), shop_out, NULL) : s->err.code;
}

static int cmd_time(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *path = a->argc ? a->argv[0] : "-";
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return err_set(&s->err, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	int rc = search_time(s, f, strcmp(path, "-") ? path : "stdin", cli_has(a, "suggest"), shop_out, NULL);
	if (f != stdin)
		fclose(f);
	return rc;
}

static const cli_opt query_opts[] = {
	{"category", 0, "C", "only products of this category (exact, any case)"},
	{"brand", 0, "B", "only products of this brand (exact, any case)"},
	{"price-min", 0, "N", "only products that cost N or more (minor units, or 19.99)"},
	{"price-max", 0, "N", "only products that cost N or less"},
	{"in-stock", 0, NULL, "only products with units available in some warehouse"},
	{"limit", 'n', "N", "at most N products (default 10, at most 1000)"},
	{"offset", 0, "N", "skip the first N products"},
	{"facets", 0, NULL, "also print counts per brand and category of every match"},
	{"explain", 0, NULL, "add each product's ranking features and their weights"},
	{"no-log", 0, NULL, "do not log the query for suggestions"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt suggest_opts[] = {
	{"limit", 'n', "N", "at most N completions (default 10)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt train_opts[] = {
	{"judgments", 0, "FILE", "{query, sku, label} lines (- for stdin); required"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt eval_opts[] = {
	{"judgments", 0, "FILE", "{query, sku, label} lines (- for stdin); required"},
	{"verbose", 'v', NULL, "also one record per query"},
	{"untrained", 0, NULL, "rank with the built-in weights, not the trained model"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt time_opts[] = {
	{"suggest", 0, NULL, "time suggest PREFIX, not queries"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"query", "WORDS...", "products that match the words, best first", query_opts, cmd_query, 0, -1},
	{"suggest", "PREFIX", "completions of a prefix, most popular first", suggest_opts, cmd_suggest, 1, 1},
	{"reindex", "", "rebuild the index and the suggestions from the catalog", NULL, cmd_reindex, 0, 0},
	{"train", "", "fit the re-ranker to graded judgments", train_opts, cmd_train, 0, 0},
	{"eval", "", "nDCG@10, MRR and zero-result rate over judgments", eval_opts, cmd_eval, 0, 0},
	{"time", "[FILE]", "latency of queries (one per line) in this process", time_opts, cmd_time, 0, 1},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

static const cli_tool tool = {"shop-search", "find products: search, suggest, facets, a learned ranker",
                              shop_global_opts, cmds, "query"};

int main(int argc, char **argv)
{
	return shop_main(&tool, argc, argv);
}
