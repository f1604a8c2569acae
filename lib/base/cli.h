/* cli: the command line of every shop program.
 *
 * A tool is a name, global options and commands; each command has its own
 * options. Options may appear before or after the command and among the
 * operands ("--limit 5", "--limit=5", "-q"); "--" ends them; "-" and
 * negative numbers ("-3") are operands. --help (usage on stdout, exit 0)
 * and --version are answered by every tool and every command. Messages go
 * to stderr as "prog: message", one line.
 *
 * Knows nothing of the shop: the caller supplies the tables. */
#ifndef SHOP_CLI_H
#define SHOP_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "util.h"

typedef struct cli_opt {
	const char *name; /* long name without "--" */
	char shortc;      /* 0 for none */
	const char *arg;  /* NULL: a flag; else the value's name, e.g. "N" */
	const char *help;
} cli_opt;

typedef struct cli_args {
	int argc;      /* operands, after the command name */
	char **argv;
	size_t n;      /* options given, in order */
	struct cli_set {
		const cli_opt *opt;
		const char *val; /* NULL for flags */
	} *set;
} cli_args;

typedef struct cli_cmd {
	const char *name;    /* "list"; "image add" for a two-word command */
	const char *usage;   /* operands, e.g. "SKU..." */
	const char *summary; /* one line */
	const cli_opt *opts; /* NULL-name terminated, may be NULL */
	int (*run)(void *ctx, cli_args *a);
	int min_args, max_args; /* operand count; max -1 = any */
} cli_cmd;

typedef struct cli_tool {
	const char *name;      /* "shop-catalog" */
	const char *summary;
	const cli_opt *global; /* NULL-name terminated */
	const cli_cmd *cmds;   /* NULL-name terminated */
	/* The command that runs when the first operand is not a command name,
	 * or the first option after the global ones is one of its own, or
	 * "--" comes first ("shop-search cable" is "shop-search query cable");
	 * NULL: none, a command is required. */
	const char *default_cmd;
} cli_tool;

/* The program name for messages (set by cli_parse_tool). */
extern const char *cli_prog;

/* Split argv into the command and its arguments. Prints --help/--version
 * output itself and sets *done (exit 0). Returns 0 and sets *cmd and *a on
 * success, or SHOP_USAGE with e set. */
int cli_parse_tool(const cli_tool *t, int argc, char **argv, const cli_cmd **cmd, cli_args *a, int *done,
                   shop_err *e);
void cli_args_free(cli_args *a);

/* Queries on parsed options (by long name). */
int cli_has(const cli_args *a, const char *name);
/* The last value given, or NULL. */
const char *cli_get(const cli_args *a, const char *name);
/* The i-th value of a repeatable option, NULL past the end. */
const char *cli_get_nth(const cli_args *a, const char *name, size_t i);
/* A non-negative integer option; def when absent; SHOP_USAGE when junk. */
int cli_get_count(const cli_args *a, const char *name, long long def, long long *out, shop_err *e);

/* Print "prog: msg" (one line) on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report e (if set) as one line and return its code (0 when none). */
int cli_report(const shop_err *e);

/* 1 when operands name the ids (and are not just "-"); 0 when the ids
 * should come from records on stdin. SHOP_USAGE (as -1, e set) when there
 * are no operands and stdin is a terminal: what names the missing id. */
int cli_ids_from_args(const cli_args *a, int first, const char *what, shop_err *e);

/* 1 when stderr is a terminal and progress may be drawn there. */
int cli_progress_ok(void);
/* Draw "prog: what N" (and "/total" when total > 0) on stderr in place,
 * at most ~10 times a second; final=1 ends the line. */
void cli_progress(const char *what, size_t n, size_t total, int final);

#endif
