/* shop-catalog: products, variants, images, export and static publishing.
 * Options and printing only; the catalog lives in lib/catalog.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jqx.h"
#include "base/jsonl.h"
#include "catalog.h"

static const char *const product_cols[] = {"sku", "title", "brand", "category", "price", "currency",
                                           "family", "status", "version", NULL};

static int emit_line(void *arg, const char *json, size_t len)
{
	(void)arg;
	jsonl_out_raw(json, len);
	return jsonl_out_closed();
}

static int cmd_import(void *ctx, cli_args *a)
{
	return shop_import_cmd(ctx, a, catalog_import);
}

static int get_one(shop *s, const char *sku, void *arg)
{
	(void)arg;
	int rc = catalog_get(s, sku, emit_line, NULL);
	/* Like cat with a missing file: say so, go on, fail at the end. */
	if (rc == SHOP_NOTFOUND && !s->err.code)
		err_set(&s->err, rc, "get: sku '%s': no such product", sku);
	return rc;
}

static int cmd_get(void *ctx, cli_args *a)
{
	jsonl_out_columns(product_cols);
	return shop_each_id(ctx, a, 0, a->argc, "SKU", "sku", NULL, get_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	jsonl_out_columns(product_cols);
	shop *s = ctx;
	catalog_filter f = {0};
	f.category = cli_get(a, "category");
	f.brand = cli_get(a, "brand");
	f.family = cli_get(a, "family");
	f.status = cli_get(a, "status");
	f.after = cli_get(a, "after");
	if (f.status && strcmp(f.status, "any") && strcmp(f.status, "active") && strcmp(f.status, "draft") &&
	    strcmp(f.status, "archived"))
		return err_set(&s->err, SHOP_USAGE, "--status: '%s' is not one of active, draft, archived, any",
		               f.status);
	if (shop_list_args(s, a, &f.limit, &f.where))
		return s->err.code;
	int rc = catalog_list(s, &f, emit_line, NULL);
	jqx_free(f.where);
	return rc;
}

static int cmd_export(void *ctx, cli_args *a)
{
	(void)a;
	return catalog_export(ctx, emit_line, NULL);
}

static int cmd_patch(void *ctx, cli_args *a)
{
	shop *s = ctx;
	(void)a;
	/* Read every patch first: all or nothing. */
	jv all;
	size_t *lines, n;
	int rc = shop_read_all(s, &all, &lines, &n);
	if (rc)
		jv_free(all);
	else
		rc = catalog_patch(s, all, shop_line_label, lines, emit_line, NULL);
	free(lines);
	return rc;
}

static int cmd_set(void *ctx, cli_args *a)
{
	shop *s = ctx;
	jv patch;
	if (catalog_assignments(s, a->argv[0], a->argv + 1, a->argc - 1, &patch))
		return s->err.code;
	return catalog_patch(s, jv_array_append(jv_array(), patch), NULL, NULL, emit_line, NULL);
}

static int rm_collect(shop *s, const char *sku, void *arg)
{
	(void)s;
	jv *all = arg;
	jv p = jv_object();
	p = jv_object_set(p, jv_string("sku"), jv_string(sku));
	p = jv_object_set(p, jv_string("status"), jv_string("archived"));
	*all = jv_array_append(*all, p);
	return 0;
}

static int cmd_rm(void *ctx, cli_args *a)
{
	shop *s = ctx;
	jv all = jv_array();
	if (shop_each_id(s, a, 0, a->argc, "SKU", "sku", NULL, rm_collect, &all)) {
		jv_free(all);
		return s->err.code;
	}
	return catalog_patch(s, all, NULL, NULL, emit_line, NULL);
}

static int cmd_image_add(void *ctx, cli_args *a)
{
	shop *s = ctx;
	jv rec;
	if (catalog_image_add(s, a->argv[0], a->argv[1], &rec))
		return s->err.code;
	jsonl_out(rec);
	return 0;
}

static int cmd_image_ls(void *ctx, cli_args *a)
{
	return catalog_image_ls(ctx, a->argv[0], emit_line, NULL);
}

static int cmd_publish(void *ctx, cli_args *a)
{
	shop *s = ctx;
	jv sum;
	if (catalog_publish(s, a->argv[0], &sum))
		return s->err.code;
	jsonl_out(sum);
	return 0;
}

static const cli_opt import_opts[] = {
	{"keep-going", 0, NULL, "write the good records; bad ones go to --rejects"},
	{"rejects", 0, "FILE", "where --keep-going copies each bad line with its error"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt list_opts[] = {
	{"category", 0, "C", "only this category"},
	{"brand", 0, "B", "only this brand"},
	{"family", 0, "F", "only the variants of this family"},
	{"status", 0, "S", "active, draft, archived or any (default: all but archived)"},
	{"where", 0, "JQ", "keep records for which this jq expression is true"},
	{"limit", 'n', "N", "at most N records"},
	{"after", 0, "SKU", "start after this SKU (keyset pagination)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"import", "[FILE]", "upsert product records (all or nothing)", import_opts, cmd_import, 0, 1},
	{"get", "SKU...", "print products", NULL, cmd_get, 0, -1},
	{"list", "", "list products, filtered, by sku", list_opts, cmd_list, 0, 0},
	{"set", "SKU FIELD=VALUE|FIELD:=JSON...", "change fields of one product", NULL, cmd_set, 2, -1},
	{"patch", "", "apply partial records from stdin (all or nothing)", NULL, cmd_patch, 0, 0},
	{"rm", "SKU...", "archive products (orders keep their history)", NULL, cmd_rm, 0, -1},
	{"export", "", "every product, in the form import takes", NULL, cmd_export, 0, 0},
	{"image add", "SKU FILE|URL", "store an image and add it to a product", NULL, cmd_image_add, 2, 2},
	{"image ls", "SKU", "list a product's images", NULL, cmd_image_ls, 1, 1},
	{"publish", "DIR", "static export of active products and images for a CDN", NULL, cmd_publish, 1, 1},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-catalog", "products, variants and images of the shop's catalog", cmds)
