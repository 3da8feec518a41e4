# shoal: one top-level build.
#   make            build the binaries into build/bin
#   make run        boot the default guest
#   make test       unit tests, guest programs, end-to-end tests
#   make bench      benchmarks against the peer (QEMU), see perf/
#   make SAN=1 ...  ASan + UBSan build (in build-san/)
#   make CC=clang   same flags, clang

CC ?= gcc
SAN ?=
BUILD := $(if $(SAN),build-san,build)
BIN := $(BUILD)/bin
OBJ := $(BUILD)/obj

CFLAGS_BASE := -std=gnu17 -Wall -Wextra -Werror -g -D_GNU_SOURCE -MMD -MP
ifeq ($(SAN),1)
CFLAGS_OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_SAN := -fsanitize=address,undefined
else
CFLAGS_OPT := -O2
LDFLAGS_SAN :=
endif
CFLAGS := $(CFLAGS_BASE) $(CFLAGS_OPT) $(EXTRA_CFLAGS)
LDFLAGS := $(LDFLAGS_SAN) $(EXTRA_LDFLAGS)

COMMON_SRC := common/log.c common/region.c common/proto.c common/fdpass.c common/zmsg.c \
	common/memclient.c common/util.c common/jitcache.c
MEM_SRC := mem-server/main.c
CPU_SRC := cpu-worker/main.c cpu-worker/decode.c cpu-worker/exec.c cpu-worker/csr.c cpu-worker/bus.c \
	cpu-worker/mmu.c cpu-worker/fpu.c cpu-worker/plic.c cpu-worker/jit.c cpu-worker/amo.c
JIT_SRC := jit-service/main.c jit-service/translate.c jit-service/cover.c cpu-worker/decode.c
DEV_SRC := dev-server/main.c dev-server/uart16550.c dev-server/goldfish_rtc.c dev-server/virtio.c dev-server/virtio_blk.c dev-server/virtio_rng.c dev-server/virtio_net.c dev-server/virtio_console.c
SHOAL_SRC := deploy/shoal.c deploy/elf.c deploy/boot.c deploy/numa.c deploy/devices.c deploy/ctl.c deploy/vcon.c deploy/jitstats.c

obj = $(patsubst %.c,$(OBJ)/%.o,$(1))

LIBS_COMMON := -lzmq -lmsgpackc
BINS := $(BIN)/shoal $(BIN)/shoal-mem $(BIN)/shoal-cpu $(BIN)/shoal-dev $(BIN)/shoal-net $(BIN)/shoal-jit

.PHONY: all deps deps-test gates clang-build run test unit guest e2e bench clean format format-check lint \
	coverage docs perf-unit e2e-linux
all: deps $(BINS)

# Installs missing Debian packages (no-op when everything is there).
deps:
	@sh deploy/deps.sh build

# The FPU relies on the host's rounding mode and exception flags, so the
# compiler must neither reorder nor fold floating-point operations there.
FPU_CFLAGS := $(if $(findstring clang,$(CC)),-ffp-model=strict,-frounding-math -fsignaling-nans -ffp-contract=off)
$(OBJ)/cpu-worker/fpu.o: CFLAGS += $(FPU_CFLAGS)
# Order-only on deps: with -j, nothing compiles before the headers are installed.
$(OBJ)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BIN)/shoal: $(call obj,$(SHOAL_SRC) $(COMMON_SRC))
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_COMMON) -lfdt
$(BIN)/shoal-mem: $(call obj,$(MEM_SRC) $(COMMON_SRC))
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_COMMON) -lnuma -lpthread
$(BIN)/shoal-cpu: $(call obj,$(CPU_SRC) $(COMMON_SRC))
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_COMMON) -lm
$(BIN)/shoal-jit: $(call obj,$(JIT_SRC) $(COMMON_SRC))
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_COMMON)
$(BIN)/shoal-dev: $(call obj,$(DEV_SRC) $(COMMON_SRC))
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) $^ -o $@ $(LIBS_COMMON) -luring
$(BIN)/shoal-net: $(call obj,dev-server/slirp_net.c common/log.c common/util.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ -lslirp

# ---- guest programs (bare-metal RV64, built with Debian's cross gcc) ----
RVCC := riscv64-linux-gnu-gcc
RVFLAGS := -ffreestanding -static -nostdlib -nostartfiles -fno-pic -fno-pie -no-pie -mcmodel=medany \
	-march=rv64gc_zicsr_zifencei -mabi=lp64d -Wl,--build-id=none -Wl,--no-warn-rwx-segments -O2 -Wall -Werror \
	-T tests/guest/link.ld -Itests/guest
GUEST_DIR := $(BUILD)/guest
GUEST_C := $(filter-out tests/guest/jitdiff.c,$(wildcard tests/guest/*.c))
GUEST_S := $(wildcard tests/guest/*.S)
GUEST_ELF := $(patsubst tests/guest/%.c,$(GUEST_DIR)/%.elf,$(GUEST_C)) \
	$(patsubst tests/guest/%.S,$(GUEST_DIR)/%.elf,$(filter-out tests/guest/crt0.S,$(GUEST_S)))

$(GUEST_DIR)/%.elf: tests/guest/%.c tests/guest/crt0.S tests/guest/link.ld tests/guest/guest.h \
		tests/guest/virtq.h
	@mkdir -p $(dir $@)
	$(RVCC) $(RVFLAGS) tests/guest/crt0.S $< -o $@ -lgcc
$(GUEST_DIR)/%.elf: tests/guest/%.S tests/guest/link.ld tests/guest/isa.h
	@mkdir -p $(dir $@)
	$(RVCC) $(RVFLAGS) $< -o $@
$(GUEST_DIR)/shoalmark.elf: perf/cpu/mark.h
# Variants used by tests: a short intloop, and a program linked outside RAM.
$(GUEST_DIR)/intloop_short.elf: tests/guest/intloop.c tests/guest/crt0.S tests/guest/link.ld tests/guest/guest.h
	$(RVCC) $(RVFLAGS) -DROUNDS=20 tests/guest/crt0.S $< -o $@ -lgcc
$(GUEST_DIR)/reboot_slow.elf: tests/guest/reboot.c tests/guest/crt0.S tests/guest/link.ld tests/guest/guest.h
	$(RVCC) $(RVFLAGS) -DREBOOT_DELAY_MS=800 tests/guest/crt0.S $< -o $@ -lgcc
$(GUEST_DIR)/shoalmark_long.elf: tests/guest/shoalmark.c perf/cpu/mark.h tests/guest/crt0.S tests/guest/link.ld \
		tests/guest/guest.h
	$(RVCC) $(RVFLAGS) -DMARK_ITERS=20000 tests/guest/crt0.S $< -o $@ -lgcc
$(GUEST_DIR)/outside.elf: $(GUEST_DIR)/hello.elf
	riscv64-linux-gnu-objcopy --change-addresses 0x10000000 $< $@
# The JIT differential test: the harness plus random cases generated from a
# seed (tests/jit/gen_diff.py), one program per seed. Seeds 68 and 130
# catch the two ways an if-converted branch over a W instruction went
# wrong: its register left unextended where the target did not expect it,
# and (the first fix) extended on the way out although the branch had
# kept a 64-bit value there. Seed 239: one whose old value was left
# unextended and whose new one need not be a word (once edges into a
# block extend what it cannot know).
JITDIFF_SEEDS := 1 2 3 68 130 239
JITDIFF_ELF := $(patsubst %,$(GUEST_DIR)/jitdiff-%.elf,$(JITDIFF_SEEDS))
$(GUEST_DIR)/jitdiff-cases-%.S: tests/jit/gen_diff.py
	@mkdir -p $(dir $@)
	python3 tests/jit/gen_diff.py $* 200 > $@
$(GUEST_DIR)/jitdiff-%.elf: tests/guest/jitdiff.c $(GUEST_DIR)/jitdiff-cases-%.S tests/guest/crt0.S \
		tests/guest/link.ld tests/guest/guest.h
	$(RVCC) $(RVFLAGS) tests/guest/crt0.S $< $(GUEST_DIR)/jitdiff-cases-$*.S -o $@ -lgcc
GUEST_ALL := $(GUEST_ELF) $(GUEST_DIR)/intloop_short.elf $(GUEST_DIR)/outside.elf $(JITDIFF_ELF) \
	$(GUEST_DIR)/shoalmark_long.elf $(GUEST_DIR)/reboot_slow.elf
$(GUEST_ALL): | deps
guest: deps $(GUEST_ELF) $(GUEST_DIR)/intloop_short.elf $(GUEST_DIR)/outside.elf $(JITDIFF_ELF) \
	$(GUEST_DIR)/shoalmark_long.elf $(GUEST_DIR)/reboot_slow.elf

# ---- the Linux guest: kernel and busybox from Debian sources, cached by
# deploy/guest-image.sh; the programs and initramfs images the guests run
# are files here, rebuilt only when what they are made of changes ----
LINUX_DIR := $(BUILD)/linux
LINUX_PROGS := smp_atomics rtc_check blkpattern blkbench cpubench
LINUX_HOST_PROGS := blkpattern-host cpubench-host
# Each initramfs: its /init, then what goes in /bin.
INITRD_blkcrash := tests/linux/init-blkcrash $(LINUX_DIR)/blkpattern
INITRD_netcrash := tests/linux/init-netcrash tests/linux/udhcpc-script
INITRD_vconcrash := tests/linux/init-vconcrash
INITRD_tap := tests/linux/init-tap
INITRD_blkbench := tests/linux/init-blkbench $(LINUX_DIR)/blkbench
INITRD_selftest := tests/linux/init-selftest $(LINUX_DIR)/smp_atomics $(LINUX_DIR)/rtc_check
INITRD_shell := deploy/guest/init $(LINUX_DIR)/smp_atomics
INITRD_bench := tests/linux/init-bench $(LINUX_DIR)/cpubench
INITRD_jitcrash := tests/linux/init-jitcrash $(LINUX_DIR)/cpubench
INITRDS := blkcrash netcrash vconcrash tap blkbench selftest shell bench jitcrash
.PHONY: linux-guest guest-deps FORCE
guest-deps: deps
	@sh deploy/deps.sh guest
	@mkdir -p $(LINUX_DIR)
linux-guest: guest-deps $(LINUX_PROGS:%=$(LINUX_DIR)/%) $(LINUX_HOST_PROGS:%=$(LINUX_DIR)/%) \
		$(INITRDS:%=$(LINUX_DIR)/%.cpio.gz)
	@ln -sf "$$(sh deploy/guest-image.sh kernel)" $(LINUX_DIR)/Image
$(LINUX_PROGS:%=$(LINUX_DIR)/%): $(LINUX_DIR)/%: tests/linux/%.c | guest-deps
	@riscv64-linux-gnu-gcc -static -O2 -Wall -Werror -pthread $< -o $@
$(LINUX_HOST_PROGS:%=$(LINUX_DIR)/%): $(LINUX_DIR)/%-host: tests/linux/%.c | guest-deps
	@$(CC) -O2 -Wall -Werror -pthread $< -o $@
# The cached busybox's path, rewritten only when it changes (a new build):
# the images follow it.
$(LINUX_DIR)/busybox.path: FORCE | guest-deps
	@p=$$(sh deploy/guest-image.sh busybox) && \
		{ [ "$$(cat $@ 2>/dev/null)" = "$$p" ] || echo "$$p" >$@; }
define initrd_rule
$(LINUX_DIR)/$(1).cpio.gz: $(INITRD_$(1)) deploy/guest-image.sh $(LINUX_DIR)/busybox.path
	@sh deploy/guest-image.sh initramfs $$@ $(INITRD_$(1))
endef
$(foreach i,$(INITRDS),$(eval $(call initrd_rule,$(i))))

run: all linux-guest
	$(BIN)/shoal run --smp 4 --numa node,cpus=0-1,mem=128M --numa node,cpus=2-3,mem=128M --rng on \
		--kernel $(LINUX_DIR)/Image --initrd $(LINUX_DIR)/shell.cpio.gz

# ---- tests ----
UNIT_TESTS := test_decode test_proto test_region test_elf test_util test_memserver test_boot test_numa \
	test_plic test_virtio test_jit test_postring
UNIT_BINS := $(patsubst %,$(BUILD)/tests/%,$(UNIT_TESTS))
$(BUILD)/tests/test_decode: $(call obj,tests/unit/test_decode.c cpu-worker/decode.c)
$(BUILD)/tests/test_proto: $(call obj,tests/unit/test_proto.c $(COMMON_SRC))
$(BUILD)/tests/test_region: $(call obj,tests/unit/test_region.c $(COMMON_SRC))
$(BUILD)/tests/test_postring: $(call obj,tests/unit/test_postring.c)
$(BUILD)/tests/test_elf: $(call obj,tests/unit/test_elf.c deploy/elf.c common/util.c)
$(BUILD)/tests/test_util: $(call obj,tests/unit/test_util.c $(COMMON_SRC))
$(BUILD)/tests/test_memserver: $(call obj,tests/unit/test_memserver.c $(COMMON_SRC))
$(BUILD)/tests/test_boot: $(call obj,tests/unit/test_boot.c deploy/boot.c)
$(BUILD)/tests/test_numa: $(call obj,tests/unit/test_numa.c deploy/numa.c common/util.c)
$(BUILD)/tests/test_plic: $(call obj,tests/unit/test_plic.c cpu-worker/plic.c)
$(BUILD)/tests/test_virtio: $(call obj,tests/unit/test_virtio.c dev-server/virtio.c common/log.c)
$(BUILD)/tests/test_jit: $(call obj,tests/unit/test_jit.c jit-service/translate.c jit-service/cover.c \
		cpu-worker/decode.c)
$(BUILD)/tests/%:
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@ -lcmocka $(LIBS_COMMON) -lnuma -lfdt -lpthread

# Suites that drive a binary as a black box find it through SHOAL_BIN.
unit: deps $(UNIT_BINS) $(BIN)/shoal-mem
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; SHOAL_BIN=$(BIN) $$t; done; \
	echo "unit: all $(words $(UNIT_BINS)) cmocka suites passed ($(if $(SAN),ASan+UBSan,plain) build)"

e2e: all guest
	@BIN=$(BIN) GUEST=$(GUEST_DIR) sh tests/e2e/run.sh
	@BIN=$(BIN) GUEST=$(GUEST_DIR) sh tests/e2e/jit.sh

e2e-linux: all linux-guest
	@BIN=$(BIN) KERNEL=$(LINUX_DIR)/Image INITRD=$(LINUX_DIR)/selftest.cpio.gz sh tests/e2e/linux.sh
	@python3 tests/e2e/console.py $(BIN)/shoal $(LINUX_DIR)/Image $(LINUX_DIR)/shell.cpio.gz
	@python3 tests/e2e/devcrash.py $(BIN)/shoal $(LINUX_DIR)/Image $(LINUX_DIR)/blkcrash.cpio.gz \
		$(LINUX_DIR)/blkpattern-host $(LINUX_DIR)
	@python3 tests/e2e/netcrash.py $(BIN)/shoal $(LINUX_DIR)/Image $(LINUX_DIR)/netcrash.cpio.gz
	@python3 tests/e2e/vconcrash.py $(BIN)/shoal $(LINUX_DIR)/Image $(LINUX_DIR)/vconcrash.cpio.gz
	@BIN=$(BIN) KERNEL=$(LINUX_DIR)/Image INITRD=$(LINUX_DIR)/tap.cpio.gz sh tests/e2e/tap.sh
	@BIN=$(BIN) KERNEL=$(LINUX_DIR)/Image INITRD=$(LINUX_DIR)/jitcrash.cpio.gz \
		CPUBENCH_HOST=$(LINUX_DIR)/cpubench-host sh tests/e2e/jitcrash.sh

# ---- quality gates ----
C_SOURCES = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null | grep -v '^tests/guest/')
format:
	clang-format -i $(C_SOURCES)
format-check: deps-test
	@clang-format --dry-run -Werror $(C_SOURCES) && echo "format-check: $(words $(C_SOURCES)) files clean"
# cppcheck's shiftNegativeLHS: right shifts of negative values are
# implementation-defined and arithmetic in gcc and clang, which we rely on.
lint: deps-test
	@cppcheck --quiet --enable=warning,performance,portability --std=c11 -D_GNU_SOURCE \
		--suppress=missingIncludeSystem --suppress=shiftNegativeLHS --inline-suppr \
		--error-exitcode=1 -I common $(filter %.c,$(C_SOURCES)) && echo "lint: cppcheck clean"
# The same -Wall -Wextra -Werror build with clang, in its own tree.
clang-build: deps-test
	@$(MAKE) --no-print-directory CC=clang BUILD=build-clang $(BINS:$(BUILD)/%=build-clang/%) \
		build-clang/perf/jitbench >/dev/null && echo "clang-build: clean"
# Coverage: an instrumented build in build-cov/ runs the unit and bare-metal
# end-to-end tests; gcovr reports per folder (terminal + HTML in
# build/coverage/) and tests/coverage/check.py enforces the floors in
# tests/coverage/thresholds, naming any folder below its floor.
COV_DIR := build/coverage
COVERAGE_THRESHOLDS ?= tests/coverage/thresholds
coverage: deps-test
	@find build-cov -name '*.gcda' -delete 2>/dev/null || true
	@$(MAKE) --no-print-directory BUILD=build-cov EXTRA_CFLAGS='--coverage -fprofile-update=atomic -O0' \
		EXTRA_LDFLAGS=--coverage unit e2e >build-cov.log 2>&1 || \
		{ tail -30 build-cov.log; echo "coverage: the instrumented test run failed (log: build-cov.log)"; exit 1; }
	@mkdir -p $(COV_DIR)
	@gcovr -r . --object-directory build-cov/obj --exclude 'tests/' \
		--json-summary $(COV_DIR)/summary.json --html-details $(COV_DIR)/index.html
	@python3 tests/coverage/check.py $(COV_DIR)/summary.json $(COVERAGE_THRESHOLDS)
	@echo "coverage: HTML report in $(COV_DIR)/index.html"

# API reference (Doxygen) into build/docs/html; an undocumented function or
# type in a public header fails the target, named with file and line.
docs: deps-test
	@rm -rf build/docs && mkdir -p build/docs
	@doxygen docs/api/Doxyfile
	@python3 docs/api/check.py build/docs/xml
	@echo "docs: HTML reference in build/docs/html/index.html"

gates: deps-test
	@sh tests/gates/run.sh
deps-test:
	@sh deploy/deps.sh test

# The sanitizer build of the unit tests runs too (ASan + UBSan).
# perf/compare and perf/record.py on synthetic result files.
perf-unit: deps-test
	@python3 perf/test_compare.py 2>&1 | tail -1 | grep -qx OK && echo "perf-unit: compare/record tests passed" || \
		{ python3 perf/test_compare.py; exit 1; }

test: format-check lint docs gates clang-build unit perf-unit e2e e2e-linux coverage
	$(MAKE) --no-print-directory SAN=1 unit

$(BUILD)/perf/shoalmark-native: perf/cpu/native.c perf/cpu/mark.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror perf/cpu/native.c -o $@
# The same without SIMD, as the guest's code is (RV64GC has no vectors).
$(BUILD)/perf/shoalmark-native-scalar: perf/cpu/native.c perf/cpu/mark.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -fno-tree-vectorize -Wall -Wextra -Werror perf/cpu/native.c -o $@
# Tier 1 alone: translates a kernel image's block starts in a loop.
$(BUILD)/perf/jitbench: perf/jitbench.c jit-service/translate.c jit-service/translate.h \
		jit-service/x86.h cpu-worker/decode.c cpu-worker/decode.h cpu-worker/hart.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu17 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE perf/jitbench.c jit-service/translate.c \
		cpu-worker/decode.c -o $@
bench: all guest linux-guest $(BUILD)/perf/shoalmark-native $(BUILD)/perf/shoalmark-native-scalar \
		$(BUILD)/perf/jitbench
	@sh deploy/deps.sh bench
	@BIN=$(BIN) GUEST=$(GUEST_DIR) KERNEL=$(LINUX_DIR)/Image INITRD=$(LINUX_DIR)/bench.cpio.gz \
		NATIVE_MARK=$(BUILD)/perf/shoalmark-native NATIVE_MARK_SCALAR=$(BUILD)/perf/shoalmark-native-scalar \
		JITBENCH=$(BUILD)/perf/jitbench \
		BLK_INITRD=$(LINUX_DIR)/blkbench.cpio.gz sh perf/run.sh

clean:
	rm -rf build build-san build-clang build-cov build-cov.log

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
