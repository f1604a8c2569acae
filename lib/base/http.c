/* http: see http.h.
 *
 * The policy that matters for safety lives here and nowhere else: which
 * URLs may be fetched, that TLS is verified, how long we wait, when a
 * request is sent again. Drivers only build requests and parse answers. */
#include <ctype.h>
#include "http.h"

/* Our macros below stand in for curl's own type-checking ones. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#ifndef SHOP_VERSION
#define SHOP_VERSION "dev"
#endif

enum {
	DEF_CONNECT_MS = 5000,
	DEF_TIMEOUT_MS = 30000,
	DEF_ATTEMPTS = 4,
	DEF_BACKOFF_MS = 1000,
	DEF_BACKOFF_CAP_MS = 30000,
};
#define DEF_MAX_BODY ((size_t)32 << 20)

struct http_client {
	CURL *curl;
	http_opts o;
	char *user_agent; /* owned copies: opts strings need not outlive http_new */
	char *cainfo;
	uint64_t rng;     /* xorshift state for backoff jitter */
	char errbuf[CURL_ERROR_SIZE];
};

/* The URLs a function takes: http_request's or http_smtp_send's. */
typedef enum url_kind { URL_HTTP, URL_SMTP } url_kind;

/* One request's URL after the policy check. */
typedef struct url_info {
	char *url;     /* normalised, handed to curl (curl_free) */
	char *display; /* for messages, never a query or userinfo: HTTP
	                  scheme://host[:port]/path, SMTP scheme://host:port */
	char *who;     /* what messages start with: "METHOD display" for HTTP,
	                  the display for SMTP */
	const char *protocols; /* CURLOPT_PROTOCOLS_STR for this URL */
	int loopback;
	int starttls;  /* smtp:// off loopback: TLS through STARTTLS or nothing */
} url_info;

typedef struct sink {
	buf *body;
	size_t max;
	int over;
} sink;

/* libcurl is loaded on first use, not linked: its thirty-odd dependent
 * libraries cost every process about 8 ms of dynamic loading, ten times
 * what a `shop-catalog get` does, and most runs never speak HTTP. */
static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode (*easy_perform)(CURL *);
	const char *(*easy_strerror)(CURLcode);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *);
	CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
	CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
	const char *(*url_strerror)(CURLUcode);
} cx;

/* curl.h defines these two as macros of themselves. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init (*cx.global_init)
#define curl_easy_init (*cx.easy_init)
#define curl_easy_cleanup (*cx.easy_cleanup)
#define curl_easy_reset (*cx.easy_reset)
#define curl_easy_setopt (*cx.easy_setopt)
#define curl_easy_getinfo (*cx.easy_getinfo)
#define curl_easy_perform (*cx.easy_perform)
#define curl_easy_strerror (*cx.easy_strerror)
#define curl_free (*cx.free)
#define curl_slist_append (*cx.slist_append)
#define curl_slist_free_all (*cx.slist_free_all)
#define curl_url (*cx.url)
#define curl_url_cleanup (*cx.url_cleanup)
#define curl_url_get (*cx.url_get)
#define curl_url_set (*cx.url_set)
#define curl_url_strerror (*cx.url_strerror)

static int curl_load(void)
{
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	if (state)
		return state > 0 ? 0 : -1;
	state = -1;
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return -1;
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{(void **)&cx.global_init, "curl_global_init"},
		{(void **)&cx.easy_init, "curl_easy_init"},
		{(void **)&cx.easy_cleanup, "curl_easy_cleanup"},
		{(void **)&cx.easy_reset, "curl_easy_reset"},
		{(void **)&cx.easy_setopt, "curl_easy_setopt"},
		{(void **)&cx.easy_getinfo, "curl_easy_getinfo"},
		{(void **)&cx.easy_perform, "curl_easy_perform"},
		{(void **)&cx.easy_strerror, "curl_easy_strerror"},
		{(void **)&cx.free, "curl_free"},
		{(void **)&cx.slist_append, "curl_slist_append"},
		{(void **)&cx.slist_free_all, "curl_slist_free_all"},
		{(void **)&cx.url, "curl_url"},
		{(void **)&cx.url_cleanup, "curl_url_cleanup"},
		{(void **)&cx.url_get, "curl_url_get"},
		{(void **)&cx.url_set, "curl_url_set"},
		{(void **)&cx.url_strerror, "curl_url_strerror"},
	};
	for (size_t i = 0; i < sizeof syms / sizeof *syms; i++) {
		/* dlsym returns an object pointer; POSIX guarantees it converts. */
		void *f = dlsym(h, syms[i].name);
		if (!f)
			return -1;
		memcpy(syms[i].slot, &f, sizeof f);
	}
	state = 1;
	return 0;
}

static int curl_ready;

http_client *http_new(const http_opts *opts)
{
	/* Not thread-safe by design: programs create their client in main,
	 * before any thread exists, as curl_global_init itself requires. */
	if (!curl_ready) {
		if (curl_load() || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return NULL;
		curl_ready = 1;
	}
	http_client *h = xcalloc(1, sizeof *h);
	if (opts)
		h->o = *opts;
	if (h->o.connect_timeout_ms <= 0)
		h->o.connect_timeout_ms = DEF_CONNECT_MS;
	if (h->o.timeout_ms <= 0)
		h->o.timeout_ms = DEF_TIMEOUT_MS;
	if (h->o.max_attempts <= 0)
		h->o.max_attempts = DEF_ATTEMPTS;
	if (h->o.backoff_ms <= 0)
		h->o.backoff_ms = DEF_BACKOFF_MS;
	if (h->o.backoff_cap_ms <= 0)
		h->o.backoff_cap_ms = DEF_BACKOFF_CAP_MS;
	if (h->o.max_body == 0)
		h->o.max_body = DEF_MAX_BODY;
	h->user_agent = xstrdup(h->o.user_agent && *h->o.user_agent ? h->o.user_agent
	                                                              : "shop/" SHOP_VERSION);
	h->cainfo = h->o.cainfo && *h->o.cainfo ? xstrdup(h->o.cainfo) : NULL;
	h->o.user_agent = h->user_agent;
	h->o.cainfo = h->cainfo;

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* Jitter only has to differ between processes started together. */
	h->rng = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^
	         ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)h;
	if (!h->rng)
		h->rng = 0x9e3779b97f4a7c15u;

	h->curl = curl_easy_init();
	if (!h->curl) {
		free(h->user_agent);
		free(h->cainfo);
		free(h);
		return NULL;
	}
	return h;
}

void http_free(http_client *h)
{
	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	free(h->user_agent);
	free(h->cainfo);
	free(h);
}

void http_resp_free(http_resp *r)
{
	if (!r)
		return;
	buf_free(&r->body);
	free(r->content_type);
	r->content_type = NULL;
}

static uint64_t rnd(http_client *h)
{
	uint64_t x = h->rng;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	h->rng = x;
	return x;
}

static void url_info_free(url_info *u)
{
	curl_free(u->url);
	free(u->display);
	free(u->who);
	u->url = NULL;
	u->display = NULL;
	u->who = NULL;
}

static int is_loopback(const char *host)
{
	/* Names only, not resolution: "localhost" is answered by curl itself
	 * (never sent to DNS), and a resolver that maps some other name to
	 * 127.0.0.1 must not earn that name plain http. */
	return !strcmp(host, "127.0.0.1") || !strcmp(host, "[::1]") || !strcmp(host, "::1") ||
	       !strcasecmp(host, "localhost");
}

/* Parse url with curl's own parser (the one the transfer will use), so that
 * the host we judge is the host curl connects to. label starts the message
 * when the URL cannot even be parsed: the method for HTTP, "smtp" for SMTP. */
static int check_url(url_kind kind, const char *label, const char *url, url_info *out, shop_err *e)
{
	memset(out, 0, sizeof *out);
	CURLU *u = curl_url();
	if (!u)
		return err_set(e, SHOP_SOFTWARE, "%s: out of memory", label);
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *user = NULL, *pass = NULL,
	     *opts = NULL;
	int rc = 0;
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
	if (uc != CURLUE_OK) {
		rc = err_set(e, SHOP_USAGE, "%s: malformed URL: %s", label, curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
		rc = err_set(e, SHOP_USAGE, "%s: malformed URL: no scheme or host", label);
		goto out;
	}
	/* SMTP messages always name the port: which of 25, 465 and 587 was
	 * tried is the first question when mail does not go out. */
	(void)curl_url_get(u, CURLUPART_PORT, &port, kind == URL_SMTP ? CURLU_DEFAULT_PORT : 0);
	(void)curl_url_get(u, CURLUPART_PATH, &path, 0);
	out->loopback = is_loopback(host);
	if (kind == URL_SMTP) {
		out->display = xasprintf("%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
		out->who = xstrdup(out->display);
	} else {
		out->display = xasprintf("%s://%s%s%s%s", scheme, host, port ? ":" : "", port ? port : "",
		                         path ? path : "/");
		out->who = xasprintf("%s %s", label, out->display);
	}
	if (kind == URL_SMTP) {
		if (strcmp(scheme, "smtps") && strcmp(scheme, "smtp")) {
			rc = err_set(e, SHOP_USAGE,
			             "%s: scheme '%s' is not allowed (smtps, or smtp with STARTTLS)", out->who,
			             scheme);
			goto out;
		}
		/* Credentials go in user and password (never printed), not in
		 * a URL that ends up in configuration files and messages. */
		(void)curl_url_get(u, CURLUPART_USER, &user, 0);
		(void)curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
		(void)curl_url_get(u, CURLUPART_OPTIONS, &opts, 0);
		if (user || pass || opts) {
			rc = err_set(e, SHOP_USAGE,
			             "%s: no user, password or options in an SMTP URL; pass them apart",
			             out->who);
			goto out;
		}
		out->protocols = strcmp(scheme, "smtps") ? "smtp" : "smtps";
		out->starttls = !strcmp(scheme, "smtp") && !out->loopback;
	} else {
		if (strcmp(scheme, "https") && strcmp(scheme, "http")) {
			rc = err_set(e, SHOP_USAGE, "%s: scheme '%s' is not allowed (https only)", out->who,
			             scheme);
			goto out;
		}
		if (!strcmp(scheme, "http") && !out->loopback) {
			rc = err_set(e, SHOP_USAGE,
			             "%s: plain http is allowed only to 127.0.0.1, ::1 and localhost; use https",
			             out->who);
			goto out;
		}
		out->protocols = out->loopback ? "http,https" : "https";
	}
	if (curl_url_get(u, CURLUPART_URL, &out->url, 0) != CURLUE_OK) {
		rc = err_set(e, SHOP_USAGE, "%s: malformed URL", out->who);
		goto out;
	}
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_free(user);
	curl_free(pass);
	curl_free(opts);
	curl_url_cleanup(u);
	if (rc)
		url_info_free(out);
	return rc;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	sink *s = ud;
	size_t len = size * n;
	if (len > s->max - s->body->len) {
		/* Returning short aborts the transfer: no point downloading a
		 * body we are going to refuse. */
		s->over = 1;
		return 0;
	}
	buf_add(s->body, p, len);
	return len;
}

static int retry_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 || st == 504;
}

static int retry_transport(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_OPERATION_TIMEDOUT || c == CURLE_GOT_NOTHING ||
	       c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR;
}

/* Could the server have received the request although no answer came? A
 * refused connection, a DNS failure or a TLS failure cannot have delivered
 * it; a timeout can, once the request started going out. */
static int may_have_sent(CURL *c, CURLcode rc)
{
	if (rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR)
		return 1;
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t pre = 0;
		/* Pretransfer is stamped after connect and TLS, right before
		 * the request is written. */
		if (curl_easy_getinfo(c, CURLINFO_PRETRANSFER_TIME_T, &pre) != CURLE_OK)
			return 1;
		return pre > 0;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The wait before attempt number `next` (2, 3, ...): backoff doubling from
 * backoff_ms, "equal jitter" (half fixed, half random, so waits never
 * collapse to zero), raised to Retry-After, and then capped. The cap wins
 * over Retry-After on purpose: a server (or anything in between) asking
 * for an hour must not hang a command; after the last attempt the caller
 * gets the answer and can come back later. */
static long backoff(http_client *h, int next, long retry_after_s)
{
	long cap = h->o.backoff_cap_ms;
	long d = h->o.backoff_ms;
	for (int i = 2; i < next && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	long half = d / 2;
	d = half + (half > 0 ? (long)(rnd(h) % (uint64_t)(half + 1)) : 0);
	if (retry_after_s > 0) {
		long ra = retry_after_s > cap / 1000 + 1 ? cap : retry_after_s * 1000;
		if (ra > d)
			d = ra;
	}
	return d > cap ? cap : d;
}

static int valid_method(const char *m)
{
	if (!m || !*m)
		return 0;
	for (; *m; m++)
		if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
			return 0;
	return 1;
}

static const char *plural(int n)
{
	return n == 1 ? "" : "s";
}

/* sc: the first failure of a run of setopt calls (the others are skipped). */
#define SET(opt, val) do { if (sc == CURLE_OK) sc = curl_easy_setopt(c, opt, val); } while (0)

/* Options are set once per request (curl_easy_reset first, so nothing of
 * a previous request, HTTP or SMTP, leaks into this one) and reused for
 * every attempt: an attempt is the same request sent again byte for byte.
 * Reset keeps the connection cache, so reuse still saves the TLS
 * handshake. These are the options every request has; the protocol adds
 * its own after. */
static CURLcode setup_common(http_client *h, const url_info *u)
{
	CURL *c = h->curl;
	CURLcode sc = CURLE_OK;
	curl_easy_reset(c);
	SET(CURLOPT_URL, u->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->o.connect_timeout_ms);
	SET(CURLOPT_TIMEOUT_MS, h->o.timeout_ms);
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_PROTOCOLS_STR, u->protocols);
	/* A proxy from the environment must never see loopback traffic: the
	 * fakes run there, and plain http to a proxy would leave the host. */
	if (u->loopback)
		SET(CURLOPT_NOPROXY, "*");
	if (h->cainfo)
		SET(CURLOPT_CAINFO, h->cainfo);
	return sc;
}

static int setup(http_client *h, const char *method, const url_info *u, struct curl_slist *hdrs,
                 const char *body, size_t body_len, sink *s)
{
	CURL *c = h->curl;
	CURLcode sc = setup_common(h, u);
	SET(CURLOPT_USERAGENT, h->user_agent);
	/* Redirects are not followed (a 3xx is an answer like any other);
	 * this only narrows things further should that ever change. */
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "https");
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	/* Refuses early when Content-Length already says too much; on_body
	 * covers bodies of unannounced length. */
	curl_off_t max = h->o.max_body > (size_t)INT64_MAX ? INT64_MAX : (curl_off_t)h->o.max_body;
	SET(CURLOPT_MAXFILESIZE_LARGE, max);
	SET(CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(method, "GET") && !body) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(method, "HEAD")) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(method, "POST"))
			SET(CURLOPT_CUSTOMREQUEST, method);
		if (body || !strcmp(method, "POST")) {
			SET(CURLOPT_POST, 1L);
			SET(CURLOPT_POSTFIELDS, body ? body : "");
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
		}
	}
	return sc == CURLE_OK ? 0 : -1;
}

/* What one attempt came to, as its protocol judges it. */
typedef enum try_verdict {
	TRY_DONE,      /* settled: the judge's rc is the result */
	TRY_ANSWER,    /* an answer worth asking again; the last one stands (0) */
	TRY_TRANSIENT, /* failed, worth another attempt; the last one is a failure */
	TRY_FAILED,    /* failed for good */
} try_verdict;

typedef struct try_judge {
	/* Before each attempt: forget what the previous one collected. */
	void (*begin)(void *ctx);
	/* After it: the verdict; *rc for TRY_DONE, *retry_after_s (seconds,
	 * 0 = none) for TRY_ANSWER, *reason (NULL = curl's own words) for a
	 * failure. */
	try_verdict (*judge)(http_client *h, CURLcode cc, void *ctx, int *rc, long *retry_after_s,
	                     const char **reason, shop_err *e);
	void *ctx;
} try_judge;

/* The attempts of one request, set up beforehand: perform, judge, wait
 * (backoff) and go again while attempts are left. Failures end as
 * SHOP_UNAVAILABLE "WHO: REASON after N attempts". */
static int attempts_run(http_client *h, const char *who, const try_judge *j, int *attempts, shop_err *e)
{
	for (int attempt = 1;; attempt++) {
		*attempts = attempt;
		if (j->begin)
			j->begin(j->ctx);
		h->errbuf[0] = 0;

		CURLcode cc = curl_easy_perform(h->curl);
		int rc = 0;
		long ra = 0;
		const char *reason = NULL;
		int last = attempt >= h->o.max_attempts;
		switch (j->judge(h, cc, j->ctx, &rc, &ra, &reason, e)) {
		case TRY_DONE:
			return rc;
		case TRY_ANSWER:
			/* An answer settles it: whatever happened to earlier
			 * attempts, the server has spoken. */
			if (last)
				return 0;
			break;
		case TRY_TRANSIENT:
			if (!last) {
				ra = 0;
				break;
			}
			/* fall through */
		case TRY_FAILED:
			if (!reason)
				reason = h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc);
			return err_set(e, SHOP_UNAVAILABLE, "%s: %s after %d attempt%s", who, reason, attempt,
			               plural(attempt));
		}
		sleep_ms(backoff(h, attempt + 1, ra));
	}
}

typedef struct http_try {
	http_resp *resp;
	sink *s;
	const url_info *u;
	int sent; /* sticky over attempts: see http_judge */
} http_try;

static void http_begin(void *ctx)
{
	http_try *t = ctx;
	t->resp->status = 0;
	buf_reset(&t->resp->body);
	free(t->resp->content_type);
	t->resp->content_type = NULL;
	t->s->over = 0;
}

static try_verdict http_judge(http_client *h, CURLcode cc, void *ctx, int *rc, long *retry_after_s,
                              const char **reason, shop_err *e)
{
	http_try *t = ctx;
	http_resp *resp = t->resp;
	(void)reason;
	long status = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);

	if (t->s->over || cc == CURLE_FILESIZE_EXCEEDED) {
		buf_free(&resp->body);
		resp->status = status;
		*rc = err_set(e, SHOP_DATAERR, "%s: response body over %zu bytes", t->u->who,
		              h->o.max_body);
		return TRY_DONE;
	}
	if (cc == CURLE_OK) {
		char *ct = NULL;
		resp->status = status;
		if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			resp->content_type = xstrdup(ct);
		resp->maybe_delivered = 0;
		if (!retry_status(status)) {
			*rc = 0;
			return TRY_DONE;
		}
		curl_off_t ra = 0;
		if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &ra) != CURLE_OK)
			ra = 0;
		*retry_after_s = ra > LONG_MAX ? LONG_MAX : (long)ra;
		return TRY_ANSWER;
	}
	/* Sticky over attempts: if any attempt may have reached the server,
	 * the outcome is unknown even when a later one was refused outright. */
	if (may_have_sent(h->curl, cc))
		t->sent = 1;
	resp->maybe_delivered = t->sent;
	return retry_transport(cc) ? TRY_TRANSIENT : TRY_FAILED;
}

int http_request(http_client *h, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len, http_resp *resp, shop_err *e)
{
	memset(resp, 0, sizeof *resp);
	if (!valid_method(method))
		return err_set(e, SHOP_USAGE, "http: bad method");
	if (!url)
		return err_set(e, SHOP_USAGE, "%s: no URL", method);
	url_info u;
	int rc = check_url(URL_HTTP, method, url, &u, e);
	if (rc)
		return rc;

	/* "Expect:" turns off 100-continue: it costs a round trip (or a
	 * one-second stall against servers that ignore it) for nothing. */
	struct curl_slist *hdrs = curl_slist_append(NULL, "Expect:");
	for (size_t i = 0; hdrs && headers && headers[i]; i++) {
		if (strpbrk(headers[i], "\r\n") || !strchr(headers[i], ':')) {
			/* Index only: the value may be a secret. */
			rc = err_set(e, SHOP_USAGE, "%s: header %zu is not one \"Name: value\" line", u.who,
			             i + 1);
			goto out;
		}
		struct curl_slist *n = curl_slist_append(hdrs, headers[i]);
		if (!n) {
			curl_slist_free_all(hdrs);
			hdrs = NULL;
		}
		hdrs = n;
	}
	if (!hdrs) {
		rc = err_set(e, SHOP_SOFTWARE, "%s: out of memory", u.who);
		goto out;
	}

	sink s = {&resp->body, h->o.max_body, 0};
	if (setup(h, method, &u, hdrs, body, body_len, &s)) {
		rc = err_set(e, SHOP_SOFTWARE, "%s: cannot set up the request", u.who);
		goto out;
	}
	http_try t = {resp, &s, &u, 0};
	try_judge j = {http_begin, http_judge, &t};
	rc = attempts_run(h, u.who, &j, &resp->attempts, e);
out:
	/* The handle must not keep pointers into this call's memory (headers,
	 * body, sink); reset keeps the connections. */
	curl_easy_reset(h->curl);
	curl_slist_free_all(hdrs);
	url_info_free(&u);
	return rc;
}

int http_get(http_client *h, const char *url, buf *out, shop_err *e)
{
	http_resp r;
	int rc = http_request(h, "GET", url, NULL, NULL, 0, &r, e);
	if (rc == 0) {
		if (r.status >= 200 && r.status < 300) {
			buf_add(out, r.body.p ? r.body.p : "", r.body.len);
		} else {
			url_info u;
			shop_err ignore = {0};
			const char *shown = check_url(URL_HTTP, "GET", url, &u, &ignore) ? "" : u.display;
			rc = err_set(e, r.status == 404 || r.status == 410 ? SHOP_NOTFOUND : SHOP_UNAVAILABLE,
			             "GET %s: HTTP %ld", shown, r.status);
			if (!ignore.code)
				url_info_free(&u);
		}
	}
	http_resp_free(&r);
	return rc;
}

/* -- SMTP ------------------------------------------------------------------ */

typedef struct smtp_try {
	const char *msg; /* the message, streamed by on_read */
	size_t len, pos;
	const char *password; /* never let it into a message */
	char reply[200];      /* the server's last reply line, printable ASCII */
	char reason[CURL_ERROR_SIZE + 208];
} smtp_try;

static size_t on_read(char *dst, size_t size, size_t n, void *ud)
{
	smtp_try *t = ud;
	size_t want = size * n, left = t->len - t->pos;
	if (want > left)
		want = left;
	memcpy(dst, t->msg + t->pos, want);
	t->pos += want;
	return want;
}

/* Never written to for a mail upload; without it curl would write to
 * stdout whatever it considers a body. */
static size_t on_discard(char *p, size_t size, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return size * n;
}

/* curl hands the server's reply lines to the header callback: keep the
 * last refusal (4xx or 5xx; the QUIT that follows one answers 221), so
 * that the error says what the server said. */
static size_t on_reply(char *p, size_t size, size_t n, void *ud)
{
	smtp_try *t = ud;
	size_t len = size * n, k = 0;
	if (len < 4 || (p[0] != '4' && p[0] != '5') || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]))
		return len;
	for (size_t i = 0; i < len && k + 1 < sizeof t->reply; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch == '\r' || ch == '\n')
			break;
		t->reply[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	t->reply[k] = 0;
	return len;
}

static void smtp_begin(void *ctx)
{
	smtp_try *t = ctx;
	t->pos = 0;
	t->reply[0] = 0;
}

/* A 4xx reply (421 included) is "try again later", a 5xx one is final,
 * whatever curl code carries it (RCPT and DATA failures come back as send
 * or receive errors). Without a reply, the transport codes of HTTP. */
static try_verdict smtp_judge(http_client *h, CURLcode cc, void *ctx, int *rc, long *retry_after_s,
                              const char **reason, shop_err *e)
{
	smtp_try *t = ctx;
	(void)retry_after_s;
	(void)e;
	if (cc == CURLE_OK) {
		*rc = 0;
		return TRY_DONE;
	}
	long code = 0;
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
	/* The reason ends with the refusal: "RCPT failed: 550 5.1.1 no such
	 * user", or "the server answered 451 ..." where curl has no words of
	 * its own (or only "Weird server reply", as after DATA). */
	char num[8];
	snprintf(num, sizeof num, "%ld", code);
	const char *r = t->reply;
	if (code >= 400 && !strncmp(r, num, 3) && !(t->password && *t->password && strstr(r, t->password))) {
		const char *said = h->errbuf;
		size_t n = strlen(said);
		if (n >= 3 && !strcmp(said + n - 3, num))
			snprintf(t->reason, sizeof t->reason, "%s%s", said, r + 3);
		else if (*said && cc != CURLE_WEIRD_SERVER_REPLY)
			snprintf(t->reason, sizeof t->reason, "%s (%s)", said, r);
		else
			snprintf(t->reason, sizeof t->reason, "the server answered %s", r);
		*reason = t->reason;
	}
	if (code >= 500 && code < 600)
		return TRY_FAILED;
	if (code >= 400 && code < 500)
		return TRY_TRANSIENT;
	return retry_transport(cc) ? TRY_TRANSIENT : TRY_FAILED;
}

/* A bare address for MAIL FROM / RCPT TO: curl puts it between < and >
 * on a command line of its own, so none of these may be in it. */
static int valid_address(const char *a)
{
	return a && *a && !strpbrk(a, "\r\n<>");
}

int http_smtp_send(http_client *h, const char *url, const char *from, const char *const *rcpt, size_t nrcpt,
                   const char *user, const char *password, const char *msg, size_t len, int *attempts,
                   shop_err *e)
{
	int tries = 0;
	if (!attempts)
		attempts = &tries;
	*attempts = 0;
	if (!url)
		return err_set(e, SHOP_USAGE, "smtp: no URL");
	url_info u;
	int rc = check_url(URL_SMTP, "smtp", url, &u, e);
	if (rc)
		return rc;

	struct curl_slist *to = NULL;
	char *from_arg = NULL;
	if (!valid_address(from)) {
		rc = err_set(e, SHOP_USAGE, "%s: the sender address is empty or has CR, LF, '<' or '>'",
		             u.who);
		goto out;
	}
	if (!nrcpt || !rcpt) {
		rc = err_set(e, SHOP_USAGE, "%s: no recipients", u.who);
		goto out;
	}
	for (size_t i = 0; i < nrcpt; i++) {
		if (!valid_address(rcpt[i])) {
			/* Index only: what is in it may be anything. */
			rc = err_set(e, SHOP_USAGE,
			             "%s: recipient %zu is empty or has CR, LF, '<' or '>'", u.who, i + 1);
			goto out;
		}
		char *a = xasprintf("<%s>", rcpt[i]);
		struct curl_slist *n = curl_slist_append(to, a);
		free(a);
		if (!n) {
			rc = err_set(e, SHOP_SOFTWARE, "%s: out of memory", u.who);
			goto out;
		}
		to = n;
	}
	/* curl escapes a leading dot only after CRLF and ends the data with
	 * CRLF . CRLF; a lone CR or LF could make a server see the end of the
	 * message (and a second, smuggled one) where we did not put it. */
	if (!msg || !len) {
		rc = err_set(e, SHOP_USAGE, "%s: empty message", u.who);
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if ((msg[i] == '\r' && (i + 1 == len || msg[i + 1] != '\n')) ||
		    (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) || msg[i] == 0) {
			rc = err_set(e, SHOP_USAGE,
			             "%s: the message has a bare CR or LF, or a NUL, at byte %zu (lines end in CRLF)",
			             u.who, i);
			goto out;
		}
	}
	from_arg = xasprintf("<%s>", from);

	smtp_try t = {0};
	t.msg = msg;
	t.len = len;
	t.password = password;
	CURL *c = h->curl;
	CURLcode sc = setup_common(h, &u);
	SET(CURLOPT_MAIL_FROM, from_arg);
	SET(CURLOPT_MAIL_RCPT, to);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_READFUNCTION, on_read);
	SET(CURLOPT_READDATA, &t);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	SET(CURLOPT_HEADERFUNCTION, on_reply);
	SET(CURLOPT_HEADERDATA, &t);
	SET(CURLOPT_WRITEFUNCTION, on_discard);
	/* smtps:// is TLS from the first byte; smtp:// off loopback upgrades
	 * with STARTTLS or fails before MAIL FROM (and before AUTH:
	 * credentials never cross in the clear). */
	if (u.starttls)
		SET(CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (user) {
		SET(CURLOPT_USERNAME, user);
		SET(CURLOPT_PASSWORD, password ? password : "");
	}
	if (sc != CURLE_OK) {
		rc = err_set(e, SHOP_SOFTWARE, "%s: cannot set up the message", u.who);
		goto out;
	}
	try_judge j = {smtp_begin, smtp_judge, &t};
	rc = attempts_run(h, u.who, &j, attempts, e);
out:
	/* Nothing of this call (recipients, message, password) stays with the
	 * handle; reset keeps the connections. */
	curl_easy_reset(h->curl);
	curl_slist_free_all(to);
	free(from_arg);
	url_info_free(&u);
	return rc;
}
#undef SET

void http_form_escape(buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			buf_addc(out, (char)c);
		} else {
			char t[3] = {'%', hex[c >> 4], hex[c & 15]};
			buf_add(out, t, 3);
		}
	}
}

char *http_bearer_from_env(const char *env, const char *def, const char *what, const char *config_key, shop_err *e)
{
	const char *name = env && *env ? env : def;
	const char *key = getenv(name);
	if (!key || !*key) {
		err_set(e, SHOP_CONFIG, "%s: the environment variable %s (%s) is not set", what, name, config_key);
		return NULL;
	}
	for (const char *p = key; *p; p++)
		if (!isgraph((unsigned char)*p)) {
			err_set(e, SHOP_CONFIG, "%s: the key in %s has a space or control character", what, name);
			return NULL;
		}
	return xasprintf("Authorization: Bearer %s", key);
}

void http_secret_free(char *header)
{
	if (!header)
		return;
	/* No copy of the key is left behind in freed memory. */
	volatile char *p = header;
	while (*p)
		*p++ = 0;
	free(header);
}

char *http_base_url(const char *base, const char *def)
{
	if (!base || !*base)
		base = def;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	return xasprintf("%.*s", (int)n, base);
}
