"""The reconciliation phase's checks and summary lines."""
import collections
import time

from ..config import fmt_counter
from .payments import rpsql
from .results import LAST_SUCCESS, ledger_counts, logged_recoveries, runs_after
from .settings import (CONCURRENCY, DB, LOOKBACK_HOURS, STARS_PLAN, STARS_PLAN_DAYS, STARS_USERS, STRIPE_PLAN, STRIPE_USERS,
                       TG_STARS_BASE, TG_STRIPE_BASE)


def verify(ctx, checks, summary, fake, sender, faults, rinstances, metrics, exit_codes, stripe, stars, want,
           deliveries, first_send, last_publish, elapsed, settled_in, phase_t0):
    for label, ok, detail in faults:
        checks.check(label, ok, detail)
    checks.check("reconcile: every webhook delivery got a 2xx within %ds" % ctx.cfg.reconcile_timeout, sender.undelivered == 0,
                 "%d deliveries, %d attempts, %d never got a 2xx" % (deliveries, sender.sent, sender.undelivered))
    checks.check("reconcile: no 5xx but 503, no 4xx", not sender.violations,
                 "; ".join(sender.violations[:5]))
    counts = ledger_counts(ctx)
    run_rows = {}
    for r in rpsql(ctx, """
            SELECT provider, count(*), coalesce(sum(seen), 0), coalesce(sum(recovered), 0),
                   coalesce(sum(failed), 0), count(*) FILTER (WHERE failed > 0),
                   count(*) FILTER (WHERE finished_at IS NULL),
                   coalesce(max(recovered), 0), count(*) FILTER (WHERE recovered > 0)
            FROM reconcile_runs GROUP BY 1"""):
        f = r.split("|")
        run_rows[f[0]] = {"runs": int(f[1]), "seen": int(f[2]), "recovered": int(f[3]), "failed": int(f[4]),
                          "runs_failed": int(f[5]), "unfinished": int(f[6]), "max": int(f[7]),
                          "runs_recovering": int(f[8])}
    logged = logged_recoveries(rinstances)
    metric_sum = collections.Counter()
    for counter in metrics.values():
        if counter:
            metric_sum.update(counter)
    lines = []
    for provider, ps, label in (("stripe", stripe, "stripe"), ("telegram_stars", stars, "stars")):
        n = len(ps)
        undelivered = {p.pid for p in ps if p.fate == "undelivered"}
        rows, distinct, processed = counts.get(provider, (0, 0, 0))
        ids = set(rpsql(ctx, "SELECT event_id FROM payment_events WHERE provider = '%s' AND event_id LIKE '%s'"
                       % (provider, "evt\\_drill\\_rec%" if provider == "stripe" else "strec%")))
        missing = {p.pid for p in ps} - ids
        checks.check("reconcile %s: one processed ledger row per payment" % label,
                     rows == n and distinct == n and processed == n and not missing,
                     "%d rows, %d distinct ids, %d processed; want %d; missing %d%s"
                     % (rows, distinct, processed, n, len(missing),
                        (" (e.g. %s)" % sorted(missing)[:3]) if missing else ""))
        if provider == "stripe":
            grants = rpsql(ctx, """
                SELECT g.payment_key, p.event_id, g.state FROM entitlement_grants g
                LEFT JOIN payment_events p ON p.id = g.payment_event_id
                WHERE g.source = 'stripe'""")
            want_grant = {"stripe:invoice:" + p.extra["invoice"]: p.pid for p in ps}
        else:
            grants = rpsql(ctx, """
                SELECT g.payment_key, p.event_id, g.state FROM entitlement_grants g
                LEFT JOIN payment_events p ON p.id = g.payment_event_id
                WHERE g.source = 'telegram_stars'""")
            want_grant = {"stars:" + p.pid: p.pid for p in ps}
        got = collections.defaultdict(list)
        for g in grants:
            key, event_id, state = g.split("|")
            got[key].append((event_id, state))
        bad = [k for k, ev in want_grant.items() if got.get(k) != [(ev, "active")]]
        unexpected = set(got) - set(want_grant)
        checks.check("reconcile %s: exactly one active grant per payment, made by its ledger row" % label,
                     not bad and not unexpected and sum(len(v) for v in got.values()) == n,
                     "%d grants for %d payments; wrong %d, unexpected %d%s"
                     % (sum(len(v) for v in got.values()), n, len(bad), len(unexpected),
                        ("; e.g. %s: %s" % (bad[0], got.get(bad[0]))) if bad else ""))
        if provider == "stripe":
            latest = {}
            for p in ps:
                latest[p.user] = max(latest.get(p.user, 0), p.extra["period_end"])
            rows_e = rpsql(ctx, """
                SELECT u.telegram_user_id - %d, e.status, extract(epoch FROM e.expires_at)::bigint
                FROM user_entitlements e JOIN users u ON u.id = e.user_id
                WHERE e.plan = '%s' AND u.telegram_user_id BETWEEN %d AND %d"""
                          % (TG_STRIPE_BASE, STRIPE_PLAN, TG_STRIPE_BASE, TG_STRIPE_BASE + STRIPE_USERS - 1))
            got_e = {int(r.split("|")[0]): (r.split("|")[1], int(r.split("|")[2])) for r in rows_e}
            wrong = [(u, got_e.get(u), exp) for u, exp in sorted(latest.items()) if got_e.get(u) != ("active", exp)]
            checks.check("reconcile stripe: entitlement expiry = latest period end, per user", not wrong,
                         "%d users, %d wrong%s" % (len(latest), len(wrong),
                                                   ("; e.g. %s" % (wrong[:2],)) if wrong else ""))
        else:
            per_user = collections.Counter(p.user for p in ps)
            rows_e = rpsql(ctx, """
                SELECT u.telegram_user_id - %d, e.status,
                       (extract(epoch FROM e.expires_at) - extract(epoch FROM e.starts_at))::numeric
                FROM user_entitlements e JOIN users u ON u.id = e.user_id
                WHERE e.plan = '%s' AND u.telegram_user_id BETWEEN %d AND %d"""
                          % (TG_STARS_BASE, STARS_PLAN, TG_STARS_BASE, TG_STARS_BASE + STARS_USERS - 1))
            got_e = {int(r.split("|")[0]): (r.split("|")[1], float(r.split("|")[2])) for r in rows_e}
            wrong = [(u, got_e.get(u), c * STARS_PLAN_DAYS) for u, c in sorted(per_user.items())
                     if got_e.get(u) is None or got_e[u][0] != "active"
                     or abs(got_e[u][1] - c * STARS_PLAN_DAYS * 86400) > 0.001]
            checks.check("reconcile stars: entitlement length = charges x %d days, per user" % STARS_PLAN_DAYS,
                         not wrong, "%d users, %d wrong%s" % (len(per_user), len(wrong),
                                                               ("; e.g. %s" % (wrong[:2],)) if wrong else ""))
        rr = run_rows.get(provider, {"runs": 0, "seen": 0, "recovered": 0, "failed": 0, "runs_failed": 0,
                                     "unfinished": 0, "max": 0, "runs_recovering": 0})
        m = metric_sum.get(provider, 0)
        scraped = sum(1 for c in metrics.values() if c is not None)
        checks.check("reconcile %s: recovered = undelivered (reconcile_runs and reconcile_recovered_total)" % label,
                     rr["recovered"] == len(undelivered) and m == len(undelivered) and scraped == len(rinstances),
                     "undelivered %d; reconcile_runs recovered %d over %d runs; reconcile_recovered_total summed "
                     "over %d of %d instances %d (%s)"
                     % (len(undelivered), rr["recovered"], rr["runs"], scraped, len(rinstances), m,
                        ", ".join("instance %d: %s" % (i, (c or {}).get(provider, 0) if c is not None
                                                       else "no answer") for i, c in sorted(metrics.items()))))
        ids_logged = logged.get(provider, [])
        twice = [i for i, c in collections.Counter(ids_logged).items() if c > 1]
        not_undelivered = set(ids_logged) - undelivered
        not_logged = undelivered - set(ids_logged)
        checks.check("reconcile %s: the payments logged as recovered are exactly the undelivered ones, once each"
                     % label, not twice and not not_undelivered and not not_logged,
                     "%d logged; twice %d, delivered by webhook %d, undelivered but not logged %d%s"
                     % (len(ids_logged), len(twice), len(not_undelivered), len(not_logged),
                        ("; e.g. %s" % sorted(twice or not_undelivered or not_logged)[:3])
                        if twice or not_undelivered or not_logged else ""))
        newest = max((v.get(provider, 0.0) for v in LAST_SUCCESS.values()), default=0.0)
        checks.check("reconcile %s: reconcile_last_success_timestamp_seconds set after the last payment was listed"
                     % label, newest >= last_publish - 1,
                     "newest over the instances %.0f, last listing %.0f (%s)" % (
                         newest, last_publish, ", ".join("%.0f" % LAST_SUCCESS.get(inst.port, {}).get(provider, 0)
                                                        for inst in rinstances)))
        fin, clean = runs_after(ctx, last_publish).get(provider, (0, 0))
        checks.check("reconcile %s: a run that started after the last payment was listed finished clean" % label,
                     clean > 0, "%d finished after it, %d with nothing failed" % (fin, clean))
        lines.append(
            "%s: %d payments: %d undelivered, %d delivered once, %d delivered twice; ledger rows %d (distinct %d, "
            "processed %d); reconcile runs %d (%d recovered something, most in one run %d; %d with failures, %d "
            "failed items in all; %d never finished), recovered %d by reconcile_runs, %d by "
            "reconcile_recovered_total, %d logged" % (
                label, n, want[provider]["undelivered"], want[provider]["once"], want[provider]["twice"], rows,
                distinct, processed, rr["runs"], rr["runs_recovering"], rr["max"], rr["runs_failed"], rr["failed"],
                rr["unfinished"], rr["recovered"], m, len(ids_logged)))
    checks.check("reconcile: instances 7-9 exit 0 on SIGTERM", all(rc == 0 for rc in exit_codes.values()),
                 ", ".join("instance %d: %s" % kv for kv in sorted(exit_codes.items())))
    checks.check("reconcile: the fake providers refused nothing (paging parameters valid)", not fake.errors,
                 "; ".join(fake.errors[:3]))
    for provider in ("stripe", "telegram_stars"):
        timeline = rpsql(ctx, """
            SELECT extract(epoch FROM started_at), extract(epoch FROM coalesce(finished_at, started_at)),
                   finished_at IS NULL, seen, recovered, failed
            FROM reconcile_runs WHERE provider = '%s' ORDER BY started_at""" % provider)
        items = []
        for r in timeline:
            s0, s1, unfinished, seen, recovered, failed = r.split("|")
            items.append("%+.1fs %s %s/%s/%s" % (
                float(s0) - first_send, "unfinished" if unfinished == "t" else "%.1fs" % (float(s1) - float(s0)),
                seen, recovered, failed))
        lines.append("%s runs (start relative to the first delivery, duration, seen/recovered/failed): %s"
                     % (provider, "; ".join(items) or "none"))
    took = time.monotonic() - phase_t0
    summary.append(("Reconciliation (3 instances 7-9, RECONCILE_INTERVAL_SECONDS=%d, RECONCILE_LOOKBACK_HOURS=%d, "
                    "database %s, one PostgreSQL restart)" % (ctx.cfg.reconcile_interval, LOOKBACK_HOURS, DB), lines + [
        "webhooks: %d deliveries by %d threads round-robin, %d attempts, %d re-sent (%s), sending %.1fs; "
        "settled %.1fs after; phase %.1fs"
        % (deliveries, CONCURRENCY, sender.sent, sender.retries, fmt_counter(sender.errors), elapsed,
           settled_in, took),
        "fake provider calls: %s; list pages served: %s" % (fmt_counter(fake.recorder.by_method()), fmt_counter(fake.pages)),
    ] + ["fault: %s: %s" % (label, detail) for label, ok, detail in faults]))
    ctx.say("reconcile: phase done in %.1fs" % took)
