"""Reconciliation drill (issue #18): phase 6 of the drill (DRILL_RECONCILE_ONLY=1 runs it alone).

DRILL_RECONCILE_STRIPE (2,000) Stripe invoice.paid payments and DRILL_RECONCILE_STARS (2,000) Telegram Stars payments.
20 % of them are never delivered as webhooks, 10 % are delivered twice (Stripe: the same event again; Stars: half the
same update again, half the same charge in a new update), the rest once, in random order with 16 sending threads,
round-robin over three new `telebot serve` instances (7-9) whose periodic reconciler runs every
DRILL_RECONCILE_INTERVAL (5) seconds over RECONCILE_LOOKBACK_HOURS=1, with one PostgreSQL restart (pg_ctl restart -m
fast) when half the payments are through. The instances use a database of their own (telebot_reconcile in the drill
cluster, migrated and synced here) and a Stripe / Bot API fake of their own that serves

  GET  /v1/events?created[gte]=&types[]=&limit=&starting_after=   newest first, has_more, cursor paging (Stripe)
  POST /bot<token>/getStarTransactions {offset, limit}             newest first, offset paging (Telegram)

A payment appears in those lists once its webhook fate is settled: a delivered one after its first delivery got a
2xx, an undelivered one when the sender reaches it and skips it. So the lists grow while webhooks arrive, as they do
at the providers, and every payment the reconciler finds missing is one whose webhook never came: the recovered count
must equal the undelivered count exactly.

Checks: every delivery got a 2xx (only 503 while PostgreSQL restarts); each provider's ledger has exactly one
processed row per unique payment id; exactly one grant per payment, made by that payment's ledger row; entitlements
per user (Stripe: latest period end; Stars: 7 days per charge); the sum of `recovered` over reconcile_runs = the sum of
reconcile_recovered_total over the instances' /metrics = the undelivered count, per provider; the ids the instances
logged as recovered are exactly the undelivered ones; a reconcile run of each provider that started after the last
payment was listed finished with nothing failed; the instances exit 0 on SIGTERM.

Entry point: run_phase(ctx, checks, summary, instances), ctx the drill's Context (config, secrets, cluster).
Modules: settings (its shape), fake (the listings behind the fake providers), payments (what is paid and sent, its
database), sender, results (metrics, logs, reconcile_runs), phase (the run), verify (the checks).
"""

from .phase import run_phase  # noqa: E402,F401

__all__ = ["run_phase"]
