/* json: see json.h. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- the arena ---- */

typedef struct chunk {
	struct chunk *next;
	size_t cap, used;
	max_align_t data[];
} chunk;

struct jtree {
	chunk *head, *cur;
	jnode *stack; /* members of the containers being parsed */
	size_t sp, scap;
	jnode root;
	buf scratch;  /* a string with escapes, while it is decoded */
};

static void *arena_alloc(jtree *t, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	for (;;) {
		chunk *c = t->cur;
		if (c && c->cap - c->used >= n) {
			void *p = (char *)c->data + c->used;
			c->used += n;
			return p;
		}
		if (c && c->next) {
			t->cur = c->next;
			t->cur->used = 0;
			continue;
		}
		size_t cap = n > 65536 ? n : 65536;
		chunk *nc = xmalloc(sizeof *nc + cap);
		nc->next = NULL;
		nc->cap = cap;
		nc->used = 0;
		if (c)
			c->next = nc;
		else
			t->head = nc;
		t->cur = nc;
	}
}

jtree *jtree_new(void)
{
	return xcalloc(1, sizeof(jtree));
}

void jtree_free(jtree *t)
{
	if (!t)
		return;
	for (chunk *c = t->head, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	free(t->stack);
	buf_free(&t->scratch);
	free(t);
}

/* ---- the parser ---- */

typedef struct parser {
	jtree *t;
	const char *p, *start, *end;
	char *err;
	size_t errlen;
	int depth;
} parser;

static int fail(parser *ps, const char *what)
{
	if (ps->err && ps->errlen && !ps->err[0])
		snprintf(ps->err, ps->errlen, "byte %zu: %s", (size_t)(ps->p - ps->start) + 1, what);
	return -1;
}

static void skip_ws(parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static void push(jtree *t, const jnode *n)
{
	if (t->sp == t->scap) {
		t->scap = t->scap ? t->scap * 2 : 64;
		t->stack = xrealloc(t->stack, t->scap * sizeof *t->stack);
	}
	t->stack[t->sp++] = *n;
}
static int hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}
static void put_utf8(buf *b, unsigned cp)
{
	char s[4];
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 2);
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, s, 4);
	}
}

/* The string at ps->p (its opening quote): *s and *len. Without escapes it
 * points into the input; with them it is decoded into the arena. */
static int parse_string(parser *ps, const char **s, uint32_t *len)
{
	ps->p++;
	const char *run = ps->p;
	while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
		ps->p++;
	if (ps->p < ps->end && *ps->p == '"') {
		*s = run;
		*len = (uint32_t)(ps->p - run);
		ps->p++;
		return 0;
	}
	buf *b = &ps->t->scratch;
	buf_reset(b);
	buf_add(b, run, (size_t)(ps->p - run));
	for (;;) {
		run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
			ps->p++;
		buf_add(b, run, (size_t)(ps->p - run));
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		char c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c != '\\')
			return fail(ps, "control character in string (escape it)");
		if (ps->p + 1 >= ps->end)
			return fail(ps, "unterminated string");
		char x = ps->p[1];
		ps->p += 2;
		switch (x) {
		case '"': buf_addc(b, '"'); break;
		case '\\': buf_addc(b, '\\'); break;
		case '/': buf_addc(b, '/'); break;
		case 'b': buf_addc(b, '\b'); break;
		case 'f': buf_addc(b, '\f'); break;
		case 'n': buf_addc(b, '\n'); break;
		case 'r': buf_addc(b, '\r'); break;
		case 't': buf_addc(b, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (ps->end - ps->p < 4 || hex4(ps->p, &cp))
				return fail(ps, "bad \\u escape");
			ps->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
			    !hex4(ps->p + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
				ps->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if (cp >= 0xd800 && cp <= 0xdfff) {
				cp = 0xfffd; /* a lone surrogate has no UTF-8 form */
			}
			put_utf8(b, cp);
			break;
		}
		default:
			ps->p--;
			return fail(ps, "bad escape in string");
		}
	}
	char *d = arena_alloc(ps->t, b->len ? b->len : 1);
	if (b->len)
		memcpy(d, b->p, b->len);
	*s = d;
	*len = (uint32_t)b->len;
	return 0;
}

static int parse_number(parser *ps, jnode *out)
{
	const char *s = ps->p;
	const char *q = s;
	if (q < ps->end && *q == '-')
		q++;
	if (q >= ps->end || !(*q >= '0' && *q <= '9'))
		return fail(ps, "bad number");
	if (*q == '0') {
		q++;
		if (q < ps->end && *q >= '0' && *q <= '9')
			return fail(ps, "leading zero in number");
	} else {
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && *q == '.') {
		q++;
		if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
			ps->p = q;
			return fail(ps, "digits expected after '.'");
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || !(*q >= '0' && *q <= '9')) {
			ps->p = q;
			return fail(ps, "digits expected in exponent");
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	size_t n = (size_t)(q - s);
	double d;
	/* Up to 15 digits without an exponent need no strtod: the digits are
	 * an exact integer below 2^53, and dividing it by an exact power of
	 * ten is one correctly rounded operation, so the result is strtod's
	 * (Clinger's fast path). */
	static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13,
	                               1e14, 1e15};
	int neg = *s == '-';
	const char *dot = memchr(s, '.', n);
	if (n - (size_t)neg - (dot != NULL) <= 15 && !memchr(s, 'e', n) && !memchr(s, 'E', n)) {
		int64_t v = 0;
		for (const char *c = s + neg; c < q; c++)
			if (c != dot)
				v = v * 10 + (*c - '0');
		d = dot ? (double)v / pow10[q - dot - 1] : (double)v;
		if (neg)
			d = -d;
	} else {
		char small[64];
		char *tmp = n < sizeof small ? small : xmalloc(n + 1);
		memcpy(tmp, s, n);
		tmp[n] = 0;
		d = strtod(tmp, NULL);
		if (tmp != small)
			free(tmp);
	}
	if (!isfinite(d))
		return fail(ps, "number out of range");
	ps->p = q;
	out->type = JN_NUM;
	out->num = d;
	return 0;
}

static int literal(parser *ps, const char *word, uint8_t type, jnode *out)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "unexpected character");
	ps->p += n;
	out->type = type;
	return 0;
}

static int same_key(const jnode *a, const jnode *b)
{
	return a->keylen == b->keylen && !memcmp(a->key, b->key, a->keylen);
}

static int key_cmp(const void *x, const void *y, void *arg)
{
	const jnode *k = arg;
	const jnode *a = &k[*(const uint32_t *)x], *b = &k[*(const uint32_t *)y];
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);
	if (c)
		return c;
	if (a->keylen != b->keylen)
		return a->keylen < b->keylen ? -1 : 1;
	/* Equal keys keep their order: the first place and the last value. */
	return *(const uint32_t *)x < *(const uint32_t *)y ? -1 : 1;
}

/* Duplicate keys: the last value wins, at the first key's place, as jq
 * does; so a tree and its jv always say the same. */
static void dedupe(jtree *t, jnode *k, uint32_t *n)
{
	uint32_t cnt = *n;
	int any = 0;
	if (cnt < 2)
		return;
	if (cnt <= 16) {
		for (uint32_t i = 1; i < cnt; i++)
			for (uint32_t j = 0; j < i; j++)
				if (k[j].type != 0xff && same_key(&k[j], &k[i])) {
					const char *key = k[j].key;
					k[j] = k[i];
					k[j].key = key;
					k[i].type = 0xff;
					any = 1;
					break;
				}
	} else {
		uint32_t *idx = arena_alloc(t, cnt * sizeof *idx);
		for (uint32_t i = 0; i < cnt; i++)
			idx[i] = i;
		qsort_r(idx, cnt, sizeof *idx, key_cmp, k);
		for (uint32_t i = 0; i < cnt;) {
			uint32_t j = i + 1;
			while (j < cnt && same_key(&k[idx[i]], &k[idx[j]]))
				j++;
			if (j - i > 1) {
				jnode last = k[idx[j - 1]];
				last.key = k[idx[i]].key;
				k[idx[i]] = last;
				for (uint32_t m = i + 1; m < j; m++)
					k[idx[m]].type = 0xff;
				any = 1;
			}
			i = j;
		}
	}
	if (!any)
		return;
	uint32_t w = 0;
	for (uint32_t i = 0; i < cnt; i++)
		if (k[i].type != 0xff)
			k[w++] = k[i];
	*n = w;
}

static int parse_value(parser *ps, jnode *out);

/* Members are gathered on the tree's stack, then moved into the arena when
 * the container closes: nested containers use the stack above them. */
static int parse_container(parser *ps, jnode *out, int obj)
{
	jtree *t = ps->t;
	size_t base = t->sp;
	char close = obj ? '}' : ']';
	ps->p++;
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
	} else {
		for (;;) {
			jnode m;
			memset(&m, 0, sizeof m);
			skip_ws(ps);
			if (obj) {
				if (ps->p >= ps->end || *ps->p != '"')
					return fail(ps, "expected a string key");
				if (parse_string(ps, &m.key, &m.keylen))
					return -1;
				skip_ws(ps);
				if (ps->p >= ps->end || *ps->p != ':')
					return fail(ps, "expected ':'");
				ps->p++;
				skip_ws(ps);
			}
			if (parse_value(ps, &m))
				return -1;
			push(t, &m);
			skip_ws(ps);
			if (ps->p < ps->end && *ps->p == ',') {
				ps->p++;
				continue;
			}
			if (ps->p < ps->end && *ps->p == close) {
				ps->p++;
				break;
			}
			return fail(ps, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		}
	}
	uint32_t n = (uint32_t)(t->sp - base);
	jnode *kids = n ? arena_alloc(t, n * sizeof *kids) : NULL;
	if (n)
		memcpy(kids, t->stack + base, n * sizeof *kids);
	t->sp = base;
	if (obj)
		dedupe(t, kids, &n);
	out->type = obj ? JN_OBJ : JN_ARR;
	out->len = n;
	out->kids = kids;
	return 0;
}

static int parse_value(parser *ps, jnode *out)
{
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p) {
	case '{':
	case '[': {
		if (++ps->depth > JSON_MAX_DEPTH)
			return fail(ps, "nested too deeply");
		int rc = parse_container(ps, out, *ps->p == '{');
		ps->depth--;
		return rc;
	}
	case '"':
		out->type = JN_STR;
		return parse_string(ps, &out->str, &out->len);
	case 't':
		return literal(ps, "true", JN_TRUE, out);
	case 'f':
		return literal(ps, "false", JN_FALSE, out);
	case 'n':
		return literal(ps, "null", JN_NULL, out);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		return fail(ps, "unexpected character");
	}
}

const jnode *jtree_parse(jtree *t, const char *p, size_t n, char *err, size_t errlen)
{
	t->cur = t->head;
	if (t->cur)
		t->cur->used = 0;
	t->sp = 0;
	memset(&t->root, 0, sizeof t->root);
	parser ps = {t, p, p, p + n, err, errlen, 0};
	if (err && errlen)
		err[0] = 0;
	skip_ws(&ps);
	if (parse_value(&ps, &t->root))
		return NULL;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		fail(&ps, "more than one value");
		return NULL;
	}
	return &t->root;
}

/* ---- reading a tree ---- */

const jnode *jnode_get(const jnode *o, const char *key)
{
	if (!o || o->type != JN_OBJ)
		return NULL;
	size_t n = strlen(key);
	for (uint32_t i = 0; i < o->len; i++)
		if (o->kids[i].keylen == n && !memcmp(o->kids[i].key, key, n))
			return &o->kids[i];
	return NULL;
}

int jnode_is(const jnode *n, const char *s)
{
	return n && n->type == JN_STR && n->len == strlen(s) && !memcmp(n->str, s, n->len);
}

char *jnode_strdup(const jnode *n)
{
	return xstrndup(n->str, n->len);
}

const char *jnode_kind_text(const jnode *n)
{
	static const char *const text[] = {"null", "a boolean", "a boolean", "a number", "a string", "an array",
	                                   "an object"};
	return n ? text[n->type] : "nothing";
}

static int member_cmp(const void *x, const void *y)
{
	const jnode *a = *(const jnode *const *)x, *b = *(const jnode *const *)y;
	size_t n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int c = memcmp(a->key, b->key, n);
	return c ? c : (a->keylen > b->keylen) - (a->keylen < b->keylen);
}

static void dump_number(double d, buf *out);

void jnode_dump(const jnode *n, int sorted, buf *out)
{
	switch (n->type) {
	case JN_NULL:
		buf_add(out, "null", 4);
		break;
	case JN_TRUE:
		buf_add(out, "true", 4);
		break;
	case JN_FALSE:
		buf_add(out, "false", 5);
		break;
	case JN_NUM:
		dump_number(n->num, out);
		break;
	case JN_STR:
		json_dump_str(n->str, n->len, out);
		break;
	case JN_ARR:
		buf_addc(out, '[');
		for (uint32_t i = 0; i < n->len; i++) {
			if (i)
				buf_addc(out, ',');
			jnode_dump(&n->kids[i], sorted, out);
		}
		buf_addc(out, ']');
		break;
	case JN_OBJ: {
		const jnode **order = NULL;
		if (sorted && n->len > 1) {
			order = xmalloc(n->len * sizeof *order);
			for (uint32_t i = 0; i < n->len; i++)
				order[i] = &n->kids[i];
			qsort(order, n->len, sizeof *order, member_cmp);
		}
		buf_addc(out, '{');
		for (uint32_t i = 0; i < n->len; i++) {
			const jnode *m = order ? order[i] : &n->kids[i];
			if (i)
				buf_addc(out, ',');
			json_dump_str(m->key, m->keylen, out);
			buf_addc(out, ':');
			jnode_dump(m, sorted, out);
		}
		buf_addc(out, '}');
		free(order);
		break;
	}
	}
}

jv jnode_to_jv(const jnode *n)
{
	switch (n->type) {
	case JN_TRUE:
		return jv_true();
	case JN_FALSE:
		return jv_false();
	case JN_NUM:
		return jv_number(n->num);
	case JN_STR:
		return jv_string_sized(n->str, (int)n->len);
	case JN_ARR: {
		jv a = jv_array_sized((int)n->len);
		for (uint32_t i = 0; i < n->len; i++)
			a = jv_array_append(a, jnode_to_jv(&n->kids[i]));
		return a;
	}
	case JN_OBJ: {
		jv o = jv_object();
		for (uint32_t i = 0; i < n->len; i++)
			o = jv_object_set(o, jv_string_sized(n->kids[i].key, (int)n->kids[i].keylen),
			                  jnode_to_jv(&n->kids[i]));
		return o;
	}
	default:
		return jv_null();
	}
}

int json_parse(const char *p, size_t n, jv *out, char *err, size_t errlen)
{
	/* One tree per thread, kept: its arena is reused by every call. */
	static _Thread_local jtree *t;
	if (!t)
		t = jtree_new();
	const jnode *root = jtree_parse(t, p, n, err, errlen);
	if (!root)
		return -1;
	*out = jnode_to_jv(root);
	return 0;
}

/* ---- writer ---- */

void json_dump_str(const char *s, size_t n, buf *out)
{
	static const char hexd[] = "0123456789abcdef";
	buf_grow(out, n + 2);
	buf_addc(out, '"');
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		buf_add(out, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"': buf_add(out, "\\\"", 2); break;
		case '\\': buf_add(out, "\\\\", 2); break;
		case '\n': buf_add(out, "\\n", 2); break;
		case '\t': buf_add(out, "\\t", 2); break;
		case '\r': buf_add(out, "\\r", 2); break;
		case '\b': buf_add(out, "\\b", 2); break;
		case '\f': buf_add(out, "\\f", 2); break;
		default: {
			char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
			buf_add(out, u, 6);
		}
		}
	}
	buf_add(out, s + run, n - run);
	buf_addc(out, '"');
}

/* Integers are most numbers in shop records: digits by hand, as printf's
 * float path was a tenth of an import. */
void json_dump_int(int64_t v, buf *out)
{
	char t[24];
	size_t i = sizeof t;
	uint64_t u = v < 0 ? 0ULL - (uint64_t)v : (uint64_t)v;
	do
		t[--i] = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		t[--i] = '-';
	buf_add(out, t + i, sizeof t - i);
}

static void dump_number(double d, buf *out)
{
	if (!isfinite(d)) {
		buf_add(out, "null", 4);
		return;
	}
	if (d == floor(d) && fabs(d) < 1e17 && !(d == 0 && signbit(d))) {
		json_dump_int((int64_t)d, out);
		return;
	}
	char t[40];
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(t, sizeof t, "%.*g", prec, d);
		if (strtod(t, NULL) == d)
			break;
	}
	buf_adds(out, t);
}

void json_dump(jv v, buf *out)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NULL:
	case JV_KIND_INVALID:
		buf_add(out, "null", 4);
		break;
	case JV_KIND_TRUE:
		buf_add(out, "true", 4);
		break;
	case JV_KIND_FALSE:
		buf_add(out, "false", 5);
		break;
	case JV_KIND_NUMBER:
		dump_number(jv_number_value(v), out);
		break;
	case JV_KIND_STRING:
		json_dump_str(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), out);
		break;
	case JV_KIND_ARRAY: {
		buf_addc(out, '[');
		int n = jv_array_length(jv_copy(v));
		for (int i = 0; i < n; i++) {
			if (i)
				buf_addc(out, ',');
			jv item = jv_array_get(jv_copy(v), i);
			json_dump(item, out);
			jv_free(item);
		}
		buf_addc(out, ']');
		break;
	}
	case JV_KIND_OBJECT: {
		buf_addc(out, '{');
		int first = 1;
		for (int it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
			jv key = jv_object_iter_key(v, it);
			jv val = jv_object_iter_value(v, it);
			if (!first)
				buf_addc(out, ',');
			first = 0;
			json_dump_str(jv_string_value(key), (size_t)jv_string_length_bytes(jv_copy(key)), out);
			buf_addc(out, ':');
			json_dump(val, out);
			jv_free(key);
			jv_free(val);
		}
		buf_addc(out, '}');
		break;
	}
	}
}

const char *jnode_text(const jnode *o, const char *key, char *out, size_t n)
{
	const jnode *v = jnode_get(o, key);
	out[0] = 0;
	if (!v || v->type != JN_STR || !n)
		return out;
	size_t len = v->len < n - 1 ? v->len : n - 1;
	memcpy(out, v->str, len);
	out[len] = 0;
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	return out;
}
