import CRdKafka
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Which records a consumer has handed out and which offsets the caller stored, per
/// partition; the rebalance logic waits on it.
final class RDKafkaConsumerProgress: @unchecked Sendable {
    // @unchecked Sendable: every field is guarded by `lock`.
    private let lock = ConditionLock()
    private let drainTimeout: Duration
    /// Assigned partitions: the highest offset handed out (-1: none) and the next offset
    /// stored (-1: none). A partition has work in flight while handedOut >= stored.
    private var partitions: [KafkaTopicPartition: (handedOut: Int64, stored: Int64)] = [:]
    /// Partitions revoked while a poll was collecting a batch: drop their records.
    private var revokedDuringPoll: Set<KafkaTopicPartition> = []
    /// Whether `revokedDuringPoll` is non-empty, read without the lock on every record.
    private let revokedFlag = Atomic<Bool>(false)

    /// Assigned partitions start at their first record (`startAtBeginning`).
    private let startAtBeginning: Bool

    init(drainTimeout: Duration, startAtBeginning: Bool = false) {
        self.drainTimeout = drainTimeout
        self.startAtBeginning = startAtBeginning
    }

    var hasRevokedDuringPoll: Bool { revokedFlag.load(ordering: .acquiring) }

    func takeRevokedDuringPoll() -> Set<KafkaTopicPartition> {
        guard hasRevokedDuringPoll else { return [] }
        return lock.withLock {
            defer {
                revokedDuringPoll = []
                revokedFlag.store(false, ordering: .releasing)
            }
            return revokedDuringPoll
        }
    }

    /// Records the batch as handed out. Returns the partitions not assigned (any more),
    /// whose messages the caller drops.
    func markDelivered(_ batch: [RDKafkaConsumer.Fetched]) -> Set<KafkaTopicPartition> {
        // Highest offset per partition first (messages come in runs of one partition), then
        // one locked update.
        var highest: [KafkaTopicPartition: Int64] = [:]
        var i = 0
        while i < batch.count {
            let tp = batch[i].topicPartition
            var top = batch[i].offset
            i += 1
            while i < batch.count, batch[i].topicPartition.partition == tp.partition, batch[i].topicPartition.topic == tp.topic {
                top = max(top, batch[i].offset)
                i += 1
            }
            highest[tp] = max(highest[tp] ?? -1, top)
        }
        return lock.withLock {
            var unassigned: Set<KafkaTopicPartition> = []
            for (tp, offset) in highest {
                if partitions[tp] != nil { partitions[tp]!.handedOut = max(partitions[tp]!.handedOut, offset) } else { unassigned.insert(tp) }
            }
            return unassigned
        }
    }

    func store(
        _ offsets: [KafkaTopicPartition: Int64], _ storeInLibrary: ([KafkaTopicPartition: Int64]) -> [KafkaTopicPartition]
    ) throws(KafkaError) {
        let notOwned: [KafkaTopicPartition] = lock.withLock {
            var owned: [KafkaTopicPartition: Int64] = [:]
            var notOwned: [KafkaTopicPartition] = []
            for (tp, next) in offsets {
                if partitions[tp] != nil { owned[tp] = next } else { notOwned.append(tp) }
            }
            if !owned.isEmpty {
                // Under our lock so a revoke cannot slip between the check and the store.
                notOwned += storeInLibrary(owned)
                for (tp, next) in owned where !notOwned.contains(tp) {
                    partitions[tp]!.stored = max(partitions[tp]!.stored, next)
                }
                lock.broadcast()
            }
            return notOwned
        }
        if !notOwned.isEmpty {
            throw KafkaError(
                .partitionsRevoked,
                "offsets not stored for \(notOwned.map(\.description).sorted().joined(separator: ", ")): "
                    + "no longer assigned to this consumer (a rebalance moved them; their records will be redelivered to the new owner)")
        }
    }

    /// The rebalance callback, on the consumer thread inside a poll or close.
    func rebalance(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>,
        callbacks: RDKafkaCallbacks
    ) {
        let tps = [KafkaTopicPartition](list)
        let isCooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            lock.withLock {
                for tp in tps { partitions[tp] = (-1, -1) }
            }
            callbacks.report(.info, "assigned \(tps.map(\.description).joined(separator: ", "))")
            if startAtBeginning {
                // The list is librdkafka's, lent to this callback; assign reads the offsets set here.
                for i in 0..<Int(list.pointee.cnt) { list.pointee.elems[i].offset = Int64(RD_KAFKA_OFFSET_BEGINNING) }
            }
            assign(rk, list, isCooperative: isCooperative, callbacks: callbacks)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            let isLost = rd_kafka_assignment_lost(rk) != 0
            if !isLost {
                let unfinished = drain(tps)
                if !unfinished.isEmpty {
                    callbacks.report(.warning, "records of \(unfinished) were not stored within \(drainTimeout); they will be redelivered")
                }
                // Synchronous commit of the stored offsets before the partitions go. A group
                // that is still completing a rebalance (the broker's CompletingRebalance, the
                // mock cluster's syncing) refuses commits for a moment: try again briefly.
                var commitErr = rd_kafka_commit(rk, nil, 0)
                let commitDeadline = ContinuousClock.now + .milliseconds(1_500)
                while commitErr == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS && ContinuousClock.now < commitDeadline {
                    usleep(100_000)
                    commitErr = rd_kafka_commit(rk, nil, 0)
                }
                if commitErr != RD_KAFKA_RESP_ERR_NO_ERROR && commitErr != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    callbacks.report(.warning, "commit on revoke failed: \(RDKafkaLibrary.describe(commitErr))")
                }
            }
            lock.withLock {
                for tp in tps {
                    partitions[tp] = nil
                    revokedDuringPoll.insert(tp)
                }
                revokedFlag.store(true, ordering: .releasing)
                lock.broadcast()
            }
            callbacks.report(.info, "\(isLost ? "lost" : "revoked") \(tps.map(\.description).joined(separator: ", "))")
            unassign(rk, list, isCooperative: isCooperative, callbacks: callbacks)
        default:
            callbacks.report(.warning, "rebalance error: \(RDKafkaLibrary.describe(err))")
            lock.withLock {
                for tp in partitions.keys { revokedDuringPoll.insert(tp) }
                revokedFlag.store(true, ordering: .releasing)
                partitions = [:]
            }
            rd_kafka_assign(rk, nil)
        }
    }

    /// Waits until every handed-out record of `tps` has its offset stored, or the drain
    /// timeout. Returns the partitions still unfinished.
    private func drain(_ tps: [KafkaTopicPartition]) -> [KafkaTopicPartition] {
        let deadline = ContinuousClock.now + drainTimeout
        return lock.withLock {
            while true {
                let unfinished = tps.filter { tp in partitions[tp].map { $0.handedOut >= $0.stored && $0.handedOut >= 0 } ?? false }
                if unfinished.isEmpty || !lock.wait(until: deadline) && ContinuousClock.now >= deadline { return unfinished }
            }
        }
    }

    private func assign(
        _ rk: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, isCooperative: Bool,
        callbacks: RDKafkaCallbacks
    ) {
        if isCooperative {
            if let error = rd_kafka_incremental_assign(rk, list) {
                callbacks.report(.error, RDKafkaLibrary.take(error, .consumer, "incremental assign failed").message)
            }
        } else {
            let err = rd_kafka_assign(rk, list)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { callbacks.report(.error, "assign failed: \(RDKafkaLibrary.describe(err))") }
        }
    }

    private func unassign(
        _ rk: OpaquePointer, _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>, isCooperative: Bool,
        callbacks: RDKafkaCallbacks
    ) {
        if isCooperative {
            if let error = rd_kafka_incremental_unassign(rk, list) {
                callbacks.report(.error, RDKafkaLibrary.take(error, .consumer, "incremental unassign failed").message)
            }
        } else {
            let err = rd_kafka_assign(rk, nil)
            if err != RD_KAFKA_RESP_ERR_NO_ERROR { callbacks.report(.error, "unassign failed: \(RDKafkaLibrary.describe(err))") }
        }
    }
}
