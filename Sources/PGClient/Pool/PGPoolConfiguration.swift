/// How a `PGPool` connects and how it bounds its waiters.
public struct PGPoolConfiguration: Sendable {
    /// libpq connection string or URI (`DATABASE_URL`).
    public var conninfo: String
    /// Connections (and I/O threads) in the pool (`DB_POOL_SIZE`).
    public var size: Int
    /// Tasks that may wait for a connection at once; past that, checkout fails at once with `.poolExhausted`.
    public var maxWaiters: Int
    /// How long a task waits for a connection before `.checkoutTimeout`.
    public var checkoutTimeout: Duration
    /// Per-connection prepared statement cache; turn off for PgBouncer in transaction mode.
    public var usePreparedStatements: Bool
    /// Whole-transaction attempts on serialization failures and deadlocks.
    public var maxTransactionAttempts: Int
    /// Server-side `statement_timeout` of every connection (nil: the server's default). A statement stuck on a
    /// lock or a runaway plan then fails with SQLSTATE 57014 instead of holding a pool thread forever.
    public var statementTimeout: Duration?

    public init(
        conninfo: String,
        size: Int = 10,
        maxWaiters: Int = 10_000,
        checkoutTimeout: Duration = .seconds(5),
        usePreparedStatements: Bool = true,
        maxTransactionAttempts: Int = 8,
        statementTimeout: Duration? = nil
    ) {
        self.conninfo = conninfo
        self.size = max(1, size)
        self.maxWaiters = max(0, maxWaiters)
        self.checkoutTimeout = checkoutTimeout
        self.usePreparedStatements = usePreparedStatements
        self.maxTransactionAttempts = max(1, maxTransactionAttempts)
        self.statementTimeout = statementTimeout
    }
}
