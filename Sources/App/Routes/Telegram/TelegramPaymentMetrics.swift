import Billing
import CoreMetrics

/// `telegram_payments_total{result}` and `telegram_payment_value_total{currency}`, handles made once.
struct TelegramPaymentMetrics: Sendable {
    let success: CoreMetrics.Counter
    let failed: CoreMetrics.Counter
    let value: CounterFamily

    init(factory: any MetricsFactory) {
        success = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "success")], factory: factory)
        failed = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "failed")], factory: factory)
        value = CounterFamily(label: "telegram_payment_value_total", dimension: "currency", factory: factory)
    }

    func paid(amount: Int64, currency: String) {
        success.increment()
        value.counter(currency).increment(by: amount)
    }
}
