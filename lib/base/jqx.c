/* jqx: see jqx.h. */
#include "jqx.h"

#include <jq.h>
#include <string.h>

struct jqx {
	char *what;
	jq_state *jq;  /* NULL for a plain path */
	char **path;   /* plain path keys, NULL-terminated */
	buf errmsg;    /* first message from jq's error callback */
};

/* A plain path is "." or ".key(.key)*" with key [A-Za-z_][A-Za-z0-9_]*. */
static char **parse_path(const char *s)
{
	while (*s == ' ')
		s++;
	if (*s != '.')
		return NULL;
	size_t n = 0, cap = 4;
	char **keys = xcalloc(cap + 1, sizeof *keys);
	const char *p = s;
	if (p[1] == 0 || (p[1] == ' ' && !p[strspn(p + 1, " ") + 1]))
		return keys; /* "." */
	while (*p == '.') {
		p++;
		const char *k = p;
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
			goto no;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')
			p++;
		if (n == cap) {
			cap *= 2;
			keys = xrealloc(keys, (cap + 1) * sizeof *keys);
		}
		keys[n++] = xstrndup(k, (size_t)(p - k));
		keys[n] = NULL;
	}
	while (*p == ' ')
		p++;
	if (*p)
		goto no;
	return keys;
no:
	for (size_t i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return NULL;
}

static void on_error(void *data, jv msg)
{
	jqx *x = data;
	if (x->errmsg.len == 0) {
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			buf_adds(&x->errmsg, jv_string_value(msg));
		} else {
			jv s = jv_dump_string(jv_copy(msg), 0);
			buf_adds(&x->errmsg, jv_string_value(s));
			jv_free(s);
		}
	}
	jv_free(msg);
}

static void on_nomem(void *data)
{
	(void)data;
	xmalloc(SIZE_MAX); /* dies with one line, exit 70 */
}

jqx *jqx_compile(const char *expr, const char *what, shop_err *e)
{
	jqx *x = xcalloc(1, sizeof *x);
	x->what = xstrdup(what);
	x->path = parse_path(expr);
	if (x->path)
		return x;
	x->jq = jq_init();
	if (!x->jq) {
		jqx_free(x);
		err_set(e, SHOP_SOFTWARE, "%s: cannot start jq", what);
		return NULL;
	}
	/* jq 1.6 forgets to initialise the handler. */
	jq_set_nomem_handler(x->jq, on_nomem, NULL);
	jq_set_error_cb(x->jq, on_error, x);
	if (!jq_compile_args(x->jq, expr, jv_object())) {
		/* Compile errors end with a count line; keep the first message. */
		char *nl = x->errmsg.p ? strchr(x->errmsg.p, '\n') : NULL;
		if (nl)
			*nl = 0;
		err_set(e, SHOP_USAGE, "%s: %s", what, x->errmsg.len ? x->errmsg.p : "does not compile");
		jqx_free(x);
		return NULL;
	}
	return x;
}

void jqx_free(jqx *x)
{
	if (!x)
		return;
	if (x->jq)
		jq_teardown(&x->jq);
	if (x->path) {
		for (char **k = x->path; *k; k++)
			free(*k);
		free(x->path);
	}
	buf_free(&x->errmsg);
	free(x->what);
	free(x);
}

int jqx_is_path(const jqx *x)
{
	return x->path != NULL;
}

int jqx_eval(jqx *x, jv in, jv *out, shop_err *e)
{
	if (x->path) {
		jv v = in;
		for (char **k = x->path; *k; k++) {
			jv_kind kind = jv_get_kind(v);
			if (kind == JV_KIND_NULL) {
				break;
			} else if (kind != JV_KIND_OBJECT) {
				err_set(e, SHOP_USAGE, "%s: cannot index %s with \"%s\"", x->what,
				        kind == JV_KIND_STRING ? "string" : kind == JV_KIND_ARRAY ? "array"
				        : kind == JV_KIND_NUMBER ? "number" : "boolean",
				        *k);
				jv_free(v);
				return e->code;
			}
			v = jv_object_get(v, jv_string(*k));
			if (!jv_is_valid(v)) {
				jv_free(v);
				v = jv_null();
				break;
			}
		}
		*out = v;
		return 0;
	}
	jq_start(x->jq, in, 0);
	jv r = jq_next(x->jq);
	if (jv_is_valid(r)) {
		*out = r;
		/* Drain the rest so the next start begins clean. */
		jv more;
		while (jv_is_valid(more = jq_next(x->jq)))
			jv_free(more);
		jv_free(more);
		return 0;
	}
	if (jv_invalid_has_msg(jv_copy(r))) {
		jv msg = jv_invalid_get_msg(r);
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			err_set(e, SHOP_USAGE, "%s: %s", x->what, jv_string_value(msg));
		} else {
			jv s = jv_dump_string(msg, 0);
			msg = jv_null();
			err_set(e, SHOP_USAGE, "%s: %s", x->what, jv_string_value(s));
			jv_free(s);
		}
		jv_free(msg);
		return e->code;
	}
	jv_free(r);
	*out = jv_null();
	return 0;
}

int jqx_test(jqx *x, jv in, int *truth, shop_err *e)
{
	jv r;
	if (jqx_eval(x, jv_copy(in), &r, e))
		return e->code;
	jv_kind k = jv_get_kind(r);
	*truth = !(k == JV_KIND_NULL || k == JV_KIND_FALSE);
	jv_free(r);
	return 0;
}

/* ---- templates ---- */

struct jqx_tmpl {
	size_t n;
	struct part {
		char *lit; /* literal text, or NULL for an expression */
		jqx *x;
	} *parts;
};

int jqx_has_placeholder(const char *text)
{
	const char *o = strstr(text, "{{");
	return o && strstr(o + 2, "}}");
}

void jqx_tmpl_free(jqx_tmpl *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->parts[i].lit);
		jqx_free(t->parts[i].x);
	}
	free(t->parts);
	free(t);
}

jqx_tmpl *jqx_tmpl_compile(const char *text, const char *what, shop_err *e)
{
	jqx_tmpl *t = xcalloc(1, sizeof *t);
	const char *p = text;
	while (*p) {
		const char *o = strstr(p, "{{");
		const char *c = o ? strstr(o + 2, "}}") : NULL;
		t->parts = xrealloc(t->parts, (t->n + 2) * sizeof *t->parts);
		if (!o || !c) {
			t->parts[t->n++] = (struct part){xstrdup(p), NULL};
			break;
		}
		if (o > p)
			t->parts[t->n++] = (struct part){xstrndup(p, (size_t)(o - p)), NULL};
		char *expr = xstrndup(o + 2, (size_t)(c - o - 2));
		jqx *x = jqx_compile(expr, what, e);
		free(expr);
		if (!x) {
			jqx_tmpl_free(t);
			return NULL;
		}
		t->parts[t->n++] = (struct part){NULL, x};
		p = c + 2;
	}
	return t;
}

int jqx_tmpl_render(jqx_tmpl *t, jv ctx, buf *out, shop_err *e)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->parts[i].lit) {
			buf_adds(out, t->parts[i].lit);
			continue;
		}
		jv v;
		if (jqx_eval(t->parts[i].x, jv_copy(ctx), &v, e))
			return e->code;
		jv_kind k = jv_get_kind(v);
		if (k == JV_KIND_STRING) {
			buf_adds(out, jv_string_value(v));
			jv_free(v);
		} else if (k == JV_KIND_NULL) {
			jv_free(v);
		} else {
			jv s = jv_dump_string(v, 0);
			buf_adds(out, jv_string_value(s));
			jv_free(s);
		}
	}
	return 0;
}
