#!/usr/bin/env bats
# shop-search suggest: the title phrases taken by reindex, weighted by the
# products whose title begins with them; logged queries that raise a
# phrase at once; --no-log; prefixes of any case, accents and length.
load helpers/common
load helpers/search

setup() {
	common_setup
	search_fixture
}

# suggestions PREFIX [ARGS...]: "text=score" of each suggestion, in order,
# on one line.
suggestions() {
	shop-search suggest "$@" | jq -r '"\(.text)=\(.score)"' | tr '\n' ' '
}

# title_phrases: "phrase=weight" of the first one, two and three words of
# the titles of the active products of the fixture (ASCII titles only: jq
# does not take accents off), one a line.
title_phrases() {
	jq -r 'select((.status // "active") == "active" and (.title | test("^[ -~]*$"))) |
		.title | ascii_downcase | [scan("[a-z0-9]+")] as $w |
		range(1; ([$w | length, 3] | min) + 1) as $n | $w[0:$n] | join(" ")' "$SEARCH_FIX" |
		sort | uniq -c | awk '{ n = $1; $1 = ""; sub(/^ /, ""); print $0 "=" n }'
}

# expected PREFIX: what suggest PREFIX --limit 100 should print of the
# title phrases: those that begin with PREFIX, by weight then phrase, at
# most 16 (each prefix keeps its best 16).
expected() {
	title_phrases | awk -F= -v p="$1" 'index($1, p) == 1' | sort -t= -k2,2nr -k1,1 | head -16 | tr '\n' ' '
}

@test "suggest: title phrases after reindex, weighted by the products whose title begins with them, best first" {
	run -0 --separate-stderr shop-search reindex
	[ "$(jq -r .kind <<<"$output")" = index ]
	[ "$(jq -r .products <<<"$output")" = 30 ]
	[ -z "$stderr" ]
	run -0 --separate-stderr shop-search suggest gar
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | jq -r .kind | sort -u)" = suggestion ]
	[ "$(suggestions gar)" = "garden=4 garden hose=2 garden hose 10=1 garden hose 20=1 garden rake=1 garden sprocket=1 garden sprocket wheel=1 gardening=1 gardening gloves=1 garlic=1 " ]
	# 10 by default; there is one more.
	[ "$(suggestions gar --limit 100)" = "garden=4 garden hose=2 garden hose 10=1 garden hose 20=1 garden rake=1 garden sprocket=1 garden sprocket wheel=1 gardening=1 gardening gloves=1 garlic=1 garlic press=1 " ]
	[ "$(suggestions gar --limit 2)" = "garden=4 garden hose=2 " ]
	[ "$(suggestions gar -n 1)" = "garden=4 " ]
	# Every prefix: what the titles say. The draft and the archived
	# sprockets count for nothing.
	for p in g ga garden 'garden h' s sp sprocket st steel 'steel sprocket' k kn l la lap d desk t to w r; do
		[ "$(suggestions "$p" --limit 100)" = "$(expected "$p")" ] || {
			echo "suggest '$p': $(suggestions "$p" --limit 100)" >&2
			echo "expected:    $(expected "$p")" >&2
			return 1
		}
	done
	check_search
}

@test "suggest: the case and the accents of the prefix do not matter; its spaces are one" {
	shop-search reindex >/dev/null
	want=$(suggestions gar)
	[ "$(suggestions GAR)" = "$want" ]
	[ "$(suggestions Gár)" = "$want" ]
	[ "$(suggestions 'garden  H')" = "garden hose=2 garden hose 10=1 garden hose 20=1 " ]
	[ "$(suggestions '  Garden hose')" = "garden hose=2 garden hose 10=1 garden hose 20=1 " ]
	# The phrases are without accents: crème brûlée is creme brulee.
	[ "$(suggestions crè)" = "creme=1 creme brulee=1 creme brulee torch=1 " ]
	[ "$(suggestions 'CRÈME B')" = "creme brulee=1 creme brulee torch=1 " ]
	# A prefix that ends within a word, or after it.
	[ "$(suggestions 'garden s')" = "garden sprocket=1 garden sprocket wheel=1 " ]
	[ "$(suggestions 'garden ')" = "garden hose=2 garden hose 10=1 garden hose 20=1 garden rake=1 garden sprocket=1 garden sprocket wheel=1 " ]
}

@test "suggest: a prefix longer than the 20 bytes of the key is still matched whole" {
	shop-search reindex >/dev/null
	# "garden sprocket wheel" is 21 bytes.
	[ "$(suggestions 'garden sprocket whe')" = "garden sprocket wheel=1 " ]
	[ "$(suggestions 'garden sprocket whee')" = "garden sprocket wheel=1 " ]
	[ "$(suggestions 'garden sprocket wheel')" = "garden sprocket wheel=1 " ]
	run -0 --separate-stderr shop-search suggest 'garden sprocket wheex'
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr shop-search suggest 'garden sprocket wheels'
	[ -z "$output" ]
	# And a logged query of 40 bytes and more.
	srch sprocket >/dev/null
	for n in 1 2; do shop-search 'steel sprocket 12 teeth hardened bicycles' >/dev/null; done
	[ "$(suggestions 'steel sprocket 12 teeth h')" = "steel sprocket 12 teeth hardened bicycles=2 " ]
	[ "$(suggestions 'steel sprocket 12 teeth hardened bicycles')" = "steel sprocket 12 teeth hardened bicycles=2 " ]
	run -0 --separate-stderr shop-search suggest 'steel sprocket 12 teeth hardened bicyclez'
	[ -z "$output" ]
}

@test "suggest: logged queries raise a phrase at once, and reindex keeps what they counted" {
	shop-search reindex >/dev/null
	[ "$(suggestions gar --limit 3)" = "garden=4 garden hose=2 garden hose 10=1 " ]
	# A query that finds something is logged, normalized.
	for n in 1 2 3 4; do
		run -0 --separate-stderr shop-search '  Garden   RAKE ' --limit 1
		[ "$(skus <<<"$output")" = HOS-03 ]
		[ -z "$stderr" ]
	done
	[ "$(sql 'SELECT q, n FROM search_query')" = "garden rake|4" ]
	[ "$(sql 'SELECT last_at FROM search_query')" = "$SHOP_NOW" ]
	# 1 for the title, 4 for the queries: first.
	[ "$(suggestions gar --limit 3)" = "garden rake=5 garden=4 garden hose=2 " ]
	[ "$(suggestions 'garden r')" = "garden rake=5 " ]
	# A phrase no title begins with: a new suggestion.
	shop-search steel rake >/dev/null
	[ "$(suggestions 'steel r')" = "steel rake=1 " ]
	shop-search steel rake --limit 1 --category garden >/dev/null
	shop-search query steel rake >/dev/null
	[ "$(suggestions ste --limit 2)" = "steel rake=3 steel=2 " ]
	# Under every prefix of it (a tie: by phrase).
	[ "$(suggestions s --limit 2)" = "sprocket=3 steel rake=3 " ]
	# Reindex: the title phrases again, plus the logged counts.
	before=$(suggestions g --limit 100)
	before_s=$(suggestions s --limit 100)
	run -0 --separate-stderr shop-search reindex
	[ "$(suggestions g --limit 100)" = "$before" ]
	[ "$(suggestions s --limit 100)" = "$before_s" ]
	[ "$(sql 'SELECT q || "=" || n FROM search_query ORDER BY q' | tr '\n' ' ')" = "garden rake=4 steel rake=3 " ]
	check_search
}

@test "suggest: a logged query counts the same under every prefix, also where its title phrase was not kept" {
	for n in $(seq 17); do echo "{\"sku\":\"X-$n\",\"title\":\"Xeno alpha $n\",\"price\":100}"; done |
		shop-catalog import >/dev/null
	shop-search reindex >/dev/null
	# 19 phrases under x: xeno alpha 7, 8 and 9 are not kept there.
	[ "$(shop-search suggest x --limit 100 | wc -l)" -eq 16 ]
	for n in 1 2; do shop-search xeno alpha 9 --limit 1 >/dev/null; done
	[ "$(suggestions 'xeno alpha 9')" = "xeno alpha 9=3 " ]
	[[ "$(suggestions x --limit 100)" == *"xeno alpha 9=3 "* ]]
	# reindex weighs it the same (titles and queries) and keeps it.
	shop-search reindex >/dev/null
	[[ "$(suggestions x --limit 100)" == *"xeno alpha 9=3 "* ]]
}

@test "suggest: --no-log, queries that find nothing and queries of no word are not logged" {
	shop-search reindex >/dev/null
	before=$(sql 'SELECT * FROM search_suggest ORDER BY prefix, phrase')
	for n in 1 2 3; do
		shop-search garden rake --no-log >/dev/null
		shop-search --no-log garden rake >/dev/null
		shop-search query --no-log garden rake >/dev/null
		run -0 --separate-stderr shop-search zzyzx quux
		[ -z "$output" ]
		run -0 --separate-stderr shop-search '()'
		[ -z "$output" ]
	done
	[ -z "$(sql 'SELECT * FROM search_query')" ]
	[ "$(sql 'SELECT * FROM search_suggest ORDER BY prefix, phrase')" = "$before" ]
	[ "$(suggestions 'garden r')" = "garden rake=1 " ]
	# Nor are the queries of time.
	printf 'garden rake\ngarden rake\n' | shop-search time >/dev/null
	[ -z "$(sql 'SELECT * FROM search_query')" ]
}

@test "suggest: an unknown prefix, or one of no word, prints nothing and exits 0" {
	shop-search reindex >/dev/null
	for p in zzz 'garden z' xylophone '' ' ' "'" '"' '%' '_' '*' '-' '()' '😀' "'; DROP TABLE search_suggest; --"; do
		run -0 --separate-stderr shop-search suggest -- "$p"
		[ -z "$output" ] || { echo "suggest '$p': $output" >&2; return 1; }
		[ -z "$stderr" ] || { echo "suggest '$p': $stderr" >&2; return 1; }
	done
	[ "$(sql 'SELECT count(*) > 0 FROM search_suggest')" = 1 ]
	# On a store with no product at all, too.
	run -0 --separate-stderr shop-search --db empty.db suggest gar
	[ -z "$output" ] && [ -z "$stderr" ]
}

@test "suggest: the title phrases change at reindex; the search finds the product at once" {
	shop-search reindex >/dev/null
	echo '{"sku":"GAZ-1","title":"Gazebo tent 3 m","description":"Garden gazebo.","brand":"Acme","category":"garden","price":19900}' |
		shop-catalog import >/dev/null
	run -0 --separate-stderr srch gazebo
	[ "$(skus <<<"$output")" = GAZ-1 ]
	run -0 --separate-stderr shop-search suggest gaz
	[ -z "$output" ]
	shop-catalog rm GIZ-04 >/dev/null # the garlic press
	[ "$(suggestions garl)" = "garlic=1 garlic press=1 " ]
	run -0 --separate-stderr shop-search reindex
	[ "$(jq -r .products <<<"$output")" = 30 ]
	[ "$(suggestions gaz)" = "gazebo=1 gazebo tent=1 gazebo tent 3=1 " ]
	run -0 --separate-stderr shop-search suggest garl
	[ -z "$output" ]
	# A title changed: its new phrases at the next reindex.
	shop-catalog set HOS-03 title="Leaf rake" >/dev/null
	shop-search reindex >/dev/null
	[ "$(suggestions 'garden r')" = "" ]
	[ "$(suggestions 'leaf')" = "leaf=1 leaf rake=1 " ]
	check_search
}

@test "suggest: --table; usage errors are 64 with one line on stderr" {
	shop-search reindex >/dev/null
	run -0 --separate-stderr shop-search --table suggest gar --limit 2
	[ "${lines[0]}" = "TEXT         SCORE" ]
	[ "${lines[1]}" = "garden       4" ]
	[ "${lines[2]}" = "garden hose  2" ]
	[ "${#lines[@]}" -eq 3 ]
	for args in 'suggest' 'suggest --limit 0 gar' 'suggest --limit 101 gar' 'suggest --limit x gar' \
		'suggest gar hose' 'suggest --bogus gar'; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr shop-search $args
		[ -z "$output" ] || { echo "$args printed: $output" >&2; return 1; }
		one_error || { echo "args: $args" >&2; return 1; }
	done
	run -0 --separate-stderr shop-search suggest --limit 100 gar
	run -0 --separate-stderr shop-search suggest --limit 1 gar
	[ "${#lines[@]}" -eq 1 ]
}

@test "time --suggest: one timing record for the prefixes of a file or of stdin" {
	shop-search reindex >/dev/null
	printf 'gar\ns\n\nsteel sp\nzzz\n' >prefixes.txt
	run -0 --separate-stderr shop-search time --suggest prefixes.txt
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",4]' ]
	jq -e '.p50_ms >= 0 and .p95_ms >= .p50_ms and .p99_ms >= .p95_ms and .mean_ms >= 0' <<<"$output" >/dev/null
	run -0 --separate-stderr bash -c 'shop-search time --suggest <prefixes.txt'
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",4]' ]
	run -0 --separate-stderr bash -c 'shop-search time --suggest - <prefixes.txt'
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",4]' ]
	run -66 --separate-stderr shop-search time --suggest nope.txt
	one_error "nope.txt"
}
