#!/usr/bin/env bats
# shop-saga: place-order end to end on the sandbox, retries, the pivot,
# compensation, stuck and recover, abort, the commands that look, and bad
# saga files. Steps of the tests' own sagas are tests/helpers/step.sh.
load helpers/common
load helpers/order
load helpers/pay
load helpers/saga

setup() {
	common_setup
	saga_setup
}

teardown() { check_pay; }

# saga_file NAME BODY: a saga file in the store's sagas/ directory.
saga_file() {
	printf '%s\n' "$2" >"$SAGAS/$1.yaml"
}

# three steps a, b (the pivot when PIVOT=b), c, each with an undo.
abc() {
	saga_file abc "name: abc
steps:
  - name: a
    run: [$STEP, a, '{{ .order_id }}']
    compensate: [$STEP, undo-a]
    retry: {attempts: 3, backoff: 10ms}
  - name: b
    run: [$STEP, b]
    compensate: [$STEP, undo-b]
    retry: {attempts: 3, backoff: 10ms}
    pivot: ${PIVOT_B:-false}
  - name: c
    run: [$STEP, c]
    retry: {attempts: 2, backoff: 10ms}"
}

@test "place-order: the order to the warehouse; money captured, stock taken, the journal ended" {
	make_order ord_a alice pending
	run -0 --separate-stderr shop-saga run place-order --order ord_a
	[ -z "$stderr" ]
	[ "$(jq -r '[.kind, .name, .order_id, .state, .past_pivot] | join(" ")' <<<"$output")" = \
		"saga place-order ord_a completed true" ]
	[ "$(order_status ord_a)" = fulfilling ]
	[ "$(pay_status ord_a)" = "captured 1250 0" ]
	[ "$(stock_of MUG-01)" = "99 0" ]
	check_order_agrees ord_a
	local sag
	sag=$(jq -r .id <<<"$output")
	run -0 shop-saga log "$sag"
	[ "$(jq -r 'select(.type == "outcome") | .step' <<<"$output" | tr '\n' ' ')" = \
		"order reserve authorize commit confirm capture handoff " ]
	[ "$(jq -r '.seq' <<<"$output" | tr '\n' ' ')" = "$(seq 16 | tr '\n' ' ')" ]
	run -0 shop-saga status "$sag"
	[ "$(jq -r .state <<<"$output")" = completed ]
	run -0 shop-order trace ord_a
	[ "$(jq -r 'select(.source == "saga") | .what' <<<"$output" | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' ')" = \
		"saga.end=1 saga.intent=7 saga.outcome=7 saga.start=1 " ]
	# Run again for the same order: every step is idempotent, nothing twice.
	run -0 shop-saga run place-order --order ord_a
	[ "$(sandbox_count authorization)" = 1 ] && [ "$(sandbox_count capture)" = 1 ]
	[ "$(stock_of MUG-01)" = "99 0" ]
}

@test "place-order: a declined card compensates: stock back, the order cancelled with the reason" {
	make_order ord_b bob pending
	sqlite3 "$SHOP_DB" "UPDATE orders SET doc = json_set(doc, '\$.payment_method', 'pm_card_chargeDeclined') WHERE id = 'ord_b'"
	run -1 --separate-stderr shop-saga run place-order --order ord_b
	[ "$(jq -r '[.state, .past_pivot, .reason] | join("|")' <<<"$output")" = \
		"compensated|false|authorize: exit 1: shop-pay: order ord_b: authorize refused: card declined: generic_decline (Your card was declined.)" ]
	[[ $stderr == *"shop-saga: saga sag_"*" (place-order, ord_b): compensated: authorize: exit 1: "* ]]
	[ "$(order_status ord_b)" = cancelled ]
	[[ $(sqlite3 "$SHOP_DB" "SELECT reason FROM orders WHERE id = 'ord_b'") == "authorize: exit 1: "*"generic_decline"* ]]
	[ "$(stock_of MUG-01)" = "100 0" ]
	[ "$(pay_status ord_b)" = "failed 0 0" ]
	[ "$(sandbox_count authorization)" = 0 ]
	check_order_agrees ord_b
	run -0 shop-saga log "$(saga_of ord_b)"
	[ "$(jq -r 'select(.type == "outcome" and .phase == "compensate") | .step' <<<"$output" | tr '\n' ' ')" = \
		"authorize reserve order " ]
}

@test "records on stdin: checkout piped into shop-saga run place-order" {
	adr=$(shop-cart address add carol --name C --line1 'l 1' --city c --region NY --postal 1 --country US | jq -r .id)
	shop-cart -q add cc MUG-01 2 >/dev/null
	run -0 --separate-stderr sh -c "shop-cart checkout cc --customer carol --address $adr --payment pm_card_visa | shop-saga run place-order"
	local ord
	ord=$(jq -r .order_id <<<"$output")
	[ "$(order_status "$ord")" = fulfilling ]
	[ "$(stock_of MUG-01)" = "98 0" ]
	run -0 shop-saga log "$(jq -r .id <<<"$output")"
	[ "$(head -1 <<<"$output" | jq -r '.context.input.kind')" = order ]
}

@test "a step failing retryably twice, then succeeding: one saga, three attempts, completed" {
	abc
	step_plan b 75 69 0
	run -0 --separate-stderr shop-saga run abc --order o1
	[ "$(calls)" = "a b b b c" ]
	run -0 shop-saga log "$(jq -r .id <<<"$output")"
	[ "$(jq -r 'select(.type == "outcome" and .step == "b") | "\(.attempt):\(.exit)"' <<<"$output" | tr '\n' ' ')" = "1:75 2:69 3:0 " ]
}

@test "retries run out before the pivot: the done steps and the failed one compensated in reverse" {
	PIVOT_B=false abc
	step_plan c 69 69
	run -1 --separate-stderr shop-saga run abc --order o1
	[ "$(calls)" = "a b c c undo-b undo-a" ]
	[ "$(jq -r .state <<<"$output")" = compensated ]
	[[ $(jq -r .reason <<<"$output") == "c: exit 69: step.sh: c: failing with 69" ]]
}

@test "a permanent failure is not retried" {
	abc
	step_plan b 1
	run -1 shop-saga run abc --order o1
	[ "$(calls)" = "a b undo-b undo-a" ]
}

@test "retries run out after the pivot: stuck (75), listed; recover finishes it once the fault is gone" {
	PIVOT_B=true abc
	step_plan c 75 75
	run -75 --separate-stderr shop-saga run abc --order o1
	[ "$(jq -r '[.state, .step, .past_pivot] | join(" ")' <<<"$output")" = "stuck c true" ]
	[[ $stderr == *"stuck past the pivot: c: exit 75"*"shop-saga recover goes on" ]]
	[ "$(calls)" = "a b c c" ]
	run -0 shop-saga list --incomplete
	[ "$(jq -r .state <<<"$output")" = stuck ]
	run -0 shop-saga recover
	[ "$(jq -r .state <<<"$output")" = completed ]
	[ "$(calls)" = "a b c c c" ]
	run -0 shop-saga list --incomplete
	[ -z "$output" ]
	run -0 shop-saga recover
	[ -z "$output" ]
}

@test "a compensation that keeps failing: stuck and loud; recover ends it compensated" {
	abc
	step_plan b 1
	step_plan undo-a 1 1 1
	run -75 --separate-stderr shop-saga run abc --order o1
	[[ $stderr == *"stuck compensating: undo-a"* ]] || [[ $stderr == *"stuck compensating: a: exit 1"* ]]
	[ "$(jq -r '[.state, .phase] | join(" ")' <<<"$output")" = "stuck compensate" ]
	run -0 --separate-stderr shop-saga recover
	[ "$(calls)" = "a b undo-b undo-a undo-a undo-a undo-a" ]
	[ "$(shop-saga list | jq -r .state)" = compensated ]
}

@test "a step over its timeout is killed, and retried" {
	saga_file slow "name: slow
steps:
  - name: s
    run: [$STEP, s]
    timeout: 300ms
    retry: {attempts: 2, backoff: 10ms}"
	step_plan s sleep:5 0
	local t0=$SECONDS
	run -0 shop-saga run slow --order o1
	[ $((SECONDS - t0)) -lt 4 ]
	run -0 shop-saga log "$(jq -r .id <<<"$output")"
	[ "$(jq -r 'select(.type == "outcome") | "\(.attempt):\(.timed_out // false):\(.exit)"' <<<"$output" | tr '\n' ' ')" = \
		"1:true:null 2:false:0 " ]
}

@test "the context: a step's record is .NAME for the next; .input is the record the saga came from" {
	saga_file ctx "name: ctx
steps:
  - name: one
    run: [$STEP, one]
  - name: two
    run: [$STEP, two, '{{ .one.n }}', '{{ .input.note }}', '{{ .saga.name }}', '{{ .one }}']"
	run -0 sh -c 'echo "{\"id\":\"o9\",\"note\":\"hi there\"}" | shop-saga run ctx'
	[ "$(sed -n '/^== two$/,$p' "$STEP_DIR/calls" | tail -n +2 | tr '\n' '|')" = 'two|1|hi there|ctx|{"step":"one","n":1}|' ]
}

@test "argv elements with ; \$(...) spaces and quotes arrive as one argument each, never through a shell" {
	saga_file hostile "name: hostile
steps:
  - name: h
    run: [$STEP, h, 'a; touch $BATS_TEST_TMPDIR/pwned', '\$(touch $BATS_TEST_TMPDIR/pwned2)', \"it's \\\"quoted\\\"\", '{{ .input.x }}']"
	run -0 sh -c "echo '{\"id\":\"o1\",\"x\":\"\`touch $BATS_TEST_TMPDIR/pwned3\` && rm -rf /\"}' | shop-saga run hostile"
	[ ! -e "$BATS_TEST_TMPDIR/pwned" ] && [ ! -e "$BATS_TEST_TMPDIR/pwned2" ] && [ ! -e "$BATS_TEST_TMPDIR/pwned3" ]
	[ "$(sed -n '2p' "$STEP_DIR/calls")" = "h" ]
	[ "$(sed -n '3p' "$STEP_DIR/calls")" = "a; touch $BATS_TEST_TMPDIR/pwned" ]
	[ "$(sed -n '4p' "$STEP_DIR/calls")" = "\$(touch $BATS_TEST_TMPDIR/pwned2)" ]
	[ "$(sed -n '5p' "$STEP_DIR/calls")" = "it's \"quoted\"" ]
	[ "$(sed -n '6p' "$STEP_DIR/calls")" = "\`touch $BATS_TEST_TMPDIR/pwned3\` && rm -rf /" ]
	[ "$(wc -l <"$STEP_DIR/calls")" = 6 ]
}

@test "abort: a waiting saga before its pivot is compensated; after the pivot it is refused (1)" {
	PIVOT_B=true abc
	# Killed right after a's outcome: waiting, before the pivot.
	SHOP_TEST_CRASH=after:3 run -137 shop-saga run abc --order o1
	local sag
	sag=$(shop-saga list | jq -r .id)
	[ "$(shop-saga status "$sag" | jq -r .state)" = waiting ]
	run -0 shop-saga abort "$sag"
	[ "$(jq -r '[.state, .reason] | join(" ")' <<<"$output")" = "compensated aborted by the operator" ]
	[ "$(calls)" = "a undo-b undo-a" ] || [ "$(calls)" = "a undo-a" ]
	run -1 shop-saga abort "$sag"
	rm "$STEP_DIR/calls"
	SHOP_TEST_CRASH=after:5 run -137 shop-saga run abc --order o2
	sag=$(shop-saga list | jq -r 'select(.order_id == "o2") | .id')
	run -1 --separate-stderr shop-saga abort "$sag"
	[[ $stderr == *"is past its pivot: it only goes forward"* ]]
	run -0 shop-saga resume "$sag"
	[ "$(jq -r .state <<<"$output")" = completed ]
}

@test "resume by order: its unfinished saga goes on; an order with none gets place-order" {
	make_order ord_r rita pending
	SHOP_TEST_CRASH=after:6 run -137 shop-saga run place-order --order ord_r
	run -0 shop-saga resume ord_r
	[ "$(jq -r .state <<<"$output")" = completed ]
	[ "$(shop-saga list | jq -s length)" = 1 ]
	make_order ord_s sam pending
	run -0 sh -c 'shop-order list --status pending | shop-saga resume'
	[ "$(order_status ord_s)" = fulfilling ]
}

@test "two recover processes at once never run the same saga twice" {
	saga_file slow2 "name: slow2
steps:
  - name: a
    run: [$STEP, a, '{{ .order_id }}']
  - name: b
    run: [sh, -c, 'sleep 0.3; exec \"\$0\" \"\$@\"', $STEP, b, '{{ .order_id }}']"
	local i
	for i in 1 2 3 4 5 6; do
		SHOP_TEST_CRASH=after:1 shop-saga run slow2 --order "o$i" >/dev/null 2>&1 || true
	done
	[ "$(shop-saga list --incomplete | jq -s length)" = 6 ]
	shop-saga recover >"$BATS_TEST_TMPDIR/r1" 2>&1 &
	local p1=$!
	shop-saga recover >"$BATS_TEST_TMPDIR/r2" 2>&1 &
	local p2=$!
	wait $p1 $p2
	[ "$(shop-saga list | jq -r .state | sort -u)" = completed ]
	# Each step ran once for each order.
	for i in 1 2 3 4 5 6; do
		[ "$(grep -c "^o$i\$" "$STEP_DIR/calls")" = 2 ]
	done
	[ "$(grep -c '^== ' "$STEP_DIR/calls")" = 12 ]
}

@test "a journal held by another process: resume says who holds it (75)" {
	saga_file hold "name: hold
steps:
  - name: s
    run: [$STEP, s]"
	step_plan s sleep:2
	shop-saga run hold --order o1 >/dev/null &
	local pid=$! sag="" k
	# Wait until its journal is there (a loaded machine starts it late).
	for k in $(seq 50); do
		sag=$(shop-saga list | jq -r .id)
		[ -n "$sag" ] && break
		sleep 0.1
	done
	[ "$(shop-saga status "$sag" | jq -r .state)" = running ]
	run -75 --separate-stderr shop-saga resume "$sag"
	[[ $stderr == *"$sag.jsonl: in use by process $pid" ]]
	wait $pid
}

@test "graph: dot of a saga file, and of a run coloured by where it stands" {
	run -0 shop-saga graph place-order
	[ "$(head -1 <<<"$output")" = 'digraph "place-order" {' ]
	[[ $output == *'s5 [label="capture", fillcolor=white, peripheries=2];'* ]]
	[[ $output == *'s2 -> c2 [style=dashed];'* ]]
	make_order ord_g g pending
	shop-saga run place-order --order ord_g >/dev/null
	run -0 shop-saga graph "$(saga_of ord_g)"
	[ "$(grep -c 'fillcolor=palegreen' <<<"$output")" = 7 ]
	if command -v dot >/dev/null; then shop-saga graph place-order | dot -Tsvg >/dev/null; fi
}

@test "check, archive, and log/status of an archived journal" {
	run -0 shop-saga check place-order
	[ "$(jq -r '[.kind, .name, (.steps | length), ([.steps[] | select(.pivot)] | .[0].name)] | join(" ")' <<<"$output")" = \
		"saga_file place-order 7 capture" ]
	make_order ord_h h pending
	shop-saga run place-order --order ord_h >/dev/null
	local sag
	sag=$(saga_of ord_h)
	SHOP_NOW=2026-12-01T00:00:00Z run -0 shop-saga archive --older 1d
	[ "$(jq -r .id <<<"$output")" = "$sag" ]
	[ -e "$SHOP_DB.d/journal/archive/$sag.jsonl" ]
	run -0 shop-saga list
	[ -z "$output" ]
	run -0 shop-saga status "$sag"
	[ "$(jq -r .state <<<"$output")" = completed ]
	run -0 shop-saga log "$sag"
	[ "${#lines[@]}" = 16 ]
}

@test "bad saga files: syntax, unknown key, no run, an empty argv, a bad placeholder, two pivots: 78 with FILE:LINE, nothing run" {
	local f="$SAGAS/bad.yaml"
	printf 'name: bad\nsteps:\n  - name: a\n    run: [%s, a\n' "$STEP" >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == "shop-saga: $f:"* ]]
	printf 'name: bad\nsteps:\n  - name: a\n    run: [%s, a]\n    retries: 3\n' "$STEP" >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == "shop-saga: $f:5:"*"retries"* ]]
	printf 'name: bad\nsteps:\n  - name: a\n    compensate: [%s, a]\n' "$STEP" >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[ "$stderr" = "shop-saga: $f:3:5: step a: run is required" ]
	printf 'name: bad\nsteps:\n  - name: a\n    run: []\n' >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == "shop-saga: $f:4:"*"empty argv" ]]
	printf 'name: bad\nsteps:\n  - name: a\n    run: [%s, "{{ .x | }}"]\n' "$STEP" >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == "shop-saga: $f:4:"* ]]
	printf 'name: bad\nsteps:\n  - name: a\n    run: [x]\n    pivot: true\n  - name: b\n    run: [x]\n    pivot: true\n' >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == "shop-saga: $f:8:"*"a second pivot"* ]]
	printf 'name: bad\nsteps:\n  - name: a\n    run: ["{{ .prog }}"]\n' >"$f"
	run -78 --separate-stderr shop-saga run bad --order o1
	[[ $stderr == *"must be named plainly"* ]]
	[ ! -e "$STEP_DIR/calls" ]
	[ ! -d "$SHOP_DB.d/journal" ] || [ -z "$(ls "$SHOP_DB.d/journal")" ]
	run -66 --separate-stderr shop-saga run no-such-saga --order o1
	[[ $stderr == "shop-saga: saga 'no-such-saga': no such saga"* ]]
	run -64 shop-saga run 'bad name' --order o1
	run -66 shop-saga status sag_00000000000000000000000000
	run -66 shop-saga log nope
	run -64 shop-saga run place-order
	run -65 sh -c 'echo "{\"x\":1}" | shop-saga run place-order'
}

@test "the steps' idempotency: reserve refuses an order no longer to be filled, so a late rerun holds nothing" {
	make_order ord_c carl cancelled
	run -1 --separate-stderr shop-inv reserve --order ord_c
	[ "$stderr" = "shop-inv: order ord_c is cancelled: no stock is held for it" ]
	[ "$(stock_of MUG-01)" = "100 0" ]
}

@test "a step whose program cannot be run is retried, then the saga waits stuck: never compensated for it" {
	saga_file missing "name: missing
steps:
  - name: a
    run: [$STEP, a]
    compensate: [$STEP, undo-a]
  - name: b
    run: [no-such-program-here, x]
    retry: {attempts: 2, backoff: 10ms}"
	run -75 --separate-stderr shop-saga run missing --order o1
	[[ $stderr == *"stuck (a step that cannot be run): b: cannot run 'no-such-program-here'"* ]] || [[ $stderr == *"stuck (a step that cannot be run): b: "* ]]
	[ "$(calls)" = "a" ]
	run -0 shop-saga log "$(shop-saga list | jq -r .id)"
	[ "$(jq -r 'select(.type == "outcome" and .step == "b") | [.attempt, .started, .exit] | map(tostring) | join(" ")' <<<"$output" | tr '\n' ';')" = "1 false null;2 false null;" ]
}

@test "one saga per order: runs started at once for one order make one saga, whose steps run once" {
	saga_file once "name: once
steps:
  - name: a
    run: [$STEP, a, '{{ .order_id }}']"
	local i k
	for k in 1 2 3 4 5 6 7 8; do
		for i in 1 2 3 4; do
			shop-saga -q run once --order "r$k" >/dev/null 2>&1 &
		done
	done
	wait
	[ "$(shop-saga list | jq -s length)" = 8 ]
	for k in 1 2 3 4 5 6 7 8; do
		[ "$(grep -c "^r$k\$" "$STEP_DIR/calls")" = 1 ]
	done
}

@test "a compensation stuck and resumed keeps the reason the saga turned back for" {
	saga_file why "name: why
steps:
  - name: a
    run: [$STEP, a]
    compensate: [$STEP, undo-a, '{{ .saga.reason }}']
  - name: b
    run: [$STEP, b]"
	step_plan b 1
	step_plan undo-a 1 1 1
	run -75 --separate-stderr shop-saga run why --order o1
	[ "$(jq -r '[.state, .reason] | join(" | ")' <<<"$output")" = "stuck | undo-a: exit 1: step.sh: undo-a: failing with 1" ] ||
		[ "$(jq -r '.state' <<<"$output")" = stuck ]
	run -1 --separate-stderr shop-saga resume "$(jq -r .id <<<"$output")"
	[ "$(jq -r '[.state, .reason] | join(" | ")' <<<"$output")" = "compensated | b: exit 1: step.sh: b: failing with 1" ]
	[ "$(tail -1 "$STEP_DIR/calls")" = "b: exit 1: step.sh: b: failing with 1" ]
}

@test "place-order for an id that is no order: compensated (a compensation that finds nothing is done), not stuck" {
	run -1 --separate-stderr shop-saga run place-order --order ord_nosuch
	[ "$(jq -r .state <<<"$output")" = compensated ]
	[[ $(jq -r .reason <<<"$output") == "order: exit 66: "* ]]
	run -0 shop-saga recover
}
