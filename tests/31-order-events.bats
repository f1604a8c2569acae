#!/usr/bin/env bats
# shop-order events and ack: the outbox as event records, in order, each
# consumer's position stored and never moved back, --follow, and events
# written in the transaction of their change.
load helpers/common
load helpers/order

setup() {
	common_setup
	order_store
}

# three_events: ord_1 confirmed, ord_2 cancelled, ord_1 fulfilling.
three_events() {
	make_order ord_1 alice pending
	make_order ord_2 bob pending
	shop-order confirm ord_1 >/dev/null
	shop-order cancel ord_2 --reason test >/dev/null
	shop-order set-status ord_1 fulfilling >/dev/null
}

seqs() { jq -r .seq <<<"$output" | paste -sd' '; }

@test "events: the records of the changes, in order, with increasing seq" {
	run -0 --separate-stderr shop-order events
	[ -z "$output" ]
	three_events
	run -0 --separate-stderr shop-order events
	[ -z "$stderr" ]
	[ "$(seqs)" = "1 2 3" ]
	[ "$(jq -c 'keys_unsorted' <<<"$output" | sort -u)" = '["kind","seq","id","type","subject","at","data"]' ]
	[ "$(jq -c '[.kind, .seq, .type, .subject, .at, .data]' <<<"$output")" = \
'["event",1,"order.confirmed","ord_1","2026-11-29T12:00:00Z",{"order_id":"ord_1","from":"pending","to":"confirmed","reason":null}]
["event",2,"order.cancelled","ord_2","2026-11-29T12:00:00Z",{"order_id":"ord_2","from":"pending","to":"cancelled","reason":"test"}]
["event",3,"order.fulfilling","ord_1","2026-11-29T12:00:00Z",{"order_id":"ord_1","from":"confirmed","to":"fulfilling","reason":null}]' ]
	# Ids are event ids, all distinct.
	[ "$(jq -r .id <<<"$output" | grep -cE '^evt_[0-9a-z]{26}$')" = 3 ]
	[ "$(jq -r .id <<<"$output" | sort -u | wc -l)" = 3 ]
	# Other programs' events are there too.
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	shop-inv set MUG-01 main 5 >/dev/null
	run -0 --separate-stderr shop-order events --after 3
	[ "$(jq -c '[.seq, .type, .subject]' <<<"$output")" = '[4,"inventory.adjusted","MUG-01"]' ]
}

@test "events --after SEQ: only later events; past the end prints nothing" {
	three_events
	run -0 --separate-stderr shop-order events --after 1
	[ "$(seqs)" = "2 3" ]
	run -0 --separate-stderr shop-order events --after 0
	[ "$(seqs)" = "1 2 3" ]
	run -0 --separate-stderr shop-order events --after 3
	[ -z "$output" ]
	run -0 --separate-stderr shop-order events --after 99
	[ -z "$output" ]
	run -64 --separate-stderr shop-order events --after x
	order_one_error "--after: 'x' is not a count"
	run -64 --separate-stderr shop-order events --after -1
	run -0 --separate-stderr shop-order --table events --after 2
	[ "$(head -1 <<<"$output" | tr -s ' ')" = "SEQ TYPE SUBJECT AT DATA" ]
}

@test "ack and --consumer: two consumers keep separate positions" {
	three_events
	# A consumer that never acknowledged reads from the start.
	run -0 --separate-stderr shop-order events --consumer mailer
	[ "$(seqs)" = "1 2 3" ]
	[ "$(order_sql "SELECT count(*) FROM consumer")" = 0 ]
	SHOP_NOW=2026-11-29T12:10:00Z run -0 --separate-stderr shop-order ack --consumer mailer 2
	[ -z "$stderr" ]
	[ "$output" = '{"kind":"consumer","name":"mailer","acked":2,"updated_at":"2026-11-29T12:10:00Z"}' ]
	run -0 --separate-stderr shop-order events --consumer mailer
	[ "$(seqs)" = "3" ]
	run -0 --separate-stderr shop-order events --consumer webhook
	[ "$(seqs)" = "1 2 3" ]
	run -0 --separate-stderr shop-order ack --consumer webhook 1
	run -0 --separate-stderr shop-order events --consumer webhook
	[ "$(seqs)" = "2 3" ]
	run -0 --separate-stderr shop-order events --consumer mailer
	[ "$(seqs)" = "3" ]
	[ "$(order_sql "SELECT name || ' ' || acked FROM consumer ORDER BY name" | paste -sd,)" = "mailer 2,webhook 1" ]
	# --after wins over the consumer's position.
	run -0 --separate-stderr shop-order events --consumer mailer --after 0
	[ "$(seqs)" = "1 2 3" ]
	# Reading moves nothing: only ack does.
	[ "$(order_sql "SELECT name || ' ' || acked FROM consumer ORDER BY name" | paste -sd,)" = "mailer 2,webhook 1" ]
}

@test "ack never moves back; an older seq prints the current position" {
	three_events
	SHOP_NOW=2026-11-29T12:10:00Z shop-order ack --consumer mailer 3 >/dev/null
	before=$(dump_store)
	SHOP_NOW=2026-11-29T12:20:00Z run -0 --separate-stderr shop-order ack --consumer mailer 1
	[ "$output" = '{"kind":"consumer","name":"mailer","acked":3,"updated_at":"2026-11-29T12:10:00Z"}' ]
	SHOP_NOW=2026-11-29T12:20:00Z run -0 --separate-stderr shop-order ack --consumer mailer 3
	[ "$(jq -c '[.acked, .updated_at]' <<<"$output")" = '[3,"2026-11-29T12:10:00Z"]' ]
	[ "$(dump_store)" = "$before" ]
	# 0 is before every event: a new consumer may start there.
	run -0 --separate-stderr shop-order ack --consumer fresh 0
	[ "$(jq -c .acked <<<"$output")" = 0 ]
}

@test "ack: a seq beyond the last event is 66; bad calls 64; nothing changes" {
	three_events
	shop-order ack --consumer mailer 1 >/dev/null
	before=$(dump_store)
	run -66 --separate-stderr shop-order ack --consumer mailer 4
	[ -z "$output" ]
	order_one_error "ack: no event 4 (the last is 3)"
	run -66 --separate-stderr shop-order ack --consumer other 4
	run -64 --separate-stderr shop-order ack 2
	order_one_error "ack: --consumer NAME is required"
	run -64 --separate-stderr shop-order ack --consumer mailer two
	order_one_error "not an event's seq"
	run -64 --separate-stderr shop-order ack --consumer mailer -- -1
	run -64 --separate-stderr shop-order ack --consumer "" 2
	run -64 --separate-stderr shop-order ack --consumer mailer
	run -64 --separate-stderr shop-order events --consumer ""
	[ "$(dump_store)" = "$before" ]
}

@test "events --follow picks up an event written after it started" {
	three_events
	shop-order events --follow --after 2 >follow.out 2>follow.err 3>&- &
	pid=$!
	local i
	for i in $(seq 50); do
		[ -s follow.out ] && break
		sleep 0.1
	done
	[ "$(jq -r .seq follow.out | paste -sd' ')" = "3" ]
	# Refused changes write no event.
	run -1 --separate-stderr shop-order set-status ord_2 confirmed
	run -66 --separate-stderr shop-order confirm ord_9
	make_order ord_5 carol pending
	shop-order confirm ord_5 >/dev/null
	for i in $(seq 50); do
		[ "$(grep -c . follow.out)" -ge 2 ] && break
		sleep 0.1
	done
	kill "$pid"
	wait "$pid" || true
	[ -z "$(cat follow.err)" ]
	[ "$(jq -c '[.seq, .type, .subject]' follow.out | paste -sd' ')" = '[3,"order.fulfilling","ord_1"] [4,"order.confirmed","ord_5"]' ]
}

@test "events --follow --consumer starts after the consumer's position; --table is refused" {
	three_events
	shop-order ack --consumer mailer 3 >/dev/null
	shop-order events --follow --consumer mailer >follow.out 2>follow.err 3>&- &
	pid=$!
	sleep 0.3
	[ ! -s follow.out ]
	make_order ord_5 carol pending
	shop-order confirm ord_5 >/dev/null
	local i
	for i in $(seq 50); do
		[ -s follow.out ] && break
		sleep 0.1
	done
	kill "$pid"
	wait "$pid" || true
	[ "$(jq -c '[.seq, .subject]' follow.out)" = '[4,"ord_5"]' ]
	run -64 --separate-stderr shop-order --table events --follow
	order_one_error "--follow"
}

@test "an event and its change are one transaction: a refused change writes neither" {
	make_promo ONCE 1 "" 1
	make_order ord_1 alice pending ONCE
	make_order ord_2 alice shipped
	counts() {
		order_sql "SELECT (SELECT count(*) FROM outbox) || ' ' || (SELECT count(*) FROM promotion_use) || ' ' ||
		                  (SELECT uses FROM promotion) || ' ' || (SELECT group_concat(status) FROM (SELECT status FROM orders ORDER BY id))"
	}
	c0=$(counts)
	[ "$c0" = "0 0 1 pending,shipped" ]
	run -1 --separate-stderr shop-order confirm ord_1
	[ "$(counts)" = "$c0" ]
	run -1 --separate-stderr shop-order set-status ord_2 cancelled
	[ "$(counts)" = "$c0" ]
	run -0 --separate-stderr shop-order events
	[ -z "$output" ]
	# A change that goes through writes both.
	run -0 --separate-stderr shop-order set-status ord_2 delivered
	[ "$(counts)" = "1 0 1 pending,delivered" ]
	[ "$(order_sql "SELECT type FROM outbox")" = order.delivered ]
	check_orders
}

@test "a writer that holds the store makes a change wait, not half-happen" {
	make_order ord_1 alice pending
	# Another process holds the write lock for 2 s: the change waits for it
	# up to store.busy_timeout (1 s here), then gives up with 75 and
	# writes nothing; run again, it goes through.
	printf 'store:\n  busy_timeout: 1s\n' >busy.yaml
	before=$(dump_store)
	$PY - "$SHOP_DB" 3>&- <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN IMMEDIATE")
open("locked", "w").close()
time.sleep(2)
c.execute("ROLLBACK")
PY
	pid=$!
	local i
	for i in $(seq 50); do
		[ -e locked ] && break
		sleep 0.1
	done
	run -75 --separate-stderr shop-order --config busy.yaml confirm ord_1
	[ -z "$output" ]
	order_one_error "busy"
	wait "$pid"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr shop-order confirm ord_1
	[ "$(order_sql "SELECT count(*) FROM outbox")" = 1 ]
	check_orders
}

@test "events --follow stops when its reader has gone, without waiting for an event" {
	# head -n 0 closes the pipe at once; the follower must notice on its
	# own (timeout 20 only guards the suite: 124 would mean it hung).
	run -0 bash -c 'timeout 20 shop-order events --follow --after 999999 | head -n 0; exit "${PIPESTATUS[0]}"'
}
