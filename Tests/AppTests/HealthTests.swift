import Foundation
import Synchronization
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
        try await AppTestSupport.withApp(pool: pool, testing: .live) { client in
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
        // A listener that accepts TCP connections and never speaks: libpq waits on it (connect_timeout 10).
        let listener = try SilentListener()
        defer { listener.close() }
        let pool = PGPool(
            configuration: PGPoolConfiguration(
                conninfo: "host=127.0.0.1 port=\(listener.port) user=x dbname=x connect_timeout=10", size: 1))
        try await AppTestSupport.withApp(pool: pool, readinessTimeout: .milliseconds(300)) { client in
            let started = ContinuousClock.now
            let ready = try await client.execute(uri: "/health/ready", method: .get, headers: [:], body: nil)
            #expect(ready.status == .serviceUnavailable)
            #expect(ContinuousClock.now - started < .seconds(3))
        }
        await pool.close(drainTimeout: .seconds(1))
    }
}

/// A TCP listener on loopback whose accepted connections never get an answer.
final class SilentListener: Sendable {
    let port: Int
    /// The listening descriptor until closed. Closing twice would close whatever descriptor reused the number
    /// (in this process: one of SwiftNIO's sockets, which crashed its selector).
    private let fd: Mutex<Int32?>

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = Mutex(fd)
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        fd.withLock { fd in
            if let open = fd { _ = Foundation.close(open) }
            fd = nil
        }
    }
}
