import Foundation

extension StripeClient {
    /// One page of `GET /v1/events`, newest first, each event as the exact bytes Stripe sent.
    public struct EventPage: Sendable {
        /// The events' raw JSON, in the order Stripe listed them (newest first).
        public var rawEvents: [Data]
        /// Whether more (older) events follow: ask again with `startingAfter` = the last event's id.
        public var hasMore: Bool
    }

    /// Lists events created at or after `createdSince` (`GET /v1/events?created[gte]=…&types[]=…&limit=…
    /// &starting_after=…`). Retries as `StripeRetryPolicy` says (a GET is always safe to repeat).
    /// - Returns: the page, every event kept byte for byte (the ledger stores the raw body, as from a webhook).
    public func events(
        createdSince: Int64, types: [String], limit: Int = 100, startingAfter: String? = nil
    ) async throws -> EventPage {
        var form = StripeForm()
        form.add("created[gte]", Int(createdSince))
        for type in types { form.add("types[]", type) }
        form.add("limit", limit)
        if let startingAfter { form.add("starting_after", startingAfter) }
        let response = try await sendRaw(.get, "/v1/events", form: form, idempotencyKey: nil)
        guard let page = StripeListSlicer.slice(response.data) else {
            throw StripeAPIError(
                kind: .invalidResponse, httpStatus: response.status, message: "unexpected response body for /v1/events",
                requestID: response.requestID, attempts: response.attempts)
        }
        return EventPage(rawEvents: page.items, hasMore: page.hasMore)
    }
}

/// Splits a Stripe list object (`{"object":"list","data":[…],"has_more":…}`) into the raw bytes of each item,
/// without re-encoding them.
enum StripeListSlicer {
    static func slice(_ data: Data) -> (items: [Data], hasMore: Bool)? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let hasMore = object["has_more"] as? Bool, object["data"] is [Any]
        else { return nil }
        let bytes = [UInt8](data)
        var index = 0
        // Find the top-level key "data" and the array after it.
        var depth = 0
        var arrayStart: Int?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let end = skipString(bytes, from: index)
                if depth == 1, bytes[(index + 1)..<(end - 1)].elementsEqual("data".utf8) {
                    var next = end
                    while next < bytes.count, bytes[next] != UInt8(ascii: ":") { next += 1 }
                    next += 1
                    while next < bytes.count, isSpace(bytes[next]) { next += 1 }
                    if next < bytes.count, bytes[next] == UInt8(ascii: "[") {
                        arrayStart = next
                        break
                    }
                }
                index = end
                continue
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
            if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") { depth -= 1 }
            index += 1
        }
        guard let arrayStart else { return nil }
        var items: [Data] = []
        index = arrayStart + 1
        var itemStart: Int?
        depth = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                if itemStart == nil { itemStart = index }
                index = skipString(bytes, from: index)
                continue
            }
            if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                if itemStart == nil { itemStart = index }
                depth += 1
            } else if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                if depth == 0 {  // the end of the data array
                    if let start = itemStart { items.append(trimmed(bytes, start, index)) }
                    return (items, hasMore)
                }
                depth -= 1
            } else if byte == UInt8(ascii: ","), depth == 0 {
                if let start = itemStart { items.append(trimmed(bytes, start, index)) }
                itemStart = nil
            } else if !isSpace(byte), itemStart == nil {
                itemStart = index
            }
            index += 1
        }
        return nil
    }

    /// The index just after the string starting at `start` (a `"`).
    private static func skipString(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index + 1
            default: index += 1
            }
        }
        return bytes.count
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    private static func trimmed(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Data {
        var end = end
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return Data(bytes[start..<end])
    }
}
