"""The reconciliation phase's sender: CONCURRENCY threads take the actions in order (deliver or skip a payment)."""
import collections
import random
import threading
import time

from ..instances import http_call
from .settings import CONCURRENCY


class Sender:
    """CONCURRENCY threads take the actions in order; a delivery is re-sent (backoff) until it gets a 2xx."""

    def __init__(self, ctx, actions, ports, timeout):
        self.ctx = ctx
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
        ctx = self.ctx
        if p.provider == "stripe":
            path = "/webhooks/stripe"
        else:
            path = "/webhooks/telegram"
        attempt = 0
        while True:
            if p.provider == "stripe":
                headers = {"Content-Type": "application/json; charset=utf-8",
                           "Stripe-Signature": ctx.stripe_signature(body)}
            else:
                headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": ctx.secrets.tg_secret}
            port = self.ports[(i + attempt) % len(self.ports)]
            status, data, err = http_call(conns, port, "POST", path, body, headers)
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
            at = time.monotonic() - self.ctx.t0
            done = self.fraction()
            try:
                fault_report.append((label, True, "at %.1fs (%.0f%% of the payments sent or skipped): %s"
                                     % (at, done * 100, fn())))
            except Exception as e:  # noqa: BLE001 - reported as a failed check
                fault_report.append((label, False, "at %.1fs: %s" % (at, e)))
            self.ctx.say("%s: %s" % (label, fault_report[-1][2]))
        for t in threads:
            t.join()
        return time.monotonic() - started
