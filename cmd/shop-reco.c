/* shop-reco: recommendations. Options and records only; the batch job and
 * the lookups live in lib/reco.c. */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonl.h"
#include "reco.h"

static const char *const reco_cols[] = {"sku", "title", "score", "reason", NULL};
static const char *const build_cols[] = {"built_at", "since", "orders", "customers", "items", "products",
                                         "pairs", "bought", "similar", NULL};
static const char *const eval_cols[] = {"method", "at", "customers", "skipped", "hits", "hit_rate", "recall",
                                        NULL};

/* --top K, --since T of build and eval. */
static int build_args(shop *s, cli_args *a, reco_build_opts *o)
{
	o->since = cli_get(a, "since");
	if (cli_get_count(a, "top", 0, &o->top, &s->err))
		return s->err.code;
	if (cli_get(a, "top") && (o->top < 1 || o->top > 1000))
		return err_set(&s->err, SHOP_USAGE, "--top: 1 to 1000 neighbours");
	return 0;
}

/* --limit N, --in-stock, --half-life D of the requests and eval. */
static int req_args(shop *s, cli_args *a, reco_req *r)
{
	memset(r, 0, sizeof *r);
	r->in_stock = cli_has(a, "in-stock");
	if (cli_get_count(a, "limit", 0, &r->limit, &s->err))
		return s->err.code;
	if (cli_get(a, "limit") && (r->limit < 1 || r->limit > 1000))
		return err_set(&s->err, SHOP_USAGE, "--limit: 1 to 1000");
	const char *hl = cli_get(a, "half-life");
	if (hl && (clock_parse_duration(hl, &r->half_life_ms) || r->half_life_ms <= 0))
		return err_set(&s->err, SHOP_USAGE, "--half-life: '%s' is not a duration (such as 30d, 12w)", hl);
	return 0;
}

static int cmd_build(void *ctx, cli_args *a)
{
	shop *s = ctx;
	reco_build_opts o = {0};
	if (build_args(s, a, &o))
		return s->err.code;
	jsonl_out_columns(build_cols);
	return reco_build(s, &o, shop_out, NULL);
}

typedef int (*item_fn)(shop *, const char *, const reco_req *, shop_emit, void *);

typedef struct each {
	item_fn fn;
	reco_req r;
} each;

static int one(shop *s, const char *id, void *arg)
{
	each *e = arg;
	return e->fn(s, id, &e->r, shop_out, NULL);
}

static int run_each(shop *s, cli_args *a, item_fn fn, const char *what, const char *key)
{
	each e = {fn, {0}};
	if (req_args(s, a, &e.r))
		return s->err.code;
	jsonl_out_columns(reco_cols);
	return shop_each_id(s, a, 0, a->argc, what, key, NULL, one, &e);
}

static int cmd_also_bought(void *ctx, cli_args *a)
{
	return run_each(ctx, a, reco_also_bought, "SKU", "sku");
}

static int cmd_similar(void *ctx, cli_args *a)
{
	return run_each(ctx, a, reco_similar, "SKU", "sku");
}

static int cmd_for(void *ctx, cli_args *a)
{
	return run_each(ctx, a, reco_for, "CUSTOMER", "customer");
}

static int cmd_eval(void *ctx, cli_args *a)
{
	shop *s = ctx;
	reco_build_opts o = {0};
	reco_req r;
	if (build_args(s, a, &o) || req_args(s, a, &r))
		return s->err.code;
	jsonl_out_columns(eval_cols);
	return reco_eval(s, &o, &r, shop_out, NULL);
}

static const cli_opt build_opts[] = {
	{"since", 0, "T", "only orders created at or after T (RFC 3339)"},
	{"top", 0, "K", "neighbours kept per item (default 30)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt item_opts[] = {
	{"limit", 'n', "N", "at most N records (default 10)"},
	{"in-stock", 0, NULL, "only products in stock"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt for_opts[] = {
	{"limit", 'n', "N", "at most N records (default 10)"},
	{"half-life", 0, "D", "recency: a purchase D older weighs half (default 60d)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt eval_opts[] = {
	{"since", 0, "T", "only orders created at or after T (RFC 3339)"},
	{"top", 0, "K", "neighbours kept per item (default 30)"},
	{"limit", 'n', "N", "the cut: hit rate and recall at N (default 10)"},
	{"half-life", 0, "D", "recency: a purchase D older weighs half (default 60d)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"build", "", "the batch job: neighbours of every item, from orders and the catalog", build_opts, cmd_build,
	 0, 0},
	{"also-bought", "[SKU...]", "customers who bought this also bought", item_opts, cmd_also_bought, 0, -1},
	{"similar", "[SKU...]", "products like this one, by title, brand and category", item_opts, cmd_similar, 0,
	 -1},
	{"for", "[CUSTOMER...]", "for a customer, from what they bought; popular items for a new one", for_opts,
	 cmd_for, 0, -1},
	{"eval", "", "hit rate and recall on each customer's last order held out", eval_opts, cmd_eval, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-reco", "recommendations: similar items, bought together, for a customer", cmds)
