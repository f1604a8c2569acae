/* shop-notify: messages to customers from the outbox. Options and records
 * only; the deliveries live in lib/notify.c. */
#include <stdio.h>
#include <string.h>

#include "base/jqx.h"
#include "base/jsonl.h"
#include "notify.h"

static const char *const notification_cols[] = {"seq", "type", "subject", "channel", "recipient", "status",
                                                "attempts", "sent_at", "error", NULL};

/* --follow: each record reaches the reader as soon as it is made. */
static int out_flush(void *arg, jv rec)
{
	(void)arg;
	jsonl_out(rec);
	fflush(stdout);
	return jsonl_out_closed();
}

static int cmd_run(void *ctx, cli_args *a)
{
	shop *s = ctx;
	notify_opts o = {0};
	o.follow = cli_has(a, "follow");
	o.once = cli_has(a, "once");
	o.dry_run = cli_has(a, "dry-run");
	if (o.follow && o.once)
		return err_set(&s->err, SHOP_USAGE, "run: --once and --follow do not go together");
	if (o.follow && s->table)
		return err_set(&s->err, SHOP_USAGE, "run: --follow never ends, so it cannot print a --table");
	if (!o.dry_run)
		jsonl_out_columns(notification_cols);
	return notify_run(s, &o, o.follow ? out_flush : shop_out, NULL);
}

static int cmd_send(void *ctx, cli_args *a)
{
	shop *s = ctx;
	notify_opts o = {0};
	o.dry_run = cli_has(a, "dry-run");
	o.channel = cli_get(a, "channel");
	const char *v = cli_get(a, "event");
	int64_t seq;
	if (!v)
		return err_set(&s->err, SHOP_USAGE, "send: --event SEQ is required");
	if (!(*v >= '0' && *v <= '9') || parse_i64(v, &seq))
		return err_set(&s->err, SHOP_USAGE, "send: --event '%s' is not an event's seq", v);
	if (!o.dry_run)
		jsonl_out_columns(notification_cols);
	return notify_send(s, seq, &o, shop_out, NULL);
}

static int cmd_ls(void *ctx, cli_args *a)
{
	shop *s = ctx;
	notify_filter f = {0};
	f.status = cli_get(a, "status");
	f.channel = cli_get(a, "channel");
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	jsonl_out_columns(notification_cols);
	int rc = notify_list(s, &f, shop_out, NULL);
	jqx_free(f.where);
	return rc;
}

static const cli_opt run_opts[] = {
	{"once", 0, NULL, "the next pending event only"},
	{"follow", 'f', NULL, "keep waiting for events; retry failures with backoff"},
	{"dry-run", 'n', NULL, "print the messages as records; send and change nothing"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt send_opts[] = {
	{"event", 0, "SEQ", "the event whose messages go out again (required)"},
	{"channel", 0, "C", "only this channel: maildir, smtp, webhook"},
	{"dry-run", 'n', NULL, "print the messages as records; send and change nothing"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt ls_opts[] = {
	{"status", 0, "S", "only deliveries with this status: sending, sent, skipped, failed"},
	{"channel", 0, "C", "only this channel"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 0, "N", "at most N records"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"run", "", "send the messages of the pending events (consumer notify)", run_opts, cmd_run, 0, 0},
	{"send", "", "send one event's messages again, on purpose", send_opts, cmd_send, 0, 0},
	{"ls", "", "what was sent: one record per event and channel", ls_opts, cmd_ls, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-notify", "email and push messages from the outbox: maildir, SMTP, webhook", cmds)
