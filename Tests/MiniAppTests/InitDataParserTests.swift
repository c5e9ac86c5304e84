import Foundation
import Testing

@testable import MiniApp

@Suite struct InitDataParserTests {
    let parser = InitDataParser()

    @Test func pairsAreSplitOnTheFirstEqualsBeforeDecoding() throws {
        let pairs = try parser.parse("a=b=c&q=x%26y%3Dz&e=")
        #expect(pairs == [.init(key: "a", value: "b=c"), .init(key: "q", value: "x&y=z"), .init(key: "e", value: "")])
    }

    @Test func plusIsASpaceAndEscapedPlusIsAPlus() throws {
        let pairs = try parser.parse("name=A+B%2BC%20D")
        #expect(pairs.first?.value == "A B+C D")
    }

    @Test func jsonEscapesSurviveByteForByte() throws {
        // %5C%2F is "\/": it must stay two characters, never become "/".
        let pairs = try parser.parse("user=%7B%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%22%7D&hash=00")
        #expect(pairs.first?.value == #"{"photo_url":"https:\/\/t.me"}"#)
    }

    @Test func utf8IsDecodedFromPercentEscapes() throws {
        let pairs = try parser.parse("n=%D0%90%F0%9F%9A%80")
        #expect(pairs.first?.value == "А🚀")
    }

    @Test func duplicateKeysAreRefused() {
        #expect(throws: InitDataError.duplicateKey("auth_date")) {
            try parser.parse("auth_date=1&hash=00&auth_date=2")
        }
        // Keys are compared after decoding.
        #expect(throws: InitDataError.duplicateKey("hash")) { try parser.parse("hash=1&h%61sh=2") }
    }

    @Test func emptyAndMalformedInputIsRefused() {
        #expect(throws: InitDataError.empty) { try parser.parse("") }
        #expect(throws: InitDataError.malformed(reason: "pair without '='")) { try parser.parse("auth_date") }
        #expect(throws: InitDataError.malformed(reason: "empty pair")) { try parser.parse("a=1&&b=2") }
        #expect(throws: InitDataError.malformed(reason: "empty pair")) { try parser.parse("a=1&") }
        #expect(throws: InitDataError.malformed(reason: "empty key")) { try parser.parse("=1") }
        #expect(throws: InitDataError.malformed(reason: "bad percent escape")) { try parser.parse("a=%zz") }
        #expect(throws: InitDataError.malformed(reason: "bad percent escape")) { try parser.parse("a=%4") }
        #expect(throws: InitDataError.malformed(reason: "not UTF-8")) { try parser.parse("a=%FF") }
    }

    @Test func oversizedInputIsRefusedBeforeParsing() {
        let small = InitDataParser(maxLength: 10, maxPairs: 2)
        let few = InitDataParser(maxLength: 100, maxPairs: 2)
        #expect(throws: InitDataError.tooLarge) { try small.parse(String(repeating: "a", count: 11)) }
        #expect(throws: InitDataError.malformed(reason: "too many pairs")) { try few.parse("a=1&b=2&c=3") }
    }
}
