#!/usr/bin/env bats
# The documentation is tested: the exit-code table of shop(7) agrees with
# lib/base/exitcodes.h, and every EXAMPLES command of every man page runs.
load helpers/common

setup() { common_setup; }

@test "shop(7) EXIT STATUS lists exactly the codes of exitcodes.h" {
	code=$(sed -nE 's/^\s*SHOP_[A-Z]+ = ([0-9]+),.*/\1/p' "$TOP/lib/base/exitcodes.h" | sort -n | tr '\n' ' ')
	doc=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' "$TOP/man/shop.7" | sed -nE 's/^\.It ([0-9]+)$/\1/p' | sort -n | tr '\n' ' ')
	[ -n "$code" ]
	echo "code: $code"
	echo "doc:  $doc"
	[ "$code" = "$doc" ]
}

@test "every program's man page exists and passes mandoc -Tlint" {
	for c in "$TOP"/cmd/shop-*.c; do
		t=$(basename "$c" .c)
		[ -f "$TOP/man/$t.1" ] || { echo "no man page for $t"; return 1; }
	done
	run -0 --separate-stderr "$TOP/scripts/lint"
}

# Print the commands of the EXAMPLES section of a man page, one per line
# ("$ " stripped, continuations joined).
examples() {
	sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$1" | awk '
		/^\.Bd/ { inb = 1; next }
		/^\.Ed/ { inb = 0; next }
		!inb { next }
		cont { sub(/^[ \t]*/, ""); cmd = cmd " " $0; if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); next } print cmd; cont = 0; next }
		/^\$ / { cmd = substr($0, 3); if (cmd ~ /\\$/) { sub(/\\$/, "", cmd); cont = 1; next } print cmd }' |
		sed 's/\\e/\\/g; s/\\(aq/'"'"'/g; s/\\(dq/"/g; s/\\-/-/g; s/\\&//g'
}

run_examples() {
	local page=$TOP/man/$1
	[ -f "$page" ] || { echo "no $page"; return 1; }
	cp "$TOP/fixtures/catalog.jsonl" .
	printf '\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\x08\x06\0\0\0' > photo.png
	shop-catalog -q import catalog.jsonl > /dev/null
	local n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		echo "example $n: $cmd"
		bash -e -o pipefail -c "$cmd" < /dev/null || { echo "example failed ($?): $cmd"; return 1; }
	done < <(examples "$page")
	[ "$n" -gt 0 ]
}

@test "shop-catalog(1) EXAMPLES run" { run_examples shop-catalog.1; }
@test "shop-inv(1) EXAMPLES run" { run_examples shop-inv.1; }
@test "shop-cart(1) EXAMPLES run" { run_examples shop-cart.1; }
@test "shop-order(1) EXAMPLES run" { run_examples shop-order.1; }
@test "shop-pay(1) EXAMPLES run" { run_examples shop-pay.1; }
@test "shop-saga(1) EXAMPLES run" { run_examples shop-saga.1; }
@test "shop-rma(1) EXAMPLES run" { run_examples shop-rma.1; }
@test "shop-search(1) EXAMPLES run" { run_examples shop-search.1; }
@test "shop-reco(1) EXAMPLES run" { run_examples shop-reco.1; }
@test "shop-notify(1) EXAMPLES run" { run_examples shop-notify.1; }
@test "shop-ship(1) EXAMPLES run" { run_examples shop-ship.1; }
@test "shop(7) EXAMPLES run" { run_examples shop.7; }
