import Billing
import Foundation
import Logging
import PGClient

/// An operator's refund of a Stars payment, exactly once: claim the intent (its own transaction, keyed by the
/// charge id, so concurrent requests make one `refundStarPayment` call), call the Bot API outside any transaction,
/// then record the refund and revoke in one transaction. A failed call is recorded so a later request may retry;
/// Telegram answering `CHARGE_ALREADY_REFUNDED` means an earlier call went through, which is success.
public struct StarsAdminRefund: Sendable {
    let pool: PGPool
    let bot: BotAPIClient

    public init(pool: PGPool, bot: BotAPIClient) {
        self.pool = pool
        self.bot = bot
    }

    /// What a refund request achieved.
    public struct Outcome: Sendable, Equatable {
        /// True when the revocation had already been done (by an earlier request or a `refunded_payment` update).
        public var already: Bool
        /// The plan's entitlement status after the refund (nil when the user has no entitlement to it).
        public var entitlementStatus: String?
        /// The buyer (`users.id`), for the audit log.
        public var userID: Int64?
        /// For a payment of a Stars subscription: whether its renewal is canceled (true: now or before; false: the
        /// `editUserStarSubscription` call failed, and repeating the request tries again). nil for one-time payments.
        public var renewalCanceled: Bool?
    }

    /// Refunds `chargeID`.
    /// - Parameters:
    ///   - chargeID: The payment's `telegram_payment_charge_id`.
    ///   - requestedBy: Who asked (stored with the intent).
    ///   - logger: The request's logger.
    /// - Throws: `StarsAdminRefundError` for the answers that are not a refund; database errors as they are.
    public func refund(chargeID: String, requestedBy: String, logger: Logger) async throws -> Outcome {
        let claim = try await pool.transaction { tx in
            try await StarsRefundIntents.claim(tx, chargeID: chargeID, requestedBy: requestedBy)
        }
        switch claim {
        case .unknownCharge:
            throw StarsAdminRefundError.unknownCharge
        case .inProgress:
            throw StarsAdminRefundError.inProgress
        case .alreadyRefunded:
            let current = try await pool.withConnection { try await Self.current($0, chargeID: chargeID) }
            var outcome = Outcome(already: true, entitlementStatus: current.status, userID: current.userID)
            outcome.renewalCanceled = await cancelRenewal(chargeID: chargeID, logger: logger)
            return outcome
        case .callProvider(let userID, let telegramUserID):
            try await callProvider(chargeID: chargeID, telegramUserID: telegramUserID, logger: logger)
            var outcome = try await record(chargeID: chargeID, userID: userID, requestedBy: requestedBy, logger: logger)
            outcome.renewalCanceled = await cancelRenewal(chargeID: chargeID, logger: logger)
            return outcome
        }
    }

    /// A refunded payment of a Stars subscription also ends its renewal, so the buyer is not charged again.
    /// - Returns: nil for a one-time payment, else whether the renewal is canceled now (false: repeat the request).
    private func cancelRenewal(chargeID: String, logger: Logger) async -> Bool? {
        await StarsRenewalCanceler(pool: pool, bot: bot).cancelAfterRefund(chargeID: chargeID, logger: logger)
    }

    /// The one `refundStarPayment` call of this intent. Any failure (cancellation included) releases the intent.
    private func callProvider(chargeID: String, telegramUserID: Int64, logger: Logger) async throws {
        do {
            try await bot.refundStarPayment(
                RefundStarPaymentRequest(userID: telegramUserID, telegramPaymentChargeID: chargeID))
        } catch let error as BotAPIError where error.descriptionContains("CHARGE_ALREADY_REFUNDED") {
            logger.notice("Telegram says the charge was already refunded; recording the refund")
        } catch let error as BotAPIError {
            await release(chargeID: chargeID, error: error.description, logger: logger)
            throw StarsAdminRefundError.provider(error)
        } catch {
            await release(chargeID: chargeID, error: "refund call did not complete: \(type(of: error))", logger: logger)
            throw error
        }
    }

    /// Ledger row, invoice and revocation in one transaction, after Telegram refunded.
    private func record(chargeID: String, userID: Int64, requestedBy: String, logger: Logger) async throws -> Outcome {
        let raw = Self.rawJSON(chargeID: chargeID, requestedBy: requestedBy)
        do {
            let (outcome, current) = try await pool.transaction { tx in
                let outcome = try await StarsLedger.applyRefund(tx, chargeID: chargeID, actor: .admin, rawJSON: raw)
                return (outcome, try await Self.current(tx, chargeID: chargeID))
            }
            return Outcome(already: outcome == .duplicate, entitlementStatus: current.status, userID: userID)
        } catch {
            // Telegram has refunded, our books do not say so yet: release the intent, so the next request calls
            // again (Telegram answers CHARGE_ALREADY_REFUNDED) and records the refund.
            logger.error(
                "Stars refund done at Telegram but not recorded; a new request will record it",
                metadata: ["charge_id": "\(chargeID)", "error": "\(error)"])
            await release(chargeID: chargeID, error: "refunded at Telegram; recording failed", logger: logger)
            throw error
        }
    }

    /// Marks the intent failed, even when the request's task is being cancelled (a new task does not inherit it).
    private func release(chargeID: String, error: String, logger: Logger) async {
        let pool = self.pool
        let released = await Task {
            try await pool.transaction { tx in try await StarsRefundIntents.markFailed(tx, chargeID: chargeID, error: error) }
        }.result
        if case .failure(let failure) = released {
            logger.error(
                "could not release the Stars refund intent", metadata: ["charge_id": "\(chargeID)", "error": "\(failure)"])
        }
    }

    /// The buyer and the entitlement status of the plan the charge paid for.
    static func current(_ connection: PGConnection, chargeID: String) async throws -> (userID: Int64?, status: String?) {
        guard let invoice = try await InvoiceStore.find(connection, provider: .telegramStars, providerInvoiceID: chargeID)
        else { return (nil, nil) }
        guard let plan = invoice.plan else { return (invoice.userID, nil) }
        let entitlement = try await EntitlementStore.find(connection, userID: invoice.userID, plan: plan)
        return (invoice.userID, entitlement?.status.rawValue)
    }

    /// What the ledger keeps as the refund event's payload.
    static func rawJSON(chargeID: String, requestedBy: String) -> String {
        let object = ["source": "admin", "telegram_payment_charge_id": chargeID, "requested_by": requestedBy]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Refund requests that end without a refund.
public enum StarsAdminRefundError: Error, Sendable {
    /// No Stars payment with this charge id.
    case unknownCharge
    /// Another request is refunding this charge right now.
    case inProgress
    /// The Bot API refused or failed (after the client's retries).
    case provider(BotAPIError)
}
