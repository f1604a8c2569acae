# Helpers of the shop-saga tests (tests/7*-saga-*.bats); load after
# helpers/common, helpers/order and helpers/pay.

# saga_setup: the fixture catalog, 100 MUG-01 in main, a step directory
# ($STEP_DIR) for tests/helpers/step.sh, and the store's sagas/ directory
# ($SAGAS) for the tests' own saga files.
saga_setup() {
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null || return 1
	shop-inv -q set MUG-01 main 100 >/dev/null || return 1
	export STEP_DIR="$BATS_TEST_TMPDIR/steps"
	mkdir -p "$STEP_DIR" "$SHOP_DB.d/sagas"
	SAGAS="$SHOP_DB.d/sagas"
	STEP="$TOP/tests/helpers/step.sh"
}

# step_plan NAME CODE...: the exit codes step NAME gives, one call each.
step_plan() {
	local n=$1
	shift
	printf '%s\n' "$@" >"$STEP_DIR/$n.plan"
}

# calls: the step names called, in order, on one line.
calls() {
	[ -e "$STEP_DIR/calls" ] || return 0
	sed -n 's/^== //p' "$STEP_DIR/calls" | tr '\n' ' ' | sed 's/ $//'
}

# stock_of SKU: "on_hand reserved" in main.
stock_of() {
	sqlite3 "$SHOP_DB" "SELECT on_hand || ' ' || reserved FROM stock WHERE sku = '$1' AND warehouse = 'main'"
}

# order_status ID: the order's status.
order_status() {
	sqlite3 "$SHOP_DB" "SELECT status FROM orders WHERE id = '$1'"
}

# saga_of ORDER: the id of the order's (last) saga.
saga_of() {
	shop-saga list | jq -r --arg o "$1" 'select(.order_id == $o) | .id' | head -1
}

# check_order_agrees ORDER: the order's status agrees with its payment and
# its reservations (the saga's guarantee, whatever happened on the way).
check_order_agrees() {
	local st pay res
	st=$(order_status "$1")
	pay=$(sqlite3 "$SHOP_DB" "SELECT status FROM payment WHERE order_id = '$1'")
	res=$(sqlite3 "$SHOP_DB" "SELECT group_concat(DISTINCT state) FROM reservation WHERE order_id = '$1'")
	case $st in
	fulfilling | confirmed) [ "$pay" = captured ] && [ "$res" = committed ] ;;
	cancelled) [ "$pay" != captured ] && [ "$pay" != authorized ] && [ "$pay" != unknown ] &&
		{ [ -z "$res" ] || [ "$res" = released ]; } ;;
	*) false ;;
	esac || { echo "order $1: status $st, payment '$pay', reservations '$res'" >&2; return 1; }
}
