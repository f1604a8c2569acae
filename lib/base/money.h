/* money: integer minor units, ISO 4217 exponents, exact decimal parsing,
 * overflow-checked arithmetic and the one rounding rule of shop:
 * half away from zero (documented in shop(7)). Knows nothing of JSON. */
#ifndef SHOP_MONEY_H
#define SHOP_MONEY_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

typedef struct currency {
	const char *code; /* "USD" */
	int exponent;     /* 2 for USD, 0 for JPY, 3 for KWD */
} currency;

/* ISO 4217 active codes; upper case only. NULL when unknown. */
const currency *currency_find(const char *code);

/* Exact decimal string -> minor units: "19.99" USD -> 1999, "20" -> 2000,
 * "-0.5" -> -50, "1999" JPY -> 1999. Refused (SHOP_DATAERR, e set with a
 * message that names the value): empty, junk, exponents, more decimals than
 * the currency has, overflow. Leading '+' is refused; leading zeros allowed.
 * Grammar: -?[0-9]+(\.[0-9]+)? with at most exponent decimals, so ".5",
 * "5.", " 1", "1e3" and "1,00" are refused, and so is "19.990" USD (even
 * zeros past the exponent); "-0" is 0. out is untouched on error. */
int money_parse_decimal(const char *s, const currency *c, int64_t *out, shop_err *e);

/* Format minor units as a plain decimal: 1999 USD -> "19.99", -5 -> "-0.05",
 * JPY 1999 -> "1999". out needs 32 bytes. */
void money_format(int64_t minor, const currency *c, char out[32]);

/* Checked arithmetic: 0 on success, -1 on overflow (out untouched). */
int money_add(int64_t a, int64_t b, int64_t *out);
int money_sub(int64_t a, int64_t b, int64_t *out);
int money_mul(int64_t a, int64_t b, int64_t *out);
/* a * num / den rounded half away from zero, exact (128-bit intermediate).
 * den > 0. -1 on overflow of the result. Used for tax and percentages:
 * 10% of 1005 = money_muldiv(1005, 10, 100) = 101 (100.5 rounds away). */
int money_muldiv(int64_t a, int64_t num, int64_t den, int64_t *out);

#endif
