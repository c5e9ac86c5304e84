import Foundation

extension FakeStripe.Store {
    /// The endpoints. Runs under the store's lock.
    func route(_ state: inout State, method: String, path: String, form: [FakeStripe.FormField]) -> Answer {
        var fields: [String: String] = [:]
        for field in form { fields[field.name] = field.value }
        switch (method, path) {
        case ("POST", "/v1/customers"):
            return createCustomer(&state, fields)
        case ("POST", "/v1/checkout/sessions"):
            return createCheckoutSession(&state, fields)
        case ("POST", "/v1/billing_portal/sessions"):
            return createPortalSession(&state, fields)
        case ("POST", "/v1/refunds"):
            return createRefund(&state, fields)
        case ("POST", _) where path.hasPrefix("/v1/subscriptions/"):
            return updateSubscription(&state, path: path, fields)
        case ("GET", "/v1/events"):
            return listEvents(state, form)
        case ("GET", _):
            if let json = state.objects[path] { return Answer(status: 200, json: json) }
            return Self.errorAnswer(
                404, type: "invalid_request_error", code: "resource_missing", param: "id",
                message: "No such object: '\(path.split(separator: "/").last ?? "")'")
        default:
            return Self.errorAnswer(
                404, type: "invalid_request_error", message: "Unrecognized request URL (\(method): \(path)).")
        }
    }

    private func newID(_ state: inout State, _ kind: FakeStripe.ObjectKind) -> String {
        state.counter += 1
        return "\(kind.rawValue)_fake\(String(format: "%06d", state.counter))"
    }

    private func save(_ state: inout State, kind: FakeStripe.ObjectKind, id: String, collection: String, _ object: [String: Any])
        -> Answer
    {
        let json = Self.json(object)
        state.objects["/v1/\(collection)/\(id)"] = json
        state.created.append(Created(kind: kind, id: id))
        return Answer(status: 200, json: json)
    }

    /// `name[key]=value` fields as a dictionary.
    private static func nested(_ fields: [String: String], _ name: String) -> [String: String] {
        var result: [String: String] = [:]
        let prefix = name + "["
        for (field, value) in fields where field.hasPrefix(prefix) && field.hasSuffix("]") {
            let key = field.dropFirst(prefix.count).dropLast()
            if !key.contains("[") { result[String(key)] = value }
        }
        return result
    }

    private static var now: Int { Int(Date().timeIntervalSince1970) }

    private func createCustomer(_ state: inout State, _ fields: [String: String]) -> Answer {
        let id = newID(&state, .customer)
        return save(
            &state, kind: .customer, id: id, collection: "customers",
            [
                "id": id, "object": "customer", "created": Self.now, "livemode": false,
                "email": fields["email"] ?? NSNull(), "name": fields["name"] ?? NSNull(),
                "metadata": Self.nested(fields, "metadata"),
            ])
    }

    private func createCheckoutSession(_ state: inout State, _ fields: [String: String]) -> Answer {
        guard let mode = fields["mode"], ["payment", "subscription", "setup"].contains(mode) else {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_missing", param: "mode",
                message: "Missing required param: mode.")
        }
        if mode != "setup", fields["line_items[0][price]"] == nil {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_missing", param: "line_items",
                message: "You must specify `line_items` in `\(mode)` mode.")
        }
        guard let successURL = fields["success_url"] else {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_missing", param: "success_url",
                message: "Missing required param: success_url.")
        }
        if let customer = fields["customer"], !customer.hasPrefix("cus_") {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "resource_missing", param: "customer",
                message: "No such customer: '\(customer)'")
        }
        let id = newID(&state, .checkoutSession)
        return save(
            &state, kind: .checkoutSession, id: id, collection: "checkout/sessions",
            [
                "id": id, "object": "checkout.session", "created": Self.now, "livemode": false, "mode": mode,
                "url": "https://checkout.stripe.com/c/pay/\(id)", "status": "open", "payment_status": "unpaid",
                "customer": fields["customer"] ?? NSNull(),
                "client_reference_id": fields["client_reference_id"] ?? NSNull(),
                "metadata": Self.nested(fields, "metadata"), "success_url": successURL,
                "cancel_url": fields["cancel_url"] ?? NSNull(), "subscription": NSNull(),
            ])
    }

    /// `POST /v1/subscriptions/{id}`: only `cancel_at_period_end`, on a subscription put there with `stub`.
    private func updateSubscription(_ state: inout State, path: String, _ fields: [String: String]) -> Answer {
        guard let json = state.objects[path],
            var object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any]
        else {
            return Self.errorAnswer(
                404, type: "invalid_request_error", code: "resource_missing", param: "id",
                message: "No such subscription: '\(path.split(separator: "/").last ?? "")'")
        }
        if let flag = fields["cancel_at_period_end"] {
            guard flag == "true" || flag == "false" else {
                return Self.errorAnswer(
                    400, type: "invalid_request_error", code: "parameter_invalid_boolean", param: "cancel_at_period_end",
                    message: "Invalid boolean: \(flag)")
            }
            object["cancel_at_period_end"] = flag == "true"
        }
        let updated = Self.json(object)
        state.objects[path] = updated
        return Answer(status: 200, json: updated)
    }

    private func createPortalSession(_ state: inout State, _ fields: [String: String]) -> Answer {
        guard let customer = fields["customer"] else {
            return Self.errorAnswer(
                400, type: "invalid_request_error", code: "parameter_missing", param: "customer",
                message: "Missing required param: customer.")
        }
        let id = newID(&state, .billingPortalSession)
        return save(
            &state, kind: .billingPortalSession, id: id, collection: "billing_portal/sessions",
            [
                "id": id, "object": "billing_portal.session", "created": Self.now, "livemode": false,
                "customer": customer, "return_url": fields["return_url"] ?? NSNull(),
                "url": "https://billing.stripe.com/p/session/\(id)",
            ])
    }
}
