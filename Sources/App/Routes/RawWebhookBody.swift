import Foundation

/// Best-effort reads of one top-level field of a webhook body that did not decode as its type, to key the raw row
/// it is kept in (`PaymentLedger.recordRaw`). Nil when the body is not a JSON object or the field is missing.
enum RawWebhookBody {
    static func field(_ name: String, in body: Data) -> String? {
        object(body)?[name] as? String
    }

    static func integer(_ name: String, in body: Data) -> Int64? {
        (object(body)?[name] as? NSNumber).map(\.int64Value)
    }

    private static func object(_ body: Data) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
    }
}
