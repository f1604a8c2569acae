/* saga: see saga.h and shop-saga(5). */
#include "saga.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/cfg.h"
#include "base/clock.h"
#include "base/ids.h"
#include "base/journal.h"
#include "base/jqx.h"
#include "base/json.h"
#include "base/jsonl.h"
#include "base/proc.h"
#include "base/sha256.h"
#include "base/store.h"
#include "order.h"

extern const char *const shop_builtin_sagas[][2];

/* ---- saga files ---- */

static const cfg_schema saga_schema[] = {
	{"name", CFG_STR},
	{"description", CFG_STR},
	{"input", CFG_STR},
	{"steps", CFG_SEQ},
	{"steps[]", CFG_MAP},
	{"steps[].name", CFG_STR},
	{"steps[].run", CFG_SEQ},
	{"steps[].run[]", CFG_STR},
	{"steps[].compensate", CFG_SEQ},
	{"steps[].compensate[]", CFG_STR},
	{"steps[].retry", CFG_MAP},
	{"steps[].retry.attempts", CFG_INT},
	{"steps[].retry.backoff", CFG_DURATION},
	{"steps[].timeout", CFG_DURATION},
	{"steps[].pivot", CFG_BOOL},
	{NULL, 0},
};

#define DEF_ATTEMPTS 3
#define DEF_BACKOFF_MS 1000
#define DEF_TIMEOUT_MS (5 * 60 * 1000)
#define MAX_STEPS 64

static int name_ok(const char *n, size_t max)
{
	size_t len = strlen(n);
	if (!len || len > max)
		return 0;
	for (const char *c = n; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' ||
		      *c == '_'))
			return 0;
	return 1;
}

/* An argv of a step as JSON strings, each checked to compile as a template
 * (where names it in messages). */
static int argv_of(const cfg *c, const cfg_node *seq, const char *what, jv *out, shop_err *e)
{
	*out = jv_array();
	size_t n = cfg_len(seq);
	if (!n)
		return err_set(e, SHOP_CONFIG, "%s: %s: an empty argv", cfg_where(seq), what);
	for (size_t i = 0; i < n; i++) {
		const cfg_node *a = cfg_at(seq, i);
		const char *t = cfg_text(a);
		if (!t)
			return err_set(e, SHOP_CONFIG, "%s: %s[%zu]: an empty element", cfg_where(a), what, i);
		if (i == 0 && (jqx_has_placeholder(t) || !*t))
			return err_set(e, SHOP_CONFIG, "%s: %s[0]: the program must be named plainly, not by a placeholder",
			               cfg_where(a), what);
		shop_err te = {0};
		jqx_tmpl *tm = jqx_tmpl_compile(t, what, &te);
		if (!tm)
			return err_set(e, SHOP_CONFIG, "%s: %s", cfg_where(a), te.msg);
		jqx_tmpl_free(tm);
		*out = jv_array_append(*out, jv_string(t));
	}
	(void)c;
	return 0;
}

/* A saga file's text to its definition (the object the journal keeps). */
static int def_parse(const char *fname, const char *text, size_t len, jv *out, shop_err *e)
{
	*out = jv_invalid();
	cfg *c = cfg_load_string(fname, text, len, saga_schema, e);
	if (!c)
		return e->code;
	jv def = jv_object(), steps = jv_array();
	const char *name = cfg_str(c, NULL, "name", NULL);
	const cfg_node *seq = cfg_get(c, NULL, "steps");
	size_t n = seq ? cfg_len(seq) : 0;
	int pivots = 0;
	if (!name || !name_ok(name, 64))
		err_set(e, SHOP_CONFIG, "%s: name: required, of [A-Za-z0-9_-]", cfg_name(c));
	else if (!n)
		err_set(e, SHOP_CONFIG, "%s: steps: at least one step is required", seq ? cfg_where(seq) : cfg_name(c));
	else if (n > MAX_STEPS)
		err_set(e, SHOP_CONFIG, "%s: steps: at most %d", cfg_where(seq), MAX_STEPS);
	const char *input = cfg_str(c, NULL, "input", "order_id");
	if (!e->code && !name_ok(input, 64))
		err_set(e, SHOP_CONFIG, "%s: input: a key of [A-Za-z0-9_-]", cfg_where(cfg_get(c, NULL, "input")));
	for (size_t i = 0; i < n && !e->code; i++) {
		const cfg_node *st = cfg_at(seq, i);
		const char *sn = cfg_str(c, st, "name", NULL);
		char what[96];
		snprintf(what, sizeof what, "steps[%zu]", i);
		if (!sn || !name_ok(sn, 64)) {
			err_set(e, SHOP_CONFIG, "%s: %s: name: required, of [A-Za-z0-9_-]", cfg_where(st), what);
			break;
		}
		snprintf(what, sizeof what, "step %s", sn);
		for (size_t k = 0; k < i; k++) {
			jv other = jv_array_get(jv_copy(steps), (int)k);
			jv on = jv_object_get(other, jv_string("name"));
			if (!strcmp(jv_string_value(on), sn))
				err_set(e, SHOP_CONFIG, "%s: %s: a second step of that name", cfg_where(st), what);
			jv_free(on);
		}
		if (!strcmp(sn, "saga") || !strcmp(sn, "input") || !strcmp(sn, input))
			err_set(e, SHOP_CONFIG, "%s: %s: the name is taken by the context", cfg_where(st), what);
		const cfg_node *run = cfg_get(c, st, "run"), *comp = cfg_get(c, st, "compensate");
		if (!e->code && !run)
			err_set(e, SHOP_CONFIG, "%s: %s: run is required", cfg_where(st), what);
		jv r = jv_null(), cp = jv_null();
		char w2[128];
		snprintf(w2, sizeof w2, "%s: run", what);
		if (!e->code)
			argv_of(c, run, w2, &r, e);
		snprintf(w2, sizeof w2, "%s: compensate", what);
		if (!e->code && comp)
			argv_of(c, comp, w2, &cp, e);
		int64_t attempts = cfg_int(c, st, "retry.attempts", DEF_ATTEMPTS);
		int64_t backoff = cfg_duration(c, st, "retry.backoff", DEF_BACKOFF_MS);
		int64_t timeout = cfg_duration(c, st, "timeout", DEF_TIMEOUT_MS);
		int pivot = cfg_bool(c, st, "pivot", 0);
		if (!e->code && (attempts < 1 || attempts > 100))
			err_set(e, SHOP_CONFIG, "%s: %s: retry.attempts: 1 to 100", cfg_where(cfg_get(c, st, "retry.attempts")),
			        what);
		if (!e->code && (backoff < 0 || backoff > 3600000))
			err_set(e, SHOP_CONFIG, "%s: %s: retry.backoff: at most 1h", cfg_where(cfg_get(c, st, "retry.backoff")),
			        what);
		if (!e->code && timeout <= 0)
			err_set(e, SHOP_CONFIG, "%s: %s: timeout: above 0", cfg_where(cfg_get(c, st, "timeout")), what);
		if (!e->code && pivot && ++pivots > 1)
			err_set(e, SHOP_CONFIG, "%s: %s: a second pivot (a saga has one point of no return)",
			        cfg_where(cfg_get(c, st, "pivot")), what);
		jv o = jv_object();
		o = jv_object_set(o, jv_string("name"), jv_string(sn));
		o = jv_object_set(o, jv_string("run"), r);
		o = jv_object_set(o, jv_string("compensate"), cp);
		o = jv_object_set(o, jv_string("attempts"), jv_number((double)attempts));
		o = jv_object_set(o, jv_string("backoff_ms"), jv_number((double)backoff));
		o = jv_object_set(o, jv_string("timeout_ms"), jv_number((double)timeout));
		o = jv_object_set(o, jv_string("pivot"), jv_bool(pivot));
		steps = jv_array_append(steps, o);
	}
	if (!e->code) {
		def = jv_object_set(def, jv_string("name"), jv_string(name));
		def = jv_object_set(def, jv_string("description"), jv_string(cfg_str(c, NULL, "description", "")));
		def = jv_object_set(def, jv_string("input"), jv_string(input));
		def = jv_object_set(def, jv_string("steps"), steps);
		*out = def;
	} else {
		jv_free(def);
		jv_free(steps);
	}
	cfg_free(c);
	return e->code;
}

/* Find and parse saga name. */
static int def_load(shop *s, const char *name, jv *out, shop_err *e)
{
	*out = jv_invalid();
	char *path = NULL;
	if (strchr(name, '/')) {
		path = xstrdup(name);
	} else {
		if (!name_ok(name, 64))
			return err_set(e, SHOP_USAGE, "saga '%s': a name is made of [A-Za-z0-9_-] (or give a file's path)",
			               name);
		char *dir = store_subdir(s->st, "sagas", 0, e);
		if (!dir)
			return e->code;
		path = xasprintf("%s/%s.yaml", dir, name);
		free(dir);
		if (access(path, F_OK)) {
			free(path);
			path = NULL;
		}
	}
	if (path) {
		FILE *f = fopen(path, "r");
		if (!f) {
			err_set(e, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
			free(path);
			return e->code;
		}
		buf b = {0};
		char chunk[8192];
		size_t r;
		while ((r = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < CFG_MAX_BYTES + 1)
			buf_add(&b, chunk, r);
		fclose(f);
		int rc = def_parse(path, b.p ? b.p : "", b.len, out, e);
		buf_free(&b);
		free(path);
		return rc;
	}
	for (size_t i = 0; shop_builtin_sagas[i][0]; i++)
		if (!strcmp(shop_builtin_sagas[i][0], name)) {
			char label[96];
			snprintf(label, sizeof label, "(built-in %s.yaml)", name);
			return def_parse(label, shop_builtin_sagas[i][1], strlen(shop_builtin_sagas[i][1]), out, e);
		}
	return err_set(e, SHOP_NOTFOUND, "saga '%s': no such saga (not in the store's sagas/ directory, not built in)",
	               name);
}

/* ---- journals ---- */

static char *journal_dir(shop *s, int mk, shop_err *e)
{
	return store_subdir(s->st, "journal", mk, e);
}

static char *journal_path(shop *s, const char *id, shop_err *e)
{
	char *dir = journal_dir(s, 0, e);
	if (!dir)
		return NULL;
	char *p = xasprintf("%s/%s.jsonl", dir, id);
	if (access(p, F_OK)) {
		char *a = xasprintf("%s/archive/%s.jsonl", dir, id);
		if (!access(a, F_OK)) {
			free(p);
			p = a;
		} else {
			free(a);
		}
	}
	free(dir);
	return p;
}

static jv get(jv o, const char *k)
{
	return jv_get_kind(o) == JV_KIND_OBJECT ? jv_object_get(jv_copy(o), jv_string(k)) : jv_invalid();
}

static const char *str_of(jv o, const char *k, char *out, size_t n)
{
	jv v = get(o, k);
	snprintf(out, n, "%s", jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "");
	jv_free(v);
	return out;
}

static int64_t int_of(jv o, const char *k, int64_t def)
{
	jv v = get(o, k);
	int64_t r = jv_get_kind(v) == JV_KIND_NUMBER ? (int64_t)jv_number_value(v) : def;
	jv_free(v);
	return r;
}

enum { PH_FORWARD, PH_COMPENSATE, PH_DONE };

/* A run as its journal tells it. */
typedef struct run {
	shop *s;
	journal *j;
	char id[ID_MAX], name[72], order[256], path[1024];
	jv def, steps, ctx;
	size_t n;
	int phase, past_pivot, stuck, started;
	char state[16]; /* on PH_DONE: completed, compensated */
	size_t next;    /* forward: the next step */
	int fwd_done[MAX_STEPS], comp_need[MAX_STEPS], comp_done[MAX_STEPS];
	int open_step, open_phase; /* an intent without its outcome: -1 none */
	char reason[600];    /* why the saga turned back (.saga.reason) */
	char stuck_why[600]; /* why it waits stuck */
	char started_at[32], updated_at[32], stuck_step[72];
} run;

static void run_free(run *r)
{
	jv_free(r->def);
	jv_free(r->steps);
	jv_free(r->ctx);
	journal_close(r->j);
	r->j = NULL;
	r->def = r->steps = r->ctx = jv_invalid();
}

static jv step_at(run *r, size_t i)
{
	return jv_array_get(jv_copy(r->steps), (int)i);
}

static void step_name(run *r, size_t i, char *out, size_t n)
{
	jv st = step_at(r, i);
	str_of(st, "name", out, n);
	jv_free(st);
}

static int step_index(run *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		char sn[72];
		step_name(r, i, sn, sizeof sn);
		if (!strcmp(sn, name))
			return (int)i;
	}
	return -1;
}

static void ctx_saga(run *r)
{
	jv sg = jv_object();
	sg = jv_object_set(sg, jv_string("id"), jv_string(r->id));
	sg = jv_object_set(sg, jv_string("name"), jv_string(r->name));
	sg = jv_object_set(sg, jv_string("reason"), r->reason[0] ? jv_string(r->reason) : jv_null());
	r->ctx = jv_object_set(r->ctx, jv_string("saga"), sg);
}

/* Replay the records into r. 65 when they do not make a saga journal. */
static int replay(run *r, jv recs, const char *path, shop_err *e)
{
	int n = jv_array_length(jv_copy(recs));
	r->open_step = -1;
	for (int i = 0; i < n; i++) {
		jv rec = jv_array_get(jv_copy(recs), i);
		char type[24], at[32];
		str_of(rec, "type", type, sizeof type);
		str_of(rec, "at", at, sizeof at);
		if (i == 0) {
			if (strcmp(type, "start")) {
				jv_free(rec);
				return err_set(e, SHOP_DATAERR, "%s: the first record is not a start", path);
			}
			str_of(rec, "saga", r->id, sizeof r->id);
			str_of(rec, "name", r->name, sizeof r->name);
			str_of(rec, "id", r->order, sizeof r->order);
			r->def = get(rec, "def");
			r->steps = get(r->def, "steps");
			r->ctx = get(rec, "context");
			if (jv_get_kind(r->steps) != JV_KIND_ARRAY || jv_get_kind(r->ctx) != JV_KIND_OBJECT ||
			    jv_array_length(jv_copy(r->steps)) > MAX_STEPS) {
				jv_free(rec);
				return err_set(e, SHOP_DATAERR, "%s: the start record has no saga", path);
			}
			r->n = (size_t)jv_array_length(jv_copy(r->steps));
			snprintf(r->started_at, sizeof r->started_at, "%s", at);
			r->started = 1;
		}
		snprintf(r->updated_at, sizeof r->updated_at, "%s", at);
		char sn[72], ph[16];
		str_of(rec, "step", sn, sizeof sn);
		str_of(rec, "phase", ph, sizeof ph);
		int k = sn[0] ? step_index(r, sn) : -1;
		int comp = !strcmp(ph, "compensate");
		if (!strcmp(type, "intent") && k >= 0) {
			r->open_step = k;
			r->open_phase = comp;
		} else if (!strcmp(type, "outcome") && k >= 0) {
			r->open_step = -1;
			if (int_of(rec, "exit", -1) == 0) {
				if (comp) {
					r->comp_done[k] = 1;
				} else {
					r->fwd_done[k] = 1;
					r->next = (size_t)k + 1;
					jv out = get(rec, "record");
					if (jv_get_kind(out) == JV_KIND_OBJECT)
						r->ctx = jv_object_set(r->ctx, jv_string(sn), out);
					else
						jv_free(out);
					jv st = step_at(r, (size_t)k);
					jv pv = get(st, "pivot");
					if (jv_get_kind(pv) == JV_KIND_TRUE)
						r->past_pivot = 1;
					jv_free(pv);
					jv_free(st);
				}
			}
		} else if (!strcmp(type, "compensate")) {
			r->phase = PH_COMPENSATE;
			str_of(rec, "reason", r->reason, sizeof r->reason);
			jv list = get(rec, "steps");
			for (int x = 0; jv_get_kind(list) == JV_KIND_ARRAY && x < jv_array_length(jv_copy(list)); x++) {
				jv nm = jv_array_get(jv_copy(list), x);
				int idx = jv_get_kind(nm) == JV_KIND_STRING ? step_index(r, jv_string_value(nm)) : -1;
				if (idx >= 0)
					r->comp_need[idx] = 1;
				jv_free(nm);
			}
			jv_free(list);
			r->stuck = 0;
		} else if (!strcmp(type, "stuck")) {
			r->stuck = 1;
			str_of(rec, "reason", r->stuck_why, sizeof r->stuck_why);
			snprintf(r->stuck_step, sizeof r->stuck_step, "%s", sn);
		} else if (!strcmp(type, "resume")) {
			r->stuck = 0;
		} else if (!strcmp(type, "end")) {
			r->phase = PH_DONE;
			str_of(rec, "state", r->state, sizeof r->state);
		}
		jv_free(rec);
	}
	if (!r->started)
		return err_set(e, SHOP_DATAERR, "%s: an empty journal", path);
	ctx_saga(r);
	return 0;
}

/* Open (lock) and replay saga id's journal. */
static int run_open(shop *s, const char *id, run *r, int lock, shop_err *e)
{
	memset(r, 0, sizeof *r);
	r->s = s;
	r->def = r->steps = r->ctx = jv_invalid();
	if (!id_valid("sag", id))
		return err_set(e, SHOP_NOTFOUND, "saga '%s': no such saga run (ids look like sag_...)", id);
	char *path = journal_path(s, id, e);
	if (!path)
		return e->code;
	snprintf(r->path, sizeof r->path, "%s", path);
	free(path);
	jv recs;
	int torn = 0;
	int rc = lock ? journal_open(r->path, &r->j, &recs, e) : journal_read(r->path, &recs, &torn, e);
	if (rc) {
		if (rc == SHOP_NOTFOUND) {
			err_clear(e);
			err_set(e, SHOP_NOTFOUND, "saga %s: no such saga run", id);
		}
		return e->code;
	}
	rc = replay(r, recs, r->path, e);
	jv_free(recs);
	return rc;
}

static int append(run *r, const char *type, jv rec, shop_err *e)
{
	char now[32];
	clock_now_text(now);
	jv full = jv_object();
	full = jv_object_set(full, jv_string("type"), jv_string(type));
	full = jv_object_set(full, jv_string("at"), jv_string(now));
	jv_object_foreach(rec, k, v) full = jv_object_set(full, k, v);
	jv_free(rec);
	snprintf(r->updated_at, sizeof r->updated_at, "%s", now);
	return journal_append(r->j, full, NULL, e);
}

/* ---- the saga record ---- */

static int is_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	int held = fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK;
	close(fd);
	return held;
}

static const char *run_state(run *r, int self)
{
	if (r->phase == PH_DONE)
		return r->state;
	if (r->stuck)
		return "stuck";
	if (self || is_held(r->path))
		return r->phase == PH_COMPENSATE ? "compensating" : "running";
	return "waiting";
}

static jv run_record(run *r, int self)
{
	jv o = jv_object();
	o = jv_object_set(o, jv_string("kind"), jv_string("saga"));
	o = jv_object_set(o, jv_string("id"), jv_string(r->id));
	o = jv_object_set(o, jv_string("name"), jv_string(r->name));
	o = jv_object_set(o, jv_string("order_id"), r->order[0] ? jv_string(r->order) : jv_null());
	o = jv_object_set(o, jv_string("state"), jv_string(run_state(r, self)));
	o = jv_object_set(o, jv_string("phase"),
	                  jv_string(r->phase == PH_FORWARD ? "forward" : r->phase == PH_COMPENSATE ? "compensate" : "done"));
	char sn[72] = "";
	if (r->stuck && r->stuck_step[0])
		snprintf(sn, sizeof sn, "%s", r->stuck_step);
	else if (r->open_step >= 0)
		step_name(r, (size_t)r->open_step, sn, sizeof sn);
	else if (r->phase == PH_FORWARD && r->next < r->n)
		step_name(r, r->next, sn, sizeof sn);
	o = jv_object_set(o, jv_string("step"), sn[0] ? jv_string(sn) : jv_null());
	o = jv_object_set(o, jv_string("past_pivot"), jv_bool(r->past_pivot));
	const char *why = r->stuck && r->phase != PH_DONE ? r->stuck_why : r->reason;
	o = jv_object_set(o, jv_string("reason"), why[0] ? jv_string(why) : jv_null());
	o = jv_object_set(o, jv_string("started_at"), jv_string(r->started_at));
	o = jv_object_set(o, jv_string("updated_at"), jv_string(r->updated_at));
	o = jv_object_set(o, jv_string("journal"), jv_string(r->path));
	return o;
}

/* ---- running steps ---- */

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Backoff before attempt a (2, 3, ...): base doubling, jitter of +-25%,
 * at most a minute. */
static int64_t backoff_for(int64_t base, int a)
{
	int64_t ms = base;
	for (int i = 2; i < a && ms < 60000; i++)
		ms *= 2;
	if (ms > 60000)
		ms = 60000;
	if (ms > 0) {
		unsigned int seed = (unsigned int)(clock_now_ms() ^ getpid());
		ms += (int64_t)(rand_r(&seed) % (ms / 2 + 1)) - ms / 4;
	}
	return ms;
}

/* Render an argv template over the context. */
static int render(run *r, jv tmpl, char ***argv, shop_err *e)
{
	int n = jv_array_length(jv_copy(tmpl));
	*argv = xcalloc((size_t)n + 1, sizeof **argv);
	for (int i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tmpl), i);
		const char *text = jv_get_kind(t) == JV_KIND_STRING ? jv_string_value(t) : "";
		jqx_tmpl *tm = jqx_tmpl_compile(text, "argv", e);
		buf b = {0};
		if (tm)
			jqx_tmpl_render(tm, r->ctx, &b, e);
		jqx_tmpl_free(tm);
		jv_free(t);
		(*argv)[i] = b.p ? buf_detach(&b) : xstrdup("");
		buf_free(&b);
		if (e->code)
			return e->code;
	}
	return 0;
}

static void argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static jv argv_json(char **argv)
{
	jv a = jv_array();
	for (size_t i = 0; argv[i]; i++)
		a = jv_array_append(a, jv_string(argv[i]));
	return a;
}

/* The last JSON object line of a step's stdout, or null. */
static jv last_record(const buf *out)
{
	jv last = jv_null();
	const char *p = out->p ? out->p : "";
	size_t n = out->len, off = 0;
	while (off < n) {
		const char *nl = memchr(p + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
		jv v;
		char perr[64];
		if (len && p[off] == '{' && !json_parse(p + off, len, &v, perr, sizeof perr)) {
			if (jv_get_kind(v) == JV_KIND_OBJECT) {
				jv_free(last);
				last = v;
			} else {
				jv_free(v);
			}
		}
		off += len + 1;
	}
	return last;
}

/* The last line of a step's stderr, for the journal and the reason. */
static void last_line(const buf *err, char *out, size_t n)
{
	out[0] = 0;
	if (!err->len)
		return;
	size_t end = err->len;
	while (end && (err->p[end - 1] == '\n' || err->p[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && err->p[start - 1] != '\n')
		start--;
	snprintf(out, n, "%.*s", (int)(end - start), err->p + start);
}

typedef struct attempt_result {
	int ok, retryable;
	int not_started; /* the program could not be run at all */
	char why[512];
} attempt_result;

/* One attempt of step i (forward or compensate): intent, the process,
 * outcome. Returns nonzero only when the journal cannot be written. */
static int attempt(run *r, size_t i, int comp, int a, attempt_result *ar, shop_err *e)
{
	memset(ar, 0, sizeof *ar);
	jv st = step_at(r, i);
	char sn[72];
	str_of(st, "name", sn, sizeof sn);
	jv tmpl = get(st, comp ? "compensate" : "run");
	int64_t timeout = int_of(st, "timeout_ms", DEF_TIMEOUT_MS);
	jv_free(st);
	char **argv = NULL;
	shop_err re = {0};
	render(r, tmpl, &argv, &re);
	jv_free(tmpl);
	jv in = jv_object();
	in = jv_object_set(in, jv_string("step"), jv_string(sn));
	in = jv_object_set(in, jv_string("phase"), jv_string(comp ? "compensate" : "forward"));
	in = jv_object_set(in, jv_string("attempt"), jv_number(a));
	in = jv_object_set(in, jv_string("argv"), argv_json(argv));
	if (append(r, "intent", in, e)) {
		argv_free(argv);
		return e->code;
	}
	r->open_step = (int)i;
	r->open_phase = comp;
	jv out = jv_object();
	out = jv_object_set(out, jv_string("step"), jv_string(sn));
	out = jv_object_set(out, jv_string("phase"), jv_string(comp ? "compensate" : "forward"));
	out = jv_object_set(out, jv_string("attempt"), jv_number(a));
	int code = -1;
	if (re.code) {
		/* A placeholder that fails on this context: nothing to run. */
		snprintf(ar->why, sizeof ar->why, "%s: %.400s", sn, re.msg);
		code = SHOP_DATAERR;
	} else {
		char *dir = proc_self_dir();
		char *prog = !strncmp(argv[0], "shop-", 5) ? proc_find(dir, argv[0]) : NULL;
		free(dir);
		if (prog) {
			free(argv[0]);
			argv[0] = prog;
		}
		proc_opts po = {0};
		po.timeout_ms = timeout;
		po.max_output = 4 * 1024 * 1024;
		proc_result pr = {0};
		shop_err pe = {0};
		if (proc_run(argv, &po, &pr, &pe)) {
			/* Not a step's answer: the program is missing or the system
			 * is out of processes. Retried, and never a reason to undo an
			 * order: when retries run out the saga waits stuck. */
			snprintf(ar->why, sizeof ar->why, "%s: %.400s", sn, pe.msg);
			ar->retryable = ar->not_started = 1;
			out = jv_object_set(out, jv_string("started"), jv_false());
			out = jv_object_set(out, jv_string("error"), jv_string(pe.msg));
		} else {
			if (pr.err.len && !r->s->quiet)
				write_all(2, pr.err.p, pr.err.len);
			char line[400];
			last_line(&pr.err, line, sizeof line);
			if (pr.timed_out) {
				snprintf(ar->why, sizeof ar->why, "%s: killed after its timeout of %" PRId64 " ms", sn, timeout);
				ar->retryable = 1;
				out = jv_object_set(out, jv_string("timed_out"), jv_true());
			} else if (pr.signaled) {
				snprintf(ar->why, sizeof ar->why, "%s: killed by signal %d", sn, pr.sig);
				ar->retryable = 1;
				out = jv_object_set(out, jv_string("signal"), jv_number(pr.sig));
			} else {
				code = pr.code;
				/* A compensation that finds nothing (66) has nothing to undo. */
				ar->ok = code == 0 || (comp && code == SHOP_NOTFOUND);
				ar->retryable = code == SHOP_UNAVAILABLE || code == SHOP_TEMPFAIL;
				if (!ar->ok)
					snprintf(ar->why, sizeof ar->why, "%s: exit %d%s%s", sn, code, line[0] ? ": " : "", line);
			}
			if (ar->ok && !comp)
				out = jv_object_set(out, jv_string("record"), last_record(&pr.out));
			if (line[0] && !ar->ok)
				out = jv_object_set(out, jv_string("error"), jv_string(line));
		}
		proc_result_free(&pr);
	}
	argv_free(argv);
	out = jv_object_set(out, jv_string("exit"), code >= 0 ? jv_number(code) : jv_null());
	/* The record goes into the context only once it is durable. */
	jv rec = ar->ok && !comp ? get(out, "record") : jv_invalid();
	if (append(r, "outcome", out, e)) {
		jv_free(rec);
		return e->code;
	}
	r->open_step = -1;
	if (jv_get_kind(rec) == JV_KIND_OBJECT)
		r->ctx = jv_object_set(r->ctx, jv_string(sn), rec);
	else
		jv_free(rec);
	return 0;
}

/* Turn to compensation: every step done, and the one that failed (its
 * effects may be partial), that has a compensation, in reverse. */
static int begin_compensation(run *r, size_t failed, const char *why, shop_err *e)
{
	jv list = jv_array();
	for (size_t k = r->n; k-- > 0;) {
		if (!(r->fwd_done[k] || k == failed))
			continue;
		jv st = step_at(r, k);
		jv cp = get(st, "compensate");
		if (jv_get_kind(cp) == JV_KIND_ARRAY) {
			char sn[72];
			str_of(st, "name", sn, sizeof sn);
			list = jv_array_append(list, jv_string(sn));
			r->comp_need[k] = 1;
		}
		jv_free(cp);
		jv_free(st);
	}
	snprintf(r->reason, sizeof r->reason, "%s", why);
	r->phase = PH_COMPENSATE;
	ctx_saga(r);
	jv rec = jv_object();
	rec = jv_object_set(rec, jv_string("reason"), jv_string(why));
	rec = jv_object_set(rec, jv_string("steps"), list);
	return append(r, "compensate", rec, e);
}

static int mark_stuck(run *r, size_t i, int comp, const char *why, shop_err *e)
{
	char sn[72];
	step_name(r, i, sn, sizeof sn);
	snprintf(r->stuck_why, sizeof r->stuck_why, "%s", why);
	snprintf(r->stuck_step, sizeof r->stuck_step, "%s", sn);
	r->stuck = 1;
	jv rec = jv_object();
	rec = jv_object_set(rec, jv_string("step"), jv_string(sn));
	rec = jv_object_set(rec, jv_string("phase"), jv_string(comp ? "compensate" : "forward"));
	rec = jv_object_set(rec, jv_string("reason"), jv_string(why));
	return append(r, "stuck", rec, e);
}

static int finish(run *r, const char *state, shop_err *e)
{
	r->phase = PH_DONE;
	snprintf(r->state, sizeof r->state, "%s", state);
	jv rec = jv_object();
	rec = jv_object_set(rec, jv_string("state"), jv_string(state));
	return append(r, "end", rec, e);
}

/* Drive a locked, replayed run to its end, or to stuck. The code: 0
 * completed, 1 compensated, 75 stuck; s->err says why. */
static int drive(run *r)
{
	shop *s = r->s;
	shop_err *e = &s->err;
	if (r->stuck) {
		/* A stuck saga resumed: fresh attempts. */
		r->stuck = 0;
		if (append(r, "resume", jv_object(), e))
			return e->code;
	}
	while (r->phase == PH_FORWARD && r->next < r->n) {
		size_t i = r->next;
		jv st = step_at(r, i);
		int attempts = (int)int_of(st, "attempts", DEF_ATTEMPTS);
		int64_t backoff = int_of(st, "backoff_ms", DEF_BACKOFF_MS);
		jv_free(st);
		attempt_result ar;
		for (int a = 1;; a++) {
			if (attempt(r, i, 0, a, &ar, e))
				return e->code;
			if (ar.ok || !ar.retryable || a >= attempts)
				break;
			sleep_ms(backoff_for(backoff, a + 1));
		}
		if (ar.ok) {
			r->fwd_done[i] = 1;
			r->next = i + 1;
			jv st2 = step_at(r, i);
			jv pv = get(st2, "pivot");
			if (jv_get_kind(pv) == JV_KIND_TRUE)
				r->past_pivot = 1;
			jv_free(pv);
			jv_free(st2);
			continue;
		}
		if (r->past_pivot || ar.not_started) {
			if (mark_stuck(r, i, 0, ar.why, e))
				return e->code;
			return err_set(e, SHOP_TEMPFAIL, "saga %s (%s%s%s): stuck %s: %s; shop-saga recover goes on", r->id,
			               r->name, r->order[0] ? ", " : "", r->order,
			               r->past_pivot ? "past the pivot" : "(a step that cannot be run)", ar.why);
		}
		if (begin_compensation(r, i, ar.why, e))
			return e->code;
	}
	if (r->phase == PH_FORWARD) {
		if (finish(r, "completed", e))
			return e->code;
		return 0;
	}
	for (size_t k = r->n; r->phase == PH_COMPENSATE && k-- > 0;) {
		if (!r->comp_need[k] || r->comp_done[k])
			continue;
		jv st = step_at(r, k);
		int attempts = (int)int_of(st, "attempts", DEF_ATTEMPTS);
		int64_t backoff = int_of(st, "backoff_ms", DEF_BACKOFF_MS);
		jv_free(st);
		if (attempts < DEF_ATTEMPTS)
			attempts = DEF_ATTEMPTS;
		attempt_result ar;
		/* Compensations are retried whatever the failure: they must end. */
		for (int a = 1;; a++) {
			if (attempt(r, k, 1, a, &ar, e))
				return e->code;
			if (ar.ok || a >= attempts)
				break;
			sleep_ms(backoff_for(backoff, a + 1));
		}
		if (!ar.ok) {
			if (mark_stuck(r, k, 1, ar.why, e))
				return e->code;
			return err_set(e, SHOP_TEMPFAIL,
			               "saga %s (%s%s%s): stuck compensating: %s; shop-saga recover goes on", r->id, r->name,
			               r->order[0] ? ", " : "", r->order, ar.why);
		}
		r->comp_done[k] = 1;
	}
	if (r->phase == PH_COMPENSATE) {
		if (finish(r, "compensated", e))
			return e->code;
	}
	if (!strcmp(r->state, "compensated"))
		return err_set(e, SHOP_REFUSED, "saga %s (%s%s%s): compensated: %s", r->id, r->name, r->order[0] ? ", " : "",
		               r->order, r->reason);
	return 0;
}

/* The environment of the steps: the same store and config as ours. */
static void step_env(shop *s)
{
	static int done;
	if (done)
		return;
	done = 1;
	setenv("SHOP_DB", store_path(s->st), 1);
	if (s->cfg_path)
		setenv("SHOP_CONFIG", s->cfg_path, 1);
}

static int emit_run(run *r, int rc, shop_emit emit, void *arg)
{
	emit(arg, run_record(r, 0));
	return rc;
}

/* ---- commands ---- */

static int resume_one(shop *s, const char *id, int quiet_busy, shop_emit emit, void *arg);

/* One saga of a name per order: journal/index/SHA256(NAME, ID) holds the
 * id of the saga that owns the pair. Claims are made under an exclusive
 * flock of journal/index/.lock, held until the owner's journal exists, so
 * an index entry whose journal is missing was left by a crash and is
 * taken over. *lockfd: the lock, for the caller to release (close) once
 * its journal is made; -1 when none is held. owner: "" when we own the
 * pair now (as sag), else the saga that does. */
static int claim(shop *s, const char *name, const char *id, const char *sag, char owner[ID_MAX], int *lockfd,
                 shop_err *e)
{
	owner[0] = 0;
	*lockfd = -1;
	char *dir = store_subdir(s->st, "journal/index", 1, e);
	if (!dir)
		return e->code;
	char *lp = xasprintf("%s/.lock", dir);
	int lfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(lp);
	if (lfd < 0 || flock(lfd, LOCK_EX)) {
		err_set(e, SHOP_IOERR, "%s/.lock: %s", dir, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		free(dir);
		return e->code;
	}
	buf key = {0};
	buf_addf(&key, "%s\n%s", name, id);
	char hex[65];
	sha256_hex(key.p, key.len, hex);
	buf_free(&key);
	char *idx = xasprintf("%s/%s", dir, hex), *tmp = xasprintf("%s/.%s.%ld", dir, hex, (long)getpid());
	FILE *f = fopen(idx, "r");
	if (f) {
		if (!fgets(owner, ID_MAX, f))
			owner[0] = 0;
		fclose(f);
		char *jp = owner[0] ? journal_path(s, owner, e) : NULL;
		if (!jp || access(jp, F_OK))
			owner[0] = 0; /* left by a crash before its journal was made */
		free(jp);
	}
	int rc = 0;
	if (!owner[0]) {
		int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, sag, strlen(sag)) || fsync(fd) || rename(tmp, idx))
			rc = err_set(e, SHOP_IOERR, "%s: %s", idx, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	if (rc || owner[0])
		close(lfd);
	else
		*lockfd = lfd;
	free(idx);
	free(tmp);
	free(dir);
	return rc;
}

int saga_run(shop *s, const char *name, const char *id, jv rec, shop_emit emit, void *arg)
{
	jv def;
	if (!shop_store(s) || def_load(s, name, &def, &s->err)) {
		jv_free(rec);
		return s->err.code;
	}
	step_env(s);
	char input[72];
	str_of(def, "input", input, sizeof input);
	run r;
	memset(&r, 0, sizeof r);
	r.s = s;
	r.open_step = -1;
	id_new("sag", r.id);
	str_of(def, "name", r.name, sizeof r.name);
	snprintf(r.order, sizeof r.order, "%s", id ? id : "");
	r.def = def;
	r.steps = get(def, "steps");
	r.n = (size_t)jv_array_length(jv_copy(r.steps));
	r.ctx = jv_object();
	if (id)
		r.ctx = jv_object_set(r.ctx, jv_string(input), jv_string(id));
	r.ctx = jv_object_set(r.ctx, jv_string("input"), rec);
	char *dir = journal_dir(s, 1, &s->err);
	if (!dir) {
		run_free(&r);
		return s->err.code;
	}
	snprintf(r.path, sizeof r.path, "%s/%s.jsonl", dir, r.id);
	free(dir);
	char owner[ID_MAX] = "";
	int lockfd = -1;
	if (id && claim(s, r.name, id, r.id, owner, &lockfd, &s->err)) {
		run_free(&r);
		return s->err.code;
	}
	if (owner[0]) {
		/* The order has this saga already: run means resume it. */
		run_free(&r);
		return resume_one(s, owner, 0, emit, arg);
	}
	char now[32];
	clock_now_text(now);
	jv start = jv_object();
	start = jv_object_set(start, jv_string("type"), jv_string("start"));
	start = jv_object_set(start, jv_string("at"), jv_string(now));
	start = jv_object_set(start, jv_string("saga"), jv_string(r.id));
	start = jv_object_set(start, jv_string("name"), jv_string(r.name));
	start = jv_object_set(start, jv_string("id"), id ? jv_string(id) : jv_null());
	start = jv_object_set(start, jv_string("def"), jv_copy(r.def));
	start = jv_object_set(start, jv_string("context"), jv_copy(r.ctx));
	int made = journal_create(r.path, start, &r.j, &s->err);
	if (lockfd >= 0)
		close(lockfd); /* the claim is good now that the journal exists */
	if (made) {
		run_free(&r);
		return s->err.code;
	}
	snprintf(r.started_at, sizeof r.started_at, "%s", now);
	snprintf(r.updated_at, sizeof r.updated_at, "%s", now);
	ctx_saga(&r);
	int rc = drive(&r);
	if (rc == SHOP_IOERR) {
		run_free(&r);
		return rc;
	}
	rc = emit_run(&r, rc, emit, arg);
	run_free(&r);
	return rc;
}

/* Resume one saga run by id. quiet_busy: a held journal is skipped (0). */
static int resume_one(shop *s, const char *id, int quiet_busy, shop_emit emit, void *arg)
{
	run r;
	int rc = run_open(s, id, &r, 1, &s->err);
	if (rc) {
		run_free(&r);
		if (rc == SHOP_TEMPFAIL && quiet_busy) {
			err_clear(&s->err);
			return 0;
		}
		return rc;
	}
	step_env(s);
	if (r.phase == PH_DONE) {
		rc = 0;
		if (!strcmp(r.state, "compensated"))
			rc = err_set(&s->err, SHOP_REFUSED, "saga %s (%s%s%s): compensated: %s", r.id, r.name,
			             r.order[0] ? ", " : "", r.order, r.reason);
		rc = emit_run(&r, rc, emit, arg);
		run_free(&r);
		return rc;
	}
	rc = drive(&r);
	if (rc != SHOP_IOERR)
		rc = emit_run(&r, rc, emit, arg);
	run_free(&r);
	return rc;
}

typedef struct journal_ent {
	char id[ID_MAX];
	char order[256];
} journal_ent;

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const journal_ent *)a)->id, ((const journal_ent *)b)->id);
}

/* The journals of the directory (not the archive), oldest first, with the
 * id of each (read from the first line only). */
static int journals(shop *s, journal_ent **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	char *dir = journal_dir(s, 0, &s->err);
	if (!dir)
		return s->err.code;
	DIR *d = opendir(dir);
	if (!d) {
		int rc = errno == ENOENT ? 0 : err_set(&s->err, SHOP_IOERR, "%s: %s", dir, strerror(errno));
		free(dir);
		return rc;
	}
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		/* A first record never linked into place (its writer was killed):
		 * no journal, and nobody's once its writer is gone. */
		const char *nw = strstr(de->d_name, ".jsonl.new.");
		if (nw) {
			long pid = strtol(nw + 11, NULL, 10);
			if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH) {
				char *p = xasprintf("%s/%s", dir, de->d_name);
				unlink(p);
				free(p);
			}
			continue;
		}
		if (len < 7 || strcmp(de->d_name + len - 6, ".jsonl") || len - 6 >= ID_MAX)
			continue;
		journal_ent ent = {0};
		snprintf(ent.id, sizeof ent.id, "%.*s", (int)(len - 6), de->d_name);
		if (!id_valid("sag", ent.id))
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		FILE *f = fopen(p, "r");
		free(p);
		if (f) {
			char line[4096];
			if (fgets(line, sizeof line, f)) {
				/* "id" of the start record, cheaply: the first line is ours. */
				const char *k = strstr(line, "\"id\":\"");
				if (k) {
					k += 6;
					size_t m = strcspn(k, "\"");
					snprintf(ent.order, sizeof ent.order, "%.*s", (int)m, k);
				}
			}
			fclose(f);
		}
		if (*n == cap)
			*out = xrealloc(*out, (cap = cap ? cap * 2 : 32) * sizeof **out);
		(*out)[(*n)++] = ent;
	}
	closedir(d);
	free(dir);
	if (*n)
		qsort(*out, *n, sizeof **out, ent_cmp);
	return 0;
}

int saga_resume(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	if (!strncmp(id, "sag_", 4))
		return resume_one(s, id, 0, emit, arg);
	/* An order: its unfinished sagas, or place-order when it has none. */
	journal_ent *all;
	size_t n;
	if (journals(s, &all, &n))
		return s->err.code;
	int any = 0, rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (strcmp(all[i].order, id))
			continue;
		any = 1;
		rc = resume_one(s, all[i].id, 0, emit, arg);
	}
	free(all);
	if (any)
		return rc;
	jv o;
	if (order_get(s, id, &o, &s->err))
		return s->err.code;
	jv_free(o);
	return saga_run(s, "place-order", id, jv_null(), emit, arg);
}

int saga_recover(shop *s, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	journal_ent *all;
	size_t n;
	if (journals(s, &all, &n))
		return s->err.code;
	size_t stuck = 0, failed = 0;
	int first_fail = 0;
	for (size_t i = 0; i < n; i++) {
		run r;
		if (run_open(s, all[i].id, &r, 0, &s->err)) {
			int x = shop_report(s, s->err.code);
			first_fail = first_fail ? first_fail : x;
			failed++;
			run_free(&r);
			continue;
		}
		int done = r.phase == PH_DONE;
		run_free(&r);
		if (done)
			continue;
		int rc = resume_one(s, all[i].id, 1, emit, arg);
		if (rc == SHOP_TEMPFAIL)
			stuck++;
		if (rc && rc != SHOP_REFUSED) {
			shop_report(s, rc);
			if (rc != SHOP_TEMPFAIL) {
				first_fail = first_fail ? first_fail : rc;
				failed++;
			}
		} else {
			err_clear(&s->err);
		}
	}
	free(all);
	if (failed)
		return err_set(&s->err, first_fail, "recover: %zu journals could not be resumed", failed);
	if (stuck)
		return err_set(&s->err, SHOP_TEMPFAIL, "recover: %zu sagas stuck", stuck);
	return 0;
}

int saga_status(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	run r;
	int rc = run_open(s, id, &r, 0, &s->err);
	if (!rc)
		emit(arg, run_record(&r, 0));
	run_free(&r);
	return rc;
}

int saga_list(shop *s, int incomplete, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	journal_ent *all;
	size_t n;
	if (journals(s, &all, &n))
		return s->err.code;
	int rc = 0;
	for (size_t i = n; i-- > 0;) { /* newest first */
		run r;
		if (run_open(s, all[i].id, &r, 0, &s->err)) {
			/* A journal that cannot be read is said, and the rest listed. */
			int x = shop_report(s, s->err.code);
			rc = rc ? rc : x;
			run_free(&r);
			if (x != SHOP_DATAERR)
				break;
			continue;
		}
		int show = !incomplete || r.phase != PH_DONE;
		int stop = show && emit(arg, run_record(&r, 0));
		run_free(&r);
		if (stop)
			break;
	}
	free(all);
	return rc;
}

int saga_log(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	if (!id_valid("sag", id))
		return err_set(&s->err, SHOP_NOTFOUND, "saga '%s': no such saga run (ids look like sag_...)", id);
	char *path = journal_path(s, id, &s->err);
	if (!path)
		return s->err.code;
	jv recs;
	int torn;
	int rc = journal_read(path, &recs, &torn, &s->err);
	free(path);
	if (rc)
		return rc == SHOP_NOTFOUND ? (err_clear(&s->err), err_set(&s->err, rc, "saga %s: no such saga run", id)) : rc;
	int n = jv_array_length(jv_copy(recs));
	for (int i = 0; i < n; i++) {
		jv rec = jv_array_get(jv_copy(recs), i);
		jv o = jv_object();
		o = jv_object_set(o, jv_string("kind"), jv_string("journal"));
		o = jv_object_set(o, jv_string("saga"), jv_string(id));
		jv_object_foreach(rec, k, v) o = jv_object_set(o, k, v);
		jv_free(rec);
		if (emit(arg, o))
			break;
	}
	jv_free(recs);
	if (torn)
		shop_note(s, "saga %s: a torn last record (a crash while writing it) was left out", id);
	return 0;
}

int saga_abort(shop *s, const char *id, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	run r;
	int rc = run_open(s, id, &r, 1, &s->err);
	if (rc) {
		run_free(&r);
		return rc;
	}
	step_env(s);
	if (r.phase == PH_DONE)
		rc = err_set(&s->err, SHOP_REFUSED, "saga %s ended %s already", id, r.state);
	else if (r.past_pivot)
		rc = err_set(&s->err, SHOP_REFUSED, "saga %s is past its pivot: it only goes forward (shop-saga resume)",
		             id);
	else if (r.phase == PH_FORWARD)
		rc = begin_compensation(&r, r.open_step >= 0 ? (size_t)r.open_step : r.next, "aborted by the operator",
		                        &s->err);
	if (!rc) {
		rc = drive(&r);
		/* Compensated is what abort asked for. */
		if (rc == SHOP_REFUSED && !strcmp(r.state, "compensated")) {
			err_clear(&s->err);
			rc = 0;
		}
		if (rc != SHOP_IOERR)
			emit(arg, run_record(&r, 0));
	}
	run_free(&r);
	return rc;
}

int saga_input_key(shop *s, const char *name, char out[72])
{
	out[0] = 0;
	jv def;
	if (!shop_store(s) || def_load(s, name, &def, &s->err))
		return s->err.code;
	str_of(def, "input", out, 72);
	jv_free(def);
	return 0;
}

int saga_check(shop *s, const char *name, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	jv def;
	if (def_load(s, name, &def, &s->err))
		return s->err.code;
	jv o = jv_object();
	o = jv_object_set(o, jv_string("kind"), jv_string("saga_file"));
	jv_object_foreach(def, k, v) o = jv_object_set(o, k, v);
	jv_free(def);
	emit(arg, o);
	return 0;
}

/* dot: a quoted string. */
static void dot_str(buf *b, const char *t)
{
	buf_addc(b, '"');
	for (; *t; t++) {
		if (*t == '"' || *t == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *t == '\n' ? ' ' : *t);
	}
	buf_addc(b, '"');
}

int saga_graph(shop *s, const char *what, buf *out)
{
	if (!shop_store(s))
		return s->err.code;
	run r;
	memset(&r, 0, sizeof r);
	r.def = r.steps = r.ctx = jv_invalid();
	int is_run = !strncmp(what, "sag_", 4);
	if (is_run) {
		if (run_open(s, what, &r, 0, &s->err)) {
			run_free(&r);
			return s->err.code;
		}
	} else {
		if (def_load(s, what, &r.def, &s->err))
			return s->err.code;
		r.steps = get(r.def, "steps");
		r.n = (size_t)jv_array_length(jv_copy(r.steps));
		r.open_step = -1;
		str_of(r.def, "name", r.name, sizeof r.name);
	}
	buf_adds(out, "digraph ");
	dot_str(out, is_run ? r.id : r.name);
	buf_adds(out, " {\n\trankdir=LR;\n\tnode [shape=box, style=\"rounded,filled\", fillcolor=white];\n");
	for (size_t i = 0; i < r.n; i++) {
		jv st = step_at(&r, i);
		char sn[72];
		str_of(st, "name", sn, sizeof sn);
		jv pv = get(st, "pivot"), cp = get(st, "compensate");
		const char *fill = "white";
		if (is_run) {
			if (r.comp_done[i])
				fill = "grey";
			else if (r.stuck && !strcmp(r.stuck_step, sn))
				fill = "red";
			else if (r.fwd_done[i])
				fill = "palegreen";
			else if ((r.open_step == (int)i) || (r.phase == PH_FORWARD && r.next == i))
				fill = "yellow";
		}
		buf_addf(out, "\ts%zu [label=", i);
		dot_str(out, sn);
		buf_addf(out, ", fillcolor=%s%s];\n", fill, jv_get_kind(pv) == JV_KIND_TRUE ? ", peripheries=2" : "");
		if (i + 1 < r.n)
			buf_addf(out, "\ts%zu -> s%zu;\n", i, i + 1);
		if (jv_get_kind(cp) == JV_KIND_ARRAY) {
			buf_addf(out, "\tc%zu [label=", i);
			jv a0 = jv_array_get(jv_copy(cp), 0);
			char lab[128];
			snprintf(lab, sizeof lab, "undo %s (%s)", sn, jv_get_kind(a0) == JV_KIND_STRING ? jv_string_value(a0) : "");
			jv_free(a0);
			dot_str(out, lab);
			buf_addf(out, ", style=\"dashed,filled\", fillcolor=%s];\n\ts%zu -> c%zu [style=dashed];\n",
			         is_run && r.comp_done[i] ? "grey" : "white", i, i);
		}
		jv_free(pv);
		jv_free(cp);
		jv_free(st);
	}
	buf_adds(out, "}\n");
	run_free(&r);
	return 0;
}

int saga_archive(shop *s, int64_t older_ms, shop_emit emit, void *arg)
{
	if (!shop_store(s))
		return s->err.code;
	journal_ent *all;
	size_t n;
	if (journals(s, &all, &n))
		return s->err.code;
	char *dir = journal_dir(s, 1, &s->err);
	char *adir = dir ? store_subdir(s->st, "journal/archive", 1, &s->err) : NULL;
	int64_t now = clock_now_ms();
	for (size_t i = 0; adir && i < n && !s->err.code; i++) {
		run r;
		if (run_open(s, all[i].id, &r, 0, &s->err)) {
			run_free(&r);
			break;
		}
		int64_t t;
		if (r.phase == PH_DONE && !clock_parse_rfc3339(r.updated_at, &t) && now - t >= older_ms) {
			char *from = xasprintf("%s/%s.jsonl", dir, r.id), *to = xasprintf("%s/%s.jsonl", adir, r.id);
			if (rename(from, to))
				err_set(&s->err, SHOP_IOERR, "%s: %s", to, strerror(errno));
			else {
				snprintf(r.path, sizeof r.path, "%s", to);
				emit(arg, run_record(&r, 0));
			}
			free(from);
			free(to);
		}
		run_free(&r);
	}
	free(all);
	free(dir);
	free(adir);
	return s->err.code;
}

/* ---- the trace ---- */

int saga_trace(shop *s, const char *source, const char *order_id, jv *recs)
{
	journal_ent *all;
	size_t n;
	if (journals(s, &all, &n))
		return s->err.code;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].order, order_id))
			continue;
		char *path = journal_path(s, all[i].id, &s->err);
		jv jr;
		int torn;
		if (!path || journal_read(path, &jr, &torn, &s->err)) {
			free(path);
			break;
		}
		free(path);
		for (int k = 0; k < jv_array_length(jv_copy(jr)); k++) {
			jv rec = jv_array_get(jv_copy(jr), k);
			char type[24], at[32], sn[72], ph[16];
			str_of(rec, "type", type, sizeof type);
			str_of(rec, "at", at, sizeof at);
			str_of(rec, "step", sn, sizeof sn);
			str_of(rec, "phase", ph, sizeof ph);
			char what[128];
			snprintf(what, sizeof what, "saga.%s", type);
			jv t = trace_rec(at, source, what);
			t = jv_object_set(t, jv_string("saga"), jv_string(all[i].id));
			if (sn[0])
				t = jv_object_set(t, jv_string("step"), jv_string(sn));
			if (ph[0])
				t = jv_object_set(t, jv_string("phase"), jv_string(ph));
			jv x = get(rec, "exit");
			if (jv_is_valid(x))
				t = jv_object_set(t, jv_string("exit"), x);
			else
				jv_free(x);
			const char *keep[] = {"name", "reason", "state", "error", NULL};
			for (int q = 0; keep[q]; q++) {
				jv v = get(rec, keep[q]);
				if (jv_get_kind(v) == JV_KIND_STRING)
					t = jv_object_set(t, jv_string(keep[q]), v);
				else
					jv_free(v);
			}
			jv_free(rec);
			*recs = jv_array_append(*recs, t);
		}
		jv_free(jr);
	}
	free(all);
	return s->err.code;
}
