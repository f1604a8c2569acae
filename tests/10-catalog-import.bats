#!/usr/bin/env bats
# shop-catalog import: upsert by sku, all or nothing, --keep-going with
# --rejects, variants of a family.
load helpers/common
load helpers/catalog

setup() { common_setup; }

@test "import: the fixture catalog creates 12 products" {
	run -0 --separate-stderr shop-catalog import "$FIX"
	[ "$output" = '{"kind":"import","read":12,"created":12,"updated":0,"unchanged":0,"rejected":0}' ]
	[ -z "$stderr" ]
	check_integrity
	run -0 --separate-stderr shop-catalog list --status any
	[ "$(printf '%s\n' "$output" | skus | sort)" = "$(skus <"$FIX" | sort)" ]
	[ "$(printf '%s\n' "$output" | jq -r .version | sort -u)" = 1 ]
	[ "$(printf '%s\n' "$output" | jq -r '.created_at, .updated_at' | sort -u)" = "$SHOP_NOW" ]
	# The store is created 0600.
	[ "$(stat -c %a "$SHOP_DB")" = 600 ]
}

@test "import: a second import of the same records is all unchanged, versions stay 1" {
	import_fixture
	before=$(dump_store)
	run -0 --separate-stderr shop-catalog import "$FIX"
	[ "$output" = '{"kind":"import","read":12,"created":0,"updated":0,"unchanged":12,"rejected":0}' ]
	check_integrity
	run -0 --separate-stderr shop-catalog list --status any
	[ "$(printf '%s\n' "$output" | jq -r .version | sort -u)" = 1 ]
	[ "$(dump_store)" = "$before" ]
}

@test "import: a changed record is updated and its version becomes 2" {
	import_fixture
	jq -c 'select(.sku == "MUG-01") | .price = 1300' "$FIX" >changed.jsonl
	export SHOP_NOW=2026-11-30T09:15:00Z
	run -0 --separate-stderr shop-catalog import changed.jsonl
	[ "$output" = '{"kind":"import","read":1,"created":0,"updated":1,"unchanged":0,"rejected":0}' ]
	check_integrity
	run -0 --separate-stderr shop-catalog get MUG-01
	[ "$(jq -c '[.price, .version, .created_at, .updated_at]' <<<"$output")" = \
		'[1300,2,"2026-11-29T12:00:00Z","2026-11-30T09:15:00Z"]' ]
	# The others are untouched.
	run -0 --separate-stderr shop-catalog get MUG-02
	[ "$(jq -r .version <<<"$output")" = 1 ]
}

@test "import: upsert from stdin, from '-' and from FILE" {
	head -n 3 "$FIX" >first.jsonl
	run -0 --separate-stderr shop-catalog import <first.jsonl
	[ "$output" = '{"kind":"import","read":3,"created":3,"updated":0,"unchanged":0,"rejected":0}' ]
	check_integrity
	# Whole file by name: 3 unchanged, 9 new.
	run -0 --separate-stderr shop-catalog import "$FIX"
	[ "$output" = '{"kind":"import","read":12,"created":9,"updated":0,"unchanged":3,"rejected":0}' ]
	check_integrity
	# '-' is stdin; a changed title is an update.
	jq -c 'select(.sku == "LAMP-2") | .title = "Desk lamp, LED, dimmable"' "$FIX" >lamp.jsonl
	run -0 --separate-stderr shop-catalog import - <lamp.jsonl
	[ "$output" = '{"kind":"import","read":1,"created":0,"updated":1,"unchanged":0,"rejected":0}' ]
	check_integrity
	run -0 --separate-stderr shop-catalog get LAMP-2
	[ "$(jq -c '[.title, .version]' <<<"$output")" = '["Desk lamp, LED, dimmable",2]' ]
}

@test "import: a missing FILE is 66 and creates nothing in the store" {
	run -66 --separate-stderr shop-catalog import nope.jsonl
	expect_one_error "nope.jsonl"
	[ -z "$output" ]
}

@test "import: a decimal-string price is stored exactly in minor units" {
	run -0 --separate-stderr shop-catalog import "$FIX"
	run -0 --separate-stderr shop-catalog get TEE-BLK-M CHG-65W
	[ "$(jq -c '[.sku, .price, .currency]' <<<"$output")" = \
		"$(printf '%s\n' '["TEE-BLK-M",1999,"USD"]' '["CHG-65W",3900,"USD"]')" ]
	echo '{"sku":"P-1","title":"p","price":"19.99"}' >p.jsonl
	echo '{"sku":"P-2","title":"p","price":"0.10"}' >>p.jsonl
	echo '{"sku":"P-3","title":"p","price":"1500","currency":"JPY"}' >>p.jsonl
	run -0 --separate-stderr shop-catalog import p.jsonl
	check_integrity
	run -0 --separate-stderr shop-catalog get P-1 P-2 P-3
	[ "$(jq -c '[.price, .currency]' <<<"$output")" = \
		"$(printf '%s\n' '[1999,"USD"]' '[10,"USD"]' '[1500,"JPY"]')" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT price FROM product WHERE sku = 'P-1'")" = 1999 ]
}

@test "import --keep-going --rejects: good lines written, bad ones in the rejects file (0600), exit 65" {
	{
		sed -n 1,2p "$FIX"
		echo '{"sku":"BAD 1","title":"x","price":1}'
		sed -n 4p "$FIX"
		echo '{"sku":"X-2","title":"x",'
		echo '{"sku":"X-3","title":"x","price":-5}'
		sed -n 5p "$FIX"
	} >mixed.jsonl
	run -65 --separate-stderr shop-catalog import --keep-going --rejects rej.jsonl mixed.jsonl
	[ "$output" = '{"kind":"import","read":7,"created":4,"updated":0,"unchanged":0,"rejected":3}' ]
	expect_one_error "3 records rejected"
	check_integrity
	[ "$(stat -c %a rej.jsonl)" = 600 ]
	# The four good lines are in the store.
	run -0 --separate-stderr shop-catalog list --status any
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' MUG-01 MUG-02 TEE-BLK-L TEE-BLK-M)" ]
	# One reject record per bad line: its line number, an error, the raw input.
	[ "$(wc -l <rej.jsonl)" -eq 3 ]
	[ "$(jq -c '[.kind, .source, .line]' rej.jsonl)" = \
		"$(printf '%s\n' '["reject","mixed.jsonl",3]' '["reject","mixed.jsonl",5]' '["reject","mixed.jsonl",6]')" ]
	[ "$(jq -r .input rej.jsonl)" = "$(sed -n '3p;5p;6p' mixed.jsonl)" ]
	run -0 jq -r .error rej.jsonl
	[[ ${lines[0]} == *"mixed.jsonl:3:"*"sku"* ]]
	[[ ${lines[1]} == *"mixed.jsonl:5:"*"malformed JSON"* ]]
	[[ ${lines[2]} == *"mixed.jsonl:6:"*"negative"* ]]
}

@test "import --keep-going: a rejected line from stdin is named stdin; the rejects file is 0600 whatever the umask" {
	umask 022
	printf '%s\n' '{"sku":"OK-1","title":"ok","price":1}' '{"sku":"NO-1","price":1}' >in.jsonl
	run -65 --separate-stderr shop-catalog import --keep-going --rejects rej.jsonl <in.jsonl
	[ "$output" = '{"kind":"import","read":2,"created":1,"updated":0,"unchanged":0,"rejected":1}' ]
	expect_one_error "1 record rejected"
	check_integrity
	[ "$(jq -c '[.source, .line, .input]' rej.jsonl)" = '["stdin",2,"{\"sku\":\"NO-1\",\"price\":1}"]' ]
	[[ $(jq -r .error rej.jsonl) == *"field 'title': missing"* ]]
	[ "$(stat -c %a rej.jsonl)" = 600 ]
	run -0 --separate-stderr shop-catalog get OK-1
}

@test "import --keep-going with no bad line exits 0 and leaves an empty rejects file" {
	run -0 --separate-stderr shop-catalog import --keep-going --rejects rej.jsonl "$FIX"
	[ "$output" = '{"kind":"import","read":12,"created":12,"updated":0,"unchanged":0,"rejected":0}' ]
	check_integrity
	[ -f rej.jsonl ] && [ ! -s rej.jsonl ]
}

@test "import: --keep-going without --rejects (and the reverse) is a usage error, 64" {
	run -64 --separate-stderr shop-catalog import --keep-going "$FIX"
	expect_one_error "--rejects"
	[ -z "$output" ]
	run -64 --separate-stderr shop-catalog import --rejects rej.jsonl "$FIX"
	expect_one_error "--keep-going"
	[ ! -e rej.jsonl ]
	run -0 --separate-stderr shop-catalog list --status any
	[ -z "$output" ]
}

@test "import: no progress on stderr when stderr is not a TTY" {
	run -0 --separate-stderr shop-catalog import "$FIX"
	[ -z "$stderr" ]
	shop-catalog import "$FIX" >out.txt 2>err.txt
	[ ! -s err.txt ]
}

@test "import: progress on stderr when it is a TTY, none with --quiet" {
	# script(1) gives the program a terminal; its stdout goes to the typescript.
	run -0 script -qec "shop-catalog import '$FIX' >/dev/null" /dev/null
	[[ $output == *"shop-catalog: import 12"* ]]
	run -0 script -qec "shop-catalog --quiet import '$FIX' >/dev/null" /dev/null
	[[ $output != *"import 12"* ]]
}

@test "import: a second sku of family TEE with the same options is refused, 65, nothing written" {
	import_fixture
	before=$(dump_store)
	{
		echo '{"sku":"NEW-1","title":"new","price":100}'
		echo '{"sku":"TEE-BLK-M2","title":"Tee again","price":"19.99","family":"TEE","options":{"size":"M","color":"black"}}'
	} >dup.jsonl
	run -65 --separate-stderr shop-catalog import dup.jsonl
	expect_one_error "dup.jsonl:2:"
	[[ $stderr == *"TEE-BLK-M2"* && $stderr == *"'TEE-BLK-M'"* ]]
	[ -z "$output" ]
	check_integrity
	[ "$(dump_store)" = "$before" ]
	# The same options in another family, or other options in TEE, are fine.
	{
		echo '{"sku":"POLO-BLK-M","title":"Polo","price":2500,"family":"POLO","options":{"color":"black","size":"M"}}'
		echo '{"sku":"TEE-WHT-L","title":"Tee","price":"19.99","family":"TEE","options":{"color":"white","size":"L"}}'
	} >ok.jsonl
	run -0 --separate-stderr shop-catalog import ok.jsonl
	[ "$output" = '{"kind":"import","read":2,"created":2,"updated":0,"unchanged":0,"rejected":0}' ]
	check_integrity
	run -0 --separate-stderr shop-catalog list --family TEE
	[ "$(printf '%s\n' "$output" | skus)" = "$(printf '%s\n' TEE-BLK-L TEE-BLK-M TEE-WHT-L TEE-WHT-M)" ]
}

@test "import: two new variants with the same options in one file are refused, 65, nothing written" {
	{
		echo '{"sku":"V-1","title":"v","price":1,"family":"V","options":{"size":"S"}}'
		echo '{"sku":"V-2","title":"v","price":1,"family":"V","options":{"size":"S"}}'
	} >v.jsonl
	run -65 --separate-stderr shop-catalog import v.jsonl
	expect_one_error "v.jsonl:2:"
	[[ $stderr == *"'V-1'"* ]]
	check_integrity
	run -0 --separate-stderr shop-catalog list --status any
	[ -z "$output" ]
}

@test "import: records printed by get and export import back as unchanged" {
	import_fixture
	run -0 --separate-stderr bash -c 'shop-catalog list --status any | shop-catalog import'
	[ "$output" = '{"kind":"import","read":12,"created":0,"updated":0,"unchanged":12,"rejected":0}' ]
	run -0 --separate-stderr bash -c 'shop-catalog export | shop-catalog import'
	[ "$output" = '{"kind":"import","read":12,"created":0,"updated":0,"unchanged":12,"rejected":0}' ]
	check_integrity
}
