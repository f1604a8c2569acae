/* ids: prefixed, time-sortable, opaque: "ord_" + 26 characters of Crockford
 * base32 (lower case) holding 48 bits of milliseconds and 80 random bits
 * (getrandom). Within one process ids made in the same millisecond still
 * sort in creation order (the random part is incremented). */
#ifndef SHOP_IDS_H
#define SHOP_IDS_H

#include <stddef.h>

#define ID_MAX 48

/* Write prefix "_" id into out (ID_MAX bytes). prefix is at most 8 chars. */
void id_new(const char *prefix, char out[ID_MAX]);
/* 1 when s looks like an id with this prefix (prefix "_" + 26 base32 chars). */
int id_valid(const char *prefix, const char *s);

#endif
