// swift-tools-version:6.1
import PackageDescription

// Module layout: see docs/ARCHITECTURE.md. Imports go one way, top to bottom:
// CRdKafka → KafkaClient; StatesLanguage → StatesEngine → StatesStore → StatesAPI → SteplineRuntime → stepline.
let package = Package(
    name: "stepline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepline", targets: ["stepline"]),
        .executable(name: "stepline-bench", targets: ["stepline-bench"]),
        .library(name: "StatesLanguage", targets: ["StatesLanguage"]),
        .library(name: "StatesEngine", targets: ["StatesEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure: JSON value, ASL definitions and validation, JSONPath, intrinsics, JSONata,
        // EventBridge event patterns. No I/O, no clock, no logging.
        .target(name: "StatesLanguage"),
        // An execution as a state machine over history events; clock and randomness injected.
        .target(name: "StatesEngine", dependencies: ["StatesLanguage"]),
        .executableTarget(
            name: "stepline",
            dependencies: [
                "StatesLanguage", "StatesEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Benchmarks (release build): `swift run -c release stepline-bench engine`. Links a
        // malloc counter, so it is a separate executable from `stepline`.
        .target(name: "MallocCounter"),
        .executableTarget(name: "stepline-bench", dependencies: ["StatesEngine", "StatesLanguage", "MallocCounter"]),
        // Event-pattern matching micro-benchmark: swift run -c release EventPatternBenchmark
        .executableTarget(name: "EventPatternBenchmark", dependencies: ["StatesLanguage"], path: "Benchmarks/patterns"),
        .testTarget(name: "StatesLanguageTests", dependencies: ["StatesLanguage"]),
        .testTarget(name: "StatesEngineTests", dependencies: ["StatesEngine", "StatesLanguage"]),
    ],
    swiftLanguageModes: [.v6]
)
