import CLibPQ
import Dispatch

/// Sends a cancel request for whatever the connection is running (`PQcancel`), from any thread.
///
/// `PQcancel` opens its own short connection to the server, so it runs on a Dispatch worker, never on the caller's
/// thread (a task cancellation handler). The `PGcancel` object is freed only under the same lock, so a cancel racing
/// the connection's close never touches freed memory.
final class PGCanceller: Sendable {
    private let handle: LockedHandle<OpaquePointer?>

    init(_ cancel: OpaquePointer?) {
        handle = LockedHandle(cancel)
    }

    deinit { invalidate() }

    /// Asks the server to cancel the running statement; the statement then fails with SQLSTATE 57014.
    func cancel() {
        DispatchQueue.global().async { [handle] in
            handle.withLock { cancel in
                guard let cancel else { return }
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(cancel, &buffer, Int32(buffer.count))
            }
        }
    }

    func invalidate() {
        handle.withLock { cancel in
            if let pointer = cancel { PQfreeCancel(pointer) }
            cancel = nil
        }
    }
}
