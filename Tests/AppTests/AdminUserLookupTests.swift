import Foundation
import PGClient
import TestSupport
import Testing

@testable import App

/// `GET /admin/v1/users/{telegram_id}` and `GET /admin/v1/users?query=`: the one-customer view.
@Suite struct AdminUserLookupTests {
    typealias Updates = TelegramUpdates

    static func list(_ body: [String: Any], _ key: String) -> [[String: Any]] { body[key] as? [[String: Any]] ?? [] }

    @Test func aLookupAfterAStripeAndAStarsPaymentAndARefundShowsThemInEverySection() async throws {
        try await AdminAppHarness.with { app in
            let buyer = Updates.buyer
            let payload = try app.telegram.signer.make(plan: TelegramAppHarness.plan, telegramUserID: buyer)
            let starsPayment = MoneyLifecycleHTTPTests.subscriptionPayment(
                updateID: 3001, charge: "ch_lookup_stars", payload: payload,
                expiresAt: Updates.messageDate + 30 * 86_400, first: true)
            #expect(try await app.telegram.postUpdate(starsPayment).status == .ok)
            let userID = Int64(try await app.count("SELECT id::int FROM users WHERE telegram_user_id = \(buyer)"))
            try await app.payStripeInvoice(userID: userID, invoiceID: "in_lookup", paymentIntent: "pi_lookup")
            let refund = try await app.stripeRefund(#"{"invoice_id":"in_lookup","reason":"requested_by_customer"}"#)
            #expect(refund.status == .ok)
            #expect((refund.json?["refund_id"] as? String)?.hasPrefix("re_") == true)

            let response = try await app.admin(.get, "/admin/v1/users/\(buyer)")
            #expect(response.status == .ok)
            let body = try #require(response.json)
            let user = try #require(body["user"] as? [String: Any])
            #expect(user["telegram_id"] as? Int == Int(buyer))
            #expect(user["id"] as? Int == Int(userID))
            #expect(user["username"] as? String == "ada_\(buyer)")

            let entitlements = Dictionary(
                Self.list(body, "entitlements").map { ($0["plan"] as? String ?? "", $0["status"] as? String ?? "") },
                uniquingKeysWith: { first, _ in first })
            #expect(entitlements == ["boost_week": "active", "premium_monthly": "revoked"])

            let grants = Self.list(body, "grants")
            #expect(grants.count == 2)
            let stripeGrant = try #require(grants.first { $0["source"] as? String == "stripe" })
            #expect(stripeGrant["state"] as? String == "refunded")
            let stripePayment = try #require(stripeGrant["payment"] as? [String: Any])
            #expect(stripePayment["event_type"] as? String == "invoice.paid")
            let stripeInvoice = try #require(stripePayment["invoice"] as? [String: Any])
            #expect(stripeInvoice["provider_invoice_id"] as? String == "in_lookup")
            #expect(stripeInvoice["status"] as? String == "refunded")
            let starsGrant = try #require(grants.first { $0["source"] as? String == "telegram_stars" })
            #expect(starsGrant["state"] as? String == "active")
            let starsInvoice = (starsGrant["payment"] as? [String: Any])?["invoice"] as? [String: Any]
            #expect(starsInvoice?["provider_invoice_id"] as? String == "ch_lookup_stars")

            let invoices = Self.list(body, "invoices")
            #expect(Set(invoices.compactMap { $0["provider_invoice_id"] as? String }) == ["in_lookup", "ch_lookup_stars"])

            let events = Self.list(body, "payment_events")
            let eventTypes = Set(events.compactMap { $0["event_type"] as? String })
            #expect(eventTypes.contains("invoice.paid"))
            #expect(eventTypes.contains("admin.refund"))
            #expect(events.contains { $0["event_id"] as? String == "ch_lookup_stars" })
            let received = events.compactMap { $0["received_at"] as? String }
            #expect(received == received.sorted(by: >), "newest first")

            let changes = Self.list(body, "changes")
            #expect(changes.contains { $0["actor"] as? String == "admin" && $0["action"] as? String == "revoke" })
            #expect(changes.contains { $0["plan"] as? String == "boost_week" && $0["action"] as? String == "grant" })
            let ids = changes.compactMap { $0["id"] as? Int }
            #expect(ids == ids.sorted(by: >), "newest first")

            let stars = Self.list(body, "stars_subscriptions")
            #expect(stars.map { $0["first_charge_id"] as? String } == ["ch_lookup_stars"])
            #expect(body["stripe_subscriptions"] is [Any])

            // The ledger filtered by this customer lists the same events.
            let filtered = try await app.admin(.get, "/admin/v1/payment-events?telegram_id=\(buyer)&limit=100")
            #expect(filtered.status == .ok)
            let filteredIDs = Self.list(try #require(filtered.json), "events").compactMap { $0["id"] as? Int }
            #expect(filteredIDs == events.compactMap { $0["id"] as? Int })
        }
    }

    @Test func searchFindsACustomerByTelegramIdUserIdOrUsernamePrefix() async throws {
        try await AdminAppHarness.with { app in
            try await app.telegram.pay(charge: "ch_search", updateID: 3100)
            let userID = try await app.count("SELECT id::int FROM users WHERE telegram_user_id = \(Updates.buyer)")
            for query in ["\(Updates.buyer)", "\(userID)", "@ADA_42", "ada_424242"] {
                let response = try await app.admin(.get, "/admin/v1/users?query=\(query)")
                #expect(response.status == .ok)
                let users = Self.list(try #require(response.json), "users")
                #expect(users.map { $0["telegram_id"] as? Int } == [Int(Updates.buyer)], "query \(query)")
            }
            let none = try await app.admin(.get, "/admin/v1/users?query=nobody%25")
            #expect(Self.list(try #require(none.json), "users").isEmpty)
            #expect(try await app.admin(.get, "/admin/v1/users").status == .badRequest)
            let unknown = try await app.admin(.get, "/admin/v1/users/999999999")
            #expect(unknown.status == .notFound)
            #expect(unknown.headers[.contentType] == "application/problem+json")
            #expect(try await app.admin(.get, "/admin/v1/users/\(Updates.buyer)", token: nil).status == .unauthorized)
            #expect(try await app.admin(.get, "/admin/v1/users/\(Updates.buyer)?limit=0").status == .badRequest)
        }
    }
}
