import Logging

extension PGPool {
    /// Hands out an idle connection, opens a new one in a free slot, or waits (bounded) for one to come back.
    func checkout() async throws -> PGConnection {
        let started = ContinuousClock.now
        let lease = try await acquire()
        metrics.recordWait(ContinuousClock.now - started)
        switch lease {
        case .connection(let connection):
            return connection
        case .open:
            do {
                return try await PGConnection.connect(
                    conninfo: configuration.conninfo, usePreparedStatements: configuration.usePreparedStatements,
                    statementTimeout: configuration.statementTimeout)
            } catch {
                logger.warning("database connection failed", metadata: ["error": "\(error)"])
                releaseSlot()
                throw error
            }
        }
    }

    /// Ends the unit of work on `connection` (rolls back a transaction left open) and returns it to the pool.
    func release(_ connection: PGConnection) async {
        if connection.inTransactionBlock {
            try? await connection.unsafeExecute("ROLLBACK")
        }
        checkin(connection)
    }

    /// Returns a connection: to a waiter, to the idle list, or closed when broken (then idle ones are dropped too).
    func checkin(_ connection: PGConnection) {
        let healthy = connection.isHealthy
        let (handoff, toClose, gauges) = state.withLock { state -> ((Waiter, Lease)?, [PGConnection], (Int, Int)) in
            if healthy, !state.closed {
                if let waiter = state.popWaiter() { return ((waiter, .connection(connection)), [], state.gauges) }
                state.idle.append(connection)
                return (nil, [], state.gauges)
            }
            var toClose = [connection]
            state.open -= 1
            if !healthy {
                toClose.append(contentsOf: state.idle)
                state.open -= state.idle.count
                state.idle = []
            }
            if !state.closed, let waiter = state.popWaiter() {
                state.open += 1
                return ((waiter, .open), toClose, state.gauges)
            }
            return (nil, toClose, state.gauges)
        }
        metrics.record(idle: gauges.0, inUse: gauges.1)
        if !healthy {
            logger.warning("database connection lost; replacing it", metadata: ["dropped_idle": "\(toClose.count - 1)"])
        }
        if let (waiter, lease) = handoff { waiter.continuation.resume(returning: lease) }
        // PQfinish never runs under the pool's lock.
        for broken in toClose { broken.close() }
    }

    /// Frees a slot whose connection could not be opened, handing it to the next waiter.
    func releaseSlot() {
        let waiter = state.withLock { state -> Waiter? in
            state.open -= 1
            guard !state.closed, let waiter = state.popWaiter() else { return nil }
            state.open += 1
            return waiter
        }
        waiter?.continuation.resume(returning: .open)
    }

    /// An idle healthy connection or a free slot; broken idle connections found on the way are returned to close.
    private func immediateLease(_ state: inout State, broken: inout [PGConnection]) -> Result<Lease, PGError>? {
        if state.closed { return .failure(PGError(kind: .poolClosed, message: "pool is closed")) }
        while let connection = state.idle.popLast() {
            if connection.isHealthy { return .success(.connection(connection)) }
            state.open -= 1
            broken.append(connection)
        }
        if state.open < configuration.size {
            state.open += 1
            return .success(.open)
        }
        return nil
    }

    private func acquire() async throws -> Lease {
        var broken: [PGConnection] = []
        let fast = state.withLock { state -> (Result<Lease, PGError>?, (Int, Int)) in
            let lease = immediateLease(&state, broken: &broken)
            return (lease, state.gauges)
        }
        for connection in broken { connection.close() }
        if let lease = fast.0 {
            metrics.record(idle: fast.1.0, inUse: fast.1.1)
            return try lease.get()
        }
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        let deadline = ContinuousClock.now + configuration.checkoutTimeout
        let maxWaiters = configuration.maxWaiters
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                var broken: [PGConnection] = []
                let (outcome, startTimer) = state.withLock { state -> (Result<Lease, any Error>?, Bool) in
                    if let lease = immediateLease(&state, broken: &broken) { return (lease.mapError { $0 }, false) }
                    if Task.isCancelled { return (.failure(CancellationError()), false) }
                    guard state.waiters.count < maxWaiters else {
                        return (
                            .failure(
                                PGError(kind: .poolExhausted, message: "too many tasks waiting for a database connection")),
                            false
                        )
                    }
                    state.waiters[id] = Waiter(continuation: continuation, deadline: deadline)
                    state.order.append(id)
                    let start = !state.timerRunning
                    state.timerRunning = true
                    return (nil, start)
                }
                for connection in broken { connection.close() }
                if let outcome { continuation.resume(with: outcome) }
                if startTimer { Task { await self.expireWaiters() } }
            }
        } onCancel: {
            failWaiter(id, CancellationError())
        }
    }

    /// The pool's one timer: fails waiters whose checkout timeout passed, in arrival order, and stops when nobody
    /// waits (the next waiter starts it again).
    private func expireWaiters() async {
        let timeout = configuration.checkoutTimeout
        while true {
            let now = ContinuousClock.now
            let (expired, next) = state.withLock { state -> ([Waiter], ContinuousClock.Instant?) in
                var expired: [Waiter] = []
                while let id = state.order.first {
                    guard let waiter = state.waiters[id] else {
                        state.order.removeFirst()
                        continue
                    }
                    guard waiter.deadline <= now else { return (expired, waiter.deadline) }
                    state.order.removeFirst()
                    state.waiters[id] = nil
                    expired.append(waiter)
                }
                state.timerRunning = false
                return (expired, nil)
            }
            for waiter in expired {
                waiter.continuation.resume(
                    throwing: PGError(kind: .checkoutTimeout, message: "no database connection became free in \(timeout)"))
            }
            guard let next else { return }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }

    private func failWaiter(_ id: UInt64, _ error: any Error) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.continuation.resume(throwing: error)
    }
}
