/// SQL text with bound parameters. Built by string interpolation, where every interpolated value becomes a `$n`
/// placeholder and a bind; SQL text that is not a literal can only enter through `init(unsafeSQL:binds:)` or
/// `\(unsafeRaw:)`, so user data never ends up inside the SQL text by accident.
///
///     let query: PGQuery = "SELECT id FROM users WHERE telegram_user_id = \(telegramID)"
public struct PGQuery: Sendable, Hashable, ExpressibleByStringInterpolation {
    public var sql: String
    public var binds: [PGBind]

    /// Raw SQL text with an explicit parameter list. The name says it: the caller vouches for the text.
    public init(unsafeSQL sql: String, binds: [PGBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    public struct StringInterpolation: StringInterpolationProtocol {
        var sql: String
        var binds: [PGBind]

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { sql += literal }

        /// Appends `$n` and binds the value.
        public mutating func appendInterpolation(_ value: some PGEncodable) {
            binds.append(value.pgBind())
            sql += "$\(binds.count)"
        }

        /// Appends `$n` and binds the value or NULL.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value?) {
            binds.append(value?.pgBind() ?? PGBind(oid: Value.pgTypeOID, text: nil))
            sql += "$\(binds.count)"
        }

        /// Appends SQL text verbatim (identifiers chosen by code, never input).
        public mutating func appendInterpolation(unsafeRaw text: String) { sql += text }
    }
}

extension PGQuery {
    /// Appends another query, renumbering its `$n` placeholders after this one's binds.
    public mutating func append(_ other: PGQuery) {
        let offset = binds.count
        binds.append(contentsOf: other.binds)
        guard offset > 0, !other.binds.isEmpty else {
            sql += other.sql
            return
        }
        var output = ""
        output.reserveCapacity(other.sql.utf8.count + 8)
        var digits = ""
        var inPlaceholder = false
        for character in other.sql {
            if inPlaceholder {
                if character.isASCII, character.isNumber {
                    digits.append(character)
                    continue
                }
                output += digits.isEmpty ? "$" : "$\((Int(digits) ?? 0) + offset)"
                inPlaceholder = false
                digits = ""
            }
            if character == "$" {
                inPlaceholder = true
            } else {
                output.append(character)
            }
        }
        if inPlaceholder { output += digits.isEmpty ? "$" : "$\((Int(digits) ?? 0) + offset)" }
        sql += output
    }
}
