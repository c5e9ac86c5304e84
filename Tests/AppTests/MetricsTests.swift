import CoreMetrics
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import App

@Suite struct MetricsTests {
    @Test func metricsEndpointParsesAsPrometheusTextAndListsEveryContractMetric() async throws {
        try await AppTestSupport.withApp { client in
            let response = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            let text = response.text
            let parsed = try PrometheusText(text)
            for definition in ContractMetrics.all {
                #expect(parsed.types[definition.name] == definition.kind.rawValue, "\(definition.name)")
            }
            #expect(ContractMetrics.names.count == 18)
            // Known label values start at zero.
            #expect(parsed.value("webhook_events_total", ["provider": "stripe", "outcome": "duplicate"]) == 0)
            #expect(parsed.value("webhook_events_total", ["provider": "telegram", "outcome": "failed"]) == 0)
            #expect(parsed.value("billing_payments_total", ["status": "failed"]) == 0)
            #expect(parsed.value("telegram_payments_total", ["result": "success"]) == 0)
            #expect(parsed.value("telegram_payment_value_total", ["currency": "XTR"]) == 0)
            #expect(parsed.value("billing_checkout_started_total", ["plan": "premium_monthly"]) == 0)
            #expect(parsed.value("miniapp_sessions_total") == 0)
            #expect(parsed.value("db_pool_connections", ["state": "idle"]) == 0)
            // The Mini App exchange histogram has exactly the contract's buckets.
            let buckets = parsed.samples.filter { $0.name == "miniapp_exchange_latency_seconds_bucket" }
                .compactMap { $0.labels["le"] }
            #expect(buckets == ["0.01", "0.05", "0.1", "0.5", "1.0", "+Inf"] || buckets == ["0.01", "0.05", "0.1", "0.5", "1", "+Inf"])
        }
    }

    @Test func everyMetricFamilyHasAHelpLineBeforeItsType() async throws {
        try await AppTestSupport.withApp { client in
            let text = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil).text
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var typed = 0
            for (index, line) in lines.enumerated() where line.hasPrefix("# TYPE ") {
                typed += 1
                let name = line.dropFirst(7).split(separator: " ").first ?? ""
                #expect(index > 0 && lines[index - 1].hasPrefix("# HELP \(name) "), "no # HELP before \(line)")
            }
            #expect(typed >= ContractMetrics.names.count)
            for name in ContractMetrics.names {
                #expect(MetricHelp.text[name] != nil, "\(name) has no help text of its own")
                #expect(text.contains("# HELP \(name) \(MetricHelp.text[name] ?? "")\n"))
            }
            #expect(text.hasSuffix("\n"))
            #expect(try PrometheusText(text).types.count == typed)
        }
    }

    @Test func helpLinesAreAddedOnceAndNothingElseChanges() {
        let exposition = "# TYPE a_total counter\na_total 1\n# HELP b own\n# TYPE b gauge\nb 2\n"
        let output = String(decoding: MetricHelp.addHelpLines(Array(exposition.utf8)), as: UTF8.self)
        #expect(output == "# HELP a_total telebot metric a_total.\n" + exposition)
    }

    @Test func httpMetricsUseRouteTemplatesNeverRawPaths() async throws {
        let metrics = AppMetrics()
        try await AppTestSupport.withApp(metrics: metrics) { client in
            for id in ["1", "2", "3"] {
                _ = try await client.execute(uri: "/test/items/\(id)", method: .get, headers: [:], body: nil)
            }
            _ = try await client.execute(uri: "/secret/path/abc", method: .get, headers: [:], body: nil)
            _ = try await client.execute(uri: "/health/live", method: .put, headers: [:], body: nil)
            _ = try await client.execute(uri: "/test/boom", method: .get, headers: [:], body: nil)
        }
        let parsed = try PrometheusText(metrics.registry.emitToString())
        let templated = ["method": "GET", "route": "/test/items/{id}", "status": "200"]
        #expect(parsed.value("http_requests_total", templated) == 3)
        #expect(parsed.value("http_requests_total", ["method": "GET", "route": "unmatched", "status": "404"]) == 1)
        #expect(parsed.value("http_requests_total", ["method": "PUT", "route": "unmatched", "status": "405"]) == 1)
        #expect(parsed.value("http_requests_total", ["method": "GET", "route": "/test/boom", "status": "500"]) == 1)
        #expect(parsed.value("http_request_duration_seconds_count", ["method": "GET", "route": "/test/items/{id}"]) == 3)
        let everyRoute = Set(parsed.samples.compactMap { $0.labels["route"] })
        #expect(!everyRoute.contains { $0.contains("secret") || $0.contains("/1") })
    }

    @Test func labelOrderAndRecorderHistogramsAreNormalised() throws {
        let metrics = AppMetrics()
        ContractMetrics.register(factory: metrics.factory, planCodes: [])
        // A module writing labels in another order updates the same series.
        CoreMetrics.Counter(
            label: "webhook_events_total", dimensions: [("outcome", "processed"), ("provider", "stripe")],
            factory: metrics.factory
        ).increment()
        // A module recording seconds through a Recorder lands in the contract's duration histogram.
        CoreMetrics.Recorder(label: "miniapp_exchange_latency_seconds", factory: metrics.factory).record(0.07)
        let parsed = try PrometheusText(metrics.registry.emitToString())
        #expect(parsed.value("webhook_events_total", ["provider": "stripe", "outcome": "processed"]) == 1)
        #expect(parsed.value("miniapp_exchange_latency_seconds_count") == 1)
        #expect(parsed.value("miniapp_exchange_latency_seconds_bucket", ["le": "0.05"]) == 0)
        #expect(parsed.value("miniapp_exchange_latency_seconds_bucket", ["le": "0.1"]) == 1)
    }

    /// The pool was made before the application (and its registry); once the application is assembled, the pool
    /// records into that registry as it works: nothing is patched at scrape time.
    @Test func poolGaugesFollowThePoolInTheApplicationsRegistry() async throws {
        try await TestDatabaseHelpers.withTemplateDatabase { _, pool in
            _ = try await pool.withConnection { connection in try await connection.execute("SELECT 1") }
            let metrics = AppMetrics()
            try await AppTestSupport.withApp(pool: pool, metrics: metrics) { client in
                let response = try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil)
                let parsed = try PrometheusText(response.text)
                #expect(parsed.value("db_pool_connections", ["state": "idle"]) == 1)
                #expect(parsed.value("db_pool_connections", ["state": "in_use"]) == 0)
                // While the connection is checked out, the same registry says so.
                let during = try PrometheusText(
                    try await pool.withConnection { _ in
                        try await client.execute(uri: "/metrics", method: .get, headers: [:], body: nil).text
                    })
                #expect(during.value("db_pool_connections", ["state": "idle"]) == 0)
                #expect(during.value("db_pool_connections", ["state": "in_use"]) == 1)
            }
        }
    }
}
