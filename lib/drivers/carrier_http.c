/* carrier_http: a shipping-aggregator API shaped like EasyPost's, over
 * lib/base/http (libcurl):
 *
 *   label  POST /v2/shipments {"shipment": {reference, to_address,
 *          from_address, parcel: {weight (ounces)}}} -> rates;
 *          POST /v2/shipments/{id}/buy {"rate": {"id"}} -> tracking_code,
 *          postage_label.label_url, tracker.id
 *   track  GET /v2/trackers/{id} -> tracking_details[] {status, datetime,
 *          message}
 *
 * JSON bodies; the key from the environment variable the config names,
 * sent only in the Authorization header; both POSTs carry Idempotency-Key
 * (the caller's key plus ":create" or ":buy"), the same on every attempt,
 * so a retried purchase buys one label. Retries are lib/base/http's. */
#include "carrier.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/json.h"
#include "../base/money.h"

typedef struct hc {
	http_client *h;
	char *base, *auth;
} hc;

static void *hc_open(const carrier_conf *c, shop_err *e)
{
	char *auth = http_bearer_from_env(c->key_env, "EASYPOST_API_KEY", "http carrier", "shipping.http.key_env", e);
	if (!auth)
		return NULL;
	http_client *h = http_new(&c->http);
	if (!h) {
		http_secret_free(auth);
		err_set(e, SHOP_UNAVAILABLE, "http carrier: libcurl cannot be loaded");
		return NULL;
	}
	hc *x = xmalloc(sizeof *x);
	x->h = h;
	x->base = http_base_url(c->api_base, "https://api.easypost.com");
	x->auth = auth;
	return x;
}

static void hc_close(void *impl)
{
	hc *x = impl;
	http_free(x->h);
	free(x->base);
	http_secret_free(x->auth);
	free(x);
}

/* One request; *root the parsed answer (in t). Returns the outcome of the
 * transport: CR_OK when an answer with a JSON body came (any status). */
static enum carrier_outcome request(hc *x, const char *method, const char *url, const char *key, const char *body,
                                    jtree *t, buf *keep, const jnode **root, long *status, char *why, size_t whylen)
{
	char *idem = key ? xasprintf("Idempotency-Key: %s", key) : NULL;
	const char *headers[] = {x->auth, "Content-Type: application/json", idem, NULL};
	http_resp resp = {0};
	shop_err e = {0};
	int rc = http_request(x->h, method, url, headers, body, body ? strlen(body) : 0, &resp, &e);
	free(idem);
	enum carrier_outcome o = CR_OK;
	*root = NULL;
	*status = resp.status;
	if (rc) {
		snprintf(why, whylen, "%.250s", e.msg);
		o = rc == SHOP_USAGE ? CR_ERROR : resp.maybe_delivered ? CR_UNKNOWN : CR_NOT_SENT;
	} else {
		char perr[96];
		/* The tree borrows the body: the caller's buffer keeps it. */
		buf_reset(keep);
		buf_add(keep, resp.body.p ? resp.body.p : "", resp.body.len);
		size_t bad;
		/* The parser takes valid UTF-8 only (json.h): check it first. */
		*root = utf8_valid(keep->p, keep->len, &bad) ? jtree_parse(t, buf_str(keep), keep->len, perr, sizeof perr)
		                                             : NULL;
		if (!*root || (*root)->type != JN_OBJ) {
			snprintf(why, whylen, "HTTP %ld with a body that is not JSON", resp.status);
			o = resp.status >= 500 ? CR_UNKNOWN : CR_ERROR;
		}
	}
	http_resp_free(&resp);
	return o;
}

/* An error answer to the label's outcome. */
static void error_out(long status, const jnode *root, const char *what, carrier_label *out)
{
	const jnode *err = jnode_get(root, "error");
	char code[64], msg[160];
	jnode_text(err, "code", code, sizeof code);
	jnode_text(err, "message", msg, sizeof msg);
	snprintf(out->reason, sizeof out->reason, "%s: HTTP %ld %s: %s", what, status, code, msg);
	if (status == 401 || status == 403) {
		out->outcome = CR_ERROR;
		out->code = SHOP_CONFIG;
	} else if (status == 429) {
		out->outcome = CR_NOT_SENT;
	} else if (status == 409) {
		/* The same purchase still running elsewhere: it may well end. */
		out->outcome = CR_UNKNOWN;
	} else if (status >= 500) {
		out->outcome = CR_UNKNOWN;
	} else if (status == 422 || status == 400) {
		out->outcome = CR_REFUSED;
	} else {
		out->outcome = CR_ERROR;
		out->code = SHOP_SOFTWARE;
	}
}

static jv address(const char *name, const char *line1, const char *city, const char *region, const char *postal,
                  const char *country)
{
	jv a = jv_object();
	a = jv_object_set(a, jv_string("name"), jv_string(name ? name : ""));
	a = jv_object_set(a, jv_string("street1"), jv_string(line1 ? line1 : ""));
	a = jv_object_set(a, jv_string("city"), jv_string(city ? city : ""));
	a = jv_object_set(a, jv_string("state"), jv_string(region ? region : ""));
	a = jv_object_set(a, jv_string("zip"), jv_string(postal ? postal : ""));
	a = jv_object_set(a, jv_string("country"), jv_string(country ? country : ""));
	return a;
}

static void hc_buy(void *impl, const carrier_parcel *p, const char *service, const char *key, carrier_label *out)
{
	hc *x = impl;
	jv sh = jv_object();
	sh = jv_object_set(sh, jv_string("reference"), jv_string(p->shipment_id));
	sh = jv_object_set(sh, jv_string("to_address"),
	                   address(p->name, p->line1, p->city, p->region, p->postal, p->country));
	sh = jv_object_set(sh, jv_string("from_address"),
	                   address(p->from_warehouse, p->from_warehouse, "", p->from_region, "", ""));
	jv parcel = jv_object();
	/* Ounces, a tenth at most, rounded up: 28.349523125 g an ounce. */
	double oz = (double)((p->weight_g * 100000 + 283494) / 283495) / 10.0;
	parcel = jv_object_set(parcel, jv_string("weight"), jv_number(oz));
	sh = jv_object_set(sh, jv_string("parcel"), parcel);
	jv body = jv_object_set(jv_object(), jv_string("shipment"), sh);
	buf b = {0};
	json_dump(body, &b);
	jv_free(body);
	char *url = xasprintf("%s/v2/shipments", x->base);
	char *k1 = xasprintf("%s:create", key);
	jtree *t = jtree_new();
	buf keep = {0}, keep2 = {0};
	const jnode *root;
	long status;
	enum carrier_outcome o = request(x, "POST", url, k1, buf_str(&b), t, &keep, &root, &status, out->reason,
	                                 sizeof out->reason);
	free(url);
	free(k1);
	buf_free(&b);
	char shp[96] = "", rate_id[96] = "";
	if (o != CR_OK) {
		out->outcome = o;
		out->code = SHOP_CONFIG;
		goto done;
	}
	if (status < 200 || status > 299) {
		error_out(status, root, "create shipment", out);
		goto done;
	}
	jnode_text(root, "id", shp, sizeof shp);
	/* The cheapest rate, or the cheapest of the named service. */
	const jnode *rates = jnode_get(root, "rates");
	const currency *cur = currency_find(p->currency ? p->currency : "USD");
	int64_t best = -1;
	for (uint32_t i = 0; rates && rates->type == JN_ARR && i < rates->len; i++) {
		const jnode *r = &rates->kids[i];
		char sv[48], rs[32], cy[8], id[96], cr[32];
		jnode_text(r, "service", sv, sizeof sv);
		jnode_text(r, "rate", rs, sizeof rs);
		jnode_text(r, "currency", cy, sizeof cy);
		jnode_text(r, "id", id, sizeof id);
		jnode_text(r, "carrier", cr, sizeof cr);
		if (service && strcasecmp(service, sv) && strcasecmp(service, cr))
			continue;
		int64_t v;
		shop_err me = {0};
		if (money_parse_decimal(rs, currency_find(cy) ? currency_find(cy) : cur, &v, &me))
			continue;
		if (best < 0 || v < best) {
			best = v;
			snprintf(rate_id, sizeof rate_id, "%s", id);
			snprintf(out->service, sizeof out->service, "%s", sv);
			snprintf(out->carrier, sizeof out->carrier, "%s", cr);
			out->rate = v;
		}
	}
	if (!shp[0] || !rate_id[0]) {
		out->outcome = CR_REFUSED;
		snprintf(out->reason, sizeof out->reason, "no rate%s%s for this parcel", service ? " of carrier or service " : "",
		         service ? service : "");
		goto done;
	}
	url = xasprintf("%s/v2/shipments/%s/buy", x->base, shp);
	char *k2 = xasprintf("%s:buy", key);
	jv rb = jv_object_set(jv_object(), jv_string("rate"), jv_object_set(jv_object(), jv_string("id"),
	                                                                     jv_string(rate_id)));
	buf b2 = {0};
	json_dump(rb, &b2);
	jv_free(rb);
	o = request(x, "POST", url, k2, buf_str(&b2), t, &keep2, &root, &status, out->reason, sizeof out->reason);
	free(url);
	free(k2);
	buf_free(&b2);
	if (o != CR_OK) {
		out->outcome = o;
		out->code = SHOP_CONFIG;
		goto done;
	}
	if (status < 200 || status > 299) {
		error_out(status, root, "buy", out);
		goto done;
	}
	jnode_text(root, "tracking_code", out->tracking, sizeof out->tracking);
	jnode_text(jnode_get(root, "postage_label"), "label_url", out->label_url, sizeof out->label_url);
	jnode_text(jnode_get(root, "tracker"), "id", out->tracker_ref, sizeof out->tracker_ref);
	snprintf(out->ref, sizeof out->ref, "%s", shp);
	if (!out->tracking[0]) {
		out->outcome = CR_UNKNOWN;
		snprintf(out->reason, sizeof out->reason, "buy: the answer has no tracking_code");
		goto done;
	}
	out->outcome = CR_OK;
done:
	jtree_free(t);
	buf_free(&keep);
	buf_free(&keep2);
}

static void hc_track(void *impl, const char *tracking, const char *tracker_ref, const char *shipped_at,
                     int64_t weight_g, const char *postal, carrier_track *t)
{
	hc *x = impl;
	(void)shipped_at;
	(void)weight_g;
	(void)postal;
	if (!tracker_ref || !*tracker_ref) {
		t->outcome = CR_ERROR;
		t->code = SHOP_SOFTWARE;
		snprintf(t->reason, sizeof t->reason, "%s: no tracker", tracking ? tracking : "?");
		return;
	}
	char *url = xasprintf("%s/v2/trackers/%s", x->base, tracker_ref);
	jtree *tr = jtree_new();
	buf keep = {0};
	const jnode *root;
	long status;
	enum carrier_outcome o = request(x, "GET", url, NULL, NULL, tr, &keep, &root, &status, t->reason,
	                                 sizeof t->reason);
	free(url);
	if (o != CR_OK) {
		t->outcome = o == CR_UNKNOWN ? CR_NOT_SENT : o; /* a read: nothing to be unsure of */
		t->code = SHOP_CONFIG;
	} else if (status < 200 || status > 299) {
		carrier_label l = {0};
		error_out(status, root, "tracker", &l);
		t->outcome = l.outcome == CR_UNKNOWN ? CR_NOT_SENT : l.outcome;
		t->code = l.code ? l.code : SHOP_SOFTWARE;
		snprintf(t->reason, sizeof t->reason, "%s", l.reason);
	} else {
		const jnode *d = jnode_get(root, "tracking_details");
		for (uint32_t i = 0; d && d->type == JN_ARR && i < d->len; i++) {
			const jnode *ev = &d->kids[i];
			t->events = xrealloc(t->events, (t->n + 1) * sizeof *t->events);
			carrier_event *ce = &t->events[t->n];
			memset(ce, 0, sizeof *ce);
			jnode_text(ev, "datetime", ce->at, sizeof ce->at);
			jnode_text(ev, "status", ce->carrier_status, sizeof ce->carrier_status);
			jnode_text(ev, "message", ce->message, sizeof ce->message);
			snprintf(ce->status, sizeof ce->status, "%s", carrier_map_status(ce->carrier_status));
			if (ce->at[0] && ce->carrier_status[0])
				t->n++;
		}
		t->outcome = CR_OK;
	}
	jtree_free(tr);
	buf_free(&keep);
}

const carrier_driver carrier_http = {"http", hc_open, hc_buy, hc_track, hc_close};
