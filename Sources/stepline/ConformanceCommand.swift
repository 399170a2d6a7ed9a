import ArgumentParser

/// `stepline conformance ...`: run the peer conformance suites against the real code.
///
/// - Note: minimal group from the event-patterns branch; the `jsonata` subcommand is added
///   by its own branch (the lead reconciles this file when merging).
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Answer conformance cases on stdin, one per line (see ../shared/conformance/<name>/run.py --lines).",
        subcommands: [ConformanceEventPatternCommand.self]
    )
}
