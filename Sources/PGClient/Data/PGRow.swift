import CLibPQ

/// One row of a `PGResult`. Decode columns by name with the Swift type you expect:
///
///     let id = try row.decode("id", as: Int64.self)
///     let username = try row.decode("username", as: String?.self)
public struct PGRow {
    let result: PGResult
    let index: Int32

    /// Decodes the named column; errors name the column and what did not match.
    public func decode<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws(PGError) -> T {
        try decode(at: result.columnIndex(column), name: column, as: type)
    }

    /// Decodes the column at a position (0-based).
    public func decode<T: PGDecodable>(at position: Int, as type: T.Type = T.self) throws(PGError) -> T {
        guard position >= 0, position < result.columnCount else {
            throw PGError(kind: .usage, message: "result has no column at position \(position)")
        }
        let name = String(cString: PQfname(result.handle, Int32(position)))
        return try decode(at: Int32(position), name: name, as: type)
    }

    /// True when the named column is NULL.
    public func isNull(_ column: String) throws(PGError) -> Bool {
        PQgetisnull(result.handle, index, try result.columnIndex(column)) == 1
    }

    private func decode<T: PGDecodable>(at column: Int32, name: String, as type: T.Type) throws(PGError) -> T {
        let handle = result.handle
        do {
            if PQgetisnull(handle, index, column) == 1 {
                return try T.pgDecodeNull()
            }
            let length = Int(PQgetlength(handle, index, column))
            let oid = PQftype(handle, column)
            guard let raw = PQgetvalue(handle, index, column) else { return try T.pgDecodeNull() }
            let bytes = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self)
            return try T.pgDecode(PGValue(bytes: UnsafeBufferPointer(start: bytes, count: length), oid: oid))
        } catch {
            throw PGError(kind: .decoding, message: "column \"\(name)\": \(error.reason)", column: name)
        }
    }
}
