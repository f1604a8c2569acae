#!/usr/bin/env bats
# Security (SPEC §2, issue 11): what shop writes is private (files 0600,
# directories 0700, whatever the umask; published sites excepted, as
# shop(7) and shop-catalog(1) say), secrets never leave the environment,
# metacharacters in text fields are data, image paths cannot write outside
# the store's data directory or the publish directory, and huge or deeply
# nested input fails cleanly in bounded memory.
load helpers/common
load helpers/order
load helpers/pay
load helpers/catalog

setup() {
	common_setup
	PWNED="/tmp/pwned-$$-$BATS_TEST_NUMBER"
	rm -f "$PWNED"
}

teardown() {
	[ -z "${FAKE_DIR:-}" ] || stop_fake "$FAKE_DIR"
	[ -z "${FOLLOW_PID:-}" ] || kill "$FOLLOW_PID" 2>/dev/null || true
	rm -f "$PWNED"
}

# A confirmed order of alice (2 x MUG-01) with an address and an email,
# made through the cart: its id in $ORD.
confirmed_order() {
	local adr
	adr=$(shop-cart address add alice --name 'Alice Liddell' --email alice@example.com --line1 '1 Main St' \
		--city Springfield --postal 12345 --country US | jq -r .id)
	shop-cart add cart-1 MUG-01 2 >/dev/null
	ORD=$(shop-cart checkout cart-1 --customer alice --address "$adr" --payment pm_card_visa | jq -r .id)
	shop-order confirm "$ORD" >/dev/null
}

# not_private DIR...: every file or directory under DIR not 0600/0700.
not_private() {
	find "$@" \( -type f ! -perm 0600 \) -o \( -type d ! -perm 0700 \) -o \( ! -type f ! -type d \) |
		while read -r p; do stat -c '%a %F %n' "$p"; done
}

@test "modes: under umask 022 the store, its -wal and -shm, the data dir, images, saga journals, the maildir and rejects files are 0600/0700" {
	umask 022
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	shop-inv -q set MUG-01 main 100 >/dev/null
	# A follower keeps the store open, so its -wal and -shm stay.
	shop-order events --follow >/dev/null 3>&- &
	FOLLOW_PID=$!
	make_png a.png
	run -0 shop-catalog image add MUG-01 a.png
	printf '%s\n' '{"sku":"OK-1","title":"ok","price":100}' '{"sku":"BAD-1","title":"bad","price":1.5}' >bad.jsonl
	run -65 --separate-stderr shop-catalog import --keep-going --rejects rej-catalog.jsonl bad.jsonl
	printf '%s\n' '{"nonsense":true}' >bad-orders.jsonl
	run -65 --separate-stderr shop-order import --keep-going --rejects rej-orders.jsonl bad-orders.jsonl
	confirmed_order
	run -0 --separate-stderr shop-saga run place-order --order "$ORD"
	run -0 --separate-stderr shop-notify run
	sleep 0.3
	[ -e "$SHOP_DB-wal" ]
	[ -e "$SHOP_DB-shm" ]
	[ "$(stat -c %a "$SHOP_DB" "$SHOP_DB-wal" "$SHOP_DB-shm" | sort -u)" = 600 ]
	[ "$(stat -c %a "$SHOP_DB.d")" = 700 ]
	# Each kind of file is there (so the check below is not vacuous).
	[ "$(find "$SHOP_DB.d/images" -type f | wc -l)" -ge 1 ]
	[ "$(find "$SHOP_DB.d/maildir" -type f | wc -l)" -ge 1 ]
	find "$SHOP_DB.d" -type f | grep -q journal
	[ -z "$(not_private "$SHOP_DB.d")" ] || { not_private "$SHOP_DB.d" >&2; return 1; }
	[ "$(stat -c %a rej-catalog.jsonl rej-orders.jsonl | sort -u)" = 600 ]
	[ -s rej-catalog.jsonl ]
	[ -s rej-orders.jsonl ]
}

@test "modes: a published site is 0644/0755 less the umask, as shop-catalog(1) promises" {
	import_fixture
	make_png a.png
	shop-catalog image add MUG-01 a.png >/dev/null
	(umask 022 && shop-catalog publish site22 >/dev/null)
	[ "$(find site22 -type f -printf '%m\n' | sort -u)" = 644 ]
	[ "$(find site22 -type d -printf '%m\n' | sort -u)" = 755 ]
	(umask 077 && shop-catalog publish site77 >/dev/null)
	[ "$(find site77 -type f -printf '%m\n' | sort -u)" = 600 ]
	[ "$(find site77/p site77/img -type d -printf '%m\n' | sort -u)" = 700 ]
	[ -n "$(find site22/img -type f)" ]
}

@test "secrets: the Stripe key through checkout and the place-order saga, a webhook key through shop-notify: in no output, error, store, journal or saga child's argv" {
	local key="sk_test_CANARY$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" f
	export SHOP_TEST_STRIPE_KEY=$key
	FAKE_DIR=$BATS_TEST_TMPDIR/fake
	mkdir -p "$FAKE_DIR"
	SURL=$(start_fake "$FAKE_DIR" fake_stripe.py --pid-file "$FAKE_DIR/pid" \
		--key-env SHOP_TEST_STRIPE_KEY --now "$(date -u -d "$SHOP_NOW" +%s)")
	stripe_config "$SURL" SHOP_TEST_STRIPE_KEY
	# And a webhook key, for a webhook nobody answers (its errors are output too).
	export SHOP_TEST_PUSH_KEY="CANARYpush$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	printf '%s\n' 'notify:' '  channels: [maildir, webhook]' '  webhook:' "    url: http://127.0.0.1:$(free_port)/hook" \
		'    key_env: SHOP_TEST_PUSH_KEY' >>"$SHOP_CONFIG"
	shop-catalog -q import "$TOP/fixtures/catalog.jsonl" >/dev/null
	shop-inv -q set MUG-01 main 100 >/dev/null
	confirmed_order
	# The saga's steps are children (shop-inv, shop-pay) run from its own
	# directory: their argv is read from ps while they run, the capture
	# slowed down by the fake so that it is caught.
	curl -sS -X POST "$SURL/_fault" -d '{"delay_ms":1000,"path":"/capture"}' >/dev/null
	shop-saga run place-order --order "$ORD" >out 2>err &
	local saga=$!
	while kill -0 "$saga" 2>/dev/null; do
		ps -o args= --ppid "$saga" >>argv || true
		sleep 0.05
	done
	wait "$saga"
	shop-pay refund "$ORD" --amount 100 >>out 2>>err
	# A wrong key: the refusal must not echo the key either.
	SHOP_TEST_STRIPE_KEY="${key}WRONG" shop-pay refund "$ORD" --amount 100 >>out 2>>err || true
	shop-order trace "$ORD" >>out 2>>err
	shop-saga list >>out 2>>err
	local nrc=0
	shop-notify run >>out 2>>err || nrc=$?
	[ "$nrc" -eq 69 ] || { echo "shop-notify run: exit $nrc" >&2; cat err >&2; return 1; }
	[ "$(find "$SHOP_DB.d/maildir" -type f | wc -l)" -ge 1 ]
	[ "$(pay_status "$ORD")" = "partially_refunded 2500 100" ]
	# The saga's children were seen.
	grep -q "shop-pay capture" argv || { cat argv >&2; return 1; }
	dump_store >dump.sql
	for f in out err argv dump.sql "$FAKE_DIR/fake.log" "$SHOP_DB" "$SHOP_DB"-*; do
		! grep -aq CANARY "$f" || { echo "the key is in $f" >&2; return 1; }
	done
	! grep -raq CANARY "$SHOP_DB.d" || { grep -ral CANARY "$SHOP_DB.d" >&2; return 1; }
}

# The hostile strings (the loops use k: bats' run sets i): SQL, shell, printf formats, quotes, backslashes,
# unicode (NUL-free).
HOSTILE=(
	"'; DROP TABLE product; --"
	'$(touch PWNED)'
	'`touch PWNED`'
	'" OR 1=1 -- \ %s %n %x {{ .x }} \(.a)'
	"Crème brûlée — 東京 🛒 'quoted' \"double\""
)

@test "metacharacters: SQL, shell, format strings and unicode in product text fields round-trip byte for byte; nothing runs" {
	import_fixture
	local k v rec got f
	for k in "${!HOSTILE[@]}"; do
		v=${HOSTILE[$k]//PWNED/$PWNED}
		rec=$(jq -cn --arg v "$v" --arg sku "H-$k" '{sku: $sku, title: $v, brand: $v, description: $v, price: 100}')
		run -0 --separate-stderr shop-catalog import <<<"$rec"
		run -0 --separate-stderr shop-catalog get "H-$k"
		for f in title brand description; do
			got=$(jq -r ".$f" <<<"$output")
			[ "$got" = "$v" ] || { echo "$f: '$got' != '$v'" >&2; return 1; }
		done
		# Set on the command line too.
		run -0 --separate-stderr shop-catalog set MUG-01 "title=$v"
		[ "$(shop-catalog get MUG-01 | jq -r .title)" = "$v" ]
	done
	[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM product')" -ge 17 ]
	[ ! -e "$PWNED" ]
	check_integrity
}

@test "metacharacters: a cart id, a customer name, an address line and a reason round-trip byte for byte; nothing runs" {
	import_fixture
	shop-inv -q set MUG-01 main 100 >/dev/null
	local k v cart adr ord
	for k in "${!HOSTILE[@]}"; do
		v=${HOSTILE[$k]//PWNED/$PWNED}
		cart="c$k $v"
		run -0 --separate-stderr shop-cart add "$cart" MUG-01 1
		run -0 --separate-stderr shop-cart show "$cart"
		[ "$(jq -r .id <<<"$output")" = "$cart" ]
		run -0 --separate-stderr shop-cart address add "cust-$k" --name "$v" --line1 "$v" --city Springfield \
			--postal 12345 --country US
		adr=$(jq -r .id <<<"$output")
		[ "$(jq -r .name <<<"$output")" = "$v" ]
		[ "$(jq -r .line1 <<<"$output")" = "$v" ]
		run -0 --separate-stderr shop-cart checkout "$cart" --customer "cust-$k" --address "$adr" --payment pm_card_visa
		ord=$(jq -r .id <<<"$output")
		[ "$(jq -r .cart_id <<<"$output")" = "$cart" ]
		run -0 --separate-stderr shop-order show "$ord"
		[ "$(jq -r .address.name <<<"$output")" = "$v" ]
		[ "$(jq -r .address.line1 <<<"$output")" = "$v" ]
		run -0 --separate-stderr shop-order cancel "$ord" --reason "$v"
		run -0 --separate-stderr shop-order show "$ord"
		[ "$(jq -r .reason <<<"$output")" = "$v" ]
	done
	[ ! -e "$PWNED" ]
	check_integrity
}

@test "paths: image add with .., an absolute path or a symlink stores the bytes only under the data dir's images/" {
	import_fixture
	mkdir -p in/sub out
	make_png out/x.png 1
	make_png /tmp/shop-sec-$$.png 2
	ln -s "$BATS_TEST_TMPDIR/out/x.png" in/link.png
	(cd in/sub && shop-catalog image add MUG-01 ../../out/x.png >/dev/null)
	shop-catalog image add MUG-01 "/tmp/shop-sec-$$.png" >/dev/null
	shop-catalog image add MUG-01 in/link.png >/dev/null
	rm -f "/tmp/shop-sec-$$.png"
	run -0 --separate-stderr shop-catalog image ls MUG-01
	# x.png twice is stored once: two images.
	[ "$(wc -l <<<"$output")" = 2 ]
	# Names are content hashes, never the given path.
	[ -z "$(jq -r .name <<<"$output" | grep -vE '^[0-9a-f]{64}\.png$')" ]
	# The only new files are the two images, in images/xx/.
	[ "$(find "$SHOP_DB.d" -type f | sed "s|^$SHOP_DB.d/||" | grep -cE '^images/[0-9a-f]{2}/[0-9a-f]{64}\.png$')" = 2 ]
	[ "$(find "$SHOP_DB.d" -type f | wc -l)" = 2 ]
	[ "$(find out in -type f | wc -l)" = 1 ]
	# A directory is not an image.
	run -65 --separate-stderr shop-catalog image add MUG-01 /
	[ -z "$output" ]
	[ "$(wc -l <<<"$stderr")" = 1 ]
}

@test "paths: publish replaces a symlink planted in the site instead of writing through it" {
	import_fixture
	make_png a.png
	shop-catalog image add MUG-01 a.png >/dev/null
	shop-catalog publish site >/dev/null
	mkdir -p outside
	echo secret >outside/index.json
	echo secret >outside/p.json
	local p
	p=$(find site/p -type f | head -1)
	rm site/index.json "$p"
	ln -s "$BATS_TEST_TMPDIR/outside/index.json" site/index.json
	# A dangling link where a product file goes.
	ln -s "$BATS_TEST_TMPDIR/outside/new.json" "$p"
	run -0 --separate-stderr shop-catalog publish site
	[ "$(cat outside/index.json)" = secret ]
	[ ! -e outside/new.json ]
	[ ! -L site/index.json ]
	[ -f site/index.json ]
	[ ! -L "$p" ]
	[ -f "$p" ]
	jq -e .products site/index.json >/dev/null
}

@test "limits: a 1 GiB line fails cleanly: 65, one line on stderr, bounded memory, quickly" {
	import_fixture
	local before
	before=$(dump_store)
	# Streamed, never stored: a record whose description is 1 GiB of 'a'.
	run -65 --separate-stderr bash -c '
		{ printf "{\"sku\":\"BIG\",\"title\":\"t\",\"price\":1,\"description\":\""
		  head -c 1073741824 /dev/zero | tr "\0" a; printf "\"}\n"; } |
		timeout 120 /usr/bin/time -f "maxrss %M" -o "$BATS_TEST_TMPDIR/time" shop-catalog import'
	[ -z "$output" ]
	[ "$stderr" = "shop-catalog: stdin:1: line longer than 1048576 bytes" ]
	# Max RSS in KiB: the line is refused at 1 MiB, not held.
	local rss
	rss=$(sed -n 's/^maxrss //p' "$BATS_TEST_TMPDIR/time")
	[ "$rss" -lt 131072 ] || { echo "max RSS $rss KiB" >&2; return 1; }
	[ "$(dump_store)" = "$before" ]
}

@test "limits: JSON nested 10,000 deep fails cleanly: 65 'nested too deeply', one line, bounded memory" {
	import_fixture
	local before
	before=$(dump_store)
	{
		printf '{"sku":"DEEP","title":"t","price":1,"attributes":{"a":'
		head -c 10000 /dev/zero | tr '\0' '['
		head -c 10000 /dev/zero | tr '\0' ']'
		printf '}}\n'
	} >deep.jsonl
	run -65 --separate-stderr /usr/bin/time -f "maxrss %M" -o time timeout 20 shop-catalog import deep.jsonl
	[ -z "$output" ]
	[[ $stderr == "shop-catalog: deep.jsonl:1: malformed JSON: byte "*": nested too deeply" ]]
	[ "$(sed -n 's/^maxrss //p' time)" -lt 131072 ]
	# The same on stdin of shop-inv adjust, and objects as deep as arrays.
	head -c 10000 /dev/zero | tr '\0' '{' | sed 's/{/{"a":/g' >deep2.jsonl
	run -65 --separate-stderr bash -c 'shop-inv adjust <deep2.jsonl'
	[ -z "$output" ]
	[[ $stderr == "shop-inv: stdin:1: malformed JSON: byte "*": nested too deeply" ]]
	[ "$(dump_store)" = "$before" ]
}
