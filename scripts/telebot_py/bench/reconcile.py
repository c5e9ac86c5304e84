"""scripts/bench-reconcile: `telebot reconcile` against the fake providers of the reconciliation drill
(telebot_py.drill.reconcile.fake), N events per provider listed; BENCH_* variables from the script."""
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import time

from .. import signing
from ..drill.reconcile.fake import ProviderLists, start_fake


def main(argv):

    E = os.environ

    N, USERS, OUT = int(E["BENCH_EVENTS"]), int(E["BENCH_USERS"]), E["BENCH_OUTDIR"]
    TCK = os.sysconf("SC_CLK_TCK")
    BOT_TOKEN = "123456:bench-" + os.urandom(12).hex()


    def ticks(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except OSError:
            return 0


    def pg_ticks():
        """postmaster + its children (backends, background processes); exited backends are in the postmaster's cutime."""
        with open(os.path.join(E["BENCH_PGDATA"], "postmaster.pid")) as f:
            pm = int(f.readline())
        total = ticks(pm)
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        if int(f.read().rsplit(")", 1)[1].split()[1]) == pm:
                            total += ticks(int(entry))
                except (OSError, ValueError, IndexError):
                    pass
        return total


    def machine():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
        return busy, busy + v[3] + v[4]


    def psql(sql):
        cmd = [os.path.join(E["BENCH_PGBIN"], "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", E["BENCH_PGHOST"],
               "-p", E["BENCH_PGPORT"], "-U", "postgres", "-d", "telebot_bench", "-c", sql]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


    def invoice_paid(k, now):
        user = k % USERS
        period_end = now + 40 * 86400 + k * 61
        period_start = period_end - 30 * 86400
        created = now - 600 + k * 600 // N  # spread over the last 10 minutes, oldest first
        inv = "in_bench_%06d" % k
        invoice = {"id": inv, "object": "invoice", "customer": "cus_bench_%d" % user, "status": "paid",
                   "amount_due": 999, "amount_paid": 999, "amount_remaining": 0, "currency": "usd", "created": created,
                   "period_start": period_start - 30 * 86400, "period_end": period_start, "metadata": {},
                   "livemode": False, "billing_reason": "subscription_cycle", "subscription": "sub_bench_%d" % user,
                   "subscription_details": {"metadata": {}},
                   "payment_intent": "pi_bench_%06d" % k, "charge": "ch_bench_%06d" % k,
                   "lines": {"object": "list", "has_more": False, "data": [{
                       "id": "il_bench_%d" % k, "object": "line_item", "amount": 999, "currency": "usd",
                       "period": {"start": period_start, "end": period_end}, "metadata": {}, "quantity": 1,
                       "price": {"id": "price_premium_monthly", "object": "price", "recurring": {"interval": "month"}},
                       "subscription": "sub_bench_%d" % user}]}}
        event = {"id": "evt_bench_%06d" % k, "object": "event", "type": "invoice.paid", "created": created,
                 "livemode": False, "api_version": "2024-06-20", "pending_webhooks": 1,
                 "request": {"id": None, "idempotency_key": None}, "data": {"object": invoice}}
        return event["id"], created, json.dumps(event, separators=(",", ":")).encode()


    STARS_KEY = signing.stars_payload_key(BOT_TOKEN)

    def star_payment(k, now):
        tg = 8000000000 + k % USERS
        payload = signing.stars_payload(STARS_KEY, "boost_week", tg, now)
        return {"id": "stxbench%07d" % k, "amount": 50, "date": now - 600 + k * 600 // N,
                "source": {"type": "user", "transaction_type": "invoice_payment", "invoice_payload": payload,
                           "user": {"id": tg, "is_bot": False, "first_name": "Bench", "username": "bench_%d" % k}}}


    fake = ProviderLists(BOT_TOKEN)
    server = start_fake(fake, os.path.join(OUT, "fake.log"))
    now = int(time.time())
    for k in range(N):
        fake.publish_event(*(lambda i, c, b: (i, "invoice.paid", c, b))(*invoice_paid(k, now)))
    if E["BENCH_STARS"]:
        for k in range(N):
            fake.publish_transaction(star_payment(k, now))
    base = "http://127.0.0.1:%d" % server.port
    env = {k: E[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in E}
    env.update({"DATABASE_URL": E["BENCH_URL"], "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
                "TELEGRAM_WEBHOOK_SECRET": "bench-reconcile-secret-0123456789", "TELEGRAM_API_BASE_URL": base + "/",
                "STRIPE_API_KEY": "sk_test_bench", "STRIPE_WEBHOOK_SECRET": "whsec_bench_reconcile",
                "STRIPE_API_BASE_URL": base, "JWT_SECRET": "bench-jwt-secret-0123456789abcdef0123456789",
                "LOG_LEVEL": "warning", "LOG_FORMAT": "json", "MIGRATIONS_DIR": os.path.join(E["BENCH_ROOT"], "sql")})


    def measure(label, provider):
        calls0 = sum(fake.recorder.counts.values())
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        pg0, (m0, t0), w0 = pg_ticks(), machine(), time.monotonic()
        with open(os.path.join(OUT, label.replace(" ", "-") + ".log"), "wb") as log:
            proc = subprocess.Popen([E["BENCH_BIN"], "reconcile", "--provider", provider, "--since", "2h"], env=env,
                                    stdout=subprocess.PIPE, stderr=log)
            out = proc.stdout.read().decode()
            _, status, ru = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - w0
        time.sleep(0.3)  # the run's backends exit and are reaped into the postmaster's cutime
        pg1, (m1, t1) = pg_ticks(), machine()
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        if proc.returncode != 0:
            sys.exit("%s: telebot reconcile exited %d: %s (log %s)" % (label, proc.returncode, out, log.name))
        report = json.loads(out.strip().splitlines()[-1])
        serve_cpu = ru.ru_utime + ru.ru_stime
        pg_cpu = (pg1 - pg0) / TCK
        fake_cpu = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
        busy = os.cpu_count() * (m1 - m0) / max(1, t1 - t0)
        seen = report["seen"]
        print("%-13s seen %6d recovered %6d failed %d  %6.2f s  %7.0f events/s   per event: telebot %5.0f us  "
              "postgres %5.0f us  fake %4.0f us   (%d list calls; machine busy %.2f of %d cores, %.2f of them others)"
              % (label, seen, report["recovered"], report["failed"], wall, seen / wall, 1e6 * serve_cpu / seen,
                 1e6 * pg_cpu / seen, 1e6 * fake_cpu / seen, sum(fake.recorder.counts.values()) - calls0, busy, os.cpu_count(),
                 busy - (serve_cpu + pg_cpu + fake_cpu) / wall), flush=True)
        return report


    print("telebot reconcile, %s build (%s), %d events per provider over %d users, PostgreSQL %s (fsync off), %d cores"
          % (E["BENCH_CONFIG"], E["BENCH_BIN"], N, USERS,
             subprocess.run([os.path.join(E["BENCH_PGBIN"], "postgres"), "--version"], capture_output=True,
                            text=True).stdout.split()[-1], os.cpu_count()), flush=True)
    ok = True
    r = measure("stripe new", "stripe")
    ok &= r["recovered"] == N
    measure("stripe again", "stripe")
    rows = int(psql("SELECT count(*) FROM payment_events WHERE provider = 'stripe'"))
    grants = int(psql("SELECT count(*) FROM entitlement_grants WHERE source = 'stripe'"))
    print("stripe: ledger rows %d, grants %d (want %d each)" % (rows, grants, N))
    ok &= rows == N and grants == N
    if E["BENCH_STARS"]:
        r = measure("stars new", "telegram_stars")
        ok &= r["recovered"] == N
        measure("stars again", "telegram_stars")
        rows = int(psql("SELECT count(*) FROM payment_events WHERE provider = 'telegram_stars'"))
        grants = int(psql("SELECT count(*) FROM entitlement_grants WHERE source = 'telegram_stars'"))
        print("stars: ledger rows %d, grants %d (want %d each)" % (rows, grants, N))
        ok &= rows == N and grants == N
    if E["BENCH_WEBHOOK"]:
        # The same kind of event through the webhook, one at a time: what the reconciler's apply loop does, plus HTTP.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        whsec = env["STRIPE_WEBHOOK_SECRET"]
        senv = dict(env, HOST="127.0.0.1", PORT=str(port), DB_POOL_SIZE="4", RECONCILE_INTERVAL_SECONDS="0")
        with open(os.path.join(OUT, "serve.log"), "wb") as log:
            serve = subprocess.Popen([E["BENCH_BIN"], "serve"], env=senv, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                    c.request("GET", "/health/ready")
                    if c.getresponse().status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline or serve.poll() is not None:
                    sys.exit("serve did not get ready (log %s)" % os.path.join(OUT, "serve.log"))
                time.sleep(0.1)
            bodies = []
            for k in range(N, 2 * N):
                bodies.append(invoice_paid(k, now)[2])
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            pg0, (m0, t0), s0, w0 = pg_ticks(), machine(), ticks(serve.pid), time.monotonic()
            self0 = resource.getrusage(resource.RUSAGE_SELF)
            bad = 0
            for body in bodies:
                conn.request("POST", "/webhooks/stripe", body=body, headers={
                    "Content-Type": "application/json", "Stripe-Signature": signing.stripe_signature(whsec, body)})
                resp = conn.getresponse()
                resp.read()
                bad += resp.status != 200
            wall = time.monotonic() - w0
            pg1, (m1, t1), s1 = pg_ticks(), machine(), ticks(serve.pid)
            self1 = resource.getrusage(resource.RUSAGE_SELF)
            client = (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
            busy = os.cpu_count() * (m1 - m0) / max(1, t1 - t0)
            sc, pc = (s1 - s0) / TCK, (pg1 - pg0) / TCK
            print("%-13s sent %6d  non-200 %d          %6.2f s  %7.0f events/s   per event: serve   %5.0f us  "
                  "postgres %5.0f us  client %3.0f us   (machine busy %.2f of %d cores, %.2f of them others)"
                  % ("webhook 1x1", len(bodies), bad, wall, len(bodies) / wall, 1e6 * sc / len(bodies),
                     1e6 * pc / len(bodies), 1e6 * client / len(bodies), busy, os.cpu_count(), busy - (sc + pc + client) / wall),
                  flush=True)
            ok &= bad == 0
        finally:
            serve.terminate()
            serve.wait(timeout=30)
    print("fake provider calls: %s" % ", ".join("%s %d" % kv for kv in sorted(fake.recorder.by_method().items())))
    server.stop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
