/// PostgreSQL array literals (`{...}`) for binding a whole column of values as one parameter, to be cast in SQL
/// (`$1::text[]`). Elements are always double-quoted with `\` and `"` escaped, so any text is safe; nil is NULL.
enum PGArrayLiteral {
    static func text(_ values: [String?]) -> String {
        var literal = "{"
        literal.reserveCapacity(values.count * 16)
        for (index, value) in values.enumerated() {
            if index > 0 { literal += "," }
            guard let value else {
                literal += "NULL"
                continue
            }
            literal += "\""
            for character in value.unicodeScalars {
                if character == "\\" || character == "\"" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        return literal + "}"
    }

    static func int64(_ values: [Int64]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
