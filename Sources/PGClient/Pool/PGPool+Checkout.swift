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
                let conninfo = configuration.conninfo
                let prepared = configuration.usePreparedStatements
                let statementTimeout = configuration.statementTimeout
                return try await threads.runIfActive {
                    try PGConnection.connect(
                        conninfo: conninfo, usePreparedStatements: prepared, statementTimeout: statementTimeout)
                }
            } catch {
                logger.warning("database connection failed", metadata: ["error": "\(error)"])
                releaseSlot()
                throw error
            }
        }
    }

    /// Returns a connection: to a waiter, to the idle list, or closed when broken (then idle ones are dropped too).
    func checkin(_ connection: PGConnection) {
        let healthy = connection.isHealthy
        var toClose: [PGConnection] = []
        let (handoff, gauges) = state.withLock { state -> ((Waiter, Lease)?, (Int, Int)) in
            if healthy, !state.closed {
                if !state.waiters.isEmpty { return ((state.waiters.removeFirst(), .connection(connection)), state.gauges) }
                state.idle.append(connection)
                return (nil, state.gauges)
            }
            toClose.append(connection)
            state.open -= 1
            if !healthy {
                toClose.append(contentsOf: state.idle)
                state.open -= state.idle.count
                state.idle = []
            }
            if !state.closed, !state.waiters.isEmpty {
                state.open += 1
                return ((state.waiters.removeFirst(), .open), state.gauges)
            }
            return (nil, state.gauges)
        }
        metrics.record(idle: gauges.0, inUse: gauges.1)
        if !healthy {
            logger.warning("database connection lost; replacing it", metadata: ["dropped_idle": "\(toClose.count - 1)"])
        }
        if let (waiter, lease) = handoff {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: lease)
        }
        closeOnPoolThread(toClose)
    }

    /// Frees a slot whose connection could not be opened, handing it to the next waiter.
    func releaseSlot() {
        let waiter = state.withLock { state -> Waiter? in
            state.open -= 1
            guard !state.closed, !state.waiters.isEmpty else { return nil }
            state.open += 1
            return state.waiters.removeFirst()
        }
        if let waiter {
            waiter.timeout?.cancel()
            waiter.continuation.resume(returning: .open)
        }
    }

    private func closeOnPoolThread(_ connections: [PGConnection]) {
        guard !connections.isEmpty else { return }
        // PQfinish writes to the socket: keep it off the caller's thread.
        threads.submit { _ in
            for connection in connections { connection.close() }
        }
    }

    private func immediateLease(_ state: inout State) -> Result<Lease, PGError>? {
        if state.closed { return .failure(PGError(kind: .poolClosed, message: "pool is closed")) }
        while let connection = state.idle.popLast() {
            if connection.isHealthy { return .success(.connection(connection)) }
            state.open -= 1
            connection.close()
        }
        if state.open < configuration.size {
            state.open += 1
            return .success(.open)
        }
        return nil
    }

    private func acquire() async throws -> Lease {
        let fast = state.withLock { state -> (Result<Lease, PGError>?, (Int, Int)) in
            let lease = immediateLease(&state)
            return (lease, state.gauges)
        }
        if let lease = fast.0 {
            metrics.record(idle: fast.1.0, inUse: fast.1.1)
            return try lease.get()
        }
        let id = waiterIDs.add(1, ordering: .relaxed).newValue
        let timeout = configuration.checkoutTimeout
        let maxWaiters = configuration.maxWaiters
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Lease, any Error>) in
                let outcome = state.withLock { state -> Result<Lease, any Error>? in
                    if let lease = immediateLease(&state) { return lease.mapError { $0 } }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    guard state.waiters.count < maxWaiters else {
                        return .failure(
                            PGError(kind: .poolExhausted, message: "too many tasks waiting for a database connection"))
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation, timeout: nil))
                    return nil
                }
                if let outcome {
                    continuation.resume(with: outcome)
                    return
                }
                let timer = Task { [self] in
                    try? await Task.sleep(for: timeout)
                    guard !Task.isCancelled else { return }
                    failWaiter(
                        id,
                        PGError(kind: .checkoutTimeout, message: "no database connection became free in \(timeout)"))
                }
                let waiting = state.withLock { state -> Bool in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
                    state.waiters[index].timeout = timer
                    return true
                }
                if !waiting { timer.cancel() }
            }
        } onCancel: {
            failWaiter(id, CancellationError())
        }
    }

    private func failWaiter(_ id: UInt64, _ error: any Error) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        guard let waiter else { return }
        waiter.timeout?.cancel()
        waiter.continuation.resume(throwing: error)
    }
}
