/* ship: shipments, one per warehouse that holds an order's committed
 * stock, through the carrier of the config (drivers/carrier.h). Owns the
 * shipment, shipment_line and tracking_event tables.
 *
 * Statuses: created -> packed -> labelled -> shipped, then as the carrier
 * reports: pre_transit, in_transit, out_for_delivery, delivered,
 * exception, returned. The order follows: fulfilling when its shipments
 * are made, shipped when all of them left, delivered when all arrived.
 * Every change writes its event (shipment.created, .packed, .labelled,
 * .shipped, .in_transit, ...) about the order in its transaction. */
#ifndef SHOP_SHIP_H
#define SHOP_SHIP_H

#include <jv.h>
#include "shop.h"

struct jqx;

/* The order's shipments: made once (idempotent); printed. */
int ship_create(shop *s, const char *order_id, shop_emit emit, void *arg);
/* What to pick in a warehouse: the lines of its shipments not yet packed,
 * one record per sku, in sku order (the walk), with the shipments. */
int ship_picklist(shop *s, const char *wh, shop_emit emit, void *arg);
int ship_pack(shop *s, const char *id, int64_t weight_g, shop_emit emit, void *arg);
/* Buy a label: the cheapest rate, or the one whose carrier or service is
 * want (NULL: shipping.service of the config, else the cheapest). */
int ship_label(shop *s, const char *id, const char *want, shop_emit emit, void *arg);
int ship_ship(shop *s, const char *id, shop_emit emit, void *arg);
/* Poll the carrier for one shipment (id) or every one under way (NULL). */
int ship_track(shop *s, const char *id, shop_emit emit, void *arg);
int ship_show(shop *s, const char *id, shop_emit emit, void *arg);

typedef struct ship_filter {
	const char *status, *warehouse, *order;
	long long limit;
	struct jqx *where;
} ship_filter;
int ship_list(shop *s, const ship_filter *f, shop_emit emit, void *arg);

/* The trace source: the order's shipments and their tracking events. */
int ship_trace(shop *s, const char *source, const char *order_id, jv *recs);

#endif
