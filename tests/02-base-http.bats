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

# -- http_smtp_send against tests/helpers/fake_smtp.py, one server per test --

teardown() { stop_fake "$BATS_TEST_TMPDIR"; }

# start_smtp ARGS...: fake_smtp.py for this test (its log in fake.log);
# sets SMTP_URL.
start_smtp() {
	local host=127.0.0.1 a
	for a in "$@"; do [ "$prev" = --host ] && host=$a; prev=$a; done
	start_fake "$BATS_TEST_TMPDIR" fake_smtp.py --verbose "$@" >/dev/null || return 1
	SMTP_URL="smtp://$host:$(cat "$BATS_TEST_TMPDIR/port")"
}

# smtp_send [-n N] [-u USER] [-p PASSWORD] [-c COUNT] [-g URL] URL FROM MSGFILE RCPT...
smtp_send() { "$SHOP_BUILD/tests/test-http" smtp "$@"; }

# A message with CRLF line ends, a body line that starts with a dot and one
# that is a lone dot (curl must stuff both), and 8-bit text.
write_msg() {
	printf '%s\r\n' 'From: Shop <shop@example.com>' 'To: Ann <ann@example.com>' \
		'Subject: Order 1042 has shipped' 'Message-ID: <o1042.1@shop.example.com>' \
		'MIME-Version: 1.0' 'Content-Type: text/plain; charset=utf-8' '' \
		'Hello Ann,' '' '.leading dot' '.' 'Caf'$'\xc3\xa9'' au lait: 3.50 EUR' '-- ' 'shop' >"$1"
}

maildir_count() { find "$1/new" "$1/cur" -type f 2>/dev/null | wc -l; }

@test "smtp: a message arrives once, byte for byte, to every recipient" {
	start_smtp --maildir md --log smtp.log
	write_msg msg
	run -0 --separate-stderr smtp_send "$SMTP_URL" shop@example.com msg ann@example.com bob@example.com
	[ "$output" = "attempts 1" ]
	[ "$(maildir_count md)" = 1 ]
	# The log has the envelope and the size and hash of the data exactly as
	# the server received it (dot-unstuffed, CRLF kept).
	run -0 jq -c '[.mail_from, .rcpt_tos, .data_len, .sha256, .auth]' smtp.log
	[ "$output" = "[\"shop@example.com\",[\"ann@example.com\",\"bob@example.com\"],$(wc -c <msg),\"$(sha256sum msg | cut -d' ' -f1)\",null]" ]
	# The Maildir copy (LF line ends on disk) is the message plus the
	# headers the server adds.
	run -0 grep -vE '^X-(Peer|MailFrom|RcptTo): ' md/new/*
	[ "$output" = "$(tr -d '\r' <msg)" ]
	grep -qx 'X-MailFrom: shop@example.com' md/new/*
	grep -qx 'X-RcptTo: ann@example.com, bob@example.com' md/new/*
}

@test "smtp: one client sends twice and does HTTP in between on the same handle" {
	start_smtp --maildir md --log smtp.log
	write_msg msg
	run -0 --separate-stderr smtp_send -c 2 -g "$FAKE_URL/ok" "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = $'attempts 1\nget 200 hello\nattempts 1\nget 200 hello' ]
	[ "$(maildir_count md)" = 2 ]
	[ "$(jq -r .sha256 smtp.log | sort -u)" = "$(sha256sum msg | cut -d' ' -f1)" ]
}

@test "smtp: a 451 is retried and the message delivered once (at DATA and at RCPT)" {
	start_smtp --maildir md --log smtp.log --fail-first 1
	write_msg msg
	run -0 --separate-stderr smtp_send "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 2" ]
	[ "$(maildir_count md)" = 1 ]
	[ "$(wc -l <smtp.log)" = 1 ]
	[ "$(grep -c '451 at DATA' fake.log)" = 1 ]
	stop_fake "$BATS_TEST_TMPDIR"
	rm -f port

	start_smtp --maildir md2 --fail-first 2 --fail-at rcpt
	run -0 --separate-stderr smtp_send "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 3" ]
	[ "$(maildir_count md2)" = 1 ]
	[ "$(grep -c '451 at RCPT' fake.log)" = 2 ]
}

@test "smtp: 4xx until out of attempts is 69 with the server's reply" {
	start_smtp --maildir md --fail-first 10
	write_msg msg
	run -69 --separate-stderr smtp_send -n 3 "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 3" ]
	[ "$stderr" = "$SMTP_URL: the server answered 451 4.3.0 try again later after 3 attempts" ]
	[ "$(maildir_count md)" = 0 ]
}

@test "smtp: a 550 is final: 69, one clear message, not retried" {
	start_smtp --maildir md --reject
	write_msg msg
	run -69 --separate-stderr smtp_send "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 1" ]
	[ "$stderr" = "$SMTP_URL: RCPT failed: 550 5.7.1 recipient rejected by fake_smtp after 1 attempt" ]
	[ "$(grep -c '^fake_smtp: reject' fake.log)" = 1 ]
	[ "$(maildir_count md)" = 0 ]
}

@test "smtp: nobody listening: 69 after max_attempts" {
	write_msg msg
	port=$(free_port)
	run -69 --separate-stderr smtp_send -n 3 "smtp://127.0.0.1:$port" shop@example.com msg ann@example.com
	[ "$output" = "attempts 3" ]
	[[ $stderr == "smtp://127.0.0.1:$port: "*" after 3 attempts" ]]
	[ "${#stderr_lines[@]}" = 1 ]
}

@test "smtp: AUTH with user and password; a refused login is final and never shows the password" {
	start_smtp --maildir md --log smtp.log --auth shop:pw-s3cret-42
	write_msg msg
	run -0 --separate-stderr smtp_send -u shop -p pw-s3cret-42 "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 1" ]
	[ "$(jq -r .auth smtp.log)" = shop ]
	run -69 --separate-stderr smtp_send -u shop -p pw-wrong-77 "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 1" ]
	[[ $stderr == "$SMTP_URL: "*"535 5.7.8 "*" after 1 attempt" ]]
	[[ $stderr != *pw-wrong* ]]
	[ "$(maildir_count md)" = 1 ]
}

@test "smtp: smtp:// off loopback insists on STARTTLS: nothing is sent in the clear" {
	# 127.0.0.2 reaches this host but is not a loopback *name*, so the
	# loopback exemption does not apply; the fake offers no STARTTLS.
	start_smtp --host 127.0.0.2 --maildir md --log smtp.log || skip "cannot bind 127.0.0.2"
	write_msg msg
	run -69 --separate-stderr smtp_send -u shop -p pw-s3cret-42 "$SMTP_URL" shop@example.com msg ann@example.com
	[ "$output" = "attempts 1" ]
	[[ $stderr == "$SMTP_URL: "*STARTTLS*" after 1 attempt" ]]
	# No MAIL FROM, no AUTH, no data reached the server.
	! grep -q transaction fake.log
	[ ! -e smtp.log ]
	[ "$(maildir_count md)" = 0 ]
}

@test "smtp: refused URLs are 64 before any connection" {
	write_msg msg
	for u in ftp://127.0.0.1/ "http://127.0.0.1:9/" "https://example.com/" "smtp://u:pw-in-url@127.0.0.1:9" \
		"smtp://;AUTH=PLAIN@127.0.0.1:9" "not a url" "smtps://" ""; do
		run -64 --separate-stderr smtp_send "$u" shop@example.com msg ann@example.com
		[ "$output" = "attempts 0" ] || { echo "$u: $output"; return 1; }
		[[ $stderr != *pw-in-url* ]]
	done
	run -64 --separate-stderr smtp_send ftp://127.0.0.1/ shop@example.com msg ann@example.com
	[ "$stderr" = "ftp://127.0.0.1:21: scheme 'ftp' is not allowed (smtps, or smtp with STARTTLS)" ]
}

@test "smtp: CR, LF, < or > in an address, or a bare LF in the message, is 64 before any connection" {
	start_smtp --maildir md
	write_msg msg
	for r in $'ann@example.com\r\nRCPT TO:<eve@example.com>' $'ann@example.com\n' 'ann@example.com>' '<ann' ''; do
		run -64 --separate-stderr smtp_send "$SMTP_URL" shop@example.com msg bob@example.com "$r"
		[ "$output" = "attempts 0" ]
		[ "$stderr" = "$SMTP_URL: recipient 2 is empty or has CR, LF, '<' or '>'" ]
	done
	run -64 --separate-stderr smtp_send "$SMTP_URL" $'shop@example.com\r\nRSET' msg ann@example.com
	[ "$stderr" = "$SMTP_URL: the sender address is empty or has CR, LF, '<' or '>'" ]
	# A bare LF would let "\n.\r\n" end the data early at some servers
	# (SMTP smuggling).
	printf 'Subject: x\r\n\r\nbody\n.\r\nMAIL FROM:<eve@example.com>\r\n' >bad
	run -64 --separate-stderr smtp_send "$SMTP_URL" shop@example.com bad ann@example.com
	[[ $stderr == *"bare CR or LF"* ]]
	: >empty
	run -64 --separate-stderr smtp_send "$SMTP_URL" shop@example.com empty ann@example.com
	! grep -q transaction fake.log
	[ "$(maildir_count md)" = 0 ]
}
