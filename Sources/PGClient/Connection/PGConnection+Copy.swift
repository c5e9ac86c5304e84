import CLibPQ
import Foundation

extension PGConnection {
    /// Bulk-loads rows with `COPY <table> (<columns>) FROM STDIN` in text format.
    /// - Parameters:
    ///   - table: the table name (code-chosen identifier, quoted here).
    ///   - columns: the column names, in the order of each row's values.
    ///   - rows: the values; each row must have one bind per column (`PGBind.null` for NULL).
    /// - Returns: the number of rows copied.
    @discardableResult
    public func copyFrom(table: String, columns: [String], rows: some Sequence<[PGBind]>) throws(PGError) -> Int {
        let columnList = columns.map(PGConnection.quoteIdentifier).joined(separator: ", ")
        let sql = "COPY \(PGConnection.quoteIdentifier(table)) (\(columnList)) FROM STDIN"
        return try state.withLock { (handle: inout Handle) throws(PGError) -> Int in
            guard let pg = handle.pg else { throw PGError(kind: .connection, message: "connection is closed") }
            let start = try PGConnection.check(PQexec(pg, sql), pg: pg)
            guard PQresultStatus(start.handle) == PGRES_COPY_IN else {
                throw PGError(kind: .usage, message: "COPY did not enter COPY IN mode")
            }
            var buffer = [UInt8]()
            buffer.reserveCapacity(1 << 16)
            var failure: PGError?
            for row in rows {
                guard row.count == columns.count else {
                    failure = PGError(kind: .usage, message: "COPY row has \(row.count) values for \(columns.count) columns")
                    break
                }
                PGConnection.appendCopyRow(row, to: &buffer)
                if buffer.count >= 1 << 16 {
                    if !PGConnection.put(buffer, pg: pg) { break }
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if failure == nil, !buffer.isEmpty { _ = PGConnection.put(buffer, pg: pg) }
            if failure == nil {
                PQputCopyEnd(pg, nil)
            } else {
                PQputCopyEnd(pg, "aborted by client")
            }
            var copied = 0
            var serverError: PGError?
            while let result = PQgetResult(pg) {
                if PQresultStatus(result) == PGRES_COMMAND_OK {
                    copied = Int(String(cString: PQcmdTuples(result))) ?? 0
                } else if serverError == nil {
                    serverError = PGConnection.makeError(result, pg: pg)
                }
                PQclear(result)
            }
            if let failure { throw failure }
            if let serverError { throw serverError }
            return copied
        }
    }

    private static func put(_ buffer: [UInt8], pg: OpaquePointer) -> Bool {
        buffer.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                PQputCopyData(pg, chars.baseAddress, Int32(chars.count)) == 1
            }
        }
    }

    private static func appendCopyRow(_ row: [PGBind], to buffer: inout [UInt8]) {
        for (index, bind) in row.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: "\t")) }
            guard let text = bind.text else {
                buffer.append(UInt8(ascii: "\\"))
                buffer.append(UInt8(ascii: "N"))
                continue
            }
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [92, 92])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [92, UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [92, UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [92, UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    /// Double-quotes an identifier for SQL text.
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
