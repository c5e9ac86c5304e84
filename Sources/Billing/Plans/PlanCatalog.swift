import Foundation
import Support

/// The plan catalog file (`PLANS_FILE`): a JSON array of plans, validated as a whole before anything is written.
///
///     [{"code": "premium_monthly", "name": "Premium, monthly", "period_days": 30,
///       "stripe_price_id": "price_123", "stars_price": 250, "recurring": true}]
///
/// `code`, `name` and `period_days` are required; either price may be absent or null (that provider then cannot
/// sell the plan); `recurring` defaults to false. Stripe Checkout options: `trial_days` (1–730, recurring plans with a
/// Stripe price only), `allow_promotion_codes` and `automatic_tax` (true or false, default false). Unknown fields are
/// errors, so a typo never silently drops a price.
public struct PlanCatalog: Sendable, Equatable {
    /// The plans of the file, in file order, all `active`.
    public let plans: [Plan]

    /// Field names a plan object may have.
    public static let fields: Set<String> = [
        "code", "name", "period_days", "stripe_price_id", "stars_price", "recurring", "trial_days",
        "allow_promotion_codes", "automatic_tax",
    ]
    /// The plan code rule (the `plans_code_format` CHECK constraint).
    public static let codePattern = "^[a-z0-9][a-z0-9_]{0,63}$"

    /// - Parameter plans: catalog entries; use `parse(data:)` to validate a file instead.
    public init(plans: [Plan]) {
        self.plans = plans
    }

    /// Reads and validates a catalog file.
    /// - Parameter path: path of the JSON file.
    /// - Throws: `PlanCatalogError` naming the plan and field at fault.
    public static func load(path: String) throws(PlanCatalogError) -> PlanCatalog {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = FileManager.default.fileExists(atPath: path) ? "the file is not readable" : "no such file"
            throw .unreadable(path: path, reason: reason)
        }
        return try parse(data: data)
    }

    /// Validates catalog JSON.
    /// - Parameter data: the file's bytes.
    /// - Throws: `PlanCatalogError.malformed` when it is not a JSON array of objects, `.invalid` with every
    ///   problem found otherwise.
    public static func parse(data: Data) throws(PlanCatalogError) -> PlanCatalog {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .malformed("the file is not JSON")
        }
        guard case .array(let elements) = root else {
            throw .malformed("the top level must be a JSON array of plans (got \(root.summary))")
        }
        var issues: [PlanCatalogError.Issue] = []
        var plans: [Plan] = []
        for (index, element) in elements.enumerated() {
            var validator = PlanValidator(index: index + 1, element: element)
            if let plan = validator.validate() { plans.append(plan) }
            issues.append(contentsOf: validator.issues)
        }
        issues.append(contentsOf: duplicates(plans))
        guard issues.isEmpty else { throw .invalid(issues) }
        return PlanCatalog(plans: plans)
    }

    /// Duplicate codes and Stripe prices across plans (each also breaks a UNIQUE constraint of `plans`).
    static func duplicates(_ plans: [Plan]) -> [PlanCatalogError.Issue] {
        var issues: [PlanCatalogError.Issue] = []
        var seenCodes: Set<String> = []
        var priceOwner: [String: String] = [:]
        for plan in plans {
            if !seenCodes.insert(plan.code).inserted {
                issues.append(.init(plan: "plan \"\(plan.code)\"", field: "code", problem: "appears more than once"))
            }
            if let price = plan.stripePriceID {
                if let owner = priceOwner[price], owner != plan.code {
                    issues.append(
                        .init(
                            plan: "plan \"\(plan.code)\"", field: "stripe_price_id",
                            problem: "\"\(price)\" is already used by plan \"\(owner)\""))
                } else {
                    priceOwner[price] = plan.code
                }
            }
        }
        return issues
    }
}
