#!/usr/bin/env bats
# Crash at every point: place-order is killed with SIGKILL just before and
# just after each of its journal writes ($SHOP_TEST_CRASH, shop-saga(1)),
# on the forward path and on the compensation path, then resumed. Every run
# ends completed or compensated; the sandbox shows at most one
# authorization and one capture per order; stock is conserved; the order's
# status agrees with its payment and its reservations.
load helpers/common
load helpers/order
load helpers/pay
load helpers/saga

setup() {
	common_setup
	saga_setup
}

teardown() { check_pay; }

# crash_all OUTCOME PM WRITES: for each write 1..WRITES, before and after,
# a new order paid with PM, killed there, then resumed (twice: the second
# must find it ended). OUTCOME: completed or compensated.
crash_all() {
	local want=$1 pm=$2 writes=$3 n when ord code killed=0 rc
	for n in $(seq "$writes"); do
		for when in before after; do
			ord="ord_${when}_$n"
			make_order "$ord" "c$n" pending
			sqlite3 "$SHOP_DB" "UPDATE orders SET doc = json_set(doc, '\$.payment_method', '$pm') WHERE id = '$ord'"
			rc=0
			SHOP_TEST_CRASH="$when:$n" shop-saga -q run place-order --order "$ord" >/dev/null 2>&1 || rc=$?
			[ "$rc" = 137 ] && killed=$((killed + 1))
			code=0
			[ "$want" = compensated ] && code=1
			run "-$code" --separate-stderr shop-saga -q resume "$ord"
			[ "$(jq -r .state <<<"$output")" = "$want" ] || { echo "$ord: $output"; return 1; }
			run "-$code" --separate-stderr shop-saga -q resume "$ord"
			[ "$(jq -r .state <<<"$output")" = "$want" ]
			check_order_agrees "$ord"
			[ "$(sandbox_count authorization "$ord")" -le 1 ]
			[ "$(sandbox_count capture "$ord")" -le 1 ]
		done
	done
	echo "# $want path: $killed of $((2 * writes)) runs killed at a journal write" >&3
	# The whole path has exactly as many writes as were tried: one more
	# kills nothing.
	[ "$killed" = $((2 * writes)) ]
	SHOP_TEST_CRASH="before:$((writes + 1))" run "-$code" shop-saga -q run place-order --order "ord_${when}_$n" 
}

@test "crash at every journal write of place-order's forward path: resumed, each order placed once" {
	crash_all completed pm_card_visa 16
	local orders=32
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders WHERE status = 'fulfilling'")" = $orders ]
	[ "$(sandbox_count authorization)" = $orders ]
	[ "$(sandbox_count capture)" = $orders ]
	# Stock conserved: every unit taken by exactly one order.
	[ "$(stock_of MUG-01)" = "$((100 - orders)) 0" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM reservation WHERE state = 'committed'")" = $orders ]
	run -0 shop-inv reconcile
	[ "$(shop-saga list --incomplete | wc -l)" = 0 ]
}

@test "crash at every journal write of place-order's compensation path: resumed, each order cancelled, stock back" {
	# start, order, reserve, authorize (declined), compensate, undo
	# authorize, undo reserve, undo order, end: 1 + 3*2 + 1 + 3*2 + 1.
	crash_all compensated pm_card_chargeDeclined 15
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders WHERE status = 'cancelled'")" = 30 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders WHERE status = 'cancelled' AND reason LIKE 'authorize: exit 1:%'")" = 30 ]
	[ "$(sandbox_count authorization)" = 0 ]
	[ "$(stock_of MUG-01)" = "100 0" ]
	run -0 shop-inv reconcile
	[ "$(shop-saga list --incomplete | wc -l)" = 0 ]
}

@test "crash on the compensation path after a hold: the hold is voided once, the stock back" {
	# Declined at capture, not at authorize: a lapsed hold (captured 8 days
	# later), so authorize, commit and confirm are undone.
	local n when ord rc
	for n in 12 13 14 15 16 17 18 19 20 21 22 23 24; do
		for when in before after; do
			ord="ord_l_${when}_$n"
			make_order "$ord" "c$n" pending
			SHOP_TEST_CRASH=after:9 shop-saga -q run place-order --order "$ord" >/dev/null 2>&1 || true
			rc=0
			SHOP_NOW=2026-12-08T12:00:00Z SHOP_TEST_CRASH="$when:$((n - 9))" \
				shop-saga -q resume "$ord" >/dev/null 2>&1 || rc=$?
			SHOP_NOW=2026-12-08T12:00:00Z run -1 --separate-stderr shop-saga -q resume "$ord"
			[ "$(jq -r .state <<<"$output")" = compensated ]
			[ "$(order_status "$ord")" = cancelled ]
			check_order_agrees "$ord"
			[ "$(sandbox_count capture "$ord")" = 0 ]
			[ "$(pay_status "$ord")" = "voided 0 0" ]
		done
	done
	[ "$(stock_of MUG-01)" = "100 0" ]
	run -0 shop-inv reconcile
}

@test "a torn last journal record (a crash mid-write) is ignored and cut; corruption before the end is refused (65)" {
	make_order ord_t t pending
	SHOP_TEST_CRASH=after:6 run -137 shop-saga run place-order --order ord_t
	local sag j
	sag=$(saga_of ord_t)
	j="$SHOP_DB.d/journal/$sag.jsonl"
	# Half a record at the end, as a crash in the middle of write(2) leaves.
	printf '{"seq":7,"type":"intent","at":"2026-11-29T12:00:00Z","st' >>"$j"
	run -0 --separate-stderr shop-saga log "$sag"
	[ "${#lines[@]}" = 6 ]
	[[ $stderr == *"torn last record"* ]]
	run -0 --separate-stderr shop-saga resume "$sag"
	[ "$(jq -r .state <<<"$output")" = completed ]
	# 6 records, the intent of authorize again (the cut one was not
	# durable), and the rest: 17 in sequence.
	run -0 --separate-stderr shop-saga log "$sag"
	[ "$(jq -r .seq <<<"$output" | tr '\n' ' ')" = "$(seq 17 | tr '\n' ' ')" ]
	[ "$(jq -r 'select(.seq == 7) | [.type, .step] | join(" ")' <<<"$output")" = "intent authorize" ]
	# A changed byte in the middle: refused, loudly, and nothing run.
	make_order ord_u u pending
	SHOP_TEST_CRASH=after:4 run -137 shop-saga run place-order --order ord_u
	sag=$(saga_of ord_u)
	j="$SHOP_DB.d/journal/$sag.jsonl"
	sed -i '2s/"attempt":1/"attempt":2/' "$j"
	run -65 --separate-stderr shop-saga resume "$sag"
	[ "$stderr" = "shop-saga: $j:2: corrupt record (checksum or syntax) before the end" ]
	run -65 shop-saga status "$sag"
	[ "$(order_status ord_u)" = pending ]
	# list and recover say it, and go on with the others.
	run -65 --separate-stderr shop-saga list
	[ "$(jq -r .order_id <<<"$output")" = ord_t ]
	[[ $stderr == *"$j:2: corrupt record"* ]]
	run -65 --separate-stderr shop-saga recover
	[[ $stderr == *"recover: 1 journals could not be resumed" ]]
}

@test "a first record never linked into place (killed before it) leaves nothing that recover does not clear" {
	make_order ord_n n pending
	SHOP_TEST_CRASH=before:1 run -137 shop-saga run place-order --order ord_n
	SHOP_TEST_CRASH=after:1 run -137 shop-saga run place-order --order ord_n
	# the first left its .new file behind (killed before the write), or not
	run -0 --separate-stderr shop-saga recover
	[ -z "$(find "$SHOP_DB.d/journal" -maxdepth 1 -name '*.new.*')" ]
	[ "$(order_status ord_n)" = fulfilling ]
}
