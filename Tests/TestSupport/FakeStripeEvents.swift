import Foundation

/// JSON builders for Stripe webhook events, shaped like Stripe's payloads.
///
/// Each `xxx(...)` returns the event body (`Data`, ready for `signedWebhook`); each `xxxObject(...)` returns the
/// bare `data.object` as a dictionary, to be altered (a field removed, a type changed) and wrapped with
/// `event(type:object:)`. `userID`/`plan` become `metadata.user_id`/`metadata.plan` where Stripe would carry the
/// metadata our checkout sets.
extension FakeStripe {
    /// Which generation of Stripe's object shapes to build.
    public enum APIShape: Sendable {
        /// Before 2025-03-31: `invoice.subscription`, `subscription_details.metadata`, `lines.data[].price.id`,
        /// top-level `subscription.current_period_end`, `charge.invoice`.
        case classic
        /// 2025-03-31.basil and later: `invoice.parent.subscription_details`, `lines.data[].pricing.price_details`,
        /// `subscription.items.data[].current_period_end`, no `charge.invoice`.
        case current

        public var apiVersion: String {
            switch self {
            case .classic: "2024-06-20"
            case .current: "2025-03-31.basil"
            }
        }
    }

    /// An event envelope around `object`.
    public static func event(
        id: String = newID("evt"), type: String, created: Int64 = nowSeconds(), apiVersion: String? = "2024-06-20",
        livemode: Bool = false, object: [String: Any], previousAttributes: [String: Any]? = nil
    ) -> Data {
        var data: [String: Any] = ["object": object]
        if let previousAttributes { data["previous_attributes"] = previousAttributes }
        let envelope: [String: Any] = [
            "id": id, "object": "event", "type": type, "created": created, "livemode": livemode,
            "api_version": apiVersion ?? NSNull(), "pending_webhooks": 1,
            "request": ["id": NSNull(), "idempotency_key": NSNull()], "data": data,
        ]
        return json(envelope)
    }

    /// `metadata` as our checkout writes it.
    public static func metadata(userID: Int64?, plan: String?, extra: [String: String] = [:]) -> [String: String] {
        var metadata = extra
        if let userID { metadata["user_id"] = String(userID) }
        if let plan { metadata["plan"] = plan }
        return metadata
    }

    // MARK: checkout.session.completed

    /// A `checkout.session.completed` event.
    public static func checkoutSessionCompleted(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), sessionID: String = newID("cs_test"),
        mode: String = "subscription", userID: Int64?, plan: String?, customer: String? = newID("cus"),
        subscription: String? = nil, clientReferenceID: String?? = nil, paymentStatus: String = "paid",
        amountTotal: Int64 = 999, currency: String = "usd", paymentIntent: String? = nil
    ) -> Data {
        event(
            id: eventID, type: "checkout.session.completed", created: created,
            object: checkoutSessionObject(
                sessionID: sessionID, mode: mode, userID: userID, plan: plan, customer: customer,
                subscription: subscription, clientReferenceID: clientReferenceID, paymentStatus: paymentStatus,
                amountTotal: amountTotal, currency: currency, paymentIntent: paymentIntent))
    }

    /// A completed `checkout.session` object. `clientReferenceID` defaults to the user id; pass `.some(nil)` for none.
    /// In subscription mode a missing `subscription` gets a fresh id; in payment mode a missing `paymentIntent` too.
    public static func checkoutSessionObject(
        sessionID: String = newID("cs_test"), mode: String = "subscription", userID: Int64?, plan: String?,
        customer: String? = newID("cus"), subscription: String? = nil, clientReferenceID: String?? = nil,
        paymentStatus: String = "paid", amountTotal: Int64 = 999, currency: String = "usd",
        paymentIntent: String? = nil
    ) -> [String: Any] {
        let reference: String? = clientReferenceID ?? userID.map(String.init)
        return [
            "id": sessionID, "object": "checkout.session", "mode": mode, "status": "complete",
            "payment_status": paymentStatus, "amount_total": amountTotal, "currency": currency,
            "customer": customer ?? NSNull(), "client_reference_id": reference ?? NSNull(),
            "subscription": (subscription ?? (mode == "subscription" ? newID("sub") : nil)) ?? NSNull(),
            "payment_intent": (paymentIntent ?? (mode == "payment" ? newID("pi") : nil)) ?? NSNull(),
            "metadata": metadata(userID: userID, plan: plan), "livemode": false,
            "created": nowSeconds(), "url": NSNull(),
        ]
    }

    // MARK: invoice.*

    /// An `invoice.paid` event.
    public static func invoicePaid(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), invoiceID: String = newID("in"),
        customer: String = newID("cus"), subscription: String? = newID("sub"), userID: Int64?, plan: String?,
        priceID: String = "price_123", periodStart: Int64, periodEnd: Int64, amount: Int64 = 999,
        currency: String = "usd", shape: APIShape = .classic
    ) -> Data {
        invoiceEvent(
            type: "invoice.paid", eventID: eventID, created: created, invoiceID: invoiceID, customer: customer,
            subscription: subscription, userID: userID, plan: plan, priceID: priceID, periodStart: periodStart,
            periodEnd: periodEnd, amount: amount, currency: currency, status: "paid", shape: shape)
    }

    /// An `invoice.payment_failed` event (status `open`, nothing paid).
    public static func invoicePaymentFailed(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), invoiceID: String = newID("in"),
        customer: String = newID("cus"), subscription: String? = newID("sub"), userID: Int64?, plan: String?,
        priceID: String = "price_123", periodStart: Int64, periodEnd: Int64, amount: Int64 = 999,
        currency: String = "usd", shape: APIShape = .classic
    ) -> Data {
        invoiceEvent(
            type: "invoice.payment_failed", eventID: eventID, created: created, invoiceID: invoiceID,
            customer: customer, subscription: subscription, userID: userID, plan: plan, priceID: priceID,
            periodStart: periodStart, periodEnd: periodEnd, amount: amount, currency: currency, status: "open",
            shape: shape)
    }

    /// Any `invoice.*` event (`invoice.payment_succeeded` too). `status` `paid` sets `amount_paid` to `amount`.
    public static func invoiceEvent(
        type: String, eventID: String = newID("evt"), created: Int64 = nowSeconds(), invoiceID: String = newID("in"),
        customer: String = newID("cus"), subscription: String? = newID("sub"), userID: Int64?, plan: String?,
        priceID: String = "price_123", periodStart: Int64, periodEnd: Int64, amount: Int64 = 999,
        currency: String = "usd", status: String = "paid", shape: APIShape = .classic
    ) -> Data {
        event(
            id: eventID, type: type, created: created, apiVersion: shape.apiVersion,
            object: invoiceObject(
                invoiceID: invoiceID, customer: customer, subscription: subscription, userID: userID, plan: plan,
                priceID: priceID, periodStart: periodStart, periodEnd: periodEnd, amount: amount, currency: currency,
                status: status, created: created, shape: shape))
    }

    /// An `invoice` object with one subscription line covering `periodStart...periodEnd`.
    public static func invoiceObject(
        invoiceID: String = newID("in"), customer: String = newID("cus"), subscription: String? = newID("sub"),
        userID: Int64?, plan: String?, priceID: String = "price_123", periodStart: Int64, periodEnd: Int64,
        amount: Int64 = 999, currency: String = "usd", status: String = "paid", created: Int64 = nowSeconds(),
        shape: APIShape = .classic
    ) -> [String: Any] {
        let meta = metadata(userID: userID, plan: plan)
        var line: [String: Any] = [
            "id": newID("il"), "object": "line_item", "amount": amount, "currency": currency,
            "period": ["start": periodStart, "end": periodEnd], "metadata": meta, "quantity": 1,
        ]
        var invoice: [String: Any] = [
            "id": invoiceID, "object": "invoice", "customer": customer, "status": status,
            "amount_due": amount, "amount_paid": status == "paid" ? amount : 0,
            "amount_remaining": status == "paid" ? 0 : amount, "currency": currency, "created": created,
            "hosted_invoice_url": "https://invoice.stripe.com/i/\(invoiceID)",
            // Stripe's invoice period is the previous one for subscription renewals; the line carries the paid one.
            "period_start": periodStart, "period_end": periodStart, "metadata": [String: String](),
            "livemode": false, "billing_reason": "subscription_cycle",
        ]
        switch shape {
        case .classic:
            line["price"] = ["id": priceID, "object": "price", "recurring": ["interval": "month"]]
            line["subscription"] = subscription ?? NSNull()
            invoice["subscription"] = subscription ?? NSNull()
            invoice["subscription_details"] = ["metadata": meta]
        case .current:
            line["pricing"] = ["type": "price_details", "price_details": ["price": priceID, "product": "prod_fake"]]
            line["parent"] = [
                "type": "subscription_item_details",
                "subscription_item_details": ["subscription": subscription ?? NSNull(), "subscription_item": "si_fake"]
                    as [String: Any],
            ]
            invoice["parent"] = [
                "type": "subscription_details",
                "subscription_details": ["subscription": subscription ?? NSNull(), "metadata": meta] as [String: Any],
            ]
        }
        invoice["lines"] = ["object": "list", "data": [line], "has_more": false]
        return invoice
    }

    // MARK: customer.subscription.*

    /// A `customer.subscription.updated` event.
    public static func subscriptionUpdated(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), subscriptionID: String = newID("sub"),
        customer: String = newID("cus"), status: String = "active", userID: Int64?, plan: String?,
        priceID: String = "price_123", currentPeriodEnd: Int64, cancelAtPeriodEnd: Bool = false,
        shape: APIShape = .classic
    ) -> Data {
        subscriptionEvent(
            type: "customer.subscription.updated", eventID: eventID, created: created, subscriptionID: subscriptionID,
            customer: customer, status: status, userID: userID, plan: plan, priceID: priceID,
            currentPeriodEnd: currentPeriodEnd, cancelAtPeriodEnd: cancelAtPeriodEnd, shape: shape)
    }

    /// A `customer.subscription.deleted` event (status `canceled`, `ended_at` = `created`).
    public static func subscriptionDeleted(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), subscriptionID: String = newID("sub"),
        customer: String = newID("cus"), userID: Int64?, plan: String?, priceID: String = "price_123",
        currentPeriodEnd: Int64, shape: APIShape = .classic
    ) -> Data {
        subscriptionEvent(
            type: "customer.subscription.deleted", eventID: eventID, created: created, subscriptionID: subscriptionID,
            customer: customer, status: "canceled", userID: userID, plan: plan, priceID: priceID,
            currentPeriodEnd: currentPeriodEnd, cancelAtPeriodEnd: false, shape: shape)
    }

    /// Any `customer.subscription.*` event (`.created` too).
    public static func subscriptionEvent(
        type: String, eventID: String = newID("evt"), created: Int64 = nowSeconds(),
        subscriptionID: String = newID("sub"), customer: String = newID("cus"), status: String = "active",
        userID: Int64?, plan: String?, priceID: String = "price_123", currentPeriodEnd: Int64,
        cancelAtPeriodEnd: Bool = false, shape: APIShape = .classic
    ) -> Data {
        event(
            id: eventID, type: type, created: created, apiVersion: shape.apiVersion,
            object: subscriptionObject(
                subscriptionID: subscriptionID, customer: customer, status: status, userID: userID, plan: plan,
                priceID: priceID, currentPeriodEnd: currentPeriodEnd, cancelAtPeriodEnd: cancelAtPeriodEnd,
                endedAt: status == "canceled" ? created : nil, shape: shape))
    }

    /// A `subscription` object with one item. The period starts 30 days before `currentPeriodEnd`.
    public static func subscriptionObject(
        subscriptionID: String = newID("sub"), customer: String = newID("cus"), status: String = "active",
        userID: Int64?, plan: String?, priceID: String = "price_123", currentPeriodEnd: Int64,
        cancelAtPeriodEnd: Bool = false, endedAt: Int64? = nil, shape: APIShape = .classic
    ) -> [String: Any] {
        let periodStart = currentPeriodEnd - 30 * 86400
        var item: [String: Any] = [
            "id": newID("si"), "object": "subscription_item", "quantity": 1,
            "price": ["id": priceID, "object": "price", "recurring": ["interval": "month"]],
        ]
        var subscription: [String: Any] = [
            "id": subscriptionID, "object": "subscription", "customer": customer, "status": status,
            "cancel_at_period_end": cancelAtPeriodEnd, "metadata": metadata(userID: userID, plan: plan),
            "canceled_at": endedAt ?? NSNull(), "ended_at": endedAt ?? NSNull(),
            "cancel_at": cancelAtPeriodEnd ? currentPeriodEnd : NSNull(), "livemode": false,
            "created": periodStart,
        ]
        switch shape {
        case .classic:
            subscription["current_period_start"] = periodStart
            subscription["current_period_end"] = currentPeriodEnd
        case .current:
            item["current_period_start"] = periodStart
            item["current_period_end"] = currentPeriodEnd
        }
        subscription["items"] = ["object": "list", "data": [item], "has_more": false]
        return subscription
    }

    // MARK: charge.refunded

    /// A `charge.refunded` event; `amountRefunded` defaults to the whole amount (a full refund).
    public static func chargeRefunded(
        eventID: String = newID("evt"), created: Int64 = nowSeconds(), chargeID: String = newID("ch"),
        customer: String? = newID("cus"), invoice: String? = nil, paymentIntent: String? = newID("pi"),
        userID: Int64?, plan: String?, amount: Int64 = 999, amountRefunded: Int64? = nil, currency: String = "usd",
        shape: APIShape = .classic
    ) -> Data {
        event(
            id: eventID, type: "charge.refunded", created: created, apiVersion: shape.apiVersion,
            object: chargeObject(
                chargeID: chargeID, customer: customer, invoice: invoice, paymentIntent: paymentIntent,
                userID: userID, plan: plan, amount: amount, amountRefunded: amountRefunded ?? amount,
                currency: currency, shape: shape))
    }

    /// A `charge` object.
    public static func chargeObject(
        chargeID: String = newID("ch"), customer: String? = newID("cus"), invoice: String? = nil,
        paymentIntent: String? = newID("pi"), userID: Int64?, plan: String?, amount: Int64 = 999,
        amountRefunded: Int64 = 0, currency: String = "usd", shape: APIShape = .classic
    ) -> [String: Any] {
        var charge: [String: Any] = [
            "id": chargeID, "object": "charge", "customer": customer ?? NSNull(),
            "payment_intent": paymentIntent ?? NSNull(), "amount": amount, "amount_captured": amount,
            "amount_refunded": amountRefunded, "refunded": amountRefunded >= amount, "currency": currency,
            "status": "succeeded", "paid": true, "metadata": metadata(userID: userID, plan: plan),
            "livemode": false, "created": nowSeconds(),
        ]
        if shape == .classic { charge["invoice"] = invoice ?? NSNull() }
        return charge
    }

    /// Compact JSON with sorted keys.
    public static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
    }
}
