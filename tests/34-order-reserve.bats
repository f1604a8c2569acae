#!/usr/bin/env bats
# shop-inv reserve --order ID takes the order's lines from the orders
# table (the saga's step needs no pipe), and stays idempotent.
load helpers/common
load helpers/cart

setup() {
	common_setup
	cart_setup
}

@test "reserve --order ID: the lines of a checked-out order, once" {
	shop-inv set MUG-01 main 10 >/dev/null
	shop-inv set BOOK-C main 3 >/dev/null
	adr=$(address alice US NY)
	fill c1 MUG-01:2 BOOK-C:1
	order=$(shop-cart checkout c1 --customer alice --address "$adr" --payment pm_card_visa | jq -r .id)
	run -0 --separate-stderr shop-inv reserve --order "$order" </dev/null
	[ "$(jq -sc 'map({sku, qty, state, order_id}) | sort_by(.sku)' <<<"$output")" = \
		"[{\"sku\":\"BOOK-C\",\"qty\":1,\"state\":\"held\",\"order_id\":\"$order\"},{\"sku\":\"MUG-01\",\"qty\":2,\"state\":\"held\",\"order_id\":\"$order\"}]" ]
	first=$output
	before=$(dump_store)
	run -0 --separate-stderr shop-inv reserve --order "$order" </dev/null
	[ "$output" = "$first" ]
	[ "$(dump_store)" = "$before" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT reserved FROM stock WHERE sku = 'MUG-01'")" = 2 ]
	run -0 shop-inv reconcile
}

@test "reserve --order ID: short stock refuses the whole order; unknown ids are 66" {
	shop-inv set MUG-01 main 1 >/dev/null
	adr=$(address alice US NY)
	fill c2 MUG-01:2
	order=$(shop-cart checkout c2 --customer alice --address "$adr" --payment pm_card_visa | jq -r .id)
	run -1 --separate-stderr shop-inv reserve --order "$order" </dev/null
	[ "$stderr" = "shop-inv: reserve $order: insufficient stock for MUG-01 (want 2, available 1)" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM reservation")" = 0 ]
	run -66 --separate-stderr shop-inv reserve --order ord_nope </dev/null
	[[ $stderr == "shop-inv: "*"ord_nope"* ]]
}
