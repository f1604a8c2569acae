#!/usr/bin/env bats
# shop-order show, list, confirm, cancel, set-status: the status machine,
# promotion uses counted at confirm, the row, its doc and its event in one
# transaction.
load helpers/common
load helpers/order
load helpers/inv

setup() {
	common_setup
	order_store
}

@test "confirm: pending -> confirmed; row, doc and event agree" {
	make_order ord_1 alice pending
	SHOP_NOW=2026-11-29T12:05:00Z run -0 --separate-stderr shop-order confirm ord_1
	check_orders
	[ -z "$stderr" ]
	[ "$(jq -c 'keys_unsorted' <<<"$output")" = '["kind","id","customer","cart_id","status","currency","address","payment_method","lines","promotions","subtotal","discount","shipping","tax","total","reason","created_at","updated_at"]' ]
	[ "$(jq -c '[.kind, .id, .status, .reason, .created_at, .updated_at]' <<<"$output")" = \
		'["order","ord_1","confirmed",null,"2026-11-29T12:00:00Z","2026-11-29T12:05:00Z"]' ]
	[ "$(status_of ord_1)" = "confirmed confirmed" ]
	[ "$(order_sql "SELECT updated_at FROM orders WHERE id = 'ord_1'")" = 2026-11-29T12:05:00Z ]
	[ "$(order_sql "SELECT type || ' ' || subject || ' ' || at || ' ' || data FROM outbox")" = \
		'order.confirmed ord_1 2026-11-29T12:05:00Z {"order_id":"ord_1","from":"pending","to":"confirmed","reason":null}' ]
	# show prints what the store holds.
	run -0 --separate-stderr shop-order show ord_1
	[ "$(jq -c . <<<"$output")" = "$(order_sql "SELECT doc FROM orders WHERE id = 'ord_1'")" ]
}

@test "set-status: every legal transition, with its event" {
	local pairs="pending:confirmed confirmed:fulfilling fulfilling:shipped shipped:delivered pending:cancelled
	             confirmed:cancelled delivered:returned delivered:partially_returned
	             partially_returned:returned"
	local n=0 p from to
	for p in $pairs; do
		from=${p%%:*} to=${p#*:}
		n=$((n + 1))
		make_order "ord_$n" alice "$from"
		run -0 --separate-stderr shop-order set-status "ord_$n" "$to" --reason "step $n"
		check_orders
		[ -z "$stderr" ]
		[ "$(jq -r '.status + " " + .reason' <<<"$output")" = "$to step $n" ]
		[ "$(status_of "ord_$n")" = "$to $to" ]
		[ "$(order_sql "SELECT reason FROM orders WHERE id = 'ord_$n'")" = "step $n" ]
		[ "$(events_of "ord_$n")" = "order.$to $from>$to step $n" ]
	done
	[ "$(order_sql "SELECT count(*) FROM outbox")" = 9 ]
}

@test "a walk from pending to delivered and returned" {
	make_order ord_1 alice pending
	for to in confirmed fulfilling shipped delivered returned; do
		run -0 --separate-stderr shop-order set-status ord_1 "$to"
		check_orders
	done
	[ "$(events_of ord_1 | paste -sd' ')" = \
		"order.confirmed pending>confirmed - order.fulfilling confirmed>fulfilling - order.shipped fulfilling>shipped - order.delivered shipped>delivered - order.returned delivered>returned -" ]
}

@test "illegal changes: exit 1 naming from and to, nothing changed" {
	local pairs="pending:fulfilling pending:shipped pending:delivered pending:returned confirmed:pending
	             confirmed:shipped fulfilling:confirmed fulfilling:cancelled shipped:cancelled shipped:returned
	             delivered:cancelled delivered:shipped cancelled:pending cancelled:confirmed returned:delivered
	             returned:partially_returned partially_returned:delivered partially_returned:cancelled"
	local n=0 p from to
	for p in $pairs; do
		from=${p%%:*} to=${p#*:}
		n=$((n + 1))
		make_order "ord_$n" alice "$from"
	done
	before=$(dump_store)
	n=0
	for p in $pairs; do
		from=${p%%:*} to=${p#*:}
		n=$((n + 1))
		run -1 --separate-stderr shop-order set-status "ord_$n" "$to" --reason nope
		[ -z "$output" ]
		order_one_error "order ord_$n: cannot go from $from to $to"
	done
	[ "$(dump_store)" = "$before" ]
	# confirm and cancel are the same machine.
	make_order ord_c alice cancelled
	before=$(dump_store)
	run -1 --separate-stderr shop-order confirm ord_c
	order_one_error "order ord_c: cannot go from cancelled to confirmed"
	make_order ord_s alice shipped
	before=$(dump_store)
	run -1 --separate-stderr shop-order cancel ord_s --reason late
	[ -z "$output" ]
	order_one_error "order ord_s: cannot go from shipped to cancelled"
	[ "$(dump_store)" = "$before" ]
	check_orders
	[ "$(order_sql "SELECT count(*) FROM outbox")" = 0 ]
}

@test "set-status and confirm are idempotent: the status it has is a no-op" {
	make_order ord_1 alice pending P10
	run -0 --separate-stderr shop-order confirm ord_1
	first=$output
	before=$(dump_store)
	SHOP_NOW=2026-11-29T13:00:00Z run -0 --separate-stderr shop-order confirm ord_1
	[ "$output" = "$first" ]
	SHOP_NOW=2026-11-29T13:00:00Z run -0 --separate-stderr shop-order set-status ord_1 confirmed --reason again
	[ -z "$stderr" ]
	[ "$output" = "$first" ]
	[ "$(dump_store)" = "$before" ]
	[ "$(uses P10)" = 1 ]
	[ "$(order_sql "SELECT count(*) FROM outbox")" = 1 ]
	check_orders
}

@test "confirm counts each promotion's use, once per order" {
	make_promo P10 5
	make_order ord_1 alice pending P10 SHIP P10
	run -0 --separate-stderr shop-order confirm ord_1
	check_orders
	[ -z "$stderr" ]
	[ "$(uses P10)" = 1 ]
	[ "$(uses SHIP)" = 1 ]
	[ "$(order_sql "SELECT code || ' ' || order_id || ' ' || customer || ' ' || at FROM promotion_use ORDER BY code")" = \
		"P10 ord_1 alice 2026-11-29T12:00:00Z
SHIP ord_1 alice 2026-11-29T12:00:00Z" ]
	make_order ord_2 bob pending P10
	run -0 --separate-stderr shop-order confirm ord_2
	[ "$(uses P10)" = 2 ]
	# Cancelling a confirmed order keeps its uses counted.
	run -0 --separate-stderr shop-order cancel ord_2
	[ "$(uses P10)" = 2 ]
	check_orders
}

@test "confirm: a used-up promotion refuses the order and rolls back everything" {
	make_promo ONCE 1 "" 1
	make_promo OK 10
	make_order ord_1 alice pending OK ONCE
	before=$(dump_store)
	run -1 --separate-stderr shop-order confirm ord_1
	[ -z "$output" ]
	order_one_error "order ord_1: promotion ONCE is used up"
	[ "$(dump_store)" = "$before" ]
	[ "$(uses OK)" = 0 ]
	[ "$(status_of ord_1)" = "pending pending" ]
	check_orders
}

@test "confirm: a promotion removed since checkout refuses the order (1)" {
	make_order ord_1 alice pending GONE
	order_sql "DELETE FROM promotion WHERE code = 'GONE'"
	before=$(dump_store)
	run -1 --separate-stderr shop-order confirm ord_1
	order_one_error "order ord_1: promotion GONE is no longer in the store"
	[ "$(dump_store)" = "$before" ]
}

@test "confirm: max_uses raced by two processes for the last use: one wins" {
	local round
	for round in 1 2 3 4 5; do
		make_promo "LAST$round" 3 "" 2
		make_order "ord_a$round" alice pending "LAST$round"
		make_order "ord_b$round" bob pending "LAST$round"
		shop-order confirm "ord_a$round" >"a$round.out" 2>"a$round.err" &
		pa=$!
		shop-order confirm "ord_b$round" >"b$round.out" 2>"b$round.err" &
		pb=$!
		ra=0 rb=0
		wait "$pa" || ra=$?
		wait "$pb" || rb=$?
		echo "round $round: a=$ra b=$rb"
		[ "$((ra + rb))" = 1 ] && { [ "$ra" = 0 ] || [ "$ra" = 1 ]; }
		[ "$(uses "LAST$round")" = 3 ]
		[ "$(order_sql "SELECT count(*) FROM orders WHERE id IN ('ord_a$round', 'ord_b$round') AND status = 'confirmed'")" = 1 ]
		[ "$(order_sql "SELECT count(*) FROM promotion_use WHERE code = 'LAST$round'")" = 1 ]
		loser=b
		[ "$ra" = 1 ] && loser=a
		grep -q "promotion LAST$round is used up" "$loser$round.err"
		[ ! -s "$loser$round.out" ]
		[ "$(order_sql "SELECT count(*) FROM outbox WHERE subject = 'ord_$loser$round'")" = 0 ]
	done
	check_orders
}

@test "confirm: the per-customer limit" {
	make_promo WELCOME "" 1
	make_order ord_1 alice pending WELCOME
	make_order ord_2 alice pending WELCOME
	make_order ord_3 bob pending WELCOME
	run -0 --separate-stderr shop-order confirm ord_1
	before=$(dump_store)
	run -1 --separate-stderr shop-order confirm ord_2
	order_one_error "order ord_2: promotion WELCOME is used up for customer alice (1 of 1 uses each)"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr shop-order confirm ord_3
	[ "$(uses WELCOME)" = 2 ]
	[ "$(order_sql "SELECT group_concat(customer, ' ') FROM (SELECT customer FROM promotion_use ORDER BY customer)")" = "alice bob" ]
	check_orders
}

@test "cancel: the reason in the row, the doc and the event" {
	make_order ord_1 alice pending
	SHOP_NOW=2026-11-29T12:30:00Z run -0 --separate-stderr shop-order cancel ord_1 --reason "customer asked"
	check_orders
	[ -z "$stderr" ]
	# No reservations: only the order is printed.
	[ "$(jq -c '[.kind, .status, .reason, .updated_at]' <<<"$output")" = '["order","cancelled","customer asked","2026-11-29T12:30:00Z"]' ]
	[ "$(order_sql "SELECT status || '|' || reason FROM orders")" = "cancelled|customer asked" ]
	[ "$(events_of ord_1)" = "order.cancelled pending>cancelled customer asked" ]
	# A second cancel is a no-op: the first reason stays.
	before=$(dump_store)
	run -0 --separate-stderr shop-order cancel ord_1 --reason other
	[ "$(jq -r .reason <<<"$output")" = "customer asked" ]
	[ "$(dump_store)" = "$before" ]
	# Without --reason the reason is null.
	make_order ord_2 alice confirmed
	run -0 --separate-stderr shop-order cancel ord_2
	[ "$(jq -c '[.status, .reason]' <<<"$output")" = '["cancelled",null]' ]
	[ "$(events_of ord_2)" = "order.cancelled confirmed>cancelled -" ]
	check_orders
}

@test "cancel: releases the order's stock, after the status change" {
	inv_setup
	make_order ord_1 alice pending
	stock_set MUG-01 main 10
	order ord_1 MUG-01:3 | shop-inv reserve >/dev/null
	[ "$(stock MUG-01 main)" = "10 3 2" ]
	run -0 --separate-stderr shop-order cancel ord_1 --reason "out of time"
	check_inv
	check_orders
	[ -z "$stderr" ]
	[ "$(jq -c '[.kind, .status // .state]' <<<"$output" | paste -sd' ')" = '["order","cancelled"] ["reservation","released"]' ]
	[ "$(stock MUG-01 main)" = "10 0 3" ]
	[ "$(order_sql "SELECT type FROM outbox WHERE subject = 'ord_1' ORDER BY seq" | paste -sd' ')" = \
		"inventory.reserved order.cancelled inventory.released" ]
	# Committed stock comes back on hand too; a second cancel changes nothing.
	make_order ord_2 bob confirmed
	order ord_2 MUG-01:4 | shop-inv reserve | shop-inv commit >/dev/null
	[ "$(stock MUG-01 main)" = "6 0 5" ]
	run -0 --separate-stderr shop-order cancel ord_2
	check_inv
	[ "$(stock MUG-01 main)" = "10 0 6" ]
	before=$(dump_store)
	run -0 --separate-stderr shop-order cancel ord_2
	[ "$(jq -c '[.kind, .status // .state]' <<<"$output" | paste -sd' ')" = '["order","cancelled"] ["reservation","released"]' ]
	[ "$(dump_store)" = "$before" ]
}

@test "show: several ids, records on stdin; unknown ones are 66 and the rest go on" {
	make_order ord_1 alice pending
	make_order ord_2 bob confirmed
	run -66 --separate-stderr shop-order show ord_1 nope ord_2
	[ "$(jq -r .id <<<"$output" | paste -sd' ')" = "ord_1 ord_2" ]
	order_one_error "order nope: no such order"
	run -0 --separate-stderr bash -c 'printf "%s\n" "{\"order_id\":\"ord_2\"}" "{\"id\":\"ord_1\"}" | shop-order show'
	[ "$(jq -r .id <<<"$output" | paste -sd' ')" = "ord_2 ord_1" ]
	run -65 --separate-stderr bash -c 'echo "{\"sku\":\"x\"}" | shop-order show'
	order_one_error "stdin:1: field 'order_id' (or 'id'): missing"
}

@test "list: newest first; status, customer, since, older, where, limit" {
	ORDER_AT=2026-11-29T09:00:00Z make_order ord_1 alice pending
	ORDER_AT=2026-11-29T10:00:00Z make_order ord_2 bob confirmed
	ORDER_AT=2026-11-29T11:00:00Z make_order ord_3 alice pending
	ORDER_AT=2026-11-29T11:50:00Z make_order ord_4 carol pending
	ids() { jq -r .id <<<"$output" | paste -sd' '; }
	run -0 --separate-stderr shop-order list
	[ "$(ids)" = "ord_4 ord_3 ord_2 ord_1" ]
	run -0 --separate-stderr shop-order list --status pending
	[ "$(ids)" = "ord_4 ord_3 ord_1" ]
	run -0 --separate-stderr shop-order list --customer alice
	[ "$(ids)" = "ord_3 ord_1" ]
	run -0 --separate-stderr shop-order list --since 2026-11-29T10:00:00Z
	[ "$(ids)" = "ord_4 ord_3 ord_2" ]
	run -0 --separate-stderr shop-order list --since 2026-11-29T06:00:00-05:00
	[ "$(ids)" = "ord_4 ord_3" ]
	# Stuck: not changed for 30 minutes (now is 12:00).
	run -0 --separate-stderr shop-order list --status pending --older 30m
	[ "$(ids)" = "ord_3 ord_1" ]
	run -0 --separate-stderr shop-order list --older 2h
	[ "$(ids)" = "ord_2 ord_1" ]
	run -0 --separate-stderr shop-order list --where '.customer != "alice"'
	[ "$(ids)" = "ord_4 ord_2" ]
	run -0 --separate-stderr shop-order list --limit 2
	[ "$(ids)" = "ord_4 ord_3" ]
	run -0 --separate-stderr shop-order list --where '.status == "pending"' -n 1
	[ "$(ids)" = "ord_4" ]
	run -0 --separate-stderr shop-order list --status delivered
	[ -z "$output" ]
	run -0 --separate-stderr shop-order --table list --customer alice
	[ "$(head -1 <<<"$output" | tr -s ' ')" = "ID CUSTOMER STATUS TOTAL CURRENCY REASON CREATED_AT UPDATED_AT" ]
	# Stuck orders pipe into the next command.
	run -0 --separate-stderr bash -c 'shop-order list --status pending --older 30m | shop-order cancel --reason stuck'
	[ "$(jq -r '.id + " " + .status' <<<"$output" | paste -sd' ')" = "ord_3 cancelled ord_1 cancelled" ]
	check_orders
}

@test "bad input: unknown order 66, bad status 64, bad flags 64; nothing changes" {
	make_order ord_1 alice pending
	before=$(dump_store)
	for c in "show nope" "confirm nope" "cancel nope" "set-status nope shipped" "trace nope"; do
		run -66 --separate-stderr shop-order $c
		[ -z "$output" ]
		order_one_error "order nope: no such order"
	done
	run -64 --separate-stderr shop-order set-status ord_1 sent
	order_one_error "set-status: 'sent' is not a status"
	run -64 --separate-stderr shop-order set-status ord_1 PENDING
	run -64 --separate-stderr shop-order list --status sent
	order_one_error "status 'sent' is not one of pending, confirmed"
	run -64 --separate-stderr shop-order list --older junk
	order_one_error "--older: 'junk' is not a duration"
	run -64 --separate-stderr shop-order list --older 0s
	run -64 --separate-stderr shop-order list --since yesterday
	order_one_error "--since: 'yesterday' is not an RFC 3339 time"
	run -64 --separate-stderr shop-order list --limit -1
	run -64 --separate-stderr shop-order list --where '.status =='
	run -64 --separate-stderr shop-order cancel ord_1 --reason ""
	run -64 --separate-stderr shop-order set-status
	run -64 --separate-stderr shop-order confirm ord_1 --frobnicate
	run -64 --separate-stderr shop-order ship ord_1
	run -65 --separate-stderr bash -c 'echo "{not json" | shop-order confirm'
	order_one_error "stdin:1: malformed JSON"
	[ "$(dump_store)" = "$before" ]
	check_orders
}
