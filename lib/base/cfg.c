/* cfg: see cfg.h. The file is read whole (it is small, the size is capped,
 * and a reader error can then be placed on a line), turned into our own
 * tree with libyaml's event API, and the tree is checked against the schema
 * before any caller sees it, so the getters never meet a surprise.
 *
 * Event API rather than the document API: each event carries its anchor,
 * tag and style, and a second document can be refused as soon as it starts
 * instead of after it has been loaded. */
#include "cfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "clock.h"

enum { N_SCALAR, N_MAP, N_SEQ };

struct cfg_node {
	int kind;
	int plain;        /* unquoted scalar: only these may be numbers, booleans or null */
	char *text;       /* scalars; NUL-free, so a C string */
	size_t len;
	size_t n, cap;
	cfg_node **items; /* maps: the values; sequences: the items */
	cfg_node **keys;  /* maps: the keys, kept as nodes so messages can point at them */
	size_t line, col; /* 1-based */
	char *where;
};

struct cfg {
	char *name;
	cfg_node *root;
};

typedef struct loader {
	const char *name;
	const char *text; /* the whole input, to place reader errors */
	size_t len;
	const cfg_schema *schema;
	shop_err *e;
	cfg_node *root;
	struct {
		cfg_node *node;
		cfg_node *key; /* a key read, its value not yet: owned here until then */
	} stack[CFG_MAX_DEPTH];
	size_t depth;
	int docs;
} loader;

static cfg_node *node_new(const char *name, int kind, size_t line, size_t col)
{
	cfg_node *n = xcalloc(1, sizeof *n);
	n->kind = kind;
	n->line = line;
	n->col = col;
	n->where = xasprintf("%s:%zu:%zu", name, line, col);
	return n;
}

/* Recursion is safe: the loader refuses nesting deeper than CFG_MAX_DEPTH. */
static void node_free(cfg_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->text);
	free(n->where);
	free(n);
}

static void node_add(cfg_node *parent, cfg_node *key, cfg_node *val)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->items = xrealloc(parent->items, parent->cap * sizeof *parent->items);
		if (parent->kind == N_MAP)
			parent->keys = xrealloc(parent->keys, parent->cap * sizeof *parent->keys);
	}
	if (parent->kind == N_MAP)
		parent->keys[parent->n] = key;
	parent->items[parent->n++] = val;
}

/* YAML 1.2 core nulls, minus the capitalised spellings (as with booleans,
 * one spelling is enough). A null stands for "not given". */
static int is_null(const cfg_node *n)
{
	return n->kind == N_SCALAR && n->plain &&
	       (n->len == 0 || !strcmp(n->text, "~") || !strcmp(n->text, "null"));
}

/* A value quoted for a one-line message: control characters escaped so a
 * block scalar cannot break the line, long values cut at a character
 * boundary. */
static const char *show(char *out, size_t cap, const char *s, size_t n)
{
	size_t o = 0, shown = 0;
	out[o++] = '\'';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80 && (shown >= 40 || o + 8 >= cap)) {
			o += (size_t)snprintf(out + o, cap - o, "...");
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
			if (esc)
				o += (size_t)snprintf(out + o, cap - o, "%s", esc);
			else
				o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
		if ((c & 0xc0) != 0x80)
			shown++;
	}
	out[o++] = '\'';
	out[o] = 0;
	return out;
}

#define SHOWN 200 /* room for show(): 40 characters of up to 4 bytes, escapes, quotes */

static int err_at(loader *ld, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int err_at(loader *ld, size_t line, size_t col, const char *fmt, ...)
{
	char what[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	err_set(ld->e, SHOP_CONFIG, "%s:%zu:%zu: %s", ld->name, line, col, what);
	return -1;
}

/* ---- from events to a tree ---- */

static int parse_error(loader *ld, const yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR) {
		err_set(ld->e, SHOP_SOFTWARE, "%s: out of memory while parsing", ld->name);
		return -1;
	}
	const char *problem = p->problem ? p->problem : "cannot parse";
	if (p->error == YAML_READER_ERROR) {
		/* The reader's mark is not kept up to date, but its offset is, and
		 * everything before it decoded fine: count lines and characters. */
		size_t off = p->problem_offset < ld->len ? p->problem_offset : ld->len;
		size_t line = 1, col = 1;
		for (size_t i = 0; i < off; i++) {
			unsigned char c = (unsigned char)ld->text[i];
			if (c == '\n' || (c == '\r' && (i + 1 >= off || ld->text[i + 1] != '\n'))) {
				line++;
				col = 1;
			} else if ((c & 0xc0) != 0x80 && c != '\r') {
				col++;
			}
		}
		const char *hint = strstr(problem, "UTF-8") ? " (a config file must be UTF-8 text)" : "";
		if (p->problem_value != -1)
			return err_at(ld, line, col, "%s 0x%02X at byte %zu%s", problem,
				      (unsigned)p->problem_value, off + 1, hint);
		return err_at(ld, line, col, "%s at byte %zu%s", problem, off + 1, hint);
	}
	size_t line = p->problem_mark.line + 1, col = p->problem_mark.column + 1;
	if (p->context)
		return err_at(ld, line, col, "%s (%s at line %zu)", problem, p->context,
			      p->context_mark.line + 1);
	return err_at(ld, line, col, "%s", problem);
}

/* Anchors and aliases let one value stand in several places (and make
 * "billion laughs" files possible); tags change what a value means. A
 * config file is read by people: what is written is what it means. */
static int check_props(loader *ld, const yaml_mark_t *m, const yaml_char_t *anchor, const yaml_char_t *tag)
{
	char s[SHOWN];
	size_t line = m->line + 1, col = m->column + 1;
	if (anchor)
		return err_at(ld, line, col, "anchors are not allowed in a config file (anchor %s): write the value out",
			      show(s, sizeof s, (const char *)anchor, strlen((const char *)anchor)));
	if (tag) {
		const char *t = (const char *)tag, *pfx = "tag:yaml.org,2002:";
		char full[SHOWN + 2];
		if (!strncmp(t, pfx, strlen(pfx)))
			snprintf(full, sizeof full, "!!%s", t + strlen(pfx));
		else
			snprintf(full, sizeof full, "%s", t);
		return err_at(ld, line, col, "tags are not allowed in a config file (tag %s): quote a value to make it a string",
			      show(s, sizeof s, full, strlen(full)));
	}
	return 0;
}

static const char *kind_name(const cfg_node *n)
{
	return n->kind == N_MAP ? "a mapping" : n->kind == N_SEQ ? "a list" : "a scalar";
}

/* Takes n: on error it is freed here. */
static int attach(loader *ld, cfg_node *n)
{
	if (!ld->depth) {
		if (n->kind == N_SEQ || (n->kind == N_SCALAR && !is_null(n))) {
			err_at(ld, n->line, n->col, "the top level must be a mapping (key: value lines), not %s",
			       kind_name(n));
			node_free(n);
			return -1;
		}
		ld->root = n;
		return 0;
	}
	cfg_node *parent = ld->stack[ld->depth - 1].node;
	if (parent->kind == N_SEQ) {
		node_add(parent, NULL, n);
		return 0;
	}
	cfg_node **key = &ld->stack[ld->depth - 1].key;
	if (*key) {
		node_add(parent, *key, n);
		*key = NULL;
		return 0;
	}
	if (n->kind != N_SCALAR) {
		err_at(ld, n->line, n->col, "a key must be a scalar, not %s", kind_name(n));
		node_free(n);
		return -1;
	}
	if (!n->len) {
		err_at(ld, n->line, n->col, "empty key");
		node_free(n);
		return -1;
	}
	*key = n;
	return 0;
}

static int before(const cfg_node *a, const cfg_node *b)
{
	return a->line < b->line || (a->line == b->line && a->col < b->col);
}

static int cmp_keys(const void *pa, const void *pb)
{
	const cfg_node *a = *(cfg_node *const *)pa, *b = *(cfg_node *const *)pb;
	int c = strcmp(a->text, b->text);
	if (c)
		return c;
	return before(a, b) ? -1 : before(b, a);
}

/* libyaml lets duplicate keys through, and "last one wins" would hide a
 * typo'd copy-paste. Sorting keeps a huge map from costing n². The error
 * is the duplicate that comes first in the file. */
static int check_dups(loader *ld, const cfg_node *map)
{
	if (map->n < 2)
		return 0;
	cfg_node **k = xmalloc(map->n * sizeof *k);
	memcpy(k, map->keys, map->n * sizeof *k);
	qsort(k, map->n, sizeof *k, cmp_keys);
	const cfg_node *dup = NULL, *first = NULL;
	for (size_t i = 1; i < map->n; i++) {
		if (strcmp(k[i]->text, k[i - 1]->text))
			continue;
		if (i >= 2 && !strcmp(k[i - 1]->text, k[i - 2]->text))
			continue; /* a third copy: the second one is reported */
		if (!dup || before(k[i], dup)) {
			dup = k[i];
			first = k[i - 1];
		}
	}
	int rc = 0;
	if (dup) {
		char s[SHOWN];
		rc = err_at(ld, dup->line, dup->col, "duplicate key %s (first at line %zu)",
			    show(s, sizeof s, dup->text, dup->len), first->line);
	}
	free(k);
	return rc;
}

static int on_event(loader *ld, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	size_t line = m->line + 1, col = m->column + 1;
	cfg_node *n;
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (ld->docs++)
			return err_at(ld, line, col, "a second YAML document: a config file holds exactly one");
		return 0;
	case YAML_ALIAS_EVENT: {
		const char *a = (const char *)ev->data.alias.anchor;
		char s[SHOWN];
		return err_at(ld, line, col, "aliases are not allowed in a config file (alias %s): write the value out",
			      show(s, sizeof s, a, strlen(a)));
	}
	case YAML_SCALAR_EVENT:
		if (check_props(ld, m, ev->data.scalar.anchor, ev->data.scalar.tag))
			return -1;
		/* "\0" in a double-quoted string would cut the C string short. */
		if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
			return err_at(ld, line, col, "a NUL character (\\0) is not allowed in a value");
		n = node_new(ld->name, N_SCALAR, line, col);
		n->text = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->len = ev->data.scalar.length;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		return attach(ld, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int map = ev->type == YAML_MAPPING_START_EVENT;
		if (check_props(ld, m, map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor,
				map ? ev->data.mapping_start.tag : ev->data.sequence_start.tag))
			return -1;
		/* The tree is freed and checked by recursion: bound it. */
		if (ld->depth == CFG_MAX_DEPTH)
			return err_at(ld, line, col, "nested deeper than %d levels", CFG_MAX_DEPTH);
		n = node_new(ld->name, map ? N_MAP : N_SEQ, line, col);
		if (attach(ld, n))
			return -1;
		ld->stack[ld->depth].node = n;
		ld->stack[ld->depth].key = NULL;
		ld->depth++;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
		ld->depth--;
		return 0;
	case YAML_MAPPING_END_EVENT:
		ld->depth--;
		return check_dups(ld, ld->stack[ld->depth].node);
	default:
		return 0;
	}
}

/* ---- schema ---- */

static int schema_find(const cfg_schema *s, const char *path)
{
	for (; s && s->path; s++)
		if (!strcmp(s->path, path))
			return (int)s->type;
	return -1;
}

/* Optimal string alignment distance (a swap of two neighbours costs 1:
 * "nmae" is one slip from "name"). Both strings are short keys. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t *r0 = xcalloc(lb + 1, sizeof *r0), *r1 = xcalloc(lb + 1, sizeof *r1),
	       *r2 = xcalloc(lb + 1, sizeof *r2);
	for (size_t j = 0; j <= lb; j++)
		r1[j] = j;
	for (size_t i = 1; i <= la; i++) {
		r2[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = r1[j - 1] + cost;
			if (r1[j] + 1 < d)
				d = r1[j] + 1;
			if (r2[j - 1] + 1 < d)
				d = r2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && r0[j - 2] + 1 < d)
				d = r0[j - 2] + 1;
			r2[j] = d;
		}
		size_t *t = r0;
		r0 = r1;
		r1 = r2;
		r2 = t;
	}
	size_t d = r1[lb];
	free(r0);
	free(r1);
	free(r2);
	return d;
}

/* The known key under parent closest to key, when close enough to be a
 * typo: at most 2 edits, and fewer than half the candidate's length so
 * that "id" is not offered for "xy". */
static const char *suggest(const cfg_schema *s, const char *parent, const char *key, size_t klen)
{
	size_t plen = strlen(parent), best = 3;
	const char *found = NULL;
	if (klen > 64)
		return NULL;
	for (; s && s->path; s++) {
		const char *seg = s->path;
		if (plen) {
			if (strncmp(seg, parent, plen) || seg[plen] != '.')
				continue;
			seg += plen + 1;
		}
		size_t slen = strlen(seg);
		if (!slen || strpbrk(seg, ".[") || !strcmp(seg, "*") || slen > 64)
			continue;
		size_t d = distance(key, klen, seg, slen);
		if (d < best && d * 2 <= slen) {
			best = d;
			found = seg;
		}
	}
	return found;
}

static const char *want_name(int t)
{
	switch (t) {
	case CFG_STR: return "a string";
	case CFG_INT: return "an integer";
	case CFG_BOOL: return "true or false";
	case CFG_DURATION: return "a duration such as 30s, 15m, 2h or 7d";
	case CFG_NUMBER: return "a decimal number such as 8.25";
	case CFG_MAP:
	case CFG_FREEMAP: return "a mapping (key: value lines)";
	case CFG_SEQ: return "a list";
	default: return "a value";
	}
}

/* 0 ok, -1 not an integer, -2 out of range. */
static int parse_int(const char *s, int64_t *out)
{
	const char *p = s + (*s == '-');
	if (!*p || strspn(p, "0123456789") != strlen(p))
		return -1;
	return parse_i64(s, out) ? -2 : 0;
}

static int number_ok(const char *s)
{
	const char *p = s + (*s == '-');
	size_t i = strspn(p, "0123456789");
	if (!i)
		return 0;
	if (!p[i])
		return 1;
	if (p[i] != '.')
		return 0;
	size_t f = strspn(p + i + 1, "0123456789");
	return f && !p[i + 1 + f];
}

static int scalar_ok(int t, const char *s)
{
	int64_t v;
	switch (t) {
	case CFG_INT: return parse_int(s, &v) == 0;
	case CFG_BOOL: return !strcmp(s, "true") || !strcmp(s, "false");
	case CFG_DURATION: return clock_parse_duration(s, &v) == 0;
	case CFG_NUMBER: return number_ok(s);
	default: return 1;
	}
}

static int check(loader *ld, const cfg_node *n, int t, buf *sp, buf *dp);

static void path_push(buf *b, const char *sep, const char *seg)
{
	if (b->len && sep)
		buf_adds(b, sep);
	buf_adds(b, seg);
}

static void path_pop(buf *b, size_t len)
{
	b->len = len;
	buf_str(b);
}

static const char *dpath(buf *dp)
{
	return dp->len ? buf_str(dp) : "(top level)";
}

static int check_map(loader *ld, const cfg_node *n, buf *sp, buf *dp)
{
	size_t sl = sp->len, dl = dp->len;
	char s[SHOWN];
	for (size_t i = 0; i < n->n; i++) {
		const cfg_node *k = n->keys[i];
		int t = -1;
		/* A key holding path syntax could otherwise reach a deeper schema
		 * entry ("gateway.driver: x" at the top level). */
		if (!strpbrk(k->text, ".[]") && strcmp(k->text, "*")) {
			path_push(sp, ".", k->text);
			t = schema_find(ld->schema, buf_str(sp));
			path_pop(sp, sl);
		}
		if (t < 0) {
			const char *hint = suggest(ld->schema, buf_str(sp), k->text, k->len);
			char h[SHOWN + 32] = "";
			if (hint)
				snprintf(h, sizeof h, " (did you mean '%s'?)", hint);
			if (dp->len)
				return err_at(ld, k->line, k->col, "unknown key %s in %s%s",
					      show(s, sizeof s, k->text, k->len), buf_str(dp), h);
			return err_at(ld, k->line, k->col, "unknown key %s at the top level%s",
				      show(s, sizeof s, k->text, k->len), h);
		}
		path_push(sp, ".", k->text);
		path_push(dp, ".", k->text);
		int rc = check(ld, n->items[i], t, sp, dp);
		path_pop(sp, sl);
		path_pop(dp, dl);
		if (rc)
			return rc;
	}
	return 0;
}

static int check(loader *ld, const cfg_node *n, int t, buf *sp, buf *dp)
{
	char s[SHOWN];
	size_t sl = sp->len, dl = dp->len;
	if (t == CFG_ANY || is_null(n))
		return 0;
	int want = t == CFG_MAP || t == CFG_FREEMAP ? N_MAP : t == CFG_SEQ ? N_SEQ : N_SCALAR;
	if (n->kind != want) {
		if (n->kind == N_SCALAR)
			return err_at(ld, n->line, n->col, "%s: expected %s, not %s%s", dpath(dp), want_name(t),
				      n->plain ? "" : "the string ", show(s, sizeof s, n->text, n->len));
		return err_at(ld, n->line, n->col, "%s: expected %s, not %s", dpath(dp), want_name(t), kind_name(n));
	}
	if (t == CFG_MAP)
		return check_map(ld, n, sp, dp);
	if (t == CFG_FREEMAP) {
		path_push(sp, NULL, ".*");
		int ct = schema_find(ld->schema, buf_str(sp));
		for (size_t i = 0; i < n->n; i++) {
			path_push(dp, ".", n->keys[i]->text);
			int rc = check(ld, n->items[i], ct < 0 ? CFG_ANY : ct, sp, dp);
			path_pop(dp, dl);
			if (rc) {
				path_pop(sp, sl);
				return rc;
			}
		}
		path_pop(sp, sl);
		return 0;
	}
	if (t == CFG_SEQ) {
		path_push(sp, NULL, "[]");
		int ct = schema_find(ld->schema, buf_str(sp));
		int rc = 0;
		for (size_t i = 0; i < n->n && !rc; i++) {
			const cfg_node *it = n->items[i];
			buf_addf(dp, "[%zu]", i);
			if (is_null(it))
				rc = err_at(ld, it->line, it->col, "%s: empty list item", buf_str(dp));
			else
				rc = check(ld, it, ct < 0 ? CFG_ANY : ct, sp, dp);
			path_pop(dp, dl);
		}
		path_pop(sp, sl);
		return rc;
	}
	if (t == CFG_STR)
		return 0;
	/* Quotes are how a user says "this is text": a quoted "5" is not 5. */
	if (!n->plain) {
		if (scalar_ok(t, n->text))
			return err_at(ld, n->line, n->col, "%s: expected %s, not the quoted string %s (remove the quotes)",
				      dpath(dp), want_name(t), show(s, sizeof s, n->text, n->len));
		return err_at(ld, n->line, n->col, "%s: expected %s, not the string %s", dpath(dp), want_name(t),
			      show(s, sizeof s, n->text, n->len));
	}
	int64_t v;
	if (t == CFG_INT && parse_int(n->text, &v) == -2)
		return err_at(ld, n->line, n->col, "%s: integer %s is out of range", dpath(dp),
			      show(s, sizeof s, n->text, n->len));
	if (t == CFG_DURATION && parse_int(n->text, &v) == 0)
		return err_at(ld, n->line, n->col, "%s: expected %s, not %s (a unit is required)", dpath(dp),
			      want_name(t), show(s, sizeof s, n->text, n->len));
	if (!scalar_ok(t, n->text))
		return err_at(ld, n->line, n->col, "%s: expected %s, not %s", dpath(dp), want_name(t),
			      show(s, sizeof s, n->text, n->len));
	return 0;
}

/* ---- loading ---- */

static cfg *load(const char *name, const char *text, size_t len, const cfg_schema *schema, shop_err *e)
{
	if (len > CFG_MAX_BYTES) {
		err_set(e, SHOP_CONFIG, "%s: too large (%zu bytes; a config file is limited to %d bytes)",
			name, len, CFG_MAX_BYTES);
		return NULL;
	}
	/* With the encoding forced, libyaml keeps a UTF-8 byte order mark as
	 * text; it is not part of the document. */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) {
		text += 3;
		len -= 3;
	}
	loader ld = {.name = name, .text = text, .len = len, .schema = schema, .e = e};
	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		err_set(e, SHOP_SOFTWARE, "%s: out of memory while parsing", name);
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	/* Left to detect the encoding, libyaml would take a stray FF FE or
	 * NUL byte as UTF-16 and read garbage instead of failing. */
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	int rc = 0, done = 0;
	while (!rc && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&p, &ev)) {
			rc = parse_error(&ld, &p);
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = on_event(&ld, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	for (size_t i = 0; i < ld.depth; i++)
		node_free(ld.stack[i].key);
	if (!rc && ld.root && is_null(ld.root)) {
		node_free(ld.root);
		ld.root = NULL;
	}
	if (!rc && !ld.root)
		ld.root = node_new(name, N_MAP, 1, 1);
	if (!rc) {
		buf sp = {0}, dp = {0};
		rc = check(&ld, ld.root, CFG_MAP, &sp, &dp);
		buf_free(&sp);
		buf_free(&dp);
	}
	if (rc) {
		node_free(ld.root);
		return NULL;
	}
	cfg *c = xmalloc(sizeof *c);
	c->name = xstrdup(name);
	c->root = ld.root;
	return c;
}

cfg *cfg_load_string(const char *name, const char *text, size_t len, const cfg_schema *schema, shop_err *e)
{
	return load(name ? name : "(string)", text ? text : "", text ? len : 0, schema, e);
}

cfg *cfg_load_file(const char *path, const cfg_schema *schema, shop_err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int err = errno;
		err_set(e, err == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "cannot open %s: %s", path, strerror(err));
		return NULL;
	}
	buf b = {0};
	for (;;) {
		/* Read one byte past the limit, no more, to tell "too large"
		 * even from an endless file such as /dev/zero. */
		buf_grow(&b, 65536);
		size_t room = b.cap - b.len - 1, left = (size_t)CFG_MAX_BYTES + 1 - b.len;
		ssize_t r = read(fd, b.p + b.len, room < left ? room : left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = errno;
			close(fd);
			buf_free(&b);
			err_set(e, SHOP_IOERR, "cannot read %s: %s", path, strerror(err));
			return NULL;
		}
		if (r == 0)
			break;
		b.len += (size_t)r;
		if (b.len > CFG_MAX_BYTES) {
			close(fd);
			buf_free(&b);
			err_set(e, SHOP_CONFIG, "%s: too large (a config file is limited to %d bytes)",
				path, CFG_MAX_BYTES);
			return NULL;
		}
	}
	close(fd);
	cfg *c = load(path, b.p ? b.p : "", b.len, schema, e);
	buf_free(&b);
	return c;
}

cfg *cfg_empty(void)
{
	cfg *c = xmalloc(sizeof *c);
	c->name = xstrdup("(built-in)");
	c->root = node_new(c->name, N_MAP, 1, 1);
	return c;
}

void cfg_free(cfg *c)
{
	if (!c)
		return;
	node_free(c->root);
	free(c->name);
	free(c);
}

const char *cfg_name(const cfg *c)
{
	return c ? c->name : "(built-in)";
}

/* ---- navigation and getters ---- */

const cfg_node *cfg_get(const cfg *c, const cfg_node *n, const char *path)
{
	const cfg_node *cur = n ? n : c ? c->root : NULL;
	const char *p = path ? path : "";
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		const cfg_node *next = NULL;
		if (cur->kind == N_MAP)
			for (size_t i = 0; i < cur->n && !next; i++)
				if (cur->keys[i]->len == len && !memcmp(cur->keys[i]->text, p, len))
					next = cur->items[i];
		cur = next;
		p += len;
		if (*p == '.' && !*++p)
			return NULL; /* "a." names nothing */
	}
	return cur && !is_null(cur) ? cur : NULL;
}

size_t cfg_len(const cfg_node *n)
{
	return n && n->kind != N_SCALAR ? n->n : 0;
}

const cfg_node *cfg_at(const cfg_node *n, size_t i)
{
	return n && n->kind != N_SCALAR && i < n->n ? n->items[i] : NULL;
}

const char *cfg_key_at(const cfg_node *n, size_t i)
{
	return n && n->kind == N_MAP && i < n->n ? n->keys[i]->text : NULL;
}

const char *cfg_text(const cfg_node *n)
{
	return n && n->kind == N_SCALAR && !is_null(n) ? n->text : NULL;
}

const char *cfg_where(const cfg_node *n)
{
	return n ? n->where : "(nowhere)";
}

/* The typed getters ask for an unquoted scalar, as the load-time check
 * did, so a value checked as CFG_STR cannot be read back as a number. */
static const cfg_node *plain_at(const cfg *c, const cfg_node *n, const char *path)
{
	const cfg_node *v = cfg_get(c, n, path);
	return v && v->kind == N_SCALAR && v->plain ? v : NULL;
}

const char *cfg_str(const cfg *c, const cfg_node *n, const char *path, const char *def)
{
	const char *s = cfg_text(cfg_get(c, n, path));
	return s ? s : def;
}

int64_t cfg_int(const cfg *c, const cfg_node *n, const char *path, int64_t def)
{
	const cfg_node *v = plain_at(c, n, path);
	int64_t x;
	return v && parse_int(v->text, &x) == 0 ? x : def;
}

int cfg_bool(const cfg *c, const cfg_node *n, const char *path, int def)
{
	const cfg_node *v = plain_at(c, n, path);
	if (v && !strcmp(v->text, "true"))
		return 1;
	if (v && !strcmp(v->text, "false"))
		return 0;
	return def;
}

int64_t cfg_duration(const cfg *c, const cfg_node *n, const char *path, int64_t def_ms)
{
	const cfg_node *v = plain_at(c, n, path);
	int64_t ms;
	return v && clock_parse_duration(v->text, &ms) == 0 ? ms : def_ms;
}
