"""Phases 1-3: Stripe and Telegram Stars webhooks under PostgreSQL restarts and SIGKILLs, SIGTERM under load.
Each phase reads and extends `run` (rng, checks, summary, instances, stripe_set, tset)."""
from .config import (DUP_RATE, STARS_PLAN, STARS_USERS, STRIPE_LOST_RATE, STRIPE_REFUND_RATE, STRIPE_USERS,
                     STRIPE_WON_RATE, fmt_counter)
from .engine import Delivery, Engine, run_with_faults, with_duplicates
from .instances import fault_kill, fault_pg_restart
from .sigterm import sigterm_drill
from .stars import telegram_deliveries, telegram_request
from .stripe_events import StripeSet, stripe_request


def deliver_under_faults(ctx, cfg, checks, name, engine, faults):
    """Runs ENGINE with FAULTS (fraction delivered, label, action), then checks the faults and that every delivery
    got a 2xx and no status but 503 was an error. Returns the seconds it took and the faults' (label, ok, detail)."""
    outcomes = []
    elapsed = run_with_faults(ctx, engine, faults, outcomes)
    ctx.say("%s: done in %.1fs: %d attempts, %d retries" % (name, elapsed, engine.sent, engine.retries))
    for label, ok, detail in outcomes:
        checks.check(label, ok, detail)
    checks.check("%s: every delivery got a 2xx within %ds" % (name, cfg.phase_timeout), not engine.undelivered,
                 "%d undelivered" % len(engine.undelivered))
    more = len(engine.violations) - 5
    checks.check("%s: no 5xx but 503, no 4xx" % name, not engine.violations,
                 "; ".join(engine.violations[:5]) + (" (+%d more)" % more if more > 0 else ""))
    return elapsed, outcomes


def phase_stripe(ctx, run):
    """1. invoice.paid with refunds and disputes, duplicates, a PostgreSQL restart and a SIGKILL."""
    cfg, rng, checks, summary = ctx.cfg, run.rng, run.checks, run.summary
    instances, all_ports = run.instances, run.all_ports
    stripe_set = StripeSet(ctx)
    # Deliveries stay DRILL_EVENTS in all: each invoice comes with ~0.3 reversal events on average.
    unique_events = max(1, round(cfg.events / (1 + DUP_RATE)))
    n_invoices = max(1, round(unique_events / (1 + STRIPE_REFUND_RATE + 2 * (STRIPE_LOST_RATE + STRIPE_WON_RATE))))
    ids = stripe_set.make_with_reversals(n_invoices, "s", rng)
    unique = len(ids)
    seq = with_duplicates(ids, max(cfg.events, unique), rng)
    deliveries = [Delivery(i, key, None) for i, key in enumerate(seq)]
    sfates = stripe_set.fates()
    ctx.say("stripe: %d deliveries, %d unique events (%s), %d duplicates; %d invoices: %s; %d users lose every "
            "invoice" % (len(seq), unique, fmt_counter(stripe_set.events), len(seq) - unique, n_invoices,
                         fmt_counter(sfates), len(stripe_set.reversed_users)))
    engine = Engine("stripe", deliveries, stripe_request(ctx, stripe_set), all_ports, cfg.concurrency, cfg.phase_timeout)
    elapsed, faults = deliver_under_faults(ctx, cfg, checks, "stripe", engine, [
        (0.25, "stripe: PostgreSQL restart", fault_pg_restart(ctx)),
        (0.55, "stripe: SIGKILL instance 3", fault_kill(instances[2])),
    ])
    summary.append(("Stripe webhooks", [
        "deliveries %d = %d unique event ids + %d duplicates (%d users, both API shapes, random order)"
        % (len(seq), unique, len(seq) - unique, STRIPE_USERS),
        "unique events: %s" % fmt_counter(stripe_set.events),
        "%d invoices: %d refunded (%d classic, %d current API), %d disputes lost, %d disputes won, %d untouched; "
        "%d users lose every invoice"
        % (n_invoices, sfates["refund_classic"] + sfates["refund_current"], sfates["refund_classic"],
           sfates["refund_current"], sfates["dispute_lost"], sfates["dispute_won"],
           n_invoices - sum(sfates.values()), len(stripe_set.reversed_users)),
        "HTTP attempts %d, re-sent %d (max %d attempts for one delivery), %.1fs, %.0f attempts/s"
        % (engine.sent, engine.retries, engine.max_attempts, elapsed, engine.sent / max(elapsed, 0.001)),
        "failed attempts: %s" % fmt_counter(engine.errors),
        "2xx outcomes: %s" % fmt_counter(engine.outcomes),
    ] + ["fault: %s: %s" % (label, detail) for label, ok, detail in faults]))
    run.stripe_set = stripe_set


def phase_telegram(ctx, run):
    """2. Stars payments and refunds, duplicates, a PostgreSQL restart and a SIGKILL."""
    cfg, rng, checks, summary = ctx.cfg, run.rng, run.checks, run.summary
    instances, all_ports = run.instances, run.all_ports
    tset = telegram_deliveries(ctx, cfg.events, rng)
    tdeliveries, tunique, new_updates = tset.deliveries, tset.unique, tset.new_updates
    tunique_events = tunique + tset.refunded
    ctx.say("telegram: %d deliveries, %d unique charges + %d refunds (%d users lose every charge), %d duplicates "
            "(%d as new updates)" % (len(tdeliveries), tunique, tset.refunded, len(tset.reversed_users),
                                     len(tdeliveries) - tunique_events, new_updates))
    tengine = Engine("telegram", tdeliveries, telegram_request(ctx), all_ports, cfg.concurrency, cfg.phase_timeout)
    telapsed, tfaults = deliver_under_faults(ctx, cfg, checks, "telegram", tengine, [
        (0.25, "telegram: PostgreSQL restart", fault_pg_restart(ctx)),
        (0.55, "telegram: SIGKILL instance 2", fault_kill(instances[1])),
    ])
    summary.append(("Telegram Stars webhooks", [
        "deliveries %d = %d unique charges + %d refunds + %d duplicates (%d same update, %d same charge or "
        "refund in a new update), %d users, plan %s, random order"
        % (len(tdeliveries), tunique, tset.refunded, len(tdeliveries) - tunique_events,
           len(tdeliveries) - tunique_events - new_updates, new_updates, STARS_USERS, STARS_PLAN),
        "%d charges refunded (refunded_payment), %d users lose every charge"
        % (tset.refunded, len(tset.reversed_users)),
        "HTTP attempts %d, re-sent %d (max %d attempts for one delivery), %.1fs, %.0f attempts/s"
        % (tengine.sent, tengine.retries, tengine.max_attempts, telapsed, tengine.sent / max(telapsed, 0.001)),
        "failed attempts: %s" % fmt_counter(tengine.errors),
    ] + ["fault: %s: %s" % (label, detail) for label, ok, detail in tfaults]))
    run.tset = tset


def phase_sigterm(ctx, run):
    """3. SIGTERM under load on instance 1; what it refused is re-sent to the others."""
    cfg, checks, summary, instances = ctx.cfg, run.checks, run.summary, run.instances
    stripe_set = run.stripe_set
    target = instances[0]
    rep, leftovers = sigterm_drill(ctx, target, stripe_set, 4000)
    ctx.say("SIGTERM: instance %d exited %s after %.3fs; %d requests, %d in flight at the signal"
            % (target.index, rep["rc"], rep["exit_after"], rep["requests"], rep["in_flight"]))
    checks.check("SIGTERM: exit status 0", rep["rc"] == 0, "exit %s after %.0f ms" % (rep["rc"], rep["exit_after"] * 1000))
    checks.check("SIGTERM: in-flight requests completed with 2xx; no 5xx but 503",
                 not rep["violations"] and rep["in_flight"] > 0,
                 "%d in flight, %d ok; %s" % (rep["in_flight"], rep["in_flight_ok"],
                                              "; ".join(rep["violations"][:5])))
    # What it refused goes to the instances still running, like Stripe's retries.
    alive = [inst.port for inst in instances if inst is not target]
    redeliveries = [Delivery(i, key, None) for i, key in enumerate(leftovers)]
    rengine = Engine("sigterm-resend", redeliveries, stripe_request(ctx, stripe_set), lambda: alive, cfg.concurrency,
                     cfg.phase_timeout)
    rengine.run()
    checks.check("SIGTERM: refused deliveries accepted by the other instances", not rengine.undelivered
                 and not rengine.violations, "%d undelivered; %s" % (len(rengine.undelivered),
                                                                     "; ".join(rengine.violations[:3])))
    summary.append(("SIGTERM under load (instance %d)" % target.index, [
        "requests %d: %d answered before the signal, %d in flight at the signal (%s), %d started after it (%s)"
        % (rep["requests"], rep["before"], rep["in_flight"], fmt_counter(rep["in_flight_results"]),
           sum(rep["after"].values()), fmt_counter(rep["after"])),
        "exit status %s, %.0f ms after SIGTERM" % (rep["rc"], rep["exit_after"] * 1000),
        "%d events it did not accept re-sent to the other instances: %d attempts, all 2xx: %s"
        % (len(leftovers), rengine.sent, "yes" if not rengine.undelivered else "NO"),
    ]))
