/* notify: see notify.h and shop-notify(1). */
#include "notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cfg.h"
#include "base/clock.h"
#include "base/http.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/money.h"
#include "base/store.h"
#include "order.h"


#define CONSUMER "notify"
#define LEASE_DEFAULT_MS (5LL * 60 * 1000)
#define BATCH 100

enum { CH_MAILDIR, CH_SMTP, CH_WEBHOOK, CH_N };
static const char *const ch_name[CH_N] = {"maildir", "smtp", "webhook"};

static int channel_of(const char *name)
{
	for (int c = 0; c < CH_N; c++)
		if (!strcmp(name, ch_name[c]))
			return c;
	return -1;
}

/* A template: an event type's subject and body, per channel. */
typedef struct tmpl {
	char *type;
	unsigned channels;            /* bit c: sent on channel c */
	jqx_tmpl *subject[CH_N], *body[CH_N];
} tmpl;

typedef struct notifier {
	shop *s;
	tmpl *t;
	size_t nt;
	const char *from;
	int64_t lease_ms;
	char *maildir;
	http_client *http;
	const char *smtp_url, *smtp_user, *smtp_password_env;
	const char *webhook_url, *webhook_key_env;
	const notify_opts *o;
	shop_emit emit;
	void *arg;
	int gone; /* the reader of the output went away: stop */
} notifier;

static char *from_parts(const char *from, char addr[256]);
static int address_ok(const char *a);

/* The built-in templates: used when the config has no notify.templates. */
static const char *const builtin[][3] = {
	{"order.confirmed", "Your order {{ .order.id }} is confirmed",
	 "Hello {{ .order.address.name // .order.customer }},\n\nthank you for your order {{ .order.id }}.\n\n"
	 "{{ .text.lines }}\nTotal: {{ .text.total }}\n\nWe will write again when it ships.\n"},
	{"order.shipped", "Your order {{ .order.id }} is on its way",
	 "Hello {{ .order.address.name // .order.customer }},\n\nyour order {{ .order.id }} has left our "
	 "warehouse.\n\n{{ .text.tracking }}\n"},
	{"order.delivered", "Your order {{ .order.id }} was delivered",
	 "Hello {{ .order.address.name // .order.customer }},\n\nyour order {{ .order.id }} was delivered. "
	 "We hope you like it.\n"},
	{"order.cancelled", "Your order {{ .order.id }} is cancelled",
	 "Hello {{ .order.address.name // .order.customer }},\n\nyour order {{ .order.id }} is cancelled"
	 "{{ if .order.reason then \": \" + .order.reason else \"\" end }}.\nNothing was charged.\n"},
	{"payment.refunded", "A refund for your order {{ .order.id }}",
	 "Hello {{ .order.address.name // .order.customer }},\n\nwe refunded {{ .text.amount }} for your order "
	 "{{ .order.id }}.\n"},
};

static void notifier_free(notifier *n)
{
	for (size_t i = 0; i < n->nt; i++) {
		for (int c = 0; c < CH_N; c++) {
			jqx_tmpl_free(n->t[i].subject[c]);
			jqx_tmpl_free(n->t[i].body[c]);
		}
		free(n->t[i].type);
	}
	free(n->t);
	free(n->maildir);
	if (n->http)
		http_free(n->http);
}

/* Compile one text: "notify.templates.TYPE[.CHANNEL].FIELD" in messages. */
static jqx_tmpl *compile(shop *s, const char *text, const char *type, const char *ch, const char *field)
{
	char what[300];
	snprintf(what, sizeof what, "notify.templates.%s%s%s.%s", type, ch ? "." : "", ch ? ch : "", field);
	shop_err e = {0};
	jqx_tmpl *t = jqx_tmpl_compile(text, what, &e);
	if (!t)
		err_set(&s->err, SHOP_CONFIG, "%s", e.msg);
	return t;
}

/* The channels a list names (a config sequence), or def when absent. */
static int channels_of(shop *s, const cfg_node *list, unsigned def, unsigned *out)
{
	*out = def;
	if (!list)
		return 0;
	*out = 0;
	for (size_t i = 0; i < cfg_len(list); i++) {
		const char *name = cfg_text(cfg_at(list, i));
		int c = name ? channel_of(name) : -1;
		if (c < 0)
			return err_set(&s->err, SHOP_CONFIG, "%s: '%s' is not a channel (maildir, smtp, webhook)",
			               cfg_where(cfg_at(list, i)), name ? name : "");
		*out |= 1u << c;
	}
	return 0;
}

/* Read the config's notify section; compile every template once. */
static int notifier_open(shop *s, const notify_opts *o, shop_emit emit, void *arg, notifier *n)
{
	memset(n, 0, sizeof *n);
	n->s = s;
	n->o = o;
	n->emit = emit;
	n->arg = arg;
	const cfg *c = s->cfg;
	n->from = cfg_str(c, NULL, "notify.from", "shop@localhost");
	n->lease_ms = cfg_duration(c, NULL, "notify.lease", LEASE_DEFAULT_MS);
	n->smtp_url = cfg_str(c, NULL, "notify.smtp.url", NULL);
	n->smtp_user = cfg_str(c, NULL, "notify.smtp.user", NULL);
	n->smtp_password_env = cfg_str(c, NULL, "notify.smtp.password_env", NULL);
	n->webhook_url = cfg_str(c, NULL, "notify.webhook.url", NULL);
	n->webhook_key_env = cfg_str(c, NULL, "notify.webhook.key_env", NULL);
	char fa[256];
	free(from_parts(n->from, fa));
	if (!address_ok(fa))
		return err_set(&s->err, SHOP_CONFIG, "notify.from: '%s' holds no plain address (such as Shop <shop@example.com>)",
		               n->from);
	unsigned def;
	if (channels_of(s, cfg_get(c, NULL, "notify.channels"), 1u << CH_MAILDIR, &def))
		return s->err.code;
	const cfg_node *ts = cfg_get(c, NULL, "notify.templates");
	size_t nt = ts ? cfg_len(ts) : sizeof builtin / sizeof *builtin;
	n->t = xcalloc(nt ? nt : 1, sizeof *n->t);
	for (size_t i = 0; i < nt; i++) {
		tmpl *t = &n->t[n->nt++];
		const cfg_node *tn = ts ? cfg_at(ts, i) : NULL;
		t->type = xstrdup(ts ? cfg_key_at(ts, i) : builtin[i][0]);
		if (channels_of(s, tn ? cfg_get(c, tn, "channels") : NULL, def, &t->channels))
			return s->err.code;
		const char *subj = tn ? cfg_str(c, tn, "subject", NULL) : builtin[i][1];
		const char *body = tn ? cfg_str(c, tn, "body", NULL) : builtin[i][2];
		if (!subj || !body)
			return err_set(&s->err, SHOP_CONFIG, "%s: notify.templates.%s needs a subject and a body",
			               cfg_where(tn), t->type);
		for (int ch = 0; ch < CH_N; ch++) {
			if (!(t->channels & (1u << ch)))
				continue;
			/* A channel's own subject or body, else the template's. */
			const cfg_node *cn = tn ? cfg_get(c, tn, ch_name[ch]) : NULL;
			const char *cs = cn ? cfg_str(c, cn, "subject", subj) : subj;
			const char *cb = cn ? cfg_str(c, cn, "body", body) : body;
			t->subject[ch] = compile(s, cs, t->type, cn ? ch_name[ch] : NULL, "subject");
			t->body[ch] = compile(s, cb, t->type, cn ? ch_name[ch] : NULL, "body");
			if (!t->subject[ch] || !t->body[ch])
				return s->err.code;
		}
		if ((t->channels & (1u << CH_SMTP)) && !n->smtp_url)
			return err_set(&s->err, SHOP_CONFIG, "notify.templates.%s: channel smtp needs notify.smtp.url",
			               t->type);
		if ((t->channels & (1u << CH_WEBHOOK)) && !n->webhook_url)
			return err_set(&s->err, SHOP_CONFIG,
			               "notify.templates.%s: channel webhook needs notify.webhook.url", t->type);
	}
	return 0;
}

static const tmpl *template_for(const notifier *n, const char *type)
{
	for (size_t i = 0; i < n->nt; i++)
		if (!strcmp(n->t[i].type, type))
			return &n->t[i];
	return NULL;
}

/* ---- the context of a template ---- */

typedef struct event {
	int64_t seq;
	char id[64], type[128], subject[256], at[40];
	jv data;
} event;

/* Member key of obj (consumed), or null when obj is no object or has
 * none: jv_object_get asserts on a wrong kind. */
static jv member(jv obj, const char *key)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT) {
		jv_free(obj);
		return jv_null();
	}
	jv v = jv_object_get(obj, jv_string(key));
	return jv_is_valid(v) ? v : (jv_free(v), jv_null());
}

static jv money_text(jv amount, const char *cur)
{
	const currency *c = cur ? currency_find(cur) : NULL;
	if (jv_get_kind(amount) != JV_KIND_NUMBER || !c) {
		jv_free(amount);
		return jv_null();
	}
	char out[32];
	money_format((int64_t)jv_number_value(amount), c, out);
	jv_free(amount);
	return jv_string_fmt("%s %s", out, cur);
}

/* The order's texts for people: amounts as money, the lines, tracking. */
static jv order_texts(shop *s, jv order, const event *ev)
{
	jv t = jv_object();
	const char *cur = NULL;
	jv curv = member(jv_copy(order), "currency");
	char curbuf[8] = "";
	if (jv_get_kind(curv) == JV_KIND_STRING) {
		snprintf(curbuf, sizeof curbuf, "%s", jv_string_value(curv));
		cur = curbuf;
	}
	jv_free(curv);
	static const char *const amounts[] = {"subtotal", "discount", "shipping", "tax", "total"};
	for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++)
		t = jv_object_set(t, jv_string(amounts[i]),
		                  money_text(member(jv_copy(order), amounts[i]), cur));
	buf b = {0};
	jv lines = member(jv_copy(order), "lines");
	if (jv_get_kind(lines) == JV_KIND_ARRAY) {
		jv_array_foreach(lines, i, l) {
			jv sku = member(jv_copy(l), "sku"), qty = member(jv_copy(l), "qty");
			jv title = member(jv_copy(l), "title");
			jv total = money_text(member(l, "total"), cur);
			buf_addf(&b, "%g x %s%s%s%s%s\n", jv_get_kind(qty) == JV_KIND_NUMBER ? jv_number_value(qty) : 0,
			         jv_get_kind(sku) == JV_KIND_STRING ? jv_string_value(sku) : "?",
			         jv_get_kind(title) == JV_KIND_STRING ? "  " : "",
			         jv_get_kind(title) == JV_KIND_STRING ? jv_string_value(title) : "",
			         jv_get_kind(total) == JV_KIND_STRING ? "  " : "",
			         jv_get_kind(total) == JV_KIND_STRING ? jv_string_value(total) : "");
			jv_free(sku);
			jv_free(qty);
			jv_free(title);
			jv_free(total);
			(void)i;
		}
	}
	jv_free(lines);
	jv_free(order);
	t = jv_object_set(t, jv_string("lines"), jv_string(b.len ? buf_str(&b) : ""));
	/* The amount of the event itself (a refund), in the order's currency. */
	t = jv_object_set(t, jv_string("amount"),
	                  money_text(member(jv_copy(ev->data), "amount"), cur));
	buf_reset(&b);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT carrier, tracking FROM shipment WHERE order_id = ?1 AND tracking IS NOT NULL "
	                             "ORDER BY id",
	                             &s->err);
	if (q) {
		store_bind_text(q, 1, ev->subject);
		while (sqlite3_step(q) == SQLITE_ROW)
			buf_addf(&b, "Tracking (%s): %s\n", store_col_text(q, 0), store_col_text(q, 1));
		sqlite3_reset(q);
	}
	t = jv_object_set(t, jv_string("tracking"), jv_string(b.len ? buf_str(&b) : ""));
	buf_free(&b);
	return t;
}

/* {event, order, text} for the templates; order is null when the event
 * is not about an order. */
static jv context(shop *s, const event *ev)
{
	jv e = jv_object();
	e = jv_object_set(e, jv_string("seq"), jv_number((double)ev->seq));
	e = jv_object_set(e, jv_string("id"), jv_string(ev->id));
	e = jv_object_set(e, jv_string("type"), jv_string(ev->type));
	e = jv_object_set(e, jv_string("subject"), jv_string(ev->subject));
	e = jv_object_set(e, jv_string("at"), jv_string(ev->at));
	e = jv_object_set(e, jv_string("data"), jv_copy(ev->data));
	jv order = jv_null();
	shop_err oe = {0};
	if (order_get(s, ev->subject, &order, &oe)) {
		jv_free(order);
		order = jv_null();
	}
	jv ctx = jv_object();
	ctx = jv_object_set(ctx, jv_string("event"), e);
	ctx = jv_object_set(ctx, jv_string("text"), order_texts(s, jv_copy(order), ev));
	ctx = jv_object_set(ctx, jv_string("order"), order);
	return ctx;
}

/* A string member of ctx at path a.b (NULL when absent), copied. */
static char *ctx_str(jv ctx, const char *a, const char *b)
{
	jv v = member(member(jv_copy(ctx), a), b);
	char *out = jv_get_kind(v) == JV_KIND_STRING ? xstrdup(jv_string_value(v)) : NULL;
	jv_free(v);
	return out;
}

/* ---- messages ---- */

/* A header value: CR, LF and other control characters become spaces, so
 * that no text of the customer's can start a header of its own; text
 * that is not plain ASCII (or any text, with force) is RFC 2047 encoded
 * words (UTF-8, base64). */
static void header_text(buf *out, const char *v, int force)
{
	int plain = !force;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p >= 0x80 || (*p < 0x20 && *p != '\t') || *p == 0x7f)
			plain = 0;
	if (plain) {
		buf_adds(out, v);
		return;
	}
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	buf clean = {0};
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		buf_addc(&clean, (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p);
	/* Encoded words of at most 45 bytes of text each (60 of base64),
	 * cut between UTF-8 characters, folded onto lines of their own. */
	size_t i = 0, n = clean.len;
	const unsigned char *t = (const unsigned char *)clean.p;
	while (i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (k < n - i && k > 0 && (t[i + k] & 0xc0) == 0x80)
			k--;
		if (i)
			buf_adds(out, "\r\n ");
		buf_adds(out, "=?UTF-8?B?");
		for (size_t j = 0; j < k; j += 3) {
			unsigned x = (unsigned)t[i + j] << 16 | (j + 1 < k ? (unsigned)t[i + j + 1] << 8 : 0) |
			             (j + 2 < k ? t[i + j + 2] : 0);
			buf_addc(out, b64[x >> 18 & 63]);
			buf_addc(out, b64[x >> 12 & 63]);
			buf_addc(out, j + 1 < k ? b64[x >> 6 & 63] : '=');
			buf_addc(out, j + 2 < k ? b64[x & 63] : '=');
		}
		buf_adds(out, "?=");
		i += k;
	}
	buf_free(&clean);
}

/* "Name <addr>": a name of words goes as it is; one with quotes, commas,
 * angle brackets and the like, or not ASCII, as encoded words, which
 * cannot break the address. */
static void header_address(buf *out, const char *name, const char *addr)
{
	if (name && *name) {
		header_text(out, name, strpbrk(name, "\"(),.:;<>@[\\]") != NULL);
		buf_addc(out, ' ');
	}
	buf_addf(out, "<%s>", addr);
}

/* The name (heap, NULL when none) and the address (into addr) of a
 * "Name <addr>" or a bare address. */
static char *from_parts(const char *from, char addr[256])
{
	const char *lt = strchr(from, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (!lt || !gt || gt == lt + 1) {
		snprintf(addr, 256, "%s", from);
		return NULL;
	}
	snprintf(addr, 256, "%.*s", (int)(gt - lt - 1), lt + 1);
	const char *a = from, *b = lt;
	while (a < b && (*a == ' ' || *a == '"'))
		a++;
	while (b > a && (b[-1] == ' ' || b[-1] == '"'))
		b--;
	return b > a ? xstrndup(a, (size_t)(b - a)) : NULL;
}

/* An address fit for a header and an SMTP envelope: one '@', no space,
 * no control character, none of "<>()[],;:\\\"". */
static int address_ok(const char *a)
{
	if (!a || !*a || strlen(a) > 254)
		return 0;
	int at = 0;
	for (const unsigned char *p = (const unsigned char *)a; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f || strchr("<>()[],;:\\\"", *p))
			return 0;
		at += *p == '@';
	}
	return at == 1 && a[0] != '@' && a[strlen(a) - 1] != '@';
}

/* The date of an RFC 5322 header from an RFC 3339 time. */
static void mail_date(const char *at, char out[64])
{
	int64_t ms = 0;
	if (clock_parse_rfc3339(at, &ms))
		ms = clock_now_ms();
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	snprintf(out, 64, "%s, %d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon],
	         tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* One rendered message. */
typedef struct message {
	int ch;
	char *to, *name, *customer, *order_id; /* to: NULL when there is no address */
	buf subject, body, text;                /* text: the RFC 5322 message, or the webhook's JSON */
} message;

static void message_free(message *m)
{
	free(m->to);
	free(m->name);
	free(m->customer);
	free(m->order_id);
	buf_free(&m->subject);
	buf_free(&m->body);
	buf_free(&m->text);
}

/* Render t for ev on channel ch into m. 0, or the error in s->err (a
 * template's runtime error: 78). */
static int render(notifier *n, const tmpl *t, const event *ev, jv ctx, int ch, message *m)
{
	shop *s = n->s;
	memset(m, 0, sizeof *m);
	m->ch = ch;
	shop_err e = {0};
	if (jqx_tmpl_render(t->subject[ch], ctx, &m->subject, &e) || jqx_tmpl_render(t->body[ch], ctx, &m->body, &e))
		return err_set(&s->err, SHOP_CONFIG, "event %lld (%s): %s", (long long)ev->seq, ev->type, e.msg);
	buf_str(&m->subject);
	buf_str(&m->body);
	m->customer = ctx_str(ctx, "order", "customer");
	m->order_id = ctx_str(ctx, "order", "id");
	jv addr = member(member(jv_copy(ctx), "order"), "address");
	jv email = member(jv_copy(addr), "email"), name = member(addr, "name");
	if (jv_get_kind(email) == JV_KIND_STRING && address_ok(jv_string_value(email)))
		m->to = xstrdup(jv_string_value(email));
	if (jv_get_kind(name) == JV_KIND_STRING)
		m->name = xstrdup(jv_string_value(name));
	jv_free(email);
	jv_free(name);
	if (ch == CH_WEBHOOK) {
		jv j = jv_object();
		j = jv_object_set(j, jv_string("event"), member(jv_copy(ctx), "event"));
		j = jv_object_set(j, jv_string("order_id"), m->order_id ? jv_string(m->order_id) : jv_null());
		j = jv_object_set(j, jv_string("customer"), m->customer ? jv_string(m->customer) : jv_null());
		j = jv_object_set(j, jv_string("recipient"), m->to ? jv_string(m->to) : jv_null());
		j = jv_object_set(j, jv_string("subject"), jv_string(buf_str(&m->subject)));
		j = jv_object_set(j, jv_string("body"), jv_string(buf_str(&m->body)));
		json_dump(j, &m->text);
		jv_free(j);
		buf_str(&m->text);
		return 0;
	}
	if (!m->to)
		return 0;
	char date[64];
	mail_date(ev->at, date);
	buf_addf(&m->text, "Date: %s\r\nFrom: ", date);
	char from_addr[256];
	char *from_name = from_parts(n->from, from_addr);
	header_address(&m->text, from_name, from_addr);
	free(from_name);
	buf_adds(&m->text, "\r\nTo: ");
	header_address(&m->text, m->name, m->to);
	buf_adds(&m->text, "\r\nSubject: ");
	header_text(&m->text, buf_str(&m->subject), 0);
	buf_addf(&m->text,
	         "\r\nMessage-ID: <evt-%lld.%s@shop>\r\nMIME-Version: 1.0\r\n"
	         "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
	         "X-Shop-Event: %lld %s\r\n\r\n",
	         (long long)ev->seq, ch_name[ch], (long long)ev->seq, ev->type);
	for (const char *p = buf_str(&m->body); *p; p++) {
		if (*p == '\n')
			buf_addc(&m->text, '\r');
		if (*p != '\r')
			buf_addc(&m->text, *p);
	}
	if (m->body.len && m->body.p[m->body.len - 1] != '\n')
		buf_adds(&m->text, "\r\n");
	buf_str(&m->text);
	return 0;
}

/* ---- channels ---- */

/* Into the maildir beside the store: tmp/NAME written and synced, then
 * renamed into new/: a reader never sees half a message, and the name is
 * the event's and the channel's, so a message delivered again replaces
 * itself. */
static int to_maildir(notifier *n, const event *ev, const message *m, shop_err *e)
{
	if (!n->maildir) {
		n->maildir = store_subdir(n->s->st, "maildir", 1, e);
		if (!n->maildir)
			return e->code;
		static const char *const sub[] = {"tmp", "new", "cur"};
		for (int i = 0; i < 3; i++) {
			char *d = xasprintf("%s/%s", n->maildir, sub[i]);
			int rc = mkdir(d, 0700);
			free(d);
			if (rc && errno != EEXIST)
				return err_set(e, SHOP_IOERR, "maildir: %s/%s: %s", n->maildir, sub[i], strerror(errno));
		}
	}
	int64_t ms = 0;
	clock_parse_rfc3339(ev->at, &ms);
	char *tmp = xasprintf("%s/tmp/%lld.E%lld.shop", n->maildir, (long long)(ms / 1000), (long long)ev->seq);
	char *fin = xasprintf("%s/new/%lld.E%lld.shop", n->maildir, (long long)(ms / 1000), (long long)ev->seq);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;
	if (fd < 0 || write_all(fd, m->text.p, m->text.len) || fsync(fd))
		rc = err_set(e, SHOP_IOERR, "maildir: %s: %s", tmp, strerror(errno));
	if (fd >= 0 && close(fd) && !rc)
		rc = err_set(e, SHOP_IOERR, "maildir: %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, fin))
		rc = err_set(e, SHOP_IOERR, "maildir: %s: %s", fin, strerror(errno));
	if (rc)
		unlink(tmp);
	free(tmp);
	free(fin);
	return rc;
}

static http_client *client(notifier *n)
{
	if (!n->http)
		n->http = http_new(&n->s->http);
	return n->http;
}

/* A secret from the environment variable named by the config (NULL: none
 * configured). */
static int secret(const char *env, const char *key, char **out, shop_err *e)
{
	*out = NULL;
	if (!env)
		return 0;
	const char *v = getenv(env);
	if (!v || !*v)
		return err_set(e, SHOP_CONFIG, "notify: the environment variable %s (%s) is not set", env, key);
	*out = xstrdup(v);
	return 0;
}

static int to_smtp(notifier *n, const message *m, int *attempts, shop_err *e)
{
	char *password;
	if (secret(n->smtp_password_env, "notify.smtp.password_env", &password, e))
		return e->code;
	http_client *h = client(n);
	if (!h) {
		free(password);
		return err_set(e, SHOP_UNAVAILABLE, "smtp: libcurl cannot be loaded");
	}
	/* The envelope sender: the address of notify.from. */
	char from[256];
	free(from_parts(n->from, from));
	const char *rcpt[1] = {m->to};
	int rc = http_smtp_send(h, n->smtp_url, from, rcpt, 1, n->smtp_user, password ? password : "", m->text.p,
	                        m->text.len, attempts, e);
	if (password) {
		memset(password, 0, strlen(password));
		free(password);
	}
	return rc;
}

static int to_webhook(notifier *n, const event *ev, const message *m, int *attempts, shop_err *e)
{
	char *key;
	if (secret(n->webhook_key_env, "notify.webhook.key_env", &key, e))
		return e->code;
	http_client *h = client(n);
	if (!h) {
		free(key);
		return err_set(e, SHOP_UNAVAILABLE, "webhook: libcurl cannot be loaded");
	}
	char idem[96];
	snprintf(idem, sizeof idem, "Idempotency-Key: notify-%lld-webhook", (long long)ev->seq);
	char *auth = key ? xasprintf("Authorization: Bearer %s", key) : NULL;
	const char *hdrs[] = {"Content-Type: application/json", idem, auth, NULL};
	http_resp r = {0};
	int rc = http_request(h, "POST", n->webhook_url, hdrs, m->text.p, m->text.len, &r, e);
	*attempts = r.attempts;
	if (!rc && (r.status < 200 || r.status > 299))
		rc = err_set(e, SHOP_UNAVAILABLE, "webhook: %s answered %ld", n->webhook_url, r.status);
	http_resp_free(&r);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	if (key) {
		memset(key, 0, strlen(key));
		free(key);
	}
	return rc;
}

/* ---- deliveries ---- */

enum { CLAIM_DONE, CLAIM_BUSY, CLAIM_OK };

/* Write the delivery row of (ev, ch), in the caller's transaction: a
 * claim ('sending': one more attempt, claimed now) or an end ('sent' with
 * its time, 'skipped', 'failed' with why). */
static int put_row(notifier *n, const event *ev, int ch, const char *to, const char *status, const char *why)
{
	shop *s = n->s;
	char now[32];
	clock_now_text(now);
	sqlite3_stmt *q = store_stmt(s->st,
	                             "INSERT INTO notify_delivery (seq, channel, type, subject, recipient, status, "
	                             "attempts, claimed_at, sent_at, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, "
	                             "CASE WHEN ?6 = 'sent' THEN ?7 END, ?8) "
	                             "ON CONFLICT (seq, channel) DO UPDATE SET status = ?6, recipient = ?5, "
	                             "attempts = attempts + (?6 = 'sending'), "
	                             "claimed_at = CASE WHEN ?6 = 'sending' THEN ?7 ELSE claimed_at END, "
	                             "sent_at = CASE WHEN ?6 = 'sent' THEN ?7 ELSE sent_at END, error = ?8",
	                             &s->err);
	if (!q)
		return s->err.code;
	sqlite3_bind_int64(q, 1, ev->seq);
	sqlite3_bind_text(q, 2, ch_name[ch], -1, SQLITE_STATIC);
	store_bind_text(q, 3, ev->type);
	store_bind_text(q, 4, ev->subject);
	store_bind_text(q, 5, to);
	store_bind_text(q, 6, status);
	store_bind_text(q, 7, now);
	store_bind_text(q, 8, why);
	return store_done(s->st, q, &s->err, "notify_delivery");
}

/* Claim (seq, ch) for sending, in a write transaction of its own: done
 * when it was sent or skipped, busy when another run's claim is younger
 * than the lease, else claimed now (attempts counted). */
static int claim(notifier *n, const event *ev, int ch, const char *to, int *state)
{
	shop *s = n->s;
	if (store_begin(s->st, &s->err))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st, "SELECT status, claimed_at FROM notify_delivery WHERE seq = ?1 AND channel = ?2",
	                             &s->err);
	int rc = q ? 0 : s->err.code;
	*state = CLAIM_OK;
	if (!rc) {
		sqlite3_bind_int64(q, 1, ev->seq);
		sqlite3_bind_text(q, 2, ch_name[ch], -1, SQLITE_STATIC);
		int step = sqlite3_step(q);
		if (step == SQLITE_ROW) {
			const char *st = store_col_text(q, 0);
			int64_t at = 0;
			clock_parse_rfc3339(store_col_text(q, 1), &at);
			if (!strcmp(st, "sent") || !strcmp(st, "skipped"))
				*state = CLAIM_DONE;
			else if (!strcmp(st, "sending") && clock_now_ms() - at < n->lease_ms)
				*state = CLAIM_BUSY;
		} else if (step != SQLITE_DONE)
			rc = store_fail_rc(s->st, step, &s->err, "notify_delivery");
		sqlite3_reset(q);
	}
	if (!rc && *state == CLAIM_OK)
		rc = put_row(n, ev, ch, to, "sending", NULL);
	if (rc || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		return s->err.code;
	}
	return 0;
}

/* Record how a delivery ended: sent, skipped or failed (with why). */
static int settle(notifier *n, const event *ev, int ch, const char *to, const char *status, const char *why)
{
	shop *s = n->s;
	if (store_begin(s->st, &s->err))
		return s->err.code;
	if (put_row(n, ev, ch, to, status, why) || store_commit(s->st, &s->err)) {
		store_rollback(s->st);
		return s->err.code;
	}
	return 0;
}

static jv delivery_rec(sqlite3_stmt *q)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("notification"));
	static const char *const cols[] = {"seq", "type", "subject", "channel", "recipient", "status", "attempts",
	                                   "claimed_at", "sent_at", "error"};
	for (int i = 0; i < 10; i++) {
		jv v;
		switch (sqlite3_column_type(q, i)) {
		case SQLITE_INTEGER: v = jv_number((double)sqlite3_column_int64(q, i)); break;
		case SQLITE_NULL: v = jv_null(); break;
		default: v = jv_string(store_col_text(q, i));
		}
		r = jv_object_set(r, jv_string(cols[i]), v);
	}
	return r;
}

/* Emit the delivery row of (seq, ch). */
static int emit_delivery(notifier *n, int64_t seq, int ch)
{
	shop *s = n->s;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT seq, type, subject, channel, recipient, status, attempts, claimed_at, "
	                             "sent_at, error FROM notify_delivery WHERE seq = ?1 AND channel = ?2",
	                             &s->err);
	if (!q)
		return s->err.code;
	sqlite3_bind_int64(q, 1, seq);
	sqlite3_bind_text(q, 2, ch_name[ch], -1, SQLITE_STATIC);
	int stop = 0;
	if (sqlite3_step(q) == SQLITE_ROW)
		stop = n->emit(n->arg, delivery_rec(q));
	sqlite3_reset(q);
	if (stop)
		n->gone = 1;
	return stop;
}

/* Deliver ev on channel ch (claimed by the caller, or forced by send):
 * 0 sent or skipped, else the failure's code with the delivery marked
 * failed. */
static int deliver(notifier *n, const event *ev, int ch, message *mp)
{
	shop *s = n->s;
	message m = *mp; /* a copy of the caller's, rendered once; the caller frees it */
	if (n->o->dry_run) {
		jv r = jv_object();
		r = jv_object_set(r, jv_string("kind"), jv_string("message"));
		r = jv_object_set(r, jv_string("seq"), jv_number((double)ev->seq));
		r = jv_object_set(r, jv_string("type"), jv_string(ev->type));
		r = jv_object_set(r, jv_string("channel"), jv_string(ch_name[ch]));
		r = jv_object_set(r, jv_string("recipient"), m.to ? jv_string(m.to) : jv_null());
		r = jv_object_set(r, jv_string("subject"), jv_string(buf_str(&m.subject)));
		r = jv_object_set(r, jv_string("body"), jv_string(buf_str(&m.body)));
		r = jv_object_set(r, jv_string("message"), m.text.len ? jv_string(buf_str(&m.text)) : jv_null());
		if (n->emit(n->arg, r))
			n->gone = 1;
		return 0;
	}
	shop_err e = {0};
	int attempts = 1, rc = 0;
	const char *status = "sent", *why = NULL;
	if (ch != CH_WEBHOOK && !m.to) {
		status = "skipped";
		why = "no email address";
		fprintf(stderr, "%s: event %lld (%s): order %s has no email address: skipped\n", cli_prog,
		        (long long)ev->seq, ev->type, m.order_id ? m.order_id : ev->subject);
	} else if (ch == CH_MAILDIR)
		rc = to_maildir(n, ev, &m, &e);
	else if (ch == CH_SMTP)
		rc = to_smtp(n, &m, &attempts, &e);
	else
		rc = to_webhook(n, ev, &m, &attempts, &e);
	/* A URL the policy refuses is the config's fault: 78, and --follow
	 * stops on it as on any config error. */
	if (rc == SHOP_USAGE)
		rc = e.code = SHOP_CONFIG;
	const char *to = ch == CH_WEBHOOK ? m.customer : m.to;
	if (rc) {
		settle(n, ev, ch, to, "failed", e.msg);
		err_clear(&s->err);
		err_set(&s->err, rc, "event %lld (%s), %s: %s", (long long)ev->seq, ev->type, ch_name[ch], e.msg);
	} else
		rc = settle(n, ev, ch, to, status, why);
	emit_delivery(n, ev->seq, ch);
	return rc;
}

/* ---- run, send, ls ---- */

static int read_event(sqlite3_stmt *q, event *ev)
{
	ev->seq = sqlite3_column_int64(q, 0);
	STORE_COPY(ev->id, q, 1);
	STORE_COPY(ev->type, q, 2);
	STORE_COPY(ev->subject, q, 3);
	STORE_COPY(ev->at, q, 4);
	char err[128];
	const char *d = store_col_text(q, 5);
	if (json_parse(d, strlen(d), &ev->data, err, sizeof err))
		ev->data = jv_object();
	return 0;
}

/* Handle one event: every channel of its template. 1 when it is done
 * (and may be acknowledged), 0 when a channel is busy elsewhere or
 * failed (the error in s->err). */
static int handle(notifier *n, const event *ev, const tmpl *t, int force)
{
	shop *s = n->s;
	jv ctx = context(s, ev);
	int done = 1;
	for (int ch = 0; ch < CH_N && !s->err.code; ch++) {
		if (!(t->channels & (1u << ch)) || (n->o->channel && strcmp(n->o->channel, ch_name[ch])))
			continue;
		message m;
		if (render(n, t, ev, ctx, ch, &m)) {
			message_free(&m);
			break;
		}
		int state = CLAIM_OK;
		if (!force && !n->o->dry_run && claim(n, ev, ch, ch == CH_WEBHOOK ? m.customer : m.to, &state)) {
			message_free(&m);
			break;
		}
		if (state == CLAIM_BUSY)
			done = 0;
		else if (state == CLAIM_OK && deliver(n, ev, ch, &m))
			done = 0;
		message_free(&m);
	}
	jv_free(ctx);
	return done && !s->err.code;
}

int notify_run(shop *s, const notify_opts *o, shop_emit emit, void *arg)
{
	notifier n;
	if (!shop_store(s) || notifier_open(s, o, emit, arg, &n)) {
		notifier_free(&n);
		return s->err.code;
	}
	int64_t pos = 0;
	long backoff_ms = 1000;
	int handled = 0;
	for (;;) {
		if (order_consumer_pos(s, CONSUMER, &pos))
			break;
		sqlite3_stmt *q = store_stmt(s->st,
		                             "SELECT seq, id, type, subject, at, data FROM outbox WHERE seq > ?1 "
		                             "ORDER BY seq LIMIT ?2",
		                             &s->err);
		if (!q)
			break;
		sqlite3_bind_int64(q, 1, pos);
		sqlite3_bind_int(q, 2, BATCH);
		event evs[BATCH];
		int nev = 0, step;
		while (nev < BATCH && (step = sqlite3_step(q)) == SQLITE_ROW)
			read_event(q, &evs[nev++]);
		sqlite3_reset(q);
		int stuck = 0;
		for (int i = 0; i < nev; i++) {
			if (stuck || (o->once && handled)) {
				jv_free(evs[i].data);
				continue;
			}
			const tmpl *t = template_for(&n, evs[i].type);
			int done = t ? handle(&n, &evs[i], t, 0) : 1;
			if (t)
				handled++;
			if (done && !o->dry_run)
				order_ack(s, CONSUMER, evs[i].seq, shop_drop, NULL);
			if (!done || s->err.code)
				stuck = 1;
			jv_free(evs[i].data);
		}
		if (s->err.code == SHOP_CONFIG || (s->err.code && !o->follow))
			break;
		if (o->dry_run || (o->once && handled) || n.gone)
			break;
		if (stuck && o->follow) {
			/* A failure, or a claim of another run's: wait, then again. */
			if (s->err.code) {
				fprintf(stderr, "%s: %s (retrying in %ld ms)\n", cli_prog, s->err.msg, backoff_ms);
				err_clear(&s->err);
			}
			struct timespec ts = {backoff_ms / 1000, (backoff_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
			backoff_ms = backoff_ms * 2 > 300000 ? 300000 : backoff_ms * 2;
			continue;
		}
		backoff_ms = 1000;
		if (nev == BATCH && !stuck)
			continue;
		if (!o->follow)
			break;
		struct timespec ts = {0, 200 * 1000000L};
		nanosleep(&ts, NULL);
	}
	notifier_free(&n);
	return s->err.code;
}

int notify_send(shop *s, int64_t seq, const notify_opts *o, shop_emit emit, void *arg)
{
	notifier n;
	if (!shop_store(s) || notifier_open(s, o, emit, arg, &n)) {
		notifier_free(&n);
		return s->err.code;
	}
	if (o->channel && channel_of(o->channel) < 0) {
		notifier_free(&n);
		return err_set(&s->err, SHOP_USAGE, "--channel: '%s' is not a channel (maildir, smtp, webhook)",
		               o->channel);
	}
	sqlite3_stmt *q = store_stmt(s->st, "SELECT seq, id, type, subject, at, data FROM outbox WHERE seq = ?1",
	                             &s->err);
	if (q) {
		sqlite3_bind_int64(q, 1, seq);
		event ev;
		int step = sqlite3_step(q);
		if (step == SQLITE_ROW)
			read_event(q, &ev);
		sqlite3_reset(q);
		if (step != SQLITE_ROW)
			err_set(&s->err, SHOP_NOTFOUND, "send: no event %lld", (long long)seq);
		else {
			const tmpl *t = template_for(&n, ev.type);
			if (!t)
				err_set(&s->err, SHOP_NOTFOUND, "send: event %lld is %s, which has no template", (long long)seq,
				        ev.type);
			else
				handle(&n, &ev, t, 1);
			jv_free(ev.data);
		}
	}
	notifier_free(&n);
	return s->err.code;
}

int notify_list(shop *s, const notify_filter *f, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	sqlite3_stmt *q = store_stmt(s->st,
	                             "SELECT seq, type, subject, channel, recipient, status, attempts, claimed_at, "
	                             "sent_at, error FROM notify_delivery WHERE (?1 IS NULL OR status = ?1) "
	                             "AND (?2 IS NULL OR channel = ?2) ORDER BY seq, channel",
	                             &s->err);
	if (!q)
		return s->err.code;
	store_bind_text(q, 1, f->status);
	store_bind_text(q, 2, f->channel);
	shop_filter fl = {s, f->where, f->limit, 0, "notification", "seq", emit, arg};
	int step;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		if (shop_filter_emit(&fl, delivery_rec(q)))
			break;
	sqlite3_reset(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE && !s->err.code)
		return store_fail_rc(s->st, step, &s->err, "notify_delivery");
	return s->err.code;
}
