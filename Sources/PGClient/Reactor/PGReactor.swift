import CLibPQ
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One thread that waits on every connection's socket with `epoll` and resumes the task waiting for it.
///
/// A connection never blocks a thread: its task sends the statement itself, then suspends in `wait(for:)` until
/// the socket is readable (or writable); the reactor only wakes it — all libpq calls stay on the task. Sockets are
/// registered `EPOLLONESHOT`, so each wait arms exactly one wake-up and a readiness is never delivered twice.
///
/// The reactor is also a `TaskExecutor` (`PGReactor+Executor.swift`): a task that prefers it runs its jobs on this
/// thread, so a statement's result resumes its task here, without waking a thread of the cooperative pool.
final class PGReactor: Sendable {
    /// The process's reactor, started on first use. It lives as long as the process (one idle thread).
    static let shared = PGReactor()

    enum Interest { case readable, writable }

    private struct State {
        var waiters: [Int32: CheckedContinuation<Void, Never>] = [:]
        /// Sockets added to the epoll set (re-armed with `EPOLL_CTL_MOD` on later waits).
        var registered: Set<Int32> = []
    }

    private let epoll: Int32
    /// Written to wake the loop for jobs queued from other threads (`enqueue`).
    let wakeup: Int32
    private let state = Mutex(State())
    let jobs = Mutex(JobQueue())
    /// The loop thread's `pthread_self()`, once it runs: jobs queued from it need no wake-up.
    let loopThread = Atomic<UInt>(0)

    private init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeup = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeup
        _ = epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event)
        let thread = Thread { [self] in self.loop() }
        thread.name = "telebot-pg-reactor"
        thread.start()
    }

    /// Suspends until `socket` is ready for `interest` (or reports an error or hang-up, which libpq then reads).
    /// A socket the kernel refuses to watch resumes at once, so the caller sees libpq's own error instead of hanging.
    func wait(socket: Int32, for interest: Interest) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let armed = state.withLock { state -> Bool in
                state.waiters[socket] = continuation
                var event = epoll_event()
                event.events =
                    (interest == .readable ? EPOLLIN.rawValue : EPOLLOUT.rawValue)
                    | EPOLLONESHOT.rawValue | EPOLLRDHUP.rawValue
                event.data.fd = socket
                let known = state.registered.contains(socket)
                var result = epoll_ctl(epoll, known ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, socket, &event)
                if result != 0, errno == (known ? ENOENT : EEXIST) {
                    // The socket was closed and its number reused (or added elsewhere): switch operations.
                    result = epoll_ctl(epoll, known ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, socket, &event)
                }
                guard result == 0 else {
                    state.waiters[socket] = nil
                    state.registered.remove(socket)
                    return false
                }
                state.registered.insert(socket)
                return true
            }
            if !armed { continuation.resume() }
        }
    }

    /// Stops watching `socket`; call it before libpq closes the socket. A task still waiting on it is resumed.
    func forget(socket: Int32) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.registered.remove(socket) != nil {
                _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket, nil)
            }
            return state.waiters.removeValue(forKey: socket)
        }
        waiter?.resume()
    }

    private func wake(_ sockets: [Int32]) {
        let ready = state.withLock { state in sockets.compactMap { state.waiters.removeValue(forKey: $0) } }
        for continuation in ready { continuation.resume() }
    }

    /// Runs queued jobs, then waits for sockets (not at all while jobs are queued), then resumes their tasks (whose
    /// jobs, for tasks that prefer this executor, are queued here and run on the next turn).
    private func loop() {
        loopThread.store(UInt(pthread_self()), ordering: .releasing)
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var sockets: [Int32] = []
        sockets.reserveCapacity(capacity)
        while true {
            let more = runQueuedJobs()
            let count = epoll_wait(epoll, events, Int32(capacity), more ? 0 : -1)
            if count < 0 {
                if errno == EINTR { continue }
                return
            }
            sockets.removeAll(keepingCapacity: true)
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                if fd == wakeup { drainWakeup() } else { sockets.append(fd) }
            }
            wake(sockets)
        }
    }
}
