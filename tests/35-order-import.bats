#!/usr/bin/env bats
# shop-order import: order history from another system. Records become
# order records ("imported": true) with an order.imported event each, in
# one transaction; no saga, reservation or stock movement; idempotent by
# id; all or nothing, or --keep-going with --rejects.
load helpers/common
load helpers/order

setup() {
	common_setup
	order_store
}

# Three hand-written orders: one with an id and decimal prices, one
# without an id, one with an explicit status and a time with an offset.
hand_orders() {
	cat <<'EOF'
{"id":"h-1","customer":"alice","created_at":"2024-03-01T09:30:00Z","currency":"USD","lines":[{"sku":"MUG-01","qty":2,"unit_price":"12.50"},{"sku":"GONE-7","qty":1,"unit_price":999}]}
{"customer":"bob","created_at":"2024-03-02T10:00:00Z","currency":"EUR","lines":[{"sku":"TEE-BLK-M","qty":3,"unit_price":"19.99"}]}
{"id":"h-3","customer":"alice","created_at":"2024-03-03T12:00:00.750+02:00","currency":"USD","status":"returned","lines":[{"sku":"MUG-01","qty":1,"unit_price":1250}]}
EOF
}

# counts: "orders outbox" row counts.
counts() {
	order_sql "SELECT (SELECT count(*) FROM orders) || ' ' || (SELECT count(*) FROM outbox)"
}

# refused_import PATTERN LINE...: an import of these lines, from stdin and
# from a file, exits 65 with nothing on stdout, one line on stderr naming
# the last line and holding PATTERN, and the store as it was.
refused_import() {
	local pattern=$1 before
	shift
	printf '%s\n' "$@" >bad.jsonl
	before=$(dump_store)
	run -65 --separate-stderr shop-order import <bad.jsonl
	[ -z "$output" ] || { echo "stdout: $output" >&2; return 1; }
	order_one_error "stdin:$#: $pattern"
	[ "$(dump_store)" = "$before" ] || { echo "the store changed" >&2; return 1; }
	run -65 --separate-stderr shop-order import bad.jsonl
	[ -z "$output" ] || { echo "stdout: $output" >&2; return 1; }
	order_one_error "bad.jsonl:$#: $pattern"
	[ "$(dump_store)" = "$before" ] || { echo "the store changed" >&2; return 1; }
	check_orders
}

@test "import: three hand-written orders; show, list --customer and trace see them" {
	hand_orders >h.jsonl
	run -0 --separate-stderr shop-order import <h.jsonl
	[ "$output" = '{"kind":"import","read":3,"created":3,"updated":0,"unchanged":0,"rejected":0}' ]
	[ -z "$stderr" ]
	check_orders
	[ "$(counts)" = "3 3" ]
	# The record of a normal order, with "imported": true after the times.
	run -0 --separate-stderr shop-order show h-1
	[ "$output" = '{"kind":"order","id":"h-1","customer":"alice","cart_id":null,"status":"delivered","currency":"USD","address":null,"payment_method":null,"lines":[{"sku":"MUG-01","qty":2,"unit_price":1250,"subtotal":2500,"discount":0,"tax":0,"total":2500},{"sku":"GONE-7","qty":1,"unit_price":999,"subtotal":999,"discount":0,"tax":0,"total":999}],"promotions":[],"subtotal":3499,"discount":0,"shipping":0,"tax":0,"total":3499,"reason":null,"created_at":"2024-03-01T09:30:00Z","updated_at":"2024-03-01T09:30:00Z","imported":true}' ]
	[ "$output" = "$(order_sql "SELECT doc FROM orders WHERE id = 'h-1'")" ]
	# The order without an id got a new ord_ id.
	run -0 --separate-stderr shop-order list --customer bob
	[ "$(jq -r .id <<<"$output")" = "$(order_sql "SELECT id FROM orders WHERE customer = 'bob'")" ]
	[[ $(jq -r .id <<<"$output") == ord_* ]]
	[ "$(jq -c '[.status, .currency, .total, .imported]' <<<"$output")" = '["delivered","EUR",5997,true]' ]
	# alice's two, newest first.
	run -0 --separate-stderr shop-order list --customer alice
	[ "$(jq -r .id <<<"$output" | paste -sd' ')" = "h-3 h-1" ]
	# The trace: created at the order's own time, imported now.
	run -0 --separate-stderr shop-order trace h-1
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	[ "$(sed -n 1p <<<"$output")" = '{"kind":"trace","at":"2024-03-01T09:30:00Z","source":"order","what":"created","order_id":"h-1","customer":"alice","total":3499,"currency":"USD"}' ]
	[ "$(sed -n 2p <<<"$output" | jq -c '[.at, .source, .what, .data]')" = \
		'["2026-11-29T12:00:00Z","event","order.imported",{"order_id":"h-1","customer":"alice","status":"delivered","total":3499,"currency":"USD"}]' ]
	# One event per order, of type order.imported, subject the order.
	[ "$(order_sql "SELECT count(*) FROM outbox o JOIN orders r ON r.id = o.subject WHERE o.type = 'order.imported'")" = 3 ]
}

@test "import: status defaults to delivered; an explicit status is kept; created_at is stored as UTC seconds" {
	hand_orders | shop-order import >/dev/null
	check_orders
	[ "$(status_of h-1)" = "delivered delivered" ]
	[ "$(status_of h-3)" = "returned returned" ]
	# 12:00:00.750+02:00 is 10:00:00Z; created and updated alike.
	[ "$(order_sql "SELECT created_at || ' ' || updated_at FROM orders WHERE id = 'h-3'")" = \
		"2024-03-03T10:00:00Z 2024-03-03T10:00:00Z" ]
	for st in pending confirmed fulfilling shipped cancelled partially_returned; do
		echo "{\"id\":\"s-$st\",\"customer\":\"c\",\"created_at\":\"2024-01-01T00:00:00Z\",\"currency\":\"USD\",\"status\":\"$st\",\"lines\":[{\"sku\":\"A\",\"qty\":1,\"unit_price\":1}]}"
	done >st.jsonl
	run -0 --separate-stderr shop-order import st.jsonl
	[ "$output" = '{"kind":"import","read":6,"created":6,"updated":0,"unchanged":0,"rejected":0}' ]
	check_orders
	[ "$(order_sql "SELECT group_concat(status, ' ') FROM (SELECT status FROM orders WHERE id LIKE 's-%' ORDER BY id)")" = \
		"cancelled confirmed fulfilling partially_returned pending shipped" ]
	# An imported order moves on by the status machine like any other.
	run -0 --separate-stderr shop-order set-status h-1 returned --reason "late return"
	check_orders
	[ "$(jq -c '[.status, .reason, .updated_at, .imported]' <<<"$output")" = '["returned","late return","2026-11-29T12:00:00Z",true]' ]
}

@test "import: totals are exact: decimal strings by the currency's exponent, qty times unit_price" {
	cat >t.jsonl <<'EOF'
{"id":"t-usd","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":3,"unit_price":"0.10"},{"sku":"B","qty":7,"unit_price":"19.99"},{"sku":"C","qty":1,"unit_price":"0"}]}
{"id":"t-jpy","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"JPY","lines":[{"sku":"A","qty":2,"unit_price":"1500"}]}
{"id":"t-kwd","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"KWD","lines":[{"sku":"A","qty":3,"unit_price":"1.234"}]}
{"id":"t-big","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1000000000,"unit_price":9007199}]}
EOF
	run -0 --separate-stderr shop-order import t.jsonl
	check_orders
	run -0 --separate-stderr shop-order show t-usd t-jpy t-kwd t-big
	[ "$(jq -c '[.id, [.lines[].total], .subtotal, .total]' <<<"$output")" = "$(printf '%s\n' \
		'["t-usd",[30,13993,0],14023,14023]' '["t-jpy",[3000],3000,3000]' '["t-kwd",[3702],3702,3702]' \
		'["t-big",[9007199000000000],9007199000000000,9007199000000000]')" ]
	# The row's total agrees (check_orders), and so does the sum of lines.
	[ "$(order_sql "SELECT count(*) FROM orders WHERE total <> (SELECT sum(json_extract(value, '\$.total')) FROM json_each(doc, '\$.lines'))")" = 0 ]
}

@test "import: the same records again change nothing (idempotent by id); without an id, a record is new each time" {
	hand_orders | grep '"id"' >ids.jsonl
	shop-order import ids.jsonl >/dev/null
	check_orders
	before=$(dump_store)
	[ "$(counts)" = "2 2" ]
	run -0 --separate-stderr shop-order import ids.jsonl
	[ "$output" = '{"kind":"import","read":2,"created":0,"updated":0,"unchanged":2,"rejected":0}' ]
	[ -z "$stderr" ]
	[ "$(counts)" = "2 2" ]
	[ "$(dump_store)" = "$before" ]
	# Also when the order has moved on since: the status is not compared.
	shop-order set-status h-1 returned >/dev/null
	before=$(dump_store)
	run -0 --separate-stderr shop-order import ids.jsonl
	[ "$output" = '{"kind":"import","read":2,"created":0,"updated":0,"unchanged":2,"rejected":0}' ]
	[ "$(dump_store)" = "$before" ]
	# The same time written another way is the same order.
	sed 's/2024-03-01T09:30:00Z/2024-03-01T10:30:00+01:00/' ids.jsonl >ids2.jsonl
	run -0 --separate-stderr shop-order import ids2.jsonl
	[ "$output" = '{"kind":"import","read":2,"created":0,"updated":0,"unchanged":2,"rejected":0}' ]
	# A record without an id has no identity: each import adds one.
	hand_orders | grep -v '"id"' >noid.jsonl
	shop-order import noid.jsonl >/dev/null
	shop-order import noid.jsonl >/dev/null
	[ "$(order_sql "SELECT count(*) FROM orders WHERE customer = 'bob'")" = 2 ]
	check_orders
}

@test "import: a known id with other data is 65 naming the id and what differs; nothing written" {
	hand_orders | shop-order import >/dev/null
	before=$(dump_store)
	for change in 's/"customer":"alice"/"customer":"carol"/' 's/"qty":2/"qty":3/' 's/"12.50"/"12.51"/' \
		's/"GONE-7"/"GONE-8"/' 's/,{"sku":"GONE-7","qty":1,"unit_price":999}//' 's/"USD"/"EUR"/' \
		's/09:30:00Z/09:30:01Z/'; do
		{
			echo '{"id":"new-1","customer":"dan","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1,"unit_price":1}]}'
			hand_orders | sed -n 1p | sed "$change"
		} >c.jsonl
		run -65 --separate-stderr shop-order import c.jsonl
		[ -z "$output" ]
		order_one_error "c.jsonl:2: field 'id': order 'h-1' is in the store already with another"
		[ "$(dump_store)" = "$before" ]
	done
	[[ $stderr == *"another created_at" ]]
	check_orders
}

@test "import: an id given twice in one input is 65 naming both lines; nothing written" {
	{
		hand_orders | sed -n 1p
		echo '{"id":"x","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1,"unit_price":1}]}'
		hand_orders | sed -n 1p
	} >d.jsonl
	refused_import "field 'id': 'h-1' is given twice (first on line 1)" "$(sed -n 1p d.jsonl)" "$(sed -n 2p d.jsonl)" "$(sed -n 3p d.jsonl)"
	[ "$(counts)" = "0 0" ]
	# Twice, even when it is in the store already.
	hand_orders | sed -n 1p | shop-order import >/dev/null
	refused_import "field 'id': 'h-1' is given twice (first on line 1)" "$(sed -n 1p d.jsonl)" "$(sed -n 3p d.jsonl)"
}

@test "import: bad input of every kind is 65 with the line and the field on one line; nothing written" {
	local ok='{"customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1,"unit_price":1}]}'
	# rec JQ: the good record changed by JQ.
	rec() { jq -c "$1" <<<"$ok"; }
	hand_orders | sed -n 1p | shop-order import >/dev/null
	refused_import "malformed JSON" "$ok" '{"customer":"c",'
	refused_import "malformed JSON" "$ok" 'nope'
	refused_import "expected an order record (an object), got an array" "$ok" '[1]'
	refused_import "unknown field 'colour'" "$ok" "$(rec '.colour = "red"')"
	refused_import "field 'kind': expected \"order\"" "$(rec '.kind = "product"')"
	refused_import "field 'customer': missing" "$ok" "$(rec 'del(.customer)')"
	refused_import "field 'customer': empty" "$(rec '.customer = ""')"
	refused_import "field 'customer': expected a string, got a number" "$(rec '.customer = 7')"
	refused_import "field 'customer': holds a control character" "$(rec '.customer = "a\nb"')"
	refused_import "field 'customer': longer than 200 bytes" "$(rec ".customer = \"$(printf 'c%.0s' {1..201})\"")"
	refused_import "field 'id': empty" "$(rec '.id = ""')"
	refused_import "field 'id': expected a string, got a number" "$(rec '.id = 12')"
	refused_import "field 'id': has a character other than printable ASCII" "$(rec '.id = "a b"')"
	refused_import "field 'id': has a character other than printable ASCII" "$(rec '.id = "caf\u00e9"')"
	refused_import "field 'id': longer than 200 bytes" "$(rec ".id = \"$(printf 'i%.0s' {1..201})\"")"
	refused_import "field 'created_at': missing" "$(rec 'del(.created_at)')"
	refused_import "field 'created_at': '2024-13-01T00:00:00Z' is not an RFC 3339 time" "$(rec '.created_at = "2024-13-01T00:00:00Z"')"
	refused_import "field 'created_at': '2024-01-01' is not an RFC 3339 time" "$(rec '.created_at = "2024-01-01"')"
	refused_import "field 'created_at': '2024-01-01T00:00:00' is not an RFC 3339 time" "$(rec '.created_at = "2024-01-01T00:00:00"')"
	refused_import "field 'created_at': expected a string, got a number" "$(rec '.created_at = 1700000000')"
	refused_import "field 'created_at'" "$(rec '.created_at = "2024-01-01T00:00:00Z\u0000x"')"
	refused_import "field 'currency': missing" "$(rec 'del(.currency)')"
	refused_import "field 'currency': 'usd' is not an ISO 4217 code" "$(rec '.currency = "usd"')"
	refused_import "field 'currency': 'ZZZ' is not an ISO 4217 code" "$(rec '.currency = "ZZZ"')"
	refused_import "field 'status': 'lost' is not one of pending, confirmed" "$(rec '.status = "lost"')"
	refused_import "field 'status': expected a string, got a boolean" "$(rec '.status = true')"
	refused_import "field 'lines': missing" "$(rec 'del(.lines)')"
	refused_import "field 'lines': empty (an order has at least one line)" "$(rec '.lines = []')"
	refused_import "field 'lines': expected an array, got an object" "$(rec '.lines = {}')"
	refused_import "field 'lines[1]': expected an object, got a string" "$(rec '.lines += ["A"]')"
	refused_import "unknown field 'lines[0].price'" "$(rec '.lines[0].price = 1')"
	refused_import "field 'lines[0].sku': missing" "$(rec 'del(.lines[0].sku)')"
	refused_import "field 'lines[0].sku': empty" "$(rec '.lines[0].sku = ""')"
	refused_import "field 'lines[0].sku': has a character other than printable ASCII" "$(rec '.lines[0].sku = "A B"')"
	refused_import "field 'lines[0].sku': has a character other than printable ASCII" "$(rec '.lines[0].sku = "A/B"')"
	refused_import "field 'lines[0].sku': longer than 64 bytes" "$(rec ".lines[0].sku = \"$(printf 'S%.0s' {1..65})\"")"
	refused_import "field 'lines[0].qty': missing" "$(rec 'del(.lines[0].qty)')"
	refused_import "field 'lines[0].qty': 0 is not from 1 to 1000000000" "$(rec '.lines[0].qty = 0')"
	refused_import "field 'lines[0].qty': -2 is not from 1 to 1000000000" "$(rec '.lines[0].qty = -2')"
	refused_import "field 'lines[0].qty': 1.5 is not a whole number" "$(rec '.lines[0].qty = 1.5')"
	refused_import "field 'lines[0].qty': expected a whole number, got a string" "$(rec '.lines[0].qty = "1"')"
	refused_import "field 'lines[0].qty': 1000000001 is not from 1" "$(rec '.lines[0].qty = 1000000001')"
	refused_import "field 'lines[0].unit_price': missing" "$(rec 'del(.lines[0].unit_price)')"
	refused_import "field 'lines[0].unit_price': 2.55 is not whole minor units; write minor units (1999) or a decimal string" "$(rec '.lines[0].unit_price = 2.55')"
	refused_import "field 'lines[0].unit_price': negative (-1)" "$(rec '.lines[0].unit_price = -1')"
	refused_import "field 'lines[0].unit_price'" "$(rec '.lines[0].unit_price = "-1.00"')"
	refused_import "field 'lines[0].unit_price'" "$(rec '.lines[0].unit_price = "19.999"')"
	refused_import "field 'lines[0].unit_price'" "$(rec '.lines[0].unit_price = "12,50"')"
	refused_import "field 'lines[0].unit_price'" "$(rec '.currency = "JPY" | .lines[0].unit_price = "1.5"')"
	refused_import "field 'lines[0].unit_price': expected minor units or a decimal string, got a boolean" "$(rec '.lines[0].unit_price = true')"
	refused_import "field 'lines[0].unit_price': 1e+300 is too large" "$(rec '.lines[0].unit_price = 1e300')"
	refused_import "field 'lines[0]': qty times unit_price is out of range" "$(rec '.lines[0].qty = 1000000 | .lines[0].unit_price = 9007199254740')"
	refused_import "field 'lines': the order's total is out of range" "$(rec '.lines[0].qty = 1000000000 | .lines[0].unit_price = 9007199 | .lines += [.lines[0]]')"
	refused_import "invalid UTF-8" "$ok" "$(printf '{"customer":"\xff"}')"
	check_orders
	[ "$(counts)" = "1 1" ]
}

@test "import: a line over the size limit is 65 and nothing is written" {
	printf 'limits:\n  line_bytes: 1024\n' >small.yaml
	export SHOP_CONFIG=$PWD/small.yaml
	jq -nc '{customer: "c", created_at: "2024-01-01T00:00:00Z", currency: "USD",
	         lines: [range(40) | {sku: "SKU-\(.)", qty: 1, unit_price: 1}]}' >big.jsonl
	before=$(dump_store)
	run -65 --separate-stderr shop-order import big.jsonl
	order_one_error "big.jsonl:1:"
	[ "$(dump_store)" = "$before" ]
}

@test "import --keep-going --rejects: good records written, bad ones in the rejects file (0600), exit 65" {
	umask 022
	{
		hand_orders | sed -n 1p
		echo '{"id":"k-2","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":0,"unit_price":1}]}'
		echo '{"id":"k-3","customer":"c",'
		echo '{"id":"k-4","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1,"unit_price":1}]}'
		hand_orders | sed -n 1p
		echo '{"id":"k-6","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"A","qty":1,"unit_price":1.5}]}'
	} >mixed.jsonl
	run -65 --separate-stderr shop-order import --keep-going --rejects rej.jsonl <mixed.jsonl
	[ "$output" = '{"kind":"import","read":6,"created":2,"updated":0,"unchanged":0,"rejected":4}' ]
	order_one_error "import: 4 records rejected (see rej.jsonl)"
	check_orders
	[ "$(stat -c %a rej.jsonl)" = 600 ]
	[ "$(order_sql "SELECT group_concat(id, ' ') FROM (SELECT id FROM orders ORDER BY id)")" = "h-1 k-4" ]
	[ "$(counts)" = "2 2" ]
	[ "$(jq -c '[.kind, .source, .line]' rej.jsonl)" = "$(printf '%s\n' '["reject","stdin",2]' '["reject","stdin",3]' \
		'["reject","stdin",5]' '["reject","stdin",6]')" ]
	[ "$(jq -r .input rej.jsonl)" = "$(sed -n '2p;3p;5p;6p' mixed.jsonl)" ]
	run -0 jq -r .error rej.jsonl
	[[ ${lines[0]} == "stdin:2: field 'lines[0].qty': 0 is not from 1 to 1000000000" ]]
	[[ ${lines[1]} == "stdin:3: malformed JSON"* ]]
	[[ ${lines[2]} == "stdin:5: field 'id': 'h-1' is given twice (first on line 1)" ]]
	[[ ${lines[3]} == "stdin:6: field 'lines[0].unit_price': 1.5 is not whole minor units"* ]]
	# Again, from the file: everything good is unchanged now; the file is named.
	run -65 --separate-stderr shop-order import --keep-going --rejects rej.jsonl mixed.jsonl
	[ "$output" = '{"kind":"import","read":6,"created":0,"updated":0,"unchanged":2,"rejected":4}' ]
	[ "$(jq -r .source rej.jsonl | sort -u)" = mixed.jsonl ]
	# Nothing bad: exit 0, an empty rejects file.
	hand_orders >good.jsonl
	run -0 --separate-stderr shop-order import --keep-going --rejects rej.jsonl good.jsonl
	[ "$output" = '{"kind":"import","read":3,"created":2,"updated":0,"unchanged":1,"rejected":0}' ]
	[ -z "$stderr" ]
	[ ! -s rej.jsonl ]
	check_orders
}

@test "import: usage and files: --keep-going and --rejects go together (64), a missing FILE is 66" {
	hand_orders >h.jsonl
	before=$(dump_store)
	run -64 --separate-stderr shop-order import --keep-going h.jsonl
	order_one_error "import: --keep-going and --rejects FILE go together"
	run -64 --separate-stderr shop-order import --rejects r.jsonl h.jsonl
	order_one_error "import: --keep-going and --rejects FILE go together"
	[ ! -e r.jsonl ]
	run -66 --separate-stderr shop-order import nope.jsonl
	order_one_error "nope.jsonl"
	run -64 --separate-stderr shop-order import a.jsonl b.jsonl
	[ "$(dump_store)" = "$before" ]
	# '-' is stdin; -q still prints the summary.
	run -0 --separate-stderr shop-order -q import - <h.jsonl
	[ "$output" = '{"kind":"import","read":3,"created":3,"updated":0,"unchanged":0,"rejected":0}' ]
	[ -z "$stderr" ]
	# An empty input imports nothing.
	run -0 --separate-stderr shop-order import </dev/null
	[ "$output" = '{"kind":"import","read":0,"created":0,"updated":0,"unchanged":0,"rejected":0}' ]
	run -0 --separate-stderr shop-order import --help
	[[ $output == *"--keep-going"* && $output == *"--rejects"* ]]
}

@test "import: no saga, no reservation, no stock movement, no payment or shipment; popularity counts" {
	hand_orders | shop-order import >/dev/null
	check_orders
	for t in stock reservation ledger payment shipment rma; do
		[ "$(order_sql "SELECT count(*) FROM $t")" = 0 ] || { echo "$t has rows" >&2; return 1; }
	done
	[ ! -d "$SHOP_DB.d/sagas" ] || [ -z "$(ls -A "$SHOP_DB.d/sagas")" ]
	# Only order.imported events, which no notification reacts to.
	[ "$(order_sql "SELECT DISTINCT type FROM outbox")" = order.imported ]
	run -0 --separate-stderr shop-order events --after 0
	[ "$(jq -r .type <<<"$output" | sort -u)" = order.imported ]
	# The units of each sku count for popularity (the import counts them,
	# once a sku, where the orders' trigger counts other orders).
	[ "$(order_sql "SELECT group_concat(sku || ':' || sold, ' ') FROM (SELECT * FROM search_pop ORDER BY sku)")" = \
		"GONE-7:1 MUG-01:3 TEE-BLK-M:3" ]
	# Orders already there are not counted again.
	hand_orders | grep '"id"' | shop-order import >/dev/null
	[ "$(order_sql "SELECT group_concat(sku || ':' || sold, ' ') FROM (SELECT * FROM search_pop ORDER BY sku)")" = \
		"GONE-7:1 MUG-01:3 TEE-BLK-M:3" ]
	# A repeated sku in one order is taken as two lines, as history has it.
	echo '{"id":"r-1","customer":"c","created_at":"2024-01-01T00:00:00Z","currency":"USD","lines":[{"sku":"MUG-01","qty":1,"unit_price":1},{"sku":"MUG-01","qty":2,"unit_price":2}]}' |
		shop-order import >/dev/null
	[ "$(order_sql "SELECT json_array_length(doc, '\$.lines') || ' ' || total FROM orders WHERE id = 'r-1'")" = "2 5" ]
	[ "$(order_sql "SELECT sold FROM search_pop WHERE sku = 'MUG-01'")" = 6 ]
	check_orders
}

# The UCI Online Retail set: every invoice, converted by
# fixtures/uci-orders.jq, after the catalog from fixtures/uci-products.jq.
UCI=online-retail-uci

@test "uci: the converted catalog and the whole order history import; counts agree with the source" {
	need_data "$UCI/orders.jsonl.gz"
	need_data "$UCI/products.jsonl"
	jq -c -f "$TOP/fixtures/uci-products.jq" "$DATA/$UCI/products.jsonl" >p.jsonl
	run -0 --separate-stderr shop-catalog import p.jsonl
	[ -z "$stderr" ]
	np=$(wc -l <p.jsonl)
	[ "$np" -gt 3800 ]
	[ "$output" = "{\"kind\":\"import\",\"read\":$np,\"created\":$np,\"updated\":0,\"unchanged\":0,\"rejected\":0}" ]
	zcat "$DATA/$UCI/orders.jsonl.gz" | jq -c -f "$TOP/fixtures/uci-orders.jq" >o.jsonl
	# The same selection, counted by other means (python over the source).
	want=$(zcat "$DATA/$UCI/orders.jsonl.gz" | $PY -c '
import json, sys
nonproduct = {"POST", "DOT", "C2", "M", "m", "D", "B", "S", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"}
orders = lines = units = 0
for row in sys.stdin:
    inv = json.loads(row)
    if inv["cancelled"] or inv["customer"] is None:
        continue
    good = [i for i in inv["items"] if i["qty"] > 0 and round(i["price"] * 100) > 0 and i["sku"] not in nonproduct]
    if good:
        orders += 1
        lines += len(good)
        units += sum(i["qty"] for i in good)
print(orders, lines, units)')
	read -r n nl nu <<<"$want"
	[ "$n" -gt 15000 ]
	[ "$(wc -l <o.jsonl)" -eq "$n" ]
	run -0 --separate-stderr shop-order import o.jsonl
	[ -z "$stderr" ]
	[ "$output" = "{\"kind\":\"import\",\"read\":$n,\"created\":$n,\"updated\":0,\"unchanged\":0,\"rejected\":0}" ]
	check_orders
	[ "$(order_sql "SELECT count(*) FROM orders WHERE id LIKE 'uci-%' AND status = 'delivered'")" = "$n" ]
	[ "$(order_sql "SELECT sum(json_array_length(doc, '\$.lines')) FROM orders")" = "$nl" ]
	[ "$(order_sql "SELECT sum(sold) FROM search_pop")" = "$nu" ]
	[ "$(order_sql "SELECT count(*) FROM outbox WHERE type = 'order.imported'")" = "$n" ]
	# An invoice as the source has it.
	run -0 --separate-stderr shop-order show uci-536365
	[ "$(jq -c '[.customer, .created_at, .currency, .total, (.lines | length), .lines[0]]' <<<"$output")" = \
		'["uci-17850","2010-12-01T08:26:00Z","GBP",13912,7,{"sku":"85123A","qty":6,"unit_price":255,"subtotal":1530,"discount":0,"tax":0,"total":1530}]' ]
	run -0 --separate-stderr shop-order list --customer uci-17850 --limit 1
	[ "$(jq -r .customer <<<"$output")" = uci-17850 ]
	# Again: all unchanged, nothing written.
	before=$(order_sql "SELECT count(*) || ' ' || max(seq) FROM outbox")
	run -0 --separate-stderr shop-order import o.jsonl
	[ "$output" = "{\"kind\":\"import\",\"read\":$n,\"created\":0,\"updated\":0,\"unchanged\":$n,\"rejected\":0}" ]
	[ "$(order_sql "SELECT count(*) || ' ' || max(seq) FROM outbox")" = "$before" ]
	check_integrity
}
