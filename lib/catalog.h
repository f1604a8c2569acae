/* catalog: products, their variants and images, the catalog cache, and
 * the static export. Owns the product and image tables.
 *
 * A product record (shop-records(5)) is validated in one place
 * (catalog_check) whichever way it arrives: import, patch or set. Every
 * write stores the product twice over: content (the export form, fixed key
 * order) and doc (the printed record: content plus version and times), so
 * that get, list and export print stored bytes without building JSON. */
#ifndef SHOP_CATALOG_H
#define SHOP_CATALOG_H

#include <jv.h>
#include <stdio.h>
#include "shop.h"

struct jqx;

/* Called once per record; return nonzero to stop early. */
typedef int (*catalog_emit)(void *arg, const char *json, size_t len);

typedef struct catalog_filter {
	const char *category, *brand, *family;
	const char *status;   /* NULL: all but archived; "any": all */
	const char *after;    /* keyset: skus after this one */
	long long limit;      /* 0: no limit */
	struct jqx *where;    /* NULL: no jq filter */
} catalog_filter;

/* Upsert every product record of in (JSON lines; name for messages) in one
 * transaction. All or nothing unless rejects is set: then good records are
 * written and each bad line goes to rejects as a "reject" record. *c
 * counts what became of the records read. */
int catalog_import(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c);

/* The status of a product ("active", "draft", "archived") into status;
 * SHOP_NOTFOUND with e set ("sku 'X': no such product") when there is
 * none. For the programs that sell or stock what the catalog holds. */
int catalog_status(shop *s, const char *sku, char status[16], shop_err *e);

/* Print the product with this sku through emit; SHOP_NOTFOUND when none. */
int catalog_get(shop *s, const char *sku, catalog_emit emit, void *arg);
int catalog_list(shop *s, const catalog_filter *f, catalog_emit emit, void *arg);
/* Every product (archived too) in export form, ordered by sku. */
int catalog_export(shop *s, catalog_emit emit, void *arg);

/* Apply merge patches (RFC 7386: objects merge, null removes) to the
 * products they name by "sku", in one transaction: all or nothing. A patch
 * holding "version" applies only to that version (else SHOP_TEMPFAIL: the
 * product changed since it was read). patches (an array) is consumed; each
 * result is emitted. label(i) names patch i in messages (may be NULL). */
int catalog_patch(shop *s, jv patches, const char *(*label)(void *, size_t), void *larg, catalog_emit emit,
                  void *arg);

/* Build the merge patch of "FIELD=VALUE" (a string) or "FIELD:=JSON" (any
 * JSON) arguments; FIELD may be a dotted path into options or attributes. */
int catalog_assignments(shop *s, const char *sku, char **args, int n, jv *patch);

/* Store an image file (or fetch a URL) under the store's data directory,
 * named by its sha256, and add it to the product's images. *rec: the image
 * record. */
int catalog_image_add(shop *s, const char *sku, const char *src, jv *rec);
int catalog_image_ls(shop *s, const char *sku, catalog_emit emit, void *arg);

/* Static export of the active products and their images into dir. */
int catalog_publish(shop *s, const char *dir, jv *summary);

#endif
