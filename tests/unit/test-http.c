/* test-http BASE_URL: lib/base/http against tests/helpers/fake_http.py.
 * Timeouts and backoffs are shrunk through http_opts so the whole run
 * takes a few seconds.
 *
 * test-http smtp [-n ATTEMPTS] [-u USER] [-p PASSWORD] [-c COUNT] [-g URL]
 *                URL FROM MSGFILE RCPT...
 * sends MSGFILE with http_smtp_send (tests/helpers/fake_smtp.py is the
 * server), COUNT times (default 1) with one client, each followed by a GET
 * of the -g URL on the same handle: prints "attempts N" per send and
 * "get STATUS BODY" per GET, and exits with the first failure (the message
 * on stderr). */
#include "http.h"
#include "t.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *base;

static char *url(const char *path)
{
	return xasprintf("%s%s", base, path);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static http_opts fast(void)
{
	http_opts o = {0};
	o.connect_timeout_ms = 1000;
	o.timeout_ms = 2000;
	o.backoff_ms = 10;
	o.backoff_cap_ms = 100;
	return o;
}

/* POST a control request (never subject to faults). */
static void ctl(http_client *h, const char *path, const char *json)
{
	char *u = url(path);
	http_resp r;
	shop_err e = {0};
	const char *hdrs[] = {"Content-Type: application/json", NULL};
	int rc = http_request(h, "POST", u, hdrs, json, strlen(json), &r, &e);
	if (rc || r.status != 200)
		fprintf(stderr, "control %s %s failed: %d %ld %s\n", path, json, rc, r.status, e.msg);
	http_resp_free(&r);
	free(u);
}

static void fault(http_client *h, const char *json)
{
	ctl(h, "/_fault", json);
}

static void reset(http_client *h)
{
	ctl(h, "/_reset", "{}");
}

/* How many ordinary requests the server saw for path, -1 when unknown. */
static long count(http_client *h, const char *path)
{
	buf b = {0};
	shop_err e = {0};
	char *u = url("/_count");
	long n = -1;
	if (http_get(h, u, &b, &e) == 0) {
		char *key = xasprintf("\"%s\":", path);
		const char *p = strstr(buf_str(&b), key);
		n = p ? strtol(p + strlen(key), NULL, 10) : 0;
		free(key);
	}
	free(u);
	buf_free(&b);
	return n;
}

static int occurrences(const char *s, const char *needle)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* A port that refuses connections: bound, never listening, so no other
 * process can take it while we use it. */
static int refusing_port(int *fd)
{
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof a;
	if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof a) ||
	    getsockname(*fd, (struct sockaddr *)&a, &len))
		return -1;
	return ntohs(a.sin_port);
}

static int get(http_client *h, const char *path, http_resp *r, shop_err *e)
{
	char *u = url(path);
	int rc = http_request(h, "GET", u, NULL, NULL, 0, r, e);
	free(u);
	return rc;
}

static void test_basic(http_client *h)
{
	http_resp r;
	shop_err e = {0};
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_STR(buf_str(&r.body), "hello");
	CHECK(r.content_type && !strncmp(r.content_type, "text/plain", 10));
	CHECK_INT(r.attempts, 1);
	CHECK_INT(r.maybe_delivered, 0);
	http_resp_free(&r);

	/* An error status is an answer, body and all. */
	CHECK_INT(get(h, "/status/404", &r, &e), 0);
	CHECK_INT(r.status, 404);
	CHECK(strstr(buf_str(&r.body), "\"error\"") != NULL);
	CHECK_STR(r.content_type, "application/json");
	CHECK_INT(r.attempts, 1);
	http_resp_free(&r);

	char *u = url("/ok");
	CHECK_INT(http_request(h, "HEAD", u, NULL, NULL, 0, &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.body.len, 0);
	http_resp_free(&r);
	free(u);
	CHECK_INT(e.code, 0);
}

static void test_retry_status(http_client *h)
{
	http_resp r;
	shop_err e = {0};
	reset(h);
	fault(h, "{\"status\":500,\"count\":2}");
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 3);
	CHECK_STR(buf_str(&r.body), "hello");
	CHECK_INT(count(h, "/ok"), 3);
	http_resp_free(&r);

	/* Out of attempts: the last error answer is the response. */
	http_opts o = fast();
	o.max_attempts = 3;
	http_client *h3 = http_new(&o);
	reset(h);
	fault(h, "{\"status\":503,\"count\":10}");
	CHECK_INT(get(h3, "/ok", &r, &e), 0);
	CHECK_INT(r.status, 503);
	CHECK_INT(r.attempts, 3);
	CHECK(strstr(buf_str(&r.body), "injected fault 503") != NULL);
	CHECK_INT(count(h, "/ok"), 3);
	http_resp_free(&r);

	/* Not retried: 4xx other than 408 and 429. */
	reset(h);
	CHECK_INT(get(h3, "/status/400", &r, &e), 0);
	CHECK_INT(r.attempts, 1);
	http_resp_free(&r);
	http_free(h3);
	reset(h);
	CHECK_INT(e.code, 0);
}

static void test_retry_after(void)
{
	http_resp r;
	shop_err e = {0};
	http_opts o = fast();
	o.backoff_cap_ms = 5000;
	http_client *h = http_new(&o);
	fault(h, "{\"status\":429,\"retry_after\":1,\"count\":1}");
	long long t0 = now_ms();
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	long long dt = now_ms() - t0;
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	CHECK(dt >= 950);
	CHECK(dt < 4000);
	http_resp_free(&r);
	http_free(h);

	/* A huge Retry-After is capped by backoff_cap_ms. */
	o = fast();
	o.backoff_cap_ms = 200;
	h = http_new(&o);
	fault(h, "{\"status\":429,\"retry_after\":3600,\"count\":1}");
	t0 = now_ms();
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	dt = now_ms() - t0;
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	CHECK(dt >= 190);
	CHECK(dt < 2000);
	http_resp_free(&r);
	http_free(h);
	CHECK_INT(e.code, 0);
}

static void test_timeout(http_client *ctlh)
{
	http_resp r;
	shop_err e = {0};
	http_opts o = fast();
	o.timeout_ms = 300;
	o.max_attempts = 1;
	http_client *h = http_new(&o);
	reset(ctlh);
	fault(ctlh, "{\"delay_ms\":1500,\"count\":1}");
	const char *hdrs[] = {"Idempotency-Key: k-secret-123", NULL};
	char *u = url("/ok?token=q-secret-456");
	long long t0 = now_ms();
	CHECK_INT(http_request(h, "GET", u, hdrs, NULL, 0, &r, &e), SHOP_UNAVAILABLE);
	CHECK(now_ms() - t0 < 1200);
	CHECK_INT(r.status, 0);
	CHECK_INT(r.attempts, 1);
	CHECK_INT(r.maybe_delivered, 1);
	CHECK(strstr(e.msg, "after 1 attempt") != NULL);
	CHECK(strstr(e.msg, "GET http://127.0.0.1:") == e.msg);
	/* Neither header values nor the query string reach messages. */
	CHECK(strstr(e.msg, "k-secret") == NULL);
	CHECK(strstr(e.msg, "q-secret") == NULL);
	http_resp_free(&r);
	free(u);
	http_free(h);

	/* A timeout, then an answer: success, nothing unknown. */
	o.max_attempts = 2;
	h = http_new(&o);
	reset(ctlh);
	fault(ctlh, "{\"delay_ms\":1500,\"count\":1}");
	err_clear(&e);
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	CHECK_INT(r.maybe_delivered, 0);
	http_resp_free(&r);
	http_free(h);
	reset(ctlh);
}

static void test_refused(void)
{
	http_resp r;
	shop_err e = {0};
	int fd;
	int port = refusing_port(&fd);
	CHECK(port > 0);
	http_opts o = fast();
	o.max_attempts = 3;
	http_client *h = http_new(&o);
	char *u = xasprintf("http://127.0.0.1:%d/ok", port);
	CHECK_INT(http_request(h, "GET", u, NULL, NULL, 0, &r, &e), SHOP_UNAVAILABLE);
	CHECK_INT(r.attempts, 3);
	CHECK_INT(r.status, 0);
	CHECK_INT(r.maybe_delivered, 0);
	CHECK(strstr(e.msg, "after 3 attempts") != NULL);
	http_resp_free(&r);
	free(u);
	http_free(h);
	close(fd);
}

static void test_drop(http_client *ctlh)
{
	http_resp r;
	shop_err e = {0};
	http_opts o = fast();
	o.max_attempts = 2;
	/* Fresh clients: on a reused connection curl itself resends once
	 * when the server hangs up, which would blur the counts. */
	http_client *h = http_new(&o);
	reset(ctlh);
	fault(ctlh, "{\"drop\":true,\"count\":5}");
	CHECK_INT(get(h, "/ok", &r, &e), SHOP_UNAVAILABLE);
	CHECK_INT(r.attempts, 2);
	CHECK_INT(r.maybe_delivered, 1);
	CHECK_INT(count(ctlh, "/ok"), 2);
	http_resp_free(&r);
	http_free(h);

	h = http_new(&o);
	reset(ctlh);
	fault(ctlh, "{\"drop\":true,\"count\":1}");
	err_clear(&e);
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	http_resp_free(&r);
	http_free(h);
	reset(ctlh);
}

static void test_max_body(void)
{
	http_resp r;
	shop_err e = {0};
	http_opts o = fast();
	o.max_body = 1000;
	http_client *h = http_new(&o);
	CHECK_INT(get(h, "/big/1000", &r, &e), 0);
	CHECK_INT(r.body.len, 1000);
	http_resp_free(&r);
	CHECK_INT(get(h, "/big/5000", &r, &e), SHOP_DATAERR);
	CHECK(strstr(e.msg, "response body over 1000 bytes") != NULL);
	CHECK_INT(r.attempts, 1);
	http_resp_free(&r);
	/* No Content-Length: caught while the body streams in. */
	err_clear(&e);
	CHECK_INT(get(h, "/big/50000?chunked=1", &r, &e), SHOP_DATAERR);
	CHECK(strstr(e.msg, "response body over 1000 bytes") != NULL);
	http_resp_free(&r);
	err_clear(&e);
	CHECK_INT(get(h, "/big/999?chunked=1", &r, &e), 0);
	CHECK_INT(r.body.len, 999);
	http_resp_free(&r);
	/* The handle is fine after an aborted transfer. */
	CHECK_INT(get(h, "/ok", &r, &e), 0);
	CHECK_STR(buf_str(&r.body), "hello");
	http_resp_free(&r);
	http_free(h);
}

static void refused_url(http_client *h, const char *u)
{
	http_resp r;
	shop_err e = {0};
	int rc = http_request(h, "GET", u, NULL, NULL, 0, &r, &e);
	if (rc != SHOP_USAGE)
		fprintf(stderr, "url %s: rc %d (%s)\n", u, rc, e.msg);
	CHECK_INT(rc, SHOP_USAGE);
	/* Refused before any transfer: nothing was resolved or sent. */
	CHECK_INT(r.attempts, 0);
	http_resp_free(&r);
}

static void test_url_rules(http_client *h)
{
	refused_url(h, "http://example.com/");
	refused_url(h, "http://example.com:80/x?y=1");
	refused_url(h, "http://127.0.0.1.example.com/");
	refused_url(h, "http://localhost.example.com/");
	refused_url(h, "http://127.0.0.2/");
	refused_url(h, "ftp://127.0.0.1/");
	refused_url(h, "file:///etc/passwd");
	refused_url(h, "gopher://localhost/");
	refused_url(h, "not a url");
	refused_url(h, "https://");
	refused_url(h, "");

	http_resp r;
	shop_err e = {0};
	http_request(h, "GET", "ftp://127.0.0.1/x", NULL, NULL, 0, &r, &e);
	CHECK(strstr(e.msg, "scheme 'ftp' is not allowed") != NULL);
	http_resp_free(&r);
	err_clear(&e);
	http_request(h, "GET", "http://example.com/", NULL, NULL, 0, &r, &e);
	CHECK(strstr(e.msg, "use https") != NULL);
	http_resp_free(&r);

	/* Loopback spellings are allowed plain http. */
	const char *port = strrchr(base, ':');
	char *u = xasprintf("http://localhost%s/ok", port);
	err_clear(&e);
	CHECK_INT(http_request(h, "GET", u, NULL, NULL, 0, &r, &e), 0);
	CHECK_INT(r.status, 200);
	http_resp_free(&r);
	free(u);
	u = xasprintf("HTTP://127.0.0.1%s/ok", port);
	CHECK_INT(http_request(h, "GET", u, NULL, NULL, 0, &r, &e), 0);
	CHECK_INT(r.status, 200);
	http_resp_free(&r);
	free(u);
	http_opts o = fast();
	o.max_attempts = 1;
	o.connect_timeout_ms = 300;
	http_client *h1 = http_new(&o);
	err_clear(&e);
	/* ::1 passes the rule; whether it connects depends on the host. */
	CHECK(http_request(h1, "GET", "http://[::1]:9/", NULL, NULL, 0, &r, &e) != SHOP_USAGE);
	http_resp_free(&r);
	http_free(h1);

	/* A header that would smuggle a second header line. */
	const char *bad[] = {"X-Evil: a\r\nHost: elsewhere", NULL};
	u = url("/ok");
	err_clear(&e);
	CHECK_INT(http_request(h, "GET", u, bad, NULL, 0, &r, &e), SHOP_USAGE);
	CHECK_INT(r.attempts, 0);
	CHECK(strstr(e.msg, "elsewhere") == NULL);
	http_resp_free(&r);
	err_clear(&e);
	CHECK_INT(http_request(h, "get me", u, NULL, NULL, 0, &r, &e), SHOP_USAGE);
	http_resp_free(&r);
	free(u);
}

static void test_headers(http_client *h)
{
	http_resp r;
	shop_err e = {0};
	const char *hdrs[] = {"Idempotency-Key: k-123", "X-Shop-Test: a b", NULL};
	char *u = url("/echo-headers");
	CHECK_INT(http_request(h, "GET", u, hdrs, NULL, 0, &r, &e), 0);
	const char *b = buf_str(&r.body);
	CHECK(strstr(b, "\"Idempotency-Key\":\"k-123\"") != NULL);
	CHECK(strstr(b, "\"X-Shop-Test\":\"a b\"") != NULL);
	CHECK(strstr(b, "\"User-Agent\":\"shop/") != NULL);
	CHECK(strstr(b, "Expect") == NULL);
	http_resp_free(&r);

	http_opts o = fast();
	o.user_agent = "shop-test/1";
	http_client *h2 = http_new(&o);
	CHECK_INT(http_request(h2, "GET", u, NULL, NULL, 0, &r, &e), 0);
	CHECK(strstr(buf_str(&r.body), "\"User-Agent\":\"shop-test/1\"") != NULL);
	http_resp_free(&r);
	http_free(h2);
	free(u);
}

static void test_post(http_client *h)
{
	http_resp r;
	shop_err e = {0};
	buf body = {0};
	buf_adds(&body, "a=1&b=");
	http_form_escape(&body, "x y");
	const char *hdrs[] = {"Idempotency-Key: k-post-1", NULL};
	char *u = url("/echo");
	reset(h);
	fault(h, "{\"status\":500,\"count\":1,\"path\":\"/echo\"}");
	CHECK_INT(http_request(h, "POST", u, hdrs, body.p, body.len, &r, &e), 0);
	CHECK_INT(r.status, 200);
	CHECK_INT(r.attempts, 2);
	const char *b = buf_str(&r.body);
	CHECK(strstr(b, "\"method\":\"POST\"") != NULL);
	CHECK(strstr(b, "\"body\":\"a=1&b=x%20y\"") != NULL);
	CHECK(strstr(b, "\"content_type\":\"application/x-www-form-urlencoded\"") != NULL);
	http_resp_free(&r);

	/* The retry was the same request: same key, same body. */
	buf log = {0};
	char *lu = url("/_requests");
	CHECK_INT(http_get(h, lu, &log, &e), 0);
	CHECK_INT(occurrences(buf_str(&log), "\"Idempotency-Key\":\"k-post-1\""), 2);
	CHECK_INT(occurrences(buf_str(&log), "\"body\":\"a=1&b=x%20y\""), 2);
	buf_free(&log);
	free(lu);

	const char *json[] = {"Content-Type: application/json", NULL};
	CHECK_INT(http_request(h, "PUT", u, json, "{\"k\":1}", 7, &r, &e), 0);
	CHECK(strstr(buf_str(&r.body), "\"method\":\"PUT\"") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"body\":\"{\\\"k\\\":1}\"") != NULL);
	http_resp_free(&r);
	CHECK_INT(http_request(h, "DELETE", u, NULL, NULL, 0, &r, &e), 0);
	CHECK(strstr(buf_str(&r.body), "\"method\":\"DELETE\"") != NULL);
	CHECK(strstr(buf_str(&r.body), "\"body\":\"\"") != NULL);
	http_resp_free(&r);
	CHECK_INT(http_request(h, "POST", u, NULL, NULL, 0, &r, &e), 0);
	CHECK(strstr(buf_str(&r.body), "\"method\":\"POST\"") != NULL);
	http_resp_free(&r);
	/* A body over the old 1024-byte Expect threshold goes out at once. */
	buf big = {0};
	for (int i = 0; i < 5000; i++)
		buf_addc(&big, 'z');
	long long t0 = now_ms();
	CHECK_INT(http_request(h, "POST", u, NULL, big.p, big.len, &r, &e), 0);
	CHECK(now_ms() - t0 < 900);
	CHECK(strstr(buf_str(&r.body), "zzzzzzzzzz\"") != NULL);
	http_resp_free(&r);
	buf_free(&big);
	free(u);
	buf_free(&body);
	reset(h);
	CHECK_INT(e.code, 0);
}

static void test_get(http_client *h)
{
	buf b = {0};
	shop_err e = {0};
	buf_adds(&b, "x:");
	char *u = url("/ok");
	CHECK_INT(http_get(h, u, &b, &e), 0);
	CHECK_STR(buf_str(&b), "x:hello");
	free(u);

	u = url("/status/404");
	CHECK_INT(http_get(h, u, &b, &e), SHOP_NOTFOUND);
	CHECK(strstr(e.msg, "HTTP 404") != NULL);
	CHECK_STR(buf_str(&b), "x:hello");
	free(u);
	err_clear(&e);
	u = url("/status/410");
	CHECK_INT(http_get(h, u, &b, &e), SHOP_NOTFOUND);
	free(u);
	err_clear(&e);
	u = url("/status/400");
	CHECK_INT(http_get(h, u, &b, &e), SHOP_UNAVAILABLE);
	CHECK(strstr(e.msg, "HTTP 400") != NULL);
	free(u);
	err_clear(&e);
	u = url("/status/302");
	CHECK_INT(http_get(h, u, &b, &e), SHOP_UNAVAILABLE);
	free(u);
	err_clear(&e);
	CHECK_INT(http_get(h, "http://example.com/", &b, &e), SHOP_USAGE);
	buf_free(&b);
}

static void test_form_escape(void)
{
	buf b = {0};
	http_form_escape(&b, "a b&c=d~e-f.g_h/\xc3\xa9+%\n");
	CHECK_STR(buf_str(&b), "a%20b%26c%3Dd~e-f.g_h%2F%C3%A9%2B%25%0A");
	buf_reset(&b);
	http_form_escape(&b, "");
	CHECK_INT(b.len, 0);
	buf_free(&b);
}

static int smtp_main(int argc, char **argv)
{
	http_opts o = fast();
	const char *user = NULL, *password = NULL, *get_url = NULL;
	int i = 1, count = 1;
	for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] && !argv[i][2]; i += 2) {
		switch (argv[i][1]) {
		case 'n': o.max_attempts = (int)strtol(argv[i + 1], NULL, 10); break;
		case 'u': user = argv[i + 1]; break;
		case 'p': password = argv[i + 1]; break;
		case 'c': count = (int)strtol(argv[i + 1], NULL, 10); break;
		case 'g': get_url = argv[i + 1]; break;
		default: i = argc; break;
		}
	}
	if (argc - i < 4) {
		fprintf(stderr, "usage: test-http smtp [-n ATTEMPTS] [-u USER] [-p PASSWORD] [-c COUNT] [-g URL] "
		                "URL FROM MSGFILE RCPT...\n");
		return 2;
	}
	const char *smtp_url = argv[i], *from = argv[i + 1], *file = argv[i + 2];
	FILE *f = fopen(file, "rb");
	if (!f) {
		perror(file);
		return 2;
	}
	buf msg = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&msg, chunk, n);
	fclose(f);
	http_client *h = http_new(&o);
	if (!h) {
		fprintf(stderr, "test-http: no libcurl\n");
		buf_free(&msg);
		return 2;
	}
	int rc = 0;
	for (int k = 0; k < count && !rc; k++) {
		shop_err e = {0};
		int attempts = -1;
		rc = http_smtp_send(h, smtp_url, from, (const char *const *)argv + i + 3, (size_t)(argc - i - 3),
		                    user, password, msg.p, msg.len, &attempts, &e);
		printf("attempts %d\n", attempts);
		if (rc)
			fprintf(stderr, "%s\n", e.msg);
		if (get_url) {
			http_resp r;
			shop_err ge = {0};
			if (http_request(h, "GET", get_url, NULL, NULL, 0, &r, &ge) == 0)
				printf("get %ld %s\n", r.status, buf_str(&r.body));
			else
				printf("get failed: %s\n", ge.msg);
			http_resp_free(&r);
		}
	}
	http_free(h);
	buf_free(&msg);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "smtp"))
		return smtp_main(argc - 1, argv + 1);
	if (argc != 2) {
		fprintf(stderr, "usage: test-http BASE_URL (of tests/helpers/fake_http.py)\n");
		return 2;
	}
	base = argv[1];
	http_opts o = fast();
	http_client *h = http_new(&o);
	CHECK(h != NULL);
	if (!h)
		return t_done();
	reset(h);
	test_form_escape();
	test_basic(h);
	test_retry_status(h);
	test_retry_after();
	test_timeout(h);
	test_refused();
	test_drop(h);
	test_max_body();
	test_url_rules(h);
	test_headers(h);
	test_post(h);
	test_get(h);
	http_free(h);
	return t_done();
}
