"""Phase 5's PgBouncer: Debian's pgbouncer in transaction mode in front of the drill cluster."""
import collections
import os
import signal
import socket
import subprocess
import time

from ..cluster import free_port
from .config import DUP_RATE, PGB_POOL_SIZE, STRIPE_LOST_RATE, STRIPE_REFUND_RATE, STRIPE_WON_RATE, fmt_counter
from .engine import Delivery, Engine, run_with_faults, with_duplicates
from .instances import Instance, fault_pg_restart
from .stars import telegram_deliveries, telegram_request
from .stripe_events import stripe_request


class PgBouncer:
    """Debian's pgbouncer in transaction mode on 127.0.0.1:port in front of the drill cluster (its unix socket),
    auth_type trust (loopback only, a throwaway cluster). Runs as cfg.pgrunas when we are root: it refuses root."""

    def __init__(self, ctx, binary, pool_size):
        self.ctx = ctx
        cfg = ctx.cfg
        self.binary = binary
        self.dir = os.path.join(os.path.dirname(cfg.pglog), "pgbouncer")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        self.log_path = os.path.join(cfg.out, "pgbouncer.log")
        self.proc = None
        self.starts = 0
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write('"postgres" ""\n')
        with open(self.ini, "w") as f:
            f.write("""; written by scripts/drill (telebot_py.drill)
[databases]
telebot_drill = host=%s port=%s dbname=telebot_drill user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = postgres
pool_mode = transaction
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
max_db_connections = %d
server_reset_query =
server_check_delay = 0
server_login_retry = 1
ignore_startup_parameters = extra_float_digits
pidfile = %s
""" % (cfg.pghost, cfg.pgport, self.port, os.path.join(self.dir, "userlist.txt"), pool_size, pool_size,
                    os.path.join(self.dir, "pgbouncer.pid")))
        if cfg.pgrunas:
            subprocess.run(["chown", "-R", cfg.pgrunas + ":", self.dir], check=True)

    def url(self):
        return "host=127.0.0.1 port=%d user=postgres dbname=telebot_drill" % self.port

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("--- drill: start #%d of pgbouncer on port %d at %s ---\n"
                       % (self.starts, self.port, time.strftime("%H:%M:%S"))).encode())
            log.flush()
            runas = self.ctx.cfg.pgrunas
            kwargs = {"user": runas, "group": runas, "extra_groups": []} if runas else {}
            self.proc = subprocess.Popen([self.binary, self.ini], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir, **kwargs)
        self.ctx.pid_started(self.proc.pid)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.reaped()
                raise RuntimeError("pgbouncer exited with %s while starting; log: %s"
                                   % (self.proc.returncode, self.log_path))
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pgbouncer not listening on port %d after 20s; log: %s" % (self.port, self.log_path))

    def reaped(self):
        self.ctx.pid_reaped(self.proc.pid)

    def stop(self, sig=signal.SIGINT):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.reaped()
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reaped()

    def restart(self):
        """Immediate shutdown (SIGTERM: client and server connections dropped mid-transaction), then start."""
        t0 = time.monotonic()
        self.stop(signal.SIGTERM)
        time.sleep(0.3)
        self.start()
        return "pgbouncer SIGTERMed (immediate shutdown) and started again on port %d, listening after %.2fs" % (
            self.port, time.monotonic() - t0)

    def show(self, what):
        """SHOW <what> on the admin console: list of dicts."""
        cmd = [os.path.join(self.ctx.cfg.pgbin, "psql"), "-X", "-q", "-A", "-F", "|", "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "postgres", "-d", "pgbouncer", "-c", "SHOW %s" % what]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError("pgbouncer SHOW %s failed: %s" % (what, res.stderr.strip()))
        lines = [line for line in res.stdout.splitlines() if line and not line.startswith("(")]
        if not lines:
            return []
        head = lines[0].split("|")
        return [dict(zip(head, line.split("|"))) for line in lines[1:]]


def phase_pgbouncer(ctx, run):
    """5. Three more instances through PgBouncer (transaction mode), PgBouncer and PostgreSQL restarted."""
    cfg, rng, checks, summary = ctx.cfg, run.rng, run.checks, run.summary
    instances, ports, stripe_set, tset, stub = run.instances, run.ports, run.stripe_set, run.tset, run.stub
    if not cfg.pgbouncer:
        ctx.say("pgbouncer: skipped (%s)" % (cfg.pgbouncer_skip or "no pgbouncer"))
        summary.append(("PgBouncer (transaction mode)", ["skipped (%s)" % (cfg.pgbouncer_skip or "no pgbouncer")]))
    else:
        for inst in instances:
            inst.stop()
        bouncer = PgBouncer(ctx, cfg.pgbouncer, PGB_POOL_SIZE)
        bouncer.start()
        bports = []
        while len(bports) < 3:
            p = free_port()
            if p not in bports and p not in ports and p != bouncer.port:
                bports.append(p)
        binstances = [Instance(ctx, 4 + i, bports[i], stub.port, bouncer.url(),
                               {"DB_PREPARED_STATEMENTS": cfg.pgb_prepared}) for i in range(3)]
        instances += binstances
        try:
            for inst in binstances:
                inst.start()
            for inst in binstances:
                inst.wait_ready(90)
            ctx.say("pgbouncer %s on 127.0.0.1:%d (pool_mode transaction, default_pool_size %d); instances 4-6 on "
                    "ports %s" % (bouncer.binary, bouncer.port, PGB_POOL_SIZE, bports))
            b_ports = lambda: bports  # noqa: E731
            # Stripe through PgBouncer
            n_unique = max(1, round(cfg.pgb_events / (1 + DUP_RATE)))
            n_inv = max(1, round(n_unique / (1 + STRIPE_REFUND_RATE + 2 * (STRIPE_LOST_RATE + STRIPE_WON_RATE))))
            bids = stripe_set.make_with_reversals(n_inv, "b", rng)
            bseq = with_duplicates(bids, max(cfg.pgb_events, len(bids)), rng)
            bengine = Engine("pgbouncer-stripe", [Delivery(i, k, None) for i, k in enumerate(bseq)],
                             stripe_request(ctx, stripe_set), b_ports, cfg.concurrency, cfg.phase_timeout)
            bfaults = []
            belapsed = run_with_faults(ctx, bengine, [
                (0.30, "pgbouncer stripe: PgBouncer restart", bouncer.restart),
                (0.60, "pgbouncer stripe: PostgreSQL restart", fault_pg_restart(ctx)),
            ], bfaults)
            # Stars through PgBouncer
            btset_deliveries = telegram_deliveries(ctx, cfg.pgb_events, rng, tset, start=1_000_000).deliveries
            btengine = Engine("pgbouncer-telegram", btset_deliveries, telegram_request(ctx), b_ports, cfg.concurrency,
                              cfg.phase_timeout)
            btelapsed = run_with_faults(ctx, btengine, [
                (0.30, "pgbouncer telegram: PostgreSQL restart", fault_pg_restart(ctx)),
                (0.60, "pgbouncer telegram: PgBouncer restart", bouncer.restart),
            ], bfaults)
            ctx.say("pgbouncer: stripe %d deliveries in %.1fs (%d attempts), telegram %d in %.1fs (%d attempts)"
                    % (len(bseq), belapsed, bengine.sent, len(btset_deliveries), btelapsed, btengine.sent))
            stats = bouncer.show("STATS")
            pools = bouncer.show("POOLS")
            xacts = sum(int(r.get("total_xact_count", 0)) for r in stats if r.get("database") == "telebot_drill")
            for label, ok, detail in bfaults:
                checks.check(label, ok, detail)
            for name, eng in (("stripe", bengine), ("telegram", btengine)):
                checks.check("pgbouncer %s: every delivery got a 2xx within %ds" % (name, cfg.phase_timeout),
                             not eng.undelivered, "%d undelivered" % len(eng.undelivered))
                checks.check("pgbouncer %s: no 5xx but 503, no 4xx" % name, not eng.violations,
                             "; ".join(eng.violations[:5]))
            checks.check("pgbouncer: the instances' transactions went through PgBouncer", xacts > 0,
                         "%d transactions since its last restart" % xacts)
            summary.append(("PgBouncer %s (pool_mode transaction, default_pool_size %d, DB_PREPARED_STATEMENTS="
                            "%s, 3 instances x DB_POOL_SIZE 8)" % (bouncer.binary, PGB_POOL_SIZE, cfg.pgb_prepared), [
                "stripe: %d deliveries (%d unique events, %d invoices: %s), %d attempts, %d re-sent, %.1fs; "
                "failed attempts: %s" % (len(bseq), len(bids), n_inv, fmt_counter(collections.Counter(
                    stripe_set.invoices[i][2] for i in stripe_set.invoices if i.startswith("in_drill_b")
                    and stripe_set.invoices[i][2])), bengine.sent, bengine.retries, belapsed,
                    fmt_counter(bengine.errors)),
                "telegram: %d deliveries, %d attempts, %d re-sent, %.1fs; failed attempts: %s"
                % (len(btset_deliveries), btengine.sent, btengine.retries, btelapsed, fmt_counter(btengine.errors)),
                "pgbouncer since its last restart: %d transactions, %s queries; pools: %s"
                % (xacts, "+".join(r.get("total_query_count", "?") for r in stats
                                   if r.get("database") == "telebot_drill"),
                   "; ".join("%s cl_active %s sv_active %s sv_idle %s" % (
                       r.get("database"), r.get("cl_active"), r.get("sv_active"), r.get("sv_idle"))
                       for r in pools if r.get("database") == "telebot_drill")),
            ] + ["fault: %s: %s" % (label, detail) for label, ok, detail in bfaults]))
        finally:
            for inst in binstances:
                inst.stop()
            bouncer.stop()
