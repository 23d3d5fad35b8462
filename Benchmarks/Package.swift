// swift-tools-version:6.1
// The ZGrid benchmark suite (ordo-one/package-benchmark), kept as a separate package so that
// `swift build` and `swift test` of the main package never build the benchmark dependencies.
// Run from this directory: `swift package benchmark` (see README.md).
import PackageDescription

let package = Package(
    name: "zgrid-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // A path dependency is known by its folder name unless `name:` is given: with it, targets
        // can say `package: "zgrid"` whatever the checkout folder is called.
        .package(name: "zgrid", path: "../"),
        // Without `traits:`, the default RuntimeInterposer trait pulls in a package that is not available here.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
        // Already in the main package's graph; named here because the suite configures loggers.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .executableTarget(
            name: "ZGridBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ZGridClient", package: "zgrid"),
                .product(name: "ZGridWorker", package: "zgrid"),
                .product(name: "ZGridBroker", package: "zgrid"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "ZGridBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)
