# Helpers of the shop-pay tests (tests/6*-pay-*.bats); load after
# helpers/common and helpers/order (orders are made with make_order: one
# line of 12.50 USD, payment method pm_card_visa).

# pay_sql SQL: rows of a query on the store.
pay_sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# pay_status ORDER: "status captured refunded" of the order's payment.
pay_status() {
	pay_sql "SELECT status || ' ' || captured || ' ' || refunded FROM payment WHERE order_id = '$1'"
}

# sandbox_count TYPE [ORDER]: how many movements of TYPE the sandbox's
# books hold (for ORDER).
sandbox_count() {
	pay_sql "SELECT count(*) FROM sandbox_txn WHERE type = '$1' ${2:+AND order_id = '$2'}"
}

_pay_fail() {
	local rows
	rows=$(sqlite3 -header "$SHOP_DB" "$2") || { echo "check_pay: $1: query failed" >&2; return 1; }
	[ -z "$rows" ] && return 0
	echo "check_pay: invariant broken: $1" >&2
	printf '%s\n' "$rows" >&2
	return 1
}

# check_pay: the payment invariants, after every change.
#  - refunded is the sum of the succeeded refunds; nothing refunded beyond
#    the capture, nothing captured beyond the authorization (also CHECKs);
#  - the status agrees with the amounts;
#  - a settled payment has no pending call; an unknown one has one, with
#    a key; an unknown refund only on an unknown payment;
#  - every state the payment reached has its event;
#  - sandbox payments agree with the sandbox's books.
check_pay() {
	[ -e "$SHOP_DB" ] || return 0
	check_integrity || return 1
	_pay_fail "refunded = sum of succeeded refunds" "
		SELECT p.id, p.refunded, (SELECT coalesce(sum(amount), 0) FROM refund r
		                          WHERE r.payment_id = p.id AND r.status = 'succeeded') AS s
		FROM payment p WHERE p.refunded != s" || return 1
	_pay_fail "status agrees with amounts" "
		SELECT id, status, captured, refunded FROM payment WHERE
		  (status = 'authorized' AND (captured != 0 OR gateway_ref IS NULL)) OR
		  (status = 'captured' AND (captured = 0 OR refunded != 0)) OR
		  (status = 'partially_refunded' AND (refunded = 0 OR refunded >= captured)) OR
		  (status = 'refunded' AND (refunded = 0 OR refunded != captured)) OR
		  (status IN ('voided', 'failed') AND captured != 0)" || return 1
	_pay_fail "pending call only when unknown, with a key" "
		SELECT id, status, pending, pending_key FROM payment
		WHERE (status = 'unknown') != (pending IS NOT NULL AND pending_key != '')" || return 1
	_pay_fail "unknown refund only while the payment waits on it" "
		SELECT r.id FROM refund r JOIN payment p ON p.id = r.payment_id
		WHERE r.status = 'unknown' AND (p.status != 'unknown' OR p.pending != 'refund' OR p.pending_key != r.idem_key)" ||
		return 1
	_pay_fail "each state reached has its event" "
		SELECT p.id, p.status FROM payment p WHERE p.status IN ('authorized', 'captured', 'voided', 'refunded',
		  'partially_refunded', 'failed') AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject = p.order_id AND
		  o.type = 'payment.' || CASE p.status WHEN 'partially_refunded' THEN 'refunded' ELSE p.status END)" ||
		return 1
	_pay_fail "sandbox books agree" "
		SELECT p.id, p.status, p.captured, p.refunded, i.status AS gw, i.received, i.refunded AS gw_refunded
		FROM payment p JOIN sandbox_intent i ON i.ref = p.gateway_ref
		WHERE p.gateway = 'sandbox' AND p.status != 'unknown' AND (p.captured != i.received OR
		  p.refunded != i.refunded OR (p.status = 'authorized') != (i.status = 'requires_capture') OR
		  (p.status = 'voided') != (i.status = 'canceled'))" || return 1
}

# stripe_config URL KEYVAR [ATTEMPTS [TIMEOUT]]: a shop.yaml for the fake
# Stripe at URL, exported as SHOP_CONFIG.
stripe_config() {
	cat >"$BATS_TEST_TMPDIR/shop.yaml" <<-EOF
		payments:
		  gateway: stripe
		  stripe:
		    api_base: $1
		    key_env: $2
		http:
		  attempts: ${3:-4}
		  timeout: ${4:-2s}
		  connect_timeout: 1s
		  backoff: 50ms
	EOF
	export SHOP_CONFIG="$BATS_TEST_TMPDIR/shop.yaml"
}
