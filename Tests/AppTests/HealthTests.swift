import Foundation
import HTTPTypes
import HummingbirdTesting
import PGClient
import TestSupport
import Testing

@testable import App

@Suite struct HealthTests {
    @Test func liveAnswers200WithoutTheDatabase() async throws {
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: "host=/nonexistent port=1 connect_timeout=1", size: 1))
        try await AppTestSupport.withApp(pool: pool) { client in
            let live = try await client.execute(uri: "/health/live", method: .get, headers: [:], body: nil)
            #expect(live.status == .ok)
            #expect(live.json?["status"] as? String == "live")
            let head = try await client.execute(uri: "/health/live", method: .head, headers: [:], body: nil)
            #expect(head.status == .ok)
            let ready = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.headers[.contentType] == "application/problem+json")
            #expect(ready.headers[.retryAfter] != nil)
        }
        await pool.close()
    }

    @Test func readyFlipsTo503WhenPostgresStopsAndBackWhenItReturns() async throws {
        let cluster = try await PrivateCluster.start()
        let pool = PGPool(configuration: PGPoolConfiguration(conninfo: cluster.conninfo(), size: 2))
        // A generous readiness timeout: the first connection to a fresh cluster on a loaded machine can take longer
        // than the default 2 s; the test is about the answer flipping, not about its speed.
        try await AppTestSupport.withApp(pool: pool, readinessTimeout: .seconds(30), testing: .live) { client in
            let before = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(before.status == .ok)
            #expect(before.json?["status"] as? String == "ready")

            try await cluster.stopServer()
            let down = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(down.status == .serviceUnavailable)
            #expect(down.headers[.contentType] == "application/problem+json")
            #expect(down.json?["status"] as? Int == 503)
            #expect(down.text.contains("database"))

            try await cluster.startServer()
            let after = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(after.status == .ok)
        }
        await pool.close()
        await cluster.destroy()
    }

    @Test func readyAnswersWithinItsTimeoutWhenTheDatabaseHangs() async throws {
        // A listener that accepts TCP connections and never speaks: libpq waits on it (connect_timeout 120).
        let listener = try ListeningSocket()
        defer { listener.close() }
        let pool = PGPool(
            configuration: PGPoolConfiguration(
                conninfo: "host=127.0.0.1 port=\(listener.port) user=x dbname=x connect_timeout=120", size: 1))
        try await AppTestSupport.withApp(pool: pool, readinessTimeout: .milliseconds(300)) { client in
            let started = ContinuousClock.now
            let ready = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            // Not a speed check: the bound only tells the readiness timeout (0.3 s) from libpq's (120 s), with room
            // for a loaded machine (8 s was seen once under a full parallel run).
            #expect(ContinuousClock.now - started < .seconds(60))
        }
        await pool.close(drainTimeout: .seconds(1))
    }
}
