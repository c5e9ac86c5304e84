import PGClient
import Testing

/// One classification of database errors (`PGError+Predicates.swift`), for every caller.
@Suite struct ErrorPredicateTests {
    private static func server(_ code: String, constraint: String? = nil) -> PGError {
        PGError(kind: .server, sqlState: SQLState(code), message: "m", constraint: constraint)
    }

    @Test func aUniqueViolationIsRecognisedByItsConstraint() {
        let error = Self.server("23505", constraint: "users_pkey")
        #expect(error.isUniqueViolation())
        #expect(error.isUniqueViolation(constraint: "users_pkey"))
        #expect(!error.isUniqueViolation(constraint: "other_key"))
        #expect(!Self.server("23503", constraint: "users_pkey").isUniqueViolation())
    }

    @Test func valuesThatFailEveryTimeAreDataAndIntegrityErrorsOnly() {
        for code in ["22021", "22P02", "23505", "23503", "23514", "23502"] { #expect(Self.server(code).failsEveryTime, "\(code)") }
        for code in ["40001", "40P01", "57014", "55P03", "42P01", "08006", "57P01", "54000"] {
            #expect(!Self.server(code).failsEveryTime, "\(code)")
        }
        #expect(!PGError(kind: .connection, message: "gone").failsEveryTime)
    }

    @Test func rejectedValuesAreThoseNoRetryOrOtherRowCanFix() {
        for code in ["22021", "22001", "23514", "54000"] { #expect(Self.server(code).isRejectedValue, "\(code)") }
        for code in ["23505", "23503", "40P01", "08006", "57P01"] { #expect(!Self.server(code).isRejectedValue, "\(code)") }
    }

    @Test func unavailableAndRetryableFollowTheConnectionAndThePool() {
        #expect(PGError(kind: .connection, message: "gone").isUnavailable)
        #expect(Self.server("57P01").isUnavailable)
        #expect(PGError(kind: .checkoutTimeout, message: "t").isUnavailable)
        #expect(PGError(kind: .poolExhausted, message: "t").isUnavailable)
        #expect(!Self.server("23505").isUnavailable)
        #expect(Self.server("40P01").isRetryable)
        #expect(Self.server("40001").isRetryable)
        #expect(PGError(kind: .connection, message: "gone", safeToRetry: true).isRetryable)
        #expect(!PGError(kind: .connection, message: "gone").isRetryable)
        #expect(Self.server("42P01").isStatementError)
        #expect(!Self.server("57P01").isStatementError)
    }
}
