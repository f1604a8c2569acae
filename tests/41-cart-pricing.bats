#!/usr/bin/env bats
# shop-cart quote: the pricing table. Every expected figure is worked out by
# hand in the comments (integer cents; "→" is the rounding of shop(7): half
# away from zero, per line). Every quote also passes check_quote: total ==
# sum(lines[].total) + shipping, each line's total == subtotal - discount +
# (tax unless inclusive), and each promotion's discount == the sum of its
# line shares.
#
# The config (helpers/cart.bash): US NY 8.875 % exclusive; DE 19 %
# inclusive, reduced 7 %, exempt 0 %; GB 20 % inclusive; XA 10 % exclusive;
# shipping 4.95, free from 100.00 after discounts.
load helpers/common
load helpers/cart

setup() {
	common_setup
	cart_setup
}

# totals: [subtotal, discount, shipping, tax, total] of the quote in $output.
totals() {
	jq -c '[.subtotal, .discount, .shipping, .tax, .total]' <<<"$output"
}

# taxes: [sku, subtotal, tax_rate, tax_inclusive, tax, total] per line.
taxes() {
	jq -c '[.lines[] | [.sku, .subtotal, .tax_rate, .tax_inclusive, .tax, .total]]' <<<"$output"
}

# shares: [sku, discount, [[code, amount]...]] per line.
shares() {
	jq -c '[.lines[] | [.sku, .discount, [.discounts[] | [.code, .amount]]]]' <<<"$output"
}

# applied: [code, lane, discount] of each applied promotion, in order.
applied() {
	jq -c '[.promotions[] | [.code, .lane, .discount]]' <<<"$output"
}

# rejected: [code, reason] of each rejected promotion, in order.
rejected() {
	jq -c '[.rejected[] | [.code, .reason]]' <<<"$output"
}

@test "quote: the record's shape; an empty cart is all zeros (no shipping)" {
	fill bob MUG-01:1
	adr=$(address bob US NY)
	quote bob --address "$adr"
	[ "$(jq -c 'keys_unsorted' <<<"$output")" = '["kind","cart_id","customer","address_id","currency","lines","promotions","rejected","subtotal","discount","shipping","tax","total"]' ]
	[ "$(jq -c '[.kind, .cart_id, .customer, .address_id, .currency]' <<<"$output")" = "[\"quote\",\"bob\",\"bob\",\"$adr\",\"USD\"]" ]
	[ "$(jq -c '.lines[0] | keys_unsorted' <<<"$output")" = '["sku","title","qty","unit_price","subtotal","discount","discounts","tax_class","tax_rate","tax_inclusive","tax","total"]' ]
	# 1250 × 8.875 % = 110.9375 → 111
	[ "$(jq -c '.lines[0]' <<<"$output")" = '{"sku":"MUG-01","title":"Stoneware mug 350 ml","qty":1,"unit_price":1250,"subtotal":1250,"discount":0,"discounts":[],"tax_class":"standard","tax_rate":"8.875","tax_inclusive":false,"tax":111,"total":1361}' ]
	[ "$(totals)" = '[1250,0,495,111,1856]' ]
	shop-cart rm bob MUG-01 >/dev/null
	quote bob --address "$adr"
	[ "$(jq -c '[.lines, .promotions, .rejected]' <<<"$output")" = '[[],[],[]]' ]
	[ "$(totals)" = '[0,0,0,0,0]' ]
}

@test "quote: an unknown cart or address is 66" {
	run -66 --separate-stderr shop-cart quote nobody
	[ -z "$output" ]
	cart_one_error "cart nobody: no such cart"
	fill bob MUG-01:1
	run -66 --separate-stderr shop-cart quote bob --address adr_nope
	[ -z "$output" ]
	cart_one_error "address adr_nope: no such address"
}

@test "exclusive tax: US NY 8.875 % on every class; another state or no address: no tax" {
	fill bob MUG-01:2 BOOK-C:1
	ny=$(address bob US NY)
	ca=$(address bob US CA)
	quote bob --address "$ny"
	# BOOK-C  4500 × 8.875 % = 399.375  → 399; total 4899
	# MUG-01  2500 × 8.875 % = 221.875  → 222; total 2722
	# subtotal 7000 < 100.00: shipping 495; total 4899 + 2722 + 495 = 8116
	[ "$(taxes)" = '[["BOOK-C",4500,"8.875",false,399,4899],["MUG-01",2500,"8.875",false,222,2722]]' ]
	[ "$(totals)" = '[7000,0,495,621,8116]' ]
	# The NY rule names a region: California has no rule, so no tax.
	quote bob --address "$ca"
	[ "$(taxes)" = '[["BOOK-C",4500,"0",false,0,4500],["MUG-01",2500,"0",false,0,2500]]' ]
	[ "$(totals)" = '[7000,0,495,0,7495]' ]
	quote bob
	[ "$(totals)" = '[7000,0,495,0,7495]' ]
}

@test "inclusive VAT: DE 19 % standard, 7 % reduced (BOOK-C), 0 % exempt, in one cart" {
	product VOUCHER 1000 exempt
	fill bob MUG-01:2 BOOK-C:1 VOUCHER:1
	de=$(address bob DE)
	quote bob --address "$de"
	# BOOK-C   reduced: net 4500 × 100/107 = 4205.607 → 4206; tax 4500 - 4206 = 294
	# MUG-01   standard: net 2500 × 100/119 = 2100.840 → 2101; tax 2500 - 2101 = 399
	# VOUCHER  exempt: 0 %; tax 0
	# Inclusive: each line's total is its price; tax 294 + 399 = 693;
	# subtotal 8000 < 100.00: total 8000 + 495 = 8495
	[ "$(taxes)" = '[["BOOK-C",4500,"7",true,294,4500],["MUG-01",2500,"19",true,399,2500],["VOUCHER",1000,"0",true,0,1000]]' ]
	[ "$(totals)" = '[8000,0,495,693,8495]' ]
	[ "$(jq -c '[.lines[].tax_class]' <<<"$output")" = '["reduced","standard","exempt"]' ]
}

@test "rounding, exclusive: 10 % of x.4, x.5, x.6 cents, per line, half away from zero" {
	product P0004 4
	product P0005 5
	product P1004 1004
	product P1005 1005
	product P1006 1006
	fill bob P0004:1 P0005:1 P1004:1 P1005:1 P1006:1
	xa=$(address bob XA)
	quote bob --address "$xa"
	# P0004     0.4 → 0     total    4
	# P0005     0.5 → 1     total    6
	# P1004   100.4 → 100   total 1104
	# P1005   100.5 → 101   total 1106
	# P1006   100.6 → 101   total 1107
	# tax 303 (10 % of the order's 3024 would be 302.4 → 302: per line it is 303)
	# total 3024 + 303 + 495 = 3822
	[ "$(jq -c '[.lines[] | [.sku, .tax, .total]]' <<<"$output")" = '[["P0004",0,4],["P0005",1,6],["P1004",100,1104],["P1005",101,1106],["P1006",101,1107]]' ]
	[ "$(totals)" = '[3024,0,495,303,3822]' ]
}

@test "rounding, exclusive: two lines of exactly half a cent each round up each (NY 8.875 %)" {
	product P400A 400
	product P400B 400
	ny=$(address bob US NY)
	fill bob P400A:1 P400B:1
	quote bob --address "$ny"
	# 400 × 8.875 % = 35.5 → 36 per line: tax 72; total 800 + 72 + 495 = 1367
	[ "$(jq -c '[.lines[].tax]' <<<"$output")" = '[36,36]' ]
	[ "$(totals)" = '[800,0,495,72,1367]' ]
	# The same 800 as one line: 800 × 8.875 % = 71.0 → 71
	fill one P400A:2
	quote one --address "$ny"
	[ "$(jq -c '[.lines[].tax]' <<<"$output")" = '[71]' ]
	[ "$(totals)" = '[800,0,495,71,1366]' ]
}

@test "rounding, inclusive: a net of exactly half a cent rounds away from zero, the tax down (GB 20 %)" {
	# With DE 19 % a net of exactly half a cent cannot happen: net = p × 100/119
	# and 2p × 100/119 is an odd integer only if 119 divides p, and then the
	# net is whole. With 20 %: net = p × 5/6, a half when p is an odd multiple
	# of 3.
	product P0003 3
	product P0009 9
	product P1500 1500
	product P1503 1503
	fill bob P0003:1 P0009:1 P1500:1 P1503:1
	gb=$(address bob GB)
	quote bob --address "$gb"
	# P0003  net    2.5 → 3     tax 0
	# P0009  net    7.5 → 8     tax 1
	# P1500  net 1250   exact   tax 250
	# P1503  net 1252.5 → 1253  tax 250  (not 250.5 → 251)
	# tax 501; total = the prices 3015 + 495 = 3510
	[ "$(taxes)" = '[["P0003",3,"20",true,0,3],["P0009",9,"20",true,1,9],["P1500",1500,"20",true,250,1500],["P1503",1503,"20",true,250,1503]]' ]
	[ "$(totals)" = '[3015,0,495,501,3510]' ]
}

@test "percent promotion on several lines: rounded per line; the shares sum exactly to its discount" {
	product P1004 1004
	product P1020 1020
	product P1036 1036
	promos '{"code":"EIGHTH","type":"percent","value":"12.5"}'
	fill bob P1004:1 P1020:1 P1036:1
	quote bob --promo EIGHTH
	# 12.5 % of 1004 = 125.5 → 126;  of 1020 = 127.5 → 128;  of 1036 = 129.5 → 130
	# discount 126 + 128 + 130 = 384 (12.5 % of the order's 3060 = 382.5 → 383: per line it is 384)
	# total 3060 - 384 + 495 = 3171
	[ "$(shares)" = '[["P1004",126,[["EIGHTH",126]]],["P1020",128,[["EIGHTH",128]]],["P1036",130,[["EIGHTH",130]]]]' ]
	[ "$(applied)" = '[["EIGHTH",0,384]]' ]
	[ "$(totals)" = '[3060,384,495,0,3171]' ]
	# Tax (NY) on what each line costs after its discount:
	#   878 × 8.875 % = 77.9225 → 78;  892 → 79.165 → 79;  906 → 80.4075 → 80
	# tax 237; totals 956 + 971 + 986 = 2913; + 495 = 3408
	ny=$(address bob US NY)
	quote bob --promo EIGHTH --address "$ny"
	[ "$(jq -c '[.lines[] | [.tax, .total]]' <<<"$output")" = '[[78,956],[79,971],[80,986]]' ]
	[ "$(totals)" = '[3060,384,495,237,3408]' ]
}

@test "fixed amount: split in proportion, the remainder to the largest fractions; shares sum exactly" {
	promos '{"code":"TENOFF","type":"fixed","value":"10.00"}' '{"code":"ODD","type":"fixed","value":1001}'
	fill bob MUG-01:1 MUG-02:1 CBL-USB-C-1M:1
	quote bob --promo TENOFF
	# base 899 + 1250 + 990 = 3139; 1000 × line / 3139:
	#   CBL-USB-C-1M  899000 / 3139 = 286 rem 1246
	#   MUG-01       1250000 / 3139 = 398 rem  678
	#   MUG-02        990000 / 3139 = 315 rem 1215
	# floors 999; the one left goes to the largest remainder (CBL): 287
	# total 3139 - 1000 + 495 = 2634
	[ "$(shares)" = '[["CBL-USB-C-1M",287,[["TENOFF",287]]],["MUG-01",398,[["TENOFF",398]]],["MUG-02",315,[["TENOFF",315]]]]' ]
	[ "$(applied)" = '[["TENOFF",0,1000]]' ]
	[ "$(totals)" = '[3139,1000,495,0,2634]' ]
	# Equal lines, two cents left over: 1001 × 1000 / 3000 = 333 rem 2000 each;
	# the first two lines get one more: 334 + 334 + 333 = 1001
	product P1000A 1000
	product P1000B 1000
	product P1000C 1000
	fill eq P1000A:1 P1000B:1 P1000C:1
	quote eq --promo ODD
	[ "$(jq -c '[.lines[].discount]' <<<"$output")" = '[334,334,333]' ]
	[ "$(totals)" = '[3000,1001,495,0,2494]' ]
}

@test "fixed amount: limited to its skus; never more than the cart" {
	promos '{"code":"MUGS3","type":"fixed","value":300,"skus":["MUG-01","MUG-02"]}' \
		'{"code":"BIG","type":"fixed","value":"100.00"}'
	fill bob MUG-01:1 MUG-02:1 BOOK-C:1
	quote bob --promo MUGS3
	# base 1250 + 990 = 2240 (BOOK-C is not one of its skus):
	#   MUG-01  375000 / 2240 = 167 rem  920
	#   MUG-02  297000 / 2240 = 132 rem 1320 → 133
	# total 6740 - 300 + 495 = 6935
	[ "$(shares)" = '[["BOOK-C",0,[]],["MUG-01",167,[["MUGS3",167]]],["MUG-02",133,[["MUGS3",133]]]]' ]
	[ "$(totals)" = '[6740,300,495,0,6935]' ]
	# 100.00 off a 12.50 cart takes 12.50: the line is 0, shipping stays
	fill small MUG-01:1
	quote small --promo BIG
	[ "$(shares)" = '[["MUG-01",1250,[["BIG",1250]]]]' ]
	[ "$(totals)" = '[1250,1250,495,0,495]' ]
}

@test "buy X get Y: for every X + Y eligible units, the Y cheapest are free" {
	promos '{"code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"skus":["MUG-01","MUG-02"]}' \
		'{"code":"B1G1","type":"buy_x_get_y","buy":1,"get":1}'
	fill bob MUG-01:2 MUG-02:1 LAMP-2:1
	quote bob --promo B2G1
	# eligible units 2 + 1 = 3 → 1 free: the cheapest, MUG-02 (990); LAMP-2 not eligible
	# total 6989 - 990 + 495 = 6494
	[ "$(shares)" = '[["LAMP-2",0,[]],["MUG-01",0,[]],["MUG-02",990,[["B2G1",990]]]]' ]
	[ "$(applied)" = '[["B2G1",0,990]]' ]
	[ "$(totals)" = '[6989,990,495,0,6494]' ]
	# 6 units → 2 free: MUG-02 (990), then one MUG-01 (6250 × 1/5 = 1250)
	# total 7240 - 2240 + 495 = 5495
	fill six MUG-01:5 MUG-02:1
	quote six --promo B2G1
	[ "$(shares)" = '[["MUG-01",1250,[["B2G1",1250]]],["MUG-02",990,[["B2G1",990]]]]' ]
	[ "$(totals)" = '[7240,2240,495,0,5495]' ]
	# No skus: every product counts. LAMP-2 + MUG-02: 2 units → 1 free, MUG-02
	fill any LAMP-2:1 MUG-02:1
	quote any --promo B1G1
	[ "$(shares)" = '[["LAMP-2",0,[]],["MUG-02",990,[["B1G1",990]]]]' ]
	[ "$(totals)" = '[4489,990,495,0,3994]' ]
}

@test "buy X get Y that gives nothing to this cart is rejected, not applied with 0" {
	# Two units of three: nothing free. Applying it with 0 would make checkout
	# accept it and confirmation count a use for nothing.
	promos '{"code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"skus":["MUG-01","MUG-02"]}'
	fill bob MUG-01:2
	quote bob --promo B2G1
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["B2G1","nothing in the cart it takes off"]]' ]
	[ "$(totals)" = '[2500,0,495,0,2995]' ]
	# The same for a fixed amount on skus that are not in the cart.
	promos '{"code":"LAMPS","type":"fixed","value":100,"skus":["LAMP-2"]}'
	quote bob --promo LAMPS
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["LAMPS","nothing in the cart it takes off"]]' ]
	# And checkout refuses it.
	adr=$(address bob US NY)
	run -1 --separate-stderr shop-cart checkout bob --customer bob --address "$adr" --payment pm --promo B2G1
	cart_one_error "promotion B2G1 does not apply: nothing in the cart it takes off"
}

@test "free shipping: shipping 0, the saving on the promotion as shipping_discount" {
	promos '{"code":"SHIP","type":"free_shipping"}'
	fill bob MUG-01:1
	quote bob --promo SHIP
	[ "$(jq -c '.promotions' <<<"$output")" = '[{"code":"SHIP","type":"free_shipping","lane":0,"discount":0,"shipping_discount":495}]' ]
	[ "$(shares)" = '[["MUG-01",0,[]]]' ]
	[ "$(totals)" = '[1250,0,0,0,1250]' ]
	# Over free_over shipping is free already: nothing to take off.
	fill big BOOK-C:3
	quote big --promo SHIP
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["SHIP","shipping is free already"]]' ]
	[ "$(totals)" = '[13500,0,0,0,13500]' ]
}

@test "free_over: shipping is free from 100.00, after discounts and before exclusive tax" {
	product P1000 1000
	product P0999 999
	promos '{"code":"TEN","type":"percent","value":10}'
	# 9000 + 1000 = 10000: free
	fill bob BOOK-C:2 P1000:1
	quote bob
	[ "$(totals)" = '[10000,0,0,0,10000]' ]
	# 10 % off: 900 + 100; 9000 after discounts is under 100.00: 495
	quote bob --promo TEN
	[ "$(totals)" = '[10000,1000,495,0,9495]' ]
	# 9000 + 999 = 9999: one cent short
	fill short BOOK-C:2 P0999:1
	quote short
	[ "$(totals)" = '[9999,0,495,0,10494]' ]
	# NY tax brings it over 100.00, but the threshold is before tax:
	#   9000 × 8.875 % = 798.75 → 799;  999 × 8.875 % = 88.66 → 89; tax 888
	#   total 9999 + 888 + 495 = 11382
	ny=$(address bob US NY)
	quote short --address "$ny"
	[ "$(totals)" = '[9999,0,495,888,11382]' ]
}

@test "lanes: the best in a lane wins, the other is rejected naming the winner" {
	promos '{"code":"TEN","type":"percent","value":10}' '{"code":"FIVE","type":"fixed","value":"5.00"}'
	# 12.50: TEN gives 125, FIVE 500: FIVE wins; total 750 + 495 = 1245
	fill small MUG-01:1
	quote small --promo TEN --promo FIVE
	[ "$(applied)" = '[["FIVE",0,500]]' ]
	[ "$(rejected)" = '[["TEN","lane 0: FIVE gives more"]]' ]
	[ "$(totals)" = '[1250,500,495,0,1245]' ]
	# 90.00: TEN gives 900, FIVE 500: TEN wins, whatever the order asked;
	# total 8100 + 495 = 8595
	fill big BOOK-C:2
	quote big --promo FIVE --promo TEN
	[ "$(applied)" = '[["TEN",0,900]]' ]
	[ "$(rejected)" = '[["FIVE","lane 0: TEN gives more"]]' ]
	[ "$(shares)" = '[["BOOK-C",900,[["TEN",900]]]]' ]
	[ "$(totals)" = '[9000,900,495,0,8595]' ]
}

@test "lanes apply in order: a lane-1 promotion works on what lane 0 left" {
	promos '{"code":"TEN","type":"percent","value":10}' \
		'{"code":"EIGHTH","type":"percent","value":"12.5","lane":1}' \
		'{"code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"lane":1}'
	fill bob BOOK-C:1 MUG-01:2
	# Asked lane 1 first; lane 0 still goes first.
	quote bob --promo EIGHTH --promo TEN
	# lane 0, TEN:    BOOK-C 4500 → 450;           MUG-01 2500 → 250    (700)
	# lane 1, EIGHTH: BOOK-C 4050 × 12.5 % = 506.25 → 506; MUG-01 2250 → 281.25 → 281 (787)
	#   (on the full prices it would be 563 + 313 = 876)
	# discount 1487; total 7000 - 1487 + 495 = 6008
	[ "$(applied)" = '[["TEN",0,700],["EIGHTH",1,787]]' ]
	[ "$(rejected)" = '[]' ]
	[ "$(shares)" = '[["BOOK-C",956,[["TEN",450],["EIGHTH",506]]],["MUG-01",531,[["TEN",250],["EIGHTH",281]]]]' ]
	[ "$(totals)" = '[7000,1487,495,0,6008]' ]
	# A free unit in lane 1 is worth what lane 0 left of it:
	# MUG-01 × 3 = 3750; TEN 375; left 3375; one unit of three free: 1125
	# total 3750 - 1500 + 495 = 2745
	fill three MUG-01:3
	quote three --promo TEN --promo B2G1
	[ "$(applied)" = '[["TEN",0,375],["B2G1",1,1125]]' ]
	[ "$(shares)" = '[["MUG-01",1500,[["TEN",375],["B2G1",1125]]]]' ]
	[ "$(totals)" = '[3750,1500,495,0,2745]' ]
}

@test "start and end: not started and ended are rejected with reasons, against SHOP_NOW" {
	# now is 2026-11-29T12:00:00Z; the end is exclusive, the start inclusive
	promos '{"code":"OLD","type":"percent","value":5,"ends_at":"2026-11-29T12:00:00Z"}' \
		'{"code":"SOON","type":"percent","value":5,"starts_at":"2026-11-29T12:00:01Z","lane":1}' \
		'{"code":"NOW","type":"percent","value":5,"starts_at":"2026-11-29T12:00:00Z","ends_at":"2026-11-29T12:00:01Z","lane":2}'
	fill bob MUG-01:1
	quote bob --promo OLD --promo SOON --promo NOW
	# NOW: 5 % of 1250 = 62.5 → 63; total 1187 + 495 = 1682
	[ "$(applied)" = '[["NOW",2,63]]' ]
	[ "$(rejected)" = '[["OLD","ended (2026-11-29T12:00:00Z)"],["SOON","not started (starts 2026-11-29T12:00:01Z)"]]' ]
	[ "$(totals)" = '[1250,63,495,0,1682]' ]
	# One second later: SOON has started, NOW has ended
	SHOP_NOW=2026-11-29T12:00:01Z quote bob --promo OLD --promo SOON --promo NOW
	[ "$(applied)" = '[["SOON",1,63]]' ]
	[ "$(rejected)" = '[["OLD","ended (2026-11-29T12:00:00Z)"],["NOW","ended (2026-11-29T12:00:01Z)"]]' ]
	# One second earlier: OLD still runs
	SHOP_NOW=2026-11-29T11:59:59Z quote bob --promo OLD --promo SOON --promo NOW
	[ "$(applied)" = '[["OLD",0,63]]' ]
	[ "$(rejected)" = '[["SOON","not started (starts 2026-11-29T12:00:01Z)"],["NOW","not started (starts 2026-11-29T12:00:00Z)"]]' ]
}

@test "start and end given with a UTC offset are compared as instants" {
	# 13:00+02:00 is 11:00Z (started an hour ago); 10:00-05:00 is 15:00Z
	# (ends in three hours): the promotion runs at 12:00Z.
	promos '{"code":"ZSTART","type":"percent","value":10,"starts_at":"2026-11-29T13:00:00+02:00"}' \
		'{"code":"ZEND","type":"percent","value":10,"ends_at":"2026-11-29T10:00:00-05:00","lane":1}'
	fill bob MUG-01:1
	quote bob --promo ZSTART --promo ZEND
	# 10 % of 1250 = 125; 10 % of 1125 = 112.5 → 113
	[ "$(rejected)" = '[]' ]
	[ "$(applied)" = '[["ZSTART",0,125],["ZEND",1,113]]' ]
	run -0 --separate-stderr shop-cart promo add <<<'{"code":"ZONED","type":"percent","value":10,"starts_at":"2026-11-29T13:00:00+02:00","ends_at":"2026-11-29T10:00:00-05:00"}'
	quote bob --promo ZONED
	[ "$(applied)" = '[["ZONED",0,125]]' ]
}

@test "min_subtotal: from the minimum on (before discounts); below it rejected with the figures" {
	promos '{"code":"MIN","type":"percent","value":5,"min_subtotal":"70.00"}'
	fill bob BOOK-C:1 MUG-01:2
	# subtotal 7000 = the minimum: 5 % of 4500 = 225, of 2500 = 125; 350
	quote bob --promo MIN
	[ "$(applied)" = '[["MIN",0,350]]' ]
	[ "$(totals)" = '[7000,350,495,0,7145]' ]
	shop-cart set bob MUG-01 1 >/dev/null
	quote bob --promo MIN
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["MIN","subtotal 57.50 is below the minimum 70.00"]]' ]
	[ "$(totals)" = '[5750,0,495,0,6245]' ]
}

@test "jq condition over the cart: true applies, false is rejected" {
	promos '{"code":"BOOKS","type":"percent","value":5,"condition":"any(.lines[]; .category == \"books\")"}' \
		'{"code":"DEONLY","type":"percent","value":10,"condition":".address.country == \"DE\"","lane":1}'
	fill bob BOOK-C:1 MUG-01:1
	quote bob --promo BOOKS
	# 5 % of 4500 = 225; of 1250 = 62.5 → 63; 288; total 5750 - 288 + 495 = 5957
	[ "$(applied)" = '[["BOOKS",0,288]]' ]
	[ "$(totals)" = '[5750,288,495,0,5957]' ]
	fill mugs MUG-01:1
	quote mugs --promo BOOKS
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["BOOKS","condition is false for this cart"]]' ]
	# The condition sees the address.
	de=$(address bob DE)
	ny=$(address bob US NY)
	quote mugs --promo DEONLY --address "$de"
	# 10 % of 1250 = 125; 1125 inclusive of 19 %: net 945.378 → 945, tax 180
	# total 1125 + 495 = 1620
	[ "$(applied)" = '[["DEONLY",1,125]]' ]
	[ "$(totals)" = '[1250,125,495,180,1620]' ]
	quote mugs --promo DEONLY --address "$ny"
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["DEONLY","condition is false for this cart"]]' ]
}

@test "an unknown code is listed as rejected, exit 0; a code given twice applies once" {
	promos '{"code":"TEN","type":"percent","value":10}'
	fill bob MUG-01:1
	quote bob --promo NOPE
	[ "$(applied)" = '[]' ]
	[ "$(rejected)" = '[["NOPE","unknown code"]]' ]
	[ "$(totals)" = '[1250,0,495,0,1745]' ]
	quote bob --promo TEN --promo NOPE --promo TEN
	[ "$(applied)" = '[["TEN",0,125]]' ]
	[ "$(rejected)" = '[["NOPE","unknown code"]]' ]
	[ "$(totals)" = '[1250,125,495,0,1620]' ]
}

@test "--explain says for each promotion why it did or did not apply" {
	promos '{"code":"TEN","type":"percent","value":10}' '{"code":"FIVE","type":"fixed","value":"5.00"}' \
		'{"code":"OLD","type":"percent","value":5,"ends_at":"2026-11-01T00:00:00Z"}'
	fill bob MUG-01:1
	quote bob --promo TEN --promo FIVE --promo NOPE --promo OLD --explain
	[ "$(jq -c '.explain' <<<"$output")" = '[{"code":"FIVE","applied":true,"why":"eligible, and the best of its lane"},{"code":"NOPE","applied":false,"why":"unknown code"},{"code":"OLD","applied":false,"why":"ended (2026-11-01T00:00:00Z)"},{"code":"TEN","applied":false,"why":"lane 0: FIVE gives more"}]' ]
	[ "$(applied)" = '[["FIVE",0,500]]' ]
	[ "$(totals)" = '[1250,500,495,0,1245]' ]
	# Without --explain there is no explain field.
	quote bob --promo TEN
	[ "$(jq -c 'has("explain")' <<<"$output")" = false ]
}

@test "many lines, every promotion type and tax at once: the invariants hold" {
	product P1005 1005
	product P0333 333
	promos '{"code":"TEN","type":"percent","value":10}' \
		'{"code":"ODD","type":"fixed","value":777,"lane":1}' \
		'{"code":"B2G1","type":"buy_x_get_y","buy":2,"get":1,"lane":2}' \
		'{"code":"SHIP","type":"free_shipping","lane":3}'
	# 3015 + 2331 + 2500 + 990 + 899 = 9735: under 100.00, so shipping is
	# charged until SHIP takes it off.
	fill bob P1005:3 P0333:7 MUG-01:2 MUG-02:1 CBL-USB-C-1M:1
	for a in "$(address bob US NY)" "$(address bob DE)" "$(address bob GB)" "$(address bob XA)"; do
		quote bob --promo TEN --promo ODD --promo B2G1 --promo SHIP --address "$a"
		[ "$(jq -c '[.promotions[].code]' <<<"$output")" = '["TEN","ODD","B2G1","SHIP"]' ]
		[ "$(jq .shipping <<<"$output")" = 0 ]
	done
}

@test "amounts too large to add up: 65 and one line, not a crash or a wrapped total" {
	product BIG1 9000000000000000
	product BIG2 9000000000000000
	fill huge BIG1:1000 BIG2:1000
	run -65 --separate-stderr shop-cart quote huge
	[ -z "$output" ]
	[[ $stderr == "shop-cart: "*"out of range"* ]]
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
}
