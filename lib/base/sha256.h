/* sha256: FIPS 180-4 SHA-256, for content-addressed files. */
#ifndef SHOP_SHA256_H
#define SHOP_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct sha256_ctx {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t fill;
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *p, size_t n);
void sha256_final(sha256_ctx *c, unsigned char out[32]);
/* One call: the lower-case hex digest of p[0..n) into hex (65 bytes, NUL-terminated). */
void sha256_hex(const void *p, size_t n, char hex[65]);

#endif
