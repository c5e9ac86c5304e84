import Billing
import Crypto
import Foundation
import Logging
import PGClient
import Support
import Telegram

/// Starts a purchase for a Mini App user: a Stripe Checkout Session or a Telegram Stars invoice link, at most once
/// per `Idempotency-Key` (the same key and body replay the stored answer without calling the provider again).
public struct CheckoutService: Sendable {
    public struct Result: Codable, Sendable, Equatable {
        public var provider: String
        public var url: String
    }

    let pool: PGPool
    let stripe: StripeClient?
    let bot: BotAPIClient
    let signer: StarsInvoicePayloadSigner
    let logger: Logger
    /// `subscription_period` of Stars subscription links (`STARS_SUBSCRIPTION_PERIOD_SECONDS`).
    let starsSubscriptionPeriod: Int

    /// - Parameters:
    ///   - stripe: nil when `STRIPE_API_KEY` is unset (Stripe plans are then not sellable).
    ///   - bot: the Bot API client (`createInvoiceLink`).
    ///   - signer: signs the Stars invoice payload (plan and buyer).
    ///   - starsSubscriptionPeriod: seconds between charges of a Stars subscription (one of
    ///     `TelegramStars.allowedSubscriptionPeriods`).
    public init(
        pool: PGPool, stripe: StripeClient?, bot: BotAPIClient, signer: StarsInvoicePayloadSigner, logger: Logger,
        starsSubscriptionPeriod: Int = TelegramStars.subscriptionPeriod
    ) {
        self.starsSubscriptionPeriod = starsSubscriptionPeriod
        self.pool = pool
        self.stripe = stripe
        self.bot = bot
        self.signer = signer
        self.logger = logger
    }

    /// - Returns: the answer, and whether it was replayed from an earlier request with the same key.
    public func checkout(
        userID: Int64, telegramID: Int64, plan planCode: String, provider: PaymentProvider, idempotencyKey: String?
    ) async throws -> (result: Result, replayed: Bool) {
        guard let key = idempotencyKey, (1...255).contains(key.count) else { throw CheckoutError.invalidIdempotencyKey }
        let hash = Self.requestHash(plan: planCode, provider: provider)
        let hasStripe = stripe != nil
        let (plan, decision) = try await pool.transaction { tx -> (Plan, IdempotencyDecision) in
            guard let plan = try await PlanStore.plan(tx, code: planCode), plan.active else {
                throw CheckoutError.unknownPlan(planCode)
            }
            switch provider {
            case .stripe where plan.stripePriceID == nil || !hasStripe,
                .telegramStars where plan.starsPrice == nil:
                throw CheckoutError.notSellable(plan: planCode, provider: provider)
            default: break
            }
            // One subscription per plan and provider: a second one would charge twice for the same access.
            if plan.recurring,
                try await GrantStore.holdsSubscription(tx, userID: userID, plan: plan.code, source: EntitlementSource(provider))
            {
                throw CheckoutError.alreadySubscribed(plan: planCode, provider: provider)
            }
            do {
                return (
                    plan,
                    try await IdempotencyStore.begin(
                        tx, userID: userID, key: key, path: "POST /api/v1/billing/checkout", requestHash: hash)
                )
            } catch IdempotencyConflict.keyReused {
                throw CheckoutError.idempotencyKeyReused
            } catch IdempotencyConflict.inFlight {
                throw CheckoutError.inFlight
            }
        }
        switch decision {
        case .replay(let body):
            return (try JSONDecoder().decode(Result.self, from: Data(body.utf8)), true)
        case .proceed(let recordID):
            let result: Result
            do {
                result = try await start(plan: plan, provider: provider, userID: userID, telegramID: telegramID, key: key)
            } catch {
                logger.warning(
                    "checkout provider call failed",
                    metadata: ["provider": "\(provider.rawValue)", "plan": "\(planCode)", "error": "\(error)"])
                try? await pool.withConnection { try await IdempotencyStore.release($0, recordID: recordID) }
                throw CheckoutError.providerFailed(provider)
            }
            let body = String(decoding: try JSONEncoder().encode(result), as: UTF8.self)
            try await pool.withConnection { try await IdempotencyStore.finish($0, recordID: recordID, status: 200, body: body) }
            return (result, false)
        }
    }

    /// The Stripe billing portal for the user's customer.
    public func portalURL(userID: Int64) async throws -> String {
        guard let stripe else { throw CheckoutError.noStripeCustomer }
        guard let customer = try await pool.withConnection({ try await StripeCustomerStore.customerID($0, userID: userID) })
        else { throw CheckoutError.noStripeCustomer }
        do {
            return try await stripe.createBillingPortalSession(customer: customer).url
        } catch {
            logger.warning("billing portal session failed", metadata: ["error": "\(error)"])
            throw CheckoutError.providerFailed(.stripe)
        }
    }

    private func start(plan: Plan, provider: PaymentProvider, userID: Int64, telegramID: Int64, key: String)
        async throws -> Result
    {
        switch provider {
        case .stripe:
            guard let stripe, let priceID = plan.stripePriceID else {
                throw CheckoutError.notSellable(plan: plan.code, provider: provider)
            }
            let customer = try await ensureCustomer(stripe, userID: userID, telegramID: telegramID)
            // Derived from our key, so a retry after a crash gets Stripe's stored session back.
            let stripeKey = "checkout-\(userID)-" + Self.digest(key)
            let session = try await stripe.createCheckoutSession(
                userID: userID, plan: plan.code, priceID: priceID, mode: plan.recurring ? .subscription : .payment,
                customer: customer, options: plan.checkout, idempotencyKey: stripeKey)
            return Result(provider: provider.rawValue, url: session.url)
        case .telegramStars:
            guard let price = plan.starsPrice else { throw CheckoutError.notSellable(plan: plan.code, provider: provider) }
            let payload = try signer.make(plan: plan.code, telegramUserID: telegramID)
            let link = try await bot.createInvoiceLink(
                .stars(
                    title: plan.name, description: "\(plan.name): \(plan.periodDays) days of access.", payload: payload,
                    amount: price, recurring: plan.recurring, subscriptionPeriod: starsSubscriptionPeriod))
            return Result(provider: provider.rawValue, url: link)
        }
    }

    /// The user's Stripe customer, created once (Stripe idempotency key per user, then a UNIQUE link row).
    private func ensureCustomer(_ stripe: StripeClient, userID: Int64, telegramID: Int64) async throws -> String {
        if let existing = try await pool.withConnection({ try await StripeCustomerStore.customerID($0, userID: userID) }) {
            return existing
        }
        let customer = try await stripe.createCustomer(
            metadata: ["user_id": String(userID), "telegram_id": String(telegramID)],
            idempotencyKey: "customer-\(userID)")
        return try await pool.withConnection {
            try await StripeCustomerStore.link($0, userID: userID, customerID: customer.id)
        }
    }

    static func requestHash(plan: String, provider: PaymentProvider) -> String {
        digest("plan=\(plan)\nprovider=\(provider.rawValue)")
    }

    static func digest(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }
}
