import Foundation

/// A Stripe event envelope: `{id, type, created, livemode, api_version, data: {object, previous_attributes}}`,
/// tolerant of fields it does not know.
///
/// Required: `id` (non-empty), `type`, `created` (integer), `data.object` (a JSON object). `livemode` defaults to
/// false and `api_version` to nil when absent. The object is kept as decoded JSON (`object`, `objectJSON`); the typed
/// views (`checkoutSession()`, `invoice()`, `subscription()`, `charge()`) decode it on demand.
public struct StripeEvent: Sendable, Equatable {
    public var id: String
    public var type: StripeEventType
    /// Unix seconds when Stripe created the event: the ordering watermark for subscription state.
    public var created: Int64
    public var livemode: Bool
    public var apiVersion: String?
    /// `data.object`, as decoded.
    public var object: StripeJSON
    /// `data.previous_attributes` of `*.updated` events.
    public var previousAttributes: StripeJSON?

    public init(
        id: String, type: StripeEventType, created: Int64, livemode: Bool = false, apiVersion: String? = nil,
        object: StripeJSON, previousAttributes: StripeJSON? = nil
    ) {
        self.id = id
        self.type = type
        self.created = created
        self.livemode = livemode
        self.apiVersion = apiVersion
        self.object = object
        self.previousAttributes = previousAttributes
    }

    /// Decodes an envelope from the raw webhook body.
    /// - Throws: `StripeEventDecodingError`.
    public init(decoding payload: some DataProtocol) throws(StripeEventDecodingError) {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(payload))
        } catch {
            throw StripeEventDecodingError.from(error)
        }
        self.init(
            id: envelope.id, type: StripeEventType(rawValue: envelope.type), created: envelope.created,
            livemode: envelope.livemode ?? false, apiVersion: envelope.apiVersion, object: envelope.data.object,
            previousAttributes: envelope.data.previousAttributes)
    }

    /// `created` as a date.
    public var createdAt: Date { Date(timeIntervalSince1970: TimeInterval(created)) }

    /// `data.object.object` (`"invoice"`, `"checkout.session"`…), when present.
    public var objectType: String? { object["object"]?.stringValue }

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

    private func view<View: StripeObjectView>() throws(StripeEventDecodingError) -> View {
        do {
            return try JSONDecoder().decode(ObjectBox<View>.self, from: Self.wrapObject(objectJSON)).data.object
        } catch {
            throw StripeEventDecodingError.from(error)
        }
    }

    /// `{"data":{"object":…}}` around the object, so decoding errors carry the path `data.object.…`.
    private static func wrapObject(_ object: Data) -> Data {
        Data("{\"data\":{\"object\":".utf8) + object + Data("}}".utf8)
    }

    private struct ObjectBox<View: Decodable>: Decodable {
        struct Inner: Decodable { var object: View }
        var data: Inner
    }

    private struct Envelope: Decodable {
        var id: String
        var type: String
        var created: Int64
        var livemode: Bool?
        var apiVersion: String?
        var data: DataField

        struct DataField: Decodable {
            var object: StripeJSON
            var previousAttributes: StripeJSON?

            enum CodingKeys: String, CodingKey {
                case object
                case previousAttributes = "previous_attributes"
            }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                self.object = try container.decode(StripeJSON.self, forKey: .object)
                guard case .object = object else {
                    throw DecodingError.typeMismatch(
                        [String: StripeJSON].self,
                        .init(codingPath: container.codingPath + [CodingKeys.object], debugDescription: "not an object"))
                }
                self.previousAttributes = try container.decodeIfPresent(StripeJSON.self, forKey: .previousAttributes)
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, type, created, livemode, data
            case apiVersion = "api_version"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.id = try container.decodeRequiredString(.id)
            self.type = try container.decodeRequiredString(.type)
            self.created = try container.decode(Int64.self, forKey: .created)
            self.livemode = try container.decodeIfPresent(Bool.self, forKey: .livemode)
            self.apiVersion = try container.decodeIfPresent(String.self, forKey: .apiVersion)
            self.data = try container.decode(DataField.self, forKey: .data)
        }
    }
}
