/// `[String]` binds as a PostgreSQL `text[]`: every element double-quoted, with `"` and `\` escaped, so any text
/// (commas, braces, spaces, the word NULL) round-trips as itself.
extension Array: PGEncodable where Element == String {
    public func pgBind() -> PGBind {
        var literal = "{"
        for (index, element) in enumerated() {
            if index > 0 { literal += "," }
            literal += "\""
            for character in element.unicodeScalars {
                if character == "\"" || character == "\\" { literal += "\\" }
                literal.unicodeScalars.append(character)
            }
            literal += "\""
        }
        literal += "}"
        return PGBind(oid: PGType.textArray, text: literal)
    }

    public static var pgTypeOID: UInt32 { PGType.textArray }
}
