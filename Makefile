# WICAS — the commands a newcomer types. Each target runs scripts/setup first
# (idempotent: seconds when everything is cached), then CMake + Ninja.
#
#   make demo    set-up if needed, a local chain, the name-service contract asking the model
#                (make demo VALIDATORS=4 for four validators)
#   make test    unit + integration tests (ctest); CI also runs `make asan`
#   make asan    the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz-smoke  the libFuzzer targets (clang-14), FUZZ_SECONDS (20) each; CI runs it
#   make chaos   4-validator devnets under kills, pauses, byzantine validators and malicious
#                state-sync peers, with load; prints one table (CHAOS_PROFILE=long (default,
#                50 kills) or short (CI, 10 kills); CHAOS_SEED=N replays a run)
#   make bench   benchmarks, each printing a ratio against its anchor
#   make fmt     clang-format the C sources
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 20
JOBS       ?= $(shell nproc)
# A test that fails is run once more: loopback port choices (bind to port 0,
# then release) can rarely collide between parallel CometBFT tests.
CTEST_ARGS ?=
CMAKE_GEN  := -G Ninja

.PHONY: all setup configure build test asan fuzz-smoke chaos demo bench fmt clean distclean

all: build

setup:
	@scripts/setup all

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --repeat until-pass:2 $(CTEST_ARGS)

asan: setup
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DWICAS_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow --repeat until-pass:2 $(CTEST_ARGS)

# A short libFuzzer run of each fuzz target (a smoke test: new crashes in code
# paths the unit tests do not reach). The corpus stays in $(FUZZ_BUILD)/corpus,
# a crashing input lands in $(FUZZ_BUILD)/crashes and fails the target.
fuzz-smoke: setup
	@CC=clang-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DWICAS_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_vm fuzz_gguf
	@mkdir -p $(FUZZ_BUILD)/corpus/vm $(FUZZ_BUILD)/corpus/gguf $(FUZZ_BUILD)/crashes
	@# seeds: byte 0 even = a module to upload and call (our counter, cosmwasm-vm's Rust-built
	@# empty.wasm), odd = a message to the counter
	@cd $(FUZZ_BUILD)/corpus/vm && [ -n "$$(ls)" ] || { \
	  { printf '\000'; cat ../../wasm/counter.wasm; } > seed-counter; \
	  { printf '\000'; cat "$$($(CURDIR)/scripts/setup print-cache)/cosmwasm-testdata-3.0.2/empty.wasm"; } > seed-empty; \
	  printf '\001{"increment":{}}' > seed-increment; }
	@for t in vm/fuzz_vm:vm infer/fuzz_gguf:gguf; do \
	  bin=$(FUZZ_BUILD)/tests/$${t%%:*}; name=$${t##*:}; \
	  echo "[fuzz] $$bin for $(FUZZ_SECONDS) s"; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$name- $(FUZZ_BUILD)/corpus/$$name > $(FUZZ_BUILD)/fuzz-$$name.log 2>&1; \
	  rc=$$?; grep -E 'INITED|DONE|stat::number_of_executed_units|ERROR|SUMMARY|crash|Test unit' $(FUZZ_BUILD)/fuzz-$$name.log; \
	  [ $$rc -eq 0 ] || { echo "[fuzz] $$name failed (rc $$rc): see $(FUZZ_BUILD)/fuzz-$$name.log"; exit 1; }; \
	done

# The chaos suite (tests/chaos/run.sh); the table also lands in $(BUILD)/chaos-table.txt.
# It reads $(FUZZ_BUILD)/fuzz-summary.tsv when fuzzing wrote one, never fuzzes itself.
CHAOS_PROFILE ?= long
CHAOS_SEED ?=
chaos: build
	@WICAS_BUILD_DIR=$(CURDIR)/$(BUILD) WICAS_SOURCE_DIR=$(CURDIR) WICAS_WASM_DIR=$(CURDIR)/$(BUILD)/wasm \
	  WICAS_COMETBFT="$$(sed -n 's/^WICAS_COMETBFT:[A-Z]*=//p' $(BUILD)/CMakeCache.txt)" \
	  WICAS_DEFAULT_MODEL="$$(sed -n 's/^WICAS_DEFAULT_MODEL:[A-Z]*=//p' $(BUILD)/CMakeCache.txt)" \
	  WICAS_FUZZ_SUMMARY=$(CURDIR)/$(FUZZ_BUILD)/fuzz-summary.tsv CHAOS_TABLE=$(CURDIR)/$(BUILD)/chaos-table.txt \
	  bash tests/chaos/run.sh --profile $(CHAOS_PROFILE) $(if $(CHAOS_SEED),--seed $(CHAOS_SEED))

VALIDATORS ?= 1
demo: build
	@scripts/demo --validators $(VALIDATORS)

bench: build
	@scripts/bench

fmt:
	@find src tests bench contracts programs -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
