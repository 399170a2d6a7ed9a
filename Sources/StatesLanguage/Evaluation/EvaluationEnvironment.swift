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
    // @unchecked: the generator state is only touched under `lock`.
    private var state: UInt64
    private let seeded: Bool
    private let lock = Mutex()
    /// System randomness drawn 32 words at a time: one `getrandom` per 16 UUIDs rather than
    /// one per UUID half, which showed as ~1 % of an EXPRESS StartExecution's cost.
    private var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                         UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                         UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                         UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    private var buffered = 0

    /// A system-random source.
    public init() {
        var g = SystemRandomNumberGenerator()
        state = g.next()
        seeded = false
    }

    /// A deterministic source (SplitMix64).
    public init(seed: UInt64) {
        state = seed
        seeded = true
    }

    public func next() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        if !seeded {
            if buffered == 0 {
                withUnsafeMutableBytes(of: &buffer) { raw in
                    // glibc ≥ 2.36 and Darwin: one getrandom(2)/kernel call for the whole buffer.
                    arc4random_buf(raw.baseAddress!, raw.count)
                }
                buffered = 32
            }
            buffered -= 1
            return withUnsafeBytes(of: &buffer) { $0.load(fromByteOffset: buffered * 8, as: UInt64.self) }
        }
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
