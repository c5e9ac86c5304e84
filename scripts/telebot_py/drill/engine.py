"""Sending: deliveries re-sent with backoff until each gets a 2xx (as Stripe and Telegram retry), faults fired at a
fraction of the deliveries, duplicates mixed in, percentiles."""
import collections
import heapq
import json
import math
import random
import threading
import time

from .instances import http_call


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


def run_with_faults(ctx, engine, faults, report):
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
                    at = time.monotonic() - ctx.t0
                    try:
                        detail = fn()
                        report.append((label, True, "at %.1fs (%.0f%% delivered): %s" % (at, done * 100, detail)))
                    except Exception as e:  # noqa: BLE001 - reported as a failed check
                        report.append((label, False, "at %.1fs: %s" % (at, e)))
                    ctx.say("%s: %s" % (label, report[-1][2]))
                    break
                time.sleep(0.02)

    ctl = threading.Thread(target=controller, daemon=True)
    ctl.start()
    started = time.monotonic()
    engine.run()
    elapsed = time.monotonic() - started
    ctl.join(timeout=90)
    return elapsed


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



def percentile(values, q):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
