/* proc: see proc.h.
 *
 * One poll() loop does everything after the fork: feeds stdin, reads
 * stdout and stderr, notices the child's exit (through a pidfd, or short
 * naps on kernels without one) and enforces the timeout. Reading both
 * streams at once is what keeps a chatty child from filling one pipe and
 * blocking while we wait on the other. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEF_GRACE_MS 2000
#define DEF_MAX_OUTPUT ((size_t)16 << 20)
#define CHUNK 65536
/* Reads per stream per wake-up: a child writing as fast as we read must not
 * keep us from looking at the clock. */
#define READS_PER_WAKE 16

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Only async-signal-safe calls from here on: the parent may have threads. */
static void child_fail(int ex)
{
	int err = errno;
	(void)!write(ex, &err, sizeof err);
	_exit(127);
}

static void child(char *const argv[], char *const *env, int in, int out, int err, int ex,
                  const sigset_t *mask)
{
	setpgid(0, 0);
	if (in < 0 && (in = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		child_fail(ex);
	/* Lift all three above 2 first: if the parent ran with 0, 1 or 2
	 * closed, a pipe may sit on one of them and a direct dup2 would
	 * clobber it. */
	int a = fcntl(in, F_DUPFD_CLOEXEC, 3);
	int b = fcntl(out, F_DUPFD_CLOEXEC, 3);
	int c = fcntl(err, F_DUPFD_CLOEXEC, 3);
	if (a < 0 || b < 0 || c < 0 || dup2(a, 0) < 0 || dup2(b, 1) < 0 || dup2(c, 2) < 0)
		child_fail(ex);
	/* Programs expect to die of SIGPIPE when their reader goes away; the
	 * parent's disposition or mask must not leak into them. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &sa, NULL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	if (env)
		execvpe(argv[0], argv, env);
	else
		execvp(argv[0], argv);
	child_fail(ex);
}

static void kill_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}

/* Read what is there into b, keeping at most max bytes in total and
 * dropping the rest (the child must still be able to write). Returns 1 at
 * end of file or on an error (stop watching fd), else 0. */
static int drain(int fd, buf *b, size_t max, int rounds)
{
	char tmp[CHUNK];
	for (int i = 0; i < rounds; i++) {
		ssize_t n = read(fd, tmp, sizeof tmp);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno != EAGAIN && errno != EWOULDBLOCK;
		}
		if (n == 0)
			return 1;
		size_t keep = b->len < max ? max - b->len : 0;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep)
			buf_add(b, tmp, keep);
	}
	return 0;
}

static void reap_blocking(pid_t pid, int *status)
{
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
}

int proc_run(char *const argv[], const proc_opts *opts, proc_result *r, shop_err *e)
{
	memset(r, 0, sizeof *r);
	proc_opts o = {0};
	if (opts)
		o = *opts;
	if (o.kill_grace_ms <= 0)
		o.kill_grace_ms = DEF_GRACE_MS;
	if (o.max_output == 0)
		o.max_output = DEF_MAX_OUTPUT;
	if (!argv || !argv[0] || !*argv[0])
		return err_set(e, SHOP_SOFTWARE, "proc: empty command");

	int in[2] = {-1, -1}, out[2] = {-1, -1}, er[2] = {-1, -1}, ex[2] = {-1, -1};
	if ((o.input && pipe2(in, O_CLOEXEC)) || pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC) ||
	    pipe2(ex, O_CLOEXEC)) {
		int err = errno;
		for (int i = 0; i < 2; i++) {
			close_fd(&in[i]);
			close_fd(&out[i]);
			close_fd(&er[i]);
			close_fd(&ex[i]);
		}
		return err_set(e, SHOP_SOFTWARE, "cannot run '%s': pipe: %s", argv[0], strerror(err));
	}

	/* SIGPIPE blocked while we feed stdin: a child that exits without
	 * reading must give us EPIPE, not kill us. Any SIGPIPE that our own
	 * writes raise is taken back before the mask is restored. */
	sigset_t pipeset, oldmask, pending;
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &oldmask);
	sigemptyset(&pending);
	sigpending(&pending);
	int pipe_was_pending = sigismember(&pending, SIGPIPE) == 1;

	pid_t pid = fork();
	if (pid == 0)
		child(argv, o.env, in[0], out[1], er[1], ex[1], &oldmask);
	int fork_err = errno;
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&er[1]);
	close_fd(&ex[1]);
	if (pid < 0) {
		close_fd(&in[1]);
		close_fd(&out[0]);
		close_fd(&er[0]);
		close_fd(&ex[0]);
		pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
		return err_set(e, SHOP_SOFTWARE, "cannot run '%s': fork: %s", argv[0],
		               strerror(fork_err));
	}
	/* Also from this side, so the group exists before we might signal it
	 * (fails harmlessly once the child has exec'd: it did it itself). */
	setpgid(pid, pid);

	/* The exec pipe closes on a successful exec (CLOEXEC) or carries the
	 * child's errno: an exact answer, no guessing from exit code 127. */
	int child_errno = 0;
	ssize_t n;
	do
		n = read(ex[0], &child_errno, sizeof child_errno);
	while (n < 0 && errno == EINTR);
	close_fd(&ex[0]);
	if (n == (ssize_t)sizeof child_errno) {
		int st;
		reap_blocking(pid, &st);
		close_fd(&in[1]);
		close_fd(&out[0]);
		close_fd(&er[0]);
		pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
		int notfound = child_errno == ENOENT || child_errno == EACCES || child_errno == ENOTDIR ||
		               child_errno == ELOOP || child_errno == ENAMETOOLONG;
		return err_set(e, notfound ? SHOP_NOTFOUND : SHOP_SOFTWARE, "cannot run '%s': %s",
		               argv[0], strerror(child_errno));
	}

	int pidfd = -1;
#ifdef SYS_pidfd_open
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (in[1] >= 0) {
		set_nonblock(in[1]);
		if (o.input_len == 0)
			close_fd(&in[1]);
	}
	set_nonblock(out[0]);
	set_nonblock(er[0]);

	size_t off = 0;
	int epipe = 0, reaped = 0, status = 0, lost = 0;
	long long deadline = o.timeout_ms > 0 ? now_ms() + o.timeout_ms : -1;
	long long kill_at = -1;
	int nap = 1;
	while (!reaped) {
		struct pollfd p[4];
		int np = 0, pi = -1, po = -1, pe = -1, pp = -1;
		if (in[1] >= 0)
			p[pi = np++] = (struct pollfd){.fd = in[1], .events = POLLOUT};
		if (out[0] >= 0)
			p[po = np++] = (struct pollfd){.fd = out[0], .events = POLLIN};
		if (er[0] >= 0)
			p[pe = np++] = (struct pollfd){.fd = er[0], .events = POLLIN};
		if (pidfd >= 0)
			p[pp = np++] = (struct pollfd){.fd = pidfd, .events = POLLIN};

		long long wait = -1, t = now_ms();
		if (deadline >= 0 && !r->timed_out) {
			if (t >= deadline) {
				kill_group(pid, SIGTERM);
				r->timed_out = 1;
				kill_at = t + o.kill_grace_ms;
			} else {
				wait = deadline - t;
			}
		}
		if (kill_at >= 0) {
			if (t >= kill_at) {
				kill_group(pid, SIGKILL);
				kill_at = -1;
			} else if (wait < 0 || kill_at - t < wait) {
				wait = kill_at - t;
			}
		}
		if (pidfd < 0 && (wait < 0 || wait > nap)) {
			/* No pidfd: nap briefly so an exit is still seen when a
			 * grandchild holds the pipes open. */
			wait = nap;
			nap = nap < 32 ? nap * 2 : 50;
		}
		int pr = poll(p, (nfds_t)np, wait > INT_MAX ? INT_MAX : (int)wait);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			int err = errno;
			kill_group(pid, SIGKILL);
			reap_blocking(pid, &status);
			reaped = 1;
			close_fd(&in[1]);
			close_fd(&out[0]);
			close_fd(&er[0]);
			if (pidfd >= 0)
				close(pidfd);
			pthread_sigmask(SIG_SETMASK, &oldmask, NULL);
			return err_set(e, SHOP_SOFTWARE, "running '%s': poll: %s", argv[0], strerror(err));
		}
		if (pr > 0)
			nap = 1;

		if (pi >= 0 && p[pi].revents) {
			while (off < o.input_len) {
				size_t len = o.input_len - off;
				ssize_t w = write(in[1], o.input + off, len > CHUNK ? CHUNK : len);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					if (errno == EPIPE)
						epipe = 1;
					if (errno != EAGAIN && errno != EWOULDBLOCK)
						off = o.input_len; /* reader gone: the rest is moot */
					break;
				}
				off += (size_t)w;
			}
			if (off >= o.input_len)
				close_fd(&in[1]);
		}
		if (po >= 0 && p[po].revents && drain(out[0], &r->out, o.max_output, READS_PER_WAKE))
			close_fd(&out[0]);
		if (pe >= 0 && p[pe].revents && drain(er[0], &r->err, o.max_output, READS_PER_WAKE))
			close_fd(&er[0]);

		if (pidfd < 0 || (pp >= 0 && p[pp].revents)) {
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid)
				reaped = 1;
			else if (w < 0 && errno != EINTR)
				reaped = lost = 1; /* ECHILD: SIGCHLD ignored, status gone */
		}
	}
	/* After a timeout nothing of the group may outlive us: descendants
	 * that ignored SIGTERM go now. The group id cannot have been reused
	 * while any member is alive, so this hits only them (or nothing). */
	if (r->timed_out)
		kill(-pid, SIGKILL);
	/* What the child wrote before exiting is still in the pipes. Anything
	 * after that comes from descendants it left behind: not waited for. */
	if (out[0] >= 0)
		drain(out[0], &r->out, o.max_output, 64);
	if (er[0] >= 0)
		drain(er[0], &r->err, o.max_output, 64);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&er[0]);
	if (pidfd >= 0)
		close(pidfd);

	if (epipe && !pipe_was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipeset, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &oldmask, NULL);

	if (lost) {
		/* Neither exited nor signaled: how it ended is unknown. */
	} else if (WIFEXITED(status)) {
		r->exited = 1;
		r->code = WEXITSTATUS(status);
	} else if (WIFSIGNALED(status)) {
		r->signaled = 1;
		r->sig = WTERMSIG(status);
	}
	return 0;
}

void proc_result_free(proc_result *r)
{
	if (!r)
		return;
	buf_free(&r->out);
	buf_free(&r->err);
}

static int runnable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *proc_find(const char *dir, const char *name)
{
	if (!name || !*name)
		return NULL;
	if (dir && *dir) {
		char *p = xasprintf("%s/%s", dir, name);
		if (runnable(p))
			return p;
		free(p);
	}
	if (strchr(name, '/'))
		return runnable(name) ? xstrdup(name) : NULL;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *s = path;;) {
		const char *colon = strchr(s, ':');
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		/* An empty entry means the current directory, as for execvp. */
		char *p = len ? xasprintf("%.*s/%s", (int)len, s, name) : xasprintf("./%s", name);
		if (runnable(p))
			return p;
		free(p);
		if (!colon)
			break;
		s = colon + 1;
	}
	return NULL;
}

char *proc_self_dir(void)
{
	size_t cap = 256;
	for (;;) {
		char *p = xmalloc(cap);
		ssize_t n = readlink("/proc/self/exe", p, cap);
		if (n < 0) {
			free(p);
			return NULL;
		}
		if ((size_t)n < cap) {
			p[n] = 0;
			char *slash = strrchr(p, '/');
			if (!slash) {
				free(p);
				return NULL;
			}
			if (slash == p)
				slash[1] = 0; /* the root keeps its slash */
			else
				*slash = 0;
			return p;
		}
		free(p);
		if (cap > (size_t)1 << 20)
			return NULL;
		cap *= 2;
	}
}
