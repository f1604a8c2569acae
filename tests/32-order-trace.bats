#!/usr/bin/env bats
# shop-order trace: one timeline of everything that happened to an order,
# from every source, in time order, ties by source.
load helpers/common
load helpers/order
load helpers/inv

setup() {
	common_setup
	inv_setup
	SHOP_NOW=2026-11-29T11:00:00Z stock_set MUG-01 main 10
}

@test "trace: the order, its events, reservations and ledger rows, in time order" {
	ORDER_AT=2026-11-29T12:00:00Z make_order ord_T alice pending
	ORDER_AT=2026-11-29T12:00:00Z make_order ord_X bob pending
	SHOP_NOW=2026-11-29T12:01:00Z shop-inv reserve < <(order ord_T MUG-01:2) >/dev/null
	SHOP_NOW=2026-11-29T12:01:00Z shop-inv reserve < <(order ord_X MUG-01:1) >/dev/null
	SHOP_NOW=2026-11-29T12:02:00Z shop-inv commit --order ord_T >/dev/null
	SHOP_NOW=2026-11-29T12:03:00Z shop-order confirm ord_T >/dev/null
	check_inv
	res=$(inv_sql "SELECT id FROM reservation WHERE order_id = 'ord_T'")
	run -0 --separate-stderr shop-order trace ord_T
	[ -z "$stderr" ]
	[ "$(jq -c '[.at, .source, .what]' <<<"$output")" = \
'["2026-11-29T12:00:00Z","order","created"]
["2026-11-29T12:01:00Z","event","inventory.reserved"]
["2026-11-29T12:01:00Z","inventory","reserved"]
["2026-11-29T12:01:00Z","ledger","reserve"]
["2026-11-29T12:02:00Z","event","inventory.committed"]
["2026-11-29T12:02:00Z","inventory","committed"]
["2026-11-29T12:02:00Z","ledger","commit"]
["2026-11-29T12:03:00Z","event","order.confirmed"]' ]
	[ "$(jq -r .kind <<<"$output" | sort -u)" = trace ]
	[ "$(sed -n 1p <<<"$output")" = '{"kind":"trace","at":"2026-11-29T12:00:00Z","source":"order","what":"created","order_id":"ord_T","customer":"alice","total":1250,"currency":"USD"}' ]
	[ "$(sed -n 3p <<<"$output")" = '{"kind":"trace","at":"2026-11-29T12:01:00Z","source":"inventory","what":"reserved","reservation":"'"$res"'","sku":"MUG-01","warehouse":"main","qty":2,"expires_at":"2026-11-29T12:16:00Z"}' ]
	[ "$(sed -n 6p <<<"$output")" = '{"kind":"trace","at":"2026-11-29T12:02:00Z","source":"inventory","what":"committed","reservation":"'"$res"'","sku":"MUG-01","warehouse":"main","qty":2}' ]
	[ "$(sed -n 7p <<<"$output" | jq -c 'del(.seq)')" = '{"kind":"trace","at":"2026-11-29T12:02:00Z","source":"ledger","what":"commit","sku":"MUG-01","warehouse":"main","on_hand_delta":-2,"reserved_delta":-2,"ref":"'"$res"'"}' ]
	[ "$(sed -n 8p <<<"$output" | jq -c '[.seq, (.event_id | test("^evt_")), .data]')" = \
		'[5,true,{"order_id":"ord_T","from":"pending","to":"confirmed","reason":null}]' ]
	# Nothing of the other order, nor of the SKU's own events.
	[ "$(grep -c ord_X <<<"$output")" = 0 ]
	[ "$(grep -c inventory.adjusted <<<"$output")" = 0 ]
}

@test "trace: ties of time go by source: order, event, inventory, ledger" {
	make_order ord_T alice pending
	shop-inv reserve < <(order ord_T MUG-01:3) >/dev/null
	shop-order cancel ord_T --reason "changed mind" >/dev/null
	check_inv
	run -0 --separate-stderr shop-order trace ord_T
	[ "$(jq -r '.source + " " + .what' <<<"$output" | paste -sd,)" = \
		"order created,event inventory.reserved,event order.cancelled,event inventory.released,inventory reserved,inventory released,ledger reserve,ledger release" ]
	[ "$(jq -r 'select(.what == "order.cancelled") | .data.reason' <<<"$output")" = "changed mind" ]
}

@test "trace: an order with nothing else has its creation; --table; ids on stdin" {
	make_order ord_T alice pending
	make_order ord_U bob pending
	run -0 --separate-stderr shop-order trace ord_T
	[ "$(jq -c '[.source, .what]' <<<"$output")" = '["order","created"]' ]
	run -0 --separate-stderr shop-order --table trace ord_T
	[ "$(head -1 <<<"$output" | tr -s ' ')" = "AT SOURCE WHAT STEP SKU WAREHOUSE QTY" ]
	run -0 --separate-stderr bash -c 'shop-order list | shop-order trace'
	[ "$(jq -r .order_id <<<"$output" | paste -sd' ')" = "ord_U ord_T" ]
	run -0 --separate-stderr shop-order trace ord_T ord_U
	[ "$(jq -r .order_id <<<"$output" | paste -sd' ')" = "ord_T ord_U" ]
}

@test "trace: an unknown order is 66, even with reservations under its id" {
	shop-inv reserve < <(order ord_ghost MUG-01:1) >/dev/null
	before=$(dump_store)
	run -66 --separate-stderr shop-order trace ord_ghost
	[ -z "$output" ]
	order_one_error "order ord_ghost: no such order"
	make_order ord_T alice pending
	run -66 --separate-stderr shop-order trace nope ord_T
	[ "$(jq -r .order_id <<<"$output")" = ord_T ]
	order_one_error "order nope: no such order"
	run -64 --separate-stderr shop-order trace </dev/null ord_T --bogus
}
