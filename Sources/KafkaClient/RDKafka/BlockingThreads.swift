#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutex with a condition variable (pthread), for threads that block on purpose.
///
/// Swift's `Mutex` has no condition variable; the poll threads and the rebalance drain
/// need to wait for another thread's signal.
final class ConditionLock: @unchecked Sendable {
    // @unchecked Sendable: the pthread objects are designed for use from many threads;
    // they live at fixed heap addresses allocated here and freed in deinit.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits (the lock held by the caller inside `withLock`) until signalled or until
    /// `deadline` (a `ContinuousClock` instant) passes. Returns false on timeout.
    func wait(until deadline: ContinuousClock.Instant?) -> Bool {
        guard let deadline else {
            pthread_cond_wait(condition, mutex)
            return true
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        if remaining <= .zero { return false }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (s, atto) = remaining.components
        var nanos = Int(now.tv_nsec) + Int(atto / 1_000_000_000)
        var abs = timespec(tv_sec: now.tv_sec + Int(s) + nanos / 1_000_000_000, tv_nsec: 0)
        nanos %= 1_000_000_000
        abs.tv_nsec = nanos
        return pthread_cond_timedwait(condition, mutex, &abs) == 0
    }

    func broadcast() { pthread_cond_broadcast(condition) }
}

/// Starts a detached thread running `body`, outside Swift's cooperative pool.
func startThread(name: String, _ body: @escaping @Sendable () -> Void) {
    final class Box {
        let name: String  // for debugging (pthread_setname_np does not import from Glibc)
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
    // Retained here, released exactly once by the new thread (or below if creation fails).
    let context = Unmanaged.passRetained(Box(name: name, body: body)).toOpaque()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    defer { pthread_attr_destroy(&attributes) }
    var thread = pthread_t()
    let rc = pthread_create(&thread, &attributes, { raw in
        let box = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! Box
        box.body()
        return nil
    }, context)
    if rc != 0 {
        Unmanaged<AnyObject>.fromOpaque(context).release()
        fatalError("pthread_create failed for thread \(name): \(rc)")
    }
}

/// Runs a blocking call on a new thread and awaits its result, so that the cooperative
/// pool (two threads on this machine) never blocks. For occasional calls (commit, admin,
/// transactions); hot loops have their own `DedicatedThread`.
func runBlocking<T: Sendable>(
    name: String = "kafka-blocking", _ body: @escaping @Sendable () throws(KafkaError) -> T
) async throws(KafkaError) -> T {
    let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
        startThread(name: name) {
            continuation.resume(returning: Result { () throws(KafkaError) -> T in try body() })
        }
    }
    return try result.get()
}

/// One thread that runs submitted jobs in order: the home of a consumer's poll loop.
///
/// librdkafka calls rebalance callbacks on the thread that polls, so keeping every poll on
/// one thread keeps the rebalance logic single-threaded.
final class DedicatedThread: @unchecked Sendable {
    // @unchecked Sendable: `jobs` and `isStopped` are only touched under `lock`.
    private let lock = ConditionLock()
    private var jobs: [@Sendable () -> Void] = []
    private var isStopped = false

    init(name: String) {
        startThread(name: name) { [self] in loop() }
    }

    private func loop() {
        while true {
            let job: (@Sendable () -> Void)? = lock.withLock {
                while jobs.isEmpty && !isStopped { _ = lock.wait(until: nil) }
                return jobs.isEmpty ? nil : jobs.removeFirst()
            }
            guard let job else { return }
            job()
        }
    }

    /// Queues a job; returns false (dropping it) once the thread is stopped.
    @discardableResult
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        lock.withLock {
            guard !isStopped else { return false }
            jobs.append(job)
            lock.broadcast()
            return true
        }
    }

    /// Runs `body` on the thread and returns its result; throws `.shutDown` once the thread
    /// is stopped (the job would never run).
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            let accepted = submit { continuation.resume(returning: Result { () throws(KafkaError) -> T in try body() }) }
            if !accepted { continuation.resume(returning: .failure(KafkaError(.shutDown, "the consumer is closed"))) }
        }
        return try result.get()
    }

    /// Ends the thread once the queued jobs have run.
    func stop() {
        lock.withLock {
            isStopped = true
            lock.broadcast()
        }
    }
}
