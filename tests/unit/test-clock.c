/* test-clock: $SHOP_NOW, RFC 3339 parsing and formatting, durations. */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

#define BAD INT64_C(0x5a5a5a5a5a5a5a5a)

static int64_t parse(const char *s)
{
	int64_t ms = BAD;
	if (clock_parse_rfc3339(s, &ms)) {
		CHECK(ms == BAD); /* untouched on error */
		return BAD;
	}
	return ms;
}

static const char *fmt(int64_t ms)
{
	static char out[32];
	clock_format(ms, out);
	return out;
}

static int64_t dur(const char *s)
{
	int64_t ms = BAD;
	if (clock_parse_duration(s, &ms)) {
		CHECK(ms == BAD);
		return BAD;
	}
	return ms;
}

static void test_parse(void)
{
	CHECK(parse("1970-01-01T00:00:00Z") == 0);
	CHECK(parse("1970-01-01T00:00:01Z") == 1000);
	CHECK(parse("2026-01-31T12:00:00Z") == INT64_C(1769860800000));
	CHECK(parse("2000-03-01T00:00:00Z") == INT64_C(951868800000));
	CHECK(parse("1969-12-31T23:59:59Z") == -1000);
	CHECK(parse("0000-01-01T00:00:00Z") == INT64_C(-62167219200000));
	CHECK(parse("9999-12-31T23:59:59Z") == INT64_C(253402300799000));
	CHECK(parse("2038-01-19T03:14:08Z") == INT64_C(2147483648000)); /* past int32 */
	/* Lower-case and space separators, lower-case z. */
	CHECK(parse("2026-01-31t12:00:00z") == INT64_C(1769860800000));
	CHECK(parse("2026-01-31 12:00:00Z") == INT64_C(1769860800000));

	/* Fractions: scaled to ms, truncated (not rounded) beyond. */
	CHECK(parse("1970-01-01T00:00:00.5Z") == 500);
	CHECK(parse("1970-01-01T00:00:00.05Z") == 50);
	CHECK(parse("1970-01-01T00:00:00.123Z") == 123);
	CHECK(parse("1970-01-01T00:00:00.1239Z") == 123);
	CHECK(parse("1970-01-01T00:00:00.999999999Z") == 999);
	CHECK(parse("1970-01-01T00:00:00.000Z") == 0);
	CHECK(parse("1970-01-01T00:00:00.00000000000000000000000000000001Z") == 0);
	CHECK(parse("1969-12-31T23:59:59.250Z") == -750);

	/* Offsets are converted to UTC. */
	CHECK(parse("2026-01-31T17:30:00+05:30") == parse("2026-01-31T12:00:00Z"));
	CHECK(parse("2026-01-31T06:00:00-06:00") == parse("2026-01-31T12:00:00Z"));
	CHECK(parse("2026-01-01T02:00:00+05:00") == parse("2025-12-31T21:00:00Z"));
	CHECK(parse("2025-12-31T23:00:00-02:00") == parse("2026-01-01T01:00:00Z"));
	CHECK(parse("2026-01-31T12:00:00+00:00") == parse("2026-01-31T12:00:00Z"));
	CHECK(parse("2026-01-31T12:00:00-00:00") == parse("2026-01-31T12:00:00Z"));
	CHECK(parse("2026-01-31T12:00:00.250+01:00") == parse("2026-01-31T11:00:00.25Z"));
	CHECK(parse("2026-01-31T12:00:00+23:59") != BAD);

	/* Calendar: days per month and leap years. */
	CHECK(parse("2024-02-29T00:00:00Z") != BAD);  /* divisible by 4 */
	CHECK(parse("2000-02-29T00:00:00Z") != BAD);  /* divisible by 400 */
	CHECK(parse("2026-02-29T00:00:00Z") == BAD);
	CHECK(parse("1900-02-29T00:00:00Z") == BAD);  /* divisible by 100 */
	CHECK(parse("2100-02-29T00:00:00Z") == BAD);
	CHECK(parse("2026-02-28T00:00:00Z") != BAD);
	CHECK(parse("2024-02-30T00:00:00Z") == BAD);
	CHECK(parse("2026-04-31T00:00:00Z") == BAD);
	CHECK(parse("2026-06-31T00:00:00Z") == BAD);
	CHECK(parse("2026-09-31T00:00:00Z") == BAD);
	CHECK(parse("2026-11-31T00:00:00Z") == BAD);
	CHECK(parse("2026-01-31T00:00:00Z") != BAD);
	CHECK(parse("2026-12-31T00:00:00Z") != BAD);
	CHECK(parse("2026-01-32T00:00:00Z") == BAD);
	CHECK(parse("2026-00-01T00:00:00Z") == BAD);
	CHECK(parse("2026-13-01T00:00:00Z") == BAD);
	CHECK(parse("2026-01-00T00:00:00Z") == BAD);
	/* 2024-02-29 is the day before 2024-03-01. */
	CHECK(parse("2024-03-01T00:00:00Z") - parse("2024-02-29T00:00:00Z") == 86400000);
	CHECK(parse("2024-12-31T00:00:00Z") - parse("2024-01-01T00:00:00Z") == 365 * INT64_C(86400000));
	CHECK(parse("2026-12-31T00:00:00Z") - parse("2026-01-01T00:00:00Z") == 364 * INT64_C(86400000));

	/* Time of day ranges; no leap seconds. */
	CHECK(parse("2026-01-31T23:59:59Z") != BAD);
	CHECK(parse("2026-01-31T24:00:00Z") == BAD);
	CHECK(parse("2026-01-31T12:60:00Z") == BAD);
	CHECK(parse("2026-01-31T12:00:60Z") == BAD);
	CHECK(parse("2026-01-31T12:00:00+24:00") == BAD);
	CHECK(parse("2026-01-31T12:00:00+05:60") == BAD);

	/* Malformed. */
	static const char *bad[] = {
		"", "2026", "2026-01-31", "2026-01-31T12:00", "2026-01-31T12:00:00",
		"2026-01-31T12:00:00z ", " 2026-01-31T12:00:00Z", "2026-1-31T12:00:00Z",
		"2026-01-31T1:00:00Z", "26-01-31T12:00:00Z", "+2026-01-31T12:00:00Z",
		"2026/01/31T12:00:00Z", "2026-01-31X12:00:00Z", "2026-01-31T12.00.00Z",
		"2026-01-31T12:00:00.Z", "2026-01-31T12:00:00,5Z", "2026-01-31T12:00:00+0530",
		"2026-01-31T12:00:00+05", "2026-01-31T12:00:00+5:30", "2026-01-31T12:00:00UTC",
		"2026-01-31T12:00:00ZZ", "2026-01-31T12:00:00Z\n", "2026-01-31TT12:00:00Z",
		"20260131T120000Z", "2026-01-31T12:00:00.5.5Z", "now", "-001-01-01T00:00:00Z",
		"2026-01-31T12:00:00+05:30:00", "2026-0a-31T12:00:00Z",
	};
	int accepted = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (parse(bad[i]) != BAD) {
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
			accepted++;
		}
	CHECK_INT(accepted, 0);
	CHECK(parse(NULL) == BAD);
}

static void test_format(void)
{
	CHECK_STR(fmt(0), "1970-01-01T00:00:00Z");
	CHECK_STR(fmt(999), "1970-01-01T00:00:00Z");   /* floor */
	CHECK_STR(fmt(1000), "1970-01-01T00:00:01Z");
	CHECK_STR(fmt(-1), "1969-12-31T23:59:59Z");    /* floor, not truncation */
	CHECK_STR(fmt(-1000), "1969-12-31T23:59:59Z");
	CHECK_STR(fmt(-1001), "1969-12-31T23:59:58Z");
	CHECK_STR(fmt(-86400000), "1969-12-31T00:00:00Z");
	CHECK_STR(fmt(INT64_C(1769860800000)), "2026-01-31T12:00:00Z");
	CHECK_STR(fmt(INT64_C(1709164800000)), "2024-02-29T00:00:00Z");
	CHECK_STR(fmt(INT64_C(951782400000)), "2000-02-29T00:00:00Z");
	CHECK_STR(fmt(INT64_C(253402300799999)), "9999-12-31T23:59:59Z");
	CHECK_STR(fmt(INT64_C(-62167219200000)), "0000-01-01T00:00:00Z");
	CHECK_STR(fmt(INT64_C(4102444800000)), "2100-01-01T00:00:00Z");
	/* The extremes must not crash or overflow (year far outside 0..9999). */
	char out[32];
	clock_format(INT64_MAX, out);
	CHECK(strlen(out) > 20 && out[strlen(out) - 1] == 'Z');
	clock_format(INT64_MIN, out);
	CHECK(strlen(out) > 20 && out[0] == '-');

	/* Round trip over every seventh day of 0000..9999 (so every weekday
	 * and, over the years, every day of the year) at a varying time of day,
	 * and against the C library's gmtime for the years it handles. */
	int bad = 0, libc_bad = 0;
	for (int64_t day = -719528; day <= 2932896; day += 7) {
		int64_t ms = day * 86400000 + ((day * 7919 % 86400 + 86400) % 86400) * 1000 + day % 1000;
		int64_t floor_ms = ms - (ms % 1000 + 1000) % 1000;
		char s[32];
		clock_format(ms, s);
		if (parse(s) != floor_ms)
			bad++;
		if (day % 97 == 0) {
			time_t t = (time_t)(floor_ms / 1000);
			struct tm tm;
			char ref[32];
			if (gmtime_r(&t, &tm) &&
			    strftime(ref, sizeof ref, "%Y-%m-%dT%H:%M:%SZ", &tm) &&
			    tm.tm_year + 1900 >= 1000 && strcmp(ref, s))
				libc_bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(libc_bad, 0);
}

static void test_duration(void)
{
	CHECK(dur("30s") == 30000);
	CHECK(dur("15m") == 900000);
	CHECK(dur("2h") == 7200000);
	CHECK(dur("7d") == 604800000);
	CHECK(dur("1w") == 604800000);
	CHECK(dur("500ms") == 500);
	CHECK(dur("1h30m") == 5400000);
	CHECK(dur("1w2d3h4m5s6ms") == 604800000 + 2 * 86400000 + 3 * 3600000 + 4 * 60000 + 5000 + 6);
	CHECK(dur("1m500ms") == 60500);
	CHECK(dur("0s") == 0);
	CHECK(dur("007s") == 7000);
	CHECK(dur("90m") == 5400000); /* a unit need not be "full" */

	/* Junk, zero length, wrong order, repeats, case, signs, spaces. */
	static const char *bad[] = {
		"", "s", "30", "30x", "1.5h", "-1s", "+1s", " 1s", "1s ", "1 s", "1S", "1H",
		"1h1h", "30m1h", "1s1m", "1ms1s", "1mss", "1msm", "1hh", "h1", "1y", "1mo",
		"1min", "1sec", "1h 30m", "1h,30m", "0x10s", "1us", "1ns", "m", "ms",
	};
	int accepted = 0;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (dur(bad[i]) != BAD) {
			fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
			accepted++;
		}
	CHECK_INT(accepted, 0);
	CHECK(dur(NULL) == BAD);

	/* Overflow: of the digits, of the multiplication, of the sum. */
	CHECK(dur("9223372036854775807ms") == INT64_MAX);
	CHECK(dur("9223372036854775808ms") == BAD);
	CHECK(dur("99999999999999999999999ms") == BAD);
	CHECK(dur("9223372036854775s") == INT64_C(9223372036854775000));
	CHECK(dur("9223372036854776s") == BAD);
	CHECK(dur("15250284453w") == BAD);
	CHECK(dur("15250284452w") == INT64_C(15250284452) * 604800000);
	CHECK(dur("9223372036854775s807ms") == INT64_MAX);
	CHECK(dur("9223372036854775s808ms") == BAD);
}

static void test_now(void)
{
	shop_err e = {0};

	/* Set: fixed, and it does not advance. */
	setenv("SHOP_NOW", "2026-01-31T12:00:00Z", 1);
	CHECK_INT(clock_init(&e), 0);
	CHECK_INT(e.code, 0);
	CHECK(clock_now_ms() == INT64_C(1769860800000));
	CHECK(clock_now_ms() == INT64_C(1769860800000));
	/* Read once: changing the environment afterwards changes nothing. */
	setenv("SHOP_NOW", "2030-01-01T00:00:00Z", 1);
	CHECK(clock_now_ms() == INT64_C(1769860800000));

	setenv("SHOP_NOW", "2026-01-31T17:30:00.5+05:30", 1);
	CHECK_INT(clock_init(&e), 0);
	CHECK(clock_now_ms() == INT64_C(1769860800500));

	/* Bad: a configuration error naming the variable. */
	setenv("SHOP_NOW", "yesterday", 1);
	CHECK_INT(clock_init(&e), SHOP_CONFIG);
	CHECK_INT(e.code, SHOP_CONFIG);
	CHECK(strncmp(e.msg, "SHOP_NOW: ", 10) == 0);
	CHECK(strstr(e.msg, "yesterday") != NULL);
	err_clear(&e);
	setenv("SHOP_NOW", "2026-02-29T00:00:00Z", 1);
	CHECK_INT(clock_init(&e), SHOP_CONFIG);
	err_clear(&e);

	/* Empty and unset: the real clock. */
	struct timespec ts;
	setenv("SHOP_NOW", "", 1);
	CHECK_INT(clock_init(&e), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t real = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	int64_t now = clock_now_ms();
	CHECK(now >= real && now - real < 5000);
	unsetenv("SHOP_NOW");
	CHECK_INT(clock_init(&e), 0);
	now = clock_now_ms();
	CHECK(now >= real && now - real < 5000);
	CHECK(now > INT64_C(1735689600000)); /* after 2025 */
}

/* A program that never called clock_init: $SHOP_NOW still holds, and a bad
 * one stops the program with SHOP_CONFIG rather than run on the wrong time.
 * Runs first, in children, while this process has not initialised. */
static void test_lazy(void)
{
	static const struct {
		const char *now;
		int status;
	} cases[] = {
		{"2026-01-31T12:00:00Z", 0},
		{"garbage", SHOP_CONFIG},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			(void)!freopen("/dev/null", "w", stderr);
			setenv("SHOP_NOW", cases[i].now, 1);
			_exit(clock_now_ms() == INT64_C(1769860800000) ? 0 : 1);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st));
		CHECK_INT(WEXITSTATUS(st), cases[i].status);
	}
}

int main(void)
{
	test_lazy();
	test_parse();
	test_format();
	test_duration();
	test_now();
	return t_done();
}
