import Foundation
import Testing

@testable import MiniApp

@Suite struct InitDataValidatorTests {
    static let token = "123456:TEST-TOKEN-abc"
    let authDate: Int64 = 1_795_314_773

    func validator(maxAge: Int64? = 86_400) throws -> InitDataValidator {
        try InitDataValidator(configuration: .init(botToken: Self.token, maxAgeSeconds: maxAge))
    }

    @Test func aMissingHashIsRefused() throws {
        #expect(throws: InitDataError.missingHash) {
            try validator().validate("auth_date=\(authDate)&user=%7B%22id%22%3A1%7D")
        }
        #expect(throws: InitDataError.missingHash) { try validator().validate("auth_date=\(authDate)&hash=") }
    }

    @Test func aHashThatIsNotHexIsRefused() throws {
        #expect(throws: InitDataError.badHash) { try validator().validate("auth_date=\(authDate)&hash=xyz") }
        #expect(throws: InitDataError.badHash) {
            try validator().validate("auth_date=\(authDate)&hash=" + String(repeating: "0", count: 64))
        }
    }

    @Test func authDateMustBePresentAndNumeric() throws {
        let now = Date(timeIntervalSince1970: TimeInterval(authDate))
        let missing = InitDataSigner.sign([("user", #"{"id":1}"#)], token: Self.token)
        #expect(throws: InitDataError.missingAuthDate) { try validator().validate(missing, now: now) }
        let bad = InitDataSigner.sign([("auth_date", "+12"), ("user", #"{"id":1}"#)], token: Self.token)
        #expect(throws: InitDataError.badAuthDate) { try validator().validate(bad, now: now) }
    }

    @Test func freshnessUsesTheInjectedClockAndASmallFutureSkew() throws {
        let raw = InitDataSigner.sign([("auth_date", "\(authDate)"), ("user", #"{"id":1}"#)], token: Self.token)
        let at = { (offset: Int64) in Date(timeIntervalSince1970: TimeInterval(self.authDate + offset)) }
        #expect(throws: Never.self) { try validator().validate(raw, now: at(86_400)) }
        #expect(throws: InitDataError.expired) { try validator().validate(raw, now: at(86_401)) }
        #expect(throws: Never.self) { try validator().validate(raw, now: at(-60)) }
        #expect(throws: InitDataError.future) { try validator().validate(raw, now: at(-61)) }
        #expect(throws: Never.self) { try validator(maxAge: nil).validate(raw, now: at(10_000_000)) }
    }

    @Test func aUserThatIsNotAnObjectWithAnIDIsRefused() throws {
        let now = Date(timeIntervalSince1970: TimeInterval(authDate))
        for user in [#"{"first_name":"x"}"#, "[]", "not json", #"{"id":"12"}"#] {
            let raw = InitDataSigner.sign([("auth_date", "\(authDate)"), ("user", user)], token: Self.token)
            #expect(throws: InitDataError.malformedUser, "\(user)") { try validator().validate(raw, now: now) }
        }
    }

    @Test func unknownFieldsAreSignedAndTolerated() throws {
        let now = Date(timeIntervalSince1970: TimeInterval(authDate))
        let raw = InitDataSigner.sign(
            [
                ("auth_date", "\(authDate)"), ("chat_type", "private"), ("query_id", "Q"), ("start_param", "ref 1"),
                ("user", #"{"id":5,"first_name":"F","new_flag":{"a":[1]},"is_premium":true}"#), ("zzz", "?"),
            ],
            token: Self.token)
        let data = try validator().validate(raw, now: now)
        #expect(data.user == WebAppUser(id: 5, firstName: "F", isPremium: true))
        #expect(data.chatType == "private")
        #expect(data.queryID == "Q")
        #expect(data.startParam == "ref 1")
        #expect(data["zzz"] == "?")
    }

    @Test func aConfigurationWithoutAnyCheckIsRefused() {
        #expect(throws: InitDataConfigurationError.noCheckConfigured) {
            try InitDataValidator(configuration: .init())
        }
        #expect(throws: InitDataConfigurationError.emptyBotToken) {
            try InitDataValidator(configuration: .init(botToken: ""))
        }
        #expect(throws: InitDataConfigurationError.invalidPublicKey) {
            try InitDataValidator(
                configuration: .init(thirdParty: .init(botID: 1, publicKey: .custom(rawRepresentation: [1, 2]))))
        }
    }

    @Test func theConfigurationNeverPrintsTheToken() {
        let configuration = InitDataValidatorConfiguration(botToken: Self.token)
        #expect(!"\(configuration)".contains("TEST-TOKEN"))
    }
}
