/* shop-inv: stock per SKU per warehouse, reservations, the ledger.
 * Options and records only; the inventory lives in lib/inv.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/jqx.h"
#include "base/jsonl.h"
#include "inv.h"

static const char *const stock_cols[] = {"sku", "warehouse", "on_hand", "reserved", "available", "version", NULL};
static const char *const res_cols[] = {"order_id", "sku", "warehouse", "qty", "state", "expires_at", "id", NULL};

/* A quantity operand: digits only (a sign where allowed), within limits. */
static int qty_arg(shop *s, const char *what, const char *v, int signed_ok, int64_t *q)
{
	const char *d = v + (signed_ok && (*v == '+' || *v == '-'));
	int64_t n;
	if (!(*d >= '0' && *d <= '9') || parse_i64(*v == '+' ? v + 1 : v, &n) || n > 1000000000LL ||
	    n < -1000000000LL)
		return err_set(&s->err, SHOP_DATAERR, "%s: '%s' is not a whole number of units", what, v);
	*q = n;
	return 0;
}

static int cmd_set(void *ctx, cli_args *a)
{
	shop *s = ctx;
	int64_t q;
	if (qty_arg(s, "QTY", a->argv[2], 0, &q))
		return s->err.code;
	const char *actor = cli_get(a, "actor");
	jsonl_out_columns(stock_cols);
	return inv_set(s, a->argv[0], a->argv[1], q, actor ? actor : "operator", shop_out, NULL);
}

/* An adjustment record: {sku, warehouse, delta, reason, actor?}. Strings
 * borrowed from rec. */
static int adjust_record(jv rec, const char *actor, inv_adjust *adj, shop_err *e)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return err_set(e, SHOP_DATAERR, "expected an adjustment record (an object), got %s", jv_kind_text(rec));
	adj->sku = rec_str(rec, "sku", e);
	adj->warehouse = rec_str(rec, "warehouse", e);
	adj->reason = rec_str(rec, "reason", e);
	const char *who = rec_str(rec, "actor", e);
	adj->actor = who ? who : actor;
	int has = rec_int(rec, "delta", &adj->delta, e);
	if (e->code)
		return e->code;
	if (!adj->sku || !*adj->sku)
		return err_set(e, SHOP_DATAERR, "field 'sku': missing");
	if (!adj->warehouse || !*adj->warehouse)
		return err_set(e, SHOP_DATAERR, "field 'warehouse': missing");
	if (!adj->reason || !*adj->reason)
		return err_set(e, SHOP_DATAERR, "field 'reason': missing (say why stock moves)");
	if (has <= 0)
		return err_set(e, SHOP_DATAERR, "field 'delta': missing");
	if (adj->delta == 0 || adj->delta > 1000000000LL || adj->delta < -1000000000LL)
		return err_set(e, SHOP_DATAERR, "field 'delta': %lld is not a change (nonzero, at most 10^9)",
		               (long long)adj->delta);
	return 0;
}

static int cmd_adjust(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *actor = cli_get(a, "actor");
	if (!actor)
		actor = "operator";
	jsonl_out_columns(stock_cols);
	if (a->argc > 0) {
		if (a->argc != 3)
			return err_set(&s->err, SHOP_USAGE, "adjust: usage: shop-inv adjust SKU WAREHOUSE +-N --reason R");
		const char *reason = cli_get(a, "reason");
		if (!reason || !*reason)
			return err_set(&s->err, SHOP_USAGE, "adjust: --reason R is required (say why stock moves)");
		inv_adjust adj = {a->argv[0], a->argv[1], reason, actor, 0};
		if (qty_arg(s, "N", a->argv[2], 1, &adj.delta))
			return s->err.code;
		if (adj.delta == 0)
			return err_set(&s->err, SHOP_DATAERR, "N: 0 is not a change");
		return inv_adjust_all(s, &adj, 1, NULL, NULL, shop_out, NULL);
	}
	if (isatty(0))
		return err_set(&s->err, SHOP_USAGE, "adjust: give SKU WAREHOUSE +-N, or adjustment records on stdin");
	/* All or nothing: every record is read and checked before any is applied. */
	jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
	jv recs = jv_array();
	inv_adjust *adj = NULL;
	size_t *lines = NULL, n = 0;
	jv rec;
	int got;
	while ((got = jsonl_next(r, &rec, &s->err)) > 0) {
		recs = jv_array_append(recs, rec);
		adj = xrealloc(adj, (n + 1) * sizeof *adj);
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		lines[n] = jsonl_lineno(r);
		shop_err ae = {0};
		/* rec lives on in recs, so the borrowed strings stay valid. */
		if (adjust_record(rec, actor, &adj[n], &ae)) {
			err_set(&s->err, ae.code, "stdin:%zu: %s", lines[n], ae.msg);
			break;
		}
		n++;
	}
	jsonl_reader_free(r);
	int rc = s->err.code ? s->err.code : inv_adjust_all(s, adj, n, shop_line_label, lines, shop_out, NULL);
	jv_free(recs);
	free(adj);
	free(lines);
	return rc;
}

static int show_one(shop *s, const char *sku, void *arg)
{
	(void)arg;
	return shop_report(s, inv_show(s, sku, shop_out, NULL));
}

static int cmd_show(void *ctx, cli_args *a)
{
	jsonl_out_columns(stock_cols);
	return shop_each_id(ctx, a, 0, a->argc, "SKU", "sku", NULL, show_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	shop *s = ctx;
	long long low = -1;
	if (cli_has(a, "low") && cli_get_count(a, "low", -1, &low, &s->err))
		return s->err.code;
	jqx *where = NULL;
	const char *w = cli_get(a, "where");
	if (w && !(where = jqx_compile(w, "--where", &s->err)))
		return s->err.code;
	const char *wh = cli_get(a, "warehouse");
	jsonl_out_columns(stock_cols);
	int rc = wh && !shop_warehouse(s, wh) ? err_set(&s->err, SHOP_NOTFOUND, "warehouse '%s': not in the config", wh)
	                                      : inv_list(s, low, wh, where, shop_out, NULL);
	jqx_free(where);
	return rc;
}

/* An order record into o (strings borrowed from rec). */
static int order_record(jv rec, const char *want_id, const char *region, inv_order *o, shop_err *e)
{
	memset(o, 0, sizeof *o);
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return err_set(e, SHOP_DATAERR, "expected an order record (an object), got %s", jv_kind_text(rec));
	const char *id = rec_str(rec, "order_id", e);
	if (!id && !e->code)
		id = rec_str(rec, "id", e);
	if (e->code)
		return e->code;
	if (!id)
		id = want_id;
	if (!id || !*id)
		return err_set(e, SHOP_DATAERR, "field 'id': missing (or give --order ID)");
	if (want_id && strcmp(id, want_id))
		return err_set(e, SHOP_DATAERR, "record of order %s, but --order %s", id, want_id);
	o->id = id;
	o->region = region;
	jv addr = jv_object_get(jv_copy(rec), jv_string("address"));
	if (!o->region)
		o->region = rec_str(rec, "region", e);
	if (!o->region && jv_get_kind(addr) == JV_KIND_OBJECT)
		o->region = rec_str(addr, "region", e);
	jv_free(addr);
	jv lines = jv_object_get(jv_copy(rec), jv_string("lines"));
	if (jv_get_kind(lines) != JV_KIND_ARRAY) {
		jv_free(lines);
		return err_set(e, SHOP_DATAERR, "order %s: field 'lines': expected an array of {sku, qty}", id);
	}
	int n = jv_array_length(jv_copy(lines));
	o->lines = xcalloc((size_t)(n ? n : 1), sizeof *o->lines);
	for (int i = 0; i < n && !e->code; i++) {
		jv l = jv_array_get(jv_copy(lines), i);
		shop_err le = {0};
		const char *sku = rec_str(l, "sku", &le);
		int64_t q = 0;
		int has = le.code ? 0 : rec_int(l, "qty", &q, &le);
		if (!le.code && jv_get_kind(l) != JV_KIND_OBJECT)
			err_set(&le, SHOP_DATAERR, "expected {sku, qty}");
		else if (!le.code && (!sku || !*sku))
			err_set(&le, SHOP_DATAERR, "field 'sku': missing");
		else if (!le.code && has <= 0)
			err_set(&le, SHOP_DATAERR, "field 'qty': missing");
		else if (!le.code && (q <= 0 || q > 1000000000LL))
			err_set(&le, SHOP_DATAERR, "field 'qty': %lld is not a quantity (1 or more)", (long long)q);
		if (le.code)
			err_set(e, le.code, "order %s: lines[%d]: %s", id, i, le.msg);
		o->lines[i] = (inv_line){sku, q};
		o->nlines = (size_t)i + 1;
		jv_free(l); /* rec still holds the line: the strings stay valid */
	}
	jv_free(lines);
	return e->code;
}

static int cmd_reserve(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *order = cli_get(a, "order"), *region = cli_get(a, "region");
	jsonl_out_columns(res_cols);
	size_t orders = 0;
	int rc = 0;
	if (!isatty(0)) {
		jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
		jv rec;
		int got;
		while ((got = jsonl_next(r, &rec, &s->err)) > 0) {
			orders++;
			inv_order o;
			shop_err oe = {0};
			if (order_record(rec, order, region, &o, &oe)) {
				err_set(&s->err, oe.code, "stdin:%zu: %s", jsonl_lineno(r), oe.msg);
				free(o.lines);
				jv_free(rec);
				break;
			}
			int x = shop_report(s, inv_reserve(s, &o, shop_out, NULL));
			free(o.lines);
			jv_free(rec);
			if (x && !rc)
				rc = x;
			if (x && x != SHOP_REFUSED && x != SHOP_NOTFOUND)
				break;
		}
		jsonl_reader_free(r);
		if (s->err.code)
			return s->err.code;
	}
	if (orders == 0) {
		/* No order record: the order of the orders table, or, for an id
		 * that is not there, the reservations it already has. */
		if (!order)
			return err_set(&s->err, SHOP_USAGE, "reserve: give order records on stdin, or --order ID");
		int rc2 = inv_reserve_order(s, order, shop_out, NULL);
		if (rc2 == SHOP_NOTFOUND) {
			err_clear(&s->err);
			return inv_reservations(s, order, shop_out, NULL);
		}
		return rc2;
	}
	return rc;
}

static int release_one(shop *s, const char *order, void *arg)
{
	(void)arg;
	return shop_report(s, inv_release(s, order, shop_out, NULL));
}

static int commit_one(shop *s, const char *order, void *arg)
{
	(void)arg;
	return shop_report(s, inv_commit(s, order, shop_out, NULL));
}

/* --order ID, else records on stdin. */
static int by_order(shop *s, cli_args *a, int (*fn)(shop *, const char *, void *))
{
	jsonl_out_columns(res_cols);
	const char *order = cli_get(a, "order");
	if (order)
		return fn(s, order, NULL);
	return shop_each_id(s, a, 0, a->argc, "--order ID", "order_id", "id", fn, NULL);
}

static int cmd_release(void *ctx, cli_args *a)
{
	return by_order(ctx, a, release_one);
}

static int cmd_commit(void *ctx, cli_args *a)
{
	return by_order(ctx, a, commit_one);
}

static int cmd_expire(void *ctx, cli_args *a)
{
	(void)a;
	jsonl_out_columns(res_cols);
	return inv_expire(ctx, shop_out, NULL);
}

static int cmd_ledger(void *ctx, cli_args *a)
{
	shop *s = ctx;
	static const char *const cols[] = {"seq", "at", "sku", "warehouse", "on_hand_delta", "reserved_delta",
	                                   "reason", "actor", "ref", NULL};
	jsonl_out_columns(cols);
	return inv_ledger(s, a->argv[0], cli_get(a, "warehouse"), shop_out, NULL);
}

static int cmd_reconcile(void *ctx, cli_args *a)
{
	(void)a;
	return inv_reconcile(ctx, shop_out, NULL);
}

static const cli_opt actor_opts[] = {
	{"actor", 0, "NAME", "who moves the stock (default: operator)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt adjust_opts[] = {
	{"reason", 0, "R", "why stock moves (required with operands)"},
	{"actor", 0, "NAME", "who moves the stock (default: operator)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt list_opts[] = {
	{"low", 0, "N", "only rows with N or fewer available"},
	{"warehouse", 0, "W", "only this warehouse"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt reserve_opts[] = {
	{"order", 0, "ID", "the order (its record on stdin, or its reservations)"},
	{"region", 0, "R", "prefer warehouses of this region"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt order_opts[] = {
	{"order", 0, "ID", "the order (else order or reservation records on stdin)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt ledger_opts[] = {
	{"warehouse", 0, "W", "only this warehouse"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"set", "SKU WAREHOUSE QTY", "set the on-hand quantity", actor_opts, cmd_set, 3, 3},
	{"adjust", "[SKU WAREHOUSE +-N]", "add to or take from on-hand (records on stdin: all or nothing)",
	 adjust_opts, cmd_adjust, 0, 3},
	{"show", "SKU...", "stock of SKUs per warehouse", NULL, cmd_show, 0, -1},
	{"list", "", "every stock row", list_opts, cmd_list, 0, 0},
	{"reserve", "", "hold stock for orders (order records on stdin)", reserve_opts, cmd_reserve, 0, 0},
	{"release", "", "let go of an order's stock", order_opts, cmd_release, 0, 0},
	{"commit", "", "turn an order's holds into a decrement of on-hand", order_opts, cmd_commit, 0, 0},
	{"expire", "", "release holds past their expiry (cron)", NULL, cmd_expire, 0, 0},
	{"ledger", "SKU", "every movement of a SKU", ledger_opts, cmd_ledger, 1, 1},
	{"reconcile", "", "check stock against the ledger and the reservations", NULL, cmd_reconcile, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-inv", "stock per SKU per warehouse, reservations with expiry, the ledger", cmds)
