/* clock: the one source of "now" ($SHOP_NOW honoured), RFC 3339 and durations.
 * Times are int64 milliseconds since the Unix epoch, UTC. */
#ifndef SHOP_CLOCK_H
#define SHOP_CLOCK_H

#include <stdint.h>
#include "util.h"

/* Read $SHOP_NOW once. Unset or empty: the real clock. A value that is not
 * RFC 3339 is an error (SHOP_CONFIG, "SHOP_NOW: ..."). */
int clock_init(shop_err *e);
/* Now in ms: $SHOP_NOW when set (fixed: it does not advance), else the real clock. */
int64_t clock_now_ms(void);
/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM); 't'/'z' and ' ' as the
 * separator accepted. 0 on success, -1 when malformed or out of range. */
int clock_parse_rfc3339(const char *s, int64_t *ms);
/* Now, formatted as clock_format does (the time of records and rows). */
void clock_now_text(char out[32]);
/* Format as "YYYY-MM-DDTHH:MM:SSZ" (seconds; sub-second part dropped, floor). */
void clock_format(int64_t ms, char out[32]);
/* Durations: a sequence of <digits><unit>, unit one of ms s m h d w, e.g.
 * "30s", "15m", "1h30m", "7d". 0 on success, -1 on junk, zero-length or overflow. */
int clock_parse_duration(const char *s, int64_t *ms);

#endif
