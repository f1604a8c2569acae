/* shop-saga: runs saga files (shop-saga(5)) with a journal per run; resume,
 * recover, compensate. Options and records only; the engine is lib/saga.c. */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/jsonl.h"
#include "saga.h"

static const char *const saga_cols[] = {"id", "name", "order_id", "state", "step", "reason", "updated_at", NULL};
static const char *const log_cols[] = {"seq", "at", "type", "step", "phase", "attempt", "exit", "state", "reason",
                                      NULL};

typedef struct run_arg {
	const char *name;
} run_arg;

static int run_one(shop *s, const char *id, void *arg)
{
	return saga_run(s, ((run_arg *)arg)->name, id, jv_null(), shop_out, NULL);
}

/* run NAME [--order ID]: one saga; or, with records on stdin, one saga per
 * record, its id the record's order_id (else id), the record its .input. */
static int cmd_run(void *ctx, cli_args *a)
{
	shop *s = ctx;
	run_arg ra = {a->argv[0]};
	const char *order = cli_get(a, "order");
	jsonl_out_columns(saga_cols);
	if (order && a->argc > 1)
		return err_set(&s->err, SHOP_USAGE, "run: give --order ID or order ids as operands, not both");
	if (order)
		return saga_run(s, ra.name, order, jv_null(), shop_out, NULL);
	if (a->argc > 1 && !(a->argc == 2 && !strcmp(a->argv[1], "-")))
		return shop_each_id(s, a, 1, a->argc, "order ID", "order_id", "id", run_one, &ra);
	/* Each record whole: the saga sees it as .input; its id is the field
	 * the saga is keyed by (its "input", such as order_id or rma_id), else
	 * the record's own id. */
	char key[72];
	if (saga_input_key(s, ra.name, key))
		return s->err.code;
	jsonl_reader *r = jsonl_reader_new(stdin, "stdin", s->max_line);
	jv rec;
	int rc = 0, n = 0;
	while (jsonl_next(r, &rec, &s->err) > 0) {
		n++;
		shop_err fe = {0};
		const char *id = jv_get_kind(rec) == JV_KIND_OBJECT ? rec_str(rec, key, &fe) : NULL;
		if (!id && !fe.code && jv_get_kind(rec) == JV_KIND_OBJECT)
			id = rec_str(rec, "id", &fe);
		if (!id) {
			err_set(&s->err, SHOP_DATAERR, "stdin:%zu: %s", jsonl_lineno(r),
			        fe.code ? fe.msg : "the record has neither the saga's input field nor 'id'");
			jv_free(rec);
			break;
		}
		char *idc = xstrdup(id);
		int x = shop_report(s, saga_run(s, ra.name, idc, rec, shop_out, NULL));
		free(idc);
		if (x && !rc)
			rc = x;
		if (x && x != SHOP_REFUSED && x != SHOP_TEMPFAIL)
			break;
	}
	jsonl_reader_free(r);
	if (!n && !s->err.code)
		return err_set(&s->err, SHOP_USAGE, "run: give --order ID, order ids, or records on stdin");
	return s->err.code ? s->err.code : rc;
}

static int resume_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return saga_resume(s, id, shop_out, NULL);
}

static int cmd_resume(void *ctx, cli_args *a)
{
	jsonl_out_columns(saga_cols);
	return shop_each_id(ctx, a, 0, a->argc, "saga or order ID", "saga", "id", resume_one, NULL);
}

static int cmd_recover(void *ctx, cli_args *a)
{
	(void)a;
	jsonl_out_columns(saga_cols);
	return saga_recover(ctx, shop_out, NULL);
}

static int status_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return saga_status(s, id, shop_out, NULL);
}

static int cmd_status(void *ctx, cli_args *a)
{
	jsonl_out_columns(saga_cols);
	return shop_each_id(ctx, a, 0, a->argc, "saga ID", "saga", "id", status_one, NULL);
}

static int cmd_list(void *ctx, cli_args *a)
{
	jsonl_out_columns(saga_cols);
	return saga_list(ctx, cli_has(a, "incomplete"), shop_out, NULL);
}

static int cmd_log(void *ctx, cli_args *a)
{
	jsonl_out_columns(log_cols);
	return saga_log(ctx, a->argv[0], shop_out, NULL);
}

static int abort_one(shop *s, const char *id, void *arg)
{
	(void)arg;
	return saga_abort(s, id, shop_out, NULL);
}

static int cmd_abort(void *ctx, cli_args *a)
{
	jsonl_out_columns(saga_cols);
	return shop_each_id(ctx, a, 0, a->argc, "saga ID", "saga", "id", abort_one, NULL);
}

static int cmd_graph(void *ctx, cli_args *a)
{
	shop *s = ctx;
	buf b = {0};
	int rc = saga_graph(s, a->argv[0], &b);
	if (!rc && b.len && fwrite(b.p, 1, b.len, stdout) != b.len)
		rc = err_set(&s->err, SHOP_IOERR, "stdout: write error");
	buf_free(&b);
	return rc;
}

static int cmd_check(void *ctx, cli_args *a)
{
	return saga_check(ctx, a->argv[0], shop_out, NULL);
}

static int cmd_archive(void *ctx, cli_args *a)
{
	shop *s = ctx;
	int64_t older = 0;
	const char *o = cli_get(a, "older");
	if (o && (clock_parse_duration(o, &older) || older < 0))
		return err_set(&s->err, SHOP_USAGE, "--older: '%s' is not a duration (such as 7d)", o);
	jsonl_out_columns(saga_cols);
	return saga_archive(s, older, shop_out, NULL);
}

static const cli_opt run_opts[] = {
	{"order", 0, "ID", "the order (else order ids, or records on stdin: one saga each)"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt list_opts[] = {
	{"incomplete", 0, NULL, "only sagas not ended: running, waiting, stuck"},
	{NULL, 0, NULL, NULL},
};

static const cli_opt archive_opts[] = {
	{"older", 0, "D", "only journals that ended at least D ago (default: all ended)"},
	{NULL, 0, NULL, NULL},
};

static const cli_cmd cmds[] = {
	{"run", "NAME [ORDER...]", "start a saga for orders", run_opts, cmd_run, 1, -1},
	{"resume", "[SAGA|ORDER...]", "go on with sagas a crash or a failure stopped", NULL, cmd_resume, 0, -1},
	{"recover", "", "resume every unfinished saga that no process holds (cron)", NULL, cmd_recover, 0, 0},
	{"status", "[SAGA...]", "where sagas stand", NULL, cmd_status, 0, -1},
	{"list", "", "saga runs, newest first", list_opts, cmd_list, 0, 0},
	{"log", "SAGA", "a saga's journal", NULL, cmd_log, 1, 1},
	{"abort", "[SAGA...]", "compensate sagas now (before their pivot)", NULL, cmd_abort, 0, -1},
	{"graph", "NAME|SAGA", "Graphviz dot of a saga file or of a run", NULL, cmd_graph, 1, 1},
	{"check", "NAME", "check a saga file and print it as the journal keeps it", NULL, cmd_check, 1, 1},
	{"archive", "", "move ended journals to journal/archive/", archive_opts, cmd_archive, 0, 0},
	{NULL, NULL, NULL, NULL, NULL, 0, 0},
};

SHOP_MAIN("shop-saga", "sagas: steps as commands, a journal per run, resume, compensation", cmds)
