/* carrier: see carrier.h. */
#include "carrier.h"

#include <stdlib.h>
#include <string.h>

static const carrier_driver *const drivers[] = {&carrier_sandbox, &carrier_http};

struct carrier {
	const carrier_driver *d;
	void *impl;
};

static const carrier_driver *find(const char *name)
{
	for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
		if (name && !strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

int carrier_known(const char *name)
{
	return find(name) != NULL;
}

carrier *carrier_open(const carrier_conf *c, shop_err *e)
{
	const carrier_driver *d = find(c->driver);
	if (!d) {
		err_set(e, SHOP_CONFIG, "shipping.carrier: '%s' is not a carrier (sandbox, http)", c->driver ? c->driver : "");
		return NULL;
	}
	void *impl = d->open(c, e);
	if (!impl)
		return NULL;
	carrier *cr = xmalloc(sizeof *cr);
	cr->d = d;
	cr->impl = impl;
	return cr;
}

void carrier_close(carrier *c)
{
	if (!c)
		return;
	c->d->close(c->impl);
	free(c);
}

void carrier_buy(carrier *c, const carrier_parcel *p, const char *service, const char *key, carrier_label *out)
{
	memset(out, 0, sizeof *out);
	c->d->buy(c->impl, p, service, key, out);
}

void carrier_track_get(carrier *c, const char *tracking, const char *tracker_ref, const char *shipped_at,
                       int64_t weight_g, const char *postal, carrier_track *t)
{
	memset(t, 0, sizeof *t);
	c->d->track(c->impl, tracking, tracker_ref, shipped_at, weight_g, postal, t);
}

void carrier_track_free(carrier_track *t)
{
	free(t->events);
	t->events = NULL;
	t->n = 0;
}

const char *carrier_map_status(const char *s)
{
	static const char *const map[][2] = {
		{"pre_transit", "pre_transit"},
		{"in_transit", "in_transit"},
		{"out_for_delivery", "out_for_delivery"},
		{"available_for_pickup", "out_for_delivery"},
		{"delivered", "delivered"},
		{"return_to_sender", "returned"},
		{"returned", "returned"},
		{"failure", "exception"},
		{"cancelled", "exception"},
		{"error", "exception"},
		{"exception", "exception"},
	};
	for (size_t i = 0; i < sizeof map / sizeof *map; i++)
		if (s && !strcmp(map[i][0], s))
			return map[i][1];
	return "unknown";
}
