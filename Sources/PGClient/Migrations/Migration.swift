import Crypto
import Foundation
import Support

/// One versioned schema change: `NNNN_name.up.sql` and its `NNNN_name.down.sql`.
public struct Migration: Sendable, Hashable {
    public let version: Int
    public let name: String
    public let upSQL: String
    public let downSQL: String?
    /// SHA-256 (hex) of the up file, recorded when applied so a later edit shows up as drift.
    public let checksum: String

    public init(version: Int, name: String, upSQL: String, downSQL: String?) {
        self.version = version
        self.name = name
        self.upSQL = upSQL
        self.downSQL = downSQL
        self.checksum = Hex.encode(SHA256.hash(data: Data(upSQL.utf8)))
    }

    /// `0001_create_users` style label.
    public var label: String { String(format: "%04d_%@", version, name) }

    /// Reads every migration in a directory, ordered by version.
    /// - Throws: `MigrationError` for names that do not fit the pattern, duplicate versions, or a missing down file.
    public static func load(directory: String) throws -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw MigrationError.directoryUnreadable(directory)
        }
        var ups: [Int: (name: String, path: String)] = [:]
        var downs: [Int: String] = [:]
        for file in files.sorted() where file.hasSuffix(".sql") {
            guard let parsed = parse(fileName: file) else { throw MigrationError.badFileName(file) }
            let path = (directory as NSString).appendingPathComponent(file)
            if parsed.isUp {
                if ups[parsed.version] != nil { throw MigrationError.duplicateVersion(parsed.version) }
                ups[parsed.version] = (parsed.name, path)
            } else {
                downs[parsed.version] = path
            }
        }
        return try ups.keys.sorted().map { version in
            let (name, path) = ups[version] ?? ("", "")
            guard let downPath = downs[version] else { throw MigrationError.missingDown(version: version, name: name) }
            return Migration(
                version: version, name: name, upSQL: try read(path), downSQL: try read(downPath))
        }
    }

    private static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw MigrationError.fileUnreadable(path) }
        return String(decoding: data, as: UTF8.self)
    }

    /// `0007_add_invoices.up.sql` → (7, "add_invoices", up).
    static func parse(fileName: String) -> (version: Int, name: String, isUp: Bool)? {
        let isUp: Bool
        let stem: Substring
        if fileName.hasSuffix(".up.sql") {
            isUp = true
            stem = fileName.dropLast(".up.sql".count)
        } else if fileName.hasSuffix(".down.sql") {
            isUp = false
            stem = fileName.dropLast(".down.sql".count)
        } else {
            return nil
        }
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let digits = stem[..<underscore]
        let name = stem[stem.index(after: underscore)...]
        guard digits.count == 4, digits.allSatisfy(\.isASCII), let version = Int(digits), !name.isEmpty,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else { return nil }
        return (version, String(name), isUp)
    }
}

/// What can go wrong reading or applying migrations; descriptions are one clear line for operators.
public enum MigrationError: Error, Sendable, CustomStringConvertible, Equatable {
    case directoryUnreadable(String)
    case fileUnreadable(String)
    case badFileName(String)
    case duplicateVersion(Int)
    case missingDown(version: Int, name: String)
    case drift([String])
    case appliedButMissing([String])
    case failed(migration: String, reason: String)

    public var description: String {
        switch self {
        case .directoryUnreadable(let dir): "cannot read migrations directory \(dir)"
        case .fileUnreadable(let path): "cannot read migration file \(path)"
        case .badFileName(let file): "migration file \(file) does not match NNNN_name.up.sql / NNNN_name.down.sql"
        case .duplicateVersion(let version): "two up migrations share version \(version)"
        case .missingDown(let version, let name): "migration \(String(format: "%04d", version))_\(name) has no .down.sql"
        case .drift(let labels):
            "checksum drift: applied migrations changed on disk: \(labels.joined(separator: ", ")); restore the files or repair schema_migrations"
        case .appliedButMissing(let labels): "applied migrations missing from the directory: \(labels.joined(separator: ", "))"
        case .failed(let migration, let reason): "migration \(migration) failed and was rolled back: \(reason)"
        }
    }
}
