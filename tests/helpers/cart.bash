# Helpers of the shop-cart tests (tests/4*-cart-*.bats); load after
# helpers/common.

CART_FIX="$TOP/fixtures/catalog.jsonl"

# cart_setup: the fixture catalog in the store of this test, and a
# shop.yaml with tax rules and shipping, exported as SHOP_CONFIG.
#   US NY     8.875 % exclusive (every class: the rule names none)
#   DE        19 % inclusive; class reduced 7 %; class exempt 0 %
#   GB        20 % inclusive (net of a price can be exactly half a cent)
#   XA        10 % exclusive (a made-up country for the rounding table)
#   shipping  4.95 flat, free from 100.00 (after discounts)
#   cart.max_qty 1000
cart_setup() {
	shop-catalog -q import "$CART_FIX" >/dev/null || { echo "cart_setup: import failed" >&2; return 1; }
	local cfg="$BATS_TEST_TMPDIR/shop.yaml"
	cat >"$cfg" <<'EOF'
tax:
  rules:
    - country: US
      region: NY
      rate: 8.875
    - country: DE
      rate: 19
      inclusive: true
    - country: DE
      class: reduced
      rate: 7
      inclusive: true
    - country: DE
      class: exempt
      rate: 0
      inclusive: true
    - country: GB
      rate: 20
      inclusive: true
    - country: XA
      rate: 10
shipping:
  flat: 4.95
  free_over: 100.00
cart:
  max_qty: 1000
EOF
	export SHOP_CONFIG="$cfg"
}

# cart_sql SQL: rows of a query on the store (sqlite3 list mode).
cart_sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# product SKU PRICE [TAX_CLASS [CURRENCY]]: import one active product.
product() {
	jq -nc --arg sku "$1" --argjson price "$2" --arg cls "${3:-standard}" --arg cur "${4:-USD}" \
		'{sku: $sku, title: ("Product " + $sku), brand: "Test", category: "test", price: $price,
		  tax_class: $cls, currency: $cur}' |
		shop-catalog -q import >/dev/null || { echo "product $*: import failed" >&2; return 1; }
}

# address CUSTOMER COUNTRY [REGION]: add an address to CUSTOMER's book and
# print its id.
address() {
	local args=(address add "$1" --name "Name of $1" --line1 "1 Main Street" --city Town --postal 12345
		--country "$2")
	[ -z "${3:-}" ] || args+=(--region "$3")
	local rec
	rec=$(shop-cart "${args[@]}") || { echo "address $*: failed" >&2; return 1; }
	jq -r .id <<<"$rec"
}

# promos REC...: define promotions from JSON lines given as arguments
# (none: from stdin); fails when promo add does.
promos() {
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" | shop-cart promo add >/dev/null
	else
		shop-cart promo add >/dev/null
	fi || { echo "promos: promo add failed" >&2; return 1; }
}

# fill CART SKU:QTY...: add lines to CART.
fill() {
	local cart=$1 l
	shift
	for l in "$@"; do
		shop-cart add "$cart" "${l%%:*}" "${l#*:}" >/dev/null || { echo "fill $cart $l: failed" >&2; return 1; }
	done
}

# check_quote [JSON]: the invariants of a quote (or order) record, $output
# when not given. Prints what broke and fails.
#   total == sum(lines[].total) + shipping
#   each line: total == subtotal - discount + (tax unless inclusive),
#              subtotal == qty * unit_price,
#              discount == sum(discounts[].amount), 0 <= discount <= subtotal
#   subtotal, discount, tax == the sums of the lines'
#   every applied promotion's discount == the sum of its line shares
check_quote() {
	local q=${1:-$output} bad
	bad=$(jq -c '
		. as $q
		| [ (if .total != ([.lines[].total] | add // 0) + .shipping then "total" else empty end),
		    (if .subtotal != ([.lines[].subtotal] | add // 0) then "subtotal" else empty end),
		    (if .discount != ([.lines[].discount] | add // 0) then "discount" else empty end),
		    (if .tax != ([.lines[].tax] | add // 0) then "tax" else empty end),
		    (.lines[] | select(.total != .subtotal - .discount + (if .tax_inclusive then 0 else .tax end))
		       | "line \(.sku): total"),
		    (.lines[] | select(.subtotal != .qty * .unit_price) | "line \(.sku): subtotal"),
		    (.lines[] | select(.discount != ([.discounts[].amount] | add // 0)) | "line \(.sku): shares"),
		    (.lines[] | select(.discount < 0 or .discount > .subtotal) | "line \(.sku): discount range"),
		    (.promotions[] | . as $p
		       | select(.discount != ([$q.lines[].discounts[] | select(.code == $p.code) | .amount] | add // 0))
		       | "promotion \(.code): shares") ]
		| select(length > 0)' <<<"$q") || { echo "check_quote: not a record: $q" >&2; return 1; }
	[ -z "$bad" ] && return 0
	echo "check_quote: invariants broken: $bad" >&2
	echo "$q" >&2
	return 1
}

# quote CART [ARGS...]: run shop-cart quote, expect exit 0, one record on
# stdout and nothing on stderr, check the invariants; the record in $output.
quote() {
	run -0 --separate-stderr shop-cart quote "$@"
	[ -z "$stderr" ] || { echo "quote $*: stderr: $stderr" >&2; return 1; }
	[ "$(grep -c . <<<"$output")" = 1 ] || { echo "quote $*: not one record: $output" >&2; return 1; }
	[ "$(jq -r .kind <<<"$output")" = quote ] || return 1
	check_quote
}

# cart_one_error PATTERN: $stderr (of the last run) is exactly one line,
# "shop-cart: ...", and contains PATTERN (a glob fragment).
cart_one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ -n "$stderr" ] && [ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-cart: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}
