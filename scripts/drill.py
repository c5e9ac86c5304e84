#!/usr/bin/env python3
"""Fault drills for telebot (issues #9, #22). Run through scripts/drill, which prepares the database and the
environment (DRILL_* variables, DATABASE_URL) and removes everything afterwards.

Phases, all against three `telebot serve` instances sharing one database:
  1. Stripe: invoice.paid deliveries mixed with reversals of some of those invoices: charge.refunded for ~10 %
     (half with `invoice`, half in the current API's shape naming only `charge` + `payment_intent`, whose invoice
     the server asks the stub's /v1/invoice_payments for), charge.dispute.created + charge.dispute.closed `lost`
     for ~5 % and `won` for ~5 %; a few users lose every invoice. 30 % duplicates, random order (so a reversal
     often arrives before its payment), round-robin, concurrency 16; PostgreSQL restarted (pg_ctl restart -m
     fast) and one instance SIGKILLed and started again during the run. A delivery that does not get a 2xx is
     re-sent later with backoff, as Stripe would.
  2. Telegram: Stars successful_payment updates and refunded_payment updates for ~10 % of the charges (every
     charge of a few users), 30 % duplicates (the same update again, or the same charge or refund in a new
     update), random order, the same faults.
  3. SIGTERM under load: requests in flight when the signal arrives complete with 2xx, nothing but 503 among
     5xx, exit code 0. Deliveries it refused are re-sent to the other instances.
  4. PostgreSQL unreachable (issue #22): pg_ctl stop -m fast for DRILL_OUTAGE_SECONDS while 8 threads keep sending
     Stripe and Stars deliveries (each refused one again on the next round): every answer a 503 within 1 s, every
     instance answering, /health/ready 503; then PostgreSQL starts, the instances must be ready again and the
     refused deliveries, re-sent, accepted.
  5. PgBouncer (issue #22), when DRILL_PGBOUNCER names the binary: pgbouncer in transaction mode in front of the
     cluster, three more instances (4-6) with DB_PREPARED_STATEMENTS=false through it, phases 1 and 2 again at
     DRILL_PGBOUNCER_EVENTS deliveries each with a PgBouncer kill + start and a PostgreSQL restart during each.
  6. Reconciliation (issue #18, scripts/drill_reconcile.py; DRILL_RECONCILE=0 skips it, DRILL_RECONCILE_ONLY=1
     runs only it): 2,000 Stripe and 2,000 Stars payments, 20 % never delivered, 10 % delivered twice, three more
     instances (7-9, database telebot_reconcile) with the periodic reconciler every 5 s, a fake Stripe /v1/events
     and Bot API getStarTransactions, one PostgreSQL restart: every payment applied once, recovered = undelivered.
Then the database is checked: every event in the ledger once and processed, exactly one grant per payment made
by that payment's event and in the state its reversals call for, no event audited twice for one grant, the
expected entitlement per user (Stripe: latest period end over the live invoices; Stars: 7 days per live charge;
`revoked` with none), nothing left `received` or `failed`. Python 3 standard library only.
"""

import base64
import collections
import hashlib
import hmac
import heapq
import http.client
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import drill_reconcile  # phase 6 (scripts/ is on sys.path: this file's directory)

ENV = os.environ
ROOT = ENV["DRILL_ROOT"]
BIN = ENV["DRILL_BIN"]
OUT = ENV["DRILL_OUT"]
PGBIN = ENV["DRILL_PGBIN"]
PGDATA = ENV["DRILL_PGDATA"]
PGLOG = ENV["DRILL_PGLOG"]
PGRUNAS = ENV.get("DRILL_PGRUNAS", "")
PGHOST = ENV["DRILL_PGHOST"]
PGPORT = ENV["DRILL_PGPORT"]
DATABASE_URL = ENV["DATABASE_URL"]

EVENTS = int(ENV.get("DRILL_EVENTS", "5000"))
CONCURRENCY = int(ENV.get("DRILL_CONCURRENCY", "16"))
PHASE_TIMEOUT = float(ENV.get("DRILL_PHASE_TIMEOUT", "150"))
DUP_RATE = 0.30  # duplicates per unique event: 5,000 deliveries = ~3,846 unique + ~1,154 duplicates
SHUTDOWN_GRACE = 20
RETRY_DRAIN_TIMEOUT = float(ENV.get("DRILL_RETRY_DRAIN_TIMEOUT", "90"))
OUTAGE_SECONDS = float(ENV.get("DRILL_OUTAGE_SECONDS", "30"))
OUTAGE_EVENTS = int(ENV.get("DRILL_OUTAGE_EVENTS", "600"))  # deliveries per provider kept coming during the outage
OUTAGE_CONCURRENCY = 8
OUTAGE_PAUSE = 0.05  # per sending thread between requests: ~100-150 requests/s against a database that is down
OUTAGE_MAX_LATENCY = 1.0
PGBOUNCER = ENV.get("DRILL_PGBOUNCER", "")  # path of the pgbouncer binary; empty: phase skipped
PGBOUNCER_SKIP = ENV.get("DRILL_PGBOUNCER_SKIP", "")  # why it is skipped
PGB_EVENTS = int(ENV.get("DRILL_PGBOUNCER_EVENTS", "1500"))  # deliveries per provider through PgBouncer
# The instances' DB_PREPARED_STATEMENTS behind PgBouncer: false, as transaction mode needs (true: a negative control).
PGB_PREPARED = ENV.get("DRILL_PGBOUNCER_PREPARED_STATEMENTS", "false")
PGB_POOL_SIZE = 10  # pgbouncer default_pool_size: server connections for 3 instances x DB_POOL_SIZE 8 clients
RECONCILE = ENV.get("DRILL_RECONCILE", "1") != "0"  # phase 6
RECONCILE_ONLY = ENV.get("DRILL_RECONCILE_ONLY", "") == "1"

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


def rand_text(n):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(n))


BOT_TOKEN = "123456:" + rand_text(35)
TG_SECRET = rand_text(32)
STRIPE_SECRET = "whsec_" + rand_text(32)
JWT_SECRET = rand_text(48)
ADMIN_TOKEN = rand_text(32)

T0 = time.monotonic()
PRINT_LOCK = threading.Lock()


def say(msg):
    with PRINT_LOCK:
        print("[drill %6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


# ----------------------------------------------------------------------------------------------------------
# PostgreSQL


def psql(sql):
    """Runs SQL with psql against the drill database; returns unaligned, tuples-only output lines."""
    cmd = [os.path.join(PGBIN, "psql"), "-X", "-q", "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-h", PGHOST,
           "-p", PGPORT, "-U", "postgres", "-d", "telebot_drill", "-f", "-"]
    res = subprocess.run(cmd, input=sql, capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (res.stderr.strip(), sql[:400]))
    return [line for line in res.stdout.splitlines() if line != ""]


def psql_value(sql):
    lines = psql(sql)
    return lines[0] if lines else None


def pg_ctl(*args):
    cmd = [os.path.join(PGBIN, "pg_ctl"), "-D", PGDATA] + list(args)
    if PGRUNAS:
        cmd = ["runuser", "-u", PGRUNAS, "--"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def pg_restart():
    started = time.monotonic()
    res = pg_ctl("-l", PGLOG, "-m", "fast", "-w", "-t", "60", "restart")
    took = time.monotonic() - started
    if res.returncode != 0:
        raise RuntimeError("pg_ctl restart failed: %s %s" % (res.stdout, res.stderr))
    return took


# ----------------------------------------------------------------------------------------------------------
# Bot API / Stripe API stub


STUB_CALLS = collections.Counter()
STUB_LOCK = threading.Lock()
# payment intent -> invoice id, for the stub's GET /v1/invoice_payments (how the server finds the invoice of a
# refund or dispute that names only the charge and its payment intent). Written before the deliveries start.
INVOICE_OF_PAYMENT_INTENT = {}


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.answer()

    def do_POST(self):
        self.answer()

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        method = self.path.rsplit("/", 1)[-1].split("?")[0]
        with STUB_LOCK:
            STUB_CALLS[method] += 1
        if self.path.startswith("/bot"):
            if method.startswith("send"):
                result = {"message_id": 1, "date": int(time.time()), "chat": {"id": 1, "type": "private"}}
            elif method == "createInvoiceLink":
                result = "https://t.me/$drill"
            else:
                result = True
            body = {"ok": True, "result": result}
        elif method == "invoice_payments":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            payment_intent = (query.get("payment[payment_intent]") or [""])[0]
            invoice = INVOICE_OF_PAYMENT_INTENT.get(payment_intent)
            data = [] if invoice is None else [{
                "id": "inpay_" + invoice, "object": "invoice_payment", "invoice": invoice, "is_default": True,
                "status": "paid", "payment": {"type": "payment_intent", "payment_intent": payment_intent}}]
            body = {"object": "list", "data": data, "has_more": False, "url": "/v1/invoice_payments"}
        else:
            body = {"id": "stub_1", "object": "stub", "url": "https://stripe.example/stub"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        # The path holds the bot token: log the method name only.
        with open(os.path.join(OUT, "stub.log"), "a") as f:
            f.write("%s %s\n" % (time.strftime("%H:%M:%S"), self.path.rsplit("/", 1)[-1]))


def start_stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ----------------------------------------------------------------------------------------------------------
# serve instances


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


LIVE_PIDS = set()
PIDS_LOCK = threading.Lock()


def write_pids():
    with open(os.path.join(OUT, "pids"), "w") as f:
        for pid in sorted(LIVE_PIDS):
            f.write("%d\n" % pid)


class Instance:
    def __init__(self, index, port, stub_port, database_url=None, extra_env=None):
        self.index = index
        self.port = port
        self.stub_port = stub_port
        self.database_url = database_url or DATABASE_URL
        self.extra_env = extra_env or {}
        self.proc = None
        self.log_path = os.path.join(OUT, "instance-%d.log" % index)
        self.starts = 0

    def env(self):
        env = {k: ENV[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in ENV}
        stub = "http://127.0.0.1:%d" % self.stub_port
        env.update({
            "DATABASE_URL": self.database_url, "HOST": "127.0.0.1", "PORT": str(self.port), "DB_POOL_SIZE": "8",
            "MIGRATIONS_DIR": os.path.join(ROOT, "sql"), "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": TG_SECRET, "TELEGRAM_API_BASE_URL": stub + "/",
            "STRIPE_API_KEY": "sk_test_drill", "STRIPE_WEBHOOK_SECRET": STRIPE_SECRET, "STRIPE_API_BASE_URL": stub,
            "JWT_SECRET": JWT_SECRET, "ADMIN_TOKEN": ADMIN_TOKEN, "LOG_FORMAT": "json", "LOG_LEVEL": "info",
            "PUBLIC_BASE_URL": "http://127.0.0.1:%d" % self.port, "SHUTDOWN_GRACE_SECONDS": str(SHUTDOWN_GRACE),
        })
        env.update(self.extra_env)
        return env

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("--- drill: start #%d of instance %d on port %d at %s ---\n"
                       % (self.starts, self.index, self.port, time.strftime("%H:%M:%S"))).encode())
            log.flush()
            self.proc = subprocess.Popen([BIN, "serve"], env=self.env(), cwd=ROOT, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        with PIDS_LOCK:
            LIVE_PIDS.add(self.proc.pid)
            write_pids()

    def reaped(self):
        with PIDS_LOCK:
            LIVE_PIDS.discard(self.proc.pid)
            write_pids()

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.reaped()
                raise RuntimeError("instance %d exited with %s while starting; log: %s"
                                   % (self.index, self.proc.returncode, self.log_path))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/ready")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        raise RuntimeError("instance %d not ready after %ds; log: %s" % (self.index, timeout, self.log_path))

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.reaped()

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self.reaped()
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=SHUTDOWN_GRACE + 10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.reaped()


# ----------------------------------------------------------------------------------------------------------
# HTTP


def http_call(conns, port, method, path, body, headers, timeout=30):
    """One request on a kept-alive connection. Returns (status, body, error name)."""
    conn = conns.get(port)
    if conn is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conns[port] = conn
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.will_close:
            conn.close()
            conns.pop(port, None)
        return resp.status, data, None
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        conns.pop(port, None)
        return None, b"", type(e).__name__


def stripe_signature(body, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(STRIPE_SECRET.encode(), str(t).encode() + b"." + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


class Delivery:
    __slots__ = ("index", "key", "body", "attempts")

    def __init__(self, index, key, body):
        self.index = index
        self.key = key
        self.body = body
        self.attempts = 0


class Engine:
    """Sends deliveries with `concurrency` threads, round-robin over `ports()`, re-sending any that did not get a
    2xx after a backoff, until all got one or the deadline passes."""

    def __init__(self, name, deliveries, request_for, ports, concurrency, timeout):
        self.name = name
        self.deliveries = deliveries
        self.request_for = request_for
        self.ports = ports
        self.concurrency = concurrency
        self.deadline = time.monotonic() + timeout
        self.cond = threading.Condition()
        self.heap = [(0.0, d.index, d) for d in deliveries]
        heapq.heapify(self.heap)
        self.seq = len(deliveries)
        self.outstanding = len(deliveries)
        self.ok = 0
        self.sent = 0
        self.retries = 0
        self.errors = collections.Counter()
        self.outcomes = collections.Counter()
        self.violations = []
        self.stop = False
        self.max_attempts = 0
        self.undelivered = []

    def worker(self):
        conns = {}
        while True:
            with self.cond:
                while True:
                    if self.stop or self.outstanding == 0:
                        for c in conns.values():
                            c.close()
                        return
                    now = time.monotonic()
                    if now > self.deadline:
                        self.stop = True
                        self.cond.notify_all()
                        continue
                    if self.heap and self.heap[0][0] <= now:
                        _, _, d = heapq.heappop(self.heap)
                        break
                    self.cond.wait(min(self.heap[0][0] - now, 0.5) if self.heap else 0.5)
            ports = self.ports()
            port = ports[(d.index + d.attempts) % len(ports)]
            method, path, body, headers = self.request_for(d)
            status, data, err = http_call(conns, port, method, path, body, headers)
            with self.cond:
                d.attempts += 1
                self.sent += 1
                self.max_attempts = max(self.max_attempts, d.attempts)
                if status is not None and 200 <= status < 300:
                    self.ok += 1
                    self.outstanding -= 1
                    if data.startswith(b"{\"") and b"outcome" in data:
                        try:
                            self.outcomes[json.loads(data).get("outcome", "?")] += 1
                        except ValueError:
                            self.outcomes["unparsable"] += 1
                    self.cond.notify_all()
                    continue
                reason = err if err else "HTTP %d" % status
                self.errors[reason] += 1
                if status is not None and status != 503:
                    self.violations.append("%s: delivery %s to port %d answered %d: %s"
                                           % (self.name, d.key, port, status, data[:300].decode("utf8", "replace")))
                self.retries += 1
                delay = min(0.2 * 2 ** min(d.attempts - 1, 6), 3.0) * (0.5 + random.random())
                self.seq += 1
                heapq.heappush(self.heap, (time.monotonic() + delay, self.seq, d))
                self.cond.notify_all()

    def run(self):
        threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(self.concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.undelivered = [d for _, _, d in self.heap] if self.outstanding else []

    def done_fraction(self):
        with self.cond:
            return self.ok / max(1, len(self.deliveries)), self.outstanding == 0 or self.stop


def run_with_faults(engine, faults, report):
    """Runs the engine while a controller fires `faults` [(fraction, label, fn)] when that fraction of deliveries
    got a 2xx. Each fault's outcome is appended to `report`."""
    def controller():
        for fraction, label, fn in faults:
            while True:
                done, finished = engine.done_fraction()
                if finished:
                    report.append((label, False, "not injected: the phase finished first"))
                    break
                if done >= fraction:
                    at = time.monotonic() - T0
                    try:
                        detail = fn()
                        report.append((label, True, "at %.1fs (%.0f%% delivered): %s" % (at, done * 100, detail)))
                    except Exception as e:  # noqa: BLE001 - reported as a failed check
                        report.append((label, False, "at %.1fs: %s" % (at, e)))
                    say("%s: %s" % (label, report[-1][2]))
                    break
                time.sleep(0.02)

    ctl = threading.Thread(target=controller, daemon=True)
    ctl.start()
    started = time.monotonic()
    engine.run()
    elapsed = time.monotonic() - started
    ctl.join(timeout=90)
    return elapsed


def fault_pg_restart():
    took = pg_restart()
    return "pg_ctl restart -m fast took %.2fs" % took


def fault_kill(instance):
    def fn():
        instance.kill9()
        down = time.monotonic()
        time.sleep(0.5)
        instance.start()
        instance.wait_ready(60)
        return "instance %d SIGKILLed, started again, ready after %.2fs" % (instance.index, time.monotonic() - down)
    return fn


# ----------------------------------------------------------------------------------------------------------
# Stripe


def stripe_invoice_event(event_id, k, user, period_end, shape, invoice_id, payment_refs):
    """payment_refs: (payment intent, charge) carried by the invoice object, or None."""
    period_start = period_end - 30 * 86400
    customer = "cus_drill_%d" % user
    subscription = "sub_drill_%d" % user
    created = int(time.time()) - 60
    line = {"id": "il_drill_%d" % k, "object": "line_item", "amount": 999, "currency": "usd",
            "period": {"start": period_start, "end": period_end}, "metadata": {}, "quantity": 1}
    invoice = {"id": invoice_id, "object": "invoice", "customer": customer, "status": "paid", "amount_due": 999,
               "amount_paid": 999, "amount_remaining": 0, "currency": "usd", "created": created,
               "hosted_invoice_url": "https://invoice.stripe.com/i/%s" % invoice_id,
               "period_start": period_start - 30 * 86400, "period_end": period_start, "metadata": {},
               "livemode": False, "billing_reason": "subscription_cycle"}
    if payment_refs is not None:
        invoice["payment_intent"], invoice["charge"] = payment_refs
    if shape == "classic":
        api_version = "2024-06-20"
        line["price"] = {"id": STRIPE_PRICE, "object": "price", "recurring": {"interval": "month"}}
        line["subscription"] = subscription
        invoice["subscription"] = subscription
        invoice["subscription_details"] = {"metadata": {}}
    else:
        api_version = "2025-03-31.basil"
        line["pricing"] = {"type": "price_details", "price_details": {"price": STRIPE_PRICE, "product": "prod_drill"}}
        line["parent"] = {"type": "subscription_item_details",
                          "subscription_item_details": {"subscription": subscription, "subscription_item": "si_drill"}}
        invoice["parent"] = {"type": "subscription_details",
                             "subscription_details": {"subscription": subscription, "metadata": {}}}
    invoice["lines"] = {"object": "list", "data": [line], "has_more": False}
    event = {"id": event_id, "object": "event", "type": "invoice.paid", "created": created,
             "livemode": False, "api_version": api_version, "pending_webhooks": 1,
             "request": {"id": None, "idempotency_key": None}, "data": {"object": invoice}}
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_event(event_id, event_type, api_version, obj):
    created = int(time.time()) - 30
    event = {"id": event_id, "object": "event", "type": event_type, "created": created, "livemode": False,
             "api_version": api_version, "pending_webhooks": 1, "request": {"id": None, "idempotency_key": None},
             "data": {"object": obj}}
    return json.dumps(event, separators=(",", ":")).encode()


def stripe_refund_event(event_id, user, invoice_id, payment_intent, charge, shape):
    """charge.refunded, fully refunded. classic: the charge names its invoice; current (API 2025-03-31 on): only
    the charge and its payment intent."""
    obj = {"id": charge, "object": "charge", "amount": 999, "amount_captured": 999, "amount_refunded": 999,
           "captured": True, "refunded": True, "currency": "usd", "customer": "cus_drill_%d" % user,
           "payment_intent": payment_intent, "status": "succeeded", "metadata": {}, "livemode": False}
    if shape == "classic":
        obj["invoice"] = invoice_id
        return stripe_event(event_id, "charge.refunded", "2024-06-20", obj)
    return stripe_event(event_id, "charge.refunded", "2025-03-31.basil", obj)


def stripe_dispute_event(event_id, event_type, dispute_id, payment_intent, charge, status):
    obj = {"id": dispute_id, "object": "dispute", "amount": 999, "currency": "usd", "charge": charge,
           "payment_intent": payment_intent, "reason": "fraudulent", "status": status, "livemode": False,
           "metadata": {}}
    return stripe_event(event_id, event_type, "2025-03-31.basil", obj)


FATES = ("refund_classic", "refund_current", "dispute_lost", "dispute_won")
# The grant state each fate leaves (None: no reversal).
FATE_STATE = {None: "active", "refund_classic": "refunded", "refund_current": "refunded",
              "dispute_lost": "charged_back", "dispute_won": "active"}


class StripeSet:
    """Unique invoice.paid events, each for one of STRIPE_USERS users (by customer id, plan by price id), each
    with its own period end, and the refund and dispute events of some of those invoices (their fate). The expected
    expiry of a user is the latest period end of its live invoices (not refunded, no dispute lost)."""

    def __init__(self):
        self.base = int(time.time()) + 40 * 86400
        self.bodies = {}
        self.invoices = {}  # invoice id -> (user, period end, fate, invoice.paid event id)
        self.events = collections.Counter()  # event kind -> unique events
        self.reversed_users = set()  # users whose every invoice is reversed
        self.next_k = 0
        self.lock = threading.Lock()

    def _invoice(self, k, tag, user, fate):
        suffix = "%s%06d" % (tag, k)
        event_id = "evt_drill_" + suffix
        invoice_id = "in_drill_" + suffix
        payment_intent, charge = "pi_drill_" + suffix, "ch_drill_" + suffix
        period_end = self.base + k * 61
        # An invoice refunded through a charge that names it carries no payment ids (the refund can only find it by
        # `in:`); every other invoice carries its payment intent and charge, as refunds and disputes name those.
        refs = None if fate == "refund_classic" else (payment_intent, charge)
        self.bodies[event_id] = stripe_invoice_event(event_id, k, user, period_end,
                                                     "classic" if k % 2 == 0 else "current", invoice_id, refs)
        self.invoices[invoice_id] = (user, period_end, fate, event_id)
        self.events["invoice.paid"] += 1
        INVOICE_OF_PAYMENT_INTENT[payment_intent] = invoice_id
        ids = [event_id]
        if fate in ("refund_classic", "refund_current"):
            shape = fate.split("_")[1]
            rid = "evt_drill_%s_refund" % suffix
            self.bodies[rid] = stripe_refund_event(rid, user, invoice_id, payment_intent, charge, shape)
            self.events["charge.refunded (%s)" % shape] += 1
            ids.append(rid)
        elif fate in ("dispute_lost", "dispute_won"):
            dispute = "dp_drill_" + suffix
            opened, closed = "evt_drill_%s_dispute_created" % suffix, "evt_drill_%s_dispute_closed" % suffix
            self.bodies[opened] = stripe_dispute_event(opened, "charge.dispute.created", dispute, payment_intent,
                                                       charge, "needs_response")
            self.bodies[closed] = stripe_dispute_event(closed, "charge.dispute.closed", dispute, payment_intent,
                                                       charge, fate.split("_")[1])
            self.events["dispute %s (created + closed)" % fate.split("_")[1]] += 2
            ids += [opened, closed]
        return ids

    def make_with_reversals(self, n, tag, rng):
        """n invoices for users k % STRIPE_USERS; one user in REVERSED_USERS_PER loses every invoice (refunded or
        dispute lost), then others are picked at random up to the refund and dispute rates. Returns every event id
        (invoices and reversals)."""
        ks = list(range(self.next_k, self.next_k + n))
        self.next_k += n
        user_of = {k: k % STRIPE_USERS for k in ks}
        users = sorted(set(user_of.values()))
        # |=: a user that lost every invoice in an earlier phase loses the new ones too (stays `revoked`).
        self.reversed_users |= set(rng.sample(users, max(1, len(users) // REVERSED_USERS_PER)))
        fate = {}
        cycle = ("refund_classic", "refund_current", "dispute_lost")
        for i, k in enumerate(k for k in ks if user_of[k] in self.reversed_users):
            fate[k] = cycle[i % len(cycle)]
        want = {"refund": round(n * STRIPE_REFUND_RATE), "dispute_lost": round(n * STRIPE_LOST_RATE),
                "dispute_won": round(n * STRIPE_WON_RATE)}
        used = collections.Counter(fate.values())
        used["refund"] = used["refund_classic"] + used["refund_current"]
        rest = [k for k in ks if k not in fate]
        rng.shuffle(rest)
        pos = 0
        for kind in ("refund", "dispute_lost", "dispute_won"):
            for _ in range(max(0, want[kind] - used[kind])):
                if pos >= len(rest):
                    break
                k = rest[pos]
                pos += 1
                if kind == "refund":
                    fate[k] = "refund_classic" if used["refund_classic"] <= used["refund_current"] else "refund_current"
                    used[fate[k]] += 1
                else:
                    fate[k] = kind
        ids = []
        for k in ks:
            ids += self._invoice(k, tag, user_of[k], fate.get(k))
        return ids

    def make(self, n, tag):
        """n more invoice.paid events, no reversals, for users that keep access (thread-safe)."""
        ids = []
        with self.lock:
            for _ in range(n):
                k = self.next_k
                self.next_k += 1
                user = k % STRIPE_USERS
                while user in self.reversed_users:
                    user = (user + 1) % STRIPE_USERS
                ids += self._invoice(k, tag, user, None)
        return ids

    def fates(self):
        return collections.Counter(f for _, _, f, _ in self.invoices.values() if f is not None)

    def expected(self):
        """user -> ("active", latest live period end) or ("revoked", None)."""
        live, users = {}, set()
        for user, period_end, fate, _ in self.invoices.values():
            users.add(user)
            if FATE_STATE[fate] == "active":
                live[user] = max(live.get(user, 0), period_end)
        return {u: ("active", live[u]) if u in live else ("revoked", None) for u in users}


def with_duplicates(unique_keys, total, rng):
    """`total` deliveries: every key once plus duplicates; a third of the duplicates right after the original
    (so they race on other instances), the rest anywhere."""
    dups = total - len(unique_keys)
    order = list(unique_keys)
    rng.shuffle(order)
    extra = [rng.choice(unique_keys) for _ in range(dups)]
    adjacent, anywhere = extra[: dups // 3], extra[dups // 3:]
    seq = []
    adjacent_by_key = collections.Counter(adjacent)
    for key in order:
        seq.append(key)
        for _ in range(adjacent_by_key.pop(key, 0)):
            seq.append(key)
    for key in anywhere:
        seq.insert(rng.randrange(len(seq) + 1), key)
    return seq


def stripe_request(stripe_set):
    def request_for(d):
        body = stripe_set.bodies[d.key]
        return "POST", "/webhooks/stripe", body, {
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": stripe_signature(body),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    return request_for


def seed_stripe_users():
    psql("""
        INSERT INTO users (telegram_user_id, first_name, username)
        SELECT %d + g, 'Stripe drill ' || g, 'stripe_drill_' || g FROM generate_series(0, %d) g;
        INSERT INTO stripe_customers (user_id, customer_id)
        SELECT id, 'cus_drill_' || (telegram_user_id - %d) FROM users
        WHERE telegram_user_id BETWEEN %d AND %d;
    """ % (STRIPE_TG_BASE, STRIPE_USERS - 1, STRIPE_TG_BASE, STRIPE_TG_BASE, STRIPE_TG_BASE + STRIPE_USERS - 1))


# ----------------------------------------------------------------------------------------------------------
# Telegram Stars


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n == 0:
        return "0"
    sign = "-" if n < 0 else ""
    n = abs(n)
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return sign + out


def stars_payload_key():
    # HKDF-SHA256(ikm = bot token, salt = "telebot", info = "stars-invoice-payload/v1", 32 bytes), as
    # StarsInvoicePayloadSigner derives it.
    prk = hmac.new(b"telebot", BOT_TOKEN.encode(), hashlib.sha256).digest()
    return hmac.new(prk, b"stars-invoice-payload/v1" + b"\x01", hashlib.sha256).digest()


STARS_KEY = None


def stars_payload(plan, telegram_user_id):
    message = ":".join(["1", plan, base36(telegram_user_id), base36(int(time.time())), b64url(os.urandom(4))])
    tag = b64url(hmac.new(STARS_KEY, message.encode(), hashlib.sha256).digest()[:12])
    return message + ":" + tag


def stars_message(update_id, message_id, user, content_key, content):
    tg = STARS_TG_BASE + user
    update = {"update_id": update_id, "message": {
        "message_id": message_id, "date": int(time.time()),
        "from": {"id": tg, "is_bot": False, "first_name": "Stars", "last_name": "Drill %d" % user,
                 "username": "stars_drill_%d" % user, "language_code": "en"},
        "chat": {"id": tg, "type": "private", "first_name": "Stars", "username": "stars_drill_%d" % user},
        content_key: content}}
    return json.dumps(update, separators=(",", ":")).encode()


def stars_update(update_id, message_id, user, charge_id, payload):
    return stars_message(update_id, message_id, user, "successful_payment", {
        "currency": "XTR", "total_amount": STARS_PRICE, "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""})


def stars_refund_update(update_id, message_id, user, charge_id, payload):
    return stars_message(update_id, message_id, user, "refunded_payment", {
        "currency": "XTR", "total_amount": STARS_PRICE, "invoice_payload": payload,
        "telegram_payment_charge_id": charge_id})


class TelegramSet:
    """What telegram_deliveries sent: unique charges, which of them were refunded, update ids."""

    def __init__(self):
        self.charges = {}  # charge id -> (user, refunded)
        self.update_ids = set()
        self.reversed_users = set()
        self.new_updates = 0
        self.deliveries = []

    @property
    def unique(self):
        return len(self.charges)

    @property
    def refunded(self):
        return sum(1 for _, r in self.charges.values() if r)

    def expected(self):
        """user -> live charges (0: every charge refunded, the user must read `revoked`)."""
        live = collections.Counter()
        for user, refunded in self.charges.values():
            live[user] += 0 if refunded else 1
        return live


def telegram_deliveries(total, rng, tset=None, start=0):
    """Unique charges (each in its own update) and refunded_payment updates (each in an update of its own) for ~10 %
    of them (every charge of one user in REVERSED_USERS_PER), in random order, plus duplicates: half the same update
    again, half the same charge or refund in a new update (a new update_id). With `tset` and `start` (> the charges
    of earlier calls), adds more charges to that set (later phases); its `deliveries` are then this call's."""
    if tset is None:
        tset = TelegramSet()
    unique_events = max(1, round(total / (1 + DUP_RATE)))
    unique = max(1, round(unique_events / (1 + STARS_REFUND_RATE)))
    ks = range(start, start + unique)
    user_of = {k: k % STARS_USERS for k in ks}
    users = sorted(set(user_of.values()))
    # A user that lost every charge in an earlier call loses the new ones too (stays `revoked`).
    tset.reversed_users |= set(rng.sample(users, max(1, len(users) // REVERSED_USERS_PER)))
    refunded = {k for k in ks if user_of[k] in tset.reversed_users}
    rest = [k for k in ks if k not in refunded]
    rng.shuffle(rest)
    refunded |= set(rest[:max(0, round(unique * STARS_REFUND_RATE) - len(refunded))])
    bodies = {}
    event_of = {}  # key -> (kind, user, charge, payload)
    keys = []
    for k in ks:
        user = user_of[k]
        charge = "stxdrill%07d" % k
        payload = stars_payload(STARS_PLAN, STARS_TG_BASE + user)
        key = "u%d" % (UPDATE_BASE + k)
        bodies[key] = stars_update(UPDATE_BASE + k, k + 1, user, charge, payload)
        event_of[key] = ("payment", user, charge, payload)
        keys.append(key)
        tset.charges[charge] = (user, k in refunded)
        if k in refunded:
            key = "u%d" % (REFUND_UPDATE_BASE + k)
            bodies[key] = stars_refund_update(REFUND_UPDATE_BASE + k, 50_000_000 + k, user, charge, payload)
            event_of[key] = ("refund", user, charge, payload)
            keys.append(key)
    seq = with_duplicates(keys, total, rng)
    # Turn every second duplicate into "same charge (or refund), new update".
    seen = set()
    for i, key in enumerate(seq):
        if key in seen:
            if rng.random() < 0.5:
                kind, user, charge, payload = event_of[key]
                update_id = DUP_UPDATE_BASE + start + i
                new_key = "u%d" % update_id
                make = stars_update if kind == "payment" else stars_refund_update
                bodies[new_key] = make(update_id, 100_000_000 + start + i, user, charge, payload)
                seq[i] = new_key
                tset.new_updates += 1
        else:
            seen.add(key)
    tset.deliveries = [Delivery(i, key, bodies[key]) for i, key in enumerate(seq)]
    tset.update_ids |= {int(key[1:]) for key in bodies}
    return tset


def telegram_request(d):
    return "POST", "/webhooks/telegram", d.body, {
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TG_SECRET}


# ----------------------------------------------------------------------------------------------------------
# SIGTERM under load


def sigterm_drill(instance, stripe_set, max_events):
    """16 threads send new Stripe events to one instance; SIGTERM after 1.5 s; the threads keep sending for 2.5 s
    more. Returns (report dict, event ids that did not get a 2xx)."""
    ids = []
    lock = threading.Lock()
    state = {"sig": None}
    records = []  # (t_start, t_sent, t_end, status, error, event id)

    def worker():
        conns = {}
        while True:
            now = time.monotonic()
            with lock:
                sig = state["sig"]
                if sig is not None and now > sig + 2.5:
                    break
                if len(ids) >= max_events:
                    break
                event_id = stripe_set.make(1, "t")[0]
                ids.append(event_id)
            body = stripe_set.bodies[event_id]
            conn = conns.get(instance.port)
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", instance.port, timeout=SHUTDOWN_GRACE + 10)
                conns[instance.port] = conn
            t_start = time.monotonic()
            t_sent = None
            status, err = None, None
            try:
                conn.request("POST", "/webhooks/stripe", body=body, headers={
                    "Content-Type": "application/json", "Stripe-Signature": stripe_signature(body)})
                t_sent = time.monotonic()
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                if resp.will_close:
                    conn.close()
                    conns.pop(instance.port, None)
            except (OSError, http.client.HTTPException) as e:
                err = type(e).__name__
                data = b""
                conn.close()
                conns.pop(instance.port, None)
            t_end = time.monotonic()
            with lock:
                records.append((t_start, t_sent, t_end, status, err, event_id, data[:200]))
            if err == "ConnectionRefusedError":
                time.sleep(0.2)

    exited = {}

    def waiter():
        try:
            exited["rc"] = instance.proc.wait(timeout=SHUTDOWN_GRACE + 15)
        except subprocess.TimeoutExpired:
            exited["rc"] = "did not exit within %ds" % (SHUTDOWN_GRACE + 15)
            instance.proc.kill()
            instance.proc.wait(timeout=10)
        exited["at"] = time.monotonic()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONCURRENCY)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    with lock:
        state["sig"] = time.monotonic()
    sig_at = state["sig"]
    instance.proc.send_signal(signal.SIGTERM)
    wait_thread = threading.Thread(target=waiter, daemon=True)
    wait_thread.start()
    say("SIGTERM sent to instance %d (pid %d) under load" % (instance.index, instance.proc.pid))
    for t in threads:
        t.join(timeout=SHUTDOWN_GRACE + 30)
    wait_thread.join(timeout=SHUTDOWN_GRACE + 30)
    rc = exited.get("rc", "unknown")
    exit_after = exited.get("at", time.monotonic()) - sig_at
    instance.reaped()

    rep = {"rc": rc, "exit_after": exit_after, "requests": len(records), "violations": []}
    before = [r for r in records if r[2] <= sig_at]
    in_flight = [r for r in records if r[0] < sig_at < r[2]]
    after = [r for r in records if r[0] >= sig_at]
    rep["before"] = len(before)
    rep["in_flight"] = len(in_flight)
    rep["in_flight_ok"] = sum(1 for r in in_flight if r[3] is not None and 200 <= r[3] < 300)
    rep["after"] = collections.Counter((("HTTP %d" % r[3]) if r[3] is not None else r[4]) for r in after)
    rep["in_flight_results"] = collections.Counter(
        (("HTTP %d" % r[3]) if r[3] is not None else r[4]) for r in in_flight)
    for r in records:
        if r[3] is not None and r[3] >= 500 and r[3] != 503:
            rep["violations"].append("SIGTERM: %s answered %d: %s" % (r[5], r[3], r[6].decode("utf8", "replace")))
        elif r[3] is not None and r[3] >= 300 and r[3] != 503:
            rep["violations"].append("SIGTERM: %s answered %d: %s" % (r[5], r[3], r[6].decode("utf8", "replace")))
    # Fully sent at least 20 ms before the signal and still unanswered at the signal: the server was working on
    # it, so it must finish with a 2xx. (A request written at the very moment the server closes an idle kept-alive
    # connection can be refused without being read: a client retries that like any refused delivery.)
    for r in in_flight:
        if r[1] is not None and r[1] < sig_at - 0.02 and not (r[3] is not None and 200 <= r[3] < 300):
            rep["violations"].append("SIGTERM: in-flight request %s (sent %.0f ms before the signal) ended with %s"
                                     % (r[5], (sig_at - r[1]) * 1000, ("HTTP %d" % r[3]) if r[3] else r[4]))
    if rc != 0:
        rep["violations"].append("SIGTERM: instance %d exit status %s (want 0); log: %s"
                                 % (instance.index, rc, instance.log_path))
    answered = {r[5] for r in records if r[3] is not None and 200 <= r[3] < 300}
    leftovers = [e for e in ids if e not in answered]
    return rep, leftovers


# ----------------------------------------------------------------------------------------------------------
# PostgreSQL unreachable (issue #22)


def percentile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def outage_drill(instances, deliveries, seconds):
    """Stops PostgreSQL (pg_ctl stop -m fast) for `seconds`. Meanwhile OUTAGE_CONCURRENCY threads keep sending
    `deliveries` (Stripe and Stars, round-robin over the instances, each refused one again on the next round, as
    Stripe and Telegram retry) and time every answer, and a poller asks each instance's /health/ready every 0.25 s.
    Then PostgreSQL starts again. Returns a report dict; deliveries that got a 2xx are marked (d.attempts = -1)."""
    ports = [inst.port for inst in instances]
    lock = threading.Lock()
    records = []  # (latency s, status or None, error or None, port)
    ready = []  # (seconds since stop, port, status or None, latency)
    state = {"stop": False, "cursor": 0}
    accepted = set()

    def worker():
        conns = {}
        while True:
            with lock:
                if state["stop"]:
                    break
                d = None
                for _ in range(len(deliveries)):
                    cand = deliveries[state["cursor"] % len(deliveries)]
                    state["cursor"] += 1
                    if cand.index not in accepted:
                        d = cand
                        break
                n = state["cursor"]
            if d is None:
                break
            port = ports[n % len(ports)]
            method, path, body, headers = outage_request(d)
            t0 = time.monotonic()
            status, data, err = http_call(conns, port, method, path, body, headers, timeout=10)
            took = time.monotonic() - t0
            with lock:
                records.append((took, status, err, port, data[:200]))
                if status is not None and 200 <= status < 300:
                    accepted.add(d.index)
            time.sleep(OUTAGE_PAUSE)
        for c in conns.values():
            c.close()

    def poller(stop_at):
        conns = {}
        while not state["stop"]:
            for port in ports:
                t0 = time.monotonic()
                status, _, err = http_call(conns, port, "GET", "/health/ready", None, {}, timeout=10)
                with lock:
                    ready.append((t0 - stop_at, port, status, time.monotonic() - t0))
            time.sleep(0.25)

    started = time.monotonic()
    res = pg_ctl("-m", "fast", "-w", "-t", "60", "stop")
    if res.returncode != 0:
        raise RuntimeError("pg_ctl stop failed: %s %s" % (res.stdout, res.stderr))
    stop_at = time.monotonic()
    say("outage: PostgreSQL stopped (pg_ctl stop -m fast took %.2fs); sending for %ds"
        % (stop_at - started, seconds))
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(OUTAGE_CONCURRENCY)]
    threads.append(threading.Thread(target=poller, args=(stop_at,), daemon=True))
    for t in threads:
        t.start()
    time.sleep(max(0.0, stop_at + seconds - time.monotonic()))
    with lock:
        state["stop"] = True
    for t in threads:
        t.join(timeout=30)
    down_for = time.monotonic() - stop_at
    res = pg_ctl("-l", PGLOG, "-w", "-t", "60", "start")
    if res.returncode != 0:
        raise RuntimeError("pg_ctl start failed: %s %s" % (res.stdout, res.stderr))
    back_at = time.monotonic()
    say("outage: PostgreSQL started again after %.1fs down" % down_for)
    # Every instance ready again.
    ready_after = {}
    conns = {}
    while len(ready_after) < len(ports) and time.monotonic() - back_at < 60:
        for port in ports:
            if port not in ready_after:
                status, _, _ = http_call(conns, port, "GET", "/health/ready", None, {}, timeout=5)
                if status == 200:
                    ready_after[port] = time.monotonic() - back_at
        time.sleep(0.05)
    for d in deliveries:
        if d.index in accepted:
            d.attempts = -1
    latencies = [r[0] for r in records if r[1] == 503]
    rep = {
        "down_for": down_for, "requests": len(records), "statuses": collections.Counter(
            ("HTTP %d" % r[1]) if r[1] is not None else r[2] for r in records),
        "n503": len(latencies), "max": max(latencies) if latencies else 0.0,
        "p50": percentile(latencies, 0.50), "p99": percentile(latencies, 0.99),
        "slow": [r for r in records if r[0] >= 1.0],
        "not503": [r for r in records if r[1] != 503],
        "accepted": len(accepted),
        "per_port": collections.Counter(r[3] for r in records),
        "ready_after": ready_after,
    }
    # The readiness answer is cached for about a second: from 1.5 s after the stop every probe must say 503.
    settled = [r for r in ready if r[0] >= 1.5]
    rep["ready_polls"] = len(settled)
    rep["ready_statuses"] = collections.Counter(("HTTP %d" % r[2]) if r[2] is not None else "no answer"
                                                for r in settled)
    rep["ready_max"] = max((r[3] for r in ready), default=0.0)
    first_503 = {}
    for t, port, status, _ in ready:
        if status == 503 and port not in first_503:
            first_503[port] = t
    rep["ready_first_503"] = first_503
    return rep


def outage_request(d):
    if d.body is None:
        return stripe_request(OUTAGE_STRIPE_SET)(d)
    return telegram_request(d)


OUTAGE_STRIPE_SET = None


# ----------------------------------------------------------------------------------------------------------
# PgBouncer (issue #22)


class PgBouncer:
    """Debian's pgbouncer in transaction mode on 127.0.0.1:port in front of the drill cluster (its unix socket),
    auth_type trust (loopback only, a throwaway cluster). Runs as PGRUNAS when we are root: it refuses root."""

    def __init__(self, binary, pool_size):
        self.binary = binary
        self.dir = os.path.join(os.path.dirname(PGLOG), "pgbouncer")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.ini = os.path.join(self.dir, "pgbouncer.ini")
        self.log_path = os.path.join(OUT, "pgbouncer.log")
        self.proc = None
        self.starts = 0
        with open(os.path.join(self.dir, "userlist.txt"), "w") as f:
            f.write('"postgres" ""\n')
        with open(self.ini, "w") as f:
            f.write("""; written by scripts/drill.py
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
""" % (PGHOST, PGPORT, self.port, os.path.join(self.dir, "userlist.txt"), pool_size, pool_size,
                    os.path.join(self.dir, "pgbouncer.pid")))
        if PGRUNAS:
            subprocess.run(["chown", "-R", PGRUNAS + ":", self.dir], check=True)

    def url(self):
        return "host=127.0.0.1 port=%d user=postgres dbname=telebot_drill" % self.port

    def start(self):
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(("--- drill: start #%d of pgbouncer on port %d at %s ---\n"
                       % (self.starts, self.port, time.strftime("%H:%M:%S"))).encode())
            log.flush()
            kwargs = {"user": PGRUNAS, "group": PGRUNAS, "extra_groups": []} if PGRUNAS else {}
            self.proc = subprocess.Popen([self.binary, self.ini], stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.dir, **kwargs)
        with PIDS_LOCK:
            LIVE_PIDS.add(self.proc.pid)
            write_pids()
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
        with PIDS_LOCK:
            LIVE_PIDS.discard(self.proc.pid)
            write_pids()

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
        cmd = [os.path.join(PGBIN, "psql"), "-X", "-q", "-A", "-F", "|", "-h", "127.0.0.1", "-p", str(self.port),
               "-U", "postgres", "-d", "pgbouncer", "-c", "SHOW %s" % what]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            raise RuntimeError("pgbouncer SHOW %s failed: %s" % (what, res.stderr.strip()))
        lines = [line for line in res.stdout.splitlines() if line and not line.startswith("(")]
        if not lines:
            return []
        head = lines[0].split("|")
        return [dict(zip(head, line.split("|"))) for line in lines[1:]]


# ----------------------------------------------------------------------------------------------------------
# Checks


class Checks:
    def __init__(self):
        self.results = []

    def check(self, name, ok, detail=""):
        self.results.append((name, bool(ok), detail))
        return ok

    @property
    def failed(self):
        return [r for r in self.results if not r[1]]


def wait_for_retries(timeout):
    """Waits until no payment event is `received` or `failed` (the retry worker's 30 s first backoff)."""
    started = time.monotonic()
    first = None
    while True:
        lines = psql("SELECT status, count(*) FROM payment_events WHERE status IN ('received', 'failed') GROUP BY 1")
        pending = {line.split("|")[0]: int(line.split("|")[1]) for line in lines}
        if first is None:
            first = dict(pending)
        if not pending or time.monotonic() - started > timeout:
            return first, pending, time.monotonic() - started
        time.sleep(1)


def grant_rows(where):
    """payment_key -> (state, payment_event_id, event id of that ledger row) of the grants matching `where`."""
    rows = psql("""
        SELECT g.payment_key, g.state, coalesce(g.payment_event_id, 0), coalesce(p.event_id, '')
        FROM entitlement_grants g LEFT JOIN payment_events p ON p.id = g.payment_event_id
        WHERE %s""" % where)
    out = collections.defaultdict(list)
    for r in rows:
        key, state, row_id, event_id = r.split("|", 3)
        out[key].append((state, int(row_id), event_id))
    return out


def check_grants_made(checks, label, got, want):
    """One grant per payment: `want` is payment_key -> the event id that made it."""
    rows = sum(len(v) for v in got.values())
    distinct_events = len({row_id for v in got.values() for _, row_id, _ in v if row_id})
    missing = sorted(set(want) - set(got))
    unexpected = sorted(set(got) - set(want))
    twice = sorted(k for k, v in got.items() if len(v) > 1)
    wrong_event = sorted(k for k, v in got.items() if k in want and any(e != want[k] for _, _, e in v))
    checks.check("%s: exactly one grant per unique payment, made by its payment event" % label,
                 rows == len(want) and distinct_events == len(want) and not missing and not unexpected
                 and not twice and not wrong_event,
                 "grants %d (distinct payment_event_id %d), want %d; missing %d, unexpected %d, twice %d, "
                 "made by another event %d%s" % (
                     rows, distinct_events, len(want), len(missing), len(unexpected), len(twice), len(wrong_event),
                     ("; e.g. %s" % (missing or unexpected or twice or wrong_event)[:3])
                     if missing or unexpected or twice or wrong_event else ""))
    return rows, distinct_events


def check_grant_states(checks, label, got, want_state):
    """Each grant in the state its payment's reversals call for: `want_state` is payment_key -> state."""
    wrong = [(k, [s for s, _, _ in got.get(k, [])], want) for k, want in sorted(want_state.items())
             if [s for s, _, _ in got.get(k, [])] != [want]]
    states = collections.Counter(s for v in got.values() for s, _, _ in v)
    checks.check("%s: every grant in the state its refunds and disputes call for" % label, not wrong,
                 "states %s%s" % (fmt_counter(states),
                                  ("; wrong (payment key, state, want): %s (%d in all)" % (wrong[:3], len(wrong)))
                                  if wrong else ""))
    return states


def check_stripe(checks, stripe_set):
    unique = len(stripe_set.bodies)
    rows = psql("SELECT event_id, status, attempts FROM payment_events WHERE provider = 'stripe'")
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
    got = grant_rows("g.source = 'stripe'")
    grants, distinct = check_grants_made(
        checks, "stripe", got, {"stripe:invoice:" + inv: ev for inv, (_, _, _, ev) in invoices.items()})
    states = check_grant_states(checks, "stripe", got, {
        "stripe:invoice:" + inv: FATE_STATE[fate] for inv, (_, _, fate, _) in invoices.items()})
    line = psql_value("""
        SELECT count(*), count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'refunded')
        FROM invoices WHERE provider = 'stripe'""")
    invoice_rows, paid, refunded_rows = (int(x) for x in line.split("|"))
    checks.check("stripe: one invoice row per paid invoice", invoice_rows == len(invoices),
                 "invoices %d (paid %d, refunded %d), want %d" % (invoice_rows, paid, refunded_rows, len(invoices)))
    rows = psql("""
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


def check_telegram(checks, tset):
    unique = tset.unique
    refunds = tset.refunded
    rows = psql("""
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
    got = grant_rows("g.source = 'telegram_stars'")
    grants, distinct_grants = check_grants_made(checks, "telegram", got, {"stars:" + c: c for c in tset.charges})
    states = check_grant_states(checks, "telegram", got, {
        "stars:" + c: ("refunded" if r else "active") for c, (_, r) in tset.charges.items()})
    line = psql_value("""
        SELECT count(*), coalesce(sum(amount), 0), count(*) FILTER (WHERE status = 'paid'),
               count(*) FILTER (WHERE status = 'refunded')
        FROM invoices WHERE provider = 'telegram_stars'""")
    invoices, stars, paid, refunded_rows = (int(x) for x in line.split("|"))
    checks.check("telegram: one invoice per charge", invoices == unique and stars == unique * STARS_PRICE,
                 "invoices %d (paid %d, refunded %d), %d Stars, want %d and %d"
                 % (invoices, paid, refunded_rows, stars, unique, unique * STARS_PRICE))
    update_ids = tset.update_ids
    lo, hi = min(update_ids), max(update_ids)
    got_updates = int(psql_value("SELECT count(*) FROM telegram_updates WHERE update_id BETWEEN %d AND %d" % (lo, hi)))
    checks.check("telegram: one telegram_updates row per distinct update_id", got_updates == len(update_ids),
                 "rows %d, distinct update ids sent %d" % (got_updates, len(update_ids)))
    rows = psql("""
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


def check_grants_and_audit(checks, stripe_set, tset):
    """Grant states over both providers, and the audit (entitlement_changes): no event recorded twice for one grant,
    and each (user, plan)'s audit rows chain (each row's before = the previous row's after; the last after = the
    read model)."""
    fates = stripe_set.fates()
    want_refunded = fates["refund_classic"] + fates["refund_current"] + tset.refunded
    want_lost = fates["dispute_lost"]
    states = collections.Counter()
    for r in psql("SELECT state, count(*) FROM entitlement_grants GROUP BY 1"):
        states[r.split("|")[0]] = int(r.split("|")[1])
    checks.check("grants: refunded = refunded invoices + refunded Stars charges; charged_back = lost disputes; "
                 "none left disputed",
                 states["refunded"] == want_refunded and states["charged_back"] == want_lost
                 and states["disputed"] == 0,
                 "refunded %d (want %d + %d), charged_back %d (want %d), disputed %d (want 0); all: %s"
                 % (states["refunded"], want_refunded - tset.refunded, tset.refunded, states["charged_back"],
                    want_lost, states["disputed"], fmt_counter(states)))
    dup_rows = psql("""
        SELECT payment_event_id, grant_id, count(*) FROM entitlement_changes
        WHERE payment_event_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2 LIMIT 5""")
    changes = {}
    for r in psql("""
            SELECT p.provider, count(*), count(DISTINCT c.payment_event_id), count(c.grant_id)
            FROM entitlement_changes c JOIN payment_events p ON p.id = c.payment_event_id GROUP BY 1"""):
        provider, n, events, with_grant = r.split("|")
        changes[provider] = (int(n), int(events), int(with_grant))
    checks.check("audit: no event recorded twice for the same grant in entitlement_changes", not dup_rows,
                 "(payment_event_id, grant_id, rows): %s" % (dup_rows or "none"))
    broken = psql("""
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


# ----------------------------------------------------------------------------------------------------------


def fmt_counter(c):
    return ", ".join("%s %d" % (k, v) for k, v in sorted(c.items())) or "none"


def main():
    global STARS_KEY, OUTAGE_STRIPE_SET
    STARS_KEY = stars_payload_key()
    rng = random.Random(int(ENV.get("DRILL_SEED", "0")) or None)
    checks = Checks()
    summary = []
    instances = []
    stub = start_stub()
    try:
        seed_stripe_users()
        ports = []
        while len(ports) < 3:
            p = free_port()
            if p not in ports:
                ports.append(p)
        instances = [Instance(i + 1, ports[i], stub.server_address[1]) for i in range(3)]
        for inst in instances:
            inst.start()
        for inst in instances:
            inst.wait_ready(90)
        say("3 instances ready on ports %s; logs in %s" % (ports, OUT))
        all_ports = lambda: ports  # noqa: E731

        # 1. Stripe ------------------------------------------------------------------------------------------
        stripe_set = StripeSet()
        # Deliveries stay EVENTS in all: each invoice comes with ~0.3 reversal events on average.
        unique_events = max(1, round(EVENTS / (1 + DUP_RATE)))
        n_invoices = max(1, round(unique_events / (1 + STRIPE_REFUND_RATE + 2 * (STRIPE_LOST_RATE + STRIPE_WON_RATE))))
        ids = stripe_set.make_with_reversals(n_invoices, "s", rng)
        unique = len(ids)
        seq = with_duplicates(ids, max(EVENTS, unique), rng)
        deliveries = [Delivery(i, key, None) for i, key in enumerate(seq)]
        sfates = stripe_set.fates()
        say("stripe: %d deliveries, %d unique events (%s), %d duplicates; %d invoices: %s; %d users lose every "
            "invoice" % (len(seq), unique, fmt_counter(stripe_set.events), len(seq) - unique, n_invoices,
                         fmt_counter(sfates), len(stripe_set.reversed_users)))
        engine = Engine("stripe", deliveries, stripe_request(stripe_set), all_ports, CONCURRENCY, PHASE_TIMEOUT)
        faults = []
        elapsed = run_with_faults(engine, [
            (0.25, "stripe: PostgreSQL restart", fault_pg_restart),
            (0.55, "stripe: SIGKILL instance 3", fault_kill(instances[2])),
        ], faults)
        say("stripe: done in %.1fs: %d attempts, %d retries" % (elapsed, engine.sent, engine.retries))
        for label, ok, detail in faults:
            checks.check(label, ok, detail)
        checks.check("stripe: every delivery got a 2xx within %ds" % PHASE_TIMEOUT, not engine.undelivered,
                     "%d undelivered" % len(engine.undelivered))
        checks.check("stripe: no 5xx but 503, no 4xx", not engine.violations,
                     "; ".join(engine.violations[:5]) + (" (+%d more)" % (len(engine.violations) - 5)
                                                         if len(engine.violations) > 5 else ""))
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

        # 2. Telegram ----------------------------------------------------------------------------------------
        tset = telegram_deliveries(EVENTS, rng)
        tdeliveries, tunique, new_updates = tset.deliveries, tset.unique, tset.new_updates
        tunique_events = tunique + tset.refunded
        say("telegram: %d deliveries, %d unique charges + %d refunds (%d users lose every charge), %d duplicates "
            "(%d as new updates)" % (len(tdeliveries), tunique, tset.refunded, len(tset.reversed_users),
                                     len(tdeliveries) - tunique_events, new_updates))
        tengine = Engine("telegram", tdeliveries, telegram_request, all_ports, CONCURRENCY, PHASE_TIMEOUT)
        tfaults = []
        telapsed = run_with_faults(tengine, [
            (0.25, "telegram: PostgreSQL restart", fault_pg_restart),
            (0.55, "telegram: SIGKILL instance 2", fault_kill(instances[1])),
        ], tfaults)
        say("telegram: done in %.1fs: %d attempts, %d retries" % (telapsed, tengine.sent, tengine.retries))
        for label, ok, detail in tfaults:
            checks.check(label, ok, detail)
        checks.check("telegram: every delivery got a 2xx within %ds" % PHASE_TIMEOUT, not tengine.undelivered,
                     "%d undelivered" % len(tengine.undelivered))
        checks.check("telegram: no 5xx but 503, no 4xx", not tengine.violations, "; ".join(tengine.violations[:5]))
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

        # 3. SIGTERM under load ------------------------------------------------------------------------------
        target = instances[0]
        rep, leftovers = sigterm_drill(target, stripe_set, 4000)
        say("SIGTERM: instance %d exited %s after %.3fs; %d requests, %d in flight at the signal"
            % (target.index, rep["rc"], rep["exit_after"], rep["requests"], rep["in_flight"]))
        checks.check("SIGTERM: exit status 0", rep["rc"] == 0, "exit %s after %.0f ms" % (rep["rc"], rep["exit_after"] * 1000))
        checks.check("SIGTERM: in-flight requests completed with 2xx; no 5xx but 503",
                     not rep["violations"] and rep["in_flight"] > 0,
                     "%d in flight, %d ok; %s" % (rep["in_flight"], rep["in_flight_ok"],
                                                  "; ".join(rep["violations"][:5])))
        # What it refused goes to the instances still running, like Stripe's retries.
        alive = [inst.port for inst in instances if inst is not target]
        redeliveries = [Delivery(i, key, None) for i, key in enumerate(leftovers)]
        rengine = Engine("sigterm-resend", redeliveries, stripe_request(stripe_set), lambda: alive, CONCURRENCY,
                         PHASE_TIMEOUT)
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

        # 4. PostgreSQL unreachable ------------------------------------------------------------------------
        OUTAGE_STRIPE_SET = stripe_set
        target.start()
        target.wait_ready(60)
        n_stripe = max(1, round(OUTAGE_EVENTS / (1 + DUP_RATE)))
        oseq = with_duplicates(stripe_set.make(n_stripe, "o"), OUTAGE_EVENTS, rng)
        ostars = telegram_deliveries(OUTAGE_EVENTS, rng, tset, start=2_000_000).deliveries
        odeliveries = [Delivery(i, key, None) for i, key in enumerate(oseq)]
        odeliveries += [Delivery(len(oseq) + i, d.key, d.body) for i, d in enumerate(ostars)]
        rng.shuffle(odeliveries)
        orep = outage_drill(instances, odeliveries, OUTAGE_SECONDS)
        say("outage: %d requests while down: %s; 503 latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            % (orep["requests"], fmt_counter(orep["statuses"]), orep["p50"] * 1000, orep["p99"] * 1000,
               orep["max"] * 1000))
        checks.check("outage: every webhook answered 503 while PostgreSQL was down (no other status, no dropped "
                     "connection)", orep["requests"] > 0 and not orep["not503"],
                     "%d requests: %s%s" % (orep["requests"], fmt_counter(orep["statuses"]),
                                            "; first other: %s" % (orep["not503"][0],) if orep["not503"] else ""))
        checks.check("outage: every 503 within %.0f s" % OUTAGE_MAX_LATENCY, orep["n503"] > 0 and not orep["slow"],
                     "max %.1f ms, p99 %.1f ms over %d; %d took >= 1 s"
                     % (orep["max"] * 1000, orep["p99"] * 1000, orep["n503"], len(orep["slow"])))
        checks.check("outage: every instance kept answering", len(orep["per_port"]) == len(instances),
                     "requests per port: %s" % fmt_counter(orep["per_port"]))
        checks.check("outage: /health/ready 503 on every instance while down",
                     orep["ready_polls"] > 0 and set(orep["ready_statuses"]) == {"HTTP 503"},
                     "%d probes from 1.5 s after the stop: %s; first 503 at %s s after the stop; slowest probe "
                     "%.0f ms" % (orep["ready_polls"], fmt_counter(orep["ready_statuses"]),
                                  ", ".join("%.2f" % v for _, v in sorted(orep["ready_first_503"].items())),
                                  orep["ready_max"] * 1000))
        checks.check("outage: every instance ready again after PostgreSQL came back",
                     len(orep["ready_after"]) == len(instances),
                     "ready after %s s" % ", ".join("%.2f" % v for _, v in sorted(orep["ready_after"].items())))
        # What they refused is sent again, as Stripe and Telegram retry.
        oleft = [d for d in odeliveries if d.attempts != -1]
        oresend = [Delivery(i, d.key, d.body) for i, d in enumerate(oleft)]
        oengine = Engine("outage-resend", oresend, outage_request, all_ports, CONCURRENCY, PHASE_TIMEOUT)
        oengine.run()
        checks.check("outage: refused deliveries accepted once PostgreSQL was back",
                     not oengine.undelivered and not oengine.violations,
                     "%d re-sent, %d undelivered; %s" % (len(oresend), len(oengine.undelivered),
                                                        "; ".join(oengine.violations[:3])))
        summary.append(("PostgreSQL unreachable for %.0f s (pg_ctl stop -m fast, then start)" % OUTAGE_SECONDS, [
            "%d deliveries (%d Stripe invoice.paid, %d Telegram Stars incl. refunds and duplicates) sent by %d "
            "threads round-robin to 3 instances, refused ones again each round: %d requests in %.1fs: %s"
            % (len(odeliveries), len(oseq), len(ostars), OUTAGE_CONCURRENCY, orep["requests"], orep["down_for"],
               fmt_counter(orep["statuses"])),
            "503 latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms (limit %.0f ms); requests per instance: %s"
            % (orep["p50"] * 1000, orep["p99"] * 1000, orep["max"] * 1000, OUTAGE_MAX_LATENCY * 1000,
               ", ".join(str(v) for _, v in sorted(orep["per_port"].items()))),
            "/health/ready: %d probes from 1.5 s after the stop: %s; first 503 %s s after the stop"
            % (orep["ready_polls"], fmt_counter(orep["ready_statuses"]),
               "/".join("%.2f" % v for _, v in sorted(orep["ready_first_503"].items()))),
            "back: instances ready %s s after pg_ctl start; %d deliveries re-sent: %d attempts, all 2xx: %s"
            % ("/".join("%.2f" % v for _, v in sorted(orep["ready_after"].items())), len(oresend), oengine.sent,
               "yes" if not oengine.undelivered else "NO"),
        ]))

        # 5. Through PgBouncer in transaction mode ---------------------------------------------------------
        if not PGBOUNCER:
            say("pgbouncer: skipped (%s)" % (PGBOUNCER_SKIP or "no pgbouncer"))
            summary.append(("PgBouncer (transaction mode)", ["skipped (%s)" % (PGBOUNCER_SKIP or "no pgbouncer")]))
        else:
            for inst in instances:
                inst.stop()
            bouncer = PgBouncer(PGBOUNCER, PGB_POOL_SIZE)
            bouncer.start()
            bports = []
            while len(bports) < 3:
                p = free_port()
                if p not in bports and p not in ports and p != bouncer.port:
                    bports.append(p)
            binstances = [Instance(4 + i, bports[i], stub.server_address[1], bouncer.url(),
                                   {"DB_PREPARED_STATEMENTS": PGB_PREPARED}) for i in range(3)]
            instances += binstances
            try:
                for inst in binstances:
                    inst.start()
                for inst in binstances:
                    inst.wait_ready(90)
                say("pgbouncer %s on 127.0.0.1:%d (pool_mode transaction, default_pool_size %d); instances 4-6 on "
                    "ports %s" % (bouncer.binary, bouncer.port, PGB_POOL_SIZE, bports))
                b_ports = lambda: bports  # noqa: E731
                # Stripe through PgBouncer
                n_unique = max(1, round(PGB_EVENTS / (1 + DUP_RATE)))
                n_inv = max(1, round(n_unique / (1 + STRIPE_REFUND_RATE + 2 * (STRIPE_LOST_RATE + STRIPE_WON_RATE))))
                bids = stripe_set.make_with_reversals(n_inv, "b", rng)
                bseq = with_duplicates(bids, max(PGB_EVENTS, len(bids)), rng)
                bengine = Engine("pgbouncer-stripe", [Delivery(i, k, None) for i, k in enumerate(bseq)],
                                 stripe_request(stripe_set), b_ports, CONCURRENCY, PHASE_TIMEOUT)
                bfaults = []
                belapsed = run_with_faults(bengine, [
                    (0.30, "pgbouncer stripe: PgBouncer restart", bouncer.restart),
                    (0.60, "pgbouncer stripe: PostgreSQL restart", fault_pg_restart),
                ], bfaults)
                # Stars through PgBouncer
                btset_deliveries = telegram_deliveries(PGB_EVENTS, rng, tset, start=1_000_000).deliveries
                btengine = Engine("pgbouncer-telegram", btset_deliveries, telegram_request, b_ports, CONCURRENCY,
                                  PHASE_TIMEOUT)
                btelapsed = run_with_faults(btengine, [
                    (0.30, "pgbouncer telegram: PostgreSQL restart", fault_pg_restart),
                    (0.60, "pgbouncer telegram: PgBouncer restart", bouncer.restart),
                ], bfaults)
                say("pgbouncer: stripe %d deliveries in %.1fs (%d attempts), telegram %d in %.1fs (%d attempts)"
                    % (len(bseq), belapsed, bengine.sent, len(btset_deliveries), btelapsed, btengine.sent))
                stats = bouncer.show("STATS")
                pools = bouncer.show("POOLS")
                xacts = sum(int(r.get("total_xact_count", 0)) for r in stats if r.get("database") == "telebot_drill")
                for label, ok, detail in bfaults:
                    checks.check(label, ok, detail)
                for name, eng in (("stripe", bengine), ("telegram", btengine)):
                    checks.check("pgbouncer %s: every delivery got a 2xx within %ds" % (name, PHASE_TIMEOUT),
                                 not eng.undelivered, "%d undelivered" % len(eng.undelivered))
                    checks.check("pgbouncer %s: no 5xx but 503, no 4xx" % name, not eng.violations,
                                 "; ".join(eng.violations[:5]))
                checks.check("pgbouncer: the instances' transactions went through PgBouncer", xacts > 0,
                             "%d transactions since its last restart" % xacts)
                summary.append(("PgBouncer %s (pool_mode transaction, default_pool_size %d, DB_PREPARED_STATEMENTS="
                                "%s, 3 instances x DB_POOL_SIZE 8)" % (bouncer.binary, PGB_POOL_SIZE, PGB_PREPARED), [
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

        # Retry worker, then the database ------------------------------------------------------------------
        first, pending, waited = wait_for_retries(RETRY_DRAIN_TIMEOUT)
        checks.check("ledger: nothing left received or failed", not pending,
                     "at the end of sending: %s; after %.0fs: %s" % (first or "none", waited, pending or "none"))
        stripe_db = check_stripe(checks, stripe_set)
        tele_db = check_telegram(checks, tset)
        changes, grant_states = check_grants_and_audit(checks, stripe_set, tset)
        dead = int(psql_value("SELECT count(*) FROM payment_events WHERE status = 'dead'"))
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

        # 6. Reconciliation (issue #18): a database, fake providers and instances of its own -------------------
        if RECONCILE:
            drill_reconcile.run_phase(sys.modules[__name__], checks, summary, instances)
        else:
            summary.append(("Reconciliation", ["skipped (DRILL_RECONCILE=0)"]))
    except Exception as e:  # noqa: BLE001 - the drill could not run to the end
        checks.check("drill ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for inst in instances:
            try:
                inst.stop()
            except Exception:  # noqa: BLE001
                pass
        stub.shutdown()

    error_lines, unhandled = scan_logs(instances)
    checks.check("logs: no unhandled errors (500s)", not unhandled, "; ".join(unhandled[:3]))
    summary.append(("Logs", [
        "error-level lines per instance (database-unavailable errors are expected during the faults): %s"
        % ", ".join("instance %d: %d" % kv for kv in sorted(error_lines.items())),
        "stub Bot API / Stripe API calls: %s" % fmt_counter(STUB_CALLS),
        "serve logs: %s" % ", ".join(inst.log_path for inst in instances),
    ]))

    lines = ["", "=" * 100, "telebot fault drill: DRILL_EVENTS=%d, concurrency %d, %.0fs" %
             (EVENTS, CONCURRENCY, time.monotonic() - T0), "=" * 100]
    for title, items in summary:
        lines.append(title)
        lines.extend("  " + item for item in items)
    lines.append("Checks")
    for name, ok, detail in checks.results:
        lines.append("  [%s] %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
    failed = checks.failed
    verdict = "PASS" if not failed else "FAIL (%d of %d checks)" % (len(failed), len(checks.results))
    lines.append("drill: %s" % verdict)
    if failed:
        lines.append("serve logs: %s/instance-N.log (4-6: through PgBouncer, its log pgbouncer.log), PostgreSQL log: "
                     "%s/postgres.log" % (OUT, OUT))
    text = "\n".join(lines)
    print(text, flush=True)
    with open(os.path.join(OUT, "summary.txt"), "w") as f:
        f.write(text + "\n")
    return 0 if not failed else 1


def reconcile_only_main():
    """DRILL_RECONCILE_ONLY=1: phase 6 alone (its own database, fake providers and instances), same report."""
    global STARS_KEY
    STARS_KEY = stars_payload_key()
    checks = Checks()
    summary = []
    instances = []
    try:
        drill_reconcile.run_phase(sys.modules[__name__], checks, summary, instances)
    except Exception as e:  # noqa: BLE001 - the drill could not run to the end
        checks.check("drill ran to the end", False, "%s: %s" % (type(e).__name__, e))
    finally:
        for inst in instances:
            try:
                inst.stop()
            except Exception:  # noqa: BLE001
                pass
    _, unhandled = scan_logs(instances)
    checks.check("logs: no unhandled errors (500s)", not unhandled, "; ".join(unhandled[:3]))
    lines = ["", "=" * 100, "telebot fault drill (DRILL_RECONCILE_ONLY=1): %.0fs" % (time.monotonic() - T0), "=" * 100]
    for title, items in summary:
        lines.append(title)
        lines.extend("  " + item for item in items)
    lines.append("Checks")
    for name, ok, detail in checks.results:
        lines.append("  [%s] %s%s" % ("PASS" if ok else "FAIL", name, (": " + detail) if detail else ""))
    failed = checks.failed
    lines.append("drill: %s" % ("PASS" if not failed else "FAIL (%d of %d checks)" % (len(failed), len(checks.results))))
    text = "\n".join(lines)
    print(text, flush=True)
    with open(os.path.join(OUT, "summary.txt"), "w") as f:
        f.write(text + "\n")
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(reconcile_only_main() if RECONCILE_ONLY else main())
