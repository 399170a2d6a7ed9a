import ArgumentParser

@main
struct Stepline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepline",
        abstract: "AWS Step Functions, self-hosted, on Kafka.",
        subcommands: [
            RunCommand.self,
            ValidateCommand.self,
            ConformanceCommand.self,
            JSONataCommand.self,
            ServeCommand.self,
            BrokerCommand.self,
            PolicyCommand.self,
        ]
    )
}
