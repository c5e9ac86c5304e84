import Foundation
import Support

/// A Stripe event envelope: `{id, type, created, livemode, api_version, data: {object, previous_attributes}}`,
/// tolerant of fields it does not know.
///
/// Required: `id` (non-empty), `type`, `created` (integer), `data.object` (a JSON object). `livemode` defaults to
/// false and `api_version` to nil when absent.
///
/// An event decoded from a webhook body keeps that body and the typed object its handler needs, decoded in the same
/// pass as the envelope (the body is parsed once); the typed views (`checkoutSession()`, `invoice()`,
/// `subscription()`, `charge()`) decode straight from the body, and `object` / `previousAttributes` (a `JSONValue` tree)
/// are built only when read, each time they are read. Nothing on the webhook path reads them. An event built in
/// code from a `JSONValue` object keeps that tree instead.
public struct StripeEvent: Sendable, Equatable {
    public var id: String
    public var type: StripeEventType
    /// Unix seconds when Stripe created the event: the ordering watermark for subscription state.
    public var created: Int64
    public var livemode: Bool
    public var apiVersion: String?
    private var source: Source
    /// The handler's typed object, decoded with the envelope, for `type` as it was then.
    private var decoded: DecodedObject?

    /// Where `data.object` comes from.
    private enum Source: Sendable {
        /// The whole event body as received (already checked: `data.object` is a JSON object).
        case raw(Data)
        /// Trees given in code.
        case tree(object: JSONValue, previousAttributes: JSONValue?)
    }

    public init(
        id: String, type: StripeEventType, created: Int64, livemode: Bool = false, apiVersion: String? = nil,
        object: JSONValue, previousAttributes: JSONValue? = nil
    ) {
        self.id = id
        self.type = type
        self.created = created
        self.livemode = livemode
        self.apiVersion = apiVersion
        self.source = .tree(object: object, previousAttributes: previousAttributes)
    }

    /// Decodes an envelope from the raw webhook body. `data.object` is only checked to be an object here; the body is
    /// kept for the typed views. A number no `Double` can hold anywhere in the body is `malformedJSON`.
    /// - Throws: `StripeEventDecodingError`.
    public init(decoding payload: some DataProtocol) throws(StripeEventDecodingError) {
        // A body that is already `Data` (the webhook's) is kept as it is, not copied.
        let body = payload as? Data ?? Data(payload)
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: body)
        } catch {
            throw StripeEventDecodingError.from(error)
        }
        guard StripeJSONNumbers.allFinite(body) else { throw StripeEventDecodingError.malformedJSON }
        self.id = envelope.id
        self.type = StripeEventType(rawValue: envelope.type)
        self.created = envelope.created
        self.livemode = envelope.livemode ?? false
        self.apiVersion = envelope.apiVersion
        self.source = .raw(body)
        self.decoded = DecodedObject(type: self.type, object: envelope.object)
    }

    /// `data.object`, as a JSON tree. For an event decoded from a body this decodes the tree on every read.
    public var object: JSONValue {
        get {
            switch source {
            case .raw(let body): Self.trees(body).object
            case .tree(let object, _): object
            }
        }
        set {
            source = .tree(object: newValue, previousAttributes: previousAttributes)
            decoded = nil
        }
    }

    /// `data.previous_attributes` of `*.updated` events. For an event decoded from a body this decodes on every read.
    public var previousAttributes: JSONValue? {
        get {
            switch source {
            case .raw(let body): Self.trees(body).previousAttributes
            case .tree(_, let previousAttributes): previousAttributes
            }
        }
        set {
            source = .tree(object: object, previousAttributes: newValue)
            decoded = nil
        }
    }

    /// `created` as a date.
    public var createdAt: Date { Date(timeIntervalSince1970: TimeInterval(created)) }

    /// `data.object.object` (`"invoice"`, `"checkout.session"`…), when present.
    public var objectType: String? {
        switch source {
        case .raw(let body): (try? JSONDecoder().decode(ObjectBox<ObjectKind>.self, from: body))?.data.object.object
        case .tree(let object, _): object["object"]?.stringValue
        }
    }

    /// `data.object` as compact JSON (sorted keys), for storage or logs.
    public var objectJSON: Data { object.jsonData }

    /// `data.object` as a checkout session.
    public func checkoutSession() throws(StripeEventDecodingError) -> StripeCheckoutSession { try view() }

    /// `data.object` as an invoice.
    public func invoice() throws(StripeEventDecodingError) -> StripeInvoice { try view() }

    /// `data.object` as a subscription.
    public func subscription() throws(StripeEventDecodingError) -> StripeSubscription { try view() }

    /// `data.object` as a charge.
    public func charge() throws(StripeEventDecodingError) -> StripeCharge { try view() }

    /// `data.object` as a dispute.
    public func dispute() throws(StripeEventDecodingError) -> StripeDispute { try view() }

    public static func == (lhs: StripeEvent, rhs: StripeEvent) -> Bool {
        lhs.id == rhs.id && lhs.type == rhs.type && lhs.created == rhs.created && lhs.livemode == rhs.livemode
            && lhs.apiVersion == rhs.apiVersion && lhs.object == rhs.object
            && lhs.previousAttributes == rhs.previousAttributes
    }

    /// The object `StripeEventHandler` needs for `type`: the one decoded with the envelope, or else (an event built
    /// in code, or whose type was changed) decoded now from `{"type":…,"data":{"object":…}}`.
    func typedObject() -> Result<StripeEventObject, StripeEventDecodingError> {
        if let decoded, decoded.type == type { return decoded.object }
        let json =
            Data("{\"type\":".utf8) + JSONValue.string(type.rawValue).jsonData + Data(",\"data\":{\"object\":".utf8)
            + object.jsonData + Data("}}".utf8)
        do {
            return try JSONDecoder().decode(TypedObjectBox.self, from: json).object
        } catch {
            return .failure(StripeEventDecodingError.from(error))
        }
    }

    /// The body already has the `{"data":{"object":…}}` shape `ObjectBox` reads, so a view decodes straight from it
    /// and its decoding errors carry the path `data.object.…`.
    private func view<View: StripeObjectView>() throws(StripeEventDecodingError) -> View {
        let json: Data
        switch source {
        case .raw(let body): json = body
        case .tree(let object, _): json = Self.wrapObject(object.jsonData)
        }
        do {
            return try JSONDecoder().decode(ObjectBox<View>.self, from: json).data.object
        } catch {
            throw StripeEventDecodingError.from(error)
        }
    }

    /// `{"data":{"object":…}}` around the object, so decoding errors carry the path `data.object.…`.
    private static func wrapObject(_ object: Data) -> Data {
        Data("{\"data\":{\"object\":".utf8) + object + Data("}}".utf8)
    }

    /// The trees of a body the envelope accepted (so `data.object` is an object: decoding it cannot fail; an empty
    /// object is the defensive fallback).
    private static func trees(_ body: Data) -> Trees {
        (try? JSONDecoder().decode(TreeBox.self, from: body).data) ?? Trees(object: .object([:]), previousAttributes: nil)
    }

    private struct ObjectBox<View: Decodable>: Decodable {
        struct Inner: Decodable { var object: View }
        var data: Inner
    }

    /// The typed object decoded with the envelope, and the type it was decoded for. A reference, so copies of the
    /// event do not copy the object.
    private final class DecodedObject: Sendable {
        let type: StripeEventType
        let object: Result<StripeEventObject, StripeEventDecodingError>

        init(type: StripeEventType, object: Result<StripeEventObject, StripeEventDecodingError>) {
            self.type = type
            self.object = object
        }
    }

    /// `{"type":…,"data":{"object":…}}` read as the typed object the type calls for.
    private struct TypedObjectBox: Decodable {
        var object: Result<StripeEventObject, StripeEventDecodingError>

        enum CodingKeys: String, CodingKey {
            case type, data
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let type = StripeEventType(rawValue: try container.decode(String.self, forKey: .type))
            let data = try container.nestedContainer(keyedBy: Envelope.DataKeys.self, forKey: .data)
            self.object = StripeEventObject.decoding(type, in: data, forKey: .object)
        }
    }

    private struct ObjectKind: Decodable {
        var object: String?
    }

    private struct TreeBox: Decodable {
        var data: Trees
    }

    private struct Trees: Decodable {
        var object: JSONValue
        var previousAttributes: JSONValue?

        init(object: JSONValue, previousAttributes: JSONValue?) {
            self.object = object
            self.previousAttributes = previousAttributes
        }

        enum CodingKeys: String, CodingKey {
            case object
            case previousAttributes = "previous_attributes"
        }
    }

    /// The envelope's own fields, and `data.object` as the typed object its type calls for.
    private struct Envelope: Decodable {
        var id: String
        var type: String
        var created: Int64
        var livemode: Bool?
        var apiVersion: String?
        var object: Result<StripeEventObject, StripeEventDecodingError>

        enum CodingKeys: String, CodingKey {
            case id, type, created, livemode, data
            case apiVersion = "api_version"
        }

        enum DataKeys: String, CodingKey {
            case object
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decodeRequiredString(.id)
            self.type = try container.decodeRequiredString(.type)
            self.created = try container.decode(Int64.self, forKey: .created)
            self.livemode = try container.decodeIfPresent(Bool.self, forKey: .livemode)
            self.apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
            let data = try container.nestedContainer(keyedBy: DataKeys.self, forKey: .data)
            let notAnObject = DecodingError.typeMismatch(
                [String: JSONValue].self,
                .init(codingPath: data.codingPath + [DataKeys.object], debugDescription: "not an object"))
            // null is "not an object" (wrongType), as an absent key is "missing" (keyNotFound, from nestedContainer).
            guard !(try data.decodeNil(forKey: .object)) else { throw notAnObject }
            do {
                _ = try data.nestedContainer(keyedBy: StripeKey.self, forKey: .object)
            } catch DecodingError.typeMismatch {
                throw notAnObject
            }
            self.object = StripeEventObject.decoding(StripeEventType(rawValue: type), in: data, forKey: .object)
        }
    }
}
