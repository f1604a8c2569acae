/* notify: messages to customers from the outbox (shop-notify(1)).
 *
 * The consumer "notify" reads the outbox in order. An event whose type has
 * a template (the config's notify.templates, else the built-in ones for
 * order.confirmed, order.shipped, order.delivered, order.cancelled and
 * payment.refunded) becomes one message per channel: maildir (an RFC 5322
 * file in the maildir beside the store), smtp (libcurl), webhook (an HTTP
 * POST of JSON). Each (event, channel) has a delivery row, claimed in a
 * write transaction before the message goes out and marked sent after:
 * two runs never send the same message, and a crash between sending and
 * marking leaves a claim that a later run takes over once its lease has
 * run out, sending that one message again. The event is acknowledged once
 * every channel of it is done.
 *
 * Owns the notify_delivery table. */
#ifndef SHOP_NOTIFY_H
#define SHOP_NOTIFY_H

#include <stdint.h>
#include "shop.h"

typedef struct notify_opts {
	int follow;      /* keep polling; failures are retried with backoff */
	int once;        /* the next pending event only */
	int dry_run;     /* print the messages as records; send and change nothing */
	const char *channel; /* send: only this channel (NULL: the template's) */
} notify_opts;

/* Consume the pending events. Emits a "notification" record per delivery
 * (or a "message" record per message with dry_run). 0, or 69 when a
 * delivery failed (the event stays pending), 78 for a bad template. */
int notify_run(shop *s, const notify_opts *o, shop_emit emit, void *arg);
/* Send event seq again, on purpose, whatever its delivery rows say. */
int notify_send(shop *s, int64_t seq, const notify_opts *o, shop_emit emit, void *arg);

typedef struct notify_filter {
	const char *status, *channel;
	long long limit;
	struct jqx *where;
} notify_filter;

/* The delivery rows, by event then channel. */
int notify_list(shop *s, const notify_filter *f, shop_emit emit, void *arg);

#endif
