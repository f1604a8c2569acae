# Helpers of the shop-search tests (tests/1[678]-search-*.bats); load after
# helpers/common.

SEARCH_FIX="$TOP/fixtures/search/products.jsonl"
ICECAT_SRC=icecat-chorus/products.jsonl

# search_fixture: the 32 products of fixtures/search/products.jsonl (two of
# them not active) in the store of this test; fails the test when the
# import does.
search_fixture() {
	local out
	out=$(shop-catalog import "$SEARCH_FIX") || { echo "search_fixture: import failed" >&2; return 1; }
	[ "$out" = '{"kind":"import","read":32,"created":32,"updated":0,"unchanged":0,"rejected":0}' ] ||
		{ echo "search_fixture: $out" >&2; return 1; }
}

# srch WORDS... [OPTIONS]: a query that is not logged (tests should not
# make suggestions unless they mean to).
srch() {
	shop-search query --no-log "$@"
}

# skus: the "sku" of each record on stdin, one per line, in order.
skus() {
	jq -r 'select(.kind == "product") | .sku'
}

# sorted_skus: the same, sorted, on one line.
sorted_skus() {
	jq -r 'select(.kind == "product") | .sku' | sort | tr '\n' ' '
}

# sql SQL: rows of a query on the store (sqlite3 list mode).
sql() {
	sqlite3 "$SHOP_DB" "$1"
}

# one_error [PATTERN]: $stderr (of the last run) is exactly one line,
# "shop-search: ...", and contains PATTERN (a glob fragment).
one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ -n "$stderr" ] && [ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-search: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}

# best_first: the product records of $output have non-increasing scores.
best_first() {
	printf '%s\n' "$output" | jq -s -e '[.[] | select(.kind == "product") | .score] as $s |
		all(range(1; $s | length); $s[. - 1] >= $s[.])' >/dev/null ||
		{ echo "scores not best first: $(printf '%s\n' "$output" | jq -c .score | tr '\n' ' ')" >&2; return 1; }
}

# check_search_light [DB]: the store is sound, nothing is left queued, the
# FTS5 index passes its own check and holds exactly the active products
# (its rowid is (length(title) << 32) | product id, shop.db.sql).
check_search_light() {
	local db=${1:-$SHOP_DB} r
	[ -e "$db" ] || return 0
	check_integrity "$db" || return 1
	r=$(sqlite3 "$db" "INSERT INTO search_fts (search_fts) VALUES ('integrity-check')" 2>&1) ||
		{ echo "check_search: fts5 integrity-check: $r" >&2; return 1; }
	r=$(sqlite3 "$db" 'SELECT count(*) FROM search_pending')
	[ "$r" = 0 ] || { echo "check_search: $r rows left in search_pending" >&2; return 1; }
	r=$(sqlite3 -header "$db" "
		WITH ix AS (SELECT id & 4294967295 AS pid, id >> 32 AS len FROM search_fts_docsize)
		SELECT 'indexed, not active' AS what, ix.pid, p.sku, p.status FROM ix LEFT JOIN product p ON p.id = ix.pid
		 WHERE p.id IS NULL OR p.status <> 'active' OR ix.len <> length(p.title)
		UNION ALL
		SELECT 'active, not indexed', p.id, p.sku, p.status FROM product p
		 WHERE p.status = 'active' AND p.id NOT IN (SELECT pid FROM ix)")
	[ -z "$r" ] || { echo "check_search: the index does not hold the active products:" >&2; echo "$r" >&2; return 1; }
}

# check_search [DB]: check_search_light, and every word of the index, at
# every position, is what a reindex from the catalog gives: the triggers
# and the queue kept the index exactly in step. For small stores.
check_search() {
	local db=${1:-$SHOP_DB} copy=$BATS_TEST_TMPDIR/.reindexed.db a b
	[ -e "$db" ] || return 0
	check_search_light "$db" || return 1
	rm -f "$copy"
	sqlite3 "$db" ".backup '$copy'" || return 1
	shop-search --db "$copy" -q reindex >/dev/null || { echo "check_search: reindex of a copy failed" >&2; return 1; }
	local vocab="CREATE VIRTUAL TABLE temp.v USING fts5vocab (main, search_fts, instance);
		SELECT term, doc, col, offset FROM v ORDER BY 1, 2, 3, 4;"
	a=$(sqlite3 "$db" "$vocab") || return 1
	b=$(sqlite3 "$copy" "$vocab") || return 1
	rm -f "$copy"
	[ "$a" = "$b" ] || {
		echo "check_search: the index differs from a rebuild:" >&2
		diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -20 >&2
		return 1
	}
}

# icecat_store DIR: the whole icecat-chorus catalog, converted by
# fixtures/icecat.jq, imported into DIR/icecat.db, and one query run so that
# the typo vocabulary is built. For setup_file; does nothing when the data
# is absent (the tests then skip with need_data).
icecat_store() {
	[ -r "$DATA/$ICECAT_SRC" ] || return 0
	local db=$1/icecat.db
	jq -c -f "$TOP/fixtures/icecat.jq" "$DATA/$ICECAT_SRC" | shop-catalog --db "$db" -q import >/dev/null ||
		{ echo "icecat_store: import failed" >&2; return 1; }
	shop-search --db "$db" -q query --no-log laptop >/dev/null || { echo "icecat_store: first query failed" >&2; return 1; }
	sqlite3 "$db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
}

# use_icecat: this test's store is a copy of the one of setup_file.
use_icecat() {
	need_data "$ICECAT_SRC"
	cp "$BATS_FILE_TMPDIR/icecat.db" "$SHOP_DB"
}
