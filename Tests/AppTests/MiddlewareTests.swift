import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import App

@Suite struct MiddlewareTests {
    @Test func requestIDIsEchoedWhenTheClientSendsASaneOne() async throws {
        try await AppTestSupport.withApp { client in
            let response = try await client.execute(
                uri: "/health/live", method: .get, headers: [.xRequestID: "abc-123.DEF:9"], body: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.xRequestID] == "abc-123.DEF:9")
        }
    }

    @Test func requestIDIsGeneratedWhenMissingOrUnsafe() async throws {
        try await AppTestSupport.withApp { client in
            let first = try await client.execute(uri: "/health/live", method: .get, headers: [:], body: nil)
            let second = try await client.execute(uri: "/health/live", method: .get, headers: [:], body: nil)
            let firstID = try #require(first.headers[.xRequestID])
            let secondID = try #require(second.headers[.xRequestID])
            #expect(firstID.count == 36)
            #expect(firstID != secondID)
            for unsafe in ["has space", "quote\"", String(repeating: "a", count: 129), "<script>"] {
                let response = try await client.execute(
                    uri: "/health/live", method: .get, headers: [.xRequestID: unsafe], body: nil)
                let id = try #require(response.headers[.xRequestID])
                #expect(id != unsafe)
                #expect(id.count == 36)
            }
        }
    }

    @Test func notFoundIsProblemJSONWithRequestID() async throws {
        try await AppTestSupport.withApp { client in
            let response = try await client.execute(
                uri: "/no/such/thing", method: .get, headers: [.xRequestID: "req-404"], body: nil)
            #expect(response.status == .notFound)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.headers[.xRequestID] == "req-404")
            let problem = try #require(response.json)
            #expect(problem["status"] as? Int == 404)
            #expect(problem["title"] as? String == "Not Found")
            #expect(problem["type"] as? String == "about:blank")
            #expect((problem["detail"] as? String)?.isEmpty == false)
            #expect(problem["request_id"] as? String == "req-404")
        }
    }

    @Test func wrongMethodIsProblemJSON405WithAllow() async throws {
        try await AppTestSupport.withApp { client in
            let response = try await client.execute(uri: "/health/ready", method: .delete, headers: [:], body: nil)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.headers[.allow] == "GET, HEAD")
            #expect(response.json?["status"] as? Int == 405)
            // Templates with captures match too.
            let captured = try await client.execute(uri: "/test/items/42", method: .post, headers: [:], body: nil)
            #expect(captured.status == .methodNotAllowed)
            let ok = try await client.execute(uri: "/test/items/42", method: .get, headers: [:], body: nil)
            #expect(ok.text == "42")
        }
    }

    @Test func unknownErrorIs500WithoutLeakingItsText() async throws {
        let logs = LogCapture()
        try await AppTestSupport.withApp(logger: logs.logger()) { client in
            let response = try await client.execute(
                uri: "/test/boom", method: .get, headers: [.xRequestID: "req-boom"], body: nil)
            #expect(response.status == .internalServerError)
            #expect(response.headers[.contentType] == "application/problem+json")
            #expect(response.headers[.xRequestID] == "req-boom")
            #expect(!response.text.contains("hunter2"))
            #expect(!response.text.contains("vault"))
            #expect(!response.text.contains("SecretError"))
            let problem = try #require(response.json)
            #expect(problem["status"] as? Int == 500)
            #expect((problem["detail"] as? String)?.contains("req-boom") == true)
        }
        // The real error is in the log, tied to the request id.
        let errorLine = try #require(logs.objects.first { $0["msg"] as? String == "unhandled error" })
        #expect(errorLine["request_id"] as? String == "req-boom")
        #expect((errorLine["error"] as? String)?.contains("hunter2") == true)
        #expect(errorLine["level"] as? String == "error")
    }

    @Test func problemErrorsKeepStatusTitleAndHeaders() async throws {
        try await AppTestSupport.withApp { client in
            let response = try await client.execute(uri: "/test/teapot", method: .get, headers: [:], body: nil)
            #expect(response.status == .tooManyRequests)
            #expect(response.headers[.retryAfter] == "7")
            #expect(response.json?["detail"] as? String == "slow down")
            #expect(response.json?["title"] as? String == "Too Many Requests")
        }
    }

    @Test func malformedJSONIs400ProblemJSON() async throws {
        try await AppTestSupport.withApp { client in
            let bad = try await client.execute(
                uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"name\": "))
            #expect(bad.status == .badRequest)
            #expect(bad.headers[.contentType] == "application/problem+json")
            let good = try await client.execute(
                uri: "/test/echo", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: "{\"name\": \"ok\"}"))
            #expect(good.status == .ok)
            #expect(good.json?["name"] as? String == "ok")
        }
    }

    @Test func bodyOverOneMebibyteIs413() async throws {
        try await AppTestSupport.withApp { client in
            let limit = 1 << 20
            let atLimit = try await client.execute(
                uri: "/test/size", method: .post, headers: [:], body: ByteBuffer(repeating: 0x61, count: limit))
            #expect(atLimit.status == .ok)
            #expect(atLimit.text == "\(limit)")
            let over = try await client.execute(
                uri: "/test/size", method: .post, headers: [.xRequestID: "big"],
                body: ByteBuffer(repeating: 0x61, count: limit + 1))
            #expect(over.status == .contentTooLarge)
            #expect(over.headers[.contentType] == "application/problem+json")
            #expect(over.headers[.xRequestID] == "big")
            #expect(over.json?["status"] as? Int == 413)
            // Unknown routes refuse big bodies too.
            let unknown = try await client.execute(
                uri: "/nowhere", method: .post, headers: [:], body: ByteBuffer(repeating: 0x61, count: limit + 1))
            #expect(unknown.status == .contentTooLarge)
        }
    }

    @Test func oversizedBodiesAreRefusedOverARealSocket() async throws {
        try await AppTestSupport.withApp(testing: .live) { client in
            let over = try await client.execute(
                uri: "/test/size", method: .post, headers: [:], body: ByteBuffer(repeating: 0x62, count: (1 << 20) + 10))
            #expect(over.status == .contentTooLarge)
            #expect(over.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func streamedBodiesWithoutContentLengthAreCutAtTheLimit() async throws {
        try await AppTestSupport.withLiveServer(config: try AppTestSupport.config()) { listening in
            func post(chunks: Int) async throws -> (status: Int, body: String) {
                // 64 KiB chunks, chunked transfer encoding (no Content-Length).
                let stream = AsyncStream<ByteBuffer> { continuation in
                    for _ in 0..<chunks { continuation.yield(ByteBuffer(repeating: 0x63, count: 64 * 1024)) }
                    continuation.finish()
                }
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(listening)/test/size")
                request.method = .POST
                request.body = .stream(stream, length: .unknown)
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
            }
            let fits = try await post(chunks: 16)
            #expect(fits.status == 200)
            #expect(fits.body == "\(16 * 64 * 1024)")
            let tooBig = try await post(chunks: 17)
            #expect(tooBig.status == 413)
            #expect(tooBig.body.contains("\"status\":413"))
        }
    }

    @Test func routeLabelsAreTemplatesAndMethodsAreBounded() {
        #expect(RouteLabel.method(.get) == "GET")
        #expect(RouteLabel.method(HTTPRequest.Method("BREW")!) == "OTHER")
        #expect(RequestIDMiddleware.acceptable("0123abcd-ef") == "0123abcd-ef")
        #expect(RequestIDMiddleware.acceptable("") == nil)
        #expect(RequestIDMiddleware.acceptable("a\nb") == nil)
    }
}
