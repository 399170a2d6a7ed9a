import ArgumentParser
import CommandSupport
import Dispatch
import KafkaClient

#if canImport(Glibc)
import Glibc
#endif

/// `stepline broker`: a development Kafka cluster (librdkafka's mock cluster) on loopback.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run a development Kafka cluster (librdkafka's mock cluster) on loopback.",
        discussion: """
            Prints the bootstrap address as the first line on stdout, then runs until SIGINT \
            or SIGTERM. In memory only, about 5 MB kept per partition: for development and \
            tests. With --control, fault-injection commands (broker-down 1, rtt 1 50ms, \
            push-error Produce 3 NOT_LEADER_FOR_PARTITION, ...; see docs/kafka.md) are read \
            one per line from stdin or a loopback TCP port, each answered by one line.
            """
    )

    @Option(help: "Number of brokers.")
    var brokers: Int = 1

    @Option(help: "A fixed loopback port to bootstrap from (forwarded to the brokers' ephemeral ports).")
    var port: UInt16?

    @Option(help: "Topics to create, comma-separated, each NAME or NAME:PARTITIONS.")
    var topics: String?

    @Option(help: "Fault-injection control channel: 'stdin', or a loopback TCP port (0: any free port, printed on the second stdout line as 'control 127.0.0.1:PORT').")
    var control: String?

    @Flag(help: "Print the mock brokers' log lines on stderr.")
    var verbose = false

    func validate() throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1, not \(brokers)") }
        if let control, control != "stdin", UInt16(control) == nil {
            throw ValidationError("--control must be 'stdin' or a port number, not '\(control)'")
        }
    }

    func run() async throws {
        let signals = TerminationSignals()
        do {
            try KafkaLibrary.ensureSupported()
        } catch {
            printError("stepline broker: \(error.message)")
            throw ExitCode(1)
        }
        var specs: [KafkaTopicSpecification] = []
        for spec in (topics ?? "").split(separator: ",") {
            do {
                specs.append(try KafkaTopicSpecification(parsing: spec.trimmingCharacters(in: " ")))
            } catch {
                throw ValidationError(error.message)
            }
        }
        var diagnostics: KafkaDiagnosticHandler?
        if verbose { diagnostics = { d in printError(d.description) } }
        let cluster: KafkaMockCluster
        do {
            cluster = try KafkaMockCluster(brokers: brokers, port: port, topics: specs, diagnostics: diagnostics)
        } catch {
            printError("stepline broker: \(error.message)")
            throw ExitCode(1)
        }
        printLine(cluster.bootstrapServers)

        var controlServer: KafkaMockControlServer?
        if control == "stdin" {
            // readLine blocks: it gets a Dispatch thread, not the cooperative pool. EOF on
            // stdin (e.g. /dev/null) ends the control channel, not the broker.
            DispatchQueue.global().async {
                while let line = readLine() { printLine(cluster.execute(line)) }
            }
        } else if let control, let controlPort = UInt16(control) {
            do {
                controlServer = try KafkaMockControlServer(cluster: cluster, port: controlPort)
            } catch {
                printError("stepline broker: \(error.message)")
                await cluster.shutdown()
                throw ExitCode(1)
            }
            printLine("control 127.0.0.1:\(controlServer!.port)")
        }

        let signal = await signals.wait()
        printError("stepline broker: \(signal), shutting down")
        controlServer?.stop()
        await cluster.shutdown()
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
