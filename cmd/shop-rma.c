/* shop-rma: returns of delivered orders: open, approve or reject, receive
 * (restock or write off), refund, close. Options and records only; the
 * returns live in lib/rma.c. */
#include <stdio.h>
#include <string.h>

#include "base/jqx.h"
#include "base/jsonl.h"
#include "rma.h"

static const char *const rma_cols[] = {"id", "order_id", "status", "condition", "amount", "refunded", "currency",
                                       "reason", NULL};

/* A free text given as an option (--reason): 1 to 1000 bytes, no control
 * characters. */
static int text_arg(shop *s, const char *opt, const char *v)
{
	if (!v)
		return err_set(&s->err, SHOP_USAGE, "--%s R is required", opt);
	size_t n = strlen(v);
	if (n == 0 || n > 1000)
		return err_set(&s->err, SHOP_USAGE, "--%s: a text of 1 to 1000 bytes is required", opt);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return err_set(&s->err, SHOP_USAGE, "--%s: control characters are not allowed", opt);
	return 0;
}

/* --item SKU:QTY: the quantity after the last ':', a whole number of 1 or
 * more. Bad data (65), not usage: the words are the caller's. */
static int item_arg(shop *s, const char *v, rma_item *it)
{
	const char *colon = strrchr(v, ':');
	int64_t q;
	if (!colon || colon == v)
		return err_set(&s->err, SHOP_DATAERR, "--item '%s': expected SKU:QTY", v);
	const char *d = colon + 1;
	if (!(*d >= '0' && *d <= '9') || parse_i64(d, &q))
		return err_set(&s->err, SHOP_DATAERR, "--item '%s': quantity '%s' is not a whole number", v, d);
	if (q <= 0 || q > 1000000000)
		return err_set(&s->err, SHOP_DATAERR, "--item '%s': quantity must be 1 to 1000000000", v);
	it->sku = xstrndup(v, (size_t)(colon - v));
	it->qty = q;
	return 0;
}

typedef struct open_arg {
	rma_item *items;
	size_t n;
	const char *reason;
} open_arg;

static int open_one(shop *s, const char *order, void *arg)
{
	open_arg *oa = arg;
	return rma_open(s, order, oa->items, oa->n, oa->reason, shop_out, NULL);
}

static int cmd_open(void *ctx, cli_args *a)
{
	shop *s = ctx;
	open_arg oa = {NULL, 0, cli_get(a, "reason")};
	if (text_arg(s, "reason", oa.reason))
		return s->err.code;
	if (!cli_get(a, "item"))
		return err_set(&s->err, SHOP_USAGE, "open: give at least one --item SKU:QTY");
	const char *v;
	for (size_t i = 0; (v = cli_get_nth(a, "item", i)); i++) {
		oa.items = xrealloc(oa.items, (oa.n + 1) * sizeof *oa.items);
		if (item_arg(s, v, &oa.items[oa.n]))
			break;
		oa.n++;
	}
	int rc = s->err.code;
	jsonl_out_columns(rma_cols);
	if (!rc) {
		/* --order ID, else the order_id (or id) of records on stdin:
		 * `shop-order show ID | shop-rma open --item ...`. */
		const char *order = cli_get(a, "order");
		rc = order ? rma_open(s, order, oa.items, oa.n, oa.reason, shop_out, NULL)
		           : shop_each_id(s, a, 0, 0, "--order ID", "order_id", "id", open_one, &oa);
	}
	for (size_t i = 0; i < oa.n; i++)
		free((char *)oa.items[i].sku);
	free(oa.items);
	return rc;
}

/* The commands on RMAs: ids as operands, else the rma_id (or id) of
 * records on stdin. */
static int each_rma(shop *s, cli_args *a, int (*fn)(shop *, const char *, void *), void *arg)
{
	jsonl_out_columns(rma_cols);
	return shop_each_id(s, a, 0, a->argc, "RMA id", "rma_id", "id", fn, arg);
}

static int approve_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return rma_approve(s, id, shop_out, NULL);
}

static int cmd_approve(void *ctx, cli_args *a)
{
	return each_rma(ctx, a, approve_one, NULL);
}

static int reject_one(shop *s, const char *id, void *arg)
{
	return rma_reject(s, id, arg, shop_out, NULL);
}

static int cmd_reject(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *reason = cli_get(a, "reason");
	if (text_arg(s, "reason", reason))
		return s->err.code;
	return each_rma(s, a, reject_one, (void *)reason);
}

static int receive_one(shop *s, const char *id, void *arg)
{
	return rma_receive(s, id, arg, shop_out, NULL);
}

static int cmd_receive(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *c = cli_get(a, "condition");
	if (!c)
		return err_set(&s->err, SHOP_USAGE, "receive: --condition resellable|damaged is required");
	if (strcmp(c, "resellable") && strcmp(c, "damaged"))
		return err_set(&s->err, SHOP_USAGE, "receive: --condition '%s' is not resellable or damaged", c);
	return each_rma(s, a, receive_one, (void *)c);
}

static int refund_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return rma_refund(s, id, shop_out, NULL);
}

static int cmd_refund(void *ctx, cli_args *a)
{
	return each_rma(ctx, a, refund_one, NULL);
}

static int close_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return rma_close(s, id, shop_out, NULL);
}

static int cmd_close(void *ctx, cli_args *a)
{
	return each_rma(ctx, a, close_one, NULL);
}

static int show_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return rma_show(s, id, shop_out, NULL);
}

static int cmd_show(void *ctx, cli_args *a)
{
	return each_rma(ctx, a, show_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	shop *s = ctx;
	rma_filter f = {0};
	f.status = cli_get(a, "status");
	f.order = cli_get(a, "order");
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	jsonl_out_columns(rma_cols);
	int rc = rma_list(s, &f, shop_out, NULL);
	jqx_free(f.where);
	return rc;
}

static const cli_opt open_opts[] = {
	{"order", 0, "ID", "the delivered order (else the order_id or id of records on stdin)"},
	{"item", 0, "SKU:QTY", "units to return (repeat for more skus); required"},
	{"reason", 0, "R", "why the customer returns them; required"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt reject_opts[] = {
	{"reason", 0, "R", "why the return is rejected; required"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt receive_opts[] = {
	{"condition", 0, "C", "resellable (back on hand) or damaged (written off); required"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt list_opts[] = {
	{"status", 0, "S", "only returns with this status"},
	{"order", 0, "ID", "only the returns of this order"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 'n', "N", "at most N records"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"open", "", "open a return of units of a delivered order", open_opts, cmd_open, 0, 0},
	{"approve", "[RMA...]", "open -> approved", NULL, cmd_approve, 0, -1},
	{"reject", "[RMA...]", "open, approved or received -> rejected", reject_opts, cmd_reject, 0, -1},
	{"receive", "[RMA...]", "approved -> received: restock, or write off", receive_opts, cmd_receive, 0, -1},
	{"refund", "[RMA...]", "received -> refunded, through shop-pay", NULL, cmd_refund, 0, -1},
	{"close", "[RMA...]", "refunded or rejected -> closed", NULL, cmd_close, 0, -1},
	{"show", "[RMA...]", "print returns", NULL, cmd_show, 0, -1},
	{"list", "", "returns, newest first", list_opts, cmd_list, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-rma", "returns: open, approve, receive (restock), refund, close", cmds)
