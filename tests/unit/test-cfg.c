/* Unit test of lib/base/cfg.c. argv[1] is fixtures/config: each bad file
 * there must fail with an exact code and an exact "file:line:col:" prefix,
 * since that prefix is what a user's editor jumps to. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "t.h"

static const cfg_schema schema[] = {
	{"currency", CFG_STR},
	{"warehouses", CFG_SEQ},
	{"warehouses[]", CFG_MAP},
	{"warehouses[].id", CFG_STR},
	{"warehouses[].name", CFG_STR},
	{"warehouses[].region", CFG_STR},
	{"warehouses[].priority", CFG_INT},
	{"reservation_ttl", CFG_DURATION},
	{"tax", CFG_SEQ},
	{"tax[]", CFG_MAP},
	{"tax[].region", CFG_STR},
	{"tax[].rate", CFG_NUMBER},
	{"shipping", CFG_MAP},
	{"shipping.flat", CFG_INT},
	{"shipping.free_over", CFG_INT},
	{"shipping.carrier", CFG_STR},
	{"gateway", CFG_MAP},
	{"gateway.driver", CFG_STR},
	{"gateway.secret_env", CFG_STR},
	{"gateway.capture", CFG_BOOL},
	{"gateway.timeout", CFG_DURATION},
	{"gateway.retries", CFG_INT},
	{"templates", CFG_FREEMAP},
	{"templates.*", CFG_MAP},
	{"templates.*.subject", CFG_STR},
	{"templates.*.body", CFG_STR},
	{"notes", CFG_STR},
	{NULL, 0},
};

/* One key of each type, for the string cases. */
static const cfg_schema small[] = {
	{"s", CFG_STR},
	{"i", CFG_INT},
	{"b", CFG_BOOL},
	{"d", CFG_DURATION},
	{"n", CFG_NUMBER},
	{"m", CFG_MAP},
	{"m.id", CFG_STR},
	{"l", CFG_SEQ},
	{"l[]", CFG_INT},
	{"f", CFG_FREEMAP},
	{"f.*", CFG_SEQ},
	{"any", CFG_ANY},
	{"free", CFG_FREEMAP},
	{"list", CFG_SEQ},
	{"a", CFG_ANY},
	{NULL, 0},
};

static const char *dir;

static const char *fixture(const char *name)
{
	static char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return path;
}

static int starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* A bad fixture: NULL, the code, the message starting with
 * "DIR/NAME:POS: " and containing what. */
static void bad_file(const char *name, int code, const char *pos, const char *what)
{
	shop_err e = {0};
	cfg *c = cfg_load_file(fixture(name), schema, &e);
	char prefix[4200];
	snprintf(prefix, sizeof prefix, "%s:%s: ", fixture(name), pos);
	CHECK(c == NULL);
	CHECK_INT(e.code, code);
	if (!starts(e.msg, prefix) || !strstr(e.msg, what))
		fprintf(stderr, "  %s: got \"%s\", want \"%s...%s...\"\n", name, e.msg, prefix, what);
	CHECK(starts(e.msg, prefix));
	CHECK(strstr(e.msg, what) != NULL);
	CHECK(strchr(e.msg, '\n') == NULL);
	cfg_free(c);
}

/* A string case that must fail with exactly msg (code 78). */
static void bad_str(const char *text, const char *msg)
{
	shop_err e = {0};
	cfg *c = cfg_load_string("t", text, strlen(text), small, &e);
	CHECK(c == NULL);
	CHECK_INT(e.code, SHOP_CONFIG);
	CHECK_STR(e.msg, msg);
	cfg_free(c);
}

static cfg *good_str(const char *text)
{
	shop_err e = {0};
	cfg *c = cfg_load_string("t", text, strlen(text), small, &e);
	CHECK(c != NULL);
	CHECK_INT(e.code, 0);
	if (e.code)
		fprintf(stderr, "  unexpected error: %s\n", e.msg);
	return c;
}

static void test_good(void)
{
	shop_err e = {0};
	cfg *c = cfg_load_file(fixture("good.yaml"), schema, &e);
	CHECK(c != NULL);
	CHECK_INT(e.code, 0);
	if (!c) {
		fprintf(stderr, "  good.yaml: %s\n", e.msg);
		return;
	}
	CHECK_STR(cfg_name(c), fixture("good.yaml"));
	CHECK_STR(cfg_str(c, NULL, "currency", "EUR"), "USD");

	const cfg_node *root = cfg_get(c, NULL, NULL);
	CHECK(root != NULL);
	CHECK(cfg_get(c, NULL, "") == root);
	CHECK_INT(cfg_len(root), 8);
	CHECK_STR(cfg_key_at(root, 0), "currency");
	CHECK_STR(cfg_key_at(root, 7), "notes");
	CHECK(cfg_key_at(root, 8) == NULL);

	const cfg_node *ws = cfg_get(c, NULL, "warehouses");
	CHECK_INT(cfg_len(ws), 2);
	CHECK(cfg_key_at(ws, 0) == NULL);
	CHECK(cfg_text(ws) == NULL);
	CHECK(cfg_at(ws, 2) == NULL);
	const cfg_node *w = cfg_at(ws, 1);
	CHECK_STR(cfg_str(c, w, "id", NULL), "west");
	CHECK_STR(cfg_str(c, w, "name", NULL), "West coast");
	CHECK_INT(cfg_int(c, w, "priority", 0), 2);
	CHECK_INT(cfg_int(c, cfg_at(ws, 0), "priority", 0), 1);
	char where[4200];
	snprintf(where, sizeof where, "%s:8:5", fixture("good.yaml"));
	CHECK_STR(cfg_where(w), where);
	snprintf(where, sizeof where, "%s:11:15", fixture("good.yaml"));
	CHECK_STR(cfg_where(cfg_get(c, w, "priority")), where);
	/* A block list starts at its first "-". */
	snprintf(where, sizeof where, "%s:4:3", fixture("good.yaml"));
	CHECK_STR(cfg_where(ws), where);

	CHECK_INT(cfg_duration(c, NULL, "reservation_ttl", 0), 15 * 60 * 1000);
	const cfg_node *tax = cfg_get(c, NULL, "tax");
	CHECK_INT(cfg_len(tax), 2);
	CHECK_STR(cfg_str(c, cfg_at(tax, 0), "rate", NULL), "8.25");
	CHECK_STR(cfg_str(c, cfg_at(tax, 1), "rate", NULL), "7");
	CHECK_STR(cfg_text(cfg_get(c, cfg_at(tax, 1), "region")), "us-west");

	CHECK_INT(cfg_int(c, NULL, "shipping.flat", 0), 500);
	const cfg_node *ship = cfg_get(c, NULL, "shipping");
	CHECK_INT(cfg_int(c, ship, "free_over", 0), 5000);
	CHECK_INT(cfg_len(ship), 3);
	CHECK_STR(cfg_key_at(ship, 2), "carrier");
	CHECK_STR(cfg_text(cfg_at(ship, 2)), "sandbox");
	CHECK(cfg_get(c, NULL, "shipping.") == NULL);
	CHECK(cfg_get(c, NULL, "shipping..flat") == NULL);
	CHECK(cfg_get(c, NULL, "shipping.flat.x") == NULL);

	CHECK_INT(cfg_bool(c, NULL, "gateway.capture", 1), 0);
	CHECK_INT(cfg_duration(c, NULL, "gateway.timeout", 0), 30000);
	CHECK_INT(cfg_int(c, NULL, "gateway.retries", 0), -1);
	/* A string is not read back as another type: the default comes back. */
	CHECK_INT(cfg_int(c, NULL, "gateway.driver", 42), 42);
	CHECK_INT(cfg_bool(c, NULL, "gateway.driver", -1), -1);
	CHECK_INT(cfg_duration(c, NULL, "gateway.driver", 7), 7);
	CHECK_STR(cfg_str(c, NULL, "gateway.timeout", NULL), "30s");

	const cfg_node *t = cfg_get(c, NULL, "templates");
	CHECK_INT(cfg_len(t), 2);
	CHECK_STR(cfg_key_at(t, 0), "order_paid");
	CHECK_STR(cfg_key_at(t, 1), "order.shipped");
	CHECK_STR(cfg_str(c, cfg_at(t, 0), "subject", NULL), "Order {{.order_id}} paid");
	CHECK_STR(cfg_str(c, cfg_at(t, 0), "body", NULL), "Thank you for your order.\nIt ships soon.\n");
	CHECK_STR(cfg_str(c, cfg_at(t, 1), "subject", NULL), "Shipped");
	/* Keys with a dot are reached by iterating, not by path. */
	CHECK(cfg_get(c, t, "order.shipped") == NULL);

	/* ~ is no value: absent for cfg_get, the default for getters. */
	CHECK(cfg_get(c, NULL, "notes") == NULL);
	CHECK_STR(cfg_str(c, NULL, "notes", "none"), "none");
	CHECK(cfg_text(cfg_at(root, 7)) == NULL);

	CHECK(cfg_get(c, NULL, "nope") == NULL);
	CHECK_STR(cfg_str(c, NULL, "nope", "d"), "d");
	CHECK_INT(cfg_int(c, NULL, "nope.deeper", -5), -5);
	CHECK_INT(cfg_len(cfg_get(c, NULL, "currency")), 0);
	CHECK(cfg_at(cfg_get(c, NULL, "currency"), 0) == NULL);
	cfg_free(c);
}

static void test_files(void)
{
	bad_file("syntax.yaml", SHOP_CONFIG, "4:1", "did not find expected ',' or ']'");
	bad_file("unknown-key.yaml", SHOP_CONFIG, "4:3",
		 "unknown key 'timout' in gateway (did you mean 'timeout'?)");
	bad_file("duplicate-key.yaml", SHOP_CONFIG, "5:3", "duplicate key 'flat' (first at line 3)");
	bad_file("wrong-type-int.yaml", SHOP_CONFIG, "2:9", "shipping.flat: expected an integer, not 'five'");
	bad_file("yes-bool.yaml", SHOP_CONFIG, "2:12", "gateway.capture: expected true or false, not 'yes'");
	bad_file("quoted-int.yaml", SHOP_CONFIG, "2:9", "not the quoted string '500' (remove the quotes)");
	bad_file("alias.yaml", SHOP_CONFIG, "1:11", "anchors are not allowed");
	bad_file("tag.yaml", SHOP_CONFIG, "2:9", "tags are not allowed in a config file (tag '!!int')");
	bad_file("two-documents.yaml", SHOP_CONFIG, "2:1", "a second YAML document");
	bad_file("not-utf8.yaml", SHOP_CONFIG, "3:14", "0xFF at byte 37");
	bad_file("top-sequence.yaml", SHOP_CONFIG, "2:1", "the top level must be a mapping");

	const char *empties[] = {"empty.yaml", "comments-only.yaml"};
	for (size_t i = 0; i < 2; i++) {
		shop_err e = {0};
		cfg *c = cfg_load_file(fixture(empties[i]), schema, &e);
		CHECK(c != NULL);
		CHECK_INT(e.code, 0);
		CHECK_INT(cfg_len(cfg_get(c, NULL, NULL)), 0);
		CHECK_STR(cfg_str(c, NULL, "currency", "USD"), "USD");
		cfg_free(c);
	}

	shop_err e = {0};
	CHECK(cfg_load_file(fixture("no-such.yaml"), schema, &e) == NULL);
	CHECK_INT(e.code, SHOP_NOTFOUND);
	char want[4200];
	snprintf(want, sizeof want, "cannot open %s: No such file or directory", fixture("no-such.yaml"));
	CHECK_STR(e.msg, want);

	err_clear(&e);
	CHECK(cfg_load_file(dir, schema, &e) == NULL);
	CHECK_INT(e.code, SHOP_IOERR);
	CHECK(starts(e.msg, "cannot read "));

	/* One byte over the limit, as a file and as a string. */
	char tmp[] = T_TEMPLATE("test-cfg");
	int fd = mkstemp(tmp);
	CHECK(fd >= 0);
	size_t big = CFG_MAX_BYTES + 1;
	char *spaces = malloc(big);
	memset(spaces, ' ', big);
	CHECK_INT(write_all(fd, spaces, big), 0);
	close(fd);
	err_clear(&e);
	CHECK(cfg_load_file(tmp, schema, &e) == NULL);
	CHECK_INT(e.code, SHOP_CONFIG);
	CHECK(strstr(e.msg, "too large") != NULL);
	unlink(tmp);
	err_clear(&e);
	CHECK(cfg_load_string("big", spaces, big, schema, &e) == NULL);
	CHECK_INT(e.code, SHOP_CONFIG);
	CHECK(starts(e.msg, "big: too large"));
	/* Exactly at the limit is fine (all blanks: an empty config). */
	err_clear(&e);
	cfg *c = cfg_load_string("big", spaces, big - 1, schema, &e);
	CHECK(c != NULL);
	cfg_free(c);
	free(spaces);
}

static void test_types(void)
{
	cfg *c = good_str("s: 5\ni: -9223372036854775808\nb: true\nd: 1h30m\nn: -8.25\n");
	CHECK_STR(cfg_str(c, NULL, "s", NULL), "5");
	CHECK_INT(cfg_int(c, NULL, "i", 0), INT64_MIN);
	CHECK_INT(cfg_bool(c, NULL, "b", 0), 1);
	CHECK_INT(cfg_duration(c, NULL, "d", 0), 90 * 60 * 1000);
	CHECK_STR(cfg_str(c, NULL, "n", NULL), "-8.25");
	cfg_free(c);

	c = good_str("s: 'true'\ni: 007\nn: 20\nb: false\n");
	CHECK_STR(cfg_str(c, NULL, "s", NULL), "true");
	CHECK_INT(cfg_bool(c, NULL, "s", -1), -1); /* quoted: a string */
	CHECK_INT(cfg_int(c, NULL, "i", 0), 7);    /* decimal, never octal */
	CHECK_INT(cfg_bool(c, NULL, "b", 1), 0);
	cfg_free(c);

	bad_str("i: \"5\"\n", "t:1:4: i: expected an integer, not the quoted string '5' (remove the quotes)");
	bad_str("i: 9223372036854775808\n", "t:1:4: i: integer '9223372036854775808' is out of range");
	bad_str("i: +5\n", "t:1:4: i: expected an integer, not '+5'");
	bad_str("i: 0x10\n", "t:1:4: i: expected an integer, not '0x10'");
	bad_str("i: 1_000\n", "t:1:4: i: expected an integer, not '1_000'");
	bad_str("i: 1.0\n", "t:1:4: i: expected an integer, not '1.0'");
	bad_str("i: [1]\n", "t:1:4: i: expected an integer, not a list");
	bad_str("b: True\n", "t:1:4: b: expected true or false, not 'True'");
	bad_str("b: on\n", "t:1:4: b: expected true or false, not 'on'");
	bad_str("b: 'true'\n", "t:1:4: b: expected true or false, not the quoted string 'true' (remove the quotes)");
	bad_str("d: 15\n", "t:1:4: d: expected a duration such as 30s, 15m, 2h or 7d, not '15' (a unit is required)");
	bad_str("d: 15 minutes\n", "t:1:4: d: expected a duration such as 30s, 15m, 2h or 7d, not '15 minutes'");
	bad_str("n: .5\n", "t:1:4: n: expected a decimal number such as 8.25, not '.5'");
	bad_str("n: 5.\n", "t:1:4: n: expected a decimal number such as 8.25, not '5.'");
	bad_str("n: 1e3\n", "t:1:4: n: expected a decimal number such as 8.25, not '1e3'");
	bad_str("n: '8.25'\n",
		"t:1:4: n: expected a decimal number such as 8.25, not the quoted string '8.25' (remove the quotes)");
	bad_str("s: {a: 1}\n", "t:1:4: s: expected a string, not a mapping");
	bad_str("m: x\n", "t:1:4: m: expected a mapping (key: value lines), not 'x'");
	bad_str("m: [x]\n", "t:1:4: m: expected a mapping (key: value lines), not a list");
	bad_str("l: {a: 1}\n", "t:1:4: l: expected a list, not a mapping");
	bad_str("l: [1, x]\n", "t:1:8: l[1]: expected an integer, not 'x'");
	bad_str("l:\n- 1\n-\n- 2\n", "t:3:2: l[1]: empty list item");
	bad_str("f: {a: [1], b: 2}\n", "t:1:16: f.b: expected a list, not '2'");
	bad_str("m:\n  id: x\n  nmae: y\n", "t:3:3: unknown key 'nmae' in m");
	/* A block scalar in a message stays on one line. */
	bad_str("i: |\n  1\n  2\n", "t:1:4: i: expected an integer, not the string '1\\n2\\n'");
}

static void test_structure(void)
{
	/* No value: passes any type and reads as absent. */
	cfg *c = good_str("s:\ni: ~\nb: null\nm:\nl:\n");
	CHECK(cfg_get(c, NULL, "s") == NULL);
	CHECK_INT(cfg_int(c, NULL, "i", 3), 3);
	CHECK_INT(cfg_bool(c, NULL, "b", 1), 1);
	CHECK_STR(cfg_str(c, NULL, "m.id", "x"), "x");
	CHECK_INT(cfg_len(cfg_get(c, NULL, "l")), 0);
	cfg_free(c);

	/* CFG_ANY, and lists and free maps without item entries, are not checked. */
	c = good_str("any: {x: [1, {y: z}]}\nfree: {k: [1], j: v}\nlist: [a, {b: c}]\n");
	const cfg_node *any = cfg_get(c, NULL, "any.x");
	CHECK_INT(cfg_len(any), 2);
	CHECK_STR(cfg_str(c, cfg_at(any, 1), "y", NULL), "z");
	CHECK_STR(cfg_where(cfg_at(any, 1)), "t:1:14");
	CHECK_STR(cfg_str(c, cfg_at(cfg_get(c, NULL, "list"), 0), NULL, NULL), "a");
	cfg_free(c);

	/* An empty document, a lone null, a BOM, CRLF line ends. */
	c = good_str("---\n");
	CHECK_INT(cfg_len(cfg_get(c, NULL, NULL)), 0);
	cfg_free(c);
	c = good_str("~\n");
	cfg_free(c);
	c = good_str("\xEF\xBB\xBFs: bom\n");
	CHECK_STR(cfg_str(c, NULL, "s", NULL), "bom");
	cfg_free(c);
	c = good_str("s: a\r\ni: 2\r\n");
	CHECK_INT(cfg_int(c, NULL, "i", 0), 2);
	cfg_free(c);
	bad_str("s: a\r\nzzzz: 2\r\n", "t:2:1: unknown key 'zzzz' at the top level");

	bad_str("hello\n", "t:1:1: the top level must be a mapping (key: value lines), not a scalar");
	bad_str("[1]\n", "t:1:1: the top level must be a mapping (key: value lines), not a list");
	bad_str("s: 1\n...\n---\ns: 2\n", "t:3:1: a second YAML document: a config file holds exactly one");
	bad_str("? [a]\n: 1\n", "t:1:3: a key must be a scalar, not a list");
	bad_str("{{a: 1}: 2}\n", "t:1:2: a key must be a scalar, not a mapping");
	bad_str("'': 1\n", "t:1:1: empty key");
	bad_str("a: *x\n",
		"t:1:4: aliases are not allowed in a config file (alias 'x'): write the value out");
	bad_str("a: &x [1]\n",
		"t:1:4: anchors are not allowed in a config file (anchor 'x'): write the value out");
	bad_str("a: !local {}\n",
		"t:1:4: tags are not allowed in a config file (tag '!local'): quote a value to make it a string");
	bad_str("s: !!str 5\n",
		"t:1:4: tags are not allowed in a config file (tag '!!str'): quote a value to make it a string");
	bad_str("s: \"a\\0b\"\n", "t:1:4: a NUL character (\\0) is not allowed in a value");

	/* Duplicates: the first duplicate in the file is reported. */
	bad_str("m: {id: 1, id: 2}\n", "t:1:12: duplicate key 'id' (first at line 1)");
	bad_str("b: 1\na: 1\na: 2\nb: 2\n", "t:3:1: duplicate key 'a' (first at line 2)");
	bad_str("a: 1\nb: 2\na: 3\nb: 4\na: 5\n", "t:3:1: duplicate key 'a' (first at line 1)");
	bad_str("free: {x: 1, y: 2, x: 3}\n", "t:1:20: duplicate key 'x' (first at line 1)");

	/* Unknown keys, with a suggestion only when it is close. */
	bad_str("zzzz: 1\n", "t:1:1: unknown key 'zzzz' at the top level");
	bad_str("lsit: []\n", "t:1:1: unknown key 'lsit' at the top level (did you mean 'list'?)");
	bad_str("m.id: x\n", "t:1:1: unknown key 'm.id' at the top level");
	bad_str("l[]: 1\n", "t:1:1: unknown key 'l[]' at the top level");

	/* Bytes that are not UTF-8 or not allowed, placed by line and column. */
	bad_str("\xFF\xFEs\0:\0", "t:1:1: invalid leading UTF-8 octet 0xFF at byte 1 (a config file must be UTF-8 text)");
	bad_str("s: x\n s: \xC3\xA9\x01\n",
		"t:2:6: control characters are not allowed 0x01 at byte 12");
	/* A cut sequence is placed at the byte that ends it, the broken
	 * character counting as one column. */
	bad_str("s: ok\ni: 1\ns: \xE2\x82\n",
		"t:3:5: invalid trailing UTF-8 octet 0x0A at byte 17 (a config file must be UTF-8 text)");
	bad_str("s: ok\ni: 1\ns: \xE2\x82",
		"t:3:4: incomplete UTF-8 octet sequence at byte 15 (a config file must be UTF-8 text)");

	/* Nesting is bounded. */
	buf deep = {0};
	buf_adds(&deep, "a: ");
	for (int i = 0; i < CFG_MAX_DEPTH + 5; i++)
		buf_addc(&deep, '[');
	for (int i = 0; i < CFG_MAX_DEPTH + 5; i++)
		buf_addc(&deep, ']');
	char want[128];
	/* The top-level mapping is the first level. */
	snprintf(want, sizeof want, "t:1:%d: nested deeper than %d levels", 3 + CFG_MAX_DEPTH, CFG_MAX_DEPTH);
	bad_str(buf_str(&deep), want);
	buf_free(&deep);

	/* A syntax error keeps its libyaml wording and position. */
	bad_str("s: a\n  b: c\n", "t:2:4: mapping values are not allowed in this context");

	/* Only the first error sticks. */
	shop_err e = {0};
	err_set(&e, SHOP_USAGE, "earlier");
	CHECK(cfg_load_string("t", "zzzz: 1", 7, small, &e) == NULL);
	CHECK_INT(e.code, SHOP_USAGE);
	CHECK_STR(e.msg, "earlier");

	/* Not NUL-terminated input: only len bytes are read. */
	err_clear(&e);
	c = cfg_load_string(NULL, "s: abcdef", 5, small, &e);
	CHECK(c != NULL);
	CHECK_STR(cfg_name(c), "(string)");
	CHECK_STR(cfg_str(c, NULL, "s", NULL), "ab");
	cfg_free(c);
}

static void test_empty(void)
{
	cfg *c = cfg_empty();
	CHECK_STR(cfg_name(c), "(built-in)");
	CHECK_INT(cfg_len(cfg_get(c, NULL, NULL)), 0);
	CHECK_STR(cfg_str(c, NULL, "currency", "USD"), "USD");
	CHECK_INT(cfg_int(c, NULL, "shipping.flat", 0), 0);
	CHECK_INT(cfg_bool(c, NULL, "gateway.capture", 1), 1);
	CHECK_INT(cfg_duration(c, NULL, "reservation_ttl", 900000), 900000);
	cfg_free(c);
	cfg_free(NULL);
	/* No config at all reads as the defaults too. */
	CHECK_STR(cfg_str(NULL, NULL, "currency", "USD"), "USD");
	CHECK(cfg_get(NULL, NULL, "x") == NULL);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-cfg FIXTURES-DIR\n");
		return 2;
	}
	dir = argv[1];
	test_good();
	test_files();
	test_types();
	test_structure();
	test_empty();
	return t_done();
}
