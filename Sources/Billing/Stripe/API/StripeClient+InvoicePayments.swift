extension StripeClient {
    /// The invoice a payment intent paid, on API versions where charges no longer carry `invoice`:
    /// `GET /v1/invoice_payments?payment[type]=payment_intent&payment[payment_intent]=…`.
    /// - Returns: the invoice id, or nil when the payment intent paid no invoice (a one-time payment).
    public func invoiceID(forPaymentIntent paymentIntent: String) async throws -> String? {
        var form = StripeForm()
        form.add("payment[type]", "payment_intent")
        form.add("payment[payment_intent]", paymentIntent)
        form.add("limit", 1)
        let list = try await send(.get, "/v1/invoice_payments", form: form, as: InvoicePaymentList.self)
        return list.data.first?.invoice
    }

    struct InvoicePaymentList: Decodable {
        struct Item: Decodable {
            var invoice: String?
        }
        var data: [Item]
    }
}
