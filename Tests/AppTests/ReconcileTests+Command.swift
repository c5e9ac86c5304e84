import Foundation
import PGClient
import ServiceLifecycle
import Telegram
import TestSupport
import Testing

@testable import App
@testable import Billing

extension ReconcileTests {
    @Test func sinceDurations() {
        #expect(ReconcileCommand.seconds("90m") == 5400)
        #expect(ReconcileCommand.seconds("72h") == 259_200)
        #expect(ReconcileCommand.seconds("3d") == 259_200)
        #expect(ReconcileCommand.seconds("45") == 45)
        #expect(ReconcileCommand.seconds("-1h") == nil)
        #expect(ReconcileCommand.seconds("soon") == nil)
    }

    @Test func theListSlicerKeepsEachEventsBytes() throws {
        let list = Data(
            #"{"object":"list","data":[ {"id":"evt_1","s":"a,]}\"x"} ,{"id":"evt_2","n":[1,{"k":2}]}],"has_more":true}"#.utf8)
        let page = try #require(StripeListSlicer.slice(list))
        #expect(page.hasMore)
        #expect(
            page.items.map { String(decoding: $0, as: UTF8.self) } == [
                #"{"id":"evt_1","s":"a,]}\"x"}"#, #"{"id":"evt_2","n":[1,{"k":2}]}"#,
            ])
        #expect(StripeListSlicer.slice(Data("[]".utf8)) == nil)
    }

    /// `telebot reconcile` as operators run it: the built binary prints one JSON line per provider.
    @Test func theCommandPrintsOneJSONLinePerProvider() async throws {
        try #require(FileManager.default.fileExists(atPath: ServeProcess.binary), "build the telebot binary first")
        try await H.with { h in
            let telegramID: Int64 = 881_009
            let user = try await h.user(telegramID: telegramID)
            h.stripe.addEvents([H.paid(userID: user)])
            var environment = AppTestSupport.environment([
                "DATABASE_URL": h.database.conninfo,
                "STRIPE_API_KEY": h.stripe.apiKey, "STRIPE_API_BASE_URL": h.stripe.baseURL,
                "TELEGRAM_API_BASE_URL": h.bot.baseURL, "TELEGRAM_BOT_TOKEN": h.bot.token, "LOG_LEVEL": "error",
            ])
            environment["PORT"] = "0"
            let dry = try ServeProcess(arguments: ["reconcile", "--since", "2h", "--dry-run"], environment: environment, port: 0)
            defer { dry.cleanUp() }
            #expect(await dry.exitCode() == 0, "\(dry.stderr)")
            #expect(
                dry.stdout.split(separator: "\n") == [
                    #"{"provider":"stripe","seen":1,"recovered":1,"failed":0}"#,
                    #"{"provider":"telegram_stars","seen":0,"recovered":0,"failed":0}"#,
                ])
            #expect(try await h.count("SELECT count(*) FROM payment_events") == 0)

            let run = try ServeProcess(arguments: ["reconcile", "--provider", "stripe"], environment: environment, port: 0)
            defer { run.cleanUp() }
            #expect(await run.exitCode() == 0, "\(run.stderr)")
            #expect(run.stdout == #"{"provider":"stripe","seen":1,"recovered":1,"failed":0}"# + "\n")
            #expect(try await h.activePlans(telegramID: telegramID) == [H.plan])

            let bad = try ServeProcess(arguments: ["reconcile", "--provider", "paypal"], environment: environment, port: 0)
            defer { bad.cleanUp() }
            #expect(await bad.exitCode() == 2)
        }
    }
}
