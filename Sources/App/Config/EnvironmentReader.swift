import Foundation

/// Typed reads of environment variables; every failure names the variable and says what it must be.
struct EnvironmentReader {
    private let environment: [String: String]

    init(_ environment: [String: String]) { self.environment = environment }

    /// The trimmed value, or nil when unset or empty.
    func string(_ name: String) -> String? {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            return nil
        }
        return value
    }

    func required(_ name: String, why: String) throws(AppConfig.Invalid) -> String {
        guard let value = string(name) else { throw AppConfig.Invalid(variable: name, problem: why) }
        return value
    }

    func int(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(AppConfig.Invalid) -> Int {
        guard let text = string(name) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw AppConfig.Invalid(
                variable: name, problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \"\(text)\")")
        }
        return value
    }

    func double(_ name: String, default defaultValue: Double, minimum: Double) throws(AppConfig.Invalid) -> Double {
        guard let text = string(name) else { return defaultValue }
        guard let value = Double(text), value.isFinite, value >= minimum else {
            throw AppConfig.Invalid(variable: name, problem: "must be a number >= \(minimum) (got \"\(text)\")")
        }
        return value
    }

    func bool(_ name: String, default defaultValue: Bool) throws(AppConfig.Invalid) -> Bool {
        guard let text = string(name)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw AppConfig.Invalid(variable: name, problem: "must be true or false (got \"\(text)\")")
        }
    }

    func url(_ name: String, default defaultValue: String) throws(AppConfig.Invalid) -> String {
        let text = string(name) ?? defaultValue
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil
        else {
            throw AppConfig.Invalid(variable: name, problem: "must be an http(s) URL (got \"\(text)\")")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
