/* search: the query text of shop-search (lib/search.c), which is any user
 * text: cut into words, corrected against the index's vocabulary, made an
 * FTS5 expression and run, over a small catalog in a store made once in a
 * private directory. Any error is a bug here: user text is never syntax.
 * Suggestions take the same text as a prefix. */
#include "fuzz.h"
#include "../lib/search.c"
#include "catalog.h"
#include "cfg.h"
#include "jsonl.h"

static shop S;

static const char products[] =
	"{\"sku\":\"SPR-01\",\"title\":\"Steel sprocket 12 teeth\",\"description\":\"Hardened steel sprocket for "
	"bicycles.\",\"brand\":\"Acme\",\"category\":\"tools\",\"price\":450}\n"
	"{\"sku\":\"SPR-03\",\"title\":\"Alloy sprocket 20 teeth\",\"description\":\"Light alloy sprocket, "
	"anodised.\",\"brand\":\"Globex\",\"category\":\"tools\",\"price\":890}\n"
	"{\"sku\":\"CAF-01\",\"title\":\"Caf\xc3\xa9 cr\xc3\xa8me mug \\\"large\\\"\",\"description\":\"A mug for "
	"caf\xc3\xa9 au lait; na\xc3\xafve glaze.\",\"brand\":\"M\xc3\xbcller\",\"category\":\"kitchen\","
	"\"price\":1250}\n"
	"{\"sku\":\"KEY-01\",\"title\":\"Keyboard mechanical 104-key\",\"description\":\"Tactile switches, USB-C.\","
	"\"brand\":\"Initech\",\"category\":\"electronics\",\"price\":7999}\n";

static int drop(void *arg, jv rec)
{
	(void)arg;
	jv_free(rec);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	static char dir[64], db[96];
	const char *t = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/shop-fuzz-XXXXXX", t && strlen(t) < 40 ? t : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(db, sizeof db, "%s/shop.db", dir);
	memset(&S, 0, sizeof S);
	S.db_path = db;
	S.cfg = cfg_empty();
	S.currency = "USD";
	S.max_line = JSONL_MAX_LINE;
	S.max_image = 1 << 20;
	S.quiet = 1;
	FILE *f = fmemopen((void *)products, sizeof products - 1, "r");
	shop_counts c = {0};
	if (!f || catalog_import(&S, f, "products", NULL, &c) || c.created != 4) {
		fprintf(stderr, "search fuzz: cannot import the products: %s\n", S.err.msg);
		abort();
	}
	fclose(f);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	if (n > 4096)
		return 0;
	char *text = fuzz_str(d, n);
	search_req r = {0};
	r.text = text;
	r.price_min = r.price_max = -1;
	r.facets = n & 1;
	r.explain = (n & 2) != 0;
	r.untrained = 1;
	if (search_query(&S, &r, drop, NULL)) {
		fprintf(stderr, "search: %s\n", S.err.msg);
		abort();
	}
	if (search_suggest(&S, text, 5, drop, NULL)) {
		fprintf(stderr, "suggest: %s\n", S.err.msg);
		abort();
	}
	free(text);
	return 0;
}
