/* http: one libcurl easy handle per client, reused (keeps connections),
 * for HTTP requests and for mail over SMTP (http_smtp_send).
 *
 * Rules: TLS verification is never turned off; https is required except for
 * loopback hosts (127.0.0.1, ::1, localhost), where plain http is allowed
 * for tests and local fakes; no other scheme. Requests have a connect
 * timeout and a total timeout. Transport failures (curl codes 7, 28, 52,
 * 55, 56) and HTTP 408, 429, 500, 502, 503, 504 are retried up to
 * max_attempts with exponential backoff and jitter, waiting at least
 * Retry-After when the server sends it, and never longer in total than
 * backoff_cap_ms between two attempts. A request is sent again byte for
 * byte (so a mutating call keeps its Idempotency-Key header). Error bodies
 * are kept: a 4xx/5xx answer is a response, not an error. Header values
 * (Authorization!) are never printed or logged. */
#ifndef SHOP_HTTP_H
#define SHOP_HTTP_H

#include <stddef.h>
#include "util.h"

typedef struct http_opts {
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;         /* whole request, default 30000 */
	int max_attempts;        /* default 4 (1 = no retry) */
	long backoff_ms;         /* first backoff, default 1000; doubles */
	long backoff_cap_ms;     /* longest single wait, default 30000 */
	size_t max_body;         /* largest response body kept, default 32 MiB */
	const char *user_agent;  /* default "shop/VERSION" */
	const char *cainfo;      /* CA bundle file for a test CA; NULL = system */
} http_opts;

typedef struct http_resp {
	long status;         /* HTTP status of the final attempt; 0 when none came */
	buf body;            /* the body of the final response (error bodies too) */
	char *content_type;  /* owned; NULL when absent */
	int attempts;        /* how many attempts were made */
	int maybe_delivered; /* 1 when no response came but the request may have
	                        reached the server (timeout or connection dropped
	                        after sending): the outcome is unknown */
} http_resp;

typedef struct http_client http_client;

/* NULL opts = all defaults; zero fields take their defaults too. Loads
 * libcurl (dlopen) and calls curl_global_init on first use; NULL when
 * libcurl cannot be loaded. */
http_client *http_new(const http_opts *opts);
void http_free(http_client *h);

/* Perform method ("GET", "POST", ...) on url with extra headers (a
 * NULL-terminated array of "Name: value", may be NULL) and a body (may be
 * NULL). On return resp is filled (free it with http_resp_free).
 * Returns 0 when an HTTP response arrived (any status, after retries);
 * SHOP_UNAVAILABLE (69) with e set ("GET https://...: <reason> after N
 * attempts") when none did; SHOP_USAGE (64) for a URL that is refused by the
 * rules above, or malformed; SHOP_DATAERR (65) when the body exceeds max_body. */
int http_request(http_client *h, const char *method, const char *url, const char *const *headers,
                 const char *body, size_t body_len, http_resp *resp, shop_err *e);
void http_resp_free(http_resp *r);

/* Send one RFC 5322 message (msg, len bytes, CRLF line ends, headers then
 * an empty line then the body) over SMTP to url: "smtps://host[:port]" (TLS
 * from the start), or "smtp://host[:port]" which must upgrade with STARTTLS
 * (curl's CURLUSESSL_ALL: no TLS, no mail) unless the host is loopback
 * (127.0.0.1, ::1, localhost), where plain SMTP is allowed for tests and
 * local relays. A path in the URL is the name given in EHLO; user,
 * password or options in the URL are refused. from and each of
 * rcpt[0..nrcpt) are bare addresses ("a@b", not "<a@b>"): non-empty, no
 * CR, LF, '<' or '>'. The message may have no bare CR or LF and no NUL
 * (curl adds the dot-stuffing and the final CRLF . CRLF). user/password:
 * SMTP AUTH when user is not NULL (password may be "" or NULL), never
 * printed. Transport failures (curl codes 7, 28, 52, 55, 56) and 4xx
 * replies (421 included, at any stage) are retried up to max_attempts
 * with the backoff of HTTP requests; a 5xx reply is final. A timeout
 * after the data went out is retried too, so a message may (rarely) arrive
 * twice: mail is at-least-once.
 * 0 when the server accepted the message; SHOP_UNAVAILABLE (69) with e set
 * ("smtp://host:port: <reason> after N attempts", the reason ending with
 * the server's reply line in parentheses when it sent one) when it did
 * not; SHOP_USAGE (64) for a refused or malformed URL, a bad address or
 * message, checked before any connection. *attempts (may be NULL) gets
 * the attempts made (0 when refused before any). */
int http_smtp_send(http_client *h, const char *url, const char *from, const char *const *rcpt, size_t nrcpt,
                   const char *user, const char *password, const char *msg, size_t len, int *attempts,
                   shop_err *e);

/* GET url into out (appended); 0 on a 2xx answer. A non-2xx answer is an
 * error: 66 for 404 and 410, 69 otherwise, the message naming the status. */
int http_get(http_client *h, const char *url, buf *out, shop_err *e);

/* For the drivers of outside APIs. The header "Authorization: Bearer KEY"
 * (heap; free it with http_secret_free) with the key from the environment
 * variable env (def when env is NULL or empty); NULL with e set
 * (SHOP_CONFIG) when the variable is unset or empty or holds a space or a
 * control character: "WHAT: the environment variable NAME (CONFIG_KEY) is
 * not set". The key itself is never put in a message. */
char *http_bearer_from_env(const char *env, const char *def, const char *what, const char *config_key, shop_err *e);
void http_secret_free(char *header);
/* base without its trailing slashes (def when base is NULL or empty); heap. */
char *http_base_url(const char *base, const char *def);

/* Percent-encode s for an application/x-www-form-urlencoded body into out. */
void http_form_escape(buf *out, const char *s);

#endif
