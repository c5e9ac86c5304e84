import ArgumentParser
import Billing
import Foundation
import Support

/// `telebot-bench webhook-decode`: CPU cost of turning one `invoice.paid` body into what the handler uses, the way
/// the server does it and the alternatives docs/performance.md weighed, single-threaded, in microseconds per event.
/// No server, no database.
///
/// - `current`: `StripeEvent(decoding:)` (envelope only; `data.object` checked to be an object, the body kept) then
///   `event.invoice()` (`StripeInvoice` decoded straight from the kept body), as the webhook route and
///   `StripeWebhookProcessor.receive` do.
/// - `envelope`, `invoice()`: the two halves of `current`.
/// - `event.object (tree on demand)`: what reading `StripeEvent.object` costs now that nothing on the path does.
/// - `before`: a replica of the decoding the server did until 2026-11-22: the envelope with `data.object` as a
///   `JSONValue` tree, then the tree re-encoded with sorted keys and decoded again as `StripeInvoice`.
/// - `tree, reordered tries`: the same tree, built by an init that tries the likely JSON kinds first
///   (every failed `try? container.decode(…)` builds and throws a `DecodingError` with its coding path).
/// - `one pass`: the envelope fields and `data.object` as `StripeInvoice` in a single decode of the body.
struct WebhookDecodeBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-decode",
        abstract: "Microseconds per invoice.paid body: StripeEvent decoding now, before, and alternatives."
    )

    @Option(help: "Iterations per variant (after 10% warm-up).")
    var iterations: Int = 5_000

    func validate() throws {
        guard iterations >= 10 else { throw ValidationError("--iterations must be at least 10") }
    }

    func run() async throws {
        let factory = WebhookEventFactory(
            url: "http://127.0.0.1/webhooks/stripe", secret: "whsec_decode", runID: "decode", users: 1000,
            plan: "premium_monthly", priceID: "price_bench_monthly")
        let body = Data(factory.body(42, now: Int64(Date().timeIntervalSince1970)).utf8)
        let event = try StripeEvent(decoding: body)
        let expected = try event.invoice()
        // Every variant must read the same invoice, or its timing means nothing.
        guard try OnePass(body).invoice == expected else { throw ValidationError("one-pass decoding differs") }
        guard try Before(body).invoice() == expected else { throw ValidationError("the old decoding differs") }
        guard try JSONDecoder().decode(ReorderedJSON.self, from: body).isObject else {
            throw ValidationError("reordered tree is not an object")
        }
        print("webhook-decode body_bytes=\(body.count) iterations=\(iterations)")
        // StripeEvent(decoding:) decodes the envelope and the typed object its handler needs in one pass: what the
        // webhook does. `invoice()` parses the body again (what a caller outside Billing gets).
        try measure("current: StripeEvent(decoding:), one pass (envelope + typed object)") { _ = try StripeEvent(decoding: body) }
        try measure("StripeEvent + invoice() (a second parse)") { _ = try StripeEvent(decoding: body).invoice() }
        try measure("invoice() on a decoded event") { _ = try event.invoice() }
        try measure("event.object (tree on demand)") { _ = event.object }
        try measure("before (envelope + JSONValue tree, re-encode, decode)") { _ = try Before(body).invoice() }
        try measure("tree, reordered tries") { _ = try JSONDecoder().decode(ReorderedJSON.self, from: body) }
        try measure("one pass (envelope + StripeInvoice)") { _ = try OnePass(body) }
    }

    private func measure(_ name: String, _ body: () throws -> Void) throws {
        for _ in 0..<(iterations / 10) { try body() }
        let started = ContinuousClock.now
        for _ in 0..<iterations { try body() }
        let perOp = (ContinuousClock.now - started).secondsDouble / Double(iterations) * 1e6
        print(String(format: "webhook-decode variant=\"%@\" us_per_event=%.1f", name, perOp))
    }

    /// `{id, type, created, data: {object: StripeInvoice}}` from the raw body in one decode.
    struct OnePass: Decodable {
        let id: String
        let type: String
        let created: Int64
        let invoice: StripeInvoice

        init(_ body: Data) throws { self = try JSONDecoder().decode(OnePass.self, from: body) }

        enum CodingKeys: String, CodingKey { case id, type, created, data }
        enum DataKeys: String, CodingKey { case object }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            type = try container.decode(String.self, forKey: .type)
            created = try container.decode(Int64.self, forKey: .created)
            invoice = try container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
                .decode(StripeInvoice.self, forKey: .object)
        }
    }

    /// The decoding `StripeEvent` did until 2026-11-22, for comparison: `data.object` decoded into a `JSONValue`
    /// tree with the envelope; a view re-encodes the tree (sorted keys) inside `{"data":{"object":…}}` and decodes it.
    struct Before: Decodable {
        let id: String
        let type: String
        let created: Int64
        let livemode: Bool?
        let apiVersion: String?
        let object: JSONValue
        let previousAttributes: JSONValue?

        init(_ body: Data) throws { self = try JSONDecoder().decode(Before.self, from: body) }

        enum CodingKeys: String, CodingKey {
            case id, type, created, livemode, data
            case apiVersion = "api_version"
        }
        enum DataKeys: String, CodingKey {
            case object
            case previousAttributes = "previous_attributes"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            type = try container.decode(String.self, forKey: .type)
            created = try container.decode(Int64.self, forKey: .created)
            livemode = try container.decodeIfPresent(Bool.self, forKey: .livemode)
            apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
            let data = try container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
            object = try data.decode(JSONValue.self, forKey: .object)
            previousAttributes = try data.decodeIfPresent(JSONValue.self, forKey: .previousAttributes)
        }

        func invoice() throws -> StripeInvoice {
            let wrapped = Data("{\"data\":{\"object\":".utf8) + object.jsonData + Data("}}".utf8)
            return try JSONDecoder().decode(ViewBox<StripeInvoice>.self, from: wrapped).data.object
        }
    }

    /// `{"data":{"object": View}}`, like `StripeEvent.ObjectBox`.
    struct ViewBox<View: Decodable>: Decodable {
        struct Inner: Decodable { var object: View }
        var data: Inner
    }

    /// `JSONValue`'s shape with the kinds tried in order of likelihood in Stripe payloads (strings, integers, objects,
    /// booleans, arrays, then doubles), so most values cost zero or one failed attempt instead of two to five.
    indirect enum ReorderedJSON: Decodable {
        case null, bool(Bool), integer(Int64), double(Double), string(String)
        case array([ReorderedJSON]), object([String: ReorderedJSON])

        var isObject: Bool { if case .object = self { true } else { false } }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let value = try? container.decode(String.self) {
                self = .string(value)
            } else if let value = try? container.decode(Int64.self) {
                self = .integer(value)
            } else if let value = try? container.decode([String: ReorderedJSON].self) {
                self = .object(value)
            } else if let value = try? container.decode(Bool.self) {
                self = .bool(value)
            } else if let value = try? container.decode([ReorderedJSON].self) {
                self = .array(value)
            } else {
                self = .double(try container.decode(Double.self))
            }
        }
    }
}
