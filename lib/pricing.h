/* pricing: a cart's lines, tax rules, shipping and promotions in, a priced
 * quote out. Pure computation in integer minor units: no SQL, no I/O; the
 * caller (cart) gathers the inputs.
 *
 * The one rounding rule of shop (shop(7)): half away from zero, per line.
 * A percentage discount and a tax are computed and rounded on each line,
 * so the order's figures are sums of line figures; a fixed discount is
 * split over the lines in proportion to their amounts, the rounding
 * remainder going to the lines with the largest remainders, so the shares
 * add up exactly. The quote's total is the sum of its lines' totals plus
 * shipping, always. */
#ifndef SHOP_PRICING_H
#define SHOP_PRICING_H

#include <jv.h>
#include "shop.h"

struct jqx;

typedef struct price_line {
	const char *sku, *title, *tax_class;
	int64_t qty, unit_price;
} price_line;

/* A tax rate as an exact fraction of one: num/den percent. */
typedef struct tax_rate {
	int64_t num, den; /* 19% = 19/1, 8.875% = 8875/1000 */
	int inclusive;    /* prices include the tax (VAT style) */
} tax_rate;

/* A promotion as defined (promo add), checked; strings borrowed. */
typedef struct promo {
	const char *code, *type; /* percent | fixed | buy_x_get_y | free_shipping */
	int64_t pct_num, pct_den;  /* percent: the value as a fraction */
	int64_t amount;            /* fixed: minor units */
	int64_t buy, get;          /* buy_x_get_y */
	jv skus;                   /* array of skus it applies to; null: all */
	int64_t min_subtotal;      /* 0: none */
	struct jqx *condition;     /* NULL: none */
	const char *starts_at, *ends_at; /* NULL: open (as given, for messages) */
	int64_t starts_ms, ends_ms;      /* the same as instants */
	int64_t max_uses, uses, max_per_customer, customer_uses; /* 0 max: unlimited */
	int64_t lane;
	int known;                 /* 0: the code is not defined */
} promo;

typedef struct price_input {
	const char *currency;
	price_line *lines;
	size_t nlines;
	tax_rate *rates;      /* per line */
	promo *promos;        /* requested, in the order asked */
	size_t npromos;
	int64_t shipping_flat, free_over; /* free_over 0: never free */
	int64_t now_ms;       /* for promotion windows */
	jv cart;              /* the cart record jq conditions see (borrowed) */
	int explain;
} price_input;

/* Price the input into a quote record (the fields of shop-records(5)
 * "quote" from lines on; the caller adds who and where). SHOP_DATAERR on
 * overflow, SHOP_USAGE when a jq condition fails at run time. */
int price_quote(const price_input *in, jv *quote, shop_err *e);

/* Parse a decimal percentage ("19", "8.875", 12.5) into num/den. -1 when
 * not a decimal number within 0..100. */
int pct_parse(const char *s, int64_t *num, int64_t *den);

#endif
