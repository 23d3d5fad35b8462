// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "zgrid",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ZGridClient", targets: ["ZGridClient"]),
        .library(name: "ZGridWorker", targets: ["ZGridWorker"]),
        .library(name: "ZGridBroker", targets: ["ZGridBroker"]),
        .executable(name: "zgrid", targets: ["zgrid"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.1.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZeroMQ",
            pkgConfig: "libzmq",
            providers: [.apt(["libzmq3-dev"]), .brew(["zeromq"])]
        ),
        .target(name: "ZeroMQ", dependencies: ["CZeroMQ"]),
        .target(
            name: "ZGridProtocol",
            dependencies: [
                "ZeroMQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "ZGridBroker",
            dependencies: [
                "ZGridProtocol",
                "ZGridJobStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Collections", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(
            name: "ZGridWorker",
            dependencies: ["ZGridProtocol", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "ZGridClient",
            dependencies: ["ZGridProtocol", .product(name: "Logging", package: "swift-log")]
        ),
        // ZeroMQ for its thread-naming helper: the lowest module it shares with ZGridProtocol.
        .target(name: "ZGridJobStore", dependencies: ["ZeroMQ", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "ZGridConfig", dependencies: ["ZGridProtocol", "ZeroMQ", .product(name: "TOMLKit", package: "TOMLKit")]),
        .executableTarget(
            name: "zgrid",
            dependencies: [
                "ZGridBroker", "ZGridWorker", "ZGridClient", "ZGridConfig",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(name: "ZeroMQTests", dependencies: ["ZeroMQ"]),
        .testTarget(name: "ZGridProtocolTests", dependencies: ["ZGridProtocol"]),
        .testTarget(name: "ZGridBrokerTests", dependencies: ["ZGridBroker"]),
        .testTarget(name: "ZGridConfigTests", dependencies: ["ZGridConfig", "ZeroMQ"]),
        .testTarget(name: "ZGridJobStoreTests", dependencies: ["ZGridJobStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "ZGridIntegrationTests",
            dependencies: ["ZGridBroker", "ZGridWorker", "ZGridClient", "ZeroMQ", "ZGridProtocol", "ZGridJobStore"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
