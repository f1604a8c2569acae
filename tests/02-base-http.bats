#!/usr/bin/env bats
# lib/base/http against the fake HTTP server (tests/helpers/fake_http.py),
# which runs on 127.0.0.1 for the whole file.
load helpers/common

setup_file() { start_fake_http "$BATS_FILE_TMPDIR"; }
teardown_file() { stop_fake_http "$BATS_FILE_TMPDIR"; }

setup() { common_setup; }

@test "http: retries, timeouts, limits, URL rules against the fake server" {
	run -0 --separate-stderr "$SHOP_BUILD/tests/test-http" "$FAKE_URL"
	[[ $output == *", 0 failed" ]] || { echo "$output"; echo "$stderr"; return 1; }
}

# A few plain requests without proxies from the environment: prints
# "STATUS BODY" per path given.
fetch() {
	$PY - "$@" <<'PYEOF'
import sys, urllib.request, urllib.error
op = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for u in sys.argv[1:]:
    method, _, url = u.partition(" ") if " " in u else ("GET", "", u)
    req = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None)
    try:
        r = op.open(req, timeout=5)
        print(r.status, r.headers.get("Content-Type"), r.read().decode("latin-1"))
    except urllib.error.HTTPError as e:
        print(e.code, e.headers.get("Content-Type"), e.read().decode("latin-1"))
PYEOF
}

@test "fake_http: faults are consumed in order, control paths are exempt" {
	run -0 fetch "POST $FAKE_URL/_reset"
	run -0 $PY -c 'import sys, urllib.request as u
o = u.build_opener(u.ProxyHandler({}))
print(o.open(u.Request(sys.argv[1], data=b"{\"status\":503}", method="POST")).read().decode())' "$FAKE_URL/_fault"
	[ "$output" = '{"ok":true,"pending":1}' ]
	run -0 fetch "$FAKE_URL/ok" "$FAKE_URL/ok" "$FAKE_URL/_count"
	[ "${lines[0]%% *}" = 503 ]
	[ "${lines[1]}" = "200 text/plain hello" ]
	[ "${lines[2]}" = '200 application/json {"/ok":2}' ]
}

@test "fake_http: files under --root" {
	printf 'GIF89a' >"$BATS_FILE_TMPDIR/files/pic.gif"
	run -0 fetch "$FAKE_URL/file/pic.gif" "$FAKE_URL/file/..%2Fport" "$FAKE_URL/file/nope.gif"
	[ "${lines[0]}" = "200 image/gif GIF89a" ]
	[ "${lines[1]%% *}" = 404 ]
	[ "${lines[2]%% *}" = 404 ]
}
