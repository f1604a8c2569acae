#!/usr/bin/env bats
# shop-pay through the stripe driver against the fake Stripe on 127.0.0.1
# (tests/helpers/fake_stripe.py): real HTTP through libcurl, form bodies,
# Idempotency-Key, retries, faults, and the secret key kept secret. One fake
# for the file, reset before every test; the payment invariants after each.
load helpers/common
load helpers/order
load helpers/pay

setup_file() {
	# A canary: it must appear nowhere but in the environment.
	SHOP_TEST_STRIPE_KEY="sk_test_CANARY$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	export SHOP_TEST_STRIPE_KEY
	SURL=$(start_fake "$BATS_FILE_TMPDIR" fake_stripe.py --pid-file "$BATS_FILE_TMPDIR/pid" \
		--key-env SHOP_TEST_STRIPE_KEY --now "$(date -u -d 2026-11-29T12:00:00Z +%s)") || return 1
	export SURL
}

teardown_file() { stop_fake "$BATS_FILE_TMPDIR"; }

setup() {
	common_setup
	curl -sS -X POST "$SURL/_reset" >/dev/null
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY
	make_order ord_a alice pending
	make_order ord_b bob pending
}

teardown() { check_pay; }

# stat JQ: a figure of the fake's /_stats.
stat() { curl -sS "$SURL/_stats" | jq -r "$1"; }
fault() { curl -sS -X POST "$SURL/_fault" -d "$1" >/dev/null; }

@test "success: authorize (requires_capture), capture, refunds; the intent at the fake agrees" {
	run -0 --separate-stderr shop-pay authorize ord_a
	[ -z "$stderr" ]
	[ "$(jq -r '[.status, .gateway, (.gateway_ref|startswith("pi_"))] | join(" ")' <<<"$output")" = "authorized stripe true" ]
	local pi
	pi=$(jq -r .gateway_ref <<<"$output")
	[ "$(stat '.payment_intents[0] | [.id, .status, .amount, .currency, .metadata.order_id] | join(" ")')" = \
		"$pi requires_capture 1250 usd ord_a" ]
	run -0 shop-pay capture ord_a
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	run -0 shop-pay refund ord_a --amount 250
	[ "$(jq -r '.refunds[0].gateway_ref | startswith("re_")' <<<"$output")" = true ]
	[ "$(stat '.payment_intents[0] | [.status, .amount_received, .amount_refunded] | join(" ")')" = "succeeded 1250 250" ]
	[ "$(stat '.requests["POST /v1/payment_intents"]')" = 1 ]
}

@test "decline: 402 card_error -> exit 1 with the decline code; the payment failed" {
	run -1 --separate-stderr shop-pay authorize ord_a --method pm_card_chargeDeclinedInsufficientFunds
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: order ord_a: authorize refused: card declined: insufficient_funds (Your card has insufficient funds.)" ]
	[ "$(pay_status ord_a)" = "failed 0 0" ]
	run -1 --separate-stderr shop-pay authorize ord_a --method pm_card_authenticationRequired
	[[ $stderr == *"authentication_required"* ]]
	run -0 shop-pay authorize ord_a --method pm_card_visa
}

@test "partial capture releases the rest; several partial refunds up to the capture and one past it (1, nothing changed)" {
	shop-pay authorize ord_a >/dev/null
	run -0 shop-pay capture ord_a --amount 1000
	[ "$(stat '.payment_intents[0] | [.status, .amount_received, .amount_capturable] | join(" ")')" = "succeeded 1000 0" ]
	shop-pay refund ord_a --amount 400 >/dev/null
	shop-pay refund ord_a --amount 300 >/dev/null
	shop-pay refund ord_a --amount 3.00 >/dev/null
	[ "$(pay_status ord_a)" = "refunded 1000 1000" ]
	local before
	before=$(dump_store)
	run -1 --separate-stderr shop-pay refund ord_a --amount 1
	[ "$(dump_store)" = "$before" ]
	[ "$(stat '.executed.refunds')" = 3 ]
	[ "$(stat '.payment_intents[0].amount_refunded')" = 1000 ]
}

@test "void: the intent canceled; capture after it refused (1)" {
	shop-pay authorize ord_a >/dev/null
	run -0 shop-pay void ord_a
	[ "$(jq -r .status <<<"$output")" = voided ]
	[ "$(stat '.payment_intents[0].status')" = canceled ]
	run -1 shop-pay capture ord_a
	[ "$(stat '.executed.cancels')" = 1 ]
}

@test "500s: retried with the same Idempotency-Key, the fake counts exactly one capture" {
	shop-pay authorize ord_a >/dev/null
	fault '{"status":500,"count":2,"path":"/capture"}'
	run -0 --separate-stderr shop-pay capture ord_a
	[ "$(stat '[.requests["POST /v1/payment_intents/{id}/capture"], .executed.captures] | join(" ")')" = "3 1" ]
	# 500s past the attempts: unknown (69); the next run settles it, still one capture.
	shop-pay authorize ord_b >/dev/null
	fault '{"status":500,"count":4,"path":"/capture"}'
	run -69 --separate-stderr shop-pay capture ord_b
	[[ $stderr == *"outcome unknown (HTTP 500 api_error after retries"* ]]
	[ "$(pay_sql "SELECT status FROM payment WHERE order_id = 'ord_b'")" = unknown ]
	check_pay
	run -0 shop-pay capture ord_b
	[ "$(pay_status ord_b)" = "captured 1250 0" ]
	[ "$(stat '.executed.captures')" = 2 ]
}

@test "a dropped connection after the gateway committed: the retry gets the stored answer, one capture" {
	shop-pay authorize ord_a >/dev/null
	fault '{"commit_then_drop":true,"path":"/capture"}'
	run -0 --separate-stderr shop-pay capture ord_a
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(stat '[.executed.captures, .replayed] | join(" ")')" = "1 1" ]
	# With one attempt only, the drop leaves it unknown; run again: settled.
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY 1
	fault '{"commit_then_drop":true}'
	run -69 --separate-stderr shop-pay authorize ord_b
	[[ $stderr == *"authorize: outcome unknown"* ]]
	[ "$(pay_sql "SELECT status || ' ' || pending FROM payment WHERE order_id = 'ord_b'")" = "unknown authorize" ]
	check_pay
	run -0 shop-pay authorize ord_b
	[ "$(stat '.executed.payment_intents')" = 2 ]
}

@test "429 with Retry-After: honoured, then the request goes through" {
	shop-pay authorize ord_a >/dev/null
	fault '{"status":429,"retry_after":1,"path":"/capture"}'
	local t0=$SECONDS
	run -0 shop-pay capture ord_a
	[ $((SECONDS - t0)) -ge 1 ]
	[ "$(stat '[.requests["POST /v1/payment_intents/{id}/capture"], .executed.captures] | join(" ")')" = "2 1" ]
	# Rate limited past the attempts: not sent (69), nothing happened, not unknown.
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY 1
	fault '{"status":429,"retry_after":1}'
	run -69 --separate-stderr shop-pay authorize ord_b
	[[ $stderr == *"gateway unavailable, nothing done: rate limited"* ]]
	[ "$(pay_status ord_b)" = "failed 0 0" ]
}

@test "a timeout: unknown (69), never failed; settled by the next capture with the same key" {
	shop-pay authorize ord_a >/dev/null
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY 1 1s
	fault '{"delay_ms":2500,"path":"/capture"}'
	run -69 --separate-stderr shop-pay capture ord_a
	[[ $stderr == *"capture: outcome unknown"* ]]
	[ "$(pay_sql "SELECT status || ' ' || pending FROM payment")" = "unknown capture" ]
	run -0 shop-pay list --status unknown
	[ "${#lines[@]}" = 1 ]
	check_pay
	# The fake finishes the capture meanwhile; the retry waits out the key
	# in use (409) and gets the answer replayed.
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY 4 5s
	run -0 shop-pay capture ord_a
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(stat '.executed.captures')" = 1 ]
}

@test "an unknown authorization settled by void: the retry finds the hold, void releases it" {
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY 1
	fault '{"commit_then_drop":true}'
	run -69 shop-pay authorize ord_a
	run -0 shop-pay void ord_a
	[ "$(jq -r .status <<<"$output")" = voided ]
	[ "$(stat '[.executed.payment_intents, .executed.cancels, .payment_intents[0].status] | join(" ")')" = "1 1 canceled" ]
}

@test "concurrency: 6 processes capturing one order at once capture once" {
	shop-pay authorize ord_a >/dev/null
	fault '{"delay_ms":400,"path":"/capture"}'
	local i
	for i in 1 2 3 4 5 6; do
		(shop-pay capture ord_a >"$BATS_TEST_TMPDIR/c$i" 2>&1; echo $? >"$BATS_TEST_TMPDIR/rc$i") &
	done
	wait
	for i in 1 2 3 4 5 6; do
		[ "$(cat "$BATS_TEST_TMPDIR/rc$i")" = 0 ] || { cat "$BATS_TEST_TMPDIR/c$i"; false; }
	done
	[ "$(stat '.executed.captures')" = 1 ]
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(pay_sql "SELECT count(*) FROM outbox WHERE type = 'payment.captured'")" = 1 ]
}

@test "errors mapped: a wrong key is 78, a refused parameter 65; nothing left unknown" {
	SHOP_TEST_STRIPE_KEY=sk_test_wrong run -78 --separate-stderr shop-pay authorize ord_a
	[[ $stderr == *"the gateway refused the secret key (HTTP 401"* ]]
	[ "$(pay_status ord_a)" = "failed 0 0" ]
	run -65 --separate-stderr shop-pay authorize ord_b --method "pm_nope"
	[[ $stderr == *"invalid_request_error"* ]]
	[ "$(pay_sql "SELECT count(*) FROM payment WHERE status = 'unknown'")" = 0 ]
}

@test "unreachable gateway: 69, nothing done; no address but loopback is ever tried" {
	stripe_config "http://127.0.0.1:$(free_port)" SHOP_TEST_STRIPE_KEY 2
	run -69 --separate-stderr shop-pay authorize ord_a
	[[ $stderr == *"gateway unavailable, nothing done: POST http://127.0.0.1:"* ]]
	stripe_config "http://api.example.com" SHOP_TEST_STRIPE_KEY 1
	run -78 --separate-stderr shop-pay authorize ord_b
	[[ $stderr == *"payments.stripe.api_base"* ]]
}

@test "secrets: the canary key is in no output, no error, not in the store, not in argv" {
	shop-pay authorize ord_a >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	fault '{"delay_ms":1500,"path":"/capture"}'
	shop-pay capture ord_a >>"$BATS_TEST_TMPDIR/out" 2>>"$BATS_TEST_TMPDIR/err" &
	local pid=$! i
	sleep 0.5
	# argv of the running process, read while it waits for the fake
	tr '\0' ' ' </proc/$pid/cmdline >"$BATS_TEST_TMPDIR/argv"
	wait $pid
	SHOP_TEST_STRIPE_KEY=sk_test_wrong shop-pay authorize ord_b >>"$BATS_TEST_TMPDIR/out" 2>>"$BATS_TEST_TMPDIR/err" || true
	shop-pay list >>"$BATS_TEST_TMPDIR/out"
	shop-order trace ord_a >>"$BATS_TEST_TMPDIR/out"
	grep -q shop-pay "$BATS_TEST_TMPDIR/argv"
	for f in out err argv; do
		! grep -q "$SHOP_TEST_STRIPE_KEY" "$BATS_TEST_TMPDIR/$f"
		! grep -q CANARY "$BATS_TEST_TMPDIR/$f"
	done
	for f in "$SHOP_DB"*; do
		! grep -aq "$SHOP_TEST_STRIPE_KEY" "$f"
	done
	! grep -q "$SHOP_TEST_STRIPE_KEY" "$BATS_FILE_TMPDIR/fake.log"
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
}
