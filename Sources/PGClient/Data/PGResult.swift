import CLibPQ
import Foundation

/// The rows of one statement. Owns the libpq result and frees it when released; use it inside the unit of work
/// that produced it and return decoded Swift values.
public final class PGResult {
    let handle: OpaquePointer
    /// Rows changed by INSERT/UPDATE/DELETE (or returned by SELECT).
    public let affectedRows: Int
    public let count: Int
    public let columnCount: Int

    init(handle: OpaquePointer) {
        self.handle = handle
        self.count = Int(PQntuples(handle))
        self.columnCount = Int(PQnfields(handle))
        let tuples = PQcmdTuples(handle).map { String(cString: $0) } ?? ""
        self.affectedRows = Int(tuples) ?? 0
    }

    deinit { PQclear(handle) }

    /// The column names, in order.
    public var columns: [String] {
        (0..<columnCount).map { String(cString: PQfname(handle, Int32($0))) }
    }

    public subscript(row: Int) -> PGRow { PGRow(result: self, index: Int32(row)) }

    /// The first row, if any.
    public var first: PGRow? { count > 0 ? self[0] : nil }

    /// The column index for a name, or a usage error naming the column.
    ///
    /// The name matches exactly as the result spells it (`AS "userId"` is found as `userId`). Only when no column
    /// matches exactly does libpq's `PQfnumber` rule apply (unquoted names fold to lower case, `"..."` quotes).
    func columnIndex(_ name: String) throws(PGError) -> Int32 {
        let exact = name.withCString { wanted -> Int32 in
            for column in 0..<Int32(columnCount) where strcmp(PQfname(handle, column), wanted) == 0 { return column }
            return -1
        }
        if exact >= 0 { return exact }
        let index = PQfnumber(handle, name)
        guard index >= 0 else {
            throw PGError(kind: .usage, message: "result has no column \"\(name)\"", column: name)
        }
        return index
    }
}

extension PGResult: RandomAccessCollection {
    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
}
