/// What `StripeClient` needs: the key, where Stripe is, and where our public pages are.
///
/// Printing it (`description`, `debugDescription`, `dump`) never shows the API key.
public struct StripeClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// `STRIPE_API_KEY` (`sk_…` or `rk_…`), sent as `Authorization: Bearer`.
    public var apiKey: String
    /// `STRIPE_API_BASE_URL`, without a trailing slash needed.
    public var apiBaseURL: String
    /// `PUBLIC_BASE_URL`: success, cancel and portal return URLs start with it.
    public var publicBaseURL: String
    /// Sent as `Stripe-Version` when set; the account's default version otherwise.
    public var apiVersion: String?
    /// Deadline of one attempt (connect, send, receive).
    public var requestTimeout: Duration
    public var retry: StripeRetryPolicy
    /// Appended to `publicBaseURL` for Checkout's `success_url` (`{CHECKOUT_SESSION_ID}` is filled in by Stripe).
    public var checkoutSuccessPath: String
    /// Appended to `publicBaseURL` for Checkout's `cancel_url`.
    public var checkoutCancelPath: String
    /// Appended to `publicBaseURL` for the billing portal's `return_url`.
    public var portalReturnPath: String

    public init(
        apiKey: String,
        apiBaseURL: String = "https://api.stripe.com",
        publicBaseURL: String,
        apiVersion: String? = nil,
        requestTimeout: Duration = .seconds(30),
        retry: StripeRetryPolicy = StripeRetryPolicy(),
        checkoutSuccessPath: String = "/miniapp/?checkout=success&session_id={CHECKOUT_SESSION_ID}",
        checkoutCancelPath: String = "/miniapp/?checkout=cancel",
        portalReturnPath: String = "/miniapp/"
    ) {
        self.apiKey = apiKey
        self.apiBaseURL = apiBaseURL
        self.publicBaseURL = publicBaseURL
        self.apiVersion = apiVersion
        self.requestTimeout = requestTimeout
        self.retry = retry
        self.checkoutSuccessPath = checkoutSuccessPath
        self.checkoutCancelPath = checkoutCancelPath
        self.portalReturnPath = portalReturnPath
    }

    /// `publicBaseURL` joined with `path` (exactly one slash between them).
    public func publicURL(_ path: String) -> String { Self.join(publicBaseURL, path) }

    /// `apiBaseURL` joined with `path`.
    func apiURL(_ path: String) -> String { Self.join(apiBaseURL, path) }

    static func join(_ base: String, _ path: String) -> String {
        var base = Substring(base)
        while base.hasSuffix("/") { base = base.dropLast() }
        if path.isEmpty { return String(base) + "/" }
        return path.hasPrefix("/") ? base + path : base + "/" + path
    }

    public var description: String {
        "StripeClientConfiguration(apiKey: \(apiKey.isEmpty ? "unset" : "set"), apiBaseURL: \(apiBaseURL), "
            + "publicBaseURL: \(publicBaseURL), apiVersion: \(apiVersion ?? "default"))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "apiKey": apiKey.isEmpty ? "unset" : "set", "apiBaseURL": apiBaseURL, "publicBaseURL": publicBaseURL,
                "apiVersion": apiVersion ?? "default",
            ], displayStyle: .struct)
    }
}
