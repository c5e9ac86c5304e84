import Billing
import CoreMetrics
import Foundation
import Logging
import PGClient
import Synchronization
import Telegram
import TestSupport

/// A database of its own with a Stripe subscription plan and a Stars one-time plan, a `FakeBotAPI`, the Stripe
/// processor and a `NotificationSender` whose retries are due at once, for the messages-to-subscribers tests.
struct SubscriberMessageHarness: Sendable {
    static let stripePlan = "premium_monthly"
    static let starsPlan = "boost_week"
    static let miniAppURL = "https://app.example.com/miniapp/"
    static let portalURL = "https://billing.stripe.com/p/session/test_portal"
    static let telegramID: Int64 = 5150

    let pool: PGPool
    let fake: FakeBotAPI
    let metrics: CountingMetrics
    let sender: NotificationSender
    let stripe: StripeWebhookProcessor
    let userID: Int64

    static func with(poolSize: Int = 6, _ body: @escaping @Sendable (SubscriberMessageHarness) async throws -> Void)
        async throws
    {
        try await TestDatabase.with(poolSize: poolSize) { _, pool in
            let userID = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO plans (code, name, period_days, stripe_price_id, stars_price, recurring, active) VALUES
                    ('premium_monthly', 'Premium, monthly', 30, 'price_123', NULL, true, true),
                    ('boost_week', 'Boost week', 7, NULL, 50, false, true)
                    """)
                return try await UserStore.upsert(
                    connection, profile: TelegramProfile(telegramID: telegramID, username: "sub", firstName: "Sub")
                ).id
            }
            try await FakeBotAPI.with { fake in
                let metrics = CountingMetrics()
                var logger = Logger(label: "telebot.test.messages")
                logger.logLevel = .critical
                let sender = NotificationSender(
                    pool: pool, bot: fake.client(retry: .fast), retryBase: .zero, miniAppURL: miniAppURL,
                    portalLink: { _ in portalURL }, metrics: NotificationMetrics(factory: metrics), logger: logger)
                let stripe = StripeWebhookProcessor(pool: pool, logger: logger, retryBase: .milliseconds(1))
                try await body(
                    SubscriberMessageHarness(
                        pool: pool, fake: fake, metrics: metrics, sender: sender, stripe: stripe, userID: userID))
            }
        }
    }

    /// Delivers a Stripe event to the processor (as the webhook route does after the signature check).
    @discardableResult
    func deliver(_ body: Data) async throws -> StripeWebhookProcessor.Outcome {
        try await stripe.receive(try StripeEvent(decoding: body), rawBody: String(decoding: body, as: UTF8.self))
    }

    /// A Stars payment of the one-time plan by the harness's user.
    func starsPayment(_ charge: String, paidAt: Date = Date(), expiration: Date? = nil, firstCharge: String? = nil)
        -> StarsPayment
    {
        StarsPayment(
            profile: TelegramProfile(telegramID: Self.telegramID, username: "sub", firstName: "Sub"), chargeID: charge,
            currency: "XTR", totalAmount: 50, plan: Self.starsPlan, subscriptionExpiration: expiration,
            rawJSON: #"{"telegram_payment_charge_id":"\#(charge)"}"#, paidAt: paidAt, invoicePayload: "payload-1",
            subscriptionFirstChargeID: firstCharge)
    }

    func pay(_ payment: StarsPayment) async throws -> StarsLedgerOutcome {
        try await pool.transaction { try await StarsLedger.applyPayment($0, payment) }
    }

    /// Sends everything due, until nothing is left that is due now.
    @discardableResult
    func drain() async -> Int {
        var total = 0
        while true {
            let sent = await sender.sendDue()
            total += sent
            if sent == 0 { return total }
        }
    }

    /// Successful `sendMessage` calls.
    var delivered: [FakeBotAPI.Call] { fake.calls("sendMessage").filter { $0.status == 200 } }

    func count(_ query: PGQuery) async throws -> Int {
        try await pool.withConnection { try await $0.query(query).first?.decode(at: 0, as: Int.self) ?? -1 }
    }

    /// `notifications_sent_total{kind,result}`.
    func sentMetric(_ kind: NoticeKind, _ result: String) -> Int64 {
        metrics.value("notifications_sent_total", ["kind": kind.rawValue, "result": result])
    }
}

extension FakeBotAPI.Call {
    /// The only button's `web_app.url`, if that is what it is.
    var webAppURL: String? { body["reply_markup"]?["inline_keyboard"]?[0]?[0]?["web_app"]?["url"]?.string }
    /// The only button's `url`.
    var buttonURL: String? { body["reply_markup"]?["inline_keyboard"]?[0]?[0]?["url"]?.string }
    var text: String { body["text"]?.string ?? "" }
}

/// Counts increments per label and dimensions, without touching the process-wide metrics system.
final class CountingMetrics: MetricsFactory {
    let counts = Mutex<[String: Int64]>([:])

    func value(_ label: String, _ dimensions: [String: String]) -> Int64 {
        counts.withLock { $0[Self.key(label, dimensions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })] ?? 0 }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + "{" + dimensions.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    final class Handler: CounterHandler, TimerHandler, RecorderHandler {
        let key: String
        let owner: CountingMetrics
        init(_ key: String, _ owner: CountingMetrics) {
            self.key = key
            self.owner = owner
        }
        func increment(by amount: Int64) { owner.counts.withLock { $0[key, default: 0] += amount } }
        func reset() { owner.counts.withLock { $0[key] = 0 } }
        func recordNanoseconds(_ duration: Int64) {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(Self.key(label, dimensions), self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(Self.key(label, dimensions), self)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(Self.key(label, dimensions), self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
