#!/usr/bin/env bats
# shop-rma receive: returned goods go back on hand in the warehouse they
# were shipped from, through the ledger (reason "return", the order as
# actor, the RMA as ref); damaged ones are written off ("write-off") and
# never become available. shop-inv reconcile stays clean (check_inv).
load helpers/common
load helpers/inv
load helpers/order
load helpers/pay
load helpers/rma

setup() {
	common_setup
	rma_setup
}

teardown() {
	check_rma && check_inv && check_pay
}

# movements SKU: "warehouse delta reason ref" of the ledger rows of SKU
# that returns wrote.
movements() {
	rma_sql "SELECT warehouse || ' ' || on_hand_delta || ' ' || reason || ' ' || actor || ' ' || ref FROM ledger
	         WHERE sku = '$1' AND reason IN ('return', 'write-off') ORDER BY seq"
}

@test "restock lands in the right warehouse's ledger: mugs to west, the cable to east" {
	ORD=$(rma_order alice MUG-01:3 CBL-USB-C-1M:1)
	# Shipped from two warehouses: the mugs are only in west, cables in east.
	[ "$(rma_sql "SELECT group_concat(sku || '@' || warehouse || 'x' || qty, ' ') FROM
	      (SELECT * FROM reservation WHERE order_id = '$ORD' AND state = 'committed' ORDER BY sku)")" = \
		"CBL-USB-C-1M@eastx1 MUG-01@westx3" ]
	[ "$(stock MUG-01 west)" = "17 0 3" ]
	local r
	r=$(rma_new "$ORD" "not needed" MUG-01:2 CBL-USB-C-1M:1)
	[ "$(rma_field "$r" '.lines | map("\(.sku)@\(.warehouse)x\(.qty)") | join(" ")')" = \
		"CBL-USB-C-1M@eastx1 MUG-01@westx2" ]
	shop-rma -q approve "$r" >/dev/null
	# Nothing moves before the goods are received.
	[ "$(stock MUG-01 west)" = "17 0 3" ]
	run -0 --separate-stderr shop-rma receive "$r" --condition resellable
	[ -z "$stderr" ]
	[ "$(jq -c '[.status, .condition]' <<<"$output")" = '["received","resellable"]' ]
	[ "$(stock MUG-01 west)" = "19 0 4" ]
	[ "$(stock CBL-USB-C-1M east)" = "20 0 4" ]
	[ "$(movements MUG-01)" = "west 2 return $ORD $r" ]
	[ "$(movements CBL-USB-C-1M)" = "east 1 return $ORD $r" ]
	# No stock appeared where it was not shipped from.
	[ -z "$(stock MUG-01 east)" ]
	[ -z "$(stock CBL-USB-C-1M west)" ]
	run -0 shop-inv ledger MUG-01 --warehouse west
	[ "$(jq -r 'select(.reason == "return") | [.on_hand_delta, .actor, .ref] | join(" ")' <<<"$output")" = "2 $ORD $r" ]
	# Receiving again moves nothing; another condition is refused.
	run -0 shop-rma receive "$r" --condition resellable
	[ "$(stock MUG-01 west)" = "19 0 4" ]
	run -1 --separate-stderr shop-rma receive "$r" --condition damaged
	rma_one_error "rma $r was received already, as resellable"
	# The events: rma.received about the order, inventory.returned per sku.
	[ "$(rma_sql "SELECT json_extract(data, '\$.condition') || ' ' || json_array_length(data, '\$.lines')
	              FROM outbox WHERE type = 'rma.received' AND subject = '$ORD'")" = "resellable 2" ]
	[ "$(rma_sql "SELECT subject || ' ' || json_extract(data, '\$.warehouse') || ' ' || json_extract(data, '\$.qty')
	              FROM outbox WHERE type = 'inventory.returned' ORDER BY seq")" = \
		"$(printf 'CBL-USB-C-1M east 1\nMUG-01 west 2')" ]
	# The order's trace shows the movements.
	run -0 shop-order trace "$ORD"
	[ "$(jq -r 'select(.source == "ledger" and .what == "return") | "\(.sku) \(.warehouse) \(.on_hand_delta)"' <<<"$output")" = \
		"$(printf 'CBL-USB-C-1M east 1\nMUG-01 west 2')" ]
}

@test "units of one sku shipped from two warehouses come back to each, never more than it sent" {
	shop-inv -q set MUG-01 west 1 >/dev/null
	shop-inv -q set MUG-01 east 2 >/dev/null
	ORD=$(rma_order alice MUG-01:3)
	[ "$(rma_sql "SELECT group_concat(warehouse || 'x' || qty, ' ') FROM (SELECT * FROM reservation
	      WHERE order_id = '$ORD' AND state = 'committed' ORDER BY warehouse)")" = "eastx2 westx1" ]
	local r1 r2
	# The first one back goes to the preferred warehouse (the config's
	# order), then what each sent is filled in turn.
	r1=$(rma_new "$ORD" one MUG-01:1)
	[ "$(rma_field "$r1" '.lines | map("\(.warehouse)x\(.qty)") | join(" ")')" = "eastx1" ]
	r2=$(rma_new "$ORD" two MUG-01:2)
	[ "$(rma_field "$r2" '.lines | map("\(.warehouse)x\(.qty)") | join(" ")')" = "eastx1 westx1" ]
	# Split lines still share the line's figures exactly: 1191 + 2381.
	[ "$(rma_field "$r1" .amount) $(rma_field "$r2" '.lines | map(.amount) | add')" = "1191 2381" ]
	rma_through "$r1"
	rma_through "$r2"
	[ "$(stock MUG-01 east)" = "2 0 5" ]
	[ "$(stock MUG-01 west)" = "1 0 5" ]
	[ "$(movements MUG-01)" = "$(printf 'east 1 return %s %s\neast 1 return %s %s\nwest 1 return %s %s' \
		"$ORD" "$r1" "$ORD" "$r2" "$ORD" "$r2")" ]
}

@test "damaged goods are written off: on the ledger, never available stock" {
	ORD=$(rma_order alice MUG-01:3)
	[ "$(available MUG-01 west)" = 17 ]
	local r
	r=$(rma_new "$ORD" "arrived broken" MUG-01:1)
	rma_through "$r" damaged
	[ "$(rma_field "$r" .condition)" = damaged ]
	[ "$(available MUG-01 west)" = 17 ]
	[ "$(stock MUG-01 west)" = "17 0 5" ]
	[ "$(movements MUG-01)" = "$(printf 'west 1 return %s %s\nwest -1 write-off %s %s' "$ORD" "$r" "$ORD" "$r")" ]
	[ "$(rma_sql "SELECT json_extract(data, '\$.condition') || ' ' || json_extract(data, '\$.delta')
	              FROM outbox WHERE type = 'inventory.returned'")" = "damaged 0" ]
	# Damaged, it is refunded all the same.
	run -0 shop-rma refund "$r"
	[ "$(jq -r .refunded <<<"$output")" = 1191 ]
	# The 17 are all that can be sold: an order of 18 is refused.
	shop-cart -q add more MUG-01 18 >/dev/null
	local big
	big=$(shop-cart checkout more --customer alice --address "$NY" --payment pm_card_visa | jq -r .id)
	run -1 --separate-stderr shop-inv reserve --order "$big"
	[[ $stderr == *"insufficient stock for MUG-01 (want 18, available 17)"* ]]
	# The others come back resellable.
	r=$(rma_new "$ORD" "changed my mind" MUG-01:2)
	rma_through "$r"
	[ "$(available MUG-01 west)" = 19 ]
	run -0 shop-inv reconcile
}

@test "a return rejected after its goods came back keeps them, and its units stay returned" {
	ORD=$(rma_order alice MUG-01:3)
	local r
	r=$(rma_new "$ORD" "wrong colour" MUG-01:2)
	rma_through "$r"
	[ "$(available MUG-01 west)" = 19 ]
	run -0 shop-rma reject "$r" --reason "worn: not accepted"
	[ "$(jq -c '[.status, .condition, .reject_reason, .refunded]' <<<"$output")" = \
		'["rejected","resellable","worn: not accepted",0]' ]
	[ "$(available MUG-01 west)" = 19 ]
	[ "$(rma_sql "SELECT json_extract(data, '\$.received') FROM outbox WHERE type = 'rma.rejected'")" = 1 ]
	run -1 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:2 --reason again
	rma_one_error "MUG-01 (want 2, returnable 1 of 3 bought)"
	run -1 --separate-stderr shop-rma refund "$r"
	rma_one_error "rma $r is rejected: only a received return is refunded"
	run -0 shop-rma close "$r"
	[ "$(jq -r .status <<<"$output")" = closed ]
	[ "$(pay_status "$ORD")" = "captured 4067 0" ]
}
