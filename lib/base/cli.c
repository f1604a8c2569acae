/* cli: see cli.h. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *cli_prog = "shop";

void cli_warn(const char *fmt, ...)
{
	buf b = {0};
	buf_addf(&b, "%s: ", cli_prog);
	va_list ap;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	/* One line, whatever the message holds. */
	for (size_t i = 0; i < b.len; i++)
		if (b.p[i] == '\n' || b.p[i] == '\r')
			b.p[i] = ' ';
	buf_addc(&b, '\n');
	(void)!write_all(2, b.p, b.len);
	buf_free(&b);
}

int cli_report(const shop_err *e)
{
	if (!e->code)
		return 0;
	if (e->msg[0])
		cli_warn("%s", e->msg);
	return e->code;
}

static const cli_opt *find_long(const cli_opt *const *tabs, const char *name, size_t len)
{
	for (int t = 0; tabs[t]; t++)
		for (const cli_opt *o = tabs[t]; o->name; o++)
			if (strlen(o->name) == len && !strncmp(o->name, name, len))
				return o;
	return NULL;
}

static const cli_opt *find_short(const cli_opt *const *tabs, char c)
{
	for (int t = 0; tabs[t]; t++)
		for (const cli_opt *o = tabs[t]; o->name; o++)
			if (o->shortc && o->shortc == c)
				return o;
	return NULL;
}

static void add_set(cli_args *a, const cli_opt *o, const char *val)
{
	a->set = xrealloc(a->set, (a->n + 1) * sizeof *a->set);
	a->set[a->n++] = (struct cli_set){o, val};
}

static int is_operand(const char *s)
{
	return s[0] != '-' || s[1] == 0 || (s[1] >= '0' && s[1] <= '9') || (s[1] == '.' && s[2] >= '0' && s[2] <= '9');
}

static void opt_usage(FILE *f, const cli_opt *opts)
{
	for (const cli_opt *o = opts; o && o->name; o++) {
		char left[64];
		if (o->shortc)
			snprintf(left, sizeof left, "-%c, --%s%s%s", o->shortc, o->name, o->arg ? " " : "",
			         o->arg ? o->arg : "");
		else
			snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s\n", left, o->help);
	}
}

static void tool_usage(const cli_tool *t)
{
	printf("usage: %s [OPTIONS] COMMAND [ARGS]\n%s\n\ncommands:\n", t->name, t->summary);
	for (const cli_cmd *c = t->cmds; c->name; c++) {
		char left[64];
		snprintf(left, sizeof left, "%s %s", c->name, c->usage ? c->usage : "");
		printf("  %-30s %s\n", left, c->summary);
	}
	printf("\noptions:\n");
	opt_usage(stdout, t->global);
	printf("  -h, --help                 show this help\n      --version              show the version\n"
	       "\n'%s COMMAND --help' shows a command's options; man %s tells all.\n",
	       t->name, t->name);
}

static void cmd_usage(const cli_tool *t, const cli_cmd *c)
{
	printf("usage: %s %s%s%s\n%s\n", t->name, c->name, c->usage ? " " : "", c->usage ? c->usage : "",
	       c->summary);
	if (c->opts && c->opts->name) {
		printf("\noptions:\n");
		opt_usage(stdout, c->opts);
	}
	printf("\nglobal options:\n");
	opt_usage(stdout, t->global);
}

static const cli_cmd *find_cmd(const cli_tool *t, char **argv, int i, int argc, int *words)
{
	for (const cli_cmd *c = t->cmds; c->name; c++) {
		const char *sp = strchr(c->name, ' ');
		if (!sp) {
			if (!strcmp(c->name, argv[i])) {
				*words = 1;
				return c;
			}
		} else if (i + 1 < argc && strlen(argv[i]) == (size_t)(sp - c->name) &&
		           !strncmp(c->name, argv[i], (size_t)(sp - c->name)) && !strcmp(sp + 1, argv[i + 1])) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}

int cli_parse_tool(const cli_tool *t, int argc, char **argv, const cli_cmd **cmdp, cli_args *a, int *done,
                   shop_err *e)
{
	cli_prog = t->name;
	memset(a, 0, sizeof *a);
	a->argv = xcalloc((size_t)argc + 1, sizeof *a->argv);
	*done = 0;
	*cmdp = NULL;
	const cli_cmd *cmd = NULL;
	const cli_opt *tabs[3] = {t->global, NULL, NULL};
	int help = 0, version = 0, dashdash = 0;
	const cli_cmd *group = NULL; /* the first command of a group word seen alone */
	const char *group_word = NULL;
	const cli_cmd *dflt = NULL;
	for (const cli_cmd *c = t->cmds; t->default_cmd && c->name && !dflt; c++)
		if (!strcmp(c->name, t->default_cmd))
			dflt = c;
	for (int i = 1; i < argc; i++) {
		char *s = argv[i];
		if (dashdash || is_operand(s)) {
			if (!cmd) {
				int words = 0;
				cmd = dashdash ? NULL : find_cmd(t, argv, i, argc, &words);
				if (!cmd && dflt && !group) {
					cmd = dflt; /* the operand is the default command's first */
					tabs[1] = cmd->opts;
					a->argv[a->argc++] = s;
					continue;
				}
				if (!cmd) {
					if (group)
						return err_set(e, SHOP_USAGE, "unknown command '%s %s' (try --help)", group_word, s);
					/* A group word ("image") without its sub-command: an
					 * error, unless --help comes (before or after). */
					size_t n = strlen(s);
					for (const cli_cmd *c = t->cmds; c->name && !group; c++)
						if (!strncmp(c->name, s, n) && c->name[n] == ' ')
							group = c;
					if (!group)
						return err_set(e, SHOP_USAGE, "unknown command '%s' (try --help)", s);
					group_word = s;
					continue;
				}
				tabs[1] = cmd->opts;
				i += words - 1;
				continue;
			}
			a->argv[a->argc++] = s;
			continue;
		}
		if (!strcmp(s, "--")) {
			dashdash = 1;
			continue;
		}
		if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
			help = 1;
			continue;
		}
		if (!strcmp(s, "--version")) {
			version = 1;
			continue;
		}
		if (s[1] == '-') {
			const char *name = s + 2;
			const char *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const cli_opt *o = find_long(tabs, name, len);
			if (!o && !cmd && dflt) {
				const cli_opt *own[3] = {dflt->opts, NULL, NULL};
				if ((o = find_long(own, name, len))) {
					cmd = dflt;
					tabs[1] = cmd->opts;
				}
			}
			if (!o)
				return err_set(e, SHOP_USAGE, "unknown option '--%.*s'%s (try --help)", (int)len, name,
				               cmd ? "" : " before the command");
			if (!o->arg) {
				if (eq)
					return err_set(e, SHOP_USAGE, "option '--%s' takes no value", o->name);
				add_set(a, o, NULL);
			} else if (eq) {
				add_set(a, o, eq + 1);
			} else if (i + 1 < argc) {
				add_set(a, o, argv[++i]);
			} else {
				return err_set(e, SHOP_USAGE, "option '--%s' needs a value %s", o->name, o->arg);
			}
			continue;
		}
		/* Short options, possibly bundled: -qt, -n5, -n 5. */
		for (const char *c = s + 1; *c; c++) {
			const cli_opt *o = find_short(tabs, *c);
			if (!o && !cmd && dflt) {
				const cli_opt *own[3] = {dflt->opts, NULL, NULL};
				if ((o = find_short(own, *c))) {
					cmd = dflt;
					tabs[1] = cmd->opts;
				}
			}
			if (!o)
				return err_set(e, SHOP_USAGE, "unknown option '-%c' (try --help)", *c);
			if (!o->arg) {
				add_set(a, o, NULL);
				continue;
			}
			if (c[1]) {
				add_set(a, o, c + 1);
			} else if (i + 1 < argc) {
				add_set(a, o, argv[++i]);
			} else {
				return err_set(e, SHOP_USAGE, "option '-%c' needs a value %s", *c, o->arg);
			}
			break;
		}
	}
	if (version) {
		printf("%s %s\n", t->name, SHOP_VERSION);
		*done = 1;
		return 0;
	}
	if (help) {
		if (cmd)
			cmd_usage(t, cmd);
		else
			tool_usage(t);
		*done = 1;
		return 0;
	}
	if (group)
		return err_set(e, SHOP_USAGE, "'%s' needs a sub-command, e.g. '%s' (try --help)", group_word, group->name);
	if (!cmd)
		return err_set(e, SHOP_USAGE, "missing command (try --help)");
	if (a->argc < cmd->min_args)
		return err_set(e, SHOP_USAGE, "%s: missing argument: usage: %s %s %s", cmd->name, t->name, cmd->name,
		               cmd->usage ? cmd->usage : "");
	if (cmd->max_args >= 0 && a->argc > cmd->max_args)
		return err_set(e, SHOP_USAGE, "%s: too many arguments ('%s'): usage: %s %s %s", cmd->name,
		               a->argv[cmd->max_args], t->name, cmd->name, cmd->usage ? cmd->usage : "");
	*cmdp = cmd;
	return 0;
}

void cli_args_free(cli_args *a)
{
	free(a->argv);
	free(a->set);
	memset(a, 0, sizeof *a);
}

int cli_has(const cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->set[i].opt->name, name))
			return 1;
	return 0;
}

const char *cli_get(const cli_args *a, const char *name)
{
	const char *v = NULL;
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->set[i].opt->name, name))
			v = a->set[i].val;
	return v;
}

const char *cli_get_nth(const cli_args *a, const char *name, size_t nth)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->set[i].opt->name, name) && nth-- == 0)
			return a->set[i].val;
	return NULL;
}

int cli_get_count(const cli_args *a, const char *name, long long def, long long *out, shop_err *e)
{
	const char *v = cli_get(a, name);
	if (!v) {
		*out = def;
		return 0;
	}
	int64_t n;
	if (!(*v >= '0' && *v <= '9') || parse_i64(v, &n))
		return err_set(e, SHOP_USAGE, "--%s: '%s' is not a count (a whole number, 0 or more)", name, v);
	*out = n;
	return 0;
}

int cli_ids_from_args(const cli_args *a, int first, const char *what, shop_err *e)
{
	if (a->argc > first && !(a->argc == first + 1 && !strcmp(a->argv[first], "-")))
		return 1;
	if (a->argc == first && isatty(0)) {
		err_set(e, SHOP_USAGE, "missing %s (give it as an argument, or records on stdin)", what);
		return -1;
	}
	return 0;
}

int cli_progress_ok(void)
{
	static int ok = -1;
	if (ok < 0)
		ok = isatty(2);
	return ok;
}

void cli_progress(const char *what, size_t n, size_t total, int final)
{
	static struct timespec last;
	if (!cli_progress_ok())
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000;
	if (!final && ms < 100)
		return;
	last = now;
	char line[160];
	int len;
	if (total)
		len = snprintf(line, sizeof line, "\r%s: %s %zu/%zu%s", cli_prog, what, n, total, final ? "\n" : "");
	else
		len = snprintf(line, sizeof line, "\r%s: %s %zu%s", cli_prog, what, n, final ? "\n" : "");
	if (len > 0)
		(void)!write_all(2, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
}
