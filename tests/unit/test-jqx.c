/* test-jqx: lib/base/jqx. Plain paths (no jq), compiled jq expressions,
 * truthiness, {{ jq }} templates. Every jv made here is freed exactly once:
 * run under ASan with leak detection. */
#include "jqx.h"
#include "json.h"
#include "t.h"

#include <stdlib.h>

/* A parsed JSON value (owned by the caller); aborts the test on bad JSON. */
static jv J(const char *s)
{
	jv v;
	char err[128];
	if (json_parse(s, strlen(s), &v, err, sizeof err)) {
		fprintf(stderr, "bad test JSON %s: %s\n", s, err);
		exit(2);
	}
	return v;
}

static char out_text[4096];

/* Compile expr, run it on the JSON text in, and return the compact JSON of
 * its result, or "ERR <code> <msg>". */
static const char *run(const char *expr, const char *in)
{
	shop_err e = {0};
	jqx *x = jqx_compile(expr, "--where", &e);
	if (!x) {
		snprintf(out_text, sizeof out_text, "COMPILE %d %s", e.code, e.msg);
		return out_text;
	}
	jv r;
	if (jqx_eval(x, J(in), &r, &e)) {
		snprintf(out_text, sizeof out_text, "ERR %d %s", e.code, e.msg);
	} else {
		buf b = {0};
		json_dump(r, &b);
		jv_free(r);
		snprintf(out_text, sizeof out_text, "%s", buf_str(&b));
		buf_free(&b);
	}
	jqx_free(x);
	return out_text;
}

static int is_path(const char *expr)
{
	shop_err e = {0};
	jqx *x = jqx_compile(expr, "--where", &e);
	if (!x)
		return -1;
	int p = jqx_is_path(x);
	jqx_free(x);
	return p;
}

/* jqx_test's truth of expr on in; -1 on an error. */
static int truth(const char *expr, const char *in)
{
	shop_err e = {0};
	jqx *x = jqx_compile(expr, "--where", &e);
	if (!x)
		return -2;
	jv v = J(in);
	int t = -3;
	if (jqx_test(x, v, &t, &e))
		t = -1;
	jv_free(v); /* borrowed by jqx_test */
	jqx_free(x);
	return t;
}

static void test_paths(void)
{
	CHECK_INT(is_path("."), 1);
	CHECK_INT(is_path(" . "), 1);
	CHECK_INT(is_path(".a"), 1);
	CHECK_INT(is_path(".order_id"), 1);
	CHECK_INT(is_path(".a.b"), 1);
	CHECK_INT(is_path(".price.amount"), 1);
	CHECK_INT(is_path(" .a.b2._c "), 1);
	CHECK_INT(is_path(".a[0]"), 0);
	CHECK_INT(is_path(".[0]"), 0);
	CHECK_INT(is_path("select(.x)"), 0);
	CHECK_INT(is_path(".a | .b"), 0);
	CHECK_INT(is_path(".a?"), 0);
	CHECK_INT(is_path(".\"a b\""), 0);
	CHECK_INT(is_path(".a .b"), 0);
	CHECK_INT(is_path(".1"), 0);
	CHECK_INT(is_path(".price > 1000"), 0);
	CHECK_INT(is_path(".."), 0);

	/* Lookups. */
	CHECK_STR(run(".", "{\"a\":1}"), "{\"a\":1}");
	CHECK_STR(run(".", "\"s\""), "\"s\"");
	CHECK_STR(run(".a", "{\"a\":1,\"b\":2}"), "1");
	CHECK_STR(run(".a.b", "{\"a\":{\"b\":[1,2]}}"), "[1,2]");
	CHECK_STR(run(".a.b.c", "{\"a\":{\"b\":{\"c\":\"deep\"}}}"), "\"deep\"");
	/* Missing keys, and keys under a missing or null value: null. */
	CHECK_STR(run(".x", "{\"a\":1}"), "null");
	CHECK_STR(run(".x.y.z", "{\"a\":1}"), "null");
	CHECK_STR(run(".a.b", "{\"a\":null}"), "null");
	CHECK_STR(run(".a", "null"), "null");
	CHECK_STR(run(".a", "{\"a\":false}"), "false");
	/* Indexing anything but an object or null: an error, as in jq. */
	CHECK_STR(run(".a", "\"str\""), "ERR 64 --where: cannot index string with \"a\"");
	CHECK_STR(run(".a.b", "{\"a\":\"str\"}"), "ERR 64 --where: cannot index string with \"b\"");
	CHECK_STR(run(".a", "[1]"), "ERR 64 --where: cannot index array with \"a\"");
	CHECK_STR(run(".a", "12"), "ERR 64 --where: cannot index number with \"a\"");
	CHECK_STR(run(".a", "true"), "ERR 64 --where: cannot index boolean with \"a\"");
	CHECK_STR(run(".a.b", "{\"a\":false}"), "ERR 64 --where: cannot index boolean with \"b\"");
	/* The same answers as jq itself gives (the fast path is invisible). */
	CHECK_STR(run(".a | .b", "{\"a\":{\"b\":[1,2]}}"), "[1,2]");
	CHECK_STR(run(".x | .y", "{\"a\":1}"), "null");
	CHECK_STR(run(".a | .b", "{\"a\":\"str\"}"), "ERR 64 --where: Cannot index string with string \"b\"");

	/* The path result is the record's own value (no copy to free twice):
	 * one path over one record, then the record again. */
	shop_err e = {0};
	jqx *x = jqx_compile(".a.b", "what", &e);
	jv rec = J("{\"a\":{\"b\":{\"c\":1}}}");
	jv r;
	CHECK_INT(jqx_eval(x, jv_copy(rec), &r, &e), 0);
	CHECK(jv_get_kind(r) == JV_KIND_OBJECT);
	jv_free(r);
	CHECK_INT(jqx_eval(x, jv_copy(rec), &r, &e), 0);
	jv_free(r);
	jv_free(rec);
	jqx_free(x);
	jqx_free(NULL);
}

static void test_expressions(void)
{
	CHECK_STR(run(".price > 1000", "{\"price\":1999}"), "true");
	CHECK_STR(run(".price > 1000", "{\"price\":999}"), "false");
	CHECK_STR(run(".tags | length", "{\"tags\":[\"a\",\"b\",\"c\"]}"), "3");
	CHECK_STR(run("select(.qty > 0)", "{\"qty\":2}"), "{\"qty\":2}");
	CHECK_STR(run("select(.qty > 0)", "{\"qty\":0}"), "null"); /* no output: null */
	CHECK_STR(run(".a[0]", "{\"a\":[\"x\",\"y\"]}"), "\"x\"");
	CHECK_STR(run(".[]", "[7,8,9]"), "7"); /* the first output */
	CHECK_STR(run("empty", "{}"), "null");
	CHECK_STR(run("{sku, n: (.q * 2)}", "{\"sku\":\"S\",\"q\":4}"), "{\"sku\":\"S\",\"n\":8}");
	CHECK_STR(run(".name | ascii_upcase", "{\"name\":\"ab\"}"), "\"AB\"");

	/* Compile errors: NULL, SHOP_USAGE, one line naming what. */
	shop_err e = {0};
	jqx *x = jqx_compile(".a +", "--where", &e);
	CHECK(x == NULL);
	CHECK_INT(e.code, SHOP_USAGE);
	CHECK(strncmp(e.msg, "--where: ", 9) == 0);
	CHECK(strchr(e.msg, '\n') == NULL);
	CHECK(strstr(e.msg, "syntax error") != NULL);
	const char *bad[] = {"select(", "nosuchfunction(1)", ".a ||| .b", "{", "]", "$undefined"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err_clear(&e);
		x = jqx_compile(bad[i], "promotion 'summer'", &e);
		CHECK(x == NULL);
		CHECK_INT(e.code, SHOP_USAGE);
		CHECK(strncmp(e.msg, "promotion 'summer': ", 20) == 0);
		CHECK(strchr(e.msg, '\n') == NULL);
		CHECK(strlen(e.msg) > 21);
		if (x)
			jqx_free(x);
	}
	/* An error already recorded sticks. */
	err_clear(&e);
	err_set(&e, SHOP_DATAERR, "earlier");
	CHECK(jqx_compile("(", "w", &e) == NULL);
	CHECK_INT(e.code, SHOP_DATAERR);
	CHECK_STR(e.msg, "earlier");

	/* Runtime errors: SHOP_USAGE with what and jq's message. */
	CHECK_STR(run(".a + 1", "{\"a\":\"x\"}"),
	          "ERR 64 --where: string (\"x\") and number (1) cannot be added");
	CHECK_STR(run("error(\"custom\")", "{}"), "ERR 64 --where: custom");
	CHECK_STR(run("error({\"code\":1})", "{}"), "ERR 64 --where: {\"code\":1}");
	CHECK(strncmp(run(".[0]", "{}"), "ERR 64 --where: Cannot index object with number", 48) == 0);
	/* An error after the first output is not seen: the first output wins. */
	CHECK_STR(run("1, error(\"late\")", "{}"), "1");

	/* A compiled expression runs again after an error. */
	err_clear(&e);
	x = jqx_compile(".a + 1", "w", &e);
	CHECK(x != NULL);
	jv r;
	CHECK_INT(jqx_eval(x, J("{\"a\":\"x\"}"), &r, &e), SHOP_USAGE);
	err_clear(&e);
	CHECK_INT(jqx_eval(x, J("{\"a\":41}"), &r, &e), 0);
	CHECK(jv_get_kind(r) == JV_KIND_NUMBER && jv_number_value(r) == 42);
	jv_free(r);
	/* ...and after a run whose other outputs were left unread. */
	jqx_free(x);
	x = jqx_compile(".[]", "w", &e);
	CHECK_INT(jqx_eval(x, J("[1,2,3]"), &r, &e), 0);
	CHECK(jv_number_value(r) == 1);
	CHECK_INT(jqx_eval(x, J("[4,5]"), &r, &e), 0);
	CHECK(jv_number_value(r) == 4);
	jqx_free(x);
}

static void test_truth(void)
{
	CHECK_INT(truth(".ok", "{\"ok\":true}"), 1);
	CHECK_INT(truth(".ok", "{\"ok\":false}"), 0);
	CHECK_INT(truth(".ok", "{\"ok\":null}"), 0);
	CHECK_INT(truth(".ok", "{}"), 0);            /* missing: null */
	CHECK_INT(truth("empty", "{}"), 0);          /* no output */
	CHECK_INT(truth("select(.n > 5)", "{\"n\":1}"), 0);
	CHECK_INT(truth("select(.n > 5)", "{\"n\":9}"), 1);
	/* Everything else is true, as in jq: 0, "", [] and {} too. */
	CHECK_INT(truth(".n", "{\"n\":0}"), 1);
	CHECK_INT(truth(".s", "{\"s\":\"\"}"), 1);
	CHECK_INT(truth(".a", "{\"a\":[]}"), 1);
	CHECK_INT(truth(".o", "{\"o\":{}}"), 1);
	CHECK_INT(truth(".", "{}"), 1);
	CHECK_INT(truth("0", "{}"), 1);
	CHECK_INT(truth("\"\"", "{}"), 1);
	CHECK_INT(truth("false, true", "{}"), 0);    /* the first output decides */
	CHECK_INT(truth(".price > 1000", "{\"price\":1001}"), 1);
	CHECK_INT(truth(".price > 1000", "{\"price\":1000}"), 0);
	/* Errors. */
	CHECK_INT(truth(".a + 1", "{\"a\":\"x\"}"), -1);
	CHECK_INT(truth(".a.b", "{\"a\":\"x\"}"), -1);
}

/* Render text over ctx; the output, or "ERR <code> <msg>". */
static const char *render(const char *text, const char *ctx)
{
	shop_err e = {0};
	jqx_tmpl *t = jqx_tmpl_compile(text, "template", &e);
	if (!t) {
		snprintf(out_text, sizeof out_text, "COMPILE %d %s", e.code, e.msg);
		return out_text;
	}
	jv c = J(ctx);
	buf b = {0};
	buf_adds(&b, "");
	if (jqx_tmpl_render(t, c, &b, &e))
		snprintf(out_text, sizeof out_text, "ERR %d %s", e.code, e.msg);
	else
		snprintf(out_text, sizeof out_text, "%s", buf_str(&b));
	buf_free(&b);
	jv_free(c); /* borrowed by the render */
	jqx_tmpl_free(t);
	return out_text;
}

static void test_templates(void)
{
	CHECK_STR(render("Hello {{ .name }}!", "{\"name\":\"Ann\"}"), "Hello Ann!");
	CHECK_STR(render("Hello {{.name}}!", "{\"name\":\"Ann\"}"), "Hello Ann!");
	CHECK_STR(render("{{ .a }}{{ .b }}", "{\"a\":\"x\",\"b\":\"y\"}"), "xy");
	CHECK_STR(render("Order {{ .id }} for {{ .customer.name }}: {{ .total }} {{ .currency }}.",
	                 "{\"id\":\"ord_1\",\"customer\":{\"name\":\"Bo\"},\"total\":1999,\"currency\":\"USD\"}"),
	          "Order ord_1 for Bo: 1999 USD.");
	/* Non-string values as compact JSON; null as nothing. */
	CHECK_STR(render("n={{ .n }} f={{ .f }} b={{ .b }} a={{ .a }} o={{ .o }}",
	                 "{\"n\":42,\"f\":2.5,\"b\":true,\"a\":[1,\"x\"],\"o\":{\"k\":null}}"),
	          "n=42 f=2.5 b=true a=[1,\"x\"] o={\"k\":null}");
	CHECK_STR(render("[{{ .missing }}]", "{}"), "[]");
	CHECK_STR(render("[{{ .z }}]", "{\"z\":null}"), "[]");
	CHECK_STR(render("[{{ empty }}]", "{}"), "[]");
	CHECK_STR(render("[{{ .s }}]", "{\"s\":\"\"}"), "[]");
	CHECK_STR(render("{{ .s }}", "{\"s\":\"caf\xc3\xa9 \\\"q\\\"\"}"), "caf\xc3\xa9 \"q\"");
	/* Full jq inside a placeholder. */
	CHECK_STR(render("{{ .items | length }} items, {{ .items | map(.q) | add }} units",
	                 "{\"items\":[{\"q\":2},{\"q\":3}]}"),
	          "2 items, 5 units");
	CHECK_STR(render("{{ if .vip then \"Dear\" else \"Hi\" end }} {{ .n }}", "{\"vip\":true,\"n\":\"A\"}"),
	          "Dear A");
	/* Text without placeholders, and the empty template. */
	CHECK_STR(render("no placeholders here", "{}"), "no placeholders here");
	CHECK_STR(render("", "{}"), "");
	/* "{{" without "}}" is kept literally, also after a placeholder. */
	CHECK_STR(render("a {{ b", "{}"), "a {{ b");
	CHECK_STR(render("{{ .x }} and {{ rest", "{\"x\":1}"), "1 and {{ rest");
	CHECK_STR(render("only }} closes", "{}"), "only }} closes");
	CHECK_STR(render("x {{ .a }}}", "{\"a\":\"v\"}"), "x v}");
	/* Compile errors name what; runtime errors too. */
	const char *got = render("Hi {{ .a + }}", "{}");
	CHECK(strncmp(got, "COMPILE 64 template: ", 21) == 0);
	CHECK(strchr(got, '\n') == NULL);
	CHECK_STR(render("Hi {{ .a + 1 }}", "{\"a\":\"x\"}"),
	          "ERR 64 template: string (\"x\") and number (1) cannot be added");
	CHECK_STR(render("Hi {{ .a.b }}", "{\"a\":\"x\"}"), "ERR 64 template: cannot index string with \"b\"");

	/* Rendering appends to what the buffer holds. */
	shop_err e = {0};
	jqx_tmpl *t = jqx_tmpl_compile("<{{ . }}>", "t", &e);
	buf b = {0};
	buf_adds(&b, "head");
	jv ctx = jv_string("mid");
	CHECK_INT(jqx_tmpl_render(t, ctx, &b, &e), 0);
	CHECK_INT(jqx_tmpl_render(t, ctx, &b, &e), 0);
	CHECK_STR(buf_str(&b), "head<mid><mid>");
	jv_free(ctx);
	buf_free(&b);
	jqx_tmpl_free(t);
	jqx_tmpl_free(NULL);

	CHECK_INT(jqx_has_placeholder("a {{ .x }} b"), 1);
	CHECK_INT(jqx_has_placeholder("{{}}"), 1);
	CHECK_INT(jqx_has_placeholder("a {{ b"), 0);
	CHECK_INT(jqx_has_placeholder("a }} {{ b"), 0);
	CHECK_INT(jqx_has_placeholder("plain"), 0);
	CHECK_INT(jqx_has_placeholder(""), 0);
}

/* One compile, many inputs: results stay right and nothing leaks. */
static void test_reuse(void)
{
	shop_err e = {0};
	jqx *filter = jqx_compile("select(.price > 1000) | .tags | length", "--where", &e);
	jqx *test = jqx_compile(".price > 1000 and (.tags | length) > 1", "--where", &e);
	jqx *path = jqx_compile(".meta.sku", "--where", &e);
	jqx_tmpl *t = jqx_tmpl_compile("{{ .meta.sku }}: {{ .price }} ({{ .tags | join(\",\") }})", "tmpl", &e);
	CHECK(filter && test && path && t);
	CHECK(jqx_is_path(path) && !jqx_is_path(filter));
	if (!(filter && test && path && t))
		return;
	int bad = 0, ntrue = 0, nnull = 0;
	buf b = {0};
	for (int i = 0; i < 1000; i++) {
		jv rec = jv_object();
		rec = jv_object_set(rec, jv_string("price"), jv_number(i * 3));
		jv tags = jv_array();
		for (int k = 0; k < i % 4; k++)
			tags = jv_array_append(tags, jv_string_fmt("t%d", k));
		rec = jv_object_set(rec, jv_string("tags"), tags);
		rec = jv_object_set(rec, jv_string("meta"),
		                    jv_object_set(jv_object(), jv_string("sku"), jv_string_fmt("S-%d", i)));

		jv r;
		if (jqx_eval(filter, jv_copy(rec), &r, &e)) {
			bad++;
		} else if (i * 3 > 1000) {
			if (jv_get_kind(r) != JV_KIND_NUMBER || jv_number_value(r) != i % 4)
				bad++;
			jv_free(r);
		} else {
			if (jv_get_kind(r) != JV_KIND_NULL)
				bad++;
			nnull++;
			jv_free(r);
		}
		int tr = -1;
		if (jqx_test(test, rec, &tr, &e))
			bad++;
		if (tr != (i * 3 > 1000 && i % 4 > 1))
			bad++;
		ntrue += tr == 1;
		if (jqx_eval(path, jv_copy(rec), &r, &e) || jv_get_kind(r) != JV_KIND_STRING) {
			bad++;
		} else {
			char want[32];
			snprintf(want, sizeof want, "S-%d", i);
			if (strcmp(jv_string_value(r), want))
				bad++;
		}
		jv_free(r);
		buf_reset(&b);
		if (jqx_tmpl_render(t, rec, &b, &e)) {
			bad++;
		} else {
			buf want = {0};
			buf_addf(&want, "S-%d: %d (", i, i * 3);
			for (int k = 0; k < i % 4; k++)
				buf_addf(&want, "%st%d", k ? "," : "", k);
			buf_addc(&want, ')');
			if (strcmp(buf_str(&b), want.p)) {
				if (bad < 5)
					fprintf(stderr, "render %d: %s, want %s\n", i, b.p, want.p);
				bad++;
			}
			buf_free(&want);
		}
		jv_free(rec);
	}
	CHECK_INT(bad, 0);
	CHECK_INT(e.code, 0);
	CHECK_INT(nnull, 334);
	CHECK_INT(ntrue, 334);
	buf_free(&b);
	jqx_free(filter);
	jqx_free(test);
	jqx_free(path);
	jqx_tmpl_free(t);

	/* Errors in the middle of a run do not spoil the rest. */
	jqx *x = jqx_compile(".a - 2", "w", &e);
	int errs = 0, oks = 0;
	for (int i = 0; i < 200; i++) {
		shop_err e2 = {0};
		jv r;
		jv in = i % 3 ? jv_object_set(jv_object(), jv_string("a"), jv_number(i))
		              : jv_object_set(jv_object(), jv_string("a"), jv_string("s"));
		if (jqx_eval(x, in, &r, &e2)) {
			errs++;
		} else {
			oks += jv_get_kind(r) == JV_KIND_NUMBER && jv_number_value(r) == i - 2;
			jv_free(r);
		}
	}
	CHECK_INT(errs, 67);
	CHECK_INT(oks, 133);
	jqx_free(x);
}

int main(void)
{
	test_paths();
	test_expressions();
	test_truth();
	test_templates();
	test_reuse();
	return t_done();
}
