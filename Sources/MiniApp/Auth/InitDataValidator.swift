import Crypto
import Foundation
import Support

/// Checks Telegram Mini App initData: the HMAC-SHA256 "WebAppData" `hash` (with the bot token) and/or the Ed25519
/// `signature` (with Telegram's public key), then the freshness of `auth_date`, then decodes `user`.
///
/// Judged against `Tests/Fixtures/vectors/initdata.json` exactly as init-data-py 1.0.1 judges it.
public struct InitDataValidator: Sendable {
    public let configuration: InitDataValidatorConfiguration
    let parser: InitDataParser
    /// HMAC_SHA256(key: "WebAppData", message: bot_token), computed once.
    let secretKey: SymmetricKey?
    let ed25519Key: Curve25519.Signing.PublicKey?

    /// - Parameters:
    ///   - configuration: which checks run and the freshness window.
    ///   - parser: size limits of the raw string.
    /// - Throws: `InitDataConfigurationError` when the configuration cannot work.
    public init(
        configuration: InitDataValidatorConfiguration, parser: InitDataParser = InitDataParser()
    ) throws(InitDataConfigurationError) {
        guard configuration.botToken != nil || configuration.thirdParty != nil else { throw .noCheckConfigured }
        guard (configuration.maxAgeSeconds ?? 0) >= 0, configuration.allowedFutureSkewSeconds >= 0 else {
            throw .negativeDuration
        }
        if let token = configuration.botToken {
            guard !token.isEmpty else { throw .emptyBotToken }
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array(token.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
            self.secretKey = SymmetricKey(data: Array(mac))
        } else {
            self.secretKey = nil
        }
        self.ed25519Key = try configuration.thirdParty?.publicKey.signingKey()
        self.configuration = configuration
        self.parser = parser
    }

    /// Validates raw initData.
    /// - Parameters:
    ///   - raw: `Telegram.WebApp.initData`, exactly as the client sent it.
    ///   - now: the current time (injectable for tests).
    /// - Returns: the validated data with its user.
    /// - Throws: `InitDataError`.
    public func validate(_ raw: String, now: Date = Date()) throws(InitDataError) -> InitData {
        let pairs = try parser.parse(raw)
        let fields = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        if let secretKey {
            try Self.checkHash(pairs, hash: fields["hash"], secretKey: secretKey)
        }
        if let ed25519Key, let thirdParty = configuration.thirdParty {
            try Self.checkSignature(pairs, signature: fields["signature"], key: ed25519Key, botID: thirdParty.botID)
        }
        let authDate = try Self.authDate(fields["auth_date"])
        try checkFreshness(authDate, now: now)
        let user = try fields["user"].map { json throws(InitDataError) in try WebAppUser.decode(json: json) }
        return InitData(pairs: pairs, authDate: authDate, user: user)
    }

    static func checkHash(_ pairs: [InitDataPair], hash: String?, secretKey: SymmetricKey) throws(InitDataError) {
        guard let hash, !hash.isEmpty else { throw .missingHash }
        // A hash that is not 32 bytes of hex cannot match; compare anyway only when lengths agree.
        guard let expected = Hex.decode(hash), expected.count == SHA256.byteCount else { throw .badHash }
        // isValidAuthenticationCode compares in constant time.
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                expected, authenticating: DataCheckString.hmac(pairs), using: secretKey)
        else { throw .badHash }
    }

    static func checkSignature(
        _ pairs: [InitDataPair], signature: String?, key: Curve25519.Signing.PublicKey, botID: Int64
    ) throws(InitDataError) {
        guard let signature, !signature.isEmpty else { throw .missingSignature }
        guard let bytes = Base64URL.decode(signature), bytes.count == 64 else { throw .badSignature }
        guard key.isValidSignature(bytes, for: DataCheckString.ed25519(pairs, botID: botID)) else {
            throw .badSignature
        }
    }

    static func authDate(_ value: String?) throws(InitDataError) -> Int64 {
        guard let value, !value.isEmpty else { throw .missingAuthDate }
        guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let seconds = Int64(value)
        else { throw .badAuthDate }
        return seconds
    }

    func checkFreshness(_ authDate: Int64, now: Date) throws(InitDataError) {
        let age = now.timeIntervalSince1970 - Double(authDate)
        if let maxAge = configuration.maxAgeSeconds, age > Double(maxAge) { throw .expired }
        if -age > Double(configuration.allowedFutureSkewSeconds) { throw .future }
    }
}
