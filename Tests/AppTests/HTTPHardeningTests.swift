import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

#if canImport(Glibc)
import Glibc
#endif

/// Connection timeouts (issue #22), proved with raw sockets against the real server and short timeouts. Bounds are
/// generous: a test only asserts that a stalled client is disconnected well before the timeout that must not be
/// the one acting would have.
@Suite struct HTTPTimeoutTests {
    /// Runs `body` with the port of a live server built with `timeouts`.
    static func withServer(_ timeouts: HTTPTimeouts, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        var config = try AppTestSupport.config()
        config.httpTimeouts = timeouts
        try await AppTestSupport.withLiveServer(config: config, body)
    }

    static let bound: Duration = .seconds(20)

    @Test func aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() async throws {
        try await Self.withServer(HTTPTimeouts(idle: .seconds(1), header: .seconds(60), body: .seconds(60))) { port in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            #expect(try await socket.waitUntilClosed(within: Self.bound), "an idle connection must be closed")
        }
    }

    @Test func aKeepAliveConnectionIsClosedWhenIdleAfterAnAnswer() async throws {
        try await Self.withServer(HTTPTimeouts(idle: .seconds(1), header: .seconds(60), body: .seconds(60))) { port in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = try await socket.read(until: "\"live\"", within: Self.bound)
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(try await socket.waitUntilClosed(within: Self.bound))
        }
    }

    /// Headers dribbled a line at a time keep bytes flowing, so only the header deadline (1 s here) can end them;
    /// the idle timeout is 60 s.
    @Test func headersThatNeverEndAreCutOffByTheHeaderDeadline() async throws {
        try await Self.withServer(HTTPTimeouts(idle: .seconds(60), header: .seconds(1), body: .seconds(60))) { port in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send("GET /health/live HTTP/1.1\r\nHost: x\r\n")
            let closed = try await socket.dribble("X-Slow: a\r\n", every: .milliseconds(200), within: Self.bound)
            #expect(closed, "a client dribbling headers must be disconnected")
        }
    }

    /// A body dribbled a byte at a time is ended by the body deadline (1 s here), not by the 60 s idle timeout.
    @Test func aBodyThatNeverEndsIsCutOffByTheBodyDeadline() async throws {
        try await Self.withServer(HTTPTimeouts(idle: .seconds(60), header: .seconds(60), body: .seconds(1))) { port in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            try socket.send("POST /test/size HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc")
            let closed = try await socket.dribble("a", every: .milliseconds(200), within: Self.bound)
            #expect(closed, "a client dribbling a body must be disconnected")
        }
    }

    /// With the production timeouts, consecutive requests on one connection, including a body sent in pieces, are
    /// answered normally.
    @Test func ordinaryKeepAliveRequestsAreServed() async throws {
        try await Self.withServer(HTTPTimeouts()) { port in
            let socket = try RawSocket(port: port)
            defer { socket.close() }
            for _ in 0..<3 {
                try socket.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
                let answer = try await socket.read(until: "\"live\"", within: Self.bound)
                #expect(answer.hasPrefix("HTTP/1.1 200"))
            }
            try socket.send("POST /test/size HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc")
            try await Task.sleep(for: .milliseconds(100))
            try socket.send("def")
            let answer = try await socket.read(until: "\r\n\r\n6", within: Self.bound)
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }
}

/// A non-blocking TCP client socket for tests that need to misbehave (send half a request, stall).
final class RawSocket: @unchecked Sendable {
    private let fd: Int32

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw Failure(description: "connect: errno \(errno)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    func close() { _ = Glibc.close(fd) }

    /// Sends all of `text`; throws when the peer has closed.
    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(description: "send: errno \(errno)")
            }
            offset += sent
        }
    }

    private enum ReadState { case data([UInt8]), wouldBlock, closed }

    private func readAvailable() -> ReadState {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count > 0 { return .data(Array(buffer[0..<count])) }
        if count == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .wouldBlock : .closed
    }

    /// Reads until the text received contains `marker` (or throws after `within`).
    func read(until marker: String, within limit: Duration) async throws -> String {
        let deadline = ContinuousClock.now + limit
        var received: [UInt8] = []
        while ContinuousClock.now < deadline {
            switch readAvailable() {
            case .data(let bytes):
                received += bytes
                let text = String(decoding: received, as: UTF8.self)
                if text.contains(marker) { return text }
            case .wouldBlock: try await Task.sleep(for: .milliseconds(20))
            case .closed: throw Failure(description: "closed before \(marker): \(String(decoding: received, as: UTF8.self))")
            }
        }
        throw Failure(description: "no \(marker) within \(limit)")
    }

    /// True when the server closes the connection within `limit` (anything it sends first is discarded).
    func waitUntilClosed(within limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            switch readAvailable() {
            case .closed: return true
            case .data: continue
            case .wouldBlock: try await Task.sleep(for: .milliseconds(20))
            }
        }
        return false
    }

    /// Sends `piece` every `interval` until the server closes the connection (true) or `limit` passes (false).
    func dribble(_ piece: String, every interval: Duration, within limit: Duration) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if case .closed = readAvailable() { return true }
            do { try send(piece) } catch { return true }
            try await Task.sleep(for: interval)
        }
        return false
    }
}

/// Security headers, per-route body limits, the metrics token.
@Suite struct HTTPHeaderHardeningTests {
    @Test func everyAnswerHasNosniffAndAPIAnswersAreNotStored() async throws {
        try await AppTestSupport.withApp { client in
            for (uri, method) in [
                ("/health/live", HTTPRequest.Method.get), ("/metrics", .get), ("/no/such/thing", .get),
                ("/health/ready", .delete), ("/api/v1/me", .get), ("/admin/v1/payment-events", .get),
            ] {
                let response = try await client.execute(uri: uri, method: method, headers: [:], body: nil)
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(method) \(uri)")
                let apiPath = uri.hasPrefix("/api/") || uri.hasPrefix("/admin/")
                #expect((response.headers[.cacheControl] == "no-store") == apiPath, "\(method) \(uri)")
                #expect(response.headers[.contentSecurityPolicy] == nil, "\(method) \(uri)")
            }
        }
    }

    @Test func theMiniAppPageAndTheAPIDescriptionCarryAContentSecurityPolicy() async throws {
        try await MiniAppAppHarness.with { harness in
            for uri in [
                "/miniapp/", "/miniapp", "/miniapp/app.js", "/miniapp/app-format.js", "/miniapp/app.css", "/miniapp/nothing",
            ] {
                let response = try await harness.client.execute(uri: uri, method: .get, headers: [:], body: nil)
                let policy = try #require(response.headers[.contentSecurityPolicy], "\(uri)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                let directives = Dictionary(
                    policy.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.map {
                        (String($0.split(separator: " ")[0]), $0.split(separator: " ").dropFirst().map(String.init))
                    }, uniquingKeysWith: { first, _ in first })
                #expect(directives["script-src"] == ["'self'", "https://telegram.org"])
                #expect(directives["style-src"] == ["'self'"])
                #expect(directives["frame-ancestors"] == ["'self'", "https://web.telegram.org", "https://*.telegram.org"])
                #expect(directives["object-src"] == ["'none'"])
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
            }
            // The page loads nothing the policy refuses: only its own files and telegram.org's script, no inline code.
            let page = try await harness.client.execute(uri: "/miniapp/", method: .get, headers: [:], body: nil)
            let html = page.text
            let scripts = html.ranges(of: "<script").map { html[$0.lowerBound...].prefix(while: { $0 != ">" }) }
            #expect(!scripts.isEmpty)
            for tag in scripts {
                #expect(tag.contains("src=\"/miniapp/") || tag.contains("src=\"https://telegram.org/"), "\(tag)")
            }
            #expect(!html.contains("<style"))
            #expect(!html.contains(" style="))
            #expect(html.firstMatch(of: /\son[a-z]+\s*=/) == nil, "inline event handlers need 'unsafe-inline'")
            let yaml = try await harness.client.execute(uri: "/openapi.yaml", method: .get, headers: [:], body: nil)
            #expect(yaml.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(yaml.headers[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test func miniAppSignInAndClicksTakeAtMost16KiB() async throws {
        try await AppTestSupport.withApp { client in
            let small = BodyLimitMiddleware.smallBodyBytes
            #expect(small == 16384)
            for (uri, method) in [
                ("/api/v1/miniapp/auth", HTTPRequest.Method.post), ("/api/v1/marketing/clicks", .post),
                ("/api/v1/marketing/clicks/7", .patch),
            ] {
                let over = try await client.execute(
                    uri: uri, method: method, headers: [.contentType: "application/json"],
                    body: ByteBuffer(repeating: 0x20, count: small + 1))
                #expect(over.status == .contentTooLarge, "\(uri)")
                #expect(over.json?["detail"] as? String == "the request body is larger than 16384 bytes (16 KiB)")
                #expect(over.headers[.cacheControl] == "no-store")
                // At the limit the body reaches routing (these test builds have no Mini App routes: 404).
                let fits = try await client.execute(
                    uri: uri, method: method, headers: [:], body: ByteBuffer(repeating: 0x20, count: small))
                #expect(fits.status == .notFound, "\(uri)")
            }
            // Webhooks keep the 1 MiB limit.
            let webhook = try await client.execute(
                uri: "/webhooks/stripe", method: .post, headers: [:], body: ByteBuffer(repeating: 0x20, count: 512 * 1024))
            #expect(webhook.status == .notFound)
            let tooBig = try await client.execute(
                uri: "/webhooks/telegram", method: .post, headers: [:], body: ByteBuffer(repeating: 0x20, count: (1 << 20) + 1))
            #expect(tooBig.status == .contentTooLarge)
            #expect(tooBig.json?["detail"] as? String == "the request body is larger than 1048576 bytes (1 MiB)")
        }
    }

    @Test func metricsNeedTheTokenWhenOneIsSet() async throws {
        let token = "metrics-token-0123456789-abcdefghij"
        try await AppTestSupport.withApp(configOverrides: ["METRICS_TOKEN": token]) { client in
            for header in [nil, "Bearer wrong", "Bearer \(token)x", "Basic \(token)", token, "Bearer "] {
                var headers: HTTPFields = [:]
                if let header { headers[.authorization] = header }
                let response = try await client.execute(uri: "/metrics", method: .get, headers: headers, body: nil)
                #expect(response.status == .unauthorized, "\(header ?? "none")")
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(!response.text.contains(token))
            }
            let allowed = try await client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
            #expect(allowed.status == .ok)
            #expect(allowed.text.contains("# TYPE http_requests_total counter"))
        }
        // Unset: open, as before.
        try await AppTestSupport.withApp { client in
            let open = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(open.status == .ok)
        }
    }
}
