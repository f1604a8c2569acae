/* jsonl: see jsonl.h. */
#include "jsonl.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct jsonl_reader {
	FILE *f;
	const char *name;
	size_t max_line;
	size_t lineno;
	buf line;
	char chunk[65536];
	size_t pos, fill;
	int eof;
	jtree *tree;
};

jsonl_reader *jsonl_reader_new(FILE *f, const char *name, size_t max_line)
{
	jsonl_reader *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->name = name;
	r->max_line = max_line ? max_line : JSONL_MAX_LINE;
	return r;
}

void jsonl_reader_free(jsonl_reader *r)
{
	if (!r)
		return;
	buf_free(&r->line);
	jtree_free(r->tree);
	free(r);
}

size_t jsonl_lineno(const jsonl_reader *r)
{
	return r->lineno;
}

const char *jsonl_line(const jsonl_reader *r, size_t *len)
{
	*len = r->line.len;
	return r->line.p ? r->line.p : "";
}

/* Read one line (without its '\n') into r->line. 1 = a line, 0 = EOF,
 * -1 = error. A line over the limit is consumed to its end before the error
 * is returned, so that a caller that goes on (--keep-going) starts on the
 * next line; r->line then keeps the first max_line bytes. */
static int read_line(jsonl_reader *r, shop_err *e)
{
	buf_reset(&r->line);
	int any = 0, over = 0;
	for (;;) {
		if (r->pos == r->fill) {
			if (!r->eof) {
				r->fill = fread(r->chunk, 1, sizeof r->chunk, r->f);
				r->pos = 0;
				if (r->fill == 0) {
					if (ferror(r->f)) {
						err_set(e, SHOP_IOERR, "%s: read: %s", r->name, strerror(errno));
						return -1;
					}
					r->eof = 1;
				}
			}
			if (r->eof)
				break;
		}
		any = 1;
		char *start = r->chunk + r->pos;
		char *nl = memchr(start, '\n', r->fill - r->pos);
		size_t n = nl ? (size_t)(nl - start) : r->fill - r->pos;
		r->pos += n + (nl ? 1 : 0);
		if (!over && r->line.len + n > r->max_line) {
			over = 1;
			buf_add(&r->line, start, r->max_line - r->line.len);
		} else if (!over) {
			buf_add(&r->line, start, n);
		}
		if (nl)
			break;
	}
	if (!any)
		return 0;
	if (over) {
		r->lineno++;
		err_set(e, SHOP_DATAERR, "%s:%zu: line longer than %zu bytes", r->name, r->lineno, r->max_line);
		return -1;
	}
	return 1;
}

static int blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

int jsonl_next_tree(jsonl_reader *r, const jnode **out, shop_err *e)
{
	for (;;) {
		int rc = read_line(r, e);
		if (rc <= 0)
			return rc;
		r->lineno++;
		if (blank(r->line.p, r->line.len))
			continue;
		size_t bad;
		if (!utf8_valid(r->line.p, r->line.len, &bad)) {
			err_set(e, SHOP_DATAERR, "%s:%zu: invalid UTF-8 at byte %zu", r->name, r->lineno, bad + 1);
			return -1;
		}
		if (!r->tree)
			r->tree = jtree_new();
		char msg[160];
		*out = jtree_parse(r->tree, r->line.p, r->line.len, msg, sizeof msg);
		if (!*out) {
			err_set(e, SHOP_DATAERR, "%s:%zu: malformed JSON: %s", r->name, r->lineno, msg);
			return -1;
		}
		return 1;
	}
}

int jsonl_next(jsonl_reader *r, jv *out, shop_err *e)
{
	const jnode *n;
	int rc = jsonl_next_tree(r, &n, e);
	if (rc > 0)
		*out = jnode_to_jv(n);
	return rc;
}

const char *jv_kind_text(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "a boolean";
	case JV_KIND_NUMBER:
		return "a number";
	case JV_KIND_STRING:
		return "a string";
	case JV_KIND_ARRAY:
		return "an array";
	case JV_KIND_OBJECT:
		return "an object";
	default:
		return "invalid";
	}
}

const char *rec_str(jv rec, const char *key, shop_err *e)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return NULL;
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(v);
	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		jv_free(v);
		return NULL;
	}
	if (k != JV_KIND_STRING) {
		err_set(e, SHOP_DATAERR, "field '%s': expected a string, got %s", key, jv_kind_text(v));
		jv_free(v);
		return NULL;
	}
	/* rec still holds a reference, so the bytes stay valid. */
	const char *s = jv_string_value(v);
	jv_free(v);
	return s;
}

int rec_int(jv rec, const char *key, int64_t *out, shop_err *e)
{
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		return 0;
	jv v = jv_object_get(jv_copy(rec), jv_string(key));
	jv_kind k = jv_get_kind(v);
	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	if (k != JV_KIND_NUMBER) {
		err_set(e, SHOP_DATAERR, "field '%s': expected an integer, got %s", key, jv_kind_text(v));
		jv_free(v);
		return -1;
	}
	double d = jv_number_value(v);
	jv_free(v);
	if (!isfinite(d) || d != floor(d)) {
		err_set(e, SHOP_DATAERR, "field '%s': expected an integer, got a fraction", key);
		return -1;
	}
	/* From 2^53 on, doubles skip integers: 2^53 + 1 reads as 2^53, so
	 * only the safe integers are taken. */
	if (fabs(d) >= 9007199254740992.0) {
		err_set(e, SHOP_DATAERR, "field '%s': %.0f is too large (limit 2^53 - 1)", key, d);
		return -1;
	}
	*out = (int64_t)d;
	return 1;
}

/* ---- output ---- */

static struct {
	int table;
	int closed;
	jv rows; /* table mode: collected records */
	const char *const *cols;
} out = {0, 0, {0}, NULL};

void jsonl_out_columns(const char *const *cols)
{
	out.cols = cols;
}

int jsonl_out_gone(void)
{
	struct pollfd p = {1, 0, 0};
	/* A pipe's write end reports POLLERR once its read end is closed. */
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

void jsonl_out_init(int table)
{
	if (jv_get_kind(out.rows) == JV_KIND_ARRAY) /* from an earlier init or end */
		jv_free(out.rows);
	out.table = table;
	out.rows = table ? jv_array() : jv_invalid();
}

int jsonl_out_closed(void)
{
	return out.closed;
}

static void put(const char *p, size_t n)
{
	if (out.closed)
		return;
	if (fwrite(p, 1, n, stdout) != n || putchar('\n') == EOF) {
		if (errno == EPIPE)
			out.closed = 1;
	}
}

void jsonl_out(jv rec)
{
	if (out.table) {
		out.rows = jv_array_append(out.rows, rec);
		return;
	}
	static buf line;
	buf_reset(&line);
	json_dump(rec, &line);
	jv_free(rec);
	put(line.p, line.len);
}

void jsonl_out_raw(const char *json, size_t len)
{
	if (out.table) {
		jv v;
		if (!json_parse(json, len, &v, NULL, 0))
			out.rows = jv_array_append(out.rows, v);
		return;
	}
	put(json, len);
}

/* Display width of UTF-8 text, counting code points (good enough for a
 * terminal table of mostly Latin text). */
static size_t width(const char *s, size_t n)
{
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

#define CELL_MAX 40

/* The cell text for a value, cut to CELL_MAX code points. Owned. */
static char *cell(jv v)
{
	char *t;
	jv_kind k = jv_get_kind(v);
	if (k == JV_KIND_INVALID || k == JV_KIND_NULL) {
		jv_free(v);
		t = xstrdup("");
	} else if (k == JV_KIND_STRING) {
		t = xstrdup(jv_string_value(v));
		jv_free(v);
	} else {
		jv s = jv_dump_string(v, 0);
		t = xstrdup(jv_string_value(s));
		jv_free(s);
	}
	for (char *c = t; *c; c++)
		if (*c == '\n' || *c == '\t' || *c == '\r')
			*c = ' ';
	size_t w = 0;
	for (size_t i = 0; t[i]; i++) {
		if (((unsigned char)t[i] & 0xc0) != 0x80 && ++w > CELL_MAX) {
			/* Replace the 40th code point and the tail with an
			 * ellipsis (3 bytes in UTF-8), on a character boundary. */
			size_t j = i - 1;
			while (j > 0 && ((unsigned char)t[j] & 0xc0) == 0x80)
				j--;
			t = xrealloc(t, i + 4);
			memcpy(t + j, "\xe2\x80\xa6", 4);
			break;
		}
	}
	return t;
}

static void print_table(void)
{
	jv cols = jv_array();
	int nrows = jv_array_length(jv_copy(out.rows));
	for (const char *const *c = out.cols; c && *c; c++)
		cols = jv_array_append(cols, jv_string(*c));
	for (int r = 0; !out.cols && r < nrows; r++) {
		jv row = jv_array_get(jv_copy(out.rows), r);
		if (jv_get_kind(row) == JV_KIND_OBJECT) {
			jv keys = jv_keys_unsorted(jv_copy(row));
			jv_array_foreach(keys, i, k)
			{
				int seen = 0;
				jv_array_foreach(cols, j, c)
				{
					if (jv_equal(jv_copy(c), jv_copy(k)))
						seen = 1;
					jv_free(c);
				}
				if (!seen && strcmp(jv_string_value(k), "kind"))
					cols = jv_array_append(cols, jv_copy(k));
				jv_free(k);
			}
			jv_free(keys);
		}
		jv_free(row);
	}
	int ncols = jv_array_length(jv_copy(cols));
	if (ncols == 0) {
		jv_free(cols);
		return;
	}
	size_t *w = xcalloc((size_t)ncols, sizeof *w);
	char **cells = xcalloc((size_t)(nrows + 1) * (size_t)ncols, sizeof *cells);
	for (int c = 0; c < ncols; c++) {
		jv name = jv_array_get(jv_copy(cols), c);
		cells[c] = xstrdup(jv_string_value(name));
		jv_free(name);
		for (char *p = cells[c]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	}
	for (int r = 0; r < nrows; r++) {
		jv row = jv_array_get(jv_copy(out.rows), r);
		for (int c = 0; c < ncols; c++) {
			jv v = jv_get_kind(row) == JV_KIND_OBJECT
			           ? jv_object_get(jv_copy(row), jv_array_get(jv_copy(cols), c))
			           : jv_null();
			cells[(r + 1) * ncols + c] = cell(v);
		}
		jv_free(row);
	}
	for (int r = 0; r <= nrows; r++)
		for (int c = 0; c < ncols; c++) {
			size_t cw = width(cells[r * ncols + c], strlen(cells[r * ncols + c]));
			if (cw > w[c])
				w[c] = cw;
		}
	buf line = {0};
	for (int r = 0; r <= nrows; r++) {
		buf_reset(&line);
		for (int c = 0; c < ncols; c++) {
			const char *t = cells[r * ncols + c];
			buf_adds(&line, t);
			if (c + 1 < ncols)
				for (size_t k = width(t, strlen(t)); k < w[c] + 2; k++)
					buf_addc(&line, ' ');
		}
		while (line.len && line.p[line.len - 1] == ' ')
			line.len--;
		put(line.p ? line.p : "", line.len);
	}
	buf_free(&line);
	for (int i = 0; i < (nrows + 1) * ncols; i++)
		free(cells[i]);
	free(cells);
	free(w);
	jv_free(cols);
}

int jsonl_out_end(void)
{
	if (out.table) {
		print_table();
		jv_free(out.rows);
		out.rows = jv_array();
	}
	if (fflush(stdout) != 0 && errno != EPIPE && !out.closed)
		return SHOP_IOERR;
	return 0;
}

jv rec_field(jv o, const char *key)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	if (!jv_is_valid(v)) {
		jv_free(v);
		return jv_null();
	}
	return v;
}

jv jv_text_or_null(const char *t)
{
	return t && *t ? jv_string(t) : jv_null();
}
