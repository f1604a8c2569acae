#!/usr/bin/env bats
# The fake Stripe (tests/helpers/fake_stripe.py) that shop-pay's tests run
# against: PaymentIntents with manual capture, refunds, declines, Stripe's
# Idempotency-Key rules, the fault switches and the control endpoints.
# One fake for the whole file, reset before every test.
load helpers/common

setup_file() {
	STRIPE_KEY="sk_test_51CANARY$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	export STRIPE_KEY
	# The key reaches the fake through its environment only.
	SURL=$(FAKE_STRIPE_KEY=$STRIPE_KEY start_fake "$BATS_FILE_TMPDIR" fake_stripe.py \
		--pid-file "$BATS_FILE_TMPDIR/pid" --key-env FAKE_STRIPE_KEY --verbose) || return 1
	export SURL
}

teardown_file() { stop_fake "$BATS_FILE_TMPDIR"; }

setup() {
	common_setup
	B=$BATS_TEST_TMPDIR
	ctl POST /_reset >/dev/null
}

# stripe METHOD PATH [CURL-ARGS...]: one API request with the key (SK= to
# send none, SK=other for a wrong one). Prints the HTTP status; the body goes
# to $OUT.body and the headers to $OUT.hdr (OUT defaults to $B/r).
stripe() {
	local m=$1 p=$2 out=${OUT:-$B/r}
	shift 2
	local auth=()
	[ -n "${SK-$STRIPE_KEY}" ] && auth=(-u "${SK-$STRIPE_KEY}:")
	curl -sS --noproxy '*' -X "$m" "${auth[@]}" -o "$out.body" -D "$out.hdr" \
		-w '%{http_code}' "$@" "$SURL$p"
}

# ctl METHOD PATH [JSON]: a control request; prints the body.
ctl() {
	curl -sS --noproxy '*' -X "$1" ${3:+-d "$3"} "$SURL$2"
}

# j FILTER [FILE]: jq -r on the last body.
j() { jq -r "$1" "${2:-$B/r.body}"; }

# hdr NAME [FILE]: a response header's value.
hdr() {
	tr -d '\r' <"${2:-$B/r.hdr}" | sed -n "s/^$1: //Ip" | tail -1
}

# stat FILTER: jq -r on GET /_stats.
stat() { ctl GET /_stats | jq -r "$1"; }

# authorize AMOUNT [PM [CURL-ARGS...]]: a confirmed manual-capture intent;
# prints the HTTP status.
authorize() {
	local amount=$1 pm=${2:-pm_card_visa}
	shift
	[ $# -gt 0 ] && shift
	stripe POST /v1/payment_intents -d amount="$amount" -d currency=eur -d payment_method="$pm" \
		-d capture_method=manual -d confirm=true -d 'metadata[order_id]=1001' "$@"
}

# new_intent AMOUNT: authorizes pm_card_visa; sets PI.
new_intent() {
	[ "$(authorize "$1")" = 200 ] || { cat "$B/r.body"; return 1; }
	PI=$(j .id)
}

PI_RE='^pi_[A-Za-z0-9]+$'

@test "flow: create (requires_capture), retrieve, capture (succeeded), refunds up to the amount" {
	run -0 --separate-stderr stripe POST /v1/payment_intents -d amount=5000 -d currency=EUR \
		-d payment_method=pm_card_visa -d capture_method=manual -d confirm=true \
		-d 'payment_method_types[]=card' -d 'metadata[order_id]=1001' -d 'metadata[attempt]=a1' \
		-d 'description=Order 1001'
	[ "$output" = 200 ]
	[[ $(j .id) =~ $PI_RE ]]
	[ "$(j '[.object,.status,.amount,.amount_capturable,.amount_received,.currency,.capture_method,.payment_method] | join(" ")')" = \
		"payment_intent requires_capture 5000 5000 0 eur manual pm_card_visa" ]
	[ "$(jq -cS .metadata "$B/r.body")" = '{"attempt":"a1","order_id":"1001"}' ]
	[ "$(jq -c .payment_method_types "$B/r.body")" = '["card"]' ]
	[[ $(j .latest_charge) == ch_* ]]
	[[ $(j .created) =~ ^[0-9]{10}$ ]]
	[[ $(hdr Request-Id) == req_* ]]
	pi=$(j .id) ch=$(j .latest_charge)

	run -0 --separate-stderr stripe GET "/v1/payment_intents/$pi"
	[ "$output" = 200 ]
	[ "$(j '.id + " " + .status')" = "$pi requires_capture" ]

	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture"
	[ "$output" = 200 ]
	[ "$(j '[.status,.amount_capturable,.amount_received] | join(" ")')" = "succeeded 0 5000" ]

	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$pi" -d amount=2000 -d reason=requested_by_customer
	[ "$output" = 200 ]
	[[ $(j .id) == re_* ]]
	[ "$(j '[.object,.amount,.currency,.status,.payment_intent,.charge,.reason] | join(" ")')" = \
		"refund 2000 eur succeeded $pi $ch requested_by_customer" ]
	re1=$(j .id)
	# no amount: the rest
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$pi"
	[ "$output" = 200 ]
	[ "$(j .amount)" = 3000 ]
	re2=$(j .id)
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$pi" -d amount=1
	[ "$output" = 400 ]
	[ "$(j '.error.type + " " + .error.code')" = "invalid_request_error charge_already_refunded" ]

	run -0 --separate-stderr stripe GET "/v1/refunds/$re1"
	[ "$output" = 200 ]
	[ "$(j .amount)" = 2000 ]
	run -0 --separate-stderr stripe GET "/v1/charges/$ch"
	[ "$(j '[.amount_captured,.amount_refunded,.refunded,.captured] | join(" ")')" = "5000 5000 true true" ]

	run -0 --separate-stderr stat '[.executed.captures, .executed.refunds, .payment_intents[0].status, .payment_intents[0].amount_refunded] | join(" ")'
	[ "$output" = "1 2 succeeded 5000" ]
	run -0 --separate-stderr stat '.payment_intents[0].refunds | join(" ")'
	[ "$output" = "$re1 $re2" ]
}

@test "balance transactions: one per capture and refund, newest first, fee 0" {
	new_intent 5000
	stripe POST "/v1/payment_intents/$PI/capture" -d amount_to_capture=4000 >/dev/null
	ch=$(j .latest_charge)
	OUT=$B/re stripe POST /v1/refunds -d payment_intent="$PI" -d amount=1500 >/dev/null
	re=$(j .id "$B/re.body")
	run -0 --separate-stderr stripe GET '/v1/balance_transactions?limit=10'
	[ "$output" = 200 ]
	[ "$(j '.object + " " + .url + " " + (.has_more|tostring)')" = "list /v1/balance_transactions false" ]
	[ "$(j '.data | length')" = 2 ]
	[ "$(j '.data[1] | [.object,.type,.amount,.fee,.net,.currency,.status,.source] | join(" ")')" = \
		"balance_transaction charge 4000 0 4000 eur available $ch" ]
	[ "$(j '.data[0] | [.type,.amount,.fee,.net,.source] | join(" ")')" = "refund -1500 0 -1500 $re" ]
	[[ $(j '.data[0].id') == txn_* ]]
	run -0 --separate-stderr stripe GET '/v1/balance_transactions?limit=1'
	[ "$(j '(.data | length | tostring) + " " + (.has_more|tostring) + " " + .data[0].type')" = "1 true refund" ]
	first=$(j '.data[0].id')
	run -0 --separate-stderr stripe GET "/v1/balance_transactions?limit=5&starting_after=$first"
	[ "$(j '[.data[].type] | join(" ")')" = charge ]
	run -0 --separate-stderr stripe GET '/v1/balance_transactions?limit=0'
	[ "$output" = 400 ]
	[ "$(j .error.param)" = limit ]
}

@test "declines: 402 card_error with code, decline_code and the requires_payment_method intent" {
	check_decline() {
		run -0 --separate-stderr authorize 5000 "$1"
		[ "$output" = 402 ] || { cat "$B/r.body"; return 1; }
		[ "$(j '[.error.type, .error.code, .error.decline_code // "none"] | join(" ")')" = "card_error $2 $3" ]
		[ -n "$(j .error.message)" ]
		[ "$(j '.error.payment_method.id')" = "$1" ]
		[ "$(j '.error.payment_intent | [.object, .status, .amount, .amount_capturable] | join(" ")')" = \
			"payment_intent requires_payment_method 5000 0" ]
		[ "$(j '.error.payment_intent.last_payment_error.code')" = "$2" ]
		[ "$(j .error.charge)" = "$(j .error.payment_intent.latest_charge)" ]
		local pi
		pi=$(j .error.payment_intent.id)
		[[ $pi =~ $PI_RE ]]
		run -0 --separate-stderr stripe GET "/v1/payment_intents/$pi"
		[ "$output" = 200 ]
		[ "$(j .status)" = requires_payment_method ]
		run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture"
		[ "$output" = 400 ]
		[ "$(j .error.code)" = payment_intent_unexpected_state ]
	}
	check_decline pm_card_chargeDeclined card_declined generic_decline
	[ "$(j .error.message)" = "This PaymentIntent could not be captured because it has a status of requires_payment_method. Only a PaymentIntent with one of the following statuses may be captured: requires_capture." ]
	check_decline pm_card_chargeDeclinedInsufficientFunds card_declined insufficient_funds
	check_decline pm_card_chargeDeclinedExpiredCard expired_card expired_card
	check_decline pm_card_chargeDeclinedProcessingError processing_error none
	run -0 --separate-stderr stat '[.executed.declines, .executed.captures, (.payment_intents | length)] | join(" ")'
	[ "$output" = "4 0 4" ]
}

@test "pm_card_authenticationRequired: requires_action, cannot be captured, can be canceled" {
	run -0 --separate-stderr authorize 1200 pm_card_authenticationRequired
	[ "$output" = 200 ]
	[ "$(j '.status + " " + (.amount_capturable|tostring) + " " + .next_action.type')" = "requires_action 0 use_stripe_sdk" ]
	pi=$(j .id)
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture"
	[ "$output" = 400 ]
	[ "$(j '.error.type + " " + .error.code + " " + .error.payment_intent.status')" = \
		"invalid_request_error payment_intent_unexpected_state requires_action" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/cancel" -d cancellation_reason=abandoned
	[ "$output" = 200 ]
	[ "$(j .status)" = canceled ]
}

@test "bad parameters: 400 invalid_request_error naming the param; unknown ids 404 resource_missing" {
	bad() { # EXPECTED-PARAM CURL-ARGS...
		local want=$1
		shift
		run -0 --separate-stderr stripe POST /v1/payment_intents "$@"
		[ "$output" = 400 ] || { echo "$*: $output"; cat "$B/r.body"; return 1; }
		[ "$(j '.error.type + " " + .error.param')" = "invalid_request_error $want" ] || {
			echo "$*"; cat "$B/r.body"; return 1; }
	}
	bad amount -d currency=eur -d payment_method=pm_card_visa -d confirm=true
	[ "$(j .error.code)" = parameter_missing ]
	[ "$(j .error.message)" = "Missing required param: amount." ]
	bad amount -d amount=12.50 -d currency=eur
	bad amount -d amount=abc -d currency=eur
	bad amount -d amount=0 -d currency=eur
	bad amount -d amount=-5 -d currency=eur
	bad currency -d amount=100
	bad currency -d amount=100 -d currency=euro
	bad payment_method -d amount=100 -d currency=eur -d payment_method=pm_card_nope -d confirm=true
	bad payment_method -d amount=100 -d currency=eur -d confirm=true
	bad capture_method -d amount=100 -d currency=eur -d capture_method=later
	bad confirm -d amount=100 -d currency=eur -d confirm=yes
	bad amont -d amont=100 -d currency=eur
	[ "$(j .error.code)" = parameter_unknown ]
	bad payment_method_types -d amount=100 -d currency=eur -d 'payment_method_types[]=sepa_debit'
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Content-Type: application/json' \
		-d '{"amount":100,"currency":"eur"}'
	[ "$output" = 400 ]
	[ "$(stat '.executed.payment_intents')" = 0 ]

	run -0 --separate-stderr stripe GET /v1/payment_intents/pi_nope
	[ "$output" = 404 ]
	[ "$(jq -c .error "$B/r.body")" = '{"code":"resource_missing","doc_url":"https://stripe.com/docs/error-codes/resource-missing","message":"No such payment_intent: '"'pi_nope'"'","param":"intent","type":"invalid_request_error"}' ]
	run -0 --separate-stderr stripe POST /v1/payment_intents/pi_nope/capture
	[ "$output" = 404 ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent=pi_nope
	[ "$output" = 404 ]
	[ "$(j .error.code)" = resource_missing ]
	run -0 --separate-stderr stripe POST /v1/refunds -d amount=100
	[ "$output" = 400 ]
	[ "$(j .error.param)" = payment_intent ]
	run -0 --separate-stderr stripe GET /v1/customers
	[ "$output" = 404 ]
	[ "$(j .error.message)" = "Unrecognized request URL (GET: /v1/customers)." ]
}

@test "partial capture: the rest is released; over amount_capturable refused; refunds bounded by amount_received" {
	new_intent 5000
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -d amount_to_capture=6000
	[ "$output" = 400 ]
	[ "$(j '.error.type + " " + .error.param')" = "invalid_request_error amount_to_capture" ]
	[ "$(j .error.payment_intent.status)" = requires_capture ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -d amount_to_capture=3000
	[ "$output" = 200 ]
	[ "$(j '[.status,.amount,.amount_capturable,.amount_received] | join(" ")')" = "succeeded 5000 0 3000" ]
	# captured once: a second capture is refused
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -d amount_to_capture=1000
	[ "$output" = 400 ]
	[ "$(j .error.code)" = payment_intent_unexpected_state ]
	[ "$(j .error.payment_intent.amount_received)" = 3000 ]

	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=1000
	[ "$output" = 200 ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=2001
	[ "$output" = 400 ]
	[ "$(j '.error.type + " " + .error.code + " " + .error.param')" = "invalid_request_error amount_too_large amount" ]
	[ "$(j .error.message)" = "Refund amount (2001) is greater than unrefunded amount on charge (2000)" ]
	[ "$(stat '[.executed.refunds, .payment_intents[0].amount_refunded] | join(" ")')" = "1 1000" ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=2000
	[ "$output" = 200 ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=1
	[ "$output" = 400 ]
	[ "$(j .error.code)" = charge_already_refunded ]
	[ "$(stat '[.executed.captures, .executed.refunds, .payment_intents[0].amount_refunded] | join(" ")')" = "1 2 3000" ]
}

@test "refunds: refused before capture and after cancel; by charge id too" {
	new_intent 2500
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=100
	[ "$output" = 400 ]
	[ "$(j '.error.type + " " + .error.code')" = "invalid_request_error payment_intent_unexpected_state" ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=0
	[ "$output" = 400 ]
	[ "$(j .error.param)" = amount ]
	stripe POST "/v1/payment_intents/$PI/capture" >/dev/null
	ch=$(j .latest_charge)
	run -0 --separate-stderr stripe POST /v1/refunds -d charge="$ch" -d amount=500
	[ "$output" = 200 ]
	[ "$(j '.payment_intent + " " + (.amount|tostring)')" = "$PI 500" ]
	run -0 --separate-stderr stripe POST /v1/refunds -d payment_intent="$PI" -d amount=2001
	[ "$output" = 400 ]
	[ "$(stat '.payment_intents[0].amount_refunded')" = 500 ]
}

@test "cancel: requires_capture -> canceled with its reason; not after succeeded; not twice" {
	new_intent 4000
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/cancel" -d cancellation_reason=bogus
	[ "$output" = 400 ]
	[ "$(j .error.param)" = cancellation_reason ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/cancel" -d cancellation_reason=requested_by_customer
	[ "$output" = 200 ]
	[ "$(j '[.status,.cancellation_reason,.amount_capturable,.amount_received] | join(" ")')" = \
		"canceled requested_by_customer 0 0" ]
	[[ $(j .canceled_at) =~ ^[0-9]+$ ]]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture"
	[ "$output" = 400 ]
	[ "$(j '.error.code + " " + .error.payment_intent.status')" = "payment_intent_unexpected_state canceled" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/cancel"
	[ "$output" = 400 ]
	[ "$(j .error.code)" = payment_intent_unexpected_state ]

	new_intent 4000
	stripe POST "/v1/payment_intents/$PI/capture" >/dev/null
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/cancel"
	[ "$output" = 400 ]
	[ "$(j .error.code)" = payment_intent_unexpected_state ]
	[[ $(j .error.message) == "You cannot cancel this PaymentIntent because it has a status of succeeded."* ]]
	[ "$(stat '[.executed.cancels, .executed.captures, ([.payment_intents[].status] | join(","))] | join(" ")')" = \
		"1 1 canceled,succeeded" ]
}

@test "confirm: an intent created without confirm=true" {
	run -0 --separate-stderr stripe POST /v1/payment_intents -d amount=700 -d currency=usd -d capture_method=manual
	[ "$output" = 200 ]
	[ "$(j .status)" = requires_payment_method ]
	pi=$(j .id)
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/confirm" -d payment_method=pm_card_visa
	[ "$output" = 200 ]
	[ "$(j '.status + " " + (.amount_capturable|tostring)')" = "requires_capture 700" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/confirm"
	[ "$output" = 400 ]
	[ "$(j .error.code)" = payment_intent_unexpected_state ]
}

@test "idempotency: same key and body replay the first answer byte for byte; other params 400 idempotency_error" {
	args=(-d amount=5000 -d currency=eur -d payment_method=pm_card_visa -d capture_method=manual
		-d confirm=true -d 'metadata[order_id]=1001')
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: ord-1001-auth' "${args[@]}"
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(hdr Idempotency-Key)" = ord-1001-auth ]
	cp "$B/r.body" "$B/first.body"
	first_req=$(hdr Request-Id)
	pi=$(j .id)
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: ord-1001-auth' "${args[@]}"
	[ "$output" = 200 ]
	cmp "$B/first.body" "$B/r.body"
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(hdr Original-Request)" = "$first_req" ]
	# the same parameters in another order are the same request
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: ord-1001-auth' \
		-d 'metadata[order_id]=1001' -d confirm=true -d capture_method=manual -d payment_method=pm_card_visa \
		-d currency=eur -d amount=5000
	[ "$output" = 200 ]
	cmp "$B/first.body" "$B/r.body"

	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: ord-1001-auth' \
		-d amount=5001 -d currency=eur -d payment_method=pm_card_visa -d capture_method=manual -d confirm=true \
		-d 'metadata[order_id]=1001'
	[ "$output" = 400 ]
	[ "$(j .error.type)" = idempotency_error ]
	[[ $(j .error.message) == *"same parameters"* ]]
	[ -z "$(hdr Idempotent-Replayed)" ]
	# the same key on another endpoint is another request too
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture" -H 'Idempotency-Key: ord-1001-auth'
	[ "$output" = 400 ]
	[ "$(j .error.type)" = idempotency_error ]

	# capture twice with one key: one capture, the second answer replayed
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture" -H 'Idempotency-Key: ord-1001-capture'
	[ "$output" = 200 ]
	cp "$B/r.body" "$B/cap.body"
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture" -H 'Idempotency-Key: ord-1001-capture'
	[ "$output" = 200 ]
	cmp "$B/cap.body" "$B/r.body"
	[ "$(hdr Idempotent-Replayed)" = true ]
	# without a key a second capture is a new request, and refused
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$pi/capture"
	[ "$output" = 400 ]
	run -0 --separate-stderr stat '[.executed.payment_intents, .executed.captures, .replayed, (.payment_intents | length)] | join(" ")'
	[ "$output" = "1 1 3 1" ]
	[ "$(stat '.requests["POST /v1/payment_intents/{id}/capture"]')" = 4 ]

	long=$(printf 'k%.0s' $(seq 256))
	run -0 --separate-stderr stripe POST /v1/payment_intents -H "Idempotency-Key: $long" "${args[@]}"
	[ "$output" = 400 ]
	[ "$(j .error.type)" = invalid_request_error ]
	run -0 --separate-stderr stripe POST /v1/payment_intents -H "Idempotency-Key: ${long:1}" "${args[@]}"
	[ "$output" = 200 ]
}

@test "idempotency: declines and state errors are stored, validation errors are not" {
	run -0 --separate-stderr authorize 900 pm_card_chargeDeclined -H 'Idempotency-Key: dec-1'
	[ "$output" = 402 ]
	cp "$B/r.body" "$B/dec.body"
	run -0 --separate-stderr authorize 900 pm_card_chargeDeclined -H 'Idempotency-Key: dec-1'
	[ "$output" = 402 ]
	cmp "$B/dec.body" "$B/r.body"
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(stat '.executed.declines')" = 1 ]

	new_intent 900
	stripe POST "/v1/payment_intents/$PI/cancel" >/dev/null
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: cap-x'
	[ "$output" = 400 ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: cap-x'
	[ "$output" = 400 ]
	[ "$(hdr Idempotent-Replayed)" = true ]

	# a request that failed validation never began: its key stays free
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: val-1' -d amount=0 -d currency=eur
	[ "$output" = 400 ]
	run -0 --separate-stderr stripe POST /v1/payment_intents -H 'Idempotency-Key: val-1' -d amount=100 -d currency=eur
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	# a GET ignores the header
	run -0 --separate-stderr stripe GET "/v1/payment_intents/$PI" -H 'Idempotency-Key: val-1'
	[ "$output" = 200 ]
}

@test "fault 500: not stored under the key, the retry executes once; path restricts the fault" {
	new_intent 3000
	run -0 --separate-stderr ctl POST /_fault '{"status":500,"count":2,"path":"/capture"}'
	[ "$output" = '{
  "ok": true,
  "pending": 1
}' ]
	# not a capture: untouched by the fault
	run -0 --separate-stderr stripe GET "/v1/payment_intents/$PI"
	[ "$output" = 200 ]
	for i in 1 2; do
		run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o1-capture'
		[ "$output" = 500 ]
		[ "$(j .error.type)" = api_error ]
		[ -z "$(hdr Idempotent-Replayed)" ]
	done
	[ "$(stat '.executed.captures')" = 0 ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o1-capture'
	[ "$output" = 200 ]
	[ "$(j .status)" = succeeded ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o1-capture'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	run -0 --separate-stderr stat '[.executed.captures, .payment_intents[0].captures, .replayed, .faults_applied, .faults_pending,
		.requests["POST /v1/payment_intents/{id}/capture"]] | join(" ")'
	[ "$output" = "1 1 1 2 0 4" ]
}

@test "fault 429: Retry-After and a rate_limit body, then the request goes through" {
	new_intent 3000
	ctl POST /_fault '{"status":429,"retry_after":1}' >/dev/null
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o2-capture'
	[ "$output" = 429 ]
	[ "$(hdr Retry-After)" = 1 ]
	[ "$(j '.error.type + " " + .error.code')" = "invalid_request_error rate_limit" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o2-capture'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(stat '.executed.captures')" = 1 ]
}

@test "fault delay: the client times out, the capture still happens; a retry meanwhile gets 409, later the replay" {
	new_intent 3000
	ctl POST /_fault '{"delay_ms":2000,"path":"/capture"}' >/dev/null
	run -28 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o3-capture' --max-time 0.5
	# still executing and holding the key
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o3-capture'
	[ "$output" = 409 ]
	[ "$(j .error.code)" = idempotency_key_in_use ]
	for i in $(seq 80); do
		[ "$(stat '.executed.captures')" = 1 ] && break
		sleep 0.1
	done
	[ "$(stat '[.executed.captures, .payment_intents[0].status] | join(" ")')" = "1 succeeded" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o3-capture'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j '.status + " " + (.amount_received|tostring)')" = "succeeded 3000" ]
	[ "$(stat '.executed.captures')" = 1 ]
}

@test "fault delay with process false: nothing executed, the key stays free" {
	new_intent 3000
	ctl POST /_fault '{"delay_ms":200,"process":false}' >/dev/null
	run -52 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o4-capture'
	[[ $stderr == *"Empty reply from server"* ]]
	[ "$(stat '[.executed.captures, .payment_intents[0].status] | join(" ")')" = "0 requires_capture" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o4-capture'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(stat '.executed.captures')" = 1 ]
}

@test "fault commit_then_drop: empty reply, the capture stored; the retry with the key gets it, one execution" {
	new_intent 3000
	ctl POST /_fault '{"commit_then_drop":true,"path":"/capture"}' >/dev/null
	OUT=$B/drop run -52 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o5-capture'
	[[ $stderr == *"Empty reply from server"* ]]
	[ "$output" = 000 ]
	[ ! -s "$B/drop.body" ] && [ ! -s "$B/drop.hdr" ]
	[ "$(stat '[.executed.captures, .payment_intents[0].status, .idempotency_keys] | join(" ")')" = "1 succeeded 1" ]
	run -0 --separate-stderr stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: o5-capture'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j '.id + " " + .status + " " + (.amount_received|tostring)')" = "$PI succeeded 3000" ]
	run -0 --separate-stderr stat '[.executed.captures, .payment_intents[0].captures, .replayed] | join(" ")'
	[ "$output" = "1 1 1" ]

	# the same for a create: the intent exists once
	ctl POST /_fault '{"commit_then_drop":true}' >/dev/null
	run -52 --separate-stderr authorize 800 pm_card_visa -H 'Idempotency-Key: o6-auth'
	run -0 --separate-stderr authorize 800 pm_card_visa -H 'Idempotency-Key: o6-auth'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(stat '[.executed.payment_intents, (.payment_intents | length)] | join(" ")')" = "2 2" ]
}

@test "control: bad fault specs refused, drop, a list of faults, reset forgets everything" {
	run -0 --separate-stderr ctl POST /_fault '{"status":500,"bogus":1}'
	[[ $output == *invalid_request_error* ]]
	run -0 --separate-stderr ctl POST /_fault '{"count":2}'
	[[ $output == *invalid_request_error* ]]
	run -0 --separate-stderr ctl POST /_fault '[{"drop":true},{"status":503}]'
	[ "$(jq -r .pending <<<"$output")" = 2 ]
	run -52 --separate-stderr stripe GET /v1/balance_transactions
	run -0 --separate-stderr stripe GET /v1/balance_transactions
	[ "$output" = 503 ]
	run -0 --separate-stderr stripe GET /v1/balance_transactions
	[ "$output" = 200 ]
	new_intent 100
	ctl POST /_fault '{"status":500}' >/dev/null
	run -0 --separate-stderr ctl POST /_reset
	run -0 --separate-stderr stat '[(.payment_intents | length), .faults_pending, .executed.payment_intents, (.requests | length)] | join(" ")'
	[ "$output" = "0 0 0 0" ]
	run -0 --separate-stderr stripe GET "/v1/payment_intents/$PI"
	[ "$output" = 404 ]
}

@test "auth: 401 without the key or with another, Basic or Bearer; the key never echoed" {
	want='{"error":{"message":"Invalid API Key provided","type":"invalid_request_error"}}'
	SK= run -0 --separate-stderr stripe GET /v1/balance_transactions
	[ "$output" = 401 ]
	[ "$(jq -cS . "$B/r.body")" = "$want" ]
	SK=sk_test_wrong_key run -0 --separate-stderr stripe POST /v1/payment_intents -d amount=100 -d currency=eur
	[ "$output" = 401 ]
	[ "$(jq -cS . "$B/r.body")" = "$want" ]
	run -1 --separate-stderr grep -q sk_test_wrong_key "$B/r.body" "$B/r.hdr"
	run -0 --separate-stderr stripe GET /v1/balance_transactions -u "${STRIPE_KEY}x:"
	[ "$output" = 401 ]
	SK= run -0 --separate-stderr stripe GET /v1/balance_transactions -H "Authorization: Bearer wrong"
	[ "$output" = 401 ]
	SK= run -0 --separate-stderr stripe GET /v1/balance_transactions -H "Authorization: Bearer $STRIPE_KEY"
	[ "$output" = 200 ]
	run -0 --separate-stderr stripe GET /v1/balance_transactions
	[ "$output" = 200 ]
	[ "$(stat '[.unauthorized, .executed.payment_intents] | join(" ")')" = "4 0" ]
}

@test "secrets: the canary key is in no answer, not in the fake's argv, not in its log" {
	new_intent 100
	stripe POST "/v1/payment_intents/$PI/capture" -H 'Idempotency-Key: s1' >/dev/null
	SK=wrong stripe GET /v1/balance_transactions >/dev/null
	ctl POST /_fault '{"commit_then_drop":true}' >/dev/null
	stripe POST /v1/refunds -d payment_intent="$PI" >/dev/null || true
	ctl GET /_stats >"$B/stats"
	run -1 --separate-stderr grep -rqF "$STRIPE_KEY" "$B"
	pid=$(cat "$BATS_FILE_TMPDIR/pid")
	[ "$pid" = "$(cat "$BATS_FILE_TMPDIR/fake.bgpid")" ]
	tr '\0' ' ' <"/proc/$pid/cmdline" >"$B/cmdline"
	grep -q fake_stripe.py "$B/cmdline"
	run -1 --separate-stderr grep -qF "$STRIPE_KEY" "$B/cmdline"
	log=$BATS_FILE_TMPDIR/fake.log
	grep -q 'POST /v1/payment_intents/pi_[A-Za-z0-9]*/capture -> 200 key=s1' "$log"
	grep -q ' -> 401' "$log"
	run -1 --separate-stderr grep -qF "$STRIPE_KEY" "$log"
	run -1 --separate-stderr grep -qF "$(printf '%s:' "$STRIPE_KEY" | base64 -w0)" "$log"
}
