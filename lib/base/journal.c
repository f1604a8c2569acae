/* journal: see journal.h. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "sha256.h"

struct journal {
	int fd;
	char *path;
	int64_t seq; /* of the last record */
};

#define SUM_LEN 16

static void crash_point(int after);
static int do_append(journal *j, jv rec, int64_t *seq, shop_err *e);

/* The checksum of a line's body (the line without ',"sum":"..."}'). */
static void sum_of(const char *body, size_t n, char out[SUM_LEN + 1])
{
	char hex[65];
	sha256_hex(body, n, hex);
	memcpy(out, hex, SUM_LEN);
	out[SUM_LEN] = 0;
}

static int lock(int fd, const char *path, shop_err *e)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno != EACCES && errno != EAGAIN)
		return err_set(e, SHOP_IOERR, "%s: lock: %s", path, strerror(errno));
	struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	if (fcntl(fd, F_GETLK, &who) == 0 && who.l_type != F_UNLCK)
		return err_set(e, SHOP_TEMPFAIL, "%s: in use by process %ld", path, (long)who.l_pid);
	return err_set(e, SHOP_TEMPFAIL, "%s: in use by another process", path);
}

static int sync_dir(const char *path, shop_err *e)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xasprintf("%.*s", slash == path ? 1 : (int)(slash - path), path) : xstrdup(".");
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;
	if (dfd < 0 || fsync(dfd))
		rc = err_set(e, SHOP_IOERR, "%s: fsync: %s", dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

int journal_create(const char *path, jv first, journal **out, shop_err *e)
{
	*out = NULL;
	/* The first record is written to a file of its own name and then
	 * linked into place: a journal is never seen without it. */
	char *tmp = xasprintf("%s.new.%ld", path, (long)getpid());
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(e, SHOP_IOERR, "%s: %s", tmp, strerror(errno));
		free(tmp);
		jv_free(first);
		return e->code;
	}
	journal *j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->path = xstrdup(path);
	crash_point(0);
	if (fchmod(fd, 0600) || lock(fd, tmp, e) || do_append(j, first, NULL, e)) {
		if (!e->code)
			err_set(e, SHOP_IOERR, "%s: %s", tmp, strerror(errno));
	} else if (link(tmp, path)) {
		err_set(e, errno == EEXIST ? SHOP_SOFTWARE : SHOP_IOERR, "%s: %s", path, strerror(errno));
	} else {
		sync_dir(path, e);
	}
	unlink(tmp);
	free(tmp);
	if (e->code) {
		journal_close(j);
		return e->code;
	}
	*out = j;
	crash_point(1);
	return 0;
}

/* Parse the whole text: records into *recs; *good the length of the text
 * up to the end of the last good line; *torn when a torn last line was
 * left out. */
static int parse(const char *path, const char *p, size_t n, jv *recs, size_t *good, int *torn, shop_err *e)
{
	*recs = jv_array();
	*good = 0;
	*torn = 0;
	size_t line = 0, off = 0;
	int64_t want = 1;
	while (off < n) {
		line++;
		const char *nl = memchr(p + off, '\n', n - off);
		size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
		const char *l = p + off;
		int ok = nl != NULL;
		const char *mark = NULL;
		for (size_t i = len; ok && i >= 8 + SUM_LEN + 2; i--) /* the last ',"sum":"' */
			if (!memcmp(l + i - (8 + SUM_LEN + 2), ",\"sum\":\"", 8)) {
				mark = l + i - (8 + SUM_LEN + 2);
				break;
			}
		jv rec = jv_invalid();
		if (ok && mark && mark + 8 + SUM_LEN + 2 == l + len && !memcmp(l + len - 2, "\"}", 2)) {
			buf body = {0};
			buf_add(&body, l, (size_t)(mark - l));
			buf_addc(&body, '}');
			char sum[SUM_LEN + 1];
			sum_of(body.p, body.len, sum);
			char perr[128];
			if (!memcmp(sum, mark + 8, SUM_LEN) && !json_parse(body.p, body.len, &rec, perr, sizeof perr) &&
			    jv_get_kind(rec) == JV_KIND_OBJECT) {
				jv s = jv_object_get(jv_copy(rec), jv_string("seq"));
				if (jv_get_kind(s) != JV_KIND_NUMBER || jv_number_value(s) != (double)want) {
					jv_free(s);
					jv_free(rec);
					buf_free(&body);
					jv_free(*recs);
					*recs = jv_invalid();
					return err_set(e, SHOP_DATAERR, "%s:%zu: record out of sequence (expected seq %" PRId64 ")",
					               path, line, want);
				}
				jv_free(s);
				want++;
			} else {
				jv_free(rec);
				rec = jv_invalid();
			}
			buf_free(&body);
		}
		if (!jv_is_valid(rec)) {
			jv_free(rec);
			if (!nl || off + len + 1 == n) { /* the last line: torn by a crash */
				*torn = 1;
				return 0;
			}
			jv_free(*recs);
			*recs = jv_invalid();
			return err_set(e, SHOP_DATAERR, "%s:%zu: corrupt record (checksum or syntax) before the end", path,
			               line);
		}
		rec = jv_object_delete(rec, jv_string("sum"));
		*recs = jv_array_append(*recs, rec);
		off += len + 1;
		*good = off;
	}
	return 0;
}

static int read_all(int fd, const char *path, buf *b, shop_err *e)
{
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return err_set(e, SHOP_IOERR, "%s: read: %s", path, strerror(errno));
		if (r == 0)
			return 0;
		buf_add(b, chunk, (size_t)r);
	}
}

int journal_read(const char *path, jv *recs, int *torn, shop_err *e)
{
	*recs = jv_invalid();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	buf b = {0};
	size_t good;
	int rc = read_all(fd, path, &b, e) || parse(path, b.p ? b.p : "", b.len, recs, &good, torn, e);
	close(fd);
	buf_free(&b);
	return rc ? e->code : 0;
}

int journal_open(const char *path, journal **out, jv *recs, shop_err *e)
{
	*out = NULL;
	*recs = jv_invalid();
	int fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, errno == ENOENT ? SHOP_NOTFOUND : SHOP_IOERR, "%s: %s", path, strerror(errno));
	if (lock(fd, path, e)) {
		close(fd);
		return e->code;
	}
	buf b = {0};
	size_t good;
	int torn;
	if (read_all(fd, path, &b, e) || parse(path, b.p ? b.p : "", b.len, recs, &good, &torn, e)) {
		buf_free(&b);
		close(fd);
		return e->code;
	}
	/* Cut a torn tail off, so that the next line starts on its own. */
	if (good < b.len && (ftruncate(fd, (off_t)good) || fsync(fd))) {
		err_set(e, SHOP_IOERR, "%s: truncate: %s", path, strerror(errno));
		buf_free(&b);
		jv_free(*recs);
		*recs = jv_invalid();
		close(fd);
		return e->code;
	}
	buf_free(&b);
	journal *j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->path = xstrdup(path);
	j->seq = jv_array_length(jv_copy(*recs));
	*out = j;
	return 0;
}

/* $SHOP_TEST_CRASH: "before:N" or "after:N". */
static void crash_point(int after)
{
	static int init, when = -1; /* 0 before, 1 after */
	static long n, count;
	if (!init) {
		init = 1;
		const char *v = getenv("SHOP_TEST_CRASH");
		if (v && !strncmp(v, "before:", 7))
			when = 0, n = strtol(v + 7, NULL, 10);
		else if (v && !strncmp(v, "after:", 6))
			when = 1, n = strtol(v + 6, NULL, 10);
	}
	if (when < 0)
		return;
	if (!after)
		count++;
	if (when == after && count == n)
		kill(getpid(), SIGKILL);
}

static int do_append(journal *j, jv rec, int64_t *seq, shop_err *e)
{
	jv r = jv_object();
	r = jv_object_set(r, jv_string("seq"), jv_number((double)(j->seq + 1)));
	jv_object_foreach(rec, k, v) r = jv_object_set(r, k, v);
	jv_free(rec);
	buf line = {0};
	json_dump(r, &line);
	jv_free(r);
	char sum[SUM_LEN + 1];
	sum_of(line.p, line.len, sum);
	line.len--; /* the closing brace */
	buf_addf(&line, ",\"sum\":\"%s\"}\n", sum);
	int rc = 0;
	if (write_all(j->fd, line.p, line.len) || fdatasync(j->fd))
		rc = err_set(e, SHOP_IOERR, "%s: write: %s", j->path, strerror(errno));
	buf_free(&line);
	if (rc)
		return rc;
	j->seq++;
	if (seq)
		*seq = j->seq;
	return 0;
}

int journal_append(journal *j, jv rec, int64_t *seq, shop_err *e)
{
	crash_point(0);
	if (do_append(j, rec, seq, e))
		return e->code;
	crash_point(1);
	return 0;
}

void journal_close(journal *j)
{
	if (!j)
		return;
	close(j->fd);
	free(j->path);
	free(j);
}
