import ArgumentParser

@main
struct Stepline: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepline",
        abstract: "AWS Step Functions, self-hosted, on Kafka.",
        subcommands: [BrokerCommand.self]
    )
}
