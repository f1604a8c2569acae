#!/usr/bin/env bats
# shop-catalog on real data: the first 2,000 icecat-chorus products
# (../shared/data), converted by fixtures/icecat.jq; and concurrent writers.
load helpers/common
load helpers/catalog

SRC=icecat-chorus/products.jsonl

setup() { common_setup; }

# slice: the first 2,000 source lines in src.jsonl, converted in ic.jsonl.
slice() {
	head -n 2000 "$DATA/$SRC" >src.jsonl
	jq -c -f "$TOP/fixtures/icecat.jq" src.jsonl >ic.jsonl
	[ "$(wc -l <ic.jsonl)" -eq 2000 ]
}

@test "icecat: import 2,000 converted products" {
	need_data "$SRC"
	slice
	run -0 --separate-stderr shop-catalog import ic.jsonl
	[ "$output" = '{"kind":"import","read":2000,"created":2000,"updated":0,"unchanged":0,"rejected":0}' ]
	[ -z "$stderr" ]
	check_integrity
	[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM product')" = 2000 ]
	# Again: all unchanged.
	run -0 --separate-stderr shop-catalog import ic.jsonl
	[ "$output" = '{"kind":"import","read":2000,"created":0,"updated":0,"unchanged":2000,"rejected":0}' ]
}

@test "icecat: get a known product; title, brand and price are the source's" {
	need_data "$SRC"
	slice
	shop-catalog import ic.jsonl >/dev/null
	check_integrity
	for n in 1 777 2000; do
		src=$(sed -n "${n}p" src.jsonl)
		id=$(jq -r .id <<<"$src")
		run -0 --separate-stderr shop-catalog get "IC-$id"
		[ "$(jq -c '[.title, .brand, .price]' <<<"$output")" = "$(jq -c '[.title, .brand, .price_cents]' <<<"$src")" ]
		[ "$(jq -c '[.kind, .currency, .status, .version]' <<<"$output")" = '["product","USD","active",1]' ]
	done
}

@test "icecat: list --brand HP counts what the source slice holds" {
	need_data "$SRC"
	slice
	shop-catalog import ic.jsonl >/dev/null
	check_integrity
	want=$(jq -r 'select(.brand == "HP") | .id' src.jsonl | wc -l)
	[ "$want" -gt 0 ]
	run -0 --separate-stderr shop-catalog list --brand HP
	[ "$(printf '%s\n' "$output" | wc -l)" -eq "$want" ]
	[ "$(printf '%s\n' "$output" | jq -r .brand | sort -u)" = HP ]
	[ "$(printf '%s\n' "$output" | skus)" = "$(jq -r 'select(.brand == "HP") | "IC-" + .id' src.jsonl | sort)" ]
	# --where on real records agrees with jq on the source.
	run -0 --separate-stderr shop-catalog list --brand HP --where '.price > 10000'
	[ "$(printf '%s\n' "$output" | skus)" = \
		"$(jq -r 'select(.brand == "HP" and .price_cents > 10000) | "IC-" + .id' src.jsonl | sort)" ]
}

@test "icecat: export sorted equals the converted input sorted, byte for byte" {
	need_data "$SRC"
	slice
	shop-catalog import ic.jsonl >/dev/null
	check_integrity
	shop-catalog export >exp.jsonl
	sort ic.jsonl >a
	sort exp.jsonl >b
	cmp a b
	# And it round-trips into a second store.
	run -0 --separate-stderr shop-catalog --db other.db import exp.jsonl
	[ "$output" = '{"kind":"import","read":2000,"created":2000,"updated":0,"unchanged":0,"rejected":0}' ]
	check_integrity other.db
	shop-catalog --db other.db export | cmp - exp.jsonl
}

# race_imports DB: import h1.jsonl and h2.jsonl into DB at the same time;
# both must exit 0 (outputs in o1, o2; errors in e1, e2).
race_imports() {
	shop-catalog --db "$1" import h1.jsonl >o1 2>e1 &
	local p1=$! s1=0 s2=0
	shop-catalog --db "$1" import h2.jsonl >o2 2>e2 &
	local p2=$!
	wait "$p1" || s1=$?
	wait "$p2" || s2=$?
	[ "$s1" -eq 0 ] || { cat e1 >&2; return 1; }
	[ "$s2" -eq 0 ] || { cat e2 >&2; return 1; }
}

@test "icecat: two concurrent imports of disjoint halves both succeed, all rows stored" {
	need_data "$SRC"
	slice
	head -n 1000 ic.jsonl >h1.jsonl
	tail -n 1000 ic.jsonl >h2.jsonl
	# Create the store first so that both see the same one, then race.
	shop-catalog list >/dev/null
	race_imports "$SHOP_DB"
	[ "$(cat o1)" = '{"kind":"import","read":1000,"created":1000,"updated":0,"unchanged":0,"rejected":0}' ]
	[ "$(cat o2)" = '{"kind":"import","read":1000,"created":1000,"updated":0,"unchanged":0,"rejected":0}' ]
	[ ! -s e1 ] && [ ! -s e2 ]
	check_integrity
	[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM product')" = 2000 ]
	shop-catalog export | sort | cmp - <(sort ic.jsonl)
	# Also from a store that does not exist yet: both create-or-open it.
	race_imports race.db
	check_integrity race.db
	[ "$(sqlite3 race.db 'SELECT count(*) FROM product')" = 2000 ]
}

@test "icecat: 8 concurrent set on one sku: each exits 0 or 75, the version counts the successes" {
	need_data "$SRC"
	slice
	shop-catalog import ic.jsonl >/dev/null
	check_integrity
	sku=$(head -n 1 ic.jsonl | jq -r .sku)
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		# Distinct prices: every successful set is a real change.
		shop-catalog set "$sku" "price:=$((100000 + i))" >"out.$i" 2>"err.$i" &
		pids+=($!)
	done
	ok=0
	for i in 1 2 3 4 5 6 7 8; do
		s=0
		wait "${pids[$((i - 1))]}" || s=$?
		case $s in
		0) ok=$((ok + 1)) ;;
		75) grep -q '^shop-catalog: ' "err.$i" ;;
		*) echo "set $i exited $s: $(cat "err.$i")" >&2; return 1 ;;
		esac
	done
	check_integrity
	run -0 --separate-stderr shop-catalog get "$sku"
	[ "$(jq -r .version <<<"$output")" -eq $((1 + ok)) ]
	# The price is that of one of the successful sets.
	price=$(jq -r .price <<<"$output")
	found=0
	for i in 1 2 3 4 5 6 7 8; do
		if [ -s "out.$i" ] && [ "$(jq -r .price "out.$i")" = "$price" ]; then found=1; fi
	done
	[ "$found" -eq 1 ]
}
