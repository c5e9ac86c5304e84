import Foundation

extension FakeStripe.Store {
    /// `POST /v1/refunds`: a full refund of `payment_intent` or `charge` (amount from a stubbed
    /// `/v1/payment_intents/{id}` when there is one, else 999 usd). A second refund of the same payment is 400
    /// `charge_already_refunded`, as Stripe answers.
    func createRefund(_ state: inout State, _ fields: [String: String]) -> Answer {
        guard let payment = fields["payment_intent"] ?? fields["charge"] else {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_missing", param: "payment_intent",
                message: "One of the following params should be provided for this request: payment_intent or charge.")
        }
        let marker = "/fake/refunded/\(payment)"
        if state.objects[marker] != nil {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "charge_already_refunded",
                message: "Charge for \(payment) has already been refunded.")
        }
        if let reason = fields["reason"], !["duplicate", "fraudulent", "requested_by_customer"].contains(reason) {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_invalid_empty", param: "reason",
                message: "Invalid reason: \(reason)")
        }
        state.counter += 1
        let id = "re_fake\(String(format: "%06d", state.counter))"
        var amount = 999
        var currency = "usd"
        if let intent = state.objects["/v1/payment_intents/\(payment)"],
            let object = (try? JSONSerialization.jsonObject(with: intent)) as? [String: Any]
        {
            amount = object["amount"] as? Int ?? amount
            currency = object["currency"] as? String ?? currency
        }
        let refund: [String: Any] = [
            "id": id, "object": "refund", "amount": amount, "currency": currency, "status": "succeeded",
            "payment_intent": fields["payment_intent"] ?? NSNull(), "charge": fields["charge"] ?? "ch_for_\(payment)",
            "reason": fields["reason"] ?? NSNull(), "created": Int(Date().timeIntervalSince1970),
        ]
        let json = Self.json(refund)
        state.objects["/v1/refunds/\(id)"] = json
        state.objects[marker] = json
        return Answer(status: 200, json: json)
    }
}
