import Foundation
import Telegram
import Testing

@Suite struct UpdateDecodingTests {
    private func decode(_ json: String) throws -> TelegramUpdate {
        try TelegramUpdate.decode(from: Data(json.utf8))
    }

    @Test func successfulPaymentOfAStarsSubscription() throws {
        let update = try decode(
            """
            {"update_id": 910000001,
             "message": {"message_id": 5120, "date": 1718000000,
               "from": {"id": 555000111, "is_bot": false, "first_name": "Ann", "username": "ann", "language_code": "en",
                        "is_premium": true},
               "chat": {"id": 555000111, "first_name": "Ann", "username": "ann", "type": "private"},
               "successful_payment": {"currency": "XTR", "total_amount": 250,
                 "invoice_payload": "1:premium:abc:def:gh:ij",
                 "subscription_expiration_date": 1720592000, "is_recurring": true, "is_first_recurring": true,
                 "telegram_payment_charge_id": "stxAbCdEf123", "provider_payment_charge_id": ""}}}
            """
        )
        #expect(update.updateID == 910_000_001)
        guard case .message(let message) = update.content else {
            Issue.record("expected a message, got \(update.content)")
            return
        }
        let payment = try #require(message.successfulPayment)
        #expect(payment.currency == "XTR")
        #expect(payment.totalAmount == 250)
        #expect(payment.telegramPaymentChargeID == "stxAbCdEf123")
        #expect(payment.providerPaymentChargeID == "")
        #expect(payment.isRecurring == true)
        #expect(payment.isFirstRecurring == true)
        #expect(payment.subscriptionExpiresAt == Date(timeIntervalSince1970: 1_720_592_000))
        #expect(message.from?.id == 555_000_111)
        #expect(message.from?.isPremium == true)
        #expect(message.chat.type == "private")
    }

    @Test func oneOffSuccessfulPaymentHasNoSubscriptionFields() throws {
        let update = try decode(
            """
            {"update_id": 2, "message": {"message_id": 1, "date": 1718000000,
              "from": {"id": 7, "is_bot": false, "first_name": "B"}, "chat": {"id": 7, "type": "private"},
              "successful_payment": {"currency": "XTR", "total_amount": 100, "invoice_payload": "p",
                "telegram_payment_charge_id": "stx1", "provider_payment_charge_id": ""}}}
            """
        )
        let payment = try #require(update.message?.successfulPayment)
        #expect(payment.subscriptionExpirationDate == nil)
        #expect(payment.isRecurring == nil)
    }

    @Test func refundedPayment() throws {
        let update = try decode(
            """
            {"update_id": 3, "message": {"message_id": 9, "date": 1718000500,
              "from": {"id": 7, "is_bot": false, "first_name": "B"}, "chat": {"id": 7, "type": "private"},
              "refunded_payment": {"currency": "XTR", "total_amount": 250, "invoice_payload": "p",
                "telegram_payment_charge_id": "stxAbCdEf123"}}}
            """
        )
        let refund = try #require(update.message?.refundedPayment)
        #expect(refund.telegramPaymentChargeID == "stxAbCdEf123")
        #expect(refund.totalAmount == 250)
        #expect(refund.providerPaymentChargeID == nil)
        #expect(update.message?.successfulPayment == nil)
    }

    @Test func preCheckoutQuery() throws {
        let update = try decode(
            """
            {"update_id": 4, "pre_checkout_query": {"id": "4382bfdwdsb323b2d9",
              "from": {"id": 555000111, "is_bot": false, "first_name": "Ann", "language_code": "de"},
              "currency": "XTR", "total_amount": 250, "invoice_payload": "1:premium:x:y:z:t"}}
            """
        )
        guard case .preCheckoutQuery(let query) = update.content else {
            Issue.record("expected a pre-checkout query, got \(update.content)")
            return
        }
        #expect(query.id == "4382bfdwdsb323b2d9")
        #expect(query.from.id == 555_000_111)
        #expect(query.currency == "XTR")
        #expect(query.totalAmount == 250)
        #expect(query.invoicePayload == "1:premium:x:y:z:t")
    }

    @Test func callbackQueryWithItsMessage() throws {
        let update = try decode(
            """
            {"update_id": 5, "callback_query": {"id": "4382bfdwdsb323b2d9", "chat_instance": "-8912345",
              "from": {"id": 555000111, "is_bot": false, "first_name": "Ann"},
              "message": {"message_id": 77, "date": 1718000000, "text": "Upgrade?",
                "from": {"id": 7001234567, "is_bot": true, "first_name": "Fake Bot", "username": "fake_bot"},
                "chat": {"id": -1001234567890, "title": "News", "type": "channel"},
                "reply_markup": {"inline_keyboard": [[{"text": "Buy", "callback_data": "cta:buy"}]]},
                "entities": [{"offset": 0, "length": 7, "type": "bold"}]},
              "data": "cta:buy"}}
            """
        )
        guard case .callbackQuery(let query) = update.content else {
            Issue.record("expected a callback query, got \(update.content)")
            return
        }
        #expect(query.data == "cta:buy")
        #expect(query.chatInstance == "-8912345")
        #expect(query.message?.chat.id == -1_001_234_567_890)
        #expect(query.message?.replyMarkup?.inlineKeyboard.first?.first?.callbackData == "cta:buy")
        #expect(query.message?.from?.isBot == true)
    }

    @Test func startCommandMessageAndChannelPostWithoutSender() throws {
        let start = try decode(
            """
            {"update_id": 6, "message": {"message_id": 1, "date": 1718000000, "text": "/start cta_promo",
              "from": {"id": 7, "is_bot": false, "first_name": "B"}, "chat": {"id": 7, "type": "private"},
              "entities": [{"offset": 0, "length": 6, "type": "bot_command"}]}}
            """
        )
        #expect(start.message?.text == "/start cta_promo")
        let post = try decode(
            """
            {"update_id": 7, "channel_post": {"message_id": 3, "date": 1718000000, "text": "hello",
              "sender_chat": {"id": -100, "type": "channel", "title": "News"}, "chat": {"id": -100, "type": "channel"}}}
            """
        )
        guard case .channelPost(let message) = post.content else {
            Issue.record("expected a channel post, got \(post.content)")
            return
        }
        #expect(message.from == nil)
    }

    @Test func unknownUpdateKindDecodesAsUnknown() throws {
        let update = try decode(
            """
            {"update_id": 8, "message_reaction": {"chat": {"id": 1, "type": "private"}, "message_id": 3,
              "date": 1718000000, "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}}
            """
        )
        #expect(update.updateID == 8)
        #expect(update.content == .unknown)
    }

    @Test func unknownFieldsEverywhereAreIgnored() throws {
        let update = try decode(
            """
            {"update_id": 9, "future_top_level": {"a": [1, 2, 3]},
             "pre_checkout_query": {"id": "q", "currency": "XTR", "total_amount": 1, "invoice_payload": "p",
               "from": {"id": 1, "is_bot": false, "first_name": "A", "added_to_attachment_menu": true,
                        "brand_new_field": {"deep": null}},
               "order_info": {"name": "A"}, "shipping_option_id": "s", "another_new": 1.5}}
            """
        )
        #expect(update.preCheckoutQuery?.id == "q")
        #expect(update.preCheckoutQuery?.from.firstName == "A")
    }

    @Test func malformedKnownKindThrowsButItsUpdateIdCanStillBeRead() throws {
        let body = Data(
            #"{"update_id": 10, "pre_checkout_query": {"id": "q", "currency": "XTR", "invoice_payload": "p"}}"#.utf8
        )
        #expect(throws: DecodingError.self) { try TelegramUpdate.decode(from: body) }
        #expect(TelegramUpdate.updateID(in: body) == 10)
        #expect(TelegramUpdate.updateID(in: Data("not json".utf8)) == nil)
    }

    @Test func updatesRoundTripThroughJSON() throws {
        let update = TelegramUpdate(
            updateID: 11,
            message: TelegramMessage(
                messageID: 1,
                from: TelegramUser(id: 5, firstName: "A"),
                chat: TelegramChat(id: 5),
                date: 1_718_000_000,
                successfulPayment: SuccessfulPayment(
                    currency: "XTR", totalAmount: 250, invoicePayload: "p", telegramPaymentChargeID: "stx"
                )
            )
        )
        let decoded = try TelegramUpdate.decode(from: try JSONEncoder().encode(update))
        #expect(decoded == update)
    }
}
