import Foundation
import PGClient
import TestSupport
import Testing

@testable import Marketing

@Suite struct PromoSchedulerTests {
    @Test func twoInstancesPostEachSlotExactlyOnceInRotation() async throws {
        try await TestDatabase.with { _, pool in
            let campaign = "two"
            let promos = [
                try await MarketingFixtures.promo(pool, campaign: campaign, position: 1, text: "first"),
                try await MarketingFixtures.promo(pool, campaign: campaign, position: 2, text: "second"),
                try await MarketingFixtures.promo(pool, campaign: campaign, position: 3, text: "third"),
            ]
            let publisher = ScriptedPublisher()
            let metrics = TestMetrics()
            let instances = ["a", "b"].map {
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(campaign: campaign, instance: $0), pool: pool, publisher: publisher,
                    metrics: MarketingMetrics(factory: metrics))
            }
            let harness = SchedulerHarness.start(instances)
            // At least three sent slots (one-second interval); waiting on the rows, not the clock, keeps this
            // stable on a busy machine, where a slot whose time passed unticked is skipped by design.
            let threeSent = try await eventually(timeout: .seconds(30)) {
                try await MarketingFixtures.count(
                    pool, "SELECT count(*) FROM marketing_posts WHERE campaign = 'two' AND status = 'sent'") >= 3
            }
            try await harness.stop()
            #expect(threeSent)

            let rows = try await pool.withConnection { connection in
                try await connection.query(
                    """
                    SELECT slot_start, promo_id, status, claimed_by, telegram_message_id,
                           (extract(epoch FROM slot_start) * 1000)::bigint AS slot_ms
                    FROM marketing_posts WHERE campaign = \(campaign) ORDER BY slot_start
                    """
                ).map {
                    (
                        ms: try $0.decode("slot_ms", as: Int64.self), promo: try $0.decode("promo_id", as: Int64.self),
                        status: try $0.decode("status", as: String.self), by: try $0.decode("claimed_by", as: String.self),
                        message: try $0.decode("telegram_message_id", as: Int64?.self)
                    )
                }
            }
            #expect(rows.count >= 3)
            #expect(publisher.calls.count == rows.count)
            #expect(metrics.value("marketing_posts_total") == Int64(rows.count))
            #expect(rows.allSatisfy { $0.status == "sent" && $0.message != nil })
            #expect(Set(rows.compactMap(\.message)).count == rows.count)
            // Slots aligned to whole seconds, strictly increasing: none doubled. A slot whose time passed while
            // the machine was too busy to tick is skipped by design (no backlog bursts), so gaps are whole
            // multiples of the interval.
            #expect(rows.allSatisfy { $0.ms % 1000 == 0 })
            for (a, b) in zip(rows, rows.dropFirst()) { #expect(b.ms > a.ms && (b.ms - a.ms) % 1000 == 0) }
            // Rotation: slot number modulo the number of promos, in position order.
            for row in rows { #expect(row.promo == promos[Int((row.ms / 1000) % 3)]) }
            let texts = ["first", "second", "third"]
            for (call, row) in zip(publisher.calls, rows) {
                #expect(call.text == texts[Int((row.ms / 1000) % 3)])
                #expect(call.chatID == "@promo_channel")
                #expect(
                    call.buttons == [
                        [PromoButton(text: "Buy", action: .callback("cta:buy:two"))],
                        [PromoButton(text: "Open", action: .url("https://t.me/bot/app"))],
                    ])
            }
        }
    }

    @Test func manySimultaneousTicksClaimTheSlotOnce() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "race", position: 1, text: "only")
            let publisher = ScriptedPublisher()
            let configuration = MarketingFixtures.schedulerConfiguration(campaign: "race", interval: .seconds(3600), instance: "x")
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    var own = configuration
                    own.instanceID = "i\(index)"
                    let scheduler = PromoScheduler.test(own, pool: pool, publisher: publisher)
                    group.addTask { _ = await scheduler.tick() }
                }
            }
            #expect(publisher.calls.count == 1)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_posts WHERE status = 'sent'") == 1)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_posts") == 1)
        }
    }

    @Test func rateLimitedSendIsRetriedAfterRetryAfterAndPostedOnce() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "limited", position: 1, text: "hello")
            let publisher = ScriptedPublisher(script: [
                .fail(PromoPublishError(kind: .rateLimited, retryAfter: .seconds(1), message: "429 Too Many Requests"))
            ])
            let instances = ["a", "b"].map {
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(campaign: "limited", interval: .seconds(3600), instance: $0, retryWindow: nil),
                    pool: pool, publisher: publisher)
            }
            let harness = SchedulerHarness.start(instances)
            let sent = try await eventually(timeout: .seconds(60)) {
                try await MarketingFixtures.posts(pool, campaign: "limited").first?.status == "sent"
            }
            try await Task.sleep(for: .milliseconds(500))
            try await harness.stop()
            #expect(sent)
            let calls = publisher.calls
            #expect(calls.count == 2)
            #expect(publisher.posted == 1)
            if calls.count == 2 { #expect(calls[1].at.timeIntervalSince(calls[0].at) >= 0.95) }
            let posts = try await MarketingFixtures.posts(pool, campaign: "limited")
            #expect(posts.count == 1)
            #expect(posts.first?.attempts == 2)
            #expect(posts.first?.messageID != nil)
            #expect(posts.first?.lastError?.contains("rate_limited") == true)
        }
    }

    @Test func pauseStopsBothInstancesAndResumeRestartsThem() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "pausable", position: 1, text: "promo")
            let control = SchedulerControl(pool: pool)
            let paused = try await control.pause(campaign: "pausable", by: "admin-test")
            #expect(paused.paused && paused.updatedBy == "admin-test")
            let publisher = ScriptedPublisher()
            let instances = ["a", "b"].map {
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(campaign: "pausable", instance: $0), pool: pool, publisher: publisher)
            }
            let harness = SchedulerHarness.start(instances)
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(publisher.calls.isEmpty)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_posts") == 0)

            let resumed = try await control.resume(campaign: "pausable", by: "admin-test")
            #expect(!resumed.paused)
            let posting = try await eventually(timeout: .seconds(60)) { publisher.calls.count >= 2 }
            #expect(posting)

            try await control.pause(campaign: "pausable", by: "admin-test")
            // A send claimed just before the pause may still finish; give it time on a busy machine.
            try await Task.sleep(for: .milliseconds(1_000))
            let before = publisher.calls.count
            try await Task.sleep(for: .milliseconds(2_500))
            #expect(publisher.calls.count == before)
            #expect(try await MarketingFixtures.count(pool, "SELECT count(*) FROM marketing_posts") == before)
            #expect(try await control.status(campaign: "pausable").paused)
            try await harness.stop()
        }
    }

    @Test func unknownOutcomeIsNeverSentAgain() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "unknown", position: 1, text: "maybe")
            let publisher = ScriptedPublisher(script: [.fail(PromoPublishError(kind: .outcomeUnknown, message: "timeout"))])
            let scheduler = PromoScheduler.test(
                MarketingFixtures.schedulerConfiguration(campaign: "unknown", interval: .seconds(3600), instance: "a"), pool: pool,
                publisher: publisher)
            let harness = SchedulerHarness.start([scheduler])
            try await Task.sleep(for: .milliseconds(1_500))
            try await harness.stop()
            #expect(publisher.calls.count == 1)
            let posts = try await MarketingFixtures.posts(pool, campaign: "unknown")
            #expect(posts.map(\.status) == ["failed"])
            #expect(posts.first?.lastError?.contains("outcome_unknown") == true)
        }
    }

    @Test func refusedSendsGiveUpAfterMaxAttemptsAndPermanentOnesAtOnce() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "flaky", position: 1, text: "x")
            try await MarketingFixtures.promo(pool, campaign: "denied", position: 1, text: "y")
            let temporary = PromoPublishError(kind: .temporary, message: "502")
            let flaky = ScriptedPublisher(script: [.fail(temporary), .fail(temporary), .fail(temporary), .fail(temporary)])
            let denied = ScriptedPublisher(script: [.fail(PromoPublishError(kind: .permanent, message: "chat not found"))])
            let harness = SchedulerHarness.start([
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(
                        campaign: "flaky", interval: .seconds(3600), instance: "a", maxAttempts: 3, retryWindow: nil),
                    pool: pool, publisher: flaky),
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(campaign: "denied", interval: .seconds(3600), instance: "a", retryWindow: nil),
                    pool: pool, publisher: denied),
            ])
            // Backoff 200 ms then 400 ms; the timeout is generous for a loaded machine.
            let done = try await eventually(timeout: .seconds(30)) {
                try await MarketingFixtures.posts(pool, campaign: "flaky").first?.status == "failed"
            }
            try await Task.sleep(for: .milliseconds(700))
            try await harness.stop()
            #expect(done)
            #expect(flaky.calls.count == 3)
            #expect(try await MarketingFixtures.posts(pool, campaign: "flaky").first?.attempts == 3)
            #expect(denied.calls.count == 1)
            #expect(try await MarketingFixtures.posts(pool, campaign: "denied").map(\.status) == ["failed"])
        }
    }

    @Test func anAbandonedSendIsMarkedFailedAndNotPostedAgain() async throws {
        try await TestDatabase.with { _, pool in
            let promo = try await MarketingFixtures.promo(pool, campaign: "crash", position: 1, text: "z")
            let configuration = MarketingFixtures.schedulerConfiguration(campaign: "crash", interval: .seconds(3600), instance: "b")
            // Another instance claimed the current slot and died mid-send: its lease has run out.
            _ = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO marketing_posts (campaign, slot_start, promo_id, status, attempts, lease_expires_at, claimed_by)
                    VALUES ('crash', to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600), \(promo), 'sending', 1,
                            now() - interval '1 second', 'dead-instance')
                    """)
            }
            let publisher = ScriptedPublisher()
            let scheduler = PromoScheduler.test(configuration, pool: pool, publisher: publisher)
            _ = await scheduler.tick()
            _ = await scheduler.tick()
            #expect(publisher.calls.isEmpty)
            let posts = try await MarketingFixtures.posts(pool, campaign: "crash")
            #expect(posts.map(\.status) == ["failed"])
            #expect(posts.first?.lastError?.contains("outcome unknown") == true)
        }
    }

    @Test func gracefulShutdownStopsPromptlyAndLetsASendFinish() async throws {
        try await TestDatabase.with { _, pool in
            try await MarketingFixtures.promo(pool, campaign: "idle", position: 1, text: "i")
            try await MarketingFixtures.promo(pool, campaign: "busy", position: 1, text: "b")
            let idlePublisher = ScriptedPublisher()
            let idle = PromoScheduler.test(
                MarketingFixtures.schedulerConfiguration(campaign: "idle", interval: .seconds(3600), instance: "a"), pool: pool,
                publisher: idlePublisher)
            var sleepy = MarketingFixtures.schedulerConfiguration(campaign: "idle", interval: .seconds(3600), instance: "a")
            sleepy.pollInterval = .seconds(60)
            let idleHarness = SchedulerHarness.start([PromoScheduler.test(sleepy, pool: pool, publisher: idlePublisher), idle])
            #expect(try await eventually { idlePublisher.calls.count == 1 })
            try await Task.sleep(for: .milliseconds(200))
            // The sleepy instance polls every 60 s; stopping must not wait for that (the bound only tells the two apart).
            #expect(try await idleHarness.stop() < .seconds(45))

            let slow = ScriptedPublisher(script: [.delay(.milliseconds(800))])
            let busyHarness = SchedulerHarness.start([
                PromoScheduler.test(
                    MarketingFixtures.schedulerConfiguration(campaign: "busy", interval: .seconds(3600), instance: "a"), pool: pool,
                    publisher: slow)
            ])
            #expect(try await eventually { slow.calls.count == 1 })
            try await busyHarness.stop()
            #expect(slow.posted == 1)
            #expect(try await MarketingFixtures.posts(pool, campaign: "busy").map(\.status) == ["sent"])
        }
    }
}

@Suite struct PromoRetryClaimTests {
    @Test func aDueRetryIsTakenByOneInstanceOnly() async throws {
        try await TestDatabase.with { _, pool in
            let promo = try await MarketingFixtures.promo(pool, campaign: "retry", position: 1, text: "again")
            // The current slot was refused once and its retry is due.
            _ = try await pool.withConnection { connection in
                try await connection.execute(
                    """
                    INSERT INTO marketing_posts (campaign, slot_start, promo_id, status, attempts, next_attempt_at, claimed_by, last_error)
                    VALUES ('retry', to_timestamp(floor(extract(epoch FROM now()) / 3600) * 3600), \(promo), 'claimed', 1,
                            now() - interval '1 second', 'someone', 'rate_limited: 429')
                    """)
            }
            let publisher = ScriptedPublisher()
            let configuration = MarketingFixtures.schedulerConfiguration(
                campaign: "retry", interval: .seconds(3600), instance: "x", retryWindow: nil)
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    var own = configuration
                    own.instanceID = "i\(index)"
                    let scheduler = PromoScheduler.test(own, pool: pool, publisher: publisher)
                    group.addTask { _ = await scheduler.tick() }
                }
            }
            #expect(publisher.calls.count == 1)
            let posts = try await MarketingFixtures.posts(pool, campaign: "retry")
            #expect(posts.map(\.status) == ["sent"])
            #expect(posts.first?.attempts == 2)
        }
    }
}
