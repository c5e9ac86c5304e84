import PGClient

/// What of the configuration may be logged.
extension AppConfig {
    /// The configuration as it may be logged: secrets replaced by `set`/`unset`.
    var redactedDescription: [String: String] {
        func secret(_ value: String?) -> String { value.map { $0.isEmpty ? "unset" : "set" } ?? "unset" }
        return [
            "database_url": AppConfig.redactConninfo(databaseURL),
            "host": host, "port": "\(port)", "db_pool_size": "\(dbPoolSize)",
            "db_prepared_statements": "\(dbPreparedStatements)", "migrations_dir": migrationsDir,
            "telegram_bot_token": secret(telegramBotToken), "telegram_webhook_secret": secret(telegramWebhookSecret),
            "telegram_api_base_url": telegramAPIBaseURL, "stripe_api_key": secret(stripeAPIKey),
            "stripe_webhook_secrets": "\(stripeWebhookSecrets.count) set", "stripe_api_base_url": stripeAPIBaseURL,
            "stripe_webhook_tolerance_seconds": "\(stripeWebhookTolerance)", "jwt_secret": secret(jwtSecret),
            "jwt_previous_secret": secret(jwtPreviousSecret), "jwt_ttl_seconds": "\(jwtTTL)",
            "initdata_max_age_seconds": "\(initDataMaxAge)", "initdata_check": initDataCheck.rawValue, "admin_token": secret(adminToken),
            "metrics_token": secret(metricsToken), "trusted_proxies": trustedProxies.networks.map(\.description).joined(separator: ","),
            "stripe_livemode": stripeLivemode.map { "\($0)" } ?? "any", "telebot_env": environmentName,
            "plans_file": plansFile ?? "none", "public_base_url": publicBaseURL,
            "marketing_channel_id": marketingChannelID ?? "unset", "marketing_post_interval": "\(marketingPostInterval)",
            "marketing_cta_types": marketingCTATypes.joined(separator: ","),
            "past_due_grace_days": "\(pastDueGraceDays)",
            "reconcile_interval_seconds": "\(reconcileIntervalSeconds)", "reconcile_lookback_hours": "\(reconcileLookbackHours)",
            "housekeeping_interval_seconds": "\(housekeepingIntervalSeconds)",
            "telegram_updates_retention_days": "\(telegramUpdatesRetentionDays)", "payload_retention_days": "\(payloadRetentionDays)",
            "stars_subscription_period_seconds": "\(starsSubscriptionPeriod)", "terms_url": termsURL ?? "unset",
            "log_level": logLevel, "log_format": logFormat.rawValue,
        ]
    }

    /// The connection string as libpq reads it, every keyword but the password (and `sslpassword`) shown; see
    /// `PGConninfo.redacted`.
    static func redactConninfo(_ conninfo: String) -> String {
        PGConninfo.redacted(conninfo)
    }
}
