/* shop-pay: payments through the gateway of the config: authorize,
 * capture, void, refund, and reconciliation against the gateway's report.
 * Options and records only; the payments live in lib/pay.c, the gateways
 * in lib/drivers/. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/jqx.h"
#include "base/jsonl.h"
#include "pay.h"

static const char *const pay_cols[] = {"order_id", "id", "status", "amount", "captured", "refunded", "currency",
                                       "method", "reason", NULL};
static const char *const settle_cols[] = {"at", "type", "payment_ref", "order_id", "amount", "currency", NULL};
static const char *const disc_cols[] = {"problem", "order_id", "payment_id", "gateway_ref", "detail", NULL};

typedef struct pay_args {
	cli_args *a;
	const char *amount;
} pay_args;

/* --order ID, or ORDER operands, or records on stdin (order_id, else id):
 * so `shop-order list --status confirmed | shop-pay capture` works. */
static int each_order(shop *s, cli_args *a, int (*fn)(shop *, const char *, void *), void *arg)
{
	const char *order = cli_get(a, "order");
	if (order && a->argc)
		return err_set(&s->err, SHOP_USAGE, "give --order ID or order ids as operands, not both");
	if (order)
		return fn(s, order, arg);
	jsonl_out_columns(pay_cols);
	return shop_each_id(s, a, 0, a->argc, "order ID", "order_id", "id", fn, arg);
}

static int authorize_one(shop *s, const char *id, void *arg)
{
	return pay_authorize(s, id, cli_get(arg, "method"), shop_out, NULL);
}

static int cmd_authorize(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *m = cli_get(a, "method");
	if (m && (!*m || strlen(m) > 120))
		return err_set(&s->err, SHOP_USAGE, "--method: a payment method of 1 to 120 bytes is required");
	jsonl_out_columns(pay_cols);
	return each_order(s, a, authorize_one, a);
}

static int capture_one(shop *s, const char *id, void *arg)
{
	return pay_capture(s, id, cli_get(arg, "amount"), shop_out, NULL);
}

static int cmd_capture(void *ctx, cli_args *a)
{
	jsonl_out_columns(pay_cols);
	return each_order(ctx, a, capture_one, a);
}

static int void_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return pay_void(s, id, shop_out, NULL);
}

static int cmd_void(void *ctx, cli_args *a)
{
	jsonl_out_columns(pay_cols);
	return each_order(ctx, a, void_one, a);
}

static int refund_one(shop *s, const char *id, void *arg)
{
	return pay_refund(s, id, cli_get(arg, "amount"), cli_get(arg, "rma"), shop_out, NULL);
}

static int cmd_refund(void *ctx, cli_args *a)
{
	shop *s = ctx;
	if (!cli_get(a, "amount"))
		return err_set(&s->err, SHOP_USAGE, "refund: --amount N is required");
	const char *rma = cli_get(a, "rma");
	if (rma && (!*rma || strlen(rma) > 120))
		return err_set(&s->err, SHOP_USAGE, "--rma: a return id of 1 to 120 bytes is required");
	jsonl_out_columns(pay_cols);
	return each_order(s, a, refund_one, a);
}

static int show_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return pay_show(s, id, shop_out, NULL);
}

static int cmd_show(void *ctx, cli_args *a)
{
	jsonl_out_columns(pay_cols);
	return each_order(ctx, a, show_one, a);
}

static int cmd_list(void *ctx, cli_args *a)
{
	shop *s = ctx;
	pay_filter f = {0};
	f.status = cli_get(a, "status");
	const char *exp = cli_get(a, "expiring");
	if (exp && (clock_parse_duration(exp, &f.expiring_ms) || f.expiring_ms <= 0))
		return err_set(&s->err, SHOP_USAGE, "--expiring: '%s' is not a duration (such as 12h, 2d)", exp);
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	jsonl_out_columns(pay_cols);
	int rc = pay_list(s, &f, shop_out, NULL);
	jqx_free(f.where);
	return rc;
}

static int cmd_settlement(void *ctx, cli_args *a)
{
	jsonl_out_columns(settle_cols);
	return pay_settlement(ctx, cli_get(a, "date"), shop_out, NULL);
}

static int cmd_reconcile(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *path = cli_get(a, "report");
	if (!path)
		return err_set(&s->err, SHOP_USAGE, "reconcile: --report FILE is required (- for stdin)");
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f)
		return err_set(&s->err, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	jsonl_out_columns(disc_cols);
	int rc = pay_reconcile(s, f, strcmp(path, "-") ? path : "stdin", cli_get(a, "date"), shop_out, NULL);
	if (f != stdin)
		fclose(f);
	return rc;
}

static const cli_opt order_opt[] = {
	{"order", 0, "ID", "the order (else order ids as operands, or records on stdin)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt authorize_opts[] = {
	{"order", 0, "ID", "the order (else order ids as operands, or records on stdin)"},
	{"method", 0, "M", "the payment method (default: the order's)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt capture_opts[] = {
	{"order", 0, "ID", "the order (else order ids as operands, or records on stdin)"},
	{"amount", 0, "N", "take N (minor units, or 5.00); the rest of the hold is released"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt refund_opts[] = {
	{"order", 0, "ID", "the order (else order ids as operands, or records on stdin)"},
	{"amount", 0, "N", "give back N (minor units, or 5.00); required"},
	{"rma", 0, "ID", "the return this refund is for (one refund per return)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt list_opts[] = {
	{"status", 0, "S", "only payments with this status"},
	{"expiring", 0, "D", "only authorizations that lapse within D (12h, 2d) if not captured"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 'n', "N", "at most N records"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt date_opt[] = {
	{"date", 0, "D", "one UTC day (YYYY-MM-DD)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt reconcile_opts[] = {
	{"report", 0, "FILE", "the gateway's settlement report (- for stdin); required"},
	{"date", 0, "D", "the day the report covers (default: the days of its movements)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"authorize", "[ORDER...]", "hold the order's total on its payment method", authorize_opts, cmd_authorize, 0, -1},
	{"capture", "[ORDER...]", "take the money held (all, or --amount)", capture_opts, cmd_capture, 0, -1},
	{"void", "[ORDER...]", "release an authorization", order_opt, cmd_void, 0, -1},
	{"refund", "[ORDER...]", "give back part or all of a capture", refund_opts, cmd_refund, 0, -1},
	{"show", "[ORDER...]", "print orders' payments", order_opt, cmd_show, 0, -1},
	{"list", "", "payments, newest first", list_opts, cmd_list, 0, 0},
	{"settlement", "", "the sandbox gateway's settlement report", date_opt, cmd_settlement, 0, 0},
	{"reconcile", "", "match a settlement report against the payments", reconcile_opts, cmd_reconcile, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-pay", "payments: authorize, capture, void, refund, reconcile", cmds)
