extension PGValue {
    /// Parses a decimal integer without allocating.
    func parseInt64() -> Int64? {
        var index = 0
        let count = bytes.count
        guard count > 0 else { return nil }
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
        } else if bytes[0] == UInt8(ascii: "+") {
            index = 1
        }
        guard index < count else { return nil }
        var result: Int64 = 0
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (multiplied, overflow1) = result.multipliedReportingOverflow(by: 10)
            let (added, overflow2) =
                negative
                ? multiplied.subtractingReportingOverflow(Int64(digit))
                : multiplied.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            result = added
            index += 1
        }
        return result
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws(PGDecodingFailure) -> T {
        switch oid {
        case PGType.int2, PGType.int4, PGType.int8, PGType.oid, PGType.numeric, PGType.text, PGType.varchar:
            guard let wide = parseInt64(), let value = T(exactly: wide) else {
                throw PGDecodingFailure("value does not fit \(T.self) (column type \(PGType.name(of: oid)))")
            }
            return value
        default:
            throw .typeMismatch("\(T.self)", oid)
        }
    }
}

extension Int: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.int8 }

    public func pgBind() -> PGBind { PGBind(oid: PGType.int8, text: String(self)) }
    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Int { try value.decodeInteger(Int.self) }
}

extension Int64: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.int8 }

    public func pgBind() -> PGBind { PGBind(oid: PGType.int8, text: String(self)) }
    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Int64 {
        try value.decodeInteger(Int64.self)
    }
}

extension Int32: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.int4 }

    public func pgBind() -> PGBind { PGBind(oid: PGType.int4, text: String(self)) }
    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Int32 {
        try value.decodeInteger(Int32.self)
    }
}
