/* test-proc: lib/base/proc. Besides a few system tools, the test runs
 * itself (through /proc/self/exe) in helper modes, so no shell is needed
 * to get odd children: see child_mode. */
#include "proc.h"
#include "t.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024 * 1024)

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int child_mode(const char *mode)
{
	if (!strcmp(mode, "spew")) {
		/* 1 MiB on each stream, interleaved: deadlocks unless the
		 * parent reads both at once. */
		char chunk[4096];
		for (int i = 0; i < 256; i++) {
			memset(chunk, 'a' + i % 26, sizeof chunk);
			if (write_all(1, chunk, sizeof chunk) || write_all(2, chunk, sizeof chunk))
				return 1;
		}
		return 3;
	}
	if (!strcmp(mode, "selfkill")) {
		kill(getpid(), SIGKILL);
		pause();
	}
	if (!strcmp(mode, "ignore-term")) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	if (!strcmp(mode, "orphan")) {
		/* Leaves a grandchild holding stdout and stderr open. */
		pid_t p = fork();
		if (p == 0) {
			char *argv[] = {"sleep", "30", NULL};
			execvp(argv[0], argv);
			_exit(127);
		}
		printf("%d\n", (int)p);
		return 0;
	}
	if (!strcmp(mode, "group")) {
		/* A grandchild in our process group, then wait to be killed. */
		pid_t p = fork();
		if (p == 0) {
			char *argv[] = {"sleep", "30", NULL};
			execvp(argv[0], argv);
			_exit(127);
		}
		printf("%d\n", (int)p);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (!strcmp(mode, "sigpipe-state")) {
		/* Tell how SIGPIPE reached us: blocked? ignored? */
		sigset_t m;
		struct sigaction sa;
		sigprocmask(SIG_BLOCK, NULL, &m);
		sigaction(SIGPIPE, NULL, &sa);
		printf("blocked=%d ignored=%d\n", sigismember(&m, SIGPIPE), sa.sa_handler == SIG_IGN);
		return 0;
	}
	return 2;
}

/* Within a second, pid is dead: gone, or a zombie nobody has reaped yet. */
static int gone(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 100; i++) {
		FILE *f = fopen(path, "r");
		if (!f)
			return 1;
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		stat[n] = 0;
		const char *rp = strrchr(stat, ')');
		if (rp && (rp[2] == 'Z' || rp[2] == 'X'))
			return 1;
		usleep(10000);
	}
	return 0;
}

static int run(char *const argv[], const proc_opts *o, proc_result *r, shop_err *e)
{
	err_clear(e);
	return proc_run(argv, o, r, e);
}

static void test_exit_codes(void)
{
	proc_result r;
	shop_err e = {0};
	char *t[] = {"true", NULL};
	CHECK_INT(run(t, NULL, &r, &e), 0);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.signaled, 0);
	CHECK_INT(r.timed_out, 0);
	proc_result_free(&r);

	char *f[] = {"/bin/false", NULL};
	CHECK_INT(run(f, NULL, &r, &e), 0);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.code, 1);
	proc_result_free(&r);

	char *c[] = {"cat", "/nonexistent/file", NULL};
	CHECK_INT(run(c, NULL, &r, &e), 0);
	CHECK(r.code != 0);
	CHECK(strstr(buf_str(&r.err), "No such file") != NULL);
	CHECK_INT(r.out.len, 0);
	proc_result_free(&r);
}

static void test_output(void)
{
	proc_result r;
	shop_err e = {0};
	char *seq[] = {"seq", "1", "100000", NULL};
	CHECK_INT(run(seq, NULL, &r, &e), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.out.len, 588895);
	CHECK(r.out.len > 7 && !strcmp(r.out.p + r.out.len - 7, "100000\n"));
	CHECK(!strncmp(buf_str(&r.out), "1\n2\n3\n", 6));
	proc_result_free(&r);

	char *spew[] = {"/proc/self/exe", "spew", NULL};
	CHECK_INT(run(spew, NULL, &r, &e), 0);
	CHECK_INT(r.code, 3);
	CHECK_INT(r.out.len, MIB);
	CHECK_INT(r.err.len, MIB);
	CHECK(r.out.len == MIB && r.out.p[0] == 'a' && r.out.p[MIB - 1] == 'a' + 255 % 26);
	CHECK(r.out.len == r.err.len && !memcmp(r.out.p, r.err.p, r.out.len));
	proc_result_free(&r);

	/* Over max_output: kept up to the limit, the rest drained. */
	proc_opts o = {0};
	o.max_output = 1000;
	CHECK_INT(run(spew, &o, &r, &e), 0);
	CHECK_INT(r.code, 3);
	CHECK_INT(r.out.len, 1000);
	CHECK_INT(r.err.len, 1000);
	proc_result_free(&r);

	/* A child that never stops writing: bounded by size and time. */
	char *yes[] = {"yes", NULL};
	o.max_output = 1000;
	o.timeout_ms = 300;
	long long t0 = now_ms();
	CHECK_INT(run(yes, &o, &r, &e), 0);
	CHECK(now_ms() - t0 < 2000);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.signaled, 1);
	CHECK_INT(r.sig, SIGTERM);
	CHECK_INT(r.out.len, 1000);
	CHECK(!strncmp(buf_str(&r.out), "y\ny\ny\n", 6));
	proc_result_free(&r);
}

static void test_input(void)
{
	proc_result r;
	shop_err e = {0};
	proc_opts o = {0};
	char *in = xmalloc(MIB);
	for (size_t i = 0; i < MIB; i++)
		in[i] = (char)(i * 7 % 251); /* NULs included */
	o.input = in;
	o.input_len = MIB;
	char *cat[] = {"cat", NULL};
	CHECK_INT(run(cat, &o, &r, &e), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.out.len, MIB);
	CHECK(r.out.len == MIB && !memcmp(r.out.p, in, MIB));
	proc_result_free(&r);

	/* Children that stop reading early must not hang or kill us. */
	char *t[] = {"true", NULL};
	CHECK_INT(run(t, &o, &r, &e), 0);
	CHECK_INT(r.code, 0);
	proc_result_free(&r);
	char *head[] = {"head", "-c", "10", NULL};
	CHECK_INT(run(head, &o, &r, &e), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.out.len, 10);
	CHECK(r.out.len == 10 && !memcmp(r.out.p, in, 10));
	proc_result_free(&r);

	/* ... and leave our SIGPIPE state as it was. */
	sigset_t m, pend;
	sigprocmask(SIG_BLOCK, NULL, &m);
	sigpending(&pend);
	CHECK_INT(sigismember(&m, SIGPIPE), 0);
	CHECK_INT(sigismember(&pend, SIGPIPE), 0);

	/* Empty input and no input: the child sees end of file at once. */
	o.input_len = 0;
	CHECK_INT(run(cat, &o, &r, &e), 0);
	CHECK_INT(r.out.len, 0);
	proc_result_free(&r);
	CHECK_INT(run(cat, NULL, &r, &e), 0);
	CHECK_INT(r.code, 0);
	CHECK_INT(r.out.len, 0);
	proc_result_free(&r);
	free(in);

	/* Our blocked, ignored SIGPIPE does not reach the child. */
	signal(SIGPIPE, SIG_IGN);
	char *st[] = {"/proc/self/exe", "sigpipe-state", NULL};
	CHECK_INT(run(st, NULL, &r, &e), 0);
	CHECK_STR(buf_str(&r.out), "blocked=0 ignored=0\n");
	proc_result_free(&r);
	signal(SIGPIPE, SIG_DFL);
}

static void test_env(void)
{
	proc_result r;
	shop_err e = {0};
	proc_opts o = {0};
	char *env[] = {"FOO=bar baz", NULL};
	o.env = env;
	char *argv[] = {"env", NULL};
	CHECK_INT(run(argv, &o, &r, &e), 0);
	CHECK_STR(buf_str(&r.out), "FOO=bar baz\n");
	proc_result_free(&r);
	/* No shell: metacharacters are plain bytes of an argument. */
	char *echo[] = {"echo", "$HOME", "`id`", "a;b", NULL};
	CHECK_INT(run(echo, NULL, &r, &e), 0);
	CHECK_STR(buf_str(&r.out), "$HOME `id` a;b\n");
	proc_result_free(&r);
}

static void test_missing(void)
{
	proc_result r;
	shop_err e = {0};
	char *m[] = {"no-such-program-for-shop-tests", NULL};
	CHECK_INT(run(m, NULL, &r, &e), SHOP_NOTFOUND);
	CHECK_STR(e.msg, "cannot run 'no-such-program-for-shop-tests': No such file or directory");
	CHECK_INT(e.code, SHOP_NOTFOUND);
	proc_result_free(&r);

	char *abs[] = {"/nonexistent/bin/tool", NULL};
	CHECK_INT(run(abs, NULL, &r, &e), SHOP_NOTFOUND);
	proc_result_free(&r);
	char *noexec[] = {"/etc/passwd", NULL};
	CHECK_INT(run(noexec, NULL, &r, &e), SHOP_NOTFOUND);
	CHECK(strstr(e.msg, "Permission denied") != NULL);
	proc_result_free(&r);
	char *dir[] = {"/tmp", NULL};
	CHECK_INT(run(dir, NULL, &r, &e), SHOP_NOTFOUND);
	proc_result_free(&r);
	char *empty[] = {NULL};
	CHECK_INT(run(empty, NULL, &r, &e), SHOP_SOFTWARE);
	proc_result_free(&r);
}

static void test_signals(void)
{
	proc_result r;
	shop_err e = {0};
	char *sk[] = {"/proc/self/exe", "selfkill", NULL};
	CHECK_INT(run(sk, NULL, &r, &e), 0);
	CHECK_INT(r.exited, 0);
	CHECK_INT(r.signaled, 1);
	CHECK_INT(r.sig, SIGKILL);
	CHECK_INT(r.timed_out, 0);
	proc_result_free(&r);

	proc_opts o = {0};
	o.timeout_ms = 200;
	char *sl[] = {"sleep", "10", NULL};
	long long t0 = now_ms();
	CHECK_INT(run(sl, &o, &r, &e), 0);
	long long dt = now_ms() - t0;
	CHECK(dt >= 190 && dt < 1500);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.signaled, 1);
	CHECK_INT(r.sig, SIGTERM);
	proc_result_free(&r);

	/* SIGTERM ignored: SIGKILL once the grace is over. */
	o.kill_grace_ms = 300;
	char *it[] = {"/proc/self/exe", "ignore-term", NULL};
	t0 = now_ms();
	CHECK_INT(run(it, &o, &r, &e), 0);
	dt = now_ms() - t0;
	CHECK(dt >= 490 && dt < 2000);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.sig, SIGKILL);
	proc_result_free(&r);

	/* A grandchild left holding the pipes does not keep us waiting. */
	char *orph[] = {"/proc/self/exe", "orphan", NULL};
	t0 = now_ms();
	CHECK_INT(run(orph, NULL, &r, &e), 0);
	CHECK(now_ms() - t0 < 5000);
	CHECK_INT(r.exited, 1);
	CHECK_INT(r.code, 0);
	long gc = strtol(buf_str(&r.out), NULL, 10);
	CHECK(gc > 1);
	if (gc > 1)
		kill((pid_t)gc, SIGKILL);
	proc_result_free(&r);

	/* The timeout reaches the whole process group, grandchild too. */
	o.timeout_ms = 300;
	o.kill_grace_ms = 300;
	char *grp[] = {"/proc/self/exe", "group", NULL};
	t0 = now_ms();
	CHECK_INT(run(grp, &o, &r, &e), 0);
	CHECK(now_ms() - t0 < 2000);
	CHECK_INT(r.timed_out, 1);
	CHECK_INT(r.sig, SIGTERM);
	gc = strtol(buf_str(&r.out), NULL, 10);
	CHECK(gc > 1);
	if (gc > 1) {
		CHECK(gone((pid_t)gc));
		kill((pid_t)gc, SIGKILL);
	}
	proc_result_free(&r);
}

static void test_find(void)
{
	char *p = proc_find(NULL, "cat");
	CHECK(p && p[0] == '/' && strstr(p, "/cat") && !access(p, X_OK));
	char *q = proc_find("/nonexistent", "cat");
	CHECK_STR(q, p);
	free(q);
	free(p);
	CHECK(proc_find(NULL, "no-such-program-for-shop-tests") == NULL);
	CHECK(proc_find("/etc", "os-release") == NULL); /* there, not executable */
	CHECK(proc_find(NULL, "") == NULL);

	char *dir = proc_self_dir();
	CHECK(dir && dir[0] == '/');
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	CHECK(n > 0);
	if (dir && n > 0) {
		self[n] = 0;
		const char *slash = strrchr(self, '/');
		CHECK_INT((long)strlen(dir), (long)(slash - self));
		char *f = proc_find(dir, slash + 1);
		CHECK_STR(f, self);
		free(f);
		/* The directory wins over PATH. */
		char *saved = getenv("PATH") ? xstrdup(getenv("PATH")) : NULL;
		setenv("PATH", "/nonexistent", 1);
		f = proc_find(dir, slash + 1);
		CHECK_STR(f, self);
		free(f);
		CHECK(proc_find(NULL, "cat") == NULL);
		if (saved)
			setenv("PATH", saved, 1);
		free(saved);
	}
	free(dir);
}

int main(int argc, char **argv)
{
	if (argc == 2)
		return child_mode(argv[1]);
	test_exit_codes();
	test_output();
	test_input();
	test_env();
	test_missing();
	test_signals();
	test_find();
	return t_done();
}
