import Foundation
import Support
import TestSupport
import Testing

@testable import Billing

/// The typed object an event's handler needs is decoded in the envelope's pass (one parse of the body); these check
/// that it is the same object a separate decoding gives, and that it follows changes made to the event afterwards.
@Suite struct StripeEventTypedObjectTests {
    static func invoiceBody(type: String = "invoice.paid", amount: Int64 = 999) -> Data {
        FakeStripe.invoiceEvent(
            type: type, invoiceID: "in_typed", customer: "cus_typed", subscription: "sub_typed", userID: 7,
            plan: "pro", periodStart: 1_800_000_000, periodEnd: 1_802_592_000, amount: amount)
    }

    @Test func theObjectDecodedWithTheEnvelopeIsTheInvoiceASeparateDecodingGives() throws {
        let event = try StripeEvent(decoding: Self.invoiceBody())
        guard case .invoice(let invoice) = try event.typedObject().get() else {
            Issue.record("not an invoice")
            return
        }
        #expect(invoice == (try event.invoice()))
        #expect(invoice.id == "in_typed")
        #expect(invoice.amountPaid == 999)
        // Copies share it and still read it.
        let copies = (0..<100).map { _ in event }
        for copy in copies {
            guard case .invoice(let again) = try copy.typedObject().get() else {
                Issue.record("a copy lost its invoice")
                return
            }
            #expect(again == invoice)
        }
    }

    @Test func anObjectThatDoesNotDecodeIsStillAnEventAndTheFailureNamesItsPath() throws {
        var envelope = try #require(try JSONSerialization.jsonObject(with: Self.invoiceBody()) as? [String: Any])
        var data = try #require(envelope["data"] as? [String: Any])
        var object = try #require(data["object"] as? [String: Any])
        object["status"] = 5
        data["object"] = object
        envelope["data"] = data
        let event = try StripeEvent(decoding: try JSONSerialization.data(withJSONObject: envelope))
        #expect(event.type == .invoicePaid)
        #expect(throws: StripeEventDecodingError.wrongType(path: "data.object.status")) { try event.typedObject().get() }
    }

    @Test func aChangedTypeOrObjectIsDecodedAgainForWhatTheEventNowSays() throws {
        var event = try StripeEvent(decoding: Self.invoiceBody())
        event.type = .customerSubscriptionTrialWillEnd
        // Now a subscription event whose object is an invoice: the view for the new type is tried, and fails.
        #expect(throws: StripeEventDecodingError.self) { try event.typedObject().get() }
        event.type = StripeEventType(rawValue: "product.created")
        guard case .none = try event.typedObject().get() else {
            Issue.record("an unhandled type has no object")
            return
        }
        var changed = try StripeEvent(decoding: Self.invoiceBody())
        guard case .object(var object) = changed.object else {
            Issue.record("data.object is an object")
            return
        }
        object["amount_paid"] = .integer(1234)
        changed.object = .object(object)
        guard case .invoice(let invoice) = try changed.typedObject().get() else {
            Issue.record("not an invoice")
            return
        }
        #expect(invoice.amountPaid == 1234)
    }
}
