import Foundation
import Telegram
import TestSupport
import Testing

@Suite struct FakeBotAPITests {
    @Test func stoppedFakeNoLongerAnswers() async throws {
        let fake = try await FakeBotAPI.start()
        // The refused call after `stop()` fails at once; the timeout only bounds the first one on a loaded machine.
        let client = fake.client(retry: .none, timeout: .seconds(15))
        _ = try await client.sendMessage(SendMessageRequest(chatID: 1, text: "before"))
        await fake.stop()
        await #expect(throws: BotAPIError.self) {
            try await client.sendMessage(SendMessageRequest(chatID: 1, text: "after"))
        }
        #expect(fake.callCount("sendMessage") == 1)
    }

    @Test func waitingForCallsTimesOutWhenTheyDoNotCome() async throws {
        try await FakeBotAPI.with { fake in
            await #expect(throws: FakeBotAPI.WaitTimeout.self) {
                try await fake.waitForCalls("sendMessage", count: 1, timeout: .milliseconds(50))
            }
        }
    }

    @Test func waitingForCallsReturnsOnceTheyArrive() async throws {
        try await FakeBotAPI.with { fake in
            let client = fake.client()
            async let sent: Void = {
                try await Task.sleep(for: .milliseconds(100))
                for index in 0..<3 { try await client.sendMessage(SendMessageRequest(chatID: 1, text: "\(index)")) }
            }()
            let calls = try await fake.waitForCalls("sendMessage", count: 3)
            try await sent
            #expect(calls.map { $0.body["text"]?.string } == ["0", "1", "2"])
        }
    }

    @Test func malformedCallsGetTelegramLike400s() async throws {
        try await FakeBotAPI.with { fake in
            struct Bad: Encodable, Sendable {
                let currency = "XTR"
                let title = "t"
                let description = "d"
                let payload = "p"
                let prices = [LabeledPrice(label: "a", amount: 1), LabeledPrice(label: "b", amount: 2)]
            }
            let error = try await #require(throws: BotAPIError.self) {
                try await fake.client().call("createInvoiceLink", body: Bad(), as: String.self)
            }
            #expect(error.errorCode == 400)
            #expect(error.descriptionContains("STARS_INVOICE_INVALID"))
            let unknown = try await #require(throws: BotAPIError.self) {
                try await fake.client().call("noSuchMethod", body: Bad(), as: Bool.self)
            }
            #expect(unknown.errorCode == 404)
        }
    }

    @Test func resetForgetsEverything() async throws {
        try await FakeBotAPI.with { fake in
            _ = try await fake.client().sendMessage(SendMessageRequest(chatID: 1, text: "x"))
            fake.inject(.serverError(), method: "sendMessage", times: 5)
            fake.reset()
            let message = try await fake.client(retry: .none).sendMessage(SendMessageRequest(chatID: 1, text: "y"))
            #expect(message.messageID == 1)
            #expect(fake.calls().count == 1)
        }
    }
}
