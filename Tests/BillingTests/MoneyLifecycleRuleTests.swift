import AsyncHTTPClient
import Billing
import Foundation
import Logging
import MetricsTestKit
import PGClient
import TestSupport
import Testing

/// The money lifecycle rules one by one, through the real Stripe processor and a real database. Each test names its
/// rule (docs/api.md, "Money lifecycle").
@Suite struct MoneyLifecycleRuleTests {
    typealias S = StripeProcessing
    /// One "now" for the whole suite, so times computed at different moments of a test agree to the second.
    static let now = FakeStripe.nowSeconds()
    static let yearly = "pro_yearly"
    static let yearlyPrice = "price_pro_yearly"

    static func invoiceBody(
        type: String = "invoice.paid", eventID: String = FakeStripe.newID("evt"), invoiceID: String,
        subscription: String, user: Int64, plan: String? = nil, price: String = S.price, start: Int64, end: Int64,
        paymentIntent: String? = nil, charge: String? = nil, status: String = "paid", shape: FakeStripe.APIShape = .classic
    ) -> Data {
        var object = FakeStripe.invoiceObject(
            invoiceID: invoiceID, customer: "cus_rules", subscription: subscription, userID: user, plan: plan,
            priceID: price, periodStart: start, periodEnd: end, status: status, created: start, shape: shape)
        if let paymentIntent { object["payment_intent"] = paymentIntent }
        if let charge { object["charge"] = charge }
        return FakeStripe.event(id: eventID, type: type, created: start + 10, apiVersion: shape.apiVersion, object: object)
    }

    static func refundBody(charge: String, paymentIntent: String?, invoice: String?, shape: FakeStripe.APIShape = .classic)
        -> Data
    {
        FakeStripe.chargeRefunded(
            chargeID: charge, customer: nil, invoice: invoice, paymentIntent: paymentIntent, userID: nil, plan: nil,
            shape: shape)
    }

    static func disputeBody(type: String, id: String, charge: String, paymentIntent: String?, status: String) -> Data {
        FakeStripe.event(
            type: type,
            object: [
                "id": id, "object": "dispute", "charge": charge, "payment_intent": paymentIntent ?? NSNull(),
                "status": status, "amount": 999, "currency": "usd",
            ])
    }

    static func reading(_ pool: PGPool, user: Int64, plan: String = S.plan) async throws -> (String, Int64)? {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT status, extract(epoch FROM expires_at)::bigint AS expires FROM user_entitlements
                WHERE user_id = \(user) AND plan = \(plan)
                """
            ).first.map { (try $0.decode("status", as: String.self), try $0.decode("expires", as: Int64.self)) }
        }
    }

    // MARK: Rule 3: refunds are final in any delivery order

    @Test func rule3ARefundBeforeItsPaymentIsRememberedAndThePaymentGrantsNothing() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let (invoice, charge, intent) = (FakeStripe.newID("in"), FakeStripe.newID("ch"), FakeStripe.newID("pi"))
            #expect(try await S.receive(processor, Self.refundBody(charge: charge, paymentIntent: intent, invoice: invoice)) == .processed)
            #expect(try await Self.reading(pool, user: user) == nil)
            for type in ["invoice.paid", "invoice.payment_succeeded"] {
                _ = try await S.receive(
                    processor,
                    Self.invoiceBody(
                        type: type, invoiceID: invoice, subscription: "sub_r3", user: user, start: Self.now - S.days(1),
                        end: Self.now + S.days(29), paymentIntent: intent, charge: charge))
            }
            #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
            #expect(try await S.text(pool, "SELECT state FROM entitlement_grants WHERE user_id = \(user)") == "refunded")
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants") == 1)
            // The invoice, created after its refund, says refunded too.
            #expect(try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(invoice)") == "refunded")
        }
    }

    @Test func rule3APaymentEventAfterTheRefundNeverRestoresIt() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let (invoice, charge) = (FakeStripe.newID("in"), FakeStripe.newID("ch"))
            let paid = Self.invoiceBody(
                invoiceID: invoice, subscription: "sub_r3b", user: user, start: Self.now - S.days(1), end: Self.now + S.days(29),
                charge: charge)
            #expect(try await S.receive(processor, paid) == .processed)
            #expect(try await Self.reading(pool, user: user)?.0 == "active")
            _ = try await S.receive(processor, Self.refundBody(charge: charge, paymentIntent: nil, invoice: invoice))
            #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
            // The other event type, and a retry of the same one (a new event id), for the same invoice.
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    type: "invoice.payment_succeeded", invoiceID: invoice, subscription: "sub_r3b", user: user,
                    start: Self.now - S.days(1), end: Self.now + S.days(29), charge: charge))
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: invoice, subscription: "sub_r3b", user: user, start: Self.now - S.days(1), end: Self.now + S.days(29)))
            #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
            #expect(try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(invoice)") == "refunded")
        }
    }

    @Test func rule3ARefundAndItsPaymentAtOnceTwentyTimesEndRefundedWithOneGrant() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await S.plans(pool)
            let processor = S.processor(pool)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<20 {
                    group.addTask {
                        let user = try await BillingFixtures.user(pool, telegramID: 50_000 + Int64(round))
                        let (invoice, charge) = (FakeStripe.newID("in"), FakeStripe.newID("ch"))
                        let paid = Self.invoiceBody(
                            invoiceID: invoice, subscription: "sub_race\(round)", user: user, start: Self.now - S.days(1),
                            end: Self.now + S.days(29), charge: charge)
                        let refund = Self.refundBody(charge: charge, paymentIntent: nil, invoice: invoice)
                        async let first = S.receive(processor, paid)
                        async let second = S.receive(processor, refund)
                        _ = try await (first, second)
                        let reading = try await Self.reading(pool, user: user)
                        #expect(reading?.0 == "revoked", "round \(round): \(String(describing: reading))")
                        let grants = try await BillingFixtures.count(
                            pool, "SELECT count(*) FROM entitlement_grants WHERE user_id = \(user) AND state = 'refunded'")
                        #expect(grants == 1, "round \(round)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants") == 20)
        }
    }

    // MARK: Rule 4: refunds are matched on every API version

    @Test func rule4ACurrentAPIRefundIsMatchedThroughTheInvoiceStripeNamesForItsPaymentIntent() async throws {
        try await FakeStripe.with { stripe in
            try await TestDatabase.with(poolSize: 4) { _, pool in
                try await S.plans(pool)
                let user = try await BillingFixtures.user(pool)
                let client = StripeClient(
                    configuration: StripeClientConfiguration(
                        apiKey: stripe.apiKey, apiBaseURL: stripe.baseURL, publicBaseURL: "http://127.0.0.1"),
                    httpClient: HTTPClient.shared, logger: Logger(label: "rule4"))
                var logger = Logger(label: "rule4")
                logger.logLevel = .critical
                let processor = StripeWebhookProcessor(
                    pool: pool, logger: logger, retryBase: .milliseconds(1), maxAttempts: 3,
                    invoiceLookup: { try await client.invoiceID(forPaymentIntent: $0) })
                let (invoice, charge, intent) = (FakeStripe.newID("in"), FakeStripe.newID("ch"), FakeStripe.newID("pi"))
                stripe.stub(
                    path: "/v1/invoice_payments",
                    json: FakeStripe.json([
                        "object": "list", "has_more": false,
                        "data": [["id": "inpay_1", "object": "invoice_payment", "invoice": invoice]],
                    ]))
                // The current shape: the invoice carries no payment intent, the charge no invoice.
                let paid = Self.invoiceBody(
                    invoiceID: invoice, subscription: "sub_r4", user: user, start: Self.now - S.days(1),
                    end: Self.now + S.days(29), shape: .current)
                #expect(try await S.receive(processor, paid) == .processed)
                let refund = Self.refundBody(charge: charge, paymentIntent: intent, invoice: nil, shape: .current)
                #expect(try await S.receive(processor, refund) == .processed)
                #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
                #expect(stripe.requests(path: "/v1/invoice_payments").count == 1)
                #expect(try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(invoice)") == "refunded")
            }
        }
    }

    // MARK: Disputes

    @Test func rule3ADisputeSuspendsAWonOneRestoresALostOneEnds() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let (invoice, charge) = (FakeStripe.newID("in"), FakeStripe.newID("ch"))
            let end = Self.now + S.days(29)
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: invoice, subscription: "sub_d", user: user, start: Self.now - S.days(1), end: end, charge: charge))
            _ = try await S.receive(
                processor,
                Self.disputeBody(type: "charge.dispute.created", id: "dp_1", charge: charge, paymentIntent: nil, status: "needs_response"))
            #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
            _ = try await S.receive(
                processor, Self.disputeBody(type: "charge.dispute.closed", id: "dp_1", charge: charge, paymentIntent: nil, status: "won"))
            #expect(try await Self.reading(pool, user: user)?.0 == "active")
            #expect(try await Self.reading(pool, user: user)?.1 == end)
            // A late `created` of a closed dispute does not suspend again.
            _ = try await S.receive(
                processor,
                Self.disputeBody(type: "charge.dispute.created", id: "dp_1", charge: charge, paymentIntent: nil, status: "needs_response"))
            #expect(try await Self.reading(pool, user: user)?.0 == "active")
            // Another dispute of the same charge, lost: the access ends for good.
            _ = try await S.receive(
                processor, Self.disputeBody(type: "charge.dispute.closed", id: "dp_2", charge: charge, paymentIntent: nil, status: "lost"))
            #expect(try await Self.reading(pool, user: user)?.0 == "revoked")
            #expect(try await S.text(pool, "SELECT state FROM entitlement_grants WHERE user_id = \(user)") == "charged_back")
        }
    }

    // MARK: Rule 5: the plan is the price

    @Test func rule5TheInvoicesPriceDecidesThePlanNotTheCheckoutMetadata() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            try await BillingFixtures.plan(pool, code: Self.yearly, days: 365, stars: nil, stripePrice: Self.yearlyPrice)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let end = Self.now + S.days(365)
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: FakeStripe.newID("in"), subscription: "sub_p5", user: user, plan: S.plan,
                    price: Self.yearlyPrice, start: Self.now, end: end))
            #expect(try await Self.reading(pool, user: user, plan: Self.yearly)?.1 == end)
            #expect(try await Self.reading(pool, user: user, plan: S.plan) == nil)
        }
    }

    @Test func rule5APlanSwitchEndsTheOldPlanAtTheChangeAndStartsTheNewOne() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            try await BillingFixtures.plan(pool, code: Self.yearly, days: 365, stars: nil, stripePrice: Self.yearlyPrice)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let periodEnd = Self.now + S.days(29)
            _ = try await S.receive(
                processor,
                FakeStripe.subscriptionEvent(
                    type: "customer.subscription.created", created: Self.now - S.days(1), subscriptionID: subscription,
                    customer: "cus_rules", userID: user, plan: nil, priceID: S.price, currentPeriodEnd: periodEnd))
            _ = try await S.receive(
                processor,
                Self.invoiceBody(
                    invoiceID: FakeStripe.newID("in"), subscription: subscription, user: user, start: Self.now - S.days(1),
                    end: periodEnd))
            let change = Self.now - 60
            _ = try await S.receive(
                processor,
                FakeStripe.subscriptionUpdated(
                    created: change, subscriptionID: subscription, customer: "cus_rules", userID: user, plan: S.plan,
                    priceID: Self.yearlyPrice, currentPeriodEnd: periodEnd))
            #expect(try await Self.reading(pool, user: user, plan: S.plan)?.0 == "canceled")
            #expect(try await Self.reading(pool, user: user, plan: S.plan)?.1 == change)
            #expect(try await Self.reading(pool, user: user, plan: Self.yearly)?.0 == "active")
            #expect(try await Self.reading(pool, user: user, plan: Self.yearly)?.1 == periodEnd)
        }
    }

    // MARK: Rule 7: counted once
}
