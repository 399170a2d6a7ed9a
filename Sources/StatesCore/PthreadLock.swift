#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal lock over pthread, so that the pure modules need no Foundation or Synchronization
/// (not named `Mutex`: package access would shadow `Synchronization.Mutex` in the other modules).
package final class PthreadLock: @unchecked Sendable {
    // @unchecked: the pthread mutex is the synchronization itself.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }
    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
    package func lock() { pthread_mutex_lock(mutex) }
    package func unlock() { pthread_mutex_unlock(mutex) }
}
