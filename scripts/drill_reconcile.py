"""Reconciliation drill (issue #18), a phase of scripts/drill.py, kept in a module of its own.

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

Entry point: run_phase(drill_module, checks, summary, instances). drill_module is the running drill.py (its
__main__ module, passed in: importing drill.py again would make a second bot token).
"""

import collections
import http.client
import json
import os
import random
import re
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ENV = os.environ
STRIPE_PAYMENTS = int(ENV.get("DRILL_RECONCILE_STRIPE", "2000"))
STARS_PAYMENTS = int(ENV.get("DRILL_RECONCILE_STARS", "2000"))
UNDELIVERED_RATE = 0.20
TWICE_RATE = 0.10
INTERVAL = int(ENV.get("DRILL_RECONCILE_INTERVAL", "5"))  # RECONCILE_INTERVAL_SECONDS of the instances
LOOKBACK_HOURS = 1
CONCURRENCY = 16
SEND_TIMEOUT = float(ENV.get("DRILL_RECONCILE_TIMEOUT", "150"))  # seconds the sending may take
SETTLE_TIMEOUT = float(ENV.get("DRILL_RECONCILE_SETTLE_TIMEOUT", "120"))  # for the reconciler to catch up after
DB = "telebot_reconcile"
STRIPE_USERS = 200
STARS_USERS = 100
TG_STRIPE_BASE = 7_100_000_000
TG_STARS_BASE = 8_100_000_000
STARS_PRICE = 50
STARS_PLAN = "boost_week"
STARS_PLAN_DAYS = 7
STRIPE_PLAN = "premium_monthly"
UPDATE_BASE = 300_000_000
DUP_UPDATE_BASE = 400_000_000


# ----------------------------------------------------------------------------------------------------------
# The fake providers


class FakeProviders:
    """What the fake Stripe and Bot API list: published events and Stars transactions, plus call counters."""

    def __init__(self, bot_token):
        self.bot_token = bot_token
        self.lock = threading.Lock()
        self.events = []  # (created, seq, id, type, raw bytes), in publication order
        self.event_index = {}
        self.transactions = []  # (date, seq, transaction dict)
        self.seq = 0
        self.calls = collections.Counter()
        self.pages = collections.Counter()  # provider -> pages served
        self.errors = []

    def publish_event(self, event_id, event_type, created, raw):
        with self.lock:
            self.seq += 1
            self.events.append((created, self.seq, event_id, event_type, raw))

    def publish_transaction(self, transaction):
        with self.lock:
            self.seq += 1
            self.transactions.append((transaction["date"], self.seq, transaction))

    def list_events(self, query):
        """Stripe's GET /v1/events: newest first (created, then the later listed first), cursor paging."""
        since = int((query.get("created[gte]") or ["0"])[0])
        types = set(query.get("types[]") or [])
        limit = int((query.get("limit") or ["10"])[0])
        after = (query.get("starting_after") or [None])[0]
        if not 1 <= limit <= 100:
            return 400, {"error": {"type": "invalid_request_error", "param": "limit",
                                   "message": "limit must be between 1 and 100"}}
        with self.lock:
            ordered = sorted(self.events, key=lambda e: (e[0], e[1]), reverse=True)
        matching = [e for e in ordered if e[0] >= since and (not types or e[3] in types)]
        if after is not None:
            at = next((i for i, e in enumerate(matching) if e[2] == after), None)
            if at is None:
                return 400, {"error": {"type": "invalid_request_error", "param": "starting_after",
                                       "message": "No such event: '%s'" % after}}
            matching = matching[at + 1:]
        page = matching[:limit]
        with self.lock:
            self.pages["stripe"] += 1
        body = (b'{"object":"list","url":"/v1/events","has_more":' + (b"true" if len(matching) > limit else b"false")
                + b',"data":[' + b",\n  ".join(e[4] for e in page) + b"]}")
        return 200, body

    def list_transactions(self, body):
        """Bot API getStarTransactions: newest first, offset + limit (1-100, default 100)."""
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if not 1 <= limit <= 100 or offset < 0:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid limit or offset"}
        with self.lock:
            ordered = sorted(self.transactions, key=lambda t: (t[0], t[1]), reverse=True)
            self.pages["telegram_stars"] += 1
        return 200, {"ok": True, "result": {"transactions": [t[2] for t in ordered[offset:offset + limit]]}}


def start_fake(fake, log_path):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.answer()

        def do_POST(self):
            self.answer()

        def answer(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urllib.parse.urlsplit(self.path)
            method = split.path.rsplit("/", 1)[-1]
            with fake.lock:
                fake.calls[method] += 1
            status = 200
            if split.path.startswith("/bot"):
                if not split.path.startswith("/bot%s/" % fake.bot_token):
                    status, answer = 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
                elif method == "getStarTransactions":
                    status, answer = fake.list_transactions(body)
                elif method.startswith("send"):
                    answer = {"ok": True, "result": {"message_id": 1, "date": int(time.time()),
                                                     "chat": {"id": 1, "type": "private"}}}
                else:
                    answer = {"ok": True, "result": True}
            elif split.path == "/v1/events" and self.command == "GET":
                status, answer = fake.list_events(urllib.parse.parse_qs(split.query))
            else:
                answer = {"id": "stub_1", "object": "stub"}
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            if status != 200:
                with fake.lock:
                    fake.errors.append("%s %s -> %d" % (self.command, method, status))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            # The path holds the bot token: log the method name only.
            with open(log_path, "a") as f:
                f.write("%s %s\n" % (time.strftime("%H:%M:%S"), self.path.split("?")[0].rsplit("/", 1)[-1]))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ----------------------------------------------------------------------------------------------------------
# The database of this phase


def psql(d, sql):
    cmd = [os.path.join(d.PGBIN, "psql"), "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", d.PGHOST,
           "-p", d.PGPORT, "-U", "postgres", "-d", DB, "-f", "-"]
    res = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (res.stderr.strip(), sql[:400]))
    return [line for line in res.stdout.splitlines() if line != ""]


def prepare_database(d):
    """CREATE DATABASE telebot_reconcile, migrate up, plans sync, Stripe users and their customer ids. Returns its
    DATABASE_URL."""
    d.psql("DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;" % (DB, DB))
    url = d.DATABASE_URL.replace("dbname=telebot_drill", "dbname=" + DB)
    if url == d.DATABASE_URL:
        raise RuntimeError("cannot derive the reconcile database's URL from %r" % d.DATABASE_URL)
    env = dict(ENV, DATABASE_URL=url)
    with open(os.path.join(d.OUT, "migrate-reconcile.log"), "wb") as log:
        for args in (["migrate", "up", "--dir", os.path.join(d.ROOT, "sql")],
                     ["plans", "sync", "--file", os.path.join(d.ROOT, "plans.example.json")]):
            res = subprocess.run([d.BIN] + args, env=env, cwd=d.ROOT, stdout=log, stderr=subprocess.STDOUT,
                                 timeout=120)
            if res.returncode != 0:
                raise RuntimeError("telebot %s failed (exit %d); log: %s" % (" ".join(args[:2]), res.returncode,
                                                                              log.name))
    psql(d, """
        INSERT INTO users (telegram_user_id, first_name, username)
        SELECT %d + g, 'Reconcile drill ' || g, 'reconcile_drill_' || g FROM generate_series(0, %d) g;
        INSERT INTO stripe_customers (user_id, customer_id)
        SELECT id, 'cus_drill_' || (telegram_user_id - %d) FROM users WHERE telegram_user_id BETWEEN %d AND %d;
    """ % (TG_STRIPE_BASE, STRIPE_USERS - 1, TG_STRIPE_BASE, TG_STRIPE_BASE, TG_STRIPE_BASE + STRIPE_USERS - 1))
    return url


# ----------------------------------------------------------------------------------------------------------
# Payments


class Payment:
    __slots__ = ("provider", "pid", "user", "fate", "bodies", "publish", "published", "delivered", "extra")

    def __init__(self, provider, pid, user, fate):
        self.provider = provider  # "stripe" or "telegram_stars"
        self.pid = pid  # Stripe event id or Stars charge id: the ledger's event_id
        self.user = user
        self.fate = fate  # "undelivered", "once", "twice"
        self.bodies = []  # webhook bodies, one per delivery
        self.publish = None  # callable: lists the payment at the fake provider
        self.published = False
        self.delivered = False
        self.extra = {}


def fates(n, rng):
    undelivered = round(n * UNDELIVERED_RATE)
    twice = round(n * TWICE_RATE)
    out = ["undelivered"] * undelivered + ["twice"] * twice + ["once"] * (n - undelivered - twice)
    rng.shuffle(out)
    return out


def make_stripe(d, fake, n, rng):
    payments = []
    base = int(time.time()) + 40 * 86400
    for k, fate in enumerate(fates(n, rng)):
        suffix = "rec%06d" % k
        event_id, invoice_id = "evt_drill_" + suffix, "in_drill_" + suffix
        user = k % STRIPE_USERS
        period_end = base + k * 61
        body = d.stripe_invoice_event(event_id, k, user, period_end, "classic" if k % 2 == 0 else "current",
                                      invoice_id, ("pi_drill_" + suffix, "ch_drill_" + suffix))
        created = json.loads(body)["created"]
        p = Payment("stripe", event_id, user, fate)
        p.extra = {"invoice": invoice_id, "period_end": period_end}
        if fate != "undelivered":
            p.bodies = [body] * (2 if fate == "twice" else 1)
        p.publish = (lambda event_id=event_id, created=created, body=body:
                     fake.publish_event(event_id, "invoice.paid", created, body))
        payments.append(p)
    return payments


def make_stars(d, fake, n, rng):
    payments = []
    for k, fate in enumerate(fates(n, rng)):
        user = k % STARS_USERS
        tg = TG_STARS_BASE + user
        charge = "strec%07d" % k
        payload = d.stars_payload(STARS_PLAN, tg)
        p = Payment("telegram_stars", charge, user, fate)
        if fate != "undelivered":
            first = stars_update(d, UPDATE_BASE + k, k + 1, user, charge, payload)
            p.bodies = [first]
            if fate == "twice":
                # Half the same update again, half the same charge in a new update.
                p.bodies.append(first if k % 2 == 0 else stars_update(d, DUP_UPDATE_BASE + k, 500_000 + k, user,
                                                                      charge, payload))
        p.publish = (lambda charge=charge, tg=tg, user=user, payload=payload: fake.publish_transaction({
            "id": charge, "amount": STARS_PRICE, "date": int(time.time()),
            "source": {"type": "user", "transaction_type": "invoice_payment", "invoice_payload": payload,
                       "user": {"id": tg, "is_bot": False, "first_name": "Stars", "last_name": "Drill %d" % user,
                                "username": "stars_drill_%d" % user, "language_code": "en"}}}))
        payments.append(p)
    return payments


def stars_update(d, update_id, message_id, user, charge, payload):
    # drill.py's stars_update for users STARS_TG_BASE + user: shift the user so the ids are this phase's own.
    body = json.loads(d.stars_update(update_id, message_id, user, charge, payload))
    tg = TG_STARS_BASE + user
    body["message"]["from"]["id"] = tg
    body["message"]["chat"]["id"] = tg
    return json.dumps(body, separators=(",", ":")).encode()


def action_sequence(payments, rng):
    """One action per delivery or skip: ("deliver", payment, body index) / ("skip", payment, None). Each payment's
    first action in random order; the second delivery of a "twice" payment right after it (a third of them, racing
    on another instance) or at a random later place."""
    order = list(payments)
    rng.shuffle(order)
    seq = []
    later = []
    for p in order:
        if p.fate == "undelivered":
            seq.append(("skip", p, None))
            continue
        seq.append(("deliver", p, 0))
        if p.fate == "twice":
            if rng.random() < 1 / 3:
                seq.append(("deliver", p, 1))
            else:
                later.append((len(seq), p))
    for pos, p in later:
        seq.insert(rng.randrange(pos, len(seq) + 1), ("deliver", p, 1))
    return seq


class Sender:
    """CONCURRENCY threads take the actions in order; a delivery is re-sent (backoff) until it gets a 2xx."""

    def __init__(self, d, actions, ports, timeout):
        self.d = d
        self.actions = actions
        self.ports = ports
        self.deadline = time.monotonic() + timeout
        self.lock = threading.Lock()
        self.next = 0
        self.done = 0
        self.sent = 0
        self.retries = 0
        self.errors = collections.Counter()
        self.violations = []
        self.undelivered = 0
        self.last_publish = None

    def publish(self, p):
        with self.lock:
            if p.published:
                return
            p.published = True
        p.publish()
        with self.lock:
            self.last_publish = time.time()

    def worker(self):
        conns = {}
        while True:
            with self.lock:
                if self.next >= len(self.actions):
                    break
                i = self.next
                self.next += 1
            kind, p, which = self.actions[i]
            if kind == "skip":
                self.publish(p)
            else:
                self.deliver(conns, i, p, p.bodies[which])
            with self.lock:
                self.done += 1
        for c in conns.values():
            c.close()

    def deliver(self, conns, i, p, body):
        d = self.d
        if p.provider == "stripe":
            path = "/webhooks/stripe"
        else:
            path = "/webhooks/telegram"
        attempt = 0
        while True:
            if p.provider == "stripe":
                headers = {"Content-Type": "application/json; charset=utf-8",
                           "Stripe-Signature": d.stripe_signature(body)}
            else:
                headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": d.TG_SECRET}
            port = self.ports[(i + attempt) % len(self.ports)]
            status, data, err = d.http_call(conns, port, "POST", path, body, headers)
            attempt += 1
            with self.lock:
                self.sent += 1
            if status is not None and 200 <= status < 300:
                with self.lock:
                    p.delivered = True
                self.publish(p)
                return
            with self.lock:
                self.errors[err if err else "HTTP %d" % status] += 1
                self.retries += 1
                if status is not None and status != 503:
                    self.violations.append("%s %s to port %d: %d %s" % (p.provider, p.pid, port, status,
                                                                        data[:200].decode("utf8", "replace")))
            if time.monotonic() > self.deadline:
                with self.lock:
                    self.undelivered += 1
                self.publish(p)  # listed anyway, as a provider would
                return
            time.sleep(min(0.1 * 2 ** min(attempt - 1, 5), 2.0) * (0.5 + random.random()))

    def fraction(self):
        with self.lock:
            return self.done / max(1, len(self.actions))

    def run(self, faults, fault_report):
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(CONCURRENCY)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for fraction, label, fn in faults:
            while self.fraction() < fraction and any(t.is_alive() for t in threads):
                time.sleep(0.02)
            if not any(t.is_alive() for t in threads):
                fault_report.append((label, False, "not injected: the sending finished first"))
                continue
            at = time.monotonic() - self.d.T0
            done = self.fraction()
            try:
                fault_report.append((label, True, "at %.1fs (%.0f%% of the payments sent or skipped): %s"
                                     % (at, done * 100, fn())))
            except Exception as e:  # noqa: BLE001 - reported as a failed check
                fault_report.append((label, False, "at %.1fs: %s" % (at, e)))
            self.d.say("%s: %s" % (label, fault_report[-1][2]))
        for t in threads:
            t.join()
        return time.monotonic() - started


# ----------------------------------------------------------------------------------------------------------
# Reading the results


LAST_SUCCESS = {}  # port -> provider -> reconcile_last_success_timestamp_seconds, filled by scrape_recovered


def scrape_recovered(port):
    """provider -> reconcile_recovered_total of one instance (0 when absent); None when /metrics did not answer.
    Also records the instance's reconcile_last_success_timestamp_seconds in LAST_SUCCESS."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/metrics")
        resp = conn.getresponse()
        text = resp.read().decode("utf8", "replace")
        conn.close()
    except (OSError, http.client.HTTPException):
        return None
    if resp.status != 200:
        return None
    out = collections.Counter()
    for line in text.splitlines():
        m = re.match(r'^reconcile_recovered_total\{[^}]*provider="([a-z_]+)"[^}]*\}\s+([0-9.eE+-]+)', line)
        if m:
            out[m.group(1)] += int(float(m.group(2)))
        m = re.match(r'^reconcile_last_success_timestamp_seconds\{[^}]*provider="([a-z_]+)"[^}]*\}\s+([0-9.eE+-]+)',
                     line)
        if m:
            LAST_SUCCESS.setdefault(port, {})[m.group(1)] = float(m.group(2))
    return out


def logged_recoveries(instances):
    """provider -> event ids the instances logged as recovered (a list: an id twice means applied twice)."""
    out = collections.defaultdict(list)
    for inst in instances:
        try:
            with open(inst.log_path, "r", errors="replace") as f:
                for line in f:
                    if "recovered" not in line:
                        continue
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue
                    if rec.get("msg") == "Stripe event recovered":
                        out["stripe"].append(rec.get("event_id"))
                    elif rec.get("msg") == "Stars transaction recovered":
                        out["telegram_stars"].append(rec.get("event_id"))
        except OSError:
            pass
    return out


def runs_after(d, epoch):
    """provider -> (runs started after `epoch` and finished, of them with nothing failed)."""
    out = {}
    for r in psql(d, """
            SELECT provider, count(*) FILTER (WHERE finished_at IS NOT NULL),
                   count(*) FILTER (WHERE finished_at IS NOT NULL AND failed = 0)
            FROM reconcile_runs WHERE started_at > to_timestamp(%f) GROUP BY 1""" % epoch):
        provider, finished, clean = r.split("|")
        out[provider] = (int(finished), int(clean))
    return out


def ledger_counts(d):
    """provider -> (rows, distinct ids, processed rows) for this phase's ids."""
    out = {}
    for r in psql(d, """
            SELECT provider, count(*), count(DISTINCT event_id), count(*) FILTER (WHERE status = 'processed')
            FROM payment_events
            WHERE (provider = 'stripe' AND event_id LIKE 'evt\\_drill\\_rec%')
               OR (provider = 'telegram_stars' AND event_id LIKE 'strec%')
            GROUP BY 1"""):
        provider, n, distinct, processed = r.split("|")
        out[provider] = (int(n), int(distinct), int(processed))
    return out


# ----------------------------------------------------------------------------------------------------------
# The phase


def run_phase(d, checks, summary, instances):
    """Runs the reconciliation phase; appends its checks and summary; its serve instances are appended to
    `instances` (the caller stops them and scans their logs)."""
    phase_t0 = time.monotonic()
    rng = random.Random((int(ENV.get("DRILL_SEED", "0")) or random.SystemRandom().randrange(1 << 30)) + 18)
    fake = FakeProviders(d.BOT_TOKEN)
    fake_server = start_fake(fake, os.path.join(d.OUT, "reconcile-fake.log"))
    rinstances = []
    try:
        url = prepare_database(d)
        ports = []
        while len(ports) < 3:
            p = d.free_port()
            if p not in ports:
                ports.append(p)
        env = {"RECONCILE_INTERVAL_SECONDS": str(INTERVAL), "RECONCILE_LOOKBACK_HOURS": str(LOOKBACK_HOURS)}
        rinstances = [d.Instance(7 + i, ports[i], fake_server.server_address[1], url, env) for i in range(3)]
        instances.extend(rinstances)
        for inst in rinstances:
            inst.start()
        for inst in rinstances:
            inst.wait_ready(90)
        stripe = make_stripe(d, fake, STRIPE_PAYMENTS, rng)
        stars = make_stars(d, fake, STARS_PAYMENTS, rng)
        payments = stripe + stars
        actions = action_sequence(payments, rng)
        want = {prov: collections.Counter(p.fate for p in ps) for prov, ps in (("stripe", stripe),
                                                                               ("telegram_stars", stars))}
        deliveries = sum(1 for a in actions if a[0] == "deliver")
        d.say("reconcile: instances 7-9 on ports %s (RECONCILE_INTERVAL_SECONDS=%d, RECONCILE_LOOKBACK_HOURS=%d, "
              "database %s); %d Stripe + %d Stars payments: %s / %s; %d webhook deliveries"
              % (ports, INTERVAL, LOOKBACK_HOURS, DB, len(stripe), len(stars), d.fmt_counter(want["stripe"]),
                 d.fmt_counter(want["telegram_stars"]), deliveries))

        sender = Sender(d, actions, ports, SEND_TIMEOUT)
        faults = []

        def restart_during_run():
            # Halfway through the payments, and while a reconcile run is applying what it found when one starts
            # within 15 s: PostgreSQL restarts under the reconciler as well as under the webhooks.
            waited = time.monotonic()
            running = []
            while time.monotonic() - waited < 15:
                running = psql(d, "SELECT provider, id FROM reconcile_runs WHERE finished_at IS NULL "
                                  "AND started_at > now() - interval '60 seconds'")
                if running:
                    time.sleep(rng.uniform(0.0, 0.5))
                    break
                time.sleep(0.05)
            detail = d.fault_pg_restart()
            return "%s; %s" % (detail, ("during reconcile run %s (waited %.1fs for one)" % (
                ", ".join(r.replace("|", " #") for r in running), time.monotonic() - waited)) if running
                else "no reconcile run in progress within 15 s")

        first_send = time.time()
        elapsed = sender.run([(0.5, "reconcile: PostgreSQL restart", restart_during_run)], faults)
        last_publish = sender.last_publish or time.time()
        d.say("reconcile: sending done in %.1fs: %d attempts, %d re-sent; waiting for a clean reconcile run of each "
              "provider that started after the last payment was listed" % (elapsed, sender.sent, sender.retries))

        # Wait: every payment in the ledger, and a run of each provider, started after the last listing, done clean.
        want_rows = {"stripe": len(stripe), "telegram_stars": len(stars)}
        settle_started = time.monotonic()
        while True:
            counts = ledger_counts(d)
            runs = runs_after(d, last_publish)
            complete = all(counts.get(k, (0, 0, 0))[1] == v for k, v in want_rows.items())
            clean = all(runs.get(k, (0, 0))[1] > 0 for k in want_rows)
            if (complete and clean) or time.monotonic() - settle_started > SETTLE_TIMEOUT:
                break
            time.sleep(0.5)
        settled_in = time.monotonic() - settle_started
        # A run in progress at this moment may still count what it found: wait for the runs to end.
        time.sleep(0.5)
        unfinished_wait = time.monotonic()
        while time.monotonic() - unfinished_wait < 30:
            if not psql(d, "SELECT 1 FROM reconcile_runs WHERE finished_at IS NULL AND started_at > now() - "
                           "interval '30 seconds'"):
                break
            time.sleep(0.5)
        d.say("reconcile: settled %.1fs after the sending ended" % settled_in)

        metrics = {}
        for inst in rinstances:
            metrics[inst.index] = scrape_recovered(inst.port)
        # Stop the instances (graceful) before reading the logs and the run rows.
        exit_codes = {}
        for inst in rinstances:
            inst.stop()
            exit_codes[inst.index] = inst.proc.returncode

        # --- checks ---------------------------------------------------------------------------------------
        for label, ok, detail in faults:
            checks.check(label, ok, detail)
        checks.check("reconcile: every webhook delivery got a 2xx within %ds" % SEND_TIMEOUT, sender.undelivered == 0,
                     "%d deliveries, %d attempts, %d never got a 2xx" % (deliveries, sender.sent, sender.undelivered))
        checks.check("reconcile: no 5xx but 503, no 4xx", not sender.violations,
                     "; ".join(sender.violations[:5]))
        counts = ledger_counts(d)
        run_rows = {}
        for r in psql(d, """
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
            ids = set(psql(d, "SELECT event_id FROM payment_events WHERE provider = '%s' AND event_id LIKE '%s'"
                           % (provider, "evt\\_drill\\_rec%" if provider == "stripe" else "strec%")))
            missing = {p.pid for p in ps} - ids
            checks.check("reconcile %s: one processed ledger row per payment" % label,
                         rows == n and distinct == n and processed == n and not missing,
                         "%d rows, %d distinct ids, %d processed; want %d; missing %d%s"
                         % (rows, distinct, processed, n, len(missing),
                            (" (e.g. %s)" % sorted(missing)[:3]) if missing else ""))
            if provider == "stripe":
                grants = psql(d, """
                    SELECT g.payment_key, p.event_id, g.state FROM entitlement_grants g
                    LEFT JOIN payment_events p ON p.id = g.payment_event_id
                    WHERE g.source = 'stripe'""")
                want_grant = {"stripe:invoice:" + p.extra["invoice"]: p.pid for p in ps}
            else:
                grants = psql(d, """
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
                rows_e = psql(d, """
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
                rows_e = psql(d, """
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
            fin, clean = runs_after(d, last_publish).get(provider, (0, 0))
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
            timeline = psql(d, """
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
                        "database %s, one PostgreSQL restart)" % (INTERVAL, LOOKBACK_HOURS, DB), lines + [
            "webhooks: %d deliveries by %d threads round-robin, %d attempts, %d re-sent (%s), sending %.1fs; "
            "settled %.1fs after; phase %.1fs"
            % (deliveries, CONCURRENCY, sender.sent, sender.retries, d.fmt_counter(sender.errors), elapsed,
               settled_in, took),
            "fake provider calls: %s; list pages served: %s" % (d.fmt_counter(fake.calls), d.fmt_counter(fake.pages)),
        ] + ["fault: %s: %s" % (label, detail) for label, ok, detail in faults]))
        d.say("reconcile: phase done in %.1fs" % took)
    finally:
        for inst in rinstances:
            try:
                inst.stop()
            except Exception:  # noqa: BLE001
                pass
        fake_server.shutdown()
