import Crypto
import Foundation
import Support
import Testing

@testable import MiniApp

/// Every case of `Tests/Fixtures/vectors/initdata.json`, judged the way init-data-py 1.0.1 judged it.
@Suite struct InitDataVectorTests {
    let vectors: InitDataVectors

    init() throws {
        vectors = try InitDataVectors.load()
    }

    /// One init-data-py verdict, re-run through our validator.
    struct Judged {
        let raw: String
        let configuration: InitDataValidatorConfiguration
        let now: Int64
        let expected: Result<Void, InitDataError>
    }

    /// Turns a `validation_results` label of init-data-py into our configuration and input. Labels of the other
    /// libraries return nil (their verdicts are context; where they differ from init-data-py the vectors say so).
    func interpret(
        _ label: String, _ judgement: InitDataVectors.Judgement, testCase: InitDataVectors.Case, raw: String,
        token: String
    ) throws -> Judged? {
        guard label.contains("init_data_py") else { return nil }
        var core = label
        var modifier = ""
        if let range = label.range(of: ": init_data_py") {
            modifier = String(label[..<range.lowerBound])
            core = String(label[label.index(range.lowerBound, offsetBy: 2)...])
        }
        var raw = raw
        var token = token
        var botID = testCase.botID
        var key: TelegramPublicKey?
        switch modifier {
        case "", "widget data through Mini App validators": break
        case "HMAC with the fixture token (see source)": token = InitDataVectors.realFixtureToken
        case "test key": key = .test
        case "tampered username":
            #expect(raw.contains("vdkfrost"))
            raw = raw.replacingOccurrences(of: "vdkfrost", with: "vdkfrosx")
        case "'\\/' -> '/'":
            #expect(raw.contains("%5C%2F"))
            raw = raw.replacingOccurrences(of: "%5C%2F", with: "%2F")
        case let other where other.hasPrefix("wrong bot_id "):
            botID = try #require(Int64(other.dropFirst("wrong bot_id ".count)))
        default:
            Issue.record("unknown modifier \(modifier) in \(testCase.id)")
            return nil
        }
        let configuration: InitDataValidatorConfiguration
        var now = vectors.now(for: testCase)
        switch core {
        case "init_data_py.validate_by_hash(expires_in=86400, now=generated_at)":
            configuration = .init(botToken: token, maxAgeSeconds: vectors.freshnessWindowS)
        case "init_data_py.validate_by_hash(expires_in=0)":
            configuration = .init(botToken: token, maxAgeSeconds: nil)
            now = max(now, testCase.authDate)
        case let signature where signature.hasPrefix("init_data_py.validate_by_signature("):
            let keyName = signature.dropFirst("init_data_py.validate_by_signature(".count).prefix { $0 != " " }
            switch keyName {
            case "custom":
                let hex = try #require(testCase.ed25519PublicKeyHex)
                let custom = TelegramPublicKey.custom(rawRepresentation: try #require(Hex.decode(hex)))
                key = key ?? custom
            case "production": key = key ?? .production
            case "test": key = key ?? .test
            default: Issue.record("unknown key \(keyName) in \(testCase.id)")
            }
            #expect(signature.hasSuffix("expires_in=0)"))
            configuration = .init(
                thirdParty: .init(botID: botID, publicKey: try #require(key)), maxAgeSeconds: nil)
            now = max(now, testCase.authDate)
        default:
            Issue.record("unknown init-data-py label \(label) in \(testCase.id)")
            return nil
        }
        let expected: Result<Void, InitDataError>
        switch (judgement.result, judgement.errorType) {
        case ("valid", _): expected = .success(())
        case ("invalid", "init_data_py.errors.HashInvalidError"): expected = .failure(.badHash)
        case ("invalid", "init_data_py.errors.ExpiredError"): expected = .failure(.expired)
        case ("invalid", "init_data_py.errors.SignatureInvalidError"): expected = .failure(.badSignature)
        default:
            Issue.record("unknown verdict \(judgement.result) \(judgement.errorType ?? "") in \(testCase.id)")
            return nil
        }
        return Judged(raw: raw, configuration: configuration, now: now, expected: expected)
    }

    func check(_ judged: Judged, _ context: String) throws {
        let validator = try InitDataValidator(configuration: judged.configuration)
        let now = Date(timeIntervalSince1970: TimeInterval(judged.now))
        switch judged.expected {
        case .success:
            #expect(throws: Never.self, "\(context)") { try validator.validate(judged.raw, now: now) }
        case .failure(let error):
            #expect(throws: error, "\(context)") { try validator.validate(judged.raw, now: now) }
        }
    }

    @Test func everyCaseIsJudgedLikeInitDataPyJudgedIt() throws {
        #expect(vectors.cases.count >= 14)
        var judgedCases: Set<String> = []
        var verdicts = 0
        for testCase in vectors.cases {
            let token = vectors.token(for: testCase)
            var sets: [(String, [String: InitDataVectors.Judgement], String)] = [
                (testCase.rawInitData, testCase.validationResults, token)
            ]
            if let raw = testCase.rawInitDataPercent20Variant, let results = testCase.validationResultsPercent20Variant {
                sets.append((raw, results, token))
            }
            if let signing = testCase.signingToken, let results = testCase.validationResultsWithSigningToken {
                sets.append((testCase.rawInitData, results, signing))
            }
            for (raw, results, token) in sets {
                for (label, judgement) in results.sorted(by: { $0.key < $1.key }) {
                    if label.hasPrefix("HMAC data-check-string") {
                        try checkSignatureLineClaim(label, judgement, testCase: testCase)
                        verdicts += 1
                        continue
                    }
                    guard let judged = try interpret(label, judgement, testCase: testCase, raw: raw, token: token) else {
                        continue
                    }
                    try check(judged, "\(testCase.id) / \(label)")
                    judgedCases.insert(testCase.id)
                    verdicts += 1
                }
            }
        }
        #expect(judgedCases == Set(vectors.cases.map(\.id)), "every case has at least one init-data-py verdict")
        #expect(verdicts >= 40)
    }

    /// `real_telegram_signed` records that init-data-py's HMAC check string keeps the `signature` line, and that
    /// dropping it breaks the hash.
    func checkSignatureLineClaim(
        _ label: String, _ judgement: InitDataVectors.Judgement, testCase: InitDataVectors.Case
    ) throws {
        let pairs = try InitDataParser().parse(testCase.rawInitData)
        let hash = try #require(pairs.first { $0.key == "hash" }?.value)
        let withSignature = label.contains("WITH signature line")
        let used = withSignature ? pairs : pairs.filter { $0.key != "signature" }
        let secret = HMAC<SHA256>.authenticationCode(
            for: Array(InitDataVectors.realFixtureToken.utf8), using: SymmetricKey(data: Array("WebAppData".utf8)))
        let mac = HMAC<SHA256>.authenticationCode(
            for: DataCheckString.hmac(used), using: SymmetricKey(data: Array(secret)))
        #expect((Hex.encode(mac) == hash) == (judgement.result == "valid"), "\(testCase.id) / \(label)")
        if withSignature, let expected = testCase.dataCheckStringHMAC {
            #expect(DataCheckString.hmac(used) == Array(expected.utf8))
        }
    }

    @Test func ourCheckStringsAreByteForByteTheVectorsCheckStrings() throws {
        var compared = 0
        for testCase in vectors.cases {
            let pairs = try InitDataParser().parse(testCase.rawInitData)
            for expected in [testCase.dataCheckString, testCase.dataCheckStringHMAC, testCase.dataCheckStringLineSorted]
                .compactMap({ $0 })
            {
                #expect(
                    String(decoding: DataCheckString.hmac(pairs), as: UTF8.self) == expected, "\(testCase.id)")
                compared += 1
            }
            if let message = testCase.ed25519Message {
                #expect(
                    String(decoding: DataCheckString.ed25519(pairs, botID: testCase.botID), as: UTF8.self) == message,
                    "\(testCase.id)")
                compared += 1
            }
        }
        #expect(compared >= 10)
    }

    @Test func theValidOnesPassTheContractConfigurationWithFreshnessPinned() throws {
        // Pin now = auth_date + 60 (the vectors' README), the contract's 24 h window and the vectors' token.
        var passed = 0
        for testCase in vectors.cases
        where testCase.expected.hasPrefix("valid")
            && testCase.validationResults["init_data_py.validate_by_hash(expires_in=0)"]?.result == "valid"
        {
            let validator = try InitDataValidator(configuration: .init(botToken: vectors.token(for: testCase)))
            let now = Date(timeIntervalSince1970: TimeInterval(testCase.now ?? testCase.authDate + 60))
            let data = try validator.validate(testCase.rawInitData, now: now)
            #expect(data.authDate == testCase.authDate)
            if let json = testCase.userJSON {
                let object = try #require(JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
                let user = try #require(data.user)
                #expect(user.id == (object["id"] as? NSNumber)?.int64Value)
                #expect(user.firstName == object["first_name"] as? String)
                #expect(user.lastName == object["last_name"] as? String)
                #expect(user.username == object["username"] as? String)
                #expect(user.photoURL == object["photo_url"] as? String)
                // The signed value itself is kept exactly, `\/` escapes included.
                #expect(data["user"] == json)
            }
            passed += 1
        }
        #expect(passed >= 6)
    }

    @Test func theExpiredCaseIsRefusedOnlyForItsAge() throws {
        let testCase = try #require(vectors.cases.first { $0.id == "expired" })
        let validator = try InitDataValidator(configuration: .init(botToken: vectors.testBotToken))
        let generatedAt = Date(timeIntervalSince1970: TimeInterval(vectors.generatedAtUnix))
        #expect(throws: InitDataError.expired) { try validator.validate(testCase.rawInitData, now: generatedAt) }
        let pinned = Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60))
        #expect(throws: Never.self) { try validator.validate(testCase.rawInitData, now: pinned) }
    }

    @Test func loginWidgetDataIsNotAcceptedAsInitData() throws {
        let testCase = try #require(vectors.cases.first { $0.id == "login_widget_contrast" })
        let validator = try InitDataValidator(configuration: .init(botToken: vectors.testBotToken))
        let now = Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60))
        #expect(throws: InitDataError.badHash) { try validator.validate(testCase.rawInitData, now: now) }
        // The vector really is good Login Widget data (key = SHA256(token)): the refusal is the scheme, not a typo.
        let pairs = try InitDataParser().parse(testCase.rawInitData)
        let key = SymmetricKey(data: Array(SHA256.hash(data: Array(vectors.testBotToken.utf8))))
        let mac = HMAC<SHA256>.authenticationCode(for: DataCheckString.hmac(pairs), using: key)
        #expect(Hex.encode(mac) == pairs.first { $0.key == "hash" }?.value)
    }

    @Test func sortOrderDivergenceIsImplementationDefinedAndWeFollowInitDataPy() throws {
        // Implementation-defined: init-data-py (and @tma.js) sort whole "key=value" lines, aiogram and
        // telegram-webapp-auth sort keys; they disagree when a key is a prefix of another followed by a byte below
        // '='. We follow init-data-py: the line-sorted check string, so this vector is VALID for us.
        let testCase = try #require(vectors.cases.first { $0.id == "edge_sort_order_divergence" })
        #expect(testCase.expected.hasPrefix("implementation-defined"))
        #expect(testCase.validationResults["init_data_py.validate_by_hash(expires_in=0)"]?.result == "valid")
        let pairs = try InitDataParser().parse(testCase.rawInitData)
        #expect(String(decoding: DataCheckString.hmac(pairs), as: UTF8.self) == testCase.dataCheckStringLineSorted)
        #expect(String(decoding: DataCheckString.hmac(pairs), as: UTF8.self) != testCase.dataCheckStringKeySorted)
        let validator = try InitDataValidator(configuration: .init(botToken: vectors.testBotToken))
        let data = try validator.validate(
            testCase.rawInitData, now: Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60)))
        #expect(data["start_param2"] == "b")
    }

    @Test func anEmptyValueIsImplementationDefinedAndWeKeepItLikeInitDataPy() throws {
        // Implementation-defined: init-data-py keeps "start_param=" in the check string (so does
        // telegram-webapp-auth); aiogram drops blank values and rejects the hash. We follow init-data-py: VALID.
        let testCase = try #require(vectors.cases.first { $0.id == "edge_empty_value" })
        #expect(testCase.expected.hasPrefix("implementation-defined"))
        #expect(testCase.validationResults["init_data_py.validate_by_hash(expires_in=0)"]?.result == "valid")
        let validator = try InitDataValidator(configuration: .init(botToken: vectors.testBotToken))
        let data = try validator.validate(
            testCase.rawInitData, now: Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60)))
        #expect(data.startParam == "")
        #expect(data.user?.id == 111_111_111)
    }

    @Test func theRealTelegramSignatureVerifiesWithoutTheBotToken() throws {
        let testCase = try #require(vectors.cases.first { $0.id == "real_telegram_signed" })
        #expect(TelegramPublicKey.production.rawRepresentation == Hex.decode(vectors.telegramPublicKeysHex["production"] ?? ""))
        #expect(TelegramPublicKey.test.rawRepresentation == Hex.decode(vectors.telegramPublicKeysHex["test"] ?? ""))
        let validator = try InitDataValidator(
            configuration: .init(thirdParty: .init(botID: testCase.botID, publicKey: .production)))
        let now = Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60))
        let data = try validator.validate(testCase.rawInitData, now: now)
        #expect(data.user?.id == 279_058_397)
        #expect(data.user?.firstName == "Vladislav + - ? /")
        // Under the contract's 24 h window at the vectors' generation time it is long expired.
        let generatedAt = Date(timeIntervalSince1970: TimeInterval(vectors.generatedAtUnix))
        #expect(throws: InitDataError.expired) { try validator.validate(testCase.rawInitData, now: generatedAt) }
        // Both checks at once: each must pass.
        let both = try InitDataValidator(
            configuration: .init(
                botToken: InitDataVectors.realFixtureToken,
                thirdParty: .init(botID: testCase.botID, publicKey: .production)))
        #expect(throws: Never.self) { try both.validate(testCase.rawInitData, now: now) }
        let bothWrongBot = try InitDataValidator(
            configuration: .init(
                botToken: InitDataVectors.realFixtureToken, thirdParty: .init(botID: 1, publicKey: .production)))
        #expect(throws: InitDataError.badSignature) { try bothWrongBot.validate(testCase.rawInitData, now: now) }
    }

    @Test func signatureCheckNeedsTheSignatureField() throws {
        let testCase = try #require(vectors.cases.first { $0.id == "valid_basic" })
        let validator = try InitDataValidator(
            configuration: .init(thirdParty: .init(botID: testCase.botID, publicKey: .production)))
        let now = Date(timeIntervalSince1970: TimeInterval(testCase.authDate + 60))
        #expect(throws: InitDataError.missingSignature) { try validator.validate(testCase.rawInitData, now: now) }
    }
}
