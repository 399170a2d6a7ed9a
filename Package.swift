// swift-tools-version:6.1
import PackageDescription

// Module layout: see docs/ARCHITECTURE.md. Imports go one way, top to bottom:
// CRdKafka → KafkaClient; StatesLanguage → StatesEngine → StatesStore → StatesAPI → SteplineRuntime → stepline.
let package = Package(
    name: "stepline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stepline", targets: ["stepline"]),
        .library(name: "StatesLanguage", targets: ["StatesLanguage"]),
        .library(name: "StatesEngine", targets: ["StatesEngine"]),
        .library(name: "KafkaClient", targets: ["KafkaClient"]),
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
        // librdkafka (Debian's librdkafka-dev 2.0.x): rdkafka.h and rdkafka_mock.h.
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        // The only code that touches librdkafka: producer, consumer, admin, mock cluster.
        .target(name: "KafkaClient", dependencies: ["CRdKafka"]),
        .executableTarget(
            name: "stepline",
            dependencies: [
                "StatesLanguage", "StatesEngine", "KafkaClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "StatesLanguageTests", dependencies: ["StatesLanguage"]),
        .testTarget(name: "StatesEngineTests", dependencies: ["StatesEngine", "StatesLanguage"]),
        .testTarget(name: "KafkaClientTests", dependencies: ["KafkaClient"]),
    ],
    swiftLanguageModes: [.v6]
)
