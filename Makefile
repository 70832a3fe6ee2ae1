# vimon: one non-recursive GNU Makefile. pkg-config for every library.
#   make            build the programs (build/)
#   make check      install missing dependencies, then run every test
#   make demo       start the simulator and the agent on it
#   make fuzz       build the libFuzzer targets (build-fuzz/)
#   make lint       banned functions, include rules, clang-format
#   make install    PREFIX=/usr/local DESTDIR=
# Overridable: BUILD, CC, OPTIMIZATION, SAN, PREFIX, DESTDIR.

VERSION := 0.1.0
BUILD ?= build
CC ?= cc
OPTIMIZATION ?= -O2
SAN ?=
PREFIX ?= /usr/local
DESTDIR ?=
PKG_CONFIG ?= pkg-config

PKGS := libcurl libssl libcrypto libxml-2.0 libmicrohttpd libconfig jansson zlib
WARN := -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -DVIMON_VERSION='"$(VERSION)"' -g $(OPTIMIZATION) \
	$(WARN) $(SAN) -I. $(PKG_CFLAGS) -pthread -MMD -MP $(CFLAGS)
ALL_LDFLAGS := $(SAN) -pthread $(LDFLAGS)
LIBS := $(PKG_LIBS) -lcrypt -lm

# Sources are found by directory: adding a file needs no Makefile change.
UTIL_SRC := $(wildcard util/*.c)
VI_SRC := $(wildcard vi/*.c)
COL_SRC := $(wildcard collectors/*.c)
AGENT_MAINS := agent/main.c
AGENT_SRC := $(filter-out $(AGENT_MAINS),$(wildcard agent/*.c))
PLUGIN_MAINS := $(wildcard plugins/check_*.c)
PLUGIN_SRC := $(filter-out $(PLUGIN_MAINS),$(wildcard plugins/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
SUPPORT_SRC := $(wildcard tests/support/*.c)
ITEST_SRC := $(wildcard tests/integration/*.c)
BENCH_SRC := $(wildcard bench/*.c)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
SIM_SRC := $(wildcard tests/sim/*.go)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBVIMON := $(BUILD)/libvimon.a
LIBAGENT := $(BUILD)/libagent.a
LIBSUPPORT := $(BUILD)/libtestsupport.a
PROGRAMS := $(if $(wildcard agent/main.c),$(BUILD)/vimon) \
	$(patsubst plugins/%.c,$(BUILD)/%,$(PLUGIN_MAINS))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
ITEST_BINS := $(patsubst tests/integration/%.c,$(BUILD)/tests/%,$(ITEST_SRC))
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
SIM_BIN := $(BUILD)/vimon-sim

.PHONY: all check demo fuzz lint install clean deps sim tests bench format
all: $(PROGRAMS) $(SIM_BIN)

tests: all $(UNIT_BINS) $(ITEST_BINS) $(BENCH_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBVIMON): $(call obj,$(UTIL_SRC) $(VI_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBAGENT): $(call obj,$(COL_SRC) $(AGENT_SRC) $(PLUGIN_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# What the cmocka test programs share (tests/support).
$(LIBSUPPORT): $(call obj,$(SUPPORT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/vimon: $(call obj,agent/main.c) $(LIBAGENT) $(LIBVIMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/check_%: $(call obj,plugins/check_%.c) $(LIBAGENT) $(LIBVIMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBSUPPORT) $(LIBAGENT) $(LIBVIMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/integration/%.o $(LIBSUPPORT) $(LIBAGENT) $(LIBVIMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(LIBAGENT) $(LIBVIMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The simulator: Debian's govmomi in GOPATH mode, no module downloads.
sim: $(SIM_BIN)
$(SIM_BIN): $(SIM_SRC)
	@mkdir -p $(dir $@)
	cd tests/sim && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= \
		GOCACHE=$(abspath $(BUILD))/go-cache go build -o $(abspath $@) .

# libFuzzer targets: clang, ASan+UBSan, all of util/ and vi/ compiled for fuzzing.
FUZZ_BUILD := build-fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -DVIMON_VERSION='"$(VERSION)"' -g -O1 -I. $(PKG_CFLAGS) \
	-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -pthread
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(FUZZ_SRC))
fuzz: $(FUZZ_BINS)
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/obj/tests/fuzz/fuzz_%.o \
		$(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(UTIL_SRC) $(VI_SRC))
	clang -fsanitize=fuzzer,address,undefined -pthread -o $@ $^ $(LIBS)

deps:
	@sh scripts/deps.sh

check: deps
	@sh tests/run.sh

demo: deps all
	@sh scripts/demo.sh

bench: all $(BENCH_BINS)

lint:
	@sh scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/vimon \
		$(DESTDIR)$(PREFIX)/share/vimon/prometheus $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 README.md $(wildcard docs/*.md) $(wildcard config/*.example) \
		$(DESTDIR)$(PREFIX)/share/doc/vimon/
	install -m 644 packaging/prometheus/vimon-alerts.yml $(DESTDIR)$(PREFIX)/share/vimon/prometheus/
	sed 's|/usr/bin/|$(PREFIX)/bin/|g' packaging/systemd/vimon.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/vimon.service

clean:
	rm -rf build build-*

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
