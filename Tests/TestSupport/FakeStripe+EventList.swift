import Foundation

extension FakeStripe {
    /// An event `GET /v1/events` can list: its raw bytes and what the filters look at.
    struct ListedEvent: Sendable {
        var id: String
        var type: String
        var created: Int64
        var raw: Data
    }

    /// Makes `GET /v1/events` list these event bodies (from `FakeStripe.invoicePaid(…)` and friends). Listed newest
    /// first (by `created`, then the later added first), like Stripe.
    public func addEvents(_ bodies: [Data]) {
        let listed = bodies.compactMap { body -> ListedEvent? in
            guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
                let id = object["id"] as? String, let type = object["type"] as? String,
                let created = (object["created"] as? NSNumber)?.int64Value
            else { return nil }
            return ListedEvent(id: id, type: type, created: created, raw: body)
        }
        store.state.withLock { $0.events.append(contentsOf: listed) }
    }
}

extension FakeStripe.Store {
    /// `GET /v1/events?created[gte]=&types[]=&limit=&starting_after=`: newest first, `has_more`, each event's bytes
    /// exactly as added.
    func listEvents(_ state: State, _ form: [FakeStripe.FormField]) -> Answer {
        var since: Int64?
        var types: Set<String> = []
        var limit = 10
        var startingAfter: String?
        for field in form {
            switch field.name {
            case "created[gte]": since = Int64(field.value)
            case "types[]": types.insert(field.value)
            case "limit": limit = Int(field.value) ?? 10
            case "starting_after": startingAfter = field.value
            default: break
            }
        }
        guard (1...100).contains(limit) else {
            return Self.errorAnswer(
                400, type: "invalid_request_error", param: "limit", message: "limit must be between 1 and 100")
        }
        let ordered = state.events.enumerated().sorted { lhs, rhs in
            lhs.element.created != rhs.element.created
                ? lhs.element.created > rhs.element.created : lhs.offset > rhs.offset
        }.map(\.element)
        var matching = ordered.filter { event in
            (since.map { event.created >= $0 } ?? true) && (types.isEmpty || types.contains(event.type))
        }
        if let startingAfter {
            guard let index = matching.firstIndex(where: { $0.id == startingAfter }) else {
                return Self.errorAnswer(
                    400, type: "invalid_request_error", param: "starting_after",
                    message: "No such event: '\(startingAfter)'")
            }
            matching = Array(matching[(index + 1)...])
        }
        let page = matching.prefix(limit)
        var body = Data(#"{"object":"list","url":"/v1/events","has_more":\#(matching.count > limit),"data":["#.utf8)
        for (index, event) in page.enumerated() {
            if index > 0 { body.append(contentsOf: ",\n  ".utf8) }
            body.append(event.raw)
        }
        body.append(contentsOf: "]}".utf8)
        return Answer(status: 200, json: body)
    }
}
