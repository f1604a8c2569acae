/* shop: see shop.h. */
#include "shop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cfg.h"
#include "base/clock.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/money.h"
#include "base/store.h"
#include "drivers/carrier.h"
#include "drivers/gateway.h"
#include "pricing.h"
#include "search.h"

const cli_opt shop_global_opts[] = {
	{"db", 0, "PATH", "the store (else $SHOP_DB, else ./shop.db)"},
	{"config", 0, "PATH", "shop.yaml (else $SHOP_CONFIG, else ./shop.yaml if present)"},
	{"quiet", 'q', NULL, "no notes or progress on stderr"},
	{"table", 0, NULL, "print records as an aligned table"},
	{NULL, 0, NULL, NULL},
};

/* Every key shop.yaml may hold (shop.yaml(5)). Unknown keys are refused,
 * so a typo is an error instead of a silently ignored setting. */
static const cfg_schema shop_schema[] = {
	{"currency", CFG_STR},
	{"store", CFG_MAP},
	{"store.busy_timeout", CFG_DURATION},
	{"store.data_dir", CFG_STR},
	{"limits", CFG_MAP},
	{"limits.line_bytes", CFG_INT},
	{"limits.image_bytes", CFG_INT},
	{"http", CFG_MAP},
	{"http.timeout", CFG_DURATION},
	{"http.connect_timeout", CFG_DURATION},
	{"http.attempts", CFG_INT},
	{"http.backoff", CFG_DURATION},
	{"warehouses", CFG_SEQ},
	{"warehouses[]", CFG_MAP},
	{"warehouses[].id", CFG_STR},
	{"warehouses[].name", CFG_STR},
	{"warehouses[].region", CFG_STR},
	{"warehouses[].priority", CFG_INT},
	{"inventory", CFG_MAP},
	{"inventory.reservation_ttl", CFG_DURATION},
	{"tax", CFG_MAP},
	{"tax.rules", CFG_SEQ},
	{"tax.rules[]", CFG_MAP},
	{"tax.rules[].country", CFG_STR},
	{"tax.rules[].region", CFG_STR},
	{"tax.rules[].class", CFG_STR},
	{"tax.rules[].rate", CFG_NUMBER},
	{"tax.rules[].inclusive", CFG_BOOL},
	{"shipping", CFG_MAP},
	{"shipping.flat", CFG_NUMBER},
	{"shipping.free_over", CFG_NUMBER},
	{"shipping.carrier", CFG_STR},
	{"shipping.service", CFG_STR},
	{"shipping.http", CFG_MAP},
	{"shipping.http.api_base", CFG_STR},
	{"shipping.http.key_env", CFG_STR},
	{"cart", CFG_MAP},
	{"cart.max_qty", CFG_INT},
	{"payments", CFG_MAP},
	{"payments.gateway", CFG_STR},
	{"payments.hold", CFG_DURATION},
	{"payments.stripe", CFG_MAP},
	{"payments.stripe.api_base", CFG_STR},
	{"payments.stripe.key_env", CFG_STR},
	{"notify", CFG_MAP},
	{"notify.from", CFG_STR},
	{"notify.channels", CFG_SEQ},
	{"notify.channels[]", CFG_STR},
	{"notify.lease", CFG_DURATION},
	{"notify.smtp", CFG_MAP},
	{"notify.smtp.url", CFG_STR},
	{"notify.smtp.user", CFG_STR},
	{"notify.smtp.password_env", CFG_STR},
	{"notify.webhook", CFG_MAP},
	{"notify.webhook.url", CFG_STR},
	{"notify.webhook.key_env", CFG_STR},
	{"notify.templates", CFG_FREEMAP},
	{"notify.templates.*", CFG_MAP},
	{"notify.templates.*.subject", CFG_STR},
	{"notify.templates.*.body", CFG_STR},
	{"notify.templates.*.channels", CFG_SEQ},
	{"notify.templates.*.channels[]", CFG_STR},
	{"notify.templates.*.maildir", CFG_MAP},
	{"notify.templates.*.maildir.subject", CFG_STR},
	{"notify.templates.*.maildir.body", CFG_STR},
	{"notify.templates.*.smtp", CFG_MAP},
	{"notify.templates.*.smtp.subject", CFG_STR},
	{"notify.templates.*.smtp.body", CFG_STR},
	{"notify.templates.*.webhook", CFG_MAP},
	{"notify.templates.*.webhook.subject", CFG_STR},
	{"notify.templates.*.webhook.body", CFG_STR},
	{NULL, 0},
};

const cfg_schema *shop_cfg_schema(void)
{
	return shop_schema;
}

int shop_out(void *arg, jv rec)
{
	(void)arg;
	jsonl_out(rec);
	return jsonl_out_closed();
}

int shop_emit_built(shop *s, jv rec, shop_emit emit, void *arg)
{
	if (s->err.code) {
		jv_free(rec);
		return s->err.code;
	}
	return emit(arg, rec);
}

jv shop_rows(shop *s, sqlite3_stmt *q, const char *what, shop_err *e)
{
	jv list = jv_array();
	int step, n = sqlite3_column_count(q);
	while ((step = sqlite3_step(q)) == SQLITE_ROW) {
		jv r = jv_object();
		for (int i = 0; i < n; i++) {
			jv v;
			switch (sqlite3_column_type(q, i)) {
			case SQLITE_INTEGER: v = jv_number((double)sqlite3_column_int64(q, i)); break;
			case SQLITE_FLOAT: v = jv_number(sqlite3_column_double(q, i)); break;
			case SQLITE_NULL: v = jv_null(); break;
			default: v = jv_string(store_col_text(q, i));
			}
			r = jv_object_set(r, jv_string(sqlite3_column_name(q, i)), v);
		}
		list = jv_array_append(list, r);
	}
	sqlite3_reset(q);
	if (step != SQLITE_DONE)
		store_fail_rc(s->st, step, e, what);
	return list;
}

int shop_drop(void *arg, jv rec)
{
	(void)arg;
	jv_free(rec);
	return 0;
}

int shop_filter_emit(void *arg, jv rec)
{
	shop_filter *f = arg;
	if (f->where) {
		int truth = 0;
		shop_err we = {0};
		if (jqx_test(f->where, rec, &truth, &we)) {
			const char *k = f->key ? rec_str(rec, f->key, &we) : NULL;
			if (k)
				err_set(&f->s->err, we.code, "%s %s: %s", f->what, k, we.msg);
			else
				err_set(&f->s->err, we.code, "%s", we.msg);
			jv_free(rec);
			return 1;
		}
		if (!truth) {
			jv_free(rec);
			return 0;
		}
	}
	if (f->emit(f->arg, rec))
		return 1;
	return f->limit > 0 && ++f->shown >= f->limit;
}

int shop_list_args(shop *s, cli_args *a, long long *limit, struct jqx **where)
{
	*where = NULL;
	if (cli_get_count(a, "limit", 0, limit, &s->err))
		return s->err.code;
	const char *w = cli_get(a, "where");
	if (w && !(*where = jqx_compile(w, "--where", &s->err)))
		return s->err.code;
	return 0;
}

int shop_report(shop *s, int rc)
{
	if (rc && s->err.code) {
		cli_report(&s->err);
		err_clear(&s->err);
	}
	return rc;
}

int shop_each_id(shop *s, cli_args *a, int first, int end, const char *what, const char *key, const char *alt,
                 int (*fn)(shop *, const char *, void *), void *arg)
{
	cli_args view = *a;
	view.argc = end;
	int from_args = cli_ids_from_args(&view, first, what, &s->err);
	if (from_args < 0)
		return s->err.code;
	int rc = 0, x = 0;
	if (from_args) {
		for (int i = first; i < end; i++) {
			x = shop_report(s, fn(s, a->argv[i], arg));
			if (x && !rc)
				rc = x;
			if (x && x != SHOP_REFUSED && x != SHOP_NOTFOUND)
				break;
		}
		return rc;
	}
	jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
	jv rec;
	char *last = NULL;
	while (jsonl_next(r, &rec, &s->err) > 0) {
		shop_err fe = {0};
		const char *id = rec_str(rec, key, &fe);
		if (!id && !fe.code && alt)
			id = rec_str(rec, alt, &fe);
		if (!id && !fe.code && alt)
			err_set(&fe, SHOP_DATAERR, "field '%s' (or '%s'): missing", key, alt);
		else if (!id && !fe.code)
			err_set(&fe, SHOP_DATAERR, "field '%s': missing", key);
		if (fe.code) {
			err_set(&s->err, fe.code, "stdin:%zu: %s", jsonl_lineno(r), fe.msg);
			jv_free(rec);
			break;
		}
		x = 0;
		if (!last || strcmp(last, id)) {
			free(last);
			last = xstrdup(id);
			x = shop_report(s, fn(s, id, arg));
			if (x && !rc)
				rc = x;
		}
		jv_free(rec);
		if (x && x != SHOP_REFUSED && x != SHOP_NOTFOUND)
			break;
	}
	free(last);
	jsonl_reader_free(r);
	return s->err.code ? s->err.code : rc;
}

int shop_read_all(shop *s, jv *all, size_t **lines, size_t *n)
{
	jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
	*all = jv_array();
	*lines = NULL;
	*n = 0;
	jv rec;
	int got;
	while ((got = jsonl_next(r, &rec, &s->err)) > 0) {
		*all = jv_array_append(*all, rec);
		*lines = xrealloc(*lines, (*n + 1) * sizeof **lines);
		(*lines)[(*n)++] = jsonl_lineno(r);
	}
	jsonl_reader_free(r);
	return got < 0 ? s->err.code : 0;
}

const char *shop_line_label(void *lines, size_t i)
{
	static char label[48];
	snprintf(label, sizeof label, "stdin:%zu", ((size_t *)lines)[i]);
	return label;
}

int shop_import_open(shop *s, cli_args *a, shop_import *im)
{
	const char *file = a->argc > 0 ? a->argv[0] : "-";
	im->in = stdin;
	im->name = "stdin";
	im->rejects = NULL;
	im->rejects_path = cli_get(a, "rejects");
	if (cli_has(a, "keep-going") != (im->rejects_path != NULL))
		return err_set(&s->err, SHOP_USAGE, "import: --keep-going and --rejects FILE go together");
	if (strcmp(file, "-")) {
		im->in = fopen(file, "r");
		if (!im->in)
			return err_set(&s->err, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", file,
			               strerror(errno));
		im->name = file;
	}
	if (im->rejects_path) {
		/* 0600 like every file of the shop: rejects hold the input's data. */
		int fd = open(im->rejects_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0 && fchmod(fd, 0600) == 0)
			im->rejects = fdopen(fd, "w");
		else if (fd >= 0)
			close(fd);
		if (!im->rejects) {
			err_set(&s->err, SHOP_IOERR, "%s: %s", im->rejects_path, strerror(errno));
			if (im->in != stdin)
				fclose(im->in);
			im->in = NULL;
			return s->err.code;
		}
	}
	return 0;
}

int shop_import_close(shop *s, shop_import *im, int rc, const shop_counts *c)
{
	if (im->in && im->in != stdin)
		fclose(im->in);
	im->in = NULL;
	if (im->rejects && fclose(im->rejects) && !rc)
		rc = err_set(&s->err, SHOP_IOERR, "%s: %s", im->rejects_path, strerror(errno));
	im->rejects = NULL;
	if (rc)
		return rc;
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("import"));
	r = jv_object_set(r, jv_string("read"), jv_number((double)c->read));
	r = jv_object_set(r, jv_string("created"), jv_number((double)c->created));
	r = jv_object_set(r, jv_string("updated"), jv_number((double)c->updated));
	r = jv_object_set(r, jv_string("unchanged"), jv_number((double)c->unchanged));
	r = jv_object_set(r, jv_string("rejected"), jv_number((double)c->rejected));
	jsonl_out(r);
	return c->rejected ? err_set(&s->err, SHOP_DATAERR, "import: %zu record%s rejected (see %s)", c->rejected,
	                             c->rejected == 1 ? "" : "s", im->rejects_path)
	                   : 0;
}

void shop_reject(FILE *f, const char *name, size_t line, const char *err, const char *text, size_t len)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("kind"), jv_string("reject"));
	r = jv_object_set(r, jv_string("source"), jv_string(name));
	r = jv_object_set(r, jv_string("line"), jv_number((double)line));
	r = jv_object_set(r, jv_string("error"), jv_string(err));
	r = jv_object_set(r, jv_string("input"), jv_string_sized(text, (int)len));
	jv_dumpf(r, f, 0);
	fputc('\n', f);
}

int shop_import_run(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c, const shop_importer *im)
{
	memset(c, 0, sizeof *c);
	if (!shop_store(s) || store_begin(s->st, &s->err)) {
		im->finish(s, im->ctx, c);
		return s->err.code;
	}
	jsonl_reader *r = jsonl_reader_new(in, name, s->max_line);
	for (;;) {
		shop_err le = {0};
		const jnode *rec;
		int got = jsonl_next_tree(r, &rec, &le);
		if (got == 0)
			break;
		c->read++;
		if (got > 0 && im->record(s, im->ctx, rec, r, c, &le))
			err_prefix(&le, "%s:%zu: ", name, jsonl_lineno(r));
		if (le.code) {
			/* The store failed, or all or nothing: stop. */
			if (le.code != SHOP_DATAERR || !rejects) {
				err_set(&s->err, le.code, "%s", le.msg);
				break;
			}
			size_t len;
			const char *text = jsonl_line(r, &len);
			shop_reject(rejects, name, jsonl_lineno(r), le.msg, text, len);
			c->rejected++;
		}
		if (s->err.code)
			break;
		if (!s->quiet)
			cli_progress("import", c->read, 0, 0);
	}
	jsonl_reader_free(r);
	im->finish(s, im->ctx, c);
	if (!s->quiet && c->read >= 1)
		cli_progress("import", c->read, 0, 1);
	if (s->err.code) {
		store_rollback(s->st);
		return s->err.code;
	}
	if (rejects && fflush(rejects) != 0) {
		store_rollback(s->st);
		return err_set(&s->err, SHOP_IOERR, "--rejects: write: %s", strerror(errno));
	}
	return store_commit(s->st, &s->err);
}

int shop_import_cmd(shop *s, cli_args *a,
                    int (*run)(shop *s, FILE *in, const char *name, FILE *rejects, shop_counts *c))
{
	shop_import im;
	if (shop_import_open(s, a, &im))
		return s->err.code;
	shop_counts c;
	int rc = run(s, im.in, im.name, im.rejects, &c);
	return shop_import_close(s, &im, rc, &c);
}

void shop_note(shop *s, const char *fmt, ...)
{
	if (s->quiet)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_warn("%s", msg);
}

static int wh_cmp(const void *a, const void *b)
{
	const warehouse *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->id, y->id);
}

const warehouse *shop_warehouse(const shop *s, const char *id)
{
	for (size_t i = 0; i < s->nwarehouses; i++)
		if (!strcmp(s->warehouses[i].id, id))
			return &s->warehouses[i];
	return NULL;
}

/* warehouses: ids unique, made of [A-Za-z0-9_.-]; none given: "main". */
static int load_warehouses(shop *s)
{
	const cfg_node *seq = cfg_get(s->cfg, NULL, "warehouses");
	size_t n = seq ? cfg_len(seq) : 0;
	s->warehouses = xcalloc(n ? n : 1, sizeof *s->warehouses);
	if (!n) {
		s->warehouses[0] = (warehouse){"main", "Main warehouse", "", 100};
		s->nwarehouses = 1;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		const cfg_node *w = cfg_at(seq, i);
		const char *id = cfg_str(s->cfg, w, "id", NULL);
		if (!id || !*id)
			return err_set(&s->err, SHOP_CONFIG, "%s: warehouses[%zu]: id is required", cfg_where(w), i);
		for (const char *c = id; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			      *c == '_' || *c == '-' || *c == '.'))
				return err_set(&s->err, SHOP_CONFIG, "%s: warehouses[%zu]: id '%s' is not made of [A-Za-z0-9_.-]",
				               cfg_where(cfg_get(s->cfg, w, "id")), i, id);
		if (shop_warehouse(s, id))
			return err_set(&s->err, SHOP_CONFIG, "%s: warehouses[%zu]: id '%s' given twice",
			               cfg_where(cfg_get(s->cfg, w, "id")), i, id);
		s->warehouses[i] = (warehouse){id, cfg_str(s->cfg, w, "name", id), cfg_str(s->cfg, w, "region", ""),
		                               cfg_int(s->cfg, w, "priority", 100)};
		s->nwarehouses = i + 1;
	}
	qsort(s->warehouses, n, sizeof *s->warehouses, wh_cmp);
	return 0;
}

/* A money amount of the config: a decimal in the shop's currency. */
static int load_money(shop *s, const char *path, int64_t *out)
{
	const cfg_node *n = cfg_get(s->cfg, NULL, path);
	const char *t = cfg_text(n);
	*out = 0;
	if (!t)
		return 0;
	shop_err me = {0};
	if (money_parse_decimal(t, currency_find(s->currency), out, &me) || *out < 0)
		return err_set(&s->err, SHOP_CONFIG, "%s: %s: %s", cfg_where(n), path,
		               me.code ? me.msg : "must not be negative");
	return 0;
}

static int load_config(shop *s, const char *flag)
{
	const char *path = flag;
	if (!path || !*path)
		path = getenv("SHOP_CONFIG");
	if (!path || !*path)
		path = access("shop.yaml", F_OK) == 0 ? "shop.yaml" : NULL;
	if (path) {
		s->cfg = cfg_load_file(path, shop_schema, &s->err);
		if (!s->cfg)
			return s->err.code;
	} else {
		s->cfg = cfg_empty();
	}
	s->cfg_path = path;
	const cfg_node *cur = cfg_get(s->cfg, NULL, "currency");
	s->currency = cfg_str(s->cfg, NULL, "currency", "USD");
	if (!currency_find(s->currency))
		return err_set(&s->err, SHOP_CONFIG, "%s: currency: '%s' is not an ISO 4217 code",
		               cur ? cfg_where(cur) : cfg_name(s->cfg), s->currency);
	int64_t line = cfg_int(s->cfg, NULL, "limits.line_bytes", JSONL_MAX_LINE);
	int64_t img = cfg_int(s->cfg, NULL, "limits.image_bytes", 20 * 1024 * 1024);
	if (line < 1024 || line > (1 << 30))
		return err_set(&s->err, SHOP_CONFIG, "%s: limits.line_bytes: must be 1024..1073741824",
		               cfg_where(cfg_get(s->cfg, NULL, "limits.line_bytes")));
	if (img < 1 || img > (1 << 30))
		return err_set(&s->err, SHOP_CONFIG, "%s: limits.image_bytes: must be 1..1073741824",
		               cfg_where(cfg_get(s->cfg, NULL, "limits.image_bytes")));
	s->max_line = (size_t)line;
	s->max_image = (size_t)img;
	s->busy_timeout_ms = (long)cfg_duration(s->cfg, NULL, "store.busy_timeout", 10000);
	/* http.*: for every program that fetches (image add today). */
	s->http.timeout_ms = (long)cfg_duration(s->cfg, NULL, "http.timeout", 30000);
	s->http.connect_timeout_ms = (long)cfg_duration(s->cfg, NULL, "http.connect_timeout", 5000);
	s->http.backoff_ms = (long)cfg_duration(s->cfg, NULL, "http.backoff", 1000);
	int64_t attempts = cfg_int(s->cfg, NULL, "http.attempts", 4);
	if (attempts < 1 || attempts > 20)
		return err_set(&s->err, SHOP_CONFIG, "%s: http.attempts: must be 1..20",
		               cfg_where(cfg_get(s->cfg, NULL, "http.attempts")));
	s->http.max_attempts = (int)attempts;
	if (s->http.timeout_ms <= 0 || s->http.connect_timeout_ms <= 0 || s->http.backoff_ms <= 0)
		return err_set(&s->err, SHOP_CONFIG, "%s: http: timeouts and backoff must be above 0", cfg_name(s->cfg));
	s->reservation_ttl_ms = cfg_duration(s->cfg, NULL, "inventory.reservation_ttl", 15 * 60 * 1000);
	if (s->reservation_ttl_ms <= 0)
		return err_set(&s->err, SHOP_CONFIG, "%s: inventory.reservation_ttl: must be above 0",
		               cfg_where(cfg_get(s->cfg, NULL, "inventory.reservation_ttl")));
	if (load_money(s, "shipping.flat", &s->shipping_flat) || load_money(s, "shipping.free_over", &s->free_over))
		return s->err.code;
	const cfg_node *rules = cfg_get(s->cfg, NULL, "tax.rules");
	for (size_t i = 0; rules && i < cfg_len(rules); i++) {
		const cfg_node *rule = cfg_at(rules, i);
		int64_t num, den;
		const char *rate = cfg_str(s->cfg, rule, "rate", NULL);
		if (!rate || pct_parse(rate, &num, &den))
			return err_set(&s->err, SHOP_CONFIG, "%s: tax.rules[%zu].rate: a percentage from 0 to 100 is required",
			               cfg_where(rule), i);
	}
	s->gateway = cfg_str(s->cfg, NULL, "payments.gateway", "sandbox");
	if (!gw_known(s->gateway))
		return err_set(&s->err, SHOP_CONFIG, "%s: payments.gateway: '%s' is not a gateway (sandbox, stripe)",
		               cfg_where(cfg_get(s->cfg, NULL, "payments.gateway")), s->gateway);
	s->hold_ms = cfg_duration(s->cfg, NULL, "payments.hold", 7LL * 24 * 3600 * 1000);
	if (s->hold_ms <= 0)
		return err_set(&s->err, SHOP_CONFIG, "%s: payments.hold: must be above 0",
		               cfg_where(cfg_get(s->cfg, NULL, "payments.hold")));
	s->carrier = cfg_str(s->cfg, NULL, "shipping.carrier", "sandbox");
	if (!carrier_known(s->carrier))
		return err_set(&s->err, SHOP_CONFIG, "%s: shipping.carrier: '%s' is not a carrier (sandbox, http)",
		               cfg_where(cfg_get(s->cfg, NULL, "shipping.carrier")), s->carrier);
	s->carrier_service = cfg_str(s->cfg, NULL, "shipping.service", NULL);
	s->carrier_base = cfg_str(s->cfg, NULL, "shipping.http.api_base", "https://api.easypost.com");
	s->carrier_key_env = cfg_str(s->cfg, NULL, "shipping.http.key_env", "EASYPOST_API_KEY");
	s->stripe_base = cfg_str(s->cfg, NULL, "payments.stripe.api_base", "https://api.stripe.com");
	s->stripe_key_env = cfg_str(s->cfg, NULL, "payments.stripe.key_env", "STRIPE_SECRET_KEY");
	s->max_qty = cfg_int(s->cfg, NULL, "cart.max_qty", 1000000);
	if (s->max_qty < 1 || s->max_qty > 1000000000)
		return err_set(&s->err, SHOP_CONFIG, "%s: cart.max_qty: must be 1..1000000000",
		               cfg_where(cfg_get(s->cfg, NULL, "cart.max_qty")));
	return load_warehouses(s);
}

struct store *shop_store(shop *s)
{
	if (s->st)
		return s->st;
	store_opts o = {s->busy_timeout_ms, cfg_str(s->cfg, NULL, "store.data_dir", NULL)};
	if (store_open(s->db_path, &o, &s->st, &s->err))
		s->st = NULL;
	else /* products changed through the triggers reach the index in the writer's transaction */
		store_before_commit(s->st, search_sync, NULL);
	return s->st;
}

int shop_main(const cli_tool *t, int argc, char **argv)
{
	shop s;
	memset(&s, 0, sizeof s);
	const cli_cmd *cmd;
	cli_args a;
	int done;
	if (cli_parse_tool(t, argc, argv, &cmd, &a, &done, &s.err) || done) {
		cli_args_free(&a);
		return cli_report(&s.err);
	}
	s.quiet = cli_has(&a, "quiet");
	s.table = cli_has(&a, "table");
	s.db_path = cli_get(&a, "db");
	if (!s.db_path || !*s.db_path)
		s.db_path = getenv("SHOP_DB");
	if (!s.db_path || !*s.db_path)
		s.db_path = "shop.db";
	int code = 0;
	if (clock_init(&s.err) || load_config(&s, cli_get(&a, "config")))
		goto out;
	jsonl_out_init(s.table);
	int rc = cmd->run(&s, &a);
	/* A code without a message: the command reported as it went. */
	if (rc && !s.err.code)
		s.err.code = rc;
	if (jsonl_out_end() && !s.err.code)
		err_set(&s.err, SHOP_IOERR, "stdout: write error");
out:
	code = cli_report(&s.err);
	gw_close(s.gw);
	carrier_close(s.carrier_conn);
	if (s.st)
		store_close(s.st);
	free(s.warehouses);
	cfg_free(s.cfg);
	cli_args_free(&a);
	return code;
}
