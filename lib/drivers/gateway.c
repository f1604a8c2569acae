/* gateway: see gateway.h. */
#include "gateway.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const gw_driver *const drivers[] = {&gw_sandbox, &gw_stripe};

struct gateway {
	const gw_driver *d;
	void *impl;
};

static const gw_driver *find(const char *name)
{
	for (size_t i = 0; i < sizeof drivers / sizeof *drivers; i++)
		if (name && !strcmp(drivers[i]->name, name))
			return drivers[i];
	return NULL;
}

int gw_known(const char *name)
{
	return find(name) != NULL;
}

gateway *gw_open(const gw_conf *c, shop_err *e)
{
	const gw_driver *d = find(c->driver);
	if (!d) {
		err_set(e, SHOP_CONFIG, "payments.gateway: '%s' is not a gateway (sandbox, stripe)",
		        c->driver ? c->driver : "");
		return NULL;
	}
	void *impl = d->open(c, e);
	if (!impl)
		return NULL;
	gateway *g = xmalloc(sizeof *g);
	g->d = d;
	g->impl = impl;
	return g;
}

void gw_close(gateway *g)
{
	if (!g)
		return;
	g->d->close(g->impl);
	free(g);
}

void gw_call(gateway *g, const gw_req *r, gw_res *res)
{
	memset(res, 0, sizeof *res);
	g->d->call(g->impl, r, res);
}

void gw_set(gw_res *res, enum gw_outcome o, const char *fmt, ...)
{
	res->outcome = o;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof res->reason, fmt, ap);
	va_end(ap);
}
