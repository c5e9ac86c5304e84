import Crypto
import Foundation
import Telegram
import Testing

@Suite struct StarsInvoicePayloadTests {
    let signer = StarsInvoicePayloadSigner(botToken: "7001234567:AAHfakeSecretPartOfTheTokenXYZ0123456")
    let now = Date(timeIntervalSince1970: 1_718_000_000)

    @Test func roundTripRecoversPlanAndUser() throws {
        let payload = try signer.make(plan: "premium_monthly", telegramUserID: 555_000_111, now: now)
        let claims = try signer.verify(payload, expectedTelegramUserID: 555_000_111, now: now, maxAge: 3600)
        #expect(claims.plan == "premium_monthly")
        #expect(claims.telegramUserID == 555_000_111)
        #expect(claims.issuedAt == now)
        #expect(!claims.nonce.isEmpty)
    }

    @Test func twoPayloadsForOnePlanAndUserDiffer() throws {
        let first = try signer.make(plan: "p", telegramUserID: 1, now: now)
        let second = try signer.make(plan: "p", telegramUserID: 1, now: now)
        #expect(first != second)
    }

    @Test func planCodesWithSeparatorsAndUnicodeRoundTrip() throws {
        for plan in ["a:b:c", "prémium", ":", "x"] {
            let payload = try signer.make(plan: plan, telegramUserID: 42, now: now)
            #expect(try signer.verify(payload, expectedTelegramUserID: 42, now: now, maxAge: nil).plan == plan)
        }
    }

    @Test func tamperingWithAnyByteIsRejected() throws {
        let payload = Array(try signer.make(plan: "premium_monthly", telegramUserID: 555_000_111, now: now).utf8)
        for index in payload.indices {
            var tampered = payload
            tampered[index] = tampered[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            let text = String(decoding: tampered, as: UTF8.self)
            #expect(throws: StarsInvoicePayloadError.self, "byte \(index)") {
                try signer.verify(text, expectedTelegramUserID: nil, now: now, maxAge: nil)
            }
        }
        // Truncation and extension too.
        let text = String(decoding: payload, as: UTF8.self)
        #expect(throws: StarsInvoicePayloadError.forged) {
            try signer.verify(String(text.dropLast()), expectedTelegramUserID: nil, now: now, maxAge: nil)
        }
        #expect(throws: StarsInvoicePayloadError.forged) {
            try signer.verify(text + "A", expectedTelegramUserID: nil, now: now, maxAge: nil)
        }
    }

    @Test func changedUserWithTheOldTagIsForged() throws {
        let payload = try signer.make(plan: "premium", telegramUserID: 100, now: now)
        var fields = payload.split(separator: ":").map(String.init)
        fields[2] = String(200, radix: 36)
        #expect(throws: StarsInvoicePayloadError.forged) {
            try signer.verify(fields.joined(separator: ":"), expectedTelegramUserID: 200, now: now, maxAge: nil)
        }
    }

    @Test func anotherUsersPayloadIsRejected() throws {
        let payload = try signer.make(plan: "premium", telegramUserID: 100, now: now)
        #expect(throws: StarsInvoicePayloadError.wrongUser) {
            try signer.verify(payload, expectedTelegramUserID: 101, now: now, maxAge: 3600)
        }
    }

    @Test func stalePayloadIsRejectedAndNoMaxAgeAcceptsIt() throws {
        let payload = try signer.make(plan: "premium", telegramUserID: 100, now: now)
        let later = now.addingTimeInterval(7200)
        #expect(throws: StarsInvoicePayloadError.stale) {
            try signer.verify(payload, expectedTelegramUserID: 100, now: later, maxAge: 3600)
        }
        #expect(try signer.verify(payload, expectedTelegramUserID: 100, now: later, maxAge: 7200).plan == "premium")
        // Renewals carry the original payload: without maxAge it is still valid.
        #expect(try signer.verify(payload, expectedTelegramUserID: 100, now: later, maxAge: nil).plan == "premium")
    }

    @Test func payloadFromTheFutureBeyondClockSkewIsRejected() throws {
        let payload = try signer.make(plan: "premium", telegramUserID: 100, now: now.addingTimeInterval(3600))
        #expect(throws: StarsInvoicePayloadError.stale) {
            try signer.verify(payload, expectedTelegramUserID: 100, now: now, maxAge: 86400)
        }
        let nearFuture = try signer.make(plan: "premium", telegramUserID: 100, now: now.addingTimeInterval(60))
        #expect(try signer.verify(nearFuture, expectedTelegramUserID: 100, now: now, maxAge: 86400).plan == "premium")
    }

    @Test func anotherKeyOrTokenIsForged() throws {
        let payload = try signer.make(plan: "premium", telegramUserID: 100, now: now)
        let sameToken = StarsInvoicePayloadSigner(botToken: "7001234567:AAHfakeSecretPartOfTheTokenXYZ0123456")
        #expect(try sameToken.verify(payload, expectedTelegramUserID: 100, now: now, maxAge: nil).plan == "premium")
        let otherToken = StarsInvoicePayloadSigner(botToken: "7001234567:AAHanotherSecretPartOfTheTokenXYZ01")
        #expect(throws: StarsInvoicePayloadError.forged) {
            try otherToken.verify(payload, expectedTelegramUserID: 100, now: now, maxAge: nil)
        }
        let randomKey = StarsInvoicePayloadSigner(key: SymmetricKey(size: .bits256))
        #expect(throws: StarsInvoicePayloadError.forged) {
            try randomKey.verify(payload, expectedTelegramUserID: 100, now: now, maxAge: nil)
        }
    }

    @Test func garbageIsMalformed() {
        for garbage in ["", "hello", "1:premium", "2:p:1:1:n:t", ":::::", String(repeating: "1:", count: 100)] {
            #expect(throws: StarsInvoicePayloadError.self, "\(garbage)") {
                try signer.verify(garbage, expectedTelegramUserID: nil, now: now, maxAge: nil)
            }
        }
        #expect(throws: StarsInvoicePayloadError.malformed) {
            try signer.verify("2:p:1:1:n:t", expectedTelegramUserID: nil, now: now, maxAge: nil)
        }
    }

    @Test func payloadStaysWithinTelegramsLimitForTheLongestPlanCode() throws {
        let plan = String(repeating: "p", count: 64)
        let farFuture = Date(timeIntervalSince1970: 9_999_999_999)
        for user in [Int64.max, Int64.min, 1, 7_999_999_999] {
            let payload = try signer.make(plan: plan, telegramUserID: user, now: farFuture)
            #expect(payload.utf8.count <= 128)
            #expect(try signer.verify(payload, expectedTelegramUserID: user, now: farFuture, maxAge: 60).plan == plan)
        }
        let multibyte = String(repeating: "é", count: 32)  // 64 bytes
        #expect(try signer.make(plan: multibyte, telegramUserID: Int64.min, now: farFuture).utf8.count <= 128)
    }

    @Test func overlongOrEmptyPlanCodeIsRefused() {
        #expect(throws: StarsInvoicePayloadError.invalidPlanCode) {
            try signer.make(plan: String(repeating: "p", count: 65), telegramUserID: 1, now: now)
        }
        #expect(throws: StarsInvoicePayloadError.invalidPlanCode) {
            try signer.make(plan: "", telegramUserID: 1, now: now)
        }
    }
}
