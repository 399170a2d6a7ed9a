// The Swift side of the Kafka benchmark; the same measurements as bench.c, through
// KafkaClient's public API.
//
//   kafka-bench produce BOOTSTRAP TOPIC COUNT     fire-and-forget enqueue + flush
//   kafka-bench send BOOTSTRAP TOPIC COUNT        async send in batches of 1,000 (awaiting reports)
//   kafka-bench consume BOOTSTRAP TOPIC GROUP     batches of up to 1,000 records (copies)
//   kafka-bench consume-borrow BOOTSTRAP TOPIC GROUP  the same, as views into librdkafka's buffers
//   (BATCH=N in the environment sets the copying consumer's batch size, default 1,000)
//   kafka-bench rtt BOOTSTRAP TOPIC COUNT         await send, linger 0, one at a time
//   kafka-bench latency BOOTSTRAP TOPIC WAIT_MS   produce → consume, fetch.wait.max.ms = WAIT_MS
import KafkaClient

#if canImport(Glibc)
import Glibc
#endif

@main
struct KafkaBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 5 else {
            print("usage: kafka-bench produce|send|consume|rtt|latency BOOTSTRAP TOPIC COUNT|GROUP|WAIT_MS")
            exit(2)
        }
        let mode = arguments[1], bootstrap = arguments[2], topic = arguments[3]
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 200)

        func producerConfiguration(linger: Duration) -> KafkaProducerConfiguration {
            var c = KafkaProducerConfiguration(bootstrapServers: bootstrap)
            c.linger = linger

            return c
        }

        func median(_ samples: [Double]) -> (Double, Double) {
            let sorted = samples.sorted()
            return (sorted[sorted.count / 2], sorted[sorted.count * 99 / 100])
        }

        switch mode {
        case "produce":
            let count = Int(arguments[4])!
            let producer = try KafkaProducer(configuration: producerConfiguration(linger: .milliseconds(5)))
            try await producer.send(KafkaProducerRecord(topic: topic, value: payload))  // connect, learn metadata
            let start = ContinuousClock.now, cpu0 = cpuSeconds()
            // As bench.c: the key formatted into a reused buffer, payload and key passed as
            // raw buffers (librdkafka copies them), no delivery handler.
            var keyBuffer = [UInt8](repeating: 0, count: 24)
            try payload.withUnsafeBytes { value in
                for i in 0..<count {
                    let keyLength = formatDecimal(i, into: &keyBuffer)
                    try keyBuffer.withUnsafeBytes { key in
                        try enqueueWaiting(producer, topic: topic, key: UnsafeRawBufferPointer(rebasing: key[0..<keyLength]), value: value)
                    }
                }
            }
            try await producer.flush(timeout: .seconds(60))
            let elapsed = start.duration(to: .now)
            print("produce \(Int(Double(count) / elapsed.seconds)) records/s cpu=\(format((cpuSeconds() - cpu0) * 1e6 / Double(count)))us/record")
            await producer.close()

        case "send":
            let count = Int(arguments[4])!
            let producer = try KafkaProducer(configuration: producerConfiguration(linger: .milliseconds(5)))
            try await producer.send(KafkaProducerRecord(topic: topic, value: payload))
            let start = ContinuousClock.now
            for batchStart in stride(from: 0, to: count, by: 1000) {
                let records = (batchStart..<min(count, batchStart + 1000)).map {
                    KafkaProducerRecord(topic: topic, key: Array(String($0).utf8), value: payload)
                }
                _ = try await producer.send(records)
            }
            let elapsed = start.duration(to: .now)
            print("send \(Int(Double(count) / elapsed.seconds)) records/s")
            await producer.close()

        case "rtt":
            let count = Int(arguments[4])!
            let producer = try KafkaProducer(configuration: producerConfiguration(linger: .zero))
            var samples: [Double] = []
            for i in -100..<count {
                let start = ContinuousClock.now
                try await producer.send(KafkaProducerRecord(topic: topic, value: payload))
                if i >= 0 { samples.append(start.duration(to: .now).seconds * 1e6) }
            }
            let (p50, p99) = median(samples)
            print("rtt \(Int(p50)) us-median p99=\(Int(p99))")
            await producer.close()

        case "consume", "consume-borrow":
            let borrowing = mode == "consume-borrow"
            let batchSize = getenv("BATCH").flatMap { Int(String(cString: $0)) } ?? 1000
            var c = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: arguments[4])
            // The mock holds every fetch for the whole wait: with 100 ms the prefetch queue
            // runs dry between fetches and the rate depends on timing luck. bench.c too.
            c.fetchWaitMax = .milliseconds(1)
            if let d = getenv("KDEBUG") {  // e.g. KDEBUG=fetch: librdkafka's debug log
                c.properties["debug"] = String(cString: d)
                let t0 = ContinuousClock.now
                c.diagnostics = { print("\(t0.duration(to: .now)) \($0.message.prefix(300))") }
            }
            let consumer = try KafkaConsumer(configuration: c, topics: [topic])
            var count = 0
            var bytes = 0
            var first = ContinuousClock.now, last = ContinuousClock.now
            var cpu0 = 0.0, cpu1 = 0.0
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let batchCount: Int
                if borrowing {
                    // Views into librdkafka's buffers: touch the last byte as bench.c does.
                    let (n, touched, next) = try await consumer.poll(maxRecords: 1000, timeout: .milliseconds(100)) { views in
                        var touched = 0
                        for v in views { touched &+= v.value.flatMap { $0.last }.map(Int.init) ?? 0 }
                        return (views.count, touched, KafkaConsumer.nextOffsets(after: views))
                    }
                    bytes &+= touched
                    batchCount = n
                    if n > 0 { try consumer.storeOffsets(next) }
                } else {
                    let batch = try await consumer.poll(maxRecords: batchSize, timeout: .milliseconds(100))
                    for r in batch { bytes &+= r.value?.last.map(Int.init) ?? 0 }
                    if !batch.isEmpty { try consumer.storeOffsets(for: batch) }
                    batchCount = batch.count
                }
                if batchCount == 0 {
                    if count > 0 && last.duration(to: .now) > .seconds(2) { break }
                    continue
                }
                if getenv("GAPS") != nil, count > 0, last.duration(to: .now) > .milliseconds(20) { print("gap \(last.duration(to: .now)) after \(count)") }
                last = .now
                if count == 0 { first = last; cpu0 = cpuSeconds(); count += batchCount - 1 } else { count += batchCount }
            }
            cpu1 = cpuSeconds()  // includes the idle tail, as in bench.c
            let rate = count > 0 ? Double(count) / first.duration(to: last).seconds : 0
            print("\(mode) \(Int(rate)) records/s cpu=\(format(count > 0 ? (cpu1 - cpu0) * 1e6 / Double(count) : 0))us/record count=\(count + 1)")
            await consumer.close()

        case "latency":
            let waitMs = Int(arguments[4])!
            let producer = try KafkaProducer(configuration: producerConfiguration(linger: .zero))
            var c = KafkaConsumerConfiguration(bootstrapServers: bootstrap, groupID: topic + "-latency-\(waitMs)")
            c.fetchWaitMax = .milliseconds(waitMs)
            c.autoOffsetReset = .latest
            let consumer = try KafkaConsumer(configuration: c, topics: [topic])
            // Join first.
            while try consumer.assignment().isEmpty { _ = try await consumer.poll(timeout: .milliseconds(100)) }
            try await Task.sleep(for: .milliseconds(500))
            var samples: [Double] = []
            for i in -20..<300 {
                let start = ContinuousClock.now
                try await producer.send(KafkaProducerRecord(topic: topic, value: payload))
                var got = false
                while !got { got = try await !consumer.poll(maxRecords: 10, timeout: .seconds(1)).isEmpty }
                if i >= 0 { samples.append(start.duration(to: .now).seconds * 1e6) }
            }
            let (p50, p99) = median(samples)
            print("latency \(Int(p50)) us-median p99=\(Int(p99)) fetch.wait.max.ms=\(waitMs)")
            await consumer.close()
            await producer.close()

        default:
            print("unknown mode \(mode)")
            exit(2)
        }

    }

    /// CPU seconds of the whole process (every librdkafka thread included).
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    static func format(_ x: Double) -> String {
        let hundredths = Int((x * 100).rounded())
        return "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    /// Writes `n` in decimal ASCII into `buffer`; returns the length.
    static func formatDecimal(_ n: Int, into buffer: inout [UInt8]) -> Int {
        var digits = 1, rest = n / 10
        while rest > 0 { digits += 1; rest /= 10 }
        var n = n
        buffer.withUnsafeMutableBufferPointer { b in
            for i in stride(from: digits - 1, through: 0, by: -1) {
                b[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
        }
        return digits
    }

    /// Enqueues, waiting while the local queue is full (the poll thread drains it).
    static func enqueueWaiting(
        _ producer: KafkaProducer, topic: String, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
    ) throws {
        while true {
            do {
                try producer.enqueue(topic: topic, key: key, value: value)
                return
            } catch {
                guard error.code == .queueFull else { throw error }
                usleep(1000)
            }
        }
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
