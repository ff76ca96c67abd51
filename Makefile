# fwpkg: one flat Makefile. A static library (formats/, signing/) and thin programs.
.DELETE_ON_ERROR:
# Keep intermediate objects (unit test objects are built through a pattern chain).
.SECONDARY:
.SUFFIXES:

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=
SIZE_MB ?= 256

# Sanitizer builds live apart, so switching never mixes objects.
B := $(if $(filter 1,$(SANITIZE)),build-san,build)
PKGS := libarchive libsodium jansson openssl libcurl libzstd
WARN := -Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes -Wwrite-strings -Wshadow
OPT := -O2 -g
ifeq ($(SANITIZE),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LD := -fsanitize=address,undefined
# A sanitizer finding must never pass for an expected "rejected" (exit 1).
# Full unwinding at malloc: a leak inside a third-party library (tests/lsan.supp) then shows its frames.
export ASAN_OPTIONS := exitcode=86:detect_leaks=1:fast_unwind_on_malloc=0
export UBSAN_OPTIONS := print_stacktrace=1:exitcode=87
# Leaks inside third-party PKCS#11 modules (SoftHSM) are theirs, listed in this file.
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0
endif
# The user's CPPFLAGS and CFLAGS come after ours so they can override anything.
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread $(WARN) $(OPT) \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(shell pkg-config --cflags p11-kit-1 2>/dev/null) \
	$(shell pkg-config --cflags libubootenv 2>/dev/null) -I. $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = -pthread $(SAN_LD) $(LDFLAGS)
# No program links libcurl (its headers are still needed): fwctl loads it
# with dlopen when a network source is first used (device/dev_curl), so no
# other command pays the start-up time and resident memory of the ~30
# libraries it pulls in, and a device without libcurl installs from files.
# libubootenv likewise (device/dev_board.c): only a U-Boot board loads it, so
# a GRUB board or the simulated device needs none; its header types the calls.
LIBS = $(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null)

# Library code, by layer (base, signing, formats); the *_write / *_sign files
# create packages or keys and never reach the device program.
LIB_SRC := $(sort $(wildcard base/*.c formats/*.c signing/*.c))
CREATE_SRC := $(sort $(wildcard formats/*_write.c signing/*_sign.c))
VERIFY_SRC := $(filter-out $(CREATE_SRC),$(LIB_SRC))
CLI_SRC := $(sort $(wildcard tools/cli_*.c))
FWPKG_SRC := $(sort $(wildcard tools/cmd_*.c)) tools/fwpkg.c
MKPKG_SRC := $(sort $(wildcard mkpkg/*.c))
MKWMOPKG_SRC := $(sort $(wildcard mkwmopkg/*.c))
# libfwdev (device/dev_*.c) holds the device's logic; fwctl.c and cmd_*.c are its thin front end.
DEVLIB_SRC := $(sort $(wildcard device/dev_*.c))
DEVICE_SRC := $(sort $(wildcard device/cmd_*.c)) $(wildcard device/fwctl.c)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB := $(B)/libfwpkg.a
VLIB := $(B)/libfwpkg-verify.a
CLILIB := $(B)/libfwcli.a
DEVLIB := $(B)/libfwdev.a
PROGS := $(B)/fwpkg $(B)/mkpkg $(if $(MKWMOPKG_SRC),$(B)/mkwmopkg) $(if $(DEVICE_SRC),$(B)/fwctl)
UNITS := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRC))
# LD_PRELOAD fault shims for the end-to-end tests (disk full, short reads, ...).
SHIMS := $(patsubst tests/shim/%.c,$(B)/shim/%.so,$(wildcard tests/shim/*.c))
# Test drivers: small programs the end-to-end tests run against real servers; never installed.
DRIVERS := $(B)/tests/xfer

all: $(PROGS)

# Only check and demo install what they need (scripts/install-deps); a plain
# make, or make install, never touches the system's packages.
$(B)/.deps: scripts/install-deps
	@mkdir -p $(@D)
	scripts/install-deps
	@touch $@

# check, demo, fleet and bench-delta install the packages before anything is compiled:
# a prerequisite of the goal alone is not enough, as .SECONDARY: with no
# prerequisites lets GNU make 4.3 postpone it until after `all`. So the
# stamp is an order-only prerequisite of every object and shim then (and
# of nothing in a plain make, which never installs anything).
DEPS_FIRST := $(if $(filter check demo fleet,$(MAKECMDGOALS)),$(B)/.deps) \
	$(if $(filter bench-delta,$(MAKECMDGOALS)),$(B)/.deps-bench-delta)

$(B)/obj/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/shim/%.so: tests/shim/%.c | $(DEPS_FIRST)
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 $(CPPFLAGS) $(CFLAGS) -o $@ $< -ldl

$(LIB): $(call obj,$(LIB_SRC))
	$(AR) rcs $@ $^
$(VLIB): $(call obj,$(VERIFY_SRC))
	$(AR) rcs $@ $^
$(CLILIB): $(call obj,$(CLI_SRC))
	$(AR) rcs $@ $^
$(DEVLIB): $(call obj,$(DEVLIB_SRC))
	$(AR) rcs $@ $^

$(B)/fwpkg: $(call obj,$(FWPKG_SRC)) $(CLILIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(B)/mkpkg: $(call obj,$(MKPKG_SRC)) $(CLILIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
$(B)/mkwmopkg: $(call obj,$(MKWMOPKG_SRC)) $(CLILIB) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)
# The device program links only the verifying half of the library, and no host CLI code.
$(B)/fwctl: $(call obj,$(DEVICE_SRC)) $(DEVLIB) $(VLIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(DEVLIB) $(CLILIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcunit

$(B)/tests/xfer: $(B)/obj/tests/drivers/xfer.o $(DEVLIB) $(VLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

check: $(B)/.deps all $(UNITS) $(SHIMS) $(DRIVERS)
	@set -e; for t in $(UNITS); do echo "== $$t"; $$t; done
	tests/run-e2e $(B)

demo: $(B)/.deps all
	scripts/demo $(B)

bench: all
	scripts/bench $(B) $(SIZE_MB)

# Full, compressed and delta packages of a real Debian 12 image pair against zstd, xdelta3 and
# zstd --patch-from (scripts/bench-delta); the pair is built once (mmdebstrap) and kept in $(B)/bench-delta.
$(B)/.deps-bench-delta: scripts/install-deps
	@mkdir -p $(@D)
	scripts/install-deps --bench-delta
	@touch $@

bench-delta: $(B)/.deps-bench-delta all
	scripts/bench-delta $(B)

# N simulated devices updating themselves from a real nginx through a fault proxy (scripts/fleet).
DEVICES ?= 100
fleet: $(B)/.deps all
	scripts/fleet $(B) $(DEVICES)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(filter-out $(B)/fwctl,$(PROGS)) $(DESTDIR)$(BINDIR)
	$(if $(DEVICE_SRC),install -m 755 $(B)/fwctl $(DESTDIR)$(SBINDIR))
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 $(wildcard man/*.5) $(DESTDIR)$(MANDIR)/man5
	$(if $(wildcard man/*.8),install -m 644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,fwpkg mkpkg mkwmopkg) $(DESTDIR)$(SBINDIR)/fwctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(wildcard man/*.8)))

# Coverage-guided fuzzing with clang's libFuzzer, FUZZ_SECONDS per target, seeded with real packages.
# The library and the device's (libfwdev: it needs libcurl's headers, not the library, which it dlopens)
# are compiled once with the fuzzing sanitizers; each target links them.
# One target alone: make fuzz FUZZ_TARGETS=fuzz_catalog FUZZ_SECONDS=300
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS = -g -O1 -std=gnu11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -pthread -I. \
	$(shell pkg-config --cflags $(PKGS) p11-kit-1 2>/dev/null) -fsanitize=fuzzer-no-link,address,undefined
FUZZ_LIB := $(B)/fuzz/libfuzzed.a
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_LIB): $(patsubst %.c,$(B)/fuzz/obj/%.o,$(LIB_SRC) $(DEVLIB_SRC))
	$(AR) rcs $@ $^
$(B)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(wildcard tests/fuzz/*.h) $(FUZZ_LIB)
	clang $(filter-out -fsanitize=fuzzer-no-link%,$(FUZZ_CFLAGS)) -fsanitize=fuzzer,address,undefined -o $@ $< \
		$(FUZZ_LIB) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -pthread
fuzz: all $(addprefix $(B)/fuzz/,$(FUZZ_TARGETS))
	@mkdir -p $(B)/fuzz
	scripts/fuzz-corpus $(B) $(B)/fuzz/corpus
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $$t ($(FUZZ_SECONDS)s)"; \
		FUZZ_UNLOCK_KEY=$$(tail -n 1 $(B)/fuzz/corpus/unlock.pub) \
		$(B)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=262144 \
			-artifact_prefix=$(B)/fuzz/$$t- $(B)/fuzz/corpus/$$t; \
	done

# Cleans its own build directory (build-san), not the plain one.
sanitize:
	$(MAKE) clean SANITIZE=1
	$(MAKE) check SANITIZE=1

clean:
	rm -rf $(B)

.PHONY: all check demo bench bench-delta fleet fuzz install uninstall sanitize clean
-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
