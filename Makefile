# vz: build, install and test. `make check` is the whole test suite.
VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
SYSCONFDIR ?= /etc
DESTDIR ?=

# B is the build directory: build/ normally, build-asan/ for sanitizers
B ?= build
CC ?= gcc
PKGS := libcap libmnl json-c libarchive libseccomp
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libarchive is dlopen()ed (template.c); only its headers are needed here
PKG_LIBS := -Wl,--as-needed $(shell pkg-config --libs libcap libmnl json-c libseccomp 2>/dev/null)
WARN := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
BASE_CFLAGS := -std=gnu11 -O2 -g $(WARN) -DVZ_VERSION='"$(VERSION)"' \
	-Iinclude -Isrc/lib -I$(B) $(PKG_CFLAGS) -fvisibility=hidden
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

LIB_SRCS := $(sort $(wildcard src/lib/*.c))
LIB_OBJS := $(patsubst src/lib/%.c,$(B)/lib/%.o,$(LIB_SRCS))
TOOLS := vzctl vzlist vztmpl vzmigrate
PROBES := procscan attack sysprobe
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))

all: $(addprefix $(B)/,$(TOOLS)) $(B)/libvz.so $(B)/libvz.a $(B)/memhog $(addprefix $(B)/,$(PROBES))

$(B)/vzconf_default.h: etc/vz.conf
	@mkdir -p $(@D)
	{ echo 'static const char vzconf_default[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

SAMPLES := $(sort $(wildcard etc/ve-*.conf-sample))
TMPL_DEFS := $(sort $(wildcard etc/templates/*))
# the samples and template definitions ship inside libvz too: every fresh
# VZ_ROOT gets them (names relative to ETC/vz: conf/..., templates/...)
$(B)/samples.h: $(SAMPLES) $(TMPL_DEFS)
	@mkdir -p $(@D)
	{ echo 'static const struct { const char *name, *text; } conf_samples[] = {'; \
	  for f in $(SAMPLES) $(TMPL_DEFS); do n=$${f#etc/}; case $$n in ve-*) n=conf/$$n;; esac; \
	    echo "{\"$$n\","; \
	    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $$f; echo '},'; done; \
	  echo '};'; } > $@

$(B)/lib/%.o: src/lib/%.c src/lib/internal.h include/vz.h $(B)/vzconf_default.h $(B)/samples.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(EXTRA_CFLAGS) -fPIC -c $< -o $@

$(B)/libvz.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

$(B)/libvz.so: $(LIB_OBJS)
	$(CC) -shared -Wl,-soname,libvz.so.0 -o $@ $^ $(PKG_LIBS) $(EXTRA_LDFLAGS)

# Tools link libvz statically so an installed vzctl needs no ld.so setup.
$(B)/%: src/tools/%.c $(B)/libvz.a include/vz.h
	$(CC) $(BASE_CFLAGS) $(EXTRA_CFLAGS) $< -o $@ $(B)/libvz.a $(PKG_LIBS) $(EXTRA_LDFLAGS)

$(B)/tests/%: tests/unit/%.c $(B)/libvz.a
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(EXTRA_CFLAGS) -fvisibility=default $< -o $@ $(B)/libvz.a \
		$(PKG_LIBS) -lcmocka $(EXTRA_LDFLAGS)

# the checkpoint/migration workload, run inside CTs: static, it needs no
# libraries there
$(B)/memhog: tests/memhog.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -static $< -o $@

# the escape suite's programs, run as root inside CTs (static: they need
# nothing there): procscan walks /proc for host helpers, attack makes the
# system calls CT root tries, sysprobe asks seccomp'd calls and sysinfo
$(addprefix $(B)/,$(PROBES)): $(B)/%: tests/security/%.c
	@mkdir -p $(@D)
	$(CC) -std=gnu11 -O2 $(WARN) -static $< -o $@

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCDIR)
	install -m 755 $(addprefix $(B)/,$(TOOLS)) $(DESTDIR)$(SBINDIR)/
	install -m 644 $(B)/libvz.a $(DESTDIR)$(LIBDIR)/
	install -m 644 include/vz.h $(DESTDIR)$(INCDIR)/
	install -d $(DESTDIR)$(SYSCONFDIR)/vz/conf $(DESTDIR)$(SYSCONFDIR)/vz/names
	test -e $(DESTDIR)$(SYSCONFDIR)/vz/vz.conf || install -m 644 etc/vz.conf $(DESTDIR)$(SYSCONFDIR)/vz/vz.conf
	install -m 644 $(SAMPLES) $(DESTDIR)$(SYSCONFDIR)/vz/conf/
	install -d $(DESTDIR)$(SYSCONFDIR)/vz/templates
	install -m 644 $(TMPL_DEFS) $(DESTDIR)$(SYSCONFDIR)/vz/templates/
	install -d $(DESTDIR)/vz/private $(DESTDIR)/vz/root $(DESTDIR)/vz/template $(DESTDIR)/vz/lock

asan:
	$(MAKE) B=build-asan EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all $(UNIT_BINS:build/%=build-asan/%)

analyze: $(B)/vzconf_default.h $(B)/samples.h
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -Iinclude -Isrc/lib -D__linux__ \
		--suppress=missingIncludeSystem src tests/unit tests/fuzz
	# checks and why some are left out: .clang-tidy
	clang-tidy --quiet $(LIB_SRCS) $(wildcard src/tools/*.c) tests/memhog.c $(PROBES:%=tests/security/%.c) $(FUZZ_SRCS) -- \
		-std=gnu11 -D_GNU_SOURCE -DVZ_VERSION='"$(VERSION)"' -Iinclude -Isrc/lib -I$(B) \
		$(PKG_CFLAGS)
	$(MAKE) B=build-analyzer EXTRA_CFLAGS="-fanalyzer -O0" $(LIB_OBJS:build/%=build-analyzer/%) \
		$(addprefix build-analyzer/,$(TOOLS))

# libFuzzer targets (tests/fuzz/fuzz_*.c), with clang, on a libvz of their
# own (build-fuzz/: coverage, ASan and UBSan in every object). Each target
# starts from its seeds and regression inputs in tests/fuzz/corpus/TARGET/;
# what it finds goes to build-fuzz/corpus/TARGET/ (new inputs) and
# build-fuzz/crashes/TARGET/ (reproducers). Any crash, sanitizer report,
# leak or timeout fails the run.
FUZZ_B := build-fuzz
FUZZ_CC ?= clang
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_TARGETS := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_BINS := $(addprefix $(FUZZ_B)/fuzz/fuzz_,$(FUZZ_TARGETS))
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# seconds per target: `make fuzz` (long), `make fuzz-short` (make check)
FUZZ_SECONDS ?= 300
FUZZ_SHORT_SECONDS ?= 15
FUZZ_FLAGS ?=

ifneq ($(B),$(FUZZ_B))
# (the inner make knows what is out of date)
$(FUZZ_B)/libvz.a: FORCE
	$(MAKE) B=$(FUZZ_B) CC=$(FUZZ_CC) EXTRA_CFLAGS="-O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
		$(FUZZ_B)/libvz.a
endif

# the static objects, so that libvz's hidden functions link
$(FUZZ_B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_B)/libvz.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(BASE_CFLAGS:-I$(B)=-I$(FUZZ_B)) -O1 -fsanitize=fuzzer $(FUZZ_SAN) $< -o $@ \
		$(FUZZ_B)/libvz.a $(PKG_LIBS)

fuzz-build: $(FUZZ_BINS)

# FUZZ_TARGETS="config ip" picks targets; FUZZ_FLAGS adds libFuzzer flags
fuzz fuzz-short: fuzz-build
	@secs=$(if $(filter fuzz-short,$@),$(FUZZ_SHORT_SECONDS),$(FUZZ_SECONDS)); \
	failed=; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_B)/corpus/$$t $(FUZZ_B)/crashes/$$t; \
		echo "== fuzz_$$t: $$secs s"; \
		if $(FUZZ_B)/fuzz/fuzz_$$t -max_total_time=$$secs -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix=$(FUZZ_B)/crashes/$$t/ \
			$$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) $(FUZZ_FLAGS) \
			$(FUZZ_B)/corpus/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_B)/fuzz_$$t.log; then \
			grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
				$(FUZZ_B)/fuzz_$$t.log || true; \
		else \
			tail -n 60 $(FUZZ_B)/fuzz_$$t.log; \
			echo "fuzz_$$t FAILED: log $(FUZZ_B)/fuzz_$$t.log, reproducer in $(FUZZ_B)/crashes/$$t/"; \
			failed="$$failed $$t"; \
		fi; \
	done; \
	test -z "$$failed" || { echo "fuzzing failed:$$failed"; exit 1; }

demo: install
	scripts/demo.sh

# The whole suite: dependencies, static analysis, a short fuzzing run, unit
# and integration tests on the normal build and again under ASan+UBSan.
check:
	scripts/deps.sh --test
	$(MAKE) all
	$(MAKE) analyze
	$(MAKE) fuzz-short
	$(MAKE) asan
	$(MAKE) install
	tests/run.sh

clean:
	rm -rf build build-asan build-analyzer build-fuzz

.PHONY: all unit install asan analyze demo check clean fuzz fuzz-short fuzz-build FORCE
.SECONDARY:
FORCE:
