import Foundation

/// The `invoices` row of a Stripe invoice.
enum StripeInvoiceRecord {
    static func make(_ invoice: StripeInvoice, userID: Int64, plan: String, status: InvoiceStatus) -> Invoice {
        Invoice(
            provider: .stripe, providerInvoiceID: invoice.id, userID: userID, plan: plan,
            amount: status == .paid ? invoice.amountPaid : (invoice.amountDue ?? invoice.amountPaid),
            currency: invoice.currency.uppercased(), status: status, hostedURL: invoice.hostedInvoiceURL,
            periodStart: (invoice.linePeriodStart ?? invoice.periodStart).map(StripeEventHandler.date),
            periodEnd: (invoice.linePeriodEnd ?? invoice.periodEnd).map(StripeEventHandler.date),
            createdAt: invoice.created.map(StripeEventHandler.date) ?? Date())
    }
}
