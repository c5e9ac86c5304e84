"""The drill's entry point: phases 1-6 in order (or phase 6 alone with DRILL_RECONCILE_ONLY=1), then the summary
(test-output/drill/summary.txt too) and `drill: PASS` / `drill: FAIL (n of m checks)`. Exit 0 / 1."""
import os
import random
import sys
import time

from . import reconcile
from .checks import Checks
from .config import Config, Context, fmt_counter
from .db_checks import phase_database, scan_logs
from .instances import start_instances, start_stub
from .outage import phase_outage
from .pgbouncer import phase_pgbouncer
from .phases import phase_sigterm, phase_stripe, phase_telegram
from .stripe_events import seed_stripe_users


class Run:
    """What the phases share: rng, checks, summary, instances (every one started, for the log scan), the stub,
    the first three instances' ports, and what was sent (stripe_set, tset)."""

    def __init__(self, cfg):
        self.rng = random.Random(cfg.seed or None)
        self.checks = Checks()
        self.summary = []
        self.instances = []
        self.ports = []
        self.stub = None
        self.stripe_set = None
        self.tset = None

    def all_ports(self):
        return self.ports


def stop_all(instances):
    for inst in instances:
        try:
            inst.stop()
        except Exception:  # noqa: BLE001
            pass


def report(ctx, run, title, extra_failed_line=False):
    """Prints the summary and the checks, writes summary.txt; returns the exit status."""
    lines = ["", "=" * 100, title, "=" * 100]
    for heading, items in run.summary:
        lines.append(heading)
        lines.extend("  " + item for item in items)
    lines.append("Checks")
    for name, ok, detail in run.checks.results:
        lines.append("  [%s] %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
    failed = run.checks.failed
    verdict = "PASS" if not failed else "FAIL (%d of %d checks)" % (len(failed), len(run.checks.results))
    lines.append("drill: %s" % verdict)
    if failed and extra_failed_line:
        out = ctx.cfg.out
        lines.append("serve logs: %s/instance-N.log (4-6: through PgBouncer, its log pgbouncer.log), PostgreSQL log: "
                     "%s/postgres.log" % (out, out))
    text = "\n".join(lines)
    print(text, flush=True)
    with open(os.path.join(ctx.cfg.out, "summary.txt"), "w") as f:
        f.write(text + "\n")
    return 0 if not failed else 1


def main(ctx):
    cfg = ctx.cfg
    run = Run(cfg)
    run.stub = start_stub(ctx)
    try:
        seed_stripe_users(ctx)
        run.instances, run.ports = start_instances(ctx, 1, 3, run.stub.port)
        for inst in run.instances:
            inst.start()
        for inst in run.instances:
            inst.wait_ready(90)
        ctx.say("3 instances ready on ports %s; logs in %s" % (run.ports, cfg.out))
        phase_stripe(ctx, run)
        phase_telegram(ctx, run)
        phase_sigterm(ctx, run)
        phase_outage(ctx, run)
        if not cfg.pgbouncer:
            ctx.say("pgbouncer: skipped (%s)" % (cfg.pgbouncer_skip or "no pgbouncer"))
            run.summary.append(("PgBouncer (transaction mode)",
                                ["skipped (%s)" % (cfg.pgbouncer_skip or "no pgbouncer")]))
        else:
            phase_pgbouncer(ctx, run)
        phase_database(ctx, run)
        # 6. Reconciliation (issue #18): a database, fake providers and instances of its own
        if cfg.reconcile:
            reconcile.run_phase(ctx, run.checks, run.summary, run.instances)
        else:
            run.summary.append(("Reconciliation", ["skipped (DRILL_RECONCILE=0)"]))
    except Exception as e:  # noqa: BLE001 - the drill could not run to the end
        run.checks.check("drill ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_all(run.instances)
        run.stub.stop()

    error_lines, unhandled = scan_logs(run.instances)
    run.checks.check("logs: no unhandled errors (500s)", not unhandled, "; ".join(unhandled[:3]))
    run.summary.append(("Logs", [
        "error-level lines per instance (database-unavailable errors are expected during the faults): %s"
        % ", ".join("instance %d: %d" % kv for kv in sorted(error_lines.items())),
        "stub Bot API / Stripe API calls: %s" % fmt_counter(run.stub.recorder.by_method()),
        "serve logs: %s" % ", ".join(inst.log_path for inst in run.instances),
    ]))
    return report(ctx, run, "telebot fault drill: DRILL_EVENTS=%d, concurrency %d, %.0fs"
                  % (cfg.events, cfg.concurrency, time.monotonic() - ctx.t0), extra_failed_line=True)


def reconcile_only_main(ctx):
    """DRILL_RECONCILE_ONLY=1: phase 6 alone (its own database, fake providers and instances), same report."""
    run = Run(ctx.cfg)
    try:
        reconcile.run_phase(ctx, run.checks, run.summary, run.instances)
    except Exception as e:  # noqa: BLE001 - the drill could not run to the end
        run.checks.check("drill ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        stop_all(run.instances)
    _, unhandled = scan_logs(run.instances)
    run.checks.check("logs: no unhandled errors (500s)", not unhandled, "; ".join(unhandled[:3]))
    return report(ctx, run, "telebot fault drill (DRILL_RECONCILE_ONLY=1): %.0fs" % (time.monotonic() - ctx.t0))


def run(env=None):
    ctx = Context(Config.from_env(env))
    return reconcile_only_main(ctx) if ctx.cfg.reconcile_only else main(ctx)


if __name__ == "__main__":
    sys.exit(run())
