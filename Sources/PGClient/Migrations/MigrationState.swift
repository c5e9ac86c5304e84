import Foundation

/// One line of `telebot migrate status`.
public struct MigrationState: Sendable, CustomStringConvertible {
    public enum Checksum: String, Sendable {
        case ok
        case drift
        case pending = "-"
        case missingFile = "missing-file"
    }

    public let version: Int
    public let name: String
    public let appliedAt: Date?
    public let checksum: Checksum

    public var isPending: Bool { appliedAt == nil }

    public var description: String {
        let label = String(format: "%04d", version) + "  " + name
        guard let appliedAt else { return label + "  pending" }
        return label + "  applied " + appliedAt.ISO8601Format() + "  checksum " + checksum.rawValue
    }
}
