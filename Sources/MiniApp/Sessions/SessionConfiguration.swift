/// Keys and lifetimes of Mini App sessions.
///
/// Rotation: tokens are signed with `currentKey` only; `previousKey`, when set, still verifies tokens signed before
/// the rotation. Set it for at least one TTL after rotating, then remove it.
public struct SessionConfiguration: Sendable, CustomStringConvertible {
    /// HS256 wants a key at least as long as its output; jwt-kit asserts it (and crashes debug builds otherwise).
    public static let minimumKeyBytes = 32

    public let currentKey: [UInt8]
    public let previousKey: [UInt8]?
    /// Token lifetime (`JWT_TTL_SECONDS`, default 900).
    public let ttlSeconds: Int
    /// How long a positive session-row check may be reused by this process before the row is read again; zero
    /// (the default) reads the row on every verification. A revocation made through this process's
    /// `SessionService` always takes effect at once; one made elsewhere within this interval.
    public let validityCacheTTL: Duration
    /// Tolerated clock skew for `iat` in the future (tokens from another instance), in seconds.
    public let allowedIssuedAtSkewSeconds: Int64

    /// - Parameters:
    ///   - currentSecret: `JWT_SECRET` (at least 32 bytes).
    ///   - previousSecret: the secret before the last rotation (at least 32 bytes), or nil.
    ///   - ttlSeconds: token lifetime.
    ///   - validityCacheTTL: see `validityCacheTTL`.
    /// - Throws: `SessionConfigurationError` naming the bad setting.
    public init(
        currentSecret: String,
        previousSecret: String? = nil,
        ttlSeconds: Int = 900,
        validityCacheTTL: Duration = .zero,
        allowedIssuedAtSkewSeconds: Int64 = 60
    ) throws(SessionConfigurationError) {
        try self.init(
            currentKey: Array(currentSecret.utf8), previousKey: previousSecret.map { Array($0.utf8) },
            ttlSeconds: ttlSeconds, validityCacheTTL: validityCacheTTL,
            allowedIssuedAtSkewSeconds: allowedIssuedAtSkewSeconds)
    }

    /// The same with raw key bytes.
    public init(
        currentKey: [UInt8],
        previousKey: [UInt8]? = nil,
        ttlSeconds: Int = 900,
        validityCacheTTL: Duration = .zero,
        allowedIssuedAtSkewSeconds: Int64 = 60
    ) throws(SessionConfigurationError) {
        guard currentKey.count >= Self.minimumKeyBytes else { throw .currentKeyTooShort(minimumBytes: Self.minimumKeyBytes) }
        if let previousKey, previousKey.count < Self.minimumKeyBytes {
            throw .previousKeyTooShort(minimumBytes: Self.minimumKeyBytes)
        }
        guard ttlSeconds > 0 else { throw .nonPositiveTTL }
        self.currentKey = currentKey
        // The same key twice is one key.
        self.previousKey = previousKey == currentKey ? nil : previousKey
        self.ttlSeconds = ttlSeconds
        self.validityCacheTTL = max(validityCacheTTL, .zero)
        self.allowedIssuedAtSkewSeconds = max(allowedIssuedAtSkewSeconds, 0)
    }

    /// Redacts the keys.
    public var description: String {
        "SessionConfiguration(currentKey: <redacted>, previousKey: \(previousKey == nil ? "none" : "<redacted>"), "
            + "ttl: \(ttlSeconds) s, validityCacheTTL: \(validityCacheTTL))"
    }
}
