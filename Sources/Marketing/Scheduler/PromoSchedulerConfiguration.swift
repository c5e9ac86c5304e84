import Foundation

/// How `PromoScheduler` posts: where, how often, and how it retries.
public struct PromoSchedulerConfiguration: Sendable {
    /// `MARKETING_CHANNEL_ID`: a chat id or `@channel`.
    public var chatID: String
    /// The campaign whose promos rotate and whose slots are claimed (`marketing_promos.campaign`).
    public var campaign: String
    /// `MARKETING_POST_INTERVAL_HOURS`: one post per slot; slots start at epoch multiples of this interval
    /// (whole milliseconds, at least 1).
    public var interval: Duration
    /// Longest sleep between ticks: bounds how late a pause, a resume or another instance's retry is noticed.
    public var pollInterval: Duration
    /// Attempts per slot, the first included.
    public var maxAttempts: Int
    /// Backoff after the first refused attempt; doubles each attempt up to `retryMaxDelay`.
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    /// How long one send may take before the slot is considered abandoned (must exceed the publisher's request
    /// timeout). An abandoned send's outcome is unknown, so its slot is marked failed, not posted again.
    public var sendLease: Duration
    /// A slot is retried only while `slot_start + retryWindow` has not passed (nil: one `interval`), so a late
    /// retry never lands next to the following slot's post.
    public var retryWindow: Duration?
    /// Names this instance in `marketing_posts.claimed_by`.
    public var instanceID: String

    public init(
        chatID: String,
        campaign: String = Marketing.defaultCampaign,
        interval: Duration = .seconds(4 * 3600),
        pollInterval: Duration = .seconds(30),
        maxAttempts: Int = 5,
        retryBaseDelay: Duration = .seconds(5),
        retryMaxDelay: Duration = .seconds(300),
        sendLease: Duration = .seconds(120),
        retryWindow: Duration? = nil,
        instanceID: String = PromoSchedulerConfiguration.defaultInstanceID()
    ) {
        self.chatID = chatID
        self.campaign = campaign
        self.interval = interval
        self.pollInterval = pollInterval
        self.maxAttempts = max(1, maxAttempts)
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.sendLease = sendLease
        self.retryWindow = retryWindow
        self.instanceID = instanceID
    }

    /// `<host>-<pid>-<random>`.
    public static func defaultInstanceID() -> String {
        let host = ProcessInfo.processInfo.hostName.prefix(40)
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
    }

    var intervalMilliseconds: Int64 { max(1, interval.milliseconds) }
    var retryWindowMilliseconds: Int64 { max(1, (retryWindow ?? interval).milliseconds) }

    /// Backoff after attempt `attempt` (1-based) was refused, at least `retryAfter`.
    func retryDelay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        let exponent = min(max(attempt - 1, 0), 20)
        let backoff = min(retryBaseDelay * (1 << exponent), retryMaxDelay)
        return max(backoff, retryAfter ?? .zero)
    }
}

extension Duration {
    /// Whole milliseconds (truncated).
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
