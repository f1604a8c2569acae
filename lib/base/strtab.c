/* strtab: see strtab.h. */
#include "strtab.h"

#include <string.h>

#include "util.h"

uint64_t strtab_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static size_t probe(const strtab *t, const char *s, size_t len)
{
	size_t h = strtab_hash(s, len) & (t->cap - 1);
	while (t->slot[h]) {
		const char *x = t->s[t->slot[h] - 1];
		if (!strncmp(x, s, len) && !x[len])
			break;
		h = (h + 1) & (t->cap - 1);
	}
	return h;
}

size_t strtab_find(const strtab *t, const char *s, size_t len)
{
	if (!t->cap)
		return STRTAB_NONE;
	size_t h = probe(t, s, len);
	return t->slot[h] ? t->slot[h] - 1 : STRTAB_NONE;
}

size_t strtab_add(strtab *t, const char *s, size_t len, int *added)
{
	if (added)
		*added = 0;
	if (2 * (t->n + 1) >= t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		uint32_t *slot = xcalloc(cap, sizeof *slot);
		for (size_t i = 0; i < t->n; i++) {
			size_t h = strtab_hash(t->s[i], strlen(t->s[i])) & (cap - 1);
			while (slot[h])
				h = (h + 1) & (cap - 1);
			slot[h] = (uint32_t)(i + 1);
		}
		free(t->slot);
		t->slot = slot;
		t->cap = cap;
		/* The strings array grows with the slots: n < cap / 2 always. */
		t->s = xrealloc(t->s, cap / 2 * sizeof *t->s);
	}
	size_t h = probe(t, s, len);
	if (t->slot[h])
		return t->slot[h] - 1;
	t->s[t->n] = xstrndup(s, len);
	t->slot[h] = (uint32_t)(++t->n);
	if (added)
		*added = 1;
	return t->n - 1;
}

void strtab_free(strtab *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->slot);
	memset(t, 0, sizeof *t);
}
