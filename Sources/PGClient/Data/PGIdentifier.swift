extension PGConnection {
    /// Double-quotes an identifier for SQL text (names chosen by code or configuration, never by a request).
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
