/* jsonl: the JSON-lines reader (lib/base/jsonl.h) over the input as a
 * file, both as jv records and as trees, with a small line limit so that
 * the too-long path is reached too. */
#include "fuzz.h"
#include "jsonl.h"

static void read_all(const uint8_t *d, size_t n, int tree, size_t max_line)
{
	FILE *f = fmemopen((void *)d, n, "r");
	if (!f)
		return;
	jsonl_reader *r = jsonl_reader_new(f, "fuzz", max_line);
	shop_err e = {0};
	for (;;) {
		int rc;
		if (tree) {
			const jnode *root;
			rc = jsonl_next_tree(r, &root, &e);
		} else {
			jv v;
			rc = jsonl_next(r, &v, &e);
			if (rc == 1)
				jv_free(v);
		}
		if (rc != 1)
			break;
		size_t len;
		jsonl_line(r, &len);
		jsonl_lineno(r);
	}
	jsonl_reader_free(r);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n) /* fmemopen refuses a size of 0 */
		return 0;
	read_all(d, n, 0, 0);
	read_all(d, n, 1, 0);
	read_all(d, n, 1, 64);
	return 0;
}
