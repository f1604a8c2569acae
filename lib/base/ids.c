/* ids: see ids.h. The 128-bit value is 48 bits of ms then 80 random bits,
 * written as 26 base32 digits, most significant first, so string order is
 * numeric order is creation order. */
#include "ids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "clock.h"
#include "exitcodes.h"

#define ID_BODY 26
#define ID_PREFIX_MAX 8
#define MS_MAX ((INT64_C(1) << 48) - 1)

static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* The last id made by this process: its ms and its random part (80 bits as
 * 16 high + 64 low). pid tells a forked child that it must draw its own
 * random part instead of incrementing the parent's, which would collide. */
static int64_t last_ms = -1;
static uint16_t last_hi;
static uint64_t last_lo;
static pid_t last_pid;

static _Noreturn void fatal(const char *msg)
{
	fprintf(stderr, "shop: ids: %s\n", msg);
	exit(SHOP_SOFTWARE);
}

static void fill_random(void *p, size_t n)
{
	unsigned char *c = p;
	while (n) {
		ssize_t r = getrandom(c, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		c += r;
		n -= (size_t)r;
	}
	if (!n)
		return;
	/* Kernels before 3.17 lack getrandom; /dev/urandom is as good. */
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fatal("no source of randomness (getrandom, /dev/urandom)");
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			fatal("reading /dev/urandom failed");
		c += r;
		n -= (size_t)r;
	}
	close(fd);
}

static int prefix_ok(const char *prefix, size_t *len)
{
	size_t n = 0;
	for (; prefix[n]; n++)
		if (n >= ID_PREFIX_MAX || prefix[n] < 'a' || prefix[n] > 'z')
			return 0;
	*len = n;
	return n > 0;
}

void id_new(const char *prefix, char out[ID_MAX])
{
	size_t plen = 0;
	/* Prefixes are constants in the code, so a bad one is a bug. */
	if (!prefix || !prefix_ok(prefix, &plen))
		fatal("id prefix must be 1 to 8 lower-case letters");

	int64_t ms = clock_now_ms();
	if (ms < 0)
		ms = 0;
	if (ms > MS_MAX)
		ms = MS_MAX;
	pid_t pid = getpid();
	if (pid != last_pid || ms > last_ms) {
		unsigned char r[10];
		fill_random(r, sizeof r);
		last_hi = (uint16_t)(r[0] << 8 | r[1]);
		last_lo = 0;
		for (int i = 2; i < 10; i++)
			last_lo = last_lo << 8 | r[i];
		last_ms = ms;
		last_pid = pid;
	} else {
		/* Same ms, a fixed $SHOP_NOW or a clock stepped back: an id
		 * must still sort after the last one, so keep its ms and count
		 * up, carrying into ms should the random part wrap. */
		ms = last_ms;
		if (++last_lo == 0 && ++last_hi == 0 && last_ms < MS_MAX)
			last_ms = ++ms;
	}

	unsigned __int128 v = (unsigned __int128)ms << 80 |
			      (unsigned __int128)last_hi << 64 | last_lo;
	memcpy(out, prefix, plen);
	out[plen] = '_';
	char *body = out + plen + 1;
	for (int i = ID_BODY - 1; i >= 0; i--) {
		body[i] = alphabet[(unsigned)(v & 31)];
		v >>= 5;
	}
	body[ID_BODY] = 0;
}

int id_valid(const char *prefix, const char *s)
{
	size_t plen = 0;
	if (!prefix || !s || !prefix_ok(prefix, &plen))
		return 0;
	if (strncmp(s, prefix, plen) || s[plen] != '_')
		return 0;
	const char *body = s + plen + 1;
	if (strlen(body) != ID_BODY)
		return 0;
	/* 26 digits hold 130 bits; the top two are zero, so the first digit
	 * is 0..7. */
	if (body[0] < '0' || body[0] > '7')
		return 0;
	for (int i = 0; i < ID_BODY; i++)
		if (!body[i] || !strchr(alphabet, body[i]))
			return 0;
	return 1;
}
