#!/usr/bin/env bats
# shop-ship with the http carrier driver against the fake EasyPost-shaped
# aggregator on 127.0.0.1 (tests/helpers/fake_carrier.py): rates and
# labels, retries that buy one label, an unreachable carrier, and tracking
# with duplicate and out-of-order updates. One fake for the file, reset
# before every test.
load helpers/common
load helpers/ship

setup_file() {
	SHOP_TEST_CARRIER_KEY="ezk_test_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	export SHOP_TEST_CARRIER_KEY
	CURL_BASE=$(start_fake "$BATS_FILE_TMPDIR" fake_carrier.py --pid-file "$BATS_FILE_TMPDIR/pid" \
		--key-env SHOP_TEST_CARRIER_KEY --now "$(date -u -d 2026-11-29T12:00:00Z +%s)") || return 1
	export CURL_BASE
}

teardown_file() { stop_fake "$BATS_FILE_TMPDIR"; }

setup() {
	common_setup
	curl -sS -X POST "$CURL_BASE/_reset" >/dev/null
	carrier_cfg "$CURL_BASE"
}

teardown() { check_ship; }

# carrier_cfg URL [ATTEMPTS]: the http carrier at URL in the config.
carrier_cfg() {
	SHIP_CFG_EXTRA="shipping:
  carrier: http
  http:
    api_base: $1
    key_env: SHOP_TEST_CARRIER_KEY
http:
  attempts: ${2:-4}
  timeout: 2s
  connect_timeout: 1s
  backoff: 50ms
"
	export SHIP_CFG_EXTRA
	if [ -n "${SHOP_CONFIG:-}" ]; then
		printf 'warehouses:\n  - id: east\n    region: NY\n  - id: west\n    region: CA\n%s' "$SHIP_CFG_EXTRA" >"$SHOP_CONFIG"
	fi
}

stat() { curl -sS "$CURL_BASE/_stats" | jq -r "$1"; }
fault() { curl -sS -X POST "$CURL_BASE/_fault" -d "$1" >/dev/null; }

@test "label: the cheapest rate, a tracking code and a tracker from the aggregator" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 1200 >/dev/null
	run -0 --separate-stderr shop-ship label "$e"
	# 1200 g = 42.4 oz (rounded up to a tenth): USPS First 4.00 + 0.22 * 43
	# = 13.46, USPS Priority 7.58 + 1.35 * (3 - 1) = 10.28, UPS Ground 9.25
	# + 0.95 * 2 = 11.15: Priority is the cheapest.
	[ "$(jq -r '[.status, .carrier, .service, .rate, (.tracking | test("^EZ[0-9]+$"))] | map(tostring) | join(" ")' <<<"$output")" = \
		"labelled USPS Priority 1028 true" ]
	[ "$(stat '.executed.buys')" = 1 ]
	run -0 shop-ship label "$e"
	[ "$(stat '.executed.buys')" = 1 ]
	local w
	w=$(shp west)
	shop-ship -q pack "$w" --weight 1200 >/dev/null
	run -0 shop-ship label "$w" --carrier UPS
	[ "$(jq -r '[.carrier, .service] | join(" ")' <<<"$output")" = "UPS Ground" ]
}

@test "a refused label, then the parcel repacked: a new purchase (the key names the weight and the choice)" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 40000 >/dev/null
	run -1 --separate-stderr shop-ship label "$e"
	[[ $stderr == *"label refused: no rate for this parcel" ]]
	run -0 shop-ship pack "$e" --weight 900
	run -0 shop-ship label "$e" --carrier Ground
	[ "$(jq -r '[.status, .service] | join(" ")' <<<"$output")" = "labelled Ground" ]
	[ "$(stat '.executed.buys')" = 1 ]
}

@test "two label runs at once: one label bought and recorded; the other sees it in doubt (69) or done" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 900 >/dev/null
	fault '{"delay_ms": 1500, "path": "/buy"}'
	shop-ship label "$e" >"$BATS_TEST_TMPDIR/l1" 2>&1 &
	local p1=$!
	sleep 0.5
	run --separate-stderr shop-ship label "$e"
	[ "$status" = 0 ] || [ "$status" = 69 ]
	wait $p1
	[ "$(shop-ship show "$e" | jq -r .status)" = labelled ]
	[ "$(stat '.executed.buys')" = 1 ]
	run -0 shop-ship label "$e"
	[ "$(stat '.executed.buys')" = 1 ]
}

@test "label retries after 500s buy one label only (the same Idempotency-Key)" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 500 >/dev/null
	fault '{"status": 500, "count": 2, "path": "/buy"}'
	run -0 --separate-stderr shop-ship label "$e"
	[ "$(stat '[.requests["POST /v2/shipments/{id}/buy"], .executed.buys] | map(tostring) | join(" ")')" = "3 1" ]
	# Dropped after the purchase: the retry gets it replayed; one label.
	local w
	w=$(shp west)
	shop-ship -q pack "$w" --weight 500 >/dev/null
	fault '{"commit_then_drop": true, "path": "/buy"}'
	run -0 --separate-stderr shop-ship label "$w"
	[ "$(stat '.executed.buys')" = 2 ]
	[ "$(stat '.labels | length')" = 2 ]
}

@test "an unreachable carrier: 69, the shipment stays unlabelled; later it labels" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 500 >/dev/null
	carrier_cfg "http://127.0.0.1:$(free_port)" 2
	run -69 --separate-stderr shop-ship label "$e"
	[[ $stderr == "shop-ship: shipment $e: carrier unavailable, no label: POST http://127.0.0.1:"* ]]
	run -0 shop-ship show "$e"
	[ "$(jq -r '[.status, .tracking] | map(tostring) | join(" ")' <<<"$output")" = "packed null" ]
	carrier_cfg "$CURL_BASE"
	run -0 shop-ship label "$e"
	[ "$(jq -r .status <<<"$output")" = labelled ]
}

@test "tracking: duplicate and out-of-order updates; the newest decides, nothing moves back" {
	ship_setup
	local e w t
	e=$(shp east)
	w=$(shp west)
	send "$e"
	send "$w"
	[ "$(shop-order show "$ORD" | jq -r .status)" = shipped ]
	t=$(shop-ship show "$e" | jq -r .tracking)
	curl -sS -X POST "$CURL_BASE/_track" -d "{\"tracking_code\": \"$t\", \"details\": [
		{\"status\": \"in_transit\", \"datetime\": \"2026-11-29T18:00:00Z\", \"message\": \"departed\"},
		{\"status\": \"in_transit\", \"datetime\": \"2026-11-29T18:00:00Z\", \"message\": \"departed\"},
		{\"status\": \"delivered\", \"datetime\": \"2026-11-30T15:00:00Z\", \"message\": \"delivered\"},
		{\"status\": \"out_for_delivery\", \"datetime\": \"2026-11-30T08:00:00Z\", \"message\": \"on the van\"}]}" >/dev/null
	run -0 shop-ship track "$e"
	[ "$(jq -r '[.status, .delivered_at] | join(" ")' <<<"$output")" = "delivered 2026-11-30T15:00:00Z" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM tracking_event WHERE shipment_id = '$e'")" = 4 ]
	# A late, older update: stored, but the shipment stays delivered.
	curl -sS -X POST "$CURL_BASE/_track" -d "{\"tracking_code\": \"$t\", \"details\": [
		{\"status\": \"in_transit\", \"datetime\": \"2026-11-30T01:00:00Z\", \"message\": \"late scan\"}]}" >/dev/null
	run -0 shop-ship track "$e"
	[ "$(jq -r .status <<<"$output")" = delivered ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM tracking_event WHERE shipment_id = '$e'")" = 5 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox WHERE type = 'shipment.delivered'")" = 1 ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = shipped ]
	t=$(shop-ship show "$w" | jq -r .tracking)
	curl -sS -X POST "$CURL_BASE/_track" -d "{\"tracking_code\": \"$t\", \"details\": [
		{\"status\": \"delivered\", \"datetime\": \"2026-12-01T10:00:00Z\", \"message\": \"delivered\"}]}" >/dev/null
	run -0 shop-ship track --all
	[ "$(shop-order show "$ORD" | jq -r .status)" = delivered ]
}

@test "a lost parcel at the aggregator (failure): exception" {
	ship_setup 00000
	local e
	e=$(shp east)
	send "$e"
	run -0 shop-ship track "$e"
	[ "$(jq -r .status <<<"$output")" = exception ]
	run -0 shop-ship list --status exception
	[ "$(jq -r .id <<<"$output")" = "$e" ]
}

@test "the key: a wrong one is 78 with nothing bought; it is in no output, no store file, no argv" {
	ship_setup
	local e
	e=$(shp east)
	shop-ship -q pack "$e" --weight 500 >/dev/null
	SHOP_TEST_CARRIER_KEY=ezk_wrong run -78 --separate-stderr shop-ship label "$e"
	[[ $stderr == *"HTTP 401"* ]]
	[ "$(shop-ship show "$e" | jq -r .status)" = packed ]
	run -0 shop-ship label "$e"
	for f in "$SHOP_DB"*; do ! grep -aq "$SHOP_TEST_CARRIER_KEY" "$f"; done
	! grep -q "$SHOP_TEST_CARRIER_KEY" <<<"$output"
	! grep -q "$SHOP_TEST_CARRIER_KEY" "$BATS_FILE_TMPDIR/fake.log"
}
