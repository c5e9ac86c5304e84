"""The drill's configuration (Config.from_env: the DRILL_* variables scripts/drill exports), its fixed shape
(constants), the secrets of one run (Secrets.generate) and the Context every phase gets."""
import os
import random
import threading
import time

from .. import signing
from ..cluster import Cluster

DUP_RATE = 0.30  # duplicates per unique event: 5,000 deliveries = ~3,846 unique + ~1,154 duplicates
SHUTDOWN_GRACE = 20
OUTAGE_CONCURRENCY = 8
OUTAGE_PAUSE = 0.05  # per sending thread between requests: ~100-150 requests/s against a database that is down
OUTAGE_MAX_LATENCY = 1.0
PGB_POOL_SIZE = 10  # pgbouncer default_pool_size: server connections for 3 instances x DB_POOL_SIZE 8 clients
DB = "telebot_drill"

STRIPE_USERS = 200
STRIPE_TG_BASE = 7_000_000_000
STRIPE_PLAN = "premium_monthly"
STRIPE_PRICE = "price_premium_monthly"
STARS_USERS = 100
STARS_TG_BASE = 8_000_000_000
STARS_PLAN = "boost_week"
STARS_PLAN_DAYS = 7
STARS_PRICE = 50
UPDATE_BASE = 100_000_000
REFUND_UPDATE_BASE = 150_000_000
DUP_UPDATE_BASE = 200_000_000
# Reversals, as fractions of the unique payments.
STRIPE_REFUND_RATE = 0.10  # charge.refunded: half naming `invoice`, half only `charge` + `payment_intent`
STRIPE_LOST_RATE = 0.05  # charge.dispute.created + charge.dispute.closed `lost`
STRIPE_WON_RATE = 0.05  # charge.dispute.created + charge.dispute.closed `won`
STARS_REFUND_RATE = 0.10  # refunded_payment
REVERSED_USERS_PER = 50  # one user in 50 loses every payment (must read `revoked`)


class Config:
    """Everything the environment says (scripts/drill's header documents the variables)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_env(cls, env=None):
        env = os.environ if env is None else env
        return cls(
            env=dict(env),
            root=env["DRILL_ROOT"], bin=env["DRILL_BIN"], out=env["DRILL_OUT"], pgbin=env["DRILL_PGBIN"],
            pgdata=env["DRILL_PGDATA"], pglog=env["DRILL_PGLOG"], pgrunas=env.get("DRILL_PGRUNAS", ""),
            pghost=env["DRILL_PGHOST"], pgport=env["DRILL_PGPORT"], database_url=env["DATABASE_URL"],
            events=int(env.get("DRILL_EVENTS", "5000")),
            concurrency=int(env.get("DRILL_CONCURRENCY", "16")),
            phase_timeout=float(env.get("DRILL_PHASE_TIMEOUT", "150")),
            retry_drain_timeout=float(env.get("DRILL_RETRY_DRAIN_TIMEOUT", "90")),
            outage_seconds=float(env.get("DRILL_OUTAGE_SECONDS", "30")),
            # deliveries per provider kept coming during the outage
            outage_events=int(env.get("DRILL_OUTAGE_EVENTS", "600")),
            pgbouncer=env.get("DRILL_PGBOUNCER", ""),  # path of the pgbouncer binary; empty: phase skipped
            pgbouncer_skip=env.get("DRILL_PGBOUNCER_SKIP", ""),  # why it is skipped
            pgb_events=int(env.get("DRILL_PGBOUNCER_EVENTS", "1500")),  # deliveries per provider through PgBouncer
            # The instances' DB_PREPARED_STATEMENTS behind PgBouncer: false, as transaction mode needs (true: a
            # negative control).
            pgb_prepared=env.get("DRILL_PGBOUNCER_PREPARED_STATEMENTS", "false"),
            reconcile=env.get("DRILL_RECONCILE", "1") != "0",  # phase 6
            reconcile_only=env.get("DRILL_RECONCILE_ONLY", "") == "1",
            seed=int(env.get("DRILL_SEED", "0")),
            reconcile_stripe=int(env.get("DRILL_RECONCILE_STRIPE", "2000")),
            reconcile_stars=int(env.get("DRILL_RECONCILE_STARS", "2000")),
            reconcile_interval=int(env.get("DRILL_RECONCILE_INTERVAL", "5")),
            reconcile_timeout=float(env.get("DRILL_RECONCILE_TIMEOUT", "150")),
            reconcile_settle_timeout=float(env.get("DRILL_RECONCILE_SETTLE_TIMEOUT", "120")),
        )


def rand_text(n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(n))


class Secrets:
    def __init__(self, bot_token, tg_secret, stripe_secret, jwt_secret, admin_token):
        self.bot_token, self.tg_secret, self.stripe_secret = bot_token, tg_secret, stripe_secret
        self.jwt_secret, self.admin_token = jwt_secret, admin_token
        self.stars_key = signing.stars_payload_key(bot_token)

    @classmethod
    def generate(cls):
        return cls("123456:" + rand_text(35), rand_text(32), "whsec_" + rand_text(32), rand_text(48), rand_text(32))


class Context:
    """One drill run: config, secrets, the cluster, the clock of the [drill N.Ns] lines, the pid file."""

    def __init__(self, cfg, secrets=None):
        self.cfg = cfg
        self.secrets = secrets or Secrets.generate()
        self.t0 = time.monotonic()
        self.print_lock = threading.Lock()
        self.cluster = Cluster.attach(cfg.pgbin, cfg.pgdata, cfg.pglog, cfg.pgrunas, cfg.pghost, cfg.pgport)
        self.live_pids = set()
        self.pids_lock = threading.Lock()
        # payment intent -> invoice id, for the stub's GET /v1/invoice_payments (how the server finds the invoice of
        # a refund or dispute that names only the charge and its payment intent). Written before deliveries start.
        self.invoice_of_payment_intent = {}

    def say(self, msg):
        with self.print_lock:
            print("[drill %6.1fs] %s" % (time.monotonic() - self.t0, msg), flush=True)

    def psql(self, sql, db=DB):
        return self.cluster.psql(db, sql)

    def psql_value(self, sql, db=DB):
        return self.cluster.psql_value(db, sql)

    def stripe_signature(self, body, t=None):
        return signing.stripe_signature(self.secrets.stripe_secret, body, t)

    def stars_payload(self, plan, telegram_user_id):
        return signing.stars_payload(self.secrets.stars_key, plan, telegram_user_id)

    def pid_started(self, pid):
        with self.pids_lock:
            self.live_pids.add(pid)
            self._write_pids()

    def pid_reaped(self, pid):
        with self.pids_lock:
            self.live_pids.discard(pid)
            self._write_pids()

    def _write_pids(self):
        with open(os.path.join(self.cfg.out, "pids"), "w") as f:
            for pid in sorted(self.live_pids):
                f.write("%d\n" % pid)


def fmt_counter(c):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(c.items())) or "none"
