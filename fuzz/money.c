/* money: exact decimal parsing (lib/base/money.h) in currencies of 0, 2
 * and 3 decimals; what parses must format back to a value that parses to
 * the same minor units. Then the same text as a JSON value through
 * field_money (lib/fields.c), as records carry prices. */
#include "fuzz.h"
#include "fields.h"
#include "json.h"
#include "money.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const codes[] = {"USD", "JPY", "BHD"};
	char *s = fuzz_str(d, n);
	for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
		const currency *c = currency_find(codes[i]);
		if (!c)
			abort();
		int64_t v = 0, w = 0;
		shop_err e = {0};
		if (!money_parse_decimal(s, c, &v, &e)) {
			char out[32];
			money_format(v, c, out);
			shop_err e2 = {0};
			if (money_parse_decimal(out, c, &w, &e2) || w != v)
				abort(); /* format and parse are inverses */
		}
	}
	/* As JSON: a number or a string holding a decimal. */
	size_t bad;
	if (utf8_valid(s, n, &bad)) {
		char err[128];
		jtree *t = jtree_new();
		const jnode *root = jtree_parse(t, s, n, err, sizeof err);
		if (root)
			for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
				int64_t v;
				shop_err e = {0};
				field_money(root, "price", currency_find(codes[i]), &v, &e);
			}
		jtree_free(t);
	}
	free(s);
	return 0;
}
