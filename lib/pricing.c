/* pricing: see pricing.h. */
#include "pricing.h"

#include <string.h>

#include "base/jqx.h"
#include "base/money.h"

int pct_parse(const char *s, int64_t *num, int64_t *den)
{
	int64_t n = 0, d = 1;
	const char *p = s;
	if (!(*p >= '0' && *p <= '9'))
		return -1;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p++ - '0');
		if (n > 100000)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return -1;
		while (*p >= '0' && *p <= '9') {
			if (d >= 1000000)
				return -1;
			n = n * 10 + (*p++ - '0');
			d *= 10;
		}
	}
	if (*p || n > 100 * d)
		return -1;
	*num = n;
	*den = d;
	return 0;
}

/* Working state of one line. */
typedef struct lstate {
	int64_t subtotal; /* unit_price * qty */
	int64_t rem;      /* subtotal less the discounts so far */
	int64_t discount;
	jv shares;        /* [{code, amount}] */
} lstate;

static int applies_to(const promo *p, const char *sku)
{
	if (jv_get_kind(p->skus) != JV_KIND_ARRAY)
		return 1;
	int yes = 0;
	jv_array_foreach(p->skus, i, v)
	{
		if (jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), sku))
			yes = 1;
		jv_free(v);
	}
	return yes;
}

/* What promotion p would take off each line now (out[i]), and in all. */
static int discount_of(const price_input *in, const promo *p, const lstate *ls, int64_t *out, int64_t *total,
                       shop_err *e)
{
	size_t n = in->nlines;
	memset(out, 0, n * sizeof *out);
	*total = 0;
	if (!strcmp(p->type, "percent")) {
		for (size_t i = 0; i < n; i++)
			if (applies_to(p, in->lines[i].sku) &&
			    money_muldiv(ls[i].rem, p->pct_num, p->pct_den * 100, &out[i]))
				return err_set(e, SHOP_DATAERR, "promotion %s: amount out of range", p->code);
	} else if (!strcmp(p->type, "fixed")) {
		int64_t base = 0;
		for (size_t i = 0; i < n; i++)
			if (applies_to(p, in->lines[i].sku))
				base += ls[i].rem;
		int64_t d = p->amount < base ? p->amount : base;
		if (d <= 0)
			return 0;
		/* Shares in proportion, floored; the remainder by largest fraction. */
		int64_t given = 0;
		__int128 *frac = xcalloc(n, sizeof *frac);
		for (size_t i = 0; i < n; i++)
			if (applies_to(p, in->lines[i].sku)) {
				__int128 x = (__int128)d * ls[i].rem;
				out[i] = (int64_t)(x / base);
				frac[i] = x % base;
				given += out[i];
			}
		while (given < d) {
			size_t best = n;
			for (size_t i = 0; i < n; i++)
				if (applies_to(p, in->lines[i].sku) && out[i] < ls[i].rem &&
				    (best == n || frac[i] > frac[best]))
					best = i;
			if (best == n)
				break;
			out[best]++;
			frac[best] = -1;
			given++;
		}
		free(frac);
	} else if (!strcmp(p->type, "buy_x_get_y")) {
		/* For every buy+get units of the eligible skus, the cheapest get
		 * units are free (each at most what is left of its line). */
		int64_t units = 0;
		for (size_t i = 0; i < n; i++)
			if (applies_to(p, in->lines[i].sku))
				units += in->lines[i].qty;
		int64_t free_units = units / (p->buy + p->get) * p->get;
		int64_t *taken = xcalloc(n ? n : 1, sizeof *taken);
		while (free_units > 0) {
			size_t cheapest = n;
			for (size_t i = 0; i < n; i++)
				if (applies_to(p, in->lines[i].sku) && taken[i] < in->lines[i].qty &&
				    (cheapest == n || in->lines[i].unit_price < in->lines[cheapest].unit_price))
					cheapest = i;
			if (cheapest == n)
				break;
			int64_t take = in->lines[cheapest].qty - taken[cheapest];
			if (take > free_units)
				take = free_units;
			taken[cheapest] += take;
			free_units -= take;
		}
		/* A free unit is worth what is left of it: its share of the line
		 * after the discounts of earlier lanes. */
		for (size_t i = 0; i < n; i++)
			if (taken[i] && money_muldiv(ls[i].rem, taken[i], in->lines[i].qty, &out[i])) {
				free(taken);
				return err_set(e, SHOP_DATAERR, "promotion %s: amount out of range", p->code);
			}
		free(taken);
	}
	for (size_t i = 0; i < n; i++)
		if (money_add(*total, out[i], total))
			return err_set(e, SHOP_DATAERR, "promotion %s: amount out of range", p->code);
	return 0;
}

static jv reason(const char *code, const char *why)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("code"), jv_string(code));
	r = jv_object_set(r, jv_string("reason"), jv_string(why));
	return r;
}

/* Why p cannot apply to this cart, or NULL. why is a buffer for messages. */
static const char *ineligible(const price_input *in, const promo *p, int64_t subtotal, char *why, size_t n,
                              shop_err *e)
{
	if (!p->known)
		return "unknown code";
	if (p->starts_at && in->now_ms < p->starts_ms) {
		snprintf(why, n, "not started (starts %s)", p->starts_at);
		return why;
	}
	if (p->ends_at && in->now_ms >= p->ends_ms) {
		snprintf(why, n, "ended (%s)", p->ends_at);
		return why;
	}
	if (p->max_uses && p->uses >= p->max_uses)
		return "used up";
	if (p->max_per_customer && p->customer_uses >= p->max_per_customer)
		return "used up for this customer";
	if (p->min_subtotal && subtotal < p->min_subtotal) {
		char a[32], b[32];
		const currency *c = currency_find(in->currency);
		money_format(subtotal, c, a);
		money_format(p->min_subtotal, c, b);
		snprintf(why, n, "subtotal %s is below the minimum %s", a, b);
		return why;
	}
	if (p->condition) {
		int truth = 0;
		if (jqx_test(p->condition, in->cart, &truth, e))
			return NULL;
		if (!truth)
			return "condition is false for this cart";
	}
	return NULL;
}

static int64_t shipping_for(const price_input *in, int64_t after_discount)
{
	if (in->free_over > 0 && after_discount >= in->free_over)
		return 0;
	return in->shipping_flat;
}

int price_quote(const price_input *in, jv *quote, shop_err *e)
{
	size_t n = in->nlines;
	lstate *ls = xcalloc(n ? n : 1, sizeof *ls);
	int64_t *d = xcalloc(n ? n : 1, sizeof *d);
	int64_t subtotal = 0;
	jv applied = jv_array(), rejected = jv_array(), explain = jv_array();
	int free_shipping = 0;
	for (size_t i = 0; i < n; i++) {
		ls[i].shares = jv_array();
		if (money_mul(in->lines[i].unit_price, in->lines[i].qty, &ls[i].subtotal) ||
		    money_add(subtotal, ls[i].subtotal, &subtotal)) {
			err_set(e, SHOP_DATAERR, "%s: amount out of range", in->lines[i].sku);
			goto out;
		}
		ls[i].rem = ls[i].subtotal;
	}
	/* Eligibility first, then lane by lane: the best in a lane wins. */
	char *ok = xcalloc(in->npromos ? in->npromos : 1, 1);
	for (size_t k = 0; k < in->npromos; k++) {
		const promo *p = &in->promos[k];
		int dup = 0;
		for (size_t j = 0; j < k; j++)
			if (!strcmp(in->promos[j].code, p->code))
				dup = 1;
		if (dup)
			continue;
		char why[160];
		const char *no = ineligible(in, p, subtotal, why, sizeof why, e);
		if (e->code) {
			free(ok);
			goto out;
		}
		if (no) {
			rejected = jv_array_append(rejected, reason(p->code, no));
			continue;
		}
		ok[k] = 1;
	}
	for (;;) {
		/* The lowest lane not yet done. */
		int found = 0;
		int64_t lane = 0;
		for (size_t k = 0; k < in->npromos; k++)
			if (ok[k] && (!found || in->promos[k].lane < lane))
				lane = in->promos[k].lane, found = 1;
		if (!found)
			break;
		size_t best = in->npromos;
		int64_t best_total = -1;
		for (size_t k = 0; k < in->npromos; k++) {
			if (!ok[k] || in->promos[k].lane != lane)
				continue;
			int64_t total;
			if (!strcmp(in->promos[k].type, "free_shipping")) {
				int64_t after = 0;
				for (size_t i = 0; i < n; i++)
					after += ls[i].rem;
				total = free_shipping ? 0 : shipping_for(in, after);
			} else if (discount_of(in, &in->promos[k], ls, d, &total, e)) {
				free(ok);
				goto out;
			}
			if (total > best_total)
				best = k, best_total = total;
		}
		for (size_t k = 0; k < in->npromos; k++) {
			if (!ok[k] || in->promos[k].lane != lane)
				continue;
			ok[k] = 0;
			if (k == best)
				continue;
			char why[160];
			snprintf(why, sizeof why, "lane %lld: %s gives more", (long long)lane, in->promos[best].code);
			rejected = jv_array_append(rejected, reason(in->promos[k].code, why));
		}
		const promo *p = &in->promos[best];
		if (best_total <= 0) {
			/* Eligible, but it would take nothing off: not applied, so not
			 * counted either. */
			rejected = jv_array_append(rejected, reason(p->code, !strcmp(p->type, "free_shipping")
			                                                         ? "shipping is free already"
			                                                         : "nothing in the cart it takes off"));
			continue;
		}
		jv a = jv_object();
		a = jv_object_set(a, jv_string("code"), jv_string(p->code));
		a = jv_object_set(a, jv_string("type"), jv_string(p->type));
		a = jv_object_set(a, jv_string("lane"), jv_number((double)p->lane));
		if (!strcmp(p->type, "free_shipping")) {
			free_shipping = 1;
			a = jv_object_set(a, jv_string("discount"), jv_number(0));
			a = jv_object_set(a, jv_string("shipping_discount"), jv_number((double)best_total));
		} else {
			int64_t total;
			discount_of(in, p, ls, d, &total, e);
			for (size_t i = 0; i < n; i++) {
				if (!d[i])
					continue;
				ls[i].rem -= d[i];
				ls[i].discount += d[i];
				jv sh = jv_object();
				sh = jv_object_set(sh, jv_string("code"), jv_string(p->code));
				sh = jv_object_set(sh, jv_string("amount"), jv_number((double)d[i]));
				ls[i].shares = jv_array_append(ls[i].shares, sh);
			}
			a = jv_object_set(a, jv_string("discount"), jv_number((double)total));
		}
		applied = jv_array_append(applied, a);
	}
	free(ok);

	/* Tax per line, on what the line costs after its discounts. */
	int64_t discount = 0, tax = 0, lines_total = 0, after = 0;
	jv lines = jv_array();
	for (size_t i = 0; i < n; i++) {
		const tax_rate *r = &in->rates[i];
		int64_t t = 0, base = ls[i].rem;
		if (r->num) {
			if (r->inclusive) {
				int64_t net;
				money_muldiv(base, 100 * r->den, 100 * r->den + r->num, &net);
				t = base - net;
			} else {
				money_muldiv(base, r->num, 100 * r->den, &t);
			}
		}
		int64_t lt;
		if (money_add(base, r->inclusive ? 0 : t, &lt) || money_add(discount, ls[i].discount, &discount) ||
		    money_add(tax, t, &tax) || money_add(lines_total, lt, &lines_total) || money_add(after, base, &after)) {
			jv_free(lines);
			err_set(e, SHOP_DATAERR, "%s: amount out of range", in->lines[i].sku);
			goto out;
		}
		/* The rate as its decimal text: 19, 8.875. */
		char rate[48];
		int len = snprintf(rate, sizeof rate, "%lld", (long long)(r->num / r->den));
		int64_t frac = r->num % r->den;
		if (frac && len > 0 && (size_t)len < sizeof rate - 12) {
			rate[len++] = '.';
			for (int64_t unit = r->den / 10; unit > 0 && frac; unit /= 10) {
				rate[len++] = (char)('0' + frac / unit);
				frac %= unit;
			}
			rate[len] = 0;
		}
		jv l = jv_object();
		l = jv_object_set(l, jv_string("sku"), jv_string(in->lines[i].sku));
		l = jv_object_set(l, jv_string("title"), jv_string(in->lines[i].title));
		l = jv_object_set(l, jv_string("qty"), jv_number((double)in->lines[i].qty));
		l = jv_object_set(l, jv_string("unit_price"), jv_number((double)in->lines[i].unit_price));
		l = jv_object_set(l, jv_string("subtotal"), jv_number((double)ls[i].subtotal));
		l = jv_object_set(l, jv_string("discount"), jv_number((double)ls[i].discount));
		l = jv_object_set(l, jv_string("discounts"), ls[i].shares);
		ls[i].shares = jv_null();
		l = jv_object_set(l, jv_string("tax_class"), jv_string(in->lines[i].tax_class));
		l = jv_object_set(l, jv_string("tax_rate"), jv_string(rate));
		l = jv_object_set(l, jv_string("tax_inclusive"), jv_bool(r->inclusive));
		l = jv_object_set(l, jv_string("tax"), jv_number((double)t));
		l = jv_object_set(l, jv_string("total"), jv_number((double)lt));
		lines = jv_array_append(lines, l);
	}
	int64_t shipping = n == 0 || free_shipping ? 0 : shipping_for(in, after);
	jv q = jv_object();
	q = jv_object_set(q, jv_string("currency"), jv_string(in->currency));
	q = jv_object_set(q, jv_string("lines"), lines);
	q = jv_object_set(q, jv_string("promotions"), jv_copy(applied));
	q = jv_object_set(q, jv_string("rejected"), jv_copy(rejected));
	q = jv_object_set(q, jv_string("subtotal"), jv_number((double)subtotal));
	q = jv_object_set(q, jv_string("discount"), jv_number((double)discount));
	q = jv_object_set(q, jv_string("shipping"), jv_number((double)shipping));
	q = jv_object_set(q, jv_string("tax"), jv_number((double)tax));
	int64_t total;
	if (money_add(lines_total, shipping, &total)) {
		jv_free(q);
		err_set(e, SHOP_DATAERR, "the total is out of range");
		goto out;
	}
	q = jv_object_set(q, jv_string("total"), jv_number((double)total));
	if (in->explain) {
		jv_array_foreach(applied, i, a)
		{
			jv x = jv_object();
			x = jv_object_set(x, jv_string("code"), jv_object_get(jv_copy(a), jv_string("code")));
			x = jv_object_set(x, jv_string("applied"), jv_true());
			x = jv_object_set(x, jv_string("why"), jv_string("eligible, and the best of its lane"));
			explain = jv_array_append(explain, x);
			jv_free(a);
		}
		jv_array_foreach(rejected, i, r)
		{
			jv x = jv_object();
			x = jv_object_set(x, jv_string("code"), jv_object_get(jv_copy(r), jv_string("code")));
			x = jv_object_set(x, jv_string("applied"), jv_false());
			x = jv_object_set(x, jv_string("why"), jv_object_get(r, jv_string("reason")));
			explain = jv_array_append(explain, x);
		}
		q = jv_object_set(q, jv_string("explain"), explain);
		explain = jv_null();
	}
	*quote = q;
out:
	for (size_t i = 0; i < n; i++)
		jv_free(ls[i].shares);
	free(ls);
	free(d);
	jv_free(applied);
	jv_free(rejected);
	jv_free(explain);
	return e->code;
}
