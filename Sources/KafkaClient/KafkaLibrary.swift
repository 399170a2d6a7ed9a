/// The linked librdkafka.
public enum KafkaLibrary {
    /// Its version, `major.minor.revision`.
    public static var version: String { RDKafkaLibrary.versionString }

    /// Throws `.unsupportedLibrary` with a clear message unless the linked librdkafka is
    /// one Stepline supports (2.x). Clients check this themselves; call it at start to fail
    /// early.
    public static func ensureSupported() throws(KafkaError) { try RDKafkaLibrary.ensureSupported() }

    /// The check on a hex version (`0xMMmmrrpp`, as `rd_kafka_version()` returns it).
    public static func check(version: UInt32) -> KafkaError? { RDKafkaLibrary.check(version: version) }
}
