#!/usr/bin/env bats
# shop-catalog get, list (filters, keyset pagination, --where, --table) and
# export (round trip with import).
load helpers/common
load helpers/catalog

setup() {
	common_setup
	import_fixture
}

@test "get: one product, the stored record" {
	run -0 --separate-stderr shop-catalog get MUG-01
	[ -z "$stderr" ]
	[ "$output" = '{"kind":"product","sku":"MUG-01","title":"Stoneware mug 350 ml","description":"Dishwasher-safe stoneware mug.","brand":"Potter & Co","category":"kitchen","price":1250,"currency":"USD","tax_class":"standard","family":null,"options":{},"attributes":{"volume_ml":350},"images":[],"status":"active","version":1,"created_at":"2026-11-29T12:00:00Z","updated_at":"2026-11-29T12:00:00Z"}' ]
}

@test "get: many, in the order of the operands, archived and draft too" {
	run -0 --separate-stderr shop-catalog get LAMP-2 BOOK-C OLD-LAMP GIFT-25 MUG-01
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' LAMP-2 BOOK-C OLD-LAMP GIFT-25 MUG-01)" ]
	[ "$(printf '%s\n' "$output" | jq -r .status | tr '\n' ' ')" = "active active archived draft active " ]
}

@test "get: an unknown sku is 66 with 'no such product', the known ones still printed" {
	run -66 --separate-stderr shop-catalog get MUG-01 NOPE MUG-02
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' MUG-01 MUG-02)" ]
	expect_one_error "no such product"
	[[ $stderr == *"'NOPE'"* ]]
	run -66 --separate-stderr shop-catalog get NOPE
	[ -z "$output" ]
	expect_one_error "no such product"
}

@test "get: skus from records on stdin" {
	run -0 --separate-stderr bash -c 'shop-catalog list --brand Wired | shop-catalog get'
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' CBL-USB-C-1M CBL-USB-C-2M CHG-65W)" ]
	[ "$output" = "$(shop-catalog list --brand Wired)" ]
	# '-' reads stdin too; a record without a sku is 65.
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"BOOK-C\"}" | shop-catalog get -'
	[ "$(skus <<<"$output")" = BOOK-C ]
	run -65 --separate-stderr bash -c 'echo "{\"id\":\"BOOK-C\"}" | shop-catalog get'
	expect_one_error "stdin:1:"
	[[ $stderr == *"sku"* ]]
}

@test "get: no sku and stdin a terminal is 64, not a wait for input" {
	# script(1) gives the program a terminal on stdin.
	run -64 script -qec "shop-catalog get" /dev/null
	[[ $output == "shop-catalog: missing SKU"* ]]
}

@test "list: by sku, archived hidden by default" {
	run -0 --separate-stderr shop-catalog list
	[ "$(printf '%s\n' "$output" | skus)" = "$(skus <"$FIX" | grep -vx OLD-LAMP | sort)" ]
	[[ $output != *OLD-LAMP* ]]
	# GIFT-25 is a draft: shown (only archived are hidden).
	[[ $output == *'"sku":"GIFT-25"'* ]]
}

@test "list --status: archived, draft, active, any" {
	run -0 --separate-stderr shop-catalog list --status archived
	[ "$(printf '%s\n' "$output" | skus)" = OLD-LAMP ]
	run -0 --separate-stderr shop-catalog list --status draft
	[ "$(printf '%s\n' "$output" | skus)" = GIFT-25 ]
	run -0 --separate-stderr shop-catalog list --status active
	[ "$(printf '%s\n' "$output" | skus)" = "$(skus <"$FIX" | grep -vx -e OLD-LAMP -e GIFT-25 | sort)" ]
	run -0 --separate-stderr shop-catalog list --status any
	[ "$(printf '%s\n' "$output" | skus)" = "$(skus <"$FIX" | sort)" ]
}

@test "list --status bogus is a usage error, 64" {
	run -64 --separate-stderr shop-catalog list --status bogus
	[ -z "$output" ]
	expect_one_error "--status"
	[[ $stderr == *bogus* ]]
}

@test "list --brand, --category, --family" {
	run -0 --separate-stderr shop-catalog list --brand Wired
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' CBL-USB-C-1M CBL-USB-C-2M CHG-65W)" ]
	run -0 --separate-stderr shop-catalog list --brand 'Potter & Co'
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' MUG-01 MUG-02)" ]
	run -0 --separate-stderr shop-catalog list --category home
	[ "$(printf '%s\n' "$output" | skus)" = LAMP-2 ]
	run -0 --separate-stderr shop-catalog list --category home --status any
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' LAMP-2 OLD-LAMP)" ]
	run -0 --separate-stderr shop-catalog list --family TEE
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' TEE-BLK-L TEE-BLK-M TEE-WHT-M)" ]
	run -0 --separate-stderr shop-catalog list --brand Wired --category kitchen
	[ -z "$output" ]
	run -0 --separate-stderr shop-catalog list --brand nobody
	[ -z "$output" ]
}

@test "list --limit and --after: keyset pagination walks every record once" {
	full=$(shop-catalog list --status any)
	run -0 --separate-stderr shop-catalog list --status any --limit 5
	[ "$output" = "$(head -n 5 <<<"$full")" ]
	run -0 --separate-stderr shop-catalog list --status any --after CHG-65W
	[ "$output" = "$(sed '1,/"sku":"CHG-65W"/d' <<<"$full")" ]
	# Walk pages of 5 (and of 1), following the last sku of each page.
	for n in 5 1; do
		all="" after="" pages=0
		while :; do
			if [ -n "$after" ]; then
				run -0 --separate-stderr shop-catalog list --status any --limit "$n" --after "$after"
			else
				run -0 --separate-stderr shop-catalog list --status any --limit "$n"
			fi
			[ -n "$output" ] || break
			[ "$(printf '%s\n' "$output" | wc -l)" -le "$n" ]
			all+="$output"$'\n'
			after=$(printf '%s\n' "$output" | tail -n 1 | jq -r .sku)
			pages=$((pages + 1))
			[ "$pages" -le 13 ]
		done
		[ "${all%$'\n'}" = "$full" ]
		[ "$pages" -eq $(((12 + n - 1) / n)) ]
	done
	# --after a sku that does not exist starts after where it would be.
	run -0 --separate-stderr shop-catalog list --status any --after M --limit 1
	[ "$(skus <<<"$output")" = MUG-01 ]
	# --limit 0 is no limit; -n is --limit; not a count is 64.
	run -0 --separate-stderr shop-catalog list --status any --limit 0
	[ "$output" = "$full" ]
	run -0 --separate-stderr shop-catalog list --status any -n 2
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	run -64 --separate-stderr shop-catalog list --limit -1
	expect_one_error "--limit"
	run -64 --separate-stderr shop-catalog list --limit many
	expect_one_error "--limit"
}

@test "list --where: a jq condition on each record" {
	run -0 --separate-stderr shop-catalog list --where '.price > 2000'
	[ "$(printf '%s\n' "$output" | skus)" = \
		"$(shop-catalog list | jq -r 'select(.price > 2000) | .sku')" ]
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' BOOK-C CHG-65W GIFT-25 LAMP-2)" ]
	# --where with --limit: the limit counts the records kept.
	run -0 --separate-stderr shop-catalog list --where '.price > 2000' --limit 2
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' BOOK-C CHG-65W)" ]
	# Combined with the other filters.
	run -0 --separate-stderr shop-catalog list --status any --category home --where '.price < 3000'
	[ "$(printf '%s\n' "$output" | skus)" = OLD-LAMP ]
	run -0 --separate-stderr shop-catalog list --where '.options.size == "M"'
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' TEE-BLK-M TEE-WHT-M)" ]
}

@test "list --where with a plain path keeps the records where it is not null or false" {
	run -0 --separate-stderr shop-catalog list --where '.attributes.watts'
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' CBL-USB-C-1M CBL-USB-C-2M CHG-65W LAMP-2)" ]
	[ "$(printf '%s\n' "$output" | skus)" = \
		"$(shop-catalog list | jq -r 'select(.attributes.watts) | .sku')" ]
	run -0 --separate-stderr shop-catalog list --where '.attributes.nothing.deeper'
	[ -z "$output" ]
	run -0 --separate-stderr shop-catalog list --where '.family'
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' TEE-BLK-L TEE-BLK-M TEE-WHT-M)" ]
}

@test "list --where: a syntax error is 64 naming --where, before any output" {
	run -64 --separate-stderr shop-catalog list --where '.price >'
	[ -z "$output" ]
	expect_one_error "--where"
	run -64 --separate-stderr shop-catalog list --where '.price | ]'
	[ -z "$output" ]
	expect_one_error "--where"
}

@test "list --where: a runtime error is 64 naming the record" {
	run -64 --separate-stderr shop-catalog list --where '.price + "x"'
	expect_one_error "--where"
	[[ $stderr == *"sku 'BOOK-C'"* ]]
	[ -z "$output" ]
	run -64 --separate-stderr shop-catalog list --where '.title.x'
	expect_one_error "--where"
}

@test "list --table: a header line then one aligned row per product" {
	run -0 --separate-stderr shop-catalog --table list --brand Wired
	[ "${#lines[@]}" -eq 4 ]
	[[ ${lines[0]} == SKU* ]]
	[[ ${lines[0]} == *TITLE* && ${lines[0]} == *PRICE* && ${lines[0]} == *STATUS* ]]
	[[ ${lines[1]} == CBL-USB-C-1M\ * ]]
	[[ ${lines[3]} == CHG-65W\ * ]]
	# Not JSON.
	[[ $output != *'{"kind"'* ]]
	# Columns line up: the TITLE column starts at the same offset on each line.
	h=${lines[0]%%TITLE*}
	for i in 1 2 3; do
		[[ ${lines[$i]:${#h}:1} != " " ]]
		[[ ${lines[$i]:$((${#h} - 1)):1} == " " ]]
	done
}

@test "export: every product, archived too, without version and times" {
	run -0 --separate-stderr shop-catalog export
	[ "$(printf '%s\n' "$output" | skus)" = "$(skus <"$FIX" | sort)" ]
	[[ $output == *'"sku":"OLD-LAMP"'* ]]
	[ "$(printf '%s\n' "$output" | jq -c '[has("version"), has("created_at"), has("updated_at")]' | sort -u)" = \
		'[false,false,false]' ]
	[ "$(printf '%s\n' "$output" | jq -c 'keys_unsorted' | sort -u)" = \
		'["kind","sku","title","description","brand","category","price","currency","tax_class","family","options","attributes","images","status"]' ]
	# Each line is the stored record less its last three fields.
	[ "$(printf '%s\n' "$output" | jq -c .)" = \
		"$(shop-catalog list --status any | jq -c 'del(.version, .created_at, .updated_at)')" ]
}

@test "export: round trip through import into another store" {
	shop-catalog set MUG-01 attributes.color=blue 'title=Mug "blue" é' >/dev/null
	check_integrity
	run -0 --separate-stderr shop-catalog export
	printf '%s\n' "$output" >A.jsonl
	run -0 --separate-stderr shop-catalog --db other.db import A.jsonl
	[ "$output" = '{"kind":"import","read":12,"created":12,"updated":0,"unchanged":0,"rejected":0}' ]
	check_integrity other.db
	run -0 --separate-stderr shop-catalog --db other.db export
	printf '%s\n' "$output" >B.jsonl
	run -0 diff <(sort A.jsonl) <(sort B.jsonl)
	[ -z "$output" ]
	# And importing it back into the first store changes nothing.
	before=$(dump_store)
	run -0 --separate-stderr shop-catalog import B.jsonl
	[ "$output" = '{"kind":"import","read":12,"created":0,"updated":0,"unchanged":12,"rejected":0}' ]
	[ "$(dump_store)" = "$before" ]
}

@test "export: an empty store exports nothing" {
	run -0 --separate-stderr shop-catalog --db empty.db export
	[ -z "$output" ]
	[ -z "$stderr" ]
}
