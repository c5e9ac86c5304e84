import CLibPQ
import Foundation

/// libpq connection strings, as libpq itself reads them (`PQconninfoParse`): URIs (`postgres://u:pw@h/db?…`) and
/// key/value strings (`host=h password='p w'`), so the result matches what a connection would use.
public enum PGConninfo {
    /// Keywords whose values are secrets.
    public static let secretKeywords: Set<String> = ["password", "sslpassword"]

    /// Every keyword the string sets, with its value; nil when libpq cannot parse it.
    public static func parse(_ conninfo: String) -> [String: String]? {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                values[String(cString: keyword)] = String(cString: value)
            }
            option += 1
        }
        return values
    }

    /// The connection string in key/value form with every keyword it sets (sorted), secrets shown as `***`, safe to
    /// log. A string libpq cannot parse is not shown at all (it might hold a password libpq could not find).
    public static func redacted(_ conninfo: String) -> String {
        guard let values = parse(conninfo) else { return "<unparseable connection string>" }
        return values.keys.sorted().map { keyword in
            let value = secretKeywords.contains(keyword) ? "***" : values[keyword] ?? ""
            return "\(keyword)=\(quoted(value))"
        }.joined(separator: " ")
    }

    /// A key/value value, quoted when it must be (`'…'` with `\'` and `\\`).
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "'" || $0 == "\\" || $0.isWhitespace }
        if plain { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
