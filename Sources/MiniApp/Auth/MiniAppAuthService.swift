import Foundation
import Logging
import Metrics
import PGClient
import Support

/// `POST /api/v1/miniapp/auth` without HTTP: validates initData, creates or refreshes the user, opens a session and
/// returns its token.
///
/// Metrics: `miniapp_sessions_total` counts sessions issued; `miniapp_exchange_latency_seconds` (a timer, which the
/// App's Prometheus backend turns into the contract's histogram) times every exchange, refused ones included.
public struct MiniAppAuthService: Sendable {
    let pool: PGPool
    let validator: InitDataValidator
    let sessions: SessionService
    let ipLimiter: TokenBucketRateLimiter<String>?
    let userLimiter: TokenBucketRateLimiter<Int64>?
    let logger: Logger
    let sessionsTotal: Counter
    let latency: Metrics.Timer

    /// The default per-IP limit: bursts of 60, then one a second (mobile carriers put many users behind one IP).
    public static func defaultIPLimiter() -> TokenBucketRateLimiter<String> {
        TokenBucketRateLimiter(capacity: 60, refillPerSecond: 1)
    }

    /// The default per-user limit: bursts of 10, then one every 5 seconds (a Mini App exchanges once per opening
    /// and once per token lifetime).
    public static func defaultUserLimiter() -> TokenBucketRateLimiter<Int64> {
        TokenBucketRateLimiter(capacity: 10, refillPerSecond: 0.2)
    }

    /// - Parameters:
    ///   - pool: the database.
    ///   - validator: the initData checks.
    ///   - sessions: issues the token.
    ///   - ipLimiter: limits exchanges per client IP (before validation); nil disables it.
    ///   - userLimiter: limits exchanges per Telegram user (after validation, so nobody can exhaust another user's
    ///     bucket without their initData); nil disables it.
    ///   - logger: refusals at debug level with the reason, never the initData or the token.
    ///   - metricsFactory: where the metrics go; nil uses the process's bootstrapped `MetricsSystem`.
    public init(
        pool: PGPool,
        validator: InitDataValidator,
        sessions: SessionService,
        ipLimiter: TokenBucketRateLimiter<String>? = MiniAppAuthService.defaultIPLimiter(),
        userLimiter: TokenBucketRateLimiter<Int64>? = MiniAppAuthService.defaultUserLimiter(),
        logger: Logger = Logger(label: "telebot.miniapp.auth"),
        metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.pool = pool
        self.validator = validator
        self.sessions = sessions
        self.ipLimiter = ipLimiter
        self.userLimiter = userLimiter
        self.logger = logger
        if let metricsFactory {
            self.sessionsTotal = Counter(label: "miniapp_sessions_total", factory: metricsFactory)
            self.latency = Metrics.Timer(label: "miniapp_exchange_latency_seconds", factory: metricsFactory)
        } else {
            self.sessionsTotal = Counter(label: "miniapp_sessions_total")
            self.latency = Metrics.Timer(label: "miniapp_exchange_latency_seconds")
        }
    }

    /// Exchanges initData for an access token.
    /// - Parameters:
    ///   - initData: raw `Telegram.WebApp.initData`.
    ///   - userAgent: stored with the session.
    ///   - clientIP: the caller's address, for the per-IP limit.
    ///   - now: the clock (freshness of `auth_date`, `iat`).
    /// - Returns: the contract's response values.
    /// - Throws: `MiniAppAuthError` (401/429); `PGError` when the database fails.
    public func exchange(
        initData: String, userAgent: String?, clientIP: String? = nil, now: Date = Date()
    ) async throws -> MiniAppAuthResult {
        let started = ContinuousClock.now
        defer { latency.recordInterval(since: started) }

        if let ipLimiter, let clientIP {
            try Self.check(ipLimiter.acquire(clientIP))
        }
        let profile: WebAppUser
        do throws(InitDataError) {
            let data = try validator.validate(initData, now: now)
            guard let user = data.user else { throw InitDataError.missingUser }
            guard user.id > 0 else { throw InitDataError.malformedUser }
            profile = user
        } catch {
            logger.debug("initData refused", metadata: ["reason": "\(error)"])
            throw MiniAppAuthError.invalidInitData(error)
        }
        if let userLimiter {
            try Self.check(userLimiter.acquire(profile.id))
        }

        let sessions = self.sessions
        let (user, claims) = try await pool.transaction { tx in
            let user = try await MiniAppUserStore.upsert(tx, profile: profile)
            let claims = sessions.makeClaims(userID: user.id, telegramID: user.telegramID, now: now)
            try await SessionService.record(tx, claims: claims, userAgent: userAgent)
            return (user, claims)
        }
        let token = try await sessions.sign(claims)
        sessionsTotal.increment()
        logger.info("mini app session issued", metadata: ["user_id": "\(user.id)", "jti": "\(claims.jti)"])
        return MiniAppAuthResult(
            accessToken: token, expiresIn: sessions.configuration.ttlSeconds, user: user, claims: claims)
    }

    static func check(_ decision: RateLimitDecision) throws(MiniAppAuthError) {
        if let seconds = decision.retryAfterSeconds { throw .rateLimited(retryAfterSeconds: seconds) }
    }
}

extension Metrics.Timer {
    /// Records the time since `start` on the monotonic clock.
    func recordInterval(since start: ContinuousClock.Instant) {
        recordNanoseconds((ContinuousClock.now - start).inNanoseconds)
    }
}
