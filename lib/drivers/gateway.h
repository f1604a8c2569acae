/* gateway: the one interface shop-pay speaks to a payment gateway through.
 * A driver turns a request (authorize, capture, void, refund) into the
 * gateway's own calls and its answer into one of five outcomes, and knows
 * nothing of orders or of shop's payment table: lib/pay.c keeps those.
 *
 * Every request carries an idempotency key made by the caller from the
 * order and the operation. The driver sends it with every attempt of the
 * request, so that the gateway acts once however often the request is
 * repeated, by retries here or by a later run of shop-pay.
 *
 * Drivers: "sandbox" (drivers/sandbox.c: built in, offline, its own books
 * in tables of the store) and "stripe" (drivers/stripe.c: PaymentIntents
 * with manual capture over HTTPS). */
#ifndef SHOP_GATEWAY_H
#define SHOP_GATEWAY_H

#include <stdint.h>
#include "../base/http.h"
#include "../base/util.h"

struct store;

enum gw_outcome {
	GW_OK,       /* done: ref and amount say what the gateway did */
	GW_DECLINED, /* refused for good (card declined, or the gateway's state
	                forbids it); nothing changed there; reason says why */
	GW_NOT_SENT, /* the gateway did not act (unreachable, rate limited after
	                retries, unavailable); safe to try again later */
	GW_UNKNOWN,  /* the gateway may have acted (timeout or connection lost
	                after sending, 5xx after retries): only a retry with the
	                same key, or the gateway's report, can tell */
	GW_ERROR,    /* our request or our setup is wrong (code: 65, 70, 78);
	                nothing changed there */
};

typedef struct gw_req {
	const char *op;       /* "authorize", "capture", "void", "refund" */
	const char *key;      /* the idempotency key */
	const char *order_id; /* for the gateway's metadata and report */
	const char *payment_id;
	const char *rma_id;   /* refund: may be NULL */
	const char *method;   /* authorize: the payment method */
	const char *currency; /* ISO 4217, upper case */
	int64_t amount;       /* authorize: to hold; capture: to take (the rest
	                         is released); refund: to give back */
	const char *ref;      /* capture, void, refund: the gateway's payment */
} gw_req;

typedef struct gw_res {
	enum gw_outcome outcome;
	char ref[128];    /* authorize: the payment's ref; refund: the refund's */
	int64_t amount;   /* what the gateway reports it held, took or gave back */
	char reason[256]; /* DECLINED, NOT_SENT, UNKNOWN, ERROR: why, one line */
	int code;         /* ERROR: the exit code */
	int canceled;     /* DECLINED: because the gateway's payment is canceled
	                     (voided, or its hold lapsed): nothing is held */
	char at[32];      /* OK: when the gateway acted, when known from its
	                     report (RFC 3339); empty: now */
} gw_res;

typedef struct gw_conf {
	const char *driver;   /* "sandbox" or "stripe" */
	struct store *st;     /* sandbox: the store that holds its books */
	http_opts http;       /* stripe: timeouts and retries */
	const char *api_base; /* stripe: e.g. https://api.stripe.com */
	const char *key_env;  /* stripe: the environment variable with the key */
	int64_t hold_ms;      /* how long an authorization holds */
} gw_conf;

typedef struct gateway gateway;

/* Open the driver c->driver. NULL with e set: 78 for an unknown driver or a
 * missing key, 69 when libcurl cannot be loaded. */
gateway *gw_open(const gw_conf *c, shop_err *e);
void gw_close(gateway *g);
/* Send r; res says what happened (never fails otherwise). */
void gw_call(gateway *g, const gw_req *r, gw_res *res);
/* 1 when name is a driver this build has. */
int gw_known(const char *name);

/* The driver table behind gw_open: each driver file defines one. */
typedef struct gw_driver {
	const char *name;
	void *(*open)(const gw_conf *c, shop_err *e);
	void (*call)(void *impl, const gw_req *r, gw_res *res);
	void (*close)(void *impl);
} gw_driver;
extern const gw_driver gw_sandbox, gw_stripe;

/* The sandbox's settlement report: its money movements (types
 * authorization, capture, void, refund), oldest first, those of one UTC day
 * when date ("YYYY-MM-DD") is not NULL. fn returns nonzero to stop. */
typedef int (*gw_txn_fn)(void *arg, const char *id, const char *type, const char *ref, const char *order_id,
                         int64_t amount, const char *currency, const char *at);
int sandbox_settlement(struct store *st, const char *date, gw_txn_fn fn, void *arg, shop_err *e);

/* Fill res (helpers for drivers). */
void gw_set(gw_res *res, enum gw_outcome o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
