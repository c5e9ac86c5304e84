import Billing
import Marketing
import PGClient
import Telegram
import TestSupport
import Testing

@Suite struct CTAParserTests {
    @Test func callbackDataWithAndWithoutCampaignParses() {
        #expect(CTAParser.parseCallbackData("cta:buy") == CTA(name: "buy", source: .callbackQuery))
        #expect(
            CTAParser.parseCallbackData("cta:learn_more:spring-2026")
                == CTA(name: "learn_more", campaign: "spring-2026", source: .callbackQuery))
        #expect(CTAParser.parseCallbackData("cta:" + String(repeating: "a", count: 32))?.name.count == 32)
    }

    @Test func malformedCallbackDataIsNotACTA() {
        for data in [
            "", "cta", "cta:", "CTA:buy", "cta:Buy", "cta:buy now", "cta:buy:", "cta::x", "cta:buy:a:b", "cta:buy:sp ace",
            "cta:" + String(repeating: "a", count: 33), "pay:buy", " cta:buy", "cta:buy-now", "cta:bu\u{0}y",
            "cta:buy:" + String(repeating: "c", count: 60),
        ] {
            #expect(CTAParser.parseCallbackData(data) == nil, "\(data)")
        }
    }

    @Test func startDeepLinksParse() {
        #expect(CTAParser.parseStartCommand("/start cta_upgrade") == CTA(name: "upgrade", source: .deepLink))
        #expect(CTAParser.parseStartCommand("/start@TelebotBot cta_buy") == CTA(name: "buy", source: .deepLink))
        #expect(
            CTAParser.parseStartCommand("  /start   cta_buy-summer_sale \n") == CTA(name: "buy", campaign: "summer_sale", source: .deepLink)
        )
        #expect(CTAParser.parseStartParameter("cta_promo") == CTA(name: "promo", source: .deepLink))
    }

    @Test func otherStartMessagesAreNotCTAs() {
        for text in [
            "/start", "/start ref_42", "/start cta_", "/start cta_Buy", "/startcta_buy", "/start@ cta_buy",
            "/help cta_buy", "/start cta_buy extra", "/start cta_buy-", "/start cta_buy-bad!campaign", "hello",
        ] {
            #expect(CTAParser.parseStartCommand(text) == nil, "\(text)")
        }
    }

    @Test func builtCallbackDataFitsTelegramsLimitAndParsesBack() throws {
        let data = try #require(CTAParser.callbackData(name: "learn_more", campaign: "default"))
        #expect(data == "cta:learn_more:default")
        #expect(CTAParser.parseCallbackData(data) == CTA(name: "learn_more", campaign: "default", source: .callbackQuery))
        let long = try #require(
            CTAParser.callbackData(name: String(repeating: "n", count: 32), campaign: String(repeating: "c", count: 40)))
        #expect(long.utf8.count <= 64)
        #expect(CTAParser.parseCallbackData(long)?.campaign == nil)
        #expect(CTAParser.callbackData(name: "Bad", campaign: nil) == nil)
    }

    @Test func unknownCTATypesFoldIntoOther() {
        let metrics = MarketingMetrics()
        #expect(metrics.ctaLabel("buy") == "buy")
        #expect(metrics.ctaLabel("learn_more") == "learn_more")
        #expect(metrics.ctaLabel("anything_else") == "other")
        let testMetrics = TestMetrics()
        let recorder = MarketingMetrics(factory: testMetrics)
        for name in ["buy", "x1", "x2", "x3"] { recorder.recordClicks(ctaType: name) }
        #expect(testMetrics.value("marketing_clicks_total", [("cta_type", "buy")]) == 1)
        #expect(testMetrics.value("marketing_clicks_total", [("cta_type", "other")]) == 3)
    }

    @Test func configuredCTATypesReplaceTheDefaults() {
        let testMetrics = TestMetrics()
        let metrics = MarketingMetrics(factory: testMetrics, ctaTypes: ["winter_sale", "buy"])
        #expect(metrics.ctaLabel("winter_sale") == "winter_sale")
        #expect(metrics.ctaLabel("buy") == "buy")
        #expect(metrics.ctaLabel("learn_more") == "other")
        for name in ["winter_sale", "learn_more"] { metrics.recordClicks(ctaType: name) }
        #expect(testMetrics.value("marketing_clicks_total", [("cta_type", "winter_sale")]) == 1)
        #expect(testMetrics.value("marketing_clicks_total", [("cta_type", "other")]) == 1)
    }
}

private struct Abort: Error {}

@Suite struct CTACaptureTests {
    @Test func callbackClickProvisionsTheUserOnceAndLogsEachClick() async throws {
        try await TestDatabase.with { _, pool in
            let metrics = TestMetrics()
            let capture = CTACapture(pool: pool, metrics: MarketingMetrics(factory: metrics))
            let cta = try #require(CTAParser.parseCallbackData("cta:upgrade:default"))
            let profile = TelegramUser(id: 777_001, firstName: "Nia", username: "newbie")
            // Twenty presses at once from a user nobody has seen yet.
            let results = try await withThrowingTaskGroup(of: CTACaptureResult.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await capture.record(telegramID: 777_001, from: profile, cta: cta, channel: "@promo_channel") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(results.map(\.userID)).count == 1)
            #expect(Set(results.map(\.clickID)).count == 20)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM users WHERE telegram_user_id = 777001") == 1)
            let user = try await pool.withConnection { try await UserStore.find($0, telegramID: 777_001) }
            #expect(user?.username == "newbie")
            #expect(user?.id == results.first?.userID)
            let click = try await ClickService(pool: pool).get(userID: try #require(user?.id), id: try #require(results.first?.clickID))
            #expect(click.ctaType == "upgrade")
            #expect(click.utmCampaign == "default")
            #expect(click.utmSource == "telegram")
            #expect(click.channel == "@promo_channel")
            #expect(click.metadata["via"] == .string("callback_query"))
            #expect(metrics.value("marketing_clicks_total", [("cta_type", "upgrade")]) == 20)
        }
    }

    @Test func deepLinkClickUsesAnExistingUser() async throws {
        try await TestDatabase.with { _, pool in
            let existing = try await MarketingFixtures.user(pool, telegramID: 777_002)
            let capture = CTACapture(pool: pool)
            let cta = try #require(CTAParser.parseStartCommand("/start cta_mystery_offer"))
            let result = try await capture.record(telegramID: 777_002, from: nil, cta: cta, metadata: ["chat_id": .integer(777_002)])
            #expect(result.userID == existing)
            let click = try await ClickService(pool: pool).get(userID: existing, id: result.clickID)
            #expect(click.ctaType == "mystery_offer")
            #expect(click.channel == "telegram")
            #expect(click.metadata == ["via": .string("deep_link"), "chat_id": .integer(777_002)])
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM users") == 1)
        }
    }

    @Test func captureJoinsTheCallersTransaction() async throws {
        try await TestDatabase.with { (_, pool) async throws in
            let cta = CTA(name: "buy", source: .callbackQuery)
            await #expect(throws: Abort.self) {
                try await pool.transaction { tx in
                    _ = try await CTACapture.record(tx, telegramID: 777_003, from: nil, cta: cta)
                    throw Abort()
                }
            }
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM users") == 0)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_clicks") == 0)
        }
    }
}
