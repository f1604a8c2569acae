/* strtab: strings interned to dense indexes 0, 1, 2... in the order they
 * were first added (open addressing over FNV-1a). The strings are copied
 * and owned by the table; an index stays valid for the table's life. */
#ifndef SHOP_STRTAB_H
#define SHOP_STRTAB_H

#include <stddef.h>
#include <stdint.h>

typedef struct strtab {
	char **s;      /* s[i]: the string of index i */
	size_t n;      /* strings held */
	uint32_t *slot; /* index + 1, 0 for an empty slot; cap slots */
	size_t cap;
} strtab;

#define STRTAB_NONE ((size_t)-1)

/* The index of s (len bytes), added when new (*added = 1, may be NULL). */
size_t strtab_add(strtab *t, const char *s, size_t len, int *added);
/* The index of s (len bytes), or STRTAB_NONE. */
size_t strtab_find(const strtab *t, const char *s, size_t len);
void strtab_free(strtab *t);
/* FNV-1a of len bytes: the table's hash, for other tables of text. */
uint64_t strtab_hash(const char *s, size_t len);

#endif
