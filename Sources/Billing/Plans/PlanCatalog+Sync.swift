import PGClient

extension PlanCatalog {
    /// What a sync changed.
    public struct SyncReport: Sendable, Equatable, CustomStringConvertible {
        /// Plans that did not exist before.
        public var inserted: [String] = []
        /// Existing plans whose fields changed or that were reactivated.
        public var updated: [String] = []
        /// Plans already exactly as in the file.
        public var unchanged: [String] = []
        /// Plans missing from the file that were active and are now inactive (never deleted).
        public var deactivated: [String] = []

        public init() {}

        public var description: String {
            "inserted \(inserted.count), updated \(updated.count), unchanged \(unchanged.count), "
                + "deactivated \(deactivated.count)"
                + (deactivated.isEmpty ? "" : " (\(deactivated.joined(separator: ", ")))")
        }
    }

    /// `pg_advisory_xact_lock` key serialising catalog syncs, so instances starting together do not interleave.
    public static let syncLockKey: Int64 = 0x7465_6c65_706c_616e

    /// Writes the catalog into `plans` in one transaction: upserts every plan (reactivating it), and marks active
    /// plans missing from the catalog inactive. Rows are never deleted: entitlements reference them.
    ///
    /// A Stripe Price moved from one plan to another in the file is taken off its old plan first, so the move does
    /// not trip `plans_stripe_price_id_key`.
    /// - Parameters:
    ///   - catalog: a validated catalog.
    ///   - pool: the database pool.
    /// - Returns: which codes were inserted, updated, left unchanged and deactivated.
    @discardableResult
    public static func sync(_ catalog: PlanCatalog, pool: PGPool) async throws -> SyncReport {
        let plans = catalog.plans
        return try await pool.transaction { connection in
            try await sync(plans, connection: connection)
        }
    }

    /// The body of `sync(_:pool:)`, for callers that already hold a transaction.
    /// - Parameters:
    ///   - plans: validated plans.
    ///   - connection: a connection inside a transaction.
    public static func sync(_ plans: [Plan], connection: PGConnection) async throws -> SyncReport {
        try await connection.advisoryTransactionLock(syncLockKey)
        var report = SyncReport()
        for plan in plans {
            if let price = plan.stripePriceID {
                try await connection.execute(
                    """
                    UPDATE plans SET stripe_price_id = NULL, updated_at = now()
                    WHERE stripe_price_id = \(price) AND code <> \(plan.code)
                    """)
            }
        }
        for plan in plans {
            let result = try await connection.query(
                """
                INSERT INTO plans AS p (code, name, period_days, stripe_price_id, stars_price, recurring, active,
                                        trial_days, allow_promotion_codes, automatic_tax)
                VALUES (\(plan.code), \(plan.name), \(plan.periodDays), \(plan.stripePriceID), \(plan.starsPrice),
                        \(plan.recurring), true, \(plan.checkout.trialDays), \(plan.checkout.allowPromotionCodes),
                        \(plan.checkout.automaticTax))
                ON CONFLICT (code) DO UPDATE SET
                    name = EXCLUDED.name, period_days = EXCLUDED.period_days,
                    stripe_price_id = EXCLUDED.stripe_price_id, stars_price = EXCLUDED.stars_price,
                    recurring = EXCLUDED.recurring, active = true, trial_days = EXCLUDED.trial_days,
                    allow_promotion_codes = EXCLUDED.allow_promotion_codes, automatic_tax = EXCLUDED.automatic_tax,
                    updated_at = now()
                WHERE (p.name, p.period_days, p.stripe_price_id, p.stars_price, p.recurring, p.active, p.trial_days,
                       p.allow_promotion_codes, p.automatic_tax)
                    IS DISTINCT FROM
                    (EXCLUDED.name, EXCLUDED.period_days, EXCLUDED.stripe_price_id, EXCLUDED.stars_price,
                     EXCLUDED.recurring, true, EXCLUDED.trial_days, EXCLUDED.allow_promotion_codes,
                     EXCLUDED.automatic_tax)
                RETURNING (xmax = 0) AS inserted
                """)
            if let row = result.first {
                if try row.decode("inserted", as: Bool.self) {
                    report.inserted.append(plan.code)
                } else {
                    report.updated.append(plan.code)
                }
            } else {
                report.unchanged.append(plan.code)
            }
        }
        let codes = PGJSON(plans.map(\.code))
        let deactivated = try await connection.query(
            """
            UPDATE plans SET active = false, updated_at = now()
            WHERE active AND code NOT IN (SELECT jsonb_array_elements_text(\(codes)))
            RETURNING code
            """)
        report.deactivated = try deactivated.map { try $0.decode("code", as: String.self) }.sorted()
        return report
    }
}
