# vimon: one non-recursive GNU Makefile. pkg-config for every library.
#   make            build the programs (build/)
#   make check      install missing dependencies, then run every test
#   make demo       start the simulator and the agent on it
#   make screenshot regenerate docs/page.png (the on-call page, headless Chromium)
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
CTL_SRC := $(wildcard ctl/*.c)
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
PROGRAMS += $(if $(CTL_SRC),$(BUILD)/vimonctl)
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

# vimon_build_info's revision: the git commit built, or "unknown" (a tarball).
# Only agent/process.c uses it; it is rebuilt when the revision changes.
ifeq ($(origin REVISION),undefined)
REVISION := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
endif
REVISION_STAMP := $(BUILD)/revision.stamp
$(REVISION_STAMP): FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = "$(REVISION)" ] || echo "$(REVISION)" >$@
$(call obj,agent/process.c): ALL_CFLAGS += -DVIMON_REVISION='"$(REVISION)"'
$(call obj,agent/process.c): $(REVISION_STAMP)
.PHONY: FORCE
FORCE:

$(LIBVIMON): $(call obj,$(UTIL_SRC) $(VI_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIBAGENT): $(call obj,$(COL_SRC) $(AGENT_SRC) $(PLUGIN_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# The on-call page's script, style sheet and icon are assembled into this object.
$(BUILD)/obj/agent/page_static.o: $(wildcard agent/static/*)

# What the cmocka test programs share (tests/support).
$(LIBSUPPORT): $(call obj,$(SUPPORT_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/vimon: $(call obj,agent/main.c) $(LIBAGENT) $(LIBVIMON)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# vimonctl: one-shot operator commands (ctl/), the configuration reader from libagent.a.
$(BUILD)/vimonctl: $(call obj,$(CTL_SRC)) $(LIBAGENT) $(LIBVIMON)
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
# The targets of the agent's and the plugin's parsers (HTTP action bodies, the remediation
# state file, the agent's JSON in check_vsphere, --extra-opts files) link those parts too.
FUZZ_WIDE := $(FUZZ_BUILD)/fuzz_actions $(FUZZ_BUILD)/fuzz_plugin
$(FUZZ_WIDE): $(FUZZ_BUILD)/%: $(FUZZ_BUILD)/obj/tests/fuzz/%.o \
		$(patsubst %.c,$(FUZZ_BUILD)/obj/%.o,$(UTIL_SRC) $(VI_SRC) $(COL_SRC) $(AGENT_SRC) \
		$(PLUGIN_SRC))
	clang -fsanitize=fuzzer,address,undefined -pthread -o $@ $^ $(LIBS)

deps:
	@sh scripts/deps.sh

check: deps
	@sh tests/run.sh

# Only what the demo needs (no test toolchain), then the programs and the simulator.
demo:
	@sh scripts/deps.sh demo
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

# The on-call page's screenshot in the README (headless Chromium, see scripts/deps.sh).
.PHONY: screenshot
screenshot: deps all
	@sh scripts/screenshot.sh docs/page.png

bench: all $(BENCH_BINS)

lint:
	@sh scripts/lint.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Installation layout; the Debian package (debian/rules) installs through this rule too.
# Data files are installed with /usr/lib/nagios/plugins/ (the Nagios definitions' path of
# the plugins) replaced by NAGIOSPLUGINDIR.
# Optional parts are installed when they exist in the tree: vimonctl (ctl/), the Nagios
# plugins (plugins/check_*.c) and their definitions, the Grafana dashboard, every man
# page in packaging/man.
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vimon
DATADIR ?= $(PREFIX)/share/vimon
NAGIOSPLUGINDIR ?= $(PREFIX)/lib/nagios/plugins
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
INSTALL_BINS := $(sort $(filter-out $(BUILD)/check_%,$(PROGRAMS)) \
	$(if $(wildcard ctl/*.c),$(BUILD)/vimonctl))
INSTALL_PLUGINS := $(filter $(BUILD)/check_%,$(PROGRAMS))
# vimon.conf(5) is generated: its keys come from config/vimon.conf.example.
GEN_MAN := $(BUILD)/man/vimon.conf.5
MAN_PAGES := $(sort $(wildcard packaging/man/*.[1-8]) $(GEN_MAN))
INSTALL_DATA := $(wildcard packaging/prometheus/vimon-alerts.yml packaging/grafana/*.json \
	packaging/nagios/*.cfg)
UNITS := packaging/systemd/vimon.service $(BUILD)/systemd/vimon@.service

.PHONY: programs man
programs: $(INSTALL_BINS) $(INSTALL_PLUGINS)
man: $(GEN_MAN)

$(GEN_MAN): packaging/man/vimon.conf.5.in config/vimon.conf.example scripts/conf2man.py
	@mkdir -p $(dir $@)
	python3 scripts/conf2man.py packaging/man/vimon.conf.5.in config/vimon.conf.example $@

# The template unit: the same service for /etc/vimon/INSTANCE.conf.
$(BUILD)/systemd/vimon@.service: packaging/systemd/vimon.service
	@mkdir -p $(dir $@)
	sed -e 's|/etc/vimon/vimon\.conf|/etc/vimon/%i.conf|g' \
		-e 's|^Description=.*|& (%i)|' \
		-e 's|^# systemd unit for the vimon agent:.*|# systemd template unit for vimon: vimon@NAME runs /etc/vimon/NAME.conf.|' \
		-e '/^# For several agents/d' $< >$@

install: programs man $(BUILD)/systemd/vimon@.service
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	install -m 755 $(INSTALL_BINS) $(DESTDIR)$(BINDIR)/
	$(if $(INSTALL_PLUGINS),install -d $(DESTDIR)$(NAGIOSPLUGINDIR))
	$(if $(INSTALL_PLUGINS),install -m 755 $(INSTALL_PLUGINS) $(DESTDIR)$(NAGIOSPLUGINDIR)/)
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(DOCDIR)/docs
	install -m 644 $(wildcard docs/*.md) $(DESTDIR)$(DOCDIR)/docs/
	install -m 644 config/vimon.conf.example $(DESTDIR)$(DOCDIR)/examples/
	set -e; for f in $(MAN_PAGES); do \
		sec=$${f##*.}; install -d $(DESTDIR)$(MANDIR)/man$$sec; \
		install -m 644 $$f $(DESTDIR)$(MANDIR)/man$$sec/; done
	set -e; for f in $(INSTALL_DATA); do \
		d=$$(basename $$(dirname $$f)); install -d $(DESTDIR)$(DATADIR)/$$d; \
		sed 's|/usr/lib/nagios/plugins/|$(NAGIOSPLUGINDIR)/|g' $$f \
			>$(DESTDIR)$(DATADIR)/$$d/$$(basename $$f); \
		chmod 644 $(DESTDIR)$(DATADIR)/$$d/$$(basename $$f); done
	set -e; for f in $(UNITS); do \
		sed 's|/usr/bin/|$(BINDIR)/|g' $$f >$(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$f); \
		chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$(basename $$f); done
	install -m 644 packaging/systemd/vimon.sysusers $(DESTDIR)$(SYSUSERSDIR)/vimon.conf
	install -m 644 packaging/systemd/vimon.tmpfiles $(DESTDIR)$(TMPFILESDIR)/vimon.conf

# The Debian package, built by dpkg-buildpackage from a copy of the tree (scripts/deb.sh).
DEB_OUT ?= $(BUILD)/deb
.PHONY: deb
deb:
	@sh scripts/deb.sh $(DEB_OUT)

clean:
	rm -rf build build-*

-include $(shell find $(BUILD)/obj $(FUZZ_BUILD)/obj -name '*.d' 2>/dev/null)
