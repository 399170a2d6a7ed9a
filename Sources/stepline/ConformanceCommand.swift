import ArgumentParser

/// `stepline conformance <suite>`: runs a peer conformance suite's cases against the real
/// code, one case per line on stdin, one answer per line on stdout, in the protocol of
/// `../shared/conformance/<suite>/run.py --lines`.
///
/// Each suite is a subcommand in its own file; add it to `subcommands` below.
struct ConformanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conformance",
        abstract: "Answer conformance-suite cases read from stdin (run.py --lines protocol).",
        subcommands: [ConformanceJSONataCommand.self, ConformanceEventPatternCommand.self, ConformanceIAMPolicyCommand.self]
    )
}
