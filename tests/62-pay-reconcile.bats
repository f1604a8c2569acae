#!/usr/bin/env bats
# shop-pay reconcile: the sandbox's settlement report and a CSV of Stripe's
# itemized balance report (served by the fake Stripe) matched against the
# payments; one discrepancy record per payment missing on either side or
# differing; exit 1 when any, 0 when clean; unknown payments settled.
load helpers/common
load helpers/order
load helpers/pay

setup_file() {
	SHOP_TEST_STRIPE_KEY="sk_test_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	export SHOP_TEST_STRIPE_KEY
	SURL=$(start_fake "$BATS_FILE_TMPDIR" fake_stripe.py --pid-file "$BATS_FILE_TMPDIR/pid" \
		--key-env SHOP_TEST_STRIPE_KEY --now "$(date -u -d 2026-11-29T12:00:00Z +%s)") || return 1
	export SURL
}

teardown_file() { stop_fake "$BATS_FILE_TMPDIR"; }

setup() {
	common_setup
	R=$BATS_TEST_TMPDIR
	for o in a b c d; do make_order "ord_$o" "cust_$o" pending; done
}

teardown() { check_pay; }

# A day of payments: a captured, b captured 10.00 and refunded 3.00, c
# authorized, d voided.
a_day() {
	shop-pay -q authorize ord_a ord_b ord_c ord_d >/dev/null
	shop-pay -q capture ord_a >/dev/null
	shop-pay -q capture ord_b --amount 1000 >/dev/null
	shop-pay -q refund ord_b --amount 300 >/dev/null
	shop-pay -q void ord_d >/dev/null
}

@test "sandbox: a clean report exits 0 and prints nothing on stdout" {
	a_day
	shop-pay settlement >"$R/day.jsonl"
	[ "$(wc -l <"$R/day.jsonl")" = 8 ]
	run -0 --separate-stderr shop-pay reconcile --report "$R/day.jsonl"
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: reconcile: 2026-11-29..2026-11-29: clean (4 payments in the report, 4 in shop, 0 settled)" ]
	run -0 --separate-stderr shop-pay -q reconcile --report - <"$R/day.jsonl"
	[ -z "$stderr" ]
}

@test "sandbox: a missing payment, an extra one and a wrong amount: one record each, exit 1" {
	a_day
	shop-pay settlement >"$R/day.jsonl"
	local ref_a ref_b
	ref_a=$(pay_sql "SELECT gateway_ref FROM payment WHERE order_id = 'ord_a'")
	ref_b=$(pay_sql "SELECT gateway_ref FROM payment WHERE order_id = 'ord_b'")
	{
		grep -v "$ref_a" "$R/day.jsonl" | sed "s/\"type\":\"refund\",\"payment_ref\":\"$ref_b\",\"order_id\":\"ord_b\",\"amount\":300/\"type\":\"refund\",\"payment_ref\":\"$ref_b\",\"order_id\":\"ord_b\",\"amount\":350/"
		echo '{"kind":"settlement","id":"txn_x","type":"capture","payment_ref":"pi_stranger","order_id":"ord_zz","amount":999,"currency":"USD","at":"2026-11-29T13:00:00Z"}'
	} >"$R/bad.jsonl"
	grep -q '"amount":350' "$R/bad.jsonl"
	run -1 --separate-stderr shop-pay reconcile --report "$R/bad.jsonl"
	[ "${#lines[@]}" = 3 ]
	[ "$(jq -r '[.kind, .problem, .order_id // "-"] | join(" ")' <<<"$output" | sort | tr '\n' ';')" = \
		"discrepancy amount ord_b;discrepancy missing_at_gateway ord_a;discrepancy missing_in_shop ord_zz;" ]
	[ "$(jq -r 'select(.problem == "amount") | .detail' <<<"$output")" = "refunded: shop 300, the report 350" ]
	[ "$(jq -c 'select(.problem == "missing_in_shop") | [.shop, .gateway.captured, .gateway_ref]' <<<"$output")" = '[null,999,"pi_stranger"]' ]
	[ "$stderr" = "shop-pay: reconcile: 2026-11-29..2026-11-29: 3 discrepancies (4 payments in the report, 4 in shop, 0 settled)" ]
}

@test "sandbox: a voided payment the report shows authorized only is a state discrepancy" {
	a_day
	shop-pay settlement | grep -v '"type":"void"' >"$R/day.jsonl"
	run -1 --separate-stderr shop-pay reconcile --report "$R/day.jsonl"
	[ "$(jq -r '[.problem, .order_id, .detail] | join(" ")' <<<"$output")" = "state ord_d voided: shop yes, the report no" ]
}

@test "the period: --date picks the day; movements of other days are not expected" {
	SHOP_NOW=2026-11-28T10:00:00Z shop-pay -q authorize ord_a ord_b >/dev/null
	SHOP_NOW=2026-11-28T11:00:00Z shop-pay -q capture ord_a >/dev/null
	shop-pay -q capture ord_b >/dev/null
	shop-pay settlement --date 2026-11-28 >"$R/d28"
	shop-pay settlement --date 2026-11-29 >"$R/d29"
	[ "$(wc -l <"$R/d28")" = 3 ] && [ "$(wc -l <"$R/d29")" = 1 ]
	run -0 --separate-stderr shop-pay reconcile --report "$R/d28"
	run -0 --separate-stderr shop-pay reconcile --report "$R/d29"
	# An empty report for a day with movements: each is missing at the gateway.
	: >"$R/empty"
	run -1 --separate-stderr shop-pay reconcile --report "$R/empty" --date 2026-11-29
	[ "$(jq -r '[.problem, .order_id] | join(" ")' <<<"$output")" = "missing_at_gateway ord_b" ]
	run -0 --separate-stderr shop-pay reconcile --report "$R/empty"
	[[ $stderr == *"no movements and no --date: nothing to compare" ]]
	run -64 shop-pay settlement --date 2026-13-01
	run -64 shop-pay reconcile --report "$R/empty" --date yesterday
}

@test "unknown payments: the report settles them; one it does not show stays unknown and is reported" {
	shop-pay -q authorize ord_a ord_b >/dev/null
	shop-pay -q authorize ord_c --method pm_sandbox_timeout >/dev/null 2>&1 || true
	shop-pay -q authorize ord_c >/dev/null
	run -69 shop-pay capture ord_c
	[ "$(pay_sql "SELECT status || ' ' || pending FROM payment WHERE order_id = 'ord_c'")" = "unknown capture" ]
	shop-pay settlement >"$R/day.jsonl"
	run -0 --separate-stderr shop-pay reconcile --report "$R/day.jsonl"
	[[ ${stderr} == *"reconcile: payment pay_"*" of order ord_c: its capture settled by the report"* ]]
	[ "$(pay_status ord_c)" = "captured 1250 0" ]
	# An unknown authorization the report does not have: stays unknown, exit 1.
	run -69 shop-pay authorize ord_d --method pm_sandbox_timeout
	grep -v '"order_id":"ord_d"' <(shop-pay settlement) >"$R/day2.jsonl"
	run -1 --separate-stderr shop-pay reconcile --report "$R/day2.jsonl"
	[ "$(jq -r '[.problem, .order_id, .detail] | join(" ")' <<<"$output")" = \
		"unknown ord_d the outcome of its authorize is unknown and not in the report" ]
	[ "$(pay_sql "SELECT status FROM payment WHERE order_id = 'ord_d'")" = unknown ]
}

@test "bad reports: a malformed line is 65 and names the line, nothing settled; no file is 66" {
	shop-pay -q authorize ord_a >/dev/null
	shop-pay -q authorize ord_b --method pm_sandbox_timeout >/dev/null 2>&1 || true
	shop-pay settlement >"$R/day.jsonl"
	local before
	before=$(dump_store)
	{ head -1 "$R/day.jsonl"; echo '{"kind":"settlement","type":"capture"'; } >"$R/bad1"
	run -65 --separate-stderr shop-pay reconcile --report "$R/bad1"
	[[ $stderr == "shop-pay: $R/bad1:2: "* ]]
	{ head -1 "$R/day.jsonl"; echo '{"kind":"settlement","id":"t","type":"capture","payment_ref":"pi_x","amount":1.5,"currency":"USD","at":"2026-11-29T12:00:00Z"}'; } >"$R/bad2"
	run -65 --separate-stderr shop-pay reconcile --report "$R/bad2"
	[[ $stderr == "shop-pay: $R/bad2:2: "*"amount"* ]]
	{ head -1 "$R/day.jsonl"; echo '{"kind":"settlement","id":"t","type":"chargeback","payment_ref":"pi_x","amount":1,"currency":"USD","at":"2026-11-29T12:00:00Z"}'; } >"$R/bad3"
	run -65 --separate-stderr shop-pay reconcile --report "$R/bad3"
	[ "$stderr" = "shop-pay: $R/bad3:2: type 'chargeback' is not authorization, capture, void or refund" ]
	printf 'balance_transaction_id,created_utc,currency,gross,reporting_category,payment_intent_id\ntxn_1,2026-11-29 12:00:00,usd,12.5x,charge,pi_1\n' >"$R/bad.csv"
	run -65 --separate-stderr shop-pay reconcile --report "$R/bad.csv"
	[[ $stderr == "shop-pay: $R/bad.csv:2: gross: "* ]]
	printf 'id,amount\n1,2\n' >"$R/other.csv"
	run -65 --separate-stderr shop-pay reconcile --report "$R/other.csv"
	[[ $stderr == *"other.csv:1: the report has no column 'balance_transaction_id'"* ]]
	printf 'balance_transaction_id,created_utc,currency,gross,reporting_category,payment_intent_id\ntxn_1,"2026-11-29 12:00:00,usd,1,charge,pi_1\n' >"$R/quote.csv"
	run -65 shop-pay reconcile --report "$R/quote.csv"
	[ "$(dump_store)" = "$before" ]
	run -66 --separate-stderr shop-pay reconcile --report "$R/nope"
	[ "$stderr" = "shop-pay: $R/nope: No such file or directory" ]
	run -64 shop-pay reconcile
}

@test "stripe: the fake's itemized balance CSV: clean, then a missing, an extra and a wrong amount" {
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY
	curl -sS -X POST "$SURL/_reset" >/dev/null
	a_day
	curl -sS "$SURL/_report.csv" >"$R/bal.csv"
	[ "$(head -1 "$R/bal.csv" | cut -d, -f1-5)" = "balance_transaction_id,created_utc,available_on_utc,currency,gross" ]
	run -0 --separate-stderr shop-pay reconcile --report "$R/bal.csv"
	[ -z "$output" ]
	[ "$stderr" = "shop-pay: reconcile: 2026-11-29..2026-11-29: clean (2 payments in the report, 2 in shop, 0 settled)" ]
	local pi_a
	pi_a=$(pay_sql "SELECT gateway_ref FROM payment WHERE order_id = 'ord_a'")
	{
		grep -v "$pi_a" "$R/bal.csv" | sed 's/,-3\.00,/,-3.50,/'
		echo 'txn_extra,2026-11-29 13:00:00,2026-11-29 13:00:00,usd,5.00,0.15,4.85,charge,ch_x,,ch_x,pi_extra,ord_zz'
		echo 'txn_fee,2026-11-29 13:00:00,2026-11-29 13:00:00,usd,-1.00,0.00,-1.00,fee,,"Stripe, fee",,,'
	} >"$R/bad.csv"
	run -1 --separate-stderr shop-pay reconcile --report "$R/bad.csv"
	[ "$(jq -r '[.problem, .order_id, .detail] | join(" ")' <<<"$output" | sort | tr '\n' ';')" = \
		"amount ord_b refunded: shop 300, the report 350;missing_at_gateway ord_a payment $(pay_sql "SELECT id FROM payment WHERE order_id = 'ord_a'") moved money in 2026-11-29..2026-11-29 that the report does not show;missing_in_shop ord_zz report line 4: pi_extra moved money that shop has no payment for;" ]
}

@test "a refund written ahead but never sent is not taken as done from the report's earlier refund" {
	shop-pay -q authorize ord_a >/dev/null
	shop-pay -q capture ord_a >/dev/null
	shop-pay -q refund ord_a --amount 500 >/dev/null
	# As if killed right after writing ahead a second refund of 500.
	local pay
	pay=$(pay_sql "SELECT id FROM payment")
	pay_sql "BEGIN; INSERT INTO refund (id, payment_id, n, amount, status, idem_key, created_at, updated_at)
		VALUES ('rfd_x', '$pay', 2, 500, 'unknown', 'shop:ord_a:refund:2', '$SHOP_NOW', '$SHOP_NOW');
		UPDATE payment SET status = 'unknown', pending = 'refund', pending_key = 'shop:ord_a:refund:2',
		pending_amount = 500 WHERE id = '$pay'; COMMIT;"
	shop-pay settlement >"$R/day.jsonl"
	run -1 --separate-stderr shop-pay reconcile --report "$R/day.jsonl"
	[ "$(jq -r '[.problem, .order_id] | join(" ")' <<<"$output")" = "unknown ord_a" ]
	[ "$(pay_sql "SELECT status || ' ' || refunded FROM payment")" = "unknown 500" ]
	# The rerun of the refund sends it: then it is done, and reconciles.
	run -0 shop-pay refund ord_a --amount 500
	[ "$(pay_status ord_a)" = "partially_refunded 1250 1000" ]
	[ "$(sandbox_count refund)" = 2 ]
	shop-pay settlement >"$R/day.jsonl"
	run -0 shop-pay reconcile --report "$R/day.jsonl"
}

@test "settled from the report, a payment takes the gateway's time; --date leaves other days of the report out" {
	SHOP_NOW=2026-11-28T23:00:00Z shop-pay -q authorize ord_a >/dev/null
	SHOP_NOW=2026-11-28T23:30:00Z shop-pay -q authorize ord_b --method pm_sandbox_timeout >/dev/null 2>&1 || true
	shop-pay settlement >"$R/all.jsonl"
	run -0 --separate-stderr shop-pay reconcile --report "$R/all.jsonl" --date 2026-11-28
	[ "$(pay_sql "SELECT status || ' ' || authorized_at || ' ' || expires_at FROM payment WHERE order_id = 'ord_b'")" = \
		"authorized 2026-11-28T23:30:00Z 2026-12-05T23:30:00Z" ]
	shop-pay -q capture ord_a ord_b >/dev/null 2>&1 || true
	shop-pay -q capture ord_b >/dev/null
	shop-pay settlement >"$R/all.jsonl"
	run -0 shop-pay reconcile --report "$R/all.jsonl" --date 2026-11-28
	run -0 shop-pay reconcile --report "$R/all.jsonl" --date 2026-11-29
	run -0 shop-pay reconcile --report "$R/all.jsonl"
}

@test "a lapsed hold is a void in the sandbox's report: the day reconciles" {
	shop-pay -q authorize ord_a >/dev/null
	SHOP_NOW=2026-12-07T12:00:00Z run -1 shop-pay capture ord_a
	[ "$(pay_status ord_a)" = "voided 0 0" ]
	[ "$(SHOP_NOW=2026-12-07T12:00:00Z shop-pay settlement --date 2026-12-07 | jq -r .type)" = void ]
	SHOP_NOW=2026-12-07T12:00:00Z shop-pay settlement >"$R/all.jsonl"
	run -0 shop-pay reconcile --report "$R/all.jsonl"
}
