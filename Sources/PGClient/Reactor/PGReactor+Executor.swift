import CLibPQ
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The jobs waiting to run on the reactor's thread.
struct JobQueue {
    var jobs: [UnownedJob] = []
    /// The eventfd was written and the loop has not read it yet: another write would be wasted.
    var wakeupPending = false
}

/// The reactor as a task executor: `withTaskExecutorPreference(PGExecutor.shared)` runs a task's jobs on the reactor
/// thread. A statement's result then resumes its task on the thread that saw the socket become readable: one thread
/// wakes per round trip instead of two (the reactor, then a cooperative-pool thread to run the task).
///
/// The work that runs there must not block (nothing on a request path does: no blocking libpq call, no file I/O,
/// logs go through a buffered writer); a job that blocked would hold every connection's I/O.
extension PGReactor: TaskExecutor {
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let onLoop = UInt(pthread_self()) == loopThread.load(ordering: .acquiring)
        let wake = jobs.withLock { queue -> Bool in
            queue.jobs.append(job)
            guard !onLoop, !queue.wakeupPending else { return false }
            queue.wakeupPending = true
            return true
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
        }
    }

    /// Runs the jobs queued so far (jobs they queue run on the next turn, after the sockets are looked at).
    /// - Returns: true when jobs are queued again.
    func runQueuedJobs() -> Bool {
        let batch = jobs.withLock { queue -> [UnownedJob] in
            let batch = queue.jobs
            queue.jobs.removeAll(keepingCapacity: true)
            return batch
        }
        let executor = asUnownedTaskExecutor()
        for job in batch { job.runSynchronously(on: executor) }
        return jobs.withLock { !$0.jobs.isEmpty }
    }

    func drainWakeup() {
        var value: UInt64 = 0
        _ = read(wakeup, &value, MemoryLayout<UInt64>.size)
        jobs.withLock { $0.wakeupPending = false }
    }
}

/// The executor request handlers prefer (`withTaskExecutorPreference(PGExecutor.shared) { … }`), so that their
/// database round trips resume them on the reactor thread rather than on another thread.
public enum PGExecutor {
    public static var shared: any TaskExecutor { PGReactor.shared }
}
