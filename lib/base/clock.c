/* clock: see clock.h. Calendar arithmetic is done here on integers, never
 * through timegm/mktime, so neither TZ nor the C library's range limits can
 * change what a timestamp means. */
#include "clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int clock_ready;   /* clock_init has succeeded */
static int clock_fixed;   /* $SHOP_NOW was set */
static int64_t clock_fixed_ms;

int clock_init(shop_err *e)
{
	clock_ready = 0;
	clock_fixed = 0;
	const char *v = getenv("SHOP_NOW");
	if (v && *v) {
		int64_t ms;
		if (clock_parse_rfc3339(v, &ms) < 0)
			return err_set(e, SHOP_CONFIG,
				       "SHOP_NOW: \"%.64s\" is not an RFC 3339 time "
				       "(e.g. 2026-01-31T12:00:00Z)", v);
		clock_fixed = 1;
		clock_fixed_ms = ms;
	}
	clock_ready = 1;
	return 0;
}

/* A program that forgot clock_init still honours $SHOP_NOW; a bad value
 * then cannot be reported to a caller, and running on the real clock
 * instead would silently break a replay, so it is fatal. */
int64_t clock_now_ms(void)
{
	if (!clock_ready) {
		shop_err e = {0};
		if (clock_init(&e)) {
			fprintf(stderr, "shop: %s\n", e.msg);
			exit(e.code);
		}
	}
	if (clock_fixed)
		return clock_fixed_ms;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). The year
 * is shifted to start in March so the leap day falls at the end of it, then
 * counted in 400-year eras of 146097 days. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                             /* 0..399 */
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1; /* 0..365 */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;     /* 0..146096 */
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Exactly n ASCII digits at *p, advancing it; -1 otherwise. */
static int digits(const char **p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		char ch = (*p)[i];
		if (ch < '0' || ch > '9')
			return -1;
		v = v * 10 + (ch - '0');
	}
	*p += n;
	return v;
}

int clock_parse_rfc3339(const char *s, int64_t *ms)
{
	if (!s)
		return -1;
	const char *p = s;
	int y, mo, d, h, mi, sec, frac = 0;
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' ||
	    (mo = digits(&p, 2)) < 0 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 0)
		return -1;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return -1;
	p++;
	if ((h = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (mi = digits(&p, 2)) < 0 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0)
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		/* Beyond milliseconds the digits are checked and dropped: the
		 * store keeps ms, and truncation keeps "before" meaning before. */
		int n = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (n < 3) {
				frac = frac * 10 + (*p - '0');
				n++;
			}
		for (; n < 3; n++) /* "5" is 500 ms, "05" is 50 */
			frac *= 10;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int oh, om;
		if ((oh = digits(&p, 2)) < 0 || *p++ != ':' || (om = digits(&p, 2)) < 0)
			return -1;
		if (oh > 23 || om > 59)
			return -1;
		off = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*p)
		return -1;
	/* Leap seconds (:60) are refused: Unix time has no slot for them. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -1;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	t -= (int64_t)off * 60;
	*ms = t * 1000 + frac;
	return 0;
}

void clock_format(int64_t ms, char out[32])
{
	/* Floor, not truncation, so times before 1970 format as the second
	 * they fall in. */
	int64_t secs = ms / 1000 - (ms % 1000 < 0);
	int64_t days = secs / 86400 - (secs % 86400 < 0);
	int64_t rem = secs - days * 86400;
	int64_t y;
	int m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 32, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y, m, d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

int clock_parse_duration(const char *s, int64_t *ms)
{
	/* Units in the order they must appear, largest first; "ms" is tried
	 * before "m" so that "500ms" is not 500 minutes followed by junk. */
	static const struct {
		const char *name;
		int64_t ms;
	} units[] = {
		{"w", 7 * 86400000LL}, {"d", 86400000LL}, {"h", 3600000LL},
		{"ms", 1}, {"m", 60000}, {"s", 1000},
	};
	static const int rank[] = {0, 1, 2, 5, 3, 4}; /* size order of units[] */
	if (!s || !*s)
		return -1;
	int64_t total = 0;
	int last = -1;
	const char *p = s;
	while (*p) {
		if (*p < '0' || *p > '9')
			return -1;
		int64_t n = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (__builtin_mul_overflow(n, 10, &n) ||
			    __builtin_add_overflow(n, *p - '0', &n))
				return -1;
		size_t u = 0, nu = sizeof units / sizeof units[0];
		for (; u < nu; u++) {
			size_t len = strlen(units[u].name);
			if (!strncmp(p, units[u].name, len))
				break;
		}
		if (u == nu)
			return -1;
		/* Each unit once, largest first: "1m1m" or "30m1h" is a typo. */
		if (rank[u] <= last)
			return -1;
		last = rank[u];
		p += strlen(units[u].name);
		int64_t part;
		if (__builtin_mul_overflow(n, units[u].ms, &part) ||
		    __builtin_add_overflow(total, part, &total))
			return -1;
	}
	*ms = total;
	return 0;
}

void clock_now_text(char out[32])
{
	clock_format(clock_now_ms(), out);
}
