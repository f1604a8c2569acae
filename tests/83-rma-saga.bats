#!/usr/bin/env bats
# The return saga (lib/sagas/return.yaml): approve, receive, refund (the
# pivot), close, for an RMA given as --order RMA or as the rma record on
# stdin; turned back (the RMA rejected) when the refund is refused; killed
# at every journal write and resumed, the money goes back once.
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

@test "shop-saga check return: the steps, the pivot, the compensation" {
	run -0 --separate-stderr shop-saga check return
	[ -z "$stderr" ]
	[ "$(jq -c '[.name, .input, (.steps | map(.name))]' <<<"$output")" = \
		'["return","rma_id",["rma","approve","receive","refund","close"]]' ]
	[ "$(jq -r '.steps[] | select(.pivot) | .name' <<<"$output")" = refund ]
	[ "$(jq -c '.steps[] | select(.compensate) | [.name, .compensate[1]]' <<<"$output")" = '["approve","reject"]' ]
	run -0 shop-saga graph return
	[[ $output == "digraph"* ]]
}

@test "end to end: an rma record piped in, then one by --order; the order returned" {
	ORD=$(rma_order alice MUG-01:3)
	run -0 --separate-stderr sh -c "shop-rma open --order $ORD --item MUG-01:1 --reason 'too small' | shop-saga run return"
	[ "$(jq -c '[.kind, .name, .state, .past_pivot]' <<<"$output")" = '["saga","return","completed",true]' ]
	local a b
	a=$(shop-rma list --order "$ORD" | jq -r .id)
	run -0 shop-rma show "$a"
	[ "$(jq -c '[.status, .condition, .refunded]' <<<"$output")" = '["closed","resellable",1191]' ]
	[ "$(stock MUG-01 west)" = "18 0 4" ]
	# The second return of the order by its id: the run is the RMA's.
	b=$(rma_new "$ORD" "the rest" MUG-01:2)
	run -0 --separate-stderr shop-saga run return --order "$b"
	[ "$(jq -c '[.order_id, .state]' <<<"$output")" = "[\"$b\",\"completed\"]" ]
	local sag
	sag=$(jq -r .id <<<"$output")
	run -0 shop-saga log "$sag"
	[ "$(jq -r 'select(.type == "outcome") | .step' <<<"$output" | tr '\n' ' ')" = "rma approve receive refund close " ]
	[ "$(rma_field "$b" '[.status, .refunded, .shipping] | join(" ")')" = "closed 2876 495" ]
	# 1191 + 2876: all of 4067 back.
	[ "$(pay_status "$ORD")" = "refunded 4067 4067" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = returned ]
	[ "$(stock MUG-01 west)" = "20 0 5" ]
	# Run again: the saga is done; nothing moves.
	local before
	before=$(dump_store)
	run -0 shop-saga run return --order "$b"
	[ "$(jq -r .state <<<"$output")" = completed ]
	[ "$(dump_store)" = "$before" ]
	# The order's trace tells the story.
	run -0 shop-order trace "$ORD"
	[ "$(jq -r 'select(.what | startswith("rma.")) | .what' <<<"$output" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = \
		"rma.approved=2 rma.closed=2 rma.opened=2 rma.received=2 rma.refunded=2 " ]
}

@test "the condition comes from the record piped in: damaged goods are written off" {
	ORD=$(rma_order alice MUG-01:2)
	run -0 --separate-stderr sh -c "shop-rma open --order $ORD --item MUG-01:1 --reason broken |
		jq -c '.condition = \"damaged\"' | shop-saga run return"
	[ "$(jq -r .state <<<"$output")" = completed ]
	run -0 shop-rma list --order "$ORD"
	[ "$(jq -c '[.status, .condition, .refunded]' <<<"$output")" = '["closed","damaged",1190]' ]
	[ "$(available MUG-01 west)" = 18 ]
	[ "$(rma_sql "SELECT group_concat(reason, ',') FROM ledger WHERE ref = '$(jq -r .id <<<"$output")'")" = "return,write-off" ]
}

@test "a refund refused turns the saga back: the RMA rejected with the reason, the goods kept" {
	ORD=$(rma_order alice MUG-01:3)
	local r
	r=$(rma_new "$ORD" "too small" MUG-01:2)
	# Refunded by hand already: 4067 - 3000 leaves less than the 2381.
	shop-pay -q refund --order "$ORD" --amount 3000 >/dev/null
	run -1 --separate-stderr shop-saga run return --order "$r"
	[[ $stderr == *"shop-saga: saga sag_"*" (return, $r): compensated: refund: exit 1: shop-rma: rma $r: order $ORD: refund of 2381 is more than the 1067 left of the capture" ]]
	[ "$(jq -c '[.state, .past_pivot]' <<<"$output")" = '["compensated",false]' ]
	run -0 shop-rma show "$r"
	[ "$(jq -r '[.status, .condition, .refunded] | join(" ")' <<<"$output")" = "rejected resellable 0" ]
	[[ $(jq -r .reject_reason <<<"$output") == "refund: exit 1: shop-rma: rma $r: "*"left of the capture" ]]
	# The goods stay where they came back to; no money moved for the RMA.
	[ "$(stock MUG-01 west)" = "19 0 4" ]
	[ "$(pay_status "$ORD")" = "partially_refunded 4067 3000" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = delivered ]
}

@test "a step that fails before the goods came back rejects the RMA: it is returnable again" {
	ORD=$(rma_order alice MUG-01:3)
	local r
	r=$(rma_new "$ORD" "too small" MUG-01:2)
	run -1 --separate-stderr sh -c "shop-rma show $r | jq -c '.condition = \"worn\"' | shop-saga run return"
	[[ $stderr == *"compensated: receive: exit 64: shop-rma: receive: --condition 'worn' is not resellable or damaged"* ]]
	[ "$(rma_field "$r" '[.status, .condition] | join(" ")')" = "rejected " ]
	[ "$(stock MUG-01 west)" = "17 0 3" ]
	run -0 shop-rma open --order "$ORD" --item MUG-01:3 --reason "all three"
	# An unknown RMA: nothing to do, nothing to undo.
	run -1 --separate-stderr shop-saga run return --order rma_nope
	[[ $stderr == *"compensated: rma: exit 66: shop-rma: rma rma_nope: no such return"* ]]
}

@test "killed at every journal write of the return saga and resumed: each RMA refunded once, restocked once" {
	# 24 returns of one unit each, from one order of 12 mugs and 12 cables;
	# the journal of a run: start, 5 steps of intent and outcome, end.
	ORD=$(rma_order alice MUG-01:12 CBL-USB-C-1M:12)
	# (The counter is not called i: bats' run sets an i of its own.)
	local n when sku r rc killed=0 unit=0
	for n in $(seq 12); do
		for when in before after; do
			unit=$((unit + 1))
			sku=MUG-01
			[ $((unit % 2)) = 0 ] && sku=CBL-USB-C-1M
			r=$(rma_new "$ORD" "unit $unit" "$sku:1")
			rc=0
			SHOP_TEST_CRASH="$when:$n" shop-saga -q run return --order "$r" >/dev/null 2>&1 || rc=$?
			[ "$rc" = 137 ] && killed=$((killed + 1))
			# run again resumes it (or starts it, killed before its journal).
			run -0 --separate-stderr shop-saga -q run return --order "$r"
			[ "$(jq -r .state <<<"$output")" = completed ] || { echo "$r ($when:$n): $output $stderr"; false; }
			run -0 shop-saga -q run return --order "$r"
			[ "$(rma_field "$r" .status)" = closed ]
			[ "$(pay_sql "SELECT count(*) FROM refund WHERE rma_id = '$r' AND status = 'succeeded'")" = 1 ]
			[ "$(rma_sql "SELECT count(*) FROM ledger WHERE ref = '$r' AND reason = 'return'")" = 1 ]
		done
	done
	echo "# $killed of 24 runs killed at a journal write" >&3
	[ "$killed" = 24 ]
	[ "$(sandbox_count refund "$ORD")" = 24 ]
	[ "$(pay_sql "SELECT refunded = captured FROM payment WHERE order_id = '$ORD'")" = 1 ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = returned ]
	[ "$(stock MUG-01 west)" = "20 0 15" ]
	[ "$(shop-saga list --incomplete | wc -l)" = 0 ]
}

@test "two returns of one order, each piped in: each its own saga (runs are keyed by the RMA, not the order)" {
	ORD=$(rma_order alice MUG-01:3)
	run -0 --separate-stderr sh -c "shop-rma open --order $ORD --item MUG-01:1 --reason 'too small' | shop-saga run return"
	run -0 --separate-stderr sh -c "shop-rma open --order $ORD --item MUG-01:2 --reason 'the rest' | shop-saga run return"
	[ "$(shop-saga list | jq -r 'select(.name == "return") | .state' | sort | uniq -c | awk '{print $1, $2}')" = "2 completed" ]
	[ "$(shop-rma list --order "$ORD" | jq -r .status | sort -u)" = closed ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = returned ]
}
