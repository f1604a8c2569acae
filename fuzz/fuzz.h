/* fuzz.h: what the fuzz targets share. Each target is one file,
 * fuzz/NAME.c, defining LLVMFuzzerTestOneInput over one parser that meets
 * outside input; built with libFuzzer by `make fuzz` and as a plain
 * program over its corpus (fuzz/replay.c) by `make fuzz-replay`. */
#ifndef SHOP_FUZZ_H
#define SHOP_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A NUL-terminated heap copy of the input. */
static inline char *fuzz_str(const uint8_t *d, size_t n)
{
	char *s = malloc(n + 1);
	if (n)
		memcpy(s, d, n);
	s[n] = 0;
	return s;
}

/* The input written to a fresh file in a private directory made once per
 * process; returns its path (static). */
static inline const char *fuzz_file(const uint8_t *d, size_t n)
{
	static char dir[64], path[96];
	if (!dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/shop-fuzz-XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof path, "%s/input", dir);
	}
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(d, 1, n, f) != n) || fclose(f))
		abort();
	return path;
}

#endif
