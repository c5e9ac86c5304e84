import Foundation
import Telegram
import TestSupport
import Testing

@Suite struct BotTokenRedactionTests {
    @Test func tokenInAnAPIDescriptionIsRedacted() async throws {
        try await FakeBotAPI.with { fake in
            let encoded = fake.token.replacingOccurrences(of: ":", with: "%3A")
            let leaky = "Bad Request: POST /bot\(fake.token)/sendMessage, bot\(encoded) failed; secret \(tokenSecret)"
            fake.inject(.apiError(code: 400, description: leaky), method: "sendMessage")
            let capture = LogCapture()
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client(logger: capture.logger).sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            }
            let description = try #require(error.apiDescription)
            #expect(description.contains("/bot<redacted>/sendMessage"))
            #expect(!description.contains(tokenSecret))
            #expect(!error.description.contains(tokenSecret))
            #expect(!String(reflecting: error).contains(tokenSecret))
            #expect(capture.text.contains("Bot API call failed"))
            #expect(!capture.text.contains(tokenSecret))
        }
    }

    @Test func logsOfSuccessfulAndRetriedCallsNeverContainTheToken() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.serverError(status: 500), method: "sendMessage")
            fake.inject(.rateLimited(retryAfter: 0), method: "sendMessage")
            let capture = LogCapture()
            _ = try await fake.client(logger: capture.logger).sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            #expect(fake.callCount("sendMessage") == 3)
            #expect(capture.text.contains("sendMessage"))
            #expect(!capture.text.isEmpty)
            #expect(!capture.text.contains(tokenSecret))
            #expect(!capture.text.contains(fake.token))
        }
    }

    @Test func decodingErrorDetailIsRedacted() async throws {
        try await FakeBotAPI.with { fake in
            fake.setResult(.string("not a message \(fake.token)"), for: "sendMessage")
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client().sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            }
            #expect(error.kind == .decoding)
            #expect(!error.description.contains(tokenSecret))
        }
    }

    @Test func configurationDescriptionHidesTheToken() {
        let configuration = BotAPIConfiguration(token: FakeBotAPI.defaultToken)
        #expect(!configuration.description.contains(tokenSecret))
        #expect(!String(reflecting: configuration).contains(tokenSecret))
        #expect(configuration.description.contains("<redacted>"))
    }

    @Test func wrongTokenIsUnauthorizedAndNotRecorded() async throws {
        try await FakeBotAPI.with { fake in
            let client = BotAPIClient(
                configuration: BotAPIConfiguration(token: "1:wrongwrongwrong", baseURL: fake.baseURL, retry: .none),
                logger: LogCapture().logger
            )
            let error = try await #require(throws: BotAPIError.self) {
                try await client.sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            }
            #expect(error.errorCode == 401)
            #expect(fake.unauthorizedCallCount == 1)
            #expect(fake.calls().isEmpty)
        }
    }
}
