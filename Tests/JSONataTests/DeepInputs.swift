#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deep inputs for the depth tests, and a thread with a known stack to run them on (as in
/// StatesLanguageTests, whose depth tests run the same way).
///
/// The daemon runs every parser and evaluator on threads with 8 MiB of stack (Linux's
/// default: the cooperative pool, NIO's event loops and the main thread all take
/// `RLIMIT_STACK`). The depth tests run on half of that, in a debug build, whose frames are
/// several times larger than a release build's: the deepest input each language accepts
/// must fit with that margin.
enum DeepInputs {
    static let stackSize = 4 << 20

    /// `open` `n` times, then `middle`, then `close` `n` times.
    static func nested(_ open: String, _ middle: String, _ close: String, _ n: Int) -> String {
        String(repeating: open, count: n) + middle + String(repeating: close, count: n)
    }
}

/// Runs `body` on a new thread with `stackSize` bytes of stack and returns what it returns.
///
/// A stack overflow on that thread still ends the test process (with SIGSEGV): that is the
/// failure these tests look for.
func onThread<T>(stackSize: Int = DeepInputs.stackSize, _ body: @escaping () -> T) -> T {
    var result: T?
    let box = ThreadBody { result = body() }
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    // passRetained: the thread takes the box; `pthread_join` below outlives it
    let rc = pthread_create(&thread, &attributes, { raw in
        Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
        return nil
    }, Unmanaged.passRetained(box).toOpaque())
    precondition(rc == 0, "pthread_create: \(rc)")
    #if canImport(Glibc)
    pthread_join(thread, nil)
    #else
    pthread_join(thread!, nil)
    #endif
    return result!
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}
