import AsyncHTTPClient
import Billing
import Foundation
import Logging
import TestSupport
import Testing

@Suite struct StripeClientTests {
    static let publicBaseURL = "https://bot.example.test/app"

    static func client(
        _ stripe: FakeStripe, apiKey: String? = nil, baseURL: String? = nil, maxAttempts: Int = 3,
        apiVersion: String? = nil, timeout: Duration = .seconds(10)
    ) -> StripeClient {
        var logger = Logger(label: "StripeClientTests")
        logger.logLevel = .critical
        let configuration = StripeClientConfiguration(
            apiKey: apiKey ?? stripe.apiKey, apiBaseURL: baseURL ?? stripe.baseURL, publicBaseURL: publicBaseURL,
            apiVersion: apiVersion, requestTimeout: timeout,
            retry: StripeRetryPolicy(maxAttempts: maxAttempts, initialBackoff: .milliseconds(1), maxBackoff: .milliseconds(20)))
        return StripeClient(configuration: configuration, httpClient: HTTPClient.shared, logger: logger)
    }

    static func apiError(_ body: () async throws -> Void) async -> StripeAPIError? {
        do {
            try await body()
            return nil
        } catch let error as StripeAPIError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    // MARK: Encoding and headers

    @Test func formEncodingUsesBracketsAndPercentEncodesValues() {
        var form = StripeForm()
        form.add("email", "a+b@example.com")
        form.add("name", "Zoë & Co = 100%")
        form.add("metadata", metadata: ["user_id": "1", "plan": "premium monthly"])
        form.add("line_items[0][price]", "price_123")
        form.add("line_items[0][quantity]", 1)
        form.add("skipped", nil as String?)
        #expect(
            form.encoded
                == "email=a%2Bb%40example.com&name=Zo%C3%AB%20%26%20Co%20%3D%20100%25&metadata[plan]=premium%20monthly"
                + "&metadata[user_id]=1&line_items[0][price]=price_123&line_items[0][quantity]=1")
        // Our fake decodes it back field by field.
        let decoded = FakeStripe.decodeForm(form.encoded)
        #expect(decoded.map(\.name) == form.fields.map(\.name))
        #expect(decoded.map(\.value) == form.fields.map(\.value))
    }

    @Test func bracketsArePercentEncodedInValuesButKeptInNames() {
        var form = StripeForm()
        form.add("metadata[note]", "[a] b]")
        form.add("description", "x[0]")
        #expect(form.encoded == "metadata[note]=%5Ba%5D%20b%5D&description=x%5B0%5D")
        let decoded = FakeStripe.decodeForm(form.encoded)
        #expect(decoded.map(\.value) == ["[a] b]", "x[0]"])
    }

    @Test func createCustomerSendsFormFieldsAuthAndIdempotencyKey() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe, apiVersion: "2024-06-20")
            let customer = try await client.createCustomer(
                email: "ann@example.com", name: "Ann", metadata: ["user_id": "17", "telegram_id": "1001"],
                idempotencyKey: "customer-17")
            #expect(customer.id.hasPrefix("cus_"))
            #expect(customer.email == "ann@example.com")
            #expect(customer.metadata == ["user_id": "17", "telegram_id": "1001"])
            #expect(stripe.createdIDs(.customer) == [customer.id])
            let request = try #require(stripe.requests(path: "/v1/customers").first)
            #expect(request.method == "POST")
            #expect(request.authorization == "Bearer \(stripe.apiKey)")
            #expect(request.idempotencyKey == "customer-17")
            #expect(request.stripeVersion == "2024-06-20")
            #expect(request.headers["content-type"] == "application/x-www-form-urlencoded")
            #expect(request.form["email"] == "ann@example.com")
            #expect(request.form["name"] == "Ann")
            #expect(request.form["metadata[user_id]"] == "17")
            #expect(request.form["metadata[telegram_id]"] == "1001")
            #expect(request.body.contains("metadata[user_id]=17"))
        }
    }

    @Test func checkoutForARecurringPlanUsesSubscriptionModeAndSubscriptionMetadata() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            let session = try await client.createCheckoutSession(
                userID: 42, plan: "premium_monthly", priceID: "price_premium", mode: .subscription,
                customer: "cus_abc", idempotencyKey: "checkout-42-1")
            #expect(session.id.hasPrefix("cs_test_"))
            #expect(session.url.hasPrefix("https://checkout.stripe.com/"))
            #expect(stripe.createdIDs(.checkoutSession) == [session.id])
            let request = try #require(stripe.requests(path: "/v1/checkout/sessions").first)
            let form = request.form
            #expect(form["mode"] == "subscription")
            #expect(form["customer"] == "cus_abc")
            #expect(form["client_reference_id"] == "42")
            #expect(form["line_items[0][price]"] == "price_premium")
            #expect(form["line_items[0][quantity]"] == "1")
            #expect(form["metadata[user_id]"] == "42")
            #expect(form["metadata[plan]"] == "premium_monthly")
            #expect(form["subscription_data[metadata][user_id]"] == "42")
            #expect(form["subscription_data[metadata][plan]"] == "premium_monthly")
            #expect(!form.keys.contains { $0.hasPrefix("payment_intent_data") })
            let success = try #require(form["success_url"])
            let cancel = try #require(form["cancel_url"])
            #expect(success.hasPrefix(Self.publicBaseURL + "/"))
            #expect(success.contains("{CHECKOUT_SESSION_ID}"))
            #expect(cancel.hasPrefix(Self.publicBaseURL + "/"))
            #expect(request.idempotencyKey == "checkout-42-1")
        }
    }

    @Test func checkoutForAOneTimePlanUsesPaymentMode() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            let session = try await client.createCheckoutSession(
                userID: 7, plan: "lifetime", priceID: "price_once", mode: .payment,
                metadata: ["plan": "spoofed", "source": "miniapp"], successPath: "/done", cancelPath: "back",
                idempotencyKey: nil)
            #expect(session.id.hasPrefix("cs_test_"))
            let form = try #require(stripe.requests(path: "/v1/checkout/sessions").first).form
            #expect(form["mode"] == "payment")
            #expect(form["customer"] == nil)
            #expect(form["client_reference_id"] == "7")
            #expect(form["metadata[plan]"] == "lifetime")
            #expect(form["metadata[source]"] == "miniapp")
            #expect(form["payment_intent_data[metadata][user_id]"] == "7")
            #expect(!form.keys.contains { $0.hasPrefix("subscription_data") })
            #expect(form["success_url"] == Self.publicBaseURL + "/done")
            #expect(form["cancel_url"] == Self.publicBaseURL + "/back")
        }
    }

    @Test func checkoutInSetupModeIsRefusedWithoutCallingStripe() async throws {
        try await FakeStripe.with { stripe in
            let error = await Self.apiError {
                _ = try await Self.client(stripe).createCheckoutSession(
                    userID: 1, plan: "p", priceID: "price_1", mode: .setup, idempotencyKey: "k")
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.param == "mode")
            #expect(stripe.requests.isEmpty)
        }
    }

    @Test func billingPortalReturnURLStartsWithThePublicBaseURL() async throws {
        try await FakeStripe.with { stripe in
            let client = Self.client(stripe)
            let portal = try await client.createBillingPortalSession(customer: "cus_abc")
            #expect(portal.url.hasPrefix("https://billing.stripe.com/"))
            #expect(portal.id.hasPrefix("bps_"))
            let form = try #require(stripe.requests(path: "/v1/billing_portal/sessions").first).form
            #expect(form["customer"] == "cus_abc")
            #expect(form["return_url"] == Self.publicBaseURL + "/miniapp/")
            let custom = try await client.createBillingPortalSession(customer: "cus_abc", returnPath: "/miniapp/?from=portal")
            #expect(custom.id != portal.id)
            #expect(
                stripe.requests(path: "/v1/billing_portal/sessions").last?.form["return_url"]
                    == Self.publicBaseURL + "/miniapp/?from=portal")
        }
    }

    // MARK: Retries

    @Test func aServerErrorIsRetriedWithTheSameIdempotencyKeyAndBody() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.serverError)
            let customer = try await Self.client(stripe).createCustomer(
                email: "a@b.c", metadata: ["user_id": "1"], idempotencyKey: "customer-1")
            let requests = stripe.requests(path: "/v1/customers")
            #expect(requests.map(\.status) == [500, 200])
            #expect(requests.map(\.idempotencyKey) == ["customer-1", "customer-1"])
            #expect(requests[0].body == requests[1].body)
            #expect(stripe.createdIDs(.customer) == [customer.id])
        }
    }

    @Test func aLostResponseRetriedWithTheSameKeyReturnsTheFirstObject() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.lostResponse)
            let customer = try await Self.client(stripe).createCustomer(metadata: ["user_id": "2"], idempotencyKey: "customer-2")
            let requests = stripe.requests(path: "/v1/customers")
            #expect(requests.map(\.status) == [500, 200])
            #expect(requests.map(\.replayed) == [false, true])
            // Stripe created exactly one customer and we got that one.
            #expect(stripe.createdIDs(.customer) == [customer.id])
        }
    }

    @Test func rateLimitsAreRetried() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.rateLimit, count: 2)
            let session = try await Self.client(stripe).createCheckoutSession(
                userID: 3, plan: "premium_monthly", priceID: "price_1", mode: .subscription, idempotencyKey: "co-3")
            let requests = stripe.requests(path: "/v1/checkout/sessions")
            #expect(requests.map(\.status) == [429, 429, 200])
            #expect(Set(requests.map(\.idempotencyKey)) == ["co-3"])
            #expect(stripe.createdIDs(.checkoutSession) == [session.id])
        }
    }

    @Test func aCardErrorIsNotRetriedAndIsTyped() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.cardDeclined(declineCode: "insufficient_funds"))
            let error = await Self.apiError {
                _ = try await Self.client(stripe).createCustomer(metadata: [:], idempotencyKey: "customer-card")
            }
            #expect(error?.kind == .card)
            #expect(error?.httpStatus == 402)
            #expect(error?.type == "card_error")
            #expect(error?.code == "card_declined")
            #expect(error?.declineCode == "insufficient_funds")
            #expect(error?.message == "Your card was declined.")
            #expect(error?.attempts == 1)
            #expect(error?.requestID?.hasPrefix("req_") == true)
            #expect(stripe.requests.count == 1)
        }
    }

    @Test func withoutAnIdempotencyKeyAPostIsNeverRetried() async throws {
        try await FakeStripe.with { stripe in
            stripe.inject(.serverError)
            let error = await Self.apiError { _ = try await Self.client(stripe).createBillingPortalSession(customer: "cus_1") }
            #expect(error?.kind == .api)
            #expect(error?.httpStatus == 500)
            #expect(stripe.requests.count == 1)
            #expect(stripe.createdIDs(.billingPortalSession).isEmpty)
        }
    }

    @Test func aGetIsRetriedWithoutAnIdempotencyKey() async throws {
        try await FakeStripe.with { stripe in
            stripe.stub(
                path: "/v1/subscriptions/sub_1",
                json: FakeStripe.json(
                    FakeStripe.subscriptionObject(
                        subscriptionID: "sub_1", customer: "cus_1", userID: 9, plan: "premium_monthly",
                        currentPeriodEnd: 1_900_000_000, shape: .current)))
            stripe.inject(.serverError)
            let subscription = try await Self.client(stripe).retrieveSubscription("sub_1")
            #expect(subscription.id == "sub_1")
            #expect(subscription.currentPeriodEnd == 1_900_000_000)
            #expect(subscription.userID == 9)
            #expect(stripe.requests.map(\.status) == [500, 200])
            #expect(stripe.requests.allSatisfy { $0.method == "GET" && $0.idempotencyKey == nil })

            let missing = await Self.apiError { _ = try await Self.client(stripe).retrieveSubscription("sub_none") }
            #expect(missing?.kind == .invalidRequest)
            #expect(missing?.code == "resource_missing")
            #expect(missing?.httpStatus == 404)
        }
    }
}
