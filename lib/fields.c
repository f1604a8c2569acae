/* fields: see fields.h. */
#include "fields.h"

#include <math.h>

int field_absent(const jnode *v)
{
	return !v || v->type == JN_NULL;
}

/* The start every string field shares: given, and a string. */
static int want_string(const jnode *v, const char *name, shop_err *e)
{
	if (field_absent(v))
		return err_set(e, SHOP_DATAERR, "field '%s': missing", name);
	if (v->type != JN_STR)
		return err_set(e, SHOP_DATAERR, "field '%s': expected a string, got %s", name, jnode_kind_text(v));
	return 0;
}

int field_text(const jnode *v, const char *name, size_t max, int flags, char **out, shop_err *e)
{
	if (want_string(v, name, e))
		return e->code;
	if (v->len == 0 && (flags & FIELD_NONEMPTY))
		return err_set(e, SHOP_DATAERR, "field '%s': empty", name);
	if (v->len > max)
		return err_set(e, SHOP_DATAERR, "field '%s': longer than %zu bytes", name, max);
	int multiline = flags & FIELD_MULTILINE;
	for (uint32_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->str[i];
		if (c == 0)
			return err_set(e, SHOP_DATAERR, "field '%s': holds a NUL character", name);
		if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t' || c == '\r'))) || c == 0x7f)
			return err_set(e, SHOP_DATAERR, "field '%s': holds a control character", name);
	}
	*out = jnode_strdup(v);
	return 0;
}

int field_sku(const jnode *v, const char *name, shop_err *e)
{
	if (want_string(v, name, e))
		return e->code;
	if (v->len == 0)
		return err_set(e, SHOP_DATAERR, "field '%s': empty", name);
	if (v->len > FIELD_SKU_MAX)
		return err_set(e, SHOP_DATAERR, "field '%s': longer than %d bytes", name, FIELD_SKU_MAX);
	for (uint32_t i = 0; i < v->len; i++) {
		unsigned char c = (unsigned char)v->str[i];
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\')
			return err_set(e, SHOP_DATAERR,
			               "field '%s': has a character other than printable ASCII (no space, '/' or '\\')",
			               name);
	}
	return 0;
}

int field_money(const jnode *v, const char *name, const currency *cur, int64_t *out, shop_err *e)
{
	int64_t m;
	if (field_absent(v))
		return err_set(e, SHOP_DATAERR, "field '%s': missing", name);
	if (v->type == JN_STR) {
		shop_err me = {0};
		char *text = jnode_strdup(v);
		int rc = money_parse_decimal(text, cur, &m, &me);
		free(text);
		if (rc)
			return err_set(e, SHOP_DATAERR, "field '%s': %s", name, me.msg);
		/* Stored and printed as a JSON number: exact up to 2^53 - 1. */
		if (m > FIELD_MONEY_MAX || m < -FIELD_MONEY_MAX)
			return err_set(e, SHOP_DATAERR, "field '%s': '%.*s' is too large", name, (int)v->len, v->str);
	} else if (v->type == JN_NUM) {
		/* From 2^53 on, a number may not be the one written (2^53 + 1
		 * reads as 2^53), and it is whole: say too large, not a fraction. */
		if (fabs(v->num) > (double)FIELD_MONEY_MAX)
			return err_set(e, SHOP_DATAERR, "field '%s': %g is too large", name, v->num);
		if (v->num != floor(v->num))
			return err_set(e, SHOP_DATAERR,
			               "field '%s': %g is not whole minor units; write minor units (1999) or a decimal "
			               "string (\"19.99\")",
			               name, v->num);
		m = (int64_t)v->num;
	} else {
		return err_set(e, SHOP_DATAERR, "field '%s': expected minor units or a decimal string, got %s", name,
		               jnode_kind_text(v));
	}
	if (m < 0)
		return err_set(e, SHOP_DATAERR, "field '%s': negative (%lld)", name, (long long)m);
	*out = m;
	return 0;
}
