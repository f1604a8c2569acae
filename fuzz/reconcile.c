/* reconcile: the settlement report reader of shop-pay reconcile
 * (read_report in lib/pay.c: the sandbox's JSON lines or Stripe's CSV),
 * which is static: the file is included. It reads no store. */
#include "fuzz.h"
#include "../lib/pay.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n) /* fmemopen refuses a size of 0 */
		return 0;
	FILE *f = fmemopen((void *)d, n, "r");
	if (!f)
		return 0;
	shop s;
	memset(&s, 0, sizeof s);
	s.max_line = 4096;
	s.gateway = "sandbox";
	report rp = {0};
	read_report(&s, f, "fuzz", &rp);
	if (!s.err.code && rp.n)
		qsort(rp.g, rp.n, sizeof *rp.g, side_cmp);
	free(rp.g);
	fclose(f);
	return 0;
}
