#!/usr/bin/env bats
# shop-pay through the built-in sandbox gateway: the states, idempotency,
# unknown outcomes and how they settle, and bad input. The payment
# invariants (helpers/pay.bash check_pay) are checked after every change.
load helpers/common
load helpers/order
load helpers/pay

setup() {
	common_setup
	make_order ord_a alice pending
	make_order ord_b bob pending
}

teardown() { check_pay; }

@test "authorize, partial capture (the rest released), refunds up to the capture and one past it" {
	run -0 --separate-stderr shop-pay authorize --order ord_a
	[ "$(jq -r '[.status, .amount, .captured, .method, .gateway, (.gateway_ref|startswith("pi_")), .expires_at] | join(" ")' <<<"$output")" = \
		"authorized 1250 0 pm_card_visa sandbox true 2026-12-06T12:00:00Z" ]
	[ -z "$stderr" ]
	run -0 shop-pay capture --order ord_a --amount 10.00
	[ "$(jq -r '[.status, .captured] | join(" ")' <<<"$output")" = "captured 1000" ]
	[ "$(pay_sql "SELECT json_extract(data, '\$.released') FROM outbox WHERE type = 'payment.captured'")" = 250 ]
	check_pay
	run -0 shop-pay refund --order ord_a --amount 300
	[ "$(pay_status ord_a)" = "partially_refunded 1000 300" ]
	run -0 shop-pay refund --order ord_a --amount 600
	[ "$(pay_status ord_a)" = "partially_refunded 1000 900" ]
	check_pay
	local before
	before=$(dump_store)
	run -1 --separate-stderr shop-pay refund --order ord_a --amount 101
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: order ord_a: refund of 101 is more than the 100 left of the capture" ]
	[ "$(dump_store)" = "$before" ]
	run -0 shop-pay refund --order ord_a --amount 100
	[ "$(jq -r '[.status, .refunded, (.refunds|length)] | join(" ")' <<<"$output")" = "refunded 1000 3" ]
	[ "$(sandbox_count refund ord_a)" = 3 ]
	run -1 --separate-stderr shop-pay refund --order ord_a --amount 1
	[ "$stderr" = "shop-pay: order ord_a: payment $(pay_sql "SELECT id FROM payment") is refunded: nothing to refund" ]
}

@test "void releases an authorization; capture of a voided payment is refused (1), nothing changed" {
	shop-pay -q authorize ord_a >/dev/null
	run -0 shop-pay void ord_a
	[ "$(jq -r .status <<<"$output")" = voided ]
	[ "$(sandbox_count void ord_a)" = 1 ]
	run -0 shop-pay void ord_a
	[ "$(sandbox_count void ord_a)" = 1 ]
	local before
	before=$(dump_store)
	run -1 --separate-stderr shop-pay capture ord_a
	[[ $stderr == "shop-pay: order ord_a: payment pay_"*" is voided: nothing to capture" ]]
	run -1 --separate-stderr shop-pay refund ord_a --amount 1
	run -1 --separate-stderr shop-pay authorize ord_a
	[[ $stderr == *"was voided; it cannot be authorized again" ]]
	[ "$(dump_store)" = "$before" ]
}

@test "void after capture is refused: refund instead" {
	shop-pay authorize ord_a >/dev/null
	shop-pay capture ord_a >/dev/null
	run -1 --separate-stderr shop-pay void ord_a
	[[ $stderr == *"is captured: it cannot be voided (refund it instead)" ]]
}

@test "declines: exit 1 with the reason, the payment failed; another method then succeeds" {
	local m reason
	for m in pm_card_chargeDeclined:generic_decline pm_card_chargeDeclinedInsufficientFunds:insufficient_funds \
		pm_card_insufficient_funds:insufficient_funds pm_card_chargeDeclinedExpiredCard:expired_card; do
		reason=${m#*:}
		run -1 --separate-stderr shop-pay authorize ord_b --method "${m%%:*}"
		[ -z "$output" ]
		[[ $stderr == "shop-pay: order ord_b: authorize refused: card declined: $reason ("* ]]
		[ "$(pay_status ord_b)" = "failed 0 0" ]
		check_pay
	done
	run -0 shop-pay authorize ord_b --method pm_card_visa
	[ "$(jq -r '[.status, .method] | join(" ")' <<<"$output")" = "authorized pm_card_visa" ]
	[ "$(pay_sql "SELECT attempt FROM payment")" = 5 ]
	[ "$(pay_sql "SELECT count(*) FROM outbox WHERE type = 'payment.failed'")" = 4 ]
}

@test "idempotency: authorize and capture twice charge once" {
	shop-pay authorize ord_a >/dev/null
	run -0 shop-pay authorize ord_a
	[ "$(jq -r .status <<<"$output")" = authorized ]
	shop-pay capture ord_a >/dev/null
	run -0 shop-pay capture ord_a
	run -0 shop-pay capture ord_a --amount 1250
	run -1 --separate-stderr shop-pay capture ord_a --amount 1000
	[[ $stderr == *"was captured already (1250)" ]]
	[ "$(sandbox_count authorization ord_a)" = 1 ]
	[ "$(sandbox_count capture ord_a)" = 1 ]
	run -1 --separate-stderr shop-pay authorize ord_a --method pm_card_amex
	[[ $stderr == *"is captured with pm_card_visa, not pm_card_amex" ]]
}

@test "idempotency: 8 processes authorizing and capturing one order at once charge once" {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		(shop-pay authorize ord_a >/dev/null 2>&1 && shop-pay capture ord_a >"$BATS_TEST_TMPDIR/c$i" 2>&1; echo $? >"$BATS_TEST_TMPDIR/rc$i") &
	done
	wait
	for i in 1 2 3 4 5 6 7 8; do
		[ "$(cat "$BATS_TEST_TMPDIR/rc$i")" = 0 ] || { cat "$BATS_TEST_TMPDIR/c$i"; false; }
	done
	[ "$(sandbox_count authorization)" = 1 ]
	[ "$(sandbox_count capture)" = 1 ]
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(pay_sql "SELECT count(*) FROM outbox WHERE type = 'payment.captured'")" = 1 ]
}

@test "a refund per return: the same RMA twice refunds once; another amount for it is refused" {
	shop-pay authorize ord_a >/dev/null
	shop-pay capture ord_a >/dev/null
	run -0 shop-pay refund ord_a --amount 500 --rma rma_1
	run -0 shop-pay refund ord_a --amount 500 --rma rma_1
	[ "$(jq -r '.refunds | length' <<<"$output")" = 1 ]
	run -1 --separate-stderr shop-pay refund ord_a --amount 400 --rma rma_1
	[[ $stderr == *"return rma_1 was refunded already (500)" ]]
	run -0 shop-pay refund ord_a --amount 500 --rma rma_2
	[ "$(pay_status ord_a)" = "refunded 1250 1000" ] || [ "$(pay_status ord_a)" = "partially_refunded 1250 1000" ]
	[ "$(sandbox_count refund)" = 2 ]
}

@test "gateway unavailable: exit 69, nothing happened, the payment is not left unknown" {
	run -69 --separate-stderr shop-pay authorize ord_a --method pm_sandbox_unavailable
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: order ord_a: authorize: gateway unavailable, nothing done: sandbox gateway unavailable (pm_sandbox_unavailable)" ]
	[ "$(pay_status ord_a)" = "failed 0 0" ]
	[ "$(sandbox_count authorization)" = 0 ]
}

@test "timeout after the gateway acted: unknown (69), never failed; the retry with the same key settles it" {
	run -69 --separate-stderr shop-pay authorize ord_a --method pm_sandbox_timeout
	[[ $stderr == *"authorize: outcome unknown (sandbox gateway timed out after it acted (pm_sandbox_timeout)); payment pay_"*" stays unknown until a retry, void or reconcile settles it" ]]
	[ "$(pay_sql "SELECT status, pending FROM payment")" = "unknown|authorize" ]
	[ "$(sandbox_count authorization)" = 1 ]
	check_pay
	run -0 shop-pay list --status unknown
	[ "$(jq -r .order_id <<<"$output")" = ord_a ]
	run -0 shop-order trace ord_a
	[ "$(jq -r 'select(.source == "payment") | [.what, .operation] | join(" ")' <<<"$output")" = "payment.pending authorize" ]
	# The retry replays the gateway's stored answer: authorized, once.
	run -0 shop-pay authorize ord_a
	[ "$(jq -r .status <<<"$output")" = authorized ]
	[ "$(sandbox_count authorization)" = 1 ]
	[ "$(pay_sql "SELECT attempt FROM payment")" = 1 ]
}

@test "an unknown capture is settled by void: the capture is found done, so void is refused" {
	shop-pay authorize ord_a --method pm_sandbox_timeout >/dev/null 2>&1 || true
	shop-pay authorize ord_a >/dev/null
	run -69 shop-pay capture ord_a
	[ "$(pay_sql "SELECT status, pending FROM payment")" = "unknown|capture" ]
	run -1 --separate-stderr shop-pay void ord_a
	[[ $stderr == *"is captured: it cannot be voided (refund it instead)" ]]
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(sandbox_count capture)" = 1 ]
}

@test "list: --status, --expiring (authorizations lapsing soon), --where, --limit; bad values" {
	make_order ord_c carol pending
	shop-pay authorize ord_a >/dev/null
	SHOP_NOW=2026-11-24T12:00:00Z shop-pay authorize ord_b >/dev/null
	shop-pay authorize ord_c >/dev/null
	shop-pay capture ord_c >/dev/null
	run -0 shop-pay list --expiring 2d
	[ "$output" = "$(shop-pay show ord_b)" ]
	run -0 shop-pay list --status authorized
	[ "$(jq -r .order_id <<<"$output" | sort | tr '\n' ' ')" = "ord_a ord_b " ]
	run -0 shop-pay list --where '.captured > 0'
	[ "$(jq -r .order_id <<<"$output")" = ord_c ]
	run -0 shop-pay list --limit 1
	[ "${#lines[@]}" = 1 ]
	run -64 --separate-stderr shop-pay list --status paid
	[[ $stderr == "shop-pay: --status: 'paid' is not a payment status"* ]]
	run -64 shop-pay list --expiring soon
}

@test "a hold lapses: capturing after payments.hold is refused (1) and the payment is voided, as at the gateway" {
	shop-pay authorize ord_a >/dev/null
	SHOP_NOW=2026-12-07T12:00:00Z run -1 --separate-stderr shop-pay capture ord_a
	[[ $stderr == *"capture refused: payment_intent_unexpected_state: the payment is canceled, not requires_capture" ]]
	[ "$(pay_status ord_a)" = "voided 0 0" ]
	[[ $(pay_sql "SELECT reason FROM payment") == *"is canceled"* ]]
	[ "$(pay_sql "SELECT json_extract(data, '\$.reason') IS NOT NULL FROM outbox WHERE type = 'payment.voided'")" = 1 ]
	run -0 shop-pay void ord_a
}

@test "a short hold from the config: payments.hold 1h" {
	printf 'payments:\n  hold: 1h\n' >"$BATS_TEST_TMPDIR/shop.yaml"
	export SHOP_CONFIG="$BATS_TEST_TMPDIR/shop.yaml"
	run -0 shop-pay authorize ord_a
	[ "$(jq -r .expires_at <<<"$output")" = 2026-11-29T13:00:00Z ]
	SHOP_NOW=2026-11-29T13:00:01Z run -1 shop-pay capture ord_a
	printf 'payments:\n  hold: 0s\n' >"$BATS_TEST_TMPDIR/shop.yaml"
	run -78 shop-pay list
}

@test "records on stdin: shop-order list piped into shop-pay authorize and capture" {
	shop-order list --status pending | shop-pay authorize >/dev/null
	run -0 sh -c 'shop-pay list | shop-pay capture'
	[ "${#lines[@]}" = 2 ]
	[ "$(pay_sql "SELECT group_concat(status) FROM payment")" = "captured,captured" ]
}

@test "trace: shop-order trace shows the payment's events" {
	shop-pay authorize ord_a >/dev/null
	shop-pay capture ord_a --amount 1000 >/dev/null
	shop-pay refund ord_a --amount 200 >/dev/null
	run -0 shop-order trace ord_a
	[ "$(jq -r 'select(.source == "event") | .what' <<<"$output" | tr '\n' ' ')" = \
		"payment.authorized payment.captured payment.refunded " ]
}

@test "bad input: unknown order (66), no payment (66), amounts 0, negative, junk (65), above the order (1), usage (64)" {
	local before
	run -66 --separate-stderr shop-pay authorize ord_nope
	[ "$stderr" = "shop-pay: order ord_nope: no such order" ] || [[ $stderr == *"ord_nope"* ]]
	run -66 --separate-stderr shop-pay capture ord_a
	[ "$stderr" = "shop-pay: order ord_a has no payment (authorize it first)" ]
	run -66 shop-pay show ord_a
	shop-pay authorize ord_a >/dev/null
	before=$(dump_store)
	run -65 --separate-stderr shop-pay capture ord_a --amount 0
	[ "$stderr" = "shop-pay: --amount: 0 is not above 0" ]
	run -65 shop-pay capture ord_a --amount -5
	run -65 --separate-stderr shop-pay capture ord_a --amount 1.234
	[[ $stderr == "shop-pay: --amount: '1.234' is not an amount in USD"* ]]
	run -65 shop-pay capture ord_a --amount 12abc
	run -1 --separate-stderr shop-pay capture ord_a --amount 1251
	[ "$stderr" = "shop-pay: order ord_a: capture of 1251 is more than the 1250 authorized" ]
	run -64 shop-pay refund ord_a
	run -64 shop-pay capture --order ord_a ord_b
	run -64 shop-pay authorize ord_a --method ''
	run -64 shop-pay bogus
	[ "$(dump_store)" = "$before" ]
	make_order ord_x xavier cancelled
	run -1 --separate-stderr shop-pay authorize ord_x
	[ "$stderr" = "shop-pay: order ord_x is cancelled: only a pending or confirmed order is paid for" ]
}

@test "config: an unknown gateway is 78; the stripe gateway without its key is 78, nothing sent" {
	printf 'payments:\n  gateway: paypal\n' >"$BATS_TEST_TMPDIR/shop.yaml"
	run -78 --separate-stderr shop-pay --config "$BATS_TEST_TMPDIR/shop.yaml" list
	[[ $stderr == *"payments.gateway: 'paypal' is not a gateway (sandbox, stripe)" ]]
	printf 'payments:\n  gateway: stripe\n  stripe:\n    api_base: http://127.0.0.1:9\n    key_env: NO_SUCH_KEY_VAR\n' >"$BATS_TEST_TMPDIR/shop.yaml"
	unset NO_SUCH_KEY_VAR
	run -78 --separate-stderr shop-pay --config "$BATS_TEST_TMPDIR/shop.yaml" authorize ord_a
	[ "$stderr" = "shop-pay: stripe gateway: the environment variable NO_SUCH_KEY_VAR (payments.stripe.key_env) is not set" ]
}

@test "killed at random instants: every payment settles on retry, and each order is charged once" {
	local i pid killed=0
	for i in $(seq 30); do make_order "ord_k$i" "c$i" pending; done
	for i in $(seq 30); do
		# its own process group, so that one kill takes the shell and
		# whichever shop-pay it is running
		setsid sh -c 'shop-pay authorize "$1" && shop-pay capture "$1" && shop-pay refund "$1" --amount 250' \
			sh "ord_k$i" >/dev/null 2>&1 &
		pid=$!
		sleep "0.0$((RANDOM % 40))"
		kill -9 -- "-$pid" 2>/dev/null && killed=$((killed + 1))
		wait "$pid" 2>/dev/null || true
	done
	echo "# killed $killed of 30 runs" >&3
	check_pay
	# Whatever the kill left (nothing, a hold, an unknown call), running the
	# same commands again finishes it, with the same keys. (Not $i: bats'
	# run sets a global i.)
	for n in $(seq 30); do
		run -0 shop-pay authorize "ord_k$n"
		run -0 shop-pay capture "ord_k$n"
		if [ "$(pay_sql "SELECT refunded FROM payment WHERE order_id = 'ord_k$n'")" != 250 ]; then
			run -0 --separate-stderr shop-pay refund "ord_k$n" --amount 250 --rma "k$n"
		fi
	done
	[ "$(sandbox_count authorization)" = 30 ]
	[ "$(sandbox_count capture)" = 30 ]
	[ "$(pay_sql "SELECT count(*) FROM payment WHERE status = 'partially_refunded' AND captured = 1250 AND refunded = 250")" = 30 ]
	[ "$(pay_sql "SELECT count(*) FROM outbox WHERE type = 'payment.captured'")" = 30 ]
}

@test "a refund rerun after 'outcome unknown' is the same refund: settled, not made twice" {
	shop-pay authorize ord_a --method pm_sandbox_timeout >/dev/null 2>&1 || true
	shop-pay capture ord_a >/dev/null 2>&1 || true
	run -0 shop-pay capture ord_a
	run -69 shop-pay refund ord_a --amount 300
	[ "$(pay_sql "SELECT status || ' ' || pending FROM payment")" = "unknown refund" ]
	run -0 shop-pay refund ord_a --amount 3.00
	[ "$(jq -r '[.status, .refunded, (.refunds|length)] | join(" ")' <<<"$output")" = "partially_refunded 300 1" ]
	[ "$(sandbox_count refund)" = 1 ]
	# Another amount is another refund (which times out once, as this
	# method does, and is then settled by its rerun).
	run -69 shop-pay refund ord_a --amount 200
	run -0 shop-pay refund ord_a --amount 200
	[ "$(sandbox_count refund)" = 2 ]
	[ "$(pay_status ord_a)" = "partially_refunded 1250 500" ]
}

@test "a payment stays with its gateway: another gateway in the config is refused (78), nothing written" {
	shop-pay authorize ord_a >/dev/null
	export STRIPE_TEST_KEY_X=sk_test_x
	printf 'payments:\n  gateway: stripe\n  stripe:\n    api_base: http://127.0.0.1:9\n    key_env: STRIPE_TEST_KEY_X\n' >"$BATS_TEST_TMPDIR/s.yaml"
	local before
	before=$(dump_store)
	run -78 --separate-stderr shop-pay --config "$BATS_TEST_TMPDIR/s.yaml" capture ord_a
	[[ $stderr == *"payment pay_"*" is at the sandbox gateway, but the config's gateway is stripe" ]]
	[ "$(dump_store)" = "$before" ]
	# A missing key stops before anything is written ahead.
	unset STRIPE_TEST_KEY_X
	run -78 shop-pay --config "$BATS_TEST_TMPDIR/s.yaml" authorize ord_b
	[ "$(pay_sql "SELECT count(*) FROM payment WHERE order_id = 'ord_b'")" = 0 ]
}

@test "void of an order without a payment has nothing to undo (0, a note); of an unknown order 66" {
	run -0 --separate-stderr shop-pay void ord_a
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: order ord_a has no payment: nothing to void" ]
	run -66 shop-pay void ord_nope
	[ "$(pay_sql "SELECT count(*) FROM payment")" = 0 ]
}
