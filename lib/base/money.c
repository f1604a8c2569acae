/* money: see money.h. No floating point anywhere: every amount is an int64
 * count of minor units and every conversion is digit by digit. */
#include "money.h"

#include <stdlib.h>
#include <string.h>

/* ISO 4217 active codes (list one, including fund codes) with their minor
 * units. Codes whose minor unit is "N.A." (XAU, XDR, XTS, ...) are left out:
 * an amount in them has no defined minor unit to count in. Sorted by code so
 * currency_find can bisect; test-money looks up every code, which would
 * fail if the order broke. */
static const currency currencies[] = {
	{"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2},
	{"ARS", 2}, {"AUD", 2}, {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2},
	{"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0}, {"BMD", 2}, {"BND", 2},
	{"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
	{"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2},
	{"CHW", 2}, {"CLF", 4}, {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2},
	{"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2}, {"CZK", 2}, {"DJF", 0},
	{"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
	{"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2},
	{"GIP", 2}, {"GMD", 2}, {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2},
	{"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2}, {"ILS", 2}, {"INR", 2},
	{"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
	{"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0},
	{"KWD", 3}, {"KYD", 2}, {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2},
	{"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2}, {"MDL", 2}, {"MGA", 2},
	{"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
	{"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2},
	{"NAD", 2}, {"NGN", 2}, {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2},
	{"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2}, {"PHP", 2}, {"PKR", 2},
	{"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
	{"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2},
	{"SGD", 2}, {"SHP", 2}, {"SLE", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2},
	{"STN", 2}, {"SVC", 2}, {"SYP", 2}, {"SZL", 2}, {"THB", 2}, {"TJS", 2},
	{"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2}, {"TWD", 2},
	{"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0},
	{"UYU", 2}, {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0},
	{"VUV", 0}, {"WST", 2}, {"XAF", 0}, {"XCD", 2}, {"XCG", 2}, {"XOF", 0},
	{"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
};

static int currency_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const currency *)elem)->code);
}

const currency *currency_find(const char *code)
{
	if (!code || strlen(code) != 3)
		return NULL;
	return bsearch(code, currencies, sizeof currencies / sizeof currencies[0],
		       sizeof currencies[0], currency_cmp);
}

/* The value quoted in an error message: bounded, and with control bytes
 * replaced, so a hostile input cannot break the one-line diagnostic. */
static void quote(const char *s, char out[48])
{
	size_t i = 0, max = 40;
	for (; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		out[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (s[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = 0;
}

int money_parse_decimal(const char *s, const currency *c, int64_t *out, shop_err *e)
{
	char q[48];
	if (!s)
		return err_set(e, SHOP_DATAERR, "missing amount");
	quote(s, q);
	if (!c)
		return err_set(e, SHOP_DATAERR, "\"%s\": unknown currency", q);

	const char *p = s;
	int neg = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	/* A digit is required before the point and after it, so ".5" and "5."
	 * are refused like junk: they are typos more often than intent. */
	if (*p < '0' || *p > '9')
		return err_set(e, SHOP_DATAERR, "\"%s\": not a decimal amount", q);

	/* Accumulate towards the sign so INT64_MIN itself is reachable. */
	int64_t v = 0;
	int overflow = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		int64_t d = *p - '0';
		overflow |= __builtin_mul_overflow(v, 10, &v);
		overflow |= neg ? __builtin_sub_overflow(v, d, &v)
				: __builtin_add_overflow(v, d, &v);
	}
	int decimals = 0;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return err_set(e, SHOP_DATAERR, "\"%s\": not a decimal amount", q);
		for (; *p >= '0' && *p <= '9'; p++) {
			if (++decimals > c->exponent)
				break;
			int64_t d = *p - '0';
			overflow |= __builtin_mul_overflow(v, 10, &v);
			overflow |= neg ? __builtin_sub_overflow(v, d, &v)
					: __builtin_add_overflow(v, d, &v);
		}
	}
	/* Junk is reported before excess decimals: "1.234x" is not an amount. */
	const char *rest = p;
	while (*rest >= '0' && *rest <= '9')
		rest++;
	if (*rest)
		return err_set(e, SHOP_DATAERR, "\"%s\": not a decimal amount", q);
	if (decimals > c->exponent)
		return err_set(e, SHOP_DATAERR, "\"%s\": more decimals than %s has (%d)",
			       q, c->code, c->exponent);
	for (; decimals < c->exponent; decimals++)
		overflow |= __builtin_mul_overflow(v, 10, &v);
	if (overflow)
		return err_set(e, SHOP_DATAERR, "\"%s\": amount out of range for %s", q, c->code);
	*out = v;
	return 0;
}

void money_format(int64_t minor, const currency *c, char out[32])
{
	int exp = c ? c->exponent : 0;
	/* Work on the magnitude as unsigned so INT64_MIN has one too. */
	uint64_t m = minor < 0 ? -(uint64_t)minor : (uint64_t)minor;
	char tmp[32];
	int n = 0;
	/* Digits right to left, at least exp + 1 of them: 5 cents is "0.05". */
	while (m || n <= exp) {
		if (exp && n == exp)
			tmp[n++] = '.';
		tmp[n++] = (char)('0' + m % 10);
		m /= 10;
	}
	int k = 0;
	if (minor < 0)
		out[k++] = '-';
	while (n)
		out[k++] = tmp[--n];
	out[k] = 0;
}

int money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;
	if (__builtin_add_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int money_sub(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;
	if (__builtin_sub_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int money_mul(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;
	if (__builtin_mul_overflow(a, b, &r))
		return -1;
	*out = r;
	return 0;
}

int money_muldiv(int64_t a, int64_t num, int64_t den, int64_t *out)
{
	if (den <= 0)
		return -1;
	/* |a * num| < 2^126, so the product and 2 * remainder both fit. */
	__int128 p = (__int128)a * num;
	__int128 q = p / den, r = p % den;
	__int128 ar = r < 0 ? -r : r;
	if (2 * ar >= den)
		q += p < 0 ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN)
		return -1;
	*out = (int64_t)q;
	return 0;
}
