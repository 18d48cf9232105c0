# Thin wrapper around CMake. On a fresh Debian machine (as root) every target first installs
# what is missing (scripts/deps.sh), then builds and runs.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX ?= /usr/local
CMAKE_FLAGS ?=
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)

.PHONY: all build demo test test-unit test-asan test-tsan test-valgrind bench fuzz oom soak format format-check \
        tidy cppcheck install clean deps check-layers

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	@scripts/deps.sh
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
	@scripts/deps.sh
	cmake --build $(BUILD) -j$(JOBS)

# The main job: evljs on the tour script.
demo: build
	$(BUILD)/cli/evljs examples/tour.js

# The whole suite: the regular build, then the ASan+UBSan build.
test: build
	@scripts/deps.sh test
	@scripts/check-layers.sh
	cd $(BUILD) && ctest $(CTEST_FLAGS)
	$(MAKE) test-asan

test-unit: build
	cd $(BUILD) && ctest $(CTEST_FLAGS)

test-asan:
	@scripts/deps.sh test
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j$(JOBS)
	ctest --preset dev $(CTEST_FLAGS)

test-tsan:
	@scripts/deps.sh test
	cmake --preset tsan >/dev/null
	cmake --build --preset tsan -j$(JOBS)
	ctest --preset tsan $(CTEST_FLAGS)

test-valgrind:
	@scripts/deps.sh test
	cmake --preset valgrind >/dev/null
	cmake --build --preset valgrind -j$(JOBS)
	ctest --preset valgrind $(CTEST_FLAGS)

# Peer libraries are installed first, then CMake is re-run so that it finds them.
# QUICK=1: short run (< 5 min on 2 cores); REPS=N; CALLGRIND=1: instruction counts instead.
bench:
	@scripts/deps.sh bench
	$(MAKE) build
	cmake $(BUILD) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	bench/run --build $(BUILD) $(if $(QUICK),--quick,) $(if $(REPS),--reps $(REPS),) \
	  $(if $(CALLGRIND),--callgrind,)

# libFuzzer over every tests/fuzz/fuzz_*.c target for FUZZ_SECONDS each (clang preset "fuzz"),
# with tests/fuzz/<name without fuzz_>.dict as its dictionary and tests/fuzz/<target>.options
# as extra libFuzzer flags when there are such files; the targets' own output is discarded
# (crash reports still print).
FUZZ_SECONDS ?= 30
fuzz:
	@scripts/deps.sh test
	cmake --preset fuzz >/dev/null
	@for t in $$(ls tests/fuzz/fuzz_*.c | xargs -n1 basename | sed 's/\.c$$//'); do \
	  cmake --build --preset fuzz -j$(JOBS) --target $$t >/dev/null || exit 1; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
	  mkdir -p build-fuzz/corpus/$$t; \
	  if [ -d tests/fuzz/corpus/$$t ]; then cp -n tests/fuzz/corpus/$$t/* build-fuzz/corpus/$$t/; fi; \
	  if [ -f tests/fuzz/$$t.seeds ]; then for s in $$(grep -v '^#' tests/fuzz/$$t.seeds); do \
	    cp -n $$s build-fuzz/corpus/$$t/seed_$$(basename $$s); done; fi; \
	  dict=tests/fuzz/$${t#fuzz_}.dict; [ -f $$dict ] && dict=-dict=$$dict || dict=; \
	  opts=$$(cat tests/fuzz/$$t.options 2>/dev/null); \
	  if ! build-fuzz/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	       -timeout=10 -close_fd_mask=3 $$dict $$opts -artifact_prefix=build-fuzz/ build-fuzz/corpus/$$t \
	       >build-fuzz/$$t.log 2>&1; then tail -n 40 build-fuzz/$$t.log; exit 1; fi; \
	  grep -E 'number_of_executed_units' build-fuzz/$$t.log; \
	done

# Out-of-memory torture: every allocation of each case in tests/oom failed in turn.
oom: build
	cd $(BUILD) && ctest -L oom $(CTEST_FLAGS)

# Soak: evljs and a C program churning timers, fds, pool jobs and promises for SOAK_SECONDS,
# their RSS and open fds sampled; fails on growth (scripts/soak.sh, docs/testing.md).
SOAK_SECONDS ?= 600
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh $(BUILD)

# Includes point down the floors of scripts/layers.txt, with no cycles (docs/style.md).
check-layers:
	@scripts/deps.sh test
	@scripts/check-layers.sh

format:
	@scripts/deps.sh lint
	git ls-files '*.c' '*.h' '*.cpp' | xargs clang-format-14 -i

format-check:
	@scripts/deps.sh lint
	git ls-files '*.c' '*.h' '*.cpp' | xargs clang-format-14 --dry-run --Werror

tidy: build
	@scripts/deps.sh lint
	scripts/tidy.sh $(BUILD)

cppcheck:
	@scripts/deps.sh lint
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	  --suppress=missingIncludeSystem -I include -i src/duktape/engine src cli

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-*
