"""The reconciliation phase's run: database, fake providers, instances 7-9, the sending with a PostgreSQL restart
while a reconcile run is in progress, waiting for the reconciler to settle; then verify."""
import collections
import os
import random
import time

from ...cluster import free_port
from ..config import fmt_counter
from ..instances import Instance, fault_pg_restart
from .fake import ProviderLists, start_fake
from .payments import action_sequence, make_stars, make_stripe, prepare_database, rpsql
from .results import ledger_counts, runs_after, scrape_recovered
from .sender import Sender
from .settings import DB, LOOKBACK_HOURS
from .verify import verify


def run_phase(ctx, checks, summary, instances):
    """Runs the reconciliation phase; appends its checks and summary; its serve instances are appended to
    `instances` (the caller stops them and scans their logs)."""
    phase_t0 = time.monotonic()
    rng = random.Random((ctx.cfg.seed or random.SystemRandom().randrange(1 << 30)) + 18)
    fake = ProviderLists(ctx.secrets.bot_token)
    fake_server = start_fake(fake, os.path.join(ctx.cfg.out, "reconcile-fake.log"))
    rinstances = []
    try:
        url = prepare_database(ctx)
        ports = []
        while len(ports) < 3:
            p = free_port()
            if p not in ports:
                ports.append(p)
        env = {"RECONCILE_INTERVAL_SECONDS": str(ctx.cfg.reconcile_interval), "RECONCILE_LOOKBACK_HOURS": str(LOOKBACK_HOURS)}
        rinstances = [Instance(ctx, 7 + i, ports[i], fake_server.port, url, env) for i in range(3)]
        instances.extend(rinstances)
        for inst in rinstances:
            inst.start()
        for inst in rinstances:
            inst.wait_ready(90)
        stripe = make_stripe(ctx, fake, ctx.cfg.reconcile_stripe, rng)
        stars = make_stars(ctx, fake, ctx.cfg.reconcile_stars, rng)
        payments = stripe + stars
        actions = action_sequence(payments, rng)
        want = {prov: collections.Counter(p.fate for p in ps) for prov, ps in (("stripe", stripe),
                                                                               ("telegram_stars", stars))}
        deliveries = sum(1 for a in actions if a[0] == "deliver")
        ctx.say("reconcile: instances 7-9 on ports %s (RECONCILE_INTERVAL_SECONDS=%d, RECONCILE_LOOKBACK_HOURS=%d, "
                "database %s); %d Stripe + %d Stars payments: %s / %s; %d webhook deliveries"
                % (ports, ctx.cfg.reconcile_interval, LOOKBACK_HOURS, DB, len(stripe), len(stars), fmt_counter(want["stripe"]),
                   fmt_counter(want["telegram_stars"]), deliveries))

        sender = Sender(ctx, actions, ports, ctx.cfg.reconcile_timeout)
        faults = []

        def restart_during_run():
            # Halfway through the payments, and while a reconcile run is applying what it found when one starts
            # within 15 s: PostgreSQL restarts under the reconciler as well as under the webhooks.
            waited = time.monotonic()
            running = []
            while time.monotonic() - waited < 15:
                running = rpsql(ctx, "SELECT provider, id FROM reconcile_runs WHERE finished_at IS NULL "
                                  "AND started_at > now() - interval '60 seconds'")
                if running:
                    time.sleep(rng.uniform(0.0, 0.5))
                    break
                time.sleep(0.05)
            detail = fault_pg_restart(ctx)()
            return "%s; %s" % (detail, ("during reconcile run %s (waited %.1fs for one)" % (
                ", ".join(r.replace("|", " #") for r in running), time.monotonic() - waited)) if running
                else "no reconcile run in progress within 15 s")

        first_send = time.time()
        elapsed = sender.run([(0.5, "reconcile: PostgreSQL restart", restart_during_run)], faults)
        last_publish = sender.last_publish or time.time()
        ctx.say("reconcile: sending done in %.1fs: %d attempts, %d re-sent; waiting for a clean reconcile run of each "
                "provider that started after the last payment was listed" % (elapsed, sender.sent, sender.retries))

        # Wait: every payment in the ledger, and a run of each provider, started after the last listing, done clean.
        want_rows = {"stripe": len(stripe), "telegram_stars": len(stars)}
        settle_started = time.monotonic()
        while True:
            counts = ledger_counts(ctx)
            runs = runs_after(ctx, last_publish)
            complete = all(counts.get(k, (0, 0, 0))[1] == v for k, v in want_rows.items())
            clean = all(runs.get(k, (0, 0))[1] > 0 for k in want_rows)
            if (complete and clean) or time.monotonic() - settle_started > ctx.cfg.reconcile_settle_timeout:
                break
            time.sleep(0.5)
        settled_in = time.monotonic() - settle_started
        # A run in progress at this moment may still count what it found: wait for the runs to end.
        time.sleep(0.5)
        unfinished_wait = time.monotonic()
        while time.monotonic() - unfinished_wait < 30:
            if not rpsql(ctx, "SELECT 1 FROM reconcile_runs WHERE finished_at IS NULL AND started_at > now() - "
                           "interval '30 seconds'"):
                break
            time.sleep(0.5)
        ctx.say("reconcile: settled %.1fs after the sending ended" % settled_in)

        metrics = {}
        for inst in rinstances:
            metrics[inst.index] = scrape_recovered(inst.port)
        # Stop the instances (graceful) before reading the logs and the run rows.
        exit_codes = {}
        for inst in rinstances:
            inst.stop()
            exit_codes[inst.index] = inst.proc.returncode
        verify(ctx, checks, summary, fake, sender, faults, rinstances, metrics, exit_codes, stripe, stars, want,
               deliveries, first_send, last_publish, elapsed, settled_in, phase_t0)
    finally:
        for inst in rinstances:
            try:
                inst.stop()
            except Exception:  # noqa: BLE001
                pass
        fake_server.stop()
