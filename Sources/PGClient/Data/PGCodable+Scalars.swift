extension Bool: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.bool }

    public func pgBind() -> PGBind { PGBind(oid: PGType.bool, text: self ? "t" : "f") }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Bool {
        guard value.oid == PGType.bool else { throw .typeMismatch("Bool", value.oid) }
        switch value.bytes.first {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw PGDecodingFailure("invalid bool text")
        }
    }
}

extension Double: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.float8 }

    public func pgBind() -> PGBind { PGBind(oid: PGType.float8, text: "\(self)") }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Double {
        switch value.oid {
        case PGType.float4, PGType.float8, PGType.numeric, PGType.int2, PGType.int4, PGType.int8:
            let text = value.string
            switch text {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default:
                guard let parsed = Double(text) else { throw PGDecodingFailure("invalid number text") }
                return parsed
            }
        default:
            throw .typeMismatch("Double", value.oid)
        }
    }
}

extension String: PGCodable {
    /// Strings bind with an unspecified type so they fit text, varchar, enums and casts alike.
    public func pgBind() -> PGBind { PGBind(oid: PGType.unspecified, text: self) }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> String {
        switch value.oid {
        case PGType.bytea:
            throw .typeMismatch("String", value.oid)
        default:
            // Every other type has a readable text form (text, varchar, name, enums, uuid, numeric, ...).
            return value.string
        }
    }
}
