/* test-util: lib/base/util. Buffers, the error context, strict UTF-8,
 * integer parsing and write_all. */
#include "util.h"
#include "t.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_buf(void)
{
	buf b = {0};

	/* An empty buffer still gives a C string. */
	CHECK_STR(buf_str(&b), "");
	CHECK_INT(b.len, 0);
	buf_free(&b);
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);

	/* Growth past the first allocation, byte for byte. */
	for (int i = 0; i < 10000; i++)
		buf_addc(&b, (char)('a' + i % 26));
	CHECK_INT(b.len, 10000);
	CHECK(b.cap > b.len);
	CHECK_INT(b.p[b.len], 0);
	int ok = 1;
	for (int i = 0; i < 10000; i++)
		if (b.p[i] != (char)('a' + i % 26))
			ok = 0;
	CHECK(ok);

	/* buf_add of binary data (with a NUL inside) keeps the length. */
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(buf_str(&b), "");
	buf_add(&b, "a\0b", 3);
	CHECK_INT(b.len, 3);
	CHECK(memcmp(b.p, "a\0b", 4) == 0);
	buf_add(&b, "", 0);
	CHECK_INT(b.len, 3);

	/* buf_adds / buf_addf, short. */
	buf_reset(&b);
	buf_adds(&b, "x=");
	buf_addf(&b, "%d,%s", 42, "y");
	CHECK_STR(buf_str(&b), "x=42,y");
	CHECK_INT(b.len, 6);

	/* buf_addf around the 256-byte stack buffer: 255 fits the first pass,
	 * 256 and more take the second. Appends after existing text. */
	for (size_t n = 250; n <= 260; n++) {
		char *s = xmalloc(n + 1);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)('A' + i % 26);
		s[n] = 0;
		buf_reset(&b);
		buf_adds(&b, "<<");
		buf_addf(&b, "%s|%zu", s, n);
		char tail[32];
		snprintf(tail, sizeof tail, "|%zu", n);
		size_t want = 2 + n + strlen(tail);
		CHECK_INT(b.len, want);
		CHECK(memcmp(b.p, "<<", 2) == 0);
		CHECK(memcmp(b.p + 2, s, n) == 0);
		CHECK_STR(b.p + 2 + n, tail);
		CHECK_INT(strlen(b.p), want);
		free(s);
	}
	/* A long formatted string into an empty buffer, then more after it. */
	{
		char big[5000];
		memset(big, 'z', sizeof big - 1);
		big[sizeof big - 1] = 0;
		buf c = {0};
		buf_addf(&c, "[%s]", big);
		CHECK_INT(c.len, 5001);
		CHECK(c.p[0] == '[' && c.p[5000] == ']' && c.p[5001] == 0);
		buf_addf(&c, "%s", "end");
		CHECK_INT(c.len, 5004);
		CHECK_STR(c.p + 5001, "end");
		buf_addf(&c, "%s", big);
		CHECK_INT(c.len, 5004 + 4999);
		CHECK_INT(strlen(c.p), 5004 + 4999);
		buf_free(&c);
	}

	/* buf_detach hands over the bytes and leaves an empty, reusable buffer. */
	buf_reset(&b);
	buf_adds(&b, "hello");
	char *d = buf_detach(&b);
	CHECK_STR(d, "hello");
	CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
	free(d);
	d = buf_detach(&b); /* of an empty buffer: "" */
	CHECK_STR(d, "");
	free(d);
	buf_adds(&b, "again");
	CHECK_STR(buf_str(&b), "again");

	/* buf_reset keeps the storage. */
	char *p = b.p;
	size_t cap = b.cap;
	buf_reset(&b);
	CHECK(b.p == p && b.cap == cap && b.len == 0);
	CHECK_STR(buf_str(&b), "");
	buf_free(&b);
	buf_reset(&b); /* on a freed buffer: harmless */
	CHECK(b.p == NULL);

	/* xasprintf over the long path. */
	char *s = xasprintf("%0300d", 7);
	CHECK_INT(strlen(s), 300);
	CHECK(s[0] == '0' && s[299] == '7');
	free(s);
	s = xstrndup("abcdef", 3);
	CHECK_STR(s, "abc");
	free(s);
}

static void test_err(void)
{
	shop_err e = {0};
	CHECK_INT(e.code, 0);

	/* err_set returns the code, and the first error sticks. */
	CHECK_INT(err_set(&e, SHOP_DATAERR, "field '%s': bad", "sku"), SHOP_DATAERR);
	CHECK_INT(e.code, SHOP_DATAERR);
	CHECK_STR(e.msg, "field 'sku': bad");
	CHECK_INT(err_set(&e, SHOP_IOERR, "later %d", 2), SHOP_DATAERR);
	CHECK_INT(e.code, SHOP_DATAERR);
	CHECK_STR(e.msg, "field 'sku': bad");

	/* err_prefix puts text in front. */
	err_prefix(&e, "stdin:%d: ", 12);
	CHECK_STR(e.msg, "stdin:12: field 'sku': bad");
	CHECK_INT(e.code, SHOP_DATAERR);

	err_clear(&e);
	CHECK_INT(e.code, 0);
	CHECK_STR(e.msg, "");
	CHECK_INT(err_set(&e, SHOP_IOERR, "disk"), SHOP_IOERR);
	CHECK_STR(e.msg, "disk");

	/* A message longer than the buffer is cut, still terminated. */
	err_clear(&e);
	char big[3000];
	memset(big, 'm', sizeof big - 1);
	big[sizeof big - 1] = 0;
	err_set(&e, SHOP_DATAERR, "%s", big);
	CHECK_INT(strlen(e.msg), sizeof e.msg - 1);
	err_prefix(&e, "p: ");
	CHECK_INT(strlen(e.msg), sizeof e.msg - 1);
	CHECK(memcmp(e.msg, "p: mmm", 6) == 0);
}

static int u8(const char *s, size_t n, size_t *bad)
{
	*bad = (size_t)-1;
	return utf8_valid(s, n, bad);
}

#define U8_OK(lit) do { size_t b_; CHECK(u8(lit, sizeof lit - 1, &b_) == 1); } while (0)
#define U8_BAD(lit, off) do { size_t b_; CHECK(u8(lit, sizeof lit - 1, &b_) == 0); \
	CHECK_INT(b_, off); } while (0)

static void test_utf8(void)
{
	size_t bad;
	CHECK(utf8_valid("", 0, &bad) == 1);
	CHECK(utf8_valid(NULL, 0, NULL) == 1);
	U8_OK("plain ascii");
	U8_OK("\x7f");
	U8_OK("caf\xc3\xa9");                 /* é: 2 bytes */
	U8_OK("\xc2\x80");                    /* U+0080, smallest 2-byte */
	U8_OK("\xdf\xbf");                    /* U+07FF */
	U8_OK("\xe0\xa0\x80");                /* U+0800, smallest 3-byte */
	U8_OK("\xe2\x82\xac");                /* € */
	U8_OK("\xed\x9f\xbf");                /* U+D7FF, just below surrogates */
	U8_OK("\xee\x80\x80");                /* U+E000, just above */
	U8_OK("\xef\xbf\xbf");                /* U+FFFF */
	U8_OK("\xf0\x90\x80\x80");            /* U+10000, smallest 4-byte */
	U8_OK("\xf0\x9f\x98\x80");            /* 😀 */
	U8_OK("\xf4\x8f\xbf\xbf");            /* U+10FFFF, the last */
	U8_OK("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z");
	/* A NUL byte is a valid code point; the length, not strlen, counts. */
	CHECK(utf8_valid("a\0b", 3, &bad) == 1);

	/* Overlongs. */
	U8_BAD("\xc0\x80", 0);
	U8_BAD("\xc1\xbf", 0);
	U8_BAD("ab\xe0\x80\x80", 2);
	U8_BAD("\xe0\x9f\xbf", 0);           /* U+07FF in 3 bytes */
	U8_BAD("\xf0\x8f\xbf\xbf", 0);       /* U+FFFF in 4 bytes */
	/* Surrogates. */
	U8_BAD("x\xed\xa0\x80", 1);
	U8_BAD("\xed\xbf\xbf", 0);
	U8_BAD("\xed\xa0\xbd\xed\xb8\x80", 0); /* CESU-8 style pair */
	/* Above U+10FFFF, and lead bytes that can never appear. */
	U8_BAD("\xf4\x90\x80\x80", 0);
	U8_BAD("\xf5\x80\x80\x80", 0);
	U8_BAD("\xf8\x88\x80\x80\x80", 0);
	U8_BAD("\xfe", 0);
	U8_BAD("\xff", 0);
	/* Truncated sequences: at the end and before another character. */
	U8_BAD("abc\xc3", 3);
	U8_BAD("abc\xe2\x82", 3);
	U8_BAD("\xf0\x9f\x98", 0);
	U8_BAD("\xc3z", 0);
	U8_BAD("ok\xe2\x82z", 2);
	U8_BAD("\xf0\x9f\x98\xc3\xa9", 0);
	/* Lone continuation bytes. */
	U8_BAD("\x80", 0);
	U8_BAD("abc\xbf", 3);
	U8_BAD("\xc3\xa9\xa9", 2);
	/* The first bad byte is reported, not a later one. */
	U8_BAD("\xc3\xa9\x80\xff", 2);
	/* n limits the check: a valid prefix of a longer string. */
	CHECK(utf8_valid("ab\xff", 2, &bad) == 1);
	CHECK(utf8_valid("\xc3\xa9", 1, &bad) == 0);
	CHECK_INT(bad, 0);
	/* bad may be NULL. */
	CHECK(utf8_valid("\xff", 1, NULL) == 0);
}

static void test_parse_i64(void)
{
	int64_t v;
	v = 99;
	CHECK_INT(parse_i64("0", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(parse_i64("12345", &v), 0);
	CHECK_INT(v, 12345);
	CHECK_INT(parse_i64("-42", &v), 0);
	CHECK_INT(v, -42);
	CHECK_INT(parse_i64("+7", &v), 0);
	CHECK_INT(v, 7);
	CHECK_INT(parse_i64("-0", &v), 0);
	CHECK_INT(v, 0);
	CHECK_INT(parse_i64("007", &v), 0);
	CHECK_INT(v, 7);
	CHECK_INT(parse_i64("9223372036854775807", &v), 0);
	CHECK(v == INT64_MAX);
	CHECK_INT(parse_i64("-9223372036854775808", &v), 0);
	CHECK(v == INT64_MIN);

	/* Failures leave *out alone. */
	v = 5;
	CHECK_INT(parse_i64("9223372036854775808", &v), -1);
	CHECK_INT(parse_i64("-9223372036854775809", &v), -1);
	CHECK_INT(parse_i64("99999999999999999999999", &v), -1);
	CHECK_INT(parse_i64("", &v), -1);
	CHECK_INT(parse_i64(NULL, &v), -1);
	CHECK_INT(parse_i64("-", &v), -1);
	CHECK_INT(parse_i64("+", &v), -1);
	CHECK_INT(parse_i64("--1", &v), -1);
	CHECK_INT(parse_i64("+-1", &v), -1);
	CHECK_INT(parse_i64("12a", &v), -1);
	CHECK_INT(parse_i64("a12", &v), -1);
	CHECK_INT(parse_i64("1.5", &v), -1);
	CHECK_INT(parse_i64("1e3", &v), -1);
	CHECK_INT(parse_i64("0x10", &v), -1);
	CHECK_INT(parse_i64("12 ", &v), -1);
	CHECK_INT(parse_i64(" 12", &v), -1);
	CHECK_INT(parse_i64("\t12", &v), -1);
	CHECK_INT(parse_i64("\n-3", &v), -1);
	CHECK_INT(parse_i64(" ", &v), -1);
	CHECK_INT(v, 5);
}

static void test_write_all(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0);

	/* Small: fits the pipe, read back. */
	CHECK_INT(write_all(fds[1], "hello", 5), 0);
	CHECK_INT(write_all(fds[1], "", 0), 0);
	char rb[16] = {0};
	CHECK_INT(read(fds[0], rb, sizeof rb), 5);
	CHECK_STR(rb, "hello");

	/* Large: more than a pipe holds, so writes are partial and block until
	 * a child reads everything and reports its checksum. */
	const size_t n = 1 << 20;
	unsigned char *data = xmalloc(n);
	unsigned long sum = 0;
	for (size_t i = 0; i < n; i++) {
		data[i] = (unsigned char)(i * 7 + 3);
		sum = sum * 31 + data[i];
	}
	int back[2];
	CHECK(pipe(back) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		close(back[0]);
		unsigned long s = 0;
		size_t got = 0;
		unsigned char chunk[1000];
		ssize_t r;
		while ((r = read(fds[0], chunk, sizeof chunk)) > 0) {
			for (ssize_t i = 0; i < r; i++)
				s = s * 31 + chunk[i];
			got += (size_t)r;
		}
		unsigned long msg[2] = {s, (unsigned long)got};
		_exit(write_all(back[1], msg, sizeof msg) ? 1 : 0);
	}
	CHECK(pid > 0);
	close(fds[0]);
	close(back[1]);
	CHECK_INT(write_all(fds[1], data, n), 0);
	close(fds[1]);
	unsigned long msg[2] = {0, 0};
	CHECK_INT(read(back[0], msg, sizeof msg), sizeof msg);
	close(back[0]);
	CHECK(msg[0] == sum);
	CHECK_INT(msg[1], n);
	int status = -1;
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(data);

	/* Errors: -1 with errno. */
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	errno = 0;
	CHECK_INT(write_all(fds[1], "x", 1), -1);
	CHECK_INT(errno, EPIPE);
	close(fds[1]);
	errno = 0;
	CHECK_INT(write_all(fds[1], "x", 1), -1);
	CHECK_INT(errno, EBADF);
	signal(SIGPIPE, SIG_DFL);
}

int main(void)
{
	test_buf();
	test_err();
	test_utf8();
	test_parse_i64();
	test_write_all();
	return t_done();
}
