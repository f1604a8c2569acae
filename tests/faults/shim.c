/* shim.so: I/O fault injection for the tests (LD_PRELOAD). With
 * SHOP_FAULT_AT=N, the Nth write or sync to a file (regular files only,
 * and never standard input, output or error) fails with ENOSPC (SHOP_FAULT_ERRNO=EIO
 * for an I/O error), and every later one too, as a full disk does; with
 * SHOP_FAULT_ON=sync only fsync and fdatasync count, with write only the
 * writes. SHOP_FAULT_COUNT=FILE gets the number of calls that were
 * counted, so that a loop knows when N has passed them all. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static long at = -1, seen;
static int on_write = 1, on_sync = 1, err = ENOSPC;

static void init(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	const char *v = getenv("SHOP_FAULT_AT");
	at = v && *v ? atol(v) : -1;
	const char *on = getenv("SHOP_FAULT_ON");
	if (on && !strcmp(on, "sync"))
		on_write = 0;
	if (on && !strcmp(on, "write"))
		on_sync = 0;
	const char *e = getenv("SHOP_FAULT_ERRNO");
	if (e && !strcmp(e, "EIO"))
		err = EIO;
}

static void report(void)
{
	const char *f = getenv("SHOP_FAULT_COUNT");
	if (!f)
		return;
	FILE *o = fopen(f, "w");
	if (o) {
		fprintf(o, "%ld\n", seen);
		fclose(o);
	}
}

/* 1 when this call on fd must fail (kind: 1 a write, 2 a sync). The
 * standard streams never fail: the messages must get out. */
static int fault(int fd, int kind)
{
	init();
	struct stat st;
	if (fd <= 2 || (kind == 1 && !on_write) || (kind == 2 && !on_sync) || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return 0;
	static int registered;
	if (!registered) {
		registered = 1;
		atexit(report);
	}
	seen++;
	if (at > 0 && seen >= at) {
		errno = err;
		return 1;
	}
	return 0;
}

#define NEXT(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *p, size_t n)
{
	NEXT(write);
	if (fault(fd, 1))
		return -1;
	return real(fd, p, n);
}

ssize_t pwrite(int fd, const void *p, size_t n, off_t off)
{
	NEXT(pwrite);
	if (fault(fd, 1))
		return -1;
	return real(fd, p, n, off);
}

ssize_t pwrite64(int fd, const void *p, size_t n, off64_t off)
{
	NEXT(pwrite64);
	if (fault(fd, 1))
		return -1;
	return real(fd, p, n, off);
}

int fsync(int fd)
{
	NEXT(fsync);
	if (fault(fd, 2))
		return -1;
	return real(fd);
}

int fdatasync(int fd)
{
	NEXT(fdatasync);
	if (fault(fd, 2))
		return -1;
	return real(fd);
}
