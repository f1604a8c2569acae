/* carrier: the one interface shop-ship speaks to a carrier through: rates
 * and a label for a parcel, and the tracking of a label. Knows nothing of
 * orders or of shop's shipment table: lib/ship.c keeps those.
 *
 * A label purchase carries an idempotency key made by the caller from the
 * shipment, the same on every attempt, so that a retry never buys a
 * second label.
 *
 * Drivers: "sandbox" (drivers/carrier_sandbox.c: offline; rates from the
 * weight; tracking that progresses with the clock, $SHOP_NOW) and "http"
 * (drivers/carrier_http.c: a shipping-aggregator API shaped like
 * EasyPost's, over lib/base/http). */
#ifndef SHOP_CARRIER_H
#define SHOP_CARRIER_H

#include <stdint.h>
#include "../base/http.h"
#include "../base/util.h"

/* Where a parcel goes and what it weighs. */
typedef struct carrier_parcel {
	const char *shipment_id, *order_id;
	const char *from_region, *from_warehouse;
	const char *name, *line1, *city, *region, *postal, *country; /* to */
	int64_t weight_g;
	const char *currency; /* for rates, ISO 4217 */
} carrier_parcel;

enum carrier_outcome {
	CR_OK,       /* done */
	CR_REFUSED,  /* the carrier said no for good (no service to there, too
	                heavy): reason says why */
	CR_NOT_SENT, /* the carrier did not act (unreachable, 429/5xx after
	                retries with nothing bought): try again later */
	CR_UNKNOWN,  /* it may have acted (timeout after sending): a retry with
	                the same key tells */
	CR_ERROR,    /* our request or setup is wrong (code) */
};

typedef struct carrier_label {
	enum carrier_outcome outcome;
	char carrier[32], service[48];
	int64_t rate; /* minor units of the parcel's currency */
	char tracking[64], label_url[256], ref[96], tracker_ref[96];
	char reason[256];
	int code; /* CR_ERROR: the exit code */
} carrier_label;

/* One tracking event, carrier status mapped onto shop's:
 * pre_transit, in_transit, out_for_delivery, delivered, exception,
 * returned (and "unknown", which moves nothing). */
typedef struct carrier_event {
	char at[32];             /* RFC 3339 UTC */
	char status[24];         /* shop's */
	char carrier_status[32]; /* the carrier's own */
	char message[160];
} carrier_event;

typedef struct carrier_track {
	enum carrier_outcome outcome;
	carrier_event *events; /* oldest first as the carrier gave them; heap */
	size_t n;
	char reason[256];
	int code;
} carrier_track;

typedef struct carrier_conf {
	const char *driver; /* "sandbox" or "http" */
	http_opts http;
	const char *api_base, *key_env;
} carrier_conf;

typedef struct carrier carrier;

/* NULL with e set: 78 for an unknown driver or a missing key. */
carrier *carrier_open(const carrier_conf *c, shop_err *e);
void carrier_close(carrier *c);
int carrier_known(const char *name);
/* Buy a label for p: the cheapest rate, or the named service (NULL: any).
 * key: the idempotency key. */
void carrier_buy(carrier *c, const carrier_parcel *p, const char *service, const char *key, carrier_label *out);
/* The tracking of a label (its tracking number, its tracker ref, and when
 * it was shipped). t->events is freed with carrier_track_free. */
void carrier_track_get(carrier *c, const char *tracking, const char *tracker_ref, const char *shipped_at,
                       int64_t weight_g, const char *postal, carrier_track *t);
void carrier_track_free(carrier_track *t);

/* Map a carrier's status word onto shop's (EasyPost's words and ours). */
const char *carrier_map_status(const char *carrier_status);

typedef struct carrier_driver {
	const char *name;
	void *(*open)(const carrier_conf *c, shop_err *e);
	void (*buy)(void *impl, const carrier_parcel *p, const char *service, const char *key, carrier_label *out);
	void (*track)(void *impl, const char *tracking, const char *tracker_ref, const char *shipped_at,
	              int64_t weight_g, const char *postal, carrier_track *t);
	void (*close)(void *impl);
} carrier_driver;
extern const carrier_driver carrier_sandbox, carrier_http;

#endif
