#!/usr/bin/env bats
# shop-notify: messages from the outbox into a maildir, over SMTP (a real
# SMTP server on 127.0.0.1: Debian's aiosmtpd) and to a webhook (the fake
# HTTP server); at least once, never twice; bad templates, missing
# addresses and header injection.
load helpers/common

setup() {
	common_setup
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	MAILDIR="$SHOP_DB.d/maildir"
}

teardown() {
	[ -z "${FAKE_DIR:-}" ] || stop_fake "$FAKE_DIR"
}

# confirmed_order [NAME [EMAIL]]: a confirmed order of customer alice
# (2 x MUG-01 at 12.50) shipping to NAME at EMAIL ("-": no email); its id
# in $ORD.
confirmed_order() {
	local name=${1:-Alice Liddell} email=${2:-alice@example.com} adr
	local args=(--name "$name" --line1 '1 Main St' --city Springfield --postal 12345 --country US)
	[ "$email" = - ] || args+=(--email "$email")
	adr=$(shop-cart address add alice "${args[@]}" | jq -r .id)
	CARTS=$((${CARTS:-0} + 1))
	shop-cart add "cart-$CARTS" MUG-01 2 >/dev/null
	ORD=$(shop-cart checkout "cart-$CARTS" --customer alice --address "$adr" --payment pm_card_visa | jq -r .id)
	shop-order confirm "$ORD" >/dev/null
}

messages() { ls "$MAILDIR/new" 2>/dev/null | wc -l; }

# config TEXT: shop.yaml for the test.
config() {
	printf '%s\n' "$@" >"$BATS_TEST_TMPDIR/shop.yaml"
	export SHOP_CONFIG="$BATS_TEST_TMPDIR/shop.yaml"
}

@test "maildir: a confirmed order gives exactly one message, with the recipient, subject and totals" {
	confirmed_order
	run -0 --separate-stderr shop-notify run
	[ "$(jq -c '{type, channel, recipient, status, attempts}' <<<"$output")" = \
		'{"type":"order.confirmed","channel":"maildir","recipient":"alice@example.com","status":"sent","attempts":1}' ]
	[ "$(messages)" = 1 ]
	f=$(ls "$MAILDIR"/new/*)
	grep -qx $'To: Alice Liddell <alice@example.com>\r' "$f"
	grep -qx $'Subject: Your order '"$ORD"$' is confirmed\r' "$f"
	grep -q '2 x MUG-01  Stoneware mug 350 ml  25.00 USD' "$f"
	grep -q 'Total: 25.00 USD' "$f"
	[ "$(stat -c %a "$f")" = 600 ]
	[ "$(stat -c %a "$MAILDIR")" = 700 ]
	# Nothing twice: a second run has nothing to do, the event is acked.
	run -0 --separate-stderr shop-notify run
	[ -z "$output" ]
	[ "$(messages)" = 1 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT acked FROM consumer WHERE name = 'notify'")" = \
		"$(sqlite3 "$SHOP_DB" 'SELECT max(seq) FROM outbox')" ]
	run -0 --separate-stderr shop-notify ls
	[ "$(jq -r .status <<<"$output")" = sent ]
}

@test "--dry-run prints the messages and changes nothing; send --event sends one again on purpose" {
	confirmed_order
	before=$(dump_store)
	run -0 --separate-stderr shop-notify run --dry-run
	[ "$(jq -r '.kind + " " + .channel + " " + .recipient' <<<"$output")" = "message maildir alice@example.com" ]
	[[ $(jq -r .message <<<"$output") == *"Message-ID: <evt-"*".maildir@shop>"* ]]
	[ "$(dump_store)" = "$before" ]
	[ "$(messages)" = 0 ]
	shop-notify run >/dev/null
	seq=$(sqlite3 "$SHOP_DB" "SELECT seq FROM notify_delivery")
	f=$(ls "$MAILDIR"/new/*)
	cp "$f" first.eml
	run -0 --separate-stderr shop-notify send --event "$seq"
	[ "$(jq -c '{status, attempts}' <<<"$output")" = '{"status":"sent","attempts":1}' ]
	# The same message again: the same file, byte for byte.
	[ "$(messages)" = 1 ]
	cmp first.eml "$f"
	run -66 --separate-stderr shop-notify send --event 999
	[ "$stderr" = "shop-notify: send: no event 999" ]
	run -64 --separate-stderr shop-notify send --event abc
}

@test "a customer without an email address: skipped with a warning, recorded, acknowledged" {
	confirmed_order "Bob" -
	run -0 --separate-stderr shop-notify run
	[[ $stderr == *"has no email address: skipped"* ]]
	[ "$(jq -c '{status, error}' <<<"$output")" = '{"status":"skipped","error":"no email address"}' ]
	[ "$(messages)" = 0 ]
	run -0 --separate-stderr shop-notify run
	[ -z "$output" ]
}

@test "header injection through the customer's name is neutralized" {
	# shop-cart refuses a name with CR or LF; an order from elsewhere may
	# still carry one.
	confirmed_order Eve eve@example.com
	sqlite3 "$SHOP_DB" "UPDATE orders SET doc = json_set(doc, '\$.address.name', 'Eve' || char(13, 10) || 'Bcc: victim@example.com')"
	shop-notify run >/dev/null
	f=$(ls "$MAILDIR"/new/*)
	! grep -qi '^Bcc:' "$f"
	# The name went as an encoded word, CR and LF made spaces.
	to=$(grep '^To:' "$f")
	[[ $to == *"=?UTF-8?B?"*"<eve@example.com>"* ]]
	# Each header line is one line: no bare CR or LF inside.
	[ "$(grep -c $'\r$' "$f")" -eq "$(wc -l <"$f")" ]
}

@test "a broken jq placeholder: 78 at start, nothing sent, nothing acknowledged" {
	confirmed_order
	config 'notify:' '  templates:' '    order.confirmed:' '      subject: "Order {{ .order.id | }}"' '      body: "x"'
	before=$(dump_store)
	run -78 --separate-stderr shop-notify run
	[[ $stderr == *"notify.templates.order.confirmed.subject"* ]]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "$(dump_store)" = "$before" ]
	[ "$(messages)" = 0 ]
	# A template of the config, and only its events are sent.
	config 'notify:' '  templates:' '    order.confirmed:' '      subject: "Thanks, {{ .order.customer }}"' \
		'      body: "{{ .text.total }}"'
	run -0 --separate-stderr shop-notify run
	f=$(ls "$MAILDIR"/new/*)
	grep -qx $'Subject: Thanks, alice\r' "$f"
	grep -qx '25.00 USD' <(tr -d '\r' <"$f")
}

@test "two runs at once never send the same event twice" {
	for i in 1 2 3 4 5 6; do confirmed_order "Customer $i" "c$i@example.com"; done
	shop-notify run >a.out 2>a.err &
	p=$!
	shop-notify run >b.out 2>b.err || true
	wait "$p" || true
	shop-notify run >c.out 2>c.err
	[ "$(messages)" = 6 ]
	[ "$(cat a.out b.out c.out | jq -r 'select(.status == "sent") | .seq' | sort | uniq -d)" = "" ]
	[ "$(cat a.out b.out c.out | jq -r 'select(.status == "sent") | .seq' | wc -l)" = 6 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*), sum(attempts) FROM notify_delivery WHERE status = 'sent'")" = "6|6" ]
}

@test "webhook: the documented JSON is posted; 500s are retried" {
	FAKE_DIR=$BATS_TEST_TMPDIR/fake
	mkdir -p "$FAKE_DIR"
	start_fake_http "$FAKE_DIR"
	config 'notify:' '  channels: [webhook]' "  webhook:" "    url: $FAKE_URL/echo" '    key_env: PUSH_KEY' \
		'http:' '  backoff: 10ms'
	export PUSH_KEY=canary-secret-123
	confirmed_order
	curl -s -X POST -d '{"status": 500, "count": 2}' "$FAKE_URL/_fault" >/dev/null
	run -0 --separate-stderr shop-notify run
	[ "$(jq -c '{channel, recipient, status}' <<<"$output")" = '{"channel":"webhook","recipient":"alice","status":"sent"}' ]
	reqs=$(curl -s "$FAKE_URL/_requests")
	[ "$(jq '[.[] | select(.path == "/echo")] | length' <<<"$reqs")" = 3 ]
	body=$(jq -r '[.[] | select(.path == "/echo")][-1].body' <<<"$reqs")
	[ "$(jq -c '{type: .event.type, order_id, customer, recipient}' <<<"$body")" = \
		"{\"type\":\"order.confirmed\",\"order_id\":\"$ORD\",\"customer\":\"alice\",\"recipient\":\"alice@example.com\"}" ]
	[[ $(jq -r .subject <<<"$body") == "Your order $ORD is confirmed" ]]
	# The key went in the header, and nowhere else.
	! grep -q canary-secret-123 <<<"$output$stderr"
	! sqlite3 "$SHOP_DB" .dump | grep -q canary-secret-123
}

@test "webhook down: 69, the event stays pending, and the next run sends it once" {
	port=$(free_port)
	config 'notify:' '  channels: [webhook]' "  webhook:" "    url: http://127.0.0.1:$port/push" \
		'http:' '  backoff: 10ms' '  attempts: 2'
	confirmed_order
	run -69 --separate-stderr shop-notify run
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT status FROM notify_delivery")" = failed ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT acked FROM consumer WHERE name = 'notify'")" -lt \
		"$(sqlite3 "$SHOP_DB" "SELECT seq FROM notify_delivery")" ]
	FAKE_DIR=$BATS_TEST_TMPDIR/fake
	mkdir -p "$FAKE_DIR"
	start_fake_http "$FAKE_DIR"
	config 'notify:' '  channels: [webhook]' "  webhook:" "    url: $FAKE_URL/echo"
	run -0 --separate-stderr shop-notify run
	[ "$(jq -c '{status, attempts}' <<<"$output")" = '{"status":"sent","attempts":2}' ]
	run -0 --separate-stderr shop-notify run
	[ -z "$output" ]
	[ "$(curl -s "$FAKE_URL/_count" | jq '."/echo"')" = 1 ]
}

# start_smtp ARGS...: fake_smtp.py (aiosmtpd) delivering into ./mbox, its
# log in ./smtp.log; SMTP_URL set.
start_smtp() {
	FAKE_DIR=$BATS_TEST_TMPDIR/smtp
	mkdir -p "$FAKE_DIR"
	local url
	url=$(start_fake "$FAKE_DIR" fake_smtp.py --maildir "$BATS_TEST_TMPDIR/mbox" --log "$BATS_TEST_TMPDIR/smtp.log" "$@") ||
		return 1
	SMTP_URL=smtp://127.0.0.1:${url##*:}
}

smtp_config() {
	config 'notify:' '  from: "Shop <shop@example.com>"' '  channels: [smtp]' '  smtp:' "    url: $1" \
		'    user: shop' '    password_env: SMTP_PASSWORD' 'http:' '  backoff: 10ms' '  attempts: 2'
	export SMTP_PASSWORD=canary-smtp-456
}

@test "smtp: a real SMTP server gets exactly one message with the right recipient, subject and totals" {
	start_smtp --auth shop:canary-smtp-456
	smtp_config "$SMTP_URL"
	confirmed_order
	run -0 --separate-stderr shop-notify run
	[ "$(jq -c '{channel, recipient, status}' <<<"$output")" = '{"channel":"smtp","recipient":"alice@example.com","status":"sent"}' ]
	[ "$(wc -l <smtp.log)" = 1 ]
	[ "$(jq -c '{mail_from, rcpt_tos, auth}' smtp.log)" = '{"mail_from":"shop@example.com","rcpt_tos":["alice@example.com"],"auth":"shop"}' ]
	f=$(ls mbox/new/*)
	grep -qx "To: Alice Liddell <alice@example.com>" "$f"
	grep -qx "Subject: Your order $ORD is confirmed" "$f"
	grep -q 'Total: 25.00 USD' "$f"
	run -0 --separate-stderr shop-notify run
	[ -z "$output" ]
	[ "$(wc -l <smtp.log)" = 1 ]
	! grep -q canary-smtp-456 <<<"$output$stderr"
	! sqlite3 "$SHOP_DB" .dump | grep -q canary-smtp-456
}

@test "smtp: the server down is 69, the event stays pending, and the next run sends it once" {
	port=$(free_port)
	smtp_config "smtp://127.0.0.1:$port"
	confirmed_order
	run -69 --separate-stderr shop-notify run
	[ -z "$output" ] || jq -e '.status == "failed"' <<<"$output"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ $stderr == *"smtp"* ]]
	start_smtp
	smtp_config "$SMTP_URL"
	run -0 --separate-stderr shop-notify run
	[ "$(jq -r .status <<<"$output")" = sent ]
	run -0 --separate-stderr shop-notify run
	[ "$(wc -l <smtp.log)" = 1 ]
	# A password variable that is not set: 78, nothing sent.
	unset SMTP_PASSWORD
	confirmed_order
	run -78 --separate-stderr shop-notify run
	[[ $stderr == *"SMTP_PASSWORD"* ]]
}

@test "maildir: UTF-8 names and subjects go as encoded words that a mail reader decodes back" {
	confirmed_order 'Zoë Ångström, Jr.' zoe@example.com
	config 'notify:' '  from: "Boutique Été <shop@example.com>"' '  templates:' '    order.confirmed:' \
		'      subject: "Commande {{ .order.id }} confirmée — merci, {{ .order.address.name }}"' \
		'      body: "Bonjour {{ .order.address.name }}, {{ .text.total }}"'
	shop-notify run >/dev/null
	f=$(ls "$MAILDIR"/new/*)
	# Only ASCII in the headers; every line of the file ends in CRLF.
	! sed '/^\r$/q' "$f" | LC_ALL=C grep -q $'[\x80-\xff]'
	run -0 --separate-stderr $PY -c '
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m["To"].addresses[0].display_name, m["To"].addresses[0].addr_spec, sep="|")
print(m["Subject"])
print(m["From"].addresses[0].display_name)
print(m.get_content().strip())' "$f"
	[ "${lines[0]}" = "Zoë Ångström, Jr.|zoe@example.com" ]
	[ "${lines[1]}" = "Commande $ORD confirmée — merci, Zoë Ångström, Jr." ]
	[ "${lines[2]}" = "Boutique Été" ]
	[ "${lines[3]}" = "Bonjour Zoë Ångström, Jr., 25.00 USD" ]
}

@test "a claim left by a run that died: busy within the lease, sent once after it" {
	confirmed_order
	seq=$(sqlite3 "$SHOP_DB" "SELECT max(seq) FROM outbox WHERE type = 'order.confirmed'")
	# A run claimed it just now and is (as far as anyone knows) sending.
	sqlite3 "$SHOP_DB" "INSERT INTO notify_delivery (seq, channel, type, subject, recipient, status, attempts, claimed_at)
		VALUES ($seq, 'maildir', 'order.confirmed', '$ORD', 'alice@example.com', 'sending', 1, '$SHOP_NOW')"
	run -0 --separate-stderr shop-notify run
	[ -z "$output" ]
	[ "$(messages)" = 0 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT acked FROM consumer WHERE name = 'notify'")" -lt "$seq" ]
	# Ten minutes on, the lease (5m) has run out: it died; this run sends.
	run -0 --separate-stderr env SHOP_NOW=2026-11-29T12:10:00Z shop-notify run
	[ "$(jq -c '{status, attempts}' <<<"$output")" = '{"status":"sent","attempts":2}' ]
	[ "$(messages)" = 1 ]
}
