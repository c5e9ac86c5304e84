import PGClient

/// `stripe_customers`: one Stripe customer per user and one user per customer.
public enum StripeCustomerStore {
    public static func customerID(_ connection: PGConnection, userID: Int64) async throws -> String? {
        try await connection.query("SELECT customer_id FROM stripe_customers WHERE user_id = \(userID)").first?
            .decode("customer_id", as: String.self)
    }

    public static func userID(_ connection: PGConnection, customerID: String) async throws -> Int64? {
        try await connection.query("SELECT user_id FROM stripe_customers WHERE customer_id = \(customerID)").first?
            .decode("user_id", as: Int64.self)
    }

    /// Links a customer to a user; keeps an existing link (the first one wins). Returns the linked customer id.
    @discardableResult
    public static func link(_ connection: PGConnection, userID: Int64, customerID: String) async throws -> String {
        try await connection.execute(
            """
            INSERT INTO stripe_customers (user_id, customer_id) VALUES (\(userID), \(customerID))
            ON CONFLICT DO NOTHING
            """)
        return try await self.customerID(connection, userID: userID) ?? customerID
    }
}
