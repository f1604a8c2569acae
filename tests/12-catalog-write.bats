#!/usr/bin/env bats
# shop-catalog set, patch and rm: merge patches, all or nothing, optimistic
# versions, times from SHOP_NOW.
load helpers/common
load helpers/catalog

setup() {
	common_setup
	import_fixture
}

@test "set FIELD=VALUE: a string; the new record is printed, version 2" {
	orig=$(shop-catalog get MUG-01)
	run -0 --separate-stderr shop-catalog set MUG-01 'title=Stoneware mug, 350 ml' brand=Potter
	[ -z "$stderr" ]
	check_integrity
	[ "$(jq -c '[.sku, .title, .brand, .version]' <<<"$output")" = '["MUG-01","Stoneware mug, 350 ml","Potter",2]' ]
	[ "$output" = "$(shop-catalog get MUG-01)" ]
	# Everything else is as before.
	[ "$(jq -c 'del(.title, .brand, .version)' <<<"$output")" = "$(jq -c 'del(.title, .brand, .version)' <<<"$orig")" ]
}

@test "set FIELD:=JSON: price:=1350 is minor units" {
	run -0 --separate-stderr shop-catalog set MUG-01 price:=1350
	check_integrity
	[ "$(jq -c '[.price, .version]' <<<"$output")" = '[1350,2]' ]
	run -0 --separate-stderr shop-catalog set MUG-01 'attributes:={"volume_ml":300,"dishwasher":true}'
	check_integrity
	[ "$(jq -c '.attributes' <<<"$output")" = '{"volume_ml":300,"dishwasher":true}' ]
	run -0 --separate-stderr shop-catalog set MUG-01 family:=null
	[ "$(jq -c '[.family, .version]' <<<"$output")" = '[null,3]' ]
}

@test "set price=13.50: a decimal string is converted exactly" {
	run -0 --separate-stderr shop-catalog set MUG-01 price=13.50
	check_integrity
	[ "$(jq -r .price <<<"$output")" = 1350 ]
	run -0 --separate-stderr shop-catalog set MUG-01 price=0.07
	[ "$(jq -r .price <<<"$output")" = 7 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT price FROM product WHERE sku = 'MUG-01'")" = 7 ]
}

@test "set attributes.color=red merges into attributes; options.size too" {
	run -0 --separate-stderr shop-catalog set MUG-01 attributes.color=red
	check_integrity
	[ "$(jq -c .attributes <<<"$output")" = '{"volume_ml":350,"color":"red"}' ]
	# Two dotted assignments into one object merge.
	run -0 --separate-stderr shop-catalog set MUG-01 attributes.color=blue attributes.glaze=matte
	[ "$(jq -c .attributes <<<"$output")" = '{"volume_ml":350,"color":"blue","glaze":"matte"}' ]
	# A deeper path builds objects; := with null removes a key.
	run -0 --separate-stderr shop-catalog set MUG-01 attributes.size.h:=10
	[ "$(jq -c .attributes <<<"$output")" = '{"volume_ml":350,"color":"blue","glaze":"matte","size":{"h":10}}' ]
	run -0 --separate-stderr shop-catalog set MUG-01 attributes.glaze:=null
	[ "$(jq -c .attributes <<<"$output")" = '{"volume_ml":350,"color":"blue","size":{"h":10}}' ]
	run -0 --separate-stderr shop-catalog set TEE-BLK-M options.size=S
	[ "$(jq -c .options <<<"$output")" = '{"color":"black","size":"S"}' ]
	check_integrity
}

@test "set: a key removed with :=null beside another assignment into the same object" {
	# Each assignment is its own merge patch: attributes.glaze:=null removes
	# glaze whatever comes before it on the command line.
	shop-catalog set MUG-01 attributes.glaze=matte >/dev/null
	run -0 --separate-stderr shop-catalog set MUG-01 attributes.size.h:=10 attributes.glaze:=null
	check_integrity
	[ "$(jq -c .attributes <<<"$output")" = '{"volume_ml":350,"size":{"h":10}}' ]
}

@test "set: the same values again changes nothing, not even the version" {
	run -0 --separate-stderr shop-catalog set MUG-01 price:=1250 title='Stoneware mug 350 ml'
	[ "$(jq -r .version <<<"$output")" = 1 ]
	check_integrity
}

@test "set: an unknown sku is 66 and nothing changes" {
	before=$(dump_store)
	run -66 --separate-stderr shop-catalog set NOPE title=x
	[ -z "$output" ]
	expect_one_error "no such product"
	[ "$(dump_store)" = "$before" ]
}

@test "set: a bad assignment is 64" {
	before=$(dump_store)
	for a in title '=x' ':=1' 'price:=notjson' 'attributes..x=1' 'attributes.=1'; do
		run -64 --separate-stderr shop-catalog set MUG-01 "$a"
		[ -z "$output" ]
		expect_one_error ""
	done
	run -64 --separate-stderr shop-catalog set MUG-01
	expect_one_error "missing argument"
	[ "$(dump_store)" = "$before" ]
}

@test "set: an unknown field is 65 'unknown field', bad values are 65" {
	before=$(dump_store)
	run -65 --separate-stderr shop-catalog set MUG-01 colour=red
	expect_one_error "unknown field 'colour'"
	[ -z "$output" ]
	run -65 --separate-stderr shop-catalog set MUG-01 status=gone
	expect_one_error "status"
	run -65 --separate-stderr shop-catalog set MUG-01 price=-1
	expect_one_error "price"
	run -65 --separate-stderr shop-catalog set MUG-01 price:=12.5
	expect_one_error "minor units"
	run -65 --separate-stderr shop-catalog set MUG-01 options.size:=3
	expect_one_error "options.size"
	run -65 --separate-stderr shop-catalog set MUG-01 title=
	expect_one_error "title"
	check_integrity
	[ "$(dump_store)" = "$before" ]
}

@test "patch: merge patches from stdin; null removes a key" {
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"attributes\":{\"volume_ml\":null}}" | shop-catalog patch'
	check_integrity
	[ "$(jq -c '[.attributes, .version, .price, .title]' <<<"$output")" = '[{},2,1250,"Stoneware mug 350 ml"]' ]
	printf '%s\n' '{"sku":"MUG-02","price":"10.00","attributes":{"colour":"white"}}' \
		'{"sku":"BOOK-C","description":null}' >p.jsonl
	run -0 --separate-stderr shop-catalog patch <p.jsonl
	check_integrity
	[ "${#lines[@]}" -eq 2 ]
	[ "$(jq -c '[.sku, .price, .attributes]' <<<"${lines[0]}")" = '["MUG-02",1000,{"volume_ml":400,"colour":"white"}]' ]
	[ "$(jq -c '[.sku, .description, .version]' <<<"${lines[1]}")" = '["BOOK-C","",2]' ]
}

@test "patch: all or nothing, the second record bad is 65 and the first is not applied" {
	before=$(dump_store)
	printf '%s\n' '{"sku":"MUG-01","price":1}' '{"sku":"MUG-02","price":"cheap"}' >p.jsonl
	run -65 --separate-stderr shop-catalog patch <p.jsonl
	[ -z "$output" ]
	expect_one_error "stdin:2:"
	[[ $stderr == *price* ]]
	check_integrity
	[ "$(dump_store)" = "$before" ]
	# An unknown sku in the second record: 66, nothing applied either.
	printf '%s\n' '{"sku":"MUG-01","price":1}' '{"sku":"NOPE","price":1}' >p.jsonl
	run -66 --separate-stderr shop-catalog patch <p.jsonl
	expect_one_error "stdin:2:"
	[ "$(dump_store)" = "$before" ]
	# Malformed JSON on line 3 after two good ones: 65, nothing applied.
	printf '%s\n' '{"sku":"MUG-01","price":1}' '{"sku":"MUG-02","price":2}' '{"sku":' >p.jsonl
	run -65 --separate-stderr shop-catalog patch <p.jsonl
	expect_one_error "stdin:3:"
	[ "$(dump_store)" = "$before" ]
	# A record without a sku.
	printf '%s\n' '{"price":1}' >p.jsonl
	run -65 --separate-stderr shop-catalog patch <p.jsonl
	expect_one_error "sku"
	[ "$(dump_store)" = "$before" ]
}

@test "patch: a stale version is 75 and changes nothing" {
	shop-catalog set MUG-01 price:=1300 >/dev/null
	before=$(dump_store)
	run -75 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"version\":1,\"price\":1}" | shop-catalog patch'
	[ -z "$output" ]
	expect_one_error "version 1"
	[[ $stderr == *"MUG-01"* ]]
	check_integrity
	[ "$(dump_store)" = "$before" ]
	# The current version applies.
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"version\":2,\"price\":1}" | shop-catalog patch'
	[ "$(jq -c '[.price, .version]' <<<"$output")" = '[1,3]' ]
	check_integrity
}

@test "patch: the safe edit pipeline get | jq | patch bumps the version; replayed it is 75" {
	shop-catalog get MUG-01 >orig.json
	run -0 --separate-stderr bash -c 'shop-catalog get MUG-01 | jq -c ".price = 1" | shop-catalog patch'
	check_integrity
	[ "$(jq -c '[.sku, .price, .version, .created_at]' <<<"$output")" = '["MUG-01",1,2,"2026-11-29T12:00:00Z"]' ]
	[ "$output" = "$(shop-catalog get MUG-01)" ]
	# The same edit of the record read before is now stale.
	before=$(dump_store)
	run -75 --separate-stderr bash -c 'jq -c ".price = 2" orig.json | shop-catalog patch'
	expect_one_error "changed since version 1"
	[ "$(dump_store)" = "$before" ]
}

@test "rm: archives, bumps the version; a second rm leaves it" {
	run -0 --separate-stderr shop-catalog rm MUG-01
	check_integrity
	[ "$(jq -c '[.sku, .status, .version]' <<<"$output")" = '["MUG-01","archived",2]' ]
	run -0 --separate-stderr shop-catalog list
	[[ $output != *'"sku":"MUG-01"'* ]]
	run -0 --separate-stderr shop-catalog get MUG-01
	[ "$(jq -c '[.status, .version]' <<<"$output")" = '["archived",2]' ]
	before=$(dump_store)
	run -0 --separate-stderr shop-catalog rm MUG-01
	[ "$(jq -c '[.status, .version]' <<<"$output")" = '["archived",2]' ]
	check_integrity
	[ "$(dump_store)" = "$before" ]
}

@test "rm: several skus; an unknown one is 66 and none is archived" {
	before=$(dump_store)
	run -66 --separate-stderr shop-catalog rm MUG-01 NOPE
	expect_one_error "no such product"
	[ -z "$output" ]
	check_integrity
	[ "$(dump_store)" = "$before" ]
	run -0 --separate-stderr shop-catalog rm MUG-01 MUG-02
	[ "$(printf '%s\n' "$output" | jq -c '[.sku, .status]')" = \
		"$(printf '%s\n' '["MUG-01","archived"]' '["MUG-02","archived"]')" ]
	check_integrity
}

@test "rm: skus from records on stdin" {
	run -0 --separate-stderr bash -c 'shop-catalog list --brand Wired | shop-catalog rm'
	check_integrity
	[ "$(printf '%s\n' "$output" | jq -c '[.sku, .status, .version]')" = \
		"$(printf '%s\n' '["CBL-USB-C-1M","archived",2]' '["CBL-USB-C-2M","archived",2]' '["CHG-65W","archived",2]')" ]
	run -0 --separate-stderr shop-catalog list --brand Wired
	[ -z "$output" ]
	run -0 --separate-stderr shop-catalog list --brand Wired --status archived
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 3 ]
}

@test "updated_at follows SHOP_NOW, created_at is kept" {
	export SHOP_NOW=2026-12-01T08:30:00Z
	run -0 --separate-stderr shop-catalog set MUG-01 price:=1
	[ "$(jq -c '[.created_at, .updated_at]' <<<"$output")" = '["2026-11-29T12:00:00Z","2026-12-01T08:30:00Z"]' ]
	export SHOP_NOW=2026-12-02T00:00:01Z
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-01\",\"price\":2}" | shop-catalog patch'
	[ "$(jq -c '[.created_at, .updated_at, .version]' <<<"$output")" = '["2026-11-29T12:00:00Z","2026-12-02T00:00:01Z",3]' ]
	export SHOP_NOW=2026-12-03T10:00:00Z
	run -0 --separate-stderr shop-catalog rm MUG-01
	[ "$(jq -c '[.created_at, .updated_at, .version]' <<<"$output")" = '["2026-11-29T12:00:00Z","2026-12-03T10:00:00Z",4]' ]
	# A change that changes nothing keeps updated_at.
	export SHOP_NOW=2026-12-04T10:00:00Z
	run -0 --separate-stderr shop-catalog rm MUG-01
	[ "$(jq -r .updated_at <<<"$output")" = 2026-12-03T10:00:00Z ]
	# created_at and updated_at in a patch are not settable.
	run -0 --separate-stderr bash -c 'echo "{\"sku\":\"MUG-02\",\"created_at\":\"2000-01-01T00:00:00Z\",\"price\":5}" | shop-catalog patch'
	[ "$(jq -c '[.created_at, .updated_at]' <<<"$output")" = '["2026-11-29T12:00:00Z","2026-12-04T10:00:00Z"]' ]
	check_integrity
}
