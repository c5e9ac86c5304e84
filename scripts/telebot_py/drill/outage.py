"""Phase 4: PostgreSQL unreachable (issue #22)."""
import collections
import threading
import time

from .config import DUP_RATE, OUTAGE_CONCURRENCY, OUTAGE_MAX_LATENCY, OUTAGE_PAUSE, fmt_counter
from .engine import Delivery, Engine, percentile, with_duplicates
from .stars import telegram_deliveries, telegram_request
from .stripe_events import stripe_request
from .instances import http_call


def outage_drill(ctx, instances, deliveries, seconds, request_for):
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
            method, path, body, headers = request_for(d)
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
    ctx.cluster.stop()
    stop_at = time.monotonic()
    ctx.say("outage: PostgreSQL stopped (pg_ctl stop -m fast took %.2fs); sending for %ds"
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
    ctx.cluster.start()
    back_at = time.monotonic()
    ctx.say("outage: PostgreSQL started again after %.1fs down" % down_for)
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


def phase_outage(ctx, run):
    """4. PostgreSQL down for cfg.outage_seconds under Stripe and Stars deliveries; then back."""
    cfg, rng, checks, summary = ctx.cfg, run.rng, run.checks, run.summary
    instances, all_ports, stripe_set, tset = run.instances, run.all_ports, run.stripe_set, run.tset
    target = instances[0]  # SIGTERMed in phase 3
    stripe_for, telegram_for = stripe_request(ctx, stripe_set), telegram_request(ctx)

    def outage_request(d):
        return stripe_for(d) if d.body is None else telegram_for(d)

    target.start()
    target.wait_ready(60)
    n_stripe = max(1, round(cfg.outage_events / (1 + DUP_RATE)))
    oseq = with_duplicates(stripe_set.make(n_stripe, "o"), cfg.outage_events, rng)
    ostars = telegram_deliveries(ctx, cfg.outage_events, rng, tset, start=2_000_000).deliveries
    odeliveries = [Delivery(i, key, None) for i, key in enumerate(oseq)]
    odeliveries += [Delivery(len(oseq) + i, d.key, d.body) for i, d in enumerate(ostars)]
    rng.shuffle(odeliveries)
    orep = outage_drill(ctx, instances, odeliveries, cfg.outage_seconds, outage_request)
    ctx.say("outage: %d requests while down: %s; 503 latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
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
    oengine = Engine("outage-resend", oresend, outage_request, all_ports, cfg.concurrency, cfg.phase_timeout)
    oengine.run()
    checks.check("outage: refused deliveries accepted once PostgreSQL was back",
                 not oengine.undelivered and not oengine.violations,
                 "%d re-sent, %d undelivered; %s" % (len(oresend), len(oengine.undelivered),
                                                    "; ".join(oengine.violations[:3])))
    summary.append(("PostgreSQL unreachable for %.0f s (pg_ctl stop -m fast, then start)" % cfg.outage_seconds, [
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
