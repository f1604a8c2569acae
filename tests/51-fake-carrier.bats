#!/usr/bin/env bats
# The fake shipping aggregator (tests/helpers/fake_carrier.py, shaped like
# EasyPost's API) that the http carrier driver's tests run against:
# shipments and their rates, buying a label, trackers, the Idempotency-Key
# rules, the fault switches and the control endpoints.
# One fake for the whole file, reset before every test.
load helpers/common

# 2026-11-29T12:00:00Z, the tests' SHOP_NOW
NOW=1795953600

setup_file() {
	CARRIER_KEY="EZTK_CANARY$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
	export CARRIER_KEY
	# The key reaches the fake through its environment only.
	CURL=$(FAKE_CARRIER_KEY=$CARRIER_KEY start_fake "$BATS_FILE_TMPDIR" fake_carrier.py \
		--pid-file "$BATS_FILE_TMPDIR/pid" --key-env FAKE_CARRIER_KEY --now "$NOW" --verbose) || return 1
	export CURL
}

teardown_file() { stop_fake "$BATS_FILE_TMPDIR"; }

setup() {
	common_setup
	B=$BATS_TEST_TMPDIR
	ctl POST /_reset >/dev/null
}

# ep METHOD PATH [CURL-ARGS...]: one API request with the key (EK= to send
# none, EK=other for a wrong one); POSTs say their body is JSON (CT=type for
# another Content-Type). Prints the
# HTTP status; the body goes to $OUT.body and the headers to $OUT.hdr (OUT
# defaults to $B/r).
ep() {
	local m=$1 p=$2 out=${OUT:-$B/r}
	shift 2
	local args=()
	[ -n "${EK-$CARRIER_KEY}" ] && args=(-u "${EK-$CARRIER_KEY}:")
	[ "$m" = POST ] && args+=(-H "Content-Type: ${CT-application/json}")
	curl -sS --noproxy '*' -X "$m" "${args[@]}" -o "$out.body" -D "$out.hdr" \
		-w '%{http_code}' "$@" "$CURL$p"
}

# ctl METHOD PATH [JSON]: a control request; prints the body.
ctl() {
	curl -sS --noproxy '*' -X "$1" ${3:+-d "$3"} "$CURL$2"
}

# j FILTER [FILE]: jq -r on the last body.
j() { jq -r "$1" "${2:-$B/r.body}"; }

# hdr NAME [FILE]: a response header's value.
hdr() {
	tr -d '\r' <"${2:-$B/r.hdr}" | sed -n "s/^$1: //Ip" | tail -1
}

# stat FILTER: jq -r on GET /_stats.
stat() { ctl GET /_stats | jq -r "$1"; }

# shipment_json WEIGHT [ZIP [REF]]: a POST /v2/shipments body.
shipment_json() {
	jq -nc --argjson w "$1" --arg zip "${2-94105}" --arg ref "${3:-order-1001}" '{shipment: {
		reference: $ref,
		to_address: {name: "Ada Buyer", street1: "388 Townsend St", city: "San Francisco",
			state: "CA", zip: $zip, country: "US"},
		from_address: {name: "Shop WH1", street1: "1 Dock Rd", city: "Newark", state: "NJ",
			zip: "07105", country: "US"},
		parcel: {weight: $w}}}'
}

# create WEIGHT [ZIP [REF [CURL-ARGS...]]]: POST /v2/shipments; prints the status.
create() {
	local body
	body=$(shipment_json "$1" "${2-94105}" "${3:-order-1001}")
	shift $(($# < 3 ? $# : 3))
	ep POST /v2/shipments -d "$body" "$@"
}

# new_shipment WEIGHT [ZIP]: sets SHP and RATE (the cheapest rate's id).
new_shipment() {
	[ "$(create "$1" "${2-94105}")" = 201 ] || { cat "$B/r.body"; return 1; }
	SHP=$(j .id)
	RATE=$(j '.rates | min_by(.rate | tonumber) | .id')
}

# buy SHIPMENT RATE [CURL-ARGS...]: POST /v2/shipments/ID/buy; prints the status.
buy() {
	local s=$1 r=$2
	shift 2
	ep POST "/v2/shipments/$s/buy" -d "{\"rate\":{\"id\":\"$r\"}}" "$@"
}

# rates: "carrier service rate days" per rate of the last body, ';'-joined.
rates() { j '[.rates[] | [.carrier, .service, .rate, (.delivery_days|tostring)] | join(" ")] | join(";")'; }

@test "flow: create (rates), buy the cheapest (label, tracker pre_transit), read the tracker and the shipment" {
	run -0 --separate-stderr create 10
	[ "$output" = 201 ]
	[[ $(j .id) =~ ^shp_[0-9a-f]{32}$ ]]
	[ "$(j '[.object, .mode, .reference, .status, .created_at] | join(" ")')" = \
		"Shipment test order-1001 unknown 2026-11-29T12:00:00Z" ]
	[ "$(j '[.selected_rate, .tracking_code, .postage_label, .tracker] | map(tostring) | join(" ")')" = \
		"null null null null" ]
	[ "$(j '.to_address | [.object, .name, .street1, .city, .state, .zip, .country] | join("|")')" = \
		"Address|Ada Buyer|388 Townsend St|San Francisco|CA|94105|US" ]
	[ "$(j .from_address.zip)" = 07105 ]
	[[ $(j .parcel.id) == prcl_* ]]
	[ "$(j .parcel.weight)" = 10 ]
	[ "$(rates)" = "USPS First 6.20 3;USPS Priority 7.58 2;UPS Ground 9.25 5" ]
	shp=$(j .id)
	[ "$(j '[.rates[] | .object + " " + .currency + " " + (.shipment_id == "'"$shp"'" | tostring)] | unique | join(",")')" = \
		"Rate USD true" ]
	[ "$(j '[.rates[].id | test("^rate_[0-9a-f]{32}$")] | all')" = true ]
	[ "$(j '.messages | length')" = 0 ]
	[[ -n $(hdr X-Ep-Request-Uuid) ]]
	rate=$(j '.rates[0].id')

	run -0 --separate-stderr buy "$shp" "$rate"
	[ "$output" = 200 ]
	[ "$(j '[.id, .status, .selected_rate.id, .selected_rate.service, .selected_rate.rate] | join(" ")')" = \
		"$shp unknown $rate First 6.20" ]
	[[ $(j .tracking_code) =~ ^EZ[0-9]{10}$ ]]
	code=$(j .tracking_code)
	[ "$(j '.postage_label | .object + " " + .label_file_type')" = "PostageLabel image/png" ]
	[[ $(j .postage_label.label_url) == "$CURL/labels/pl_"*.png ]]
	[ "$(j '.tracker | [.object, .tracking_code, .status, .carrier, .shipment_id, (.tracking_details | length)] | join(" ")')" = \
		"Tracker $code pre_transit USPS $shp 1" ]
	[ "$(j '.tracker.tracking_details[0] | [.object, .status, .status_detail, .datetime] | join(" ")')" = \
		"TrackingDetail pre_transit label_created 2026-11-29T12:00:00Z" ]
	trk=$(j .tracker.id)
	[[ $trk =~ ^trk_[0-9a-f]{32}$ ]]
	label=$(j .postage_label.label_url)

	run -0 --separate-stderr ep GET "/v2/trackers/$trk"
	[ "$output" = 200 ]
	[ "$(j '[.id, .object, .tracking_code, .status, .status_detail, .shipment_id, .carrier, .updated_at] | join(" ")')" = \
		"$trk Tracker $code pre_transit label_created $shp USPS 2026-11-29T12:00:00Z" ]
	[ "$(j '.tracking_details | map(.status + "@" + .datetime + " " + .message) | join(";")')" = \
		"pre_transit@2026-11-29T12:00:00Z Pre-Shipment information received" ]
	run -0 --separate-stderr ep GET "/v2/trackers?tracking_code=$code"
	[ "$(j '([.trackers[].id] | join(" ")) + " " + (.has_more|tostring)')" = "$trk false" ]

	run -0 --separate-stderr ep GET "/v2/shipments/$shp"
	[ "$output" = 200 ]
	[ "$(j '[.tracking_code, .tracker.id, .selected_rate.id, .status] | join(" ")')" = "$code $trk $rate unknown" ]

	# the label: a public URL, no key
	run -0 --separate-stderr curl -sS --noproxy '*' -o "$B/label.png" -w '%{http_code} %{content_type}' "$label"
	[ "$output" = "200 image/png" ]
	[ "$(head -c 4 "$B/label.png" | tail -c 3)" = PNG ]

	run -0 --separate-stderr stat '[.executed.shipments, .executed.buys, .requests["POST /v2/shipments"],
		.requests["POST /v2/shipments/{id}/buy"], .requests["GET /v2/trackers/{id}"], .requests["GET /v2/shipments/{id}"],
		(.labels | length)] | join(" ")'
	[ "$output" = "1 1 1 1 1 1 1" ]
	run -0 --separate-stderr stat '.labels[0] | [.shipment_id, .reference, .tracking_code, .tracker_id, .carrier, .service, .rate] | join(" ")'
	[ "$output" = "$shp order-1001 $code $trk USPS First 6.20" ]
}

@test "rates: deterministic in the weight; the cheapest service changes with it; tracking codes unique" {
	check() { # WEIGHT EXPECTED-RATES
		run -0 --separate-stderr create "$1"
		[ "$output" = 201 ] || { cat "$B/r.body"; return 1; }
		[ "$(rates)" = "$2" ] || { echo "weight $1: $(rates)"; return 1; }
	}
	check 0.5 "USPS First 4.22 3;USPS Priority 7.58 2;UPS Ground 9.25 5"
	check 16 "USPS First 7.52 3;USPS Priority 7.58 2;UPS Ground 9.25 5"
	check 16.1 "USPS First 7.74 3;USPS Priority 8.93 2;UPS Ground 10.20 5"
	check 160 "USPS First 39.20 3;USPS Priority 19.73 2;UPS Ground 17.80 5"
	check 1120 "USPS First 250.40 3;USPS Priority 100.73 2;UPS Ground 74.80 5"
	[ "$(j '.rates | min_by(.rate | tonumber) | .service')" = Ground ]
	# the same weight twice: the same prices, other ids
	check 160 "USPS First 39.20 3;USPS Priority 19.73 2;UPS Ground 17.80 5"
	cp "$B/r.body" "$B/a.body"
	check 160 "USPS First 39.20 3;USPS Priority 19.73 2;UPS Ground 17.80 5"
	[ "$(j '.rates[0].id' "$B/a.body")" != "$(j '.rates[0].id')" ]
	[ "$(j .id "$B/a.body")" != "$(j .id)" ]

	codes=()
	for w in 4 40 400; do
		new_shipment "$w"
		[ "$(buy "$SHP" "$RATE")" = 200 ]
		codes+=("$(j .tracking_code)")
	done
	[ "$(printf '%s\n' "${codes[@]}" | sort -u | wc -l)" = 3 ]
	[ "$(stat '[.labels[].service] | join(" ")')" = "First Priority Ground" ]
}

@test "heavy parcel: over 1120 oz no rates and a rate_error per carrier; nothing to buy" {
	run -0 --separate-stderr create 1120.5
	[ "$output" = 201 ]
	[ "$(j '.rates | length')" = 0 ]
	[ "$(j '[.messages[] | .carrier + " " + .type] | join(",")')" = "USPS rate_error,UPS rate_error" ]
	[[ $(j '.messages[0].message') == *1120* ]]
	shp=$(j .id)
	run -0 --separate-stderr buy "$shp" rate_0000000000000000000000000000000
	[ "$output" = 422 ]
	[ "$(j '.error.code + " " + .error.errors[0].field')" = "SHIPMENT.INVALID_PARAMS rate.id" ]
	run -0 --separate-stderr stat '[.executed.shipments, .executed.buys, .shipments[0].rates, .shipments[0].weight] | join(" ")'
	[ "$output" = "1 0 0 1120.5" ]
}

@test "bad input: 422 SHIPMENT.INVALID_PARAMS naming the field, nothing created; 400 for what is not JSON" {
	bad() { # EXPECTED-FIELDS JSON
		run -0 --separate-stderr ep POST /v2/shipments -d "$2"
		[ "$output" = 422 ] || { echo "$2: $output"; cat "$B/r.body"; return 1; }
		[ "$(j '.error.code + " " + ([.error.errors[].field] | join(","))')" = "SHIPMENT.INVALID_PARAMS $1" ] || {
			echo "$2"; cat "$B/r.body"; return 1; }
		[ -n "$(j .error.message)" ]
	}
	ok=$(shipment_json 12)
	bad parcel.weight "$(jq -c 'del(.shipment.parcel.weight)' <<<"$ok")"
	[ "$(j '.error.errors[0].message')" = "is required" ]
	bad parcel.weight "$(jq -c '.shipment.parcel.weight = 0' <<<"$ok")"
	bad parcel.weight "$(jq -c '.shipment.parcel.weight = -3' <<<"$ok")"
	bad parcel.weight "$(jq -c '.shipment.parcel.weight = "12"' <<<"$ok")"
	bad parcel "$(jq -c 'del(.shipment.parcel)' <<<"$ok")"
	bad to_address.zip "$(jq -c 'del(.shipment.to_address.zip)' <<<"$ok")"
	bad to_address.country "$(jq -c '.shipment.to_address.country = ""' <<<"$ok")"
	bad to_address.zip,to_address.country,parcel.weight \
		"$(jq -c 'del(.shipment.to_address.zip, .shipment.to_address.country) | .shipment.parcel.weight = 0' <<<"$ok")"
	bad to_address "$(jq -c 'del(.shipment.to_address)' <<<"$ok")"
	bad from_address "$(jq -c 'del(.shipment.from_address)' <<<"$ok")"
	bad shipment '{"parcel":{"weight":3}}'

	run -0 --separate-stderr ep POST /v2/shipments -d '{"shipment": '
	[ "$output" = 400 ]
	[ "$(j .error.code)" = BAD_REQUEST ]
	run -0 --separate-stderr ep POST /v2/shipments -d '[1]'
	[ "$output" = 400 ]
	CT=application/x-www-form-urlencoded run -0 --separate-stderr ep POST /v2/shipments \
		-d 'shipment[parcel][weight]=3'
	[ "$output" = 400 ]
	[[ $(j .error.message) == *application/json* ]]
	[ "$(stat '[.executed.shipments, (.shipments | length)] | join(" ")')" = "0 0" ]

	run -0 --separate-stderr ep GET /v2/shipments/shp_nope
	[ "$output" = 404 ]
	[ "$(jq -cS . "$B/r.body")" = '{"error":{"code":"NOT_FOUND","errors":[],"message":"The requested resource could not be found."}}' ]
	run -0 --separate-stderr ep GET /v2/trackers/trk_nope
	[ "$output" = 404 ]
	run -0 --separate-stderr buy shp_nope rate_nope
	[ "$output" = 404 ]
	[ "$(j .error.code)" = NOT_FOUND ]
	run -0 --separate-stderr ep GET /v2/addresses
	[ "$output" = 404 ]
}

@test "buy: twice is 422 SHIPMENT.POSTAGE.EXISTS; unknown rate 422; one label" {
	new_shipment 20
	run -0 --separate-stderr buy "$SHP" rate_nope
	[ "$output" = 422 ]
	[ "$(j '.error.code + " " + .error.errors[0].field')" = "SHIPMENT.INVALID_PARAMS rate.id" ]
	run -0 --separate-stderr ep POST "/v2/shipments/$SHP/buy" -d '{}'
	[ "$output" = 422 ]
	[ "$(j .error.errors[0].field)" = rate.id ]
	run -0 --separate-stderr buy "$SHP" "$RATE"
	[ "$output" = 200 ]
	code=$(j .tracking_code)
	run -0 --separate-stderr buy "$SHP" "$RATE"
	[ "$output" = 422 ]
	[ "$(j '.error.code + " " + (.error.errors | length | tostring)')" = "SHIPMENT.POSTAGE.EXISTS 0" ]
	[ -n "$(j .error.message)" ]
	# another of its rates: bought is bought
	other=$(OUT=$B/g ep GET "/v2/shipments/$SHP" >/dev/null; j '.rates[2].id' "$B/g.body")
	run -0 --separate-stderr buy "$SHP" "$other"
	[ "$output" = 422 ]
	[ "$(j .error.code)" = SHIPMENT.POSTAGE.EXISTS ]
	run -0 --separate-stderr stat '[.executed.buys, (.labels | length), .labels[0].tracking_code, .shipments[0].bought,
		.requests["POST /v2/shipments/{id}/buy"]] | join(" ")'
	[ "$output" = "1 1 $code true 5" ]
}

@test "idempotency: same key and body replay the first buy byte for byte; other body 400; the stored 422" {
	new_shipment 20
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: ship-1001-label'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(hdr Idempotency-Key)" = ship-1001-label ]
	cp "$B/r.body" "$B/first.body"
	first_req=$(hdr X-Ep-Request-Uuid)
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: ship-1001-label'
	[ "$output" = 200 ]
	cmp "$B/first.body" "$B/r.body"
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(hdr Original-Request)" = "$first_req" ]
	# the same JSON spaced otherwise is the same request
	run -0 --separate-stderr ep POST "/v2/shipments/$SHP/buy" -H 'Idempotency-Key: ship-1001-label' \
		-d "{ \"rate\" : { \"id\" : \"$RATE\" } }"
	[ "$output" = 200 ]
	cmp "$B/first.body" "$B/r.body"

	# another rate under the key: another request
	other=$(j '.rates[1].id')
	run -0 --separate-stderr buy "$SHP" "$other" -H 'Idempotency-Key: ship-1001-label'
	[ "$output" = 400 ]
	[ "$(j .error.code)" = IDEMPOTENCY.MISMATCH ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	# the key on another endpoint
	run -0 --separate-stderr create 20 94105 order-1001 -H 'Idempotency-Key: ship-1001-label'
	[ "$output" = 400 ]
	[ "$(j .error.code)" = IDEMPOTENCY.MISMATCH ]

	# without the key, a second buy is executed, and refused; that 422 is stored under its key
	run -0 --separate-stderr buy "$SHP" "$RATE"
	[ "$output" = 422 ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: other-key'
	[ "$output" = 422 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: other-key'
	[ "$output" = 422 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j .error.code)" = SHIPMENT.POSTAGE.EXISTS ]

	# a create with a key: one shipment
	run -0 --separate-stderr create 30 94105 order-1002 -H 'Idempotency-Key: ship-1002-create'
	[ "$output" = 201 ]
	s2=$(j .id)
	run -0 --separate-stderr create 30 94105 order-1002 -H 'Idempotency-Key: ship-1002-create'
	[ "$output" = 201 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j .id)" = "$s2" ]

	run -0 --separate-stderr stat '[.executed.shipments, .executed.buys, .replayed, .idempotency_keys] | join(" ")'
	[ "$output" = "2 1 4 3" ]

	# validation errors are not stored: the corrected request executes
	run -0 --separate-stderr create 0 94105 order-1003 -H 'Idempotency-Key: ship-1003-create'
	[ "$output" = 422 ]
	run -0 --separate-stderr create 3 94105 order-1003 -H 'Idempotency-Key: ship-1003-create'
	[ "$output" = 201 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	# nor are 404s; a GET ignores the header
	run -0 --separate-stderr buy shp_nope "$RATE" -H 'Idempotency-Key: k404'
	[ "$output" = 404 ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: k404'
	[ "$output" = 422 ]
	run -0 --separate-stderr ep GET "/v2/shipments/$SHP" -H 'Idempotency-Key: k404'
	[ "$output" = 200 ]
	long=$(printf 'k%.0s' $(seq 256))
	run -0 --separate-stderr create 3 94105 order-1004 -H "Idempotency-Key: $long"
	[ "$output" = 400 ]
	[ "$(j .error.code)" = IDEMPOTENCY.KEY_INVALID ]
}

@test "fault 500: not stored under the key, the retry buys one label; path restricts the fault" {
	new_shipment 20
	run -0 --separate-stderr ctl POST /_fault '{"status":500,"count":2,"path":"/buy"}'
	[ "$(jq -c . <<<"$output")" = '{"ok":true,"pending":1}' ]
	# not a buy: untouched by the fault
	run -0 --separate-stderr ep GET "/v2/shipments/$SHP"
	[ "$output" = 200 ]
	for i in 1 2; do
		run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s1-label'
		[ "$output" = 500 ]
		[ "$(j '.error.code + " " + (.error.errors | length | tostring)')" = "INTERNAL_SERVER_ERROR 0" ]
		[ -z "$(hdr Idempotent-Replayed)" ]
	done
	[ "$(stat '.executed.buys')" = 0 ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s1-label'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	code=$(j .tracking_code)
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s1-label'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j .tracking_code)" = "$code" ]
	run -0 --separate-stderr stat '[.executed.buys, (.labels | length), .replayed, .faults_applied, .faults_pending,
		.requests["POST /v2/shipments/{id}/buy"]] | join(" ")'
	[ "$output" = "1 1 1 2 0 4" ]
}

@test "fault 429: Retry-After and a RATE_LIMITED body, then the request goes through" {
	new_shipment 20
	ctl POST /_fault '{"status":429,"retry_after":2}' >/dev/null
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s2-label'
	[ "$output" = 429 ]
	[ "$(hdr Retry-After)" = 2 ]
	[ "$(j .error.code)" = RATE_LIMITED ]
	[ "$(stat '.executed.buys')" = 0 ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s2-label'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ -z "$(hdr Retry-After)" ]
	[ "$(stat '.executed.buys')" = 1 ]
	# a create is rate limited the same way
	ctl POST /_fault '{"status":429,"retry_after":1}' >/dev/null
	run -0 --separate-stderr create 5
	[ "$output" = 429 ]
	[ "$(hdr Retry-After)" = 1 ]
}

@test "fault commit_then_drop: empty reply, the label bought and stored; the retry with the key gets it" {
	new_shipment 20
	ctl POST /_fault '{"commit_then_drop":true,"path":"/buy"}' >/dev/null
	OUT=$B/drop run -52 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s3-label'
	[[ $stderr == *"Empty reply from server"* ]]
	[ "$output" = 000 ]
	[ ! -s "$B/drop.body" ] && [ ! -s "$B/drop.hdr" ]
	[ "$(stat '[.executed.buys, .shipments[0].bought, .idempotency_keys] | join(" ")')" = "1 true 1" ]
	code=$(stat '.labels[0].tracking_code')
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s3-label'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(j '[.id, .tracking_code, .selected_rate.id, .tracker.status] | join(" ")')" = "$SHP $code $RATE pre_transit" ]
	run -0 --separate-stderr stat '[.executed.buys, (.labels | length), .replayed] | join(" ")'
	[ "$output" = "1 1 1" ]

	# the same for a create: the shipment exists once
	ctl POST /_fault '{"commit_then_drop":true}' >/dev/null
	run -52 --separate-stderr create 8 94105 order-2001 -H 'Idempotency-Key: s3-create'
	run -0 --separate-stderr create 8 94105 order-2001 -H 'Idempotency-Key: s3-create'
	[ "$output" = 201 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(stat '[.executed.shipments, (.shipments | length)] | join(" ")')" = "2 2" ]
}

@test "fault delay: the client times out, the buy still happens; a retry meanwhile gets 409, later the replay" {
	new_shipment 20
	ctl POST /_fault '{"delay_ms":2000,"path":"/buy"}' >/dev/null
	run -28 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s4-label' --max-time 0.5
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s4-label'
	[ "$output" = 409 ]
	[ "$(j .error.code)" = IDEMPOTENCY.IN_PROGRESS ]
	for i in $(seq 80); do
		[ "$(stat '.executed.buys')" = 1 ] && break
		sleep 0.1
	done
	[ "$(stat '.executed.buys')" = 1 ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s4-label'
	[ "$output" = 200 ]
	[ "$(hdr Idempotent-Replayed)" = true ]
	[ "$(stat '[.executed.buys, (.labels | length)] | join(" ")')" = "1 1" ]
}

@test "fault delay with process false, and drop: nothing bought, the key stays free" {
	new_shipment 20
	ctl POST /_fault '[{"delay_ms":200,"process":false},{"drop":true}]' >/dev/null
	run -52 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s5-label'
	[[ $stderr == *"Empty reply from server"* ]]
	run -52 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s5-label'
	[ "$(stat '[.executed.buys, .shipments[0].bought, .idempotency_keys] | join(" ")')" = "0 false 0" ]
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: s5-label'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(stat '.executed.buys')" = 1 ]
}

@test "tracking: /_track appends duplicates and out-of-order details; the status is the latest datetime's" {
	new_shipment 20
	buy "$SHP" "$RATE" >/dev/null
	trk=$(j .tracker.id) code=$(j .tracking_code)
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","details":[
		{"status":"in_transit","datetime":"2026-11-30T08:00:00Z","message":"Arrived at USPS Regional Facility"},
		{"status":"delivered","datetime":"2026-12-02T15:30:00Z"},
		{"status":"out_for_delivery","datetime":"2026-12-02T07:00:00Z"},
		{"status":"in_transit","datetime":"2026-11-30T08:00:00Z","message":"Arrived at USPS Regional Facility"}]}'
	[ "$(jq -r '.status + " " + .status_detail' <<<"$output")" = "delivered arrived_at_destination" ]
	run -0 --separate-stderr ep GET "/v2/trackers/$trk"
	[ "$output" = 200 ]
	[ "$(j '.status + " " + .status_detail')" = "delivered arrived_at_destination" ]
	# in the order they arrived, duplicates kept
	[ "$(j '[.tracking_details[] | .status + "@" + .datetime] | join(" ")')" = \
		"pre_transit@2026-11-29T12:00:00Z in_transit@2026-11-30T08:00:00Z delivered@2026-12-02T15:30:00Z out_for_delivery@2026-12-02T07:00:00Z in_transit@2026-11-30T08:00:00Z" ]
	[ "$(j '.tracking_details[1] | .object + "|" + .message + "|" + .status_detail + "|" + .tracking_location.object')" = \
		"TrackingDetail|Arrived at USPS Regional Facility|arrived_at_facility|TrackingLocation" ]
	# the shipment follows its tracker once it moved
	run -0 --separate-stderr ep GET "/v2/shipments/$SHP"
	[ "$(j '.status + " " + .tracker.status')" = "delivered delivered" ]

	# a late, older update does not move it back; a zone other than Z counts as its UTC time
	run -0 --separate-stderr ctl POST /_track '{"tracking_code":"'"$code"'","details":[
		{"status":"return_to_sender","datetime":"2026-12-02T16:00:00+01:00","status_detail":"return"}]}'
	[ "$(jq -r '.status + " " + (.tracking_details | length | tostring) + " " + .tracking_details[5].datetime' <<<"$output")" = \
		"delivered 6 2026-12-02T15:00:00Z" ]
	# a later one does
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","details":[
		{"status":"return_to_sender","datetime":"2026-12-03T09:00:00Z","message":"Refused by addressee",
		 "tracking_location":{"city":"San Francisco","state":"CA","country":"US","zip":"94105"}}]}'
	[ "$(jq -r '.status + " " + .status_detail + " " + .tracking_details[-1].tracking_location.city' <<<"$output")" = \
		"return_to_sender return San Francisco" ]
	# the same datetime twice: the one that came last
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","details":[
		{"status":"failure","datetime":"2026-12-03T09:00:00Z","status_detail":"delivery_exception"}]}'
	[ "$(jq -r .status <<<"$output")" = failure ]

	# replace: the details as given, in their order
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","replace":true,"details":[
		{"status":"out_for_delivery","datetime":"2026-12-01T07:00:00Z"},
		{"status":"in_transit","datetime":"2026-11-30T07:00:00Z"}]}'
	[ "$(jq -r '.status + " " + ([.tracking_details[].status] | join(","))' <<<"$output")" = \
		"out_for_delivery out_for_delivery,in_transit" ]
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","replace":true,"details":[]}'
	[ "$(jq -r '.status + " " + (.tracking_details | length | tostring)' <<<"$output")" = "unknown 0" ]

	# bad updates are refused and change nothing
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","details":[{"status":"teleported","datetime":"2026-12-01T07:00:00Z"}]}'
	[ "$(jq -r .error.code <<<"$output")" = BAD_REQUEST ]
	run -0 --separate-stderr ctl POST /_track '{"tracker":"'"$trk"'","details":[{"status":"delivered","datetime":"2026-12-01 07:00"}]}'
	[ "$(jq -r .error.code <<<"$output")" = BAD_REQUEST ]
	run -0 --separate-stderr ctl POST /_track '{"tracker":"trk_nope","details":[]}'
	[ "$(jq -r .error.code <<<"$output")" = NOT_FOUND ]
	run -0 --separate-stderr stat '[.trackers[0].status, .trackers[0].details, (.requests["GET /v2/trackers/{id}"])] | join(" ")'
	[ "$output" = "unknown 0 1" ]
}

@test "zip 00000: bought fine, then its tracker is lost (failure) after pre_transit" {
	new_shipment 20 00000
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: lost-1'
	[ "$output" = 200 ]
	[ "$(j '.status + " " + .tracker.status + " " + (.tracker.tracking_details | length | tostring)')" = "unknown pre_transit 1" ]
	cp "$B/r.body" "$B/buy.body"
	trk=$(j .tracker.id)
	run -0 --separate-stderr ep GET "/v2/trackers/$trk"
	[ "$(j '.status + " " + .status_detail')" = "failure lost" ]
	[ "$(j '[.tracking_details[] | .status + "/" + .status_detail + "@" + .datetime] | join(" ")')" = \
		"pre_transit/label_created@2026-11-29T12:00:00Z failure/lost@2026-11-30T12:00:00Z" ]
	[ "$(j '.tracking_details[1].message')" = "Package lost in transit" ]
	run -0 --separate-stderr ep GET "/v2/shipments/$SHP"
	[ "$(j '.status + " " + .tracker.status')" = "failure failure" ]
	# the replay is the answer the buy gave
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: lost-1'
	cmp "$B/buy.body" "$B/r.body"
	[ "$(stat '[.executed.buys, .trackers[0].status] | join(" ")')" = "1 failure" ]
}

@test "control: bad fault specs refused, a list of faults, reset forgets everything" {
	run -0 --separate-stderr ctl POST /_fault '{"status":500,"bogus":1}'
	[ "$(jq -r .error.code <<<"$output")" = BAD_REQUEST ]
	run -0 --separate-stderr ctl POST /_fault '{"count":2}'
	[ "$(jq -r .error.code <<<"$output")" = BAD_REQUEST ]
	run -0 --separate-stderr ctl POST /_fault '{"status":200}'
	[ "$(jq -r .error.code <<<"$output")" = BAD_REQUEST ]
	run -0 --separate-stderr ctl POST /_fault '[{"drop":true},{"status":503}]'
	[ "$(jq -r .pending <<<"$output")" = 2 ]
	# control requests take no fault
	ctl GET /_stats >/dev/null
	run -52 --separate-stderr ep GET /v2/shipments/shp_x
	run -0 --separate-stderr ep GET /v2/shipments/shp_x
	[ "$output" = 503 ]
	[ "$(j .error.code)" = SERVICE.UNAVAILABLE ]
	run -0 --separate-stderr ep GET /v2/shipments/shp_x
	[ "$output" = 404 ]
	# a fault with a body
	ctl POST /_fault '{"status":502,"body":{"error":{"code":"UPSTREAM","message":"bad gateway","errors":[]}}}' >/dev/null
	run -0 --separate-stderr create 5
	[ "$output" = 502 ]
	[ "$(j .error.code)" = UPSTREAM ]

	new_shipment 5
	buy "$SHP" "$RATE" -H 'Idempotency-Key: c1' >/dev/null
	label=$(j .postage_label.label_url)
	# a fault without a path never hits a label download; one with a matching path does
	ctl POST /_fault '{"status":500}' >/dev/null
	run -0 --separate-stderr curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "$label"
	[ "$output" = 200 ]
	[ "$(stat .faults_pending)" = 1 ]
	ctl POST /_fault '{"status":503,"path":"/labels/"}' >/dev/null
	run -0 --separate-stderr curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "$label"
	[ "$output" = 503 ]
	[ "$(stat .faults_pending)" = 1 ]
	run -0 --separate-stderr curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "$label"
	[ "$output" = 200 ]
	run -0 --separate-stderr ctl POST /_reset
	run -0 --separate-stderr stat '[(.shipments | length), (.trackers | length), (.labels | length), .faults_pending,
		.executed.shipments, .executed.buys, .idempotency_keys, (.requests | length)] | join(" ")'
	[ "$output" = "0 0 0 0 0 0 0 0" ]
	run -0 --separate-stderr ep GET "/v2/shipments/$SHP"
	[ "$output" = 404 ]
	run -0 --separate-stderr curl -sS --noproxy '*' -o /dev/null -w '%{http_code}' "$label"
	[ "$output" = 404 ]
	# the key is free again
	new_shipment 5
	run -0 --separate-stderr buy "$SHP" "$RATE" -H 'Idempotency-Key: c1'
	[ "$output" = 200 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
}

@test "auth: 401 without the key or with another, Basic or Bearer; the key never echoed" {
	EK= run -0 --separate-stderr ep GET /v2/trackers/trk_x
	[ "$output" = 401 ]
	[ "$(jq -cS . "$B/r.body")" = '{"error":{"code":"APIKEY.REQUIRED","errors":[],"message":"Unauthorized. Please check credentials and try again."}}' ]
	EK=EZTK_wrong_key run -0 --separate-stderr create 5
	[ "$output" = 401 ]
	[ "$(j '.error.code + " " + (.error.errors | length | tostring)')" = "APIKEY.INACTIVE 0" ]
	run -1 --separate-stderr grep -q EZTK_wrong_key "$B/r.body" "$B/r.hdr"
	run -0 --separate-stderr ep GET /v2/trackers/trk_x -u "${CARRIER_KEY}x:"
	[ "$output" = 401 ]
	run -0 --separate-stderr ep GET /v2/trackers/trk_x -u ":$CARRIER_KEY"
	[ "$output" = 401 ]
	EK= run -0 --separate-stderr ep GET /v2/trackers/trk_x -H "Authorization: Bearer wrong"
	[ "$output" = 401 ]
	EK= run -0 --separate-stderr ep GET /v2/trackers/trk_x -H "Authorization: Bearer $CARRIER_KEY"
	[ "$output" = 404 ]
	run -0 --separate-stderr ep GET /v2/trackers/trk_x
	[ "$output" = 404 ]
	# a 401 stores nothing under the key
	EK= run -0 --separate-stderr create 5 94105 order-1 -H 'Idempotency-Key: a1'
	[ "$output" = 401 ]
	run -0 --separate-stderr create 5 94105 order-1 -H 'Idempotency-Key: a1'
	[ "$output" = 201 ]
	[ -z "$(hdr Idempotent-Replayed)" ]
	[ "$(stat '[.unauthorized, .executed.shipments] | join(" ")')" = "6 1" ]
}

@test "secrets: the canary key is in no answer, not in the fake's argv, not in its log" {
	new_shipment 10
	buy "$SHP" "$RATE" -H 'Idempotency-Key: sec-1' >/dev/null
	trk=$(j .tracker.id)
	ep GET "/v2/trackers/$trk" >/dev/null
	ctl POST /_track '{"tracker":"'"$trk"'","details":[{"status":"in_transit","datetime":"2026-11-30T01:00:00Z"}]}' >"$B/track"
	EK=wrong ep GET "/v2/trackers/$trk" >/dev/null
	EK= ep GET "/v2/trackers/$trk" -H "Authorization: Bearer ${CARRIER_KEY}zz" >/dev/null
	ctl POST /_fault '{"commit_then_drop":true}' >/dev/null
	new_shipment 11 || true
	ctl GET /_stats >"$B/stats"
	run -1 --separate-stderr grep -rqF "$CARRIER_KEY" "$B"
	pid=$(cat "$BATS_FILE_TMPDIR/pid")
	[ "$pid" = "$(cat "$BATS_FILE_TMPDIR/fake.bgpid")" ]
	tr '\0' ' ' <"/proc/$pid/cmdline" >"$B/cmdline"
	grep -q fake_carrier.py "$B/cmdline"
	run -1 --separate-stderr grep -qF "$CARRIER_KEY" "$B/cmdline"
	log=$BATS_FILE_TMPDIR/fake.log
	grep -q 'POST /v2/shipments/shp_[0-9a-f]*/buy -> 200 key=sec-1' "$log"
	grep -q ' -> 401' "$log"
	run -1 --separate-stderr grep -qF "$CARRIER_KEY" "$log"
	run -1 --separate-stderr grep -qF "$(printf '%s:' "$CARRIER_KEY" | base64 -w0)" "$log"
}
