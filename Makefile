# trainyard: the two commands a new user needs are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# One test more than there are cores: the end-to-end tests spend about a quarter of their time
# waiting (on Slurm, podman, a server's restart), which the extra one fills.
TEST_JOBS ?= $(shell echo $$(( $$(nproc) + 1 )))
CTEST_ARGS ?=

FUZZ_SECONDS ?= 60

.PHONY: all deps configure build run run-local test bench fuzz clean format

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# trainyard server with the sample data loaded; prints the URL and a CLI example (Ctrl-C stops).
run: build
	@bash scripts/run-server.sh $(BUILD_DIR)

# Without a server: a 2x2 sweep (learning rate x batch size) of the example trainer on the
# sample digits data, fine-tuning the pretrained model, with `trainyard run`.
run-local: build
	@bash scripts/run-example.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(TEST_JOBS) $(CTEST_ARGS)

bench: build
	@cmake --build $(BUILD_DIR) -j $(JOBS) --target benchmarks
	@bash scripts/install-deps.sh --bench
	@bash bench/run-all.sh $(BUILD_DIR)

format:
	@git ls-files '*.cc' '*.h' | xargs clang-format -i

# The request decoders under libFuzzer + AddressSanitizer, FUZZ_SECONDS per target (not in CI).
fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTRAINYARD_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzz_multipart fuzz_json_requests \
	  fuzz_request_target fuzz_graphql fuzz_websocket_frames
	@bash fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

clean:
	@rm -rf $(BUILD_DIR)
