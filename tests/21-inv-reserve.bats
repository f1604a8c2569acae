#!/usr/bin/env bats
# shop-inv reserve, commit, release, expire: soft reservations with expiry,
# all or nothing, idempotent per order, allocated across warehouses, every
# movement in the ledger and the outbox.
load helpers/common
load helpers/inv

RES_RE='^res_[0-9a-z]{26}$'

setup() {
	common_setup
	inv_setup
}

# held SKU WH: units held for SKU in WH by reservations in state held.
held() {
	inv_sql "SELECT coalesce(sum(qty), 0) FROM reservation WHERE sku = '$1' AND warehouse = '$2' AND state = 'held'"
}

@test "reserve: an order record on stdin; the reservation record is exact" {
	stock_set MUG-01 main 10
	run -0 --separate-stderr bash -c 'echo "{\"id\":\"ord_1\",\"lines\":[{\"sku\":\"MUG-01\",\"qty\":3}]}" | shop-inv reserve'
	check_inv
	[ -z "$stderr" ]
	[ "$(grep -c . <<<"$output")" = 1 ]
	id=$(jq -r .id <<<"$output")
	[[ $id =~ $RES_RE ]]
	[ "$(jq -c 'keys_unsorted' <<<"$output")" = '["kind","id","order_id","sku","warehouse","qty","state","expires_at","created_at","updated_at"]' ]
	[ "$(jq -c 'del(.id)' <<<"$output")" = '{"kind":"reservation","order_id":"ord_1","sku":"MUG-01","warehouse":"main","qty":3,"state":"held","expires_at":"2026-11-29T12:15:00Z","created_at":"2026-11-29T12:00:00Z","updated_at":"2026-11-29T12:00:00Z"}' ]
	[ "$(stock MUG-01 main)" = "10 3 2" ]
	[ "$(inv_sql "SELECT id || ' ' || state FROM reservation")" = "$id held" ]
	run -0 --separate-stderr shop-inv show MUG-01
	[ "$(jq -c '[.on_hand, .reserved, .available]' <<<"$output")" = '[10,3,7]' ]
}

@test "reserve: the TTL comes from inventory.reservation_ttl" {
	stock_set MUG-01 main 10
	printf 'inventory:\n  reservation_ttl: 2h\n' >ttl.yaml
	run -0 --separate-stderr shop-inv --config ttl.yaml reserve < <(order ord_1 MUG-01:1)
	check_inv
	[ "$(jq -r .expires_at <<<"$output")" = 2026-11-29T14:00:00Z ]
}

@test "reserve: two lines, one reservation each; lines of one sku are one demand" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 5
	run -0 --separate-stderr shop-inv reserve < <(order ord_1 TEE-BLK-M:2 MUG-01:3 MUG-01:4)
	check_inv
	[ "$(jq -c '[.order_id, .sku, .warehouse, .qty, .state]' <<<"$output" | paste -sd' ')" = \
		'["ord_1","MUG-01","main",7,"held"] ["ord_1","TEE-BLK-M","main",2,"held"]' ]
	a=$(jq -r .id <<<"$output" | head -1)
	b=$(jq -r .id <<<"$output" | tail -1)
	[[ $a =~ $RES_RE ]] && [[ $b =~ $RES_RE ]] && [ "$a" != "$b" ]
	[ "$(stock MUG-01 main)" = "10 7 2" ]
	[ "$(stock TEE-BLK-M main)" = "5 2 2" ]
}

@test "reserve: idempotent per order, same or different lines; nothing changes" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 5
	first=$(order ord_1 MUG-01:3 | shop-inv reserve)
	check_inv
	before=$(dump_store)
	run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:3)
	check_inv
	[ "$output" = "$first" ]
	run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:5 TEE-BLK-M:1)
	check_inv
	[ "$output" = "$first" ]
	# Even an order that could not be served now gets its reservations.
	run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:500)
	check_inv
	[ "$output" = "$first" ]
	[ "$(dump_store)" = "$before" ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE type = 'inventory.reserved'")" = 1 ]
}

@test "reserve --order ID with no record: the order's reservations; unknown 66" {
	stock_set MUG-01 main 10
	first=$(order ord_1 MUG-01:3 | shop-inv reserve)
	check_inv
	before=$(dump_store)
	run -0 --separate-stderr shop-inv reserve --order ord_1 </dev/null
	check_inv
	[ "$output" = "$first" ]
	run -66 --separate-stderr shop-inv reserve --order nope </dev/null
	check_inv
	[ -z "$output" ]
	inv_one_error "order nope: no reservations"
	run -64 --separate-stderr shop-inv reserve </dev/null
	[ -z "$output" ]
	inv_one_error "--order"
	# --order with a record of another order is bad data.
	run -65 --separate-stderr shop-inv reserve --order ord_2 < <(order ord_1 MUG-01:1)
	inv_one_error "record of order ord_1, but --order ord_2"
	# --order gives the id to a record without one.
	run -0 --separate-stderr shop-inv reserve --order ord_3 <<<'{"lines":[{"sku":"MUG-01","qty":2}]}'
	check_inv
	[ "$(jq -c '[.order_id, .qty]' <<<"$output")" = '["ord_3",2]' ]
	[ "$(inv_sql "SELECT count(*) FROM reservation")" = 2 ]
}

@test "reserve: all or nothing; a short line holds nothing for the others (1)" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 1
	before=$(dump_store)
	run -1 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:3 TEE-BLK-M:2)
	check_inv
	[ -z "$output" ]
	inv_one_error "reserve ord_1: insufficient stock for TEE-BLK-M (want 2, available 1)"
	[ "$(stock MUG-01 main)" = "10 0 1" ]
	[ "$(inv_sql "SELECT count(*) FROM reservation")" = 0 ]
	[ "$(dump_store)" = "$before" ]
	# Held stock is not available to another order.
	order ord_2 TEE-BLK-M:1 | shop-inv reserve >/dev/null
	check_inv
	run -1 --separate-stderr shop-inv reserve < <(order ord_3 TEE-BLK-M:1)
	check_inv
	inv_one_error "insufficient stock for TEE-BLK-M (want 1, available 0)"
}

@test "reserve: several short skus are all named in one line" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 1
	before=$(dump_store)
	run -1 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:11 CHG-65W:1 TEE-BLK-M:2 BOOK-C:1)
	check_inv
	[ -z "$output" ]
	inv_one_error "reserve ord_1: insufficient stock for MUG-01 (want 11, available 10), CHG-65W (want 1, available 0), TEE-BLK-M (want 2, available 1), BOOK-C (want 1, available 0)"
	[ "$(dump_store)" = "$before" ]
}

@test "reserve: an unknown sku in a line is 66, nothing held" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -66 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:1 NOPE:1)
	check_inv
	[ -z "$output" ]
	inv_one_error "sku 'NOPE': no such product"
	[ "$(dump_store)" = "$before" ]
}

@test "reserve: qty 0, -1, 1.5, \"3\", null or missing, no lines: 65, nothing held" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	while IFS='|' read -r line msg; do
		run -65 --separate-stderr shop-inv reserve <<<"{\"id\":\"ord_1\",\"lines\":[{\"sku\":\"MUG-01\",\"qty\":1},$line]}"
		check_inv
		[ -z "$output" ]
		inv_one_error "stdin:1: order ord_1: lines[1]: $msg"
	done <<-'EOF'
		{"sku":"MUG-01","qty":0}|field 'qty': 0 is not a quantity (1 or more)
		{"sku":"MUG-01","qty":-1}|field 'qty': -1 is not a quantity (1 or more)
		{"sku":"MUG-01","qty":1.5}|field 'qty': expected an integer
		{"sku":"MUG-01","qty":"3"}|field 'qty'
		{"sku":"MUG-01","qty":null}|field 'qty'
		{"sku":"MUG-01"}|field 'qty': missing
		{"qty":1}|field 'sku': missing
		3|expected {sku, qty}
	EOF
	run -65 --separate-stderr shop-inv reserve <<<'{"id":"ord_1","lines":[]}'
	check_inv
	inv_one_error "order ord_1: no lines"
	run -65 --separate-stderr shop-inv reserve <<<'{"id":"ord_1"}'
	inv_one_error "field 'lines'"
	run -65 --separate-stderr shop-inv reserve <<<'{"lines":[{"sku":"MUG-01","qty":1}]}'
	inv_one_error "field 'id': missing"
	run -65 --separate-stderr shop-inv reserve <<<'{"id":"ord_1","lines":[{"sku":"MUG-01","qty":1}'
	inv_one_error "malformed JSON"
	check_inv
	[ "$(dump_store)" = "$before" ]
}

@test "reserve: one warehouse serves the whole order when it can, highest priority first" {
	inv_setup a:eu:1 b:us:2 c:us:3
	for w in a b c; do
		stock_set MUG-01 $w 10
		stock_set TEE-BLK-M $w 10
	done
	stock_set CHG-65W b 5
	stock_set CHG-65W c 5
	check_inv
	run -0 --separate-stderr shop-inv reserve < <(order o1 MUG-01:2 TEE-BLK-M:1)
	check_inv
	[ "$(jq -c '[.sku, .warehouse, .qty]' <<<"$output" | paste -sd' ')" = '["MUG-01","a",2] ["TEE-BLK-M","a",1]' ]
	# a cannot serve CHG-65W: b serves the whole order, not a + b.
	run -0 --separate-stderr shop-inv reserve < <(order o2 MUG-01:1 CHG-65W:1)
	check_inv
	[ "$(jq -c '[.sku, .warehouse, .qty]' <<<"$output" | paste -sd' ')" = '["CHG-65W","b",1] ["MUG-01","b",1]' ]
	# b now has 4 CHG-65W: 5 come from c, whole.
	run -0 --separate-stderr shop-inv reserve < <(order o3 CHG-65W:5 TEE-BLK-M:10)
	check_inv
	[ "$(jq -c '[.sku, .warehouse, .qty]' <<<"$output" | paste -sd' ')" = '["CHG-65W","c",5] ["TEE-BLK-M","c",10]' ]
}

@test "reserve: the region (--region, record's region, address.region) comes first, then priority" {
	inv_setup a:eu:1 b:us:2 c:us:3
	for w in a b c; do stock_set MUG-01 $w 10; done
	check_inv
	run -0 --separate-stderr shop-inv reserve --region us < <(order o1 MUG-01:2)
	check_inv
	[ "$(jq -c '[.warehouse, .qty]' <<<"$output")" = '["b",2]' ]
	# b has 8 left: 9 come from c, still in the region.
	run -0 --separate-stderr shop-inv reserve <<<'{"id":"o2","region":"us","lines":[{"sku":"MUG-01","qty":9}]}'
	check_inv
	[ "$(jq -c '[.warehouse, .qty]' <<<"$output")" = '["c",9]' ]
	# Neither us warehouse has 9 now: a, outside the region, serves it whole.
	run -0 --separate-stderr shop-inv reserve <<<'{"id":"o3","address":{"region":"us"},"lines":[{"sku":"MUG-01","qty":8}]}'
	check_inv
	[ "$(jq -c '[.warehouse, .qty]' <<<"$output")" = '["b",8]' ]
	run -0 --separate-stderr shop-inv reserve <<<'{"id":"o4","address":{"region":"us"},"lines":[{"sku":"MUG-01","qty":9}]}'
	check_inv
	[ "$(jq -c '[.warehouse, .qty]' <<<"$output")" = '["a",9]' ]
	# An unknown region: priority alone.
	stock_set TEE-BLK-M b 3
	stock_set TEE-BLK-M c 3
	run -0 --separate-stderr shop-inv reserve --region mars < <(order o5 TEE-BLK-M:1)
	check_inv
	[ "$(jq -c '[.warehouse, .qty]' <<<"$output")" = '["b",1]' ]
}

@test "reserve: when no single warehouse can serve the order, the fewest are used" {
	inv_setup a:eu:1 b:us:2 c:us:3
	# a: MUG only; b: MUG and TEE; c: CHG only. Best: b + c, not a + b + c.
	stock_set MUG-01 a 5
	stock_set MUG-01 b 5
	stock_set TEE-BLK-M b 5
	stock_set CHG-65W c 5
	check_inv
	run -0 --separate-stderr shop-inv reserve < <(order o1 MUG-01:2 TEE-BLK-M:2 CHG-65W:2)
	check_inv
	[ "$(jq -c '[.sku, .warehouse, .qty]' <<<"$output" | paste -sd' ')" = \
		'["CHG-65W","c",2] ["MUG-01","b",2] ["TEE-BLK-M","b",2]' ]
	[ "$(jq -r .warehouse <<<"$output" | sort -u | paste -sd' ')" = 'b c' ]
}

@test "reserve: a line larger than any one warehouse's stock is split" {
	inv_setup a:eu:1 b:us:2 c:us:3
	stock_set MUG-01 a 4
	stock_set MUG-01 b 3
	stock_set MUG-01 c 5
	check_inv
	run -0 --separate-stderr shop-inv reserve < <(order o1 MUG-01:10)
	check_inv
	[ "$(jq -c '[.sku, .warehouse, .qty]' <<<"$output" | paste -sd' ')" = \
		'["MUG-01","a",4] ["MUG-01","b",3] ["MUG-01","c",3]' ]
	[ "$(jq -r .id <<<"$output" | sort -u | grep -cE "$RES_RE")" = 3 ]
	[ "$(held MUG-01 a) $(held MUG-01 b) $(held MUG-01 c)" = "4 3 3" ]
	# The total counts: one more than what is left is refused.
	run -1 --separate-stderr shop-inv reserve < <(order o2 MUG-01:3)
	check_inv
	inv_one_error "insufficient stock for MUG-01 (want 3, available 2)"
	# Commit and release handle every part.
	run -0 --separate-stderr shop-inv commit --order o1
	check_inv
	[ "$(stock MUG-01 a | cut -d' ' -f1-2) $(stock MUG-01 b | cut -d' ' -f1-2) $(stock MUG-01 c | cut -d' ' -f1-2)" = "0 0 0 0 2 0" ]
	run -0 --separate-stderr shop-inv release --order o1
	check_inv
	[ "$(stock MUG-01 a | cut -d' ' -f1-2) $(stock MUG-01 b | cut -d' ' -f1-2) $(stock MUG-01 c | cut -d' ' -f1-2)" = "4 0 3 0 5 0" ]
}

@test "commit: held -> committed, on hand and reserved both down; idempotent" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 5
	first=$(order ord_1 MUG-01:3 TEE-BLK-M:1 | shop-inv reserve)
	check_inv
	SHOP_NOW=2026-11-29T12:05:00Z run -0 --separate-stderr shop-inv commit --order ord_1
	check_inv
	[ -z "$stderr" ]
	[ "$(jq -c '[.sku, .qty, .state, .updated_at]' <<<"$output" | paste -sd' ')" = \
		'["MUG-01",3,"committed","2026-11-29T12:05:00Z"] ["TEE-BLK-M",1,"committed","2026-11-29T12:05:00Z"]' ]
	[ "$(jq -r .id <<<"$output")" = "$(jq -r .id <<<"$first")" ]
	[ "$(stock MUG-01 main)" = "7 0 3" ]
	[ "$(stock TEE-BLK-M main)" = "4 0 3" ]
	committed=$output
	before=$(dump_store)
	SHOP_NOW=2026-11-29T13:00:00Z run -0 --separate-stderr shop-inv commit --order ord_1
	check_inv
	[ "$output" = "$committed" ]
	[ "$(dump_store)" = "$before" ]
	# Reserving the committed order again changes nothing either.
	run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:3)
	check_inv
	[ "$output" = "$committed" ]
	[ "$(dump_store)" = "$before" ]
}

@test "commit: an order without reservations is 66; empty stdin does nothing" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -66 --separate-stderr shop-inv commit --order nope
	check_inv
	[ -z "$output" ]
	inv_one_error "commit nope: the order has no reservations"
	# No --order: records on stdin, here none (a TTY would be 64).
	run -0 --separate-stderr shop-inv commit </dev/null
	check_inv
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(dump_store)" = "$before" ]
}

@test "commit after the hold expired: 1 and nothing changed" {
	stock_set MUG-01 main 10
	order ord_1 MUG-01:3 | shop-inv reserve >/dev/null
	check_inv
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:16:00Z run -1 --separate-stderr shop-inv commit --order ord_1
	check_inv
	[ -z "$output" ]
	inv_one_error "commit ord_1: the hold on MUG-01 in main expired at 2026-11-29T12:15:00Z"
	# At expires_at exactly the hold is gone too.
	SHOP_NOW=2026-11-29T12:15:00Z run -1 --separate-stderr shop-inv commit --order ord_1
	check_inv
	inv_one_error "expired"
	[ "$(dump_store)" = "$before" ]
	# After expire ran: nothing is held, still refused.
	SHOP_NOW=2026-11-29T12:16:00Z shop-inv expire >/dev/null
	check_inv
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:17:00Z run -1 --separate-stderr shop-inv commit --order ord_1
	check_inv
	inv_one_error "nothing is held"
	[ "$(dump_store)" = "$before" ]
	# Just before expiry, commit works.
	order ord_2 MUG-01:2 | shop-inv reserve >/dev/null
	SHOP_NOW=2026-11-29T12:14:59Z run -0 --separate-stderr shop-inv commit --order ord_2
	check_inv
	[ "$(jq -r .state <<<"$output")" = committed ]
}

@test "release: held -> released, reserved back; idempotent" {
	stock_set MUG-01 main 10
	order ord_1 MUG-01:3 | shop-inv reserve >/dev/null
	check_inv
	run -0 --separate-stderr shop-inv release --order ord_1
	check_inv
	[ -z "$stderr" ]
	[ "$(jq -c '[.order_id, .sku, .qty, .state]' <<<"$output")" = '["ord_1","MUG-01",3,"released"]' ]
	[ "$(stock MUG-01 main)" = "10 0 3" ]
	released=$output
	before=$(dump_store)
	run -0 --separate-stderr shop-inv release --order ord_1
	check_inv
	[ "$output" = "$released" ]
	[ "$(dump_store)" = "$before" ]
	[ "$(inv_sql "SELECT on_hand_delta || ' ' || reserved_delta || ' ' || reason || ' ' || actor FROM ledger WHERE reason = 'release'")" = "0 -3 release ord_1" ]
	# A released order cannot be committed.
	run -1 --separate-stderr shop-inv commit --order ord_1
	check_inv
	inv_one_error "nothing is held"
	[ "$(dump_store)" = "$before" ]
}

@test "release after commit: the stock comes back on hand through the ledger" {
	stock_set MUG-01 main 10
	order ord_1 MUG-01:3 | shop-inv reserve >/dev/null
	check_inv
	shop-inv commit --order ord_1 >/dev/null
	check_inv
	[ "$(stock MUG-01 main)" = "7 0 3" ]
	run -0 --separate-stderr shop-inv release --order ord_1
	check_inv
	[ "$(jq -c '[.sku, .qty, .state]' <<<"$output")" = '["MUG-01",3,"released"]' ]
	[ "$(stock MUG-01 main)" = "10 0 4" ]
	[ "$(inv_sql "SELECT on_hand_delta || ' ' || reserved_delta || ' ' || actor FROM ledger WHERE reason = 'release'")" = "3 0 ord_1" ]
	before=$(dump_store)
	run -0 --separate-stderr shop-inv release --order ord_1
	check_inv
	[ "$(dump_store)" = "$before" ]
	[ "$(inv_sql "SELECT count(*) FROM ledger WHERE reason = 'release'")" = 1 ]
}

@test "release of an unknown order: 0, no output" {
	before=$(dump_store)
	run -0 --separate-stderr shop-inv release --order nope
	check_inv
	[ -z "$output" ]
	[ -z "$stderr" ]
	[ "$(dump_store)" = "$before" ]
}

@test "expire: held past expires_at -> expired, reserved back, printed; once" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 5
	order ord_1 MUG-01:3 TEE-BLK-M:1 | shop-inv reserve >/dev/null
	order ord_2 MUG-01:2 | shop-inv reserve >/dev/null
	order ord_3 MUG-01:1 | shop-inv reserve >/dev/null
	shop-inv commit --order ord_3 >/dev/null
	check_inv
	# Not yet due: nothing.
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:14:59Z run -0 --separate-stderr shop-inv expire
	check_inv
	[ -z "$output" ]
	[ "$(dump_store)" = "$before" ]
	# ord_4 is reserved later: not due at 12:16.
	SHOP_NOW=2026-11-29T12:10:00Z shop-inv reserve < <(order ord_4 MUG-01:1) >/dev/null
	check_inv
	SHOP_NOW=2026-11-29T12:16:00Z run -0 --separate-stderr shop-inv expire
	check_inv
	[ -z "$stderr" ]
	[ "$(jq -c '[.order_id, .sku, .qty, .state, .updated_at]' <<<"$output" | paste -sd' ')" = \
		'["ord_1","MUG-01",3,"expired","2026-11-29T12:16:00Z"] ["ord_1","TEE-BLK-M",1,"expired","2026-11-29T12:16:00Z"] ["ord_2","MUG-01",2,"expired","2026-11-29T12:16:00Z"]' ]
	jq -r .id <<<"$output" | grep -qE "$RES_RE"
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "9 1" ]
	[ "$(stock TEE-BLK-M main | cut -d' ' -f1-2)" = "5 0" ]
	[ "$(inv_sql "SELECT order_id || ':' || state FROM reservation ORDER BY order_id, sku" | paste -sd' ')" = \
		'ord_1:expired ord_1:expired ord_2:expired ord_3:committed ord_4:held' ]
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:16:00Z run -0 --separate-stderr shop-inv expire
	check_inv
	[ -z "$output" ]
	[ "$(dump_store)" = "$before" ]
	# Releasing an expired order changes nothing.
	SHOP_NOW=2026-11-29T12:17:00Z run -0 --separate-stderr shop-inv release --order ord_1
	check_inv
	[ "$(jq -r .state <<<"$output" | paste -sd' ')" = 'expired expired' ]
	[ "$(dump_store)" = "$before" ]
	[ "$(inv_sql "SELECT count(*) FROM ledger WHERE reason = 'expire'")" = 3 ]
	[ "$(inv_sql "SELECT subject FROM outbox WHERE type = 'inventory.expired' ORDER BY seq" | paste -sd' ')" = 'ord_1 ord_2' ]
}

@test "expire: two at once expire each reservation exactly once" {
	for sku in MUG-01 MUG-02 TEE-BLK-M TEE-BLK-L CHG-65W; do stock_set "$sku" main 50; done
	n=0
	for i in $(seq 1 20); do
		order "ord_$i" MUG-01:1 MUG-02:1 TEE-BLK-M:2 TEE-BLK-L:1 CHG-65W:1 >>orders.jsonl
		n=$((n + 5))
	done
	shop-inv reserve <orders.jsonl >/dev/null
	check_inv
	[ "$(inv_sql "SELECT count(*) FROM reservation WHERE state = 'held'")" = "$n" ]
	export SHOP_NOW=2026-11-29T12:16:00Z
	shop-inv expire >e1.out 2>e1.err &
	p1=$!
	shop-inv expire >e2.out 2>e2.err &
	p2=$!
	rc1=0 rc2=0
	wait "$p1" || rc1=$?
	wait "$p2" || rc2=$?
	check_inv
	[ "$rc1 $rc2" = "0 0" ]
	[ ! -s e1.err ] && [ ! -s e2.err ]
	[ "$(cat e1.out e2.out | grep -c .)" = "$n" ]
	[ "$(cat e1.out e2.out | jq -r .id | sort -u | grep -c .)" = "$n" ]
	[ "$(inv_sql "SELECT count(*) FROM ledger WHERE reason = 'expire'")" = "$n" ]
	[ "$(inv_sql "SELECT count(*) FROM reservation WHERE state = 'expired'")" = "$n" ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE type = 'inventory.expired'")" = 20 ]
	[ "$(inv_sql "SELECT sum(reserved) FROM stock")" = 0 ]
}

@test "outbox: inventory.reserved/.committed/.released/.expired with the order id as subject" {
	stock_set MUG-01 main 10
	base=$(inv_sql "SELECT max(seq) FROM outbox")
	order ord_1 MUG-01:2 | shop-inv reserve >/dev/null
	check_inv
	order ord_1 MUG-01:2 | shop-inv reserve >/dev/null # idempotent: no event
	shop-inv commit --order ord_1 >/dev/null
	check_inv
	shop-inv commit --order ord_1 >/dev/null # idempotent: no event
	shop-inv release --order ord_1 >/dev/null
	check_inv
	shop-inv release --order ord_1 >/dev/null # idempotent: no event
	order ord_2 MUG-01:1 | shop-inv reserve >/dev/null
	check_inv
	SHOP_NOW=2026-11-29T12:20:00Z shop-inv expire >/dev/null
	check_inv
	run -0 --separate-stderr inv_sql "SELECT type || ' ' || subject FROM outbox WHERE seq > $base ORDER BY seq"
	[ "$(paste -sd'|' <<<"$output")" = \
		'inventory.reserved ord_1|inventory.committed ord_1|inventory.released ord_1|inventory.reserved ord_2|inventory.expired ord_2' ]
	# The data: the order and its reservations as they are after the change.
	d=$(inv_sql "SELECT data FROM outbox WHERE type = 'inventory.committed'")
	[ "$(jq -c '[.order_id, (.reservations | map([.sku, .qty, .state]))]' <<<"$d")" = '["ord_1",[["MUG-01",2,"committed"]]]' ]
	d=$(inv_sql "SELECT data FROM outbox WHERE type = 'inventory.expired'")
	[ "$(jq -c '[.order_id, (.reservations | map([.sku, .qty, .state]))]' <<<"$d")" = '["ord_2",[["MUG-01",1,"expired"]]]' ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE id LIKE 'evt\_%' ESCAPE '\'")" = "$(inv_sql "SELECT count(*) FROM outbox")" ]
}

@test "reservation records on stdin: | shop-inv commit and | shop-inv release (repeats once)" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 5
	order ord_1 MUG-01:3 TEE-BLK-M:1 | shop-inv reserve >/dev/null
	order ord_2 MUG-01:1 | shop-inv reserve >/dev/null
	check_inv
	run -0 --separate-stderr bash -c 'shop-inv reserve --order ord_1 </dev/null | shop-inv commit'
	check_inv
	[ -z "$stderr" ]
	[ "$(jq -c '[.order_id, .sku, .state]' <<<"$output" | paste -sd' ')" = \
		'["ord_1","MUG-01","committed"] ["ord_1","TEE-BLK-M","committed"]' ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE type = 'inventory.committed'")" = 1 ]
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "7 1" ]
	# Two orders' records: each once.
	run -0 --separate-stderr bash -c '{ shop-inv reserve --order ord_1 </dev/null; shop-inv reserve --order ord_2 </dev/null; } | shop-inv release'
	check_inv
	[ "$(jq -c '[.order_id, .sku, .state]' <<<"$output" | paste -sd' ')" = \
		'["ord_1","MUG-01","released"] ["ord_1","TEE-BLK-M","released"] ["ord_2","MUG-01","released"]' ]
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "10 0" ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE type = 'inventory.released'")" = 2 ]
	# A record without order_id or id is bad data.
	run -65 --separate-stderr shop-inv commit <<<'{"sku":"MUG-01"}'
	inv_one_error "field 'order_id' (or 'id'): missing"
	check_inv
}

@test "reserve again after the holds expired or were released: new holds, new ids" {
	stock_set MUG-01 main 10
	old=$(order ord_1 MUG-01:3 | shop-inv reserve | jq -r .id)
	check_inv
	SHOP_NOW=2026-11-29T12:16:00Z shop-inv expire >/dev/null
	check_inv
	SHOP_NOW=2026-11-29T12:20:00Z run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:4)
	check_inv
	[ "$(grep -c . <<<"$output")" = 1 ]
	new=$(jq -r .id <<<"$output")
	[[ $new =~ $RES_RE ]] && [ "$new" != "$old" ]
	[ "$(jq -c '[.qty, .state, .expires_at]' <<<"$output")" = '[4,"held","2026-11-29T12:35:00Z"]' ]
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "10 4" ]
	# Now held again: a repeat is a no-op.
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:21:00Z run -0 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:4)
	check_inv
	[ "$(jq -r .id <<<"$output")" = "$new" ]
	[ "$(dump_store)" = "$before" ]
	# The order can be committed: the new hold goes, the expired one stays.
	SHOP_NOW=2026-11-29T12:22:00Z run -0 --separate-stderr shop-inv commit --order ord_1
	check_inv
	[ "$(jq -r '.id + " " + .state' <<<"$output" | sort | paste -sd,)" = \
		"$(printf '%s\n' "$old expired" "$new committed" | sort | paste -sd,)" ]
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "6 0" ]
	# Released: reserving again holds anew too.
	order ord_2 MUG-01:2 | shop-inv reserve >/dev/null
	shop-inv release --order ord_2 >/dev/null
	check_inv
	run -0 --separate-stderr shop-inv reserve < <(order ord_2 MUG-01:2)
	check_inv
	[ "$(jq -r .state <<<"$output")" = held ]
	[ "$(inv_sql "SELECT count(*) FROM reservation WHERE order_id = 'ord_2'")" = 2 ]
}

@test "reserve: an archived product is refused (1), nothing held" {
	stock_set OLD-LAMP main 5
	stock_set MUG-01 main 5
	before=$(dump_store)
	run -1 --separate-stderr shop-inv reserve < <(order ord_1 MUG-01:1 OLD-LAMP:1)
	check_inv
	[ -z "$output" ]
	inv_one_error "reserve ord_1: OLD-LAMP is archived (not for sale)"
	[ "$(dump_store)" = "$before" ]
}

@test "reserve: several orders on stdin; a refused one does not stop the others" {
	stock_set MUG-01 main 5
	{
		order ord_1 MUG-01:2
		order ord_2 MUG-01:9
		order ord_3 MUG-01:3
	} >orders.jsonl
	run -1 --separate-stderr shop-inv reserve <orders.jsonl
	check_inv
	[ "$(jq -c '[.order_id, .qty]' <<<"$output" | paste -sd' ')" = '["ord_1",2] ["ord_3",3]' ]
	inv_one_error "reserve ord_2: insufficient stock for MUG-01 (want 9, available 3)"
	[ "$(stock MUG-01 main | cut -d' ' -f1-2)" = "5 5" ]
}

@test "reserve, commit, release, expire: stock is conserved" {
	inv_setup a:eu:1 b:us:2
	stock_set MUG-01 a 6
	stock_set MUG-01 b 6
	for i in 1 2 3 4; do
		order "ord_$i" MUG-01:3 | shop-inv reserve >/dev/null
		check_inv
	done
	shop-inv commit --order ord_1 >/dev/null
	check_inv
	shop-inv release --order ord_2 >/dev/null
	check_inv
	shop-inv commit --order ord_3 >/dev/null
	check_inv
	shop-inv release --order ord_3 >/dev/null
	check_inv
	SHOP_NOW=2026-11-29T12:30:00Z shop-inv expire >/dev/null
	check_inv
	# 12 units; ord_1 shipped 3; everything else is back.
	[ "$(inv_sql "SELECT sum(on_hand) || ' ' || sum(reserved) FROM stock")" = "9 0" ]
	[ "$(inv_sql "SELECT sum(on_hand_delta) FROM ledger WHERE reason <> 'set'")" = "-3" ]
}
