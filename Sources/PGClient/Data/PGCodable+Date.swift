import Foundation

/// Dates bind as `timestamptz` in ISO 8601 UTC with microseconds and decode from the ISO `DateStyle`
/// PGClient sets on every connection (`timestamptz` and `timestamp`, the latter read as UTC).
extension Date: PGCodable {
    public static var pgTypeOID: UInt32 { PGType.timestamptz }

    public func pgBind() -> PGBind { PGBind(oid: PGType.timestamptz, text: PGDateFormat.format(self)) }

    public static func pgDecode(_ value: PGValue) throws(PGDecodingFailure) -> Date {
        guard value.oid == PGType.timestamptz || value.oid == PGType.timestamp else {
            throw .typeMismatch("Date", value.oid)
        }
        guard let date = PGDateFormat.parse(value.bytes) else {
            throw PGDecodingFailure("invalid timestamp text")
        }
        return date
    }
}

/// Allocation-light conversion between `Date` and PostgreSQL's ISO timestamp text.
enum PGDateFormat {
    static func format(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        guard totalMicros.isFinite, abs(totalMicros) < 9e18 else { return "infinity" }
        let micros = Int64(totalMicros)
        var seconds = micros / 1_000_000
        var fraction = micros % 1_000_000
        if fraction < 0 {
            fraction += 1_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        var text = pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
        text += pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2)
        text += "." + pad(fraction, 6) + "Z"
        return text
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var cursor = 0
        func number(_ digits: Int) -> Int64? {
            guard cursor + digits <= bytes.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let digit = bytes[cursor] &- 48
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
                cursor += 1
            }
            return value
        }
        func expect(_ char: UInt8) -> Bool {
            guard cursor < bytes.count, bytes[cursor] == char else { return false }
            cursor += 1
            return true
        }
        if bytes.count >= 8, bytes[0] == UInt8(ascii: "i") { return .distantFuture }
        if bytes.count >= 9, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "i") { return .distantPast }
        // Years may have more than four digits.
        var yearDigits = 0
        while cursor + yearDigits < bytes.count, bytes[cursor + yearDigits] &- 48 < 10 { yearDigits += 1 }
        guard yearDigits >= 4, let year = number(yearDigits), expect(45), let month = number(2), expect(45),
            let day = number(2), expect(32) || expect(84), let hour = number(2), expect(58), let minute = number(2),
            expect(58), let second = number(2)
        else { return nil }
        var micros: Int64 = 0
        if expect(46) {
            var scale: Int64 = 100_000
            while cursor < bytes.count, bytes[cursor] &- 48 < 10 {
                micros += Int64(bytes[cursor] &- 48) * scale
                scale /= 10
                cursor += 1
            }
        }
        var offsetSeconds: Int64 = 0
        if cursor < bytes.count, bytes[cursor] == 43 || bytes[cursor] == 45 {
            let sign: Int64 = bytes[cursor] == 45 ? -1 : 1
            cursor += 1
            guard let offsetHours = number(2) else { return nil }
            var offsetMinutes: Int64 = 0
            var offsetSecs: Int64 = 0
            if expect(58) { offsetMinutes = number(2) ?? 0 }
            if expect(58) { offsetSecs = number(2) ?? 0 }
            offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60 + offsetSecs)
        } else if cursor < bytes.count, bytes[cursor] == UInt8(ascii: "Z") {
            cursor += 1
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + Double(micros) / 1_000_000)
    }

    // Howard Hinnant's days_from_civil / civil_from_days.
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
