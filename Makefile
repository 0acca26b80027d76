# WICAS — the commands a newcomer types. Each target runs scripts/setup first
# (idempotent: seconds when everything is cached), then CMake + Ninja.
#
#   make demo    set-up if needed, a local chain, the name-service contract asking the model
#                (make demo VALIDATORS=4 for four validators)
#   make test    unit + integration tests (ctest); CI also runs `make asan`
#   make asan    the whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench   benchmarks, each printing a ratio against its anchor
#   make fmt     clang-format the C sources
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
# A test that fails is run once more: loopback port choices (bind to port 0,
# then release) can rarely collide between parallel CometBFT tests.
CTEST_ARGS ?=
CMAKE_GEN  := -G Ninja

.PHONY: all setup configure build test asan demo bench fmt clean distclean

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

VALIDATORS ?= 1
demo: build
	@scripts/demo --validators $(VALIDATORS)

bench: build
	@scripts/bench

fmt:
	@find src tests bench contracts programs -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
