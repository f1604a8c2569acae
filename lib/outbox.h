/* outbox: the ordered sequence of events every state change writes in its
 * own transaction (SPEC §3 shop-order). Writers call outbox_emit inside the
 * transaction that made the change; readers come with shop-order. */
#ifndef SHOP_OUTBOX_H
#define SHOP_OUTBOX_H

#include <jv.h>
#include "shop.h"

/* Append an event of type (e.g. "inventory.reserved") about subject (an
 * order id, a sku) with data (consumed; an object). Must run inside a
 * write transaction. 0 or an exit code with e set. */
int outbox_emit(shop *s, const char *type, const char *subject, jv data, shop_err *e);

#endif
