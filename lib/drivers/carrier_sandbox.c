/* carrier_sandbox: an offline carrier. Rates come from the weight; a
 * label's tracking number from the shipment; tracking progresses with the
 * clock ($SHOP_NOW) from the moment the parcel was shipped:
 *
 *   +0h pre_transit, +4h in_transit, +24h in_transit (hub), +40h
 *   out_for_delivery, +48h delivered.
 *
 * Documented failures (shop-ship(1)): a parcel over 70 kg gets no label; a
 * postal code "00000" is lost: in_transit, then exception at +24h. */
#include "carrier.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/clock.h"
#include "../base/sha256.h"

#define HOUR (3600LL * 1000)
#define MAX_G 70000

static void *sb_open(const carrier_conf *c, shop_err *e)
{
	(void)c;
	(void)e;
	static int dummy;
	return &dummy;
}

static void sb_close(void *impl)
{
	(void)impl;
}

static void sb_buy(void *impl, const carrier_parcel *p, const char *service, const char *key, carrier_label *out)
{
	(void)impl;
	(void)key;
	if (p->weight_g > MAX_G) {
		out->outcome = CR_REFUSED;
		snprintf(out->reason, sizeof out->reason, "no service for a parcel of %" PRId64 " g (at most %d)",
		         p->weight_g, MAX_G);
		return;
	}
	int64_t units = (p->weight_g + 499) / 500;
	int64_t ground = 500 + 100 * units, express = 1500 + 200 * units;
	if (service && strcmp(service, "ground") && strcmp(service, "express") && strcmp(service, "sandbox")) {
		out->outcome = CR_REFUSED;
		snprintf(out->reason, sizeof out->reason,
		         "the sandbox carrier has no service '%s' (carrier sandbox; services ground, express)", service);
		return;
	}
	int exp = service && !strcmp(service, "express");
	snprintf(out->carrier, sizeof out->carrier, "sandbox");
	snprintf(out->service, sizeof out->service, "%s", exp ? "express" : "ground");
	out->rate = exp ? express : ground;
	char hex[65];
	sha256_hex(p->shipment_id, strlen(p->shipment_id), hex);
	char h8[9];
	memcpy(h8, hex, 8);
	h8[8] = 0;
	unsigned long long num = strtoull(h8, NULL, 16);
	snprintf(out->tracking, sizeof out->tracking, "SBX%010llu", num % 10000000000ULL);
	snprintf(out->tracker_ref, sizeof out->tracker_ref, "%s", out->tracking);
	snprintf(out->ref, sizeof out->ref, "sbx_%s", p->shipment_id);
	snprintf(out->label_url, sizeof out->label_url, "sandbox:label/%s.pdf", out->tracking);
	out->outcome = CR_OK;
}

static void add(carrier_track *t, int64_t at, const char *st, const char *msg)
{
	t->events = xrealloc(t->events, (t->n + 1) * sizeof *t->events);
	carrier_event *ev = &t->events[t->n++];
	memset(ev, 0, sizeof *ev);
	clock_format(at, ev->at);
	snprintf(ev->status, sizeof ev->status, "%s", carrier_map_status(st));
	snprintf(ev->carrier_status, sizeof ev->carrier_status, "%s", st);
	snprintf(ev->message, sizeof ev->message, "%s", msg);
}

static void sb_track(void *impl, const char *tracking, const char *tracker_ref, const char *shipped_at,
                     int64_t weight_g, const char *postal, carrier_track *t)
{
	(void)impl;
	(void)tracker_ref;
	(void)weight_g;
	int64_t t0, now = clock_now_ms();
	if (!shipped_at || clock_parse_rfc3339(shipped_at, &t0)) {
		t->outcome = CR_ERROR;
		t->code = SHOP_SOFTWARE;
		snprintf(t->reason, sizeof t->reason, "%s: not shipped", tracking ? tracking : "?");
		return;
	}
	static const struct {
		int64_t after;
		const char *st, *msg;
	} normal[] = {
		{0, "pre_transit", "Shipping label scanned"},
		{4 * HOUR, "in_transit", "Departed the sender's facility"},
		{24 * HOUR, "in_transit", "Arrived at the hub"},
		{40 * HOUR, "out_for_delivery", "Out for delivery"},
		{48 * HOUR, "delivered", "Delivered"},
	}, lost[] = {
		{0, "pre_transit", "Shipping label scanned"},
		{4 * HOUR, "in_transit", "Departed the sender's facility"},
		{24 * HOUR, "failure", "Lost in transit"},
	};
	int is_lost = postal && !strcmp(postal, "00000");
	size_t n = is_lost ? sizeof lost / sizeof *lost : sizeof normal / sizeof *normal;
	for (size_t i = 0; i < n; i++) {
		int64_t at = t0 + (is_lost ? lost[i].after : normal[i].after);
		if (at > now)
			break;
		add(t, at, is_lost ? lost[i].st : normal[i].st, is_lost ? lost[i].msg : normal[i].msg);
	}
	t->outcome = CR_OK;
}

const carrier_driver carrier_sandbox = {"sandbox", sb_open, sb_buy, sb_track, sb_close};
