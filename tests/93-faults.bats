#!/usr/bin/env bats
# I/O fault injection (tests/faults/shim.c, preloaded): for an operation,
# fail its 1st, 2nd, 3rd... write or sync to a file with ENOSPC (and every
# later one, as a full disk does) until it completes. Every failed run
# exits with a documented code and one line on stderr; afterwards the
# store passes PRAGMA integrity_check and holds exactly what it held
# before; the run that completes leaves it fully changed.
load helpers/common

setup() {
	common_setup
	SHIM=$SHOP_BUILD/tests/fault-shim.so
	[ -f "$SHIM" ] || { echo "no $SHIM" >&2; return 1; }
	# The sanitizer build's runtime must come first; the shim is harmless.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
}

# state: the store's content, as text (sqlite3 recovers a hot WAL first).
state() { sqlite3 "$SHOP_DB" .dump; }

# snapshot / restore: the store as it is before the operation.
snapshot() {
	sqlite3 "$SHOP_DB" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
	cp "$SHOP_DB" "$BATS_TEST_TMPDIR/snap.db"
	BEFORE=$(state)
}
restore() {
	rm -f "$SHOP_DB" "$SHOP_DB-wal" "$SHOP_DB-shm"
	cp "$BATS_TEST_TMPDIR/snap.db" "$SHOP_DB"
}

# fault_loop ON CMD [SETTLED]: run CMD (a shell command line) with the Nth
# write (ON=write) or sync (ON=sync) failing, N = 1, 2, 3... from the
# snapshot, until it succeeds. Sets LOOPS (the failed runs) and AFTER (the
# state the successful run left). With SETTLED (a command whose output
# must be the same as after a clean run), CMD is a documented sequence of
# transactions rather than one: a failure may leave it part way, and CMD
# run again without faults must then finish it, to the same end.
fault_loop() {
	local on=$1 cmd=$2 settled=${3:-} n=1 rc want=""
	if [ -n "$settled" ]; then
		restore
		bash -c "$cmd" >/dev/null
		want=$(bash -c "$settled")
	fi
	LOOPS=0
	LOOPS=0
	while :; do
		restore
		run --separate-stderr env LD_PRELOAD="$SHIM" SHOP_FAULT_AT=$n SHOP_FAULT_ON="$on" bash -c "$cmd"
		rc=$status
		if [ "$rc" -eq 0 ]; then
			break
		fi
		case $rc in 74 | 75) ;; *)
			echo "N=$n ($on): exit $rc: $stderr" >&2
			return 1
			;;
		esac
		[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ] || { echo "N=$n: stderr: $stderr" >&2; return 1; }
		check_integrity || { echo "N=$n: integrity" >&2; return 1; }
		if [ -n "$settled" ]; then
			bash -c "$cmd" >/dev/null 2>&1 || { echo "N=$n ($on): the retry failed" >&2; return 1; }
			[ "$(bash -c "$settled")" = "$want" ] || { echo "N=$n ($on): the retry ended elsewhere" >&2; return 1; }
		else
			[ "$(state)" = "$BEFORE" ] || { echo "N=$n ($on): the store changed after a failure" >&2; return 1; }
		fi
		LOOPS=$((LOOPS + 1))
		n=$((n + 1))
		[ "$n" -le 400 ] || { echo "still failing at N=$n" >&2; return 1; }
	done
	check_integrity
	AFTER=$(state)
	[ "$AFTER" != "$BEFORE" ]
	echo "# $on: $LOOPS failed runs, then done" >&3
}

@test "catalog import: every failed write or sync leaves the store as it was; then all of it" {
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	sqlite3 "$SHOP_DB" 'DELETE FROM product; DELETE FROM outbox;'
	snapshot
	for on in write sync; do
		fault_loop "$on" "shop-catalog -q import '$TOP/fixtures/catalog.jsonl' > /dev/null"
		[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM product')" = "$(grep -c . "$TOP/fixtures/catalog.jsonl")" ]
	done
}

@test "inventory: adjust and reserve under failing writes and syncs" {
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	shop-inv set MUG-01 main 10 >/dev/null
	snapshot
	for on in write sync; do
		fault_loop "$on" "shop-inv adjust MUG-01 main +5 --reason delivery > /dev/null"
		[ "$(sqlite3 "$SHOP_DB" "SELECT on_hand FROM stock WHERE sku = 'MUG-01'")" = 15 ]
		fault_loop "$on" "echo '{\"id\":\"ord_f1\",\"lines\":[{\"sku\":\"MUG-01\",\"qty\":3}]}' | shop-inv reserve > /dev/null"
		[ "$(sqlite3 "$SHOP_DB" "SELECT reserved FROM stock WHERE sku = 'MUG-01'")" = 3 ]
	done
}

@test "checkout and capture under failing writes and syncs" {
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	adr=$(shop-cart address add ann --name Ann --line1 L --city C --postal P --country US | jq -r .id)
	shop-cart add ann MUG-01 2 >/dev/null
	snapshot
	for on in write sync; do
		fault_loop "$on" "shop-cart checkout ann --customer ann --address $adr --payment pm_card_visa > /dev/null"
		[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM orders")" = 1 ]
	done
	ord=$(sqlite3 "$SHOP_DB" "SELECT id FROM orders")
	shop-pay authorize --order "$ord" >/dev/null
	snapshot
	for on in write sync; do
		# Capture is write-ahead, the gateway, the record: three
		# transactions; a retry settles one left part way, never twice.
		fault_loop "$on" "shop-pay capture --order $ord > /dev/null" \
			"sqlite3 '$SHOP_DB' \"SELECT status, captured FROM payment; SELECT type, count(*) FROM sandbox_txn GROUP BY 1\""
		[ "$(sqlite3 "$SHOP_DB" "SELECT status FROM payment")" = captured ]
	done
}
