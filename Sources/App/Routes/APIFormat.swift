import Foundation

/// Shapes shared by the JSON APIs: RFC 3339 UTC timestamps and list limits as docs/api.md fixes them.
enum APIFormat {
    /// `2026-11-22T03:16:11Z` (fractions dropped: clients compare and display, they do not need microseconds).
    static func timestamp(_ date: Date?) -> String? { date.map { $0.ISO8601Format() } }

    static func timestamp(_ date: Date) -> String { date.ISO8601Format() }

    /// `limit` query parameter: 1–100, default 20; anything else is a 400.
    static func limit(_ text: String?, default defaultValue: Int = 20, maximum: Int = 100) throws(ProblemError) -> Int {
        guard let text else { return defaultValue }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw ProblemError.badRequest("limit must be a whole number from 1 to \(maximum)")
        }
        return value
    }
}
