import Billing
import Foundation
import Logging
import PGClient

/// Stars payments: pre-checkout answers, successful payments and refunds, each applied once with its `update_id`.
extension TelegramUpdateDispatcher {
    func preCheckout(_ update: TelegramUpdate, _ query: PreCheckoutQuery) async throws -> TelegramWebhookReply {
        let plan = try? signer.verify(
            query.invoicePayload, expectedTelegramUserID: query.from.id, maxAge: invoiceMaxAge
        ).plan
        let currency = query.currency
        let amount = Int64(query.totalAmount)
        let updateID = update.updateID
        let (claimed, decision) = try await pool.transaction { tx in
            let claimed = try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "pre_checkout_query")
            return (claimed, try await PreCheckoutRules.decide(tx, plan: plan, currency: currency, totalAmount: amount))
        }
        webhookMetrics.record(claimed ? .processed : .duplicate)
        // Answer even a redelivered query: the answer has no effect of its own and Telegram is still waiting.
        return .answerPreCheckout(
            AnswerPreCheckoutQueryRequest(
                preCheckoutQueryID: query.id, ok: decision.ok, errorMessage: decision.ok ? nil : decision.errorMessage))
    }

    func successfulPayment(
        _ update: TelegramUpdate, _ message: TelegramMessage, _ payment: SuccessfulPayment, raw: String, logger: Logger
    ) async throws {
        var logger = logger
        logger[metadataKey: "charge_id"] = "\(payment.telegramPaymentChargeID)"
        guard let stars = try await StarsPaymentResolver(pool: pool, signer: signer).resolve(message, payment, raw: raw)
        else {
            // Money was taken but we cannot tell for what: keep it in the ledger as dead for an operator, who can
            // retry it (`POST /admin/v1/payment-events/{id}/retry`) once the cause is fixed.
            guard
                try await recordUnapplied(
                    update, chargeID: payment.telegramPaymentChargeID, raw: raw,
                    error: "invoice payload failed verification")
            else { return webhookMetrics.record(.duplicate) }
            logger.error("Stars payment with an unverifiable invoice payload; recorded as dead for review")
            paymentMetrics.failed.increment()
            webhookMetrics.record(.failed)
            return
        }
        let updateID = update.updateID
        do {
            let outcome = try await pool.transaction { tx -> StarsLedgerOutcome in
                guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "successful_payment") else {
                    return .duplicate
                }
                return try await StarsLedger.applyPayment(tx, stars)
            }
            switch outcome {
            case .applied(let state):
                paymentMetrics.paid(amount: stars.totalAmount, currency: stars.currency)
                webhookMetrics.record(.processed)
                logger.info(
                    "Stars payment applied",
                    metadata: [
                        "plan": "\(stars.plan)", "status": "\(state.status.rawValue)",
                        "expires_at": "\(state.expiresAt.ISO8601Format())",
                    ])
            case .duplicate:
                webhookMetrics.record(.duplicate)
            case .recordedWithoutEffect:
                webhookMetrics.record(.ignored)
            }
        } catch let error as PGError where !error.failsEveryTime {
            // Only database failures that would happen again on every delivery (invalid data, a broken constraint)
            // make the payment dead, for an operator; everything else (lost connection, pool timeout, shutdown,
            // statement or lock timeout) is thrown so that Telegram retries.
            throw error  // 5xx: Telegram delivers the update again later.
        } catch {
            guard try await recordUnapplied(update, chargeID: stars.chargeID, raw: raw, error: "\(error)") else {
                return webhookMetrics.record(.duplicate)
            }
            logger.error("Stars payment could not be applied; recorded as dead for review", metadata: ["error": "\(error)"])
            paymentMetrics.failed.increment()
            webhookMetrics.record(.failed)
        }
    }

    func refunded(_ update: TelegramUpdate, _ refund: RefundedPayment, raw: String, logger: Logger) async throws {
        let chargeID = refund.telegramPaymentChargeID
        let updateID = update.updateID
        let (claimed, outcome) = try await pool.transaction { tx -> (Bool, StarsLedgerOutcome) in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "refunded_payment") else {
                return (false, .duplicate)
            }
            return (true, try await StarsLedger.applyRefund(tx, chargeID: chargeID, actor: .telegramStars, rawJSON: raw))
        }
        switch outcome {
        case .applied:
            webhookMetrics.record(.processed)
            logger.info("Stars refund applied", metadata: ["charge_id": "\(chargeID)"])
        case .duplicate: webhookMetrics.record(.duplicate)
        case .recordedWithoutEffect: webhookMetrics.record(.ignored)
        }
        // A refunded subscription charge also ends the renewal, as an operator's refund does (once: a canceled
        // subscription is not called again). After the commit; a redelivered update does not call again.
        guard claimed else { return }
        _ = await StarsRenewalCanceler(pool: pool, bot: bot, retry: Self.replyRetry)
            .cancelAfterRefund(chargeID: chargeID, logger: logger)
    }

    /// Keeps a payment we could not apply in the ledger (`dead`, with the reason) instead of losing it.
    /// - Returns: false when the update had already been handled (a concurrent or repeated delivery): nothing written.
    func recordUnapplied(_ update: TelegramUpdate, chargeID: String, raw: String, error: String) async throws
        -> Bool
    {
        let updateID = update.updateID
        return try await pool.transaction { tx -> Bool in
            guard try await TelegramUpdateLog.claim(tx, updateID: updateID, kind: "successful_payment") else { return false }
            if let id = try await PaymentLedger.recordFailure(
                tx, provider: .telegramStars, eventID: chargeID, eventType: "successful_payment",
                payload: PGRawJSON(raw), eventCreated: nil, error: error, retryIn: .seconds(3600))
            {
                try await PaymentLedger.setStatus(tx, id: id, status: .dead)
            }
            return true
        }
    }
}
