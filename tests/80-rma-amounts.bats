#!/usr/bin/env bats
# shop-rma: what a return refunds, to the cent. Orders are checked out with
# 12.5 % off (EIGHTH) and New York's 8.875 % tax (or Germany's inclusive
# 19 %), so that the shares of a line's discount and tax must be rounded;
# however a line comes back, the refunds add up to exactly what was paid.
# The invariants of helpers/rma.bash, inv.bash and pay.bash after each test.
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

# The order of these tests, 3 MUG-01 (12.50) and 1 CBL-USB-C-1M (8.99) to
# New York, with EIGHTH:
#   MUG-01  subtotal 3750, discount 12.5 % = 468.75 -> 469, taxed 3281,
#           tax 8.875 % of 3281 = 291.18875 -> 291, total 3572
#   CBL     subtotal 899, discount 112.375 -> 112, taxed 787,
#           tax 69.84625 -> 70, total 857
#   shipping 4.95 (3281 + 787 is under 100.00): total 4924, all captured.
order_ny() {
	ORD=$(rma_order alice MUG-01:3 CBL-USB-C-1M:1)
	[ "$(jq -c '[.total, .shipping, (.lines | map([.sku, .discount, .tax, .total]))]' "$ORD.json")" = \
		'[4924,495,[["CBL-USB-C-1M",112,70,857],["MUG-01",469,291,3572]]]' ]
	[ "$(pay_status "$ORD")" = "captured 4924 0" ]
}

@test "a partial return of a discounted, taxed line refunds exactly its share" {
	order_ny
	# 1 of 3 mugs: subtotal 3750 * 1/3 = 1250; discount 469 * 1/3 = 156.33
	# -> 156; tax 291 * 1/3 = 97; 1250 - 156 + 97 = 1191. No shipping: the
	# order is not all back.
	run -0 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1 --reason "too small"
	[ -z "$stderr" ]
	[ "$(jq -c '[.kind, .status, .reason, .currency, .amount, .shipping, .refunded, .condition]' <<<"$output")" = \
		'["rma","open","too small","USD",1191,0,0,null]' ]
	[ "$(jq -c '.lines' <<<"$output")" = \
		'[{"sku":"MUG-01","qty":1,"warehouse":"west","subtotal":1250,"discount":156,"tax":97,"amount":1191}]' ]
	local r
	r=$(jq -r .id <<<"$output")
	[[ $r == rma_* ]]
	rma_through "$r"
	run -0 --separate-stderr shop-rma refund "$r"
	[ "$(jq -c '[.status, .amount, .refunded]' <<<"$output")" = '["refunded",1191,1191]' ]
	[ "$(pay_status "$ORD")" = "partially_refunded 4924 1191" ]
	[ "$(pay_sql "SELECT amount || ' ' || rma_id || ' ' || idem_key FROM refund")" = \
		"1191 $r shop:$ORD:refund:$r" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = partially_returned ]
}

@test "the remaining units refund the rest exactly, with the shipping; the order is returned" {
	order_ny
	local r1 r2
	r1=$(rma_new "$ORD" "too small" MUG-01:1)
	rma_through "$r1"
	shop-rma -q refund "$r1" >/dev/null
	# The rest: 2 mugs get 2500, discount 469 - 156 = 313, tax 291 - 97 = 194,
	# so 2500 - 313 + 194 = 2381; the cable all of its 857; and, the order
	# being all back now, its shipping 495: 2381 + 857 + 495 = 3733.
	run -0 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:2 --item CBL-USB-C-1M:1 --reason "all of it"
	[ "$(jq -c '[.amount, .shipping]' <<<"$output")" = '[3733,495]' ]
	[ "$(jq -c '.lines | map([.sku, .qty, .warehouse, .subtotal, .discount, .tax, .amount])' <<<"$output")" = \
		'[["CBL-USB-C-1M",1,"east",899,112,70,857],["MUG-01",2,"west",2500,313,194,2381]]' ]
	r2=$(jq -r .id <<<"$output")
	rma_through "$r2"
	run -0 shop-rma refund "$r2"
	[ "$(jq -c '[.status, .refunded]' <<<"$output")" = '["refunded",3733]' ]
	# 1191 + 3733 = 4924: all that was paid, to the cent.
	[ "$(pay_status "$ORD")" = "refunded 4924 4924" ]
	run -0 shop-order show "$ORD"
	[ "$(jq -r .status <<<"$output")" = returned ]
	[ "$(events_of "$ORD" | grep '^order\.' | tail -2)" = \
		"$(printf 'order.partially_returned delivered>partially_returned -\norder.returned partially_returned>returned -')" ]
	# Nothing is left to return.
	run -1 --separate-stderr shop-rma open --order "$ORD" --item CBL-USB-C-1M:1 --reason again
	rma_one_error "order $ORD is returned: only a delivered order can be returned"
}

@test "one mug at a time: 1191, 1190, 1191 -- the shares of a line add up to it" {
	order_ny
	# Cumulative rounding: the first j of 3 mugs carry round(469 j / 3) of
	# the discount (156, 313, 469) and round(291 j / 3) of the tax (97, 194,
	# 291); each return gets the difference.
	local r a=() i
	for i in 1 2 3; do
		r=$(rma_new "$ORD" "mug $i" MUG-01:1)
		a+=("$(rma_field "$r" '[.lines[0].discount, .lines[0].tax, .amount, .shipping] | join(" ")')")
		rma_through "$r"
		shop-rma -q refund "$r" >/dev/null
	done
	[ "${a[0]}" = "156 97 1191 0" ]
	[ "${a[1]}" = "157 97 1190 0" ]
	[ "${a[2]}" = "156 97 1191 0" ]
	[ "$(pay_status "$ORD")" = "partially_refunded 4924 3572" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = partially_returned ]
	# The cable is the last line: it brings the shipping.
	r=$(rma_new "$ORD" cable CBL-USB-C-1M:1)
	[ "$(rma_field "$r" '[.amount, .shipping] | join(" ")')" = "1352 495" ]
	rma_through "$r"
	shop-rma -q refund "$r" >/dev/null
	[ "$(pay_status "$ORD")" = "refunded 4924 4924" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = returned ]
}

@test "prices that include VAT: the tax is part of the price, not added again" {
	ORD=$(rma_order dora MUG-01:3)
	# Berlin, 19 % included: 3750 less 469 is 3281, of which VAT is
	# 3281 - round(3281 * 100/119 = 2757.14) = 524; the line's total is 3281.
	[ "$(jq -c '.lines[0] | [.discount, .tax, .tax_inclusive, .total]' "$ORD.json")" = '[469,524,true,3281]' ]
	local r1 r2
	# 1 of 3: 1250 - 156 = 1094 (its VAT 524/3 = 174.67 -> 175, inside).
	r1=$(rma_new "$ORD" one MUG-01:1)
	[ "$(rma_field "$r1" '.lines[0] | [.subtotal, .discount, .tax, .amount] | join(" ")')" = "1250 156 175 1094" ]
	# The other 2: 2500 - 313 = 2187, VAT 349; with the shipping 495.
	r2=$(rma_new "$ORD" two MUG-01:2)
	[ "$(rma_field "$r2" '[.lines[0].subtotal, .lines[0].discount, .lines[0].tax, .lines[0].amount, .shipping, .amount] | join(" ")')" = \
		"2500 313 349 2187 495 2682" ]
	rma_through "$r1"
	rma_through "$r2"
	shop-rma -q refund "$r1" "$r2" >/dev/null
	# 1094 + 2682 = 3776 = 3281 + 495, the order's total.
	[ "$(pay_status "$ORD")" = "refunded 3776 3776" ]
}

@test "a second return of the same units is refused (1), and changes nothing" {
	order_ny
	local r before
	r=$(rma_new "$ORD" first MUG-01:2)
	before=$(dump_store)
	run -1 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:2 --reason second
	[ -z "$output" ]
	rma_one_error "order $ORD: too many units: MUG-01 (want 2, returnable 1 of 3 bought)"
	[ "$(dump_store)" = "$before" ]
	# Approved, received, refunded: the units stay returned.
	rma_through "$r"
	shop-rma -q refund "$r" >/dev/null
	run -1 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:2 --item CBL-USB-C-1M:2 --reason third
	rma_one_error "too many units: CBL-USB-C-1M (want 2, returnable 1 of 1 bought), MUG-01 (want 2, returnable 1 of 3 bought)"
	# Items of one sku add up.
	run -1 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1 --item MUG-01:1 --reason fourth
	rma_one_error "MUG-01 (want 2, returnable 1 of 3 bought)"
	run -0 shop-rma open --order "$ORD" --item MUG-01:1 --reason fifth
	[ "$(rma_sql "SELECT count(*) FROM rma")" = 2 ]
}

@test "a rejected return frees its units, and the next one takes their share" {
	order_ny
	local r1 r2 r3
	r1=$(rma_new "$ORD" one MUG-01:1)
	r2=$(rma_new "$ORD" two MUG-01:1)
	[ "$(rma_field "$r2" .amount)" = 1190 ]
	run -0 shop-rma reject "$r1" --reason "not ours"
	[ "$(jq -c '[.status, .reject_reason]' <<<"$output")" = '["rejected","not ours"]' ]
	# Two mugs are returnable again; the last one of the three, whichever
	# comes last, takes what is left of the line.
	r3=$(rma_new "$ORD" three MUG-01:2)
	run -0 shop-rma show "$r3"
	# r2 took 157 of the discount (units 2 of 3), so r3 takes 469 - 157 = 312:
	# 2500 - 312 + 194 = 2382, and r2 + r3 = 1190 + 2382 = 3572, the line.
	[ "$(jq -c '[.lines[0].discount, .lines[0].tax, .amount]' <<<"$output")" = '[312,194,2382]' ]
	[ "$(($(rma_field "$r2" .amount) + $(rma_field "$r3" .amount)))" = 3572 ]
	for r in "$r2" "$r3"; do
		rma_through "$r"
		shop-rma -q refund "$r" >/dev/null
	done
	r=$(rma_new "$ORD" cable CBL-USB-C-1M:1)
	rma_through "$r"
	shop-rma -q refund "$r" >/dev/null
	[ "$(pay_status "$ORD")" = "refunded 4924 4924" ]
}

@test "open twice with the same items and reason is the same RMA; the records and events" {
	order_ny
	run -0 shop-rma open --order "$ORD" --item MUG-01:1 --reason "too small"
	local first=$output
	run -0 shop-rma open --order "$ORD" --item MUG-01:1 --reason "too small"
	[ "$output" = "$first" ]
	[ "$(rma_sql "SELECT count(*) FROM rma")" = 1 ]
	[ "$(rma_sql "SELECT count(*) FROM outbox WHERE type = 'rma.opened'")" = 1 ]
	# An order record on stdin names the order.
	SHOP_NOW=2026-11-29T12:05:00Z run -0 sh -c "shop-order show $ORD | shop-rma open --item MUG-01:1 --reason 'another one'"
	[ "$(rma_sql "SELECT count(*) FROM rma")" = 2 ]
	run -0 shop-rma list --order "$ORD"
	[ "${#lines[@]}" = 2 ]
	[ "$(jq -r .reason <<<"$output" | tr '\n' ,)" = "another one,too small," ]
	run -0 shop-rma list --status open --where '.reason == "too small"'
	[ "$(jq -c '[.id, .order_id]' <<<"$output")" = "$(jq -c '[.id, .order_id]' <<<"$first")" ]
	run -0 shop-rma list --status refunded
	[ -z "$output" ]
	run -0 shop-order trace "$ORD"
	[ "$(jq -r 'select(.what == "rma.opened") | .data.amount' <<<"$output" | tr '\n' ' ')" = "1191 1190 " ]
	run -0 shop-rma --table list
	[ "$(head -1 <<<"$output" | tr -s ' ')" = "ID ORDER_ID STATUS CONDITION AMOUNT REFUNDED CURRENCY REASON" ]
}

@test "bad input: unknown RMA (66), SKU not in the order (1), qty 0 or junk (65), an order not delivered (1)" {
	order_ny
	run -66 --separate-stderr shop-rma show rma_nope
	rma_one_error "rma rma_nope: no such return"
	local cmd
	for cmd in approve refund close; do
		run -66 --separate-stderr shop-rma "$cmd" rma_nope
		rma_one_error "rma rma_nope: no such return"
	done
	run -66 --separate-stderr shop-rma reject rma_nope --reason x
	run -66 --separate-stderr shop-rma receive rma_nope --condition damaged
	run -66 --separate-stderr shop-rma open --order ord_nope --item MUG-01:1 --reason x
	rma_one_error "order ord_nope: no such order"
	local before
	before=$(dump_store)
	run -1 --separate-stderr shop-rma open --order "$ORD" --item BOOK-C:1 --reason x
	rma_one_error "order $ORD: BOOK-C is not in the order"
	run -1 --separate-stderr shop-rma open --order "$ORD" --item NO-SUCH-SKU:1 --item MUG-01:1 --reason x
	rma_one_error "NO-SUCH-SKU is not in the order"
	local q
	for q in MUG-01:0 MUG-01:-1 MUG-01:x MUG-01:1.5 MUG-01: MUG-01 :1 MUG-01:99999999999 "MUG-01: 1"; do
		run -65 --separate-stderr shop-rma open --order "$ORD" --item "$q" --reason x
		rma_one_error "--item '$q'"
		[ -z "$output" ]
	done
	[ "$(dump_store)" = "$before" ]
	# A pending order, and a cancelled one.
	run -0 --separate-stderr sh -c "shop-cart -q add later MUG-01 1 >/dev/null &&
		shop-cart checkout later --customer alice --address $NY --payment pm_card_visa | jq -r .id"
	local pending=$output
	run -1 --separate-stderr shop-rma open --order "$pending" --item MUG-01:1 --reason x
	rma_one_error "order $pending is pending: only a delivered order can be returned"
	shop-order -q cancel "$pending" >/dev/null
	run -1 --separate-stderr shop-rma open --order "$pending" --item MUG-01:1 --reason x
	rma_one_error "is cancelled: only a delivered order can be returned"
	before=$(dump_store)
	# Usage: what is missing, or not one of the words.
	run -64 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1
	rma_one_error "--reason R is required"
	run -64 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1 --reason ""
	run -64 --separate-stderr shop-rma open --order "$ORD" --reason x
	rma_one_error "give at least one --item SKU:QTY"
	run -64 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1 --reason x extra
	run -64 --separate-stderr shop-rma list --status lost
	rma_one_error "status 'lost' is not one of open, approved, rejected, received, refunded, closed"
	run -64 --separate-stderr shop-rma list --where '.amount >'
	run -64 --separate-stderr shop-rma frobnicate
	[ "$(dump_store)" = "$before" ]
	# Records on stdin without an id.
	run -65 --separate-stderr sh -c "echo '{\"kind\":\"rma\"}' | shop-rma show"
	rma_one_error "stdin:1: field 'rma_id' (or 'id'): missing"
	run -0 shop-rma --help
	[[ $output == *"open"*"approve"*"reject"*"receive"*"refund"*"close"*"show"*"list"* ]]
	run -0 shop-rma open --help
	[[ $output == *"--item SKU:QTY"* ]]
}
