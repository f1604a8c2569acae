/* shop-ship: shipments: create, picklist, pack, label, ship, track, list.
 * Options and records only; the shipments live in lib/ship.c, the carriers
 * in lib/drivers/carrier*.c. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/jqx.h"
#include "base/jsonl.h"
#include "ship.h"

static const char *const ship_cols[] = {"id", "order_id", "warehouse", "status", "carrier", "service",
                                        "tracking", "weight_g", "updated_at", NULL};
static const char *const pick_cols[] = {"sku", "qty", "title", "shipments", NULL};

static int create_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return ship_create(s, id, shop_out, NULL);
}

/* --order ID, or order ids as operands, or order records on stdin. */
static int cmd_create(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *order = cli_get(a, "order");
	jsonl_out_columns(ship_cols);
	if (order && a->argc)
		return err_set(&s->err, SHOP_USAGE, "create: give --order ID or order ids as operands, not both");
	if (order)
		return ship_create(s, order, shop_out, NULL);
	return shop_each_id(s, a, 0, a->argc, "order ID", "order_id", "id", create_one, NULL);
}

static int cmd_picklist(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *wh = cli_get(a, "warehouse");
	if (!wh)
		return err_set(&s->err, SHOP_USAGE, "picklist: --warehouse W is required");
	jsonl_out_columns(pick_cols);
	return ship_picklist(s, wh, shop_out, NULL);
}

static int pack_one(shop *s, const char *id, void *arg)
{
	return ship_pack(s, id, *(int64_t *)arg, shop_out, NULL);
}

static int cmd_pack(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *w = cli_get(a, "weight");
	if (!w)
		return err_set(&s->err, SHOP_USAGE, "pack: --weight G (grams) is required");
	int64_t g;
	if (parse_i64(w, &g) || g <= 0 || g > 1000000)
		return err_set(&s->err, SHOP_DATAERR, "--weight: '%s' is not a weight in grams (1 to 1000000)", w);
	jsonl_out_columns(ship_cols);
	return shop_each_id(s, a, 0, a->argc, "shipment ID", "shipment_id", "id", pack_one, &g);
}

static int label_one(shop *s, const char *id, void *arg)
{
	return ship_label(s, id, cli_get(arg, "carrier"), shop_out, NULL);
}

static int cmd_label(void *ctx, cli_args *a)
{
	jsonl_out_columns(ship_cols);
	return shop_each_id(ctx, a, 0, a->argc, "shipment ID", "shipment_id", "id", label_one, a);
}

static int ship_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return ship_ship(s, id, shop_out, NULL);
}

static int cmd_ship(void *ctx, cli_args *a)
{
	jsonl_out_columns(ship_cols);
	return shop_each_id(ctx, a, 0, a->argc, "shipment ID", "shipment_id", "id", ship_one, NULL);
}

static int track_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return ship_track(s, id, shop_out, NULL);
}

/* track SHIPMENT...: those; --all, or no operand and stdin a terminal or
 * /dev/null: every shipment under way (cron); else records on stdin. */
static int cmd_track(void *ctx, cli_args *a)
{
	shop *s = ctx;
	jsonl_out_columns(ship_cols);
	if (a->argc && cli_has(a, "all"))
		return err_set(&s->err, SHOP_USAGE, "track: --all or shipment ids, not both");
	struct stat st;
	int no_input = fstat(0, &st) || S_ISCHR(st.st_mode);
	if (!a->argc && (cli_has(a, "all") || no_input))
		return ship_track(s, NULL, shop_out, NULL);
	return shop_each_id(s, a, 0, a->argc, "shipment ID", "shipment_id", "id", track_one, NULL);
}

static int show_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return ship_show(s, id, shop_out, NULL);
}

static int cmd_show(void *ctx, cli_args *a)
{
	jsonl_out_columns(ship_cols);
	return shop_each_id(ctx, a, 0, a->argc, "shipment ID", "shipment_id", "id", show_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	shop *s = ctx;
	ship_filter f = {0};
	f.status = cli_get(a, "status");
	f.warehouse = cli_get(a, "warehouse");
	f.order = cli_get(a, "order");
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	jsonl_out_columns(ship_cols);
	int rc = ship_list(s, &f, shop_out, NULL);
	jqx_free(f.where);
	return rc;
}

static const cli_opt create_opts[] = {
	{"order", 0, "ID", "the order (else order ids as operands, or order records on stdin)"},
	{NULL, 0, NULL, NULL},
};
static const cli_opt pick_opts[] = {
	{"warehouse", 0, "W", "the warehouse whose picking to list (required)"},
	{NULL, 0, NULL, NULL},
};
static const cli_opt pack_opts[] = {
	{"weight", 0, "G", "the parcel's weight in grams (required)"},
	{NULL, 0, NULL, NULL},
};
static const cli_opt label_opts[] = {
	{"carrier", 0, "C", "a carrier or service among the rates (default: shipping.service, else the cheapest)"},
	{NULL, 0, NULL, NULL},
};
static const cli_opt track_opts[] = {
	{"all", 0, NULL, "every shipment under way (what cron runs)"},
	{NULL, 0, NULL, NULL},
};
static const cli_opt list_opts[] = {
	{"status", 0, "S", "only shipments with this status"},
	{"warehouse", 0, "W", "only this warehouse's"},
	{"order", 0, "ID", "only this order's"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 'n', "N", "at most N records"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"create", "[ORDER...]", "an order's shipments, one per warehouse", create_opts, cmd_create, 0, -1},
	{"picklist", "", "what to pick in a warehouse, in walking order", pick_opts, cmd_picklist, 0, 0},
	{"pack", "[SHIPMENT...]", "record a packed parcel's weight", pack_opts, cmd_pack, 0, -1},
	{"label", "[SHIPMENT...]", "buy a label from the carrier", label_opts, cmd_label, 0, -1},
	{"ship", "[SHIPMENT...]", "the parcel left the warehouse", NULL, cmd_ship, 0, -1},
	{"track", "[SHIPMENT...]", "poll the carrier; --all for every one under way", track_opts, cmd_track, 0, -1},
	{"show", "[SHIPMENT...]", "print shipments", NULL, cmd_show, 0, -1},
	{"list", "", "shipments", list_opts, cmd_list, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-ship", "shipments: create, picklist, pack, label, ship, track", cmds)
