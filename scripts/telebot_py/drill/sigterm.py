"""Phase 3: SIGTERM under load on one instance."""
import collections
import http.client
import signal
import subprocess
import threading
import time

from .config import SHUTDOWN_GRACE


def sigterm_drill(ctx, instance, stripe_set, max_events):
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
                    "Content-Type": "application/json", "Stripe-Signature": ctx.stripe_signature(body)})
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

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(ctx.cfg.concurrency)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    with lock:
        state["sig"] = time.monotonic()
    sig_at = state["sig"]
    instance.proc.send_signal(signal.SIGTERM)
    wait_thread = threading.Thread(target=waiter, daemon=True)
    wait_thread.start()
    ctx.say("SIGTERM sent to instance %d (pid %d) under load" % (instance.index, instance.proc.pid))
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
