#!/usr/bin/env bats
# shop-cart checkout: the quote frozen into a pending order, idempotent per
# cart, its refusals; promo add/ls/rm; usage limits counted when the order is
# confirmed (shop-order confirm), raced by two processes.
load helpers/common
load helpers/cart

ORD_RE='^ord_[0-9a-z]{26}$'

setup() {
	common_setup
	cart_setup
}

# checkout CART CUSTOMER ADDRESS [ARGS...]: checkout with --payment
# pm_card_visa; prints the order record.
checkout() {
	local cart=$1 cust=$2 adr=$3
	shift 3
	shop-cart checkout "$cart" --customer "$cust" --address "$adr" --payment pm_card_visa "$@"
}

# frozen: the priced part of a quote or order record in $output (or $1).
frozen() {
	jq -c '{currency, lines, promotions, subtotal, discount, shipping, tax, total}' <<<"${1:-$output}"
}

@test "checkout: a pending order with the quote's lines, shares and totals; an order.created event" {
	promos '{"code":"TEN","type":"percent","value":10}' '{"code":"SHIP","type":"free_shipping","lane":1}'
	adr=$(address ann US NY)
	fill c1 BOOK-C:1 MUG-01:2
	quote c1 --customer ann --address "$adr" --promo TEN --promo SHIP
	q=$output
	run -0 --separate-stderr shop-cart checkout c1 --customer ann --address "$adr" --payment pm_card_visa \
		--promo TEN --promo SHIP
	[ -z "$stderr" ]
	[ "$(grep -c . <<<"$output")" = 1 ]
	check_quote
	id=$(jq -r .id <<<"$output")
	[[ $id =~ $ORD_RE ]]
	[ "$(jq -c '[.kind, .status, .customer, .cart_id, .payment_method, .reason, .created_at]' <<<"$output")" = \
		'["order","pending","ann","c1","pm_card_visa",null,"2026-11-29T12:00:00Z"]' ]
	[ "$(jq -c '.address | [.id, .customer, .country, .region]' <<<"$output")" = "[\"$adr\",\"ann\",\"US\",\"NY\"]" ]
	# The quote, frozen: same lines (with each line's share of each
	# discount), promotions and totals.
	[ "$(frozen)" = "$(frozen "$q")" ]
	# BOOK-C 4500 - 450 = 4050, tax 359.4375 → 359; MUG-01 2500 - 250 = 2250,
	# tax 199.6875 → 200; shipping free; total 4409 + 2450 = 6859
	[ "$(jq -c '[.lines[] | [.sku, .discount, [.discounts[] | [.code, .amount]], .tax, .total]]' <<<"$output")" = \
		'[["BOOK-C",450,[["TEN",450]],359,4409],["MUG-01",250,[["TEN",250]],200,2450]]' ]
	[ "$(jq -c '[.subtotal, .discount, .shipping, .tax, .total]' <<<"$output")" = '[7000,700,0,559,6859]' ]
	[ "$(jq -c '[.promotions[] | [.code, .discount, .shipping_discount]]' <<<"$output")" = '[["TEN",700,null],["SHIP",0,495]]' ]
	# The store: the order, the cart pointing at it, one event.
	[ "$(cart_sql "SELECT id || ' ' || status || ' ' || total || ' ' || customer FROM orders")" = "$id pending 6859 ann" ]
	[ "$(cart_sql "SELECT order_id FROM cart WHERE id = 'c1'")" = "$id" ]
	[ "$(cart_sql "SELECT type || ' ' || subject || ' ' || json(data) FROM outbox ORDER BY seq")" = \
		"order.created $id {\"order_id\":\"$id\",\"customer\":\"ann\",\"total\":6859,\"currency\":\"USD\"}" ]
	run -0 --separate-stderr shop-cart show c1
	[ "$(jq -r .order_id <<<"$output")" = "$id" ]
}

@test "checkout: idempotent per cart, even with other flags; nothing more is written" {
	adr=$(address ann US NY)
	other=$(address ann DE)
	theirs=$(address bob DE)
	promos '{"code":"TEN","type":"percent","value":10}'
	fill c1 MUG-01:1
	run -0 --separate-stderr checkout c1 ann "$adr"
	first=$output
	id=$(jq -r .id <<<"$first")
	[[ $id =~ $ORD_RE ]]
	before=$(dump_store)
	run -0 --separate-stderr checkout c1 ann "$adr"
	[ "$output" = "$first" ]
	SHOP_NOW=2026-11-30T08:00:00Z run -0 --separate-stderr shop-cart checkout c1 --customer ann \
		--address "$other" --payment pm_other --promo TEN --promo NOPE
	[ "$output" = "$first" ]
	run -0 --separate-stderr shop-cart checkout c1 --customer ann --address adr_nope --payment pm
	[ "$output" = "$first" ]
	# Another customer does not get someone else's order.
	run -1 --separate-stderr shop-cart checkout c1 --customer bob --address "$theirs" --payment pm
	[ -z "$output" ]
	cart_one_error "checkout c1: the cart was checked out as order $id by another customer"
	# A price change since does not touch the frozen order.
	[ "$(dump_store)" = "$before" ]
	shop-catalog set MUG-01 price=99.00 >/dev/null
	run -0 --separate-stderr checkout c1 ann "$adr"
	[ "$output" = "$first" ]
	[ "$(cart_sql 'SELECT count(*) FROM orders')" = 1 ]
	[ "$(cart_sql "SELECT count(*) FROM outbox WHERE type = 'order.created'")" = 1 ]
}

@test "checkout: an empty cart is 1, an unknown cart 66; nothing written" {
	adr=$(address ann US NY)
	fill c1 MUG-01:1
	shop-cart rm c1 MUG-01 >/dev/null
	before=$(dump_store)
	run -1 --separate-stderr checkout c1 ann "$adr"
	[ -z "$output" ]
	cart_one_error "checkout c1: the cart is empty"
	run -66 --separate-stderr checkout nobody ann "$adr"
	[ -z "$output" ]
	cart_one_error "cart nobody: no such cart"
	[ "$(dump_store)" = "$before" ]
}

@test "checkout: an unknown address is 66, another customer's address 1" {
	mine=$(address ann US NY)
	theirs=$(address bob US NY)
	fill c1 MUG-01:1
	before=$(dump_store)
	run -66 --separate-stderr checkout c1 ann adr_nope
	[ -z "$output" ]
	cart_one_error "address adr_nope: no such address"
	run -1 --separate-stderr checkout c1 ann "$theirs"
	[ -z "$output" ]
	cart_one_error "address $theirs belongs to another customer"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr checkout c1 ann "$mine"
	[ "$(jq -r .status <<<"$output")" = pending ]
}

@test "checkout: a currency mix is 1 (quote too); nothing written" {
	product EU-MUG 900 standard EUR
	adr=$(address ann US NY)
	fill c1 MUG-01:1 EU-MUG:1
	run -0 --separate-stderr shop-cart show c1
	[ "$(jq -c '[.lines[] | [.sku, .currency]]' <<<"$output")" = '[["EU-MUG","EUR"],["MUG-01","USD"]]' ]
	before=$(dump_store)
	run -1 --separate-stderr checkout c1 ann "$adr"
	[ -z "$output" ]
	cart_one_error "checkout c1: a currency mix (EUR and USD)"
	run -1 --separate-stderr shop-cart quote c1
	[ -z "$output" ]
	cart_one_error "a currency mix (EUR and USD)"
	[ "$(dump_store)" = "$before" ]
	# An all-EUR cart is fine, and priced in EUR.
	fill eu EU-MUG:2
	run -0 --separate-stderr checkout eu ann "$adr"
	[ "$(jq -c '[.currency, .subtotal]' <<<"$output")" = '["EUR",1800]' ]
}

@test "checkout: a requested promotion that does not apply is 1, naming it; nothing written" {
	adr=$(address ann US NY)
	promos '{"code":"MIN","type":"percent","value":5,"min_subtotal":"100.00"}' \
		'{"code":"TEN","type":"percent","value":10}' '{"code":"FIVE","type":"fixed","value":"5.00"}'
	fill c1 MUG-01:1
	before=$(dump_store)
	run -1 --separate-stderr checkout c1 ann "$adr" --promo MIN
	[ -z "$output" ]
	cart_one_error "checkout c1: promotion MIN does not apply: subtotal 12.50 is below the minimum 100.00"
	run -1 --separate-stderr checkout c1 ann "$adr" --promo NOPE
	cart_one_error "promotion NOPE does not apply: unknown code"
	# Beaten in its lane is not applied either.
	run -1 --separate-stderr checkout c1 ann "$adr" --promo TEN --promo FIVE
	cart_one_error "promotion TEN does not apply: lane 0: FIVE gives more"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr checkout c1 ann "$adr" --promo FIVE
	[ "$(jq -c '[.promotions[].code, .discount]' <<<"$output")" = '["FIVE",500]' ]
}

@test "checkout: --customer, --address, --payment and CART are required (64)" {
	adr=$(address ann US NY)
	fill c1 MUG-01:1
	run -64 --separate-stderr shop-cart checkout c1 --address "$adr" --payment pm
	cart_one_error "--customer C, --address ID and --payment METHOD are required"
	run -64 --separate-stderr shop-cart checkout c1 --customer ann --payment pm
	cart_one_error "are required"
	run -64 --separate-stderr shop-cart checkout c1 --customer ann --address "$adr"
	cart_one_error "are required"
	run -64 --separate-stderr shop-cart checkout --customer ann --address "$adr" --payment pm
	cart_one_error
	run -64 --separate-stderr shop-cart checkout c1 --customer ann --address "$adr" --payment pm --bogus
	cart_one_error
	[ "$(cart_sql 'SELECT count(*) FROM orders')" = 0 ]
}

@test "promo add: records on stdin are stored and printed; ls lists them by code with uses" {
	run -0 --separate-stderr shop-cart promo add <<-'EOF'
		{"code":"TEN","type":"percent","value":10,"lane":1}
		{"kind":"promotion","code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"skus":["MUG-01"],"max_uses":5,"max_uses_per_customer":1,"starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-12-01T00:00:00Z"}
	EOF
	[ -z "$stderr" ]
	[ "$(jq -c . <<<"$output" | head -1)" = '{"kind":"promotion","code":"TEN","type":"percent","value":10,"lane":1,"uses":0,"created_at":"2026-11-29T12:00:00Z"}' ]
	[ "$(jq -c . <<<"$output" | tail -1)" = '{"kind":"promotion","code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"skus":["MUG-01"],"max_uses":5,"max_uses_per_customer":1,"starts_at":"2026-11-01T00:00:00Z","ends_at":"2026-12-01T00:00:00Z","uses":0,"created_at":"2026-11-29T12:00:00Z"}' ]
	run -0 --separate-stderr shop-cart promo ls
	[ "$(jq -r .code <<<"$output" | paste -sd' ')" = "B2G1 TEN" ]
	# promo ls output goes back in (round trip), unchanged.
	run -0 --separate-stderr bash -c 'shop-cart promo ls | shop-cart promo add'
	[ "$(jq -r .code <<<"$output" | paste -sd' ')" = "B2G1 TEN" ]
	run -0 --separate-stderr shop-cart promo rm TEN
	[ "$(jq -c '[.code, .removed]' <<<"$output")" = '["TEN",true]' ]
	run -0 --separate-stderr shop-cart promo ls
	[ "$(jq -r .code <<<"$output")" = B2G1 ]
}

@test "promo add: a broken jq condition is 65 and nothing is stored" {
	run -65 --separate-stderr shop-cart promo add <<<'{"code":"BAD","type":"percent","value":10,"condition":".lines | map(."}'
	[ -z "$output" ]
	cart_one_error "promotion BAD: condition"
	run -0 --separate-stderr shop-cart promo ls
	[ -z "$output" ]
	[ "$(cart_sql 'SELECT count(*) FROM promotion')" = 0 ]
}

@test "promo add: all or nothing: a bad second record stores none, naming the record" {
	run -65 --separate-stderr shop-cart promo add <<-'EOF'
		{"code":"GOOD","type":"percent","value":10}
		{"code":"BAD","type":"percent","value":0}
		{"code":"ALSO","type":"fixed","value":100}
	EOF
	[ -z "$output" ]
	cart_one_error "stdin:2: promotion BAD: field 'value'"
	run -65 --separate-stderr shop-cart promo add <<-'EOF'
		{"code":"GOOD","type":"percent","value":10}
		not json
	EOF
	cart_one_error "stdin:2"
	run -0 --separate-stderr shop-cart promo ls
	[ -z "$output" ]
}

@test "promo add: unknown fields, bad types and values are 65" {
	local rec
	for rec in \
		'{"code":"X","type":"percent","value":10,"colour":"red"}' \
		'{"code":"X","type":"bogus","value":10}' \
		'{"type":"percent","value":10}' \
		'{"code":"has space","type":"percent","value":10}' \
		'{"code":"X","type":"percent","value":101}' \
		'{"code":"X","type":"fixed","value":10.5}' \
		'{"code":"X","type":"fixed","value":-100}' \
		'{"code":"X","type":"buy_x_get_y","buy":2}' \
		'{"code":"X","type":"percent","value":10,"starts_at":"tomorrow"}' \
		'{"code":"X","type":"percent","value":10,"starts_at":"2026-12-01T00:00:00Z","ends_at":"2026-11-01T00:00:00Z"}' \
		'{"code":"X","type":"percent","value":10,"max_uses":0}' \
		'{"code":"X","type":"percent","value":10,"skus":"MUG-01"}' \
		'["not an object"]'; do
		run -65 --separate-stderr shop-cart promo add <<<"$rec"
		[ -z "$output" ]
		cart_one_error
	done
	run -65 --separate-stderr shop-cart promo add <<<'{"code":"X","type":"percent","value":10,"colour":"red"}'
	cart_one_error "unknown field 'colour'"
	run -65 --separate-stderr shop-cart promo add <<<'{"code":"X","type":"fixed","value":10.5}'
	cart_one_error "fraction"
	[ "$(cart_sql 'SELECT count(*) FROM promotion')" = 0 ]
}

@test "promo rm: an unknown code is 66" {
	run -66 --separate-stderr shop-cart promo rm NOPE
	[ -z "$output" ]
	cart_one_error "promotion NOPE: no such code"
	run -64 --separate-stderr shop-cart promo rm
}

@test "checkout does not count uses; shop-order confirm does" {
	[ -x "$SHOP_BUILD/bin/shop-order" ]
	promos '{"code":"ONCE","type":"percent","value":10,"max_uses":1}'
	a=$(address ann US NY)
	b=$(address bob US NY)
	fill c1 MUG-01:1
	fill c2 MUG-01:1
	o1=$(checkout c1 ann "$a" --promo ONCE | jq -r .id)
	o2=$(checkout c2 bob "$b" --promo ONCE | jq -r .id)
	[[ $o1 =~ $ORD_RE ]] && [[ $o2 =~ $ORD_RE ]]
	[ "$(cart_sql "SELECT uses FROM promotion WHERE code = 'ONCE'")" = 0 ]
	run -0 --separate-stderr shop-order confirm "$o1"
	[ "$(jq -c '[.id, .status]' <<<"$output")" = "[\"$o1\",\"confirmed\"]" ]
	[ "$(cart_sql "SELECT uses FROM promotion WHERE code = 'ONCE'")" = 1 ]
	[ "$(cart_sql "SELECT code || ' ' || order_id || ' ' || customer FROM promotion_use")" = "ONCE $o1 ann" ]
	run -0 --separate-stderr shop-cart promo ls
	[ "$(jq -c '[.code, .uses, .max_uses]' <<<"$output")" = '["ONCE",1,1]' ]
	run -1 --separate-stderr shop-order confirm "$o2"
	[[ $stderr == *ONCE* ]]
	[ "$(cart_sql "SELECT status FROM orders WHERE id = '$o2'")" = pending ]
	# Used up: the next quote says so, and checkout refuses it.
	fill c3 MUG-01:1
	quote c3 --customer carol --promo ONCE
	[ "$(jq -c '[.rejected[] | [.code, .reason]]' <<<"$output")" = '[["ONCE","used up"]]' ]
	c=$(address carol US NY)
	run -1 --separate-stderr checkout c3 carol "$c" --promo ONCE
	cart_one_error "promotion ONCE does not apply: used up"
}

@test "max_uses raced: two processes confirm two orders for the last use, exactly one wins" {
	[ -x "$SHOP_BUILD/bin/shop-order" ]
	a=$(address ann US NY)
	b=$(address bob US NY)
	local round
	for round in 1 2 3 4 5; do
		promos "{\"code\":\"LAST$round\",\"type\":\"fixed\",\"value\":100,\"max_uses\":1}"
		fill "a$round" MUG-01:1
		fill "b$round" BOOK-C:1
		o1=$(checkout "a$round" ann "$a" --promo "LAST$round" | jq -r .id)
		o2=$(checkout "b$round" bob "$b" --promo "LAST$round" | jq -r .id)
		[[ $o1 =~ $ORD_RE ]] && [[ $o2 =~ $ORD_RE ]]
		rm -f go
		# Both wait for the same go, then confirm at once.
		(while [ ! -e go ]; do sleep 0.005; done; exec shop-order confirm "$o1") >r1.out 2>r1.err 3>&- &
		p1=$!
		(while [ ! -e go ]; do sleep 0.005; done; exec shop-order confirm "$o2") >r2.out 2>r2.err 3>&- &
		p2=$!
		sleep 0.1
		touch go
		r1=0 r2=0
		wait "$p1" || r1=$?
		wait "$p2" || r2=$?
		echo "round $round: exits $r1 $r2; $(cat r1.err r2.err)"
		[ "$(printf '%s\n' "$r1" "$r2" | sort | paste -sd' ')" = "0 1" ]
		[ "$(cart_sql "SELECT uses FROM promotion WHERE code = 'LAST$round'")" = 1 ]
		[ "$(cart_sql "SELECT count(*) FROM promotion_use WHERE code = 'LAST$round'")" = 1 ]
		[ "$(cart_sql "SELECT group_concat(status, ' ') FROM (SELECT status FROM orders WHERE id IN ('$o1', '$o2') ORDER BY status)")" = "confirmed pending" ]
		if [ "$r1" = 0 ]; then winner=$o1 loser=r2; else winner=$o2 loser=r1; fi
		[ ! -s "$loser.out" ]
		grep -q "LAST$round" "$loser.err"
		[ "$(cart_sql "SELECT order_id FROM promotion_use WHERE code = 'LAST$round'")" = "$winner" ]
	done
}

@test "max_uses_per_customer: after a confirmed use, the customer's quotes reject it; others' do not" {
	[ -x "$SHOP_BUILD/bin/shop-order" ]
	promos '{"code":"PER1","type":"percent","value":10,"max_uses_per_customer":1}'
	a=$(address ann US NY)
	b=$(address bob US NY)
	fill c1 MUG-01:1
	fill c2 MUG-01:1
	o1=$(checkout c1 ann "$a" --promo PER1 | jq -r .id)
	# A second pending order of ann's with it: checkout does not count.
	o2=$(checkout c2 ann "$a" --promo PER1 | jq -r .id)
	[[ $o2 =~ $ORD_RE ]]
	fill c3 MUG-01:1
	quote c3 --address "$a" --promo PER1
	[ "$(jq -c '.rejected' <<<"$output")" = '[]' ]
	run -0 --separate-stderr shop-order confirm "$o1"
	# ann's quotes, by her address or by --customer, now reject it.
	quote c3 --address "$a" --promo PER1
	[ "$(jq -c '[.customer, [.rejected[] | [.code, .reason]], .promotions]' <<<"$output")" = \
		'["ann",[["PER1","used up for this customer"]],[]]' ]
	quote c3 --customer ann --promo PER1 --explain
	[ "$(jq -c '.explain' <<<"$output")" = '[{"code":"PER1","applied":false,"why":"used up for this customer"}]' ]
	# bob's do not.
	quote c3 --address "$b" --promo PER1
	[ "$(jq -c '[.customer, .rejected, [.promotions[].code]]' <<<"$output")" = '["bob",[],["PER1"]]' ]
	run -1 --separate-stderr checkout c3 ann "$a" --promo PER1
	cart_one_error "promotion PER1 does not apply: used up for this customer"
	# The second pending order of ann's cannot be confirmed with it.
	run -1 --separate-stderr shop-order confirm "$o2"
	[[ $stderr == *PER1* ]]
	[ "$(cart_sql "SELECT count(*) FROM promotion_use WHERE code = 'PER1'")" = 1 ]
}
