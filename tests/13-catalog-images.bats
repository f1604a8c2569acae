#!/usr/bin/env bats
# shop-catalog image add / image ls (content-addressed files, from a file or
# a URL on the fake HTTP server) and publish (static export for a CDN).
load helpers/common
load helpers/catalog

setup_file() {
	start_fake_http "$BATS_FILE_TMPDIR"
}

teardown_file() {
	stop_fake_http "$BATS_FILE_TMPDIR"
}

setup() {
	common_setup
	import_fixture
}

@test "image add FILE: the image record, the stored file (0600), the product's images[]" {
	make_png mug.png
	h=$(sha mug.png)
	run -0 --separate-stderr shop-catalog image add MUG-01 mug.png
	[ -z "$stderr" ]
	check_integrity
	[ "$output" = "{\"kind\":\"image\",\"sku\":\"MUG-01\",\"name\":\"$h.png\",\"sha256\":\"$h\",\"type\":\"image/png\",\"bytes\":$(stat -c %s mug.png),\"source\":\"mug.png\",\"created_at\":\"$SHOP_NOW\",\"stored\":true}" ]
	stored="$SHOP_DB.d/images/${h:0:2}/$h.png"
	[ -f "$stored" ]
	cmp mug.png "$stored"
	[ "$(stat -c %a "$stored")" = 600 ]
	[ "$(stat -c %a "$SHOP_DB.d/images")" = 700 ]
	run -0 --separate-stderr shop-catalog get MUG-01
	[ "$(jq -c '[.images, .version]' <<<"$output")" = "[[\"$h.png\"],2]" ]
}

@test "image add: JPEG and GIF are recognised by their bytes, whatever the file name" {
	make_jpeg photo.bin
	make_gif anim.png
	hj=$(sha photo.bin) hg=$(sha anim.png)
	run -0 --separate-stderr shop-catalog image add LAMP-2 photo.bin
	[ "$(jq -c '[.name, .type]' <<<"$output")" = "[\"$hj.jpg\",\"image/jpeg\"]" ]
	run -0 --separate-stderr shop-catalog image add LAMP-2 anim.png
	[ "$(jq -c '[.name, .type]' <<<"$output")" = "[\"$hg.gif\",\"image/gif\"]" ]
	check_integrity
	run -0 --separate-stderr shop-catalog get LAMP-2
	[ "$(jq -c .images <<<"$output")" = "[\"$hj.jpg\",\"$hg.gif\"]" ]
}

@test "image add: the same bytes twice give one entry and one file" {
	make_png a.png
	cp a.png b.png
	h=$(sha a.png)
	run -0 --separate-stderr shop-catalog image add MUG-01 a.png
	run -0 --separate-stderr shop-catalog image add MUG-01 b.png
	[ "$(jq -r .name <<<"$output")" = "$h.png" ]
	check_integrity
	run -0 --separate-stderr shop-catalog get MUG-01
	[ "$(jq -c '[.images, .version]' <<<"$output")" = "[[\"$h.png\"],2]" ]
	[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM image')" = 1 ]
	[ "$(find "$SHOP_DB.d/images" -type f | wc -l)" -eq 1 ]
	# The same image on a second product: still one file and one row.
	run -0 --separate-stderr shop-catalog image add MUG-02 a.png
	[ "$(jq -r .sku <<<"$output")" = MUG-02 ]
	[ "$(sqlite3 "$SHOP_DB" 'SELECT count(*) FROM image')" = 1 ]
	[ "$(find "$SHOP_DB.d/images" -type f | wc -l)" -eq 1 ]
	check_integrity
}

@test "image ls: one record per image of the product, in order" {
	make_png one.png 1
	make_png two.png 2
	h1=$(sha one.png) h2=$(sha two.png)
	shop-catalog image add BOOK-C one.png >/dev/null
	shop-catalog image add BOOK-C two.png >/dev/null
	check_integrity
	run -0 --separate-stderr shop-catalog image ls BOOK-C
	[ "${#lines[@]}" -eq 2 ]
	[ "$(printf '%s\n' "$output" | jq -c '[.kind, .sku, .name, .source, .stored]')" = \
		"$(printf '%s\n' "[\"image\",\"BOOK-C\",\"$h1.png\",\"one.png\",true]" "[\"image\",\"BOOK-C\",\"$h2.png\",\"two.png\",true]")" ]
	run -0 --separate-stderr shop-catalog image ls MUG-01
	[ -z "$output" ]
	run -66 --separate-stderr shop-catalog image ls NOPE
	expect_one_error "no such product"
	# An image name imported without its file is listed as not stored.
	run -0 --separate-stderr shop-catalog set MUG-02 'images:=["feedface.png"]'
	run -0 --separate-stderr shop-catalog image ls MUG-02
	[ "$output" = '{"kind":"image","sku":"MUG-02","name":"feedface.png","stored":false}' ]
	check_integrity
}

@test "image add: a file that is not an image is 65 and nothing changes" {
	echo "just text" >notes.txt
	before=$(dump_store)
	run -65 --separate-stderr shop-catalog image add MUG-01 notes.txt
	[ -z "$output" ]
	expect_one_error "not an image"
	check_integrity
	[ "$(dump_store)" = "$before" ]
	[ -z "$(find "$SHOP_DB.d" -type f 2>/dev/null)" ]
	# An empty file and a directory too.
	: >empty.png
	run -65 --separate-stderr shop-catalog image add MUG-01 empty.png
	expect_one_error "not an image"
	mkdir dir.png
	run -65 --separate-stderr shop-catalog image add MUG-01 dir.png
	expect_one_error "not a regular file"
	[ "$(dump_store)" = "$before" ]
}

@test "image add: a missing file is 66, an unknown sku is 66" {
	before=$(dump_store)
	run -66 --separate-stderr shop-catalog image add MUG-01 nope.png
	[ -z "$output" ]
	expect_one_error "nope.png"
	make_png ok.png
	run -66 --separate-stderr shop-catalog image add NOPE ok.png
	[ -z "$output" ]
	expect_one_error "no such product"
	check_integrity
	[ "$(dump_store)" = "$before" ]
	[ -z "$(find "$SHOP_DB.d" -type f 2>/dev/null)" ]
}

@test "image add: a file over limits.image_bytes is 65" {
	printf 'limits:\n  image_bytes: 100\n' >shop.yaml
	make_png big.png "$(head -c 200 /dev/zero | tr '\0' x)"
	before=$(dump_store)
	run -65 --separate-stderr shop-catalog image add MUG-01 big.png
	expect_one_error "larger than 100 bytes"
	[ "$(dump_store)" = "$before" ]
}

@test "image add URL: fetched from the fake HTTP server" {
	make_png "$BATS_FILE_TMPDIR/files/remote.png" remote
	h=$(sha "$BATS_FILE_TMPDIR/files/remote.png")
	run -0 --separate-stderr shop-catalog image add CHG-65W "$FAKE_URL/file/remote.png"
	check_integrity
	[ "$(jq -c '[.name, .type, .source, .stored]' <<<"$output")" = \
		"[\"$h.png\",\"image/png\",\"$FAKE_URL/file/remote.png\",true]" ]
	cmp "$BATS_FILE_TMPDIR/files/remote.png" "$SHOP_DB.d/images/${h:0:2}/$h.png"
	run -0 --separate-stderr shop-catalog get CHG-65W
	[ "$(jq -c .images <<<"$output")" = "[\"$h.png\"]" ]
}

@test "image add URL: a non-image body is 65, a 404 is 66, nothing changes" {
	echo "<html>hi</html>" >"$BATS_FILE_TMPDIR/files/page.html"
	before=$(dump_store)
	run -65 --separate-stderr shop-catalog image add CHG-65W "$FAKE_URL/file/page.html"
	expect_one_error "not an image"
	run -66 --separate-stderr shop-catalog image add CHG-65W "$FAKE_URL/file/missing.png"
	[ -z "$output" ]
	expect_one_error "404"
	check_integrity
	[ "$(dump_store)" = "$before" ]
	[ -z "$(find "$SHOP_DB.d" -type f 2>/dev/null)" ]
}

@test "image add URL: plain http to another host is refused, 64, without a request" {
	before=$(dump_store)
	run -64 --separate-stderr shop-catalog image add CHG-65W http://example.com/x.png
	[ -z "$output" ]
	expect_one_error "https"
	run -64 --separate-stderr shop-catalog image add CHG-65W "http://"
	expect_one_error ""
	[ "$(dump_store)" = "$before" ]
}

@test "image: without a sub-command or with too few arguments is 64" {
	run -64 --separate-stderr shop-catalog image
	expect_one_error "sub-command"
	run -64 --separate-stderr shop-catalog image add MUG-01
	expect_one_error "missing argument"
	run -64 --separate-stderr shop-catalog image ls
	expect_one_error "missing argument"
}

# publish_check DIR: index.json maps each active sku to p/HASH.json, whose
# text is the export record plus a newline and HASH the sha256 of that
# record (without the newline).
publish_check() {
	local dir=$1 sku rel line
	[ "$(jq -r '.products | keys[]' "$dir/index.json")" = "$(shop-catalog list --status active | skus)" ]
	[ "$(jq -r .count "$dir/index.json")" = "$(shop-catalog list --status active | wc -l)" ]
	while read -r sku rel; do
		line=$(shop-catalog export | grep -F "\"sku\":\"$sku\"")
		[ "$(cat "$dir/$rel")" = "$line" ] || { echo "$rel is not the record of $sku" >&2; return 1; }
		[ "$(tail -c 1 "$dir/$rel" | od -An -c | tr -d ' ')" = '\n' ]
		[ "$rel" = "p/$(printf '%s' "$line" | sha256sum | cut -d' ' -f1).json" ] ||
			{ echo "$rel: not named by the sha256 of its record" >&2; return 1; }
	done < <(jq -r '.products | to_entries[] | "\(.key) \(.value)"' "$dir/index.json")
}

@test "publish DIR: index.json, content-hashed product files, images" {
	umask 022
	make_png mug.png
	make_jpeg lamp.jpg
	hm=$(sha mug.png) hl=$(sha lamp.jpg)
	shop-catalog image add MUG-01 mug.png >/dev/null
	shop-catalog image add MUG-02 mug.png >/dev/null
	shop-catalog image add LAMP-2 lamp.jpg >/dev/null
	# A draft and an archived product with an image: neither is published.
	make_gif gift.gif
	shop-catalog image add GIFT-25 gift.gif >/dev/null
	shop-catalog image add OLD-LAMP gift.gif >/dev/null
	run -0 --separate-stderr shop-catalog publish out
	[ -z "$stderr" ]
	check_integrity
	[ "$output" = "{\"kind\":\"publish\",\"dir\":\"out\",\"products\":10,\"images\":3,\"written\":12,\"index\":\"index.json\",\"generated_at\":\"$SHOP_NOW\"}" ]
	[ "$(jq -c 'keys' out/index.json)" = '["count","generated_at","products"]' ]
	[ "$(jq -c '[.count, .generated_at]' out/index.json)" = "[10,\"$SHOP_NOW\"]" ]
	[ "$(jq -c .products out/index.json | tr -d '\n')" = "$(jq -cS .products out/index.json)" ]
	publish_check out
	run -0 jq -r '.products | keys[]' out/index.json
	[[ $output != *GIFT-25* && $output != *OLD-LAMP* ]]
	[ "$(ls out/p | wc -l)" -eq 10 ]
	[ "$(ls out/img | sort)" = "$(printf '%s\n' "$hm.png" "$hl.jpg" | sort)" ]
	cmp mug.png "out/img/$hm.png"
	cmp lamp.jpg "out/img/$hl.jpg"
	# Readable by a web server.
	[ "$(stat -c %a out/index.json "out/img/$hm.png" "out/$(jq -r '.products["MUG-01"]' out/index.json)" | sort -u)" = 644 ]
	[ "$(stat -c %a out/p out/img)" = "$(printf '%s\n' 755 755)" ]
}

@test "publish: a second run writes nothing new; a change writes one product file" {
	make_png mug.png
	shop-catalog image add MUG-01 mug.png >/dev/null
	run -0 --separate-stderr shop-catalog publish out
	[ "$(jq -r .written <<<"$output")" = 11 ]
	cp out/index.json index.1
	run -0 --separate-stderr shop-catalog publish out
	[ "$(jq -c '[.products, .images, .written]' <<<"$output")" = '[10,1,0]' ]
	cmp index.1 out/index.json
	old=$(jq -r '.products["MUG-01"]' out/index.json)
	shop-catalog set MUG-01 price:=1300 >/dev/null
	export SHOP_NOW=2026-11-30T00:00:00Z
	run -0 --separate-stderr shop-catalog publish out
	[ "$(jq -c '[.products, .images, .written, .generated_at]' <<<"$output")" = '[10,1,1,"2026-11-30T00:00:00Z"]' ]
	new=$(jq -r '.products["MUG-01"]' out/index.json)
	[ "$new" != "$old" ]
	# The old file stays for caches that still hold the old index.
	[ -f "out/$old" ]
	[ "$(ls out/p | wc -l)" -eq 11 ]
	publish_check out
	# Archiving removes the product from the index.
	shop-catalog rm MUG-01 >/dev/null
	run -0 --separate-stderr shop-catalog publish out
	[ "$(jq -c '[.products, .written]' <<<"$output")" = '[9,0]' ]
	[ "$(jq -r '.products | has("MUG-01")' out/index.json)" = false ]
	publish_check out
	check_integrity
}

@test "publish: a product whose image file is gone from the store is 66, index.json unchanged" {
	make_png mug.png
	make_png lamp.png lamp
	hl=$(sha lamp.png)
	shop-catalog image add MUG-01 mug.png >/dev/null
	run -0 --separate-stderr shop-catalog publish out
	cp out/index.json index.1
	shop-catalog image add LAMP-2 lamp.png >/dev/null
	shop-catalog set MUG-02 price:=1 >/dev/null
	rm "$SHOP_DB.d/images/${hl:0:2}/$hl.png"
	before=$(dump_store)
	run -66 --separate-stderr shop-catalog publish out
	[ -z "$output" ]
	expect_one_error "LAMP-2"
	[[ $stderr == *"$hl.png"* ]]
	cmp index.1 out/index.json
	check_integrity
	[ "$(dump_store)" = "$before" ]
	# Into a new directory: no index.json at all.
	run -66 --separate-stderr shop-catalog publish fresh
	[ ! -e fresh/index.json ]
	# An imported image name the store never held: 66 as well.
	shop-catalog image add LAMP-2 lamp.png >/dev/null
	shop-catalog set BOOK-C 'images:=["0000000000000000000000000000000000000000000000000000000000000000.png"]' >/dev/null
	run -66 --separate-stderr shop-catalog publish out
	expect_one_error "BOOK-C"
	cmp index.1 out/index.json
	check_integrity
}

@test "publish: a DIR that cannot be created is 74" {
	echo file >blocker
	run -74 --separate-stderr shop-catalog publish blocker/out
	[ -z "$output" ]
	expect_one_error "blocker"
	run -64 --separate-stderr shop-catalog publish
	expect_one_error "missing argument"
}
