# shop — one flat Makefile.  `make demo` and `make check` are the two
# commands of the README; both install what is missing first.

VERSION  = 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
SAN     ?=
# The sanitizer build is always built with the sanitizers: `make test
# BUILD=build-asan T=...` must not fill it with plain objects.
ifeq ($(BUILD),build-asan)
SAN      = 1
endif

TOOLS    = shop-catalog shop-inv shop-cart shop-order shop-pay shop-saga shop-ship shop-rma shop-search shop-reco shop-notify

PKGS     = sqlite3 yaml-0.1 libcurl
CC      ?= cc
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wvla
CFLAGS  ?= -O2 -g
ifeq ($(SAN),1)
CFLAGS   = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Ilib -Ilib/base -DSHOP_VERSION='"$(VERSION)"' \
             $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libcurl is not linked: lib/base/http.c loads it with dlopen on first use
# (its dependencies cost every process ~8 ms to load); only its headers.
LIBS     = $(shell pkg-config --libs sqlite3 yaml-0.1 2>/dev/null) -ljq -lm -ldl

LIB_SRC  = $(wildcard lib/base/*.c lib/*.c lib/drivers/*.c)
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/schema.o $(BUILD)/obj/sagas.o
BINS     = $(TOOLS:%=$(BUILD)/bin/%)
UNIT_SRC = $(wildcard tests/unit/*.c)
UNITS    = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
MANS     = $(wildcard man/*.[1-8])

.PHONY: all deps demo check test units lint install clean bench fuzz fuzz-replay
.SUFFIXES:

all: $(BINS)

deps:
	@scripts/deps

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The schema is compiled into every binary, so a store can be created or
# migrated without any file beside the binary.
$(BUILD)/schema.c: shop.db.sql scripts/embed
	@mkdir -p $(@D)
	scripts/embed shop_schema_sql < shop.db.sql > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/schema.o: $(BUILD)/schema.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# So are the built-in saga files (lib/sagas/*.yaml).
SAGAS    = $(sort $(wildcard lib/sagas/*.yaml))
$(BUILD)/sagas.c: $(SAGAS) scripts/embed-sagas
	@mkdir -p $(@D)
	scripts/embed-sagas $(SAGAS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/sagas.o: $(BUILD)/sagas.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libshop.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/cmd/%.o $(BUILD)/libshop.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libshop.a $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libshop.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/libshop.a $(LIBS)

units: $(UNITS) $(BUILD)/tests/fault-shim.so

# The I/O fault injection of tests/93-faults.bats, preloaded into any
# program: built without the sanitizers (the tests tell ASan so).
$(BUILD)/tests/fault-shim.so: tests/faults/shim.c
	@mkdir -p $(@D)
	cc -std=c11 -shared -fPIC -O1 -Wall -Wextra -Werror -o $@ $< -ldl

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo $(BUILD)/bin

# The whole suite twice: the normal build, then an ASan+UBSan build.
check: deps
	@$(MAKE) --no-print-directory all units
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 all units
	@scripts/check $(BUILD) build-asan

# One build only, for the edit-test loop: make test T=tests/10-catalog-import.bats
test: all units
	@scripts/check $(BUILD) -- $(T)

lint:
	@scripts/lint

bench: all
	@scripts/bench/catalog $(BUILD)/bin
	@scripts/bench/inventory $(BUILD)/bin
	@scripts/bench/checkout $(BUILD)/bin
	@scripts/bench/payments $(BUILD)/bin
	@scripts/bench/saga $(BUILD)/bin
	@scripts/bench/search $(BUILD)/bin
	@scripts/bench/reco $(BUILD)/bin

# Fuzzing (fuzz/): one libFuzzer target per parser that meets outside input.
# `make fuzz` builds them with clang in build-fuzz/ and runs each for
# FUZZ_SECONDS, new finds going to fuzz/corpus/NAME; `make fuzz-replay`
# runs the same targets as plain programs over their corpora in the
# ASan+UBSan build: fast, and a fixed crash stays fixed.
FUZZ_TARGETS = json jsonl money cfg saga journal search reconcile carrier stripe
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined

fuzz:
	@$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang CFLAGS='$(FUZZ_CFLAGS)' \
		$(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
	@fuzz/run build-fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-replay:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 $(FUZZ_TARGETS:%=build-asan/fuzz-replay/%)
	@for t in $(FUZZ_TARGETS); do \
		ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=fuzz/lsan.supp \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			build-asan/fuzz-replay/$$t fuzz/corpus/$$t || exit 1; done

build-fuzz/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) build-fuzz/libshop.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ifuzz -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libshop.a $(LIBS)

$(BUILD)/fuzz-replay/%: fuzz/%.c fuzz/replay.c $(wildcard fuzz/*.h) $(BUILD)/libshop.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ifuzz $(LDFLAGS) -o $@ $< fuzz/replay.c $(BUILD)/libshop.a $(LIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	           $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	for m in $(MANS); do s=$${m##*.}; install -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/; done

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
