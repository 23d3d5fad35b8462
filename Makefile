# ZGrid: the README's two commands are `make demo` and `make test`.
.PHONY: demo test deps build release bench-compare bench-scatter bench-syscalls bench-cpu up clean fuzz test-tsan test-asan

deps:
	@scripts/ensure-libzmq.sh

## Builds in release mode, starts the local cluster of cluster.conf, makes a few calls, stops.
demo: deps
	swift build -c release --product zgrid
	.build/release/zgrid demo --config cluster.conf

## Runs every test (unit and integration, over real sockets).
test: deps
	@scripts/ensure-pyzmq.sh
	swift build --build-tests
	swift test --skip-build

## Fuzzes a local broker with 1,000,000 random and mutated messages while checked calls run, and
## prints what it checked (MESSAGES=, SEED=, PORT= override; FUZZ_SCRATCH= picks the build directory).
FUZZ_SCRATCH ?= .build
fuzz: deps
	swift build -c release --scratch-path $(FUZZ_SCRATCH) --product zgrid
	ZGRID=$(FUZZ_SCRATCH)/release/zgrid scripts/fuzz.sh

## Runs every test under ThreadSanitizer, in its own build directory (slow). The suppressions
## file hides only accesses inside Mutex.withLock bodies, which TSan cannot see locked on Linux.
test-tsan: deps
	@scripts/ensure-pyzmq.sh
	swift build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS="suppressions=$(CURDIR)/scripts/tsan-suppressions.txt $$TSAN_OPTIONS" \
		swift test --skip-build --sanitize=thread --scratch-path .build-tsan

## Runs every test under AddressSanitizer (and LeakSanitizer, also in the zgrid processes the tests
## start), in its own build directory (slow). The suppressions file names leaks of TOMLKit, of the
## toolchain's XCTest and of Swift weak references (LSan cannot see their side tables), none of
## ours. ASan's quarantine keeps freed memory resident, so the fuzzed broker may end up to 768 MiB
## over its start; LSan checks it for leaks at its exit.
test-asan: deps
	@scripts/ensure-pyzmq.sh
	swift build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS="suppressions=$(CURDIR)/scripts/lsan-suppressions.txt $$LSAN_OPTIONS" ZGRID_TEST_RSS_SLACK_MIB=768 \
		swift test --skip-build --sanitize=address --scratch-path .build-asan

## Runs the local cluster until Ctrl-C.
up: deps
	swift build -c release --product zgrid
	.build/release/zgrid up --config cluster.conf

## Side-by-side round-trip benchmark against the minimal C reference broker.
bench-compare: deps
	swift build -c release --product zgrid
	bash Benchmarks/compare.sh

## System calls per synchronous round trip, C reference and ZGrid side by side (needs perf, root).
bench-syscalls: deps
	swift build -c release --product zgrid
	bash Benchmarks/syscalls.sh

## CPU time per pipelined call by process and thread, C reference and ZGrid side by side.
bench-cpu: deps
	swift build -c release --product zgrid
	bash Benchmarks/cpu.sh

## Scatter/gather against single calls on 4 sharded workers (CONCURRENCY=, ROUNDS= override).
bench-scatter: deps
	swift build -c release --product zgrid
	bash Benchmarks/scatter.sh

build: deps
	swift build

release: deps
	swift build -c release

clean:
	rm -rf .build .build-tsan .build-asan
