import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PGClient
import TestSupport

@testable import App

/// The real application with the Mini App on: a database of its own (plans inserted), `FakeStripe` as Stripe,
/// `FakeBotAPI` as Telegram, and `dependencies.miniApp` built as `serve` builds it.
struct MiniAppAppHarness: Sendable {
    static let jwtSecret = "miniapp-harness-jwt-secret-0123456789abcdefXYZ"
    static let publicBaseURL = "https://miniapp.example.test"
    static let jwtTTL = 900

    let client: any TestClientProtocol
    let pool: PGPool
    let stripe: FakeStripe
    let bot: FakeBotAPI
    let metrics: AppMetrics

    /// The bot token initData is signed with (the fake's).
    var botToken: String { bot.token }

    /// Runs `body` against a fresh application.
    /// - Parameter stripeConfigured: whether `STRIPE_API_KEY` is set (false: Stripe cannot sell anything).
    /// - Parameters:
    ///   - overrides: more environment for the configuration (`TRUSTED_PROXIES`, say).
    ///   - testing: `.router` (in process; no peer address) or `.live` (a real socket from 127.0.0.1).
    static func with(
        stripeConfigured: Bool = true, poolSize: Int = 10, overrides extra: [String: String] = [:],
        testing: TestingSetup = .router, _ body: @escaping @Sendable (MiniAppAppHarness) async throws -> Void
    ) async throws {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            try await insertPlans(pool)
            try await FakeStripe.with { stripe in
                try await FakeBotAPI.with { bot in
                    var overrides = [
                        "TELEGRAM_BOT_TOKEN": bot.token,
                        "TELEGRAM_API_BASE_URL": bot.baseURL,
                        "STRIPE_API_BASE_URL": stripe.baseURL,
                        "PUBLIC_BASE_URL": publicBaseURL,
                        "JWT_SECRET": jwtSecret,
                        "JWT_TTL_SECONDS": String(jwtTTL),
                        "INITDATA_MAX_AGE_SECONDS": "3600",
                    ]
                    if stripeConfigured { overrides["STRIPE_API_KEY"] = stripe.apiKey }
                    overrides.merge(extra) { _, new in new }
                    let config = try AppTestSupport.config(overrides)
                    let metrics = AppMetrics()
                    var dependencies = AppDependencies(
                        pool: pool, httpClient: .shared, logger: AppTestSupport.quietLogger, metrics: metrics)
                    dependencies.miniApp = try await MiniAppServices(config: config, dependencies: dependencies)
                    ContractMetrics.register(factory: metrics.factory, planCodes: ["premium_monthly", "boost_week", "card_year"])
                    let app = buildApplication(config: config, dependencies: dependencies, modules: AppModules.all)
                    try await app.test(testing) { client in
                        try await body(MiniAppAppHarness(client: client, pool: pool, stripe: stripe, bot: bot, metrics: metrics))
                    }
                }
            }
        }
    }

    /// premium_monthly (both providers, recurring), boost_week (Stars only), card_year (Stripe only), old_plan
    /// (inactive).
    static func insertPlans(_ pool: PGPool) async throws {
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active) VALUES
                ('premium_monthly', 'Premium, monthly', 30, 'price_premium', 250, true, true),
                ('boost_week', 'Boost week', 7, NULL, 50, false, true),
                ('card_year', 'Card year', 365, 'price_card_year', NULL, false, true),
                ('old_plan', 'Old plan', 30, 'price_old', 100, false, false)
                """)
        }
    }

    // MARK: Signing in

    /// A signed-in user: the access token and the ids the server answered.
    struct SignedIn: Sendable {
        let token: String
        let userID: Int64
        let telegramID: Int64
    }

    /// Exchanges fresh initData for `telegramID` and returns the token.
    func signIn(telegramID: Int64, username: String? = "ada", firstName: String = "Ada") async throws -> SignedIn {
        let initData = MiniAppInitData.make(
            telegramID: telegramID, username: username, firstName: firstName, token: botToken)
        let response = try await client.execute(
            uri: "/api/v1/miniapp/auth", method: .post, headers: [.authorization: "tma \(initData)"])
        guard response.status == .ok, let json = response.json, let token = json["access_token"] as? String,
            let user = json["user"] as? [String: Any], let id = (user["id"] as? NSNumber)?.int64Value
        else { throw HarnessFailure("sign-in answered \(response.status): \(response.text)") }
        return SignedIn(token: token, userID: id, telegramID: telegramID)
    }

    // MARK: Requests

    /// A request with `Authorization: Bearer <token>` (none when nil), an optional JSON body and extra headers.
    func request(
        _ method: HTTPRequest.Method, _ uri: String, token: String?, json: String? = nil, headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        if json != nil, fields[.contentType] == nil { fields[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) })
    }

    /// `POST /api/v1/billing/checkout`.
    func checkout(_ token: String, plan: String, provider: String, key: String?) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let key, let name = HTTPField.Name("Idempotency-Key") { headers[name] = key }
        return try await request(
            .post, "/api/v1/billing/checkout", token: token, json: #"{"plan":"\#(plan)","provider":"\#(provider)"}"#,
            headers: headers)
    }

    // MARK: Data

    /// Inserts an entitlement row as the billing core would leave it.
    func insertEntitlement(
        userID: Int64, plan: String, status: String, source: String, expiresIn seconds: Double
    ) async throws {
        let expires = Date().addingTimeInterval(seconds)
        _ = try await pool.withConnection { connection in
            try await connection.execute(
                """
                INSERT INTO user_entitlements (user_id, plan, status, source, starts_at, expires_at)
                VALUES (\(userID), \(plan), \(status), \(source), now() - interval '40 days', \(expires))
                """)
        }
    }

    /// Inserts an invoice and returns its id.
    @discardableResult
    func insertInvoice(
        userID: Int64, provider: String, externalID: String, status: String = "paid", amount: Int64 = 500,
        currency: String = "USD", createdAt: Date, hostedURL: String? = nil
    ) async throws -> Int64 {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                INSERT INTO invoices (provider, provider_invoice_id, user_id, plan, amount, currency, status, hosted_url,
                    created_at)
                VALUES (\(provider), \(externalID), \(userID), 'premium_monthly', \(amount), \(currency), \(status),
                    \(hostedURL), \(createdAt))
                RETURNING id
                """
            ).first?.decode("id", as: Int64.self) ?? -1
        }
    }

    /// The first column of the first row of `query` as an integer.
    func count(_ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    /// The value of one series in the app's own Prometheus registry (0 when absent).
    func metric(_ name: String, _ labels: [String: String] = [:]) throws -> Double {
        try PrometheusText(metrics.registry.emitToString()).value(name, labels) ?? 0
    }
}

/// initData signed the way Telegram signs it (`secret = HMAC_SHA256(key: "WebAppData", bot token)`, hash =
/// HMAC_SHA256(key: secret, sorted `key=value` lines without `hash`)), written independently of the server's code.
enum MiniAppInitData {
    static func make(
        telegramID: Int64, username: String? = "ada", firstName: String = "Ada", token: String,
        authDate: Date = Date()
    ) -> String {
        sign(fields(telegramID: telegramID, username: username, firstName: firstName, authDate: authDate), token: token)
    }

    /// The fields before signing (decoded values).
    static func fields(telegramID: Int64, username: String?, firstName: String, authDate: Date) -> [(String, String)] {
        var user = #"{"id":\#(telegramID),"first_name":"\#(firstName)","language_code":"en""#
        if let username { user += #","username":"\#(username)""# }
        user += "}"
        return [
            ("auth_date", String(Int64(authDate.timeIntervalSince1970))), ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", user),
        ]
    }

    /// The hash for `fields` with `token`, hex.
    static func hash(_ fields: [(String, String)], token: String) -> String {
        let secret = HMAC<SHA256>.authenticationCode(for: Data(token.utf8), using: SymmetricKey(data: Data("WebAppData".utf8)))
        let checkString = fields.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        let mac = HMAC<SHA256>.authenticationCode(for: Data(checkString.utf8), using: SymmetricKey(data: Data(secret)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Percent-encoded query string of `fields` plus their `hash`.
    static func sign(_ fields: [(String, String)], token: String) -> String {
        encode(fields + [("hash", hash(fields, token: token))])
    }

    static func encode(_ pairs: [(String, String)]) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return pairs.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
    }
}
