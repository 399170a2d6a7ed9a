#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Injected randomness. Production uses the system generator; tests and `stepline run`
/// use a seeded one so that runs repeat.
public final class RandomSource: @unchecked Sendable {
    // @unchecked: a seeded source's state is only touched under `lock`; a system source has
    // no state of its own.
    private var state: UInt64
    private let lock: PthreadLock?

    /// The process's system-random source (every one draws from the same buffer; this
    /// spares an allocation where one is made per call).
    public static let system = RandomSource()

    /// A system-random source. Cheap: every one draws from one process-wide buffer.
    public init() {
        state = 0
        lock = nil
    }

    /// A deterministic source (SplitMix64).
    public init(seed: UInt64) {
        state = seed
        lock = PthreadLock()
    }

    public func next() -> UInt64 {
        guard let lock else { return SystemRandomBuffer.shared.next() }
        lock.lock()
        defer { lock.unlock() }
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly distributed double in [0, 1).
    public func nextUnitDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A random version-4 UUID in lowercase text form.
    public func uuidString() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let a = next(), b = next()
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The system's randomness drawn 32 words at a time: one `getrandom(2)` per 16 UUIDs
/// rather than one per UUID half (each was ~1 % of an EXPRESS StartExecution's cost).
private final class SystemRandomBuffer: @unchecked Sendable {
    // @unchecked: `words` and `available` are only touched under `lock`.
    static let shared = SystemRandomBuffer()
    private let lock = PthreadLock()
    private var words = [UInt64](repeating: 0, count: 32)
    private var available = 0

    func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        if available == 0 {
            // glibc ≥ 2.36 and Darwin: one kernel call for the whole buffer.
            words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
            available = words.count
        }
        available -= 1
        return words[available]
    }
}
