# Helpers of the shop-ship tests (tests/5[5-9]-ship-*.bats); load after
# helpers/common.

# ship_setup [POSTAL]: two warehouses (east in NY, west in CA), the fixture
# catalog, MUG-01 only in east and BOOK-C only in west, and an order of 2
# MUG-01 and 1 BOOK-C to an address with POSTAL (default 10001), placed
# through place-order: $ORD, with its shipments made.
ship_setup() {
	local cfg="$BATS_TEST_TMPDIR/shop.yaml"
	printf 'warehouses:\n  - id: east\n    region: NY\n  - id: west\n    region: CA\n%s' "${SHIP_CFG_EXTRA:-}" >"$cfg"
	export SHOP_CONFIG="$cfg"
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null || return 1
	shop-inv -q set MUG-01 east 5 >/dev/null && shop-inv -q set BOOK-C west 5 >/dev/null || return 1
	ADR=$(shop-cart address add al --name 'Al Buyer' --line1 '1 Main St' --city Albany --region NY \
		--postal "${1:-10001}" --country US | jq -r .id) || return 1
	shop-cart -q add c1 MUG-01 2 >/dev/null && shop-cart -q add c1 BOOK-C 1 >/dev/null || return 1
	ORD=$(shop-cart checkout c1 --customer al --address "$ADR" --payment pm_card_visa | jq -r .id) || return 1
	shop-saga -q run place-order --order "$ORD" >/dev/null || return 1
}

# shp WAREHOUSE: the order's shipment from that warehouse.
shp() {
	shop-ship list --order "$ORD" --warehouse "$1" | jq -r .id
}

# send ID [GRAMS]: pack, label and ship a shipment.
send() {
	shop-ship -q pack "$1" --weight "${2:-1200}" >/dev/null && shop-ship -q label "$1" >/dev/null &&
		shop-ship -q ship "$1" >/dev/null
}

# check_ship: every shipment's lines are the order's committed stock of
# its warehouse, the status is one the table allows, and the store is whole.
check_ship() {
	[ -e "$SHOP_DB" ] || return 0
	check_integrity || return 1
	local bad
	bad=$(sqlite3 "$SHOP_DB" "
		SELECT h.id, l.sku, l.qty, (SELECT coalesce(sum(qty), 0) FROM reservation r WHERE r.order_id = h.order_id
		  AND r.warehouse = h.warehouse AND r.sku = l.sku AND r.state = 'committed') AS c
		FROM shipment h JOIN shipment_line l ON l.shipment_id = h.id WHERE l.qty != c") || return 1
	[ -z "$bad" ] || { echo "check_ship: lines differ from committed stock: $bad" >&2; return 1; }
	bad=$(sqlite3 "$SHOP_DB" "SELECT id FROM shipment WHERE (status IN ('labelled', 'shipped', 'pre_transit',
		'in_transit', 'out_for_delivery', 'delivered', 'exception') AND tracking IS NULL) OR
		(status != 'created' AND weight_g IS NULL)") || return 1
	[ -z "$bad" ] || { echo "check_ship: shipments without their label or weight: $bad" >&2; return 1; }
}
