#!/usr/bin/env bats
# shop-inv set, adjust (operands and stdin batches), show, list, ledger,
# reconcile: stock per SKU per warehouse, every movement in the ledger and
# the outbox, bad input refused with nothing changed.
load helpers/common
load helpers/inv

setup() {
	common_setup
	inv_setup
}

@test "set: creates the row; the stock record is exact" {
	run -0 --separate-stderr shop-inv set MUG-01 main 10
	check_inv
	[ -z "$stderr" ]
	[ "$output" = '{"kind":"stock","sku":"MUG-01","warehouse":"main","on_hand":10,"reserved":0,"available":10,"version":1,"updated_at":"2026-11-29T12:00:00Z"}' ]
	[ "$(stock MUG-01 main)" = "10 0 1" ]
}

@test "set again: version 2; the same quantity changes nothing" {
	stock_set MUG-01 main 10
	check_inv
	SHOP_NOW=2026-11-29T13:00:00Z run -0 --separate-stderr shop-inv set MUG-01 main 4
	check_inv
	[ "$output" = '{"kind":"stock","sku":"MUG-01","warehouse":"main","on_hand":4,"reserved":0,"available":4,"version":2,"updated_at":"2026-11-29T13:00:00Z"}' ]
	before=$(dump_store)
	run -0 --separate-stderr shop-inv set MUG-01 main 4
	check_inv
	[ "$(jq -c '[.on_hand, .version]' <<<"$output")" = '[4,2]' ]
	[ "$(dump_store)" = "$before" ]
}

@test "set: a row at 0 is created (known, not missing)" {
	run -0 --separate-stderr shop-inv set MUG-02 main 0
	check_inv
	[ "$(jq -c '[.sku, .on_hand, .reserved, .available, .version]' <<<"$output")" = '["MUG-02",0,0,0,1]' ]
	[ "$(stock MUG-02 main)" = "0 0 1" ]
}

@test "set below what is reserved: 1, nothing changed" {
	stock_set MUG-01 main 10
	order ord_1 MUG-01:6 | shop-inv reserve >/dev/null
	check_inv
	before=$(dump_store)
	run -1 --separate-stderr shop-inv set MUG-01 main 5
	check_inv
	[ -z "$output" ]
	inv_one_error "reserved"
	[ "$(dump_store)" = "$before" ]
	# Down to exactly what is reserved is allowed.
	run -0 --separate-stderr shop-inv set MUG-01 main 6
	check_inv
	[ "$(jq -c '[.on_hand, .reserved, .available]' <<<"$output")" = '[6,6,0]' ]
}

@test "set: bad quantities are 65 (a leading '-' is an operand), nothing changed" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	for q in -1 1.5 +3 x '' 1e3 1000000001; do
		run -65 --separate-stderr shop-inv set MUG-01 main "$q"
		check_inv
		[ -z "$output" ]
		inv_one_error "QTY: '$q' is not a whole number of units"
	done
	run -64 --separate-stderr shop-inv set MUG-01 main
	inv_one_error ""
	[ "$(dump_store)" = "$before" ]
}

@test "set: unknown sku or warehouse is 66, nothing changed" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -66 --separate-stderr shop-inv set NOPE main 3
	check_inv
	[ -z "$output" ]
	inv_one_error "sku 'NOPE': no such product"
	run -66 --separate-stderr shop-inv set MUG-01 east 3
	check_inv
	[ -z "$output" ]
	inv_one_error "warehouse 'east': not in the config"
	[ "$(dump_store)" = "$before" ]
}

@test "adjust +N/-N --reason: on hand moves, version goes up" {
	stock_set MUG-01 main 10
	run -0 --separate-stderr shop-inv adjust MUG-01 main +5 --reason delivery
	check_inv
	[ -z "$stderr" ]
	[ "$output" = '{"kind":"stock","sku":"MUG-01","warehouse":"main","on_hand":15,"reserved":0,"available":15,"version":2,"updated_at":"2026-11-29T12:00:00Z"}' ]
	run -0 --separate-stderr shop-inv adjust MUG-01 main -3 --reason damaged
	check_inv
	[ "$(jq -c '[.on_hand, .version]' <<<"$output")" = '[12,3]' ]
	# No sign is a plus; a new row starts from 0.
	run -0 --separate-stderr shop-inv adjust MUG-02 main 7 --reason delivery
	check_inv
	[ "$(jq -c '[.sku, .on_hand, .version]' <<<"$output")" = '["MUG-02",7,1]' ]
	# Down to exactly 0 is allowed.
	run -0 --separate-stderr shop-inv adjust MUG-01 main -12 --reason count
	check_inv
	[ "$(jq -c '[.on_hand, .available]' <<<"$output")" = '[0,0]' ]
}

@test "adjust: --reason is required (64), nothing changed" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -64 --separate-stderr shop-inv adjust MUG-01 main +5
	check_inv
	[ -z "$output" ]
	inv_one_error "--reason R is required"
	run -64 --separate-stderr shop-inv adjust MUG-01 main -5 --reason ''
	check_inv
	inv_one_error "--reason"
	run -64 --separate-stderr shop-inv adjust MUG-01 main
	check_inv
	inv_one_error ""
	[ "$(dump_store)" = "$before" ]
}

@test "adjust: 0, 1.5, x are 65; unknown sku or warehouse 66; nothing changed" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -65 --separate-stderr shop-inv adjust MUG-01 main 0 --reason x
	check_inv
	[ -z "$output" ]
	inv_one_error "0 is not a change"
	run -65 --separate-stderr shop-inv adjust MUG-01 main -0 --reason x
	inv_one_error "not a change"
	for q in 1.5 -1.5 x +-1 1000000001; do
		run -65 --separate-stderr shop-inv adjust MUG-01 main "$q" --reason x
		check_inv
		inv_one_error "N: '$q' is not a whole number of units"
	done
	run -66 --separate-stderr shop-inv adjust NOPE main +1 --reason x
	inv_one_error "sku 'NOPE': no such product"
	run -66 --separate-stderr shop-inv adjust MUG-01 east +1 --reason x
	inv_one_error "warehouse 'east': not in the config"
	check_inv
	[ "$(dump_store)" = "$before" ]
}

@test "adjust below zero: 1, one line on stderr, nothing changed" {
	stock_set MUG-01 main 10
	before=$(dump_store)
	run -1 --separate-stderr shop-inv adjust MUG-01 main -11 --reason damaged
	check_inv
	[ -z "$output" ]
	inv_one_error "MUG-01 in main (damaged): on hand would be -1 (have 10)"
	# A SKU without a row has 0.
	run -1 --separate-stderr shop-inv adjust MUG-02 main -1 --reason damaged
	check_inv
	inv_one_error "on hand would be -1 (have 0)"
	[ "$(dump_store)" = "$before" ]
}

@test "adjust below what is reserved: 1, nothing changed" {
	stock_set MUG-01 main 10
	order ord_1 MUG-01:8 | shop-inv reserve >/dev/null
	check_inv
	before=$(dump_store)
	run -1 --separate-stderr shop-inv adjust MUG-01 main -3 --reason damaged
	check_inv
	inv_one_error "on hand 7 would be below the 8 reserved"
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr shop-inv adjust MUG-01 main -2 --reason damaged
	check_inv
	[ "$(jq -c '[.on_hand, .reserved, .available]' <<<"$output")" = '[8,8,0]' ]
}

@test "adjust from stdin: one stock record per adjustment, in order" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 3
	cat >adj.jsonl <<-'EOF'
		{"sku":"MUG-01","warehouse":"main","delta":5,"reason":"delivery"}
		{"sku":"TEE-BLK-M","warehouse":"main","delta":-1,"reason":"damaged","actor":"carol"}
		{"sku":"MUG-02","warehouse":"main","delta":4,"reason":"delivery"}
		{"sku":"MUG-01","warehouse":"main","delta":-2,"reason":"count"}
	EOF
	run -0 --separate-stderr shop-inv adjust <adj.jsonl
	check_inv
	[ -z "$stderr" ]
	[ "$(jq -c '[.sku, .on_hand, .version]' <<<"$output" | paste -sd' ')" = \
		'["MUG-01",15,2] ["TEE-BLK-M",2,2] ["MUG-02",4,1] ["MUG-01",13,3]' ]
	# The actor of a record wins over the default.
	[ "$(inv_sql "SELECT actor FROM ledger WHERE reason = 'damaged'")" = carol ]
	[ "$(inv_sql "SELECT count(*) FROM ledger WHERE reason IN ('delivery', 'damaged', 'count')")" = 4 ]
	# --actor names the default actor.
	echo '{"sku":"MUG-02","warehouse":"main","delta":1,"reason":"found"}' >one.jsonl
	run -0 --separate-stderr shop-inv adjust --actor dave <one.jsonl
	check_inv
	[ "$(inv_sql "SELECT actor FROM ledger WHERE reason = 'found'")" = dave ]
}

@test "adjust from stdin: a later record may rely on an earlier one of the batch" {
	printf '%s\n' '{"sku":"MUG-02","warehouse":"main","delta":5,"reason":"delivery"}' \
		'{"sku":"MUG-02","warehouse":"main","delta":-5,"reason":"sold"}' >adj.jsonl
	run -0 --separate-stderr shop-inv adjust <adj.jsonl
	check_inv
	[ "$(jq -c '.on_hand' <<<"$output" | paste -sd' ')" = '5 0' ]
}

@test "adjust from stdin: all or nothing; the 3rd record bad in each way" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 3
	good='{"sku":"MUG-01","warehouse":"main","delta":2,"reason":"delivery"}
{"sku":"TEE-BLK-M","warehouse":"main","delta":-1,"reason":"damaged"}'
	before=$(dump_store)
	# code|record|message
	while IFS='|' read -r code bad msg; do
		printf '%s\n%s\n' "$good" "$bad" >batch.jsonl
		run -"$code" --separate-stderr shop-inv adjust <batch.jsonl
		check_inv
		[ -z "$output" ]
		inv_one_error "stdin:3: $msg"
		[ "$(dump_store)" = "$before" ]
	done <<-'EOF'
		66|{"sku":"NOPE","warehouse":"main","delta":1,"reason":"x"}|sku 'NOPE': no such product
		66|{"sku":"MUG-01","warehouse":"east","delta":1,"reason":"x"}|warehouse 'east': not in the config
		65|{"sku":"MUG-01","warehouse":"main","delta":0,"reason":"x"}|field 'delta'
		65|{"sku":"MUG-01","warehouse":"main","delta":1.5,"reason":"x"}|field 'delta'
		65|{"sku":"MUG-01","warehouse":"main","delta":"1","reason":"x"}|field 'delta'
		65|{"sku":"MUG-01","warehouse":"main","reason":"x"}|field 'delta': missing
		65|{"sku":"MUG-01","warehouse":"main","delta":1}|field 'reason': missing
		65|{"sku":"MUG-01","warehouse":"main","delta":1,"reason":""}|field 'reason': missing
		65|{"warehouse":"main","delta":1,"reason":"x"}|field 'sku': missing
		65|{"sku":"MUG-01","delta":1,"reason":"x"}|field 'warehouse': missing
		65|[1,2]|expected an adjustment record
		65|{"sku":"MUG-01",|malformed JSON
		1|{"sku":"TEE-BLK-M","warehouse":"main","delta":-3,"reason":"sold"}|TEE-BLK-M in main (sold): on hand would be -1 (have 2)
	EOF
	[ "$(outbox_types | grep -c .)" = 2 ]
}

@test "show: one record per warehouse; unknown sku 66; no stock is no output" {
	inv_setup main:eu:1 east:us-east:2
	stock_set MUG-01 main 10
	stock_set MUG-01 east 4
	check_inv
	run -0 --separate-stderr shop-inv show MUG-01
	[ -z "$stderr" ]
	[ "$(jq -c '[.sku, .warehouse, .on_hand, .available]' <<<"$output" | paste -sd' ')" = \
		'["MUG-01","east",4,4] ["MUG-01","main",10,10]' ]
	run -0 --separate-stderr shop-inv show MUG-02
	[ -z "$output" ]
	run -66 --separate-stderr shop-inv show NOPE
	[ -z "$output" ]
	inv_one_error "sku 'NOPE': no such product"
	# Several skus, from operands or records on stdin; one unknown among
	# them is reported and the others still shown.
	run -66 --separate-stderr shop-inv show MUG-01 NOPE MUG-01
	[ "$(jq -r .warehouse <<<"$output" | paste -sd' ')" = 'east main east main' ]
	inv_one_error "NOPE"
	run -0 --separate-stderr bash -c 'shop-catalog get MUG-01 | shop-inv show'
	[ "$(jq -r .warehouse <<<"$output" | paste -sd' ')" = 'east main' ]
}

@test "list; --low N; --warehouse W; --where JQ" {
	inv_setup main east:us-east
	stock_set MUG-01 main 10
	stock_set MUG-01 east 2
	stock_set TEE-BLK-M main 3
	stock_set CHG-65W east 0
	order ord_1 MUG-01:9 | shop-inv reserve >/dev/null
	check_inv
	run -0 --separate-stderr shop-inv list
	[ -z "$stderr" ]
	[ "$(jq -c '[.sku, .warehouse, .on_hand, .reserved, .available]' <<<"$output" | paste -sd' ')" = \
		'["CHG-65W","east",0,0,0] ["MUG-01","east",2,0,2] ["MUG-01","main",10,9,1] ["TEE-BLK-M","main",3,0,3]' ]
	run -0 --separate-stderr shop-inv list --low 2
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["CHG-65W","east"] ["MUG-01","east"] ["MUG-01","main"]' ]
	run -0 --separate-stderr shop-inv list --low 0
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["CHG-65W","east"]' ]
	run -0 --separate-stderr shop-inv list --warehouse main
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["MUG-01","main"] ["TEE-BLK-M","main"]' ]
	run -0 --separate-stderr shop-inv list --warehouse east --low 1
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["CHG-65W","east"]' ]
	run -0 --separate-stderr shop-inv list --where '.reserved > 0'
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["MUG-01","main"]' ]
	run -0 --separate-stderr shop-inv list --where '.sku == "TEE-BLK-M" or .warehouse == "east"' --low 2
	[ "$(jq -c '[.sku, .warehouse]' <<<"$output" | paste -sd' ')" = '["CHG-65W","east"] ["MUG-01","east"]' ]
	run -0 --separate-stderr shop-inv list --where 'null'
	[ -z "$output" ]
	run -66 --separate-stderr shop-inv list --warehouse west
	[ -z "$output" ]
	inv_one_error "warehouse 'west': not in the config"
	run -64 --separate-stderr shop-inv list --low -1
	[ -z "$output" ]
	run -64 --separate-stderr shop-inv list --low x
	[ -z "$output" ]
}

@test "list: an empty store lists nothing" {
	run -0 --separate-stderr shop-inv list
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "ledger SKU: every movement, exact, with reason and actor" {
	stock_set MUG-01 main 10
	shop-inv adjust MUG-01 main +5 --reason delivery >/dev/null
	check_inv
	shop-inv adjust MUG-01 main -2 --reason damaged --actor bob >/dev/null
	check_inv
	shop-inv set MUG-01 main 20 --actor alice >/dev/null
	check_inv
	res=$(order ord_1 MUG-01:3 | shop-inv reserve | jq -r .id)
	check_inv
	shop-inv commit --order ord_1 >/dev/null
	check_inv
	stock_set TEE-BLK-M main 1
	run -0 --separate-stderr shop-inv ledger MUG-01
	[ -z "$stderr" ]
	exp=$(
		cat <<-EOF
			{"kind":"movement","seq":1,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":10,"reserved_delta":0,"reason":"set","actor":"operator","ref":null}
			{"kind":"movement","seq":2,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":5,"reserved_delta":0,"reason":"delivery","actor":"operator","ref":null}
			{"kind":"movement","seq":3,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":-2,"reserved_delta":0,"reason":"damaged","actor":"bob","ref":null}
			{"kind":"movement","seq":4,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":7,"reserved_delta":0,"reason":"set","actor":"alice","ref":null}
			{"kind":"movement","seq":5,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":0,"reserved_delta":3,"reason":"reserve","actor":"ord_1","ref":"$res"}
			{"kind":"movement","seq":6,"at":"2026-11-29T12:00:00Z","sku":"MUG-01","warehouse":"main","on_hand_delta":-3,"reserved_delta":-3,"reason":"commit","actor":"ord_1","ref":"$res"}
		EOF
	)
	[ "$output" = "$exp" ]
	run -0 --separate-stderr shop-inv ledger TEE-BLK-M
	[ "$(jq -c '[.seq, .on_hand_delta, .reason]' <<<"$output")" = '[7,1,"set"]' ]
	run -0 --separate-stderr shop-inv ledger MUG-02
	[ -z "$output" ]
	run -66 --separate-stderr shop-inv ledger NOPE
	[ -z "$output" ]
	inv_one_error "no such product"
	run -64 --separate-stderr shop-inv ledger
	[ -z "$output" ]
}

@test "ledger SKU --warehouse W: only that warehouse" {
	inv_setup main east:us-east
	stock_set MUG-01 main 10
	stock_set MUG-01 east 4
	shop-inv adjust MUG-01 east -1 --reason damaged >/dev/null
	check_inv
	run -0 --separate-stderr shop-inv ledger MUG-01 --warehouse east
	[ "$(jq -c '[.warehouse, .on_hand_delta, .reason]' <<<"$output" | paste -sd' ')" = \
		'["east",4,"set"] ["east",-1,"damaged"]' ]
	run -0 --separate-stderr shop-inv ledger MUG-01
	[ "$(jq -r .warehouse <<<"$output" | paste -sd' ')" = 'main east east' ]
	run -66 --separate-stderr shop-inv ledger MUG-01 --warehouse west
	[ -z "$output" ]
	inv_one_error "warehouse 'west': not in the config"
}

@test "reconcile: a clean store is 0 and prints nothing" {
	run -0 --separate-stderr shop-inv reconcile
	[ -z "$output" ]
	[ -z "$stderr" ]
	stock_set MUG-01 main 10
	order ord_1 MUG-01:3 | shop-inv reserve >/dev/null
	check_inv
	run -0 --separate-stderr shop-inv reconcile
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "reconcile: on_hand changed by hand is a discrepancy against the ledger (1)" {
	stock_set MUG-01 main 10
	stock_set TEE-BLK-M main 2
	check_inv
	sqlite3 "$SHOP_DB" "UPDATE stock SET on_hand = on_hand + 1 WHERE sku = 'MUG-01'"
	run -1 --separate-stderr shop-inv reconcile
	[ "$output" = '{"kind":"discrepancy","sku":"MUG-01","warehouse":"main","field":"on_hand","stored":11,"expected":10,"source":"ledger"}' ]
	inv_one_error "reconcile: 1 discrepancy"
	# Every row, every field.
	sqlite3 "$SHOP_DB" "UPDATE stock SET on_hand = on_hand + 1"
	sqlite3 "$SHOP_DB" "UPDATE stock SET reserved = 1 WHERE sku = 'TEE-BLK-M'"
	run -1 --separate-stderr shop-inv reconcile
	exp=$(
		cat <<-'EOF'
			{"kind":"discrepancy","sku":"MUG-01","warehouse":"main","field":"on_hand","stored":12,"expected":10,"source":"ledger"}
			{"kind":"discrepancy","sku":"TEE-BLK-M","warehouse":"main","field":"on_hand","stored":3,"expected":2,"source":"ledger"}
			{"kind":"discrepancy","sku":"TEE-BLK-M","warehouse":"main","field":"reserved","stored":1,"expected":0,"source":"ledger"}
			{"kind":"discrepancy","sku":"TEE-BLK-M","warehouse":"main","field":"reserved","stored":1,"expected":0,"source":"reservations"}
		EOF
	)
	[ "$output" = "$exp" ]
	inv_one_error "reconcile: 4 discrepancies"
}

@test "unknown warehouse: 66 'not in the config' for set, adjust, list" {
	before=$(dump_store)
	run -66 --separate-stderr shop-inv set MUG-01 east 1
	inv_one_error "not in the config"
	run -66 --separate-stderr shop-inv adjust MUG-01 east +1 --reason x
	inv_one_error "not in the config"
	run -66 --separate-stderr shop-inv list --warehouse east
	inv_one_error "not in the config"
	check_inv
	[ "$(dump_store)" = "$before" ]
	# Once the config names it, it is known; main is then no longer.
	inv_setup east:us-east
	run -0 --separate-stderr shop-inv set MUG-01 east 1
	check_inv
	run -66 --separate-stderr shop-inv set MUG-01 main 1
	inv_one_error "warehouse 'main': not in the config"
	check_inv
}

@test "two warehouses: stock in both, each its own row and version" {
	inv_setup main east:us-east
	run -0 --separate-stderr shop-inv set MUG-01 main 10
	check_inv
	run -0 --separate-stderr shop-inv set MUG-01 east 3
	check_inv
	[ "$output" = '{"kind":"stock","sku":"MUG-01","warehouse":"east","on_hand":3,"reserved":0,"available":3,"version":1,"updated_at":"2026-11-29T12:00:00Z"}' ]
	run -0 --separate-stderr shop-inv adjust MUG-01 east +2 --reason delivery
	check_inv
	[ "$(stock MUG-01 east)" = "5 0 2" ]
	[ "$(stock MUG-01 main)" = "10 0 1" ]
	run -1 --separate-stderr shop-inv adjust MUG-01 east -6 --reason damaged
	check_inv
	inv_one_error "MUG-01 in east (damaged): on hand would be -1 (have 5)"
}

@test "outbox: one inventory.adjusted event per change, none for a refusal" {
	stock_set MUG-01 main 10
	check_inv
	[ "$(outbox_types)" = inventory.adjusted ]
	shop-inv adjust MUG-01 main +2 --reason delivery --actor bob >/dev/null
	check_inv
	printf '%s\n' '{"sku":"MUG-01","warehouse":"main","delta":-1,"reason":"damaged"}' \
		'{"sku":"TEE-BLK-M","warehouse":"main","delta":4,"reason":"delivery"}' | shop-inv adjust >/dev/null
	check_inv
	# Refused and unchanged: no event.
	shop-inv adjust MUG-01 main -100 --reason x >/dev/null 2>&1 || true
	shop-inv set MUG-01 main 11 >/dev/null
	check_inv
	[ "$(outbox_types | paste -sd' ')" = 'inventory.adjusted inventory.adjusted inventory.adjusted inventory.adjusted' ]
	[ "$(inv_sql "SELECT count(*) FROM ledger WHERE on_hand_delta <> 0")" = 4 ]
	# The subject is the sku; data says what moved, why and who.
	[ "$(inv_sql "SELECT subject || ' ' || data FROM outbox ORDER BY seq" | paste -sd'|')" = \
		'MUG-01 {"sku":"MUG-01","warehouse":"main","delta":10,"reason":"set","actor":"operator"}|MUG-01 {"sku":"MUG-01","warehouse":"main","delta":2,"reason":"delivery","actor":"bob"}|MUG-01 {"sku":"MUG-01","warehouse":"main","delta":-1,"reason":"damaged","actor":"operator"}|TEE-BLK-M {"sku":"TEE-BLK-M","warehouse":"main","delta":4,"reason":"delivery","actor":"operator"}' ]
	[ "$(inv_sql "SELECT count(*) FROM outbox WHERE at = '2026-11-29T12:00:00Z' AND id LIKE 'evt\_%' ESCAPE '\'")" = 4 ]
}

@test "--help: usage on stdout, exit 0" {
	run -0 --separate-stderr shop-inv --help
	[[ $output == *adjust* ]]
	[[ $output == *reconcile* ]]
	run -0 --separate-stderr shop-inv adjust --help
	[[ $output == *--reason* ]]
}
