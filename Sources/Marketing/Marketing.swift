/// Marketing: CTA click tracking (`ClickService`, `ClickStore`, `BatchedClickWriter`), click capture from Telegram
/// (`CTAParser`, `CTACapture`) and the promo scheduler (`PromoScheduler`, `SchedulerControl`).
///
/// Tables: `marketing_clicks` (contract), `marketing_promos`, `marketing_posts`, `marketing_scheduler_state`
/// (`sql/0005_marketing.up.sql`).
public enum Marketing {
    /// The campaign the scheduler and the admin pause/resume API use when none is named.
    public static let defaultCampaign = "default"
}
