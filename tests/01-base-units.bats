#!/usr/bin/env bats
# The C unit tests of lib/base, one binary per module.
load helpers/common

setup() { common_setup; }

unit() {
	run --separate-stderr "$SHOP_BUILD/tests/$1" "${@:2}"
	[ "$status" -eq 0 ] || { echo "$output"; echo "$stderr"; return 1; }
	[[ $output == *", 0 failed" ]]
}

@test "money: parsing, formatting, checked arithmetic, rounding" { unit test-money; }
@test "clock: SHOP_NOW, RFC 3339, durations" { unit test-clock; }
@test "ids: prefixed, unique, time-sortable" { unit test-ids; }
@test "sha256: FIPS 180-4 vectors" { unit test-sha256; }
@test "cfg: YAML config loading and schema checks" { unit test-cfg "$TOP/fixtures/config"; }
@test "proc: spawn, exit codes, signals, timeouts" { unit test-proc; }
@test "util: utf8 validation, buffers, errors" { unit test-util; }
@test "jsonl: line reader limits and errors" { unit test-jsonl; }
@test "jqx: plain paths, compiled expressions, templates" { unit test-jqx; }

@test "json: JSONTestSuite's parsing cases: every y_ accepted, every n_ refused, no i_ crashes" {
	need_data json-test-suite/test_parsing/y_structure_lonely_null.json
	run -0 --separate-stderr "$SHOP_BUILD/tests/json-suite" "$DATA/json-test-suite/test_parsing"
	[[ $output == *": 0 wrong" ]]
}
