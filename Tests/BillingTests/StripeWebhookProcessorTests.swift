import Billing
import Foundation
import Logging
import PGClient
import TestSupport
import Testing

@Suite struct StripeWebhookProcessorTests {
    typealias S = StripeProcessing

    @Test func fiftyConcurrentDeliveriesOfOneEventApplyItOnce() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let body = FakeStripe.invoicePaid(
                userID: user, plan: S.plan, periodStart: S.now, periodEnd: S.now + S.days(30))
            let outcomes = try await withThrowingTaskGroup(of: StripeWebhookProcessor.Outcome.self) { group in
                for _ in 0..<50 { group.addTask { try await S.receive(processor, body) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == .processed }.count == 1)
            #expect(outcomes.filter { $0 == .duplicate }.count == 49)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes") == 1)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM invoices") == 1)
            #expect(try await S.entitlement(pool, user: user)?.status == .active)
        }
    }

    @Test func fiftyDifferentPaidInvoicesAtOnceLeaveTheLatestPeriodEnd() async throws {
        try await TestDatabase.with(poolSize: 10) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let base = S.now
            let ends = (1...50).map { base + S.days(Int64($0)) }.shuffled()
            let outcomes = try await withThrowingTaskGroup(of: StripeWebhookProcessor.Outcome.self) { group in
                for end in ends {
                    let body = FakeStripe.invoicePaid(userID: user, plan: S.plan, periodStart: base, periodEnd: end)
                    group.addTask { try await S.receive(processor, body) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0 == .processed })
            let entitlement = try #require(try await S.entitlement(pool, user: user))
            #expect(entitlement.status == .active)
            #expect(Int64(entitlement.expiresAt.timeIntervalSince1970.rounded()) == base + S.days(50))
            // One grant per invoice; an audit row only for each invoice that moved the end (at least the first).
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_grants") == 50)
            let changes = try await BillingFixtures.count(pool, "SELECT count(*) FROM entitlement_changes")
            #expect(changes >= 1 && changes <= 50)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM payment_events WHERE status = 'processed'") == 50)
        }
    }

    @Test func olderSubscriptionUpdateAfterNewerDeletionStaysCanceled() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let customer = FakeStripe.newID("cus")
            let end = S.now + S.days(30)
            let paid = FakeStripe.invoicePaid(
                created: S.now - 300, customer: customer, subscription: subscription, userID: user, plan: S.plan,
                periodStart: S.now - S.days(1), periodEnd: end)
            #expect(try await S.receive(processor, paid) == .processed)
            let deleted = FakeStripe.subscriptionDeleted(
                created: S.now, subscriptionID: subscription, customer: customer, userID: user, plan: S.plan,
                currentPeriodEnd: end)
            #expect(try await S.receive(processor, deleted) == .processed)
            let olderUpdate = FakeStripe.subscriptionUpdated(
                created: S.now - 100, subscriptionID: subscription, customer: customer, status: "active",
                userID: user, plan: S.plan, currentPeriodEnd: end + S.days(30))
            #expect(try await S.receive(processor, olderUpdate) == .ignored)
            #expect(try await S.entitlement(pool, user: user)?.status == .canceled)
            #expect(
                try await S.text(pool, "SELECT status FROM stripe_subscriptions WHERE subscription_id = \(subscription)")
                    == "canceled")
        }
    }

    @Test func anUpdateOfTheSameSecondAsTheDeletionDoesNotUncancel() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let customer = FakeStripe.newID("cus")
            let second = S.now
            let end = second + S.days(30)
            let deleted = FakeStripe.subscriptionDeleted(
                created: second, subscriptionID: subscription, customer: customer, userID: user, plan: S.plan,
                currentPeriodEnd: end)
            #expect(try await S.receive(processor, deleted) == .processed)
            let sameSecondUpdate = FakeStripe.subscriptionUpdated(
                created: second, subscriptionID: subscription, customer: customer, status: "active",
                userID: user, plan: S.plan, currentPeriodEnd: end)
            #expect(try await S.receive(processor, sameSecondUpdate) == .ignored)
            #expect(
                try await S.text(pool, "SELECT status FROM stripe_subscriptions WHERE subscription_id = \(subscription)")
                    == "canceled")
        }
    }

    @Test func olderPaidInvoiceAfterNewerDeletionDoesNotReactivate() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let customer = FakeStripe.newID("cus")
            let firstEnd = S.now + S.days(30)
            #expect(
                try await S.receive(
                    processor,
                    FakeStripe.invoicePaid(
                        created: S.now - 500, customer: customer, subscription: subscription, userID: user,
                        plan: S.plan, periodStart: S.now - S.days(1), periodEnd: firstEnd)) == .processed)
            #expect(
                try await S.receive(
                    processor,
                    FakeStripe.subscriptionDeleted(
                        created: S.now, subscriptionID: subscription, customer: customer, userID: user, plan: S.plan,
                        currentPeriodEnd: firstEnd)) == .processed)
            let before = try #require(try await S.entitlement(pool, user: user))
            let latePaid = FakeStripe.invoicePaid(
                created: S.now - 200, customer: customer, subscription: subscription, userID: user, plan: S.plan,
                periodStart: firstEnd, periodEnd: firstEnd + S.days(30))
            // The paid invoice is recorded as a grant (money was taken), but it is cut where the subscription ended.
            #expect(try await S.receive(processor, latePaid) == .processed)
            let after = try #require(try await S.entitlement(pool, user: user))
            #expect(after.status == .canceled)
            #expect(after.expiresAt == before.expiresAt)
        }
    }

    @Test func failedPaymentMarksPastDueNotifiesOnceAndALaterPaymentReactivates() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let subscription = FakeStripe.newID("sub")
            let customer = FakeStripe.newID("cus")
            #expect(
                try await S.receive(
                    processor,
                    FakeStripe.invoicePaid(
                        created: S.now - 100, customer: customer, subscription: subscription, userID: user,
                        plan: S.plan, periodStart: S.now, periodEnd: S.now + S.days(30))) == .processed)
            let invoiceID = FakeStripe.newID("in")
            let failed = FakeStripe.invoicePaymentFailed(
                created: S.now - 50, invoiceID: invoiceID, customer: customer, subscription: subscription,
                userID: user, plan: S.plan, periodStart: S.now + S.days(30), periodEnd: S.now + S.days(60))
            #expect(try await S.receive(processor, failed) == .processed)
            #expect(try await S.receive(processor, failed) == .duplicate)
            #expect(try await S.entitlement(pool, user: user)?.status == .pastDue)
            #expect(
                try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(invoiceID)") == "past_due")
            #expect(
                try await BillingFixtures.count(
                    pool, "SELECT count(*) FROM notification_outbox WHERE user_id = \(user) AND kind = 'payment_failed'") == 1)
            let paid = FakeStripe.invoicePaid(
                created: S.now, invoiceID: invoiceID, customer: customer, subscription: subscription, userID: user,
                plan: S.plan, periodStart: S.now + S.days(30), periodEnd: S.now + S.days(60))
            #expect(try await S.receive(processor, paid) == .processed)
            let entitlement = try #require(try await S.entitlement(pool, user: user))
            #expect(entitlement.status == .active)
            #expect(Int64(entitlement.expiresAt.timeIntervalSince1970.rounded()) >= S.now + S.days(59))
            #expect(try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(invoiceID)") == "paid")
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM notification_outbox WHERE kind = 'payment_failed'") == 1)
        }
    }

    @Test func oneTimeCheckoutGrantsItsPeriodLinksTheCustomerAndAFullRefundRevokes() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let user = try await BillingFixtures.user(pool)
            let processor = S.processor(pool)
            let customer = FakeStripe.newID("cus")
            let paymentIntent = FakeStripe.newID("pi")
            let checkout = FakeStripe.checkoutSessionCompleted(
                mode: "payment", userID: user, plan: S.oneTimePlan, customer: customer, amountTotal: 1500,
                paymentIntent: paymentIntent)
            #expect(try await S.receive(processor, checkout) == .processed)
            let granted = try #require(try await S.entitlement(pool, user: user, plan: S.oneTimePlan))
            #expect(granted.status == .active)
            let days = granted.expiresAt.timeIntervalSinceNow / 86_400
            #expect(days > Double(S.oneTimeDays) - 0.01 && days <= Double(S.oneTimeDays))
            #expect(try await S.text(pool, "SELECT customer_id FROM stripe_customers WHERE user_id = \(user)") == customer)
            #expect(
                try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(paymentIntent)") == "paid")

            let partial = FakeStripe.chargeRefunded(
                customer: customer, paymentIntent: paymentIntent, userID: user, plan: S.oneTimePlan, amount: 1500,
                amountRefunded: 500)
            #expect(try await S.receive(processor, partial) == .ignored)
            #expect(try await S.entitlement(pool, user: user, plan: S.oneTimePlan)?.status == .active)

            let refund = FakeStripe.chargeRefunded(
                customer: customer, paymentIntent: paymentIntent, userID: user, plan: S.oneTimePlan, amount: 1500)
            #expect(try await S.receive(processor, refund) == .processed)
            #expect(try await S.entitlement(pool, user: user, plan: S.oneTimePlan)?.status == .revoked)
            #expect(
                try await S.text(pool, "SELECT status FROM invoices WHERE provider_invoice_id = \(paymentIntent)")
                    == "refunded")
        }
    }

    @Test func unknownEventTypeIsStoredAsIgnored() async throws {
        try await TestDatabase.with(poolSize: 2) { _, pool async throws in
            let processor = S.processor(pool)
            let eventID = FakeStripe.newID("evt")
            let body = FakeStripe.event(id: eventID, type: "customer.created", object: ["id": "cus_x", "object": "customer"])
            #expect(try await S.receive(processor, body) == .ignored)
            #expect(try await S.ledger(pool, eventID: eventID)?.status == .ignored)
        }
    }

    /// The invoice handlers no longer SELECT the user named in metadata: the foreign keys of their writes report an
    /// unknown user, still as `failed` with a clear message, also on the retry path.
    @Test func invoiceForAUserThatDoesNotExistIsStoredFailedWithAClearError() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let processor = S.processor(pool)
            let missing: Int64 = 987_654_321
            for failedPayment in [false, true] {
                let eventID = FakeStripe.newID("evt")
                let body =
                    failedPayment
                    ? FakeStripe.invoicePaymentFailed(
                        eventID: eventID, userID: missing, plan: S.plan, periodStart: S.now, periodEnd: S.now + S.days(30))
                    : FakeStripe.invoicePaid(
                        eventID: eventID, userID: missing, plan: S.plan, periodStart: S.now, periodEnd: S.now + S.days(30))
                #expect(try await S.receive(processor, body) == .failed)
                let stored = try #require(try await S.ledger(pool, eventID: eventID))
                #expect(stored.status == .failed)
                #expect(stored.lastError == "user \(missing) does not exist")
                #expect(try await S.receive(processor, body) == .duplicate)
                let retried = try #require(try await processor.retry(id: stored.id))
                #expect(retried.outcome == .failed)
                #expect(try await S.ledger(pool, eventID: eventID)?.lastError == "user \(missing) does not exist")
            }
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM invoices") == 0)
            #expect(try await BillingFixtures.count(pool, "SELECT count(*) FROM notification_outbox") == 0)
        }
    }

    /// The typed object is decoded before the transaction; a body whose object does not decode is still claimed,
    /// stored as `failed` with the decoding error, and a second delivery is a duplicate.
    @Test func anInvoiceThatDoesNotDecodeIsStoredFailedWithItsPath() async throws {
        try await TestDatabase.with(poolSize: 4) { _, pool in
            try await S.plans(pool)
            let processor = S.processor(pool)
            let eventID = FakeStripe.newID("evt")
            var object = FakeStripe.invoiceObject(userID: 1, plan: S.plan, periodStart: 1, periodEnd: 2)
            object["currency"] = nil
            let body = FakeStripe.event(id: eventID, type: "invoice.paid", object: object)
            #expect(try await S.receive(processor, body) == .failed)
            let stored = try #require(try await S.ledger(pool, eventID: eventID))
            #expect(stored.status == .failed)
            #expect(stored.lastError == StripeEventDecodingError.missingField(path: "data.object.currency").description)
            #expect(try await S.receive(processor, body) == .duplicate)
        }
    }
}
