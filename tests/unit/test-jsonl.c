/* test-jsonl: lib/base/json (the strict parser and the compact writer) and
 * lib/base/jsonl (the line reader, the record helpers, the writer). Every
 * jv made here is freed exactly once: run under ASan with leak detection. */
#include "json.h"
#include "jsonl.h"
#include "t.h"

#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---- */

static char errbuf[256];

/* Parse s (n bytes); 0 and *out, or -1 and errbuf. */
static int parse_n(const char *s, size_t n, jv *out)
{
	return json_parse(s, n, out, errbuf, sizeof errbuf);
}

static int parse(const char *s, jv *out)
{
	return parse_n(s, strlen(s), out);
}

/* 1 when s is refused, with a message containing want (NULL: any). */
static int refused(const char *s, const char *want)
{
	jv v;
	errbuf[0] = 0;
	if (parse(s, &v) == 0) {
		fprintf(stderr, "accepted: %s\n", s);
		jv_free(v);
		return 0;
	}
	if (!errbuf[0] || (want && !strstr(errbuf, want))) {
		fprintf(stderr, "refused %s with \"%s\", want \"%s\"\n", s, errbuf, want ? want : "");
		return 0;
	}
	return 1;
}

static char dumped[4096];

/* json_dump of v (consumed) as a C string in dumped. */
static const char *dump(jv v)
{
	buf b = {0};
	json_dump(v, &b);
	jv_free(v);
	snprintf(dumped, sizeof dumped, "%s", buf_str(&b));
	buf_free(&b);
	return dumped;
}

/* Parse s and dump it again: the canonical compact form, or "ERR". */
static const char *reparse(const char *s)
{
	jv v;
	if (parse(s, &v))
		return "ERR";
	return dump(v);
}

/* Parse s, which must be a number; its value, or NAN. */
static double num(const char *s)
{
	jv v;
	if (parse(s, &v))
		return NAN;
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;
	jv_free(v);
	return d;
}

/* ---- json_parse: types, nesting, whitespace, trailing data ---- */

static void test_types(void)
{
	jv v;
	CHECK_INT(parse("null", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_NULL);
	jv_free(v);
	CHECK_INT(parse("true", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_TRUE);
	jv_free(v);
	CHECK_INT(parse("false", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_FALSE);
	jv_free(v);
	CHECK_INT(parse("-12.5e1", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_NUMBER && jv_number_value(v) == -125.0);
	jv_free(v);
	CHECK_INT(parse("\"h\\u00e9\"", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_STRING);
	CHECK_STR(jv_string_value(v), "h\xc3\xa9");
	jv_free(v);
	CHECK_INT(parse("[]", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_ARRAY);
	CHECK_INT(jv_array_length(v), 0);
	CHECK_INT(parse("{}", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_OBJECT);
	CHECK_INT(jv_object_length(v), 0);
	CHECK_INT(parse("[1,\"a\",null,true,false,[2],{\"k\":3}]", &v), 0);
	CHECK(jv_get_kind(v) == JV_KIND_ARRAY);
	CHECK_INT(jv_array_length(jv_copy(v)), 7);
	jv e = jv_array_get(jv_copy(v), 6);
	CHECK(jv_get_kind(e) == JV_KIND_OBJECT);
	jv k = jv_object_get(e, jv_string("k"));
	CHECK(jv_get_kind(k) == JV_KIND_NUMBER && jv_number_value(k) == 3);
	jv_free(k);
	jv_free(v);

	/* Every type survives a dump, in canonical compact form. */
	CHECK_STR(reparse(" { \"a\" : [ 1 , 2.5 , \"x\" , null , true , false , { } , [ ] ] } "),
	          "{\"a\":[1,2.5,\"x\",null,true,false,{},[]]}");
	CHECK_STR(dump(jv_invalid()), "null");

	/* Whitespace: the four JSON ones around and between, nothing else. */
	CHECK_STR(reparse(" \t\r\n[ 1 ,\n2 ]\r\n \t"), "[1,2]");
	CHECK_STR(reparse("\n\n\"x\"\n"), "\"x\"");
	CHECK(refused("\f1", "unexpected character"));
	CHECK(refused("\v1", NULL));
	CHECK(refused("1\f", "more than one value"));
	CHECK(refused("\xc2\xa0" "1", NULL)); /* U+00A0 is not JSON whitespace */

	/* Empty and blank input. */
	CHECK(refused("", "unexpected end of input"));
	CHECK(refused("   ", "unexpected end of input"));

	/* Trailing garbage. */
	CHECK(refused("1 2", "more than one value"));
	CHECK(refused("{} {}", "more than one value"));
	CHECK(refused("{}x", "more than one value"));
	CHECK(refused("[1]]", "more than one value"));
	CHECK(refused("nullx", "more than one value"));
	CHECK(refused("truefalse", "more than one value"));
	/* The message gives the 1-based byte. */
	CHECK(refused("1 2", "byte 3: more than one value"));
	CHECK(refused("[1,]", "byte 4:"));
	CHECK(refused("{\"a\" 1}", "byte 6: expected ':'"));
	CHECK(refused("{\"a\":1 \"b\":2}", "expected ',' or '}'"));
	CHECK(refused("[1 2]", "expected ',' or ']'"));
	CHECK(refused("{1:2}", "expected a string key"));
	CHECK(refused("{\"a\":1,}", "expected a string key"));
	CHECK(refused("[", "unexpected end of input"));
	CHECK(refused("{\"a\":", "unexpected end of input"));
	CHECK(refused("{\"a\"", "expected ':'"));
	CHECK(refused("[1,", "unexpected end of input"));
	CHECK(refused("[1", "expected ',' or ']'"));
	CHECK(refused("tru", "unexpected character"));
	CHECK(refused("True", "unexpected character"));
	CHECK(refused("undefined", "unexpected character"));
	CHECK(refused("'a'", "unexpected character"));
	CHECK(refused("[1,,2]", NULL));
	CHECK(refused("{\"a\"::1}", NULL));
	/* A parse may be given a prefix of a longer buffer: n is the end. */
	CHECK_INT(parse_n("[1]xyz", 3, &v), 0);
	CHECK_STR(dump(v), "[1]");
	CHECK_INT(parse_n("123", 2, &v), 0);
	CHECK_STR(dump(v), "12");
	/* A NULL error buffer is allowed. */
	CHECK_INT(json_parse("[", 1, &v, NULL, 0), -1);
	/* A short error buffer is cut, still terminated. */
	char small[8];
	CHECK_INT(json_parse("[1 2]", 5, &v, small, sizeof small), -1);
	CHECK_INT(strlen(small), sizeof small - 1);
	/* A successful parse clears the error buffer. */
	snprintf(errbuf, sizeof errbuf, "stale");
	CHECK_INT(parse("1", &v), 0);
	CHECK_STR(errbuf, "");
	jv_free(v);
}

static void test_depth(void)
{
	/* JSON_MAX_DEPTH levels of arrays and objects parse; one more does not. */
	size_t d = JSON_MAX_DEPTH;
	buf b = {0};
	for (size_t i = 0; i < d; i++)
		buf_addc(&b, '[');
	for (size_t i = 0; i < d; i++)
		buf_addc(&b, ']');
	jv v;
	CHECK_INT(parse_n(b.p, b.len, &v), 0);
	buf c = {0};
	json_dump(v, &c);
	CHECK_INT(c.len, b.len);
	CHECK(memcmp(c.p, b.p, b.len) == 0);
	buf_free(&c);
	jv_free(v);

	buf_reset(&b);
	for (size_t i = 0; i <= d; i++)
		buf_addc(&b, '[');
	for (size_t i = 0; i <= d; i++)
		buf_addc(&b, ']');
	errbuf[0] = 0;
	CHECK_INT(parse_n(b.p, b.len, &v), -1);
	CHECK(strstr(errbuf, "nested too deeply") != NULL);
	CHECK(strstr(errbuf, "byte 257:") != NULL);

	/* Objects and arrays mixed count alike. */
	buf_reset(&b);
	for (size_t i = 0; i < d; i++)
		buf_adds(&b, i % 2 ? "[" : "{\"k\":");
	buf_adds(&b, "0");
	for (size_t i = d; i-- > 0;)
		buf_adds(&b, i % 2 ? "]" : "}");
	CHECK_INT(parse_n(b.p, b.len, &v), 0);
	jv_free(v);
	buf_reset(&b);
	for (size_t i = 0; i <= d; i++)
		buf_adds(&b, i % 2 ? "[" : "{\"k\":");
	buf_adds(&b, "0");
	for (size_t i = d + 1; i-- > 0;)
		buf_adds(&b, i % 2 ? "]" : "}");
	CHECK_INT(parse_n(b.p, b.len, &v), -1);
	CHECK(strstr(errbuf, "nested too deeply") != NULL);

	/* Depth is nesting, not count: many siblings at depth 1 are fine. */
	buf_reset(&b);
	buf_addc(&b, '[');
	for (size_t i = 0; i < 1000; i++)
		buf_adds(&b, i ? ",[]" : "[]");
	buf_addc(&b, ']');
	CHECK_INT(parse_n(b.p, b.len, &v), 0);
	CHECK_INT(jv_array_length(v), 1000);
	/* A deep bomb far past the limit fails fast, without a crash. */
	buf_reset(&b);
	for (size_t i = 0; i < 100000; i++)
		buf_addc(&b, '[');
	CHECK_INT(parse_n(b.p, b.len, &v), -1);
	CHECK(strstr(errbuf, "nested too deeply") != NULL);
	buf_free(&b);
}

static void test_numbers(void)
{
	/* Refused forms. */
	CHECK(refused("01", "leading zero"));
	CHECK(refused("-01", "leading zero"));
	CHECK(refused("00", "leading zero"));
	CHECK(refused("1.", "digits expected after '.'"));
	CHECK(refused("1.e5", "digits expected after '.'"));
	CHECK(refused(".5", "unexpected character"));
	CHECK(refused("-", "bad number"));
	CHECK(refused("-a", "bad number"));
	CHECK(refused("--1", "bad number"));
	CHECK(refused("1e", "digits expected in exponent"));
	CHECK(refused("1e+", "digits expected in exponent"));
	CHECK(refused("1E-", "digits expected in exponent"));
	CHECK(refused("+1", "unexpected character"));
	CHECK(refused("NaN", "unexpected character"));
	CHECK(refused("nan", "unexpected character"));
	CHECK(refused("-nan", "bad number"));
	CHECK(refused("Infinity", "unexpected character"));
	CHECK(refused("-Infinity", "bad number"));
	CHECK(refused("inf", "unexpected character"));
	CHECK(refused("0x10", "more than one value"));
	CHECK(refused("1e400", "number out of range"));
	CHECK(refused("-1e400", "number out of range"));
	CHECK(refused("[1e309]", "number out of range"));
	/* A number with a thousand digits is read (slow path), not cut. */
	{
		char big[1100];
		memset(big, '9', 1000);
		big[1000] = 0;
		CHECK(refused(big, "number out of range"));
		big[81] = 0; /* 81 nines: the same double as 1e81 */
		CHECK(num(big) == 1e81);
		jv v;
		memset(big, '0', 1000);
		big[0] = '1';
		big[1] = '.';
		big[1000] = 0;
		CHECK_INT(parse(big, &v), 0);
		CHECK(jv_number_value(v) == 1.0);
		jv_free(v);
	}

	/* Accepted forms and their values. */
	CHECK(num("0") == 0);
	CHECK(num("-0") == 0 && signbit(num("-0")));
	CHECK(num("0.5") == 0.5);
	CHECK(num("-0.0") == 0);
	CHECK(num("1e2") == 100);
	CHECK(num("1E+2") == 100);
	CHECK(num("1e-2") == 0.01);
	CHECK(num("0e0") == 0);
	CHECK(num("1e300") == 1e300);
	CHECK(num("-1.7976931348623157e308") == -1.7976931348623157e308);
	CHECK(num("1e-400") == 0); /* underflow is not refused: it reads as 0 */
	CHECK(num("4.9e-324") > 0);

	/* Writer: integers in plain digits, others shortest round-trip. */
	CHECK_STR(reparse("0"), "0");
	CHECK_STR(reparse("-0"), "-0");
	CHECK_STR(reparse("100"), "100");
	CHECK_STR(reparse("1e2"), "100");
	CHECK_STR(reparse("-42"), "-42");
	CHECK_STR(reparse("1999"), "1999");
	CHECK_STR(reparse("1.0"), "1");
	CHECK_STR(reparse("12345678901234567"), "12345678901234568");
	CHECK_STR(reparse("99999999999999990"), "99999999999999984");
	CHECK_STR(reparse("-99999999999999990"), "-99999999999999984");
	CHECK_STR(reparse("1e17"), "1e+17");
	CHECK_STR(reparse("1e300"), "1e+300");
	CHECK_STR(reparse("0.1"), "0.1");
	CHECK_STR(reparse("2.5"), "2.5");
	CHECK_STR(reparse("-0.001"), "-0.001");
	CHECK_STR(reparse("1e-7"), "1e-07");
	CHECK_STR(reparse("0.30000000000000004"), "0.30000000000000004");
	CHECK_STR(reparse("3.141592653589793"), "3.141592653589793");
	CHECK_STR(reparse("9007199254740992"), "9007199254740992");
	/* Numbers are doubles: 2^53+1 has no double and reads as 2^53. A
	 * record that needs exact integers beyond 2^53 must use a string. */
	CHECK_STR(reparse("9007199254740993"), "9007199254740992");
	CHECK(num("9007199254740993") == 9007199254740992.0);

	/* Round trip: dump then parse gives back the same double. */
	const double vals[] = {0.1, 0.2, 0.1 + 0.2, 1.0 / 3, -2.0 / 3, 1e300, -1e300, 1e-300, 5e-324,
	                       1.7976931348623157e308, 123456.789, 1e16, 1e17, 1e18, 123456789012345678.0,
	                       -0.0, 4503599627370496.5, 0.000001, 1e21, 19.99};
	for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
		buf b = {0};
		json_dump(jv_number(vals[i]), &b); /* a number jv needs no free */
		jv v;
		int rc = parse_n(b.p, b.len, &v);
		CHECK_INT(rc, 0);
		if (rc == 0) {
			CHECK(jv_get_kind(v) == JV_KIND_NUMBER);
			double back = jv_number_value(v);
			if (!(back == vals[i] && signbit(back) == signbit(vals[i])))
				fprintf(stderr, "round trip of %.17g gave %s\n", vals[i], b.p);
			CHECK(back == vals[i] && signbit(back) == signbit(vals[i]));
			jv_free(v);
		}
		buf_free(&b);
	}
	/* Decimals of up to 15 digits take a fast path: it must give strtod's
	 * double, bit for bit, whatever the digits and where the point is. */
	{
		unsigned long long x = 88172645463325252ull;
		for (int i = 0; i < 200000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			char text[40];
			int digits = 1 + (int)(x % 15), point = (int)((x >> 8) % (unsigned)(digits + 1));
			unsigned long long m = (x >> 12) % 1000000000000000ull;
			unsigned long long cut = 1;
			for (int j = 0; j < digits; j++)
				cut *= 10;
			int k = snprintf(text, sizeof text, "%s%0*llu", (x >> 40) & 1 ? "-" : "", digits, m % cut);
			if (point > 0 && point < digits) { /* d.ddd: a point inside the digits */
				memmove(text + k - point + 1, text + k - point, (size_t)point + 1);
				text[k - point] = '.';
			}
			const char *d = text + (text[0] == '-');
			if (d[0] == '0' && d[1] && d[1] != '.')
				continue; /* a leading zero: not JSON */
			double want = strtod(text, NULL), got = num(text);
			if (!(got == want && signbit(got) == signbit(want))) {
				fprintf(stderr, "fast path: %s gave %.17g, strtod %.17g\n", text, got, want);
				CHECK(0);
				break;
			}
		}
		CHECK(num("0.123456789") == strtod("0.123456789", NULL));
		CHECK(num("-12.5") == -12.5);
		CHECK(num("0.000000000000001") == 1e-15);
	}

	/* Non-finite numbers cannot be written as JSON: they become null. */
	CHECK_STR(dump(jv_number(NAN)), "null");
	CHECK_STR(dump(jv_number(INFINITY)), "null");
	CHECK_STR(dump(jv_number(-INFINITY)), "null");
}

static void test_strings(void)
{
	jv v;
	/* Every escape. */
	CHECK_INT(parse("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0041\\u00e9\\u20AC\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\" \\ / \b \f \n \r \t A\xc3\xa9\xe2\x82\xac");
	jv_free(v);
	CHECK(refused("\"\\x\"", "bad escape in string"));
	CHECK(refused("\"\\'\"", "bad escape in string"));
	CHECK(refused("\"\\U0041\"", "bad escape in string"));
	CHECK(refused("\"\\u00\"", "bad \\u escape"));
	CHECK(refused("\"\\u00g1\"", "bad \\u escape"));
	CHECK(refused("\"\\u12", "bad \\u escape"));
	CHECK(refused("\"\\", "unterminated string"));

	/* \u0000 is kept: a NUL inside the string, counted in its length. */
	CHECK_INT(parse("\"a\\u0000b\"", &v), 0);
	CHECK_INT(jv_string_length_bytes(jv_copy(v)), 3);
	CHECK(memcmp(jv_string_value(v), "a\0b", 3) == 0);
	CHECK_STR(dump(v), "\"a\\u0000b\"");
	CHECK_INT(parse("{\"k\\u0000\":1}", &v), 0);
	CHECK_STR(dump(v), "{\"k\\u0000\":1}");

	/* A surrogate pair becomes one 4-byte character. */
	CHECK_INT(parse("\"\\ud83d\\ude00\"", &v), 0);
	CHECK_INT(jv_string_length_bytes(jv_copy(v)), 4);
	CHECK_STR(jv_string_value(v), "\xf0\x9f\x98\x80");
	jv_free(v);
	CHECK_INT(parse("\"\\uD834\\uDD1E\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xf0\x9d\x84\x9e");
	jv_free(v);
	/* Lone surrogates become U+FFFD, and what follows is still read. */
	CHECK_INT(parse("\"a\\ud800b\"", &v), 0);
	CHECK_STR(jv_string_value(v), "a\xef\xbf\xbd" "b");
	jv_free(v);
	CHECK_INT(parse("\"\\udc00\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xef\xbf\xbd");
	jv_free(v);
	CHECK_INT(parse("\"\\ud800\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xef\xbf\xbd");
	jv_free(v);
	CHECK_INT(parse("\"\\ud800\\u0041\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xef\xbf\xbd" "A");
	jv_free(v);
	CHECK_INT(parse("\"\\ud800\\ud800\\udc00\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xef\xbf\xbd\xf0\x90\x80\x80");
	jv_free(v);
	CHECK_INT(parse("\"\\udc00\\ud800\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\xef\xbf\xbd\xef\xbf\xbd");
	jv_free(v);

	/* Raw control characters are refused; DEL (0x7f) is not a control
	 * character in JSON and is accepted. */
	CHECK(refused("\"a\nb\"", "control character in string"));
	CHECK(refused("\"a\tb\"", "control character in string"));
	CHECK(refused("\"\x01\"", "control character in string"));
	CHECK(refused("\"\x1f\"", "byte 2: control character"));
	CHECK_INT(parse_n("\"a\0b\"", 5, &v), -1);
	CHECK(strstr(errbuf, "control character") != NULL);
	CHECK_INT(parse("\"\x7f\"", &v), 0);
	CHECK_STR(jv_string_value(v), "\x7f");
	jv_free(v);

	/* Unterminated. */
	CHECK(refused("\"abc", "unterminated string"));
	CHECK(refused("\"abc\\\"", "unterminated string"));
	CHECK(refused("{\"abc", "unterminated string"));
	CHECK(refused("\"", "unterminated string"));

	/* UTF-8 is passed through as is, both ways. */
	CHECK_STR(reparse("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
	          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CHECK_STR(reparse("{\"\xc3\xa9\":\"\xc3\xa9\"}"), "{\"\xc3\xa9\":\"\xc3\xa9\"}");
	/* The empty string, and a long one. */
	CHECK_STR(reparse("\"\""), "\"\"");
	{
		buf b = {0};
		buf_addc(&b, '"');
		for (int i = 0; i < 3000; i++)
			buf_adds(&b, i % 10 ? "x" : "\\n");
		buf_addc(&b, '"');
		CHECK_INT(parse_n(b.p, b.len, &v), 0);
		CHECK_INT(jv_string_length_bytes(jv_copy(v)), 3000);
		buf c = {0};
		json_dump(v, &c);
		jv_free(v);
		CHECK_INT(c.len, b.len);
		CHECK(c.len == b.len && memcmp(c.p, b.p, b.len) == 0);
		buf_free(&c);
		buf_free(&b);
	}

	/* Writer escaping: " and \, the named controls, other controls and DEL
	 * as \u00XX; '/' is not escaped. */
	CHECK_STR(dump(jv_string("say \"hi\" \\ back/slash")), "\"say \\\"hi\\\" \\\\ back/slash\"");
	CHECK_STR(dump(jv_string("\n\t\r\b\f")), "\"\\n\\t\\r\\b\\f\"");
	CHECK_STR(dump(jv_string("\x01\x1f\x7f" "end")), "\"\\u0001\\u001f\\u007fend\"");
	CHECK_STR(dump(jv_string("\x1b[31m")), "\"\\u001b[31m\"");
	CHECK_STR(dump(jv_string_sized("\0", 1)), "\"\\u0000\"");
	/* Keys are escaped the same way. */
	CHECK_STR(dump(jv_object_set(jv_object(), jv_string("a\"b\n"), jv_null())), "{\"a\\\"b\\n\":null}");
	/* Every escape written reads back to the same bytes. */
	{
		char all[128];
		for (int i = 0; i < 127; i++)
			all[i] = (char)(i + 1);
		all[127] = 0;
		jv s = jv_string_sized(all, 127);
		buf b = {0};
		json_dump(s, &b);
		CHECK_INT(parse_n(b.p, b.len, &v), 0);
		CHECK(jv_equal(jv_copy(s), v));
		jv_free(s);
		buf_free(&b);
	}
}

static void test_objects(void)
{
	/* Key order is insertion order, in the parser and the writer. */
	CHECK_STR(reparse("{\"z\":1,\"a\":2,\"m\":3}"), "{\"z\":1,\"a\":2,\"m\":3}");
	jv o = jv_object();
	o = jv_object_set(o, jv_string("sku"), jv_string("S-1"));
	o = jv_object_set(o, jv_string("kind"), jv_string("product"));
	o = jv_object_set(o, jv_string("amount"), jv_number(1999));
	CHECK_STR(dump(o), "{\"sku\":\"S-1\",\"kind\":\"product\",\"amount\":1999}");
	/* Also past the object's first rehash (many keys). */
	{
		buf in = {0}, want = {0};
		buf_addc(&in, '{');
		for (int i = 0; i < 200; i++)
			buf_addf(&in, "%s\"k%d\":%d", i ? "," : "", (i * 37) % 200, i);
		buf_addc(&in, '}');
		jv v;
		CHECK_INT(parse_n(in.p, in.len, &v), 0);
		json_dump(v, &want);
		jv_free(v);
		CHECK_STR(want.p, in.p);
		buf_free(&in);
		buf_free(&want);
	}

	/* Duplicate keys: the last value wins (at the first key's place). */
	CHECK_STR(reparse("{\"a\":1,\"b\":2,\"a\":3}"), "{\"a\":3,\"b\":2}");
	CHECK_STR(reparse("{\"a\":{\"x\":1},\"a\":[2]}"), "{\"a\":[2]}");
	/* Keys that differ only by escapes are the same key. */
	CHECK_STR(reparse("{\"A\":1,\"\\u0041\":2}"), "{\"A\":2}");
	/* Nested. */
	CHECK_STR(reparse("{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}"), "{\"a\":{\"b\":{\"c\":[1,{\"d\":null}]}}}");
}

/* ---- the reader ---- */

/* A reader over the bytes s[0..n) (fmemopen). */
typedef struct rd {
	FILE *f;
	jsonl_reader *r;
	shop_err e;
} rd;

static void rd_open(rd *x, const char *s, size_t n, size_t max_line)
{
	memset(x, 0, sizeof *x);
	/* fmemopen refuses size 0 on some libcs: use a temp file then. */
	if (n)
		x->f = fmemopen((void *)s, n, "r");
	else
		x->f = tmpfile();
	x->r = jsonl_reader_new(x->f, "in", max_line);
}

static void rd_close(rd *x)
{
	jsonl_reader_free(x->r);
	fclose(x->f);
}

/* The next record dumped into dumped, "EOF", or "ERR <code> <msg>"; clears
 * the error after reporting it. */
static const char *rd_next(rd *x)
{
	jv v;
	int rc = jsonl_next(x->r, &v, &x->e);
	if (rc == 1)
		return dump(v);
	if (rc == 0)
		return x->e.code ? "EOF with an error" : "EOF";
	snprintf(dumped, sizeof dumped, "ERR %d %s", x->e.code, x->e.msg);
	err_clear(&x->e);
	return dumped;
}

#define RD(lit, max) rd_open(&x, lit, sizeof lit - 1, max)

static void test_reader(void)
{
	rd x;

	/* Empty input: 0 at once, and again. */
	RD("", 0);
	CHECK_STR(rd_next(&x), "EOF");
	CHECK_STR(rd_next(&x), "EOF");
	rd_close(&x);

	/* Records, blank lines skipped but counted, whitespace-only lines,
	 * CRLF endings, a final line without a newline. */
	RD("{\"a\":1}\n\n  \t\n{\"a\":2}\r\n\r\n[3]  \n\"last\"", 0);
	CHECK_STR(rd_next(&x), "{\"a\":1}");
	CHECK_INT(jsonl_lineno(x.r), 1);
	size_t len;
	const char *raw = jsonl_line(x.r, &len);
	CHECK_INT(len, 7);
	CHECK(memcmp(raw, "{\"a\":1}", 7) == 0);
	CHECK_STR(rd_next(&x), "{\"a\":2}");
	CHECK_INT(jsonl_lineno(x.r), 4);
	raw = jsonl_line(x.r, &len);
	CHECK_INT(len, 8); /* the raw line keeps its \r */
	CHECK_STR(rd_next(&x), "[3]");
	CHECK_INT(jsonl_lineno(x.r), 6);
	CHECK_STR(rd_next(&x), "\"last\"");
	CHECK_INT(jsonl_lineno(x.r), 7);
	CHECK_STR(rd_next(&x), "EOF");
	CHECK_STR(rd_next(&x), "EOF");
	rd_close(&x);

	/* Only blank lines: 0. */
	RD("\n\n \r\n", 0);
	CHECK_STR(rd_next(&x), "EOF");
	rd_close(&x);

	/* Errors name the source and the line; the reader can go on. */
	RD("{\"a\":1}\n\n{\"a\":\n[1] [2]\n{\"ok\":true}\n", 0);
	CHECK_STR(rd_next(&x), "{\"a\":1}");
	CHECK_STR(rd_next(&x), "ERR 65 in:3: malformed JSON: byte 6: unexpected end of input");
	CHECK_STR(rd_next(&x), "ERR 65 in:4: malformed JSON: byte 5: more than one value");
	CHECK_STR(rd_next(&x), "{\"ok\":true}");
	CHECK_INT(jsonl_lineno(x.r), 5);
	CHECK_STR(rd_next(&x), "EOF");
	rd_close(&x);

	/* One value per line: a value may not span lines. */
	RD("[1,\n2]\n", 0);
	CHECK_STR(rd_next(&x), "ERR 65 in:1: malformed JSON: byte 4: unexpected end of input");
	CHECK_STR(rd_next(&x), "ERR 65 in:2: malformed JSON: byte 2: more than one value");
	rd_close(&x);

	/* Invalid UTF-8: SHOP_DATAERR with the line and the 1-based byte. */
	RD("{\"a\":1}\n{\"n\":\"caf\xc3\"}\n\"\xed\xa0\x80\"\n\"\xc0\x80\"\n\"\xf4\x90\x80\x80\"\n{}\n", 0);
	CHECK_STR(rd_next(&x), "{\"a\":1}");
	CHECK_STR(rd_next(&x), "ERR 65 in:2: invalid UTF-8 at byte 10");
	CHECK_STR(rd_next(&x), "ERR 65 in:3: invalid UTF-8 at byte 2");
	CHECK_STR(rd_next(&x), "ERR 65 in:4: invalid UTF-8 at byte 2");
	CHECK_STR(rd_next(&x), "ERR 65 in:5: invalid UTF-8 at byte 2");
	CHECK_STR(rd_next(&x), "{}");
	CHECK_INT(jsonl_lineno(x.r), 6);
	rd_close(&x);

	/* Line length: max_line bytes are fine, one more is refused, and the
	 * next call goes on with the following line. */
	RD("\"12345678\"\n\"123456789\"\n[1]\n\"123456789\"", 10);
	CHECK_STR(rd_next(&x), "\"12345678\"");
	CHECK_STR(rd_next(&x), "ERR 65 in:2: line longer than 10 bytes");
	CHECK_INT(jsonl_lineno(x.r), 2);
	CHECK_STR(rd_next(&x), "[1]");
	CHECK_INT(jsonl_lineno(x.r), 3);
	CHECK_STR(rd_next(&x), "ERR 65 in:4: line longer than 10 bytes");
	CHECK_STR(rd_next(&x), "EOF");
	rd_close(&x);
	/* The limit counts a CRLF line's \r. */
	RD("\"1234567\"\r\n", 10);
	CHECK_STR(rd_next(&x), "\"1234567\"");
	rd_close(&x);
	RD("\"12345678\"\r\n", 10);
	CHECK_STR(rd_next(&x), "ERR 65 in:1: line longer than 10 bytes");
	rd_close(&x);

	/* Long lines across the reader's 64 KiB chunks: a 200 KB line over a
	 * 100 KB limit is skipped to its end; a 90 KB line under it is read
	 * whole. */
	{
		size_t big = 200000, mid = 90000;
		buf in = {0};
		buf_adds(&in, "{\"first\":1}\n\"");
		for (size_t i = 0; i < big; i++)
			buf_addc(&in, 'x');
		buf_adds(&in, "\"\n{\"after\":1}\n\"");
		for (size_t i = 0; i < mid; i++)
			buf_addc(&in, (char)('a' + i % 26));
		buf_adds(&in, "\"\n{\"end\":1}\n");
		rd_open(&x, in.p, in.len, 100000);
		CHECK_STR(rd_next(&x), "{\"first\":1}");
		CHECK_STR(rd_next(&x), "ERR 65 in:2: line longer than 100000 bytes");
		raw = jsonl_line(x.r, &len);
		CHECK_INT(len, 100000); /* keeps the first max_line bytes */
		CHECK(raw[0] == '"' && raw[1] == 'x');
		CHECK_STR(rd_next(&x), "{\"after\":1}");
		CHECK_INT(jsonl_lineno(x.r), 3);
		jv v;
		int rc = jsonl_next(x.r, &v, &x.e);
		CHECK_INT(rc, 1);
		if (rc == 1) {
			CHECK(jv_get_kind(v) == JV_KIND_STRING);
			CHECK_INT(jv_string_length_bytes(v), mid);
		}
		CHECK_STR(rd_next(&x), "{\"end\":1}");
		CHECK_INT(jsonl_lineno(x.r), 5);
		CHECK_STR(rd_next(&x), "EOF");
		rd_close(&x);
		/* The default limit is JSONL_MAX_LINE. */
		buf_reset(&in);
		buf_addc(&in, '"');
		for (size_t i = 0; i < JSONL_MAX_LINE; i++)
			buf_addc(&in, 'y');
		buf_adds(&in, "\"\n7\n");
		rd_open(&x, in.p, in.len, 0);
		snprintf(errbuf, sizeof errbuf, "ERR 65 in:1: line longer than %d bytes", JSONL_MAX_LINE);
		CHECK_STR(rd_next(&x), errbuf);
		CHECK_STR(rd_next(&x), "7");
		rd_close(&x);
		buf_free(&in);
	}

	/* A temp file as well as memory; the name is used in messages. */
	{
		char path[] = T_TEMPLATE("test-jsonl");
		int fd = mkstemp(path);
		CHECK(fd >= 0);
		CHECK_INT(write_all(fd, "{\"x\":1}\n{bad}\n", 14), 0);
		close(fd);
		FILE *f = fopen(path, "r");
		CHECK(f != NULL);
		jsonl_reader *r = jsonl_reader_new(f, path, 0);
		shop_err e = {0};
		jv v;
		CHECK_INT(jsonl_next(r, &v, &e), 1);
		jv_free(v);
		CHECK_INT(jsonl_next(r, &v, &e), -1);
		CHECK_INT(e.code, SHOP_DATAERR);
		char want[128];
		snprintf(want, sizeof want, "%s:2: malformed JSON: byte 2: expected a string key", path);
		CHECK_STR(e.msg, want);
		jsonl_reader_free(r);
		fclose(f);
		unlink(path);
	}

	/* A read error: SHOP_IOERR naming the source. */
	{
		FILE *f = fopen("/", "r");
		if (f) {
			jsonl_reader *r = jsonl_reader_new(f, "/", 0);
			shop_err e = {0};
			jv v;
			CHECK_INT(jsonl_next(r, &v, &e), -1);
			CHECK_INT(e.code, SHOP_IOERR);
			CHECK(strncmp(e.msg, "/: read: ", 9) == 0);
			jsonl_reader_free(r);
			fclose(f);
		}
	}
	jsonl_reader_free(NULL);
}

/* ---- record helpers ---- */

static void test_rec(void)
{
	jv rec;
	CHECK_INT(parse("{\"s\":\"str\",\"n\":12,\"neg\":-5,\"f\":1.5,\"nul\":null,\"b\":true,\"a\":[1],"
	                "\"o\":{},\"big\":9007199254740992,\"big1\":9007199254740994,\"nbig\":-9007199254740994,"
	                "\"odd\":9007199254740993,\"e\":1e3,\"z\":-0,\"huge\":1e300,\"ns\":\"12\"}",
	                &rec),
	          0);
	shop_err e = {0};

	/* rec_str */
	CHECK_STR(rec_str(rec, "s", &e), "str");
	CHECK_INT(e.code, 0);
	CHECK(rec_str(rec, "missing", &e) == NULL);
	CHECK(rec_str(rec, "nul", &e) == NULL);
	CHECK_INT(e.code, 0);
	CHECK(rec_str(rec, "n", &e) == NULL);
	CHECK_INT(e.code, SHOP_DATAERR);
	CHECK_STR(e.msg, "field 'n': expected a string, got a number");
	const char *kinds[][2] = {{"b", "a boolean"}, {"a", "an array"}, {"o", "an object"}};
	for (size_t i = 0; i < 3; i++) {
		err_clear(&e);
		CHECK(rec_str(rec, kinds[i][0], &e) == NULL);
		char want[96];
		snprintf(want, sizeof want, "field '%s': expected a string, got %s", kinds[i][0], kinds[i][1]);
		CHECK_STR(e.msg, want);
	}
	err_clear(&e);
	/* Not an object: NULL, no error. */
	jv arr = jv_array();
	CHECK(rec_str(arr, "s", &e) == NULL);
	CHECK_INT(e.code, 0);

	/* rec_int */
	int64_t v = 77;
	CHECK_INT(rec_int(rec, "n", &v, &e), 1);
	CHECK_INT(v, 12);
	CHECK_INT(rec_int(rec, "neg", &v, &e), 1);
	CHECK_INT(v, -5);
	CHECK_INT(rec_int(rec, "e", &v, &e), 1);
	CHECK_INT(v, 1000);
	CHECK_INT(rec_int(rec, "z", &v, &e), 1);
	CHECK_INT(v, 0);
	/* 2^53 and 2^53+1 read as the same double: neither is a safe integer. */
	CHECK_INT(rec_int(rec, "big", &v, &e), -1);
	CHECK_INT(e.code, SHOP_DATAERR);
	err_clear(&e);
	CHECK_INT(rec_int(rec, "odd", &v, &e), -1);
	CHECK_INT(e.code, SHOP_DATAERR);
	err_clear(&e);
	v = 77;
	CHECK_INT(rec_int(rec, "missing", &v, &e), 0);
	CHECK_INT(rec_int(rec, "nul", &v, &e), 0);
	CHECK_INT(v, 77);
	CHECK_INT(e.code, 0);
	CHECK_INT(rec_int(rec, "f", &v, &e), -1);
	CHECK_INT(e.code, SHOP_DATAERR);
	CHECK_STR(e.msg, "field 'f': expected an integer, got a fraction");
	err_clear(&e);
	CHECK_INT(rec_int(rec, "big1", &v, &e), -1);
	CHECK_STR(e.msg, "field 'big1': 9007199254740994 is too large (limit 2^53 - 1)");
	err_clear(&e);
	CHECK_INT(rec_int(rec, "nbig", &v, &e), -1);
	CHECK_INT(e.code, SHOP_DATAERR);
	err_clear(&e);
	CHECK_INT(rec_int(rec, "huge", &v, &e), -1);
	CHECK(strstr(e.msg, "too large") != NULL);
	err_clear(&e);
	CHECK_INT(rec_int(rec, "ns", &v, &e), -1);
	CHECK_STR(e.msg, "field 'ns': expected an integer, got a string");
	err_clear(&e);
	CHECK_INT(rec_int(rec, "b", &v, &e), -1);
	CHECK_STR(e.msg, "field 'b': expected an integer, got a boolean");
	err_clear(&e);
	CHECK_INT(rec_int(rec, "s", &v, &e), -1);
	CHECK_INT(rec_int(rec, "a", &v, &e), -1);
	CHECK_INT(rec_int(rec, "o", &v, &e), -1);
	CHECK_INT(v, 77);
	err_clear(&e);
	CHECK_INT(rec_int(arr, "n", &v, &e), 0);
	CHECK_INT(e.code, 0);
	/* The first error sticks across helpers. */
	CHECK_INT(rec_int(rec, "f", &v, &e), -1);
	CHECK(rec_str(rec, "n", &e) == NULL);
	CHECK(strncmp(e.msg, "field 'f'", 9) == 0);

	CHECK_STR(jv_kind_text(rec), "an object");
	CHECK_STR(jv_kind_text(jv_null()), "null");
	CHECK_STR(jv_kind_text(jv_false()), "a boolean");
	CHECK_STR(jv_kind_text(arr), "an array");
	jv_free(arr);
	jv_free(rec);

	/* rec_str's pointer lives as long as the record. */
	CHECK_INT(parse("{\"k\":\"value\"}", &rec), 0);
	err_clear(&e);
	const char *s = rec_str(rec, "k", &e);
	jv other = jv_copy(rec);
	jv_free(other);
	CHECK_STR(s, "value");
	jv_free(rec);
}

/* ---- the writer: stdout redirected to a temp file ---- */

static char captured[8192];

static int saved_fd = -1;
static char cap_path[] = T_TEMPLATE("test-jsonl-out");

static void capture_begin(void)
{
	fflush(stdout);
	saved_fd = dup(1);
	int fd = mkstemp(cap_path);
	dup2(fd, 1);
	close(fd);
}

static const char *capture_end(void)
{
	fflush(stdout);
	dup2(saved_fd, 1);
	close(saved_fd);
	FILE *f = fopen(cap_path, "r");
	size_t n = f ? fread(captured, 1, sizeof captured - 1, f) : 0;
	captured[n] = 0;
	if (f)
		fclose(f);
	unlink(cap_path);
	memcpy(cap_path + strlen(cap_path) - 6, "\x58\x58\x58\x58\x58\x58", 6);
	return captured;
}

static void test_writer(void)
{
	jv v;
	capture_begin();
	jsonl_out_init(0);
	CHECK_INT(parse("{\"kind\":\"product\",\"sku\":\"S-1\",\"price\":1999,\"tags\":[\"a\",\"b\"]}", &v), 0);
	jsonl_out(v);
	jsonl_out(jv_object_set(jv_object(), jv_string("msg"), jv_string("line\nbreak \xc3\xa9")));
	jsonl_out_raw("{\"raw\":true}", 12);
	jsonl_out_raw("{\"raw\":2}junk", 9);
	int rc = jsonl_out_end();
	const char *got = capture_end();
	CHECK_INT(rc, 0);
	CHECK_STR(got, "{\"kind\":\"product\",\"sku\":\"S-1\",\"price\":1999,\"tags\":[\"a\",\"b\"]}\n"
	               "{\"msg\":\"line\\nbreak \xc3\xa9\"}\n"
	               "{\"raw\":true}\n"
	               "{\"raw\":2}\n");
	CHECK(!jsonl_out_closed());

	/* Table mode: columns in order of first appearance, "kind" left out,
	 * strings bare, null empty, nested values as JSON, long cells cut. */
	capture_begin();
	jsonl_out_init(1);
	CHECK_INT(parse("{\"kind\":\"product\",\"sku\":\"S-1\",\"qty\":3}", &v), 0);
	jsonl_out(v);
	CHECK_INT(parse("{\"kind\":\"product\",\"sku\":\"LONG\",\"note\":null,\"tags\":[\"x\"]}", &v), 0);
	jsonl_out(v);
	const char *r = "{\"sku\":\"R\",\"qty\":10,\"note\":\"n\"}";
	jsonl_out_raw(r, strlen(r));
	rc = jsonl_out_end();
	got = capture_end();
	CHECK_INT(rc, 0);
	CHECK_STR(got, "SKU   QTY  NOTE  TAGS\n"
	               "S-1   3\n"
	               "LONG             [\"x\"]\n"
	               "R     10   n\n");

	/* A cell over 40 characters is cut to 40 with an ellipsis, also when
	 * the text is multi-byte: the result is still valid UTF-8. */
	capture_begin();
	jsonl_out_init(1);
	buf s = {0};
	for (int i = 0; i < 50; i++)
		buf_adds(&s, "\xc3\xa9");
	jsonl_out(jv_object_set(jv_object(), jv_string("name"), jv_string(s.p)));
	buf_reset(&s);
	for (int i = 0; i < 50; i++)
		buf_addc(&s, 'a');
	jsonl_out(jv_object_set(jv_object(), jv_string("name"), jv_string(s.p)));
	rc = jsonl_out_end();
	got = capture_end();
	CHECK_INT(rc, 0);
	CHECK(utf8_valid(got, strlen(got), NULL));
	buf want = {0};
	buf_adds(&want, "NAME\n");
	for (int i = 0; i < 39; i++)
		buf_adds(&want, "\xc3\xa9");
	buf_adds(&want, "\xe2\x80\xa6\n");
	for (int i = 0; i < 39; i++)
		buf_addc(&want, 'a');
	buf_adds(&want, "\xe2\x80\xa6\n");
	CHECK_STR(got, want.p);
	buf_free(&want);
	buf_free(&s);
	jsonl_out_init(0);
}

int main(void)
{
	test_types();
	test_depth();
	test_numbers();
	test_strings();
	test_objects();
	test_reader();
	test_rec();
	test_writer();
	return t_done();
}
