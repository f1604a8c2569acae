#!/usr/bin/env bats
# A change and its outbox event are one transaction: a process killed at
# any instant leaves both or neither. Checkouts are killed with SIGKILL
# after random short delays, again and again; afterwards every order has
# exactly one order.created event and every such event its order, the
# carts point at orders that exist, and the store is intact.
load helpers/common
load helpers/cart

setup() {
	common_setup
	cart_setup
}

@test "checkout killed at random instants: orders and their events stay together" {
	adr=$(shop-cart address add alice --name A --line1 'l 1' --city c --region NY --postal 1 --country US | jq -r .id)
	[ -n "$adr" ]
	for i in $(seq 40); do
		shop-cart add "c$i" MUG-01 2 >/dev/null
		shop-cart add "c$i" BOOK-C >/dev/null
	done
	killed=0
	for i in $(seq 40); do
		shop-cart checkout "c$i" --customer alice --address "$adr" --payment pm_card_visa >/dev/null 2>&1 &
		pid=$!
		# 0 to 9 ms: before, during or after the transaction.
		sleep "0.00$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" 2>/dev/null || true
	done
	echo "# killed $killed of 40 checkouts" >&3
	check_integrity
	orders=$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders")
	events=$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox WHERE type = 'order.created'")
	[ "$orders" = "$events" ]
	# Each event names an order that exists, once.
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox e LEFT JOIN orders o ON o.id = e.subject
		WHERE e.type = 'order.created' AND o.id IS NULL")" = 0 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(DISTINCT subject) FROM outbox WHERE type = 'order.created'")" = "$orders" ]
	# A cart points at an order only when that order exists, and each order
	# at most one cart.
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM cart c LEFT JOIN orders o ON o.id = c.order_id
		WHERE c.order_id IS NOT NULL AND o.id IS NULL")" = 0 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM cart WHERE order_id IS NOT NULL")" = "$orders" ]
	# Every cart can be checked out now (a retry finishes what a kill cut).
	for i in $(seq 40); do
		run -0 --separate-stderr shop-cart checkout "c$i" --customer alice --address "$adr" --payment pm_card_visa
	done
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders")" = 40 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox WHERE type = 'order.created'")" = 40 ]
	check_integrity
}
