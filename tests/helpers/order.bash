# Helpers of the shop-order tests (tests/3*-order-*.bats); load after
# helpers/common. Orders are made with sqlite3 here, not through shop-cart
# checkout, so that these tests depend on shop-order alone.

# order_sql SQL: rows of a query on the store (sqlite3 list mode).
order_sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# order_store: make sure the store exists with the whole schema.
order_store() {
	[ -e "$SHOP_DB" ] || shop-order list >/dev/null || { echo "order_store: failed" >&2; return 1; }
}

# make_order ID CUSTOMER STATUS [PROMO_CODE...]: an order row with a
# minimal valid doc (one line of MUG-01 at 12.50), created and updated at
# $ORDER_AT (default $SHOP_NOW). Each PROMO_CODE is listed in the order's
# promotions, and gets a promotion row (no limits) unless it has one.
make_order() {
	local id=$1 customer=$2 status=$3 at=${ORDER_AT:-$SHOP_NOW} code promos=() sql=""
	shift 3
	order_store || return 1
	for code in "$@"; do
		promos+=("{\"code\":\"$code\",\"amount\":125}")
		sql+="INSERT OR IGNORE INTO promotion (code, doc, max_uses, created_at)
		      VALUES ('$code', '{\"code\":\"$code\",\"type\":\"percent\",\"value\":10}', NULL, '$at');"
	done
	local IFS=,
	local doc
	doc=$(printf '{"kind":"order","id":"%s","customer":"%s","cart_id":null,"status":"%s","currency":"USD","address":null,"payment_method":"pm_card_visa","lines":[{"sku":"MUG-01","qty":1,"unit_price":1250}],"promotions":[%s],"subtotal":1250,"discount":0,"shipping":0,"tax":0,"total":1250,"reason":null,"created_at":"%s","updated_at":"%s"}' \
		"$id" "$customer" "$status" "${promos[*]}" "$at" "$at")
	sqlite3 "$SHOP_DB" "BEGIN; $sql
		INSERT INTO orders (id, customer, cart_id, status, currency, total, reason, created_at, updated_at, doc)
		VALUES ('$id', '$customer', NULL, '$status', 'USD', 1250, NULL, '$at', '$at', '$doc'); COMMIT;" ||
		{ echo "make_order $id: insert failed" >&2; return 1; }
}

# make_promo CODE MAX_USES [PER_CUSTOMER [USES]]: a promotion with limits
# ("" for none), replacing any of that code.
make_promo() {
	local code=$1 max=${2:-NULL} per=${3:-} uses=${4:-0} doc
	[ -n "$max" ] || max=NULL
	order_store || return 1
	if [ -n "$per" ]; then
		doc="{\"code\":\"$code\",\"type\":\"percent\",\"value\":10,\"max_uses_per_customer\":$per}"
	else
		doc="{\"code\":\"$code\",\"type\":\"percent\",\"value\":10}"
	fi
	order_sql "INSERT OR REPLACE INTO promotion (code, doc, max_uses, uses, created_at)
	           VALUES ('$code', '$doc', $max, $uses, '$SHOP_NOW')"
}

# status_of ID: the status of the order's row, then of its doc.
status_of() {
	order_sql "SELECT status || ' ' || json_extract(doc, '\$.status') FROM orders WHERE id = '$1'"
}

# uses CODE: the uses counted for a promotion.
uses() {
	order_sql "SELECT uses FROM promotion WHERE code = '$1'"
}

# check_orders: the invariants of the order tables hold: every row agrees
# with its doc; uses never above max_uses; integrity.
check_orders() {
	[ -e "$SHOP_DB" ] || return 0
	check_integrity || return 1
	local bad
	bad=$(order_sql "SELECT id FROM orders
	                 WHERE json_extract(doc, '\$.id') IS NOT id
	                    OR json_extract(doc, '\$.status') IS NOT status
	                    OR json_extract(doc, '\$.reason') IS NOT reason
	                    OR json_extract(doc, '\$.updated_at') IS NOT updated_at
	                    OR json_extract(doc, '\$.created_at') IS NOT created_at
	                    OR json_extract(doc, '\$.total') IS NOT total")
	[ -z "$bad" ] || { echo "check_orders: row and doc differ: $bad" >&2; return 1; }
	bad=$(order_sql "SELECT code FROM promotion WHERE max_uses IS NOT NULL AND uses > max_uses")
	[ -z "$bad" ] || { echo "check_orders: uses above max_uses: $bad" >&2; return 1; }
}

# order_one_error PATTERN: $stderr (of the last run) is exactly one line,
# "shop-order: ...", and contains PATTERN.
order_one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ -n "$stderr" ] && [ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-order: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}

# events_of ID: "type from>to reason" of the order's events, one a line.
events_of() {
	order_sql "SELECT type || ' ' || coalesce(json_extract(data, '\$.from'), '') || '>' ||
	                  coalesce(json_extract(data, '\$.to'), '') || ' ' || coalesce(json_extract(data, '\$.reason'), '-')
	           FROM outbox WHERE subject = '$1' ORDER BY seq"
}
