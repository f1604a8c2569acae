/* json: a strict RFC 8259 parser into jq's jv values, and a compact
 * writer of jv values. Both several times faster than libjq 1.6's own
 * (which dominated a catalog import), and the parser is strict where
 * libjq's is lenient (it takes nan, and literals jq invented).
 *
 * Parsing rules (shop-records(5)): one JSON text, surrounded by optional
 * whitespace; nesting at most JSON_MAX_DEPTH; numbers must be finite
 * doubles; duplicate object keys: the last one wins; \u escapes of lone
 * surrogates become U+FFFD; raw control characters inside strings are
 * refused; the input must be valid UTF-8 (checked by the caller or here). */
#ifndef SHOP_JSON_H
#define SHOP_JSON_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"

#define JSON_MAX_DEPTH 256

/* Parse p[0..n) into *out (owned). 0 on success; -1 with a message such as
 * "byte 17: expected ',' or '}'" in err (errlen bytes) on failure. */
int json_parse(const char *p, size_t n, jv *out, char *err, size_t errlen);

/* Append v (borrowed) as compact JSON, keys in insertion order. Numbers:
 * integers below 1e17 in plain digits, others in the shortest form that
 * reads back to the same double. */
void json_dump(jv v, buf *out);
/* Append a JSON string of s[0..n) (valid UTF-8), escaped as json_dump does. */
void json_dump_str(const char *s, size_t n, buf *out);
/* Append an integer in plain digits. */
void json_dump_int(int64_t v, buf *out);

#endif
