/// How initData is checked. At least one of the two checks must be configured; every configured check must pass.
public struct InitDataValidatorConfiguration: Sendable, CustomStringConvertible {
    /// The bot token for the HMAC-SHA256 "WebAppData" check (`hash`). Nil skips it, which needs `thirdParty`.
    public var botToken: String?
    /// The Ed25519 check of the `signature` field, which needs only the bot id and Telegram's public key, so a
    /// deployment can validate without holding the bot token.
    public var thirdParty: ThirdPartyValidation?
    /// The largest age of `auth_date`, in seconds (`INITDATA_MAX_AGE_SECONDS`); nil disables the expiry check.
    public var maxAgeSeconds: Int64?
    /// How far `auth_date` may lie in the future (client and server clocks differ), in seconds.
    public var allowedFutureSkewSeconds: Int64

    /// The Ed25519 check's settings.
    public struct ThirdPartyValidation: Sendable, Equatable {
        /// The numeric bot id (the part of the token before `:`).
        public var botID: Int64
        /// Which of Telegram's keys signed the data.
        public var publicKey: TelegramPublicKey

        public init(botID: Int64, publicKey: TelegramPublicKey = .production) {
            self.botID = botID
            self.publicKey = publicKey
        }
    }

    /// - Parameters:
    ///   - botToken: enables the HMAC check.
    ///   - thirdParty: enables the Ed25519 check.
    ///   - maxAgeSeconds: expiry of `auth_date` (default 86400, the contract's default); nil disables it.
    ///   - allowedFutureSkewSeconds: tolerated clock skew for `auth_date` in the future (default 60).
    public init(
        botToken: String? = nil,
        thirdParty: ThirdPartyValidation? = nil,
        maxAgeSeconds: Int64? = 86_400,
        allowedFutureSkewSeconds: Int64 = 60
    ) {
        self.botToken = botToken
        self.thirdParty = thirdParty
        self.maxAgeSeconds = maxAgeSeconds
        self.allowedFutureSkewSeconds = allowedFutureSkewSeconds
    }

    /// Redacts the bot token.
    public var description: String {
        let hmac = botToken == nil ? "off" : "on (token redacted)"
        let ed25519 = thirdParty.map { "bot \($0.botID), \($0.publicKey.name) key" } ?? "off"
        let age = maxAgeSeconds.map { "\($0) s" } ?? "unlimited"
        return "InitDataValidatorConfiguration(hmac: \(hmac), ed25519: \(ed25519), maxAge: \(age), "
            + "futureSkew: \(allowedFutureSkewSeconds) s)"
    }
}

/// A validator configuration that cannot work.
public enum InitDataConfigurationError: Error, Sendable, Equatable {
    /// Neither the bot token nor the third-party check is configured.
    case noCheckConfigured
    /// The bot token is empty.
    case emptyBotToken
    /// The Ed25519 public key is not 32 valid bytes.
    case invalidPublicKey
    /// A negative max age or skew.
    case negativeDuration
}
