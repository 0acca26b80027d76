# WICAS — the commands a newcomer types. Each target runs scripts/setup first
# (idempotent: seconds when everything is cached), then CMake + Ninja.
#
#   make demo    set-up if needed, a local chain, the name-service contract asking the model
#                (make demo VALIDATORS=4 for four validators)
#   make test    unit + integration tests (ctest); CI also runs `make asan`
#   make asan    the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make fuzz-smoke  every libFuzzer target (clang-14) for FUZZ_SECONDS (15) each; CI runs it
#   make fuzz    the same, for long runs: `make fuzz FUZZ_SECONDS=3600`
#   make chaos   4-validator devnets under kills, pauses, byzantine validators and malicious
#                state-sync peers, with load; prints one table (CHAOS_PROFILE=long (default,
#                50 kills) or short (CI, 6 kills); CHAOS_SEED=N replays a run)
#   make test-quants  every new tensor type and the tokenizers against llama.cpp (builds it and
#                the fixtures, fetches Gemma 3 270M; ~30 min)
#   make bench   benchmarks, each printing a ratio against its anchor
#   make fmt     clang-format the C sources (the arch_format test checks them)
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
# No retries: a test that fails is a failure. Tests that start nodes each hold
# a block of loopback ports for their whole run (tests/ports.sh).
CTEST_ARGS ?=
CMAKE_GEN  := -G Ninja

.PHONY: all setup configure build test test-quants asan fuzz-smoke fuzz chaos demo bench fmt clean distclean

all: build

setup:
	@scripts/setup all

configure: setup
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

# Every new tensor type against llama.cpp on SmolLM2 re-quantised by llama-quantize
# (perplexity, greedy text, dequantisation), and the tokenizers against
# llama-tokenize on Gemma 3 270M and SmolLM2: builds llama.cpp and the fixtures
# and fetches Gemma on first use (set-up steps llamacpp, quants, gemma), ~30 min on 2 cores.
test-quants: setup
	@scripts/setup llamacpp quants gemma
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DWICAS_LLAMACPP_TESTS=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -R '^test_infer_llamacpp_(quants|tok)$$'
	@cmake -S . -B $(BUILD) $(CMAKE_GEN) -DWICAS_LLAMACPP_TESTS=OFF >/dev/null

asan: setup
	@cmake -S . -B $(ASAN_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DWICAS_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow $(CTEST_ARGS)

# libFuzzer targets (clang-14, ASan + UBSan in every library): one line each,
# binary path under $(FUZZ_BUILD)/tests : corpus name. Each target writes its
# own seeds (built from real data at run time) when run with WICAS_FUZZ_SEEDS;
# libFuzzer reads seeds + corpus and adds new inputs to $(FUZZ_BUILD)/corpus/NAME.
# A crash lands in $(FUZZ_BUILD)/crashes and fails the run. Per target the run
# prints executions and coverage (libFuzzer's final cov/ft) and appends a row to
# $(FUZZ_BUILD)/fuzz-summary.tsv (target, seconds, execs, cov_edges, crashes).
#   make fuzz-smoke                 every target for FUZZ_SECONDS (15 s; CI: about 2.5 min)
#   make fuzz FUZZ_SECONDS=3600     the same targets, longer
FUZZ_TARGETS := vm/fuzz_vm:vm infer/fuzz_gguf:gguf chain/fuzz_tx:tx abci/fuzz_abci:abci \
                ai/fuzz_ai_request:ai_request ai/fuzz_vote_ext:vote_ext wasi/fuzz_wasi:wasi \
                chain/fuzz_snapshot:snapshot
FUZZ_SECONDS ?= 15
FUZZ_BINS := $(foreach t,$(FUZZ_TARGETS),$(notdir $(firstword $(subst :, ,$(t)))))

fuzz-smoke: fuzz

fuzz: setup
	@CC=clang-14 cmake -S . -B $(FUZZ_BUILD) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DWICAS_FUZZ=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target $(FUZZ_BINS)
	@mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/crashes
	@# fuzz_vm's seeds: byte 0 even = a module to upload and call (our counter,
	@# cosmwasm-vm's Rust-built empty.wasm), odd = a message to the counter
	@mkdir -p $(FUZZ_BUILD)/seeds/vm && cd $(FUZZ_BUILD)/seeds/vm && { \
	  { printf '\000'; cat ../../wasm/counter.wasm; } > seed-counter; \
	  { printf '\000'; cat "$$($(CURDIR)/scripts/setup print-cache)/cosmwasm-testdata-3.0.2/empty.wasm"; } > seed-empty; \
	  printf '\001{"increment":{}}' > seed-increment; }
	@printf 'target\tseconds\texecs\tcov_edges\tcrashes\n' > $(FUZZ_BUILD)/fuzz-summary.tsv
	@fail=0; for t in $(FUZZ_TARGETS); do \
	  bin=$(FUZZ_BUILD)/tests/$${t%%:*}; name=$${t##*:}; log=$(FUZZ_BUILD)/fuzz-$$name.log; \
	  [ "$$name" = vm ] || rm -rf $(FUZZ_BUILD)/seeds/$$name; mkdir -p $(FUZZ_BUILD)/corpus/$$name $(FUZZ_BUILD)/seeds/$$name; \
	  [ "$$name" = vm ] || [ "$$name" = gguf ] || \
	    WICAS_FUZZ_SEEDS=$(FUZZ_BUILD)/seeds/$$name $$bin > $$log 2>&1 || { echo "[fuzz] $$name: seeds failed, see $$log"; fail=1; continue; }; \
	  echo "[fuzz] $$name for $(FUZZ_SECONDS) s"; touch $(FUZZ_BUILD)/crashes/.stamp; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=4096 -print_final_stats=1 -timeout=60 \
	    -artifact_prefix=$(FUZZ_BUILD)/crashes/$$name- $(FUZZ_BUILD)/corpus/$$name $(FUZZ_BUILD)/seeds/$$name >> $$log 2>&1; \
	  rc=$$?; \
	  execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
	  cov=$$(grep -oE '(DONE|INITED|NEW|REDUCE|pulse) +cov: [0-9]+' $$log | tail -1 | grep -oE '[0-9]+$$'); \
	  ft=$$(grep -oE ' ft: [0-9]+' $$log | tail -1 | grep -oE '[0-9]+$$'); \
	  crashes=$$(find $(FUZZ_BUILD)/crashes -name "$$name-*" -newer $(FUZZ_BUILD)/crashes/.stamp | wc -l); \
	  [ $$rc -eq 0 ] || [ "$$crashes" -gt 0 ] || crashes=1; \
	  printf '%s\t%s\t%s\t%s\t%s\n' $$name $(FUZZ_SECONDS) $${execs:-0} $${cov:-0} $$crashes >> $(FUZZ_BUILD)/fuzz-summary.tsv; \
	  echo "[fuzz] $$name: $${execs:-0} execs, cov $${cov:-0} edges, ft $${ft:-0}, rc $$rc"; \
	  [ $$rc -eq 0 ] || { grep -E 'ERROR|SUMMARY|invariant|Test unit' $$log | head -5; \
	    echo "[fuzz] $$name failed (rc $$rc): see $$log"; fail=1; }; \
	done; column -t -s "$$(printf '\t')" $(FUZZ_BUILD)/fuzz-summary.tsv 2>/dev/null || cat $(FUZZ_BUILD)/fuzz-summary.tsv; \
	exit $$fail

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
