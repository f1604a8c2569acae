#!/usr/bin/env bats
# shop-search ranking: --explain; eval (nDCG@10, MRR, zero-result rate);
# train on judgments, and the trained model beats the built-in weights on
# held-out queries; bad judgments; time.
#
# fixtures/search/rank.jsonl: for each of lantern, kettle, candle and
# blanket, three short "display model" titles that the built-in weights
# put first (shortest titles, exact title match), and three longer titles
# that the judgments call relevant (label 3) and that are in stock.
# rank-train.jsonl judges lantern and kettle, rank-test.jsonl candle and
# blanket.
load helpers/common
load helpers/search

RANK_FIX="$TOP/fixtures/search/rank.jsonl"
TRAIN="$TOP/fixtures/search/rank-train.jsonl"
HELDOUT="$TOP/fixtures/search/rank-test.jsonl"

setup() {
	common_setup
	local out p n
	out=$(shop-catalog import "$RANK_FIX") || return 1
	[ "$out" = '{"kind":"import","read":24,"created":24,"updated":0,"unchanged":0,"rejected":0}' ] ||
		{ echo "rank fixture: $out" >&2; return 1; }
	for p in LAN KET CAN BLA; do
		for n in 1 2 3; do
			shop-inv set "$p-R$n" main 5 >/dev/null || return 1
		done
	done
	# The first query builds the typo vocabulary and the suggestions.
	shop-search -q query --no-log lantern >/dev/null
}

# model_rows: the rows of search_model (0 or 1).
model_rows() {
	sql 'SELECT count(*) FROM search_model'
}

# ndcg_behind: the nDCG@10 of a ranking of three products not relevant
# and then the three of label 3, rounded to 4 places as eval prints it.
ndcg_behind() {
	awk 'function l2(x) { return log(x) / log(2) }
		BEGIN { g = 2^3 - 1; dcg = g / l2(5) + g / l2(6) + g / l2(7); idcg = g / l2(2) + g / l2(3) + g / l2(4)
			printf "%.4f\n", dcg / idcg }' | sed 's/0*$//'
}

@test "explain: every feature of the re-ranker, its value and weight; with built-in weights they sum to the score" {
	run -0 --separate-stderr srch lantern --explain --limit 100
	[ -z "$stderr" ]
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 6 ]
	best_first
	# The same features, in the same order, in every record.
	[ "$(printf '%s\n' "$output" | jq -c '[.explain[].feature]' | sort -u | wc -l)" -eq 1 ]
	[ "$(printf '%s\n' "$output" | jq -c '[.explain[] | keys]' | jq -c 'unique' | sort -u)" = '[["feature","value","weight"]]' ]
	features=$(printf '%s\n' "$output" | head -1 | jq -r '.explain[].feature')
	for f in bm25_title bm25_brand bm25_category bm25_body title_coverage title_phrase title_exact \
		brand_match category_match popularity in_stock price_position; do
		grep -qx "$f" <<<"$features" || { echo "no feature $f in: $features" >&2; return 1; }
	done
	printf '%s\n' "$output" | jq -s -e 'all(.[].explain[]; (.value | type) == "number" and (.weight | type) == "number")' >/dev/null
	# Built-in weights: the score is the sum of value x weight.
	printf '%s\n' "$output" | jq -s -e 'all(.[]; (.score - ([.explain[] | .value * .weight] | add)) | (. < 0.001 and . > -0.001))' >/dev/null ||
		{ printf '%s\n' "$output" | jq -c '[.sku, .score, ([.explain[] | .value * .weight] | add)]' >&2; return 1; }
	# The features say what they should: the relevant ones are in stock.
	[ "$(printf '%s\n' "$output" | jq -r '[.sku, (.explain[] | select(.feature == "in_stock") | .value)] | join(" ")' | sort | tr '\n' ',')" = \
		"LAN-D1 0,LAN-D2 0,LAN-D3 0,LAN-R1 1,LAN-R2 1,LAN-R3 1," ]
	# "Lantern" is the title.
	[ "$(printf '%s\n' "$output" | jq -r 'select(.sku == "LAN-D1") | .explain[] | select(.feature == "title_exact") | .value')" = 1 ]
	# The query names the brand.
	run -0 --separate-stderr srch brightly lantern --explain --limit 1
	[ "$(jq -r '.explain[] | select(.feature == "brand_match") | .value' <<<"$output")" = 1 ]
	# Without --explain, no explain.
	run -0 --separate-stderr srch lantern
	[ "$(printf '%s\n' "$output" | jq -c 'has("explain")' | sort -u)" = false ]
}

@test "eval: nDCG@10 and MRR of the built-in weights, as computed by hand" {
	# The built-in weights put the display models first.
	for q in lantern kettle candle blanket; do
		p=$(tr a-z A-Z <<<"${q:0:3}")
		run -0 --separate-stderr srch "$q"
		[ "$(skus <<<"$output" | head -3 | sort | tr '\n' ' ')" = "$p-D1 $p-D2 $p-D3 " ]
		[ "$(skus <<<"$output" | tail -3 | sort | tr '\n' ' ')" = "$p-R1 $p-R2 $p-R3 " ]
	done
	run -0 --separate-stderr srch lantern
	[ "$(skus <<<"$output" | tr '\n' ' ')" = "LAN-D1 LAN-D2 LAN-D3 LAN-R1 LAN-R2 LAN-R3 " ]
	want=$(ndcg_behind)
	[ "$want" = 0.5508 ]
	run -0 --separate-stderr shop-search eval --judgments "$TRAIN"
	[ -z "$stderr" ]
	[ "$output" = "{\"kind\":\"eval\",\"queries\":2,\"ndcg10\":$want,\"mrr\":0.25,\"zero_result_rate\":0,\"model\":\"default\"}" ]
	# No model yet: --untrained is the same.
	run -0 --separate-stderr shop-search eval --judgments "$TRAIN" --untrained
	[ "$output" = "{\"kind\":\"eval\",\"queries\":2,\"ndcg10\":$want,\"mrr\":0.25,\"zero_result_rate\":0,\"model\":\"default\"}" ]
	# A query that finds nothing counts 0 and in the zero-result rate.
	printf '%s\n' '{"query":"lantern","sku":"LAN-R1","label":3}' '{"query":"zzyzx","sku":"LAN-R2","label":3}' >j.jsonl
	run -0 --separate-stderr shop-search eval --judgments j.jsonl
	# LAN-R1 is 4th of 6: nDCG (1/log2 5) / 1, RR 1/4.
	[ "$(jq -c '[.queries, .ndcg10, .mrr, .zero_result_rate]' <<<"$output")" = '[2,0.2153,0.125,0.5]' ]
	# Eval writes nothing.
	[ "$(model_rows)" = 0 ]
	[ -z "$(sql 'SELECT * FROM search_query')" ]
}

@test "eval --verbose: one eval_query per query, then the eval; a query with no label above 0 is left out" {
	{
		echo '{"query":"lantern","sku":"LAN-R1","label":3}'
		echo '{"query":"lantern","sku":"LAN-D1","rating":1}'
		echo '{"query":"kettle","sku":"KET-R1","label":0}'
		echo '{"query":"kettle","sku":"KET-D1","label":0}'
		echo '{"query":"candle","sku":"NO-SUCH-SKU","label":3}'
		echo '{"query":"blanket","sku":"BLA-R2","label":2}'
	} >j.jsonl
	# The built-in ranking of the two queries measured.
	run -0 --separate-stderr srch lantern
	[ "$(skus <<<"$output" | tr '\n' ' ')" = "LAN-D1 LAN-D2 LAN-D3 LAN-R1 LAN-R2 LAN-R3 " ]
	run -0 --separate-stderr srch blanket
	[ "$(skus <<<"$output" | tr '\n' ' ')" = "BLA-D1 BLA-D2 BLA-D3 BLA-R1 BLA-R2 BLA-R3 " ]
	run -0 --separate-stderr shop-search eval --judgments j.jsonl --verbose
	# The unknown sku is skipped, with a note.
	one_error "j.jsonl: 1 judgments name skus that are not in the catalog"
	[ "$(printf '%s\n' "$output" | jq -r .kind | tr '\n' ' ')" = "eval_query eval_query eval_query eval " ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.kind == "eval_query") | "\(.query) \(.judged) \(.results) \(.skipped // false)"' | tr '\n' ',')" = \
		"lantern 2 6 false,kettle 2 6 true,blanket 1 6 false," ]
	# lantern: D1 (label 1) first, R1 (3) 4th; blanket: R2 (2) 5th.
	figures=$(awk 'function l2(x) { return log(x) / log(2) }
		BEGIN { l = (1 + 7 / l2(5)) / (7 + 1 / l2(3)); b = (3 / l2(6)) / 3
			printf "%.4f %.4f %.4f\n", l, b, (l + b) / 2 }')
	read -r lantern blanket mean <<<"$figures"
	[ "$(printf '%s\n' "$output" | jq -r 'select(.query == "lantern") | "\(.ndcg10) \(.rr)"')" = "$(awk -v x="$lantern" 'BEGIN { print x + 0, 0.25 }')" ]
	[ "$(printf '%s\n' "$output" | jq -r 'select(.query == "blanket") | "\(.ndcg10) \(.rr)"')" = "$(awk -v x="$blanket" 'BEGIN { print x + 0, 0.2 }')" ]
	last=$(printf '%s\n' "$output" | tail -1)
	[ "$(jq -r .queries <<<"$last")" = 2 ]
	[ "$(jq -r .ndcg10 <<<"$last")" = "$(awk -v x="$mean" 'BEGIN { print x + 0 }')" ]
	[ "$(jq -r .mrr <<<"$last")" = 0.225 ]
	# From stdin.
	run -0 --separate-stderr bash -c 'shop-search -q eval --judgments - <j.jsonl'
	[ "$output" = "$last" ]
	[ -z "$stderr" ]
}

@test "train then eval: the trained model beats the built-in weights, on held-out queries too" {
	[ "$(model_rows)" = 0 ]
	run -0 --separate-stderr shop-search train --judgments "$TRAIN"
	[ -z "$stderr" ]
	[ "$(jq -r .kind <<<"$output")" = model ]
	[ "$(jq -r .queries <<<"$output")" = 2 ]
	jq -e '.pairs > 0 and (.weights | type) == "object"' <<<"$output" >/dev/null
	jq -e '.ndcg10_default >= 0 and .ndcg10_default <= 1 and .ndcg10_trained >= 0 and .ndcg10_trained <= 1' <<<"$output" >/dev/null
	jq -e '.ndcg10_trained > .ndcg10_default' <<<"$output" >/dev/null
	model=$output
	[ "$(model_rows)" = 1 ]
	[ "$(sql 'SELECT trained_at FROM search_model')" = "$SHOP_NOW" ]
	check_search
	for j in "$TRAIN" "$HELDOUT"; do
		run -0 --separate-stderr shop-search eval --judgments "$j"
		trained=$output
		run -0 --separate-stderr shop-search eval --judgments "$j" --untrained
		untrained=$output
		[ "$(jq -r .model <<<"$trained")" = trained ]
		[ "$(jq -r .model <<<"$untrained")" = default ]
		jq -e '.ndcg10 >= 0 and .ndcg10 <= 1 and .mrr >= 0 and .mrr <= 1' <<<"$trained" >/dev/null
		jq -e '.ndcg10 >= 0 and .ndcg10 <= 1 and .mrr >= 0 and .mrr <= 1' <<<"$untrained" >/dev/null
		[ "$(jq -n --argjson t "$trained" --argjson u "$untrained" '$t.ndcg10 > $u.ndcg10 and $t.mrr >= $u.mrr')" = true ] ||
			{ echo "$(basename "$j"): trained $trained, untrained $untrained" >&2; return 1; }
	done
	# The searches rank with it: the relevant candles first.
	run -0 --separate-stderr srch candle --explain
	[ "$(skus <<<"$output" | head -3 | sort | tr '\n' ' ')" = "CAN-R1 CAN-R2 CAN-R3 " ]
	best_first
	# --explain shows the trained weights, those of the model record.
	[ "$(printf '%s\n' "$output" | head -1 | jq -c '[.explain[] | {(.feature): .weight}] | add')" = "$(jq -c .weights <<<"$model")" ]
	# Training again replaces the model.
	run -0 --separate-stderr shop-search train --judgments "$HELDOUT"
	[ "$(model_rows)" = 1 ]
}

@test "train, eval: usage errors are 64; a missing judgments file is 66; one line on stderr, nothing stored" {
	before=$(dump_store)
	for c in train eval; do
		run -64 --separate-stderr shop-search $c
		[ -z "$output" ]
		one_error "--judgments"
		run -64 --separate-stderr shop-search $c --judgments
		one_error
		run -64 --separate-stderr shop-search $c --judgments "$TRAIN" --bogus
		one_error "--bogus"
		run -66 --separate-stderr shop-search $c --judgments nope.jsonl
		[ -z "$output" ]
		one_error "nope.jsonl"
	done
	run -64 --separate-stderr shop-search train --judgments "$TRAIN" --untrained
	one_error
	[ "$(model_rows)" = 0 ]
	[ "$(dump_store)" = "$before" ]
}

# refused_judgments LINE PATTERN [LINES_BEFORE]: a judgments file of the
# first LINES_BEFORE (default 2) lines of rank-train.jsonl and then LINE
# is refused by train and by eval: 65, one line on stderr naming the file,
# the line number and PATTERN; nothing stored.
refused_judgments() {
	local n=${3:-2} before c
	{ head -n "$n" "$TRAIN"; printf '%s\n' "$1"; } >bad.jsonl
	before=$(dump_store)
	for c in train eval; do
		run -65 --separate-stderr shop-search $c --judgments bad.jsonl
		[ -z "$output" ] || { echo "$c printed: $output" >&2; return 1; }
		one_error "bad.jsonl:$((n + 1)): " || { echo "line: $1" >&2; return 1; }
		[[ $stderr == *"$2"* ]] || { echo "$c: stderr lacks '$2': $stderr" >&2; return 1; }
	done
	[ "$(model_rows)" = 0 ]
	[ "$(dump_store)" = "$before" ] || { echo "the store changed" >&2; return 1; }
}

@test "train, eval: a bad judgments line is 65 with its line number; nothing is stored" {
	refused_judgments '{"query":"lantern","sku":"LAN-R3","label":"x"}' "label"
	refused_judgments '{"query":"lantern","sku":"LAN-R3","label":1.5}' "label"
	refused_judgments '{"query":"lantern","sku":"LAN-R3","rating":"3"}' "rating"
	refused_judgments '{"query":"lantern","sku":"LAN-R3","label":' "malformed JSON" 4
	refused_judgments 'not json' "malformed JSON" 0
	refused_judgments '{"query":7,"sku":"LAN-R3","label":1}' "query"
	refused_judgments '{"query":"lantern","sku":["LAN-R3"],"label":1}' "sku"
	# With a model already stored, a bad file leaves it as it was.
	shop-search train --judgments "$TRAIN" >/dev/null
	model=$(sql 'SELECT model FROM search_model')
	{ cat "$HELDOUT"; echo '{"query":"candle","sku":"CAN-R1","label":"high"}'; } >bad.jsonl
	run -65 --separate-stderr shop-search train --judgments bad.jsonl
	one_error "bad.jsonl:13: "
	[ "$(sql 'SELECT model FROM search_model')" = "$model" ]
}

@test "train, eval: a label out of 0..10, or a missing query, sku or label, is 65 with its line number" {
	refused_judgments '{"query":"lantern","sku":"LAN-R3","label":11}' "label"
	refused_judgments '{"query":"lantern","sku":"LAN-R3","label":-1}' "label"
	refused_judgments '{"sku":"LAN-R3","label":1}' "query"
	refused_judgments '{"query":"lantern","label":1}' "sku"
	refused_judgments '{"query":"lantern","sku":"LAN-R3"}' "label" 5
}

@test "train, eval: a judgments line that is JSON but not an object is 65, not a crash" {
	refused_judgments '[1,2]' "object"
	refused_judgments '"lantern"' "object"
	refused_judgments 'null' "object" 0
	refused_judgments '3' "object" 1
}

@test "train: judgments of unknown skus are skipped with a note; nothing to learn from is 65" {
	{ cat "$TRAIN"; echo '{"query":"lantern","sku":"GONE-1","label":3}'; } >j.jsonl
	run -0 --separate-stderr shop-search train --judgments j.jsonl
	one_error "j.jsonl: 1 judgments name skus that are not in the catalog: skipped"
	[ "$(jq -r .kind <<<"$output")" = model ]
	[ "$(model_rows)" = 1 ]
	run -0 --separate-stderr shop-search -q train --judgments j.jsonl
	[ -z "$stderr" ]
	# Every product found judged the same: no pair to learn from (a product
	# found and not judged would count as label 0).
	sql 'DELETE FROM search_model'
	for n in D1 D2 D3 R1 R2 R3; do echo "{\"query\":\"lantern\",\"sku\":\"LAN-$n\",\"label\":2}"; done >same.jsonl
	run -65 --separate-stderr shop-search train --judgments same.jsonl
	[ -z "$output" ]
	one_error "no query has two found products with different labels"
	[ "$(model_rows)" = 0 ]
	# Judged products that no query finds: the same.
	printf '%s\n' '{"query":"zzyzx","sku":"LAN-R1","label":3}' '{"query":"zzyzx","sku":"LAN-D1","label":0}' >none.jsonl
	run -65 --separate-stderr shop-search train --judgments none.jsonl
	one_error "no query has two found products with different labels"
	[ "$(model_rows)" = 0 ]
	# An empty file: the same.
	: >empty.jsonl
	run -65 --separate-stderr shop-search train --judgments empty.jsonl
	one_error
	[ "$(model_rows)" = 0 ]
	run -0 --separate-stderr shop-search eval --judgments empty.jsonl
	[ "$(jq -c '[.queries, .ndcg10, .mrr, .zero_result_rate]' <<<"$output")" = '[0,0,0,0]' ]
}

@test "time: one timing record for the queries of a file or of stdin; nothing logged" {
	printf 'lantern\nkettle\n\ncandle lantern\nzzyzx\n"\n' >queries.txt
	run -0 --separate-stderr shop-search time queries.txt
	[ -z "$stderr" ]
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",5]' ]
	jq -e '.p50_ms >= 0 and .p95_ms >= .p50_ms and .p99_ms >= .p95_ms and .mean_ms > 0' <<<"$output" >/dev/null
	run -0 --separate-stderr bash -c 'shop-search time <queries.txt'
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",5]' ]
	run -0 --separate-stderr bash -c 'shop-search time </dev/null'
	[ "$(jq -c '[.kind, .queries]' <<<"$output")" = '["timing",0]' ]
	[ -z "$(sql 'SELECT * FROM search_query')" ]
	run -66 --separate-stderr shop-search time nope.txt
	[ -z "$output" ]
	one_error "nope.txt"
	run -64 --separate-stderr shop-search time a.txt b.txt
	one_error
}
