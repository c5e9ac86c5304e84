import Metrics

/// The module's metrics: `marketing_clicks_total{cta_type}` and `marketing_posts_total`.
///
/// Label values of `cta_type` are bounded: a type outside `ctaTypes` (the `MARKETING_CTA_TYPES` setting) is counted
/// as `other`, so clients cannot grow the label set. Metrics are created at record time from the factory (the process's bootstrapped one unless a
/// test passes its own), because the App bootstraps the backend after services are built.
public struct MarketingMetrics: Sendable {
    /// CTA types that get their own label value when `MARKETING_CTA_TYPES` is not set.
    public static let defaultCTATypes = ["buy", "upgrade", "subscribe", "learn_more", "promo", "start", "open_app"]
    /// The label value for every other type.
    public static let otherCTAType = "other"

    private let factory: (any MetricsFactory)?
    /// CTA types that get their own label value.
    public let ctaTypes: Set<String>

    /// - Parameters:
    ///   - factory: nil uses `MetricsSystem.factory` (the bootstrapped backend).
    ///   - ctaTypes: the CTA types counted under their own name (`MARKETING_CTA_TYPES`); others count as `other`.
    public init(factory: (any MetricsFactory)? = nil, ctaTypes: [String] = MarketingMetrics.defaultCTATypes) {
        self.factory = factory
        self.ctaTypes = Set(ctaTypes)
    }

    /// The `cta_type` label value for a click type.
    public func ctaLabel(_ ctaType: String) -> String {
        ctaTypes.contains(ctaType) ? ctaType : Self.otherCTAType
    }

    /// Counts committed clicks of one type.
    public func recordClicks(ctaType: String, count: Int = 1) {
        let dimensions = [("cta_type", ctaLabel(ctaType))]
        let counter =
            factory.map { Counter(label: "marketing_clicks_total", dimensions: dimensions, factory: $0) }
            ?? Counter(label: "marketing_clicks_total", dimensions: dimensions)
        counter.increment(by: count)
    }

    /// Counts a promo posted to the channel.
    public func recordPost() {
        let counter =
            factory.map { Counter(label: "marketing_posts_total", dimensions: [], factory: $0) }
            ?? Counter(label: "marketing_posts_total")
        counter.increment()
    }
}
