/* carrier: the http carrier's answers (lib/drivers/carrier_http.c, an
 * EasyPost-shaped API): buying a label (create shipment, then buy a rate)
 * and tracking, with the answers taken from the input (http_fake.h). */
#include "http_fake.h"
#include "../lib/drivers/carrier_http.c"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (!n)
		return 0;
	hc x = {NULL, (char *)"http://carrier.invalid", (char *)"Authorization: Bearer k"};
	fake_answers(d + 1, n - 1);
	if (d[0] & 1) {
		carrier_parcel p = {"shp_1", "ord_1", "US-CA", "wh1", "Ann", "1 Main St", "Springfield", "IL", "62701",
		                    "US", 500, (d[0] & 2) ? "JPY" : "USD"};
		carrier_label l;
		memset(&l, 0, sizeof l);
		hc_buy(&x, &p, (d[0] & 4) ? "Ground" : NULL, "key-1", &l);
	} else {
		carrier_track t;
		memset(&t, 0, sizeof t);
		hc_track(&x, "TRK1", (d[0] & 2) ? "trk_1" : "", "2026-01-01T00:00:00Z", 500, "62701", &t);
		carrier_track_free(&t);
	}
	return 0;
}
