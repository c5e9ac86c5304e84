import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Testing

@testable import App

@Suite struct JSONLogTests {
    @Test func eachLineIsOneJSONObjectWithTimestampLevelMessageAndFlattenedMetadata() throws {
        let capture = LogCapture()
        var logger = capture.logger(label: "telebot.test")
        logger[metadataKey: "request_id"] = "req-1"
        logger.warning(
            "payment \"failed\"\nretrying",
            metadata: [
                "attempt": .stringConvertible(3), "ratio": .stringConvertible(0.5), "ok": .stringConvertible(false),
                "event_id": "evt_1", "msg": "collides", "nested": ["a": "b"], "list": ["x", "y"],
            ])
        logger.debug("hidden")
        #expect(capture.all.count == 1)
        let line = try #require(capture.all.first)
        #expect(!line.contains("\n"))
        let object = try #require(capture.objects.first)
        let timestamp = try #require(object["ts"] as? String)
        #expect(timestamp.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(timestamp)")
        #expect(object["level"] as? String == "warning")
        #expect(object["logger"] as? String == "telebot.test")
        #expect(object["msg"] as? String == "payment \"failed\"\nretrying")
        #expect(object["request_id"] as? String == "req-1")
        #expect(object["attempt"] as? Int == 3)
        #expect(object["ratio"] as? Double == 0.5)
        #expect(object["ok"] as? Bool == false)
        #expect(object["event_id"] as? String == "evt_1")
        #expect(object["meta.msg"] as? String == "collides")
        #expect((object["nested"] as? [String: String])?["a"] == "b")
        #expect(object["list"] as? [String] == ["x", "y"])
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(RFC3339.format(seconds: 0, milliseconds: 5) == "1970-01-01T00:00:00.005Z")
        #expect(RFC3339.format(seconds: 1_700_000_000, milliseconds: 123) == "2023-11-14T22:13:20.123Z")
        #expect(RFC3339.format(seconds: 253_402_300_799, milliseconds: 999) == "9999-12-31T23:59:59.999Z")
        #expect(RFC3339.format(seconds: 951_782_400, milliseconds: 0) == "2000-02-29T00:00:00.000Z")
        // Beyond year 9999 the year has as many digits as it needs.
        #expect(RFC3339.format(seconds: 253_402_300_800, milliseconds: 1) == "10000-01-01T00:00:00.001Z")
        let now = RFC3339.now()
        #expect(now.wholeMatch(of: /20\d{2}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(now)")
    }

    /// Strings without anything to escape are copied whole; the others character by character. Both give JSON
    /// that parses back to the same string.
    @Test func stringsAreEscapedExactlyWhereJSONNeedsIt() throws {
        let cases: [(String, String)] = [
            ("plain ascii", #""plain ascii""#),
            ("café 日本", #""café 日本""#),
            ("euro € sign", #""euro € sign""#),
            ("quote \" and \\ backslash", #""quote \" and \\ backslash""#),
            ("line\nbreak\ttab\u{01}", #""line\nbreak\ttab\u0001""#),
            ("separators \u{2028}\u{2029}", #""separators \u2028\u2029""#),
            ("", #""""#),
        ]
        for (input, expected) in cases {
            var out = ""
            JSONText.appendString(input, to: &out)
            #expect(out == expected)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(out)]".utf8)) as? [String]
            #expect(decoded == [input])
        }
    }

    @Test func accessLogLineHasMethodRouteStatusDurationAndRequestID() async throws {
        let capture = LogCapture()
        try await AppTestSupport.withApp(logger: capture.logger()) { client in
            _ = try await client.execute(
                uri: "/test/items/7", method: .get, headers: [.xRequestID: "trace-me"], body: nil)
            _ = try await client.execute(uri: "/health/live", method: .get, headers: [:], body: nil)
        }
        let requests = capture.objects.filter { $0["msg"] as? String == "request" }
        // Probes log at debug; this logger is at info.
        #expect(requests.count == 1)
        let line = try #require(requests.first)
        #expect(line["method"] as? String == "GET")
        #expect(line["route"] as? String == "/test/items/{id}")
        #expect(line["status"] as? Int == 200)
        #expect(line["duration_ms"] is Double || line["duration_ms"] is Int)
        #expect(line["request_id"] as? String == "trace-me")
        #expect(line["hb.request.id"] == nil)
        #expect(line["level"] as? String == "info")
    }
}
