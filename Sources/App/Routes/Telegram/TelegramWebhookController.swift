import Billing
import Foundation
import HTTPTypes
import Hummingbird
import PGClient
import Telegram

/// `POST /webhooks/telegram`: secret-token check (constant time), then one update applied once by the dispatcher.
struct TelegramWebhookController: Sendable {
    static let secretHeader = RequestHeader.telegramSecretToken

    let auth: TelegramWebhookAuth
    let dispatcher: TelegramUpdateDispatcher
    let metrics: WebhookMetrics
    let pool: PGPool

    func addRoutes(to router: AppRouter) {
        router.post("/webhooks/telegram", use: receive)
    }

    @Sendable func receive(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard auth.isValid(Self.secretHeader.value(in: request.headers)) else {
            metrics.record(.rejected)
            throw ProblemError.unauthorized("missing or wrong X-Telegram-Bot-Api-Secret-Token", challenge: "Token")
        }
        let body = try await request.body.collect(upTo: HTTPLimits.maxBodyBytes)
        let data = Data(buffer: body)
        let update: TelegramUpdate
        do {
            update = try TelegramUpdate.decode(from: data)
        } catch {
            // It carries our secret token, so it is Telegram's: kept raw (dead) rather than lost — it may hold a
            // payment — and answered 200 so Telegram does not drop the next ones behind it.
            try await keepRaw(data, error: "not a Telegram update: \(error)")
            metrics.record(.failed)
            context.logger.error("authenticated body that is not a Telegram update kept as dead")
            return TelegramWebhookReply.empty.response
        }
        do {
            let reply = try await dispatcher.handle(update, raw: String(decoding: data, as: UTF8.self), logger: context.logger)
            return reply.response
        } catch let error as PGError where error.isRejectedValue {
            // A value the database cannot store as given (a \u0000 in the JSON): kept raw instead.
            try await keepRaw(data, error: "\(error)")
            metrics.record(.failed)
            context.logger.error(
                "Telegram update the database cannot store kept raw as dead", metadata: ["update_id": "\(update.updateID)"])
            return TelegramWebhookReply.empty.response
        }
    }

    /// Stores an authenticated update that cannot be applied; 503 (Telegram redelivers) only when that fails too.
    private func keepRaw(_ body: Data, error: String) async throws {
        let updateID = RawWebhookBody.integer("update_id", in: body).map { "update:\($0)" }
        do {
            try await pool.withConnection { connection in
                try await PaymentLedger.recordRaw(
                    connection, provider: .telegramStars, eventID: updateID, eventType: "undecodable_update",
                    body: body, error: error)
            }
        } catch {
            throw ProblemError.serviceUnavailable("the update could not be stored; retry later", retryAfterSeconds: 5)
        }
    }
}
