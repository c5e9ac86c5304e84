import Foundation
import Telegram
import TestSupport
import Testing

@Suite struct BotAPIMethodTests {
    @Test func sendMessageSendsTextAndInlineKeyboard() async throws {
        try await FakeBotAPI.with { fake in
            let keyboard = InlineKeyboardMarkup([
                [.callback("Buy", data: "cta:buy"), .url("Site", url: "https://example.com")],
                [.webApp("Open", url: "https://example.com/miniapp/")],
            ])
            let message = try await fake.client().sendMessage(
                SendMessageRequest(chatID: 42, text: "Hello", parseMode: .html, replyMarkup: keyboard)
            )
            #expect(message.chat.id == 42)
            #expect(message.text == "Hello")
            #expect(message.replyMarkup == keyboard)
            let body = try #require(fake.calls("sendMessage").first).body
            #expect(body["chat_id"]?.int == 42)
            #expect(body["text"]?.string == "Hello")
            #expect(body["parse_mode"]?.string == "HTML")
            let rows = try #require(body["reply_markup"]?["inline_keyboard"]?.array)
            #expect(rows.count == 2)
            #expect(rows[0][0]?["callback_data"]?.string == "cta:buy")
            #expect(rows[0][0]?["url"] == nil)
            #expect(rows[0][1]?["url"]?.string == "https://example.com")
            #expect(rows[1][0]?["web_app"]?["url"]?.string == "https://example.com/miniapp/")
            // Unset options are left out, not sent as null.
            #expect(body["disable_notification"] == nil)
        }
    }

    @Test func sendMessageToAChannelUsernameAndMessageIdsIncrease() async throws {
        try await FakeBotAPI.with { fake in
            let client = fake.client()
            let first = try await client.sendMessage(SendMessageRequest(chatID: ChatID("mychannel"), text: "one"))
            let second = try await client.sendMessage(SendMessageRequest(chatID: ChatID("-1001234567890"), text: "two"))
            #expect(second.messageID > first.messageID)
            let calls = fake.calls("sendMessage")
            #expect(calls[0].body["chat_id"]?.string == "@mychannel")
            #expect(calls[1].body["chat_id"]?.int == -1_001_234_567_890)
        }
    }

    @Test func createInvoiceLinkForARecurringPlanIsAStarsSubscription() async throws {
        try await FakeBotAPI.with { fake in
            let link = try await fake.client().createInvoiceLink(
                .stars(
                    title: "Premium, monthly", description: "30 days of Premium", payload: "p1", amount: 250,
                    recurring: true)
            )
            #expect(link.hasPrefix("https://t.me/$"))
            let body = try #require(fake.calls("createInvoiceLink").first).body
            #expect(body["currency"]?.string == "XTR")
            #expect(body["provider_token"]?.string == "")
            #expect(body["prices"]?.array?.count == 1)
            #expect(body["prices"]?[0]?["amount"]?.int == 250)
            #expect(body["subscription_period"]?.int == 2_592_000)
            #expect(body["payload"]?.string == "p1")
            #expect(body["title"]?.string == "Premium, monthly")
        }
    }

    @Test func createInvoiceLinkForAOneOffPlanHasNoSubscriptionPeriod() async throws {
        try await FakeBotAPI.with { fake in
            let longTitle = String(repeating: "T", count: 40)
            _ = try await fake.client().createInvoiceLink(
                .stars(title: longTitle, description: "d", payload: "p2", amount: 100, recurring: false)
            )
            let body = try #require(fake.calls("createInvoiceLink").first).body
            #expect(body["subscription_period"] == nil)
            #expect(body["currency"]?.string == "XTR")
            #expect(body["title"]?.string?.count == 32)
        }
    }

    @Test func sendInvoiceSendsAStarsInvoiceMessage() async throws {
        try await FakeBotAPI.with { fake in
            let message = try await fake.client().sendInvoice(
                .stars(chatID: 77, title: "Premium", description: "30 days", payload: "p3", amount: 250)
            )
            #expect(message.invoice?.currency == "XTR")
            #expect(message.invoice?.totalAmount == 250)
            let body = try #require(fake.calls("sendInvoice").first).body
            #expect(body["chat_id"]?.int == 77)
            #expect(body["currency"]?.string == "XTR")
            #expect(body["provider_token"]?.string == "")
            #expect(body["prices"]?.array?.count == 1)
            #expect(body["subscription_period"] == nil)
        }
    }

    @Test func answerPreCheckoutQuerySendsOkOrAnErrorMessage() async throws {
        try await FakeBotAPI.with { fake in
            let client = fake.client()
            try await client.answerPreCheckoutQuery(.accept("q1"))
            try await client.answerPreCheckoutQuery(.reject("q2", message: "This plan is no longer sold."))
            let calls = fake.calls("answerPreCheckoutQuery")
            #expect(calls.count == 2)
            #expect(calls[0].body["pre_checkout_query_id"]?.string == "q1")
            #expect(calls[0].body["ok"]?.bool == true)
            #expect(calls[0].body["error_message"] == nil)
            #expect(calls[1].body["ok"]?.bool == false)
            #expect(calls[1].body["error_message"]?.string == "This plan is no longer sold.")
        }
    }

    @Test func answerCallbackQuerySendsTextUrlAndAlert() async throws {
        try await FakeBotAPI.with { fake in
            try await fake.client().answerCallbackQuery(
                AnswerCallbackQueryRequest(
                    callbackQueryID: "cb1", text: "Thanks", showAlert: true,
                    url: "https://t.me/fake_bot?start=x")
            )
            let body = try #require(fake.calls("answerCallbackQuery").first).body
            #expect(body["callback_query_id"]?.string == "cb1")
            #expect(body["text"]?.string == "Thanks")
            #expect(body["show_alert"]?.bool == true)
            #expect(body["url"]?.string == "https://t.me/fake_bot?start=x")
        }
    }

    @Test func refundStarPaymentSendsUserAndChargeAndASecondRefundIsATypedError() async throws {
        try await FakeBotAPI.with { fake in
            let client = fake.client()
            let request = RefundStarPaymentRequest(userID: 555, telegramPaymentChargeID: "stxCharge1")
            try await client.refundStarPayment(request)
            let body = try #require(fake.calls("refundStarPayment").first).body
            #expect(body["user_id"]?.int == 555)
            #expect(body["telegram_payment_charge_id"]?.string == "stxCharge1")
            let error = try await #require(throws: BotAPIError.self) { try await client.refundStarPayment(request) }
            #expect(error.kind == .api)
            #expect(error.errorCode == 400)
            #expect(error.descriptionContains("CHARGE_ALREADY_REFUNDED"))
            #expect(error.attempts == 1)
            #expect(fake.callCount("refundStarPayment") == 2)
        }
    }

    @Test func editUserStarSubscriptionSendsCancellation() async throws {
        try await FakeBotAPI.with { fake in
            try await fake.client().editUserStarSubscription(
                EditUserStarSubscriptionRequest(userID: 555, telegramPaymentChargeID: "stxSub", isCanceled: true)
            )
            let body = try #require(fake.calls("editUserStarSubscription").first).body
            #expect(body["user_id"]?.int == 555)
            #expect(body["telegram_payment_charge_id"]?.string == "stxSub")
            #expect(body["is_canceled"]?.bool == true)
        }
    }

    @Test func getStarTransactionsDecodesTransactions() async throws {
        try await FakeBotAPI.with { fake in
            fake.setResult(
                [
                    "transactions": [
                        [
                            "id": "stxA", "amount": 250, "date": 1_700_000_000,
                            "source": [
                                "type": "user", "transaction_type": "invoice_payment",
                                "user": ["id": 555, "is_bot": false, "first_name": "Ann"],
                                "invoice_payload": "p1", "subscription_period": 2_592_000, "extra": true,
                            ],
                        ],
                        [
                            "id": "stxB", "amount": 250, "date": 1_700_000_100,
                            "receiver": ["type": "user", "user": ["id": 555, "is_bot": false, "first_name": "Ann"]],
                        ],
                    ]
                ],
                for: "getStarTransactions"
            )
            let page = try await fake.client().getStarTransactions(GetStarTransactionsRequest(offset: 0, limit: 50))
            #expect(page.transactions.count == 2)
            #expect(page.transactions[0].source?.user?.id == 555)
            #expect(page.transactions[0].source?.invoicePayload == "p1")
            #expect(page.transactions[0].source?.subscriptionPeriod == 2_592_000)
            #expect(page.transactions[1].receiver?.type == "user")
            #expect(fake.calls("getStarTransactions").first?.body["limit"]?.int == 50)
        }
    }

    @Test func genericCallReachesOtherMethods() async throws {
        try await FakeBotAPI.with { fake in
            struct Empty: Encodable, Sendable {}
            let me = try await fake.client().call("getMe", body: Empty(), as: TelegramUser.self)
            #expect(me.isBot)
            #expect(me.id == 7_001_234_567)
        }
    }

    @Test func concurrentCallsAreAllRecordedWithDistinctMessageIds() async throws {
        try await FakeBotAPI.with { fake in
            // No retries and a generous timeout: on a loaded machine a timed-out attempt would be sent again, and
            // the fake would (rightly) record it twice.
            let client = fake.client(retry: .none, timeout: .seconds(60))
            let ids = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<25 {
                    group.addTask {
                        try await client.sendMessage(SendMessageRequest(chatID: 1, text: "m\(index)")).messageID
                    }
                }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            #expect(ids.count == 25)
            try await fake.waitForCalls("sendMessage", count: 25, timeout: .seconds(60))
            #expect(fake.callCount("sendMessage") == 25)
        }
    }
}
