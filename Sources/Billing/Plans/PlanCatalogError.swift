/// Why a plan catalog file was refused. `description` is one line naming the plan and field, safe to print.
public enum PlanCatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadable(path: String, reason: String)
    /// The file is not JSON, or not an array of objects.
    case malformed(String)
    /// One or more plans break the rules; every problem found is listed.
    case invalid([Issue])

    /// One problem with one plan's field (or with the catalog as a whole when `plan` is nil).
    public struct Issue: Sendable, Equatable, CustomStringConvertible {
        /// How the plan is named in messages: `plan "code"` or `plan #3` when it has no usable code.
        public var plan: String
        /// The field at fault (`code`, `name`, `period_days`, ...).
        public var field: String
        /// What is wrong, e.g. `must be greater than 0 (got -5)`.
        public var problem: String

        public init(plan: String, field: String, problem: String) {
            self.plan = plan
            self.field = field
            self.problem = problem
        }

        public var description: String { "\(plan): \(field) \(problem)" }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read plan catalog \(path): \(reason)"
        case .malformed(let reason): "plan catalog is not valid: \(reason)"
        case .invalid(let issues): "plan catalog is not valid: " + issues.map(\.description).joined(separator: "; ")
        }
    }
}
