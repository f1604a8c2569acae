-- shop.db.sql: the whole schema of a shop store, embedded into every
-- binary at build time.  It is a sequence of migrations, each introduced by
-- a line "-- migrate: N"; a new store runs them all in one transaction, an
-- existing one those above its PRAGMA user_version.  Append new migrations;
-- never edit one that has shipped.

-- migrate: 1
-- The catalog.  doc is the product record as printed by get and list: the
-- catalog cache, rewritten on every change so that reads never assemble
-- JSON.  Its content fields come first in a fixed order and version,
-- created_at, updated_at last, so export prints it without those three.
-- The other columns exist for filters and checks.
CREATE TABLE product (
	id          INTEGER PRIMARY KEY,
	sku         TEXT NOT NULL UNIQUE,
	title       TEXT NOT NULL,
	brand       TEXT NOT NULL,
	category    TEXT NOT NULL,
	price       INTEGER NOT NULL CHECK (price >= 0),
	currency    TEXT NOT NULL,
	tax_class   TEXT NOT NULL,
	family      TEXT,
	options_key TEXT NOT NULL,   -- options as sorted JSON: variants of a family differ here
	status      TEXT NOT NULL CHECK (status IN ('active', 'draft', 'archived')),
	version     INTEGER NOT NULL CHECK (version >= 1),
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	doc         TEXT NOT NULL
);
CREATE INDEX product_brand ON product (brand, sku);
CREATE INDEX product_category ON product (category, sku);
CREATE INDEX product_status ON product (status, sku);
CREATE UNIQUE INDEX product_variant ON product (family, options_key) WHERE family IS NOT NULL;

-- Images are files under the store's data directory, named by the sha256
-- of their bytes; a product lists the names in its images[].
CREATE TABLE image (
	sha256      TEXT PRIMARY KEY,
	name        TEXT NOT NULL,   -- sha256.ext
	type        TEXT NOT NULL,   -- image/png ...
	bytes       INTEGER NOT NULL,
	source      TEXT NOT NULL,   -- the file or URL it came from
	created_at  TEXT NOT NULL
);

-- migrate: 2
-- Inventory.  Stock per SKU per warehouse (warehouses are named in the
-- config); version is the compare-and-swap counter of every change.  The
-- CHECKs are the invariant 0 <= reserved <= on_hand, enforced by the store
-- whatever the code does.
CREATE TABLE stock (
	sku        TEXT NOT NULL,
	warehouse  TEXT NOT NULL,
	on_hand    INTEGER NOT NULL CHECK (on_hand >= 0),
	reserved   INTEGER NOT NULL CHECK (reserved >= 0 AND reserved <= on_hand),
	version    INTEGER NOT NULL CHECK (version >= 1),
	updated_at TEXT NOT NULL,
	PRIMARY KEY (sku, warehouse)
) WITHOUT ROWID;

-- A soft reservation: stock set aside for an order until it expires.
CREATE TABLE reservation (
	id         TEXT PRIMARY KEY,
	order_id   TEXT NOT NULL,
	sku        TEXT NOT NULL,
	warehouse  TEXT NOT NULL,
	qty        INTEGER NOT NULL CHECK (qty > 0),
	state      TEXT NOT NULL CHECK (state IN ('held', 'committed', 'released', 'expired')),
	expires_at TEXT NOT NULL,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX reservation_order ON reservation (order_id);
CREATE INDEX reservation_held ON reservation (state, expires_at);

-- Every movement of stock, with its reason and who caused it: on_hand is
-- always the sum of its on_hand deltas (shop-inv reconcile checks).
CREATE TABLE ledger (
	seq            INTEGER PRIMARY KEY,
	at             TEXT NOT NULL,
	sku            TEXT NOT NULL,
	warehouse      TEXT NOT NULL,
	on_hand_delta  INTEGER NOT NULL,
	reserved_delta INTEGER NOT NULL,
	reason         TEXT NOT NULL,
	actor          TEXT NOT NULL,
	ref            TEXT
);
CREATE INDEX ledger_stock ON ledger (sku, warehouse, seq);

-- The outbox: every state change of every program, in the transaction that
-- made it, as an ordered sequence of events for readers (shop-order events,
-- shop-notify).
CREATE TABLE outbox (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	type       TEXT NOT NULL,
	subject    TEXT NOT NULL,
	at         TEXT NOT NULL,
	data       TEXT NOT NULL
);

-- migrate: 3
-- Customers' addresses (the address book of shop-cart).
CREATE TABLE address (
	id         TEXT PRIMARY KEY,
	customer   TEXT NOT NULL,
	doc        TEXT NOT NULL,      -- the address record as printed
	created_at TEXT NOT NULL
);
CREATE INDEX address_customer ON address (customer, id);

-- Carts, keyed by the caller's own id (a guest session, a customer).
-- order_id is set by checkout: a retried checkout returns that order.
CREATE TABLE cart (
	id         TEXT PRIMARY KEY,
	order_id   TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE TABLE cart_line (
	cart_id    TEXT NOT NULL REFERENCES cart (id) ON DELETE CASCADE,
	sku        TEXT NOT NULL,
	qty        INTEGER NOT NULL CHECK (qty > 0),
	added_at   TEXT NOT NULL,
	PRIMARY KEY (cart_id, sku)
) WITHOUT ROWID;

-- Promotions: the definition as given (doc), and how often it was used by
-- confirmed orders (uses; promotion_use per order, for per-customer limits).
CREATE TABLE promotion (
	code       TEXT PRIMARY KEY,
	doc        TEXT NOT NULL,
	max_uses   INTEGER,
	uses       INTEGER NOT NULL DEFAULT 0 CHECK (max_uses IS NULL OR uses <= max_uses),
	created_at TEXT NOT NULL
);
CREATE TABLE promotion_use (
	code       TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	customer   TEXT NOT NULL,
	at         TEXT NOT NULL,
	PRIMARY KEY (code, order_id)
);
CREATE INDEX promotion_use_customer ON promotion_use (code, customer);

-- Orders: the frozen quote (doc holds the whole order record: lines with
-- unit prices, each line's share of every discount, tax, totals), and the
-- columns the state machine and the filters need.
CREATE TABLE orders (
	id         TEXT PRIMARY KEY,
	customer   TEXT NOT NULL,
	cart_id    TEXT,
	status     TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'fulfilling', 'shipped', 'delivered',
	                                           'cancelled', 'returned', 'partially_returned')),
	currency   TEXT NOT NULL,
	total      INTEGER NOT NULL,
	reason     TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	doc        TEXT NOT NULL
);
CREATE INDEX orders_status ON orders (status, updated_at);
CREATE INDEX orders_customer ON orders (customer, created_at);

-- What shop-order trace looks up: events about an order, its movements.
CREATE INDEX outbox_subject ON outbox (subject, seq);
CREATE INDEX ledger_actor ON ledger (actor, seq);

-- Outbox readers: each consumer's position (the last seq it acknowledged).
CREATE TABLE consumer (
	name       TEXT PRIMARY KEY,
	acked      INTEGER NOT NULL,
	updated_at TEXT NOT NULL
);

-- migrate: 4
-- Payments (shop-pay): one per order. status is the settled state; while a
-- gateway call is in flight, or its outcome is not known, status is
-- 'unknown' and pending/pending_key/pending_amount say which call, so that
-- a retry repeats it with the same idempotency key. amount is what was
-- authorized, captured what was captured, refunded the sum of the
-- succeeded refunds; captured - refunded is what the customer has paid.
CREATE TABLE payment (
	id             TEXT PRIMARY KEY,
	order_id       TEXT NOT NULL UNIQUE,
	gateway        TEXT NOT NULL,
	method         TEXT NOT NULL,
	currency       TEXT NOT NULL,
	amount         INTEGER NOT NULL CHECK (amount > 0),
	captured       INTEGER NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
	refunded       INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= captured),
	status         TEXT NOT NULL CHECK (status IN ('authorized', 'captured', 'voided', 'partially_refunded',
	                                               'refunded', 'failed', 'unknown')),
	gateway_ref    TEXT,
	attempt        INTEGER NOT NULL DEFAULT 1,
	pending        TEXT CHECK (pending IN ('authorize', 'capture', 'void', 'refund')),
	pending_key    TEXT,
	pending_amount INTEGER,
	reason         TEXT,
	authorized_at  TEXT,
	expires_at     TEXT,
	captured_at    TEXT,
	voided_at      TEXT,
	created_at     TEXT NOT NULL,
	updated_at     TEXT NOT NULL,
	CHECK ((status = 'unknown') = (pending IS NOT NULL))
);
CREATE INDEX payment_status ON payment (status, expires_at);
CREATE INDEX payment_ref ON payment (gateway_ref);

-- Refunds of a payment, each with its own idempotency key (by RMA, or by
-- its number among the payment's refunds). 'unknown' while in flight.
CREATE TABLE refund (
	id          TEXT PRIMARY KEY,
	payment_id  TEXT NOT NULL REFERENCES payment (id),
	n           INTEGER NOT NULL,
	amount      INTEGER NOT NULL CHECK (amount > 0),
	rma_id      TEXT,
	status      TEXT NOT NULL CHECK (status IN ('succeeded', 'failed', 'unknown')),
	idem_key    TEXT NOT NULL,
	gateway_ref TEXT,
	reason      TEXT,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	UNIQUE (payment_id, n)
);
CREATE UNIQUE INDEX refund_rma ON refund (payment_id, rma_id) WHERE rma_id IS NOT NULL AND status != 'failed';

-- The sandbox gateway's own books (its "bank side"), written only by
-- lib/drivers/sandbox.c in transactions of its own, as a remote gateway
-- would: intents, the money movements of its settlement report, and its
-- idempotency keys with the first answer to each.
CREATE TABLE sandbox_intent (
	ref        TEXT PRIMARY KEY,
	order_id   TEXT NOT NULL,
	method     TEXT NOT NULL,
	currency   TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	received   INTEGER NOT NULL DEFAULT 0,
	refunded   INTEGER NOT NULL DEFAULT 0,
	status     TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE TABLE sandbox_txn (
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	type       TEXT NOT NULL CHECK (type IN ('authorization', 'capture', 'void', 'refund')),
	ref        TEXT NOT NULL,
	order_id   TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	currency   TEXT NOT NULL,
	at         TEXT NOT NULL
);
CREATE INDEX sandbox_txn_at ON sandbox_txn (at);
CREATE TABLE sandbox_key (
	key        TEXT PRIMARY KEY,
	request    TEXT NOT NULL,
	response   TEXT NOT NULL,
	at         TEXT NOT NULL
);

-- migrate: 5
-- Shipments (shop-ship): one per warehouse that holds committed stock of
-- the order. status goes created -> packed -> labelled -> shipped, then
-- follows the carrier: pre_transit, in_transit, out_for_delivery,
-- delivered, exception, returned. While a label purchase is in flight or
-- its outcome is unknown, pending_key holds its idempotency key.
CREATE TABLE shipment (
	id           TEXT PRIMARY KEY,
	order_id     TEXT NOT NULL,
	warehouse    TEXT NOT NULL,
	status       TEXT NOT NULL CHECK (status IN ('created', 'packed', 'labelled', 'shipped', 'pre_transit',
	                                             'in_transit', 'out_for_delivery', 'delivered', 'exception',
	                                             'returned')),
	weight_g     INTEGER CHECK (weight_g > 0),
	carrier      TEXT,
	service      TEXT,
	rate         INTEGER,
	currency     TEXT,
	tracking     TEXT,
	label_url    TEXT,
	carrier_ref  TEXT,
	tracker_ref  TEXT,
	pending_key  TEXT,
	detail       TEXT,
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL,
	shipped_at   TEXT,
	delivered_at TEXT,
	UNIQUE (order_id, warehouse)
);
CREATE INDEX shipment_status ON shipment (status, warehouse);
CREATE TABLE shipment_line (
	shipment_id  TEXT NOT NULL REFERENCES shipment (id),
	sku          TEXT NOT NULL,
	qty          INTEGER NOT NULL CHECK (qty > 0),
	PRIMARY KEY (shipment_id, sku)
) WITHOUT ROWID;
-- The carrier's tracking events as they came; the same event twice is
-- kept once (the key), and one older than the newest does not move the
-- shipment back.
CREATE TABLE tracking_event (
	shipment_id  TEXT NOT NULL REFERENCES shipment (id),
	at           TEXT NOT NULL,
	status       TEXT NOT NULL,
	carrier_status TEXT NOT NULL,
	message      TEXT,
	seen_at      TEXT NOT NULL,
	PRIMARY KEY (shipment_id, at, carrier_status)
) WITHOUT ROWID;

-- migrate: 6
-- Returns (shop-rma). An RMA names units of one delivered order, by sku and
-- the warehouse they were shipped from, each line with what it refunds:
-- its share of the order line's subtotal, discounts and tax, fixed when
-- the RMA is opened (shop-rma(1), Amounts). shipping is the order's
-- shipping, on the RMA that completes the return of the whole order.
-- status: open -> approved | rejected; approved -> received | rejected;
-- received -> refunded | rejected; refunded | rejected -> closed. The
-- history that the status forgets is kept: condition and received_at once
-- the goods came back, reject_reason once rejected, refunded_at once the
-- money went back; refunding while a refund has been asked for and its
-- outcome is not known to be a refusal.
CREATE TABLE rma (
	id            TEXT PRIMARY KEY,
	order_id      TEXT NOT NULL,
	status        TEXT NOT NULL CHECK (status IN ('open', 'approved', 'rejected', 'received', 'refunded',
	                                              'closed')),
	reason        TEXT NOT NULL,
	reject_reason TEXT,
	condition     TEXT CHECK (condition IN ('resellable', 'damaged')),
	currency      TEXT NOT NULL,
	amount        INTEGER NOT NULL CHECK (amount >= 0),
	shipping      INTEGER NOT NULL DEFAULT 0 CHECK (shipping >= 0),
	refunded      INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
	refunding     INTEGER NOT NULL DEFAULT 0 CHECK (refunding IN (0, 1)),
	received_at   TEXT,
	refunded_at   TEXT,
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	CHECK ((condition IS NULL) = (received_at IS NULL)),
	CHECK ((refunded_at IS NULL) = (status NOT IN ('refunded', 'closed') OR reject_reason IS NOT NULL))
);
CREATE INDEX rma_order ON rma (order_id, created_at);
CREATE INDEX rma_status ON rma (status, created_at);
CREATE TABLE rma_line (
	rma_id        TEXT NOT NULL REFERENCES rma (id),
	sku           TEXT NOT NULL,
	warehouse     TEXT NOT NULL,
	qty           INTEGER NOT NULL CHECK (qty > 0),
	subtotal      INTEGER NOT NULL,
	discount      INTEGER NOT NULL,
	tax           INTEGER NOT NULL,
	amount        INTEGER NOT NULL,
	PRIMARY KEY (rma_id, sku, warehouse)
) WITHOUT ROWID;

-- migrate: 7
-- Search (lib/search.c). search_source says, once, what the index holds:
-- the active products' title, brand, category and body (the description
-- and the text values of the attributes), under the key
-- (length(title) << 32) | product.id. The index hands out matches in key
-- order, so a query that reads only its first matches gets the products
-- with the shortest titles, the ones BM25 ranks first.
--
-- search_fts is contentless (the text lives in product), so a row leaves
-- it by the 'delete' command given the very values it was indexed with:
-- the BEFORE triggers read them from search_source while the old row is
-- still there. The triggers do not write search_fts themselves: SQLite's
-- FTS5 (3.40) flushes its pending terms to a new segment at every
-- statement savepoint, which made a 19k-product import six times slower.
-- They queue the rows to delete and to index in search_pending, and
-- search_sync() moves the queue into search_fts in one statement:
-- store_commit runs it in the writer's own transaction, just before
-- COMMIT, and shop-search runs it before a query when another program
-- (the sqlite3 shell, say) left rows queued.
CREATE VIRTUAL TABLE search_fts USING fts5 (title, brand, category, body, content = '',
	tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3');
CREATE VIRTUAL TABLE search_vocab USING fts5vocab (search_fts, 'row');
CREATE VIEW search_source AS
SELECT id, (length(title) << 32) | id AS key, title, brand, category,
	coalesce(json_extract(doc, '$.description'), '') || ' ' ||
	coalesce((SELECT group_concat(value, ' ') FROM json_each(doc, '$.attributes') WHERE type = 'text'), '') AS body
FROM product WHERE status = 'active';
CREATE TABLE search_pending (
	seq      INTEGER PRIMARY KEY,
	del      INTEGER NOT NULL,   -- 1: delete these values from the index; 0: index them
	key      INTEGER NOT NULL,   -- search_fts's rowid
	title    TEXT NOT NULL,
	brand    TEXT NOT NULL,
	category TEXT NOT NULL,
	body     TEXT NOT NULL
);
CREATE TRIGGER search_product_ai AFTER INSERT ON product BEGIN
	INSERT INTO search_pending (del, key, title, brand, category, body)
	SELECT 0, key, title, brand, category, body FROM search_source WHERE id = new.id;
END;
CREATE TRIGGER search_product_bu BEFORE UPDATE ON product BEGIN
	INSERT INTO search_pending (del, key, title, brand, category, body)
	SELECT 1, key, title, brand, category, body FROM search_source WHERE id = old.id;
END;
CREATE TRIGGER search_product_au AFTER UPDATE ON product BEGIN
	INSERT INTO search_pending (del, key, title, brand, category, body)
	SELECT 0, key, title, brand, category, body FROM search_source WHERE id = new.id;
END;
CREATE TRIGGER search_product_bd BEFORE DELETE ON product BEGIN
	INSERT INTO search_pending (del, key, title, brand, category, body)
	SELECT 1, key, title, brand, category, body FROM search_source WHERE id = old.id;
END;
-- A store made before search: index what it has.
INSERT INTO search_fts (rowid, title, brand, category, body)
SELECT key, title, brand, category, body FROM search_source;
-- Units ordered per sku, for popularity: every order counts as it is made
-- (a cancelled one too: it shows interest).
CREATE TABLE search_pop (
	sku  TEXT PRIMARY KEY,
	sold INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER search_orders_ai AFTER INSERT ON orders BEGIN
	INSERT INTO search_pop (sku, sold)
	SELECT json_extract(value, '$.sku'), sum(json_extract(value, '$.qty'))
	FROM json_each(new.doc, '$.lines') WHERE json_extract(value, '$.sku') IS NOT NULL GROUP BY 1
	ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold;
END;
INSERT INTO search_pop (sku, sold)
SELECT json_extract(l.value, '$.sku'), sum(json_extract(l.value, '$.qty'))
FROM orders o, json_each(o.doc, '$.lines') l WHERE json_extract(l.value, '$.sku') IS NOT NULL GROUP BY 1;
-- Queries that found something, normalized (words lowercased, one space).
CREATE TABLE search_query (
	q       TEXT PRIMARY KEY,
	n       INTEGER NOT NULL,
	last_at TEXT NOT NULL
) WITHOUT ROWID;
-- Completions by prefix (the phrase's first 1..20 bytes, whole characters):
-- title phrases (rebuilt by reindex, the best 16 per prefix) and logged
-- queries (counted as they come).
CREATE TABLE search_suggest (
	prefix TEXT NOT NULL,
	phrase TEXT NOT NULL,
	weight INTEGER NOT NULL,
	PRIMARY KEY (prefix, phrase)
) WITHOUT ROWID;
CREATE INDEX search_suggest_rank ON search_suggest (prefix, weight DESC, phrase);
-- The index vocabulary with its document counts, for typo correction:
-- a copy, because reading counts from search_vocab walks every doclist of
-- the range. Built by reindex, or by the first query that needs it.
CREATE TABLE search_word (
	term TEXT PRIMARY KEY,
	docs INTEGER NOT NULL
) WITHOUT ROWID;
-- The learned re-ranker: one row, the model as JSON.
CREATE TABLE search_model (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	model      TEXT NOT NULL,
	trained_at TEXT NOT NULL
);

-- migrate: 8
-- Recommendations (shop-reco), written whole by `shop-reco build`, the
-- batch job, and only read by the other commands.  The neighbours of each
-- item, best first, as one JSON array per item and kind, so that a lookup
-- reads one row: kind 'bought' from co-purchases, [other, score, trend,
-- common] (common: the customers who bought both), kind 'similar' from the
-- catalog's title, brand and category terms, [other, score, trend,
-- common, terms] (common: the terms shared; terms: the rarest of them, as
-- text).  trend is the other's, from reco_pop: a copy, so that `shop-reco
-- for` reads nothing else.
CREATE TABLE reco_nb (
	kind TEXT NOT NULL CHECK (kind IN ('bought', 'similar')),
	sku  TEXT NOT NULL,
	nbs  TEXT NOT NULL,
	PRIMARY KEY (kind, sku)
) WITHOUT ROWID;
-- Every item bought in the build's window: the customers who bought it,
-- its trend (those customers, each weighted by how recently they bought
-- it) and its rank by trend.
CREATE TABLE reco_pop (
	rank      INTEGER PRIMARY KEY,
	sku       TEXT NOT NULL UNIQUE,
	customers INTEGER NOT NULL,
	trend     REAL NOT NULL
);
-- The last build: one row.
CREATE TABLE reco_build (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	built_at   TEXT NOT NULL,
	since      TEXT,
	orders     INTEGER NOT NULL,
	customers  INTEGER NOT NULL,
	items      INTEGER NOT NULL,   -- items bought in the window
	products   INTEGER NOT NULL,   -- active products compared by content
	pairs      INTEGER NOT NULL,   -- pairs of items bought by a same customer
	bought     INTEGER NOT NULL,
	similar    INTEGER NOT NULL
);

-- shop-order import counts the units of its orders itself, one statement
-- a sku at the end (search_sold in lib/search.c): the trigger's json_each
-- of every order was two thirds of the import of a year of history.
DROP TRIGGER search_orders_ai;
CREATE TRIGGER search_orders_ai AFTER INSERT ON orders
WHEN json_extract(new.doc, '$.imported') IS NOT 1 BEGIN
	INSERT INTO search_pop (sku, sold)
	SELECT json_extract(value, '$.sku'), sum(json_extract(value, '$.qty'))
	FROM json_each(new.doc, '$.lines') WHERE json_extract(value, '$.sku') IS NOT NULL GROUP BY 1
	ON CONFLICT (sku) DO UPDATE SET sold = sold + excluded.sold;
END;

-- migrate: 9
-- Notifications (shop-notify): one row per event and channel, claimed
-- ('sending', claimed_at) in a write transaction before the message goes
-- out, then 'sent', 'skipped' (nobody to send it to) or 'failed' (error:
-- why; the event stays pending).  recipient: the address, or for the
-- webhook the customer.
CREATE TABLE notify_delivery (
	seq        INTEGER NOT NULL,
	channel    TEXT NOT NULL CHECK (channel IN ('maildir', 'smtp', 'webhook')),
	type       TEXT NOT NULL,
	subject    TEXT NOT NULL,
	recipient  TEXT,
	status     TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'skipped', 'failed')),
	attempts   INTEGER NOT NULL,
	claimed_at TEXT NOT NULL,
	sent_at    TEXT,
	error      TEXT,
	PRIMARY KEY (seq, channel)
);
CREATE INDEX notify_delivery_status ON notify_delivery (status, seq);
