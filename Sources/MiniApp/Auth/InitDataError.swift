/// Why initData was refused. Every case means "401" to a client; the cases exist for logs and tests, and none of
/// them carries a secret (the bot token never appears; values from the request appear only as key names).
public enum InitDataError: Error, Sendable, Equatable {
    /// The string is empty.
    case empty
    /// The string is longer than the parser accepts.
    case tooLarge
    /// Not `key=value` pairs joined by `&`, a bad percent escape, or bytes that are not UTF-8.
    case malformed(reason: String)
    /// A key appears twice (Telegram never sends that; accepting it would let a proxy choose which one counts).
    case duplicateKey(String)
    /// No `hash` field, while the HMAC check is configured.
    case missingHash
    /// The HMAC does not match the bot token (tampered, another bot, or another scheme such as the Login Widget).
    case badHash
    /// No `signature` field, while the Ed25519 check is configured.
    case missingSignature
    /// The Ed25519 signature does not verify under Telegram's key for the configured bot id.
    case badSignature
    /// No `auth_date` field.
    case missingAuthDate
    /// `auth_date` is not a whole number of seconds.
    case badAuthDate
    /// `auth_date` is older than the allowed age.
    case expired
    /// `auth_date` is further in the future than the allowed clock skew.
    case future
    /// The data is authentic but carries no `user` (the exchange needs one).
    case missingUser
    /// The `user` value is not the JSON object Telegram documents (an integer `id` at least).
    case malformedUser
}
