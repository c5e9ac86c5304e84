import Foundation

extension FakeBotAPI {
    /// An incoming Stars payment by a user (`source` a `TransactionPartnerUser` with `invoice_payload`).
    public static func starPayment(
        chargeID: String, amount: Int64, date: Int64, userID: Int64, payload: String, subscriptionPeriod: Int64? = nil
    ) -> JSON {
        var source: [String: JSON] = [
            "type": "user", "transaction_type": "invoice_payment",
            "user": ["id": .integer(userID), "is_bot": false, "first_name": "Payer"],
            "invoice_payload": .string(payload),
        ]
        if let subscriptionPeriod { source["subscription_period"] = .integer(subscriptionPeriod) }
        return ["id": .string(chargeID), "amount": .integer(amount), "date": .integer(date), "source": .object(source)]
    }

    /// An outgoing refund of `chargeID` to a user (`receiver` a `TransactionPartnerUser`).
    public static func starRefund(chargeID: String, amount: Int64, date: Int64, userID: Int64) -> JSON {
        [
            "id": .string(chargeID), "amount": .integer(amount), "date": .integer(date),
            "receiver": [
                "type": "user", "transaction_type": "invoice_payment",
                "user": ["id": .integer(userID), "is_bot": false, "first_name": "Payer"],
            ],
        ]
    }
}
