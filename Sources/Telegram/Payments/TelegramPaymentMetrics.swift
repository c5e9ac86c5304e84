import Billing
import CoreMetrics

/// `telegram_payments_total{result}` and `telegram_payment_value_total{currency}`, handles made once.
public struct TelegramPaymentMetrics: Sendable {
    public let success: CoreMetrics.Counter
    public let failed: CoreMetrics.Counter
    public let value: CounterFamily

    public init(factory: any MetricsFactory) {
        success = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "success")], factory: factory)
        failed = CoreMetrics.Counter(label: "telegram_payments_total", dimensions: [("result", "failed")], factory: factory)
        value = CounterFamily(label: "telegram_payment_value_total", dimension: "currency", factory: factory)
    }

    public func paid(amount: Int64, currency: String) {
        success.increment()
        value.counter(currency).increment(by: amount)
    }
}
