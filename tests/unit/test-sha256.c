/* test-sha256: the FIPS 180-4 example vectors, whole and fed in pieces. */
#include "t.h"

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static const char *hex32(const unsigned char d[32], char out[65])
{
	static const char digit[] = "0123456789abcdef";
	for (int i = 0; i < 32; i++) {
		out[2 * i] = digit[d[i] >> 4];
		out[2 * i + 1] = digit[d[i] & 15];
	}
	out[64] = 0;
	return out;
}

/* The digest of s fed in chunks of the given sizes, cycling through them. */
static const char *chunked(const char *s, size_t n, const size_t *sizes, size_t nsizes, char out[65])
{
	sha256_ctx c;
	unsigned char d[32];
	sha256_init(&c);
	size_t off = 0, k = 0;
	while (off < n) {
		size_t take = sizes[k++ % nsizes];
		if (take > n - off)
			take = n - off;
		sha256_update(&c, s + off, take);
		off += take;
	}
	sha256_final(&c, d);
	return hex32(d, out);
}

#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define V448 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
#define V896 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
#define MILLION "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
#define FOX "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"

int main(void)
{
	char hex[65];
	const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
			   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	sha256_hex("", 0, hex);
	CHECK_STR(hex, EMPTY);
	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, ABC);
	CHECK_INT(strlen(m448), 56);
	sha256_hex(m448, strlen(m448), hex);
	CHECK_STR(hex, V448);
	CHECK_INT(strlen(m896), 112);
	sha256_hex(m896, strlen(m896), hex);
	CHECK_STR(hex, V896);
	sha256_hex("The quick brown fox jumps over the lazy dog", 43, hex);
	CHECK_STR(hex, FOX);

	/* One million 'a': whole, and as 1000 updates of 1000. */
	size_t mn = 1000000;
	char *million = malloc(mn);
	CHECK(million != NULL);
	if (!million)
		return t_done();
	memset(million, 'a', mn);
	sha256_hex(million, mn, hex);
	CHECK_STR(hex, MILLION);
	{
		sha256_ctx c;
		unsigned char d[32];
		sha256_init(&c);
		for (int i = 0; i < 1000; i++)
			sha256_update(&c, million, 1000);
		sha256_final(&c, d);
		CHECK_STR(hex32(d, hex), MILLION);
	}
	static const size_t odd[] = {1, 63, 65, 7, 127, 3, 64, 129, 0, 11};
	CHECK_STR(chunked(million, mn, odd, sizeof odd / sizeof odd[0], hex), MILLION);
	free(million);

	/* Incremental updates split at every boundary of the two-block vector,
	 * including the ones around the 55/56/64-byte padding edges. */
	size_t n896 = strlen(m896), bad = 0;
	for (size_t cut = 0; cut <= n896; cut++) {
		sha256_ctx c;
		unsigned char d[32];
		sha256_init(&c);
		sha256_update(&c, m896, cut);
		sha256_update(&c, m896 + cut, n896 - cut);
		sha256_final(&c, d);
		if (strcmp(hex32(d, hex), V896))
			bad++;
	}
	CHECK_INT(bad, 0);
	static const size_t ones[] = {1};
	CHECK_STR(chunked(m448, strlen(m448), ones, 1, hex), V448);
	static const size_t threes[] = {3, 5};
	CHECK_STR(chunked(m896, n896, threes, 2, hex), V896);

	/* Messages of every length 0..200 must agree between one update and
	 * byte-by-byte updates: this exercises every padding position. */
	char msg[200];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (char)('a' + i % 26);
	bad = 0;
	for (size_t n = 0; n <= sizeof msg; n++) {
		char a[65], b[65];
		sha256_hex(msg, n, a);
		chunked(msg, n, ones, 1, b);
		if (strcmp(a, b))
			bad++;
	}
	CHECK_INT(bad, 0);
	/* Lengths 55, 56 and 64 are the padding edges; known digests pin them. */
	char a55[56], a56[57], a64[65];
	memset(a55, 'a', 55);
	memset(a56, 'a', 56);
	memset(a64, 'a', 64);
	sha256_hex(a55, 55, hex);
	CHECK_STR(hex, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
	sha256_hex(a56, 56, hex);
	CHECK_STR(hex, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
	sha256_hex(a64, 64, hex);
	CHECK_STR(hex, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");

	/* A byte with the high bit set (no sign-extension bugs). */
	sha256_hex("\xff", 1, hex);
	CHECK_STR(hex, "a8100ae6aa1940d0b663bb31cd466142ebbdbd5187131b92d93818987832eb89");
	return t_done();
}
