/* replay: run a fuzz target as a plain program over files and directories
 * of inputs (fuzz/corpus/NAME), for `make fuzz-replay`: no libFuzzer, the
 * normal compiler, the ASan+UBSan build. A fixed crash stays fixed. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return 1;
	}
	size_t cap = 4096, n = 0, r;
	uint8_t *d = malloc(cap);
	while ((r = fread(d + n, 1, cap - n, f)) > 0)
		if ((n += r) == cap)
			d = realloc(d, cap *= 2);
	fclose(f);
	/* A copy of exactly n bytes, so that ASan sees a read past the end. */
	uint8_t *exact = malloc(n ? n : 1);
	memcpy(exact, d, n);
	free(d);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int bad = 0;
	size_t runs = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st)) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad |= run_file(argv[i]);
			runs++;
			continue;
		}
		DIR *dir = opendir(argv[i]);
		if (!dir) {
			perror(argv[i]);
			return 1;
		}
		char **names = NULL;
		size_t n = 0;
		struct dirent *de;
		while ((de = readdir(dir)))
			if (de->d_name[0] != '.') {
				names = realloc(names, (n + 1) * sizeof *names);
				names[n++] = strdup(de->d_name);
			}
		closedir(dir);
		qsort(names, n, sizeof *names, cmp);
		for (size_t k = 0; k < n; k++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], names[k]);
			bad |= run_file(path);
			runs++;
			free(names[k]);
		}
		free(names);
	}
	fprintf(stderr, "%s: %zu inputs\n", argv[0], runs);
	return bad;
}
