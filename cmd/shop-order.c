/* shop-order: orders, their status machine, the outbox, and the trace.
 * Options and records only; the orders live in lib/order.c. */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/jqx.h"
#include "base/jsonl.h"
#include "order.h"

static const char *const order_cols[] = {"id", "customer", "status", "total", "currency", "reason",
                                         "created_at", "updated_at", NULL};
/* cancel prints the order, then its reservations. */
static const char *const cancel_cols[] = {"kind", "id", "status", "reason", "sku", "warehouse", "qty", "state",
                                          NULL};
static const char *const event_cols[] = {"seq", "type", "subject", "at", "data", NULL};
static const char *const trace_cols[] = {"at", "source", "what", "step", "sku", "warehouse", "qty", NULL};
static const char *const consumer_cols[] = {"name", "acked", "updated_at", NULL};

/* --follow: each record reaches the reader as soon as it is read. */
static int out_flush(void *arg, jv rec)
{
	(void)arg;
	jsonl_out(rec);
	fflush(stdout);
	return jsonl_out_closed();
}

static int show_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return order_show(s, id, shop_out, NULL);
}

static int cmd_show(void *ctx, cli_args *a)
{
	jsonl_out_columns(order_cols);
	return shop_each_id(ctx, a, 0, a->argc, "order ID", "order_id", "id", show_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	shop *s = ctx;
	order_filter f = {0};
	f.status = cli_get(a, "status");
	f.customer = cli_get(a, "customer");
	f.since = cli_get(a, "since");
	int64_t t;
	if (f.since && clock_parse_rfc3339(f.since, &t))
		return err_set(&s->err, SHOP_USAGE, "--since: '%s' is not an RFC 3339 time", f.since);
	const char *older = cli_get(a, "older");
	if (older && (clock_parse_duration(older, &f.older_ms) || f.older_ms <= 0))
		return err_set(&s->err, SHOP_USAGE, "--older: '%s' is not a duration (such as 30m, 2h, 7d)", older);
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	jsonl_out_columns(order_cols);
	int rc = order_list(s, &f, shop_out, NULL);
	jqx_free(f.where);
	return rc;
}

static int cmd_import(void *ctx, cli_args *a)
{
	return shop_import_cmd(ctx, a, order_import);
}

static int confirm_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return order_confirm(s, id, shop_out, NULL);
}

static int cmd_confirm(void *ctx, cli_args *a)
{
	jsonl_out_columns(order_cols);
	return shop_each_id(ctx, a, 0, a->argc, "order ID", "order_id", "id", confirm_one, NULL);
}

static int cancel_one(shop *s, const char *id, void *arg)
{
	return order_cancel(s, id, arg, shop_out, NULL);
}

static int cmd_cancel(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *reason = cli_get(a, "reason");
	if (reason && !*reason)
		return err_set(&s->err, SHOP_USAGE, "--reason: empty (say why, or leave it out)");
	jsonl_out_columns(cancel_cols);
	return shop_each_id(s, a, 0, a->argc, "order ID", "order_id", "id", cancel_one, (void *)reason);
}

typedef struct status_arg {
	const char *to, *reason;
} status_arg;

static int status_one(shop *s, const char *id, void *arg)
{
	status_arg *sa = arg;
	return order_set_status(s, id, sa->to, sa->reason, shop_out, NULL);
}

static int cmd_set_status(void *ctx, cli_args *a)
{
	shop *s = ctx;
	/* The status is the last operand; the ids come before it, or from
	 * records on stdin. */
	status_arg sa = {a->argv[a->argc - 1], cli_get(a, "reason")};
	if (sa.reason && !*sa.reason)
		return err_set(&s->err, SHOP_USAGE, "--reason: empty (say why, or leave it out)");
	/* An unknown status is a usage error before any id is read. */
	static const char *const known[] = {"pending",   "confirmed", "fulfilling", "shipped",           "delivered",
	                                    "cancelled", "returned",  "partially_returned", NULL};
	size_t k = 0;
	while (known[k] && strcmp(known[k], sa.to))
		k++;
	if (!known[k])
		return err_set(&s->err, SHOP_USAGE,
		               "set-status: '%s' is not a status (pending, confirmed, fulfilling, shipped, delivered, "
		               "cancelled, returned, partially_returned)",
		               sa.to);
	jsonl_out_columns(order_cols);
	return shop_each_id(s, a, 0, a->argc - 1, "order ID", "order_id", "id", status_one, &sa);
}

/* A consumer's name: what the operator chose, printable and short. */
static int consumer_arg(shop *s, const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 200)
		return err_set(&s->err, SHOP_USAGE, "--consumer: a name of 1 to 200 bytes is required");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(&s->err, SHOP_USAGE, "--consumer: control characters are not allowed");
	return 0;
}

static int cmd_events(void *ctx, cli_args *a)
{
	shop *s = ctx;
	long long after = -1;
	if (cli_has(a, "after") && cli_get_count(a, "after", -1, &after, &s->err))
		return s->err.code;
	const char *consumer = cli_get(a, "consumer");
	if (consumer && consumer_arg(s, consumer))
		return s->err.code;
	int follow = cli_has(a, "follow");
	if (follow && s->table)
		return err_set(&s->err, SHOP_USAGE, "events: --follow never ends, so it cannot print a --table");
	jsonl_out_columns(event_cols);
	return order_events(s, after, consumer, follow, follow ? out_flush : shop_out, NULL);
}

static int cmd_ack(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *consumer = cli_get(a, "consumer");
	if (!consumer)
		return err_set(&s->err, SHOP_USAGE, "ack: --consumer NAME is required");
	if (consumer_arg(s, consumer))
		return s->err.code;
	const char *v = a->argv[0];
	int64_t seq;
	if (!(*v >= '0' && *v <= '9') || parse_i64(v, &seq))
		return err_set(&s->err, SHOP_USAGE, "ack: SEQ '%s' is not an event's seq (a whole number, 0 or more)", v);
	jsonl_out_columns(consumer_cols);
	return order_ack(s, consumer, seq, shop_out, NULL);
}

static int trace_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return order_trace(s, id, shop_out, NULL);
}

static int cmd_trace(void *ctx, cli_args *a)
{
	jsonl_out_columns(trace_cols);
	return shop_each_id(ctx, a, 0, a->argc, "order ID", "order_id", "id", trace_one, NULL);
}

static const cli_opt list_opts[] = {
	{"status", 0, "S", "only orders with this status"},
	{"customer", 0, "C", "only this customer's orders"},
	{"since", 0, "T", "only orders created at or after T (RFC 3339)"},
	{"older", 0, "D", "only orders not changed for D (30m, 2h, 7d): stuck ones"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 'n', "N", "at most N records"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt import_opts[] = {
	{"keep-going", 0, NULL, "write the good records; bad ones go to --rejects"},
	{"rejects", 0, "FILE", "where --keep-going copies each bad line with its error"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt reason_opts[] = {
	{"reason", 0, "R", "why (stored in the order and its event)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt events_opts[] = {
	{"after", 0, "SEQ", "only events after this seq (default: the consumer's position, else 0)"},
	{"follow", 'f', NULL, "keep polling for new events until killed"},
	{"consumer", 0, "NAME", "start after this consumer's acknowledged position"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt ack_opts[] = {
	{"consumer", 0, "NAME", "the reader whose position moves (required)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"show", "[ID...]", "print orders", NULL, cmd_show, 0, -1},
	{"list", "", "orders, newest first", list_opts, cmd_list, 0, 0},
	{"import", "[FILE]", "add the order history of another shop (all or nothing)", import_opts, cmd_import, 0,
	 1},
	{"confirm", "[ID...]", "pending -> confirmed, counting promotion uses", NULL, cmd_confirm, 0, -1},
	{"cancel", "[ID...]", "cancel orders and release their stock", reason_opts, cmd_cancel, 0, -1},
	{"set-status", "[ID...] STATUS", "move orders to STATUS (the state machine decides)", reason_opts,
	 cmd_set_status, 1, -1},
	{"events", "", "the outbox, as event records", events_opts, cmd_events, 0, 0},
	{"ack", "SEQ", "store a consumer's position in the outbox", ack_opts, cmd_ack, 1, 1},
	{"trace", "[ID...]", "one timeline of everything that happened to an order", NULL, cmd_trace, 0, -1},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-order", "orders, their status machine, the outbox of events, and the trace", cmds)
