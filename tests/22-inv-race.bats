#!/usr/bin/env bats
# shop-inv under concurrency: 8 processes reserving one hot SKU at once,
# round after round, never oversell, never report "busy", and hold exactly
# what the successful ones asked for; and 8 concurrent batches of orders.
load helpers/common

ROUNDS=50
PROCS=8
ON_HAND=10

setup() {
	common_setup
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
}

teardown() {
	# Whatever the test did, the store is whole and agrees with its ledger.
	run -0 --separate-stderr shop-inv reconcile
	[ -z "$output" ]
	check_integrity
}

# launch N CMD...: start N background copies of the command "CMD i" held
# at a barrier (a shared flock on gate waits for our exclusive one),
# then let them all go at once; their pids in PIDS.
launch() {
	local n=$1 i
	shift
	: >gate
	exec 5>gate
	flock -x 5
	PIDS=()
	for ((i = 1; i <= n; i++)); do
		# fd 3 closed: bats waits for whoever holds it.
		{ flock -s 6 && "$@" "$i"; } 6<gate 3>&- 5>&- &
		PIDS+=($!)
	done
	flock -u 5
	exec 5>&-
}

# reserve_one I: one shop-inv reserve of the order in in.I.
reserve_one() {
	shop-inv reserve <"in.$1" >"out.$1" 2>"err.$1"
}

# reserve_batch I: one shop-inv reserve of the 20 orders in batch.I.
reserve_batch() {
	shop-inv reserve <"batch.$1" >"out.$1" 2>"err.$1"
}

@test "race: 8 processes x 50 rounds reserve 1-3 of 10 units: no oversell, no busy, held = asked" {
	run -0 --separate-stderr shop-inv set MUG-01 main "$ON_HAND"
	local r i s ok refused asked want line prev=""
	for ((r = 1; r <= ROUNDS; r++)); do
		# Fresh stock: let go of the previous round's holds, then set 10.
		if [ -n "$prev" ]; then
			run -0 --separate-stderr shop-inv release <<<"${prev%$'\n'}"
			[ -z "$stderr" ]
		fi
		run -0 --separate-stderr shop-inv set MUG-01 main "$ON_HAND"
		[[ $output == *'"sku":"MUG-01","warehouse":"main","on_hand":'$ON_HAND',"reserved":0,'* ]]
		prev=""
		local -a qty=()
		for ((i = 1; i <= PROCS; i++)); do
			qty[i]=$((RANDOM % 3 + 1))
			printf '{"id":"ord_r%d_p%d","lines":[{"sku":"MUG-01","qty":%d}]}\n' "$r" "$i" "${qty[i]}" >"in.$i"
			prev+="{\"order_id\":\"ord_r${r}_p$i\"}"$'\n'
		done
		echo "round $r: qty ${qty[*]:1}"
		rm -f out.* err.*
		launch "$PROCS" reserve_one
		ok=0 refused=0 asked=0
		local -a rc=()
		for ((i = 1; i <= PROCS; i++)); do
			s=0
			wait "${PIDS[i - 1]}" || s=$?
			rc[i]=$s
		done
		echo "round $r: exit ${rc[*]:1}"
		for ((i = 1; i <= PROCS; i++)); do
			case ${rc[i]} in
			0)
				ok=$((ok + 1))
				asked=$((asked + qty[i]))
				[ ! -s "err.$i" ] || { echo "process $i exited 0 with: $(cat "err.$i")"; return 1; }
				# One reservation record: the whole order, held in main.
				# (jq costs 75 ms a call: plain string matching here.)
				[ "$(wc -l <"out.$i")" -eq 1 ]
				line=$(<"out.$i")
				[[ $line == '{"kind":"reservation","id":"res_'*'","order_id":"ord_r'$r'_p'$i'","sku":"MUG-01","warehouse":"main","qty":'${qty[i]}',"state":"held",'* ]] ||
					{ echo "process $i printed: $line"; return 1; }
				;;
			1)
				refused=$((refused + 1))
				[ ! -s "out.$i" ]
				[ "$(wc -l <"err.$i")" -eq 1 ] || { echo "process $i: $(cat "err.$i")"; return 1; }
				grep -q "^shop-inv: reserve ord_r${r}_p$i: insufficient stock for MUG-01 (want ${qty[i]}, available [0-9]*)\$" "err.$i" ||
					{ echo "process $i: $(cat "err.$i")"; return 1; }
				;;
			*)
				echo "round $r: process $i exited ${rc[i]}: $(cat "err.$i")"
				return 1
				;;
			esac
		done
		[ $((ok + refused)) -eq "$PROCS" ]
		# The stock row: nothing oversold, and reserved is what was granted;
		# the units held by this round's orders (and by all) are what the
		# successes asked.
		line=$(sqlite3 "$SHOP_DB" "SELECT on_hand, reserved,
			(SELECT coalesce(sum(qty), 0) FROM reservation WHERE state = 'held'
			 AND order_id LIKE 'ord\\_r${r}\\_p%' ESCAPE '\\'),
			(SELECT coalesce(sum(qty), 0) FROM reservation WHERE state = 'held')
			FROM stock WHERE sku = 'MUG-01' AND warehouse = 'main'")
		echo "round $r: ok $ok refused $refused asked $asked stock|held|all held $line"
		[ "$line" = "$ON_HAND|$asked|$asked|$asked" ]
		# A refusal was real: what is left now (no more than what was left
		# when it was refused) is less than it wanted.
		for ((i = 1; i <= PROCS; i++)); do
			if [ "${rc[i]}" -eq 1 ]; then
				want=${qty[i]}
				[ $((ON_HAND - asked)) -lt "$want" ] || { echo "process $i refused $want with $((ON_HAND - asked)) left"; return 1; }
				# And the available it named was no more than it had then.
				line=$(sed -nE 's/.*available ([0-9]+)\)$/\1/p' "err.$i")
				[ "$line" -lt "$want" ] && [ "$line" -ge $((ON_HAND - asked)) ]
			fi
		done
		run -0 --separate-stderr shop-inv reconcile
		[ -z "$output" ]
	done
	check_integrity
}

@test "race: 8 processes each reserve a batch of 20 orders over 3 SKUs: all held, no busy" {
	local skus=(MUG-02 CBL-USB-C-1M CHG-65W) sku i j k n q line
	for sku in "${skus[@]}"; do
		run -0 --separate-stderr shop-inv set "$sku" main 100000
	done
	# Orders of 1-3 lines (distinct SKUs), 1-5 units each; the totals asked.
	declare -A total=([MUG-02]=0 [CBL-USB-C-1M]=0 [CHG-65W]=0)
	local lines=0
	for ((i = 1; i <= PROCS; i++)); do
		: >"batch.$i"
		for ((j = 1; j <= 20; j++)); do
			n=$((RANDOM % 3 + 1))
			k=$((RANDOM % 3))
			line=""
			for ((; n > 0; n--)); do
				sku=${skus[k]}
				q=$((RANDOM % 5 + 1))
				total[$sku]=$((total[$sku] + q))
				line+="${line:+,}{\"sku\":\"$sku\",\"qty\":$q}"
				lines=$((lines + 1))
				k=$(((k + 1) % 3))
			done
			printf '{"id":"ord_b%d_%d","lines":[%s]}\n' "$i" "$j" "$line" >>"batch.$i"
		done
	done
	cat batch.*
	launch "$PROCS" reserve_batch
	local s
	for ((i = 1; i <= PROCS; i++)); do
		s=0
		wait "${PIDS[i - 1]}" || s=$?
		[ "$s" -eq 0 ] || { echo "batch $i exited $s: $(cat "err.$i")"; return 1; }
		[ ! -s "err.$i" ] || { echo "batch $i: $(cat "err.$i")"; return 1; }
	done
	# One held record per order line (one warehouse serves everything), 20
	# orders a process.
	[ "$(cat out.* | wc -l)" -eq "$lines" ]
	[ "$(cat out.* | jq -r .state | sort -u)" = held ]
	[ "$(cat out.* | jq -r .order_id | sort -u | wc -l)" -eq $((PROCS * 20)) ]
	for ((i = 1; i <= PROCS; i++)); do
		[ "$(grep -c "\"order_id\":\"ord_b${i}_" "out.$i")" -eq "$(grep -o '"sku"' "batch.$i" | wc -l)" ]
	done
	for sku in "${skus[@]}"; do
		line=$(sqlite3 "$SHOP_DB" "SELECT on_hand, reserved FROM stock WHERE sku = '$sku' AND warehouse = 'main'")
		echo "$sku: asked ${total[$sku]}, stock $line"
		[ "$line" = "100000|${total[$sku]}" ]
		[ "$(sqlite3 "$SHOP_DB" "SELECT sum(qty) FROM reservation WHERE state = 'held' AND sku = '$sku'")" -eq "${total[$sku]}" ]
		# The printed records say the same.
		[ "$(cat out.* | jq -s --arg s "$sku" '[.[] | select(.sku == $s) | .qty] | add')" -eq "${total[$sku]}" ]
	done
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(DISTINCT order_id) FROM reservation")" -eq $((PROCS * 20)) ]
	check_integrity
}
