#!/usr/bin/env bats
# Replay: journals from earlier runs, kept in fixtures/journals/ (a
# completed place-order, a compensated one, a stuck saga, and a completed
# one with a torn last record), read by log and status the same way
# forever: their output is compared with the .expected files beside them.
load helpers/common

setup() {
	common_setup
	shop-order list >/dev/null
	mkdir -p "$SHOP_DB.d/journal"
	F="$TOP/fixtures/journals"
}

# install NAME: the fixture journal into this store; prints its saga id.
install() {
	local id
	id=$(head -1 "$F/$1.jsonl" | jq -r .saga)
	cp "$F/$1.jsonl" "$SHOP_DB.d/journal/$id.jsonl"
	echo "$id"
}

@test "replay: log and status of kept journals read as they always have" {
	local n id
	for n in completed compensated stuck torn; do
		id=$(install "$n")
		run -0 --separate-stderr shop-saga log "$id"
		[ "$output" = "$(cat "$F/$n.log.expected")" ] || { echo "log of $n differs"; diff <(echo "$output") "$F/$n.log.expected"; false; }
		run -0 --separate-stderr shop-saga status "$id"
		[ "$(jq -c 'del(.journal)' <<<"$output")" = "$(cat "$F/$n.status.expected")" ] || { echo "status of $n differs"; false; }
	done
	run -0 shop-saga list --incomplete
	[ "$(jq -r .name <<<"$output")" = tidy ]
}

@test "replay: the stuck one is listed by recover, which cannot finish it (its step still fails): 75" {
	install stuck >/dev/null
	run -75 --separate-stderr shop-saga recover
	[[ $stderr == *"stuck past the pivot: b: exit 1"* ]]
	[[ $stderr == *"recover: 1 sagas stuck" ]]
}
