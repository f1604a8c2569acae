#!/usr/bin/env bats
# shop-cart lines: add, set, rm, show, clear, merge, expire, records on
# stdin, bad quantities, products not for sale, checked-out carts, and the
# address book.
load helpers/common
load helpers/cart

setup() {
	common_setup
	cart_setup
}

# lines_of: the cart record in $output as "sku:qty ..." (one line).
lines_of() {
	jq -r '[.lines[] | "\(.sku):\(.qty)"] | join(" ")' <<<"${1:-$output}"
}

@test "add: a new cart with one line; the cart record is exact" {
	run -0 --separate-stderr shop-cart add bob MUG-01 2
	[ -z "$stderr" ]
	[ "$(grep -c . <<<"$output")" = 1 ]
	[ "$(jq -c . <<<"$output")" = '{"kind":"cart","id":"bob","order_id":null,"items":2,"lines":[{"sku":"MUG-01","qty":2,"title":"Stoneware mug 350 ml","unit_price":1250,"currency":"USD","added_at":"2026-11-29T12:00:00Z"}]}' ]
	run -0 --separate-stderr shop-cart show bob
	[ "$(jq -c . <<<"$output")" = '{"kind":"cart","id":"bob","order_id":null,"items":2,"lines":[{"sku":"MUG-01","qty":2,"title":"Stoneware mug 350 ml","unit_price":1250,"currency":"USD","added_at":"2026-11-29T12:00:00Z"}]}' ]
}

@test "add: QTY defaults to 1; adding again adds up; lines ordered by time added" {
	run -0 --separate-stderr shop-cart add bob MUG-01
	[ "$(lines_of)" = "MUG-01:1" ]
	SHOP_NOW=2026-11-29T12:00:01Z run -0 --separate-stderr shop-cart add bob BOOK-C 3
	[ "$(lines_of)" = "MUG-01:1 BOOK-C:3" ]
	SHOP_NOW=2026-11-29T12:00:02Z run -0 --separate-stderr shop-cart add bob MUG-01 4
	[ "$(lines_of)" = "MUG-01:5 BOOK-C:3" ]
	[ "$(jq -c '[.items, [.lines[].added_at]]' <<<"$output")" = '[8,["2026-11-29T12:00:00Z","2026-11-29T12:00:01Z"]]' ]
}

@test "add: records on stdin add each sku once (shop-catalog list | shop-cart add)" {
	run -0 --separate-stderr bash -c 'shop-catalog list --brand Wired | shop-cart add bob'
	[ -z "$stderr" ]
	# One transaction; the cart as it ends up is printed once.
	[ "$(grep -c . <<<"$output")" = 1 ]
	[ "$(lines_of)" = "CBL-USB-C-1M:1 CBL-USB-C-2M:1 CHG-65W:1" ]
	[ "$(jq .items <<<"$output")" = 3 ]
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "CBL-USB-C-1M:1 CBL-USB-C-2M:1 CHG-65W:1" ]
	# A record's qty is used when it has one.
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"qty\":3}" | shop-cart add bob'
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "CBL-USB-C-1M:1 CBL-USB-C-2M:1 CHG-65W:1 MUG-01:3" ]
}

@test "add CART -: '-' as the SKU reads records on stdin (SPEC §2 Input)" {
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"qty\":3}" | shop-cart add bob -'
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "MUG-01:3" ]
}

@test "add: a bad record on stdin (no sku) is 65 naming the line" {
	run -65 --separate-stderr bash -c 'printf "%s\n" "{\"sku\":\"MUG-01\"}" "{\"title\":\"x\"}" | shop-cart add bob'
	cart_one_error "stdin:2"
	[[ $stderr == *sku* ]]
}

@test "add: records on stdin are all or nothing: an unknown sku on line 2 writes nothing" {
	# SPEC §2: a batch from stdin is all-or-nothing by default.
	run -66 --separate-stderr bash -c 'printf "%s\n" "{\"sku\":\"MUG-01\"}" "{\"sku\":\"NOPE\"}" | shop-cart add bob'
	[[ $stderr == *NOPE* ]]
	run -66 --separate-stderr shop-cart show bob
	cart_one_error "no such cart"
}

@test "add: unknown sku is 66 and no cart is created" {
	run -66 --separate-stderr shop-cart add bob NOPE
	[ -z "$output" ]
	cart_one_error "sku 'NOPE': no such product"
	run -66 --separate-stderr shop-cart show bob
	cart_one_error "cart bob: no such cart"
	[ "$(cart_sql 'SELECT count(*) FROM cart')" = 0 ]
}

@test "add: a draft or an archived product is 1, not for sale" {
	run -1 --separate-stderr shop-cart add bob GIFT-25
	[ -z "$output" ]
	cart_one_error "sku 'GIFT-25' is draft: not for sale"
	run -1 --separate-stderr shop-cart add bob OLD-LAMP 2
	[ -z "$output" ]
	cart_one_error "sku 'OLD-LAMP' is archived: not for sale"
	[ "$(cart_sql 'SELECT count(*) FROM cart_line')" = 0 ]
	# set is refused the same way.
	fill bob MUG-01:1
	run -1 --separate-stderr shop-cart set bob OLD-LAMP 1
	cart_one_error "not for sale"
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "MUG-01:1" ]
}

@test "add: quantity 0, negative, a fraction, not a number: 65 and nothing written" {
	local q
	for q in 0 -1 1.5 abc 1e3 ""; do
		run -65 --separate-stderr shop-cart add bob MUG-01 -- "$q"
		[ -z "$output" ]
		cart_one_error
	done
	run -65 --separate-stderr shop-cart add bob MUG-01 0
	cart_one_error "quantity 0: must be 1 to 1000"
	run -65 --separate-stderr shop-cart add bob MUG-01 -- -1
	cart_one_error "QTY: '-1' is not a whole number of units"
	run -65 --separate-stderr shop-cart add bob MUG-01 1.5
	cart_one_error "QTY: '1.5' is not a whole number of units"
	[ "$(cart_sql 'SELECT count(*) FROM cart')" = 0 ]
}

@test "add: huge quantities: over cart.max_qty is 65, int64 overflow is 65, a sum over the limit is 1" {
	run -65 --separate-stderr shop-cart add bob MUG-01 1001
	cart_one_error "quantity 1001: must be 1 to 1000"
	run -65 --separate-stderr shop-cart add bob MUG-01 99999999999999999999
	cart_one_error "QTY: '99999999999999999999' is not a whole number of units"
	run -65 --separate-stderr shop-cart add bob MUG-01 9223372036854775807
	cart_one_error "must be 1 to 1000"
	run -65 --separate-stderr shop-cart add bob MUG-01 9223372036854775808
	cart_one_error
	[ "$(cart_sql 'SELECT count(*) FROM cart')" = 0 ]
	# Exactly the limit is fine; one more unit on top is a business refusal.
	run -0 --separate-stderr shop-cart add bob MUG-01 1000
	[ "$(lines_of)" = "MUG-01:1000" ]
	run -1 --separate-stderr shop-cart add bob MUG-01 1
	cart_one_error "cart bob: 1001 of MUG-01 is over the limit of 1000 (cart.max_qty)"
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "MUG-01:1000" ]
	# A record on stdin with a huge qty.
	run -65 --separate-stderr bash -c 'echo "{\"sku\":\"BOOK-C\",\"qty\":99999999999999999999}" | shop-cart add bob'
	cart_one_error
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "MUG-01:1000" ]
}

@test "set: replaces the quantity; 0 and over the limit are 65; creates the line" {
	fill bob MUG-01:3
	run -0 --separate-stderr shop-cart set bob MUG-01 7
	[ "$(lines_of)" = "MUG-01:7" ]
	run -0 --separate-stderr shop-cart set bob BOOK-C 2
	[ "$(lines_of)" = "BOOK-C:2 MUG-01:7" ]
	run -65 --separate-stderr shop-cart set bob MUG-01 0
	cart_one_error "quantity 0"
	run -65 --separate-stderr shop-cart set bob MUG-01 1001
	cart_one_error "quantity 1001"
	run -66 --separate-stderr shop-cart set bob NOPE 1
	cart_one_error "no such product"
	run -64 --separate-stderr shop-cart set bob MUG-01
	run -0 --separate-stderr shop-cart show bob
	[ "$(lines_of)" = "BOOK-C:2 MUG-01:7" ]
}

@test "rm: removes a line; a line or cart that is not there is 66" {
	fill bob MUG-01:3 BOOK-C:1
	run -0 --separate-stderr shop-cart rm bob MUG-01
	[ "$(lines_of)" = "BOOK-C:1" ]
	run -66 --separate-stderr shop-cart rm bob MUG-01
	cart_one_error "cart bob has no MUG-01"
	run -66 --separate-stderr shop-cart rm nobody MUG-01
	cart_one_error "cart nobody: no such cart"
	[ "$(cart_sql "SELECT count(*) FROM cart WHERE id = 'nobody'")" = 0 ]
	# The last line gone, the cart stays, empty.
	run -0 --separate-stderr shop-cart rm bob BOOK-C
	[ "$(jq -c '[.items, .lines]' <<<"$output")" = '[0,[]]' ]
	run -0 --separate-stderr shop-cart show bob
	[ "$(jq -c '[.id, .items, .lines]' <<<"$output")" = '["bob",0,[]]' ]
}

@test "show: the catalog's current price and title; unknown cart 66" {
	fill bob MUG-01:2
	shop-catalog set MUG-01 price=13.00 >/dev/null
	run -0 --separate-stderr shop-cart show bob
	[ "$(jq -c '.lines[0] | [.unit_price, .title]' <<<"$output")" = '[1300,"Stoneware mug 350 ml"]' ]
	run -66 --separate-stderr shop-cart show nobody
	[ -z "$output" ]
	cart_one_error "cart nobody: no such cart"
}

@test "clear: prints the cart it removed, then the cart is gone (66)" {
	fill bob MUG-01:2 BOOK-C:1
	run -0 --separate-stderr shop-cart clear bob
	[ "$(jq -c '[.kind, .id, .items, .cleared]' <<<"$output")" = '["cart","bob",3,true]' ]
	[ "$(lines_of)" = "BOOK-C:1 MUG-01:2" ]
	[ "$(cart_sql 'SELECT count(*) FROM cart_line')" = 0 ]
	run -66 --separate-stderr shop-cart show bob
	run -66 --separate-stderr shop-cart clear bob
	cart_one_error "cart bob: no such cart"
}

@test "merge: quantities add up in TO, FROM is removed" {
	fill guest MUG-01:2 BOOK-C:1
	fill bob MUG-01:3 LAMP-2:1
	run -0 --separate-stderr shop-cart merge guest bob
	[ -z "$stderr" ]
	[ "$(grep -c . <<<"$output")" = 1 ]
	[ "$(jq -c '[.id, .items]' <<<"$output")" = '["bob",7]' ]
	[ "$(lines_of)" = "BOOK-C:1 LAMP-2:1 MUG-01:5" ]
	run -66 --separate-stderr shop-cart show guest
	[ "$(cart_sql "SELECT count(*) FROM cart_line WHERE cart_id = 'guest'")" = 0 ]
}

@test "merge: into a cart that does not exist yet creates it" {
	fill guest MUG-01:2
	run -0 --separate-stderr shop-cart merge guest bob
	[ "$(jq -c '[.id, .items]' <<<"$output")" = '["bob",2]' ]
	run -66 --separate-stderr shop-cart show guest
}

@test "merge: unknown FROM 66, same cart 64, over the limit 1 and nothing changes" {
	fill bob MUG-01:600
	fill guest MUG-01:500 BOOK-C:1
	run -66 --separate-stderr shop-cart merge nobody bob
	cart_one_error "cart nobody: no such cart"
	run -64 --separate-stderr shop-cart merge bob bob
	cart_one_error "same cart"
	before=$(dump_store)
	run -1 --separate-stderr shop-cart merge guest bob
	cart_one_error "over the limit of 1000"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr shop-cart show guest
	[ "$(lines_of)" = "BOOK-C:1 MUG-01:500" ]
}

@test "a checked-out cart refuses add, set, rm and merge (1); show tells the order" {
	adr=$(address bob US NY)
	fill bob MUG-01:1
	ord=$(shop-cart checkout bob --customer bob --address "$adr" --payment pm_card_visa | jq -r .id)
	[[ $ord == ord_* ]]
	run -1 --separate-stderr shop-cart add bob BOOK-C
	[ -z "$output" ]
	cart_one_error "cart bob was checked out as order $ord"
	run -1 --separate-stderr shop-cart set bob MUG-01 2
	cart_one_error "checked out"
	run -1 --separate-stderr shop-cart rm bob MUG-01
	cart_one_error "checked out"
	fill guest BOOK-C:1
	run -1 --separate-stderr shop-cart merge guest bob
	cart_one_error "checked out"
	run -0 --separate-stderr shop-cart show guest
	[ "$(lines_of)" = "BOOK-C:1" ]
	run -0 --separate-stderr shop-cart show bob
	[ "$(jq -c '[.order_id, .items]' <<<"$output")" = "[\"$ord\",1]" ]
	# Cleared, the id starts a new cart.
	run -0 --separate-stderr shop-cart clear bob
	run -0 --separate-stderr shop-cart add bob BOOK-C
	[ "$(jq -c '[.order_id, .items]' <<<"$output")" = '[null,1]' ]
}

@test "expire --older-than: removes open carts not changed for that long, only those" {
	SHOP_NOW=2026-10-01T00:00:00Z fill old MUG-01:1
	SHOP_NOW=2026-10-01T00:00:00Z fill touched MUG-01:1
	SHOP_NOW=2026-11-20T00:00:00Z fill touched BOOK-C:1
	SHOP_NOW=2026-11-20T00:00:00Z fill recent MUG-01:1
	# An old cart that was checked out is an order's history: kept.
	adr=$(SHOP_NOW=2026-10-01T00:00:00Z address bob US NY)
	SHOP_NOW=2026-10-01T00:00:00Z fill done MUG-01:1
	SHOP_NOW=2026-10-01T00:00:00Z shop-cart checkout done --customer bob --address "$adr" --payment pm >/dev/null
	# Now 2026-11-29T12:00:00Z: the cutoff is 2026-10-30T12:00:00Z.
	run -0 --separate-stderr shop-cart expire --older-than 30d
	[ -z "$stderr" ]
	[ "$(jq -c '[.id, .cleared]' <<<"$output")" = '["old",true]' ]
	[ "$(cart_sql 'SELECT id FROM cart ORDER BY id' | paste -sd' ')" = "done recent touched" ]
	run -0 --separate-stderr shop-cart expire --older-than 30d
	[ -z "$output" ]
	# Moved forward, the others' turn comes (not the checked-out one).
	SHOP_NOW=2027-01-01T00:00:00Z run -0 --separate-stderr shop-cart expire --older-than 30d
	[ "$(jq -r .id <<<"$output" | paste -sd' ')" = "recent touched" ]
	[ "$(cart_sql 'SELECT id FROM cart ORDER BY id')" = "done" ]
}

@test "expire: --older-than is required and must be a duration (64)" {
	run -64 --separate-stderr shop-cart expire
	cart_one_error "--older-than"
	run -64 --separate-stderr shop-cart expire --older-than soon
	cart_one_error "'soon' is not a duration"
	run -64 --separate-stderr shop-cart expire --older-than 0s
	cart_one_error
}

@test "address add: the record is exact; ls lists a customer's addresses in order" {
	run -0 --separate-stderr shop-cart address add bob --name "Bob Smith" --line1 "1 Main St" --line2 "Apt 2" \
		--city "New York" --region NY --postal 10001 --country US --email bob@example.com --phone "+1 555 0100"
	[ -z "$stderr" ]
	a1=$(jq -r .id <<<"$output")
	[[ $a1 =~ ^adr_[0-9a-z]{26}$ ]]
	[ "$(jq -c 'del(.id)' <<<"$output")" = '{"kind":"address","customer":"bob","name":"Bob Smith","line1":"1 Main St","line2":"Apt 2","city":"New York","region":"NY","postal":"10001","country":"US","email":"bob@example.com","phone":"+1 555 0100","created_at":"2026-11-29T12:00:00Z"}' ]
	# A second later (ids sort by creation time; within one millisecond the
	# order is not defined).
	SHOP_NOW=2026-11-29T12:00:01Z run -0 --separate-stderr shop-cart address add bob --name Bob \
		--line1 "Hauptstr. 1" --city Berlin --postal 10115 --country DE
	a2=$(jq -r .id <<<"$output")
	[ "$(jq -c '[.line2, .region, .email, .phone]' <<<"$output")" = '[null,null,null,null]' ]
	address alice US NY >/dev/null
	run -0 --separate-stderr shop-cart address ls bob
	[ "$(jq -r .id <<<"$output" | paste -sd' ')" = "$a1 $a2" ]
	[ "$(jq -r .customer <<<"$output" | sort -u)" = bob ]
	run -0 --separate-stderr shop-cart address ls nobody
	[ -z "$output" ]
}

@test "address add: country must be two capitals (65); a missing required flag is 64" {
	local c
	for c in us USA U D1 de Ü "U " ""; do
		run -65 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --postal 1 --country "$c"
		cart_one_error "an ISO 3166 code in capitals"
	done
	run -64 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --postal 1
	cart_one_error "--country is required"
	run -65 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --postal 1 --country us
	cart_one_error "--country 'us'"
	run -65 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --postal 1 --country USA
	cart_one_error "--country 'USA'"
	run -64 --separate-stderr shop-cart address add bob --line1 "1 Main" --city X --postal 1 --country US
	cart_one_error "address: --name is required"
	run -64 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --country US
	cart_one_error "--postal is required"
	run -65 --separate-stderr shop-cart address add bob --name Bob --line1 "1 Main" --city X --postal 1 --country US --email nobody
	cart_one_error "--email"
	run -64 --separate-stderr shop-cart address add --name Bob --line1 "1 Main" --city X --postal 1 --country US
	[ "$(cart_sql 'SELECT count(*) FROM address')" = 0 ]
}
