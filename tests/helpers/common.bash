# Loaded by every bats file: a fresh store per test, a fixed clock, the
# binaries of the build under test first on PATH.
bats_require_minimum_version 1.5.0

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${SHOP_BUILD:=$TOP/build}"
case $SHOP_BUILD in /*) ;; *) SHOP_BUILD=$TOP/$SHOP_BUILD ;; esac
export SHOP_BUILD TOP
export PATH="$SHOP_BUILD/bin:$PATH"
export TZ=UTC LC_ALL=C
DATA=${SHOP_DATA:-$TOP/../shared/data}
export DATA

common_setup() {
	export SHOP_DB="$BATS_TEST_TMPDIR/shop.db"
	export SHOP_NOW="2026-11-29T12:00:00Z"
	unset SHOP_CONFIG NO_COLOR
	cd "$BATS_TEST_TMPDIR" || return 1
}

# integrity: PRAGMA integrity_check of the store is ok.
check_integrity() {
	local db=${1:-$SHOP_DB}
	[ ! -e "$db" ] && return 0
	local r
	r=$(sqlite3 "$db" 'PRAGMA integrity_check;')
	[ "$r" = ok ] || { echo "integrity_check: $r" >&2; return 1; }
}

# The store's whole content as text, to prove "nothing changed".
dump_store() {
	sqlite3 "${1:-$SHOP_DB}" .dump
}

# Python without the pyenv shim (Debian's modules, such as aiosmtpd).
PY=/usr/bin/python3

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# need_data FILE: skip the test when the shared real data is absent.
need_data() {
	[ -r "$DATA/$1" ] || skip "real data $DATA/$1 is absent"
}

# start_fake DIR SCRIPT [ARGS...]: run tests/helpers/SCRIPT on 127.0.0.1
# in the background (its port written to DIR/port, its log to DIR/fake.log)
# and wait for it; prints its base URL. For setup_file; stop_fake DIR in
# teardown_file stops it by its pid.
start_fake() {
	local dir=$1 script=$2 i
	shift 2
	# fd 3 closed: bats waits for whoever holds it before it finishes.
	$PY "$TOP/tests/helpers/$script" --port-file "$dir/port" "$@" >"$dir/fake.log" 2>&1 3>&- &
	echo $! >"$dir/fake.bgpid"
	for i in $(seq 100); do
		[ -s "$dir/port" ] && break
		sleep 0.1
	done
	[ -s "$dir/port" ] || { echo "$script did not start" >&2; cat "$dir/fake.log" >&2; return 1; }
	echo "http://127.0.0.1:$(cat "$dir/port")"
}

stop_fake() {
	local pid
	pid=$(cat "$1/fake.bgpid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null || true
}

# start_fake_http DIR: tests/helpers/fake_http.py serving DIR/files under
# /file/; sets FAKE_URL.
start_fake_http() {
	mkdir -p "$1/files"
	FAKE_URL=$(start_fake "$1" fake_http.py --root "$1/files") || return 1
	export FAKE_URL
}

stop_fake_http() { stop_fake "$1"; }
