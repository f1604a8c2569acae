# Helpers of the shop-catalog tests (tests/1*-catalog-*.bats); load after
# helpers/common.

FIX="$TOP/fixtures/catalog.jsonl"

# import_fixture [ARGS...]: the 12 products of fixtures/catalog.jsonl in the
# store of this test; fails the test when the import does.
import_fixture() {
	local out
	out=$(shop-catalog "$@" import "$FIX") || { echo "import_fixture failed" >&2; return 1; }
	[ "$out" = '{"kind":"import","read":12,"created":12,"updated":0,"unchanged":0,"rejected":0}' ] ||
		{ echo "import_fixture: $out" >&2; return 1; }
	check_integrity
}

# skus: the "sku" of each record on stdin, one per line, in order.
skus() {
	jq -r .sku
}

# field SKU JQ: a field of one stored product, as jq -r prints it.
field() {
	shop-catalog get "$1" | jq -r "$2"
}

# Small files with a valid image signature (content is otherwise junk, the
# catalog only sniffs the magic bytes). A second argument varies the bytes.
make_png() { printf '\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR%s' "${2:-a}" >"$1"; }
make_jpeg() { printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00%s' "${2:-a}" >"$1"; }
make_gif() { printf 'GIF89a\x01\x00\x01\x00%s' "${2:-a}" >"$1"; }

# sha FILE: the hex sha256 of a file.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# expect_one_error PATTERN: $stderr (of the last run) is exactly one line,
# "shop-catalog: ...", and contains PATTERN (a glob fragment).
expect_one_error() {
	local n
	n=$(printf '%s\n' "$stderr" | wc -l)
	[ "$n" -eq 1 ] || { echo "expected one line on stderr, got $n: $stderr" >&2; return 1; }
	[[ $stderr == "shop-catalog: "* ]] || { echo "stderr not prefixed: $stderr" >&2; return 1; }
	[ -z "${1:-}" ] || [[ $stderr == *"$1"* ]] || { echo "stderr lacks '$1': $stderr" >&2; return 1; }
}

# icecat_slice N OUT: the first N icecat products converted to shop records.
icecat_slice() {
	head -n "$1" "$DATA/icecat-chorus/products.jsonl" | jq -c -f "$TOP/fixtures/icecat.jq" >"$2"
}

