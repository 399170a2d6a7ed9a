import ArgumentParser

/// `stepline-bench`: the benchmarks and load drivers, kept out of the shipped `stepline`
/// binary. Use a release build: `swift build -c release --product stepline-bench`.
@main
struct SteplineBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepline-bench",
        abstract: "Stepline's benchmarks and load drivers (release builds only give meaningful numbers).",
        subcommands: [
            EngineCommand.self,
            BenchJSONataCommand.self,
            BenchDurableCommand.self,
            BenchE2ECommand.self,
            BenchE2EFloorCommand.self,
        ]
    )
}
