/* proc: run a program from an argv (execvp, never a shell), feed it stdin,
 * collect its stdout and stderr, wait for it with a timeout.
 *
 * The child runs in its own process group; on timeout the whole group gets
 * SIGTERM, then SIGKILL after kill_grace_ms. */
#ifndef SHOP_PROC_H
#define SHOP_PROC_H

#include <stddef.h>
#include "util.h"

typedef struct proc_result {
	int exited;    /* 1 when the child exited normally */
	int code;      /* its exit code when exited */
	int signaled;  /* 1 when killed by a signal */
	int sig;       /* that signal */
	int timed_out; /* 1 when we killed it for running over */
	buf out;       /* its stdout */
	buf err;       /* its stderr */
} proc_result;

typedef struct proc_opts {
	const char *input;    /* bytes for its stdin (NULL: /dev/null) */
	size_t input_len;
	long timeout_ms;      /* 0 = no timeout */
	long kill_grace_ms;   /* default 2000 */
	size_t max_output;    /* per stream; more is drained and dropped; default 16 MiB */
	char *const *env;     /* NULL = inherit environ */
} proc_opts;

/* Run argv[0] (looked up on PATH by execvp unless it contains '/').
 * Returns 0 when the child was started and reaped (see r for how it ended);
 * SHOP_NOTFOUND (66) when the program does not exist or is not executable
 * (reported by the child through a close-on-exec pipe, so it is exact);
 * SHOP_SOFTWARE (70) when fork/pipe fail. r must be freed with proc_result_free. */
int proc_run(char *const argv[], const proc_opts *opts, proc_result *r, shop_err *e);
void proc_result_free(proc_result *r);

/* Find a tool: first "dir/name" when dir is not NULL and that file is
 * executable, else name on PATH. Returns a heap string (caller frees) or
 * NULL when not found. */
char *proc_find(const char *dir, const char *name);

/* The directory of the running executable (from /proc/self/exe), heap
 * string or NULL. */
char *proc_self_dir(void);

#endif
