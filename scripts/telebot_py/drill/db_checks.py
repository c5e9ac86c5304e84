"""The end-of-drill database checks: ledger, grants and their states, invoices, entitlements per user, audit
chain; and the serve logs."""
import collections

from .checks import check_grant_states, check_grants_made, grant_rows, wait_for_retries
from .config import (STARS_PLAN, STARS_PLAN_DAYS, STARS_PRICE, STARS_TG_BASE, STARS_USERS, STRIPE_PLAN,
                     STRIPE_TG_BASE, STRIPE_USERS, fmt_counter)
from .stripe_events import FATE_STATE


def check_stripe(ctx, checks, stripe_set):
    unique = len(stripe_set.bodies)
    rows = ctx.psql("SELECT event_id, status, attempts FROM payment_events WHERE provider = 'stripe'")
    statuses = collections.Counter(r.split("|")[1] for r in rows)
    ids = [r.split("|")[0] for r in rows]
    retried_rows = sum(1 for r in rows if int(r.split("|")[2]) > 1)
    missing = set(stripe_set.bodies) - set(ids)
    unexpected = set(ids) - set(stripe_set.bodies)
    checks.check("stripe: one ledger row per unique event id", len(ids) == unique and not missing and not unexpected,
                 "rows %d, unique ids sent %d, missing %d, unexpected %d%s"
                 % (len(ids), unique, len(missing), len(unexpected),
                    (" (e.g. %s)" % sorted(missing)[:3]) if missing else ""))
    checks.check("stripe: every ledger row processed", statuses.get("processed", 0) == unique,
                 "statuses %s" % dict(statuses))
    invoices = stripe_set.invoices
    got = grant_rows(ctx, "g.source = 'stripe'")
    grants, distinct = check_grants_made(
        checks, "stripe", got, {"stripe:invoice:" + inv: ev for inv, (_, _, _, ev) in invoices.items()})
    states = check_grant_states(checks, "stripe", got, {
        "stripe:invoice:" + inv: FATE_STATE[fate] for inv, (_, _, fate, _) in invoices.items()})
    line = ctx.psql_value("""
        SELECT count(*), count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'refunded')
        FROM invoices WHERE provider = 'stripe'""")
    invoice_rows, paid, refunded_rows = (int(x) for x in line.split("|"))
    checks.check("stripe: one invoice row per paid invoice", invoice_rows == len(invoices),
                 "invoices %d (paid %d, refunded %d), want %d" % (invoice_rows, paid, refunded_rows, len(invoices)))
    rows = ctx.psql("""
        SELECT u.telegram_user_id - %d, e.status, extract(epoch FROM e.expires_at)::bigint
        FROM user_entitlements e JOIN users u ON u.id = e.user_id
        WHERE e.plan = '%s' AND u.telegram_user_id BETWEEN %d AND %d""" % (
        STRIPE_TG_BASE, STRIPE_PLAN, STRIPE_TG_BASE, STRIPE_TG_BASE + STRIPE_USERS - 1))
    got_users = {int(r.split("|")[0]): (r.split("|")[1], int(r.split("|")[2])) for r in rows}
    expected = stripe_set.expected()
    wrong = [(u, got_users.get(u), exp) for u, exp in sorted(expected.items())
             if got_users.get(u) is None or got_users[u][0] != exp[0]
             or (exp[0] == "active" and got_users[u][1] != exp[1])]
    revoked = sum(1 for st, _ in expected.values() if st == "revoked")
    checks.check("stripe: entitlement expiry = latest period end of the live invoices, per user; revoked with none",
                 not wrong and len(got_users) == len(expected),
                 "%d users match (%d revoked)%s" % (len(expected) - len(wrong), revoked,
                                                    ("; wrong (user, got, want): %s" % wrong[:3]) if wrong else ""))
    return {"rows": len(ids), "statuses": dict(statuses), "grants": grants, "grant_states": states,
            "invoices": invoice_rows, "invoices_paid": paid, "invoices_refunded": refunded_rows,
            "rows_retried": retried_rows, "revoked_users": revoked}


def check_telegram(ctx, checks, tset):
    unique = tset.unique
    refunds = tset.refunded
    rows = ctx.psql("""
        SELECT event_type, status, count(*), count(DISTINCT event_id) FILTER (
            WHERE event_id LIKE 'stxdrill%' OR event_id LIKE 'refund:stxdrill%')
        FROM payment_events WHERE provider = 'telegram_stars' GROUP BY 1, 2""")
    statuses = collections.Counter()
    by_type = collections.Counter()
    distinct = collections.Counter()
    for r in rows:
        event_type, status, n, d = r.split("|")
        statuses[status] += int(n)
        by_type[event_type] += int(n)
        distinct[event_type] += int(d)
    total = sum(statuses.values())
    checks.check("telegram: one Stars ledger row per unique charge and per refund",
                 by_type["successful_payment"] == unique and distinct["successful_payment"] == unique
                 and by_type["refunded_payment"] == refunds and distinct["refunded_payment"] == refunds
                 and total == unique + refunds,
                 "rows %s, want successful_payment %d, refunded_payment %d" % (fmt_counter(by_type), unique, refunds))
    checks.check("telegram: every Stars ledger row processed", statuses.get("processed", 0) == total,
                 "statuses %s" % dict(statuses))
    got = grant_rows(ctx, "g.source = 'telegram_stars'")
    grants, distinct_grants = check_grants_made(checks, "telegram", got, {"stars:" + c: c for c in tset.charges})
    states = check_grant_states(checks, "telegram", got, {
        "stars:" + c: ("refunded" if r else "active") for c, (_, r) in tset.charges.items()})
    line = ctx.psql_value("""
        SELECT count(*), coalesce(sum(amount), 0), count(*) FILTER (WHERE status = 'paid'),
               count(*) FILTER (WHERE status = 'refunded')
        FROM invoices WHERE provider = 'telegram_stars'""")
    invoices, stars, paid, refunded_rows = (int(x) for x in line.split("|"))
    checks.check("telegram: one invoice per charge", invoices == unique and stars == unique * STARS_PRICE,
                 "invoices %d (paid %d, refunded %d), %d Stars, want %d and %d"
                 % (invoices, paid, refunded_rows, stars, unique, unique * STARS_PRICE))
    update_ids = tset.update_ids
    lo, hi = min(update_ids), max(update_ids)
    got_updates = int(ctx.psql_value("SELECT count(*) FROM telegram_updates WHERE update_id BETWEEN %d AND %d" % (lo, hi)))
    checks.check("telegram: one telegram_updates row per distinct update_id", got_updates == len(update_ids),
                 "rows %d, distinct update ids sent %d" % (got_updates, len(update_ids)))
    rows = ctx.psql("""
        SELECT u.telegram_user_id - %d, e.status,
               (extract(epoch FROM e.expires_at) - extract(epoch FROM e.starts_at))::numeric
        FROM user_entitlements e JOIN users u ON u.id = e.user_id
        WHERE e.plan = '%s' AND u.telegram_user_id BETWEEN %d AND %d""" % (
        STARS_TG_BASE, STARS_PLAN, STARS_TG_BASE, STARS_TG_BASE + STARS_USERS - 1))
    got_users = {int(r.split("|")[0]): (r.split("|")[1], float(r.split("|")[2])) for r in rows}
    per_user = tset.expected()
    wrong = [(u, got_users.get(u), n * STARS_PLAN_DAYS) for u, n in sorted(per_user.items())
             if got_users.get(u) is None
             or (n == 0 and got_users[u][0] != "revoked")
             or (n > 0 and (got_users[u][0] != "active"
                            or abs(got_users[u][1] - n * STARS_PLAN_DAYS * 86400) > 0.001))]
    revoked = sum(1 for n in per_user.values() if n == 0)
    checks.check("telegram: entitlement length = live (unrefunded) charges x %d days, per user; revoked with none"
                 % STARS_PLAN_DAYS,
                 not wrong and len(got_users) == len(per_user),
                 "%d users match (%d revoked)%s" % (
                     len(per_user) - len(wrong), revoked,
                     ("; wrong (user, (status, seconds), want days): %s" % wrong[:3]) if wrong else ""))
    return {"rows": total, "statuses": dict(statuses), "grants": grants, "grant_states": states,
            "invoices": invoices, "invoices_paid": paid, "invoices_refunded": refunded_rows, "updates": got_updates,
            "revoked_users": revoked}


def check_grants_and_audit(ctx, checks, stripe_set, tset):
    """Grant states over both providers, and the audit (entitlement_changes): no event recorded twice for one grant,
    and each (user, plan)'s audit rows chain (each row's before = the previous row's after; the last after = the
    read model)."""
    fates = stripe_set.fates()
    want_refunded = fates["refund_classic"] + fates["refund_current"] + tset.refunded
    want_lost = fates["dispute_lost"]
    states = collections.Counter()
    for r in ctx.psql("SELECT state, count(*) FROM entitlement_grants GROUP BY 1"):
        states[r.split("|")[0]] = int(r.split("|")[1])
    checks.check("grants: refunded = refunded invoices + refunded Stars charges; charged_back = lost disputes; "
                 "none left disputed",
                 states["refunded"] == want_refunded and states["charged_back"] == want_lost
                 and states["disputed"] == 0,
                 "refunded %d (want %d + %d), charged_back %d (want %d), disputed %d (want 0); all: %s"
                 % (states["refunded"], want_refunded - tset.refunded, tset.refunded, states["charged_back"],
                    want_lost, states["disputed"], fmt_counter(states)))
    dup_rows = ctx.psql("""
        SELECT payment_event_id, grant_id, count(*) FROM entitlement_changes
        WHERE payment_event_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2 LIMIT 5""")
    changes = {}
    for r in ctx.psql("""
            SELECT p.provider, count(*), count(DISTINCT c.payment_event_id), count(c.grant_id)
            FROM entitlement_changes c JOIN payment_events p ON p.id = c.payment_event_id GROUP BY 1"""):
        provider, n, events, with_grant = r.split("|")
        changes[provider] = (int(n), int(events), int(with_grant))
    checks.check("audit: no event recorded twice for the same grant in entitlement_changes", not dup_rows,
                 "(payment_event_id, grant_id, rows): %s" % (dup_rows or "none"))
    broken = ctx.psql("""
        WITH c AS (
            SELECT c.entitlement_id, c.id, c.before_status, c.before_expires_at, c.after_status, c.after_expires_at,
                   lag(c.after_status) OVER w AS prev_status, lag(c.after_expires_at) OVER w AS prev_expires,
                   row_number() OVER w AS n, count(*) OVER (PARTITION BY c.entitlement_id) AS total
            FROM entitlement_changes c WINDOW w AS (PARTITION BY c.entitlement_id ORDER BY c.id))
        SELECT c.entitlement_id, c.id FROM c JOIN user_entitlements e ON e.id = c.entitlement_id
        WHERE (c.n > 1 AND (c.before_status IS DISTINCT FROM c.prev_status
                            OR c.before_expires_at IS DISTINCT FROM c.prev_expires))
           OR (c.n = c.total AND (c.after_status IS DISTINCT FROM e.status
                                  OR c.after_expires_at IS DISTINCT FROM e.expires_at))
        ORDER BY 1, 2 LIMIT 5""")
    checks.check("audit: entitlement_changes chain per entitlement and end at user_entitlements", not broken,
                 "(entitlement_id, change id) breaking the chain: %s" % (broken or "none"))
    return changes, states


def scan_logs(instances):
    """Counts error-level lines per instance log and collects the ones that mean a 500."""
    counts = {}
    unhandled = []
    for inst in instances:
        n = 0
        try:
            with open(inst.log_path, "r", errors="replace") as f:
                for line in f:
                    if '"level":"error"' in line or '"level":"critical"' in line or " error " in line[:60]:
                        n += 1
                    if "unhandled error" in line or '"status":500' in line or '"status":"500"' in line:
                        unhandled.append("instance %d: %s" % (inst.index, line.strip()[:400]))
        except OSError:
            pass
        counts[inst.index] = n
    return counts, unhandled


def phase_database(ctx, run):
    """After the sending: the retry worker drains, then the database is checked."""
    cfg, checks, summary, stripe_set, tset = ctx.cfg, run.checks, run.summary, run.stripe_set, run.tset
    first, pending, waited = wait_for_retries(ctx, cfg.retry_drain_timeout)
    checks.check("ledger: nothing left received or failed", not pending,
                 "at the end of sending: %s; after %.0fs: %s" % (first or "none", waited, pending or "none"))
    stripe_db = check_stripe(ctx, checks, stripe_set)
    tele_db = check_telegram(ctx, checks, tset)
    changes, grant_states = check_grants_and_audit(ctx, checks, stripe_set, tset)
    dead = int(ctx.psql_value("SELECT count(*) FROM payment_events WHERE status = 'dead'"))
    checks.check("ledger: no dead events", dead == 0, "%d dead" % dead)
    summary.append(("Database", [
        "stripe ledger rows %d for %d unique ids (%s), %d needed the retry worker; grants %d (%s); "
        "users revoked %d; invoices %d (paid %d, refunded %d)"
        % (stripe_db["rows"], len(stripe_set.bodies), fmt_counter(stripe_db["statuses"]),
           stripe_db["rows_retried"], stripe_db["grants"], fmt_counter(stripe_db["grant_states"]),
           stripe_db["revoked_users"], stripe_db["invoices"], stripe_db["invoices_paid"],
           stripe_db["invoices_refunded"]),
        "stars ledger rows %d for %d unique charges + %d refunds (%s); grants %d (%s); users revoked %d; "
        "invoices %d (paid %d, refunded %d); telegram_updates %d"
        % (tele_db["rows"], tset.unique, tset.refunded, fmt_counter(tele_db["statuses"]), tele_db["grants"],
           fmt_counter(tele_db["grant_states"]), tele_db["revoked_users"], tele_db["invoices"],
           tele_db["invoices_paid"], tele_db["invoices_refunded"], tele_db["updates"]),
        "entitlement changes (audit rows, only where the read model changed): %s; grant states: %s"
        % ("; ".join("%s %d rows for %d events (%d with a grant)" % ((p,) + v) for p, v in sorted(changes.items()))
           or "none", fmt_counter(grant_states)),
        "failed/received events when sending ended: %s (drained in %.0fs)" % (first or "none", waited),
    ]))
