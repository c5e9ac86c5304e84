import Foundation

/// The one `@unchecked Sendable` type of PGClient: a small lock box around a connection's libpq state.
///
/// `PGconn*` and `PGresult*` are raw pointers the compiler cannot reason about. Every read and write of `value`
/// happens inside `withLock`, so the pointer is never used by two threads at once; that is the invariant that
/// makes the unchecked conformance sound. Results created under the lock belong to the caller afterwards.
final class LockedHandle<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
