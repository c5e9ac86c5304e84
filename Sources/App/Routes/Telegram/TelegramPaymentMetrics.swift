import CoreMetrics

/// `telegram_payments_total{result}` and `telegram_payment_value_total{currency}`.
struct TelegramPaymentMetrics: Sendable {
    let success: CoreMetrics.Counter
    let failed: CoreMetrics.Counter
    let factory: any MetricsFactory

    init(factory: any MetricsFactory) {
        self.factory = factory
        success = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "success")], factory: factory)
        failed = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "failed")], factory: factory)
    }

    func paid(amount: Int64, currency: String) {
        success.increment()
        CoreMetrics.Counter(label: "telegram_payment_value_total", dimensions: [("currency", currency)], factory: factory)
            .increment(by: amount)
    }
}
