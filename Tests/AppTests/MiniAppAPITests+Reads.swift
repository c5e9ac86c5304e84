import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MiniApp
import NIOCore
import TestSupport
import Testing

@testable import App

extension MiniAppAPITests {
    @Test func aRevokedSessionIs401() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let other = try await harness.signIn(telegramID: Self.telegramID)
            #expect(try await harness.request(.get, "/api/v1/me", token: signedIn.token).status == .ok)
            let jti = try #require(Self.jwtSegment(signedIn.token, 1)?["jti"] as? String)
            // Revoked in the database (by another instance, an admin, a logout elsewhere).
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute("UPDATE miniapp_sessions SET revoked_at = now() WHERE jti = \(jti)::uuid")
            }
            let response = try await harness.request(.get, "/api/v1/me", token: signedIn.token)
            Self.expectProblem(response, .unauthorized)
            // The user's other session is untouched.
            #expect(try await harness.request(.get, "/api/v1/me", token: other.token).status == .ok)
        }
    }

    // MARK: Reads

    @Test func meListsTheUserAndOnlyActiveEntitlements() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID, username: "ada", firstName: "Ada")
            let userID = signedIn.userID
            try await harness.insertEntitlement(
                userID: userID, plan: "premium_monthly", status: "active", source: "stripe", expiresIn: 30 * 86_400)
            try await harness.insertEntitlement(
                userID: userID, plan: "boost_week", status: "revoked", source: "telegram_stars", expiresIn: 5 * 86_400)
            try await harness.insertEntitlement(
                userID: userID, plan: "card_year", status: "active", source: "stripe", expiresIn: -3600)
            // Someone else's entitlement never shows.
            let other = try await harness.signIn(telegramID: Self.telegramID + 1)
            try await harness.insertEntitlement(
                userID: other.userID, plan: "boost_week", status: "active", source: "admin", expiresIn: 86_400)

            let response = try await harness.request(.get, "/api/v1/me", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["user", "entitlements"])
            let user = try #require(body["user"] as? [String: Any])
            #expect(Self.keys(user) == ["id", "telegram_id", "username", "first_name"])
            #expect((user["id"] as? NSNumber)?.int64Value == userID)
            #expect((user["telegram_id"] as? NSNumber)?.int64Value == Self.telegramID)
            #expect(user["username"] as? String == "ada")
            #expect(user["first_name"] as? String == "Ada")
            let entitlements = try #require(body["entitlements"] as? [[String: Any]])
            #expect(entitlements.count == 1)
            let entitlement = try #require(entitlements.first)
            #expect(Self.keys(entitlement) == ["plan", "status", "expires_at", "source"])
            #expect(entitlement["plan"] as? String == "premium_monthly")
            #expect(entitlement["status"] as? String == "active")
            #expect(entitlement["source"] as? String == "stripe")
            #expect(Self.isRFC3339UTC(entitlement["expires_at"]))
        }
    }

    @Test func meShowsNullForMissingProfileFields() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID, username: nil)
            let body = try #require(try await harness.request(.get, "/api/v1/me", token: signedIn.token).json)
            let user = try #require(body["user"] as? [String: Any])
            #expect(Self.keys(user) == ["id", "telegram_id", "username", "first_name"])
            #expect(user["username"] is NSNull)
            #expect((body["entitlements"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func plansListActivePlansWithTheirStripeAvailability() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let response = try await harness.request(.get, "/api/v1/billing/plans", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            let plans = try #require(response.json?["plans"] as? [[String: Any]])
            let byCode = Dictionary(uniqueKeysWithValues: plans.compactMap { plan in (plan["code"] as? String).map { ($0, plan) } })
            #expect(Set(byCode.keys) == ["premium_monthly", "boost_week", "card_year"])
            for plan in plans {
                #expect(Self.keys(plan) == ["code", "name", "period_days", "stars_price", "stripe", "recurring"])
            }
            let premium = try #require(byCode["premium_monthly"])
            #expect(premium["name"] as? String == "Premium, monthly")
            #expect(premium["period_days"] as? Int == 30)
            #expect(premium["stars_price"] as? Int == 250)
            #expect(premium["stripe"] as? Bool == true)
            #expect(premium["recurring"] as? Bool == true)
            let boost = try #require(byCode["boost_week"])
            #expect(boost["stripe"] as? Bool == false)
            #expect(boost["stars_price"] as? Int == 50)
            #expect(boost["recurring"] as? Bool == false)
            let card = try #require(byCode["card_year"])
            #expect(card["stars_price"] is NSNull)
            #expect(card["stripe"] as? Bool == true)
        }
    }

    @Test func withoutAStripeKeyNoPlanIsSoldByStripe() async throws {
        try await MiniAppAppHarness.with(stripeConfigured: false) { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let plans = try #require(
                try await harness.request(.get, "/api/v1/billing/plans", token: signedIn.token).json?["plans"]
                    as? [[String: Any]])
            #expect(plans.count == 3)
            #expect(plans.allSatisfy { $0["stripe"] as? Bool == false })
            let checkout = try await harness.checkout(signedIn.token, plan: "premium_monthly", provider: "stripe", key: "s")
            Self.expectProblem(checkout, .unprocessableContent)
            let portal = try await harness.request(.post, "/api/v1/billing/portal", token: signedIn.token)
            Self.expectProblem(portal, .notFound)
            #expect(harness.stripe.requests.isEmpty)
        }
    }

    @Test func subscriptionIsTheLongestLastingEntitlementOrAllNulls() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let empty = try await harness.request(.get, "/api/v1/billing/subscription", token: signedIn.token)
            #expect(empty.status == .ok, "\(empty.text)")
            let none = try #require(empty.json)
            #expect(Self.keys(none) == ["plan", "status", "expires_at", "provider", "renews"])
            #expect(none.filter { $0.key != "renews" }.values.allSatisfy { $0 is NSNull })
            #expect(none["renews"] as? Bool == false)

            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "premium_monthly", status: "active", source: "stripe", expiresIn: 30 * 86_400)
            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "boost_week", status: "active", source: "telegram_stars",
                expiresIn: 60 * 86_400)
            // Lasts longest but revoked: not a subscription.
            try await harness.insertEntitlement(
                userID: signedIn.userID, plan: "card_year", status: "revoked", source: "stripe", expiresIn: 300 * 86_400)
            let response = try await harness.request(.get, "/api/v1/billing/subscription", token: signedIn.token)
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["plan", "status", "expires_at", "provider", "renews"])
            #expect(body["plan"] as? String == "boost_week")
            #expect(body["renews"] as? Bool == false)
            #expect(body["status"] as? String == "active")
            #expect(body["provider"] as? String == "telegram_stars")
            #expect(Self.isRFC3339UTC(body["expires_at"]))
        }
    }

    // MARK: Invoices

    @Test func invoicesOfBothProvidersComeNewestFirstWithTheContractShape() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let base = Date().addingTimeInterval(-86_400)
            let stripeOld = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "stripe", externalID: "in_1", status: "paid", amount: 999,
                currency: "EUR", createdAt: base, hostedURL: "https://invoice.stripe.com/i/in_1")
            let stars = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "telegram_stars", externalID: "charge_1", status: "refunded", amount: 250,
                currency: "XTR", createdAt: base.addingTimeInterval(60))
            let stripeNew = try await harness.insertInvoice(
                userID: signedIn.userID, provider: "stripe", externalID: "in_2", status: "open", amount: 999,
                currency: "EUR", createdAt: base.addingTimeInterval(120), hostedURL: "https://invoice.stripe.com/i/in_2")
            let other = try await harness.signIn(telegramID: Self.telegramID + 7)
            try await harness.insertInvoice(
                userID: other.userID, provider: "stripe", externalID: "in_other", createdAt: base.addingTimeInterval(30))

            let response = try await harness.request(.get, "/api/v1/billing/invoices", token: signedIn.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try #require(response.json)
            #expect(Self.keys(body) == ["invoices", "next_cursor"])
            #expect(body["next_cursor"] is NSNull)
            let invoices = try #require(body["invoices"] as? [[String: Any]])
            #expect(invoices.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [stripeNew, stars, stripeOld])
            for invoice in invoices {
                #expect(Self.keys(invoice) == ["id", "provider", "status", "amount", "currency", "created_at", "hosted_url"])
                #expect(Self.isRFC3339UTC(invoice["created_at"]))
            }
            #expect(invoices[0]["provider"] as? String == "stripe")
            #expect(invoices[0]["status"] as? String == "open")
            #expect(invoices[0]["hosted_url"] as? String == "https://invoice.stripe.com/i/in_2")
            #expect(invoices[1]["provider"] as? String == "telegram_stars")
            #expect(invoices[1]["status"] as? String == "refunded")
            #expect(invoices[1]["amount"] as? Int == 250)
            #expect(invoices[1]["currency"] as? String == "XTR")
            #expect(invoices[1]["hosted_url"] is NSNull)
            #expect(invoices[2]["amount"] as? Int == 999)
        }
    }

    /// Pages of 7 over 25 invoices (several sharing a timestamp) while new invoices keep arriving: every old invoice
    /// exactly once, in order, and the last page has no cursor.
    @Test func cursorPagingHasNoDuplicatesOrGapsWhileInvoicesArrive() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            let base = Date().addingTimeInterval(-10 * 86_400)
            var expected: [(Date, Int64)] = []
            for index in 0..<25 {
                // Groups of three share one created_at, so the id breaks ties.
                let createdAt = base.addingTimeInterval(Double(index / 3) * 3600 + 0.000_123)
                let id = try await harness.insertInvoice(
                    userID: signedIn.userID, provider: index.isMultiple(of: 2) ? "stripe" : "telegram_stars",
                    externalID: "old-\(index)", currency: index.isMultiple(of: 2) ? "USD" : "XTR", createdAt: createdAt)
                expected.append((createdAt, id))
            }
            let expectedIDs = expected.sorted { ($0.0, $0.1) > ($1.0, $1.1) }.map(\.1)

            var seen: [Int64] = []
            var cursor: String?
            var pages = 0
            repeat {
                let uri = "/api/v1/billing/invoices?limit=7" + (cursor.map { "&cursor=\($0)" } ?? "")
                let response = try await harness.request(.get, uri, token: signedIn.token)
                #expect(response.status == .ok, "\(response.text)")
                let body = try #require(response.json)
                let invoices = try #require(body["invoices"] as? [[String: Any]])
                seen += invoices.compactMap { ($0["id"] as? NSNumber)?.int64Value }
                cursor = body["next_cursor"] as? String
                pages += 1
                // A new invoice arrives between pages.
                try await harness.insertInvoice(
                    userID: signedIn.userID, provider: "stripe", externalID: "new-\(pages)", createdAt: Date())
            } while cursor != nil && pages < 10
            #expect(pages == 4)
            #expect(seen == expectedIDs)
            #expect(Set(seen).count == seen.count)
        }
    }

    /// `limit=100` with 101 invoices: the full page still points to the rest.
    @Test func aFullPageOfTheMaximumSizeStillHasANextCursor() async throws {
        try await MiniAppAppHarness.with { harness in
            let signedIn = try await harness.signIn(telegramID: Self.telegramID)
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO invoices (provider, provider_invoice_id, user_id, amount, currency, status, created_at)
                    SELECT 'stripe', 'bulk-' || n, \(signedIn.userID), 100, 'USD', 'paid', now() - n * interval '1 minute'
                    FROM generate_series(1, 101) AS n
                    """)
            }
            let first = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100", token: signedIn.token).json)
            #expect((first["invoices"] as? [Any])?.count == 100)
            let cursor = try #require(first["next_cursor"] as? String)
            let second = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100&cursor=\(cursor)", token: signedIn.token)
                    .json)
            #expect((second["invoices"] as? [Any])?.count == 1)
            #expect(second["next_cursor"] is NSNull)

            // Exactly 100: one page, no cursor.
            _ = try await harness.pool.withConnection { connection in
                try await connection.execute("DELETE FROM invoices WHERE provider_invoice_id = 'bulk-101'")
            }
            let only = try #require(
                try await harness.request(.get, "/api/v1/billing/invoices?limit=100", token: signedIn.token).json)
            #expect((only["invoices"] as? [Any])?.count == 100)
            #expect(only["next_cursor"] is NSNull)
        }
    }
}
