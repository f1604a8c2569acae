/* util: allocation that cannot fail, growable byte buffers, the error context.
 *
 * Allocation failure is not recoverable here: xmalloc and friends print one
 * line and exit 70, so callers never check for NULL (the redis rule). */
#ifndef SHOP_UTIL_H
#define SHOP_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exitcodes.h"

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh heap string; never NULL. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A growable byte buffer, always NUL-terminated when len > 0 or after buf_str. */
typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

void buf_grow(buf *b, size_t extra);
void buf_add(buf *b, const void *p, size_t n);
void buf_adds(buf *b, const char *s);
void buf_addc(buf *b, char c);
void buf_addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* The contents as a C string (owned by the buffer). */
const char *buf_str(buf *b);
void buf_reset(buf *b);
void buf_free(buf *b);
/* Hand the contents to the caller (who frees them) and empty the buffer. */
char *buf_detach(buf *b);

/* The error context: the first error recorded sticks and is reported once,
 * at the boundary (cmd/), as "prog: msg". code is an exit code of
 * exitcodes.h; 0 means no error. */
typedef struct shop_err {
	int code;
	char msg[1024];
} shop_err;

/* Record an error unless one is already recorded. Returns e->code (the
 * code of the error that sticks), so `return err_set(e, ...)` works. */
int err_set(shop_err *e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int err_vset(shop_err *e, int code, const char *fmt, va_list ap);
void err_clear(shop_err *e);
/* Put a prefix (such as "stdin:12: ") in front of the recorded message. */
void err_prefix(shop_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Strict UTF-8 check: no overlongs, no surrogates, nothing above U+10FFFF.
 * Returns 1 when valid; else 0 and *bad is the offset of the first bad byte. */
int utf8_valid(const char *s, size_t n, size_t *bad);

/* Parse a whole decimal integer string (optional sign) into *out; 0 on
 * success, -1 when it is empty, has junk or overflows. Never atoi. */
int parse_i64(const char *s, int64_t *out);

/* Write all of p to fd, retrying on EINTR and short writes; 0 or -1 (errno). */
int write_all(int fd, const void *p, size_t n);

#endif
