#!/usr/bin/env bats
# shop-ship with the sandbox carrier: split shipments, the warehouse's
# work, tracking driven by SHOP_NOW, the order following, a lost parcel,
# and bad input. check_ship after every test.
load helpers/common
load helpers/ship

setup() {
	common_setup
}

teardown() { check_ship; }

@test "split: place-order hands off one shipment per warehouse that holds the order's stock" {
	ship_setup
	[ "$(shop-order show "$ORD" | jq -r .status)" = fulfilling ]
	run -0 shop-ship list --order "$ORD"
	[ "$(jq -r '[.warehouse, .status, (.lines | map("\(.sku)x\(.qty)") | join(","))] | join(" ")' <<<"$output")" = \
		"$(printf 'east created MUG-01x2\nwest created BOOK-Cx1')" ]
	# Made once: create again gives the same shipments.
	run -0 shop-ship create --order "$ORD"
	[ "${#lines[@]}" = 2 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM shipment")" = 2 ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox WHERE type = 'shipment.created'")" = 2 ]
	run -0 shop-ship picklist --warehouse east
	[ "$(jq -c '[.kind, .sku, .qty, .title, (.shipments | length)]' <<<"$output")" = '["pick","MUG-01",2,"Stoneware mug 350 ml",1]' ]
	run -0 shop-ship picklist --warehouse west --table
	[ "$(head -1 <<<"$output" | tr -s ' ')" = "SKU QTY TITLE SHIPMENTS" ]
}

@test "to delivered: the order is shipped when both parcels left, delivered when both arrived; the trace has it all" {
	ship_setup
	local e w
	e=$(shp east)
	w=$(shp west)
	send "$e"
	[ "$(shop-order show "$ORD" | jq -r .status)" = fulfilling ]
	run -0 shop-ship show "$e"
	[ "$(jq -r '[.status, .carrier, .service, .rate, (.tracking | test("^SBX[0-9]{10}$"))] | map(tostring) | join(" ")' <<<"$output")" = \
		"shipped sandbox ground 800 true" ]
	send "$w" 300
	[ "$(shop-order show "$ORD" | jq -r .status)" = shipped ]
	# Nothing moves before the carrier has news; then, with the clock:
	SHOP_NOW=2026-11-30T00:00:00Z run -0 shop-ship track --all
	[ "$(jq -r .status <<<"$output" | sort -u)" = in_transit ]
	SHOP_NOW=2026-12-01T05:00:00Z run -0 shop-ship track "$e"
	[ "$(jq -r .status <<<"$output")" = out_for_delivery ]
	SHOP_NOW=2026-12-01T13:00:00Z run -0 shop-ship track "$e"
	[ "$(jq -r .status <<<"$output")" = delivered ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = shipped ]
	SHOP_NOW=2026-12-01T13:00:00Z run -0 shop-ship track "$w"
	[ "$(shop-order show "$ORD" | jq -r .status)" = delivered ]
	# Polling again adds nothing.
	local n
	n=$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM tracking_event")
	SHOP_NOW=2026-12-03T00:00:00Z run -0 shop-ship track "$e" "$w"
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM tracking_event")" = "$n" ]
	[ "$(sqlite3 "$SHOP_DB" "SELECT count(*) FROM outbox WHERE type = 'shipment.delivered'")" = 2 ]
	run -0 shop-order trace "$ORD"
	[ "$(jq -r 'select(.source == "shipment") | .what' <<<"$output" | sort -u | tr '\n' ' ')" = \
		"tracking.delivered tracking.in_transit tracking.out_for_delivery tracking.pre_transit " ]
	[ "$(jq -r 'select(.what == "order.delivered") | .source' <<<"$output")" = event ]
	# Shipped stock is not released any more.
	run -1 --separate-stderr shop-inv release --order "$ORD"
	[[ $stderr == *"its stock is the warehouse's to send" ]]
}

@test "a lost parcel (postal code 00000): exception, listed by --status exception" {
	ship_setup 00000
	local e
	e=$(shp east)
	send "$e"
	SHOP_NOW=2026-11-30T13:00:00Z run -0 shop-ship track "$e"
	[ "$(jq -r '[.status, .detail] | join(" | ")' <<<"$output")" = "exception | Lost in transit" ]
	run -0 shop-ship list --status exception
	[ "$(jq -r .id <<<"$output")" = "$e" ]
	[ "$(shop-order show "$ORD" | jq -r .status)" = fulfilling ]
}

@test "label: the named service; too heavy is refused (1), the shipment stays packed" {
	ship_setup
	local e w
	e=$(shp east)
	w=$(shp west)
	shop-ship -q pack "$e" --weight 2000 >/dev/null
	# Stock in a shipment is the warehouse's: not released from under it.
	run -1 shop-inv release --order "$ORD"
	run -0 shop-ship label "$e" --carrier express
	[ "$(jq -r '[.service, .rate] | map(tostring) | join(" ")' <<<"$output")" = "express 2300" ]
	shop-ship -q pack "$w" --weight 71000 >/dev/null
	run -1 --separate-stderr shop-ship label "$w"
	[ "$stderr" = "shop-ship: shipment $w: label refused: no service for a parcel of 71000 g (at most 70000)" ]
	[ "$(shop-ship show "$w" | jq -r .status)" = packed ]
	run -0 shop-ship pack "$w" --weight 900
	run -0 shop-ship label "$w" --carrier sandbox
	[ "$(jq -r .service <<<"$output")" = ground ]
	# Labelled: pack again is refused, label again is the same label.
	run -1 shop-ship pack "$w" --weight 800
	local t
	t=$(shop-ship show "$w" | jq -r .tracking)
	run -0 shop-ship label "$w"
	[ "$(jq -r .tracking <<<"$output")" = "$t" ]
}

@test "bad input: unknown shipment (66), pack without weight (64), bad weight (65), ship before label (1), unknown warehouse (66)" {
	ship_setup
	local e before
	e=$(shp east)
	before=$(dump_store)
	run -66 --separate-stderr shop-ship show shp_nope
	[ "$stderr" = "shop-ship: shipment shp_nope: no such shipment" ]
	run -66 shop-ship pack shp_nope --weight 10
	run -64 --separate-stderr shop-ship pack "$e"
	[ "$stderr" = "shop-ship: pack: --weight G (grams) is required" ]
	run -65 shop-ship pack "$e" --weight 0
	run -65 shop-ship pack "$e" --weight 1.5kg
	run -1 --separate-stderr shop-ship ship "$e"
	[ "$stderr" = "shop-ship: shipment $e is created: it needs a label before it ships" ]
	run -1 --separate-stderr shop-ship label "$e"
	[ "$stderr" = "shop-ship: shipment $e is created: pack it first (its weight)" ]
	run -1 shop-ship track "$e"
	run -64 shop-ship list --status lost
	run -64 shop-ship track "$e" --all
	run -66 shop-ship picklist --warehouse north
	run -64 shop-ship picklist
	run -66 shop-ship create --order ord_nope
	[ "$(dump_store)" = "$before" ]
	shop-cart -q add c2 MUG-01 1 >/dev/null
	local pending
	pending=$(shop-cart checkout c2 --customer al --address "$ADR" --payment pm_card_visa | jq -r .id)
	run -1 --separate-stderr shop-ship create --order "$pending"
	[ "$stderr" = "shop-ship: order $pending is pending: only a confirmed order is shipped" ]
}
