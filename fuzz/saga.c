/* saga: a saga file (shop-saga(5)) parsed as shop-saga reads it, by
 * def_parse of lib/saga.c, which is static: the file is included. */
#include "fuzz.h"
#include "../lib/saga.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	jv def;
	shop_err e = {0};
	if (!def_parse("fuzz.yaml", (const char *)d, n, &def, &e))
		jv_free(def);
	return 0;
}
