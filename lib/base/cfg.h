/* cfg: a YAML configuration file (libyaml) as a tree of maps, sequences and
 * scalars, checked against a schema when it is loaded, so that the getters
 * afterwards cannot meet a wrong type.
 *
 * Refused at load time, each as one error "FILE:LINE:COL: what" with code
 * SHOP_CONFIG (78): YAML syntax errors, input that is not UTF-8 (the parser
 * is forced to UTF-8), duplicate keys, anchors and aliases, tags, more than
 * one document, keys the schema does not know, values of the wrong type.
 * A file that cannot be opened: SHOP_NOTFOUND (66) when it does not exist,
 * SHOP_IOERR (74) otherwise.
 *
 * Also refused: a file over CFG_MAX_BYTES (SHOP_CONFIG), nesting deeper
 * than CFG_MAX_DEPTH, a top level that is not a mapping, keys that are not
 * scalars or are empty, empty list items, NUL characters in values.
 *
 * An unquoted empty value, ~ or null means "not given": it passes every
 * type check, cfg_get returns NULL for it and the getters their default.
 * An empty file (or only comments) is an empty config.
 *
 * This module knows nothing of the shop: the schema comes from the caller. */
#ifndef SHOP_CFG_H
#define SHOP_CFG_H

#include <stddef.h>
#include <stdint.h>
#include "util.h"

#define CFG_MAX_BYTES (1024 * 1024) /* a bigger file is refused, not read */
#define CFG_MAX_DEPTH 64            /* maps and lists nested deeper are refused */

enum cfg_type {
	CFG_STR,      /* any scalar, as a string */
	CFG_INT,      /* decimal integer scalar (optional '-'), fits int64 */
	CFG_BOOL,     /* true or false (YAML 1.2 core; never yes/no/on/off) */
	CFG_DURATION, /* clock_parse_duration syntax: 30s, 15m, 2h, 7d */
	CFG_NUMBER,   /* decimal number scalar such as 8.25 or 20 (kept as its string) */
	CFG_MAP,      /* a mapping whose keys are listed in the schema */
	CFG_SEQ,      /* a sequence; its items are described by "path[]" */
	CFG_FREEMAP,  /* a mapping with any keys; each value described by "path.*" */
	CFG_ANY,      /* anything: not checked further */
};

/* One schema entry. path: keys joined by '.', "[]" for the items of a
 * sequence, "*" for any key of a CFG_FREEMAP. Examples:
 *   {"currency", CFG_STR}, {"warehouses", CFG_SEQ}, {"warehouses[]", CFG_MAP},
 *   {"warehouses[].id", CFG_STR}, {"templates", CFG_FREEMAP},
 *   {"templates.*", CFG_MAP}, {"templates.*.subject", CFG_STR}.
 * The root is implicitly a CFG_MAP. The array ends with {NULL, 0}. */
typedef struct cfg_schema {
	const char *path;
	enum cfg_type type;
} cfg_schema;

typedef struct cfg cfg;
typedef struct cfg_node cfg_node;

/* Load and check a file. NULL with e set on any error (codes above). */
cfg *cfg_load_file(const char *path, const cfg_schema *schema, shop_err *e);
/* The same from memory; name is used in messages in place of a file name. */
cfg *cfg_load_string(const char *name, const char *text, size_t len, const cfg_schema *schema, shop_err *e);
/* An empty config (every getter returns its default). */
cfg *cfg_empty(void);
void cfg_free(cfg *c);
/* The file name given at load ("(built-in)" for cfg_empty). Borrowed. */
const char *cfg_name(const cfg *c);

/* Navigation. path is relative to n (NULL n means the root) and uses '.'
 * between keys; no "[]" here: use cfg_len/cfg_at for sequences.
 * Returns NULL when absent. All returned pointers are borrowed from c. */
const cfg_node *cfg_get(const cfg *c, const cfg_node *n, const char *path);
/* Sequences and maps: number of items; item i (for maps: the value). */
size_t cfg_len(const cfg_node *n);
const cfg_node *cfg_at(const cfg_node *n, size_t i);
/* For maps: the key of item i. */
const char *cfg_key_at(const cfg_node *n, size_t i);
/* The scalar text of n (NULL when n is not a scalar, or is a null). */
const char *cfg_text(const cfg_node *n);
/* "FILE:LINE:COL" of n (1-based) for messages about a value. Borrowed. */
const char *cfg_where(const cfg_node *n);

/* Typed getters with defaults; types were checked at load time. */
const char *cfg_str(const cfg *c, const cfg_node *n, const char *path, const char *def);
int64_t cfg_int(const cfg *c, const cfg_node *n, const char *path, int64_t def);
int cfg_bool(const cfg *c, const cfg_node *n, const char *path, int def);
/* In milliseconds. */
int64_t cfg_duration(const cfg *c, const cfg_node *n, const char *path, int64_t def_ms);

#endif
