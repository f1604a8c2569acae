/* json-suite DIR: run lib/base/json.c (with the UTF-8 check jsonl does
 * first) over JSONTestSuite's test_parsing cases: every y_ must parse,
 * every n_ must be refused, i_ either way; none may crash (ASan decides).
 * Prints one line per wrong verdict and a summary; exit 1 when any. The
 * two y_ cases with line breaks are fed as one text here: jsonl reads a
 * line at a time and refuses them (shop-records(5)). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static int read_all(const char *path, buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: json-suite DIR\n");
		return 64;
	}
	DIR *d = opendir(argv[1]);
	if (!d) {
		perror(argv[1]);
		return 66;
	}
	int wrong = 0, y = 0, n = 0, i = 0, i_ok = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		if (strlen(name) < 3 || name[1] != '_')
			continue;
		char *path = xasprintf("%s/%s", argv[1], name);
		buf b = {0};
		if (read_all(path, &b)) {
			free(path);
			continue;
		}
		/* As a record: one text with its final newline removed. */
		if (b.len && b.p[b.len - 1] == '\n')
			b.len--;
		size_t bad;
		int ok = 0;
		if (utf8_valid(b.p ? b.p : "", b.len, &bad)) {
			jv v;
			char err[160];
			if (!json_parse(b.p ? b.p : "", b.len, &v, err, sizeof err)) {
				ok = 1;
				jv_free(v);
			}
		}
		if (name[0] == 'y') {
			y++;
			if (!ok) {
				printf("refused y case: %s\n", name);
				wrong++;
			}
		} else if (name[0] == 'n') {
			n++;
			if (ok) {
				printf("accepted n case: %s\n", name);
				wrong++;
			}
		} else {
			i++;
			i_ok += ok;
		}
		buf_free(&b);
		free(path);
	}
	closedir(d);
	printf("%d y, %d n, %d i (%d accepted): %d wrong\n", y, n, i, i_ok, wrong);
	return wrong != 0;
}
