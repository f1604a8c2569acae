#!/usr/bin/env bats
# Bad input of every kind (SPEC §4): one line on stderr, "shop-catalog: "
# first, the documented exit code, and the store unchanged.
load helpers/common
load helpers/catalog

setup() {
	common_setup
	import_fixture
}

# refused CODE PATTERN CMD...: CMD exits CODE with nothing on stdout, one
# line on stderr holding PATTERN, and the store is as it was.
refused() {
	local code=$1 pattern=$2 before
	shift 2
	before=$(dump_store)
	run "-$code" --separate-stderr "$@"
	[ -z "$output" ] || { echo "stdout: $output" >&2; return 1; }
	expect_one_error "$pattern"
	check_integrity
	[ "$(dump_store)" = "$before" ] || { echo "the store changed" >&2; return 1; }
}

# refused_import CODE PATTERN LINE...: an import of these lines (a file
# and stdin) is refused.
refused_import() {
	local code=$1 pattern=$2
	shift 2
	printf '%s\n' "$@" >bad.jsonl
	refused "$code" "bad.jsonl:$#: " shop-catalog import bad.jsonl
	[[ $stderr == *"$pattern"* ]] || { echo "stderr lacks '$pattern': $stderr" >&2; return 1; }
	refused "$code" "stdin:$#: " bash -c 'shop-catalog import <bad.jsonl'
	[[ $stderr == *"$pattern"* ]] || { echo "stderr lacks '$pattern': $stderr" >&2; return 1; }
}

@test "bad input: a malformed JSON line in the middle of an import: 65, its line number, nothing written" {
	{
		echo '{"sku":"NEW-1","title":"one","price":100}'
		echo '{"sku":"MUG-01","title":"changed","price":1}'
		echo '{"sku":"NEW-3","title":"three",price:100}'
		echo '{"sku":"NEW-4","title":"four","price":100}'
	} >bad.jsonl
	refused 65 "bad.jsonl:3:" shop-catalog import bad.jsonl
	[[ $stderr == *"malformed JSON"* ]]
	run -66 --separate-stderr shop-catalog get NEW-1
	run -0 --separate-stderr shop-catalog get MUG-01
	[ "$(jq -r .title <<<"$output")" = "Stoneware mug 350 ml" ]
	refused 65 "stdin:3:" bash -c 'shop-catalog import <bad.jsonl'
	# A line cut short at the end of the input, and a lone brace.
	refused_import 65 "malformed JSON" '{"sku":"NEW-1","title":"one","price":100}' '{"sku":"NEW-2"'
	refused_import 65 "malformed JSON" '{'
}

@test "bad input: a price that is a JSON fraction: 65, says minor units or a decimal string" {
	refused_import 65 "field 'price'" '{"sku":"NEW-1","title":"one","price":100}' '{"sku":"P-1","title":"p","price":19.99}'
	[[ $stderr == *"minor units"* && $stderr == *"decimal string"* ]]
}

@test "bad input: invalid UTF-8: 65 'invalid UTF-8'" {
	printf '{"sku":"NEW-1","title":"one","price":100}\n{"sku":"U-1","title":"caf\xff","price":1}\n' >bad.jsonl
	refused 65 "bad.jsonl:2: invalid UTF-8" shop-catalog import bad.jsonl
	# A lone continuation byte, an overlong encoding, a surrogate.
	for b in '\x80' '\xc0\xaf' '\xed\xa0\x80'; do
		printf "{\"sku\":\"U-1\",\"title\":\"x${b}y\",\"price\":1}\n" >bad.jsonl
		refused 65 "invalid UTF-8" shop-catalog import bad.jsonl
	done
	# In a command-line value too.
	refused 65 "invalid UTF-8" shop-catalog set MUG-01 "title=$(printf 'caf\xe9')"
}

@test "bad input: a line over the size limit (1 MiB): 65 'longer than'" {
	{
		echo '{"sku":"NEW-1","title":"one","price":100}'
		printf '{"sku":"BIG","title":"big","price":1,"description":"'
		head -c 1153434 /dev/zero | tr '\0' a
		printf '"}\n'
	} >big.jsonl
	[ "$(stat -c %s big.jsonl)" -gt 1100000 ]
	refused 65 "big.jsonl:2: line longer than 1048576 bytes" shop-catalog import big.jsonl
	refused 65 "longer than" bash -c 'shop-catalog import <big.jsonl'
	# --keep-going rejects it and goes on with the next line.
	echo '{"sku":"NEW-3","title":"three","price":100}' >>big.jsonl
	run -65 --separate-stderr shop-catalog import --keep-going --rejects rej.jsonl big.jsonl
	[ "$output" = '{"kind":"import","read":3,"created":2,"updated":0,"unchanged":0,"rejected":1}' ]
	[ "$(jq -r .line rej.jsonl)" = 2 ]
	check_integrity
}

@test "bad input: a line over the limit set in the config (limits.line_bytes)" {
	printf 'limits:\n  line_bytes: 2048\n' >shop.yaml
	desc=$(head -c 3000 /dev/zero | tr '\0' a)
	refused_import 65 "line longer than 2048 bytes" "{\"sku\":\"BIG\",\"title\":\"big\",\"price\":1,\"description\":\"$desc\"}"
	# Under the limit is fine, and without the config 3000 bytes are too.
	desc=$(head -c 1500 /dev/zero | tr '\0' a)
	run -0 --separate-stderr bash -c "echo '{\"sku\":\"MID\",\"title\":\"m\",\"price\":1,\"description\":\"$desc\"}' | shop-catalog import"
	check_integrity
	rm shop.yaml
	desc=$(head -c 3000 /dev/zero | tr '\0' a)
	run -0 --separate-stderr bash -c "echo '{\"sku\":\"BIG\",\"title\":\"big\",\"price\":1,\"description\":\"$desc\"}' | shop-catalog import"
	check_integrity
}

@test "bad input: sku missing, empty, with a space, not a string, too long" {
	refused_import 65 "field 'sku': missing" '{"title":"no sku","price":1}'
	refused_import 65 "field 'sku': empty" '{"sku":"","title":"x","price":1}'
	refused_import 65 "field 'sku'" '{"sku":"A B","title":"x","price":1}'
	refused_import 65 "field 'sku'" '{"sku":"A/B","title":"x","price":1}'
	refused_import 65 "field 'sku'" '{"sku":42,"title":"x","price":1}'
	refused_import 65 "field 'sku'" "{\"sku\":\"$(head -c 65 /dev/zero | tr '\0' S)\",\"title\":\"x\",\"price\":1}"
}

@test "bad input: a negative price, too many decimals, not a number" {
	refused_import 65 "negative" '{"sku":"P-1","title":"p","price":-1}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":"-1.00"}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":"19.999"}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":"12,50"}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":true}'
	refused_import 65 "field 'price': missing" '{"sku":"P-1","title":"p"}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":"1.5","currency":"JPY"}'
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":1e300}'
}

@test "bad input: a whole price of 2^53 or more is refused as too large, not as a fraction" {
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":9007199254740993}'
	[[ $stderr != *"not whole"* ]] || { echo "misleading: $stderr" >&2; return 1; }
	[[ $stderr =~ large|range|2\^53 ]]	# The same limit for a decimal string: the record holds a JSON number.
	refused_import 65 "field 'price'" '{"sku":"P-1","title":"p","price":"90071992547409.92"}'
	[[ $stderr == *"too large"* ]]
}

@test "bad input: an unknown currency, status bogus, options with a non-string value" {
	refused_import 65 "field 'currency'" '{"sku":"P-1","title":"p","price":1,"currency":"ZZZ"}'
	refused_import 65 "field 'currency'" '{"sku":"P-1","title":"p","price":1,"currency":"dollars"}'
	refused_import 65 "field 'status'" '{"sku":"P-1","title":"p","price":1,"status":"bogus"}'
	refused_import 65 "field 'options.size'" '{"sku":"P-1","title":"p","price":1,"options":{"size":3}}'
	refused_import 65 "field 'options'" '{"sku":"P-1","title":"p","price":1,"options":["S"]}'
	refused_import 65 "field 'attributes'" '{"sku":"P-1","title":"p","price":1,"attributes":"red"}'
	refused_import 65 "field 'images" '{"sku":"P-1","title":"p","price":1,"images":[1]}'
}

@test "bad input: other fields: unknown, wrong type, empty title, NUL, control characters, not an object" {
	refused_import 65 "unknown field 'colour'" '{"sku":"P-1","title":"p","price":1,"colour":"red"}'
	refused_import 65 "field 'title': missing" '{"sku":"P-1","price":1}'
	refused_import 65 "field 'title': empty" '{"sku":"P-1","title":"","price":1}'
	refused_import 65 "field 'title'" '{"sku":"P-1","title":7,"price":1}'
	refused_import 65 "NUL" '{"sku":"P-1","title":"a\u0000b","price":1}'
	refused_import 65 "control character" '{"sku":"P-1","title":"a\nb","price":1}'
	refused_import 65 "field 'kind'" '{"kind":"order","sku":"P-1","title":"p","price":1}'
	refused_import 65 "object" '["P-1"]'
	refused_import 65 "object" '"P-1"'
}

@test "bad input: two values on one line: 65" {
	refused_import 65 "malformed JSON" '{"sku":"A-1","title":"a","price":1} {"sku":"B-1","title":"b","price":1}'
	refused_import 65 "" '{"sku":"A-1","title":"a","price":1}{}'
}

@test "bad input: a config with a YAML syntax error: 78 FILE:LINE:COL:" {
	refused 78 "$TOP/fixtures/config/syntax.yaml:4:1:" shop-catalog --config "$TOP/fixtures/config/syntax.yaml" list
	# ./shop.yaml is read when present, $SHOP_CONFIG too.
	printf 'currency: USD\nlimits: {line_bytes: 2048\n' >shop.yaml
	refused 78 "shop.yaml:" shop-catalog list
	[[ $stderr =~ shop\.yaml:[0-9]+:[0-9]+: ]]
	mv shop.yaml other.yaml
	SHOP_CONFIG=other.yaml refused 78 "other.yaml:" shop-catalog import "$FIX"
	[[ $stderr =~ other\.yaml:[0-9]+:[0-9]+: ]]
}

@test "bad input: a config with an unknown key: 78 'unknown key'" {
	printf 'currency: USD\ncurrncy: EUR\n' >bad.yaml
	refused 78 "unknown key" shop-catalog --config bad.yaml list
	[[ $stderr == *"bad.yaml:2:1:"* && $stderr == *currncy* ]]
	printf 'limits:\n  line_byte: 2048\n' >bad.yaml
	refused 78 "unknown key" shop-catalog --config bad.yaml import "$FIX"
	printf 'currency: ZZZ\n' >bad.yaml
	refused 78 "currency" shop-catalog --config bad.yaml list
	printf 'limits:\n  line_bytes: 10\n' >bad.yaml
	refused 78 "line_bytes" shop-catalog --config bad.yaml list
}

@test "bad input: --config pointing to a missing file: 66" {
	refused 66 "nope.yaml" shop-catalog --config nope.yaml list
}

@test "bad input: usage errors are 64: unknown flag, unknown command, missing argument" {
	refused 64 "--bogus" shop-catalog list --bogus
	refused 64 "--bogus" shop-catalog --bogus list
	refused 64 "-z" shop-catalog list -z
	refused 64 "frobnicate" shop-catalog frobnicate
	refused 64 "missing command" shop-catalog
	refused 64 "missing argument" shop-catalog set MUG-01
	refused 64 "missing argument" shop-catalog publish
	refused 64 "too many arguments" shop-catalog import a b
	refused 64 "--limit" shop-catalog list --limit
	refused 64 "takes no value" shop-catalog --quiet=yes list
}

@test "bad input: an unknown sku: 66" {
	refused 66 "no such product" shop-catalog get NOPE
	refused 66 "no such product" shop-catalog set NOPE title=x
	refused 66 "no such product" shop-catalog rm NOPE
	refused 66 "no such product" bash -c 'echo "{\"sku\":\"NOPE\",\"price\":1}" | shop-catalog patch'
}

@test "bad input: a store in a directory that does not exist: 74, nothing created" {
	run -74 --separate-stderr shop-catalog --db /nonexistent/dir/shop.db list
	[ -z "$output" ]
	expect_one_error "/nonexistent/dir"
	[ ! -e /nonexistent ]
	run -74 --separate-stderr shop-catalog --db "$BATS_TEST_TMPDIR/no/such/shop.db" import "$FIX"
	expect_one_error "does not exist"
	[ ! -e "$BATS_TEST_TMPDIR/no" ]
}

@test "bad input: a store file that is not SQLite: 74, the file untouched" {
	head -c 4096 /dev/urandom >junk.db
	cp junk.db junk.orig
	run -74 --separate-stderr shop-catalog --db junk.db list
	[ -z "$output" ]
	expect_one_error "junk.db"
	run -74 --separate-stderr shop-catalog --db junk.db import "$FIX"
	expect_one_error "junk.db"
	cmp junk.db junk.orig
	printf 'this is not a database\n' >text.db
	run -74 --separate-stderr shop-catalog --db text.db get MUG-01
	expect_one_error "text.db"
	[ "$(cat text.db)" = "this is not a database" ]
}

@test "bad input: an input or rejects file that cannot be used: 74, nothing written" {
	mkdir adir
	refused 74 "adir" shop-catalog import adir
	refused 74 "no/rej.jsonl" shop-catalog import --keep-going --rejects no/rej.jsonl "$FIX"
	[ ! -e no ]
}

@test "bad input: --where broken: 64" {
	refused 64 "--where" shop-catalog list --where '.price >'
	refused 64 "--where" shop-catalog list --where 'if'
	refused 64 "--where" shop-catalog list --where '.price | error("boom")'
}

@test "bad input: a bad SHOP_NOW: 78" {
	SHOP_NOW=yesterday refused 78 "SHOP_NOW" shop-catalog list
	SHOP_NOW=2026-13-01T00:00:00Z refused 78 "SHOP_NOW" shop-catalog set MUG-01 price:=1
	SHOP_NOW=2026-11-29 refused 78 "SHOP_NOW" shop-catalog import "$FIX"
}

@test "--help: usage on stdout, exit 0, for the tool and for a command" {
	run -0 --separate-stderr shop-catalog --help
	[ -z "$stderr" ]
	[[ ${lines[0]} == "usage: shop-catalog "* ]]
	for c in import get list set patch rm export 'image add' 'image ls' publish; do
		[[ $output == *"  $c "* ]] || { echo "no $c in the usage" >&2; return 1; }
	done
	run -0 --separate-stderr shop-catalog -h
	[[ ${lines[0]} == "usage: shop-catalog "* ]]
	run -0 --separate-stderr shop-catalog list --help
	[ -z "$stderr" ]
	[[ ${lines[0]} == "usage: shop-catalog list"* ]]
	for o in --category --brand --family --status --where --limit --after --db --table; do
		[[ $output == *"$o"* ]] || { echo "no $o in list --help" >&2; return 1; }
	done
	run -0 --separate-stderr shop-catalog import --help
	[[ ${lines[0]} == "usage: shop-catalog import"* ]]
	[[ $output == *--keep-going* && $output == *--rejects* ]]
	run -0 --separate-stderr shop-catalog image add --help
	[[ ${lines[0]} == "usage: shop-catalog image add"* ]]
	# --help does no work, even with a bad store path.
	run -0 --separate-stderr shop-catalog --db /nonexistent/x.db get --help
	[[ ${lines[0]} == "usage: shop-catalog get"* ]]
}

@test "--version prints 'shop-catalog 0.1.0'" {
	run -0 --separate-stderr shop-catalog --version
	[ "$output" = "shop-catalog 0.1.0" ]
	[ -z "$stderr" ]
	run -0 --separate-stderr shop-catalog list --version
	[ "$output" = "shop-catalog 0.1.0" ]
}

@test "a group word: alone 64, with --help the usage, with an unknown sub-command 64 naming it" {
	run -64 --separate-stderr shop-catalog image
	[ "$stderr" = "shop-catalog: 'image' needs a sub-command, e.g. 'image add' (try --help)" ]
	run -0 --separate-stderr shop-catalog image --help
	[[ ${lines[0]} == "usage: shop-catalog"* ]]
	run -64 --separate-stderr shop-catalog image frob
	[ "$stderr" = "shop-catalog: unknown command 'image frob' (try --help)" ]
	[ -z "$output" ]
}
