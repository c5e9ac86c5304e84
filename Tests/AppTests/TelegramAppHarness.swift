import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PGClient
import Telegram
import TestSupport

@testable import App

/// The real application over a database of its own (plans inserted) and a `FakeBotAPI` playing Telegram, for the
/// webhook and admin tests. Built exactly as `serve` builds it: `buildApplication` with every module.
struct TelegramAppHarness: Sendable {
    static let webhookSecret = "tg-webhook-secret_for-tests-0123456789"
    static let adminToken = "admin-token-for-tests-0123456789abcdef"
    /// Active, Stars price 50, 7 days: the plan `/buy` sells.
    static let plan = "boost_week"
    static let planPrice = 50
    static let planDays = 7

    let client: any TestClientProtocol
    let pool: PGPool
    let fake: FakeBotAPI
    let metrics: AppMetrics
    /// Signs invoice payloads with the key the app derives from the bot token.
    let signer: StarsInvoicePayloadSigner

    /// Runs `body` against a fresh application.
    /// - Parameters:
    ///   - adminToken: `ADMIN_TOKEN` (nil: the admin API is off).
    ///   - poolSize: connections of the test database's pool.
    static func with(
        adminToken: String? = TelegramAppHarness.adminToken,
        poolSize: Int = 10,
        _ body: @escaping @Sendable (TelegramAppHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            try await insertPlans(pool)
            try await FakeBotAPI.with { fake in
                var overrides = [
                    "TELEGRAM_BOT_TOKEN": fake.token,
                    "TELEGRAM_API_BASE_URL": fake.baseURL,
                    "TELEGRAM_WEBHOOK_SECRET": webhookSecret,
                ]
                if let adminToken { overrides["ADMIN_TOKEN"] = adminToken }
                let config = try AppConfig.load(from: AppTestSupport.environment(overrides))
                let metrics = AppMetrics()
                let dependencies = AppDependencies(
                    pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
                ContractMetrics.register(factory: metrics.factory, planCodes: [plan])
                let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
                let signer = StarsInvoicePayloadSigner(botToken: fake.token)
                try await app.test(.router) { client in
                    try await body(
                        TelegramAppHarness(client: client, pool: pool, fake: fake, metrics: metrics, signer: signer))
                }
            }
        }
    }

    static func insertPlans(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active) VALUES
                ('boost_week', 'Boost week', 7, NULL, 50, false, true),
                ('old_plan', 'Old plan', 30, NULL, 100, false, false),
                ('stripe_only', 'Stripe only', 30, 'price_x', NULL, true, true)
                """)
        }
    }

    // MARK: Requests

    /// `POST /webhooks/telegram` with `body` and the secret header (`secret` nil: no header).
    func postUpdate(_ body: String, secret: String? = TelegramAppHarness.webhookSecret) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let secret, let name = HTTPField.Name(TelegramWebhookAuth.headerName) { headers[name] = secret }
        return try await client.execute(
            uri: "/webhooks/telegram", method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// An admin API request (`token` nil: no `Authorization` header).
    func admin(
        _ method: HTTPRequest.Method, _ uri: String, json: String? = nil,
        token: String? = TelegramAppHarness.adminToken
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// `POST /admin/v1/telegram/refunds` for `chargeID`.
    func refund(_ chargeID: String, token: String? = TelegramAppHarness.adminToken) async throws -> TestResponse {
        try await admin(.post, "/admin/v1/telegram/refunds", json: #"{"telegram_payment_charge_id":"\#(chargeID)"}"#, token: token)
    }

    /// Delivers a successful payment of the default plan by `telegramID` and checks it was accepted.
    func pay(charge: String, updateID: Int64, telegramID: Int64 = TelegramUpdates.buyer) async throws {
        let payload = try signer.make(plan: Self.plan, telegramUserID: telegramID)
        let response = try await postUpdate(
            TelegramUpdates.successfulPayment(
                updateID: updateID, telegramID: telegramID, charge: charge, payload: payload))
        guard response.status == .ok else { throw HarnessFailure("payment update answered \(response.status)") }
    }

    // MARK: Reading state

    /// The first column of the first row of `query` as an integer.
    func count(_ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    /// The value of one series in the app's own Prometheus registry (0 when absent).
    func metric(_ name: String, _ labels: [String: String] = [:]) throws -> Double {
        try PrometheusText(metrics.registry.emitToString()).value(name, labels) ?? 0
    }

    /// `webhook_events_total{provider="telegram",outcome}`.
    func webhookCount(_ outcome: String) throws -> Double {
        try metric("webhook_events_total", ["provider": "telegram", "outcome": outcome])
    }
}

struct HarnessFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Telegram update bodies as Telegram sends them (with fields the server does not model).
enum TelegramUpdates {
    /// The default buyer's Telegram id.
    static let buyer: Int64 = 424_242
    /// Messages are dated when the test process started: a Stars payment's purchase time is its message's date.
    static let messageDate = Int64(Date().timeIntervalSince1970)

    static func user(_ id: Int64) -> String {
        #"{"id":\#(id),"is_bot":false,"first_name":"Ada","username":"ada_\#(id)","language_code":"en","added_to_attachment_menu":true}"#
    }

    static func chat(_ id: Int64) -> String { #"{"id":\#(id),"type":"private","first_name":"Ada"}"# }

    static func preCheckout(
        updateID: Int64, queryID: String = "pcq-1", telegramID: Int64 = buyer, currency: String = "XTR",
        amount: Int = TelegramAppHarness.planPrice, payload: String
    ) -> String {
        #"""
        {"update_id":\#(updateID),"pre_checkout_query":{"id":"\#(queryID)","from":\#(user(telegramID)),\#
        "currency":"\#(currency)","total_amount":\#(amount),"invoice_payload":\#(jsonString(payload))}}
        """#
    }

    static func successfulPayment(
        updateID: Int64, telegramID: Int64 = buyer, charge: String, amount: Int = TelegramAppHarness.planPrice,
        payload: String
    ) -> String {
        #"""
        {"update_id":\#(updateID),"message":{"message_id":\#(updateID),"from":\#(user(telegramID)),\#
        "chat":\#(chat(telegramID)),"date":\#(messageDate),"successful_payment":{"currency":"XTR",\#
        "total_amount":\#(amount),"invoice_payload":\#(jsonString(payload)),\#
        "telegram_payment_charge_id":"\#(charge)","provider_payment_charge_id":""}}}
        """#
    }

    static func refundedPayment(updateID: Int64, telegramID: Int64 = buyer, charge: String, payload: String = "")
        -> String
    {
        #"""
        {"update_id":\#(updateID),"message":{"message_id":\#(updateID),"from":\#(user(telegramID)),\#
        "chat":\#(chat(telegramID)),"date":\#(messageDate),"refunded_payment":{"currency":"XTR",\#
        "total_amount":\#(TelegramAppHarness.planPrice),"invoice_payload":\#(jsonString(payload)),\#
        "telegram_payment_charge_id":"\#(charge)"}}}
        """#
    }

    static func text(updateID: Int64, telegramID: Int64 = buyer, _ text: String) -> String {
        #"""
        {"update_id":\#(updateID),"message":{"message_id":\#(updateID),"from":\#(user(telegramID)),\#
        "chat":\#(chat(telegramID)),"date":\#(messageDate),"text":\#(jsonString(text)),\#
        "entities":[{"type":"bot_command","offset":0,"length":6}]}}
        """#
    }

    static func callback(updateID: Int64, queryID: String, telegramID: Int64 = buyer, data: String) -> String {
        #"""
        {"update_id":\#(updateID),"callback_query":{"id":"\#(queryID)","from":\#(user(telegramID)),\#
        "message":{"message_id":7,"chat":{"id":-1001234567890,"type":"channel","title":"News"},"date":\#(messageDate),\#
        "text":"Spring sale","reply_markup":{"inline_keyboard":[[{"text":"Buy","callback_data":"cta:buy:spring"}]]}},\#
        "chat_instance":"-5550001","data":\#(jsonString(data))}}
        """#
    }

    /// A JSON string literal.
    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }
}
