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
