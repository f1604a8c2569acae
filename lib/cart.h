/* cart: carts, the address book, promotions, quotes and checkout. Owns the
 * cart, cart_line, address and promotion tables; pricing does the sums;
 * checkout hands the frozen quote to order_create. */
#ifndef SHOP_CART_H
#define SHOP_CART_H

#include <jv.h>
#include "shop.h"

/* Add qty units of sku (qty > 0; refused for unknown (66), draft or
 * archived (1) products, and over cart.max_qty (1)). */
int cart_add(shop *s, const char *cart, const char *sku, int64_t qty, shop_emit emit, void *arg);
/* Add several lines in one transaction: all or nothing. label(i) names
 * line i in messages. Prints the cart once, as it ends up. */
int cart_add_many(shop *s, const char *cart, const char *const *skus, const int64_t *qtys, size_t n,
                  const char *(*label)(void *, size_t), void *larg, shop_emit emit, void *arg);
/* Set the quantity of a line (qty > 0). */
int cart_set(shop *s, const char *cart, const char *sku, int64_t qty, shop_emit emit, void *arg);
int cart_rm(shop *s, const char *cart, const char *sku, shop_emit emit, void *arg);
int cart_show(shop *s, const char *cart, shop_emit emit, void *arg);
int cart_clear(shop *s, const char *cart, shop_emit emit, void *arg);
/* Move the lines of from into to (quantities add up); from is removed. */
int cart_merge(shop *s, const char *from, const char *to, shop_emit emit, void *arg);
/* Remove open carts not changed for older_ms. */
int cart_expire(shop *s, int64_t older_ms, shop_emit emit, void *arg);

/* An address: fields of shop-records(5) "address" (NULL: absent). */
typedef struct address_in {
	const char *name, *line1, *line2, *city, *region, *postal, *country, *email, *phone;
} address_in;
int address_add(shop *s, const char *customer, const address_in *a, shop_emit emit, void *arg);
int address_ls(shop *s, const char *customer, shop_emit emit, void *arg);

/* Define promotions (records, an array, consumed): all or nothing; a
 * definition with a broken jq condition is refused (65). label(i) names
 * record i in messages. */
int promo_add_all(shop *s, jv defs, const char *(*label)(void *, size_t), void *larg, shop_emit emit, void *arg);
int promo_ls(shop *s, shop_emit emit, void *arg);
int promo_rm(shop *s, const char *code, shop_emit emit, void *arg);

typedef struct quote_opts {
	const char *cart, *customer, *address;
	const char **codes;
	size_t ncodes;
	int explain;
	const char *payment; /* checkout only */
} quote_opts;

int cart_quote(shop *s, const quote_opts *o, shop_emit emit, void *arg);
/* Freeze the quote into a pending order (idempotent per cart). */
int cart_checkout(shop *s, const quote_opts *o, shop_emit emit, void *arg);

#endif
