/* jqx: jq expressions compiled once (libjq), with a fast path for plain
 * paths such as ".sku" or ".price.amount", which are resolved without jq at
 * all: compiling costs tens of milliseconds in libjq 1.6, a path lookup
 * nothing. Also {{ jq }} templates built on the same. */
#ifndef SHOP_JQX_H
#define SHOP_JQX_H

#include <jv.h>
#include "util.h"

typedef struct jqx jqx;

/* Compile expr; what names it in messages ("--where"). NULL with e set
 * (SHOP_USAGE: "--where: syntax error ...") when it does not compile. */
jqx *jqx_compile(const char *expr, const char *what, shop_err *e);
void jqx_free(jqx *x);
/* 1 when expr is a plain path and needs no jq. */
int jqx_is_path(const jqx *x);

/* Run x on in (consumed); *out is its first output (owned), or null when it
 * gives none. A runtime error: SHOP_USAGE with "what: message". */
int jqx_eval(jqx *x, jv in, jv *out, shop_err *e);
/* Run x on in (borrowed) and tell whether its first output is true (not
 * false, null, or absent). */
int jqx_test(jqx *x, jv in, int *truth, shop_err *e);

/* Templates: literal text with {{ expr }} placeholders. A string value is
 * inserted as is; null as nothing; anything else as compact JSON. */
typedef struct jqx_tmpl jqx_tmpl;
jqx_tmpl *jqx_tmpl_compile(const char *text, const char *what, shop_err *e);
void jqx_tmpl_free(jqx_tmpl *t);
/* Render over ctx (borrowed), appending to out. */
int jqx_tmpl_render(jqx_tmpl *t, jv ctx, buf *out, shop_err *e);
/* 1 when text holds a placeholder. */
int jqx_has_placeholder(const char *text);

#endif
