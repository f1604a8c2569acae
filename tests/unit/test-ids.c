/* test-ids: prefixed, unique, time-sortable ids. */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "ids.h"

#define N 1000

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* The 48-bit ms of an id, decoded from its first 10 digits. */
static int64_t id_ms(const char *id)
{
	const char *body = strchr(id, '_') + 1;
	uint64_t v = 0;
	for (int i = 0; i < 10; i++)
		v = v << 5 | (uint64_t)(strchr(alphabet, body[i]) - alphabet);
	return (int64_t)v; /* 50 bits: the 2 unused top bits, then 48 of ms */
}

/* n ids with this prefix; 1 when they are strictly increasing and valid. */
static int sorted_run(const char *prefix, char (*ids)[ID_MAX], int n)
{
	int ok = 1;
	for (int i = 0; i < n; i++) {
		id_new(prefix, ids[i]);
		if (!id_valid(prefix, ids[i]))
			ok = 0;
		if (i && strcmp(ids[i - 1], ids[i]) >= 0)
			ok = 0;
	}
	return ok;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

int main(void)
{
	shop_err e = {0};
	static char ids[N][ID_MAX];

	/* The real clock. */
	unsetenv("SHOP_NOW");
	CHECK_INT(clock_init(&e), 0);
	int64_t before = clock_now_ms();
	CHECK(sorted_run("ord", ids, N));
	int64_t after = clock_now_ms();
	CHECK_INT(strlen(ids[0]), 4 + 26);
	CHECK(strncmp(ids[0], "ord_", 4) == 0);
	CHECK(id_ms(ids[0]) >= before && id_ms(ids[0]) <= after);
	CHECK(id_ms(ids[N - 1]) >= before && id_ms(ids[N - 1]) <= after);
	int badchars = 0;
	for (int i = 0; i < N; i++)
		for (const char *p = ids[i] + 4; *p; p++)
			if (!strchr(alphabet, *p) || (*p >= 'A' && *p <= 'Z'))
				badchars++;
	CHECK_INT(badchars, 0);
	/* Unique even after sorting (strict order implies it; check anyway). */
	qsort(ids, N, ID_MAX, cmp);
	int dups = 0;
	for (int i = 1; i < N; i++)
		if (!strcmp(ids[i - 1], ids[i]))
			dups++;
	CHECK_INT(dups, 0);

	/* A fixed $SHOP_NOW (later than the real clock, which the ids made
	 * so far must not outrank): every id has the same ms, yet they still
	 * sort in creation order. */
	setenv("SHOP_NOW", "2040-01-01T00:00:00Z", 1);
	CHECK_INT(clock_init(&e), 0);
	CHECK(sorted_run("pay", ids, N));
	CHECK(id_ms(ids[0]) == INT64_C(2208988800000));
	CHECK(id_ms(ids[N - 1]) == INT64_C(2208988800000));
	CHECK(strncmp(ids[0], ids[N - 1], 10) == 0); /* same time digits */

	/* A clock that goes back keeps ids increasing within the process. */
	char a[ID_MAX], b[ID_MAX];
	id_new("evt", a);
	setenv("SHOP_NOW", "2020-01-01T00:00:00Z", 1);
	CHECK_INT(clock_init(&e), 0);
	id_new("evt", b);
	CHECK(strcmp(a, b) < 0);
	CHECK(id_ms(b) == INT64_C(2208988800000));
	/* And forward again: the new time shows. */
	setenv("SHOP_NOW", "2041-01-01T00:00:00Z", 1);
	CHECK_INT(clock_init(&e), 0);
	id_new("evt", a);
	CHECK(strcmp(b, a) < 0);
	CHECK(id_ms(a) == INT64_C(2240611200000));

	/* Ids sort by time across prefixes' bodies: later ms, larger body. */
	setenv("SHOP_NOW", "2042-01-01T00:00:00Z", 1);
	CHECK_INT(clock_init(&e), 0);
	id_new("ord", b);
	CHECK(strcmp(a + 4, b + 4) < 0);

	/* A forked child must not repeat the parent's next id. */
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char c[ID_MAX];
		id_new("ord", c);
		(void)!write(fds[1], c, ID_MAX);
		_exit(0);
	}
	char parent[ID_MAX], child[ID_MAX] = "";
	id_new("ord", parent);
	close(fds[1]);
	CHECK(read(fds[0], child, ID_MAX) == ID_MAX);
	close(fds[0]);
	waitpid(pid, NULL, 0);
	CHECK(id_valid("ord", child));
	CHECK(strcmp(parent, child) != 0);
	CHECK(strcmp(parent + 14, child + 14) != 0); /* random part redrawn */

	/* Prefixes up to 8 characters. */
	id_new("abcdefgh", a);
	CHECK_INT(strlen(a), 8 + 1 + 26);
	CHECK(id_valid("abcdefgh", a));
	id_new("x", a);
	CHECK(id_valid("x", a));

	/* id_valid. */
	id_new("ord", a);
	CHECK(id_valid("ord", a));
	CHECK(!id_valid("pay", a));
	CHECK(!id_valid("or", a));
	CHECK(!id_valid("ordx", a));
	CHECK(!id_valid("", a));
	CHECK(!id_valid(NULL, a));
	CHECK(!id_valid("ord", NULL));
	CHECK(!id_valid("ord", ""));
	CHECK(!id_valid("ord", "ord_"));
	CHECK(!id_valid("ord", "ord"));
	CHECK(id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fav"));
	CHECK(id_valid("ord", "ord_7zzzzzzzzzzzzzzzzzzzzzzzzz"));
	CHECK(id_valid("ord", "ord_00000000000000000000000000"));
	CHECK(!id_valid("ord", "ord_8zzzzzzzzzzzzzzzzzzzzzzzzz")); /* over 128 bits */
	CHECK(!id_valid("ord", "ord_01ARZ3NDEKTSV4RRFFQ69G5FAV")); /* upper case */
	CHECK(!id_valid("ord", "ORD_01arz3ndektsv4rrffq69g5fav"));
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fa"));   /* 25 */
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fav0")); /* 27 */
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fai")); /* i is not Crockford */
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fal"));
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fao"));
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fau"));
	CHECK(!id_valid("ord", "ord-01arz3ndektsv4rrffq69g5fav"));
	CHECK(!id_valid("ord", "ord__1arz3ndektsv4rrffq69g5fav"));
	CHECK(!id_valid("ord", " ord_01arz3ndektsv4rrffq69g5fav"));
	CHECK(!id_valid("ord", "ord_01arz3ndektsv4rrffq69g5fa\n"));
	CHECK(!id_valid("abcdefghi", "abcdefghi_01arz3ndektsv4rrffq69g5fav"));
	CHECK(!id_valid("Ord", "Ord_01arz3ndektsv4rrffq69g5fav"));

	/* A bad prefix is a bug: the program stops with SHOP_SOFTWARE. */
	static const char *badprefix[] = {"", "abcdefghi", "ORD", "or_d"};
	for (size_t i = 0; i < sizeof badprefix / sizeof badprefix[0]; i++) {
		fflush(NULL);
		pid = fork();
		if (pid == 0) {
			/* Silence the expected diagnostic. */
			(void)!freopen("/dev/null", "w", stderr);
			id_new(badprefix[i], a);
			_exit(0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == SHOP_SOFTWARE);
	}
	return t_done();
}
