/* json: see json.h. */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct parser {
	const char *p, *start, *end;
	char *err;
	size_t errlen;
	int depth;
	buf scratch;
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

static int parse_value(parser *ps, jv *out);

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

/* The string at ps->p (its opening quote) into ps->scratch. */
static int parse_string_raw(parser *ps)
{
	buf *b = &ps->scratch;
	buf_reset(b);
	ps->p++;
	for (;;) {
		const char *run = ps->p;
		while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\' && (unsigned char)*ps->p >= 0x20)
			ps->p++;
		buf_add(b, run, (size_t)(ps->p - run));
		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		char c = *ps->p;
		if (c == '"') {
			ps->p++;
			return 0;
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
}

static int parse_number(parser *ps, jv *out)
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
	char small[64];
	char *tmp = n < sizeof small ? small : xmalloc(n + 1);
	memcpy(tmp, s, n);
	tmp[n] = 0;
	double d = strtod(tmp, NULL);
	if (tmp != small)
		free(tmp);
	if (!isfinite(d))
		return fail(ps, "number out of range");
	ps->p = q;
	*out = jv_number(d);
	return 0;
}

static int literal(parser *ps, const char *word, jv v, jv *out)
{
	size_t n = strlen(word);
	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "unexpected character");
	ps->p += n;
	*out = v;
	return 0;
}

static int parse_array(parser *ps, jv *out)
{
	ps->p++;
	jv a = jv_array();
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		*out = a;
		return 0;
	}
	for (;;) {
		jv item;
		skip_ws(ps);
		if (parse_value(ps, &item)) {
			jv_free(a);
			return -1;
		}
		a = jv_array_append(a, item);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']') {
			ps->p++;
			*out = a;
			return 0;
		}
		jv_free(a);
		return fail(ps, "expected ',' or ']'");
	}
}

static int parse_object(parser *ps, jv *out)
{
	ps->p++;
	jv o = jv_object();
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		*out = o;
		return 0;
	}
	for (;;) {
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"') {
			jv_free(o);
			return fail(ps, "expected a string key");
		}
		if (parse_string_raw(ps)) {
			jv_free(o);
			return -1;
		}
		jv key = jv_string_sized(ps->scratch.p ? ps->scratch.p : "", (int)ps->scratch.len);
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':') {
			jv_free(key);
			jv_free(o);
			return fail(ps, "expected ':'");
		}
		ps->p++;
		skip_ws(ps);
		jv val;
		if (parse_value(ps, &val)) {
			jv_free(key);
			jv_free(o);
			return -1;
		}
		o = jv_object_set(o, key, val);
		skip_ws(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}') {
			ps->p++;
			*out = o;
			return 0;
		}
		jv_free(o);
		return fail(ps, "expected ',' or '}'");
	}
}

static int parse_value(parser *ps, jv *out)
{
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	int rc;
	switch (*ps->p) {
	case '{':
	case '[':
		if (++ps->depth > JSON_MAX_DEPTH)
			return fail(ps, "nested too deeply");
		rc = *ps->p == '{' ? parse_object(ps, out) : parse_array(ps, out);
		ps->depth--;
		return rc;
	case '"':
		if (parse_string_raw(ps))
			return -1;
		*out = jv_string_sized(ps->scratch.p ? ps->scratch.p : "", (int)ps->scratch.len);
		return 0;
	case 't':
		return literal(ps, "true", jv_true(), out);
	case 'f':
		return literal(ps, "false", jv_false(), out);
	case 'n':
		return literal(ps, "null", jv_null(), out);
	default:
		if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			return parse_number(ps, out);
		return fail(ps, "unexpected character");
	}
}

int json_parse(const char *p, size_t n, jv *out, char *err, size_t errlen)
{
	parser ps = {p, p, p + n, err, errlen, 0, {0}};
	if (err && errlen)
		err[0] = 0;
	skip_ws(&ps);
	jv v;
	if (parse_value(&ps, &v)) {
		buf_free(&ps.scratch);
		return -1;
	}
	buf_free(&ps.scratch);
	skip_ws(&ps);
	if (ps.p != ps.end) {
		jv_free(v);
		return fail(&ps, "more than one value");
	}
	*out = v;
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
