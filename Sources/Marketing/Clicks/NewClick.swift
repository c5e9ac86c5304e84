import Foundation
import Support

/// A click to log: what `POST /api/v1/marketing/clicks` receives, and what Telegram capture builds.
///
/// Limits (the same as `marketing_clicks`' CHECK constraints): `ctaType` matches `^[a-z0-9_]{1,32}$`;
/// `channel`, `utmSource` and `utmCampaign` are at most 128 characters (an empty string counts as absent);
/// `metadata` is a JSON object of at most 4096 bytes of JSON text. No field may contain U+0000.
public struct NewClick: Sendable, Equatable {
    public var ctaType: String
    public var channel: String?
    public var utmSource: String?
    public var utmCampaign: String?
    public var metadata: [String: JSONValue]

    /// Longest `channel`, `utm_source` and `utm_campaign`, in characters.
    public static let maxFieldLength = 128
    /// Largest `metadata`, in bytes of JSON text.
    public static let maxMetadataBytes = 4096

    public init(
        ctaType: String, channel: String? = nil, utmSource: String? = nil, utmCampaign: String? = nil,
        metadata: [String: JSONValue] = [:]
    ) {
        self.ctaType = ctaType
        self.channel = channel
        self.utmSource = utmSource
        self.utmCampaign = utmCampaign
        self.metadata = metadata
    }

    /// The click with empty optional strings turned into nil, or the first limit it breaks.
    public func validated() throws(ClickError) -> NewClick {
        guard CTAParser.isValidName(ctaType) else {
            throw .invalid(field: .ctaType, reason: "must match ^[a-z0-9_]{1,32}$")
        }
        var copy = self
        copy.channel = try Self.optionalText(channel, field: .channel)
        copy.utmSource = try Self.optionalText(utmSource, field: .utmSource)
        copy.utmCampaign = try Self.optionalText(utmCampaign, field: .utmCampaign)
        _ = try Self.metadataText(metadata)
        return copy
    }

    static func optionalText(_ value: String?, field: ClickField) throws(ClickError) -> String? {
        guard let value, !value.isEmpty else { return nil }
        // PostgreSQL's length() counts code points.
        guard value.unicodeScalars.count <= maxFieldLength else {
            throw .invalid(field: field, reason: "must be at most \(maxFieldLength) characters")
        }
        guard !value.utf8.contains(0) else { throw .invalid(field: field, reason: "must not contain NUL characters") }
        return value
    }

    /// The metadata as compact JSON text (keys sorted), after checking its limits.
    static func metadataText(_ metadata: [String: JSONValue]) throws(ClickError) -> String {
        let object = JSONValue.object(metadata)
        guard !object.containsNUL else {
            throw .invalid(field: .metadata, reason: "must not contain NUL characters")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(object) else {
            throw .invalid(field: .metadata, reason: "must be finite JSON")
        }
        guard data.count <= maxMetadataBytes else {
            throw .invalid(field: .metadata, reason: "must be at most \(maxMetadataBytes) bytes of JSON")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
