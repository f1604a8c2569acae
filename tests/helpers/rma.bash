# Helpers of the shop-rma tests (tests/8*-rma-*.bats); load after
# helpers/common, helpers/inv and helpers/pay.
#
# The orders are real: checkout of a cart priced with tax and a promotion,
# placed through place-order on the sandbox gateway (its hand-off makes the
# shipments), then moved to shipped and delivered by hand.

# rma_setup: the fixture catalog; a shop.yaml with two warehouses (east in
# NY, west in CA), New York's 8.875 % exclusive tax, Germany's 19 %
# inclusive VAT, shipping 4.95 flat (free from 100.00); the promotion
# EIGHTH (12.5 % off); stock: MUG-01 only in west, CBL-USB-C-1M and BOOK-C
# only in east, 20 of each. Addresses: alice's in New York ($NY), dora's
# in Berlin ($DE).
rma_setup() {
	local cfg="$BATS_TEST_TMPDIR/shop.yaml"
	cat >"$cfg" <<'EOF'
warehouses:
  - id: east
    region: NY
  - id: west
    region: CA
tax:
  rules:
    - country: US
      region: NY
      rate: 8.875
    - country: DE
      rate: 19
      inclusive: true
shipping:
  flat: 4.95
  free_over: 100.00
EOF
	export SHOP_CONFIG="$cfg"
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null || return 1
	shop-inv -q set MUG-01 west 20 >/dev/null && shop-inv -q set CBL-USB-C-1M east 20 >/dev/null &&
		shop-inv -q set BOOK-C east 20 >/dev/null || return 1
	echo '{"code":"EIGHTH","type":"percent","value":"12.5"}' | shop-cart -q promo add >/dev/null || return 1
	NY=$(shop-cart address add alice --name 'Alice Liddell' --line1 '1 Main St' --city 'New York' --region NY \
		--postal 10001 --country US | jq -r .id) || return 1
	DE=$(shop-cart address add dora --name 'Dora Maar' --line1 'Unter den Linden 1' --city Berlin \
		--postal 10117 --country DE | jq -r .id) || return 1
}

# rma_order CUSTOMER SKU:QTY...: an order of those lines by alice (to New
# York) or dora (to Berlin), with EIGHTH, placed, shipped and delivered;
# prints its id. Its
# checkout record is kept as $BATS_TEST_TMPDIR/ORDER.json. (Called in a
# command substitution: the cart's name comes from the store, not from a
# counter of the shell.)
rma_order() {
	local who=$1 adr l ord n cart
	shift
	adr=$(shop-cart address ls "$who" | jq -r .id | head -1)
	n=$(($(rma_sql "SELECT count(*) FROM cart") + 1))
	cart="cart$n"
	for l in "$@"; do
		shop-cart -q add "$cart" "${l%%:*}" "${l#*:}" >/dev/null || { echo "rma_order: add $l failed" >&2; return 1; }
	done
	shop-cart checkout "$cart" --customer "$who" --address "$adr" --payment pm_card_visa --promo EIGHTH \
		>"$BATS_TEST_TMPDIR/checkout.json" || { echo "rma_order: checkout failed" >&2; return 1; }
	ord=$(jq -r .id "$BATS_TEST_TMPDIR/checkout.json")
	mv "$BATS_TEST_TMPDIR/checkout.json" "$BATS_TEST_TMPDIR/$ord.json"
	shop-saga -q run place-order --order "$ord" >/dev/null || { echo "rma_order: place-order failed" >&2; return 1; }
	shop-order -q set-status "$ord" shipped >/dev/null && shop-order -q set-status "$ord" delivered >/dev/null ||
		{ echo "rma_order: shipped/delivered failed" >&2; return 1; }
	echo "$ord"
}

# rma_new ORDER REASON SKU:QTY...: open an RMA, print its id.
rma_new() {
	local ord=$1 reason=$2 l args=()
	shift 2
	for l in "$@"; do
		args+=(--item "$l")
	done
	shop-rma open --order "$ord" --reason "$reason" "${args[@]}" | jq -r .id
}

# rma_through RMA [CONDITION]: approve and receive it (resellable unless
# said), ready to refund.
rma_through() {
	shop-rma -q approve "$1" >/dev/null && shop-rma -q receive "$1" --condition "${2:-resellable}" >/dev/null ||
		{ echo "rma_through $1 failed" >&2; return 1; }
}

# rma_sql SQL: rows of a query on the store.
rma_sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# rma_field RMA JQ: a field of the RMA's record.
rma_field() {
	shop-rma show "$1" | jq -r "$2"
}

# available SKU WH: on_hand - reserved of a stock row.
available() {
	rma_sql "SELECT on_hand - reserved FROM stock WHERE sku = '$1' AND warehouse = '$2'"
}

_rma_fail() {
	local rows
	rows=$(sqlite3 -header "$SHOP_DB" "$2") || { echo "check_rma: $1: query failed" >&2; return 1; }
	[ -z "$rows" ] && return 0
	echo "check_rma: invariant broken: $1" >&2
	printf '%s\n' "$rows" >&2
	return 1
}

# check_rma: the invariants of returns, after every test (with check_inv
# and check_pay: integrity, shop-inv reconcile clean, refunded <= captured).
#  - what each RMA says it refunded is what the payment's refunds for it
#    (succeeded, with its id) gave back, and the other way round;
#  - per order, the RMAs' refunds never pass what was captured;
#  - an RMA's amount is its lines' plus its shipping; refunded is 0 or all;
#  - the units of the live returns of an order never pass what it bought;
#  - each change of an RMA has its event about the order.
check_rma() {
	[ -e "$SHOP_DB" ] || return 0
	check_integrity || return 1
	_rma_fail "rma refunded = the payment's refunds with its id" "
		SELECT r.id, r.refunded, (SELECT coalesce(sum(f.amount), 0) FROM refund f
		                          WHERE f.rma_id = r.id AND f.status = 'succeeded') AS paid
		FROM rma r WHERE r.refunded != paid" || return 1
	_rma_fail "refunds with an rma id are for a known rma" "
		SELECT f.id, f.rma_id FROM refund f WHERE f.rma_id IS NOT NULL AND f.status = 'succeeded'
		AND NOT EXISTS (SELECT 1 FROM rma r WHERE r.id = f.rma_id)" || return 1
	_rma_fail "sum of rma refunded = sum of the payment refunds made with an rma" "
		SELECT a, b FROM (SELECT coalesce(sum(refunded), 0) AS a FROM rma),
		  (SELECT coalesce(sum(amount), 0) AS b FROM refund WHERE rma_id IS NOT NULL AND status = 'succeeded')
		WHERE a != b" || return 1
	_rma_fail "refunds of an order's returns <= captured" "
		SELECT r.order_id, sum(r.refunded) AS back, p.captured FROM rma r JOIN payment p ON p.order_id = r.order_id
		GROUP BY r.order_id HAVING back > p.captured" || return 1
	_rma_fail "amount = lines + shipping; refunded 0 or all" "
		SELECT r.id, r.amount, r.shipping, r.refunded FROM rma r
		WHERE r.amount != r.shipping + (SELECT coalesce(sum(amount), 0) FROM rma_line l WHERE l.rma_id = r.id)
		   OR (r.refunded_at IS NOT NULL AND r.refunded != r.amount)
		   OR (r.refunded_at IS NULL AND r.refunded != 0)" || return 1
	_rma_fail "live returns within what was bought" "
		SELECT r.order_id, l.sku, sum(l.qty) AS back,
		  (SELECT sum(json_extract(x.value, '\$.qty')) FROM orders o, json_each(o.doc, '\$.lines') x
		    WHERE o.id = r.order_id AND json_extract(x.value, '\$.sku') = l.sku) AS bought
		FROM rma r JOIN rma_line l ON l.rma_id = r.id
		WHERE r.status IN ('open', 'approved') OR r.condition IS NOT NULL
		GROUP BY r.order_id, l.sku HAVING back > bought" || return 1
	_rma_fail "every status an RMA reached has its event" "
		SELECT r.id, r.status FROM rma r WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject = r.order_id
		  AND o.type = CASE r.status WHEN 'open' THEN 'rma.opened' ELSE 'rma.' || r.status END
		  AND json_extract(o.data, '\$.rma_id') = r.id)" || return 1
}

# rma_one_error PATTERN: $stderr (of the last run) is exactly one line,
# "shop-rma: ...", and contains PATTERN (a glob fragment).
rma_one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ -n "$stderr" ] && [ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-rma: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}
