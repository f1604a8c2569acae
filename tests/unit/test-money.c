/* test-money: currencies, exact parsing, formatting, checked arithmetic and
 * half-away-from-zero rounding. */
#include "t.h"

#include <stdint.h>
#include <string.h>

#include "money.h"

static const currency *usd, *jpy, *kwd, *clf;

/* Parse s in c; the value, or a sentinel that no test expects. */
#define BAD INT64_C(0x5a5a5a5a5a5a5a5a)
static int64_t parse(const char *s, const currency *c)
{
	shop_err e = {0};
	int64_t v = BAD;
	int r = money_parse_decimal(s, c, &v, &e);
	if (r) {
		CHECK_INT(r, SHOP_DATAERR);
		CHECK_INT(e.code, SHOP_DATAERR);
		CHECK(e.msg[0] != 0);
		CHECK(v == BAD); /* out untouched on error */
		return BAD;
	}
	CHECK_INT(e.code, 0);
	return v;
}

/* The error message for s in c. */
static const char *parse_err(const char *s, const currency *c)
{
	static shop_err e;
	int64_t v = 0;
	err_clear(&e);
	if (money_parse_decimal(s, c, &v, &e) == 0)
		return "(accepted)";
	return e.msg;
}

static const char *fmt(int64_t v, const currency *c)
{
	static char out[32];
	memset(out, 'x', sizeof out);
	money_format(v, c, out);
	return out;
}

static void test_currencies(void)
{
	usd = currency_find("USD");
	jpy = currency_find("JPY");
	kwd = currency_find("KWD");
	clf = currency_find("CLF");
	CHECK(usd && jpy && kwd && clf);
	CHECK_STR(usd->code, "USD");
	CHECK_INT(usd->exponent, 2);
	CHECK_INT(jpy->exponent, 0);
	CHECK_INT(kwd->exponent, 3);
	CHECK_INT(clf->exponent, 4);
	CHECK_INT(currency_find("EUR")->exponent, 2);
	CHECK_INT(currency_find("GBP")->exponent, 2);
	CHECK_INT(currency_find("CHF")->exponent, 2);

	static const char *zero[] = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF",
				     "XPF", "PYG", "RWF", "KMF", "GNF", "DJF", "BIF", "VUV", "UYI"};
	for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++) {
		const currency *c = currency_find(zero[i]);
		CHECK(c != NULL);
		if (c) {
			CHECK_STR(c->code, zero[i]);
			CHECK_INT(c->exponent, 0);
		}
	}
	static const char *three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
	for (size_t i = 0; i < sizeof three / sizeof three[0]; i++) {
		const currency *c = currency_find(three[i]);
		CHECK(c != NULL);
		if (c)
			CHECK_INT(c->exponent, 3);
	}
	CHECK_INT(currency_find("UYW")->exponent, 4);
	/* Every code of the table, with its exponent: bisection misses some
	 * if the table ever falls out of order. */
	static const char *all[] = {
		"AED2", "AFN2", "ALL2", "AMD2", "ANG2", "AOA2", "ARS2", "AUD2", "AWG2", "AZN2", "BAM2",
		"BBD2", "BDT2", "BGN2", "BHD3", "BIF0", "BMD2", "BND2", "BOB2", "BOV2", "BRL2", "BSD2",
		"BTN2", "BWP2", "BYN2", "BZD2", "CAD2", "CDF2", "CHE2", "CHF2", "CHW2", "CLF4", "CLP0",
		"CNY2", "COP2", "COU2", "CRC2", "CUC2", "CUP2", "CVE2", "CZK2", "DJF0", "DKK2", "DOP2",
		"DZD2", "EGP2", "ERN2", "ETB2", "EUR2", "FJD2", "FKP2", "GBP2", "GEL2", "GHS2", "GIP2",
		"GMD2", "GNF0", "GTQ2", "GYD2", "HKD2", "HNL2", "HTG2", "HUF2", "IDR2", "ILS2", "INR2",
		"IQD3", "IRR2", "ISK0", "JMD2", "JOD3", "JPY0", "KES2", "KGS2", "KHR2", "KMF0", "KPW2",
		"KRW0", "KWD3", "KYD2", "KZT2", "LAK2", "LBP2", "LKR2", "LRD2", "LSL2", "LYD3", "MAD2",
		"MDL2", "MGA2", "MKD2", "MMK2", "MNT2", "MOP2", "MRU2", "MUR2", "MVR2", "MWK2", "MXN2",
		"MXV2", "MYR2", "MZN2", "NAD2", "NGN2", "NIO2", "NOK2", "NPR2", "NZD2", "OMR3", "PAB2",
		"PEN2", "PGK2", "PHP2", "PKR2", "PLN2", "PYG0", "QAR2", "RON2", "RSD2", "RUB2", "RWF0",
		"SAR2", "SBD2", "SCR2", "SDG2", "SEK2", "SGD2", "SHP2", "SLE2", "SOS2", "SRD2", "SSP2",
		"STN2", "SVC2", "SYP2", "SZL2", "THB2", "TJS2", "TMT2", "TND3", "TOP2", "TRY2", "TTD2",
		"TWD2", "TZS2", "UAH2", "UGX0", "USD2", "USN2", "UYI0", "UYU2", "UYW4", "UZS2", "VED2",
		"VES2", "VND0", "VUV0", "WST2", "XAF0", "XCD2", "XCG2", "XOF0", "XPF0", "YER2", "ZAR2",
		"ZMW2", "ZWG2",
	};
	int missing = 0;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		char code[4];
		memcpy(code, all[i], 3);
		code[3] = 0;
		const currency *c = currency_find(code);
		if (!c || strcmp(c->code, code) || c->exponent != all[i][3] - '0')
			missing++;
	}
	CHECK_INT(missing, 0);
	CHECK_INT(sizeof all / sizeof all[0], 167);
	/* The first and last entries, so a bisection off by one shows. */
	CHECK(currency_find("AED") != NULL);
	CHECK(currency_find("ZWG") != NULL);

	CHECK(currency_find("usd") == NULL);
	CHECK(currency_find("Usd") == NULL);
	CHECK(currency_find("X" "XX") == NULL); /* ISO's "no currency" code is left out */
	CHECK(currency_find("ABC") == NULL);
	CHECK(currency_find("XAU") == NULL); /* no minor unit */
	CHECK(currency_find("HRK") == NULL); /* withdrawn in 2023 */
	CHECK(currency_find("USDX") == NULL);
	CHECK(currency_find("US") == NULL);
	CHECK(currency_find("") == NULL);
	CHECK(currency_find(NULL) == NULL);
	CHECK(currency_find("USD ") == NULL);
}

static void test_parse(void)
{
	CHECK_INT(parse("19.99", usd), 1999);
	CHECK_INT(parse("20", usd), 2000);
	CHECK_INT(parse("19.9", usd), 1990);
	CHECK_INT(parse("0", usd), 0);
	CHECK_INT(parse("0.00", usd), 0);
	CHECK_INT(parse("-0", usd), 0);
	CHECK_INT(parse("-0.00", usd), 0);
	CHECK_INT(parse("-0.05", usd), -5);
	CHECK_INT(parse("-0.5", usd), -50);
	CHECK_INT(parse("-12.34", usd), -1234);
	CHECK_INT(parse("007.50", usd), 750); /* leading zeros allowed */
	CHECK_INT(parse("0000000000000000000000001", usd), 100);
	CHECK_INT(parse("1999", jpy), 1999);
	CHECK_INT(parse("-1999", jpy), -1999);
	CHECK_INT(parse("1.234", kwd), 1234);
	CHECK_INT(parse("1.2", kwd), 1200);
	CHECK_INT(parse("1", kwd), 1000);
	CHECK_INT(parse("0.0001", clf), 1);

	/* The int64 limits are reachable exactly, and one past is refused. */
	CHECK(parse("92233720368547758.07", usd) == INT64_MAX);
	CHECK(parse("-92233720368547758.08", usd) == INT64_MIN);
	CHECK(parse("92233720368547758.08", usd) == BAD);
	CHECK(parse("-92233720368547758.09", usd) == BAD);
	CHECK(parse("9223372036854775807", jpy) == INT64_MAX);
	CHECK(parse("-9223372036854775808", jpy) == INT64_MIN);
	CHECK(parse("9223372036854775808", jpy) == BAD);
	CHECK(parse("-9223372036854775809", jpy) == BAD);
	CHECK(parse("92233720368547758", usd) == INT64_C(9223372036854775800));
	CHECK(parse("92233720368547759", usd) == BAD); /* overflows on scaling */
	CHECK(parse("99999999999999999999999999", usd) == BAD);
	CHECK(parse("18446744073709551616", jpy) == BAD); /* wraps to 0 in uint64 */
	CHECK(parse("922337203685477.5807", clf) == INT64_MAX);

	/* Refused: documented in money.h and here. */
	CHECK(parse("", usd) == BAD);
	CHECK(parse("-", usd) == BAD);
	CHECK(parse(".", usd) == BAD);
	CHECK(parse(".5", usd) == BAD);   /* a digit is required before the point */
	CHECK(parse("5.", usd) == BAD);   /* and after it */
	CHECK(parse("-.5", usd) == BAD);
	CHECK(parse("+1", usd) == BAD);
	CHECK(parse("--1", usd) == BAD);
	CHECK(parse("1e3", usd) == BAD);
	CHECK(parse("1E3", usd) == BAD);
	CHECK(parse("1.5e2", usd) == BAD);
	CHECK(parse(" 1", usd) == BAD);
	CHECK(parse("1 ", usd) == BAD);
	CHECK(parse("1\n", usd) == BAD);
	CHECK(parse("1,00", usd) == BAD);
	CHECK(parse("1_000", usd) == BAD);
	CHECK(parse("1.2.3", usd) == BAD);
	CHECK(parse("0x10", usd) == BAD);
	CHECK(parse("abc", usd) == BAD);
	CHECK(parse("$1", usd) == BAD);
	CHECK(parse("1 USD", usd) == BAD);
	CHECK(parse("NaN", usd) == BAD);
	CHECK(parse("inf", usd) == BAD);
	CHECK(parse("\xd9\xa1", usd) == BAD); /* ARABIC-INDIC DIGIT ONE */
	CHECK(parse("19.999", usd) == BAD);
	CHECK(parse("19.990", usd) == BAD); /* exact, but more digits than USD has */
	CHECK(parse("1.5", jpy) == BAD);
	CHECK(parse("1.0", jpy) == BAD);
	CHECK(parse("1.2345", kwd) == BAD);
	CHECK(parse(NULL, usd) == BAD);
	CHECK(parse("1", NULL) == BAD);

	/* Messages name the value and say what is wrong. */
	CHECK_STR(parse_err("19.999", usd), "\"19.999\": more decimals than USD has (2)");
	CHECK_STR(parse_err("1.5", jpy), "\"1.5\": more decimals than JPY has (0)");
	CHECK_STR(parse_err("1e3", usd), "\"1e3\": not a decimal amount");
	CHECK_STR(parse_err("1.234x", usd), "\"1.234x\": not a decimal amount");
	CHECK_STR(parse_err("92233720368547758.08", usd),
		  "\"92233720368547758.08\": amount out of range for USD");
	CHECK_STR(parse_err("1", NULL), "\"1\": unknown currency");
	/* Long or control-laden input is bounded and kept on one line. */
	const char *m = parse_err("12345678901234567890123456789012345678901234567890x", usd);
	CHECK(strlen(m) < 80);
	CHECK(strstr(m, "...") != NULL);
	CHECK(strchr(parse_err("1\n2", usd), '\n') == NULL);

	/* The first error sticks. */
	shop_err e = {0};
	int64_t v = 7;
	CHECK_INT(money_parse_decimal("x", usd, &v, &e), SHOP_DATAERR);
	CHECK_INT(money_parse_decimal("y", usd, &v, &e), SHOP_DATAERR);
	CHECK_STR(e.msg, "\"x\": not a decimal amount");
	CHECK_INT(v, 7);
}

static void test_format(void)
{
	CHECK_STR(fmt(1999, usd), "19.99");
	CHECK_STR(fmt(2000, usd), "20.00");
	CHECK_STR(fmt(0, usd), "0.00");
	CHECK_STR(fmt(5, usd), "0.05");
	CHECK_STR(fmt(50, usd), "0.50");
	CHECK_STR(fmt(-5, usd), "-0.05");
	CHECK_STR(fmt(-1234, usd), "-12.34");
	CHECK_STR(fmt(1999, jpy), "1999");
	CHECK_STR(fmt(0, jpy), "0");
	CHECK_STR(fmt(-7, jpy), "-7");
	CHECK_STR(fmt(1, kwd), "0.001");
	CHECK_STR(fmt(1234, kwd), "1.234");
	CHECK_STR(fmt(1, clf), "0.0001");
	CHECK_STR(fmt(INT64_MAX, usd), "92233720368547758.07");
	CHECK_STR(fmt(INT64_MIN, usd), "-92233720368547758.08");
	CHECK_STR(fmt(INT64_MAX, jpy), "9223372036854775807");
	CHECK_STR(fmt(INT64_MIN, jpy), "-9223372036854775808");
	CHECK_STR(fmt(INT64_MIN, clf), "-922337203685477.5808");

	/* Format then parse is the identity, across magnitudes and exponents. */
	const currency *cs[] = {usd, jpy, kwd, clf};
	int64_t vals[] = {0, 1, -1, 9, 10, 99, 100, 101, 123456789, -987654321,
			  INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
	int bad = 0;
	for (size_t i = 0; i < 4; i++)
		for (size_t j = 0; j < sizeof vals / sizeof vals[0]; j++) {
			char out[32];
			money_format(vals[j], cs[i], out);
			if (parse(out, cs[i]) != vals[j])
				bad++;
		}
	CHECK_INT(bad, 0);
}

static void test_arith(void)
{
	int64_t r = 42;
	CHECK_INT(money_add(1, 2, &r), 0);
	CHECK_INT(r, 3);
	CHECK_INT(money_add(INT64_MAX, 0, &r), 0);
	CHECK(r == INT64_MAX);
	r = 42;
	CHECK_INT(money_add(INT64_MAX, 1, &r), -1);
	CHECK_INT(r, 42); /* untouched */
	CHECK_INT(money_add(INT64_MIN, -1, &r), -1);
	CHECK_INT(money_add(INT64_MIN, INT64_MAX, &r), 0);
	CHECK_INT(r, -1);

	CHECK_INT(money_sub(5, 7, &r), 0);
	CHECK_INT(r, -2);
	r = 42;
	CHECK_INT(money_sub(INT64_MIN, 1, &r), -1);
	CHECK_INT(money_sub(0, INT64_MIN, &r), -1);
	CHECK_INT(money_sub(INT64_MAX, -1, &r), -1);
	CHECK_INT(r, 42);
	CHECK_INT(money_sub(-1, INT64_MAX, &r), 0);
	CHECK(r == INT64_MIN);

	CHECK_INT(money_mul(1999, 3, &r), 0);
	CHECK_INT(r, 5997);
	CHECK_INT(money_mul(-1999, 3, &r), 0);
	CHECK_INT(r, -5997);
	r = 42;
	CHECK_INT(money_mul(INT64_MAX, 2, &r), -1);
	CHECK_INT(money_mul(INT64_MIN, -1, &r), -1);
	CHECK_INT(money_mul(INT64_C(4294967296), INT64_C(4294967296), &r), -1);
	CHECK_INT(r, 42);
	CHECK_INT(money_mul(INT64_MIN, 1, &r), 0);
	CHECK(r == INT64_MIN);
	CHECK_INT(money_mul(INT64_MAX, -1, &r), 0);
	CHECK(r == -INT64_MAX);
}

static int64_t md(int64_t a, int64_t num, int64_t den)
{
	int64_t r = BAD;
	if (money_muldiv(a, num, den, &r))
		return BAD;
	return r;
}

static void test_muldiv(void)
{
	CHECK_INT(md(1005, 10, 100), 101);   /* 100.5 -> 101, the header's example */
	CHECK_INT(md(-1005, 10, 100), -101); /* -100.5 -> -101: away from zero */
	CHECK_INT(md(1005, -10, 100), -101);
	CHECK_INT(md(-1005, -10, 100), 101);
	CHECK_INT(md(1, 1, 2), 1);    /* 0.5 */
	CHECK_INT(md(-1, 1, 2), -1);  /* -0.5 */
	CHECK_INT(md(3, 1, 2), 2);    /* 1.5 */
	CHECK_INT(md(5, 1, 2), 3);    /* 2.5: not banker's rounding */
	CHECK_INT(md(-5, 1, 2), -3);
	CHECK_INT(md(1004, 10, 100), 100); /* 100.4 */
	CHECK_INT(md(1006, 10, 100), 101); /* 100.6 */
	CHECK_INT(md(-1004, 10, 100), -100);
	CHECK_INT(md(-1006, 10, 100), -101);
	CHECK_INT(md(1, 1, 3), 0);    /* 0.333 */
	CHECK_INT(md(2, 1, 3), 1);    /* 0.667 */
	CHECK_INT(md(-2, 1, 3), -1);
	CHECK_INT(md(-1, 1, 3), 0);
	CHECK_INT(md(0, 7, 9), 0);
	CHECK_INT(md(1999, 8, 100), 160);   /* 8% of 19.99 = 1.5992 */
	CHECK_INT(md(1999, 825, 10000), 165); /* 8.25%: 164.9175 */
	CHECK_INT(md(12345, 1, 1), 12345);

	/* The 128-bit intermediate: a * num overflows int64 but the result fits. */
	CHECK(md(INT64_MAX, INT64_MAX, INT64_MAX) == INT64_MAX);
	CHECK(md(INT64_MIN, INT64_MAX, INT64_MAX) == INT64_MIN);
	CHECK(md(INT64_MAX, 3, 3) == INT64_MAX);
	CHECK(md(INT64_MAX, 2, 4) == INT64_C(4611686018427387904)); /* x.5 rounds up */
	CHECK(md(INT64_MIN, 1, 2) == INT64_C(-4611686018427387904));
	CHECK(md(INT64_MIN, INT64_MIN, INT64_MIN) == BAD); /* den <= 0 */
	CHECK(md(INT64_MIN, -1, 1) == BAD);  /* 2^63 does not fit */
	CHECK(md(INT64_MAX, 2, 1) == BAD);
	CHECK(md(INT64_MAX, 3, 2) == BAD);
	CHECK(md(1, 1, 0) == BAD);
	CHECK(md(1, 1, -2) == BAD);
	/* Rounding can itself overflow: INT64_MAX + 0.5 rounds out of range. */
	CHECK(md(INT64_MAX, 2 * INT64_C(1000000000) + 1, 2 * INT64_C(1000000000)) == BAD);
	int64_t r = 42;
	CHECK_INT(money_muldiv(INT64_MAX, 2, 1, &r), -1);
	CHECK_INT(r, 42);
}

int main(void)
{
	test_currencies();
	if (!usd || !jpy || !kwd || !clf)
		return t_done();
	test_parse();
	test_format();
	test_arith();
	test_muldiv();
	return t_done();
}
