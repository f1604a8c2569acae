/* stripe: Stripe's PaymentIntents API with manual capture, over HTTPS
 * through lib/base/http (libcurl), as documented by Stripe:
 *
 *   authorize  POST /v1/payment_intents  amount currency payment_method
 *              capture_method=manual confirm=true payment_method_types[]=card
 *              metadata[order_id] metadata[payment_id] description
 *   capture    POST /v1/payment_intents/{ref}/capture  amount_to_capture
 *   void       POST /v1/payment_intents/{ref}/cancel   cancellation_reason
 *   refund     POST /v1/refunds  payment_intent amount metadata[order_id]
 *              metadata[rma_id]
 *
 * Bodies are form-encoded; the secret key is read from the environment
 * variable the config names and sent only in the Authorization header
 * (which lib/base/http never prints). Every POST carries the caller's
 * Idempotency-Key, the same on every attempt. lib/base/http retries
 * transport failures, 408, 429 (after Retry-After) and 5xx; a 409
 * idempotency_key_in_use (the same request still running elsewhere) is
 * waited out here, so that two processes capturing at once both end with
 * the one answer. Answers map to outcomes as gateway.h describes. */
#include "gateway.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../base/json.h"

typedef struct stripe {
	http_client *h;
	char *base;
	char *auth; /* "Authorization: Bearer KEY": never printed */
	long backoff_ms, timeout_ms;
} stripe;

static void *st_open(const gw_conf *c, shop_err *e)
{
	char *auth =
		http_bearer_from_env(c->key_env, "STRIPE_SECRET_KEY", "stripe gateway", "payments.stripe.key_env", e);
	if (!auth)
		return NULL;
	http_client *h = http_new(&c->http);
	if (!h) {
		http_secret_free(auth);
		err_set(e, SHOP_UNAVAILABLE, "stripe gateway: libcurl cannot be loaded");
		return NULL;
	}
	stripe *s = xmalloc(sizeof *s);
	s->h = h;
	s->base = http_base_url(c->api_base, "https://api.stripe.com");
	s->auth = auth;
	s->backoff_ms = c->http.backoff_ms > 0 ? c->http.backoff_ms : 1000;
	s->timeout_ms = c->http.timeout_ms > 0 ? c->http.timeout_ms : 30000;
	return s;
}

static void st_close(void *impl)
{
	stripe *s = impl;
	http_free(s->h);
	free(s->base);
	http_secret_free(s->auth);
	free(s);
}

static void field(buf *b, const char *name, const char *value)
{
	if (!value)
		return;
	if (b->len)
		buf_addc(b, '&');
	http_form_escape(b, name);
	buf_addc(b, '=');
	http_form_escape(b, value);
}

static void field_int(buf *b, const char *name, int64_t v)
{
	char t[32];
	snprintf(t, sizeof t, "%" PRId64, v);
	field(b, name, t);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1)
		;
}

static int64_t num(const jnode *o, const char *key)
{
	const jnode *v = jnode_get(o, key);
	return v && v->type == JN_NUM ? (int64_t)v->num : -1;
}

/* An error answer ({"error": {...}}) to an outcome. */
static void error_answer(long status, const jnode *root, gw_res *res)
{
	const jnode *err = jnode_get(root, "error");
	char type[64], code[64], decline[64], msg[160], param[64];
	jnode_text(err, "type", type, sizeof type);
	jnode_text(err, "code", code, sizeof code);
	jnode_text(err, "decline_code", decline, sizeof decline);
	jnode_text(err, "message", msg, sizeof msg);
	jnode_text(err, "param", param, sizeof param);
	if (!strcmp(type, "card_error")) {
		gw_set(res, GW_DECLINED, "card declined: %s (%s)", decline[0] ? decline : code, msg);
	} else if (status == 401 || status == 403) {
		gw_set(res, GW_ERROR, "the gateway refused the secret key (HTTP %ld %s)", status, type);
		res->code = SHOP_CONFIG;
	} else if (!strcmp(type, "idempotency_error")) {
		gw_set(res, GW_ERROR, "idempotency_error: %s", msg);
		res->code = SHOP_SOFTWARE;
	} else if (!strcmp(type, "invalid_request_error") &&
	           (!strcmp(code, "payment_intent_unexpected_state") || !strcmp(code, "charge_already_refunded") ||
	            !strcmp(code, "amount_too_large") || !strcmp(code, "charge_not_captured"))) {
		gw_set(res, GW_DECLINED, "%s: %s", code, msg);
		res->canceled = jnode_is(jnode_get(jnode_get(err, "payment_intent"), "status"), "canceled");
	} else if (!strcmp(type, "invalid_request_error") && status != 404 && param[0]) {
		gw_set(res, GW_ERROR, "invalid_request_error: %s: %s", param, msg);
		res->code = SHOP_DATAERR;
	} else if (status == 429) {
		gw_set(res, GW_NOT_SENT, "rate limited (HTTP 429) after retries");
	} else if (status >= 500) {
		gw_set(res, GW_UNKNOWN, "HTTP %ld %s after retries: %s", status, type[0] ? type : "api_error", msg);
	} else {
		gw_set(res, GW_ERROR, "HTTP %ld %s%s%s: %s", status, type, code[0] ? " " : "", code, msg);
		res->code = SHOP_SOFTWARE;
	}
}

/* A 2xx answer to an outcome. */
static void ok_answer(const gw_req *r, const jnode *root, gw_res *res)
{
	char status[48], id[128];
	jnode_text(root, "status", status, sizeof status);
	jnode_text(root, "id", id, sizeof id);
	if (!strcmp(r->op, "refund")) {
		if (strcmp(status, "succeeded") && strcmp(status, "pending")) {
			gw_set(res, GW_DECLINED, "refund %s is %s", id, status);
			return;
		}
		res->amount = num(root, "amount");
	} else if (!strcmp(r->op, "authorize")) {
		if (!strcmp(status, "requires_action")) {
			gw_set(res, GW_DECLINED, "authentication_required: the card asks for 3-D Secure, which needs the customer");
			return;
		}
		if (strcmp(status, "requires_capture")) {
			gw_set(res, GW_DECLINED, "the payment is %s, not requires_capture", status);
			return;
		}
		res->amount = num(root, "amount_capturable");
	} else if (!strcmp(r->op, "capture")) {
		if (strcmp(status, "succeeded")) {
			gw_set(res, GW_DECLINED, "the payment is %s after capture", status);
			return;
		}
		res->amount = num(root, "amount_received");
	} else {
		if (strcmp(status, "canceled")) {
			gw_set(res, GW_DECLINED, "the payment is %s after cancel", status);
			return;
		}
		res->amount = num(root, "amount");
	}
	if (!id[0] || res->amount < 0) {
		gw_set(res, GW_UNKNOWN, "the gateway's answer lacks id or amount");
		return;
	}
	snprintf(res->ref, sizeof res->ref, "%s", id);
	res->outcome = GW_OK;
}

static void st_call(void *impl, const gw_req *r, gw_res *res)
{
	stripe *s = impl;
	buf body = {0}, url = {0};
	char lower[8] = {0};
	for (size_t i = 0; r->currency && r->currency[i] && i < sizeof lower - 1; i++)
		lower[i] = (char)tolower((unsigned char)r->currency[i]);
	if (!strcmp(r->op, "authorize")) {
		buf_addf(&url, "%s/v1/payment_intents", s->base);
		field_int(&body, "amount", r->amount);
		field(&body, "currency", lower);
		field(&body, "payment_method", r->method);
		field(&body, "payment_method_types[]", "card");
		field(&body, "capture_method", "manual");
		field(&body, "confirm", "true");
		field(&body, "metadata[order_id]", r->order_id);
		field(&body, "metadata[payment_id]", r->payment_id);
		buf_addf(&body, "&description=order+");
		http_form_escape(&body, r->order_id);
	} else if (!strcmp(r->op, "capture")) {
		buf_addf(&url, "%s/v1/payment_intents/", s->base);
		http_form_escape(&url, r->ref);
		buf_adds(&url, "/capture");
		field_int(&body, "amount_to_capture", r->amount);
	} else if (!strcmp(r->op, "void")) {
		buf_addf(&url, "%s/v1/payment_intents/", s->base);
		http_form_escape(&url, r->ref);
		buf_adds(&url, "/cancel");
		field(&body, "cancellation_reason", "requested_by_customer");
	} else {
		buf_addf(&url, "%s/v1/refunds", s->base);
		field(&body, "payment_intent", r->ref);
		field_int(&body, "amount", r->amount);
		field(&body, "metadata[order_id]", r->order_id);
		field(&body, "metadata[rma_id]", r->rma_id);
	}
	char *idem = xasprintf("Idempotency-Key: %s", r->key);
	const char *headers[] = {s->auth, idem, "Content-Type: application/x-www-form-urlencoded", NULL};
	jtree *t = jtree_new();
	long waited = 0; /* in 409s: no longer than one request may take */
	for (;;) {
		http_resp resp = {0};
		shop_err e = {0};
		int rc = http_request(s->h, "POST", buf_str(&url), headers, buf_str(&body), body.len, &resp, &e);
		if (rc) {
			if (rc == SHOP_USAGE) {
				gw_set(res, GW_ERROR, "payments.stripe.api_base: %s", e.msg);
				res->code = SHOP_CONFIG;
			} else if (resp.maybe_delivered) {
				gw_set(res, GW_UNKNOWN, "%s", e.msg);
			} else {
				gw_set(res, GW_NOT_SENT, "%s", e.msg);
			}
			http_resp_free(&resp);
			break;
		}
		char perr[128];
		size_t bad;
		/* The parser takes valid UTF-8 only (json.h): check it first. */
		const jnode *root = utf8_valid(buf_str(&resp.body), resp.body.len, &bad)
		                            ? jtree_parse(t, buf_str(&resp.body), resp.body.len, perr, sizeof perr)
		                            : NULL;
		if (!root || root->type != JN_OBJ) {
			gw_set(res, resp.status >= 500 ? GW_UNKNOWN : GW_ERROR, "HTTP %ld with a body that is not JSON",
			       resp.status);
			res->code = SHOP_SOFTWARE;
		} else if (resp.status == 409 && jnode_is(jnode_get(jnode_get(root, "error"), "code"),
		                                          "idempotency_key_in_use")) {
			/* The first request with this key is still running: wait for
			 * its answer, which the next try gets replayed. */
			http_resp_free(&resp);
			long step = s->backoff_ms < 250 ? s->backoff_ms : 250;
			if ((waited += step) <= s->timeout_ms) {
				sleep_ms(step);
				continue;
			}
			gw_set(res, GW_UNKNOWN, "the same request is still running at the gateway (409 idempotency_key_in_use)");
			break;
		} else if (resp.status >= 200 && resp.status < 300) {
			ok_answer(r, root, res);
		} else {
			error_answer(resp.status, root, res);
		}
		http_resp_free(&resp);
		break;
	}
	jtree_free(t);
	free(idem);
	buf_free(&body);
	buf_free(&url);
}

const gw_driver gw_stripe = {"stripe", st_open, st_call, st_close};
