import CRdKafka

/// Facts about the linked librdkafka: its version and its error codes.
enum RDKafkaLibrary {
    /// The versions we support: 2.x. Built and tested against Debian 12's 2.0.2; 1.x lacks
    /// parts of the mock API we use, and a 3.x may change the mock cluster's behaviour.
    static let supportedMajor: UInt32 = 2

    /// librdkafka's version as `major.minor.revision`.
    static var versionString: String {
        // rd_kafka_version_str returns a static string owned by librdkafka.
        String(cString: rd_kafka_version_str())
    }

    /// Throws `.unsupportedLibrary` unless the linked librdkafka is one we support.
    ///
    /// Checked once, when the first client or mock cluster is made.
    static func ensureSupported() throws(KafkaError) {
        if let error = versionCheck { throw error }
    }

    private static let versionCheck: KafkaError? = check(version: UInt32(bitPattern: rd_kafka_version()))

    /// The check itself, on librdkafka's hex version (0xMMmmrrpp), so tests can feed it.
    static func check(version: UInt32) -> KafkaError? {
        let major = version >> 24, minor = (version >> 16) & 0xff, revision = (version >> 8) & 0xff
        guard major == supportedMajor else {
            return KafkaError(
                .unsupportedLibrary,
                "librdkafka \(major).\(minor).\(revision) is not supported: Stepline needs librdkafka 2.x "
                    + "(tested with 2.0.2, Debian 12's librdkafka-dev)")
        }
        return nil
    }

    /// librdkafka's name of an error code (`"UNKNOWN_TOPIC_OR_PART"`, `"_MSG_TIMED_OUT"`).
    static func name(of err: rd_kafka_resp_err_t) -> String {
        // rd_kafka_err2name returns a static string.
        String(cString: rd_kafka_err2name(err))
    }

    /// librdkafka's human description of an error code.
    static func describe(_ err: rd_kafka_resp_err_t) -> String {
        // rd_kafka_err2str returns a static string.
        String(cString: rd_kafka_err2str(err))
    }

    /// All error codes by name, as librdkafka lists them (local ones start with `_`).
    static let errorCodesByName: [String: rd_kafka_resp_err_t] = {
        var descs: UnsafePointer<rd_kafka_err_desc>?
        var count = 0
        // The table is static, owned by librdkafka; entries without a name are gaps.
        rd_kafka_get_err_descs(&descs, &count)
        var byName: [String: rd_kafka_resp_err_t] = [:]
        guard let descs else { return byName }
        for i in 0..<count where descs[i].name != nil {
            byName[String(cString: descs[i].name)] = descs[i].code
        }
        return byName
    }()

    /// Parses an error code given by name (with or without the `RD_KAFKA_RESP_ERR_` prefix,
    /// any case) or by number.
    static func errorCode(named text: String) -> rd_kafka_resp_err_t? {
        if let n = Int32(text) { return rd_kafka_resp_err_t(rawValue: n) }
        var name = text.uppercased()
        if name.hasPrefix("RD_KAFKA_RESP_ERR_") { name.removeFirst("RD_KAFKA_RESP_ERR_".count) }
        return errorCodesByName[name]
    }

    static func isRetriable(_ err: rd_kafka_resp_err_t) -> Bool {
        switch err {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
            RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR__QUEUE_FULL,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
            return true
        default:
            return false
        }
    }

    /// Wraps a librdkafka error code into a `KafkaError` of the given kind.
    static func error(
        _ code: KafkaError.Code, _ err: rd_kafka_resp_err_t, _ context: String
    ) -> KafkaError {
        KafkaError(
            code, "\(context): \(describe(err)) (\(name(of: err)))", rdKafkaErrorName: name(of: err),
            isRetriable: isRetriable(err))
    }

    /// Takes a `rd_kafka_error_t` (which this destroys) into a `KafkaError`.
    static func take(_ error: OpaquePointer, _ code: KafkaError.Code, _ context: String) -> KafkaError {
        // The caller owns `error` (returned by a librdkafka call); we destroy it here, once.
        defer { rd_kafka_error_destroy(error) }
        let err = rd_kafka_error_code(error)
        let text = rd_kafka_error_string(error).map { String(cString: $0) } ?? describe(err)
        return KafkaError(
            code, "\(context): \(text) (\(name(of: err)))", rdKafkaErrorName: name(of: err),
            isRetriable: rd_kafka_error_is_retriable(error) != 0,
            requiresAbort: rd_kafka_error_txn_requires_abort(error) != 0)
    }
}
