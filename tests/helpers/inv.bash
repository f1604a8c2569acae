# Helpers of the shop-inv tests (tests/2*-inv-*.bats); load after
# helpers/common.

INV_FIX="$TOP/fixtures/catalog.jsonl"

# inv_setup [WH...]: the fixture catalog in the store of this test. Each WH
# is id[:region[:priority]]; when any is given, a shop.yaml naming exactly
# those warehouses is written and exported as SHOP_CONFIG.
inv_setup() {
	shop-catalog -q import "$INV_FIX" >/dev/null || { echo "inv_setup: import failed" >&2; return 1; }
	[ $# -eq 0 ] && return 0
	local cfg="$BATS_TEST_TMPDIR/shop.yaml" w id region prio
	echo "warehouses:" >"$cfg"
	for w in "$@"; do
		IFS=: read -r id region prio <<<"$w"
		{
			echo "  - id: $id"
			echo "    name: Warehouse $id"
			[ -z "$region" ] || echo "    region: $region"
			[ -z "$prio" ] || echo "    priority: $prio"
		} >>"$cfg"
	done
	export SHOP_CONFIG="$cfg"
}

# inv_sql SQL: rows of a query on the store (sqlite3 list mode).
inv_sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# _inv_fail NAME SQL: print the invariant's offending rows and fail when the
# query returns any.
_inv_fail() {
	local rows
	rows=$(sqlite3 -header "$SHOP_DB" "$2") || { echo "check_inv: $1: query failed" >&2; return 1; }
	[ -z "$rows" ] && return 0
	echo "check_inv: invariant broken: $1" >&2
	printf '%s\n' "$rows" >&2
	return 1
}

# check_inv: the inventory invariants hold in $SHOP_DB. Call after every
# command that may write (never after a deliberate corruption).
check_inv() {
	[ -e "$SHOP_DB" ] || return 0
	check_integrity || return 1
	_inv_fail "0 <= reserved <= on_hand" \
		"SELECT sku, warehouse, on_hand, reserved FROM stock WHERE reserved < 0 OR reserved > on_hand OR on_hand < 0" ||
		return 1
	# Keys: every (sku, warehouse) of stock, held reservations or ledger.
	local keys="WITH k AS (SELECT sku, warehouse FROM stock
	                       UNION SELECT sku, warehouse FROM reservation WHERE state = 'held'
	                       UNION SELECT sku, warehouse FROM ledger)"
	_inv_fail "reserved = sum of held reservations" \
		"$keys SELECT k.sku, k.warehouse, s.reserved AS stock_reserved,
		        (SELECT coalesce(sum(qty), 0) FROM reservation r
		          WHERE r.sku = k.sku AND r.warehouse = k.warehouse AND r.state = 'held') AS held
		   FROM k LEFT JOIN stock s ON s.sku = k.sku AND s.warehouse = k.warehouse
		  WHERE coalesce(s.reserved, 0) <> held" || return 1
	_inv_fail "on_hand = sum of ledger.on_hand_delta" \
		"$keys SELECT k.sku, k.warehouse, s.on_hand AS stock_on_hand,
		        (SELECT coalesce(sum(on_hand_delta), 0) FROM ledger l
		          WHERE l.sku = k.sku AND l.warehouse = k.warehouse) AS ledger_on_hand
		   FROM k LEFT JOIN stock s ON s.sku = k.sku AND s.warehouse = k.warehouse
		  WHERE coalesce(s.on_hand, 0) <> ledger_on_hand" || return 1
	_inv_fail "reserved = sum of ledger.reserved_delta" \
		"$keys SELECT k.sku, k.warehouse, s.reserved AS stock_reserved,
		        (SELECT coalesce(sum(reserved_delta), 0) FROM ledger l
		          WHERE l.sku = k.sku AND l.warehouse = k.warehouse) AS ledger_reserved
		   FROM k LEFT JOIN stock s ON s.sku = k.sku AND s.warehouse = k.warehouse
		  WHERE coalesce(s.reserved, 0) <> ledger_reserved" || return 1
	local out rc=0
	out=$(shop-inv reconcile 2>&1 >"$BATS_TEST_TMPDIR/.reconcile.out") || rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$BATS_TEST_TMPDIR/.reconcile.out" ]; then
		echo "check_inv: shop-inv reconcile exited $rc" >&2
		cat "$BATS_TEST_TMPDIR/.reconcile.out" >&2
		[ -z "$out" ] || printf '%s\n' "$out" >&2
		return 1
	fi
	return 0
}

# stock SKU WH: "on_hand reserved version" of a stock row ("" when none).
stock() {
	inv_sql "SELECT on_hand || ' ' || reserved || ' ' || version FROM stock WHERE sku = '$1' AND warehouse = '$2'"
}

# stock_set SKU WH QTY: set on-hand through shop-inv; fails the test when it
# fails.
stock_set() {
	shop-inv set "$1" "$2" "$3" >/dev/null || { echo "stock_set $*: failed" >&2; return 1; }
}

# order ID SKU:QTY...: an order record with those lines, on stdout.
order() {
	local id=$1 l lines=()
	shift
	for l in "$@"; do
		lines+=("{\"sku\":\"${l%%:*}\",\"qty\":${l#*:}}")
	done
	local IFS=,
	printf '{"id":"%s","lines":[%s]}\n' "$id" "${lines[*]}"
}

# inv_one_error PATTERN: $stderr (of the last run) is exactly one line,
# "shop-inv: ...", and contains PATTERN (a glob fragment).
inv_one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ -n "$stderr" ] && [ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-inv: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}

# outbox_types: the type of every outbox event, in order, one a line.
outbox_types() {
	inv_sql "SELECT type FROM outbox ORDER BY seq"
}
