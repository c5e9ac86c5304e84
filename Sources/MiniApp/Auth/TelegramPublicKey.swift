import Crypto
import Support

/// The Ed25519 key Telegram signs third-party initData with (the `signature` field), as published in the Bot API
/// documentation ("Validating data for Third-Party Use").
public enum TelegramPublicKey: Sendable, Equatable {
    /// Telegram's production environment.
    case production
    /// Telegram's test environment.
    case test
    /// Any other 32-byte Ed25519 public key (tests, or a key Telegram publishes later).
    case custom(rawRepresentation: [UInt8])

    static let productionHex = "e7bf03a2fa4602af4580703d88dda5bb59f32ed8b02a56c187fe7d34caed242d"
    static let testHex = "40055058a4ee38156a06562e52eece92a771bcd8346a8c4615cb7376eddf72ec"

    /// The raw 32 key bytes.
    public var rawRepresentation: [UInt8] {
        switch self {
        case .production: Hex.decode(Self.productionHex) ?? []
        case .test: Hex.decode(Self.testHex) ?? []
        case .custom(let raw): raw
        }
    }

    /// A name for logs and error messages.
    public var name: String {
        switch self {
        case .production: "production"
        case .test: "test"
        case .custom: "custom"
        }
    }

    func signingKey() throws(InitDataConfigurationError) -> Curve25519.Signing.PublicKey {
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)
        } catch {
            throw .invalidPublicKey
        }
    }
}
