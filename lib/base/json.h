/* json: a strict RFC 8259 parser and a compact writer.
 *
 * The parser builds a jtree: nodes in an arena, strings without escapes
 * pointing into the input, reset and reused from one line to the next, so
 * that reading a record costs no allocation per value. A jtree converts to
 * jq's jv values (json_parse does both) for the programs that need jq; the
 * catalog reads records straight from the tree. Several times faster than
 * libjq 1.6's own parser, and strict where libjq is lenient (nan, ...).
 *
 * Parsing rules (shop-records(5)): one JSON text, surrounded by optional
 * whitespace; nesting at most JSON_MAX_DEPTH; numbers must be finite
 * doubles; duplicate object keys: the last value wins, at the first key's
 * place (as jq has it); \u escapes of lone surrogates become U+FFFD; raw
 * control characters inside strings are refused. The input must be valid
 * UTF-8 (the caller checks: jsonl does, with the byte offset). */
#ifndef SHOP_JSON_H
#define SHOP_JSON_H

#include <jv.h>
#include <stddef.h>
#include <stdint.h>
#include "util.h"

#define JSON_MAX_DEPTH 256

enum jnode_type { JN_NULL, JN_FALSE, JN_TRUE, JN_NUM, JN_STR, JN_ARR, JN_OBJ };

typedef struct jnode jnode;
struct jnode {
	const char *key;  /* the member's key in an object, else NULL */
	uint32_t keylen;
	uint8_t type;     /* enum jnode_type */
	uint32_t len;     /* JN_STR: bytes (may hold NUL); JN_ARR, JN_OBJ: members */
	union {
		double num;   /* JN_NUM */
		const char *str; /* JN_STR, not NUL-terminated */
		jnode *kids;  /* JN_ARR, JN_OBJ: len members */
	};
};

typedef struct jtree jtree;

jtree *jtree_new(void);
void jtree_free(jtree *t);
/* Parse p[0..n) into t, dropping what t held before. The tree borrows p:
 * keep it unchanged while the tree is used. Returns the root, or NULL with
 * a message such as "byte 17: expected ',' or '}'" in err (errlen bytes). */
const jnode *jtree_parse(jtree *t, const char *p, size_t n, char *err, size_t errlen);

/* The member key of object o, or NULL (also when o is not an object). */
const jnode *jnode_get(const jnode *o, const char *key);
/* 1 when n is a string equal to s. */
int jnode_is(const jnode *n, const char *s);
/* The string member key of object o copied into out (n bytes, cut to
 * fit), control characters made spaces so that it can go into a one-line
 * message; "" when absent or not a string. Returns out. */
const char *jnode_text(const jnode *o, const char *key, char *out, size_t n);
/* A heap copy of a string node's text (NUL-terminated). */
char *jnode_strdup(const jnode *n);
/* The kind as text for messages: "a string", "an object", "null"... */
const char *jnode_kind_text(const jnode *n);
/* Append n as compact JSON, as json_dump writes the same value; with
 * sorted, object keys in byte order at every level. */
void jnode_dump(const jnode *n, int sorted, buf *out);
/* The same value as a jv (owned). */
jv jnode_to_jv(const jnode *n);

/* Parse p[0..n) into *out (owned). 0 on success; -1 with a message in err. */
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
