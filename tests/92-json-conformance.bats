#!/usr/bin/env bats
# JSON conformance of the whole program path (issue 11): JSONTestSuite's
# parsing cases, each fed as one record on the stdin of `shop-inv adjust`
# (it reads stdin with the shared reader, lib/base/jsonl.c): the line
# reader, the UTF-8 check, the parser, the error line and the exit code.
# The parser alone is run over the same files by tests/unit/json-suite.c
# (tests/01-base-units.bats). What the reader does with each i_ case is
# written down in shop-records(5), THE JSON LINES READER: i_verdict below
# is that list, and every i_ file must be named on the page.
load helpers/common

SUITE=json-test-suite/test_parsing

setup() {
	common_setup
	need_data "$SUITE"
	# A store with something in it, to prove a refused record writes nothing.
	echo '{"sku":"JS-1","title":"one","price":100}' | shop-catalog -q import >/dev/null
	shop-inv adjust --reason test JS-1 main +5 >/dev/null
	BEFORE=$(dump_store)
}

# feed FILE: the file as one record: its final newline, if any, removed.
feed() {
	if [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ]; then
		head -c -1 "$1"
	else
		cat "$1"
	fi
}

# try FILE: run shop-inv adjust on the record; sets rc, out, err, nerr.
try() {
	feed "$1" >"$BATS_TEST_TMPDIR/rec"
	rc=0
	shop-inv adjust <"$BATS_TEST_TMPDIR/rec" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	out=$(cat "$BATS_TEST_TMPDIR/out")
	err=$(cat "$BATS_TEST_TMPDIR/err")
	nerr=$(wc -l <"$BATS_TEST_TMPDIR/err")
}

# The errors of the reader itself, as opposed to a refusal of a record's
# content ("field 'sku': missing", "expected an adjustment record").
JSON_ERR='^shop-inv: stdin:1: (malformed JSON: byte [0-9]+: |invalid UTF-8 at byte [0-9]+$)'

# The two n_ cases that are empty or only whitespace: the reader skips
# blank lines (shop-records(5)), so they are zero records, not an error.
BLANK_N="n_single_space.json n_structure_no_data.json"
# The two y_ cases with line breaks between tokens: read as several lines.
MULTILINE_Y="y_array_with_1_and_newline.json y_object_with_newlines.json"

@test "json conformance: every n_ case is refused: 65, one 'malformed JSON' or 'invalid UTF-8' line, nothing written" {
	local f name bad="" count=0
	for f in "$DATA/$SUITE"/n_*.json; do
		name=${f##*/}
		count=$((count + 1))
		try "$f"
		if [[ " $BLANK_N " == *" $name "* ]]; then
			[ "$rc" -eq 0 ] && [ -z "$out" ] && [ -z "$err" ] || bad+="$name: blank input: rc=$rc out=$out err=$err"$'\n'
			continue
		fi
		[ "$rc" -eq 65 ] || bad+="$name: exit $rc: $err"$'\n'
		[ -z "$out" ] || bad+="$name: stdout: $out"$'\n'
		[ "$nerr" -eq 1 ] && [[ $err =~ $JSON_ERR ]] || bad+="$name: stderr: $err"$'\n'
	done
	# Nothing written by any of them (each was refused before a write).
	[ "$(dump_store)" = "$BEFORE" ] || bad+="the store changed"$'\n'
	check_integrity
	[ "$count" -eq 188 ] || bad+="$count n_ files, want 188"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
}

@test "json conformance: every y_ case is read, then refused for its content (not as JSON); the two with line breaks are refused as lines" {
	local f name bad="" count=0
	for f in "$DATA/$SUITE"/y_*.json; do
		name=${f##*/}
		count=$((count + 1))
		try "$f"
		[ "$rc" -eq 65 ] || bad+="$name: exit $rc: $err"$'\n'
		[ -z "$out" ] || bad+="$name: stdout: $out"$'\n'
		[ "$nerr" -eq 1 ] || bad+="$name: $nerr lines on stderr: $err"$'\n'
		if [[ " $MULTILINE_Y " == *" $name "* ]]; then
			# Line 1 alone is a JSON text cut short.
			[[ $err == "shop-inv: stdin:1: malformed JSON: byte "* ]] || bad+="$name: $err"$'\n'
		elif [[ $err =~ $JSON_ERR ]] || [[ $err != "shop-inv: stdin:1: "* ]]; then
			bad+="$name: refused as JSON: $err"$'\n'
		elif [[ $err != *"expected an adjustment record"* && $err != *"field '"* ]]; then
			bad+="$name: unexpected refusal: $err"$'\n'
		fi
	done
	[ "$(dump_store)" = "$BEFORE" ] || bad+="the store changed"$'\n'
	check_integrity
	[ "$count" -eq 95 ] || bad+="$count y_ files, want 95"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
}

# The verdict on each i_ case, as shop-records(5) documents it: "accept"
# (read, then refused for its content) or "refuse" (an error of the reader).
i_verdict() {
	case $1 in
	i_number_huge_exp.json | i_number_neg_int_huge_exp.json | i_number_pos_double_huge_exp.json | \
		i_number_real_neg_overflow.json | i_number_real_pos_overflow.json)
		echo "refuse number out of range" ;;
	i_number_*.json) echo accept ;;
	i_object_key_lone_2nd_surrogate.json | i_string_1st_surrogate_but_2nd_missing.json | \
		i_string_1st_valid_surrogate_2nd_invalid.json | i_string_incomplete_surrogate*.json | \
		i_string_invalid_lonely_surrogate.json | i_string_invalid_surrogate.json | \
		i_string_inverted_surrogates_U+1D11E.json | i_string_lone_second_surrogate.json)
		echo accept ;;
	i_structure_500_nested_arrays.json) echo "refuse nested too deeply" ;;
	i_structure_UTF-8_BOM_empty_object.json) echo "refuse unexpected character" ;;
	i_string_*.json) echo "refuse invalid UTF-8" ;;
	*) echo unknown ;;
	esac
}

@test "json conformance: i_ cases: accepted or refused as shop-records(5) says, never a crash" {
	local f name v bad="" count=0
	for f in "$DATA/$SUITE"/i_*.json; do
		name=${f##*/}
		count=$((count + 1))
		try "$f"
		v=$(i_verdict "$name")
		[ "$rc" -eq 65 ] || bad+="$name: exit $rc: $err"$'\n'
		[ -z "$out" ] || bad+="$name: stdout: $out"$'\n'
		[ "$nerr" -eq 1 ] || bad+="$name: $nerr lines on stderr: $err"$'\n'
		case $v in
		accept)
			[[ ! $err =~ $JSON_ERR ]] || bad+="$name: want accepted, got: $err"$'\n' ;;
		refuse*)
			[[ $err =~ $JSON_ERR && $err == *"${v#refuse }"* ]] || bad+="$name: want '${v#refuse }', got: $err"$'\n' ;;
		*) bad+="$name: a new i_ case: document it"$'\n' ;;
		esac
		grep -qF "${name%.json}" "$TOP/man/shop-records.5" || bad+="$name: not in shop-records(5)"$'\n'
	done
	[ "$(dump_store)" = "$BEFORE" ] || bad+="the store changed"$'\n'
	[ "$count" -eq 35 ] || bad+="$count i_ files, want 35"$'\n'
	[ -z "$bad" ] || { printf '%s' "$bad" >&2; return 1; }
}

@test "json conformance: accepted i_ values read back as documented: lone surrogates as U+FFFD, huge integers rounded, underflow to 0" {
	# shop-catalog keeps a product's attributes as given: a way to see what
	# the reader made of a value.
	local f
	for f in i_string_lone_second_surrogate i_string_invalid_lonely_surrogate i_number_real_underflow i_number_too_big_pos_int; do
		{ printf '{"sku":"I-1","title":"i","price":1,"attributes":{"v":'; feed "$DATA/$SUITE/$f.json"; printf '}}\n'; } >i.jsonl
		run -0 --separate-stderr shop-catalog import i.jsonl
		run -0 --separate-stderr shop-catalog get I-1
		case $f in
		*surrogate) jq -e '.attributes.v == ["\ufffd"]' <<<"$output" ;;
		*underflow) jq -e '.attributes.v == [0]' <<<"$output" ;;
		*too_big_pos_int) jq -e '.attributes.v == [1e20]' <<<"$output" ;;
		esac
	done
}
