import Foundation

/// A refund created with `StripeClient.createRefund`.
public struct StripeRefund: Sendable, Equatable, Decodable {
    /// `re_…`.
    public var id: String
    public var amount: Int64
    public var currency: String
    /// `succeeded`, `pending`, `requires_action`, `failed` or `canceled`.
    public var status: String
    public var charge: String?
    public var paymentIntent: String?

    public init(
        id: String, amount: Int64, currency: String, status: String, charge: String? = nil, paymentIntent: String? = nil
    ) {
        self.id = id
        self.amount = amount
        self.currency = currency
        self.status = status
        self.charge = charge
        self.paymentIntent = paymentIntent
    }

    enum CodingKeys: String, CodingKey {
        case id, amount, currency, status, charge
        case paymentIntent = "payment_intent"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeRequiredString(.id)
        amount = try container.decodeIfPresent(Int64.self, forKey: .amount) ?? 0
        currency = try container.decodeIfPresent(String.self, forKey: .currency) ?? ""
        status = try container.decodeIfPresent(String.self, forKey: .status) ?? "succeeded"
        charge = try container.decodeStripeID(.charge)
        paymentIntent = try container.decodeStripeID(.paymentIntent)
    }
}

/// What an invoice was paid with: its payment intent or charge (either may be absent on a given API version).
public struct StripeInvoicePayment: Sendable, Equatable {
    public var paymentIntent: String?
    public var charge: String?
}

extension StripeClient {
    /// `POST /v1/refunds`: a full refund of a payment intent (or a charge), sent with `idempotencyKey`, so a
    /// retried request (here or by a later caller with the same key) refunds once.
    /// - Parameters:
    ///   - reason: one of Stripe's `duplicate`, `fraudulent`, `requested_by_customer`, or nil.
    ///   - metadata: stored on the refund (who asked, which payment).
    public func createRefund(
        paymentIntent: String?, charge: String?, reason: String?, metadata: [String: String], idempotencyKey: String
    ) async throws -> StripeRefund {
        var form = StripeForm()
        if let paymentIntent { form.add("payment_intent", paymentIntent) } else { form.add("charge", charge) }
        form.add("reason", reason)
        form.add("metadata", metadata: metadata)
        return try await send(.post, "/v1/refunds", form: form, idempotencyKey: idempotencyKey, as: StripeRefund.self)
    }

    /// The payment intent or charge that paid invoice `id`: `GET /v1/invoices/{id}` (`payment_intent`, `charge`
    /// on API versions before 2025-03-31), else `GET /v1/invoice_payments?invoice=…` (later versions).
    public func paymentOfInvoice(_ id: String) async throws -> StripeInvoicePayment {
        let invoice = try await send(.get, "/v1/invoices/\(Self.pathComponent(id))", as: InvoicePaymentRefs.self)
        if invoice.paymentIntent != nil || invoice.charge != nil {
            return StripeInvoicePayment(paymentIntent: invoice.paymentIntent, charge: invoice.charge)
        }
        var form = StripeForm()
        form.add("invoice", id)
        form.add("limit", 1)
        let list = try await send(.get, "/v1/invoice_payments", form: form, as: InvoicePaymentsByInvoice.self)
        return StripeInvoicePayment(paymentIntent: list.data.first?.payment?.paymentIntent, charge: list.data.first?.payment?.charge)
    }

    /// Ids go into a path: only Stripe's id alphabet passes unchanged.
    static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-"))) ?? ""
    }

    struct InvoicePaymentRefs: Decodable {
        var paymentIntent: String?
        var charge: String?

        enum CodingKeys: String, CodingKey {
            case charge
            case paymentIntent = "payment_intent"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            paymentIntent = try container.decodeStripeID(.paymentIntent)
            charge = try container.decodeStripeID(.charge)
        }
    }

    struct InvoicePaymentsByInvoice: Decodable {
        struct Item: Decodable {
            var payment: InvoicePaymentRefs?
        }
        var data: [Item]
    }
}
