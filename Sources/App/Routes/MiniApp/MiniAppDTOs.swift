import Billing
import Foundation
import Hummingbird
import MiniApp
import Support

/// Response shapes of the Mini App API, exactly as docs/api.md (and `openapi.yaml`) fix them.
enum MiniAppDTO {
    struct UserBody: Encodable, Sendable {
        var id: Int64
        var telegramID: Int64
        var username: String?
        var firstName: String?

        enum CodingKeys: String, CodingKey {
            case id, username
            case telegramID = "telegram_id"
            case firstName = "first_name"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(telegramID, forKey: .telegramID)
            try container.encode(username, forKey: .username)
            try container.encode(firstName, forKey: .firstName)
        }
    }

    struct EntitlementBody: Encodable, Sendable {
        var plan: String
        var status: String
        var expiresAt: String
        var source: String

        enum CodingKeys: String, CodingKey {
            case plan, status, source
            case expiresAt = "expires_at"
        }

        init(_ entitlement: Entitlement) {
            plan = entitlement.plan
            status = entitlement.effectiveStatus().rawValue
            expiresAt = APIFormat.timestamp(entitlement.expiresAt)
            source = entitlement.source.rawValue
        }
    }

    struct Me: ResponseEncodable, Sendable {
        var user: UserBody
        var entitlements: [EntitlementBody]
    }

    struct PlanBody: Encodable, Sendable {
        var code: String
        var name: String
        var periodDays: Int
        var starsPrice: Int?
        var stripe: Bool
        var recurring: Bool

        enum CodingKeys: String, CodingKey {
            case code, name, stripe, recurring
            case periodDays = "period_days"
            case starsPrice = "stars_price"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(name, forKey: .name)
            try container.encode(periodDays, forKey: .periodDays)
            try container.encode(starsPrice, forKey: .starsPrice)
            try container.encode(stripe, forKey: .stripe)
            try container.encode(recurring, forKey: .recurring)
        }
    }

    struct Plans: ResponseEncodable, Sendable {
        var plans: [PlanBody]
    }

    /// `plan`, `status`, `expires_at` and `provider` null (and `renews` false) when the user has no entitlement.
    struct Subscription: ResponseEncodable, Sendable {
        var plan: String?
        var status: String?
        var expiresAt: String?
        var provider: String?
        /// True when the access renews at `expires_at` (a recurring subscription with no cancellation scheduled).
        var renews = false

        enum CodingKeys: String, CodingKey {
            case plan, status, provider, renews
            case expiresAt = "expires_at"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(plan, forKey: .plan)
            try container.encode(status, forKey: .status)
            try container.encode(expiresAt, forKey: .expiresAt)
            try container.encode(provider, forKey: .provider)
            try container.encode(renews, forKey: .renews)
        }
    }

    struct InvoiceBody: Encodable, Sendable {
        var id: Int64
        var provider: String
        var status: String
        var amount: Int64
        var currency: String
        var createdAt: String
        var hostedURL: String?

        enum CodingKeys: String, CodingKey {
            case id, provider, status, amount, currency
            case createdAt = "created_at"
            case hostedURL = "hosted_url"
        }

        init(_ invoice: Invoice) {
            id = invoice.id
            provider = invoice.provider.rawValue
            status = invoice.status.rawValue
            amount = invoice.amount
            currency = invoice.currency
            createdAt = APIFormat.timestamp(invoice.createdAt)
            hostedURL = invoice.hostedURL
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(provider, forKey: .provider)
            try container.encode(status, forKey: .status)
            try container.encode(amount, forKey: .amount)
            try container.encode(currency, forKey: .currency)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(hostedURL, forKey: .hostedURL)
        }
    }

    struct Invoices: ResponseEncodable, Sendable {
        var invoices: [InvoiceBody]
        var nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case invoices
            case nextCursor = "next_cursor"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(invoices, forKey: .invoices)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    struct CheckoutRequest: Decodable, Sendable {
        var plan: String?
        var provider: String?
    }

    /// Body of `POST /api/v1/billing/subscription/cancel` and `/resume`.
    struct SubscriptionChangeRequest: Decodable, Sendable {
        var plan: String?
    }

    struct CheckoutBody: ResponseEncodable, Sendable {
        var provider: String
        var url: String
    }

    struct PortalBody: ResponseEncodable, Sendable {
        var url: String
    }

    struct AuthRequest: Decodable, Sendable {
        var initData: String?

        enum CodingKeys: String, CodingKey {
            case initData = "init_data"
        }
    }
}

/// The `cursor` query parameter of a paged list (`Support.KeysetCursor`, the one cursor format).
extension KeysetCursor {
    /// 400 when the text is not a cursor this server made.
    static func parameter(_ text: Substring) throws(ProblemError) -> KeysetCursor {
        guard text.utf8.count <= 64, let cursor = KeysetCursor(encoded: String(text)) else {
            throw ProblemError.badRequest("cursor is not valid")
        }
        return cursor
    }
}
