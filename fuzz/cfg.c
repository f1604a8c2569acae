/* cfg: shop.yaml (lib/base/cfg.h) with the shop's own schema, then every
 * typed getter the programs use over it. */
#include "fuzz.h"
#include "cfg.h"
#include "shop.h"

static void walk(const cfg *c, const cfg_node *n, int depth)
{
	if (!n || depth > 8)
		return;
	cfg_text(n);
	cfg_where(n);
	for (size_t i = 0; i < cfg_len(n) && i < 64; i++) {
		cfg_key_at(n, i);
		walk(c, cfg_at(n, i), depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	shop_err e = {0};
	cfg *c = cfg_load_string("fuzz.yaml", (const char *)d, n, shop_cfg_schema(), &e);
	if (!c)
		return 0;
	cfg_str(c, NULL, "currency", "USD");
	cfg_duration(c, NULL, "store.busy_timeout", 5000);
	cfg_int(c, NULL, "limits.line_bytes", 1 << 20);
	cfg_duration(c, NULL, "http.timeout", 1000);
	cfg_int(c, NULL, "http.attempts", 3);
	cfg_duration(c, NULL, "inventory.reservation_ttl", 1000);
	cfg_int(c, NULL, "cart.max_qty", 99);
	cfg_duration(c, NULL, "payments.hold", 1000);
	const cfg_node *w = cfg_get(c, NULL, "warehouses");
	for (size_t i = 0; w && i < cfg_len(w); i++) {
		const cfg_node *x = cfg_at(w, i);
		cfg_str(c, x, "id", NULL);
		cfg_int(c, x, "priority", 0);
	}
	const cfg_node *r = cfg_get(c, NULL, "tax.rules");
	for (size_t i = 0; r && i < cfg_len(r); i++)
		cfg_bool(c, cfg_at(r, i), "inclusive", 0);
	static const char *const maps[] = {"store", "limits", "http", "warehouses", "inventory", "tax",
	                                   "shipping", "cart", "payments", "notify"};
	for (size_t i = 0; i < sizeof maps / sizeof *maps; i++)
		walk(c, cfg_get(c, NULL, maps[i]), 0);
	cfg_free(c);
	return 0;
}
