/* stripe: the Stripe gateway's answers (lib/drivers/stripe.c) to each
 * operation, with the answers taken from the input (http_fake.h): the
 * first byte picks the operation. */
#include "http_fake.h"
#include "../lib/drivers/stripe.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const char *const ops[] = {"authorize", "capture", "void", "refund"};
	if (!n)
		return 0;
	stripe s = {NULL, (char *)"http://stripe.invalid", (char *)"Authorization: Bearer k", 0, 1000};
	gw_req r = {ops[d[0] & 3], "key-1", "ord_1", "pay_1", (d[0] & 4) ? "rma_1" : NULL, "pm_card_visa", "USD", 1999,
	            "pi_1"};
	gw_res res;
	memset(&res, 0, sizeof res);
	fake_answers(d + 1, n - 1);
	st_call(&s, &r, &res);
	return 0;
}
