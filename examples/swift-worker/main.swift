// A Stepline task worker in Swift: answers `stepline.lambda.greet` (or the topic given)
// with a greeting, heartbeating while it works.
//
//   swift run stepline-worker-example [--topic stepline.lambda.greet] [--bootstrap HOST:PORT]
//
// Without --bootstrap it reads the embedded broker's address from .stepline/bootstrap.servers.
import Foundation
import StatesLanguage
import SteplineWorker

var topic = "stepline.lambda.greet"
var bootstrap: String? = nil
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let a = arguments.next() {
    switch a {
    case "--topic": topic = arguments.next() ?? topic
    case "--bootstrap": bootstrap = arguments.next()
    default:
        FileHandle.standardError.write(Data("usage: stepline-worker-example [--topic T] [--bootstrap HOST:PORT]\n".utf8))
        exit(2)
    }
}
let dataDir = ProcessInfo.processInfo.environment["STEPLINE_DATA_DIR"] ?? ".stepline"
guard let servers = bootstrap ?? (try? String(contentsOfFile: dataDir + "/bootstrap.servers", encoding: .utf8))?
    .trimmingCharacters(in: .whitespacesAndNewlines)
else {
    FileHandle.standardError.write(Data("no --bootstrap and no \(dataDir)/bootstrap.servers: is stepline serve running?\n".utf8))
    exit(2)
}
let worker = try SteplineWorker(bootstrapServers: servers, topic: topic)
FileHandle.standardOutput.write(Data("worker: answering \(topic) on \(servers)\n".utf8))
try await worker.run { task in
    guard let name = task.input["name"]?.stringValue else {
        throw SteplineWorker.TaskFailure(error: "Greeting.MissingName", cause: "the input has no \"name\"")
    }
    return ["greeting": .string("Hello, \(name)!")]
}
