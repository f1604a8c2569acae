/* shop-cart: carts, the address book, promotions, quotes and checkout.
 * Options and records only; the work is in lib/cart.c and lib/pricing.c. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/jsonl.h"
#include "cart.h"

static int qty_arg(shop *s, const char *v, int64_t *q)
{
	if (!(*v >= '0' && *v <= '9') || parse_i64(v, q))
		return err_set(&s->err, SHOP_DATAERR, "QTY: '%s' is not a whole number of units", v);
	return 0;
}

static int cmd_add(void *ctx, cli_args *a)
{
	shop *s = ctx;
	int64_t q = 1;
	if (a->argc >= 2 && strcmp(a->argv[1], "-")) {
		if (a->argc == 3 && qty_arg(s, a->argv[2], &q))
			return s->err.code;
		return cart_add(s, a->argv[0], a->argv[1], q, shop_out, NULL);
	}
	/* Records on stdin, e.g. from shop-search or shop-catalog: each one's
	 * sku, and qty when it has one; all or nothing. */
	if (a->argc < 2 && isatty(0))
		return err_set(&s->err, SHOP_USAGE, "add: give CART SKU [QTY], or CART and records on stdin");
	jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
	jv recs = jv_array();
	const char **skus = NULL;
	int64_t *qtys = NULL;
	size_t *lines = NULL, n = 0;
	jv rec;
	int got;
	while ((got = jsonl_next(r, &rec, &s->err)) > 0) {
		recs = jv_array_append(recs, rec);
		shop_err fe = {0};
		const char *sku = rec_str(rec, "sku", &fe);
		q = 1;
		if (!fe.code && rec_int(rec, "qty", &q, &fe) < 0)
			q = 0;
		if (!sku && !fe.code)
			err_set(&fe, SHOP_DATAERR, "field 'sku': missing");
		if (fe.code) {
			err_set(&s->err, fe.code, "stdin:%zu: %s", jsonl_lineno(r), fe.msg);
			break;
		}
		skus = xrealloc(skus, (n + 1) * sizeof *skus);
		qtys = xrealloc(qtys, (n + 1) * sizeof *qtys);
		lines = xrealloc(lines, (n + 1) * sizeof *lines);
		skus[n] = sku; /* rec lives on in recs */
		qtys[n] = q;
		lines[n++] = jsonl_lineno(r);
	}
	jsonl_reader_free(r);
	int rc = s->err.code ? s->err.code : cart_add_many(s, a->argv[0], skus, qtys, n, shop_line_label, lines, shop_out, NULL);
	jv_free(recs);
	free(skus);
	free(qtys);
	free(lines);
	return rc;
}

static int cmd_set(void *ctx, cli_args *a)
{
	shop *s = ctx;
	int64_t q;
	if (qty_arg(s, a->argv[2], &q))
		return s->err.code;
	return cart_set(s, a->argv[0], a->argv[1], q, shop_out, NULL);
}

static int cmd_rm(void *ctx, cli_args *a)
{
	return cart_rm(ctx, a->argv[0], a->argv[1], shop_out, NULL);
}

static int cmd_show(void *ctx, cli_args *a)
{
	return cart_show(ctx, a->argv[0], shop_out, NULL);
}

static int cmd_clear(void *ctx, cli_args *a)
{
	return cart_clear(ctx, a->argv[0], shop_out, NULL);
}

static int cmd_merge(void *ctx, cli_args *a)
{
	return cart_merge(ctx, a->argv[0], a->argv[1], shop_out, NULL);
}

static int cmd_expire(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *d = cli_get(a, "older-than");
	int64_t ms;
	if (!d)
		return err_set(&s->err, SHOP_USAGE, "expire: --older-than D is required (e.g. 30d)");
	if (clock_parse_duration(d, &ms) || ms <= 0)
		return err_set(&s->err, SHOP_USAGE, "--older-than: '%s' is not a duration such as 30d", d);
	return cart_expire(s, ms, shop_out, NULL);
}

static int cmd_address_add(void *ctx, cli_args *a)
{
	address_in in = {cli_get(a, "name"),   cli_get(a, "line1"),   cli_get(a, "line2"),
	                 cli_get(a, "city"),   cli_get(a, "region"),  cli_get(a, "postal"),
	                 cli_get(a, "country"), cli_get(a, "email"), cli_get(a, "phone")};
	return address_add(ctx, a->argv[0], &in, shop_out, NULL);
}

static int cmd_address_ls(void *ctx, cli_args *a)
{
	return address_ls(ctx, a->argv[0], shop_out, NULL);
}

static int cmd_promo_add(void *ctx, cli_args *a)
{
	shop *s = ctx;
	(void)a;
	if (isatty(0))
		return err_set(&s->err, SHOP_USAGE, "promo add: promotion records on stdin");
	jv all;
	size_t *lines, n;
	int rc = shop_read_all(s, &all, &lines, &n);
	if (rc)
		jv_free(all);
	else
		rc = promo_add_all(s, all, shop_line_label, lines, shop_out, NULL);
	free(lines);
	return rc;
}

static int cmd_promo_ls(void *ctx, cli_args *a)
{
	(void)a;
	return promo_ls(ctx, shop_out, NULL);
}

static int cmd_promo_rm(void *ctx, cli_args *a)
{
	return promo_rm(ctx, a->argv[0], shop_out, NULL);
}

static void codes(cli_args *a, quote_opts *o, const char **list, size_t max)
{
	o->codes = list;
	o->ncodes = 0;
	const char *c;
	while (o->ncodes < max && (c = cli_get_nth(a, "promo", o->ncodes)))
		list[o->ncodes++] = c;
}

static int cmd_quote(void *ctx, cli_args *a)
{
	const char *list[64];
	quote_opts o = {a->argv[0], cli_get(a, "customer"), cli_get(a, "address"), NULL, 0, cli_has(a, "explain"), NULL};
	codes(a, &o, list, 64);
	return cart_quote(ctx, &o, shop_out, NULL);
}

static int cmd_checkout(void *ctx, cli_args *a)
{
	shop *s = ctx;
	const char *list[64];
	quote_opts o = {a->argv[0], cli_get(a, "customer"), cli_get(a, "address"), NULL, 0, 0, cli_get(a, "payment")};
	if (!o.customer || !o.address || !o.payment)
		return err_set(&s->err, SHOP_USAGE, "checkout: --customer C, --address ID and --payment METHOD are required");
	codes(a, &o, list, 64);
	return cart_checkout(s, &o, shop_out, NULL);
}

static const cli_opt expire_opts[] = {
	{"older-than", 0, "D", "carts not changed for this long (30d)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt address_opts[] = {
	{"name", 0, "N", "who receives"},
	{"line1", 0, "L", "street and number"},
	{"line2", 0, "L", "more of it"},
	{"city", 0, "C", "city"},
	{"region", 0, "R", "state, province, county"},
	{"postal", 0, "P", "postal code"},
	{"country", 0, "CC", "ISO 3166 code: DE, US"},
	{"email", 0, "E", "where notifications go"},
	{"phone", 0, "P", "phone"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt quote_opts_[] = {
	{"promo", 0, "CODE", "a promotion code (repeatable)"},
	{"address", 0, "ID", "price for this address (tax)"},
	{"customer", 0, "C", "the customer (limits per customer; default: the address's)"},
	{"explain", 0, NULL, "say for each promotion why it applies or not"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt checkout_opts[] = {
	{"customer", 0, "C", "the customer"},
	{"address", 0, "ID", "the shipping address"},
	{"payment", 0, "METHOD", "the payment method, e.g. pm_card_visa"},
	{"promo", 0, "CODE", "a promotion code (repeatable)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"add", "CART [SKU [QTY]]", "add units (or records on stdin)", NULL, cmd_add, 1, 3},
	{"set", "CART SKU QTY", "set a line's quantity", NULL, cmd_set, 3, 3},
	{"rm", "CART SKU", "remove a line", NULL, cmd_rm, 2, 2},
	{"show", "CART", "the cart with current prices", NULL, cmd_show, 1, 1},
	{"clear", "CART", "remove the cart", NULL, cmd_clear, 1, 1},
	{"merge", "FROM TO", "move a guest cart into a customer's", NULL, cmd_merge, 2, 2},
	{"expire", "--older-than D", "remove open carts not changed for D (cron)", expire_opts, cmd_expire, 0, 0},
	{"address add", "CUSTOMER", "add an address to the address book", address_opts, cmd_address_add, 1, 1},
	{"address ls", "CUSTOMER", "a customer's addresses", NULL, cmd_address_ls, 1, 1},
	{"promo add", "", "define promotions (records on stdin)", NULL, cmd_promo_add, 0, 0},
	{"promo ls", "", "every promotion and its uses", NULL, cmd_promo_ls, 0, 0},
	{"promo rm", "CODE", "remove a promotion", NULL, cmd_promo_rm, 1, 1},
	{"quote", "CART", "price the cart: lines, discounts, tax, shipping, total", quote_opts_, cmd_quote, 1, 1},
	{"checkout", "CART", "freeze the quote into a pending order", checkout_opts, cmd_checkout, 1, 1},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-cart", "carts, addresses, promotions, quotes and checkout", cmds)
