/* journal: the reader of a journal file (lib/base/journal.c). Its parse
 * is static: the file is included. The first byte picks the mode: odd,
 * the rest as it is (checksums will rarely match); even, every line of the
 * rest that ends with '}' is sealed with the right checksum first, as
 * journal_append writes it, so that the fuzzer reaches the records past
 * the checksum (JSON, sequence numbers). Also through journal_read from a
 * file, now and then. */
#include "fuzz.h"
#include "../lib/base/journal.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	int seal = !(d[0] & 1), viafile = (d[0] & 6) == 6;
	const char *p = (const char *)d + 1;
	n--;
	buf text = {0};
	if (seal) {
		size_t off = 0;
		while (off < n) {
			const char *nl = memchr(p + off, '\n', n - off);
			size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
			const char *l = p + off;
			if (nl && len && l[len - 1] == '}') {
				char sum[SUM_LEN + 1];
				sum_of(l, len, sum);
				buf_add(&text, l, len - 1);
				buf_addf(&text, ",\"sum\":\"%s\"}\n", sum);
			} else {
				buf_add(&text, l, len + (nl != NULL));
			}
			off += len + 1;
		}
	} else {
		buf_add(&text, p, n);
	}
	jv recs;
	size_t good;
	int torn;
	shop_err e = {0};
	if (!parse("fuzz", text.p ? text.p : "", text.len, &recs, &good, &torn, &e))
		jv_free(recs);
	if (viafile) {
		shop_err e2 = {0};
		if (!journal_read(fuzz_file((const uint8_t *)text.p, text.len), &recs, &torn, &e2))
			jv_free(recs);
	}
	buf_free(&text);
	return 0;
}
