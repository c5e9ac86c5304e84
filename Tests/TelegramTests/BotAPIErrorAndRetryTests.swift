import Foundation
import Telegram
import TestSupport
import Testing

@Suite struct BotAPIErrorAndRetryTests {
    @Test func okFalseBecomesATypedErrorWithCodeDescriptionAndParameters() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(
                .apiError(code: 403, description: "Forbidden: bot was blocked by the user"),
                method: "sendMessage"
            )
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client().sendMessage(SendMessageRequest(chatID: 1, text: "hi"))
            }
            #expect(error.kind == .api)
            #expect(error.method == "sendMessage")
            #expect(error.errorCode == 403)
            #expect(error.apiDescription == "Forbidden: bot was blocked by the user")
            #expect(!error.isTransient)
            #expect(error.attempts == 1)
            // 4xx other than 429 is not retried.
            #expect(fake.callCount("sendMessage") == 1)
        }
    }

    @Test func rateLimitParametersAreKeptWhenTheWaitIsTooLong() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.rateLimited(retryAfter: 120), method: "sendMessage")
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client(retry: BotAPIRetryPolicy(maxAttempts: 3, maxRetryAfter: .seconds(5)))
                    .sendMessage(SendMessageRequest(chatID: 1, text: "hi"))
            }
            #expect(error.isRateLimited)
            #expect(error.errorCode == 429)
            #expect(error.retryAfter == 120)
            #expect(error.parameters == ResponseParameters(retryAfter: 120))
            #expect(fake.callCount("sendMessage") == 1)
        }
    }

    @Test func rateLimitedCallIsRetriedAfterRetryAfterAndSucceeds() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.rateLimited(retryAfter: 1), method: "sendMessage")
            let started = ContinuousClock.now
            let message = try await fake.client(retry: .default).sendMessage(SendMessageRequest(chatID: 9, text: "hi"))
            let calls = try await fake.waitForCalls("sendMessage", count: 2)
            #expect(ContinuousClock.now - started >= .seconds(1))
            #expect(calls.map(\.status) == [429, 200])
            #expect(calls[1].receivedAt.timeIntervalSince(calls[0].receivedAt) >= 1.0)
            #expect(message.chat.id == 9)
        }
    }

    @Test func persistentServerErrorGivesUpAfterTheBoundWithATypedError() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.serverError(status: 500), method: "createInvoiceLink", times: 100)
            let started = ContinuousClock.now
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client(retry: .default).createInvoiceLink(
                    .stars(title: "t", description: "d", payload: "p", amount: 1, recurring: false)
                )
            }
            let elapsed = ContinuousClock.now - started
            #expect(error.kind == .api)
            #expect(error.errorCode == 500)
            #expect(error.attempts == 3)
            #expect(error.isTransient)
            #expect(fake.callCount("createInvoiceLink") == 3)
            // Backoff with jitter: at least half of 200 ms + 400 ms, and bounded.
            #expect(elapsed >= .milliseconds(300))
        }
    }

    @Test func transientServerErrorIsRetriedAndSucceeds() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.serverError(status: 502), method: "answerCallbackQuery")
            fake.inject(.raw(status: 503, body: "<html>Service Unavailable</html>"), method: "answerCallbackQuery")
            try await fake.client().answerCallbackQuery(AnswerCallbackQueryRequest(callbackQueryID: "c"))
            #expect(fake.calls("answerCallbackQuery").map(\.status) == [502, 503, 200])
        }
    }

    @Test func nonEnvelopeErrorPageBecomesAnHTTPError() async throws {
        try await FakeBotAPI.with { fake in
            fake.inject(.raw(status: 502, body: "<html>Bad Gateway</html>"), method: "sendMessage", times: 5)
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client(retry: .none).sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            }
            #expect(error.kind == .http)
            #expect(error.errorCode == 502)
            #expect(error.attempts == 1)
        }
    }

    @Test func successWithAnUnexpectedResultIsADecodingError() async throws {
        try await FakeBotAPI.with { fake in
            fake.setResult(["unexpected": true], for: "createInvoiceLink")
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client().createInvoiceLink(
                    .stars(title: "t", description: "d", payload: "p", amount: 1, recurring: false)
                )
            }
            #expect(error.kind == .decoding)
            #expect(fake.callCount("createInvoiceLink") == 1)
        }
    }

    @Test func slowAnswerTimesOutAndFastEnoughOneSucceeds() async throws {
        try await FakeBotAPI.with { fake in
            // Far past the 300 ms timeout, so however slow the machine the answer cannot beat it.
            fake.inject(.delay(.seconds(30)), method: "sendMessage")
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client(retry: .none, timeout: .milliseconds(300))
                    .sendMessage(SendMessageRequest(chatID: 1, text: "slow"))
            }
            #expect(error.kind == .timeout)
            #expect(error.isTransient)
            fake.inject(.delay(.milliseconds(100)), method: "sendMessage")
            // Generous: under a fully parallel test run on two cores a 100 ms answer can take seconds to arrive.
            let message = try await fake.client(retry: .none, timeout: .seconds(15))
                .sendMessage(SendMessageRequest(chatID: 1, text: "ok"))
            #expect(message.text == "ok")
        }
    }

    @Test func connectionErrorsAreRetriedThenReportedAsTransport() async throws {
        let fake = try await FakeBotAPI.start()
        await fake.stop()
        let capture = LogCapture()
        // AsyncHTTPClient keeps retrying a refused connection until the request deadline, so a short timeout
        // bounds each attempt.
        let error = try await #require(throws: BotAPIError.self) {
            try await fake.client(timeout: .milliseconds(500), logger: capture.logger)
                .sendMessage(SendMessageRequest(chatID: 1, text: "x"))
        }
        #expect(error.kind == .transport || error.kind == .timeout, "\(error)")
        #expect(error.attempts == 3)
        #expect(!error.description.contains(tokenSecret))
        #expect(!capture.text.contains(tokenSecret))
        #expect(capture.text.contains("retried"))
    }
}
