# ZGrid: the README's two commands are `make demo` and `make test`.
.PHONY: demo test deps build release bench-compare up clean

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

## Runs the local cluster until Ctrl-C.
up: deps
	swift build -c release --product zgrid
	.build/release/zgrid up --config cluster.conf

## Side-by-side round-trip benchmark against the minimal C reference broker.
bench-compare: deps
	swift build -c release --product zgrid
	bash Benchmarks/compare.sh

build: deps
	swift build

release: deps
	swift build -c release

clean:
	rm -rf .build
