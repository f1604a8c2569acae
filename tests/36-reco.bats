#!/usr/bin/env bats
# shop-reco: the batch job and the three recommenders on orders small
# enough to work out by hand, the exclusions, the errors, the empty store,
# and the real UCI history when it is there.
load helpers/common

setup() {
	common_setup
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
}

# buy CUSTOMER DAY SKU...: import one delivered order of CUSTOMER on
# 2026-11-DAY (at noon), one unit of each SKU.
buy() {
	local c=$1 day=$2 lines="" sku
	shift 2
	for sku in "$@"; do
		lines+="${lines:+,}{\"sku\":\"$sku\",\"qty\":1,\"unit_price\":100}"
	done
	echo "{\"customer\":\"$c\",\"created_at\":\"2026-11-${day}T12:00:00Z\",\"currency\":\"USD\",\"lines\":[$lines]}" |
		shop-order -q import >/dev/null || { echo "buy $c: import failed" >&2; return 1; }
}

# The fixture: customers -> items (n: MUG-01 4, MUG-02 2, BOOK-C 2,
# CHG-65W 2, CBL-USB-C-1M 1, CBL-USB-C-2M 1).
five_customers() {
	buy ann 01 MUG-01 MUG-02
	buy bob 01 MUG-01 MUG-02 BOOK-C
	buy cat 01 MUG-01 BOOK-C
	buy dan 01 CHG-65W CBL-USB-C-1M
	buy eve 01 CHG-65W CBL-USB-C-2M MUG-01
}

# score C NI NJ: c / (ni^0.3 * nj^0.7) * c / (c + 20), to 6 decimals.
score() {
	awk -v c="$1" -v i="$2" -v j="$3" 'BEGIN { printf "%.6f\n", c / (i^0.3 * j^0.7) * c / (c + 20) }'
}

# stock SKU...: 5 units of each in warehouse main.
stock() {
	local sku
	for sku in "$@"; do shop-inv set "$sku" main 5 >/dev/null || return 1; done
}

@test "also-bought: the neighbours and scores worked out by hand, ties by sku" {
	five_customers
	run -0 --separate-stderr shop-reco build
	[ "$(jq -c '{orders, customers, items, pairs}' <<<"$output")" = '{"orders":5,"customers":5,"items":6,"pairs":7}' ]
	run -0 --separate-stderr shop-reco also-bought MUG-01
	[ -z "$stderr" ]
	got=$(jq -r '[.sku, (.score | tostring), .reason, .because] | join("|")' <<<"$output" |
		awk -F'|' '{ printf "%s|%.6f|%s|%s\n", $1, $2, $3, $4 }')
	want="BOOK-C|$(score 2 4 2)|2 customers bought both|MUG-01
MUG-02|$(score 2 4 2)|2 customers bought both|MUG-01
CBL-USB-C-2M|$(score 1 4 1)|1 customer bought both|MUG-01
CHG-65W|$(score 1 4 2)|1 customer bought both|MUG-01"
	diff <(echo "$want") <(echo "$got")
	# Not symmetric: seen from CBL-USB-C-2M, MUG-01 is damped by its 4 customers.
	run -0 --separate-stderr shop-reco also-bought CBL-USB-C-2M
	diff <(printf 'CHG-65W\nMUG-01\n') <(jq -r .sku <<<"$output")
	run -0 --separate-stderr shop-reco also-bought MUG-01 --limit 1 --table
	[ "${lines[0]}" = "SKU     TITLE                       SCORE     REASON" ]
	[[ ${lines[1]} == "BOOK-C  The C Programming Language  0.07"* ]]
}

@test "similar: shared terms rarest first, variants of a family left out" {
	run -0 --separate-stderr shop-reco build
	run -0 --separate-stderr shop-reco similar CBL-USB-C-1M
	diff <(printf 'CBL-USB-C-2M|shares cable, brand Wired, category electronics\nCHG-65W|shares brand Wired, category electronics, usb\n') \
		<(jq -r '.sku + "|" + .reason' <<<"$output")
	# The tees differ only by their options: one product, no neighbours.
	run -0 --separate-stderr shop-reco similar TEE-BLK-M
	[ -z "$output" ]
	# Records on stdin: the sku field of each.
	run -0 --separate-stderr bash -c 'shop-catalog get MUG-01 | shop-reco similar'
	[ "$(jq -r .sku <<<"$output")" = MUG-02 ]
}

@test "build twice gives the same tables" {
	five_customers
	shop-reco build >/dev/null
	a=$(sqlite3 "$SHOP_DB" 'SELECT * FROM reco_nb ORDER BY kind, sku; SELECT * FROM reco_pop ORDER BY rank')
	shop-reco build >/dev/null
	b=$(sqlite3 "$SHOP_DB" 'SELECT * FROM reco_nb ORDER BY kind, sku; SELECT * FROM reco_pop ORDER BY rank')
	[ -n "$a" ]
	[ "$a" = "$b" ]
	check_integrity
}

@test "a new order changes the answers after the next build, not before" {
	five_customers
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco also-bought LAMP-2
	[ -z "$output" ]
	buy fay 02 LAMP-2 BOOK-C
	run -0 --separate-stderr shop-reco also-bought LAMP-2
	[ -z "$output" ]
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco also-bought LAMP-2
	[ "$(jq -r .sku <<<"$output")" = BOOK-C ]
	# Cancelled and pending orders are not purchases.
	echo '{"customer":"gil","created_at":"2026-11-03T12:00:00Z","currency":"USD","status":"cancelled","lines":[{"sku":"LAMP-2","qty":1,"unit_price":1},{"sku":"MUG-02","qty":1,"unit_price":1}]}' |
		shop-order -q import >/dev/null
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco also-bought LAMP-2
	[ "$(jq -r .sku <<<"$output")" = BOOK-C ]
}

@test "--since: only the orders of the window count" {
	buy ann 01 MUG-01 BOOK-C
	buy bob 20 MUG-01 MUG-02
	run -0 --separate-stderr shop-reco build --since 2026-11-10T00:00:00Z
	[ "$(jq -c '{since, orders}' <<<"$output")" = '{"since":"2026-11-10T00:00:00Z","orders":1}' ]
	run -0 --separate-stderr shop-reco also-bought MUG-01
	[ "$(jq -r .sku <<<"$output")" = MUG-02 ]
}

@test "for: what they own, archived, draft and out-of-stock products never appear" {
	five_customers
	buy hal 02 MUG-01 OLD-LAMP GIFT-25 LAMP-2 CHG-65W
	stock MUG-02 BOOK-C CBL-USB-C-1M CBL-USB-C-2M LAMP-2 OLD-LAMP GIFT-25 MUG-01
	shop-reco build >/dev/null
	for c in ann bob cat dan eve hal; do
		run -0 --separate-stderr shop-reco for "$c" --limit 20
		owned=$(sqlite3 "$SHOP_DB" "SELECT DISTINCT json_extract(l.value, '\$.sku') FROM orders o, json_each(o.doc, '\$.lines') l WHERE o.customer = '$c'")
		bad=$(printf '%s\nOLD-LAMP\nGIFT-25\nCHG-65W\nTEE-BLK-M\nTEE-BLK-L\nTEE-WHT-M\n' "$owned" | sort -u)
		got=$(jq -r .sku <<<"$output" | sort)
		[ -n "$got" ] || { echo "$c: nothing" >&2; return 1; }
		[ -z "$(comm -12 <(echo "$bad") <(echo "$got"))" ] || { echo "$c got: $got" >&2; return 1; }
		[ "$(echo "$got" | uniq -d)" = "" ]
	done
	# also-bought and similar leave out archived and draft products, and
	# out-of-stock ones with --in-stock only.
	run -0 --separate-stderr shop-reco also-bought LAMP-2 --limit 50
	got=$(jq -r .sku <<<"$output" | sort | tr '\n' ' ')
	[ "$got" = "CHG-65W MUG-01 " ]
	run -0 --separate-stderr shop-reco also-bought LAMP-2 --in-stock
	[ "$(jq -r .sku <<<"$output")" = MUG-01 ]
	run -0 --separate-stderr shop-reco similar LAMP-2
	[ -z "$output" ]
}

@test "for: the recent purchase's neighbours come first; the reason names it" {
	buy a1 01 MUG-02 BOOK-C
	buy a2 01 MUG-02 BOOK-C
	buy b1 01 CHG-65W LAMP-2
	buy b2 01 CHG-65W LAMP-2
	echo '{"customer":"zed","created_at":"2025-11-01T12:00:00Z","currency":"USD","lines":[{"sku":"MUG-02","qty":1,"unit_price":1}]}' |
		shop-order -q import >/dev/null
	buy zed 02 CHG-65W
	stock BOOK-C LAMP-2
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco for zed
	diff <(printf 'LAMP-2|you bought CHG-65W\nBOOK-C|you bought MUG-02\n') <(jq -r '.sku + "|" + .reason' <<<"$output")
	# With a half-life of years, the old purchase weighs as much.
	run -0 --separate-stderr shop-reco for zed --half-life 100000d
	s1=$(jq -s '.[0].score' <<<"$output")
	s2=$(jq -s '.[1].score' <<<"$output")
	awk -v a="$s1" -v b="$s2" 'BEGIN { exit !(a - b < 0.01) }'
}

@test "for: a customer with no purchase gets what sells now, in stock" {
	five_customers
	shop-cart address add newbie --name N --line1 L --city C --postal P --country US >/dev/null
	stock MUG-01 MUG-02 BOOK-C
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco for newbie
	diff <(printf 'MUG-01|popular now|null\nBOOK-C|popular now|null\nMUG-02|popular now|null\n') \
		<(jq -r '[.sku, .reason, (.because | tostring)] | join("|")' <<<"$output")
	# Customers as records on stdin.
	run -0 --separate-stderr bash -c 'printf "{\"customer\":\"newbie\"}\n{\"customer\":\"ann\"}\n" | shop-reco for --limit 1'
	[ "${#lines[@]}" -eq 2 ]
}

@test "unknown sku or customer: 66, one line on stderr, the others still answered" {
	five_customers
	shop-reco build >/dev/null
	for cmd in also-bought similar; do
		run -66 --separate-stderr shop-reco "$cmd" NOPE
		[ -z "$output" ]
		[ "$stderr" = "shop-reco: sku 'NOPE': no such product" ]
	done
	run -66 --separate-stderr shop-reco for nobody
	[ -z "$output" ]
	[ "$stderr" = "shop-reco: customer 'nobody': no orders and no addresses" ]
	run -66 --separate-stderr shop-reco also-bought NOPE MUG-01
	[ "$(jq -r .sku <<<"$output" | head -1)" = BOOK-C ]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
}

@test "bad options: 64 and nothing written" {
	before=$(dump_store)
	run -64 --separate-stderr shop-reco build --top 0
	[[ $stderr == *"--top"* ]]
	run -64 --separate-stderr shop-reco build --since yesterday
	[[ $stderr == *"--since"* ]]
	run -64 --separate-stderr shop-reco also-bought MUG-01 --limit 0
	[[ $stderr == *"--limit"* ]]
	run -64 --separate-stderr shop-reco for ann --half-life soon
	[[ $stderr == *"--half-life"* ]]
	run -64 --separate-stderr shop-reco eval --top 5000
	[ "$(dump_store)" = "$before" ]
}

@test "an empty store: empty answers and zero counts, not errors" {
	rm -f "$SHOP_DB"
	run -0 --separate-stderr shop-reco build
	[ "$(jq -c '{orders, customers, items, products, pairs, bought, similar}' <<<"$output")" = \
		'{"orders":0,"customers":0,"items":0,"products":0,"pairs":0,"bought":0,"similar":0}' ]
	run -0 --separate-stderr shop-reco eval
	[ "$(jq -c '[.method, .customers, .hit_rate]' <<<"$output" | tr '\n' ' ')" = '["for",0,0] ["popular",0,0] ' ]
	# A catalog and no orders: nothing bought, nothing popular.
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	shop-cart address add newbie --name N --line1 L --city C --postal P --country US >/dev/null
	shop-reco build >/dev/null
	run -0 --separate-stderr shop-reco also-bought MUG-01
	[ -z "$output" ]
	run -0 --separate-stderr shop-reco for newbie
	[ -z "$output" ]
}

@test "before the first build: empty answers and a note" {
	five_customers
	run -0 --separate-stderr shop-reco also-bought MUG-01
	[ -z "$output" ]
	[ "$stderr" = "shop-reco: no recommendations built yet: run 'shop-reco build'" ]
	run -0 --separate-stderr shop-reco -q also-bought MUG-01
	[ -z "$stderr" ]
}

@test "eval: the last order held out; neighbours find it, the most popular do not" {
	buy ann 01 MUG-01
	buy ann 02 MUG-02
	buy bob 01 MUG-01 MUG-02
	buy cat 01 MUG-01 MUG-02
	buy dan 01 BOOK-C
	buy eve 01 BOOK-C
	buy fay 01 BOOK-C
	before=$(dump_store)
	run -0 --separate-stderr shop-reco eval --limit 1
	diff <(printf 'for 1 1 0 1 1 1\npopular 1 1 0 0 0 0\n') \
		<(jq -r '[.method, .at, .customers, .skipped, .hits, .hit_rate, .recall] | map(tostring) | join(" ")' <<<"$output")
	# eval builds in memory: the tables are not touched.
	[ "$(dump_store)" = "$before" ]
	# A held-out order of things bought before has nothing to find.
	buy bob 03 MUG-01
	run -0 --separate-stderr shop-reco eval --limit 1
	[ "$(jq -s -c '[.[0].customers, .[0].skipped]' <<<"$output")" = '[1,1]' ]
}

@test "UCI history: import, build, and the recommenders answer (real data)" {
	need_data online-retail-uci/orders.jsonl.gz
	jq -c -f "$TOP/fixtures/uci-products.jq" "$DATA/online-retail-uci/products.jsonl" | shop-catalog -q import >/dev/null
	zcat "$DATA/online-retail-uci/orders.jsonl.gz" | jq -c -f "$TOP/fixtures/uci-orders.jq" | shop-order -q import >/dev/null
	run -0 --separate-stderr shop-reco -q build
	[ "$(jq .orders <<<"$output")" -eq "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM orders')" ]
	run -0 --separate-stderr shop-reco also-bought 85123A --limit 3
	[ "${#lines[@]}" -eq 3 ]
	[[ $(jq -r .title <<<"${lines[0]}") == *HEART* ]]
	run -0 --separate-stderr shop-reco -q eval
	jq -e -s '.[0].hit_rate > .[1].hit_rate' <<<"$output"
	check_integrity
}
