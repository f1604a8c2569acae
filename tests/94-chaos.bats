#!/usr/bin/env bats
# The short chaos run: scripts/chaos for 15 seconds with 4 workers while
# a supervisor kills shop processes with SIGKILL; then every invariant of
# the script must hold (the long run: scripts/chaos BINDIR 600 8).
load helpers/common

setup() { common_setup; }

@test "chaos: orders placed, cancelled, shipped, returned under SIGKILL; every invariant holds" {
	run -0 --separate-stderr "$TOP/scripts/chaos" "$SHOP_BUILD/bin" 15 4
	echo "$output" | sed 's/^/# /' >&3
	[[ ${lines[-1]} == "chaos: 8 invariants checked, all hold" ]]
	[[ ${lines[0]} =~ ^chaos:\ 15\ s,\ 4\ workers,\ [0-9]+\ processes\ killed$ ]]
}
