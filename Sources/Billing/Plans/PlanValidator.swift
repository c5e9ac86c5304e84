import Foundation
import Support

/// Validates one element of the catalog array, collecting every problem rather than stopping at the first.
struct PlanValidator {
    let index: Int
    let element: JSONValue
    private(set) var issues: [PlanCatalogError.Issue] = []
    private var label: String

    init(index: Int, element: JSONValue) {
        self.index = index
        self.element = element
        self.label = "plan #\(index)"
    }

    /// The plan, or nil when any field is wrong (then `issues` says why).
    mutating func validate() -> Plan? {
        guard case .object(let object) = element else {
            issue("plan", "must be a JSON object (got \(element.summary))")
            return nil
        }
        let code = validateCode(object["code"])
        if let code { label = "plan \"\(code)\"" }
        for key in object.keys.sorted() where !PlanCatalog.fields.contains(key) {
            issue(key, "is not a known field (known: \(PlanCatalog.fields.sorted().joined(separator: ", ")))")
        }
        let name = validateName(object["name"])
        let periodDays = positiveInteger(object["period_days"], field: "period_days", required: true, max: 36_500)
        let starsPrice = positiveInteger(object["stars_price"], field: "stars_price", required: false, max: 1_000_000)
        let stripePriceID = validateStripePrice(object["stripe_price_id"])
        let recurring = validateRecurring(object["recurring"])
        let checkout = validateCheckout(object, recurring: recurring, stripePriceID: stripePriceID)
        guard issues.isEmpty, let code, let name, let periodDays, let recurring, let checkout else { return nil }
        return Plan(
            code: code, name: name, periodDays: periodDays, stripePriceID: stripePriceID, starsPrice: starsPrice,
            recurring: recurring, active: true, checkout: checkout)
    }

    private mutating func issue(_ field: String, _ problem: String) {
        issues.append(PlanCatalogError.Issue(plan: label, field: field, problem: problem))
    }

    private mutating func validateCode(_ value: JSONValue?) -> String? {
        guard let value else {
            issue("code", "is missing")
            return nil
        }
        guard case .string(let code) = value else {
            issue("code", "must be a string (got \(value.summary))")
            return nil
        }
        guard PlanValidator.isValidCode(code) else {
            issue("code", "must match \(PlanCatalog.codePattern): lowercase letters, digits and _ (got \(value.summary))")
            return nil
        }
        return code
    }

    /// `^[a-z0-9][a-z0-9_]{0,63}$` without a regex engine.
    static func isValidCode(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isLowerOrDigit(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        return isLowerOrDigit(bytes[0]) && bytes.dropFirst().allSatisfy { isLowerOrDigit($0) || $0 == UInt8(ascii: "_") }
    }

    private mutating func validateName(_ value: JSONValue?) -> String? {
        guard let value else {
            issue("name", "is missing")
            return nil
        }
        guard case .string(let raw) = value else {
            issue("name", "must be a string (got \(value.summary))")
            return nil
        }
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else {
            issue("name", "must not be empty")
            return nil
        }
        guard name.count <= 200 else {
            issue("name", "must be at most 200 characters (got \(name.count))")
            return nil
        }
        return name
    }

    private mutating func positiveInteger(_ value: JSONValue?, field: String, required: Bool, max: Int64) -> Int? {
        switch value {
        case nil, .null?:
            if required { issue(field, value == nil ? "is missing" : "must not be null") }
            return nil
        case .integer(let number)?:
            guard number > 0 else {
                issue(field, "must be greater than 0 (got \(number))")
                return nil
            }
            guard number <= max else {
                issue(field, "must be at most \(max) (got \(number))")
                return nil
            }
            return Int(number)
        case .number(let number)?:
            issue(field, number <= 0 ? "must be greater than 0 (got \(number))" : "must be a whole number (got \(number))")
            return nil
        case let other?:
            issue(field, "must be a whole number (got \(other.summary))")
            return nil
        }
    }

    private mutating func validateStripePrice(_ value: JSONValue?) -> String? {
        switch value {
        case nil, .null?:
            return nil
        case .string(let price)?:
            guard !price.isEmpty, price.count <= 255, !price.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                issue("stripe_price_id", "must be a Stripe Price id like price_123 without spaces (got \(value?.summary ?? ""))")
                return nil
            }
            return price
        case let other?:
            issue("stripe_price_id", "must be a string (got \(other.summary))")
            return nil
        }
    }

    private mutating func validateRecurring(_ value: JSONValue?) -> Bool? {
        flag(value, field: "recurring")
    }

    /// A boolean field that defaults to false.
    private mutating func flag(_ value: JSONValue?, field: String) -> Bool? {
        switch value {
        case nil: return false
        case .bool(let flag)?: return flag
        case let other?:
            issue(field, "must be true or false (got \(other.summary))")
            return nil
        }
    }

    /// `trial_days`, `allow_promotion_codes`, `automatic_tax`. A trial needs a subscription sold through Stripe.
    private mutating func validateCheckout(_ object: [String: JSONValue], recurring: Bool?, stripePriceID: String?)
        -> PlanCheckoutOptions?
    {
        let trialDays = positiveInteger(
            object["trial_days"], field: "trial_days", required: false, max: Int64(PlanCheckoutOptions.maxTrialDays))
        if trialDays != nil, recurring == false {
            issue("trial_days", "needs \"recurring\": true (a trial delays a subscription's first charge)")
        }
        if trialDays != nil, stripePriceID == nil {
            issue("trial_days", "needs a stripe_price_id (trials are offered through Stripe Checkout)")
        }
        let promotionCodes = flag(object["allow_promotion_codes"], field: "allow_promotion_codes")
        let automaticTax = flag(object["automatic_tax"], field: "automatic_tax")
        guard let promotionCodes, let automaticTax else { return nil }
        return PlanCheckoutOptions(trialDays: trialDays, allowPromotionCodes: promotionCodes, automaticTax: automaticTax)
    }
}
