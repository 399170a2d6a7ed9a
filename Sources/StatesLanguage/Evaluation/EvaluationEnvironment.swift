#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the expressions of one state can read: the effective input (`$`), the context
/// object (`$$`), the workflow variables (`$name`), and a source of randomness for
/// `States.UUID`, `States.MathRandom`, `$uuid()` and `$random()`.
///
/// The context object is a value the engine builds only when a compiled expression says
/// it reads `$$` (see `referencesContext` on compiled expressions), because building it
/// on every state would dominate tight loops.
public struct EvaluationEnvironment: Sendable {
    public var input: JSON
    public var context: JSON
    public var variables: Variables
    public var random: RandomSource

    public init(input: JSON, context: JSON = .null, variables: Variables = Variables(), random: RandomSource = RandomSource()) {
        self.input = input
        self.context = context
        self.variables = variables
        self.random = random
    }
}

/// Workflow variables as one state sees them: its own scope, then the enclosing scopes
/// (a Map iteration or Parallel branch reads the variables of the states around it but
/// cannot assign them).
public struct Variables: Sendable, Hashable {
    public var own: [String: JSON]
    var outer: Outer?

    final class Outer: Sendable, Hashable {
        let value: Variables
        init(_ value: Variables) { self.value = value }
        static func == (a: Outer, b: Outer) -> Bool { a === b || a.value == b.value }
        func hash(into hasher: inout Hasher) { hasher.combine(value) }
    }

    public init(_ own: [String: JSON] = [:], outer: Variables? = nil) {
        self.own = own
        self.outer = outer.map(Outer.init)
    }

    /// The innermost binding of `name`, or nil when no scope binds it.
    public subscript(name: String) -> JSON? {
        if let v = own[name] { return v }
        return outer?.value[name]
    }

    public var enclosing: Variables? { outer?.value }

    /// A new inner scope whose reads fall back to `self`.
    public func makeInnerScope() -> Variables { Variables([:], outer: self) }

    /// Every visible binding, inner scopes shadowing outer ones.
    public var flattened: [String: JSON] {
        var all = outer?.value.flattened ?? [:]
        for (k, v) in own { all[k] = v }
        return all
    }
}

/// Injected randomness. Production uses the system generator; tests and `stepline run`
/// use a seeded one so that runs repeat.
public final class RandomSource: @unchecked Sendable {
    // @unchecked: a seeded source's state is only touched under `lock`; a system source has
    // no state of its own.
    private var state: UInt64
    private let lock: Mutex?

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
        lock = Mutex()
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
    private let lock = Mutex()
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

/// A minimal lock over pthread, so that the pure module needs no Foundation or Synchronization.
final class Mutex: @unchecked Sendable {
    // @unchecked: the pthread mutex is the synchronization itself.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
}
