/* http_fake.h: for the targets of the drivers that talk HTTP
 * (carrier.c, stripe.c). Include before the driver's .c file: its calls of
 * http_request get the fuzz input instead of a server's answer. The input
 * is split at NUL bytes into answers, one per request, in order (a JSON
 * body holds no raw NUL); the first byte of each picks the HTTP status and
 * the rest is the body. When they run out, the request fails as if the
 * server could not be reached. */
#ifndef SHOP_HTTP_FAKE_H
#define SHOP_HTTP_FAKE_H
#include "fuzz.h"
#include "http.h"

static const uint8_t *fake_p;
static size_t fake_n;

static void fake_answers(const uint8_t *d, size_t n)
{
	fake_p = d;
	fake_n = n;
}

static int fake_http_request(http_client *h, const char *method, const char *url, const char *const *headers,
                             const char *body, size_t body_len, http_resp *resp, shop_err *e)
{
	static const long statuses[] = {200, 201, 200, 400, 401, 402, 403, 404, 409, 422, 429, 500, 502, 503, 302, 0};
	(void)h, (void)method, (void)url, (void)headers, (void)body, (void)body_len;
	memset(resp, 0, sizeof *resp);
	if (!fake_n) {
		resp->maybe_delivered = 0;
		return err_set(e, SHOP_UNAVAILABLE, "fuzz: no more answers");
	}
	const uint8_t *z = memchr(fake_p, 0, fake_n);
	size_t len = z ? (size_t)(z - fake_p) : fake_n;
	resp->status = statuses[fake_p[0] % (sizeof statuses / sizeof *statuses)];
	resp->attempts = 1;
	buf_add(&resp->body, (const char *)fake_p + 1, len ? len - 1 : 0);
	fake_p += len + (z != NULL);
	fake_n -= len + (z != NULL);
	if (!len)
		return err_set(e, SHOP_UNAVAILABLE, "fuzz: an empty answer");
	return 0;
}

#define http_request fake_http_request
#endif
