import Foundation
import TestSupport

/// `Tests/Fixtures/vectors/initdata.json`: initData signed and judged by third-party libraries.
struct InitDataVectors: Decodable {
    let generatedAtUnix: Int64
    let testBotToken: String
    let testBotID: Int64
    let freshnessWindowS: Int64
    let telegramPublicKeysHex: [String: String]
    let cases: [Case]

    enum CodingKeys: String, CodingKey {
        case generatedAtUnix = "generated_at_unix"
        case testBotToken = "test_bot_token"
        case testBotID = "test_bot_id"
        case freshnessWindowS = "freshness_window_s"
        case telegramPublicKeysHex = "telegram_public_keys_hex"
        case cases
    }

    struct Judgement: Decodable {
        let result: String
        let errorType: String?

        enum CodingKeys: String, CodingKey {
            case result
            case errorType = "error_type"
        }
    }

    struct Case: Decodable {
        let id: String
        let expected: String
        let botTokenUsedForValidation: String
        let botID: Int64
        let authDate: Int64
        let now: Int64?
        let rawInitData: String
        let rawInitDataPercent20Variant: String?
        let validationResults: [String: Judgement]
        let validationResultsPercent20Variant: [String: Judgement]?
        let signingToken: String?
        let validationResultsWithSigningToken: [String: Judgement]?
        let userJSON: String?
        let dataCheckString: String?
        let dataCheckStringHMAC: String?
        let dataCheckStringLineSorted: String?
        let dataCheckStringKeySorted: String?
        let ed25519PublicKeyHex: String?
        let ed25519Message: String?

        enum CodingKeys: String, CodingKey {
            case id, expected, now
            case botTokenUsedForValidation = "bot_token_used_for_validation"
            case botID = "bot_id"
            case authDate = "auth_date"
            case rawInitData = "raw_init_data"
            case rawInitDataPercent20Variant = "raw_init_data_percent20_variant"
            case validationResults = "validation_results"
            case validationResultsPercent20Variant = "validation_results_percent20_variant"
            case signingToken = "signing_token"
            case validationResultsWithSigningToken = "validation_results_with_signing_token"
            case userJSON = "user_json"
            case dataCheckString = "data_check_string"
            case dataCheckStringHMAC = "data_check_string_hmac"
            case dataCheckStringLineSorted = "data_check_string_line_sorted (init-data-py)"
            case dataCheckStringKeySorted = "data_check_string_key_sorted (aiogram/twa)"
            case ed25519PublicKeyHex = "ed25519_public_key_hex"
            case ed25519Message = "ed25519_message"
        }
    }

    /// The bot token of `real_telegram_signed`. The vector names its source instead of the value ("fixture token:
    /// Telegram-Mini-Apps/telegram-apps packages/init-data-node/src/entries/node.test.ts line 20, commit 8905b04b");
    /// this is the token published there (checked: it reproduces the vector's `hash`). Public test data, not ours.
    static let realFixtureToken = "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ"

    static func load() throws -> InitDataVectors {
        let url = URL(fileURLWithPath: TestEnvironment.vectorsDir).appendingPathComponent("initdata.json")
        return try JSONDecoder().decode(InitDataVectors.self, from: Data(contentsOf: url))
    }

    /// The token a case is validated with: the test token, or the real vector's fixture token.
    func token(for testCase: Case) -> String {
        testCase.botTokenUsedForValidation.hasPrefix("(fixture token") ? Self.realFixtureToken : testCase.botTokenUsedForValidation
    }

    func now(for testCase: Case) -> Int64 { testCase.now ?? generatedAtUnix }
}
