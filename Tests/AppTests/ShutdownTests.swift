import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PGClient
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

@testable import App

@Suite struct ShutdownTests {
    /// Builds the real service group (pool, app) on a free port, runs `body` with the port, then waits for the group.
    private func withServiceGroup(
        pool: PGPool, grace: Duration,
        _ body: @escaping @Sendable (Int, ServiceGroup) async throws -> Void
    ) async throws {
        let config = try AppTestSupport.config()
        let dependencies = AppDependencies(pool: pool, logger: AppTestSupport.quietLogger)
        let port = PortBox()
        let app = buildApplication(
            config: config, dependencies: dependencies, modules: AppTestSupport.coreModules + [TestRoutes.self],
            onListening: { port.set($0) })
        let group = AppLifecycle.serviceGroup(
            app: app, dependencies: dependencies, shutdownGrace: grace, signals: [], logger: AppTestSupport.quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask { try await body(try await port.wait(), group) }
            try await tasks.waitForAll()
        }
    }

    @Test func gracefulShutdownLetsAnInFlightRequestFinishThenClosesThePool() async throws {
        try await TestDatabase.with { _, pool in
            let outcome = Mutex<(status: Int, body: String)?>(nil)
            // Decided by order, not by time: the slow request is held until new connections have been refused.
            try await withServiceGroup(pool: pool, grace: .seconds(90)) { port, group in
                let tag = UUID().uuidString
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/test/slow?hold=1&tag=\(tag)")
                request.method = .GET
                async let slow = HTTPClient.shared.execute(request, timeout: .seconds(120))
                let inFlight = try await TestRoutes.waitForSlow(tag: tag)
                #expect(inFlight)
                await group.triggerGracefulShutdown()
                // After shutdown begins, while the slow request still runs, new connections are refused.
                var refused = false
                let deadline = ContinuousClock.now + .seconds(60)
                while !refused, ContinuousClock.now < deadline {
                    var fresh = HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/live")
                    fresh.method = .GET
                    refused = (try? await HTTPClient.shared.execute(fresh, timeout: .seconds(1))) == nil
                    if !refused { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(refused)
                TestRoutes.slowReleased.withLock { _ = $0.insert(tag) }
                let response = try await slow
                let body = try await response.body.collect(upTo: 1024)
                outcome.withLock { $0 = (Int(response.status.code), String(buffer: body)) }
            }
            let finished = try #require(outcome.withLock { $0 })
            #expect(finished.status == 200)
            #expect(finished.body == "slow done")
            // The pool service ran last and closed the pool.
            await #expect(throws: PGError.self) { try await pool.withConnection { try await $0.execute("SELECT 1") } }
        }
    }

    @Test func shutdownIsBoundedByTheGracePeriod() async throws {
        let pool = AppTestSupport.idlePool()
        let shutdownStarted = Mutex<ContinuousClock.Instant?>(nil)
        try? await withServiceGroup(pool: pool, grace: .seconds(1)) { port, group in
            let tag = UUID().uuidString
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/test/slow?ms=20000&tag=\(tag)")
            request.method = .GET
            async let slow = try? await HTTPClient.shared.execute(request, timeout: .seconds(30))
            // The request must be in the handler before shutdown starts; one still connecting would be refused
            // and retried by the client until its timeout, which says nothing about the grace period.
            let inFlight = try await TestRoutes.waitForSlow(tag: tag)
            #expect(inFlight)
            shutdownStarted.withLock { $0 = ContinuousClock.now }
            await group.triggerGracefulShutdown()
            _ = await slow
        }
        let since = try #require(shutdownStarted.withLock { $0 })
        // Not a speed check: the bound only tells the grace period (1 s) from the request's 20 s.
        #expect(ContinuousClock.now - since < .seconds(15))
        await pool.close()
    }
}

/// The port the server bound, handed from `onListening` to the test.
final class PortBox: Sendable {
    private let state = Mutex<(port: Int?, waiters: [CheckedContinuation<Int, Never>])>((nil, []))

    func set(_ port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    func wait() async throws -> Int {
        await withCheckedContinuation { continuation in
            let port = state.withLock { state -> Int? in
                if let port = state.port { return port }
                state.waiters.append(continuation)
                return nil
            }
            if let port { continuation.resume(returning: port) }
        }
    }
}
