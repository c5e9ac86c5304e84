import Billing
import Foundation
import Support
import TestSupport
import Testing

@Suite struct StripeEventDecodingTests {
    static func decode(_ data: Data) -> Result<StripeEvent, StripeEventDecodingError> {
        Result { () throws(StripeEventDecodingError) -> StripeEvent in try StripeEvent(decoding: data) }
    }

    static func decodeError(_ data: Data) -> StripeEventDecodingError? {
        if case .failure(let error) = decode(data) { return error }
        return nil
    }

    static func json(_ object: [String: Any]) throws -> Data {
        try JSONSerialization.data(withJSONObject: object)
    }

    @Test func theVectorPayloadDecodesAsAnInvoicePaidEvent() throws {
        let vector = try #require(try StripeSignatureVectors.load().cases.first { $0.id == "valid" })
        let event = try StripeEvent(decoding: Data(vector.payload.utf8))
        #expect(event.id == "evt_1TestVector")
        #expect(event.type == .invoicePaid)
        #expect(event.type.isHandled)
        #expect(event.created == 1_795_314_773)
        #expect(event.livemode == false)
        #expect(event.apiVersion == nil)
        #expect(event.objectType == "invoice")
        let invoice = try event.invoice()
        #expect(invoice.id == "in_1Test")
        #expect(invoice.customer == "cus_Test")
        #expect(invoice.subscription == "sub_Test")
        #expect(invoice.status == .paid)
        #expect(invoice.amountPaid == 999)
        // The vector's minimal invoice has neither; they are optional for that reason.
        #expect(invoice.amountDue == nil)
        #expect(invoice.created == nil)
        #expect(invoice.currency == "usd")
        #expect(invoice.lines.count == 1)
        #expect(invoice.priceIDs == ["price_123"])
        #expect(invoice.linePeriodEnd == 1_797_906_773)
        #expect(invoice.linePeriodStart == 1_795_314_773)
    }

    @Test(arguments: [FakeStripe.APIShape.classic, .current])
    func invoiceEventsDecodeInBothApiShapes(shape: FakeStripe.APIShape) throws {
        let payload = FakeStripe.invoicePaid(
            eventID: "evt_inv", created: 1_800_000_100, invoiceID: "in_9", customer: "cus_9", subscription: "sub_9",
            userID: 42, plan: "premium_monthly", priceID: "price_premium", periodStart: 1_800_000_000,
            periodEnd: 1_802_592_000, amount: 1299, currency: "eur", shape: shape)
        let event = try StripeEvent(decoding: payload)
        #expect(event.id == "evt_inv")
        #expect(event.created == 1_800_000_100)
        #expect(event.apiVersion == shape.apiVersion)
        let invoice = try event.invoice()
        #expect(invoice.id == "in_9")
        #expect(invoice.customer == "cus_9")
        #expect(invoice.subscription == "sub_9")
        #expect(invoice.amountPaid == 1299)
        #expect(invoice.amountDue == 1299)
        #expect(invoice.currency == "eur")
        #expect(invoice.status == .paid)
        #expect(invoice.hostedInvoiceURL == "https://invoice.stripe.com/i/in_9")
        #expect(invoice.created == 1_800_000_100)
        #expect(invoice.priceIDs == ["price_premium"])
        #expect(invoice.lines.first?.subscription == "sub_9")
        #expect(invoice.linePeriodEnd == 1_802_592_000)
        #expect(invoice.subscriptionMetadata == ["user_id": "42", "plan": "premium_monthly"])
        #expect(invoice.userID == 42)
        #expect(invoice.plan == "premium_monthly")

        let failed = try StripeEvent(
            decoding: FakeStripe.invoicePaymentFailed(
                userID: 42, plan: "premium_monthly", periodStart: 1, periodEnd: 2, amount: 500, shape: shape))
        #expect(failed.type == .invoicePaymentFailed)
        let failedInvoice = try failed.invoice()
        #expect(failedInvoice.status == .open)
        #expect(failedInvoice.amountPaid == 0)
        #expect(failedInvoice.amountDue == 500)
    }

    @Test func invoiceMetadataIsFoundInEveryPlaceStripePutsIt() throws {
        var object = FakeStripe.invoiceObject(userID: nil, plan: nil, periodStart: 1, periodEnd: 2)
        object["subscription_details"] = ["metadata": ["user_id": "7", "plan": "old"]]
        object["parent"] = ["subscription_details": ["metadata": ["plan": "new"], "subscription": "sub_p"]]
        object["metadata"] = ["note": "x"]
        let invoice = try StripeEvent(decoding: FakeStripe.event(type: "invoice.paid", object: object)).invoice()
        #expect(invoice.subscriptionMetadata == ["user_id": "7", "plan": "new"])
        #expect(invoice.combinedMetadata["note"] == "x")
        #expect(invoice.userID == 7)
        #expect(invoice.plan == "new")
    }

    @Test(arguments: [FakeStripe.APIShape.classic, .current])
    func subscriptionEventsReadThePeriodEndAtTopLevelOrFromItems(shape: FakeStripe.APIShape) throws {
        let updated = try StripeEvent(
            decoding: FakeStripe.subscriptionUpdated(
                eventID: "evt_sub", created: 1_800_000_500, subscriptionID: "sub_1", customer: "cus_1",
                status: "past_due", userID: 5, plan: "premium_monthly", priceID: "price_p",
                currentPeriodEnd: 1_802_000_000, cancelAtPeriodEnd: true, shape: shape))
        #expect(updated.type == .customerSubscriptionUpdated)
        let subscription = try updated.subscription()
        #expect(subscription.id == "sub_1")
        #expect(subscription.customer == "cus_1")
        #expect(subscription.status == .pastDue)
        #expect(subscription.cancelAtPeriodEnd)
        #expect(subscription.currentPeriodEnd == 1_802_000_000)
        #expect(subscription.priceIDs == ["price_p"])
        #expect(subscription.items.count == 1)
        #expect(subscription.userID == 5)
        #expect(subscription.plan == "premium_monthly")

        let deleted = try StripeEvent(
            decoding: FakeStripe.subscriptionDeleted(
                created: 1_800_000_900, subscriptionID: "sub_1", customer: "cus_1", userID: 5, plan: "premium_monthly",
                currentPeriodEnd: 1_802_000_000, shape: shape))
        #expect(deleted.type == .customerSubscriptionDeleted)
        let gone = try deleted.subscription()
        #expect(gone.status == .canceled)
        #expect(gone.endedAt == 1_800_000_900)
        #expect(gone.cancelAtPeriodEnd == false)
    }

    @Test func checkoutSessionsGiveUserFromClientReferenceOrMetadata() throws {
        let subscription = try StripeEvent(
            decoding: FakeStripe.checkoutSessionCompleted(
                sessionID: "cs_1", mode: "subscription", userID: 11, plan: "premium_monthly", customer: "cus_1",
                subscription: "sub_1", amountTotal: 999)
        ).checkoutSession()
        #expect(subscription.id == "cs_1")
        #expect(subscription.mode == .subscription)
        #expect(subscription.customer == "cus_1")
        #expect(subscription.subscription == "sub_1")
        #expect(subscription.clientReferenceID == "11")
        #expect(subscription.userID == 11)
        #expect(subscription.plan == "premium_monthly")
        #expect(subscription.isPaid)
        #expect(subscription.amountTotal == 999)
        #expect(subscription.currency == "usd")

        let payment = try StripeEvent(
            decoding: FakeStripe.checkoutSessionCompleted(
                mode: "payment", userID: 12, plan: "lifetime", clientReferenceID: .some(nil), paymentStatus: "unpaid")
        ).checkoutSession()
        #expect(payment.mode == .payment)
        #expect(payment.clientReferenceID == nil)
        #expect(payment.userID == 12)
        #expect(payment.subscription == nil)
        #expect(payment.paymentIntent?.hasPrefix("pi_") == true)
        #expect(!payment.isPaid)
    }

    @Test(arguments: [FakeStripe.APIShape.classic, .current])
    func chargeRefundsDecode(shape: FakeStripe.APIShape) throws {
        let full = try StripeEvent(
            decoding: FakeStripe.chargeRefunded(
                chargeID: "ch_1", customer: "cus_1", invoice: "in_1", paymentIntent: "pi_1", userID: 3, plan: "p",
                amount: 999, shape: shape)
        ).charge()
        #expect(full.id == "ch_1")
        #expect(full.customer == "cus_1")
        #expect(full.invoice == (shape == .classic ? "in_1" : nil))
        #expect(full.paymentIntent == "pi_1")
        #expect(full.amount == 999)
        #expect(full.amountRefunded == 999)
        #expect(full.refunded)
        #expect(full.isFullyRefunded)
        #expect(full.userID == 3)
        let partial = try StripeEvent(
            decoding: FakeStripe.chargeRefunded(userID: 3, plan: "p", amount: 999, amountRefunded: 100, shape: shape)
        ).charge()
        #expect(!partial.refunded)
        #expect(!partial.isFullyRefunded)
    }

    @Test func unknownFieldsAndUnknownTypesAreTolerated() throws {
        var object = FakeStripe.chargeObject(userID: 1, plan: nil)
        object["brand_new_field"] = ["nested": [1, 2.5, true, NSNull()]]
        object["customer"] = ["id": "cus_expanded", "object": "customer", "email": "a@b.c"]
        let payload = FakeStripe.event(
            id: "evt_x", type: "radar.early_fraud_warning.created", object: object,
            previousAttributes: ["amount": 5])
        let event = try StripeEvent(decoding: payload)
        #expect(event.type.rawValue == "radar.early_fraud_warning.created")
        #expect(!event.type.isHandled)
        #expect(event.previousAttributes?["amount"]?.integerValue == 5)
        #expect(event.object["brand_new_field"]?["nested"] == .array([.integer(1), .number(2.5), .bool(true), .null]))
        #expect(try event.charge().customer == "cus_expanded")
        // The raw object survives: decoding it again gives the same value.
        let again = try JSONDecoder().decode(JSONValue.self, from: event.objectJSON)
        #expect(again == event.object)
    }

    @Test func envelopeProblemsAreTypedErrors() throws {
        #expect(Self.decodeError(Data("not json".utf8)) == .malformedJSON)
        #expect(Self.decodeError(Data("[1,2]".utf8)) == .malformedJSON)
        #expect(Self.decodeError(Data("".utf8)) == .malformedJSON)
        let good: [String: Any] = [
            "id": "evt_1", "type": "invoice.paid", "created": 1, "data": ["object": ["id": "in_1"]],
        ]
        #expect(Self.decodeError(try Self.json(good)) == nil)
        for field in ["id", "type", "created", "data"] {
            var broken = good
            broken[field] = nil
            #expect(Self.decodeError(try Self.json(broken)) == .missingField(path: field), "without \(field)")
        }
        var nullID = good
        nullID["id"] = NSNull()
        #expect(Self.decodeError(try Self.json(nullID)) == .missingField(path: "id"))
        var emptyID = good
        emptyID["id"] = ""
        #expect(Self.decodeError(try Self.json(emptyID)) == .invalidValue(path: "id"))
        var textCreated = good
        textCreated["created"] = "yesterday"
        #expect(Self.decodeError(try Self.json(textCreated)) == .wrongType(path: "created"))
        var noObject = good
        noObject["data"] = ["previous_attributes": [:] as [String: Any]]
        #expect(Self.decodeError(try Self.json(noObject)) == .missingField(path: "data.object"))
        var arrayObject = good
        arrayObject["data"] = ["object": [1, 2]]
        #expect(Self.decodeError(try Self.json(arrayObject)) == .wrongType(path: "data.object"))
        var nullObject = good
        nullObject["data"] = ["object": NSNull()]
        #expect(Self.decodeError(try Self.json(nullObject)) == .wrongType(path: "data.object"))
        // The object is not decoded into a tree any more; numbers no Double can hold are still refused.
        let huge = #"{"id":"evt_1","type":"x.y","created":1,"data":{"object":{"n":1e400,"s":"1e400 \" 1e999"}}}"#
        #expect(Self.decodeError(Data(huge.utf8)) == .malformedJSON)
        let fine = #"{"id":"evt_1","type":"x.y","created":1,"data":{"object":{"n":-1.5e300,"s":"1e400 \" 1e999"}}}"#
        #expect(Self.decodeError(Data(fine.utf8)) == nil)
    }

    @Test func typedViewsReportMissingAndMistypedFieldsWithTheirPath() throws {
        func viewError(_ object: [String: Any], _ view: (StripeEvent) throws -> Void) throws -> StripeEventDecodingError? {
            let event = try StripeEvent(decoding: FakeStripe.event(type: "x.y", object: object))
            do {
                try view(event)
                return nil
            } catch let error as StripeEventDecodingError {
                return error
            }
        }
        let invoice = FakeStripe.invoiceObject(userID: 1, plan: "p", periodStart: 1, periodEnd: 2)
        #expect(try viewError(invoice) { _ = try $0.invoice() } == nil)
        var noCurrency = invoice
        noCurrency["currency"] = nil
        #expect(try viewError(noCurrency) { _ = try $0.invoice() } == .missingField(path: "data.object.currency"))
        var textAmount = invoice
        textAmount["amount_paid"] = "999"
        #expect(try viewError(textAmount) { _ = try $0.invoice() } == .wrongType(path: "data.object.amount_paid"))
        var badLine = invoice
        badLine["lines"] = ["data": [["period": ["start": 1, "end": "soon"]]]]
        #expect(try viewError(badLine) { _ = try $0.invoice() } == .wrongType(path: "data.object.lines.data[0].period.end"))

        let subscription = FakeStripe.subscriptionObject(userID: 1, plan: "p", currentPeriodEnd: 5)
        var noCustomer = subscription
        noCustomer["customer"] = nil
        #expect(try viewError(noCustomer) { _ = try $0.subscription() } == .missingField(path: "data.object.customer"))
        var noStatus = subscription
        noStatus["status"] = NSNull()
        #expect(try viewError(noStatus) { _ = try $0.subscription() } == .missingField(path: "data.object.status"))

        var noMode = FakeStripe.checkoutSessionObject(userID: 1, plan: "p")
        noMode["mode"] = nil
        #expect(try viewError(noMode) { _ = try $0.checkoutSession() } == .missingField(path: "data.object.mode"))

        var noRefunded = FakeStripe.chargeObject(userID: 1, plan: "p")
        noRefunded["refunded"] = nil
        #expect(try viewError(noRefunded) { _ = try $0.charge() } == .missingField(path: "data.object.refunded"))

        // Asking for the wrong kind of object.
        #expect(try viewError(invoice) { _ = try $0.charge() } == .unexpectedObject(expected: "charge", actual: "invoice"))
        #expect(
            try viewError(subscription) { _ = try $0.invoice() }
                == .unexpectedObject(expected: "invoice", actual: "subscription"))
    }

    @Test func decodingErrorDescriptionsNameThePathButNotValues() {
        let error = StripeEventDecodingError.wrongType(path: "data.object.amount_paid")
        #expect(error.description.contains("data.object.amount_paid"))
        #expect(StripeEventDecodingError.malformedJSON.description.contains("JSON"))
    }
}
