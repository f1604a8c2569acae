#!/usr/bin/env bats
# shop-search queries: any text is a query and never a syntax error; the
# index follows every change of the catalog, whoever makes it; filters and
# facets agree with plain SQL; typos are corrected (the small fixture, and
# real misspellings against the icecat catalog); the last word is a prefix;
# paging, --table, and usage errors.
load helpers/common
load helpers/search

setup_file() {
	export SHOP_NOW="2026-11-29T12:00:00Z"
	icecat_store "$BATS_FILE_TMPDIR"
}

setup() {
	common_setup
	search_fixture
}

# no_noise: $stderr is empty, or the one note of a correction; never a
# word about syntax.
no_noise() {
	[ -z "$stderr" ] || one_error "showing results for '" || return 1
	[[ $stderr != *syntax* && $stderr != *fts5* && $stderr != *rror* ]] ||
		{ echo "noise on stderr: $stderr" >&2; return 1; }
}

# products_only: every line of $output is a product record with a score.
products_only() {
	[ -z "$output" ] && return 0
	printf '%s\n' "$output" | jq -s -e 'all(.kind == "product" and (.sku | type) == "string" and (.score | type) == "number")' >/dev/null ||
		{ echo "not product records: $output" >&2; return 1; }
}

@test "hostile queries: exit 0, product records or nothing, no syntax noise, the store untouched" {
	srch sprocket >/dev/null # the typo vocabulary is built by the first query
	before=$(dump_store)
	long_a=$(head -c 5000 /dev/zero | tr '\0' a)
	long_words=$(printf 'sprocket %.0s' $(seq 600))
	long_emoji=$(printf '😀%.0s' $(seq 1500))
	hostile=('"' '""' "'" '*' '-' '-x' '--' 'NEAR' 'NEAR(a b)' 'NEAR("a" "b", 2)' 'AND' 'OR' 'NOT' 'a AND OR NOT b'
		'(' ')' '((' '))' 'col:val' 'title:sprocket' '{title}: x' '{title brand}: sprocket' '^x' '^sprocket' 'a*b' '*sprocket'
		'sprocket*' '"sprocket' 'sprocket"' '+sprocket' 'sprocket -steel' '😀' 'café' 'crème brûlée'
		"'; DROP TABLE product; --" "x'); DELETE FROM product; --" "sprocket' OR 1=1 --" '%' '_' '\' '\"' $'tab\there'
		$'new\nline' "$long_a" "$long_words" "$long_emoji")
	for q in "${hostile[@]}"; do
		run -0 --separate-stderr shop-search --no-log -- "$q"
		no_noise || { echo "query: $q" >&2; return 1; }
		products_only || { echo "query: $q" >&2; return 1; }
	done
	# The 600 words are one word 600 times: the sprockets.
	run -0 --separate-stderr shop-search --no-log -- "$long_words"
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-02 SPR-03 SPR-04 SPR-05 SPR-06 SPR-07 SPR-08 " ]
	# Without "query" and "--" too: a word that begins with '-' after --.
	run -0 --separate-stderr shop-search -- -x
	[ -z "$stderr" ]
	run -0 --separate-stderr shop-search '"stoneware" sprocket*' --no-log
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-02 SPR-03 SPR-04 SPR-05 SPR-06 SPR-07 SPR-08 " ]
	# Random bytes, invalid UTF-8 and control characters included.
	for n in $(seq 6); do
		r=$(head -c 200 /dev/urandom | tr -d '\0')
		printf '%s' "$r" >"random.$n"
		run -0 --separate-stderr shop-search --no-log -- "$r"
		no_noise || { echo "query: random.$n" >&2; return 1; }
		products_only || { echo "query: random.$n" >&2; return 1; }
	done
	[ "$(dump_store)" = "$before" ] || { echo "a query with --no-log changed the store" >&2; return 1; }
	check_search
}

@test "hostile queries: SQL in the words and in the filters is text; the tables are intact" {
	for q in "'; DROP TABLE product; --" "sprocket'; DELETE FROM product; --" "x\"); DROP TABLE search_fts; --"; do
		# Logged (not --no-log): the text goes into search_query too.
		run -0 --separate-stderr shop-search -- "$q"
		no_noise
	done
	run -0 --separate-stderr srch sprocket --brand "Acme' OR '1'='1"
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr srch sprocket --category "tools' OR 1=1 --"
	[ -z "$output" ] && [ -z "$stderr" ]
	[ "$(sql 'SELECT count(*) FROM product')" = 32 ]
	[ "$(sql "SELECT count(*) FROM product WHERE status = 'active'")" = 30 ]
	run -0 --separate-stderr srch sprocket
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 8 ]
	check_search
}

@test "queries with no word in them print nothing and exit 0" {
	for q in '' ' ' '()' '"' '*' '-' '--' '^' ':' '{}' '!!!' '😀' '😀 🎉' '.' ',,' '@#$%&'; do
		run -0 --separate-stderr srch -- "$q"
		[ -z "$output" ] || { echo "query '$q' printed: $output" >&2; return 1; }
		[ -z "$stderr" ] || { echo "query '$q' said: $stderr" >&2; return 1; }
	done
}

@test "a query command with no operand at all is a usage error (64)" {
	run -64 --separate-stderr shop-search query
	one_error
	run -64 --separate-stderr shop-search --no-log
	one_error
}

@test "the index follows the catalog: added, changed, archived, made a draft, made active again" {
	srch zeppelin >/dev/null
	run -0 --separate-stderr srch zeppelin
	[ -z "$output" ]
	# Added.
	echo '{"sku":"ZEP-1","title":"Zeppelin kite","description":"A kite shaped like an airship.","brand":"Skyward","category":"toys","price":1500,"attributes":{"fabric":"ripstop","weight_g":300}}' |
		shop-catalog import >/dev/null
	check_search
	run -0 --separate-stderr srch zeppelin
	[ "$(skus <<<"$output")" = ZEP-1 ]
	[ -z "$stderr" ]
	# By every field: brand, category, description, a text attribute; not
	# by a number attribute.
	for w in skyward airship ripstop; do
		run -0 --separate-stderr srch "$w"
		[ "$(skus <<<"$output")" = ZEP-1 ] || { echo "not found by $w: $output" >&2; return 1; }
	done
	run -0 --separate-stderr srch kite --category toys
	[ "$(skus <<<"$output")" = ZEP-1 ]
	run -0 --separate-stderr srch -q 300
	[ -z "$output" ]
	# Title changed: found by the new word, not by the old one.
	shop-catalog set ZEP-1 title="Albatross kite" >/dev/null
	check_search
	run -0 --separate-stderr srch albatross
	[ "$(skus <<<"$output")" = ZEP-1 ]
	[ "$(jq -r .title <<<"$output")" = "Albatross kite" ]
	run -0 --separate-stderr srch -q zeppelin
	[ -z "$output" ]
	# Description and attributes changed.
	shop-catalog set ZEP-1 description="A kite shaped like a seabird." attributes.fabric=nylon >/dev/null
	check_search
	run -0 --separate-stderr srch -q airship
	[ -z "$output" ]
	run -0 --separate-stderr srch -q ripstop
	[ -z "$output" ]
	run -0 --separate-stderr srch seabird nylon
	[ "$(skus <<<"$output")" = ZEP-1 ]
	# Archived: gone.
	shop-catalog rm ZEP-1 >/dev/null
	check_search
	run -0 --separate-stderr srch -q albatross
	[ -z "$output" ]
	# (kite is no word of the index now: corrected to "kit", a sprocket kit)
	run -0 --separate-stderr srch -q kite
	[[ $output != *ZEP-1* ]]
	# Active again: found again.
	shop-catalog set ZEP-1 status=active >/dev/null
	check_search
	run -0 --separate-stderr srch albatross
	[ "$(skus <<<"$output")" = ZEP-1 ]
	# A draft is not searchable either.
	shop-catalog set ZEP-1 status=draft >/dev/null
	check_search
	run -0 --separate-stderr srch -q albatross
	[ -z "$output" ]
	shop-catalog set ZEP-1 status=active >/dev/null
	run -0 --separate-stderr srch albatross
	[ "$(skus <<<"$output")" = ZEP-1 ]
	# The fixture's draft and archived sprockets were never found.
	run -0 --separate-stderr srch sprocket --limit 100
	[[ $output != *SPR-09* && $output != *SPR-10* ]]
	check_search
}

@test "the index follows the catalog: a re-import that changes many products at once" {
	srch sprocket >/dev/null
	# Every sprocket becomes a cog; one import, one transaction.
	jq -c 'select(.sku | startswith("SPR-")) | .title |= sub("(?i)sprocket"; "Cog") | .description |= gsub("(?i)sprocket"; "cog")' \
		"$SEARCH_FIX" >cogs.jsonl
	run -0 --separate-stderr shop-catalog import cogs.jsonl
	[ "$output" = '{"kind":"import","read":10,"created":0,"updated":10,"unchanged":0,"rejected":0}' ]
	check_search
	run -0 --separate-stderr srch -q sprocket
	[ -z "$output" ]
	run -0 --separate-stderr srch cog --limit 100
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-02 SPR-03 SPR-04 SPR-05 SPR-06 SPR-07 SPR-08 " ]
}

@test "the index follows the catalog: rows written by the sqlite3 shell are indexed by the next search" {
	srch sprocket >/dev/null
	sql "INSERT INTO product (sku, title, brand, category, price, currency, tax_class, family, options_key, status, version, created_at, updated_at, doc)
	     VALUES ('RAW-1', 'Xylophone deluxe', 'Toyco', 'toys', 1000, 'USD', 'standard', NULL, '{}', 'active', 1,
	             '2026-11-29T12:00:00Z', '2026-11-29T12:00:00Z',
	             json_object('kind', 'product', 'sku', 'RAW-1', 'title', 'Xylophone deluxe', 'description', 'Wooden marimba.',
	                         'brand', 'Toyco', 'category', 'toys', 'price', 1000, 'currency', 'USD',
	                         'attributes', json_object('wood', 'rosewood', 'keys', 25)))"
	# Queued by the triggers, not yet in the index.
	[ "$(sql 'SELECT count(*) FROM search_pending')" = 1 ]
	run -0 --separate-stderr srch xylophone
	[ "$(skus <<<"$output")" = RAW-1 ]
	[ "$(jq -r .title <<<"$output")" = "Xylophone deluxe" ]
	check_search
	run -0 --separate-stderr srch marimba rosewood
	[ "$(skus <<<"$output")" = RAW-1 ]
	# An UPDATE by the shell: the old words leave, the new ones come.
	sql "UPDATE product SET title = 'Glockenspiel deluxe', doc = json_set(doc, '$.title', 'Glockenspiel deluxe') WHERE sku = 'RAW-1'"
	run -0 --separate-stderr srch glockenspiel
	[ "$(skus <<<"$output")" = RAW-1 ]
	run -0 --separate-stderr srch -q xylophone
	[ -z "$output" ]
	check_search
	# Archived by the shell, then deleted by the shell: gone.
	sql "UPDATE product SET status = 'archived' WHERE sku = 'SPR-01'"
	run -0 --separate-stderr srch sprocket --limit 100
	[ "$(sorted_skus <<<"$output")" = "SPR-02 SPR-03 SPR-04 SPR-05 SPR-06 SPR-07 SPR-08 " ]
	check_search
	sql "DELETE FROM product WHERE sku = 'RAW-1'"
	run -0 --separate-stderr srch -q glockenspiel
	[ -z "$output" ]
	check_search
	# A reindex leaves the index as it was: it was in step.
	run -0 --separate-stderr shop-search reindex
	[ "$(jq -r .kind <<<"$output")" = index ]
	[ "$(jq -r .products <<<"$output")" = 29 ]
	check_search
}

# agree WORD SQL [OPTION...]: `shop-search WORD --facets --limit 1000
# OPTION...` prints exactly the active products whose title or description
# has WORD and that satisfy SQL (a condition on product), best first, then
# the two facets records, brand and category, whose counts are those of
# SQL's GROUP BY (empty values in the total only), the most frequent first.
agree() {
	local word=$1 cond=$2 where got want
	shift 2
	run -0 --separate-stderr srch "$word" --facets --limit 1000 "$@"
	[ -z "$stderr" ] || { echo "stderr: $stderr" >&2; return 1; }
	got=$(printf '%s\n' "$output" | jq -s -r '
		def desc: . as $c | [range(1; $c | length) | $c[. - 1] >= $c[.]] | all;
		[.[] | select(.kind == "product")] as $p
		| "products: " + ($p | map(.sku) | sort | join(" ")),
		  "best first: \($p | map(.score) | desc)",
		  "records: \(map(.kind) == [$p[] | "product"] + ["facets", "facets"])",
		  (.[] | select(.kind == "facets") | "\(.facet): \(.total): " +
			([.values[] | "\(.value)=\(.count)"] | sort | join(" ")) + " desc=\([.values[].count] | desc)")')
	where="status = 'active' AND (title || ' ' || json_extract(doc, '\$.description')) LIKE '%$word%' AND ($cond)"
	want=$(sql "
		SELECT 'products: ' || coalesce((SELECT group_concat(sku, ' ') FROM (SELECT sku FROM product WHERE $where ORDER BY sku)), '');
		SELECT 'best first: true';
		SELECT 'records: true';
		SELECT 'brand: ' || (SELECT count(*) FROM product WHERE $where) || ': ' ||
			coalesce((SELECT group_concat(v, ' ') FROM (SELECT brand || '=' || count(*) AS v FROM product
				WHERE $where AND brand <> '' GROUP BY brand ORDER BY v)), '') || ' desc=true';
		SELECT 'category: ' || (SELECT count(*) FROM product WHERE $where) || ': ' ||
			coalesce((SELECT group_concat(v, ' ') FROM (SELECT category || '=' || count(*) AS v FROM product
				WHERE $where AND category <> '' GROUP BY category ORDER BY v)), '') || ' desc=true';")
	[ "$got" = "$want" ] || {
		echo "shop-search $word $*:" >&2
		diff <(echo "$want") <(echo "$got") >&2
		return 1
	}
}

@test "filters and facets agree with plain SQL counts" {
	# Stock: in two warehouses; none on hand; all of it reserved.
	printf 'warehouses:\n  - id: main\n    name: Main\n  - id: east\n    name: East\n' >shop.yaml
	export SHOP_CONFIG=$BATS_TEST_TMPDIR/shop.yaml
	shop-inv set SPR-01 main 5 >/dev/null
	shop-inv set SPR-03 main 0 >/dev/null
	shop-inv set SPR-05 main 3 >/dev/null
	echo '{"id":"ord_1","lines":[{"sku":"SPR-05","qty":3}]}' | shop-inv reserve >/dev/null
	shop-inv set SPR-07 main 0 >/dev/null
	shop-inv set SPR-07 east 2 >/dev/null
	shop-inv set GIZ-02 east 1 >/dev/null
	shop-inv set GIZ-04 main 4 >/dev/null
	shop-inv set KIT-02 main 1 >/dev/null
	instock="sku IN (SELECT sku FROM stock WHERE on_hand - reserved > 0)"
	for w in sprocket gizmo steel; do
		agree $w 1
		agree $w "lower(brand) = 'acme'" --brand acme
		agree $w "brand = 'Globex'" --brand GLOBEX
		agree $w "brand = ''" --brand ''
		agree $w "category = 'tools'" --category Tools
		agree $w "category = 'kitchen'" --category kitchen
		agree $w "price BETWEEN 500 AND 2100" --price-min 500 --price-max 2100
		agree $w "price BETWEEN 500 AND 2100" --price-min 5.00 --price-max 21.00
		agree $w "price <= 890" --price-max 8.90
		agree $w "$instock" --in-stock
		agree $w "brand = 'Acme' AND category = 'tools' AND price <= 1000 AND $instock" \
			--brand acme --category tools --price-max 1000 --in-stock
		agree $w "brand = 'Initech' AND price >= 2000" --brand initech --price-min 20.00
		agree $w "0" --brand nobody
	done
	# The facets count products without a brand in the total, not in values.
	run -0 --separate-stderr srch sprocket --facets --limit 1
	[ "$(printf '%s\n' "$output" | jq -r .kind | tr '\n' ' ')" = "product facets facets " ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.facet == "brand") | [.total, ([.values[].count] | add)]')" = '[8,7]' ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.facet == "category") | [.total, ([.values[].count] | add)]')" = '[8,7]' ]
	run -0 --separate-stderr srch sprocket --in-stock
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-07 " ]
	check_search
}

@test "fewer full matches than the page: those with every word first, then those with some; facets count the full ones" {
	# "steel sprocket": SPR-01 and SPR-02 have both words.
	run -0 --separate-stderr srch steel sprocket --facets
	[ "$(printf '%s\n' "$output" | skus | head -2 | sort | tr '\n' ' ')" = "SPR-01 SPR-02 " ]
	[ "$(printf '%s\n' "$output" | skus | wc -l)" -gt 2 ]
	best_first
	# The others have one of the words, and rank below.
	for s in $(printf '%s\n' "$output" | skus | tail -n +3); do
		[ "$(sql "SELECT ((title || ' ' || json_extract(doc, '\$.description')) LIKE '%steel%') +
			((title || ' ' || json_extract(doc, '\$.description')) LIKE '%sprocket%') FROM product WHERE sku = '$s'")" = 1 ] ||
			{ echo "$s: not one of the two words" >&2; return 1; }
	done
	[ "$(printf '%s\n' "$output" | jq -c 'select(.kind == "facets") | .total' | tr '\n' ' ')" = "2 2 " ]
	# A page the full matches fill has only them.
	run -0 --separate-stderr srch steel sprocket --limit 2
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-02 " ]
	# No product with every word: the products with any of them.
	run -0 --separate-stderr srch steel gizmo --limit 100 --facets
	[ "$(sorted_skus <<<"$output")" = "GIZ-01 GIZ-02 GIZ-03 GIZ-04 GIZ-05 HOS-03 KIT-02 SPR-01 SPR-02 SPR-07 " ]
	[ "$(printf '%s\n' "$output" | jq -c 'select(.kind == "facets") | .total' | tr '\n' ' ')" = "10 10 " ]
}

@test "typo: a misspelt word is corrected to the nearest term of the index, and says so" {
	run -0 --separate-stderr srch sprocket --limit 100
	want=$(printf '%s\n' "$output" | jq -c '[.sku, .score]')
	[ "$(printf '%s\n' "$output" | jq -c .corrected | sort -u)" = null ]
	[ -z "$stderr" ]
	# A transposition, a missing letter, a doubled one, a missing one in a
	# 4-letter word.
	for t in sprokcet:sprocket sprockt:sprocket gizzmo:gizmo lmap:lamp; do
		run -0 --separate-stderr shop-search "${t%:*}" --no-log --limit 100
		[ "$(printf '%s\n' "$output" | jq -c .corrected | sort -u)" = "{\"${t%:*}\":\"${t#*:}\"}" ] ||
			{ echo "$t: $output" >&2; return 1; }
		[ "$stderr" = "shop-search: showing results for '${t#*:}'" ]
		# The same results as the right word, taken whole.
		[ "$(printf '%s\n' "$output" | jq -c '[.sku, .score]')" = "$(srch "${t#*:} " --limit 100 | jq -c '[.sku, .score]')" ]
	done
	run -0 --separate-stderr srch sprokcet --limit 100
	[ "$(printf '%s\n' "$output" | jq -c '[.sku, .score]')" = "$want" ]
	# -q: no note.
	run -0 --separate-stderr shop-search -q sprokcet --no-log
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 8 ]
	# A stem: "knives" is no word of the index; "knife" is.
	run -0 --separate-stderr srch knives
	[ "$(sorted_skus <<<"$output")" = "KIT-02 KIT-03 KIT-04 " ]
	[ "$(jq -c .corrected <<<"$(printf '%s\n' "$output" | head -1)")" = '{"knives":"knife"}' ]
	# Two words, both corrected.
	run -0 --separate-stderr shop-search -q stel sprokcet --no-log
	[ "$(printf '%s\n' "$output" | head -1 | jq -c .corrected)" = '{"stel":"steel","sprokcet":"sprocket"}' ]
	[ "$(printf '%s\n' "$output" | head -2 | sorted_skus)" = "SPR-01 SPR-02 " ]
}

@test "typo: right words, model numbers, short words and other first letters are not corrected" {
	for q in sprocket gizmo 'garden hose' 'chef knife' knife; do
		run -0 --separate-stderr srch "$q"
		[ -n "$output" ] && [ -z "$stderr" ]
		[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ] || { echo "$q: $output" >&2; return 1; }
	done
	# Digits: "ax56" is one edit from "ax55", but a model number is left alone.
	run -0 --separate-stderr srch ax56
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr srch rt-ax55
	[ "$(skus <<<"$output")" = RTR-01 ]
	[ "$(jq -c 'has("corrected")' <<<"$output")" = false ]
	# Two edits in a 4-letter word: too far.
	run -0 --separate-stderr srch lxxp
	[ -z "$output" ] && [ -z "$stderr" ]
	# The first letter is trusted.
	run -0 --separate-stderr srch xprocket
	[ -z "$output" ] && [ -z "$stderr" ]
	# Diacritics and case are no typos: crème is creme, CRÈME, Creme.
	for q in creme CRÈME Creme brulee 'crème brûlée'; do
		run -0 --separate-stderr srch "$q"
		[ "$(skus <<<"$output")" = KIT-01 ] || { echo "$q: $output" >&2; return 1; }
		[ "$(jq -c 'has("corrected")' <<<"$output")" = false ]
	done
	# Stems: gizmos is gizmo.
	run -0 --separate-stderr srch gizmos
	[ "$(sorted_skus <<<"$output")" = "GIZ-01 GIZ-02 GIZ-03 GIZ-04 GIZ-05 SPR-07 " ]
	[ -z "$stderr" ]
}

@test "typo: a word of a product added since the last reindex is found typed right, corrected after reindex" {
	srch sprocket >/dev/null
	echo '{"sku":"XYL-1","title":"Xylophone","price":1000}' | shop-catalog import >/dev/null
	run -0 --separate-stderr srch xylophone
	[ "$(skus <<<"$output")" = XYL-1 ]
	# The copy of the vocabulary is the first query's (shop-search(1) CAVEATS).
	run -0 --separate-stderr srch xylophne
	[ -z "$output" ] && [ -z "$stderr" ]
	shop-search -q reindex >/dev/null
	run -0 --separate-stderr srch xylophne
	[ "$(skus <<<"$output")" = XYL-1 ]
	[ "$(jq -c .corrected <<<"$output")" = '{"xylophne":"xylophon"}' ]
	[ "$stderr" = "shop-search: showing results for 'xylophon'" ]
}

@test "typo: no correction to a word that no active product has any more" {
	srch sprocket >/dev/null
	shop-catalog rm TOR-01 >/dev/null
	run -0 --separate-stderr srch torqe torch
	[ "$(sorted_skus <<<"$output")" = "KIT-01 TOR-02 " ]
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ]
	[ -z "$stderr" ]
}

@test "prefix: the last word completes; not when the query ends with a space" {
	run -0 --separate-stderr srch lapt
	[ "$(sorted_skus <<<"$output")" = "LAP-01 LAP-02 " ]
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ]
	run -0 --separate-stderr srch lap
	[ "$(sorted_skus <<<"$output")" = "LAP-01 LAP-02 LAP-03 " ]
	run -0 --separate-stderr srch sprock --limit 100
	[ "$(sorted_skus <<<"$output")" = "SPR-01 SPR-02 SPR-03 SPR-04 SPR-05 SPR-06 SPR-07 SPR-08 " ]
	[ -z "$stderr" ]
	# Only the last word: "lapt stand" has no word lapt.
	run -0 --separate-stderr srch -q stand lapt
	[ "$(skus <<<"$output" | head -1)" = LAP-01 ]
	# A trailing space takes the word whole: nothing begins with it any
	# more (what is printed, if anything, is a correction).
	run -0 --separate-stderr srch -q 'lapt '
	[[ $output != *LAP-01* && $output != *LAP-02* ]]
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = "$([ -n "$output" ] && echo true)" ]
	run -0 --separate-stderr srch -q 'sprock '
	[ "$(printf '%s\n' "$output" | jq -c .corrected | sort -u)" = '{"sprock":"sprocket"}' ]
	# The prefix is the last operand's, wherever the space is.
	run -0 --separate-stderr srch desk lam
	[ "$(skus <<<"$output" | head -1)" = DSK-01 ]
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ]
	run -0 --separate-stderr srch -q 'desk lam '
	[ "$(printf '%s\n' "$output" | jq -c .corrected | sort -u)" = '{"lam":"lamp"}' ]
}

@test "paging: --offset and --limit cut one ranking into pages" {
	run -0 --separate-stderr srch sprocket --limit 100
	all=$(skus <<<"$output")
	[ "$(printf '%s\n' "$all" | wc -l)" -eq 8 ]
	best_first
	run -0 --separate-stderr srch sprocket --limit 2
	two=$(skus <<<"$output")
	run -0 --separate-stderr srch sprocket --offset 1 --limit 1
	[ "$(skus <<<"$output")" = "$(sed -n 2p <<<"$two")" ]
	# Pages of 3 make the whole list.
	pages=""
	for off in 0 3 6; do
		run -0 --separate-stderr srch sprocket --offset $off --limit 3
		pages+="$(skus <<<"$output")"$'\n'
	done
	[ "$(printf '%s' "$pages")" = "$all" ]
	# The default limit is 10; an offset past the end prints nothing.
	for n in $(seq 12); do echo "{\"sku\":\"W-$n\",\"title\":\"Widget $n\",\"price\":100}"; done |
		shop-catalog import >/dev/null
	run -0 --separate-stderr srch widget
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 10 ]
	run -0 --separate-stderr srch widget --limit 100
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 12 ]
	run -0 --separate-stderr srch sprocket --offset 8
	[ -z "$output" ] && [ -z "$stderr" ]
	run -0 --separate-stderr srch sprocket --offset 1000000
	[ -z "$output" ]
	# -n is --limit.
	run -0 --separate-stderr srch sprocket -n 1
	[ "$(skus <<<"$output")" = "$(head -1 <<<"$all")" ]
}

@test "output: the product records of shop-catalog get, with a score; --table" {
	run -0 --separate-stderr srch steel sprocket --limit 2
	for s in $(skus <<<"$output"); do
		got=$(printf '%s\n' "$output" | jq -c --arg s "$s" 'select(.sku == $s) | del(.score)')
		[ "$got" = "$(shop-catalog get "$s")" ]
	done
	# Options before the words, after them, and "query" named: the same.
	a=$(shop-search --no-log --limit 3 --brand acme sprocket)
	b=$(shop-search sprocket --limit 3 --brand acme --no-log)
	c=$(shop-search query sprocket --limit=3 --brand=acme --no-log)
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$b" = "$c" ]
	# A query whose word is a command's name comes after "query".
	run -0 --separate-stderr srch train
	[ "$(skus <<<"$output")" = TOY-01 ]
	run -0 --separate-stderr srch wooden train --table
	[ "${lines[0]}" = "$(printf '%s\n' 'SKU     TITLE             BRAND   CATEGORY  PRICE  CURRENCY  SCORE')" ]
	[[ ${lines[1]} == "TOY-01  Wooden toy train  Globex  toys      2599   USD       "[0-9]* ]]
	[ "${#lines[@]}" -eq 2 ]
	run -0 --separate-stderr srch sprocket --table --limit 3
	[ "${#lines[@]}" -eq 4 ]
	[ "$(printf '%s\n' "${lines[@]:1}" | awk '{print $1}')" = "$(srch sprocket --limit 3 | skus)" ]
	# Records go on to any command that takes products on stdin.
	run -0 --separate-stderr bash -c 'shop-search --no-log train | shop-catalog get'
	[ "$(skus <<<"$output")" = TOY-01 ]
}

@test "--table --facets is a usage error: facets are records of their own" {
	run -64 --separate-stderr srch sprocket --table --limit 1 --facets
	[ -z "$output" ]
	one_error "--facets"
}

@test "usage errors: 64, one line on stderr, nothing printed, the store unchanged" {
	srch sprocket >/dev/null
	before=$(dump_store)
	for args in '--limit 0' '--limit 5000' '--limit 1001' '--limit x' '--limit -1' '--offset -1' '--offset x' \
		'--price-min abc' '--price-min -5' '--price-min 19.999' '--price-max 1.2.3' '--price-max 1e3' \
		'--bogus' '-Z'; do
		# shellcheck disable=SC2086
		run -64 --separate-stderr shop-search sprocket $args
		[ -z "$output" ] || { echo "$args printed: $output" >&2; return 1; }
		one_error || { echo "args: $args" >&2; return 1; }
		# Before the words, the same.
		# shellcheck disable=SC2086
		run -64 --separate-stderr shop-search $args sprocket
		one_error || { echo "args: $args (before)" >&2; return 1; }
	done
	run -64 --separate-stderr shop-search sprocket --limit 0
	one_error "--limit"
	run -64 --separate-stderr shop-search sprocket --price-min abc
	one_error "--price-min 'abc'"
	run -64 --separate-stderr shop-search sprocket --bogus
	one_error "'--bogus'"
	run -64 --separate-stderr shop-search sprocket --brand
	one_error
	run -64 --separate-stderr shop-search
	one_error
	# The bounds themselves are fine.
	run -0 --separate-stderr srch sprocket --limit 1000 --offset 0 --price-min 0 --price-max 0
	[ -z "$output" ]
	run -0 --separate-stderr srch sprocket --limit 1
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 1 ]
	[ "$(dump_store)" = "$before" ]
}

@test "icecat typos: real misspellings find the right products" {
	use_icecat
	# typo, the stem searched instead, a word every title found has.
	for t in labtop:laptop:laptop keybord:keyboard:keyboard pritner:printer:printer hedphones:headphon:headphone \
		scaner:scanner:scanner notbook:notebook:notebook tablit:tablet:tablet speakr:speaker:speaker \
		batery:batteri:batter; do
		IFS=: read -r typo stem word <<<"$t"
		run -0 --separate-stderr shop-search "$typo" --no-log --limit 20
		[ "$(printf '%s\n' "$output" | wc -l)" -eq 20 ] || { echo "$typo: $(printf '%s\n' "$output" | wc -l) results" >&2; return 1; }
		[ "$(printf '%s\n' "$output" | jq -c .corrected | sort -u)" = "{\"$typo\":\"$stem\"}" ] ||
			{ echo "$typo: corrected $(printf '%s\n' "$output" | jq -c .corrected | sort -u)" >&2; return 1; }
		[ "$stderr" = "shop-search: showing results for '$stem'" ]
		bad=$(printf '%s\n' "$output" | jq -r .title | grep -vic "$word" || true)
		[ "$bad" -eq 0 ] || { echo "$typo: $bad titles without '$word'" >&2; return 1; }
		# The very ranking of the right word taken whole.
		[ "$(printf '%s\n' "$output" | jq -c '[.sku, .score]')" = "$(srch "$stem " --limit 20 | jq -c '[.sku, .score]')" ] ||
			{ echo "$typo: not the ranking of '$stem '" >&2; return 1; }
	done
	# Right words are left alone.
	for q in laptop keyboard printer headphones scanner; do
		run -0 --separate-stderr srch "$q"
		[ -z "$stderr" ]
		[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ]
	done
}

@test "icecat prefix: lapt finds laptops; 'lapt ' does not complete" {
	use_icecat
	run -0 --separate-stderr srch lapt --limit 20
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 20 ]
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | jq -r .title | grep -vic lapt || true)" -eq 0 ]
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = false ]
	run -0 --separate-stderr srch -q 'lapt ' --limit 20
	[ "$(printf '%s\n' "$output" | jq -c 'has("corrected")' | sort -u)" = "$([ -n "$output" ] && echo true)" ]
	# Facets count the matches of the prefix: as many as "laptop*" words.
	run -0 --separate-stderr srch lapt --limit 1 --facets
	total=$(printf '%s\n' "$output" | jq -r 'select(.facet == "brand") | .total')
	[ "$total" -eq "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM search_fts WHERE search_fts MATCH 'lapt*'")" ]
	[ "$total" -gt 100 ]
}

@test "icecat: a generic word: the page holds the candidates, the facets count every match" {
	use_icecat
	run -0 --separate-stderr srch printer --limit 1000 --facets
	total=$(printf '%s\n' "$output" | jq -r 'select(.facet == "brand") | .total')
	[ "$total" -eq "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM search_fts WHERE search_fts MATCH 'printer'")" ]
	[ "$total" -gt 1000 ]
	n=$(printf '%s\n' "$output" | skus | wc -l)
	[ "$n" -ge 500 ] && [ "$n" -lt "$total" ]
	best_first
	# The first page is the best of them, and every title has the word.
	run -0 --separate-stderr srch printer
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 10 ]
	[ "$(printf '%s\n' "$output" | jq -r .title | grep -vic printer || true)" -eq 0 ]
	# Pages past the candidates are empty.
	run -0 --separate-stderr srch printer --offset "$n"
	[ -z "$output" ]
	# The index of the 19,406 imported products holds exactly the active ones.
	check_search_light
}
