// swift-tools-version:6.1
import PackageDescription

// Module layout: see docs/ARCHITECTURE.md. Imports go one way, top to bottom:
// CRdKafka → KafkaClient; StatesCore → JSONata → StatesLanguage → StatesEngine → ControlPlane → StatesStore
// → SteplineRuntime → SteplineConfiguration → stepline; StatesAPI depends on ControlPlane, not on the runtime.
let package = Package(
    name: "stepline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepline", targets: ["stepline"]),
        .executable(name: "stepline-bench", targets: ["stepline-bench"]),
        .library(name: "StatesLanguage", targets: ["StatesLanguage"]),
        .library(name: "StatesEngine", targets: ["StatesEngine"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
        // Task workers in Swift: consume a task topic, answer on the reply topic.
        .library(name: "SteplineWorker", targets: ["SteplineWorker"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Pure: the JSON value, Timestamp, RandomSource, Base64, Digest: what the languages share.
        .target(name: "StatesCore"),
        // Pure: JSONata 2.0.6 (parser, evaluator, function library), over its own value type.
        .target(name: "JSONata", dependencies: ["StatesCore"]),
        // Pure: ASL definitions and validation, JSONPath, intrinsics, JSONata templates,
        // EventBridge event patterns (re-exports StatesCore). No I/O, no clock, no logging.
        .target(name: "StatesLanguage", dependencies: ["StatesCore", "JSONata"]),
        // An execution as a state machine over history events; clock and randomness injected.
        .target(name: "StatesEngine", dependencies: ["StatesLanguage", "JSONata"]),
        // librdkafka (Debian's librdkafka-dev 2.0.x): rdkafka.h and rdkafka_mock.h.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // The only code that touches librdkafka: producer, consumer, admin, mock cluster.
        .target(name: "KafkaClient", dependencies: ["CRdKafka"]),
        .target(name: "SteplineWorker", dependencies: ["KafkaClient", "StatesLanguage"]),
        .executableTarget(name: "stepline-worker-example", dependencies: ["SteplineWorker", "StatesLanguage"],
                          path: "examples/swift-worker"),
        // The store protocol and its contract; SQLite (GRDB) behind it; execution data sealed
        // (SteplineSecurity's envelope encryption) where a key says so.
        .target(
            name: "StatesStore",
            dependencies: [
                "StatesEngine", "StatesLanguage", "SteplineSecurity", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        // The control-plane protocol: what every transport (the HTTP API, the Kafka consumers,
        // the CLI) asks of the executor, in typed requests, results and errors.
        .target(name: "ControlPlane", dependencies: ["StatesEngine", "StatesLanguage"]),
        // Who may do what: SigV4, IAM policies. Pure (no I/O), over StatesCore and swift-crypto.
        .target(name: "SteplineSecurity", dependencies: ["StatesCore", .product(name: "Crypto", package: "swift-crypto")]),
        // The Kafka transports: trigger and reply consumers, the task dispatcher over topics,
        // trigger rules, dead letters, the Kafka monitor. Talks to the executor through the
        // control plane only.
        .target(
            name: "SteplineKafka",
            dependencies: [
                "ControlPlane", "KafkaClient", "StatesEngine", "StatesLanguage",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The runtime services: executor, group commit, timers, outbox relay, task dispatch.
        .target(
            name: "SteplineRuntime",
            dependencies: [
                "ControlPlane", "StatesEngine", "StatesLanguage", "StatesStore", "KafkaClient", "SteplineSecurity",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The AWS JSON 1.0 protocol (POST / + X-Amz-Target), health and metrics endpoints.
        .target(
            name: "StatesAPI",
            dependencies: [
                "ControlPlane", "StatesEngine", "StatesLanguage", "SteplineSecurity",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // `stepline serve`'s settings: the YAML file, the environment overrides, the typed
        // settings of each part (runtime, HTTP limits, Kafka clients), the data directory's modes.
        .target(
            name: "SteplineConfiguration",
            dependencies: [
                "StatesLanguage", "SteplineRuntime", "SteplineKafka", "StatesAPI", "KafkaClient", "SteplineSecurity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // What the command-line tools share: @FILE arguments, stderr and stdout lines, exit
        // statuses, termination signals, the wall clock.
        .target(
            name: "CommandSupport",
            dependencies: ["StatesLanguage", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The shipped binary: the daemon and the tools around it; no benchmarks.
        .executableTarget(
            name: "stepline",
            dependencies: [
                "StatesLanguage", "JSONata", "StatesEngine", "StatesStore", "ControlPlane", "SteplineRuntime", "SteplineKafka", "StatesAPI",
                "KafkaClient", "SteplineConfiguration", "CommandSupport", "SteplineSecurity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Benchmarks and load drivers (release build): `stepline-bench engine|jsonata|durable|e2e|e2e-floor`.
        // A separate executable from `stepline`: it links a malloc counter, and the daemon's
        // binary carries no load drivers.
        .target(name: "MallocCounter"),
        .executableTarget(
            name: "stepline-bench",
            dependencies: [
                "StatesEngine", "StatesLanguage", "JSONata", "StatesStore", "ControlPlane", "SteplineRuntime", "SteplineKafka", "KafkaClient",
                "SteplineConfiguration", "CommandSupport", "MallocCounter", "SteplineSecurity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Event-pattern matching micro-benchmark: swift run -c release EventPatternBenchmark
        .executableTarget(name: "EventPatternBenchmark", dependencies: ["StatesLanguage"], path: "Benchmarks/patterns"),
        .testTarget(name: "JSONataTests", dependencies: ["JSONata", "StatesCore"]),
        .testTarget(name: "StatesLanguageTests", dependencies: ["StatesLanguage", "StatesCore"]),
        .testTarget(name: "StatesEngineTests", dependencies: ["StatesEngine", "StatesLanguage"]),
        .testTarget(
            name: "StatesStoreTests",
            dependencies: ["StatesStore", "StatesEngine", "StatesLanguage", "SteplineSecurity", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // `stepline serve` as a process, driven by boto3 scripts (Tests/Integration).
        .testTarget(name: "DaemonTests", exclude: []),
        .testTarget(
            name: "SteplineRuntimeTests",
            dependencies: [
                "ControlPlane", "SteplineRuntime", "SteplineKafka", "KafkaClient", "StatesStore", "StatesEngine", "StatesLanguage",
                "SteplineSecurity",
            ]
        ),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient"]),
        .testTarget(name: "SteplineSecurityTests", dependencies: ["SteplineSecurity", "StatesCore"], exclude: ["policy-cases.jsonl"]),
        // Every API action through the protocol layer against an in-memory control plane.
        .testTarget(name: "StatesAPITests", dependencies: ["StatesAPI", "ControlPlane", "StatesEngine", "StatesLanguage"]),
        .testTarget(
            name: "SteplineConfigurationTests",
            dependencies: [
                "SteplineConfiguration", "SteplineRuntime", "SteplineKafka", "StatesAPI", "StatesLanguage", "KafkaClient", "SteplineSecurity",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
