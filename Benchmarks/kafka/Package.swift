// swift-tools-version:6.1
import PackageDescription

// The Swift side of the Kafka benchmark, kept out of the main package so that its default
// build stays lean. Built in release mode by run.sh.
let package = Package(
    name: "kafka-bench",
    dependencies: [.package(name: "stepline", path: "../..")],
    targets: [
        .executableTarget(
            name: "kafka-bench",
            dependencies: [.product(name: "KafkaClient", package: "stepline")]
        )
    ],
    swiftLanguageModes: [.v6]
)
