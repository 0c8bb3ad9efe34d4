# drydock - GNU Make + pkg-config, C11.
#
#   make            build build/drydock and build/libdrydock.a
#   make check      install missing Debian packages, build, run every test
#                   (under AddressSanitizer + UBSan; `make asan` is the same)
#   make demo       the main job on the bundled images
#   make bench      benchmarks (ratios against the decompression floor)
#   make fuzz       build the libFuzzer targets (clang)
#
# BUILD=dir puts objects elsewhere (several builds can coexist).

VERSION := 0.1.0
BUILD ?= build
CC ?= cc
PKGS := libarchive libisal libzstd zlib jansson libcrypto sqlite3 yaml-0.1 libcurl libgit2 libmicrohttpd
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-missing-field-initializers -Wformat=2 -Wvla
DD_CFLAGS := -std=c11 -D_GNU_SOURCE -DDD_VERSION=\"$(VERSION)\" -Isrc $(WARN) $(PKG_CFLAGS) \
             -fno-strict-aliasing -fstack-protector-strong -MMD -MP
ifeq ($(SAN),1)
DD_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all check asan demo bench fuzz clean deps unit-tests
all: $(BUILD)/drydock

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(DD_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/libdrydock.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/drydock: $(CLI_OBJ) $(BUILD)/libdrydock.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libdrydock.a $(PKG_LIBS) -lpthread

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libdrydock.a
	@mkdir -p $(dir $@)
	$(CC) $(DD_CFLAGS) -Itests $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libdrydock.a \
		$(PKG_LIBS) $(shell pkg-config --libs cmocka) -lpthread

unit-tests: $(UNIT_BIN)

deps:
	@scripts/install-deps

# The suite always runs under AddressSanitizer + UBSan (build-asan/); the
# optimised build is compiled too so both stay warning-free.
check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=1 OPT=-O1 all unit-tests
	@BUILD=build-asan tests/run

asan: check

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) scripts/demo

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bench/run

# libFuzzer targets: clang, whole library rebuilt with fuzzer instrumentation.
FUZZ_BUILD := build-fuzz
fuzz: deps
	@$(MAKE) --no-print-directory $(FUZZ_BUILD)/libdrydock.a BUILD=$(FUZZ_BUILD) CC=clang \
		CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined"
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		echo "  FUZZ $$n"; \
		clang $(DD_CFLAGS) -O1 -g -fsanitize=fuzzer,address,undefined -o $(FUZZ_BUILD)/$$n $$f \
		$(FUZZ_BUILD)/libdrydock.a $(PKG_LIBS) -lpthread || exit 1; done

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
