/// The `# HELP` text of every metric the server exports (docs/metrics.md says the same in more words).
///
/// swift-prometheus's swift-metrics bridge registers metrics without help text, and its registry insists on one
/// help text per name, so the help lines are added when `/metrics` is written (`MetricsController`), before each
/// `# TYPE` line. A metric missing here still gets a generic line, so no family is left without one.
enum MetricHelp {
    static let text: [String: String] = [
        "billing_checkout_started_total": "Checkouts started, by plan (Mini App and other entry points).",
        "billing_payments_total": "Payments by outcome: success (a paid invoice or one-time payment, once) or failed.",
        "billing_payment_value_total": "Value of Stripe payments in the currency's minor unit, each counted once.",
        "telegram_payments_total": "Telegram Stars payments by result.",
        "telegram_payment_value_total": "Value of successful Telegram Stars payments, in whole Stars, by currency.",
        "miniapp_sessions_total": "Mini App sign-ins (initData exchanged for an access token).",
        "miniapp_exchange_latency_seconds": "Time to exchange Mini App initData for an access token.",
        "miniapp_checkout_start_total": "Checkouts started from the Mini App, by plan.",
        "miniapp_portal_open_total": "Stripe billing portal sessions opened from the Mini App.",
        "marketing_posts_total": "Promo posts published to the marketing channel.",
        "marketing_clicks_total": "Marketing call-to-action clicks stored, by CTA type (MARKETING_CTA_TYPES, else other).",
        "webhook_events_total": "Webhook deliveries by provider and outcome.",
        "http_requests_total": "HTTP requests by method, route template and status.",
        "http_request_duration_seconds": "HTTP request duration by method and route template.",
        "db_pool_connections": "Database pool connections by state.",
        "db_pool_checkout_wait_seconds": "Time a unit of work waited for a database connection from the pool.",
        "payment_events_dead": "Payment events that failed every retry and need an operator, by provider.",
        "telegram_api_requests_total": "Telegram Bot API calls by method and result.",
        "reconcile_recovered_total": "Payments and refunds whose webhooks never arrived, applied by reconciliation, by provider.",
        "reconcile_last_success_timestamp_seconds": "Unix time the last reconciliation run of a provider ended with nothing failed.",
        "log_lines_dropped_total": "Log lines dropped because standard output did not keep up (the queue was full).",
        "notifications_sent_total": "Messages to subscribers sent through the outbox, by kind and result (one per attempt).",
    ]

    /// The help line for a metric name.
    static func helpLine(for name: Substring) -> String {
        let help = text[String(name)] ?? "telebot metric \(name)."
        return "# HELP \(name) \(help)\n"
    }

    /// Inserts a `# HELP` line before every `# TYPE` line that lacks one.
    static func addHelpLines(_ exposition: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(exposition.count + 4096)
        var previousWasHelp = false
        for line in exposition.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            let text = Substring(decoding: line, as: UTF8.self)
            if text.hasPrefix("# TYPE "), !previousWasHelp, let name = text.dropFirst(7).split(separator: " ").first {
                output.append(contentsOf: helpLine(for: name).utf8)
            }
            previousWasHelp = text.hasPrefix("# HELP ")
            output.append(contentsOf: line)
            output.append(UInt8(ascii: "\n"))
        }
        output.removeLast()  // the split gave one more piece than there were newlines
        return output
    }
}
