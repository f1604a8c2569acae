#!/usr/bin/env bats
# shop-rma refund and the status machine: the money goes back through
# shop-pay once per RMA (its id is the refund's key), never more than is
# left of the capture, even with refunds raced; every command run twice
# changes nothing the second time; a change the machine does not allow is
# refused (1) and changes nothing.
load helpers/common
load helpers/inv
load helpers/order
load helpers/pay
load helpers/rma

setup() {
	common_setup
	rma_setup
	# 3 mugs and a cable to New York: 4924 captured (80-rma-amounts.bats);
	# the returns $A (1 mug: 1191) and $B (2 mugs and the cable, with the
	# shipping: 3733), both received.
	ORD=$(rma_order alice MUG-01:3 CBL-USB-C-1M:1)
	A=$(rma_new "$ORD" "one" MUG-01:1)
	B=$(rma_new "$ORD" "the rest" MUG-01:2 CBL-USB-C-1M:1)
	rma_through "$A"
	rma_through "$B"
	[ "$(rma_field "$A" .amount) $(rma_field "$B" .amount)" = "1191 3733" ]
}

teardown() {
	check_rma && check_inv && check_pay
}

@test "a refund never exceeds what is left of the capture: refused (1), nothing changed" {
	# A manual refund (a goodwill gesture) leaves 924 of the 4924.
	shop-pay -q refund --order "$ORD" --amount 40.00 >/dev/null
	[ "$(pay_status "$ORD")" = "partially_refunded 4924 4000" ]
	local before
	before=$(dump_store)
	run -1 --separate-stderr shop-rma refund "$A"
	[ -z "$output" ]
	rma_one_error "rma $A: order $ORD: refund of 1191 is more than the 924 left of the capture"
	[ "$(dump_store)" = "$before" ]
	[ "$(sandbox_count refund "$ORD")" = 1 ]
	# It stays received; refused, it may be rejected now.
	[ "$(rma_field "$A" .status)" = received ]
	run -0 shop-rma reject "$A" --reason "refunded by hand already"
	[ "$(jq -r .status <<<"$output")" = rejected ]
}

@test "two refunds raced past what is left: one is made, the other refused; never past the capture" {
	local round
	for round in 1 2 3; do
		if [ "$round" -gt 1 ]; then
			ORD=$(rma_order alice MUG-01:3 CBL-USB-C-1M:1)
			A=$(rma_new "$ORD" "one" MUG-01:1)
			B=$(rma_new "$ORD" "the rest" MUG-01:2 CBL-USB-C-1M:1)
			rma_through "$A"
			rma_through "$B"
		fi
		# 3924 left: either of 1191 and 3733 fits, not both (4924).
		shop-pay -q refund --order "$ORD" --amount 1000 >/dev/null
		# (errexit holds in the subshells: the code is caught, not fatal.)
		(rc=0; shop-rma refund "$A" >"$BATS_TEST_TMPDIR/a.out" 2>&1 || rc=$?; echo $rc >"$BATS_TEST_TMPDIR/a.rc") &
		(rc=0; shop-rma refund "$B" >"$BATS_TEST_TMPDIR/b.out" 2>&1 || rc=$?; echo $rc >"$BATS_TEST_TMPDIR/b.rc") &
		wait
		local ra rb
		ra=$(cat "$BATS_TEST_TMPDIR/a.rc")
		rb=$(cat "$BATS_TEST_TMPDIR/b.rc")
		echo "round $round: A $ra, B $rb" >&3
		[ "$(printf '%s\n' "$ra" "$rb" | sort | tr '\n' ' ')" = "0 1 " ] ||
			{ cat "$BATS_TEST_TMPDIR/a.out" "$BATS_TEST_TMPDIR/b.out"; false; }
		local won lost
		if [ "$ra" = 0 ]; then won=$A lost=$B; else won=$B lost=$A; fi
		grep -q "is more than the .* left of the capture" "$BATS_TEST_TMPDIR/$([ "$lost" = "$A" ] && echo a || echo b).out"
		[ "$(rma_field "$won" .status)" = refunded ]
		[ "$(rma_field "$lost" '[.status, .refunded] | join(" ")')" = "received 0" ]
		[ "$(rma_sql "SELECT refunding FROM rma WHERE id = '$lost'")" = 0 ]
		[ "$(pay_sql "SELECT refunded <= captured FROM payment WHERE order_id = '$ORD'")" = 1 ]
		[ "$(pay_sql "SELECT count(*) FROM refund r JOIN payment p ON p.id = r.payment_id
		              WHERE p.order_id = '$ORD' AND r.status = 'succeeded'")" = 2 ]
		[ "$(shop-order show "$ORD" | jq -r .status)" = partially_returned ]
		check_rma
		check_pay
	done
}

@test "refund twice refunds once; the same RMA raced from 4 processes refunds once" {
	run -0 shop-rma refund "$A"
	local first=$output
	run -0 shop-rma refund "$A"
	[ "$output" = "$first" ]
	[ "$(sandbox_count refund "$ORD")" = 1 ]
	local i
	for i in 1 2 3 4; do
		(rc=0; shop-rma refund "$B" >/dev/null 2>"$BATS_TEST_TMPDIR/e$i" || rc=$?; echo $rc >"$BATS_TEST_TMPDIR/rc$i") &
	done
	wait
	for i in 1 2 3 4; do
		[ "$(cat "$BATS_TEST_TMPDIR/rc$i")" = 0 ] || { cat "$BATS_TEST_TMPDIR/e$i"; false; }
	done
	[ "$(sandbox_count refund "$ORD")" = 2 ]
	[ "$(pay_status "$ORD")" = "refunded 4924 4924" ]
	[ "$(rma_sql "SELECT count(*) FROM outbox WHERE type = 'rma.refunded'")" = 2 ]
	[ "$(rma_sql "SELECT count(*) FROM outbox WHERE type = 'order.returned'")" = 1 ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = returned ]
}

@test "the status machine: each command twice changes nothing; a change it does not allow is refused (1)" {
	local r before cmd rec
	ORD=$(rma_order alice MUG-01:2)
	r=$(rma_new "$ORD" "two mugs" MUG-01:2)
	# Open: receive, refund and close are refused, and change nothing.
	before=$(dump_store)
	run -1 --separate-stderr shop-rma receive "$r" --condition resellable
	rma_one_error "rma $r is open: only an approved return is received (approve it first)"
	run -1 --separate-stderr shop-rma refund "$r"
	rma_one_error "rma $r is open: only a received return is refunded (receive it first)"
	run -1 --separate-stderr shop-rma close "$r"
	rma_one_error "rma $r is open: only a refunded or rejected return is closed"
	[ "$(dump_store)" = "$before" ]
	# Each step twice: the second prints the same record and writes nothing.
	for cmd in approve "receive --condition resellable" refund close; do
		# shellcheck disable=SC2086
		run -0 --separate-stderr shop-rma $cmd "$r"
		[ -z "$stderr" ]
		rec=$output
		before=$(dump_store)
		# shellcheck disable=SC2086
		run -0 --separate-stderr shop-rma $cmd "$r"
		[ "$output" = "$rec" ]
		[ -z "$stderr" ]
		[ "$(dump_store)" = "$before" ]
	done
	[ "$(jq -c '[.status, .condition, .refunded]' <<<"$output")" = '["closed","resellable",2876]' ]
	[ "$(events_of "$ORD" | grep -c '^rma\.')" = 5 ]
	# Past those steps, asking for them again is done already; going back
	# is refused.
	before=$(dump_store)
	run -0 shop-rma approve "$r"
	run -0 shop-rma receive "$r" --condition resellable
	run -0 shop-rma refund "$r"
	run -1 --separate-stderr shop-rma receive "$r" --condition damaged
	rma_one_error "rma $r was received already, as resellable"
	run -1 --separate-stderr shop-rma reject "$r" --reason late
	rma_one_error "rma $r is closed: it was refunded, it cannot be rejected"
	[ "$(dump_store)" = "$before" ]
	# Rejected (after it was received): twice the same; no approve, no
	# refund; closed.
	run -0 shop-rma reject "$A" --reason "not ours"
	rec=$output
	before=$(dump_store)
	run -0 shop-rma reject "$A" --reason "another reason"
	[ "$output" = "$rec" ]
	[ "$(dump_store)" = "$before" ]
	run -1 --separate-stderr shop-rma approve "$A"
	rma_one_error "rma $A is rejected (rejected): it cannot be approved"
	run -1 --separate-stderr shop-rma refund "$A"
	rma_one_error "rma $A is rejected: only a received return is refunded"
	[ "$(dump_store)" = "$before" ]
	run -0 shop-rma close "$A"
	[ "$(jq -c '[.status, .reject_reason]' <<<"$output")" = '["closed","not ours"]' ]
	run -1 --separate-stderr shop-rma approve "$A"
	rma_one_error "rma $A is closed (rejected): it cannot be approved"
	# Nothing of that order is left to return.
	run -1 --separate-stderr shop-rma open --order "$ORD" --item MUG-01:1 --reason again
	rma_one_error "order $ORD is returned: only a delivered order can be returned"
	# A bad --condition and a missing --reason are usage errors (64).
	before=$(dump_store)
	run -64 --separate-stderr shop-rma receive "$B" --condition other
	rma_one_error "receive: --condition 'other' is not resellable or damaged"
	run -64 --separate-stderr shop-rma receive "$B"
	rma_one_error "receive: --condition resellable|damaged is required"
	run -64 --separate-stderr shop-rma reject "$B"
	rma_one_error "--reason R is required"
	[ "$(dump_store)" = "$before" ]
}

@test "records on stdin: list piped into refund, rma records into show" {
	run -0 sh -c 'shop-rma list --status received | shop-rma refund'
	[ "${#lines[@]}" = 2 ]
	[ "$(jq -r .status <<<"$output" | sort -u)" = refunded ]
	[ "$(pay_status "$ORD")" = "refunded 4924 4924" ]
	run -0 sh -c "shop-rma show $A | shop-rma close"
	[ "$(jq -r .status <<<"$output")" = closed ]
	# One bad id among several: reported, the others go on; the first
	# failure's code.
	run -66 --separate-stderr shop-rma close rma_nope "$B"
	rma_one_error "rma rma_nope: no such return"
	[ "$(jq -r .status <<<"$output")" = closed ]
}
