/* json: the strict JSON parser (lib/base/json.h), both ways in: the tree
 * and jq's values, after the UTF-8 check that every caller makes first;
 * what parses must dump and parse back to the same text. */
#include "fuzz.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *p = (const char *)d;
	size_t bad;
	if (!utf8_valid(p, n, &bad))
		return 0;
	char err[128];
	jtree *t = jtree_new();
	const jnode *root = jtree_parse(t, p, n, err, sizeof err);
	jv v;
	int rc = json_parse(p, n, &v, err, sizeof err);
	if ((root == NULL) != (rc != 0))
		abort(); /* the two ways in must agree */
	if (root) {
		buf a = {0}, b = {0};
		jnode_dump(root, 0, &a);
		json_dump(v, &b);
		if (a.len != b.len || memcmp(buf_str(&a), buf_str(&b), a.len))
			abort(); /* jnode_dump writes what json_dump writes */
		jv w;
		if (json_parse(buf_str(&b), b.len, &w, err, sizeof err))
			abort(); /* what it writes reads back */
		buf c = {0};
		json_dump(w, &c);
		if (c.len != b.len || memcmp(buf_str(&c), buf_str(&b), b.len))
			abort();
		jv_free(w);
		jv_free(v);
		buf_free(&a);
		buf_free(&b);
		buf_free(&c);
	}
	jtree_free(t);
	return 0;
}
