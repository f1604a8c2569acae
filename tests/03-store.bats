#!/usr/bin/env bats
# The store: created 0600 in WAL mode with the embedded schema, migrated by
# user_version, refused when it is not a store or too new, and a writer
# that cannot get the lock gives up with 75 after store.busy_timeout.
load helpers/common

setup() { common_setup; }

@test "first use creates the store: mode 0600, WAL, schema version" {
	run -0 --separate-stderr shop-catalog list
	[ "$output" = "" ]
	[ "$(stat -c %a shop.db)" = 600 ]
	[ "$(sqlite3 shop.db 'PRAGMA journal_mode')" = wal ]
	want=$(grep -c '^-- migrate: ' "$TOP/shop.db.sql")
	[ "$(sqlite3 shop.db 'PRAGMA user_version')" = "$want" ]
	run -0 shop-catalog -q import "$TOP/fixtures/catalog.jsonl"
	for f in shop.db-wal shop.db-shm shop.db-writers; do
		[ ! -e "$f" ] || [ "$(stat -c %a "$f")" = 600 ]
	done
	check_integrity
}

@test "the store is created 0600 whatever the umask" {
	umask 000
	run -0 shop-catalog list
	[ "$(stat -c %a shop.db)" = 600 ]
}

@test "--db beats \$SHOP_DB, which beats ./shop.db" {
	run -0 shop-catalog --db other.db -q import "$TOP/fixtures/catalog.jsonl"
	[ -s other.db ]
	run -66 --separate-stderr shop-catalog get MUG-01
	[ -f "$SHOP_DB" ]
	export SHOP_DB=other.db
	run -0 --separate-stderr shop-catalog get MUG-01
	unset SHOP_DB
	rm -f shop.db shop.db-*
	run -66 --separate-stderr shop-catalog get MUG-01
	[ -f shop.db ]
}

@test "a store newer than this build is refused with 74 and left alone" {
	run -0 shop-catalog list
	sqlite3 shop.db 'PRAGMA user_version = 999'
	before=$(dump_store)
	run -74 --separate-stderr shop-catalog list
	[[ $stderr == "shop-catalog: "*"newer than this shop"* ]]
	[ "$(dump_store)" = "$before" ]
}

@test "a file that is not a store: 74, one line" {
	printf 'this is not a database, just text that is long enough to look like a header\n%.0s' {1..50} > shop.db
	run -74 --separate-stderr shop-catalog list
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == "shop-catalog: "* ]]
}

@test "a store in a directory that does not exist: 74 and nothing created" {
	run -74 --separate-stderr shop-catalog --db "$BATS_TEST_TMPDIR/nope/shop.db" list
	[[ $stderr == *"does not exist"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/nope" ]
}

@test "a writer that cannot get the lock gives up with 75 after store.busy_timeout" {
	run -0 shop-catalog -q import "$TOP/fixtures/catalog.jsonl"
	printf 'store:\n  busy_timeout: 300ms\n' > shop.yaml
	$PY -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(4)
' shop.db locked &
	pid=$!
	for _ in $(seq 100); do [ -e locked ] && break; sleep 0.05; done
	[ -e locked ]
	before=$(sqlite3 shop.db 'SELECT group_concat(doc) FROM product')
	SECONDS=0
	run -75 --separate-stderr shop-catalog set MUG-01 price:=1
	elapsed=$SECONDS
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[[ $stderr == "shop-catalog: "*"busy"* ]]
	[ "$elapsed" -lt 4 ]
	[ "$(sqlite3 shop.db 'SELECT group_concat(doc) FROM product')" = "$before" ]
	# Readers are not blocked by a writer (WAL).
	check_integrity
}

@test "the data directory is PATH.d beside the store, or store.data_dir" {
	run -0 shop-catalog -q import "$TOP/fixtures/catalog.jsonl"
	printf '\x89PNG\r\n\x1a\n' > a.png
	run -0 shop-catalog image add MUG-01 a.png
	[ -d shop.db.d/images ]
	[ "$(stat -c %a shop.db.d)" = 700 ]
	printf 'store:\n  data_dir: %s/files\n' "$BATS_TEST_TMPDIR" > shop.yaml
	printf 'GIF89a....' > b.gif
	run -0 shop-catalog image add MUG-01 b.gif
	[ -d files/images ]
}

@test "processes that meet a new store at once all succeed (WAL switch and migration race)" {
	for i in $(seq 20); do
		rm -f race.db race.db-*
		shop-catalog --db race.db import "$TOP/fixtures/catalog.jsonl" >o1 2>e1 &
		p1=$!
		shop-catalog --db race.db list >o2 2>e2 &
		p2=$!
		shop-catalog --db race.db set MUG-01 price:=1 >o3 2>e3 &
		p3=$!
		s1=0 s2=0 s3=0
		wait "$p1" || s1=$?
		wait "$p2" || s2=$?
		wait "$p3" || s3=$?
		# set may run before the import: then MUG-01 is not there yet (66).
		[ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && { [ "$s3" -eq 0 ] || [ "$s3" -eq 66 ]; } ||
			{ echo "round $i: $s1 $s2 $s3: $(cat e1 e2 e3)"; return 1; }
		[ "$(sqlite3 race.db 'PRAGMA journal_mode')" = wal ]
		check_integrity race.db
	done
}
